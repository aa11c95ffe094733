//! The generic command handler.

use crate::{CommandContext, CommandError};
use domain::access::Permission;
use domain::datasource::SourcePolicy;
use domain::{Aggregate, AggregateId, DomainEvent, Rejection, RejectionKind};
use eventlog::personal::{carry_tokens, Carried};
use eventlog::{
    AppendError, CommitMetadata, CommittedEvents, EventStore, History, NewCommit, NewEvent,
    Snapshot,
};
use serde::{de::DeserializeOwned, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tracing::instrument;
use uuid::Uuid;

/// Counters exported as metrics.
#[derive(Debug, Default)]
pub struct CommandStats {
    pub executed: AtomicU64,
    pub rejected: AtomicU64,
    pub conflicts: AtomicU64,
    pub duplicates: AtomicU64,
}

/// What a successful command produced.
#[derive(Debug, Clone)]
pub struct CommandOutcome {
    pub aggregate_id: AggregateId,
    /// The aggregate's version after the command.
    pub version: u64,
    /// Stream sequence of the commit (of the last commit when nothing changed).
    pub sequence: u64,
    /// Ids, versions and hashes of the events; the full CloudEvents on demand.
    pub events: CommittedEvents,
    /// The command id had already been handled; these are the original events.
    pub duplicate: bool,
}

impl CommandOutcome {
    pub fn event_ids(&self) -> Vec<Uuid> {
        self.events.ids()
    }
}

/// An aggregate's state as a workflow loaded it to look before it acts, kept so that the command
/// it then executes decides on it instead of loading the same history again
/// ([`CommandHandler::execute_loaded`]). The append still expects the stream to be where the load
/// left it: had another writer committed in between, the command is decided again on a fresh load.
pub struct Loaded<A: Aggregate> {
    state: A::State,
    history: History,
    carried: Carried,
}

impl<A: Aggregate> Loaded<A> {
    /// The state (the default state when the aggregate does not exist).
    pub fn state(&self) -> &A::State {
        &self.state
    }

    /// The state, giving up the loaded history.
    pub fn into_state(self) -> A::State {
        self.state
    }
}

/// Executes commands against the event store.
#[derive(Clone)]
pub struct CommandHandler {
    store: EventStore,
    max_attempts: u32,
    snapshot_every: u64,
    stats: Arc<CommandStats>,
    /// Where tenants' configurations may point; checked on every decided event before append.
    policy: Arc<SourcePolicy>,
}

impl CommandHandler {
    pub fn new(store: EventStore) -> Self {
        Self {
            store,
            max_attempts: 5,
            snapshot_every: 100,
            stats: Arc::default(),
            policy: Arc::default(),
        }
    }

    /// Confines what tenants' configurations may point at (the default: `env:` only under
    /// `PURSIGHT_SOURCE_SECRET_`, no `file:`, stores under `pursight/<tenant>/`, metadata
    /// endpoints denied).
    pub fn with_policy(mut self, policy: SourcePolicy) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    pub fn policy(&self) -> &SourcePolicy {
        &self.policy
    }

    /// How many times a conflicting command is decided again before `CONFLICT` is returned.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// How many events may follow a snapshot before a new one is saved.
    pub fn with_snapshot_every(mut self, events: u64) -> Self {
        self.snapshot_every = events.max(1);
        self
    }

    pub fn stats(&self) -> Arc<CommandStats> {
        self.stats.clone()
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Authorise → load → decide → append, retrying on conflict.
    pub async fn execute<A>(
        &self,
        ctx: &CommandContext,
        permission: Permission,
        id: AggregateId,
        command: A::Command,
    ) -> Result<CommandOutcome, CommandError>
    where
        A: Aggregate,
        A::Error: Rejection,
        A::State: Serialize + DeserializeOwned,
    {
        // Boxed: the command's state machine is ~10 KB, and every task, stream combinator and
        // resolver that awaits it would otherwise copy it whenever it moves.
        Box::pin(self.run::<A>(ctx, permission, id, command, false, None)).await
    }

    /// Like [`execute`](Self::execute), deciding first on the state `loaded` (from
    /// [`load_state`](Self::load_state)) instead of loading the history again: a workflow that
    /// looked at an aggregate before acting on it reads the stream once. A conflict (another
    /// writer committed since) reloads and decides again, as always.
    pub async fn execute_loaded<A>(
        &self,
        ctx: &CommandContext,
        permission: Permission,
        id: AggregateId,
        command: A::Command,
        loaded: Loaded<A>,
    ) -> Result<CommandOutcome, CommandError>
    where
        A: Aggregate,
        A::Error: Rejection,
        A::State: Serialize + DeserializeOwned,
    {
        Box::pin(self.run::<A>(ctx, permission, id, command, false, Some(loaded))).await
    }

    /// Like [`execute`](Self::execute) for a command that creates a fresh aggregate (for example
    /// a registration under a newly generated id): the first attempt skips loading the history
    /// and appends expecting none. If the aggregate does exist, the stream refuses the append
    /// and the command is handled the normal way, so correctness never rests on the guess.
    pub async fn execute_new<A>(
        &self,
        ctx: &CommandContext,
        permission: Permission,
        id: AggregateId,
        command: A::Command,
    ) -> Result<CommandOutcome, CommandError>
    where
        A: Aggregate,
        A::Error: Rejection,
        A::State: Serialize + DeserializeOwned,
    {
        Box::pin(self.run::<A>(ctx, permission, id, command, true, None)).await
    }

    // The span is at debug level: with the default `info` filter, creating it (its fields are
    // formatted when it opens) and entering it on every poll cost about as much as a tenth of
    // an append, for context that no info-level line inside a successful command would show.
    // The info-level line a failed command writes carries the same fields itself. Logs name
    // the actor only by its pseudonym: they are kept outside the erasable store.
    #[instrument(level = "debug", skip_all, fields(
        aggregate = A::NAME,
        aggregate_id = %id,
        tenant = %ctx.tenant,
        actor = %eventlog::personal::pseudonym(&ctx.actor),
        command_id = %ctx.command_id,
    ))]
    async fn run<A>(
        &self,
        ctx: &CommandContext,
        permission: Permission,
        id: AggregateId,
        command: A::Command,
        assume_new: bool,
        loaded: Option<Loaded<A>>,
    ) -> Result<CommandOutcome, CommandError>
    where
        A: Aggregate,
        A::Error: Rejection,
        A::State: Serialize + DeserializeOwned,
    {
        if !ctx.allows(permission) {
            self.stats.rejected.fetch_add(1, Ordering::Relaxed);
            return Err(CommandError::Forbidden(permission));
        }
        let result = self
            .execute_authorised::<A>(ctx, id, &command, assume_new, loaded)
            .await;
        match &result {
            Ok(outcome) if outcome.duplicate => {
                self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {
                self.stats.executed.fetch_add(1, Ordering::Relaxed);
            }
            Err(err) => {
                self.stats.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    aggregate = A::NAME,
                    aggregate_id = %id,
                    tenant = %ctx.tenant,
                    actor = %eventlog::personal::pseudonym(&ctx.actor),
                    command_id = %ctx.command_id,
                    error = %err,
                    code = err.code(),
                    "command not carried out"
                );
            }
        }
        result
    }

    async fn execute_authorised<A>(
        &self,
        ctx: &CommandContext,
        id: AggregateId,
        command: &A::Command,
        assume_new: bool,
        mut loaded: Option<Loaded<A>>,
    ) -> Result<CommandOutcome, CommandError>
    where
        A: Aggregate,
        A::Error: Rejection,
        A::State: Serialize + DeserializeOwned,
    {
        let describe = || format!("{} {id}", A::NAME);
        // The guess that the aggregate is new does not count as a try.
        let attempts = self.max_attempts + u32::from(assume_new);
        for attempt in 1..=attempts {
            let Loaded {
                state,
                history,
                carried,
            } = match loaded.take() {
                Some(loaded) => loaded,
                None if assume_new && attempt == 1 => Loaded {
                    state: A::State::default(),
                    history: eventlog::History::default(),
                    carried: eventlog::personal::Carried::new(),
                },
                // Boxed, like the snapshot save below: these futures are large, and inline they
                // would make every command's future (moved on each spawn) that much larger,
                // whether or not it loads.
                None => Box::pin(self.load_folded::<A>(ctx, id)).await?,
            };
            if history.contains_command(&ctx.command_id) {
                let command_id = ctx.command_id.to_string();
                let events: Vec<_> = history
                    .events
                    .iter()
                    .filter(|e| e.event.commandid == command_id)
                    .map(|e| e.event.clone())
                    .collect();
                return Ok(CommandOutcome {
                    aggregate_id: id,
                    version: events.last().map_or(0, |e| e.aggregateversion),
                    sequence: history
                        .events
                        .iter()
                        .rev()
                        .find(|e| e.event.commandid == command_id)
                        .map_or(0, |e| e.sequence),
                    events: CommittedEvents::from_cloud_events(events),
                    duplicate: true,
                });
            }
            let refusal = |err: A::Error| match err.kind() {
                RejectionKind::NotFound => CommandError::NotFound(err.to_string()),
                RejectionKind::Invalid => CommandError::Validation(err.to_string()),
                RejectionKind::Refused => CommandError::Rejected(err.to_string()),
            };
            let decided = A::decide(&state, command).map_err(refusal)?;
            A::admit(&self.policy, &ctx.tenant, &decided).map_err(refusal)?;
            if decided.is_empty() {
                return Ok(CommandOutcome {
                    aggregate_id: id,
                    version: history.version(),
                    sequence: history.last_sequence,
                    events: CommittedEvents::default(),
                    duplicate: false,
                });
            }
            let commit = NewCommit {
                aggregate_type: A::NAME,
                aggregate_id: id,
                expected_sequence: history.last_sequence,
                expected_version: history.version(),
                previous_hash: history.last_hash(),
                metadata: CommitMetadata {
                    tenant: ctx.tenant.clone(),
                    actor: ctx.actor.clone(),
                    command_id: ctx.command_id,
                    correlation_id: ctx.correlation_id,
                    causation_id: ctx.causation_id,
                    traceparent: ctx.traceparent.clone(),
                },
                // A personal value carried over unchanged keeps the token (and so the key) it
                // was sealed with.
                events: decided
                    .iter()
                    .map(|event| carry_tokens(NewEvent::from_domain(event), &carried))
                    .collect(),
            };
            match self.store.append(commit).await {
                Ok(appended) => {
                    if !appended.duplicate && self.snapshot_due(&history, &appended) {
                        Box::pin(
                            self.save_snapshot::<A>(ctx, id, state, &decided, &appended, carried),
                        )
                        .await;
                    }
                    return Ok(CommandOutcome {
                        aggregate_id: id,
                        version: appended.events.last().map_or(0, |e| e.aggregate_version),
                        sequence: appended.sequence,
                        events: appended.events,
                        duplicate: appended.duplicate,
                    });
                }
                Err(AppendError::Conflict { .. }) if assume_new && attempt == 1 => {
                    tracing::debug!("aggregate exists, handling the command the normal way");
                }
                Err(AppendError::Conflict { .. }) => {
                    self.stats.conflicts.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(attempt, "conflict, deciding again");
                    // Spread retries of competing writers apart.
                    let jitter = u64::from(ctx.command_id.as_u128() as u8 % 16);
                    tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt) + jitter))
                        .await;
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(CommandError::Conflict {
            aggregate: describe(),
            attempts: self.max_attempts,
        })
    }

    /// The current state of an aggregate (the default state when it does not exist), for
    /// workflows that must look before they act.
    pub async fn state<A>(
        &self,
        ctx: &CommandContext,
        permission: Permission,
        id: AggregateId,
    ) -> Result<A::State, CommandError>
    where
        A: Aggregate,
        A::State: Serialize + DeserializeOwned,
    {
        Ok(self
            .load_state::<A>(ctx, permission, id)
            .await?
            .into_state())
    }

    /// [`state`](Self::state), kept with the history it was folded from for a command that
    /// follows ([`execute_loaded`](Self::execute_loaded)).
    pub async fn load_state<A>(
        &self,
        ctx: &CommandContext,
        permission: Permission,
        id: AggregateId,
    ) -> Result<Loaded<A>, CommandError>
    where
        A: Aggregate,
        A::State: Serialize + DeserializeOwned,
    {
        if !ctx.allows(permission) {
            return Err(CommandError::Forbidden(permission));
        }
        self.load_folded::<A>(ctx, id).await
    }

    /// The history after the latest usable snapshot, folded onto it.
    async fn load_folded<A>(
        &self,
        ctx: &CommandContext,
        id: AggregateId,
    ) -> Result<Loaded<A>, CommandError>
    where
        A: Aggregate,
        A::State: Serialize + DeserializeOwned,
    {
        let (base, history, carried) = self.load::<A>(ctx, id).await?;
        let state = decode_history::<A>(&history, id)?
            .iter()
            .fold(base, |state, event| A::evolve(state, event));
        Ok(Loaded {
            state,
            history,
            carried,
        })
    }

    /// The aggregate's state before its unfolded `history`: from a snapshot that the stream
    /// confirms, or the default state with the full history. Sealed personal values in both are
    /// opened (decisions compare them: who holds a role, whether an owner changed); an erased
    /// one reads `[erased]`. Snapshots are saved with those values sealed again
    /// ([`eventlog::personal::reseal_value`]); `pursight erase` purges the tenant's snapshots all
    /// the same, like it rebuilds the read models.
    async fn load<A>(
        &self,
        ctx: &CommandContext,
        id: AggregateId,
    ) -> Result<(A::State, History, Carried), CommandError>
    where
        A: Aggregate,
        A::State: Serialize + DeserializeOwned,
    {
        if let Some(snapshot) = self.store.load_snapshot(&ctx.tenant, A::NAME, &id).await {
            let mut opener = self.store.opener();
            let mut value = snapshot.state.clone();
            let mut carried = opener
                .open_value(ctx.tenant.as_str(), &mut value)
                .await
                .map_err(eventlog::EventStoreError::from)?;
            if let Ok(state) = serde_json::from_value::<A::State>(value) {
                if let Some(mut history) = self
                    .store
                    .load_after(&ctx.tenant, A::NAME, &id, &snapshot)
                    .await?
                {
                    carried.extend(
                        opener
                            .open_data(history.events.iter_mut().map(|stored| &mut stored.event))
                            .await
                            .map_err(eventlog::EventStoreError::from)?,
                    );
                    return Ok((state, history, carried));
                }
            }
            tracing::info!("snapshot does not fit the stream; loading the full history");
        }
        let (history, carried) = self.store.load_opened(&ctx.tenant, A::NAME, &id).await?;
        Ok((A::State::default(), history, carried))
    }

    /// Whether `snapshot_every` events have piled up since the last snapshot.
    fn snapshot_due(&self, history: &History, appended: &eventlog::Appended) -> bool {
        appended.events.last().is_some_and(|last| {
            last.aggregate_version - history.base_version >= self.snapshot_every
        })
    }

    /// Saves a snapshot of the state after `decided`, its personal values sealed again as the
    /// tokens they were opened from (`carried`) or appended as.
    async fn save_snapshot<A>(
        &self,
        ctx: &CommandContext,
        id: AggregateId,
        state: A::State,
        decided: &[A::Event],
        appended: &eventlog::Appended,
        mut carried: Carried,
    ) where
        A: Aggregate,
        A::State: Serialize + DeserializeOwned,
    {
        let Some(last) = appended.events.last() else {
            return;
        };
        let state = decided
            .iter()
            .fold(state, |state, event| A::evolve(state, event));
        let Ok(mut state) = serde_json::to_value(&state) else {
            return;
        };
        if let Ok(stored) = appended.events.cloud_events() {
            let plain: Vec<(&str, serde_json::Value)> = decided
                .iter()
                .map(|event| (event.event_type(), event.to_data()))
                .collect();
            eventlog::personal::carry_appended(&plain, &stored, &mut carried);
        }
        eventlog::personal::reseal_value(&mut state, &carried);
        let snapshot = Snapshot {
            state,
            version: last.aggregate_version,
            last_sequence: appended.sequence,
            last_hash: last.hash.clone(),
        };
        self.store
            .save_snapshot(&ctx.tenant, A::NAME, &id, &snapshot)
            .await;
    }
}

/// Decodes (and upcasts) stored events into the aggregate's events; anything unreadable is a
/// corrupt history, never skipped.
fn decode_history<A: Aggregate>(
    history: &History,
    id: AggregateId,
) -> Result<Vec<A::Event>, CommandError> {
    let describe = || format!("{} {id}", A::NAME);
    history
        .events
        .iter()
        .map(|stored| {
            let (name, version) =
                stored
                    .event
                    .name_and_version()
                    .ok_or_else(|| CommandError::CorruptHistory {
                        aggregate: describe(),
                        reason: format!(
                            "event {} has type {:?}",
                            stored.event.id, stored.event.event_type
                        ),
                    })?;
            A::Event::from_stored(name, version, &stored.event.data).map_err(|err| {
                CommandError::CorruptHistory {
                    aggregate: describe(),
                    reason: format!(
                        "event {} at sequence {}: {err}",
                        stored.event.id, stored.sequence
                    ),
                }
            })
        })
        .collect()
}
