//! Errors of the event store, one enum per operation family.

/// A message from the stream that is not a valid commit.
#[derive(Debug, Clone, thiserror::Error)]
#[error("malformed commit at stream sequence {sequence}: {reason}")]
pub struct DecodeError {
    pub sequence: u64,
    pub reason: String,
}

/// Failures of connecting, reading and subscribing.
#[derive(Debug, thiserror::Error)]
pub enum EventStoreError {
    #[error("cannot connect to NATS at {url}: {reason}. Start it with `nats-server -js` (or `docker compose up -d nats`) or point PURSIGHT_NATS_URL at a running server")]
    Unreachable { url: String, reason: String },
    #[error("stream {name} exists but is not safe to use as an event store: {reason}. Use another stream name (PURSIGHT_STREAM_PREFIX / --stream) or fix the stream's configuration")]
    IncompatibleStream { name: String, reason: String },
    #[error("invalid stream prefix {0:?}: use lowercase letters, digits, '-' or '_'")]
    InvalidPrefix(String),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Personal data could not be sealed or opened (see [`crate::personal`]).
    #[error(transparent)]
    Keyring(#[from] crate::personal::KeyringError),
    /// A read that had to reach stream sequence `end` ended before it.
    #[error("the read of {filter} ended before stream sequence {end}: {reason}")]
    IncompleteRead {
        filter: String,
        end: u64,
        reason: String,
    },
    #[error("JetStream {operation} failed: {reason}")]
    JetStream {
        operation: &'static str,
        reason: String,
    },
}

impl EventStoreError {
    pub(crate) fn jetstream(operation: &'static str, err: impl std::fmt::Display) -> Self {
        Self::JetStream {
            operation,
            reason: err.to_string(),
        }
    }
}

/// Failures of appending a commit.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Another commit reached the aggregate first: reload and decide again.
    #[error("concurrent modification of {aggregate_type} {aggregate_id}: expected last sequence {expected_sequence}")]
    Conflict {
        aggregate_type: String,
        aggregate_id: String,
        expected_sequence: u64,
    },
    #[error(
        "commit of {size} bytes exceeds the server's max payload of {max} bytes; split the command"
    )]
    TooLarge { size: usize, max: usize },
    #[error("a commit must contain at least one event")]
    Empty,
    /// The stream reported the commit's idempotency key as a duplicate of a commit that belongs
    /// to another aggregate or command: nothing was appended, and that commit is not ours.
    #[error("the idempotency key of this command matches the commit at stream sequence {sequence}, which belongs to another aggregate or command; nothing was appended")]
    ForeignDuplicate { sequence: u64 },
    #[error(transparent)]
    Store(#[from] EventStoreError),
}
