//! The record of erasures of personal data (GDPR Art. 17): `pursight erase` appends one
//! `PersonalDataErased` per person and tenant (aggregate `personal_data`, one per person, its id
//! derived from the subject digest) before it destroys the person's data keys.
//!
//! The event holds no personal data: the person only as a keyed digest of tenant and subject
//! (HMAC under the master key, so no dictionary reverses it) and the ids of the keys destroyed.
//! Those ids are what lets the service destroy the keys again if a backup of the key table is
//! ever restored (`pursight erase --reapply`, and at the start of `serve`): every recorded
//! erasure is re-applied from the stream.
//!
//! There is no decider: erasure is an operator's act on the key table, recorded here; nothing in
//! the domain refuses it.

use crate::aggregate::{decode_data, DomainEvent, EventDecodeError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// The aggregate type erasures are recorded on.
pub const AGGREGATE_TYPE: &str = "personal_data";

/// A person's data keys in one tenant were destroyed: every value sealed under them reads
/// `[erased]` from now on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PersonalDataErased {
    /// Hex HMAC-SHA256 of tenant and subject under the master key (64 hex digits); never the
    /// subject itself.
    #[schemars(length(min = 64, max = 64))]
    pub subject_digest: String,
    /// The ids of the data keys destroyed.
    pub keys: Vec<Uuid>,
    /// How many keys were destroyed (`keys.len()`).
    pub key_count: usize,
}

/// Every event of the personal-data record.
#[derive(Debug, Clone, PartialEq)]
pub enum PersonalDataEvent {
    PersonalDataErased(PersonalDataErased),
}

impl PersonalDataEvent {
    /// Every `(event_type, version)` that [`DomainEvent::from_stored`] reads. Each has a schema
    /// file in `schemas/`.
    pub const READABLE: &'static [(&'static str, u32)] = &[("PersonalDataErased", 1)];
}

impl DomainEvent for PersonalDataEvent {
    fn event_type(&self) -> &'static str {
        match self {
            PersonalDataEvent::PersonalDataErased(_) => "PersonalDataErased",
        }
    }

    fn version(&self) -> u32 {
        1
    }

    fn serialize_data<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            PersonalDataEvent::PersonalDataErased(e) => e.serialize(serializer),
        }
    }

    fn from_stored(event_type: &str, version: u32, data: &Value) -> Result<Self, EventDecodeError> {
        match (event_type, version) {
            ("PersonalDataErased", 1) => Ok(PersonalDataEvent::PersonalDataErased(decode_data(
                event_type, version, data,
            )?)),
            _ => Err(EventDecodeError::Unknown {
                event_type: event_type.to_owned(),
                version,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_erasure_reads_back_as_written_and_unknown_versions_are_refused() {
        let erased = PersonalDataEvent::PersonalDataErased(PersonalDataErased {
            subject_digest: "ab".repeat(32),
            keys: vec![Uuid::nil()],
            key_count: 1,
        });
        let data = erased.to_data();
        assert_eq!(
            data,
            serde_json::json!({"subject_digest": "ab".repeat(32), "keys": [Uuid::nil()], "key_count": 1})
        );
        assert_eq!(
            PersonalDataEvent::from_stored("PersonalDataErased", 1, &data).unwrap(),
            erased
        );
        assert!(matches!(
            PersonalDataEvent::from_stored("PersonalDataErased", 2, &data),
            Err(EventDecodeError::Unknown { .. })
        ));
    }
}
