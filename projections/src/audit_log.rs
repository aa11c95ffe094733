//! The `audit_log` read model: one row per event — when, which tenant, who, what type, which
//! aggregate, from which command — for auditors' queries without replaying the stream.

use crate::error::{DbContext, ProjectionError};
use crate::projection::{aggregate_uuid, Projection};
use eventlog::StoredEvent;
use sqlx::PgConnection;

pub const NAME: &str = "audit_log";

/// The audit-log projection.
pub struct AuditLog;

impl Projection for AuditLog {
    fn name(&self) -> &'static str {
        NAME
    }

    fn ddl(&self) -> &'static str {
        include_str!("audit_log.sql")
    }

    /// Who, what, when: the envelope says it all.
    fn reads_data(&self) -> bool {
        false
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        stored: &'a StoredEvent,
    ) -> futures::future::BoxFuture<'a, Result<(), ProjectionError>> {
        self.apply_all(conn, std::slice::from_ref(stored))
    }

    /// One statement for the whole batch: the rows travel as arrays and `UNNEST` turns them
    /// back into rows, so a batch costs one round trip instead of one per event.
    fn apply_all<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        events: &'a [StoredEvent],
    ) -> futures::future::BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let mut rows = AuditColumns::with_capacity(events.len());
            for stored in events {
                rows.push(stored, aggregate_uuid(NAME, stored)?);
            }
            // ON CONFLICT keeps a re-applied event (a rebuild racing the swap) from failing; the
            // checkpoint already guarantees each event is applied once.
            sqlx::query(
                "INSERT INTO audit_log (event_id, tenant_id, sequence, occurred_at, actor, event_type,
                     aggregate_type, aggregate_id, aggregate_version, command_id, correlation_id,
                     causation_id)
                 SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int8[], $4::timestamptz[],
                     $5::text[], $6::text[], $7::text[], $8::uuid[], $9::int8[], $10::text[],
                     $11::text[], $12::text[])
                 ON CONFLICT (event_id) DO NOTHING",
            )
            .bind(rows.event_id)
            .bind(rows.tenant_id)
            .bind(rows.sequence)
            .bind(rows.occurred_at)
            .bind(rows.actor)
            .bind(rows.event_type)
            .bind(rows.aggregate_type)
            .bind(rows.aggregate_id)
            .bind(rows.aggregate_version)
            .bind(rows.command_id)
            .bind(rows.correlation_id)
            .bind(rows.causation_id)
            .execute(conn)
            .await
            .in_projection(NAME)?;
            Ok(())
        })
    }
}

/// A batch of audit rows, column by column, as `UNNEST` wants them.
struct AuditColumns<'e> {
    event_id: Vec<uuid::Uuid>,
    tenant_id: Vec<&'e str>,
    sequence: Vec<i64>,
    occurred_at: Vec<chrono::DateTime<chrono::Utc>>,
    actor: Vec<&'e str>,
    event_type: Vec<&'e str>,
    aggregate_type: Vec<&'e str>,
    aggregate_id: Vec<uuid::Uuid>,
    aggregate_version: Vec<i64>,
    command_id: Vec<&'e str>,
    correlation_id: Vec<&'e str>,
    causation_id: Vec<&'e str>,
}

impl<'e> AuditColumns<'e> {
    fn with_capacity(n: usize) -> Self {
        Self {
            event_id: Vec::with_capacity(n),
            tenant_id: Vec::with_capacity(n),
            sequence: Vec::with_capacity(n),
            occurred_at: Vec::with_capacity(n),
            actor: Vec::with_capacity(n),
            event_type: Vec::with_capacity(n),
            aggregate_type: Vec::with_capacity(n),
            aggregate_id: Vec::with_capacity(n),
            aggregate_version: Vec::with_capacity(n),
            command_id: Vec::with_capacity(n),
            correlation_id: Vec::with_capacity(n),
            causation_id: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, stored: &'e StoredEvent, aggregate_id: uuid::Uuid) {
        let event = &stored.event;
        self.event_id.push(event.id);
        self.tenant_id.push(&event.tenant);
        self.sequence.push(stored.sequence as i64);
        self.occurred_at.push(event.time);
        self.actor.push(&event.actor);
        self.event_type.push(&event.event_type);
        self.aggregate_type.push(&event.aggregatetype);
        self.aggregate_id.push(aggregate_id);
        self.aggregate_version.push(event.aggregateversion as i64);
        self.command_id.push(&event.commandid);
        self.correlation_id.push(&event.correlationid);
        self.causation_id.push(&event.causationid);
    }
}

/// One audit entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub event_id: uuid::Uuid,
    pub sequence: i64,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub event_type: String,
    pub aggregate_type: String,
    pub aggregate_id: uuid::Uuid,
    pub aggregate_version: i64,
    pub command_id: String,
    pub correlation_id: String,
}

/// Filters for [`page`]; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub aggregate_id: Option<uuid::Uuid>,
    pub actor: Option<String>,
    /// Short name (`SourceRegistered`) or full CloudEvents type.
    pub event_type: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Keyset cursor: entries strictly older than (sequence, aggregate_version).
    pub before: Option<(i64, i64)>,
    pub limit: i64,
}

/// A tenant's audit entries, newest first.
pub async fn page(
    pool: &sqlx::PgPool,
    tenant: &str,
    filter: &AuditFilter,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let (before_seq, before_version) = filter.before.unzip();
    sqlx::query_as(&format!(
        "SELECT event_id, sequence, occurred_at, actor, event_type, aggregate_type, aggregate_id,
                aggregate_version, command_id, correlation_id
         FROM rm_{NAME}.audit_log
         WHERE tenant_id = $1
           AND ($2::uuid IS NULL OR aggregate_id = $2)
           AND ($3::text IS NULL OR actor = $3)
           AND ($4::text IS NULL OR event_type = $4 OR event_type LIKE 'io.pursight.' || $4 || '.v%')
           AND ($5::timestamptz IS NULL OR occurred_at >= $5)
           AND ($6::timestamptz IS NULL OR occurred_at < $6)
           AND ($7::bigint IS NULL OR (sequence, aggregate_version) < ($7, $8))
         ORDER BY sequence DESC, aggregate_version DESC
         LIMIT $9"
    ))
    .bind(tenant)
    .bind(filter.aggregate_id)
    .bind(filter.actor.as_deref())
    .bind(filter.event_type.as_deref())
    .bind(filter.since)
    .bind(filter.until)
    .bind(before_seq)
    .bind(before_version)
    .bind(filter.limit)
    .fetch_all(pool)
    .await
}
