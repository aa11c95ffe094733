//! The pure model of discovered schemas: what connectors report about the assets of a source and
//! how two reports of the same asset compare. The [`Asset`](crate::asset) aggregate records these
//! values; the [`Scan`](crate::scan) aggregate records the run that produced them.
//!
//! - `path.rs`: [`AssetPath`], where an asset lives inside its source (`orders_db.public.customers`).
//! - `asset_schema.rs`: [`AssetKind`], [`AssetSchema`] with its [`ColumnSchema`]s,
//!   [`ForeignKey`]s and [`IndexSchema`]s.
//! - `fingerprint.rs`: [`Fingerprint`], the content hash that lets a no-change rescan record
//!   nothing.
//! - `diff.rs`: [`SchemaDiff`], what changed between two schemas of one asset.
//! - `asset_id.rs`: [`AssetId::for_path`], the deterministic aggregate id of an asset.
//! - `lineage.rs`: [`LineageEdge`], lineage learned from foreign keys, view definitions and
//!   SQL routine bodies.
//! - `objects.rs`: partitioning, user-defined types, routines, sequences and triggers.
//! - `statistics.rs`: [`AssetStatistics`] (row estimate, size, last analysis) and the
//!   [`StatisticsThreshold`] below which a rescan records no move.
//!
//! ```
//! use domain::discovery::*;
//! use domain::AggregateId;
//!
//! let source = AggregateId::parse("0192f0c4-1111-7000-8000-000000000001").unwrap();
//! let mut schema = AssetSchema::new(AssetKind::Table, AssetPath::parse("shop.public.orders").unwrap());
//! schema.columns.push(ColumnSchema::new("id", "bigint", 1));
//! let id = AssetId::for_path(source, &schema.path);
//!
//! let mut next = schema.clone();
//! next.columns.push(ColumnSchema::new("total", "numeric(12,2)", 2));
//! assert_ne!(schema.fingerprint(), next.fingerprint());
//! assert_eq!(SchemaDiff::between(&schema, &next).added_columns.len(), 1);
//! # let _ = id;
//! ```

mod asset_id;
mod asset_schema;
mod diff;
mod fingerprint;
mod lineage;
mod objects;
mod path;
mod statistics;

#[cfg(test)]
mod tests;

pub use asset_id::AssetId;
pub use asset_schema::{AssetKind, AssetSchema, ColumnSchema, ForeignKey, IndexSchema};
pub use diff::{ColumnChange, SchemaDiff};
pub use fingerprint::Fingerprint;
pub use lineage::{LineageEdge, LineageKind};
pub use objects::{
    Partition, Partitioning, Routine, SequenceSchema, TriggerSchema, UserType, UserTypeKind,
};
pub use path::{AssetPath, AssetPathError};
pub use statistics::{AssetStatistics, StatisticsThreshold};

pub(crate) use path::{check_segments, split_dotted, write_segment};
