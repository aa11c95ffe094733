//! What can go wrong: [`ValidationError`] for configuration input that does not parse, and
//! [`DataSourceError`] for commands the aggregate refuses.

use super::lifecycle::LifecycleState;
use super::values::DataSourceKind;
use crate::ids::AggregateId;
use std::fmt;

/// One invalid input field: a dotted path (`port`, `ssl_config.ssl_ca`, `tags[2]`) and what is
/// wrong with it. The message never repeats a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Everything wrong with one configuration input, in field order; never empty.
///
/// Displayed as `field: message; other.field: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    pub errors: Vec<FieldError>,
}

impl ValidationError {
    /// A single-field error, for checks made outside the configuration parser.
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            errors: vec![FieldError {
                field: field.into(),
                message: message.into(),
            }],
        }
    }

    /// The paths of the invalid fields.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.errors.iter().map(|e| e.field.as_str())
    }

    /// The message for one field, if that field is invalid.
    pub fn message_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            error.fmt(f)?;
        }
        Ok(())
    }
}

/// Why the data source aggregate refused a command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataSourceError {
    #[error("data source not found")]
    NotFound,
    #[error("data source {id} is already registered")]
    AlreadyRegistered { id: AggregateId },
    /// The command is not one of the lifecycle's moves out of the current state (including any
    /// command on an archived source, and anything but completing the work while busy).
    #[error("command {command} is not allowed while the data source is {state}")]
    InvalidTransition {
        command: &'static str,
        state: LifecycleState,
    },
    #[error(
        "the kind of a data source cannot change (it is {from}, the update says {to}); register a new source instead"
    )]
    KindChanged {
        from: DataSourceKind,
        to: DataSourceKind,
    },
    /// A scan result arrived for a scan that is not the one running (a late or duplicate result).
    #[error("scan {got} is not the running scan {running}")]
    ScanMismatch {
        running: AggregateId,
        got: AggregateId,
    },
    #[error("invalid data source configuration: {0}")]
    Validation(#[from] ValidationError),
}

impl crate::Rejection for DataSourceError {
    fn kind(&self) -> crate::RejectionKind {
        use crate::RejectionKind::*;
        match self {
            DataSourceError::NotFound => NotFound,
            DataSourceError::AlreadyRegistered { .. }
            | DataSourceError::ScanMismatch { .. }
            | DataSourceError::InvalidTransition { .. } => Refused,
            DataSourceError::KindChanged { .. } | DataSourceError::Validation(_) => Invalid,
        }
    }
}
