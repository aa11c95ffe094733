//! Identifiers that travel through subjects, events and read models.
//!
//! Tenant ids and aggregate ids end up as NATS subject tokens, so they are parsed here once
//! and only ever constructed through [`TenantId::parse`] / [`AggregateId::parse`]: no input can
//! smuggle `*`, `>` or `.` into a subject and widen a subscription.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error(
        "tenant id must be 1 to 64 characters of lowercase letters, digits, '-' or '_' (got {0:?})"
    )]
    InvalidTenant(String),
    #[error("aggregate id must be a UUID (got {0:?})")]
    InvalidAggregate(String),
}

/// A tenant: lowercase letters, digits, `-`, `_`; 1–64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(IdError::InvalidTenant(raw.chars().take(80).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TenantId> for String {
    fn from(value: TenantId) -> Self {
        value.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of one aggregate instance: a UUID, rendered lowercase and hyphenated.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct AggregateId(Uuid);

impl AggregateId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        Uuid::parse_str(raw)
            .map(Self)
            .map_err(|_| IdError::InvalidAggregate(raw.chars().take(80).collect()))
    }

    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for AggregateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_cannot_carry_subject_wildcards_or_separators() {
        for bad in ["", "a.b", "*", ">", "Acme", "a b", &"x".repeat(65)] {
            assert!(TenantId::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(TenantId::parse("acme-eu_1").unwrap().as_str(), "acme-eu_1");
    }

    #[test]
    fn aggregate_ids_are_uuids() {
        assert!(AggregateId::parse("not-a-uuid").is_err());
        let id = AggregateId::parse("0192F0C4-1111-7000-8000-000000000001").unwrap();
        assert_eq!(id.to_string(), "0192f0c4-1111-7000-8000-000000000001");
    }
}
