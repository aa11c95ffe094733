//! Projection errors.

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("projection {projection} cannot apply stream sequence {sequence}: {reason}")]
    BadEvent {
        projection: &'static str,
        sequence: u64,
        reason: String,
    },
    #[error("database error in projection {projection}: {source}")]
    Database {
        projection: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "unknown projection {0:?}; known projections: data_sources, audit_log, catalog, lineage, health, compliance, access"
    )]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] eventlog::EventStoreError),
    /// The stream has no gaps, so a commit that does not follow the checkpoint means another
    /// consumer took the ones between (or delivery is out of order): nothing is applied and the
    /// runner restarts from its checkpoint.
    #[error("projection {projection} expected stream sequence {expected} but received {received}; resuming from the checkpoint")]
    Gap {
        projection: &'static str,
        expected: u64,
        received: u64,
    },
    /// A request the projections refuse before doing anything (e.g. a replay's target schema).
    #[error("{0}")]
    Refused(String),
    #[error("JetStream consumer of projection {projection}: {reason}")]
    Consumer {
        projection: &'static str,
        reason: String,
    },
}

pub(crate) trait DbContext<T> {
    fn in_projection(self, projection: &'static str) -> Result<T, ProjectionError>;
}

impl<T> DbContext<T> for Result<T, sqlx::Error> {
    fn in_projection(self, projection: &'static str) -> Result<T, ProjectionError> {
        self.map_err(|source| ProjectionError::Database { projection, source })
    }
}
