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

use crate::lineage::{EdgeRow, NAME};
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
}

/// The downstream walk: the impacted assets (nearest first, then by path) and the edges taken.
/// `fetch(frontier)` returns the edges leaving those assets; `depth` bounds the hops.
pub async fn walk<F, Fut, E>(
    start: uuid::Uuid,
    column: Option<&str>,
    depth: u32,
    mut fetch: F,
) -> Result<(Vec<Impacted>, Vec<EdgeRow>), E>
where
    F: FnMut(Vec<uuid::Uuid>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<EdgeRow>, E>>,
{
    let start_reach = match column {
        Some(c) => Reach::Columns(BTreeSet::from([c.to_owned()])),
        None => Reach::Whole,
    };
    // The start's own reach never grows: it is where the question begins.
    let mut reached: BTreeMap<uuid::Uuid, (u32, String, Reach)> = BTreeMap::new();
    let mut taken: Vec<EdgeRow> = Vec::new();
    let mut frontier: BTreeMap<uuid::Uuid, Reach> = BTreeMap::from([(start, start_reach)]);
    for hop in 1..=depth {
        if frontier.is_empty() {
            break;
        }
        let edges = fetch(frontier.keys().copied().collect()).await?;
        let mut next: BTreeMap<uuid::Uuid, Reach> = BTreeMap::new();
        for edge in edges {
            let Some(from_reach) = frontier.get(&edge.from_asset) else {
                continue;
            };
            if edge.to_asset == start {
                continue;
            }
            let Some(carried) = carried(&edge, from_reach) else {
                continue;
            };
            let grew = match reached.get_mut(&edge.to_asset) {
                Some((_, _, reach)) => reach.absorb(carried.clone()),
                None => {
                    reached.insert(edge.to_asset, (hop, edge.to_path.clone(), carried.clone()));
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
            if !taken.contains(&edge) {
                taken.push(edge);
            }
        }
        frontier = next;
    }
    let mut impacted: Vec<Impacted> = reached
        .into_iter()
        .map(|(asset_id, (distance, path, reach))| Impacted {
            asset_id,
            path,
            distance,
            reach,
        })
        .collect();
    impacted.sort_by(|a, b| (a.distance, &a.path).cmp(&(b.distance, &b.path)));
    Ok((impacted, taken))
}

/// The edges leaving `assets` in the lineage read model.
pub async fn edges_from(
    pool: &sqlx::PgPool,
    tenant: &str,
    assets: &[uuid::Uuid],
) -> Result<Vec<EdgeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT DISTINCT from_asset, from_path, from_columns, to_asset, to_path, to_columns, kind
         FROM rm_{NAME}.edges
         WHERE tenant_id = $1 AND from_asset = ANY($2)
         ORDER BY to_path, kind"
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

    fn edge(from: u128, from_cols: &[&str], to: u128, to_cols: &[&str], kind: &str) -> EdgeRow {
        EdgeRow {
            from_asset: id(from),
            from_path: format!("db.s.t{from}"),
            from_columns: json!(from_cols),
            to_asset: id(to),
            to_path: format!("db.s.t{to}"),
            to_columns: json!(to_cols),
            kind: kind.into(),
        }
    }

    async fn run(
        graph: &[EdgeRow],
        column: Option<&str>,
        depth: u32,
    ) -> (Vec<Impacted>, Vec<EdgeRow>) {
        walk(id(1), column, depth, |frontier| async move {
            Ok::<_, ()>(
                graph
                    .iter()
                    .filter(|e| frontier.contains(&e.from_asset))
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
}
