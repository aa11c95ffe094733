//! Rows a caller may not read are absent: the caller's asset scope as the query parameter the
//! read models filter by ([`scope`]), and the events about assets out of reach taken out of
//! `history` and the `events` subscription ([`visible_events`]).
//!
//! An event is about an asset when it is an `asset` aggregate's, a `glossary`'s that links or
//! unlinks a term to one (its `asset_id`), or a `violation`'s whose subject is an asset or one
//! of its columns (the `ViolationDetected` names it; later events of the violation are matched
//! through the compliance read model). Other events (sources, scans, rule sets, policies, the
//! terms themselves) name no asset's data and are shown to whoever may see events at all.

use crate::auth::Caller;
use eventlog::StoredEvent;
use projections::visibility::{scope_param, violation_assets, visible_assets};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use uuid::Uuid;

/// The longest a caller with a condition waits for the catalog and compliance read models to
/// reach an event before it is judged (then it is judged on what they have, which hides the
/// assets they do not know yet).
const CATCH_UP: Duration = Duration::from_secs(5);

/// The caller's scope as the read models' query parameter (`None`: every asset).
pub(crate) fn scope(caller: &Caller) -> Option<Value> {
    scope_param(&caller.assets)
}

/// What an event is about, as far as reading goes.
enum About {
    Nothing,
    Asset(Uuid),
    Violation(Uuid),
}

fn about(stored: &StoredEvent) -> About {
    let event = &stored.event;
    // An id that is no UUID names no asset the caller may read.
    let id = || Uuid::parse_str(&event.aggregateid).unwrap_or(Uuid::nil());
    match event.aggregatetype.as_str() {
        "asset" => About::Asset(id()),
        "glossary" => match event.data.get("asset_id").and_then(Value::as_str) {
            Some(asset) => About::Asset(Uuid::parse_str(asset).unwrap_or(Uuid::nil())),
            None => About::Nothing,
        },
        "violation" => match event.data.get("subject") {
            Some(subject) => match subject.get("asset_id").and_then(Value::as_str) {
                Some(asset) => About::Asset(Uuid::parse_str(asset).unwrap_or(Uuid::nil())),
                None => About::Nothing,
            },
            None => About::Violation(id()),
        },
        _ => About::Nothing,
    }
}

/// `events` without those about assets the caller may not read.
pub(crate) async fn visible_events(
    pool: &sqlx::PgPool,
    caller: &Caller,
    mut events: Vec<StoredEvent>,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    // Grants name people (subjects): like the `roles` query, they are for those who manage
    // roles, not for every subscriber.
    if !caller.allows(domain::access::Permission::ManageRoles) {
        use domain::Aggregate;
        events.retain(|e| e.event.aggregatetype != domain::access_policy::AccessPolicy::NAME);
    }
    let Some(param) = scope(caller) else {
        return Ok(events);
    };
    // An OpenLineage run names the assets at both ends of its edges, some of which may be out of
    // the caller's reach; a caller limited to some assets reads lineage through `lineage`, which
    // hides those, not through the raw events.
    {
        use domain::Aggregate;
        events.retain(|e| e.event.aggregatetype != domain::lineage_job::LineageJob::NAME);
    }
    let about: Vec<About> = events.iter().map(about).collect();
    if about.iter().all(|a| matches!(a, About::Nothing)) {
        return Ok(events);
    }
    let last = events.iter().map(|e| e.sequence).max().unwrap_or(0);
    // The subscription may run ahead of the read models that say what an asset holds.
    projections::checkpoint::wait_for(
        pool,
        &[projections::catalog::NAME, projections::compliance::NAME],
        last,
        CATCH_UP,
    )
    .await?;
    let tenant = caller.tenant.as_str();
    let violations: Vec<Uuid> = about
        .iter()
        .filter_map(|a| match a {
            About::Violation(v) => Some(*v),
            _ => None,
        })
        .collect();
    let violation_asset: HashMap<Uuid, Option<Uuid>> = if violations.is_empty() {
        HashMap::new()
    } else {
        violation_assets(pool, tenant, &violations)
            .await?
            .into_iter()
            .collect()
    };
    let mut assets: Vec<Uuid> = about
        .iter()
        .filter_map(|a| match a {
            About::Asset(asset) => Some(*asset),
            _ => None,
        })
        .collect();
    assets.extend(violation_asset.values().flatten());
    let visible: HashSet<Uuid> = visible_assets(pool, tenant, &assets, Some(&param)).await?;
    Ok(events
        .into_iter()
        .zip(about)
        .filter(|(_, about)| match about {
            About::Nothing => true,
            About::Asset(asset) => visible.contains(asset),
            About::Violation(v) => match violation_asset.get(v) {
                Some(None) => true,
                Some(Some(asset)) => visible.contains(asset),
                None => false,
            },
        })
        .map(|(event, _)| event)
        .collect())
}

/// `parked` (the `consistency` list) without the events a caller may not read: for a caller
/// whose roles reach assets only under conditions, those of assets out of reach, of violations
/// about them (or unknown to the compliance read model), and of glossary links and lineage runs
/// (a parked row does not say which asset they name, so they stay hidden); role definitions and
/// grants only for those who manage roles, as in [`visible_events`]. A parked row holds no
/// event data, only its aggregate: that is what is judged.
pub(crate) async fn visible_parked(
    pool: &sqlx::PgPool,
    caller: &Caller,
    mut parked: Vec<projections::parked::ParkedEvent>,
) -> Result<Vec<projections::parked::ParkedEvent>, sqlx::Error> {
    use domain::Aggregate;
    if !caller.allows(domain::access::Permission::ManageRoles) {
        parked.retain(|p| {
            p.aggregate_type.as_deref() != Some(domain::access_policy::AccessPolicy::NAME)
        });
    }
    let Some(param) = scope(caller) else {
        return Ok(parked);
    };
    let id_of = |p: &projections::parked::ParkedEvent| {
        p.aggregate_id
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok())
            .unwrap_or(Uuid::nil())
    };
    let of_type = |kind: &str| -> Vec<Uuid> {
        parked
            .iter()
            .filter(|p| p.aggregate_type.as_deref() == Some(kind))
            .map(id_of)
            .collect()
    };
    let tenant = caller.tenant.as_str();
    let violation_asset: HashMap<Uuid, Option<Uuid>> =
        violation_assets(pool, tenant, &of_type("violation"))
            .await?
            .into_iter()
            .collect();
    let mut assets = of_type("asset");
    assets.extend(violation_asset.values().flatten());
    let visible = visible_assets(pool, tenant, &assets, Some(&param)).await?;
    parked.retain(|p| match p.aggregate_type.as_deref() {
        Some("asset") => visible.contains(&id_of(p)),
        Some("violation") => match violation_asset.get(&id_of(p)) {
            Some(None) => true,
            Some(Some(asset)) => visible.contains(asset),
            None => false,
        },
        Some("glossary") | Some("lineage_job") | None => false,
        Some(_) => true,
    });
    Ok(parked)
}
