//! The `asOf:` arguments: one asset, its labels, the data sources and a page of assets as they
//! stood at a past time, each folded from its own events in the stream
//! ([`projections::as_of_read`]).
//!
//! Which rows exist at all comes from the live read models (an asset or source never leaves
//! them, removed and archived ones included, so every one that existed at `T` is there); what
//! each looked like at `T` comes from the stream. A caller whose roles reach assets only under
//! conditions must be admitted both now and by the asset as it stood: today's conditions
//! decide, and a past state holding what they exclude (a label revoked since) stays out.

use super::errors::internal;
use super::Services;
use crate::auth::Caller;
use async_graphql::Result;
use chrono::{DateTime, Utc};
use projections::as_of_read;
use projections::catalog::{self, AsOf, AssetRow};
use projections::data_sources::{self, DataSourceRow};

/// Most live rows a listing looks at to fill one page as of a time: a page whose rows mostly
/// did not exist yet (or are filtered out) stops there rather than folding the whole catalogue.
const MOST_CANDIDATES: usize = 2_000;

/// A data source of the caller's tenant as it stood at `at` (`None`: not registered by then).
pub(crate) async fn source_at(
    services: &Services,
    caller: &Caller,
    id: uuid::Uuid,
    at: DateTime<Utc>,
) -> Result<Option<DataSourceRow>> {
    as_of_read::source_at(&services.store, &caller.tenant, id, at)
        .await
        .map_err(|err| internal(&err))
}

/// An asset as it stood at `at`, when the caller may read it (see the module doc): its row
/// carries [`AsOf`], so its columns' labels and its history answer as of `at` too.
pub(crate) async fn asset_at(
    services: &Services,
    caller: &Caller,
    live: &AssetRow,
    at: DateTime<Utc>,
) -> Result<Option<AssetRow>> {
    let folded = as_of_read::asset_at(&services.store, &caller.tenant, live.id, live.source_id, at)
        .await
        .map_err(|err| internal(&err))?;
    let Some(folded) = folded.filter(|f| as_of_read::admits(&caller.assets, f)) else {
        return Ok(None);
    };
    let mut row = folded.row;
    row.as_of = Some(AsOf {
        at,
        labels: folded.labels.into(),
    });
    Ok(Some(row))
}

/// One asset by id as it stood at `at`; `None` when unknown, out of reach now or then, or not
/// yet discovered.
pub(crate) async fn asset_by_id(
    services: &Services,
    caller: &Caller,
    id: uuid::Uuid,
    at: DateTime<Utc>,
) -> Result<Option<AssetRow>> {
    let scope = super::visibility::scope(caller);
    let Some(live) = catalog::asset(&services.pool, caller.tenant.as_str(), id, scope.as_ref())
        .await
        .map_err(|err| internal(&err))?
    else {
        return Ok(None);
    };
    asset_at(services, caller, &live, at).await
}

/// A page of assets as they stood at `at`, in path order: the live listing (`filter`, whose
/// `include_removed` is judged on the past state) walked until `filter.limit` assets that
/// existed then are found, or [`MOST_CANDIDATES`] were looked at.
pub(crate) async fn assets_at(
    services: &Services,
    caller: &Caller,
    mut filter: catalog::AssetFilter,
    at: DateTime<Utc>,
) -> Result<Vec<AssetRow>> {
    let wanted = filter.limit as usize;
    let include_removed = filter.include_removed;
    // An asset removed now may not have been then.
    filter.include_removed = true;
    let mut found = Vec::new();
    let mut looked_at = 0;
    loop {
        let page = catalog::assets(&services.pool, caller.tenant.as_str(), &filter)
            .await
            .map_err(|err| internal(&err))?;
        let last = page.len() < filter.limit as usize;
        for live in &page {
            looked_at += 1;
            if live.first_seen_at > at {
                continue;
            }
            if let Some(row) = asset_at(services, caller, live, at).await? {
                if include_removed || !row.removed {
                    found.push(row);
                    if found.len() == wanted {
                        return Ok(found);
                    }
                }
            }
        }
        match page.last() {
            Some(row) if !last && looked_at < MOST_CANDIDATES => {
                filter.after = Some(row.path.clone())
            }
            _ => return Ok(found),
        }
    }
}

/// A page of data sources as they stood at `at`, in registration order, with the listing's
/// filters judged on the past state (a source archived since is listed as it was).
pub(crate) async fn sources_at(
    services: &Services,
    caller: &Caller,
    include_archived: bool,
    search: Option<&str>,
    mut after: Option<uuid::Uuid>,
    limit: i64,
    at: DateTime<Utc>,
) -> Result<Vec<DataSourceRow>> {
    let search = search.map(str::to_lowercase);
    let mut found = Vec::new();
    let mut looked_at = 0;
    loop {
        let filter = data_sources::ListFilter {
            include_archived: true,
            search: None,
            after,
            limit,
        };
        let page = data_sources::list(&services.pool, caller.tenant.as_str(), &filter)
            .await
            .map_err(|err| internal(&err))?;
        let last = page.len() < limit as usize;
        for live in &page {
            looked_at += 1;
            if live.registered_at > at {
                // Ids are UUIDv7 in registration order: every later one was registered later.
                return Ok(found);
            }
            let Some(row) = source_at(services, caller, live.id, at).await? else {
                continue;
            };
            let shown = (include_archived || row.lifecycle_state != "archived")
                && search
                    .as_deref()
                    .is_none_or(|s| row.name.to_lowercase().contains(s));
            if shown {
                found.push(row);
                if found.len() as i64 == limit {
                    return Ok(found);
                }
            }
        }
        match page.last() {
            Some(row) if !last && looked_at < MOST_CANDIDATES => after = Some(row.id),
            _ => return Ok(found),
        }
    }
}

/// Violations as they stood at `at`: today's listing (`filter` without its statuses, framework
/// and severity, which are judged on the past state; its source and the caller's scope apply
/// as they do live) walked in its order — at most [`MOST_CANDIDATES`] rows — each folded from
/// its own events up to `at`. Returns every one that existed then and matches, each with its
/// place in that order (severity rank as of today, id), where a next page goes on from.
pub(crate) async fn violations_at(
    services: &Services,
    caller: &Caller,
    mut filter: projections::compliance::ViolationFilter,
    at: DateTime<Utc>,
) -> Result<Vec<((i16, uuid::Uuid), projections::compliance::ViolationRow)>> {
    use projections::compliance as rm;
    let statuses = std::mem::take(&mut filter.statuses);
    let framework = filter.framework.take();
    let severity = filter.severity.take();
    filter.after = None;
    filter.limit = 500;
    let tenant = caller.tenant.as_str();
    let mut found = Vec::new();
    let mut looked_at = 0;
    loop {
        let page = rm::violations(&services.pool, tenant, &filter)
            .await
            .map_err(|err| internal(&err))?;
        let last = page.len() < filter.limit as usize;
        for live in &page {
            looked_at += 1;
            let Some(row) = as_of_read::violation_at(&services.store, &caller.tenant, live, at)
                .await
                .map_err(|err| internal(&err))?
            else {
                continue;
            };
            let shown = (statuses.is_empty() || statuses.contains(&row.status))
                && framework.as_ref().is_none_or(|f| *f == row.framework)
                && severity.as_ref().is_none_or(|s| *s == row.severity);
            if shown {
                found.push(((live.severity_rank, live.id), row));
            }
            if looked_at >= MOST_CANDIDATES {
                break;
            }
        }
        match page.last() {
            Some(row) if !last && looked_at < MOST_CANDIDATES => {
                filter.after = Some((row.severity_rank, row.id))
            }
            _ => return Ok(found),
        }
    }
}
