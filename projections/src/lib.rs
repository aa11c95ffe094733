//! Projections: the workers that turn the event stream into PostgreSQL read models.
//!
//! Every read model plugs into one [`runner`]: a durable JetStream pull consumer per projection,
//! and for each batch one PostgreSQL transaction that applies the events *and* moves the
//! checkpoint, so a crash at any point neither loses nor double-applies an event. Each projection
//! owns one PostgreSQL schema (`rm_<name>`), which lets [`rebuild`] project into a fresh schema
//! and swap it in atomically while queries keep working.
//!
//! Read models: [`data_sources`] (current configuration without secrets, lifecycle state,
//! version), [`audit_log`] (every event: who, what, when, from which command), [`catalog`]
//! (discovered assets with their schemas and change history, scans), [`lineage`] (edges
//! between assets, walked up- or downstream), [`health`] (each source's latest recorded
//! health and the history of its changes) and [`compliance`] (violations with their evidence
//! and history, open counts and scores per framework, a daily trend) and [`access`] (custom roles
//! and who holds which role, read on every request) and [`glossary`] (business terms and their
//! links to assets and columns; [`ownership`] answers who owns which asset). Events a projection cannot apply are [`parked`];
//! commands the API refused are recorded apart from the stream in [`refusals`]. The keys of
//! personal data sealed in events live in [`personal_keys`].
#![forbid(unsafe_code)]

pub mod access;
pub mod as_of;
pub mod as_of_read;
pub mod audit_log;
pub mod catalog;
pub mod checkpoint;
pub mod compliance;
pub mod data_sources;
pub mod database;
mod error;
pub mod glossary;
pub mod health;
pub mod impact;
pub mod labels;
pub mod lineage;
pub mod ownership;
pub mod parked;
pub mod personal_keys;
pub mod projection;
pub mod rebuild;
pub mod refusals;
pub mod runner;
pub mod search;
pub mod status;
pub mod visibility;

pub use error::ProjectionError;
pub use projection::Projection;
pub use runner::{ProjectionRunner, RunnerOptions};
pub use status::{ProjectionState, ProjectionStatus, StatusBoard};

/// Names of every projection, for `pursight rebuild` and `/readyz`.
pub const ALL: [&str; 8] = [
    data_sources::NAME,
    audit_log::NAME,
    catalog::NAME,
    lineage::NAME,
    health::NAME,
    compliance::NAME,
    access::NAME,
    glossary::NAME,
];
