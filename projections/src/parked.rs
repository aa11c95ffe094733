//! Parked events: what a projection could not apply, set aside so that it goes on.
//!
//! The runner parks an event (a row in `public.projection_parked`) in the same transaction that
//! moves the projection's checkpoint past it, so every event is applied, parked or still ahead,
//! never lost and never both. The stream is immutable: the row keeps only where the event is
//! (sequence and position in its commit) and what it was (tenant, aggregate, type, error);
//! [`retry`] reads it again from the stream and applies it once whatever stopped it is fixed.
//!
//! **A retried event is applied out of order.** Later events of its aggregate (and of others)
//! have been applied meanwhile, and the read models apply an event on top of the rows as they
//! are, as if it were the latest; none of them compares versions. So a retried event that
//! *adds* something (a registration, an audit entry, a schema-history or health-history row, a
//! lineage edge, a label) lands where it belongs, while one that *sets* fields an event after
//! it set again (a configuration patch, a lifecycle move) leaves those fields, and the row's
//! `version` and `last_sequence`, as the older event says. `retry` is therefore exact when the
//! parked event's aggregate has no later events (`pursight projections parked` shows the
//! aggregate; `history(aggregateId)` its events); otherwise `pursight rebuild NAME` after the fix
//! re-projects the whole stream in order and is the exact repair (a rebuild also parks afresh
//! whatever still fails).

use crate::checkpoint;
use crate::error::{DbContext, ProjectionError};
use crate::projection::{schema_of, Projection};
use crate::{access, audit_log, catalog, compliance, data_sources, health, lineage};
use chrono::{DateTime, Utc};
use eventlog::{CloudEvent, EventStore, StoredEvent};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// One parked event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ParkedEvent {
    pub projection: String,
    pub sequence: i64,
    /// Position in its commit; 0 with no `event_id` when the commit could not be decoded.
    pub event_index: i32,
    pub event_id: Option<Uuid>,
    pub tenant_id: String,
    pub aggregate_type: Option<String>,
    pub aggregate_id: Option<String>,
    pub event_type: Option<String>,
    pub error: String,
    /// How often it was tried: 1 when parked, one more per failed retry.
    pub attempts: i32,
    pub parked_at: DateTime<Utc>,
    pub retried_at: Option<DateTime<Utc>>,
}

/// Where a parked event came from: a decoded event, or a commit that could not be decoded.
pub(crate) enum Origin<'a> {
    Event {
        index: usize,
        event: &'a CloudEvent,
    },
    /// The tenant, aggregate type and id read from the commit's subject (when it has that form).
    Commit {
        tenant: &'a str,
        aggregate_type: Option<&'a str>,
        aggregate_id: Option<&'a str>,
    },
}

/// Parks one event of projection `projection` (the name its checkpoint has) inside the caller's
/// transaction. Every text is stored with its control characters escaped: the error can quote
/// the event, and a NUL is what PostgreSQL refused in the first place.
pub(crate) async fn park(
    conn: &mut PgConnection,
    projection: &str,
    sequence: u64,
    origin: Origin<'_>,
    error: &str,
) -> Result<(), sqlx::Error> {
    let clean = |text: &str| domain::text::escape_controls(text).into_owned();
    let (index, event_id, tenant, aggregate_type, aggregate_id, event_type) = match origin {
        Origin::Event { index, event } => (
            index as i32,
            Some(event.id),
            clean(&event.tenant),
            Some(clean(&event.aggregatetype)),
            Some(clean(&event.aggregateid)),
            Some(clean(&event.event_type)),
        ),
        Origin::Commit {
            tenant,
            aggregate_type,
            aggregate_id,
        } => (
            0,
            None,
            clean(tenant),
            aggregate_type.map(clean),
            aggregate_id.map(clean),
            None,
        ),
    };
    sqlx::query(
        "INSERT INTO public.projection_parked
             (projection, sequence, event_index, event_id, tenant_id, aggregate_type, aggregate_id,
              event_type, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (projection, sequence, event_index) DO UPDATE
         SET error = EXCLUDED.error, attempts = projection_parked.attempts + 1, retried_at = now()",
    )
    .bind(projection)
    .bind(sequence as i64)
    .bind(index)
    .bind(event_id)
    .bind(tenant)
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(event_type)
    .bind(clean(error))
    .execute(conn)
    .await?;
    Ok(())
}

/// Parks a trigger that a process manager (not a projection) could not handle, under its name
/// `process` (e.g. `compliance_pm`), in a statement of its own: `pursight projections parked`
/// and `/metrics` show it beside the projections' parked events. `event` is the commit's first
/// event, or `None` when the commit could not be decoded (then `tenant`, `aggregate_type` and
/// `aggregate_id` come from its subject). Parking the same trigger again counts an attempt.
#[allow(clippy::too_many_arguments)]
pub async fn park_trigger(
    pool: &PgPool,
    process: &str,
    sequence: u64,
    event: Option<&CloudEvent>,
    tenant: &str,
    aggregate_type: Option<&str>,
    aggregate_id: Option<&str>,
    error: &str,
) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let origin = match event {
        Some(event) => Origin::Event { index: 0, event },
        None => Origin::Commit {
            tenant,
            aggregate_type,
            aggregate_id,
        },
    };
    park(&mut conn, process, sequence, origin, error).await
}

/// Parked events, oldest first: of one projection or all, of one tenant or all.
pub async fn list(
    pool: &PgPool,
    projection: Option<&str>,
    tenant: Option<&str>,
) -> Result<Vec<ParkedEvent>, sqlx::Error> {
    list_at_most(pool, projection, tenant, i64::MAX).await
}

/// [`list`], at most `limit` rows (for answers that must stay small).
pub async fn list_at_most(
    pool: &PgPool,
    projection: Option<&str>,
    tenant: Option<&str>,
    limit: i64,
) -> Result<Vec<ParkedEvent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT projection, sequence, event_index, event_id, tenant_id, aggregate_type,
                aggregate_id, event_type, error, attempts, parked_at, retried_at
         FROM public.projection_parked
         WHERE ($1::text IS NULL OR projection = $1) AND ($2::text IS NULL OR tenant_id = $2)
         ORDER BY projection, sequence, event_index
         LIMIT $3",
    )
    .bind(projection)
    .bind(tenant)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// How many events each projection has parked (of one tenant, or all); projections with none
/// are absent.
pub async fn counts(
    pool: &PgPool,
    tenant: Option<&str>,
) -> Result<Vec<(String, u64)>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT projection, count(*) FROM public.projection_parked
         WHERE $1::text IS NULL OR tenant_id = $1
         GROUP BY projection ORDER BY projection",
    )
    .bind(tenant)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(n, c)| (n, c as u64)).collect())
}

/// What a retry did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryReport {
    /// Parked events applied now (their rows removed).
    pub applied: Vec<ParkedEvent>,
    /// Parked events that failed again, with the new error.
    pub failed: Vec<ParkedEvent>,
}

/// Retries the parked events of the projection called `name` (all, or the one commit at
/// `sequence`).
pub async fn retry_by_name(
    name: &str,
    store: &EventStore,
    pool: &PgPool,
    sequence: Option<u64>,
) -> Result<RetryReport, ProjectionError> {
    match name {
        data_sources::NAME => retry(&data_sources::DataSources, store, pool, sequence).await,
        audit_log::NAME => retry(&audit_log::AuditLog, store, pool, sequence).await,
        catalog::NAME => retry(&catalog::Catalog, store, pool, sequence).await,
        lineage::NAME => retry(&lineage::Lineage, store, pool, sequence).await,
        health::NAME => retry(&health::Health, store, pool, sequence).await,
        compliance::NAME => retry(&compliance::Compliance, store, pool, sequence).await,
        access::NAME => retry(&access::Access, store, pool, sequence).await,
        other => Err(ProjectionError::Unknown(other.to_owned())),
    }
}

/// Reads each parked event of `projection` again from the stream and applies it, in stream
/// order, each in a transaction of its own under the projection's lock (so it never interleaves
/// with a live batch): on success its row goes, on failure the row stays with the new error.
/// Failures of the database itself (connection, outage) end the retry with an error and keep
/// the rows as they were.
pub async fn retry<P: Projection>(
    projection: &P,
    store: &EventStore,
    pool: &PgPool,
    sequence: Option<u64>,
) -> Result<RetryReport, ProjectionError> {
    let name = projection.name();
    let schema = schema_of(name);
    let mut report = RetryReport::default();
    let parked = list(pool, Some(name), None).await.in_projection(name)?;
    for row in parked
        .into_iter()
        .filter(|row| sequence.is_none_or(|s| row.sequence as u64 == s))
    {
        let mut stored = store.commit_at(row.sequence as u64).await;
        if let Ok(commit) = &mut stored {
            crate::runner::open_sealed(store, std::slice::from_mut(commit)).await?;
        }
        let mut tx = pool.begin().await.in_projection(name)?;
        checkpoint::begin_batch(&mut tx, name, &schema, name)
            .await
            .in_projection(name)?;
        let outcome = match stored {
            Err(err) => Err(ProjectionError::BadEvent {
                projection: name,
                sequence: row.sequence as u64,
                reason: err.to_string(),
            }),
            Ok(commit) => {
                let events: Vec<StoredEvent> = commit.into_stored_events().collect();
                // A commit parked whole (undecodable then) is applied whole; an event alone.
                let chosen = match row.event_id {
                    None => Ok(events),
                    Some(id) => match events.into_iter().nth(row.event_index as usize) {
                        Some(event) if event.event.id == id => Ok(vec![event]),
                        _ => Err(ProjectionError::BadEvent {
                            projection: name,
                            sequence: row.sequence as u64,
                            reason: format!("event {id} is not in its commit any more"),
                        }),
                    },
                };
                match chosen {
                    Ok(events) => apply_in_savepoint(&mut tx, projection, &events).await,
                    Err(err) => Err(err),
                }
            }
        };
        match outcome {
            Ok(()) => {
                sqlx::query(
                    "DELETE FROM public.projection_parked
                     WHERE projection = $1 AND sequence = $2 AND event_index = $3",
                )
                .bind(name)
                .bind(row.sequence)
                .bind(row.event_index)
                .execute(&mut *tx)
                .await
                .in_projection(name)?;
                tx.commit().await.in_projection(name)?;
                report.applied.push(row);
            }
            Err(err) if !crate::runner::caused_by_event(&err) => return Err(err),
            Err(err) => {
                let error =
                    domain::text::escape_controls(&crate::runner::describe(&err)).into_owned();
                let updated: ParkedEvent = sqlx::query_as(
                    "UPDATE public.projection_parked
                     SET error = $4, attempts = attempts + 1, retried_at = now()
                     WHERE projection = $1 AND sequence = $2 AND event_index = $3
                     RETURNING projection, sequence, event_index, event_id, tenant_id,
                               aggregate_type, aggregate_id, event_type, error, attempts,
                               parked_at, retried_at",
                )
                .bind(name)
                .bind(row.sequence)
                .bind(row.event_index)
                .bind(error)
                .fetch_one(&mut *tx)
                .await
                .in_projection(name)?;
                tx.commit().await.in_projection(name)?;
                report.failed.push(updated);
            }
        }
    }
    Ok(report)
}

/// Applies `events` inside a savepoint of the caller's transaction: on failure their writes are
/// undone and the transaction stays usable (for parking them).
pub(crate) async fn apply_in_savepoint<P: Projection>(
    tx: &mut PgConnection,
    projection: &P,
    events: &[StoredEvent],
) -> Result<(), ProjectionError> {
    let name = projection.name();
    let mut savepoint = sqlx::Connection::begin(&mut *tx)
        .await
        .in_projection(name)?;
    match projection.apply_all(&mut savepoint, events).await {
        Ok(()) => savepoint.commit().await.in_projection(name),
        Err(err) => {
            savepoint.rollback().await.in_projection(name)?;
            Err(err)
        }
    }
}
