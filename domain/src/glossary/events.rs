//! The facts a glossary records; all at version 1. Events carry no timestamps or actors: the
//! envelope does. Every event names its term by id; `TermDefined` also carries the name, which
//! never changes afterwards.

use super::input::TermContent;
use crate::aggregate::{decode_data, DomainEvent, EventDecodeError};
use crate::ids::AggregateId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// A term was defined, as a draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TermDefined {
    /// Derived from the name ([`super::term_id`]).
    pub term_id: Uuid,
    /// 1 to 100 characters, unique in the glossary case-insensitively; never changes.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    #[serde(flatten)]
    pub content: TermContent,
}

/// A term's definition, synonyms, related terms or owners were replaced (the complete new
/// content). The term keeps its status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TermChanged {
    pub term_id: Uuid,
    #[serde(flatten)]
    pub content: TermContent,
}

/// A data steward approved a draft term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TermApproved {
    pub term_id: Uuid,
}

/// A term was deprecated: it stays readable (and linked) but no longer changes or links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TermDeprecated {
    pub term_id: Uuid,
    #[schemars(length(max = 500))]
    pub reason: Option<String>,
}

/// A term was linked to an asset, or to one column of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TermLinked {
    pub term_id: Uuid,
    pub asset_id: AggregateId,
    /// The column; none: the asset as a whole.
    #[schemars(length(min = 1, max = 256))]
    pub column: Option<String>,
}

/// A term's link to an asset (or column) was removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TermUnlinked {
    pub term_id: Uuid,
    pub asset_id: AggregateId,
    pub column: Option<String>,
}

/// Every event of the glossary aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum GlossaryEvent {
    TermDefined(TermDefined),
    TermChanged(TermChanged),
    TermApproved(TermApproved),
    TermDeprecated(TermDeprecated),
    TermLinked(TermLinked),
    TermUnlinked(TermUnlinked),
}

impl GlossaryEvent {
    /// Every `(event_type, version)` that [`DomainEvent::from_stored`] reads.
    pub const READABLE: &'static [(&'static str, u32)] = &[
        ("TermDefined", 1),
        ("TermChanged", 1),
        ("TermApproved", 1),
        ("TermDeprecated", 1),
        ("TermLinked", 1),
        ("TermUnlinked", 1),
    ];

    /// The term the event is about.
    pub fn term_id(&self) -> Uuid {
        match self {
            GlossaryEvent::TermDefined(e) => e.term_id,
            GlossaryEvent::TermChanged(e) => e.term_id,
            GlossaryEvent::TermApproved(e) => e.term_id,
            GlossaryEvent::TermDeprecated(e) => e.term_id,
            GlossaryEvent::TermLinked(e) => e.term_id,
            GlossaryEvent::TermUnlinked(e) => e.term_id,
        }
    }
}

impl DomainEvent for GlossaryEvent {
    fn event_type(&self) -> &'static str {
        match self {
            GlossaryEvent::TermDefined(_) => "TermDefined",
            GlossaryEvent::TermChanged(_) => "TermChanged",
            GlossaryEvent::TermApproved(_) => "TermApproved",
            GlossaryEvent::TermDeprecated(_) => "TermDeprecated",
            GlossaryEvent::TermLinked(_) => "TermLinked",
            GlossaryEvent::TermUnlinked(_) => "TermUnlinked",
        }
    }

    fn version(&self) -> u32 {
        1
    }

    fn serialize_data<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            GlossaryEvent::TermDefined(e) => e.serialize(serializer),
            GlossaryEvent::TermChanged(e) => e.serialize(serializer),
            GlossaryEvent::TermApproved(e) => e.serialize(serializer),
            GlossaryEvent::TermDeprecated(e) => e.serialize(serializer),
            GlossaryEvent::TermLinked(e) => e.serialize(serializer),
            GlossaryEvent::TermUnlinked(e) => e.serialize(serializer),
        }
    }

    fn from_stored(event_type: &str, version: u32, data: &Value) -> Result<Self, EventDecodeError> {
        use GlossaryEvent as E;
        let t = event_type;
        Ok(match (event_type, version) {
            ("TermDefined", 1) => E::TermDefined(decode_data(t, version, data)?),
            ("TermChanged", 1) => E::TermChanged(decode_data(t, version, data)?),
            ("TermApproved", 1) => E::TermApproved(decode_data(t, version, data)?),
            ("TermDeprecated", 1) => E::TermDeprecated(decode_data(t, version, data)?),
            ("TermLinked", 1) => E::TermLinked(decode_data(t, version, data)?),
            ("TermUnlinked", 1) => E::TermUnlinked(decode_data(t, version, data)?),
            _ => {
                return Err(EventDecodeError::Unknown {
                    event_type: event_type.to_owned(),
                    version,
                })
            }
        })
    }
}
