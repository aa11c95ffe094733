//! Tenants as the service sees them: who is suspended, kept in memory and current.
//!
//! A tenant's own events live in its own subject space, `<prefix>.events.<tenant>.tenant.<id>`,
//! with one Tenant aggregate per tenant under an id derived from the tenant id
//! ([`aggregate_id`]). Only the platform operator writes them: `pursight tenant` talks to NATS
//! directly, and no API route issues a tenant command, so no token can suspend another tenant
//! or reactivate its own.
//!
//! [`TenantRegistry`] folds every tenant's events into a map at start-up and then follows the
//! stream (an ordered consumer filtered on `<prefix>.events.*.tenant.*`), so checking a token's
//! tenant costs a map lookup, never a stream read, and a suspension takes effect as soon as the
//! consumer delivers it (typically milliseconds).
//!
//! Tenants that were never created are accepted, as before tenants were recorded: creating
//! tenants is opt-in, and existing deployments keep working without a migration.

use chrono::{DateTime, Utc};
use domain::tenant::{Tenant, TenantEvent, TenantState, TenantStatus};
use domain::{Aggregate, AggregateId, DomainEvent, TenantId};
use eventlog::{DeliverFrom, EventStore, EventStoreError, StoredCommit};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The id of `tenant`'s Tenant aggregate: derived from the tenant id alone, so every
/// `pursight tenant` command about one tenant addresses the same aggregate.
pub fn aggregate_id(tenant: &TenantId) -> AggregateId {
    eventlog::idempotency::derived_aggregate_id(tenant, Tenant::NAME, &uuid::Uuid::nil())
}

/// Every tenant's Tenant events: `<prefix>.events.*.tenant.*`.
pub fn subject_filter(store: &EventStore) -> String {
    format!("{}.events.*.{}.*", store.names().prefix(), Tenant::NAME)
}

/// The commit with its sealed values (a suspension's reason) opened, or `[erased]`.
async fn opened(
    store: &EventStore,
    mut commit: StoredCommit,
) -> Result<StoredCommit, EventStoreError> {
    store.opener().open(&mut commit.events).await?;
    Ok(commit)
}

/// One tenant as recorded, with when its status last changed.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantRecord {
    pub tenant: String,
    pub state: TenantState,
    /// When it was created, suspended or reactivated last (the envelope time).
    pub since: DateTime<Utc>,
}

/// Why a request of a tenant is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantRefusal {
    #[error("tenant {tenant} is suspended since {since}: {reason}")]
    Suspended {
        tenant: String,
        since: String,
        reason: String,
    },
    /// Only with `PURSIGHT_REQUIRE_TENANTS=true`.
    #[error("tenant {0} was never created; the platform operator creates tenants with `pursight tenant create`")]
    Unknown(String),
}

impl TenantRefusal {
    /// The `extensions.code` of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            TenantRefusal::Suspended { .. } => "TENANT_SUSPENDED",
            TenantRefusal::Unknown(_) => "TENANT_UNKNOWN",
        }
    }

    pub fn tenant(&self) -> &str {
        match self {
            TenantRefusal::Suspended { tenant, .. } | TenantRefusal::Unknown(tenant) => tenant,
        }
    }
}

/// The recorded tenants, kept current by [`TenantRegistry::follow`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TenantRegistry {
    tenants: Arc<RwLock<BTreeMap<String, TenantRecord>>>,
    /// Bumped after every applied commit, so open connections re-check their tenant.
    changes: Arc<watch::Sender<u64>>,
}

impl Default for TenantRegistry {
    fn default() -> Self {
        Self {
            tenants: Arc::default(),
            changes: Arc::new(watch::channel(0).0),
        }
    }
}

impl TenantRegistry {
    /// Notified whenever a tenant's status may have changed.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Resolves once `tenant` is suspended (never, while it is not); for ending an open
    /// connection of a tenant that gets suspended.
    pub async fn suspended(&self, tenant: &TenantId) -> TenantRefusal {
        let mut changes = self.changes();
        loop {
            if let Err(err @ TenantRefusal::Suspended { .. }) = self.check(tenant, false) {
                return err;
            }
            if changes.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    /// Every recorded tenant from the stream as it is now, and the sequence of the last commit
    /// read (0 when there is none).
    pub async fn load(store: &EventStore) -> Result<(Self, u64), EventStoreError> {
        let registry = Self::default();
        let mut commits = Box::pin(
            store
                .read_to_end(&subject_filter(store), DeliverFrom::Start)
                .await?,
        );
        let mut last = 0;
        while let Some(commit) = commits.next().await {
            let commit = opened(store, commit?).await?;
            last = commit.sequence;
            registry.apply(&commit);
        }
        Ok((registry, last))
    }

    /// Follows the stream after sequence `after` until `shutdown`, applying each tenant commit.
    /// A broken consumer is re-created from the last commit applied.
    pub fn follow(
        &self,
        store: EventStore,
        after: u64,
        mut shutdown: watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        let registry = self.clone();
        tokio::spawn(async move {
            let filter = subject_filter(&store);
            let mut last = after;
            loop {
                let read = async {
                    let mut commits =
                        Box::pin(store.read(&filter, DeliverFrom::Sequence(last + 1)).await?);
                    while let Some(commit) = commits.next().await {
                        let commit = opened(&store, commit?).await?;
                        last = commit.sequence;
                        registry.apply(&commit);
                    }
                    Ok::<(), EventStoreError>(())
                };
                tokio::select! {
                    result = read => {
                        if let Err(err) = result {
                            tracing::warn!(error = %err, after = last, "following tenant events failed; retrying");
                        }
                    }
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
            }
        })
    }

    /// Folds one commit's Tenant events in. Events of other aggregates and undecodable events
    /// are skipped: a tenant is only what its valid events say.
    pub fn apply(&self, commit: &StoredCommit) {
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        for event in &commit.events {
            if event.aggregatetype != Tenant::NAME {
                continue;
            }
            let Some((event_type, version)) = event.name_and_version() else {
                continue;
            };
            let decoded = match TenantEvent::from_stored(event_type, version, &event.data) {
                Ok(decoded) => decoded,
                Err(err) => {
                    tracing::warn!(error = %err, sequence = commit.sequence, "tenant event skipped");
                    continue;
                }
            };
            let record = tenants
                .entry(event.tenant.clone())
                .or_insert_with(|| TenantRecord {
                    tenant: event.tenant.clone(),
                    state: TenantState::default(),
                    since: event.time,
                });
            record.state = Tenant::evolve(std::mem::take(&mut record.state), &decoded);
            record.since = event.time;
        }
        drop(tenants);
        self.changes
            .send_modify(|version| *version = commit.sequence);
    }

    /// Refuses a suspended tenant, and with `require_created` one never created; active
    /// tenants (and, without it, never-created ones) pass.
    pub fn check(&self, tenant: &TenantId, require_created: bool) -> Result<(), TenantRefusal> {
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        match tenants
            .get(tenant.as_str())
            .map(|record| (record, record.state.status))
        {
            Some((record, TenantStatus::Suspended)) => Err(TenantRefusal::Suspended {
                tenant: tenant.to_string(),
                since: record
                    .since
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                reason: record.state.suspension_reason.clone().unwrap_or_default(),
            }),
            Some((_, TenantStatus::Active)) => Ok(()),
            Some((_, TenantStatus::Unknown)) | None if require_created => {
                Err(TenantRefusal::Unknown(tenant.to_string()))
            }
            Some((_, TenantStatus::Unknown)) | None => Ok(()),
        }
    }

    /// Every recorded tenant, by id.
    pub fn list(&self) -> Vec<TenantRecord> {
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        tenants.values().cloned().collect()
    }

    /// One recorded tenant.
    pub fn get(&self, tenant: &TenantId) -> Option<TenantRecord> {
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        tenants.get(tenant.as_str()).cloned()
    }
}

/// The error a refused request carries (`extensions.code` `TENANT_SUSPENDED` or
/// `TENANT_UNKNOWN`).
pub(crate) fn refusal(err: &TenantRefusal) -> async_graphql::Error {
    crate::graphql::api_error(err.code(), err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aggregate_id_depends_on_the_tenant_only() {
        let acme = TenantId::parse("acme").unwrap();
        let globex = TenantId::parse("globex").unwrap();
        assert_eq!(aggregate_id(&acme), aggregate_id(&acme));
        assert_ne!(aggregate_id(&acme), aggregate_id(&globex));
    }
}
