//! Ownership over GraphQL: the query `ownedBy(owner:)` — the assets whose effective owner
//! (their own, else their source's) matches. Only assets in the caller's asset scope (a custom
//! role's condition) are listed.

use super::catalog::AssetGql;
use super::errors::internal;
use super::owner_types::{OwnerKindGql, OwnerTypeGql};
use super::{api_error, authorize, Services};
use async_graphql::{Context, Object, Result};
use domain::access::Permission;
use domain::owner::{OwnerKind, OwnerType};
use projections::ownership::{self, OwnerFilter};

#[derive(Default)]
pub struct OwnershipQuery;

#[Object]
impl OwnershipQuery {
    /// Assets whose effective owner — their own, else their source's — has this name
    /// (case-insensitive, whole name), optionally of one kind and type; ordered by path. Only
    /// assets your roles reach are listed.
    #[graphql(complexity = "crate::graphql::limits::list_cost(first, 1000, child_complexity)")]
    // GraphQL arguments, one per input of the query.
    #[allow(clippy::too_many_arguments)]
    async fn owned_by(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The owner's name.")] owner: String,
        #[graphql(desc = "Only owners of this kind.")] kind: Option<OwnerKindGql>,
        #[graphql(name = "type", desc = "Only owners of this type.")] owner_type: Option<
            OwnerTypeGql,
        >,
        #[graphql(default = false, desc = "Also assets the last scan no longer found.")]
        include_removed: bool,
        #[graphql(
            default = 100,
            desc = "Page size, 1 to 1000; more is a VALIDATION error."
        )]
        first: i32,
        #[graphql(desc = "The path of the last asset of the previous page.")] after: Option<String>,
    ) -> Result<Vec<AssetGql>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let limit = crate::graphql::limits::page_size("first", first, 1000)?;
        let owner = owner.trim();
        if owner.is_empty() || owner.chars().count() > 256 || owner.contains('\0') {
            return Err(api_error(
                "VALIDATION",
                "owner: 1 to 256 characters, no NUL",
            ));
        }
        if after.as_ref().is_some_and(|a| a.contains('\0')) {
            return Err(api_error("VALIDATION", "after: no NUL"));
        }
        let filter = OwnerFilter {
            name: owner.to_owned(),
            kind: kind.map(|k| OwnerKind::from(k).as_str().to_owned()),
            owner_type: owner_type.map(|t| OwnerType::from(t).as_str().to_owned()),
            include_removed,
            after,
            limit,
            scope: super::visibility::scope(caller),
        };
        let rows = ownership::owned_by(&services.pool, caller.tenant.as_str(), &filter)
            .await
            .map_err(|err| internal(&err))?;
        Ok(rows.into_iter().map(AssetGql).collect())
    }
}
