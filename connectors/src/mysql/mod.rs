//! MySQL and MariaDB: connection parameters and the live connector (sqlx mysql).
//!
//! - `options.rs`: [`MysqlTarget`], the parameters built from the DataSource model.
//! - `connect.rs`: sqlx connect options from a target, and driver errors classified into the
//!   categories users act on.
//! - `validate.rs`: [`validate`], the connection test (`SELECT 1`, `VERSION()`, latency).
//! - `health.rs`: [`probe_health`], the connection test plus `Threads_connected`,
//!   `max_connections`, the schema's size and `Uptime`.
//! - `discover.rs`: [`discover`], batched schema discovery from `information_schema`, with
//!   `catalog.rs` (the queries), `assemble.rs` (rows → asset schemas) and `tuning.rs` (what each
//!   scan strategy means here, and how `auto` moves), and `objects.rs` (routines, triggers and
//!   MariaDB sequences).

mod assemble;
mod catalog;
mod connect;
mod discover;
mod health;
mod objects;
mod options;
mod sample;
mod tuning;
mod validate;

pub use discover::discover;
pub use health::probe_health;
pub use options::{MysqlSslMode, MysqlTarget};
pub use sample::sample;
pub use validate::validate;
