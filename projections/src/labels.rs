//! Queries over the catalog read model's classification tables (`column_labels`,
//! `column_profiles`, `scan_rule_sets`; the catalog projection fills them): labels per asset, the
//! review queue, label counts per source, the tenant's review feedback and rule sets.

use crate::catalog::NAME;
use domain::classification::{
    ColumnProfile, FeedbackExample, FeedbackModel, FeedbackVerdict, Label,
};
use std::collections::HashMap;

/// One label of one column.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LabelRow {
    pub asset_id: uuid::Uuid,
    pub source_id: uuid::Uuid,
    pub asset_path: String,
    pub column_name: String,
    pub label: String,
    /// applied, suggested, confirmed or rejected.
    pub status: String,
    pub confidence: f64,
    pub signals: serde_json::Value,
    pub origin: serde_json::Value,
    pub rule_set: Option<serde_json::Value>,
    pub labelled_at: chrono::DateTime<chrono::Utc>,
    pub labelled_by: String,
    pub reviewed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub reviewed_by: Option<String>,
    pub review_note: Option<String>,
}

const LABEL_COLUMNS: &str = "l.asset_id, a.source_id, a.path AS asset_path, l.column_name, l.label,
    l.status, l.confidence, l.signals, l.origin, l.rule_set, l.labelled_at, l.labelled_by,
    l.reviewed_at, l.reviewed_by, l.review_note";

/// Filters for [`labels`].
#[derive(Debug, Clone, Default)]
pub struct LabelFilter {
    pub source_id: Option<uuid::Uuid>,
    pub asset_id: Option<uuid::Uuid>,
    /// Only labels with one of these statuses; empty means all.
    pub statuses: Vec<String>,
    pub limit: i64,
    /// Only labels of assets in this scope ([`crate::visibility::scope_param`]); `None`: all.
    pub scope: Option<serde_json::Value>,
}

/// Labels of a tenant's columns, most confident first within each asset and column order.
pub async fn labels(
    pool: &sqlx::PgPool,
    tenant: &str,
    filter: &LabelFilter,
) -> Result<Vec<LabelRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {LABEL_COLUMNS}
         FROM rm_{NAME}.column_labels l
         JOIN rm_{NAME}.assets a ON a.tenant_id = l.tenant_id AND a.id = l.asset_id
         WHERE l.tenant_id = $1
           AND ($2::uuid IS NULL OR a.source_id = $2)
           AND ($3::uuid IS NULL OR l.asset_id = $3)
           AND (cardinality($4::text[]) = 0 OR l.status = ANY($4))
           AND NOT a.removed
           AND {visible}
         ORDER BY a.path, l.column_name, l.confidence DESC, l.label
         LIMIT $5",
        visible = crate::visibility::when_scoped(6, filter.scope.as_ref(), || {
            crate::visibility::asset_visible("a", 6)
        })
    ))
    .bind(tenant)
    .bind(filter.source_id)
    .bind(filter.asset_id)
    .bind(&filter.statuses)
    .bind(filter.limit)
    .bind(filter.scope.as_ref())
    .fetch_all(pool)
    .await
}

/// The labels of several assets in one query, per `(tenant, asset id)` key (each column's most
/// confident first); an asset without labels, removed or unknown has no entry. Keys of
/// different tenants may be mixed: each label is matched on its own tenant and asset.
pub async fn labels_of_assets(
    pool: &sqlx::PgPool,
    keys: &[(String, uuid::Uuid)],
) -> Result<HashMap<(String, uuid::Uuid), Vec<LabelRow>>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct TenantLabel {
        tenant_id: String,
        #[sqlx(flatten)]
        label: LabelRow,
    }
    let (tenants, assets): (Vec<&str>, Vec<uuid::Uuid>) = keys
        .iter()
        .map(|(tenant, asset)| (tenant.as_str(), *asset))
        .unzip();
    let rows: Vec<TenantLabel> = sqlx::query_as(&format!(
        "SELECT l.tenant_id, {LABEL_COLUMNS}
         FROM UNNEST($1::text[], $2::uuid[]) AS k(tenant_id, asset_id)
         JOIN rm_{NAME}.column_labels l
           ON l.tenant_id = k.tenant_id AND l.asset_id = k.asset_id
         JOIN rm_{NAME}.assets a ON a.tenant_id = l.tenant_id AND a.id = l.asset_id
         WHERE NOT a.removed
         ORDER BY l.tenant_id, l.asset_id, l.column_name, l.confidence DESC, l.label"
    ))
    .bind(&tenants)
    .bind(&assets)
    .fetch_all(pool)
    .await?;
    let mut by_asset: HashMap<(String, uuid::Uuid), Vec<LabelRow>> = HashMap::new();
    for TenantLabel { tenant_id, label } in rows {
        by_asset
            .entry((tenant_id, label.asset_id))
            .or_default()
            .push(label);
    }
    Ok(by_asset)
}

/// The review queue: suggested labels of assets in `scope`, most confident first.
pub async fn review_queue(
    pool: &sqlx::PgPool,
    tenant: &str,
    source_id: Option<uuid::Uuid>,
    limit: i64,
    scope: Option<&serde_json::Value>,
) -> Result<Vec<LabelRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {LABEL_COLUMNS}
         FROM rm_{NAME}.column_labels l
         JOIN rm_{NAME}.assets a ON a.tenant_id = l.tenant_id AND a.id = l.asset_id
         WHERE l.tenant_id = $1 AND l.status = 'suggested' AND NOT a.removed
           AND ($2::uuid IS NULL OR a.source_id = $2)
           AND {visible}
         ORDER BY l.confidence DESC, a.path, l.column_name
         LIMIT $3",
        visible =
            crate::visibility::when_scoped(4, scope, || crate::visibility::asset_visible("a", 4))
    ))
    .bind(tenant)
    .bind(source_id)
    .bind(limit)
    .bind(scope)
    .fetch_all(pool)
    .await
}

/// Label counts of one source's assets in `scope`: `(label, status, columns)`.
pub async fn label_counts(
    pool: &sqlx::PgPool,
    tenant: &str,
    source_id: uuid::Uuid,
    scope: Option<&serde_json::Value>,
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT l.label, l.status, count(*)
         FROM rm_{NAME}.column_labels l
         JOIN rm_{NAME}.assets a ON a.tenant_id = l.tenant_id AND a.id = l.asset_id
         WHERE l.tenant_id = $1 AND a.source_id = $2 AND NOT a.removed AND {visible}
         GROUP BY l.label, l.status ORDER BY l.label, l.status",
        visible =
            crate::visibility::when_scoped(3, scope, || crate::visibility::asset_visible("a", 3))
    ))
    .bind(tenant)
    .bind(source_id)
    .bind(scope)
    .fetch_all(pool)
    .await
}

/// The tenant's confirmed and rejected labels with the reviewed column's profile, for the
/// classifier's feedback tier.
pub async fn feedback(pool: &sqlx::PgPool, tenant: &str) -> Result<FeedbackModel, sqlx::Error> {
    let rows: Vec<(String, String, String, String, Option<serde_json::Value>)> =
        sqlx::query_as(&format!(
            "SELECT a.name, l.column_name, l.label, l.status,
                    (SELECT p FROM jsonb_array_elements(pr.profiles) p
                     WHERE p->>'column' = l.column_name LIMIT 1)
             FROM rm_{NAME}.column_labels l
             JOIN rm_{NAME}.assets a ON a.tenant_id = l.tenant_id AND a.id = l.asset_id
             LEFT JOIN rm_{NAME}.column_profiles pr
                    ON pr.tenant_id = l.tenant_id AND pr.asset_id = l.asset_id
             WHERE l.tenant_id = $1 AND l.status IN ('confirmed', 'rejected')
               AND l.origin->>'kind' = 'classifier'
             ORDER BY l.reviewed_at"
        ))
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    let examples = rows
        .into_iter()
        .filter_map(|(table, column, label, status, profile)| {
            Some(FeedbackExample {
                table,
                column,
                label: Label::parse(&label)?,
                verdict: if status == "confirmed" {
                    FeedbackVerdict::Confirmed
                } else {
                    FeedbackVerdict::Rejected
                },
                profile: profile.and_then(|p| serde_json::from_value::<ColumnProfile>(p).ok()),
            })
        })
        .collect();
    Ok(FeedbackModel { examples })
}

/// One scan rule set.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RuleSetRow {
    pub id: uuid::Uuid,
    pub name: String,
    pub version: i64,
    pub definition: serde_json::Value,
    pub archived: bool,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub updated_by: String,
}

/// A tenant's scan rule sets by name (`id` for one).
pub async fn rule_sets(
    pool: &sqlx::PgPool,
    tenant: &str,
    id: Option<uuid::Uuid>,
) -> Result<Vec<RuleSetRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT id, name, version, definition, archived, updated_at, updated_by
         FROM rm_{NAME}.scan_rule_sets
         WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id = $2)
         ORDER BY name, id"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_all(pool)
    .await
}
