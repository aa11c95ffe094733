//! Snowflake over its SQL API v2 (HTTPS + JSON), one file per concern:
//!
//! - `options.rs`: [`SnowflakeTarget`], the account, context, credential kind and API base URL
//!   built from the DataSource model;
//! - `auth.rs`: the bearer token of every request — a key-pair JWT signed with the user's
//!   private key, or an OAuth access token;
//! - `connect.rs`: the HTTPS client of one operation (TLS policy, timeouts) and the
//!   classification of transport errors;
//! - `api.rs`: statements submitted, polled while they run, their partitions read, failed
//!   requests resubmitted, every request counted;
//! - `validate.rs`: [`validate`], the connection test (`SELECT CURRENT_VERSION()`);
//! - `catalog.rs`: the `SHOW` and `INFORMATION_SCHEMA` statements and how their rows become
//!   asset schemas;
//! - `discover.rs`: [`discover`], databases, schemas, tables and views in scope, batched, with
//!   lineage from view SQL (the shared `crate::view_sql`, Snowflake dialect);
//! - `sample.rs` and `values.rs`: [`sample`], rows of one table or view for classification, and
//!   their values rendered as text.

mod api;
mod auth;
mod catalog;
mod connect;
mod discover;
mod options;
mod sample;
mod validate;
mod values;

pub use api::MAX_RETRIES;
pub use discover::discover;
pub use options::{SnowflakeAuthenticator, SnowflakeTarget};
pub use sample::{sample, MAX_SAMPLE_ROWS};
pub use validate::validate;
