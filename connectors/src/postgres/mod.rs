//! PostgreSQL: connection parameters (`options.rs`). The live connector (sqlx, validation,
//! discovery) joins this folder.

mod options;

pub use options::{PgSslMode, PostgresTarget};
