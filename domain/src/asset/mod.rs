//! The Asset aggregate: one discovered asset of a data source (a database, schema, table,
//! partitioned table, view, materialized view, collection, Redis key pattern, S3 prefix,
//! user-defined type, routine or sequence) with its current schema, statistics, fingerprint and
//! lineage.
//! One aggregate per asset keeps every commit small (SPEC §2), and its id is derived from the
//! source and path ([`AssetId::for_path`](crate::discovery::AssetId::for_path)), so every scan
//! finds the same aggregate for the same asset.
//!
//! Discovery is incremental: recording the same schema again records nothing, a different one
//! records `SchemaChanged` with its diff, statistics that moved beyond the threshold (schema
//! unchanged) `StatisticsChanged`, an asset missing from a scan that covers it is
//! `AssetRemoved` and restored when it reappears.
//!
//! - `commands.rs`, `decide.rs`, `events.rs`, `error.rs`, `state.rs`: the decider and what it
//!   speaks; the value types are in [`discovery`](crate::discovery).
//! - `metadata.rs`: the asset's own owner, `key:value` tags and description, and how unset
//!   fields are inherited from the source.
//!
//! ```
//! use domain::asset::*;
//! use domain::discovery::*;
//! use domain::{Aggregate, AggregateId};
//!
//! let source_id = AggregateId::parse("0192f0c4-1111-7000-8000-000000000001").unwrap();
//! let scan_id = AggregateId::parse("0192f0c4-2222-7000-8000-000000000001").unwrap();
//! let mut schema = AssetSchema::new(AssetKind::Table, AssetPath::parse("shop.public.orders").unwrap());
//! schema.columns.push(ColumnSchema::new("id", "bigint", 1));
//! let discover = AssetCommand::RecordDiscovery {
//!     asset_id: AssetId::for_path(source_id, &schema.path),
//!     source_id,
//!     scan_id,
//!     schema,
//!     statistics_threshold: StatisticsThreshold::DEFAULT,
//! };
//! let events = Asset::decide(&AssetState::default(), &discover).unwrap();
//! assert!(matches!(events[..], [AssetEvent::SchemaDiscovered(_)]));
//! // The same schema again, as a rescan without changes reports it: nothing to record.
//! let state = Asset::replay(&events);
//! assert!(Asset::decide(&state, &discover).unwrap().is_empty());
//! ```

mod commands;
mod decide;
mod error;
mod events;
mod labels;
mod metadata;
mod state;

#[cfg(test)]
mod tests;

pub use commands::AssetCommand;
pub use error::AssetError;
pub use events::*;
pub use labels::{
    evidence_key, is_classifier_suggestion, ClassifierOutcome, ColumnLabel, LabelOrigin,
    LabelStatus, RuleSetRef,
};
pub use metadata::{AssetMetadata, AssetTag, EffectiveMetadata, MetadataPatch, MAX_ASSET_TAGS};
pub use state::AssetState;

use crate::aggregate::Aggregate;

/// The asset aggregate (a decider; all data is in [`AssetState`]).
pub struct Asset;

impl Aggregate for Asset {
    const NAME: &'static str = "asset";
    type State = AssetState;
    type Command = AssetCommand;
    type Event = AssetEvent;
    type Error = AssetError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        decide::decide(state, command)
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        state.evolve(event)
    }
}
