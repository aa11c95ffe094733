//! Redis: connection parameters (`options.rs`). The live connector (the `redis` crate,
//! validation, key-pattern discovery) joins this folder.

mod options;

pub use options::RedisTarget;
