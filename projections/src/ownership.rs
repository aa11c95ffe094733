//! Who owns which asset: the query behind `ownedBy(owner:)`, over the `catalog` and
//! `data_sources` read models. An asset's effective owner is its own (set with
//! `updateAssetMetadata`), else its source's — the same rule the catalog shows and the
//! compliance facts read. Only assets in the caller's scope ([`crate::visibility`]) are listed.

use crate::catalog::{AssetRow, ASSETS_WITH_SOURCE, ASSET_COLUMNS};

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct OwnerFilter {
    /// The owner's name, matched whole and case-insensitively.
    pub name: String,
    /// `person` or `team`; none: either.
    pub kind: Option<String>,
    /// `technical`, `business` or `steward`; none: any.
    pub owner_type: Option<String>,
    pub include_removed: bool,
    /// Keyset cursor: the path of the last asset of the previous page.
    pub after: Option<String>,
    pub limit: i64,
    /// The caller's scope ([`crate::visibility::scope_param`]); `None`: every asset.
    pub scope: Option<serde_json::Value>,
}

/// The effective owner's name, kind and type of the asset `a` beside its source `s`. A source
/// owner recorded as a plain string (before owners were typed) has a name but no kind or type.
const EFFECTIVE_OWNER: &str = "CASE WHEN a.owner IS NOT NULL
        THEN jsonb_build_object('name', a.owner, 'kind', a.owner_kind, 'type', a.owner_type)
        ELSE CASE jsonb_typeof(s.config->'owner')
            WHEN 'object' THEN s.config->'owner'
            WHEN 'string' THEN jsonb_build_object('name', s.config->>'owner')
        END
    END";

/// The tenant's assets whose effective owner matches, ordered by path.
pub async fn owned_by(
    pool: &sqlx::PgPool,
    tenant: &str,
    filter: &OwnerFilter,
) -> Result<Vec<AssetRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {ASSET_COLUMNS} FROM {ASSETS_WITH_SOURCE}
         CROSS JOIN LATERAL (SELECT {EFFECTIVE_OWNER} AS o) eff
         WHERE a.tenant_id = $1
           AND lower(eff.o->>'name') = lower($2)
           AND ($3::text IS NULL OR eff.o->>'kind' = $3)
           AND ($4::text IS NULL OR eff.o->>'type' = $4)
           AND ($5 OR NOT a.removed)
           AND ($6::text IS NULL OR a.path > $6)
           AND {visible}
         ORDER BY a.path LIMIT $7",
        visible = crate::visibility::when_scoped(8, filter.scope.as_ref(), || {
            crate::visibility::asset_visible("a", 8)
        })
    ))
    .bind(tenant)
    .bind(&filter.name)
    .bind(filter.kind.as_deref())
    .bind(filter.owner_type.as_deref())
    .bind(filter.include_removed)
    .bind(filter.after.as_deref())
    .bind(filter.limit)
    .bind(filter.scope.as_ref())
    .fetch_all(pool)
    .await
}
