//! The `health` read model: each data source's latest recorded health (`source_health`) and
//! every recorded assessment (`health_history`, for the trend), from the `HealthAssessed`
//! events. A check that found nothing new recorded no event, so `assessed_at` is when the
//! health last changed, not when it was last checked.

use crate::error::{DbContext, ProjectionError};
use crate::projection::{aggregate_uuid, decode, Projection};
use domain::datasource::{DataSource, DataSourceEvent, HealthAssessment};
use domain::Aggregate;
use eventlog::StoredEvent;
use futures::future::BoxFuture;
use sqlx::PgConnection;

pub const NAME: &str = "health";

/// The health projection.
pub struct Health;

impl Projection for Health {
    fn name(&self) -> &'static str {
        NAME
    }

    fn ddl(&self) -> &'static str {
        include_str!("health.sql")
    }

    fn aggregate_types(&self) -> Option<&'static [&'static str]> {
        Some(&[DataSource::NAME])
    }

    fn event_names(&self) -> Option<&'static [&'static str]> {
        Some(&["HealthAssessed"])
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        stored: &'a StoredEvent,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let event = &stored.event;
            // Only one event type matters here: skip the others without decoding them.
            let is_health = event
                .name_and_version()
                .is_some_and(|(name, _)| name == "HealthAssessed");
            if event.aggregatetype != DataSource::NAME || !is_health {
                return Ok(());
            }
            let DataSourceEvent::HealthAssessed(assessed) = decode(NAME, stored)? else {
                return Ok(());
            };
            let source = aggregate_uuid(NAME, stored)?;
            for table in ["health_history", "source_health"] {
                write(conn, stored, table, source, &assessed.assessment).await?;
            }
            Ok(())
        })
    }
}

/// Inserts the assessment into `table`: a new history row (a redelivered event changes
/// nothing), or the source's latest row (replaced).
async fn write(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    table: &str,
    source: uuid::Uuid,
    assessment: &HealthAssessment,
) -> Result<(), ProjectionError> {
    let on_conflict = if table == "source_health" {
        "ON CONFLICT (tenant_id, source_id) DO UPDATE SET
             status = EXCLUDED.status, samples = EXCLUDED.samples, failures = EXCLUDED.failures,
             latency_p50_us = EXCLUDED.latency_p50_us, latency_p95_us = EXCLUDED.latency_p95_us,
             active_connections = EXCLUDED.active_connections,
             max_connections = EXCLUDED.max_connections, storage_bytes = EXCLUDED.storage_bytes,
             server_uptime_secs = EXCLUDED.server_uptime_secs,
             server_version = EXCLUDED.server_version, last_error = EXCLUDED.last_error,
             recommendations = EXCLUDED.recommendations, assessed_at = EXCLUDED.assessed_at,
             version = EXCLUDED.version, sequence = EXCLUDED.sequence"
    } else {
        "ON CONFLICT (tenant_id, source_id, version) DO NOTHING"
    };
    let big = |n: Option<u64>| n.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let json = |value: serde_json::Result<serde_json::Value>| {
        value.map_err(|err| ProjectionError::BadEvent {
            projection: NAME,
            sequence: stored.sequence,
            reason: format!("event {}: {err}", stored.event.id),
        })
    };
    let last_error = assessment
        .last_error
        .as_ref()
        .map(|e| json(serde_json::to_value(e)))
        .transpose()?;
    let recommendations = json(serde_json::to_value(&assessment.recommendations))?;
    sqlx::query(&format!(
        "INSERT INTO {table} (tenant_id, source_id, status, samples, failures, latency_p50_us,
             latency_p95_us, active_connections, max_connections, storage_bytes,
             server_uptime_secs, server_version, last_error, recommendations, assessed_at,
             version, sequence)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
         {on_conflict}"
    ))
    .bind(&stored.event.tenant)
    .bind(source)
    .bind(assessment.status.as_str())
    .bind(i32::try_from(assessment.samples).unwrap_or(i32::MAX))
    .bind(i32::try_from(assessment.failures).unwrap_or(i32::MAX))
    .bind(big(assessment.latency_p50_us))
    .bind(big(assessment.latency_p95_us))
    .bind(big(assessment.active_connections))
    .bind(big(assessment.max_connections))
    .bind(big(assessment.storage_bytes))
    .bind(big(assessment.server_uptime_secs))
    .bind(assessment.server_version.as_deref())
    .bind(last_error)
    .bind(recommendations)
    .bind(stored.event.time)
    .bind(stored.event.aggregateversion as i64)
    .bind(stored.sequence as i64)
    .execute(&mut *conn)
    .await
    .in_projection(NAME)?;
    Ok(())
}

/// One recorded assessment.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HealthRow {
    pub source_id: uuid::Uuid,
    /// healthy, degraded or unhealthy.
    pub status: String,
    pub samples: i32,
    pub failures: i32,
    pub latency_p50_us: Option<i64>,
    pub latency_p95_us: Option<i64>,
    pub active_connections: Option<i64>,
    pub max_connections: Option<i64>,
    pub storage_bytes: Option<i64>,
    pub server_uptime_secs: Option<i64>,
    pub server_version: Option<String>,
    pub last_error: Option<serde_json::Value>,
    pub recommendations: serde_json::Value,
    pub assessed_at: chrono::DateTime<chrono::Utc>,
    pub version: i64,
    pub sequence: i64,
}

const COLUMNS: &str = "source_id, status, samples, failures, latency_p50_us, latency_p95_us,
    active_connections, max_connections, storage_bytes, server_uptime_secs, server_version,
    last_error, recommendations, assessed_at, version, sequence";

/// The latest recorded health of a tenant's source; `None` before its first check.
pub async fn latest(
    pool: &sqlx::PgPool,
    tenant: &str,
    source: uuid::Uuid,
) -> Result<Option<HealthRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM rm_{NAME}.source_health WHERE tenant_id = $1 AND source_id = $2"
    ))
    .bind(tenant)
    .bind(source)
    .fetch_optional(pool)
    .await
}

/// The last `last` recorded assessments of a tenant's source, oldest first.
pub async fn history(
    pool: &sqlx::PgPool,
    tenant: &str,
    source: uuid::Uuid,
    last: i64,
) -> Result<Vec<HealthRow>, sqlx::Error> {
    let mut rows: Vec<HealthRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM rm_{NAME}.health_history
         WHERE tenant_id = $1 AND source_id = $2
         ORDER BY version DESC LIMIT $3"
    ))
    .bind(tenant)
    .bind(source)
    .bind(last)
    .fetch_all(pool)
    .await?;
    rows.reverse();
    Ok(rows)
}
