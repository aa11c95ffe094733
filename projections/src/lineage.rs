//! The `lineage` read model: asset → asset edges (table and column level) from foreign keys and
//! view definitions, the edges OpenLineage runs reported (the `LineageJob` aggregate, with their
//! job and first/last seen; an end matched to no asset is an external dataset), and the walk up-
//! or downstream from any asset; and each job's runs with their state, and whether the job
//! is failing or overdue ([`jobs`], [`runs`], [`JobHealth`]).

use crate::error::{DbContext, ProjectionError};
use crate::projection::{aggregate_uuid, decode, Projection};
use domain::asset::{Asset, AssetEvent};
use domain::discovery::{AssetId, LineageEdge};
use domain::lineage_job::{LineageJob, LineageJobEvent, ObservedEdge, RunEventType, RunObserved};
use domain::{Aggregate, AggregateId};
use eventlog::StoredEvent;
use futures::future::BoxFuture;
use sqlx::PgConnection;
use std::collections::HashSet;

pub const NAME: &str = "lineage";

/// The lineage projection.
pub struct Lineage;

impl Projection for Lineage {
    fn name(&self) -> &'static str {
        NAME
    }

    fn ddl(&self) -> &'static str {
        include_str!("lineage.sql")
    }

    fn aggregate_types(&self) -> Option<&'static [&'static str]> {
        Some(&[Asset::NAME, LineageJob::NAME])
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        stored: &'a StoredEvent,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            if stored.event.aggregatetype == LineageJob::NAME {
                let job = aggregate_uuid(NAME, stored)?;
                let LineageJobEvent::RunObserved(run) = decode::<LineageJobEvent>(NAME, stored)?;
                return apply_run(conn, &stored.event.tenant, job, &run).await;
            }
            if stored.event.aggregatetype != Asset::NAME {
                return Ok(());
            }
            let tenant = &stored.event.tenant;
            let owner = aggregate_uuid(NAME, stored)?;
            match decode::<AssetEvent>(NAME, stored)? {
                AssetEvent::SchemaDiscovered(d) => {
                    sqlx::query(
                        "INSERT INTO asset_paths (tenant_id, asset_id, source_id, path) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (tenant_id, asset_id) DO NOTHING",
                    )
                    .bind(tenant)
                    .bind(owner)
                    .bind(d.source_id.as_uuid())
                    .bind(d.schema.path.to_string())
                    .execute(&mut *conn)
                    .await
                    .in_projection(NAME)?;
                }
                AssetEvent::LineageRecorded(recorded) => {
                    let source = source_of(conn, stored, tenant, owner).await?;
                    for edge in &recorded.edges {
                        insert_edge(conn, stored, owner, source, edge).await?;
                    }
                }
                AssetEvent::LineageRetracted(retracted) => {
                    for edge in &retracted.edges {
                        sqlx::query("DELETE FROM edges WHERE tenant_id = $1 AND owner_asset = $2 AND edge_key = $3")
                            .bind(tenant)
                            .bind(owner)
                            .bind(edge_key(edge))
                            .execute(&mut *conn)
                            .await
                            .in_projection(NAME)?;
                    }
                }
                _ => {}
            }
            Ok(())
        })
    }
}

/// Records a run: the job's latest event, and each reported edge (first seen kept, last seen and
/// the matched ends moved forward; events may arrive out of order, so "later" is by eventTime).
async fn apply_run(
    conn: &mut PgConnection,
    tenant: &str,
    job: uuid::Uuid,
    run: &RunObserved,
) -> Result<(), ProjectionError> {
    // Staleness is judged against the latest COMPLETE run that reported lineage: a START carries
    // no column lineage, and a run that started (or failed) has not shown what it finally wrote.
    let reports_edges = !run.edges.is_empty() && run.event_type == RunEventType::Complete;
    sqlx::query(
        "INSERT INTO jobs (tenant_id, job_id, namespace, name, last_run_id, last_event_type,
             last_event_time, edges_run_id, edges_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN $5 END, CASE WHEN $8 THEN $7 END)
         ON CONFLICT (tenant_id, job_id) DO UPDATE SET
             last_run_id = CASE WHEN EXCLUDED.last_event_time >= jobs.last_event_time
                                THEN EXCLUDED.last_run_id ELSE jobs.last_run_id END,
             last_event_type = CASE WHEN EXCLUDED.last_event_time >= jobs.last_event_time
                                    THEN EXCLUDED.last_event_type ELSE jobs.last_event_type END,
             last_event_time = GREATEST(jobs.last_event_time, EXCLUDED.last_event_time),
             edges_run_id = CASE WHEN $8 AND (jobs.edges_at IS NULL OR EXCLUDED.last_event_time >= jobs.edges_at)
                                 THEN EXCLUDED.last_run_id ELSE jobs.edges_run_id END,
             edges_at = CASE WHEN $8 THEN GREATEST(jobs.edges_at, EXCLUDED.last_event_time)
                             ELSE jobs.edges_at END",
    )
    .bind(tenant)
    .bind(job)
    .bind(&run.job_namespace)
    .bind(&run.job_name)
    .bind(run.run_id)
    .bind(run.event_type.as_str())
    .bind(run.event_time)
    .bind(reports_edges)
    .execute(&mut *conn)
    .await
    .in_projection(NAME)?;
    // The run's state: once it ended (COMPLETE, FAIL, ABORT) that stays — the aggregate refuses
    // a contradicting end, and a late START changes nothing; before, the latest event's type.
    sqlx::query(
        "INSERT INTO runs (tenant_id, job_id, run_id, state, state_at, started_at, ended_at, error_message)
         VALUES ($1, $2, $3, $4, $5, $5, CASE WHEN $6 THEN $5 END, $7)
         ON CONFLICT (tenant_id, job_id, run_id) DO UPDATE SET
             state = CASE WHEN runs.ended_at IS NULL AND ($6 OR EXCLUDED.state_at >= runs.state_at)
                          THEN EXCLUDED.state ELSE runs.state END,
             state_at = CASE WHEN runs.ended_at IS NULL AND ($6 OR EXCLUDED.state_at >= runs.state_at)
                             THEN EXCLUDED.state_at ELSE runs.state_at END,
             started_at = LEAST(runs.started_at, EXCLUDED.started_at),
             ended_at = COALESCE(runs.ended_at, EXCLUDED.ended_at),
             error_message = COALESCE(EXCLUDED.error_message, runs.error_message)",
    )
    .bind(tenant)
    .bind(job)
    .bind(run.run_id)
    .bind(run.event_type.as_str())
    .bind(run.event_time)
    .bind(run.event_type.is_terminal())
    .bind(run.error_message.as_deref())
    .execute(&mut *conn)
    .await
    .in_projection(NAME)?;
    for edge in &run.edges {
        sqlx::query(
            "INSERT INTO run_edges (tenant_id, job_id, edge_key, from_asset, from_path, from_columns,
                 from_external, to_asset, to_path, to_columns, to_external, first_seen, last_seen,
                 last_run_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)
             ON CONFLICT (tenant_id, job_id, edge_key) DO UPDATE SET
                 first_seen = LEAST(run_edges.first_seen, EXCLUDED.first_seen),
                 last_seen = GREATEST(run_edges.last_seen, EXCLUDED.last_seen),
                 last_run_id = CASE WHEN EXCLUDED.last_seen >= run_edges.last_seen
                                    THEN EXCLUDED.last_run_id ELSE run_edges.last_run_id END,
                 from_asset = CASE WHEN EXCLUDED.last_seen >= run_edges.last_seen
                                   THEN EXCLUDED.from_asset ELSE run_edges.from_asset END,
                 from_path = CASE WHEN EXCLUDED.last_seen >= run_edges.last_seen
                                  THEN EXCLUDED.from_path ELSE run_edges.from_path END,
                 from_external = CASE WHEN EXCLUDED.last_seen >= run_edges.last_seen
                                      THEN EXCLUDED.from_external ELSE run_edges.from_external END,
                 to_asset = CASE WHEN EXCLUDED.last_seen >= run_edges.last_seen
                                 THEN EXCLUDED.to_asset ELSE run_edges.to_asset END,
                 to_path = CASE WHEN EXCLUDED.last_seen >= run_edges.last_seen
                                THEN EXCLUDED.to_path ELSE run_edges.to_path END,
                 to_external = CASE WHEN EXCLUDED.last_seen >= run_edges.last_seen
                                    THEN EXCLUDED.to_external ELSE run_edges.to_external END",
        )
        .bind(tenant)
        .bind(job)
        .bind(run_edge_key(edge))
        .bind(edge.from.node_id())
        .bind(edge.from.display_path())
        .bind(serde_json::to_value(&edge.from_columns).unwrap_or_default())
        .bind(edge.from.asset_id.is_none())
        .bind(edge.to.node_id())
        .bind(edge.to.display_path())
        .bind(serde_json::to_value(&edge.to_columns).unwrap_or_default())
        .bind(edge.to.asset_id.is_none())
        .bind(run.event_time)
        .bind(run.run_id)
        .execute(&mut *conn)
        .await
        .in_projection(NAME)?;
    }
    Ok(())
}

/// An OpenLineage edge is the same edge whatever its ends were matched to: keyed by the
/// datasets' OpenLineage names and the columns, so a dataset discovered later moves the edge
/// onto its asset instead of adding a second one.
fn run_edge_key(edge: &ObservedEdge) -> String {
    serde_json::json!([
        edge.from.namespace,
        edge.from.name,
        edge.from_columns,
        edge.to.namespace,
        edge.to.name,
        edge.to_columns
    ])
    .to_string()
}

fn edge_key(edge: &LineageEdge) -> String {
    serde_json::to_string(edge).unwrap_or_default()
}

async fn source_of(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    tenant: &str,
    owner: uuid::Uuid,
) -> Result<uuid::Uuid, ProjectionError> {
    let row: Option<(uuid::Uuid,)> =
        sqlx::query_as("SELECT source_id FROM asset_paths WHERE tenant_id = $1 AND asset_id = $2")
            .bind(tenant)
            .bind(owner)
            .fetch_optional(&mut *conn)
            .await
            .in_projection(NAME)?;
    row.map(|(source,)| source)
        .ok_or_else(|| ProjectionError::BadEvent {
            projection: NAME,
            sequence: stored.sequence,
            reason: format!("lineage of asset {owner} recorded before the asset was discovered"),
        })
}

async fn insert_edge(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    owner: uuid::Uuid,
    source: uuid::Uuid,
    edge: &LineageEdge,
) -> Result<(), ProjectionError> {
    let source_id = AggregateId::from_uuid(source);
    sqlx::query(
        "INSERT INTO edges (tenant_id, owner_asset, edge_key, source_id, from_asset, from_path, from_columns,
             to_asset, to_path, to_columns, kind, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (tenant_id, owner_asset, edge_key) DO NOTHING",
    )
    .bind(&stored.event.tenant)
    .bind(owner)
    .bind(edge_key(edge))
    .bind(source)
    .bind(AssetId::for_path(source_id, &edge.from).as_uuid())
    .bind(edge.from.to_string())
    .bind(serde_json::to_value(&edge.from_columns).unwrap_or_default())
    .bind(AssetId::for_path(source_id, &edge.to).as_uuid())
    .bind(edge.to.to_string())
    .bind(serde_json::to_value(&edge.to_columns).unwrap_or_default())
    .bind(serde_json::to_value(edge.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
    .bind(stored.event.time)
    .execute(&mut *conn)
    .await
    .in_projection(NAME)?;
    Ok(())
}

/// Which way to walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Towards the assets this one is derived from.
    Upstream,
    /// Towards the assets derived from this one.
    Downstream,
    Both,
}

/// One edge of the lineage graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, sqlx::FromRow)]
pub struct EdgeRow {
    pub from_asset: uuid::Uuid,
    pub from_path: String,
    pub from_columns: serde_json::Value,
    pub to_asset: uuid::Uuid,
    pub to_path: String,
    pub to_columns: serde_json::Value,
    pub kind: String,
}

/// One edge of the walk: a schema edge (foreign key, view, routine) or an edge an OpenLineage
/// run reported (`kind` `openlineage`, with its job and when it was first and last seen).
#[derive(Debug, Clone, PartialEq, Eq, Hash, sqlx::FromRow)]
pub struct LineageRow {
    #[sqlx(flatten)]
    pub edge: EdgeRow,
    /// OpenLineage: the job's namespace.
    pub job_namespace: Option<String>,
    /// OpenLineage: the job's name.
    pub job_name: Option<String>,
    /// OpenLineage: the earliest eventTime of a run that reported the edge.
    pub first_seen: Option<chrono::DateTime<chrono::Utc>>,
    /// OpenLineage: the latest eventTime of a run that reported the edge.
    pub last_seen: Option<chrono::DateTime<chrono::Utc>>,
    /// The upstream end is an external dataset (matched to no discovered asset).
    pub from_external: bool,
    /// The downstream end is an external dataset.
    pub to_external: bool,
    /// OpenLineage: the job's latest COMPLETE run that reported edges did not report this one,
    /// nor did any event since (the job stopped reading or writing here).
    pub stale: bool,
}

/// The edges reachable from `asset` within `depth` hops, walking only through assets in
/// `scope` ([`crate::visibility::scope_param`]; `None`: every asset): an edge with an end out of
/// scope is neither shown nor walked. OpenLineage edges are walked too; their external ends are
/// no asset, so the scope does not hide them.
pub async fn walk(
    pool: &sqlx::PgPool,
    tenant: &str,
    asset: uuid::Uuid,
    direction: Direction,
    depth: u32,
    scope: Option<&serde_json::Value>,
) -> Result<Vec<LineageRow>, sqlx::Error> {
    let mut seen_assets: HashSet<uuid::Uuid> = HashSet::from([asset]);
    let mut frontier = vec![asset];
    let mut edges: Vec<LineageRow> = Vec::new();
    let mut seen_edges: HashSet<LineageRow> = HashSet::new();
    let visible = |alias: &str, external: Option<&str>| {
        crate::visibility::when_scoped(5, scope, || {
            let end = |side: &str, table: &str| {
                let exists = format!(
                    "EXISTS (SELECT 1 FROM rm_catalog.assets {table}
                             WHERE {table}.tenant_id = {alias}.tenant_id AND {table}.id = {alias}.{side}_asset AND {cond})",
                    cond = crate::visibility::asset_visible(table, 5),
                );
                match external {
                    Some(_) => format!("({alias}.{side}_external OR {exists})"),
                    None => exists,
                }
            };
            format!("({} AND {})", end("from", "fa"), end("to", "ta"))
        })
    };
    let sql = format!(
        "SELECT DISTINCT e.from_asset, e.from_path, e.from_columns, e.to_asset, e.to_path,
                e.to_columns, e.kind, NULL::text AS job_namespace, NULL::text AS job_name,
                NULL::timestamptz AS first_seen, NULL::timestamptz AS last_seen,
                false AS from_external, false AS to_external, false AS stale
         FROM rm_{NAME}.edges e
         WHERE e.tenant_id = $1
           AND (($2 AND e.to_asset = ANY($4)) OR ($3 AND e.from_asset = ANY($4)))
           AND {schema_visible}
         UNION ALL
         SELECT r.from_asset, r.from_path, r.from_columns, r.to_asset, r.to_path, r.to_columns,
                'openlineage', j.namespace, j.name, r.first_seen, r.last_seen,
                r.from_external, r.to_external,
                (j.edges_at IS NOT NULL AND r.last_seen < j.edges_at)
         FROM rm_{NAME}.run_edges r
         JOIN rm_{NAME}.jobs j ON j.tenant_id = r.tenant_id AND j.job_id = r.job_id
         WHERE r.tenant_id = $1
           AND (($2 AND r.to_asset = ANY($4)) OR ($3 AND r.from_asset = ANY($4)))
           AND {run_visible}
         ORDER BY 14, 8, 9, 2, 5",
        schema_visible = visible("e", None),
        run_visible = visible("r", Some("external")),
    );
    for _ in 0..depth {
        if frontier.is_empty() {
            break;
        }
        let rows: Vec<LineageRow> = sqlx::query_as(&sql)
            .bind(tenant)
            .bind(matches!(direction, Direction::Upstream | Direction::Both))
            .bind(matches!(direction, Direction::Downstream | Direction::Both))
            .bind(&frontier)
            .bind(scope)
            .fetch_all(pool)
            .await?;
        let mut next = Vec::new();
        for row in rows {
            for neighbour in [row.edge.from_asset, row.edge.to_asset] {
                if seen_assets.insert(neighbour) {
                    next.push(neighbour);
                }
            }
            if seen_edges.insert(row.clone()) {
                edges.push(row);
            }
        }
        frontier = next;
    }
    Ok(edges)
}

/// How many of a job's latest runs its usual interval is measured over.
pub const RECENT_RUNS: usize = 11;
/// The fewest runs a usual interval is measured from (two gaps).
pub const MIN_RUNS_FOR_INTERVAL: usize = 3;
/// A job is overdue when its latest run started more than this many usual intervals ago.
pub const OVERDUE_FACTOR: i64 = 2;

/// One OpenLineage job with what its health is judged from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub job_id: uuid::Uuid,
    pub namespace: String,
    pub name: String,
    pub last_event_type: String,
    pub last_event_time: chrono::DateTime<chrono::Utc>,
    /// How its latest ended run (by end time) ended: COMPLETE, FAIL or ABORT.
    pub last_ended_state: Option<String>,
    /// When its latest runs started, latest first (at most [`RECENT_RUNS`]).
    pub recent_starts: Vec<chrono::DateTime<chrono::Utc>>,
}

/// Whether a job looks healthy: how its last run ended, and whether it is late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobHealth {
    /// Its latest ended run failed or was aborted.
    pub failing: bool,
    /// Its latest run started more than [`OVERDUE_FACTOR`] usual intervals before `now`.
    pub overdue: bool,
    /// The median time between the starts of its latest runs, in seconds; `None` with fewer
    /// than [`MIN_RUNS_FOR_INTERVAL`] runs (too few to say what is usual).
    pub usual_interval_secs: Option<i64>,
}

impl JobHealth {
    /// Judges a job from how its latest ended run ended and when its latest runs started
    /// (latest first), at `now`.
    pub fn of(
        last_ended_state: Option<&str>,
        recent_starts: &[chrono::DateTime<chrono::Utc>],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        let mut starts: Vec<_> = recent_starts.iter().take(RECENT_RUNS).copied().collect();
        starts.sort_unstable_by(|a, b| b.cmp(a));
        let usual_interval_secs = (starts.len() >= MIN_RUNS_FOR_INTERVAL).then(|| {
            let mut gaps: Vec<i64> = starts
                .windows(2)
                .map(|w| (w[0] - w[1]).num_seconds())
                .collect();
            gaps.sort_unstable();
            gaps[gaps.len() / 2]
        });
        let overdue = match (usual_interval_secs, starts.first()) {
            (Some(usual), Some(latest)) if usual > 0 => {
                (now - *latest).num_seconds() > usual.saturating_mul(OVERDUE_FACTOR)
            }
            _ => false,
        };
        JobHealth {
            failing: matches!(last_ended_state, Some("FAIL") | Some("ABORT")),
            overdue,
            usual_interval_secs,
        }
    }
}

const JOB_COLUMNS: &str = "j.job_id, j.namespace, j.name, j.last_event_type, j.last_event_time,
    (SELECT r.state FROM rm_lineage.runs r
     WHERE r.tenant_id = j.tenant_id AND r.job_id = j.job_id AND r.ended_at IS NOT NULL
     ORDER BY r.ended_at DESC, r.run_id LIMIT 1) AS last_ended_state,
    ARRAY(SELECT r.started_at FROM rm_lineage.runs r
          WHERE r.tenant_id = j.tenant_id AND r.job_id = j.job_id
          ORDER BY r.started_at DESC LIMIT 11) AS recent_starts"; // 11: RECENT_RUNS

/// A tenant's jobs by namespace and name, optionally of one namespace, after the job `after`.
pub async fn jobs(
    pool: &sqlx::PgPool,
    tenant: &str,
    namespace: Option<&str>,
    after: Option<uuid::Uuid>,
    limit: i64,
) -> Result<Vec<JobRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM rm_{NAME}.jobs j
         WHERE j.tenant_id = $1
           AND ($2::text IS NULL OR j.namespace = $2)
           AND ($3::uuid IS NULL OR (j.namespace, j.name, j.job_id) > (
                SELECT a.namespace, a.name, a.job_id FROM rm_{NAME}.jobs a
                WHERE a.tenant_id = $1 AND a.job_id = $3))
         ORDER BY j.namespace, j.name, j.job_id LIMIT $4"
    ))
    .bind(tenant)
    .bind(namespace)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One job of a tenant by its OpenLineage namespace and name.
pub async fn job(
    pool: &sqlx::PgPool,
    tenant: &str,
    namespace: &str,
    name: &str,
) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM rm_{NAME}.jobs j
         WHERE j.tenant_id = $1 AND j.namespace = $2 AND j.name = $3"
    ))
    .bind(tenant)
    .bind(namespace)
    .bind(name)
    .fetch_optional(pool)
    .await
}

/// One run of a job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    pub run_id: uuid::Uuid,
    /// START, RUNNING or OTHER while it runs; COMPLETE, FAIL or ABORT once it ended.
    pub state: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
    pub error_message: Option<String>,
}

/// A job's latest runs, latest start first.
pub async fn runs(
    pool: &sqlx::PgPool,
    tenant: &str,
    job: uuid::Uuid,
    limit: i64,
) -> Result<Vec<RunRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT run_id, state, started_at, ended_at, error_message FROM rm_{NAME}.runs
         WHERE tenant_id = $1 AND job_id = $2
         ORDER BY started_at DESC, run_id LIMIT $3"
    ))
    .bind(tenant)
    .bind(job)
    .bind(limit)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> chrono::DateTime<chrono::Utc> {
        format!("2026-01-{day:02}T{hour:02}:00:00Z")
            .parse()
            .unwrap()
    }

    #[test]
    fn a_job_is_failing_after_a_failed_run_and_overdue_past_twice_its_usual_interval() {
        let daily = [at(12, 2), at(11, 2), at(10, 2)];
        let on_time = JobHealth::of(Some("COMPLETE"), &daily, at(13, 1));
        assert_eq!(
            on_time,
            JobHealth {
                failing: false,
                overdue: false,
                usual_interval_secs: Some(86_400)
            }
        );
        assert!(!JobHealth::of(Some("COMPLETE"), &daily, at(14, 2)).overdue);
        assert!(JobHealth::of(Some("COMPLETE"), &daily, at(14, 3)).overdue);
        assert!(JobHealth::of(Some("FAIL"), &daily, at(13, 1)).failing);
        assert!(JobHealth::of(Some("ABORT"), &daily, at(13, 1)).failing);
        // Two runs say nothing about what is usual; the order given does not matter.
        let two = JobHealth::of(None, &[at(10, 2), at(11, 2)], at(30, 0));
        assert_eq!((two.overdue, two.usual_interval_secs), (false, None));
        let shuffled = JobHealth::of(None, &[at(10, 2), at(12, 2), at(11, 2)], at(13, 1));
        assert_eq!(shuffled.usual_interval_secs, Some(86_400));
    }
}
