//! Snowflake over its SQL API (HTTPS): connection parameters (`options.rs`). The live connector
//! (statement submission, discovery through `INFORMATION_SCHEMA`) joins this folder.

mod options;

pub use options::SnowflakeTarget;
