//! [`AssetError`]: why the asset aggregate refused a command.

use crate::classification::Label;
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
    #[error("column `{column}` has no label {label}")]
    LabelNotFound { column: String, label: Label },
    #[error("label {label} on column `{column}` was rejected; label the column by hand instead")]
    LabelRejected { column: String, label: Label },
    #[error("the asset has no column `{column}`")]
    UnknownColumn { column: String },
    #[error("invalid asset data: {0}")]
    Validation(#[from] ValidationError),
}

impl crate::Rejection for AssetError {
    fn kind(&self) -> crate::RejectionKind {
        use crate::RejectionKind::*;
        match self {
            AssetError::NotFound | AssetError::LabelNotFound { .. } => NotFound,
            AssetError::LabelRejected { .. } => Refused,
            AssetError::UnknownColumn { .. } => Invalid,
            AssetError::SourceMismatch { .. }
            | AssetError::PathMismatch { .. }
            | AssetError::Removed { .. } => Refused,
            AssetError::IdMismatch { .. } | AssetError::Validation(_) => Invalid,
        }
    }
}
