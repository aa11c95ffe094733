//! The `data_sources` read model: each source's current configuration (secrets redacted), its
//! lifecycle state and version. The lifecycle is not re-implemented here: the row's state is
//! folded with the domain's own `evolve`, so the read model can never disagree with the decider.

use crate::error::{DbContext, ProjectionError};
use crate::projection::Projection;
use domain::datasource::{DataSource, DataSourceEvent, DataSourceState, LifecycleState};
use domain::{Aggregate, AggregateId, DomainEvent};
use eventlog::StoredEvent;
use sqlx::PgConnection;

pub const NAME: &str = "data_sources";

/// The data-sources projection.
pub struct DataSources;

impl Projection for DataSources {
    fn name(&self) -> &'static str {
        NAME
    }

    fn ddl(&self) -> &'static str {
        include_str!("data_sources.sql")
    }

    fn aggregate_types(&self) -> Option<&'static [&'static str]> {
        Some(&[DataSource::NAME])
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        stored: &'a StoredEvent,
    ) -> futures::future::BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let event = &stored.event;
            if event.aggregatetype != DataSource::NAME {
                return Ok(());
            }
            let bad = |reason: String| ProjectionError::BadEvent {
                projection: NAME,
                sequence: stored.sequence,
                reason: format!("event {} ({}): {reason}", event.id, event.event_type),
            };
            let (name, version) = event
                .name_and_version()
                .ok_or_else(|| bad("type is not io.pursight.<Name>.v<N>".into()))?;
            let decoded = DataSourceEvent::from_stored(name, version, &event.data)
                .map_err(|err| bad(err.to_string()))?;
            let id = AggregateId::parse(&event.aggregateid).map_err(|err| bad(err.to_string()))?;

            let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT lifecycle_state, version FROM data_sources WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&event.tenant)
        .bind(id.as_uuid())
        .fetch_optional(&mut *conn)
        .await
        .in_projection(NAME)?;

            let state = match &row {
                Some((lifecycle, version)) => DataSourceState {
                    id: Some(id),
                    lifecycle: serde_json::from_value::<LifecycleState>(serde_json::Value::String(
                        lifecycle.clone(),
                    ))
                    .map_err(|err| bad(format!("stored lifecycle {lifecycle:?}: {err}")))?,
                    config: None,
                    running_scan: None,
                    rule_set_id: None,
                    version: *version as u64,
                    health: None,
                },
                None => DataSourceState::default(),
            };
            let next = DataSource::evolve(state, &decoded);
            let config = next.config.as_ref().map(|c| c.redacted());
            let lifecycle = next.lifecycle.as_str();

            match (&row, config) {
                (None, Some(config)) => {
                    let name = config["name"].as_str().unwrap_or_default().to_owned();
                    let kind = config["kind"].as_str().unwrap_or_default().to_owned();
                    sqlx::query(
                    "INSERT INTO data_sources (tenant_id, id, name, kind, lifecycle_state, config, version,
                         registered_at, registered_by, updated_at, updated_by, last_sequence)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $9, $10)",
                )
                .bind(&event.tenant)
                .bind(id.as_uuid())
                .bind(name)
                .bind(kind)
                .bind(lifecycle)
                .bind(config)
                .bind(event.aggregateversion as i64)
                .bind(event.time)
                .bind(&event.actor)
                .bind(stored.sequence as i64)
                .execute(&mut *conn)
                .await
                .in_projection(NAME)?;
                }
                (None, None) => {
                    return Err(bad(
                        "first event of a data source is not a registration".into()
                    ));
                }
                (Some(_), config) => {
                    let (name, kind) = config
                        .as_ref()
                        .map(|c| {
                            (
                                c["name"].as_str().map(str::to_owned),
                                c["kind"].as_str().map(str::to_owned),
                            )
                        })
                        .unwrap_or((None, None));
                    sqlx::query(
                    "UPDATE data_sources SET
                         lifecycle_state = $3,
                         config = COALESCE($4, config),
                         name = COALESCE($5, name),
                         kind = COALESCE($6, kind),
                         version = $7,
                         updated_at = $8,
                         updated_by = $9,
                         archived_at = CASE WHEN $3 = 'archived' THEN COALESCE(archived_at, $8) ELSE archived_at END,
                         last_sequence = $10
                     WHERE tenant_id = $1 AND id = $2",
                )
                .bind(&event.tenant)
                .bind(id.as_uuid())
                .bind(lifecycle)
                .bind(config)
                .bind(name)
                .bind(kind)
                .bind(event.aggregateversion as i64)
                .bind(event.time)
                .bind(&event.actor)
                .bind(stored.sequence as i64)
                .execute(&mut *conn)
                .await
                .in_projection(NAME)?;
                }
            }
            if let DataSourceEvent::ScanRuleSetAttached(attached) = &decoded {
                sqlx::query(
                    "UPDATE data_sources SET rule_set_id = $3 WHERE tenant_id = $1 AND id = $2",
                )
                .bind(&event.tenant)
                .bind(id.as_uuid())
                .bind(attached.rule_set_id.map(|r| r.as_uuid()))
                .execute(&mut *conn)
                .await
                .in_projection(NAME)?;
            }
            Ok(())
        })
    }
}

/// One row of the read model.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DataSourceRow {
    pub id: uuid::Uuid,
    pub name: String,
    pub kind: String,
    pub lifecycle_state: String,
    /// Configuration with secret references redacted.
    pub config: serde_json::Value,
    pub version: i64,
    pub registered_at: chrono::DateTime<chrono::Utc>,
    pub registered_by: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub updated_by: String,
    pub archived_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_sequence: i64,
}

const COLUMNS: &str =
    "id, name, kind, lifecycle_state, config, version, registered_at, registered_by,
    updated_at, updated_by, archived_at, last_sequence";

/// Filters for [`list`].
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub include_archived: bool,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    pub after: Option<uuid::Uuid>,
    pub limit: i64,
}

/// A tenant's sources in registration order (ids are UUIDv7, so id order is time order).
pub async fn list(
    pool: &sqlx::PgPool,
    tenant: &str,
    filter: &ListFilter,
) -> Result<Vec<DataSourceRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM rm_{NAME}.data_sources
         WHERE tenant_id = $1
           AND ($2 OR lifecycle_state <> 'archived')
           AND ($3::text IS NULL OR name ILIKE '%' || $3 || '%')
           AND ($4::uuid IS NULL OR id > $4)
         ORDER BY id LIMIT $5"
    ))
    .bind(tenant)
    .bind(filter.include_archived)
    .bind(filter.search.as_deref())
    .bind(filter.after)
    .bind(filter.limit)
    .fetch_all(pool)
    .await
}

/// One source of a tenant.
pub async fn get(
    pool: &sqlx::PgPool,
    tenant: &str,
    id: uuid::Uuid,
) -> Result<Option<DataSourceRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM rm_{NAME}.data_sources WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The sources (not archived) whose classification follows scan rule set `rule_set_id`.
pub async fn sources_with_rule_set(
    pool: &sqlx::PgPool,
    tenant: &str,
    rule_set_id: uuid::Uuid,
) -> Result<Vec<uuid::Uuid>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT id FROM rm_{NAME}.data_sources
         WHERE tenant_id = $1 AND rule_set_id = $2 AND lifecycle_state <> 'archived' ORDER BY id"
    ))
    .bind(tenant)
    .bind(rule_set_id)
    .fetch_all(pool)
    .await
}

/// Every source that is not archived, of every tenant, as `(tenant, id)`: what the periodic
/// health checks cover.
pub async fn active(pool: &sqlx::PgPool) -> Result<Vec<(String, uuid::Uuid)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT tenant_id, id FROM rm_{NAME}.data_sources
         WHERE lifecycle_state <> 'archived' ORDER BY tenant_id, id"
    ))
    .fetch_all(pool)
    .await
}

/// Every source whose lifecycle state is `state`, of every tenant, as `(tenant, id)`.
pub async fn in_state(
    pool: &sqlx::PgPool,
    state: &str,
) -> Result<Vec<(String, uuid::Uuid)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT tenant_id, id FROM rm_{NAME}.data_sources WHERE lifecycle_state = $1 ORDER BY tenant_id, id"
    ))
    .bind(state)
    .fetch_all(pool)
    .await
}
