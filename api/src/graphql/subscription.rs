//! Subscriptions: live CloudEvents of the caller's tenant, optionally filtered by type and
//! aggregate, resumable from a stream sequence.

use super::errors::internal;
use super::query::parse_id;
use super::types::Event;
use super::{authorize, Services};
use async_graphql::{Context, Result, Subscription, ID};
use domain::access::Permission;
use eventlog::DeliverFrom;
use futures::{Stream, StreamExt};

pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// Events of your tenant as they are appended. `types` filters by short name
    /// (`SourceRegistered`) or full CloudEvents type; `aggregateId` by aggregate; `fromSequence`
    /// replays from that stream sequence first (without it, only new events arrive).
    async fn events(
        &self,
        ctx: &Context<'_>,
        types: Option<Vec<String>>,
        aggregate_id: Option<ID>,
        from_sequence: Option<i64>,
    ) -> Result<impl Stream<Item = Result<Event>>> {
        let caller = authorize(ctx, Permission::SubscribeEvents)?;
        let services = ctx.data_unchecked::<Services>();
        let names = services.store.names();
        let filter = match aggregate_id.as_ref().map(parse_id).transpose()? {
            Some(id) => names.any_aggregate(&caller.tenant, &id),
            None => names.tenant(&caller.tenant),
        };
        let from = match from_sequence {
            Some(sequence) if sequence > 0 => DeliverFrom::Sequence(sequence as u64),
            _ => DeliverFrom::New,
        };
        let commits = services
            .store
            .read(&filter, from)
            .await
            .map_err(|err| internal(&err))?;
        let mut shutdown = services.shutdown.clone();
        let stopped = async move {
            let _ = shutdown.wait_for(|stopped| *stopped).await;
        };
        Ok(commits
            .take_until(stopped)
            .flat_map(|commit| {
                let items: Vec<Result<Event>> = match commit {
                    Ok(commit) => commit
                        .into_stored_events()
                        .map(|e| Ok(Event::new(e)))
                        .collect(),
                    Err(err) => vec![Err(internal(&err))],
                };
                futures::stream::iter(items)
            })
            .filter(move |item| {
                let keep = match (item, &types) {
                    (Ok(event), Some(types)) => types.iter().any(|wanted| {
                        event.stored().event.event_type == *wanted
                            || event
                                .stored()
                                .event
                                .name_and_version()
                                .map(|(name, _)| name)
                                == Some(wanted.as_str())
                    }),
                    _ => true,
                };
                futures::future::ready(keep)
            }))
    }
}
