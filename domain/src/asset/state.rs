//! [`AssetState`]: what the decider needs to know about an asset, and how each event changes it.
//! Evolving is total: an event that happened is applied whatever the state.

use super::events::AssetEvent;
use super::labels::{ColumnLabel, LabelStatus};
use super::metadata::AssetMetadata;
use crate::classification::{ColumnProfile, Label};
use crate::discovery::{AssetKind, AssetPath, AssetSchema, Fingerprint, LineageEdge};
use crate::ids::AggregateId;
use serde::{Deserialize, Serialize};

/// The folded history of one asset. `Default` is an asset never discovered.
///
/// Serializable so that the event store can keep it as a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssetState {
    pub id: Option<AggregateId>,
    pub source_id: Option<AggregateId>,
    pub path: Option<AssetPath>,
    pub kind: Option<AssetKind>,
    /// The last schema recorded (kept while removed, to tell whether a restored asset changed).
    pub schema: Option<AssetSchema>,
    pub fingerprint: Option<Fingerprint>,
    /// The last scan covering the asset did not find it.
    pub removed: bool,
    /// The lineage edges recorded and not retracted, in the order recorded.
    pub lineage: Vec<LineageEdge>,
    /// The scan of the last discovery, change, removal or restore.
    pub last_scan: Option<AggregateId>,
    /// The statistics of the last sample of its columns.
    #[serde(default)]
    pub profiles: Vec<ColumnProfile>,
    /// Labels of its columns, including rejected ones (so they are not proposed again); revoked
    /// labels are dropped.
    #[serde(default)]
    pub labels: Vec<ColumnLabel>,
    /// Its own owner, tags and description (unset fields are inherited from the source).
    #[serde(default)]
    pub metadata: AssetMetadata,
    /// Number of events applied.
    pub version: u64,
}

impl AssetState {
    /// Whether the asset was discovered (whether or not it is removed now).
    pub fn exists(&self) -> bool {
        self.id.is_some()
    }

    /// The label `label` of `column`, whatever its status.
    pub fn label(&self, column: &str, label: &Label) -> Option<&ColumnLabel> {
        self.labels
            .iter()
            .find(|l| l.column == column && &l.label == label)
    }

    fn set_label(&mut self, entry: ColumnLabel) {
        match self
            .labels
            .iter_mut()
            .find(|l| l.column == entry.column && l.label == entry.label)
        {
            Some(known) => *known = entry,
            None => self.labels.push(entry),
        }
    }

    fn set_status(&mut self, column: &str, label: &Label, status: LabelStatus) {
        if let Some(known) = self
            .labels
            .iter_mut()
            .find(|l| l.column == column && &l.label == label)
        {
            known.status = status;
        }
    }

    pub(super) fn evolve(mut self, event: &AssetEvent) -> Self {
        self.version += 1;
        match event {
            AssetEvent::SchemaDiscovered(e) => {
                self.id = Some(e.asset_id);
                self.source_id = Some(e.source_id);
                self.path = Some(e.schema.path.clone());
                self.set_schema(&e.schema, &e.fingerprint);
                self.removed = false;
                self.last_scan = Some(e.scan_id);
            }
            AssetEvent::SchemaChanged(e) => {
                self.set_schema(&e.schema, &e.fingerprint);
                self.last_scan = Some(e.scan_id);
            }
            AssetEvent::StatisticsChanged(e) => {
                if let Some(schema) = &mut self.schema {
                    schema.set_statistics(&e.statistics());
                }
                self.last_scan = Some(e.scan_id);
            }
            AssetEvent::AssetRestored(e) => {
                self.removed = false;
                self.last_scan = Some(e.scan_id);
            }
            AssetEvent::AssetRemoved(e) => {
                self.removed = true;
                self.last_scan = Some(e.scan_id);
            }
            AssetEvent::LineageRecorded(e) => {
                for edge in &e.edges {
                    if !self.lineage.contains(edge) {
                        self.lineage.push(edge.clone());
                    }
                }
            }
            AssetEvent::LineageRetracted(e) => self.lineage.retain(|edge| !e.edges.contains(edge)),
            AssetEvent::ColumnsProfiled(e) => self.profiles = e.profiles.clone(),
            AssetEvent::AssetClassified(e) => self.set_label(ColumnLabel {
                column: e.column.clone(),
                label: e.label.clone(),
                status: LabelStatus::Applied,
                confidence: e.confidence,
                signals: e.signals.clone(),
                evidence_key: e.evidence_key.clone(),
                origin: e.origin.clone(),
                rule_set: e.rule_set,
            }),
            AssetEvent::ClassificationSuggested(e) => self.set_label(ColumnLabel {
                column: e.column.clone(),
                label: e.label.clone(),
                status: LabelStatus::Suggested,
                confidence: e.confidence,
                signals: e.signals.clone(),
                evidence_key: e.evidence_key.clone(),
                origin: e.origin.clone(),
                rule_set: e.rule_set,
            }),
            AssetEvent::ClassificationConfirmed(e) => {
                self.set_status(&e.column, &e.label, LabelStatus::Confirmed)
            }
            AssetEvent::ClassificationRejected(e) => {
                self.set_status(&e.column, &e.label, LabelStatus::Rejected);
                if let Some(known) = self
                    .labels
                    .iter_mut()
                    .find(|l| l.column == e.column && l.label == e.label)
                {
                    known.evidence_key = e.evidence_key.clone();
                }
            }
            AssetEvent::ClassificationRevoked(e) => self
                .labels
                .retain(|l| !(l.column == e.column && l.label == e.label)),
            AssetEvent::AssetMetadataChanged(e) => {
                self.metadata = AssetMetadata {
                    owner: e.owner.clone(),
                    tags: e.tags.clone(),
                    description: e.description.clone(),
                }
            }
        }
        self
    }

    fn set_schema(&mut self, schema: &AssetSchema, fingerprint: &Fingerprint) {
        self.kind = Some(schema.kind);
        self.schema = Some(schema.clone());
        self.fingerprint = Some(fingerprint.clone());
    }
}
