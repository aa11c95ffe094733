//! Redis: connection parameters and the live connector (the `redis` crate).
//!
//! - `options.rs`: [`RedisTarget`], the `redis://` / `rediss://` URL built from the DataSource
//!   model.
//! - `connect.rs`: one multiplexed connection (never a pool) from a target, TLS certificates read
//!   from the configured files, and driver errors classified into the categories users act on.
//! - `validate.rs`: [`validate`], the connection test (`PING` latency, `INFO server` version).
//! - `health.rs`: [`probe_health`], `PING` latency plus the clients, client limit, memory and
//!   uptime from `INFO`.
//! - `pattern.rs`: keys grouped into key patterns (`session:42:cart` → `session:*:cart`), and the
//!   `SCAN MATCH` pre-filter derived from a scan scope.
//! - `shape.rs`: the value shape of a pattern inferred from sampled values, as columns. Values
//!   are read, typed and dropped: only field names and type names leave this file.
//! - `session.rs`: one connection that retries transient failures (a broken connection, `BUSY`,
//!   `LOADING`) with backoff, reconnecting when needed, and counts what it sends.
//! - `discover.rs`: [`discover`], incremental `SCAN` with pipelined `TYPE` and sampling.
//! - `sample.rs`: [`sample`], the values of a key pattern's keys per column, for classification.

mod connect;
mod discover;
mod health;
mod options;
mod pattern;
mod sample;
mod session;
mod shape;
mod validate;

pub use discover::{discover, MAX_SCANNED_KEYS};
pub use health::probe_health;
pub use options::RedisTarget;
pub use pattern::key_pattern;
pub use sample::sample;
pub use validate::validate;
