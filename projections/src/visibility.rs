//! Which assets a caller may read, in SQL: a caller's [`AssetScope`] becomes one JSONB query
//! parameter ([`scope_param`]) that a fixed SQL fragment ([`asset_visible`]) reads, so every
//! query that lists assets, labels or edges filters in the database — before `LIMIT` and
//! cursors, so pages keep their size — and the fragment's text never depends on the caller's
//! input.
//!
//! A condition admits an asset when every part holds: its source is one of `sources` (if any),
//! its tags (its own, else its source's) include one of `tags_any` (if any) and none of
//! `tags_none`, and none of its column labels that are not rejected is more sensitive than
//! `max_sensitivity`. A scope of several conditions admits what any one admits; the parameter
//! is NULL for callers who read every asset.

use domain::access::AssetScope;
use domain::classification::{ClassificationType, Sensitivity};
use serde_json::{json, Value};
use std::collections::HashSet;

/// The scope as the JSONB parameter [`asset_visible`] reads: `None` (SQL NULL) for every asset,
/// else one object per condition with the label names that are too sensitive spelled out.
pub fn scope_param(scope: &AssetScope) -> Option<Value> {
    let AssetScope::Only(conditions) = scope else {
        return None;
    };
    let builtin: Vec<&str> = ClassificationType::ALL.iter().map(|t| t.as_str()).collect();
    Some(Value::Array(
        conditions
            .iter()
            .map(|c| {
                let above = |s: Sensitivity| c.max_sensitivity.is_some_and(|max| s > max);
                let too_sensitive: Vec<&str> = ClassificationType::ALL
                    .iter()
                    .filter(|t| above(t.sensitivity()))
                    .map(|t| t.as_str())
                    .collect();
                json!({
                    "above": too_sensitive,
                    // Custom labels count as medium (as `sensitivity` shows them).
                    "custom_above": above(Sensitivity::Medium),
                    "builtin": builtin,
                    "tags_any": c.tags_any,
                    "tags_none": c.tags_none,
                    "sources": c.sources,
                })
            })
            .collect(),
    ))
}

/// SQL that is true when the `rm_catalog.assets` row aliased `alias` is in the scope held by
/// query parameter `$param` (see [`scope_param`]). `alias` is one of the caller's own
/// identifiers, never input.
pub fn asset_visible(alias: &str, param: usize) -> String {
    let tags = format!(
        "COALESCE(NULLIF({alias}.tags, '[]'::jsonb),
                  (SELECT CASE WHEN jsonb_typeof(sv.config->'tags') = 'array' THEN sv.config->'tags' END
                   FROM rm_data_sources.data_sources sv
                   WHERE sv.tenant_id = {alias}.tenant_id AND sv.id = {alias}.source_id),
                  '[]'::jsonb)"
    );
    let texts = |field: &str| format!("ARRAY(SELECT jsonb_array_elements_text(cv.v->'{field}'))");
    format!(
        "(${param}::jsonb IS NULL OR EXISTS (
            SELECT 1 FROM jsonb_array_elements(${param}::jsonb) AS cv(v)
            WHERE (jsonb_array_length(cv.v->'sources') = 0
                   OR {alias}.source_id::text = ANY({sources}))
              AND (jsonb_array_length(cv.v->'tags_any') = 0 OR {tags} ?| {tags_any})
              AND NOT ({tags} ?| {tags_none})
              AND NOT EXISTS (
                  SELECT 1 FROM rm_catalog.column_labels lv
                  WHERE lv.tenant_id = {alias}.tenant_id AND lv.asset_id = {alias}.id
                    AND lv.status <> 'rejected'
                    AND (lv.label = ANY({above})
                         OR ((cv.v->>'custom_above')::boolean AND NOT lv.label = ANY({builtin}))))))",
        sources = texts("sources"),
        tags_any = texts("tags_any"),
        tags_none = texts("tags_none"),
        above = texts("above"),
        builtin = texts("builtin"),
    )
}

/// `condition` (SQL that reads the scope in `$param`) when there is a scope, else SQL that is
/// true and only names the parameter — so a caller who reads every asset costs the query
/// nothing, and it runs also where the read models it would look at do not exist.
pub fn when_scoped(
    param: usize,
    scope: Option<&Value>,
    condition: impl FnOnce() -> String,
) -> String {
    match scope {
        None => format!("(${param}::jsonb IS NULL)"),
        Some(_) => condition(),
    }
}

/// Which of `ids` are assets of `tenant` within the scope `param` (all of those that exist when
/// `param` is `None`).
pub async fn visible_assets(
    pool: &sqlx::PgPool,
    tenant: &str,
    ids: &[uuid::Uuid],
    param: Option<&Value>,
) -> Result<HashSet<uuid::Uuid>, sqlx::Error> {
    let rows: Vec<(uuid::Uuid,)> = sqlx::query_as(&format!(
        "SELECT a.id FROM rm_catalog.assets a
         WHERE a.tenant_id = $1 AND a.id = ANY($2) AND {}",
        when_scoped(3, param, || asset_visible("a", 3))
    ))
    .bind(tenant)
    .bind(ids)
    .bind(param)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The paths of `source`'s assets (of `tenant`) that the scope parameter `param` admits: what a
/// mutation's answer (a classification's outcomes) may name to the caller.
pub async fn visible_paths(
    pool: &sqlx::PgPool,
    tenant: &str,
    source: uuid::Uuid,
    param: &Value,
) -> Result<HashSet<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(&format!(
        "SELECT a.path FROM rm_catalog.assets a
         WHERE a.tenant_id = $1 AND a.source_id = $2 AND {}",
        asset_visible("a", 3)
    ))
    .bind(tenant)
    .bind(source)
    .bind(param)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(path,)| path).collect())
}

/// The asset each of `violations` (of `tenant`) is about; `None` for a violation about a whole
/// source. Violations the read model does not have are left out.
pub async fn violation_assets(
    pool: &sqlx::PgPool,
    tenant: &str,
    violations: &[uuid::Uuid],
) -> Result<Vec<(uuid::Uuid, Option<uuid::Uuid>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, asset_id FROM rm_compliance.violations WHERE tenant_id = $1 AND id = ANY($2)",
    )
    .bind(tenant)
    .bind(violations)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::access_policy::AssetCondition;

    fn names(value: &Value, field: &str) -> Vec<String> {
        serde_json::from_value(value[field].clone()).unwrap()
    }

    #[test]
    fn readers_of_every_asset_pass_no_scope_and_readers_of_none_an_empty_one() {
        assert_eq!(scope_param(&AssetScope::All), None);
        assert_eq!(
            scope_param(&AssetScope::Only(Vec::new())),
            Some(Value::Array(Vec::new()))
        );
    }

    #[test]
    fn a_maximum_sensitivity_spells_out_the_labels_above_it() {
        let up_to = |max: Sensitivity| {
            scope_param(&AssetScope::Only(vec![AssetCondition {
                max_sensitivity: Some(max),
                ..Default::default()
            }]))
            .unwrap()[0]
                .clone()
        };
        let high = up_to(Sensitivity::High);
        let above = names(&high, "above");
        assert!(above.contains(&"CREDIT_CARD_NUMBER".to_owned()));
        assert!(above.contains(&"HEALTH_DIAGNOSIS".to_owned()));
        assert!(
            !above.contains(&"DATE_OF_BIRTH".to_owned()),
            "high itself is in reach"
        );
        assert!(!above.contains(&"EMAIL_ADDRESS".to_owned()));
        assert_eq!(high["custom_above"], false);
        // Custom labels count as medium: out of reach below it.
        let low = up_to(Sensitivity::Low);
        assert!(names(&low, "above").contains(&"EMAIL_ADDRESS".to_owned()));
        assert_eq!(low["custom_above"], true);
        let critical = up_to(Sensitivity::Critical);
        assert!(names(&critical, "above").is_empty());
        // Without a maximum, nothing is too sensitive.
        let tags_only = scope_param(&AssetScope::Only(vec![AssetCondition {
            tags_any: vec!["team:sales".into()],
            ..Default::default()
        }]))
        .unwrap();
        assert!(names(&tags_only[0], "above").is_empty());
        assert_eq!(names(&tags_only[0], "tags_any"), ["team:sales"]);
    }

    #[test]
    fn the_fragment_reads_only_its_parameter_and_alias() {
        let sql = asset_visible("a", 7);
        assert!(sql.contains("$7::jsonb"));
        assert!(!sql.contains("$1") && !sql.contains("$6"));
        assert_eq!(
            when_scoped(7, None, || unreachable!()),
            "($7::jsonb IS NULL)"
        );
    }
}
