//! The contract a read model implements to plug into the runner.

use crate::ProjectionError;
use eventlog::StoredEvent;
use futures::future::BoxFuture;
use sqlx::PgConnection;

/// A read model fed by events.
///
/// `apply` runs inside the batch transaction with `search_path` set to the projection's schema,
/// so it uses unqualified table names and the same code serves live updates and rebuilds.
pub trait Projection: Send + Sync + 'static {
    /// Stable name, used for the checkpoint, the consumer and the schema (`rm_<name>`).
    fn name(&self) -> &'static str;

    /// Idempotent DDL creating the projection's tables in the current schema.
    fn ddl(&self) -> &'static str;

    /// Applies one event. Events the projection does not care about are ignored; events it
    /// cares about but cannot read are errors (never skipped silently).
    ///
    /// The future is boxed: sqlx's executor traits are higher-ranked, and an unboxed generic
    /// future trips the compiler's `Send` inference when runners are spawned.
    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a StoredEvent,
    ) -> BoxFuture<'a, Result<(), ProjectionError>>;
}

/// The schema that holds a projection's live tables.
pub fn schema_of(name: &str) -> String {
    format!("rm_{name}")
}
