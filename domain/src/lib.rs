//! The pure PurSight domain: identifiers, the aggregate/decider contract, access rules and the
//! aggregates themselves (one folder each). Nothing here performs I/O: no clock, no network, no
//! randomness — everything a decision needs is passed in, so every rule is tested with plain
//! given-events / when-command / then-events tests.
#![forbid(unsafe_code)]

pub mod access;
pub mod access_policy;
pub mod aggregate;
pub mod asset;
pub mod classification;
pub mod compliance;
pub mod datasource;
pub mod discovery;
pub mod glossary;
pub mod ids;
pub mod lineage_job;
pub mod owner;
pub mod personal_data;
pub mod rule_set;
pub mod scan;
pub mod schema;
pub mod tenant;
pub mod text;

#[cfg(test)]
mod testing;

pub use aggregate::{
    parse_wire_type, wire_type, Aggregate, DomainEvent, EventDecodeError, Rejection, RejectionKind,
};
pub use ids::{AggregateId, IdError, TenantId};
