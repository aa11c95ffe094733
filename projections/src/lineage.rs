//! The `lineage` read model: asset → asset edges (table and column level) from foreign keys and
//! view definitions, the edges OpenLineage runs reported (the `LineageJob` aggregate, with their
//! job and first/last seen; an end matched to no asset is an external dataset), and the walk up-
//! or downstream from any asset.

use crate::error::{DbContext, ProjectionError};
use crate::projection::{aggregate_uuid, decode, Projection};
use domain::asset::{Asset, AssetEvent};
use domain::discovery::{AssetId, LineageEdge};
use domain::lineage_job::{LineageJob, LineageJobEvent, ObservedEdge, RunObserved};
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
    let reports_edges = !run.edges.is_empty();
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
    /// OpenLineage: the job's latest run that reported edges did not report this one (the job
    /// stopped reading or writing here).
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
                (j.edges_run_id IS NOT NULL AND r.last_run_id <> j.edges_run_id)
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
