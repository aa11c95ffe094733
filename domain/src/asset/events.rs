//! The facts an asset records and their stored form. Each event is a struct named after the fact,
//! wrapped in an [`AssetEvent`] variant of the same name; all are at version 1. Events carry no
//! timestamps or actors: the envelope does.
//!
//! Schemas in events are [normalized](crate::discovery::AssetSchema::normalized): columns in
//! ordinal order, foreign keys and indexes sorted.

use crate::aggregate::{decode_data, DomainEvent, EventDecodeError};
use crate::discovery::{AssetSchema, Fingerprint, LineageEdge, SchemaDiff};
use crate::ids::AggregateId;
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
    /// What changed from the previous schema.
    pub diff: SchemaDiff,
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

/// Every event of the asset aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum AssetEvent {
    SchemaDiscovered(SchemaDiscovered),
    SchemaChanged(SchemaChanged),
    AssetRestored(AssetRestored),
    AssetRemoved(AssetRemoved),
    LineageRecorded(LineageRecorded),
    LineageRetracted(LineageRetracted),
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
        }
    }

    fn version(&self) -> u32 {
        1
    }

    fn to_data(&self) -> Value {
        match self {
            AssetEvent::SchemaDiscovered(e) => serde_json::to_value(e),
            AssetEvent::SchemaChanged(e) => serde_json::to_value(e),
            AssetEvent::AssetRestored(e) => serde_json::to_value(e),
            AssetEvent::AssetRemoved(e) => serde_json::to_value(e),
            AssetEvent::LineageRecorded(e) => serde_json::to_value(e),
            AssetEvent::LineageRetracted(e) => serde_json::to_value(e),
        }
        .expect("asset events always serialize")
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
            _ => {
                return Err(EventDecodeError::Unknown {
                    event_type: event_type.to_owned(),
                    version,
                })
            }
        })
    }
}
