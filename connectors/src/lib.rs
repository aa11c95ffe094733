//! Talking to the systems PurSight governs (SPEC §1): turning a data source's configuration into
//! something a driver can connect with, and its secret references into values.
//!
//! - [`secrets`]: [`SecretResolver`](secrets::SecretResolver) resolves `env:`, `file:`, `vault:`,
//!   `aws-sm:`, `azure-kv:` and `fernet:` references into [`SecretValue`](secrets::SecretValue)s
//!   that cannot be printed.
//! - [`options`]: [`ConnectionTarget::from_config`](options::ConnectionTarget::from_config) builds
//!   the connection parameters of every engine (URI, TLS, replicas, cloud authentication, pool
//!   knobs) from a [`DataSourceConfig`](domain::datasource::DataSourceConfig) alone, so call sites
//!   never branch on the provider.
//! - `view_sql`: lineage from view definitions, shared by the SQL connectors.
//! - One folder per connector kind (`postgres/`, `mysql/`, `mongodb/`, `redis/`, `s3/`,
//!   `snowflake/`) holds what is specific to that engine.
//!
//! - [`failover`]: where reads that may be stale go, primary or replica, with thresholds,
//!   exponential backoff and a cool-down against flapping.
//! - [`hosts`]: the operator's allow/deny list of hosts, checked with resolved addresses before
//!   any connection.
//! - [`live`]: `validate` and `discover` for any kind, dispatching to the engine folders.
//! - [`names`]: control characters in discovered names neutralised, in one place.
//! - [`probe`]: the results every connector reports: connection tests and discoveries.
//!
//! This crate depends on the `domain` value types only; nothing here emits events.
#![forbid(unsafe_code)]

pub mod failover;
pub mod hosts;
pub mod live;
pub mod mongodb;
pub mod mysql;
pub mod names;
pub mod options;
pub mod postgres;
pub mod probe;
pub mod redis;
pub mod s3;
mod sampling;
pub mod secrets;
pub mod snowflake;
pub(crate) mod view_sql;
