//! The `audit_log` read model: one row per event — when, which tenant, who, what type, which
//! aggregate, from which command — for auditors' queries without replaying the stream.

use crate::error::{DbContext, ProjectionError};
use crate::projection::Projection;
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

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        stored: &'a StoredEvent,
    ) -> futures::future::BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let event = &stored.event;
            let aggregate_id = uuid::Uuid::parse_str(&event.aggregateid).map_err(|_| {
                ProjectionError::BadEvent {
                    projection: NAME,
                    sequence: stored.sequence,
                    reason: format!(
                        "event {} has aggregate id {:?}, not a UUID",
                        event.id, event.aggregateid
                    ),
                }
            })?;
            // ON CONFLICT keeps a re-applied event (a rebuild racing the swap) from failing; the
            // checkpoint already guarantees each event is applied once.
            sqlx::query(
            "INSERT INTO audit_log (event_id, tenant_id, sequence, occurred_at, actor, event_type,
                 aggregate_type, aggregate_id, aggregate_version, command_id, correlation_id, causation_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event.id)
        .bind(&event.tenant)
        .bind(stored.sequence as i64)
        .bind(event.time)
        .bind(&event.actor)
        .bind(&event.event_type)
        .bind(&event.aggregatetype)
        .bind(aggregate_id)
        .bind(event.aggregateversion as i64)
        .bind(&event.commandid)
        .bind(&event.correlationid)
        .bind(&event.causationid)
        .execute(conn)
        .await
        .in_projection(NAME)?;
            Ok(())
        })
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
