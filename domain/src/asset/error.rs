//! [`AssetError`]: why the asset aggregate refused a command.

use crate::datasource::ValidationError;
use crate::discovery::AssetPath;
use crate::ids::AggregateId;

/// Why the asset aggregate refused a command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AssetError {
    /// The asset was never discovered.
    #[error("asset not found")]
    NotFound,
    /// The command's asset id is not the one derived from its source and path.
    #[error("asset id {got} does not belong to this source and path (expected {expected})")]
    IdMismatch {
        expected: AggregateId,
        got: AggregateId,
    },
    #[error("the asset belongs to data source {expected}, not {got}")]
    SourceMismatch {
        expected: AggregateId,
        got: AggregateId,
    },
    #[error("the asset is {expected}, not {got}")]
    PathMismatch { expected: AssetPath, got: AssetPath },
    /// Lineage cannot be recorded on an asset that is gone.
    #[error("asset {path} was removed")]
    Removed { path: AssetPath },
    #[error("invalid asset data: {0}")]
    Validation(#[from] ValidationError),
}

impl crate::Rejection for AssetError {
    fn kind(&self) -> crate::RejectionKind {
        use crate::RejectionKind::*;
        match self {
            AssetError::NotFound => NotFound,
            AssetError::SourceMismatch { .. }
            | AssetError::PathMismatch { .. }
            | AssetError::Removed { .. } => Refused,
            AssetError::IdMismatch { .. } | AssetError::Validation(_) => Invalid,
        }
    }
}
