//! Queries.

use super::errors::internal;
use super::inputs::{AuditFilterInput, AuditOutcome};
use super::types::{
    AuditEntry, AuditPage, Consistency, DataSource, Event, ParkedEvent, ProjectionProgress,
};
use super::{api_error, authorize, Services};
use async_graphql::{Context, Object, Result, ID};
use domain::access::Permission;
use domain::AggregateId;
use eventlog::DeliverFrom;
use futures::TryStreamExt;
use projections::{audit_log, data_sources};

#[derive(Default)]
pub struct QueryRoot;

pub(crate) fn parse_id(id: &ID) -> Result<AggregateId> {
    AggregateId::parse(id.as_str()).map_err(|err| api_error("VALIDATION", err.to_string()))
}

fn page_size(first: i32) -> Result<i64> {
    crate::graphql::limits::page_size("first", first, 500)
}

#[Object]
impl QueryRoot {
    /// Data sources of your tenant in registration order. `after` is the id of the last source
    /// of the previous page.
    #[graphql(complexity = "crate::graphql::limits::list_cost(first, 500, child_complexity)")]
    async fn data_sources(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Include archived sources.", default = false)] include_archived: bool,
        #[graphql(desc = "Case-insensitive part of the name.")] search: Option<String>,
        #[graphql(
            default = 50,
            desc = "Page size, 1 to 500; more is a VALIDATION error."
        )]
        first: i32,
        after: Option<ID>,
        #[graphql(
            desc = "Answer as the sources stood at this time (RFC 3339), each folded from its own events up to then; `includeArchived` and `search` are judged on that state. Sources registered later are absent."
        )]
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<DataSource>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        if let Some(at) = as_of {
            let after = after
                .as_ref()
                .map(parse_id)
                .transpose()?
                .map(|id| id.as_uuid());
            let rows = super::as_of::sources_at(
                services,
                caller,
                include_archived,
                search.as_deref(),
                after,
                page_size(first)?,
                at,
            )
            .await?;
            return Ok(rows.into_iter().map(DataSource).collect());
        }
        let filter = data_sources::ListFilter {
            include_archived,
            search,
            after: after
                .as_ref()
                .map(parse_id)
                .transpose()?
                .map(|id| id.as_uuid()),
            limit: page_size(first)?,
        };
        let rows = data_sources::list(&services.pool, caller.tenant.as_str(), &filter)
            .await
            .map_err(|err| internal(&err))?;
        Ok(rows.into_iter().map(DataSource).collect())
    }

    /// One data source of your tenant.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn data_source(&self, ctx: &Context<'_>, id: ID) -> Result<DataSource> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let id = parse_id(&id)?;
        data_sources::get(&services.pool, caller.tenant.as_str(), id.as_uuid())
            .await
            .map_err(|err| internal(&err))?
            .map(DataSource)
            .ok_or_else(|| api_error("NOT_FOUND", format!("no data source {id}")))
    }

    /// Who did what, when, from which command — and which commands were refused, by whom and
    /// why — newest first (by time). Auditors and admins only (and custom roles with
    /// `audit:read`). Entries about an asset your roles do not reach — its events, a violation
    /// about it, a refused command naming it — are absent.
    #[graphql(complexity = "crate::graphql::limits::list_cost(first, 500, child_complexity)")]
    async fn audit_trail(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilterInput>,
        #[graphql(
            default = 50,
            desc = "Page size, 1 to 500; more is a VALIDATION error."
        )]
        first: i32,
        #[graphql(desc = "`endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<AuditPage> {
        let caller = authorize(ctx, Permission::ReadAudit)?;
        let services = ctx.data_unchecked::<Services>();
        let filter = filter.unwrap_or_default();
        let before = after.as_deref().map(parse_audit_cursor).transpose()?;
        let limit = page_size(first)?;
        let bounded = |name: &str, text: Option<String>| -> Result<Option<String>> {
            match text {
                Some(text) if text.chars().count() > 200 => Err(api_error(
                    "VALIDATION",
                    format!("filter.{name} is longer than 200 characters"),
                )),
                other => Ok(other),
            }
        };
        let mut rows = audit_log::trail(
            &services.pool,
            &audit_log::AuditFilter {
                tenant: Some(caller.tenant.as_str().to_owned()),
                aggregate_id: filter
                    .aggregate_id
                    .map(|id| id.0)
                    .map(|id| bounded("aggregateId", Some(id)))
                    .transpose()?
                    .flatten(),
                actor: bounded("actor", filter.actor)?,
                event_type: bounded("eventType", filter.event_type)?,
                action: bounded("action", filter.action)?,
                resource: bounded("resource", filter.resource)?,
                outcome: filter.outcome.map(|o| o.as_str().to_owned()),
                since: filter.since,
                until: filter.until,
                before,
                oldest_first: false,
                limit: limit + 1,
                scope: super::visibility::scope(caller),
            },
        )
        .await
        .map_err(|err| internal(&err))?;
        let has_next_page = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let end_cursor = has_next_page
            .then(|| {
                rows.last().map(|r| {
                    format!(
                        "{}:{}:{}:{}",
                        r.occurred_at.timestamp_micros(),
                        r.sequence,
                        r.aggregate_version,
                        r.id
                    )
                })
            })
            .flatten();
        Ok(AuditPage {
            entries: rows
                .into_iter()
                .map(|r| AuditEntry {
                    event_id: ID(r.id.to_string()),
                    sequence: r.sequence,
                    time: r.occurred_at,
                    actor: r.actor,
                    event_type: r.event_type,
                    aggregate_type: r.aggregate_type,
                    aggregate_id: ID(r.target_id),
                    aggregate_version: r.aggregate_version,
                    command_id: r.command_id,
                    correlation_id: r.correlation_id,
                    outcome: AuditOutcome::parse(&r.outcome),
                    action: r.action,
                    reason: r.reason,
                    roles: r
                        .roles
                        .split(',')
                        .filter(|r| !r.is_empty())
                        .map(str::to_owned)
                        .collect(),
                })
                .collect(),
            end_cursor,
            has_next_page,
        })
    }

    /// An aggregate's full history, read straight from the event store (not a read model), in
    /// order. Auditors and admins only (and custom roles with `audit:read`); empty for an asset
    /// (or a violation about one) your roles do not reach.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn history(&self, ctx: &Context<'_>, aggregate_id: ID) -> Result<Vec<Event>> {
        let caller = authorize(ctx, Permission::ReadAudit)?;
        let services = ctx.data_unchecked::<Services>();
        let id = parse_id(&aggregate_id)?;
        let filter = services.store.names().any_aggregate(&caller.tenant, &id);
        let commits: Vec<_> = services
            .store
            .read_to_end(&filter, DeliverFrom::Start)
            .await
            .map_err(|err| internal(&err))?
            .try_collect()
            .await
            .map_err(|err| internal(&err))?;
        let events: Vec<_> = commits
            .into_iter()
            .flat_map(|commit| commit.into_stored_events())
            .collect();
        let visible = super::visibility::visible_events(&services.pool, caller, events)
            .await
            .map_err(|err| internal(&err))?;
        super::types::open_events(&services.store, visible)
            .await
            .map_err(|err| internal(&err))
    }

    /// How far the read models are behind the event store, and which of your tenant's events
    /// a projection could not apply (parked: every other event is projected; an operator
    /// replays them with `pursight projections retry` after a fix).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn consistency(&self, ctx: &Context<'_>) -> Result<Consistency> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let stream_sequence = services
            .store
            .last_sequence()
            .await
            .map_err(|err| internal(&err))?;
        let checkpoints = projections::checkpoint::all(&services.pool)
            .await
            .map_err(|err| internal(&err))?;
        // Only the caller's tenant: another tenant's parked events are none of its business.
        let tenant = Some(caller.tenant.as_str());
        let counts = projections::parked::counts(&services.pool, tenant)
            .await
            .map_err(|err| internal(&err))?;
        let parked = projections::parked::list_at_most(
            &services.pool,
            None,
            tenant,
            ParkedEvent::MAX as i64,
        )
        .await
        .map_err(|err| internal(&err))?;
        // Those about assets out of the caller's reach are absent, as in every other answer.
        let parked = super::visibility::visible_parked(&services.pool, caller, parked)
            .await
            .map_err(|err| internal(&err))?;
        let projections: Vec<ProjectionProgress> = projections::ALL
            .iter()
            .map(|name| ProjectionProgress {
                name: (*name).to_owned(),
                sequence: checkpoints
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(0, |(_, s)| *s as i64),
                parked: counts
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(0, |(_, count)| *count as i64),
            })
            .collect();
        Ok(Consistency {
            projected_sequence: projections.iter().map(|p| p.sequence).min().unwrap_or(0),
            stream_sequence: stream_sequence as i64,
            projections,
            // Not those a rebuild in progress parked (`<name>__rebuild`): they replace the
            // live ones when it swaps in.
            parked: parked
                .into_iter()
                .filter(|p| projections::ALL.contains(&p.projection.as_str()))
                .map(ParkedEvent::from)
                .collect(),
        })
    }
}

/// Reads an `auditTrail` cursor: `micros:sequence:version:id`.
fn parse_audit_cursor(cursor: &str) -> Result<audit_log::TrailCursor> {
    let mut parts = cursor.splitn(4, ':');
    let parsed = (|| {
        let micros: i64 = parts.next()?.parse().ok()?;
        let sequence = parts.next()?.parse().ok()?;
        let version = parts.next()?.parse().ok()?;
        let id = uuid::Uuid::parse_str(parts.next()?).ok()?;
        Some((
            chrono::DateTime::from_timestamp_micros(micros)?,
            sequence,
            version,
            id,
        ))
    })();
    parsed.ok_or_else(|| api_error("VALIDATION", "after is not a cursor returned by auditTrail"))
}
