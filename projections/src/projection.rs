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

    /// The aggregate types whose events this projection reads; `None` (the default) for every
    /// type. The runner does not even decode commits of other types: it moves the checkpoint
    /// past them.
    fn aggregate_types(&self) -> Option<&'static [&'static str]> {
        None
    }

    /// The event names (`HealthAssessed`) this projection reads; `None` (the default) for every
    /// event. A commit whose payload names none of them is not decoded, as with
    /// [`aggregate_types`](Self::aggregate_types); the events of a commit that is decoded all
    /// reach [`apply`](Self::apply), which still decides for itself.
    fn event_names(&self) -> Option<&'static [&'static str]> {
        None
    }

    /// Whether the projection reads events' `data`. One that reads only the envelopes (who,
    /// what, when) says `false`, and the runner then checks `data` is well-formed JSON without
    /// building it: events reach [`apply`](Self::apply) with `data` null.
    fn reads_data(&self) -> bool {
        true
    }

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

    /// Applies a batch of events, in stream order, inside the batch transaction. The default
    /// applies them one at a time; a read model that can write a whole batch in a few statements
    /// overrides it (one round trip per event is what limits a projection's speed). Either way an
    /// event that cannot be applied fails the whole batch, which is then not committed.
    fn apply_all<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            for event in events {
                self.apply(conn, event).await?;
            }
            Ok(())
        })
    }
}

/// The schema that holds a projection's live tables.
pub fn schema_of(name: &str) -> String {
    format!("rm_{name}")
}

/// Decodes (and upcasts) a stored event into a domain event; anything unreadable stops the
/// projection at that event.
pub(crate) fn decode<E: domain::DomainEvent>(
    projection: &'static str,
    stored: &StoredEvent,
) -> Result<E, ProjectionError> {
    let event = &stored.event;
    let bad = |reason: String| ProjectionError::BadEvent {
        projection,
        sequence: stored.sequence,
        reason: format!("event {} ({}): {reason}", event.id, event.event_type),
    };
    let (name, version) = event
        .name_and_version()
        .ok_or_else(|| bad("type is not io.pursight.<Name>.v<N>".into()))?;
    E::from_stored(name, version, &event.data).map_err(|err| bad(err.to_string()))
}

/// The aggregate id of a stored event, which must be a UUID.
pub(crate) fn aggregate_uuid(
    projection: &'static str,
    stored: &StoredEvent,
) -> Result<uuid::Uuid, ProjectionError> {
    uuid::Uuid::parse_str(&stored.event.aggregateid).map_err(|_| ProjectionError::BadEvent {
        projection,
        sequence: stored.sequence,
        reason: format!(
            "event {} has aggregate id {:?}, not a UUID",
            stored.event.id, stored.event.aggregateid
        ),
    })
}
