//! [`AssetCommand`]: what a scan (through the command handler) asks of an Asset aggregate. Each is
//! decided in `decide.rs`.

use super::labels::{ClassifierOutcome, LabelOrigin, RuleSetRef};
use super::metadata::MetadataPatch;
use crate::classification::{Candidate, ColumnProfile, Label};
use crate::discovery::{AssetSchema, LineageEdge, StatisticsThreshold};
use crate::ids::AggregateId;
use crate::text::FreeText;

/// A request to an asset aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum AssetCommand {
    /// A scan found the asset with this schema. `asset_id` must be
    /// [`AssetId::for_path`](crate::discovery::AssetId::for_path)`(source_id, &schema.path)`.
    /// The schema's statistics are recorded when they moved by more than `statistics_threshold`.
    RecordDiscovery {
        asset_id: AggregateId,
        source_id: AggregateId,
        scan_id: AggregateId,
        schema: AssetSchema,
        statistics_threshold: StatisticsThreshold,
    },
    /// A scan whose scope covers the asset did not find it.
    RecordRemoval { scan_id: AggregateId },
    /// Adds lineage edges this asset's schema declares; edges already recorded are skipped.
    RecordLineage { edges: Vec<LineageEdge> },
    /// Makes `edges` the complete lineage of this asset: new edges are recorded, recorded edges
    /// not in `edges` are retracted (e.g. after a foreign key was dropped or a view redefined).
    ReplaceLineage { edges: Vec<LineageEdge> },
    /// The classifier's outcomes for the evaluated `columns` (labels of those columns it no
    /// longer finds are revoked; other columns are untouched), with the profiles they came from
    /// when the columns were sampled anew — one commit for both.
    RecordClassification {
        profiles: Option<(u32, Vec<ColumnProfile>)>,
        columns: Vec<String>,
        outcomes: Vec<ClassifierOutcome>,
        rule_set: Option<RuleSetRef>,
    },
    /// A person's review; the note is parsed text (no stray control character, bounded).
    ConfirmClassification {
        column: String,
        label: Label,
        note: Option<FreeText>,
    },
    RejectClassification {
        column: String,
        label: Label,
        reason: Option<FreeText>,
    },
    ClassifyManually {
        column: String,
        label: Label,
        note: Option<FreeText>,
    },
    /// Copies a label along lineage; `origin` must be [`LabelOrigin::Propagated`].
    PropagateClassification {
        column: String,
        candidate: Candidate,
        origin: LabelOrigin,
    },
    RevokeClassification {
        column: String,
        label: Label,
        reason: String,
    },
    /// Changes the asset's own owner, tags or description (parsed input: bounded, tags
    /// `key:value`).
    UpdateMetadata { patch: MetadataPatch },
}

impl AssetCommand {
    /// The variant name, as error messages and audit entries show it.
    pub fn name(&self) -> &'static str {
        match self {
            AssetCommand::RecordDiscovery { .. } => "RecordDiscovery",
            AssetCommand::RecordRemoval { .. } => "RecordRemoval",
            AssetCommand::RecordLineage { .. } => "RecordLineage",
            AssetCommand::ReplaceLineage { .. } => "ReplaceLineage",
            AssetCommand::RecordClassification { .. } => "RecordClassification",
            AssetCommand::ConfirmClassification { .. } => "ConfirmClassification",
            AssetCommand::RejectClassification { .. } => "RejectClassification",
            AssetCommand::ClassifyManually { .. } => "ClassifyManually",
            AssetCommand::PropagateClassification { .. } => "PropagateClassification",
            AssetCommand::RevokeClassification { .. } => "RevokeClassification",
            AssetCommand::UpdateMetadata { .. } => "UpdateMetadata",
        }
    }
}
