//! S3 and S3-compatible object stores: connection parameters (`options.rs`). The live connector
//! (object listing, sampling and schema inference) joins this folder.

mod options;

pub use options::S3Target;
