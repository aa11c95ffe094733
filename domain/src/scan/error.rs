//! [`ScanError`]: why the scan aggregate refused a command.

use super::scope::ScopeError;
use super::values::{ScanStatus, ScanStrategy};

/// Why the scan aggregate refused a command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScanError {
    /// The command is not a move out of the current state: anything but `Start` before the scan
    /// started (reported as not found), `Start` twice, anything after it finished.
    #[error("command {command} is not allowed while the scan is {state}")]
    InvalidTransition {
        command: &'static str,
        state: ScanStatus,
    },
    #[error("invalid scan scope: {0}")]
    InvalidScope(#[from] ScopeError),
    /// Progress names a strategy the scan cannot be running with.
    #[error("a scan started with strategy {started} cannot be running with {current}")]
    StrategyNotAllowed {
        started: ScanStrategy,
        current: ScanStrategy,
    },
    #[error("a scan failure needs a reason")]
    MissingReason,
}

impl crate::Rejection for ScanError {
    fn kind(&self) -> crate::RejectionKind {
        use crate::RejectionKind::*;
        match self {
            ScanError::InvalidTransition {
                state: ScanStatus::NotStarted,
                ..
            } => NotFound,
            ScanError::InvalidTransition { .. } => Refused,
            ScanError::InvalidScope(_)
            | ScanError::StrategyNotAllowed { .. }
            | ScanError::MissingReason => Invalid,
        }
    }
}
