//! MongoDB: connection parameters (`options.rs`). The live connector (the `mongodb` driver,
//! validation, sampling discovery) joins this folder.

mod options;

pub use options::MongoTarget;
