//! The facts an asset records and their stored form. Each event is a struct named after the fact,
//! wrapped in an [`AssetEvent`] variant of the same name. Events carry no timestamps or actors:
//! the envelope does.
//!
//! Versions: `AssetMetadataChanged` is at v2, with a typed owner (name, person or team,
//! technical, business or steward); its v1 ([`v1::AssetMetadataChangedV1`], the owner a plain
//! string) is frozen here and upcast on read ([`crate::owner::Owner::untyped`]). Every other
//! event is at v1.
//!
//! Schemas in events are [normalized](crate::discovery::AssetSchema::normalized): columns in
//! ordinal order, foreign keys and indexes sorted.

use super::labels::{LabelOrigin, RuleSetRef};
use crate::aggregate::{decode_data, DomainEvent, EventDecodeError};
use crate::classification::{ColumnProfile, Label, Signal};
use crate::discovery::{AssetSchema, AssetStatistics, Fingerprint, LineageEdge, SchemaDiff};
use crate::ids::AggregateId;
use crate::owner::Owner;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A scan found the asset for the first time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SchemaDiscovered {
    pub asset_id: AggregateId,
    pub source_id: AggregateId,
    pub scan_id: AggregateId,
    pub schema: AssetSchema,
    pub fingerprint: Fingerprint,
}

/// A scan found the asset with a different schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SchemaChanged {
    pub asset_id: AggregateId,
    pub scan_id: AggregateId,
    /// The complete new schema.
    pub schema: AssetSchema,
    pub fingerprint: Fingerprint,
    /// What changed from the previous schema (boxed: it is as large as a schema, and events
    /// travel by value).
    pub diff: Box<SchemaDiff>,
}

/// A scan found the asset's statistics (row estimate, size) moved by more than the threshold
/// since they were last recorded, its schema unchanged. Carries the new figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StatisticsChanged {
    pub asset_id: AggregateId,
    pub scan_id: AggregateId,
    pub row_estimate: Option<i64>,
    pub size_bytes: Option<i64>,
    pub last_analyzed: Option<chrono::DateTime<chrono::Utc>>,
}

impl StatisticsChanged {
    /// The figures it carries.
    pub fn statistics(&self) -> AssetStatistics {
        AssetStatistics {
            row_estimate: self.row_estimate,
            size_bytes: self.size_bytes,
            last_analyzed: self.last_analyzed,
        }
    }
}

/// A removed asset was found again (followed by `SchemaChanged` if its schema differs from the
/// last one recorded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssetRestored {
    pub asset_id: AggregateId,
    pub scan_id: AggregateId,
}

/// A scan whose scope covers the asset did not find it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssetRemoved {
    pub asset_id: AggregateId,
    pub scan_id: AggregateId,
}

/// New lineage edges declared by the asset's schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LineageRecorded {
    pub asset_id: AggregateId,
    /// Only edges not recorded before.
    pub edges: Vec<LineageEdge>,
}

/// Lineage edges the asset's schema no longer declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LineageRetracted {
    pub asset_id: AggregateId,
    /// Only edges that were recorded.
    pub edges: Vec<LineageEdge>,
}

/// New statistics of the asset's sampled columns (no sampled value: counts, masked shapes,
/// lengths). Classification re-evaluates from them when a rule set changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ColumnsProfiled {
    pub asset_id: AggregateId,
    /// Rows sampled.
    pub rows: u32,
    pub profiles: Vec<ColumnProfile>,
}

/// A label was applied to a column: by the classifier at or above the rule set's threshold, by a
/// person (`origin: manual`), or along lineage (`origin: propagated`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssetClassified {
    pub asset_id: AggregateId,
    pub column: String,
    pub label: Label,
    /// Calibrated confidence 0..1.
    pub confidence: f64,
    /// The evidence, worded for a person (never a sampled value).
    pub signals: Vec<Signal>,
    /// Identifies the kind of evidence (signals without their counts), so a rejected label is
    /// not proposed again until its evidence changes.
    pub evidence_key: String,
    pub origin: LabelOrigin,
    /// The scan rule set (and version) the classifier ran with; none for manual labels and the
    /// built-in defaults.
    pub rule_set: Option<RuleSetRef>,
}

/// The classifier proposes a label for human review (confidence between the floor and the
/// threshold, or a label a reviewer rejected before whose evidence changed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClassificationSuggested {
    pub asset_id: AggregateId,
    pub column: String,
    pub label: Label,
    pub confidence: f64,
    pub signals: Vec<Signal>,
    pub evidence_key: String,
    pub origin: LabelOrigin,
    pub rule_set: Option<RuleSetRef>,
}

/// A reviewer confirmed an applied or suggested label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClassificationConfirmed {
    pub asset_id: AggregateId,
    pub column: String,
    pub label: Label,
    pub note: Option<String>,
}

/// A reviewer rejected a label. It is not proposed again for this column until its evidence
/// (`evidence_key`) changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClassificationRejected {
    pub asset_id: AggregateId,
    pub column: String,
    pub label: Label,
    pub evidence_key: String,
    pub reason: Option<String>,
}

/// A label was withdrawn: the classifier no longer finds it, its lineage origin was rejected or
/// revoked, or a person revoked it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClassificationRevoked {
    pub asset_id: AggregateId,
    pub column: String,
    pub label: Label,
    pub reason: String,
}

/// A person changed the asset's own owner, tags or description. Carries the asset's complete
/// own metadata after the change (a field not set is inherited from the source). v2: the owner
/// is typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssetMetadataChanged {
    pub asset_id: AggregateId,
    /// The asset's own owner; none: its source's owner applies.
    pub owner: Option<Owner>,
    /// The asset's own `key:value` tags, sorted; empty: its source's tags apply.
    #[schemars(
        length(max = 50),
        inner(regex(pattern = r"^[a-z0-9_.-]+:[a-z0-9_.:-]+$"), length(max = 64))
    )]
    pub tags: Vec<String>,
    /// The asset's own description; none: its source's description applies.
    #[schemars(length(min = 1, max = 16384))]
    pub description: Option<String>,
}

/// Every event of the asset aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum AssetEvent {
    SchemaDiscovered(SchemaDiscovered),
    SchemaChanged(SchemaChanged),
    StatisticsChanged(StatisticsChanged),
    AssetRestored(AssetRestored),
    AssetRemoved(AssetRemoved),
    LineageRecorded(LineageRecorded),
    LineageRetracted(LineageRetracted),
    ColumnsProfiled(ColumnsProfiled),
    AssetClassified(AssetClassified),
    ClassificationSuggested(ClassificationSuggested),
    ClassificationConfirmed(ClassificationConfirmed),
    ClassificationRejected(ClassificationRejected),
    ClassificationRevoked(ClassificationRevoked),
    AssetMetadataChanged(AssetMetadataChanged),
}

impl AssetEvent {
    /// Every `(event_type, version)` that [`DomainEvent::from_stored`] reads. Each has a schema
    /// file in `schemas/`.
    pub const READABLE: &'static [(&'static str, u32)] = &[
        ("SchemaDiscovered", 1),
        ("SchemaChanged", 1),
        ("AssetRestored", 1),
        ("AssetRemoved", 1),
        ("LineageRecorded", 1),
        ("LineageRetracted", 1),
        ("ColumnsProfiled", 1),
        ("AssetClassified", 1),
        ("ClassificationSuggested", 1),
        ("ClassificationConfirmed", 1),
        ("ClassificationRejected", 1),
        ("ClassificationRevoked", 1),
        ("AssetMetadataChanged", 1),
        ("AssetMetadataChanged", 2),
        ("StatisticsChanged", 1),
    ];
}

impl DomainEvent for AssetEvent {
    fn event_type(&self) -> &'static str {
        match self {
            AssetEvent::SchemaDiscovered(_) => "SchemaDiscovered",
            AssetEvent::SchemaChanged(_) => "SchemaChanged",
            AssetEvent::AssetRestored(_) => "AssetRestored",
            AssetEvent::AssetRemoved(_) => "AssetRemoved",
            AssetEvent::LineageRecorded(_) => "LineageRecorded",
            AssetEvent::LineageRetracted(_) => "LineageRetracted",
            AssetEvent::ColumnsProfiled(_) => "ColumnsProfiled",
            AssetEvent::AssetClassified(_) => "AssetClassified",
            AssetEvent::ClassificationSuggested(_) => "ClassificationSuggested",
            AssetEvent::ClassificationConfirmed(_) => "ClassificationConfirmed",
            AssetEvent::ClassificationRejected(_) => "ClassificationRejected",
            AssetEvent::ClassificationRevoked(_) => "ClassificationRevoked",
            AssetEvent::AssetMetadataChanged(_) => "AssetMetadataChanged",
            AssetEvent::StatisticsChanged(_) => "StatisticsChanged",
        }
    }

    fn version(&self) -> u32 {
        match self {
            AssetEvent::AssetMetadataChanged(_) => 2,
            _ => 1,
        }
    }

    fn serialize_data<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AssetEvent::SchemaDiscovered(e) => e.serialize(serializer),
            AssetEvent::SchemaChanged(e) => e.serialize(serializer),
            AssetEvent::AssetRestored(e) => e.serialize(serializer),
            AssetEvent::AssetRemoved(e) => e.serialize(serializer),
            AssetEvent::LineageRecorded(e) => e.serialize(serializer),
            AssetEvent::LineageRetracted(e) => e.serialize(serializer),
            AssetEvent::ColumnsProfiled(e) => e.serialize(serializer),
            AssetEvent::AssetClassified(e) => e.serialize(serializer),
            AssetEvent::ClassificationSuggested(e) => e.serialize(serializer),
            AssetEvent::ClassificationConfirmed(e) => e.serialize(serializer),
            AssetEvent::ClassificationRejected(e) => e.serialize(serializer),
            AssetEvent::ClassificationRevoked(e) => e.serialize(serializer),
            AssetEvent::AssetMetadataChanged(e) => e.serialize(serializer),
            AssetEvent::StatisticsChanged(e) => e.serialize(serializer),
        }
    }

    fn from_stored(event_type: &str, version: u32, data: &Value) -> Result<Self, EventDecodeError> {
        use AssetEvent as E;
        let t = event_type;
        Ok(match (event_type, version) {
            ("SchemaDiscovered", 1) => E::SchemaDiscovered(decode_data(t, version, data)?),
            ("SchemaChanged", 1) => E::SchemaChanged(decode_data(t, version, data)?),
            ("AssetRestored", 1) => E::AssetRestored(decode_data(t, version, data)?),
            ("AssetRemoved", 1) => E::AssetRemoved(decode_data(t, version, data)?),
            ("LineageRecorded", 1) => E::LineageRecorded(decode_data(t, version, data)?),
            ("LineageRetracted", 1) => E::LineageRetracted(decode_data(t, version, data)?),
            ("ColumnsProfiled", 1) => E::ColumnsProfiled(decode_data(t, version, data)?),
            ("AssetClassified", 1) => E::AssetClassified(decode_data(t, version, data)?),
            ("ClassificationSuggested", 1) => {
                E::ClassificationSuggested(decode_data(t, version, data)?)
            }
            ("ClassificationConfirmed", 1) => {
                E::ClassificationConfirmed(decode_data(t, version, data)?)
            }
            ("ClassificationRejected", 1) => {
                E::ClassificationRejected(decode_data(t, version, data)?)
            }
            ("ClassificationRevoked", 1) => {
                E::ClassificationRevoked(decode_data(t, version, data)?)
            }
            ("AssetMetadataChanged", 1) => E::AssetMetadataChanged(
                decode_data::<v1::AssetMetadataChangedV1>(t, version, data)?.upcast(),
            ),
            ("AssetMetadataChanged", 2) => E::AssetMetadataChanged(decode_data(t, version, data)?),
            ("StatisticsChanged", 1) => E::StatisticsChanged(decode_data(t, version, data)?),
            _ => {
                return Err(EventDecodeError::Unknown {
                    event_type: event_type.to_owned(),
                    version,
                })
            }
        })
    }
}

/// Frozen shapes of older event versions. Never edit these: they describe data already stored.
pub mod v1 {
    use super::*;

    // `AssetMetadataChanged` v1, recorded before owners were typed: the owner a plain string.
    // Its doc comment is the v1 event's (the schema file carries it).
    /// A person changed the asset's own owner, tags or description. Carries the asset's complete
    /// own metadata after the change (a field not set is inherited from the source).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct AssetMetadataChangedV1 {
        pub asset_id: AggregateId,
        /// The asset's own owner; none: its source's owner applies.
        #[schemars(length(min = 1, max = 256))]
        pub owner: Option<String>,
        /// The asset's own `key:value` tags, sorted; empty: its source's tags apply.
        #[schemars(
            length(max = 50),
            inner(regex(pattern = r"^[a-z0-9_.-]+:[a-z0-9_.:-]+$"), length(max = 64))
        )]
        pub tags: Vec<String>,
        /// The asset's own description; none: its source's description applies.
        #[schemars(length(min = 1, max = 16384))]
        pub description: Option<String>,
    }

    impl AssetMetadataChangedV1 {
        /// The v2 event: the plain owner read as [`Owner::untyped`], the rest as it was.
        pub fn upcast(self) -> AssetMetadataChanged {
            AssetMetadataChanged {
                asset_id: self.asset_id,
                owner: self.owner.map(Owner::untyped),
                tags: self.tags,
                description: self.description,
            }
        }
    }
}
