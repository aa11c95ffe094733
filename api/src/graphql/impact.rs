//! The `impact` query: everything downstream of an asset or one of its columns, how far away,
//! which of its columns the data reaches, who owns it, how those columns are classified and
//! which violations are open on it (`projections::impact`). A caller whose roles reach only some
//! assets (a custom role's condition) sees only those, and the walk does not pass through others.
//! Schema edges and OpenLineage edges are both walked; each impacted asset says by which kind of
//! edge (and, for OpenLineage, which job) it was reached.

use super::catalog::LineageEdgeGql;
use super::classification::sensitivity_of;
use super::errors::internal;
use super::query::parse_id;
use super::{api_error, authorize, Services};
use async_graphql::{Context, Object, Result, SimpleObject, ID};
use domain::access::Permission;
use projections::impact;

/// The most assets one impact analysis lists (a wider fan-out is cut, and said so).
const MAX_IMPACTED: usize = 1000;

#[derive(Default)]
pub struct ImpactQuery;

/// What changing an asset (or a column) would touch downstream.
#[derive(SimpleObject)]
pub struct Impact {
    /// The asset the analysis starts from.
    pub asset_id: ID,
    /// The column it starts from; null for the whole asset.
    pub column: Option<String>,
    /// The assets downstream, nearest first (then by path).
    pub assets: Vec<ImpactedAsset>,
    /// The lineage edges the walk took.
    pub edges: Vec<LineageEdgeGql>,
    /// Whether the list was cut at 1000 assets.
    pub truncated: bool,
}

/// One asset downstream.
#[derive(SimpleObject)]
pub struct ImpactedAsset {
    /// The impacted asset.
    pub asset_id: ID,
    /// Its path, e.g. `shop.public.orders`.
    pub path: String,
    /// Lineage hops from the start (1: a direct dependant).
    pub distance: i32,
    /// The columns the data reaches; empty when it reaches the whole asset (`wholeAsset`).
    pub columns: Vec<String>,
    /// True when an edge on the way is table level: nothing says which columns it lands in.
    pub whole_asset: bool,
    /// Its own owner, else its source's.
    pub owner: Option<String>,
    /// Applied, confirmed and suggested labels of the reached columns (every column when the
    /// whole asset is reached).
    pub classifications: Vec<ImpactLabel>,
    /// Its open compliance violations.
    pub open_violations: ImpactViolations,
    /// True for an external dataset: one an OpenLineage job reads or writes that matches no
    /// discovered asset (`path` is then `namespace/name`; it has no owner or labels here).
    pub external: bool,
    /// The edges the walk reached it by, each kind and job once.
    pub reached_by: Vec<ImpactVia>,
}

/// How an impacted asset was reached.
#[derive(SimpleObject)]
pub struct ImpactVia {
    /// The edge's kind: foreign_key, view, routine (derived from the schema) or openlineage
    /// (reported by a job's runs through `POST /api/v1/lineage`).
    pub kind: String,
    /// The upstream asset of that edge.
    pub from_path: String,
    /// OpenLineage: the namespace of the job that reported the edge; null for schema edges.
    pub job_namespace: Option<String>,
    /// OpenLineage: the name of the job that reported the edge; null for schema edges.
    pub job_name: Option<String>,
    /// OpenLineage: the job's latest COMPLETE run that reported lineage (or any event since) no
    /// longer reported this edge.
    pub stale: bool,
}

/// A label on an impacted column.
#[derive(SimpleObject)]
pub struct ImpactLabel {
    /// The reached column.
    pub column: String,
    /// The label, e.g. `EMAIL_ADDRESS` or a custom label's name.
    pub label: String,
    /// low, medium, high or critical.
    pub sensitivity: String,
    /// applied, confirmed or suggested.
    pub status: String,
}

/// Open violations of an impacted asset by severity.
#[derive(SimpleObject)]
pub struct ImpactViolations {
    /// Open critical violations.
    pub critical: i64,
    /// Open high violations.
    pub high: i64,
    /// Open medium violations.
    pub medium: i64,
    /// Open low violations.
    pub low: i64,
    /// All open violations.
    pub total: i64,
}

#[Object]
impl ImpactQuery {
    /// Impact analysis: everything downstream of `assetId` (or of its `column`) along lineage,
    /// within `depth` hops (1 to 10), with the reached columns, owners, classifications and open
    /// violations. Foreign keys carry columns pairwise, views carry their source columns to all
    /// their columns, table-level edges the whole asset. OpenLineage edges (jobs that wrote one
    /// dataset from another) are walked beside the schema's: column edges as a view's, and a
    /// job's dataset-level edge only where it reported no column edges between the two datasets.
    /// At most 1000 assets (`truncated`).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn impact(
        &self,
        ctx: &Context<'_>,
        asset_id: ID,
        #[graphql(desc = "Start from this column of the asset; the whole asset when omitted.")]
        column: Option<String>,
        #[graphql(default = 3, desc = "Hops to follow, 1 to 10.")] depth: i32,
    ) -> Result<Impact> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        if !(1..=10).contains(&depth) {
            return Err(api_error(
                "VALIDATION",
                format!("depth must be between 1 and 10 (got {depth})"),
            ));
        }
        if column
            .as_ref()
            .is_some_and(|c| c.is_empty() || c.len() > 256)
        {
            return Err(api_error(
                "VALIDATION",
                "column: 1 to 256 characters".to_owned(),
            ));
        }
        let start = parse_id(&asset_id)?.as_uuid();
        let tenant = caller.tenant.as_str();
        let pool = &services.pool;
        // A custom role's condition: around an asset out of reach there is nothing to show,
        // and the walk never passes through one (as `lineage`).
        let scope = super::visibility::scope(caller);
        let scope = scope.as_ref();
        if scope.is_some() {
            let visible = projections::visibility::visible_assets(pool, tenant, &[start], scope)
                .await
                .map_err(|err| internal(&err))?;
            if visible.is_empty() {
                return Ok(Impact {
                    asset_id,
                    column,
                    assets: Vec::new(),
                    edges: Vec::new(),
                    truncated: false,
                });
            }
        }
        let (mut assets, edges) = impact::walk(
            start,
            column.as_deref(),
            depth as u32,
            |frontier| async move {
                let mut edges = impact::edges_from(pool, tenant, &frontier).await?;
                if scope.is_some() {
                    let ends: Vec<uuid::Uuid> = edges.iter().map(|e| e.edge.to_asset).collect();
                    let visible =
                        projections::visibility::visible_assets(pool, tenant, &ends, scope).await?;
                    // An external dataset is no asset: no condition hides it (as `lineage`).
                    edges.retain(|e| e.to_external || visible.contains(&e.edge.to_asset));
                }
                Ok::<_, sqlx::Error>(edges)
            },
        )
        .await
        .map_err(|err| internal(&err))?;
        let truncated = assets.len() > MAX_IMPACTED;
        assets.truncate(MAX_IMPACTED);
        let mut details = impact::details(pool, tenant, &assets)
            .await
            .map_err(|err| internal(&err))?;
        Ok(Impact {
            asset_id,
            column,
            assets: assets
                .into_iter()
                .map(|a| {
                    let d = details.remove(&a.asset_id).unwrap_or_default();
                    let [critical, high, medium, low] = d.open_violations;
                    ImpactedAsset {
                        asset_id: ID(a.asset_id.to_string()),
                        path: a.path,
                        distance: a.distance as i32,
                        columns: a
                            .reach
                            .columns()
                            .map_or_else(Vec::new, |c| c.iter().cloned().collect()),
                        whole_asset: a.reach.columns().is_none(),
                        owner: d.owner,
                        classifications: d
                            .labels
                            .into_iter()
                            .map(|(column, label, status)| ImpactLabel {
                                sensitivity: sensitivity_of(&label).to_owned(),
                                column,
                                label,
                                status,
                            })
                            .collect(),
                        open_violations: ImpactViolations {
                            critical,
                            high,
                            medium,
                            low,
                            total: critical + high + medium + low,
                        },
                        external: a.external,
                        reached_by: a
                            .via
                            .into_iter()
                            .map(|v| ImpactVia {
                                kind: v.kind,
                                from_path: v.from_path,
                                job_namespace: v.job_namespace,
                                job_name: v.job_name,
                                stale: v.stale,
                            })
                            .collect(),
                    }
                })
                .collect(),
            edges: edges.into_iter().map(LineageEdgeGql::from).collect(),
            truncated,
        })
    }
}
