//! MySQL and MariaDB: connection parameters (`options.rs`). The live connector (sqlx mysql,
//! validation, discovery) joins this folder.

mod options;

pub use options::{MysqlSslMode, MysqlTarget};
