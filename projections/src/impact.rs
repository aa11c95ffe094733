//! Impact analysis: everything downstream of an asset (or of one of its columns) along the
//! lineage read model, with how far away it is and which of its columns the data reaches, and
//! for each impacted asset its owner, the classifications of the reached columns and its open
//! violations. The `impact` GraphQL query and `pursight lineage ASSET --downstream` read this.
//!
//! Columns are followed where edges name them: a foreign key carries its columns pairwise
//! (`customers.id → orders.customer_id`), a view edge carries its source columns to all its view
//! columns; an edge that names no columns (table level) carries the whole asset, because nothing
//! says which columns the data lands in. Starting from a column, an edge that does not read it
//! carries nothing. An asset reached again along another path gains the columns of that path and
//! is walked again from them, within the depth.
//!
//! The edges are the schema's (foreign keys, views, routines) and those OpenLineage runs
//! reported (`kind` `openlineage`, with the job): a job that writes B from A makes B depend on
//! A. Its column edges (the column-lineage facet) carry columns as a view's do; the dataset-level
//! edge a job reports beside column edges between the same two datasets is not walked, since
//! the column edges say where the data lands. An edge the job's latest run no longer reported
//! (`stale`) is still walked, and marked, so a dependency a job may have dropped stays visible.
//! An external dataset (named by a job, matched to no asset) is reached like an asset.

use crate::lineage::{EdgeRow, LineageRow, NAME};
use std::collections::{BTreeMap, BTreeSet};

/// Where the data reaches in one asset: some columns, or the whole asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Whole,
    Columns(BTreeSet<String>),
}

impl Reach {
    /// Adds `other`; whether anything was added.
    fn absorb(&mut self, other: Reach) -> bool {
        match (&mut *self, other) {
            (Reach::Whole, _) => false,
            (this, Reach::Whole) => {
                *this = Reach::Whole;
                true
            }
            (Reach::Columns(mine), Reach::Columns(theirs)) => {
                let before = mine.len();
                mine.extend(theirs);
                mine.len() > before
            }
        }
    }

    /// The columns, or `None` for the whole asset.
    pub fn columns(&self) -> Option<&BTreeSet<String>> {
        match self {
            Reach::Whole => None,
            Reach::Columns(columns) => Some(columns),
        }
    }
}

fn names(columns: &serde_json::Value) -> Vec<String> {
    columns
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// What `edge` carries downstream from `reach` of its `from` asset (`None`: nothing).
pub fn carried(edge: &EdgeRow, reach: &Reach) -> Option<Reach> {
    let from = names(&edge.from_columns);
    let to = names(&edge.to_columns);
    if to.is_empty() {
        // Table level: nothing says where the data lands.
        return Some(Reach::Whole);
    }
    let carried: BTreeSet<String> = match reach {
        Reach::Whole => to.into_iter().collect(),
        Reach::Columns(reached) if edge.kind == "foreign_key" && from.len() == to.len() => from
            .iter()
            .zip(to)
            .filter(|(f, _)| reached.contains(*f))
            .map(|(_, t)| t)
            .collect(),
        // A view (or an edge without source columns): any reached source column feeds them all.
        Reach::Columns(reached) => {
            if from.is_empty() || from.iter().any(|f| reached.contains(f)) {
                to.into_iter().collect()
            } else {
                BTreeSet::new()
            }
        }
    };
    (!carried.is_empty()).then_some(Reach::Columns(carried))
}

/// One asset downstream.
#[derive(Debug, Clone, PartialEq)]
pub struct Impacted {
    pub asset_id: uuid::Uuid,
    pub path: String,
    /// Hops from the start (1 for a direct dependant).
    pub distance: u32,
    pub reach: Reach,
    /// An external dataset (an OpenLineage dataset matched to no discovered asset).
    pub external: bool,
    /// The kinds of the edges the walk reached it by, each once (sorted).
    pub via: Vec<Via>,
}

/// How an impacted asset was reached: an edge's kind and, for an OpenLineage edge, its job.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Via {
    /// foreign_key, view, routine or openlineage.
    pub kind: String,
    /// The upstream asset of the edge.
    pub from_path: String,
    /// OpenLineage: the job's namespace and name.
    pub job_namespace: Option<String>,
    pub job_name: Option<String>,
    /// OpenLineage: the job's latest run no longer reported the edge.
    pub stale: bool,
}

impl Via {
    fn of(row: &LineageRow) -> Self {
        Via {
            kind: row.edge.kind.clone(),
            from_path: row.edge.from_path.clone(),
            job_namespace: row.job_namespace.clone(),
            job_name: row.job_name.clone(),
            stale: row.stale,
        }
    }

    /// `view from shop.public.orders`, `openlineage job nightly/load (stale) from …`.
    pub fn describe(&self) -> String {
        let job = match (&self.job_namespace, &self.job_name) {
            (Some(ns), Some(name)) => format!(" job {ns}/{name}"),
            _ => String::new(),
        };
        let stale = if self.stale { " (stale)" } else { "" };
        format!("{}{job}{stale} from {}", self.kind, self.from_path)
    }
}

/// What the walk keeps of a reached asset: first distance, path, reach, external, via.
type Reached = (u32, String, Reach, bool, std::collections::BTreeSet<Via>);

/// The downstream walk: the impacted assets (nearest first, then by path) and the edges taken.
/// `fetch(frontier)` returns the edges leaving those assets; `depth` bounds the hops.
pub async fn walk<F, Fut, E>(
    start: uuid::Uuid,
    column: Option<&str>,
    depth: u32,
    mut fetch: F,
) -> Result<(Vec<Impacted>, Vec<LineageRow>), E>
where
    F: FnMut(Vec<uuid::Uuid>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<LineageRow>, E>>,
{
    let start_reach = match column {
        Some(c) => Reach::Columns(BTreeSet::from([c.to_owned()])),
        None => Reach::Whole,
    };
    // The start's own reach never grows: it is where the question begins.
    let mut reached: BTreeMap<uuid::Uuid, Reached> = BTreeMap::new();
    let mut taken: Vec<LineageRow> = Vec::new();
    let mut frontier: BTreeMap<uuid::Uuid, Reach> = BTreeMap::from([(start, start_reach)]);
    for hop in 1..=depth {
        if frontier.is_empty() {
            break;
        }
        let edges = fetch(frontier.keys().copied().collect()).await?;
        let mut next: BTreeMap<uuid::Uuid, Reach> = BTreeMap::new();
        for row in edges {
            let edge = &row.edge;
            let Some(from_reach) = frontier.get(&edge.from_asset) else {
                continue;
            };
            if edge.to_asset == start {
                continue;
            }
            let Some(carried) = carried(edge, from_reach) else {
                continue;
            };
            let grew = match reached.get_mut(&edge.to_asset) {
                Some((_, _, reach, _, via)) => {
                    via.insert(Via::of(&row));
                    reach.absorb(carried.clone())
                }
                None => {
                    reached.insert(
                        edge.to_asset,
                        (
                            hop,
                            edge.to_path.clone(),
                            carried.clone(),
                            row.to_external,
                            std::collections::BTreeSet::from([Via::of(&row)]),
                        ),
                    );
                    true
                }
            };
            if grew {
                next.entry(edge.to_asset)
                    .and_modify(|r| {
                        r.absorb(carried.clone());
                    })
                    .or_insert(carried);
            }
            if !taken.contains(&row) {
                taken.push(row);
            }
        }
        frontier = next;
    }
    let mut impacted: Vec<Impacted> = reached
        .into_iter()
        .map(
            |(asset_id, (distance, path, reach, external, via))| Impacted {
                asset_id,
                path,
                distance,
                reach,
                external,
                via: via.into_iter().collect(),
            },
        )
        .collect();
    impacted.sort_by(|a, b| (a.distance, &a.path).cmp(&(b.distance, &b.path)));
    Ok((impacted, taken))
}

/// The edges leaving `assets` in the lineage read model: schema edges and OpenLineage edges
/// (without a job's dataset-level edge where the same job reported column edges between the
/// same datasets).
pub async fn edges_from(
    pool: &sqlx::PgPool,
    tenant: &str,
    assets: &[uuid::Uuid],
) -> Result<Vec<LineageRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT DISTINCT e.from_asset, e.from_path, e.from_columns, e.to_asset, e.to_path,
                e.to_columns, e.kind, NULL::text AS job_namespace, NULL::text AS job_name,
                NULL::timestamptz AS first_seen, NULL::timestamptz AS last_seen,
                false AS from_external, false AS to_external, false AS stale
         FROM rm_{NAME}.edges e
         WHERE e.tenant_id = $1 AND e.from_asset = ANY($2)
         UNION ALL
         SELECT r.from_asset, r.from_path, r.from_columns, r.to_asset, r.to_path, r.to_columns,
                'openlineage', j.namespace, j.name, r.first_seen, r.last_seen,
                r.from_external, r.to_external,
                (j.edges_at IS NOT NULL AND r.last_seen < j.edges_at)
         FROM rm_{NAME}.run_edges r
         JOIN rm_{NAME}.jobs j ON j.tenant_id = r.tenant_id AND j.job_id = r.job_id
         WHERE r.tenant_id = $1 AND r.from_asset = ANY($2)
           AND NOT (r.to_columns = '[]'::jsonb AND EXISTS (
               SELECT 1 FROM rm_{NAME}.run_edges c
               WHERE c.tenant_id = r.tenant_id AND c.job_id = r.job_id
                 AND c.from_asset = r.from_asset AND c.to_asset = r.to_asset
                 AND c.to_columns <> '[]'::jsonb))
         ORDER BY 5, 7, 9"
    ))
    .bind(tenant)
    .bind(assets)
    .fetch_all(pool)
    .await
}

/// What the catalogue and the compliance read model say about one impacted asset.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Details {
    /// Its own owner, else its source's.
    pub owner: Option<String>,
    /// (column, label, status) of its applied, confirmed and suggested labels on the reached
    /// columns (every column when the whole asset is reached).
    pub labels: Vec<(String, String, String)>,
    /// Open violations by severity: critical, high, medium, low.
    pub open_violations: [i64; 4],
}

/// The details of `impacted`, keyed by asset id.
pub async fn details(
    pool: &sqlx::PgPool,
    tenant: &str,
    impacted: &[Impacted],
) -> Result<BTreeMap<uuid::Uuid, Details>, sqlx::Error> {
    let ids: Vec<uuid::Uuid> = impacted.iter().map(|i| i.asset_id).collect();
    let mut out: BTreeMap<uuid::Uuid, Details> =
        ids.iter().map(|id| (*id, Details::default())).collect();
    let owners: Vec<(uuid::Uuid, Option<String>)> = sqlx::query_as(
        "SELECT a.id, COALESCE(a.owner, s.config->'owner'->>'name', s.config->>'owner')
         FROM rm_catalog.assets a
         LEFT JOIN rm_data_sources.data_sources s ON s.tenant_id = a.tenant_id AND s.id = a.source_id
         WHERE a.tenant_id = $1 AND a.id = ANY($2)",
    )
    .bind(tenant)
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    for (id, owner) in owners {
        if let Some(d) = out.get_mut(&id) {
            d.owner = owner;
        }
    }
    let labels: Vec<(uuid::Uuid, String, String, String)> = sqlx::query_as(
        "SELECT asset_id, column_name, label, status FROM rm_catalog.column_labels
         WHERE tenant_id = $1 AND asset_id = ANY($2) AND status IN ('applied', 'confirmed', 'suggested')
         ORDER BY asset_id, column_name, label",
    )
    .bind(tenant)
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let reach: BTreeMap<uuid::Uuid, &Reach> =
        impacted.iter().map(|i| (i.asset_id, &i.reach)).collect();
    for (id, column, label, status) in labels {
        let wanted = reach
            .get(&id)
            .is_some_and(|r| r.columns().is_none_or(|c| c.contains(&column)));
        if let (true, Some(d)) = (wanted, out.get_mut(&id)) {
            d.labels.push((column, label, status));
        }
    }
    let counts: Vec<(uuid::Uuid, i16, i64)> = sqlx::query_as(
        "SELECT asset_id, severity_rank, count(*) FROM rm_compliance.violations
         WHERE tenant_id = $1 AND asset_id = ANY($2) AND status = 'open'
         GROUP BY asset_id, severity_rank",
    )
    .bind(tenant)
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    for (id, rank, count) in counts {
        // severity_rank 4 is critical … 1 low.
        if let (Some(d), Some(slot)) = (out.get_mut(&id), 4usize.checked_sub(rank as usize)) {
            if let Some(cell) = d.open_violations.get_mut(slot) {
                *cell = count;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(n: u128) -> uuid::Uuid {
        uuid::Uuid::from_u128(n)
    }

    fn edge(from: u128, from_cols: &[&str], to: u128, to_cols: &[&str], kind: &str) -> LineageRow {
        LineageRow {
            edge: EdgeRow {
                from_asset: id(from),
                from_path: format!("db.s.t{from}"),
                from_columns: json!(from_cols),
                to_asset: id(to),
                to_path: format!("db.s.t{to}"),
                to_columns: json!(to_cols),
                kind: kind.into(),
            },
            job_namespace: None,
            job_name: None,
            first_seen: None,
            last_seen: None,
            from_external: false,
            to_external: false,
            stale: false,
        }
    }

    fn job_edge(
        from: u128,
        from_cols: &[&str],
        to: u128,
        to_cols: &[&str],
        job: &str,
    ) -> LineageRow {
        let mut row = edge(from, from_cols, to, to_cols, "openlineage");
        row.job_namespace = Some("etl".into());
        row.job_name = Some(job.into());
        row
    }

    async fn run(
        graph: &[LineageRow],
        column: Option<&str>,
        depth: u32,
    ) -> (Vec<Impacted>, Vec<LineageRow>) {
        walk(id(1), column, depth, |frontier| async move {
            Ok::<_, ()>(
                graph
                    .iter()
                    .filter(|e| frontier.contains(&e.edge.from_asset))
                    .cloned()
                    .collect(),
            )
        })
        .await
        .unwrap()
    }

    fn columns(r: &Reach) -> Vec<&str> {
        r.columns()
            .map(|c| c.iter().map(String::as_str).collect())
            .unwrap_or_else(|| vec!["*"])
    }

    #[tokio::test]
    async fn a_foreign_key_carries_its_columns_pairwise_and_only_from_the_column_asked_about() {
        // customers(1).id → orders(2).customer_id; customers.email → nowhere.
        let graph = [
            edge(1, &["id"], 2, &["customer_id"], "foreign_key"),
            edge(2, &["id"], 3, &["order_id"], "foreign_key"),
        ];
        let (all, taken) = run(&graph, None, 5).await;
        // orders.customer_id does not feed order_lines: only orders.id does.
        assert_eq!(all.len(), 1);
        assert_eq!(columns(&all[0].reach), ["customer_id"]);
        assert_eq!(taken.len(), 1);
        let (from_email, _) = run(&graph, Some("email"), 5).await;
        assert!(from_email.is_empty());
        let (from_id, _) = run(&graph, Some("id"), 5).await;
        assert_eq!(from_id.len(), 1, "orders.customer_id is not orders.id");
        assert_eq!(from_id[0].distance, 1);
    }

    #[tokio::test]
    async fn views_carry_to_all_their_columns_and_table_level_edges_carry_the_whole_asset() {
        let graph = [
            edge(1, &["email", "name"], 2, &["contact"], "view"),
            edge(2, &[], 3, &[], "view"),
            edge(3, &["x"], 4, &["y"], "foreign_key"),
        ];
        let (found, _) = run(&graph, Some("email"), 10).await;
        let seen: Vec<(u32, Vec<&str>)> = found
            .iter()
            .map(|i| (i.distance, columns(&i.reach)))
            .collect();
        assert_eq!(seen, [(1, vec!["contact"]), (2, vec!["*"]), (3, vec!["y"])]);
        let (from_other, _) = run(&graph, Some("id"), 10).await;
        assert!(from_other.is_empty(), "the view does not read id");
    }

    #[tokio::test]
    async fn depth_bounds_the_walk_cycles_end_and_a_second_path_adds_its_columns() {
        let graph = [
            edge(1, &["a"], 2, &["p"], "foreign_key"),
            edge(1, &["a"], 3, &["q"], "foreign_key"),
            edge(3, &["q"], 2, &["r"], "foreign_key"),
            edge(2, &["p"], 1, &["a"], "foreign_key"),
            edge(2, &["r"], 4, &["s"], "foreign_key"),
        ];
        let (one, _) = run(&graph, None, 1).await;
        assert_eq!(one.len(), 2);
        let (all, _) = run(&graph, None, 10).await;
        let two = all.iter().find(|i| i.asset_id == id(2)).unwrap();
        assert_eq!(columns(&two.reach), ["p", "r"]);
        assert_eq!(two.distance, 1);
        // Reached through the second path's column only.
        let four = all.iter().find(|i| i.asset_id == id(4)).unwrap();
        assert_eq!(four.distance, 3);
        assert!(
            all.iter().all(|i| i.asset_id != id(1)),
            "the start is not its own dependant"
        );
    }

    #[tokio::test]
    async fn openlineage_edges_are_walked_and_say_their_job() {
        // A job writes t2 from t1 (column lineage t1.net -> t2.amount), a view reads t2, and
        // another job writes an external dataset from t2.
        let mut external = job_edge(2, &[], 9, &[], "export");
        external.to_external = true;
        external.edge.to_path = "s3://drop/out.csv".into();
        let graph = [
            job_edge(1, &["net"], 2, &["amount"], "load"),
            edge(2, &["amount"], 3, &["total"], "view"),
            external,
        ];
        let (found, taken) = run(&graph, Some("net"), 5).await;
        let seen: Vec<(u32, Vec<&str>, bool)> = found
            .iter()
            .map(|i| (i.distance, columns(&i.reach), i.external))
            .collect();
        assert_eq!(
            seen,
            [
                (1, vec!["amount"], false),
                (2, vec!["total"], false),
                (2, vec!["*"], true)
            ]
        );
        assert_eq!(
            found[0].via[0].describe(),
            "openlineage job etl/load from db.s.t1"
        );
        assert_eq!(found[1].via[0].describe(), "view from db.s.t2");
        assert_eq!(taken.len(), 3);
        let (from_tax, _) = run(&graph, Some("tax"), 5).await;
        assert!(from_tax.is_empty(), "the job does not read tax");
    }
}
