//! The `audit_log` read model: one row per event — when, which tenant, who, what type, which
//! aggregate, from which command — for auditors' queries without replaying the stream.
//!
//! [`trail`] reads it together with the refused commands of [`crate::refusals`] (kept outside
//! this projection's schema, so a rebuild from the stream keeps them), newest first.

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

/// One audit-trail entry: an event (outcome `accepted`) or a refused command (see
/// [`crate::refusals`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrailRow {
    /// The event's id, or the refusal's.
    pub id: uuid::Uuid,
    pub tenant_id: String,
    /// Stream sequence of the event's commit; 0 for a refusal (nothing was appended).
    pub sequence: i64,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    /// The caller's roles, comma-separated (refusals only; empty for events).
    pub roles: String,
    /// CloudEvents type of an event; empty for a refusal.
    pub event_type: String,
    /// The event type, or the refused mutation's name.
    pub action: String,
    /// The aggregate (resource) type; empty when a refusal's is unknown.
    pub aggregate_type: String,
    /// The aggregate's id, or the id a refused command addressed (empty when none).
    pub target_id: String,
    /// The event's position in its aggregate's history; 0 for a refusal.
    pub aggregate_version: i64,
    pub command_id: String,
    pub correlation_id: String,
    /// `accepted` for an event; `forbidden`, `invalid`, `rejected`, `conflict` or `not_found`
    /// for a refusal.
    pub outcome: String,
    /// Why a command was refused; none for events.
    pub reason: Option<String>,
}

/// Keyset position in the trail's order (time, sequence, version, id).
pub type TrailCursor = (chrono::DateTime<chrono::Utc>, i64, i64, uuid::Uuid);

/// Filters for [`trail`]; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this tenant; `None` (exports only) reads every tenant.
    pub tenant: Option<String>,
    /// Only this aggregate (an event's aggregate id, a refusal's target id).
    pub aggregate_id: Option<String>,
    pub actor: Option<String>,
    /// Short name (`SourceRegistered`) or full CloudEvents type.
    pub event_type: Option<String>,
    /// An event type (short or full) or a refused mutation's name.
    pub action: Option<String>,
    /// The aggregate (resource) type, e.g. `data_source`.
    pub resource: Option<String>,
    /// `accepted` (events only) or one refusal outcome (refusals only).
    pub outcome: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Keyset cursor: entries strictly past this position in the chosen order.
    pub before: Option<TrailCursor>,
    /// Oldest first (exports) instead of newest first.
    pub oldest_first: bool,
    pub limit: i64,
    /// Only entries about assets in this scope, or about no asset
    /// ([`crate::visibility::scope_param`]); `None`: all.
    pub scope: Option<serde_json::Value>,
}

/// SQL: whether an entry about `kind` (an aggregate or resource type) `id` (text) of `tenant`
/// is about an asset — itself or through a violation — in the scope held by `$15`.
fn in_scope(scope: Option<&serde_json::Value>, tenant: &str, kind: &str, id: &str) -> String {
    crate::visibility::when_scoped(15, scope, || about_assets_in_scope(tenant, kind, id))
}

fn about_assets_in_scope(tenant: &str, kind: &str, id: &str) -> String {
    let asset = |alias: &str, asset_id: &str| {
        format!(
            "EXISTS (SELECT 1 FROM rm_catalog.assets {alias}
                     WHERE {alias}.tenant_id = {tenant} AND {alias}.id::text = {asset_id} AND {})",
            crate::visibility::asset_visible(alias, 15)
        )
    };
    format!(
        "(({kind} NOT IN ('asset', 'violation'))
          OR ({kind} = 'asset' AND {on_asset})
          OR ({kind} = 'violation' AND EXISTS (
                SELECT 1 FROM rm_compliance.violations vv
                WHERE vv.tenant_id = {tenant} AND vv.id::text = {id}
                  AND (vv.asset_id IS NULL OR {on_violation}))))",
        on_asset = asset("av", id),
        on_violation = asset("aw", "vv.asset_id::text"),
    )
}

/// Audit entries — events and refused commands — newest first (or oldest first).
pub async fn trail(
    pool: &sqlx::PgPool,
    filter: &AuditFilter,
) -> Result<Vec<TrailRow>, sqlx::Error> {
    let (at, seq, version, id) = match filter.before {
        Some((at, seq, version, id)) => (Some(at), Some(seq), Some(version), Some(id)),
        None => (None, None, None, None),
    };
    let (past, order) = if filter.oldest_first {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    // One filter set over both sources; `$8` (outcome) picks events (`accepted`), refusals
    // (their outcome) or both (null).
    sqlx::query_as(&format!(
        "SELECT * FROM (
            SELECT event_id AS id, tenant_id, sequence, occurred_at, actor, ''::text AS roles,
                   event_type, event_type AS action, aggregate_type,
                   aggregate_id::text AS target_id, aggregate_version, command_id,
                   correlation_id, 'accepted'::text AS outcome, NULL::text AS reason
            FROM rm_{NAME}.audit_log
            WHERE ($1::text IS NULL OR tenant_id = $1)
              AND ($2::text IS NULL OR aggregate_id::text = $2)
              AND ($3::text IS NULL OR actor = $3)
              AND ($4::text IS NULL OR event_type = $4 OR event_type LIKE 'io.pursight.' || $4 || '.v%')
              AND ($5::text IS NULL OR event_type = $5 OR event_type LIKE 'io.pursight.' || $5 || '.v%')
              AND ($6::text IS NULL OR aggregate_type = $6)
              AND ($7::timestamptz IS NULL OR occurred_at >= $7)
              AND ($8::timestamptz IS NULL OR occurred_at < $8)
              AND ($9::text IS NULL OR $9 = 'accepted')
              AND {events_in_scope}
            UNION ALL
            SELECT refusal_id, tenant_id, 0::int8, occurred_at, actor, roles, ''::text, action,
                   resource_type, target_id, 0::int8, command_id, command_id, outcome, reason
            FROM audit_refusals
            WHERE ($1::text IS NULL OR tenant_id = $1)
              AND ($2::text IS NULL OR target_id = $2)
              AND ($3::text IS NULL OR actor = $3)
              AND $4::text IS NULL
              AND ($5::text IS NULL OR action = $5)
              AND ($6::text IS NULL OR resource_type = $6)
              AND ($7::timestamptz IS NULL OR occurred_at >= $7)
              AND ($8::timestamptz IS NULL OR occurred_at < $8)
              AND ($9::text IS NULL OR outcome = $9)
              AND {refusals_in_scope}
         ) entries
         WHERE ($10::timestamptz IS NULL
                OR (occurred_at, sequence, aggregate_version, id) {past} ($10, $11, $12, $13))
         ORDER BY occurred_at {order}, sequence {order}, aggregate_version {order}, id {order}
         LIMIT $14",
        events_in_scope = in_scope(filter.scope.as_ref(), "audit_log.tenant_id", "audit_log.aggregate_type", "audit_log.aggregate_id::text"),
        refusals_in_scope = in_scope(filter.scope.as_ref(), "audit_refusals.tenant_id", "audit_refusals.resource_type", "audit_refusals.target_id"),
    ))
    .bind(filter.tenant.as_deref())
    .bind(filter.aggregate_id.as_deref())
    .bind(filter.actor.as_deref())
    .bind(filter.event_type.as_deref())
    .bind(filter.action.as_deref())
    .bind(filter.resource.as_deref())
    .bind(filter.since)
    .bind(filter.until)
    .bind(filter.outcome.as_deref())
    .bind(at)
    .bind(seq)
    .bind(version)
    .bind(id)
    .bind(filter.limit)
    .bind(filter.scope.as_ref())
    .fetch_all(pool)
    .await
}
