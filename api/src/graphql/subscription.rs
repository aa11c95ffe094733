//! Subscriptions: live CloudEvents of the caller's tenant, optionally filtered by type and
//! aggregate, resumable from a stream sequence.
//!
//! What the caller may see is decided again for every commit: unless their token's roles alone
//! allow subscribing (grants can only add to those), their grants are read again from the
//! `access` read model, and the subscription ends once they no longer allow it (a revoked
//! grant). Events about assets the caller may not read are not delivered
//! ([`super::visibility`]).

use super::errors::internal;
use super::query::parse_id;
use super::types::Event;
use super::{authorize, Services};
use async_graphql::{Context, Result, Subscription, ID};
use domain::access::{roles_allow, Permission};
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
        // Grants only add to the token's roles: a token that allows subscribing by itself, and
        // so reaches every asset, needs no second look.
        let settled = roles_allow(&caller.token_roles, Permission::SubscribeEvents);
        let caller = caller.clone();
        let pool = services.pool.clone();
        let store = services.store.clone();
        Ok(commits
            .take_until(stopped)
            .then(move |commit| {
                let caller = caller.clone();
                let pool = pool.clone();
                async move {
                    let caller = if settled {
                        caller
                    } else {
                        crate::grants::with_grants(&pool, caller).await
                    };
                    (commit, caller, pool)
                }
            })
            .take_while(|(_, caller, _)| {
                futures::future::ready(caller.allows(Permission::SubscribeEvents))
            })
            .then(move |(commit, caller, pool)| {
                let store = store.clone();
                async move {
                    let items: Vec<Result<Event>> = match commit {
                        Ok(commit) => {
                            let events: Vec<_> = commit.into_stored_events().collect();
                            match super::visibility::visible_events(&pool, &caller, events).await {
                                // Keys are read per commit: an erasure shows from the next event on.
                                Ok(events) => match super::types::open_events(&store, events).await
                                {
                                    Ok(events) => events.into_iter().map(Ok).collect(),
                                    Err(err) => vec![Err(internal(&err))],
                                },
                                Err(err) => vec![Err(internal(&err))],
                            }
                        }
                        Err(err) => vec![Err(internal(&err))],
                    };
                    futures::stream::iter(items)
                }
            })
            .flatten()
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
