//! The facts a scan records and their stored form. Each event is a struct named after the fact,
//! wrapped in a [`ScanEvent`] variant of the same name; all are at version 1. Events carry no
//! timestamps or actors: the envelope does.

use super::scope::ScanScope;
use super::values::{ScanMetrics, ScanStrategy};
use crate::aggregate::{decode_data, DomainEvent, EventDecodeError};
use crate::ids::AggregateId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A scan of a data source started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScanStarted {
    pub scan_id: AggregateId,
    pub source_id: AggregateId,
    /// The strategy asked for (`auto` included).
    pub strategy: ScanStrategy,
    pub scope: ScanScope,
}

/// The running scan reported progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScanProgressed {
    pub assets_done: u64,
    pub assets_total: Option<u64>,
    /// The concrete strategy the scan runs with now.
    pub current_strategy: ScanStrategy,
}

/// The scan finished; every asset in its scope is recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScanCompleted {
    pub metrics: ScanMetrics,
}

/// The scan gave up. Assets recorded before the failure stay recorded; no removals were decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScanFailed {
    /// At most 2000 characters.
    pub reason: String,
    /// What the scan did before it failed.
    pub metrics: ScanMetrics,
}

/// Every event of the scan aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanEvent {
    ScanStarted(ScanStarted),
    ScanProgressed(ScanProgressed),
    ScanCompleted(ScanCompleted),
    ScanFailed(ScanFailed),
}

impl ScanEvent {
    /// Every `(event_type, version)` that [`DomainEvent::from_stored`] reads. Each has a schema
    /// file in `schemas/`.
    pub const READABLE: &'static [(&'static str, u32)] = &[
        ("ScanStarted", 1),
        ("ScanProgressed", 1),
        ("ScanCompleted", 1),
        ("ScanFailed", 1),
    ];
}

impl DomainEvent for ScanEvent {
    fn event_type(&self) -> &'static str {
        match self {
            ScanEvent::ScanStarted(_) => "ScanStarted",
            ScanEvent::ScanProgressed(_) => "ScanProgressed",
            ScanEvent::ScanCompleted(_) => "ScanCompleted",
            ScanEvent::ScanFailed(_) => "ScanFailed",
        }
    }

    fn version(&self) -> u32 {
        1
    }

    fn serialize_data<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ScanEvent::ScanStarted(e) => e.serialize(serializer),
            ScanEvent::ScanProgressed(e) => e.serialize(serializer),
            ScanEvent::ScanCompleted(e) => e.serialize(serializer),
            ScanEvent::ScanFailed(e) => e.serialize(serializer),
        }
    }

    fn from_stored(event_type: &str, version: u32, data: &Value) -> Result<Self, EventDecodeError> {
        let t = event_type;
        Ok(match (event_type, version) {
            ("ScanStarted", 1) => ScanEvent::ScanStarted(decode_data(t, version, data)?),
            ("ScanProgressed", 1) => ScanEvent::ScanProgressed(decode_data(t, version, data)?),
            ("ScanCompleted", 1) => ScanEvent::ScanCompleted(decode_data(t, version, data)?),
            ("ScanFailed", 1) => ScanEvent::ScanFailed(decode_data(t, version, data)?),
            _ => {
                return Err(EventDecodeError::Unknown {
                    event_type: event_type.to_owned(),
                    version,
                })
            }
        })
    }
}
