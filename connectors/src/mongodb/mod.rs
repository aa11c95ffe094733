//! MongoDB: connection parameters and the live connector (the official `mongodb` driver).
//!
//! - `options.rs`: [`MongoTarget`], the `mongodb://` connection string built from the DataSource
//!   model (every replica member, `replicaSet`, `readPreference`, TLS files).
//! - `connect.rs`: the driver client of a target with the operation's timeouts, its shutdown
//!   (which closes every connection it opened), and driver errors classified into the categories
//!   users act on.
//! - `validate.rs`: [`validate`], the connection test (`buildInfo` version, `ping` latency).
//! - `fields.rs`: documents as columns — dotted field paths, the field schema inferred from
//!   sampled documents, and values rendered as text.
//! - `discover.rs`: [`discover`], databases, collections and views in scope with their indexes,
//!   document count estimates and inferred fields.
//! - `sample.rs`: [`sample`], random documents of one collection for classification.

mod connect;
mod discover;
mod fields;
mod options;
mod sample;
mod validate;

pub use discover::{discover, MAX_RETRIES};
pub use fields::{MAX_DEPTH, MAX_FIELDS};
pub use options::MongoTarget;
pub use sample::sample;
pub use validate::validate;
