//! PostgreSQL, one file per concern:
//!
//! - `options.rs`: [`PostgresTarget`], the connection parameters built from the DataSource model;
//! - `connect.rs`: sqlx connect options, the connection test [`validate`] and the error
//!   [`classify`]-ication shared by everything that connects;
//! - `health.rs`: [`probe_health`], a connection test plus the server's connections, limit,
//!   database size and uptime;
//! - `discover.rs`: [`discover`], batched DDL discovery of one database on the primary;
//! - `catalog.rs`: the catalog queries of relations and how their rows become asset schemas;
//! - `objects.rs`: user-defined types, routines and sequences;
//! - `pace.rs`: strategies (connections, batch size) and how `auto` moves during a scan;
//! - `sample.rs`: [`sample`], rows of one table or view for classification, and
//!   [`sample_many`], several over one connection;
//! - `reads.rs`: reads that may be stale (samples) on the primary or, failed over, the replica
//!   (the policy is `crate::failover`);
//! - lineage from view SQL comes from the shared `crate::view_sql`.

mod catalog;
mod connect;
mod discover;
mod health;
mod objects;
mod options;
mod pace;
mod reads;
mod sample;

pub use self::{
    connect::{classify, connect_options, validate},
    discover::{discover, MAX_RETRIES},
    health::probe_health,
    sample::{sample, sample_many},
};
pub use options::{PgSslMode, PostgresTarget};
