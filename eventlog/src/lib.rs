//! The event store: PurSight's only source of truth, kept in one NATS JetStream stream.
//!
//! * [`envelope`] — the CloudEvents 1.0 envelope every event travels in, and the commit (one
//!   JetStream message holding all events one command decided).
//! * [`canonical`] — canonical JSON (sorted keys) written straight from serde types.
//! * [`chain`] — the per-aggregate SHA-256 hash chain and its verification.
//! * [`store`] — [`EventStore`]: ensuring the stream, appending with optimistic concurrency and
//!   idempotency, loading an aggregate's history, subscribing and reading from a sequence.
//! * [`idempotency`] — the commit's `Nats-Msg-Id` and ids derived from a command id, scoped to
//!   tenant and aggregate.
//! * [`personal`] — personal data sealed per person, so erasing a key erases it everywhere.
//! * [`redact`] — Fernet tokens shown as `fernet:***` in every view and hashed that way.
//! * [`citation`] — checking the events a document (a compliance report) cites.
//! * [`export`] — NDJSON export of the stream and reading an export back for verification.
#![forbid(unsafe_code)]

pub mod canonical;
pub mod chain;
pub mod citation;
pub mod envelope;
pub mod error;
pub mod export;
pub mod idempotency;
pub mod nats_url;
pub mod personal;
pub mod redact;
pub mod signing;
pub mod snapshot;
pub mod store;
pub mod subject;

pub use envelope::{
    AppendedEvent, CloudEvent, CommitMetadata, CommittedEvents, NewCommit, NewEvent, StoredCommit,
    StoredEvent,
};
pub use error::{AppendError, DecodeError, EventStoreError};
pub use snapshot::Snapshot;
pub use store::{Appended, DeliverFrom, EventStore, EventStoreConfig, History, StreamSettings};
pub use subject::StreamNames;
