//! Command handling: authorise → load → decide → append.
//!
//! [`CommandHandler::execute`] is the one write path of PurSight. It checks the caller's
//! permission, loads the aggregate's history from the event store, folds it with the domain's
//! `evolve`, lets the domain `decide`, and appends the resulting events as one commit with
//! optimistic concurrency. A conflict (someone else appended first) is reloaded and decided
//! again, a bounded number of times. A retried command id is answered from history, never
//! appended twice: the stream's duplicate window (24 h) catches it, and so does the aggregate's
//! history after its latest snapshot.
//!
//! Long histories load from a snapshot (state + position, verified against the stream) plus the
//! events after it; a snapshot is saved every `snapshot_every` events (default 100).
//!
//! [`access_policy`] defines custom roles and grants roles (the tenant's `AccessPolicy`).
//!
//! [`compliance_policy`] changes a tenant's compliance policy and accepts violations' risk.
//!
//! [`glossary`] curates the tenant's business glossary and links its terms to assets.
//!
//! Process managers built on it: [`workflows`] (connection validation, scans), [`compliance`]
//! (compliance passes over a source), [`compliance_pm`] (the evaluation loop that re-evaluates
//! what each fact event touches, and expires risk acceptances) and [`health`]
//! (health checks with a rolling window of probe outcomes per source).
#![forbid(unsafe_code)]

pub mod access_policy;
pub mod classify;
pub mod compliance;
pub mod compliance_pm;
pub mod compliance_policy;
mod context;
mod error;
pub mod glossary;
mod handler;
pub mod health;
pub mod workflows;

pub use context::CommandContext;
pub use error::CommandError;
pub use handler::{CommandHandler, CommandOutcome, CommandStats, Loaded};
