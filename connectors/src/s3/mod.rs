//! S3 and S3-compatible object stores: connection parameters and the live connector
//! (`object_store` for requests, `parquet` for footers and row groups, `csv` for CSV).
//!
//! - `options.rs`: [`S3Target`], bucket, prefix, endpoint, region and auth mode from the
//!   DataSource model.
//! - `connect.rs`: credentials (static keys resolved from their secret reference, IAM through the
//!   environment's chain), one client per bucket, `ListBuckets`, retries and the classification
//!   of failures into the categories users act on.
//! - `validate.rs`: [`validate`], one listing with a timeout.
//! - `layout.rs`: keys placed in their asset prefix (partition folders folded in), formats from
//!   extensions, and the listing prefixes a scan scope allows.
//! - `objects.rs`: listing pages, and one object read by byte ranges.
//! - `records.rs`, `footer.rs`: CSV/JSON records and Parquet footers and rows, flattened to
//!   dotted field paths.
//! - `shape.rs`: the columns of a prefix from what its objects showed.
//! - `discover.rs`: [`discover`]; `sample.rs`: [`sample`].
//!
//! Sampled values are typed and dropped during discovery and returned (never logged) by
//! sampling; only names and types leave the discovery. Objects that are not records are sampled
//! as their first bytes only (a bounded number per prefix), for the classifier to type by magic
//! number.

mod connect;
mod discover;
mod footer;
mod layout;
mod objects;
mod options;
mod records;
mod sample;
mod shape;
mod validate;

pub use discover::{discover, CONTENT_COLUMN, MAX_LISTED_KEYS};
pub use options::S3Target;
pub use sample::{sample, MAX_CONTENT_OBJECTS};
pub use validate::validate;
