//! The `lineage` read model: asset → asset edges (table and column level) from foreign keys and
//! view definitions, and the walk up- or downstream from any asset.

use crate::error::{DbContext, ProjectionError};
use crate::projection::{aggregate_uuid, decode, Projection};
use domain::asset::{Asset, AssetEvent};
use domain::discovery::{AssetId, LineageEdge};
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
        Some(&[Asset::NAME])
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        stored: &'a StoredEvent,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
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

/// The edges reachable from `asset` within `depth` hops, walking only through assets in
/// `scope` ([`crate::visibility::scope_param`]; `None`: every asset): an edge with an end out of
/// scope is neither shown nor walked.
pub async fn walk(
    pool: &sqlx::PgPool,
    tenant: &str,
    asset: uuid::Uuid,
    direction: Direction,
    depth: u32,
    scope: Option<&serde_json::Value>,
) -> Result<Vec<EdgeRow>, sqlx::Error> {
    let mut seen_assets: HashSet<uuid::Uuid> = HashSet::from([asset]);
    let mut frontier = vec![asset];
    let mut edges: Vec<EdgeRow> = Vec::new();
    let mut seen_edges: HashSet<EdgeRow> = HashSet::new();
    for _ in 0..depth {
        if frontier.is_empty() {
            break;
        }
        let rows: Vec<EdgeRow> = sqlx::query_as(&format!(
            "SELECT DISTINCT e.from_asset, e.from_path, e.from_columns, e.to_asset, e.to_path,
                    e.to_columns, e.kind
             FROM rm_{NAME}.edges e
             WHERE e.tenant_id = $1
               AND (($2 AND e.to_asset = ANY($4)) OR ($3 AND e.from_asset = ANY($4)))
               AND {visible}",
            visible = crate::visibility::when_scoped(5, scope, || format!(
                "(EXISTS (SELECT 1 FROM rm_catalog.assets fa
                          WHERE fa.tenant_id = e.tenant_id AND fa.id = e.from_asset AND {from})
                  AND EXISTS (SELECT 1 FROM rm_catalog.assets ta
                              WHERE ta.tenant_id = e.tenant_id AND ta.id = e.to_asset AND {to}))",
                from = crate::visibility::asset_visible("fa", 5),
                to = crate::visibility::asset_visible("ta", 5),
            )),
        ))
        .bind(tenant)
        .bind(matches!(direction, Direction::Upstream | Direction::Both))
        .bind(matches!(direction, Direction::Downstream | Direction::Both))
        .bind(&frontier)
        .bind(scope)
        .fetch_all(pool)
        .await?;
        let mut next = Vec::new();
        for row in rows {
            for neighbour in [row.from_asset, row.to_asset] {
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
