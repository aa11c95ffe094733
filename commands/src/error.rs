//! Why a command was not carried out. Each variant maps to one client-facing error code.

use domain::access::Permission;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("you are not allowed to {}", .0.as_str())]
    Forbidden(Permission),
    #[error("{0}")]
    NotFound(String),
    /// The domain refused the command in the aggregate's current state.
    #[error("{0}")]
    Rejected(String),
    #[error("{0}")]
    Validation(String),
    #[error(
        "the {aggregate} was modified concurrently {attempts} times in a row; reload and retry"
    )]
    Conflict { aggregate: String, attempts: u32 },
    #[error("stored history of {aggregate} cannot be read: {reason}")]
    CorruptHistory { aggregate: String, reason: String },
    /// Something the command needs (the governed system, the read side) cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Append(#[from] eventlog::AppendError),
    #[error(transparent)]
    Store(#[from] eventlog::EventStoreError),
}

impl CommandError {
    /// The `extensions.code` of the API error.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::Forbidden(_) => "FORBIDDEN",
            CommandError::NotFound(_) => "NOT_FOUND",
            CommandError::Rejected(_) => "CONFLICT",
            CommandError::Validation(_) => "VALIDATION",
            CommandError::Unavailable(_) => "UNAVAILABLE",
            CommandError::Conflict { .. } => "CONFLICT",
            CommandError::Append(eventlog::AppendError::TooLarge { .. }) => "VALIDATION",
            CommandError::CorruptHistory { .. }
            | CommandError::Append(_)
            | CommandError::Store(_) => "INTERNAL",
        }
    }
}
