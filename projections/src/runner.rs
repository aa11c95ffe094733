//! The one projection runner every read model plugs into.
//!
//! Per projection: a durable JetStream pull consumer (`proj_<name>`), batches of commits, and for
//! each batch one PostgreSQL transaction that takes the projection's advisory lock, re-reads the
//! checkpoint, applies every event past it and moves the checkpoint. Messages are acknowledged
//! only after that commit. A crash before the commit loses nothing (the batch is redelivered); a
//! crash after the commit but before the ack applies nothing twice (redelivered events are at or
//! below the checkpoint and skipped).
//!
//! One bad event never stalls a projection for everyone. A batch that fails is tried again a
//! few times with backoff (the projection reports itself `retrying`, not ready); then its
//! commits are applied one at a time, each in its own transaction with the checkpoint, and each
//! event of a commit inside a savepoint. An event that still fails because of what it holds (a
//! NUL PostgreSQL refuses, a value out of range, an event that cannot be decoded) is *parked*
//! ([`crate::parked`]) in the transaction that moves the checkpoint past it, and the projection
//! goes on. A failure of the database or of NATS themselves (connection lost, outage, deadlock)
//! parks nothing: the runner keeps retrying with backoff and reports itself not ready meanwhile.

use crate::checkpoint;
use crate::error::{DbContext, ProjectionError};
use crate::parked::{self, Origin};
use crate::projection::{schema_of, Projection};
use crate::status::{ProjectionState, StatusBoard};
use async_nats::jetstream::consumer::{self, pull, AckPolicy, DeliverPolicy};
use eventlog::{EventStore, StoredCommit, StoredEvent, StreamNames};
use futures::StreamExt;
use sqlx::{PgConnection, PgPool};
use std::time::Duration;
use tokio::sync::watch;
use tracing::instrument;

/// Tuning knobs.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Most commits applied in one transaction.
    pub batch_size: usize,
    /// A batch stops growing once it holds this many payload bytes (it always holds at least
    /// one commit, whatever its size). Memory follows bytes, not commits: a discovery's commits
    /// carry whole schemas, a lifecycle's a few hundred bytes, so a byte bound keeps the first's
    /// batches small while the second's grow large. 2 MiB holds ~500 commits of a 10 000-table
    /// discovery (the batch that keeps its resident memory under 200 MB) and ~1 700 data-source
    /// lifecycle commits.
    pub batch_bytes: usize,
    /// How often a failing batch is tried before its commits are applied one at a time and the
    /// events that still fail are parked.
    pub batch_attempts: u32,
    /// The wait after a batch's first failed attempt; doubled after each further one.
    pub retry_backoff: Duration,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            batch_size: 2000,
            batch_bytes: 2 * 1024 * 1024,
            batch_attempts: 3,
            retry_backoff: Duration::from_millis(250),
        }
    }
}

/// Failures of the run loop in a row (taking the lead, connecting, a batch that could neither
/// be applied nor parked), reset when a batch commits.
#[derive(Debug, Clone, Copy)]
struct Failures {
    attempt: u32,
    /// The wait before the next attempt: 250 ms, doubled after each failure, at most 30 s.
    backoff: Duration,
}

impl Default for Failures {
    fn default() -> Self {
        Self {
            attempt: 0,
            backoff: Duration::from_millis(250),
        }
    }
}

impl Failures {
    /// Counts a failure and reports the projection retrying: not ready, and down in
    /// `/metrics`, until a batch commits again (its read model is frozen meanwhile).
    fn record(&mut self, status: &StatusBoard, name: &'static str, err: &ProjectionError) {
        self.attempt += 1;
        status.set_state(
            name,
            ProjectionState::Retrying {
                attempt: self.attempt,
                error: err.to_string(),
            },
        );
        self.backoff = (self.backoff * 2).min(Duration::from_secs(30));
    }
}

/// One delivered message, kept until its batch is committed: a failed batch is decoded again
/// from it (payloads are shared buffers, so keeping them copies nothing).
struct Delivered {
    sequence: u64,
    subject: String,
    payload: bytes::Bytes,
}

/// Runs one projection until shutdown.
pub struct ProjectionRunner<P: Projection> {
    projection: P,
    store: EventStore,
    pool: PgPool,
    status: StatusBoard,
    options: RunnerOptions,
    /// `io.pursight.<Name>.v` for each of the projection's event names (empty: all).
    event_needles: Vec<memchr::memmem::Finder<'static>>,
}

impl<P: Projection> ProjectionRunner<P> {
    pub fn new(projection: P, store: EventStore, pool: PgPool, status: StatusBoard) -> Self {
        let event_needles = projection
            .event_names()
            .unwrap_or_default()
            .iter()
            .map(|name| {
                memchr::memmem::Finder::new(format!("io.pursight.{name}.v").as_bytes()).into_owned()
            })
            .collect();
        Self {
            event_needles,
            projection,
            store,
            pool,
            status,
            options: RunnerOptions::default(),
        }
    }

    pub fn with_options(mut self, options: RunnerOptions) -> Self {
        self.options = options;
        self
    }

    /// Runs until `shutdown` turns true. Returns the error that stopped the projection, if any
    /// (only an unknown projection does).
    ///
    /// An event it cannot apply is parked and the projection goes on. Losing NATS or PostgreSQL
    /// for a while stops nothing either: the runner reports itself `retrying` (not ready), waits
    /// with backoff and resumes from its checkpoint.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), ProjectionError> {
        let name = self.projection.name();
        let mut failures = Failures::default();
        loop {
            let Failures { attempt, backoff } = failures;
            if attempt == 0 {
                self.status.set_state(name, ProjectionState::Starting);
            }
            // Only one runner per projection projects at a time (across processes): it holds a
            // session-level advisory lock on a connection of its own for as long as it runs.
            let mut leadership = match self.lead(&mut shutdown).await {
                Ok(Some(connection)) => connection,
                Ok(None) => {
                    self.status.set_state(name, ProjectionState::Stopped);
                    return Ok(());
                }
                Err(err) => {
                    tracing::warn!(projection = name, error = %err, "cannot take the projection lead; retrying");
                    failures.record(&self.status, name, &err);
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => continue,
                        _ = shutdown.changed() => {
                            self.status.set_state(name, ProjectionState::Stopped);
                            return Ok(());
                        }
                    }
                }
            };
            match self
                .run_inner(&mut leadership, &mut shutdown, &mut failures)
                .await
            {
                Ok(()) => {
                    self.status.set_state(name, ProjectionState::Stopped);
                    return Ok(());
                }
                // Nothing an event holds gets here (it is parked); only a wiring mistake does.
                Err(err @ ProjectionError::Unknown(_)) => {
                    tracing::error!(projection = name, error = %err, "projection stopped");
                    self.status
                        .set_state(name, ProjectionState::Failed(err.to_string()));
                    return Err(err);
                }
                Err(err) => {
                    tracing::warn!(projection = name, error = %err, retry_in = ?backoff, "projection interrupted; resuming from its checkpoint");
                    failures.record(&self.status, name, &err);
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.changed() => {
                            self.status.set_state(name, ProjectionState::Stopped);
                            return Ok(());
                        }
                    }
                }
            }
        }
    }

    /// Waits (in standby) until this runner holds the projection's lead; `None` on shutdown.
    async fn lead(
        &self,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Option<sqlx::PgConnection>, ProjectionError> {
        let name = self.projection.name();
        // Detached from the pool: dropping it closes the session, which releases the lock.
        let mut connection = self.pool.acquire().await.in_projection(name)?.detach();
        loop {
            let (acquired,): (bool,) = sqlx::query_as(
                "SELECT pg_try_advisory_lock(hashtext('pursight.projection.lead.' || $1))",
            )
            .bind(name)
            .fetch_one(&mut connection)
            .await
            .in_projection(name)?;
            if acquired {
                return Ok(Some(connection));
            }
            self.status.set_state(name, ProjectionState::Standby);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => return Ok(None),
            }
        }
    }

    /// Projects batches on `connection`, the one that holds the lead: no pool checkout (and
    /// its liveness ping) per batch, and a lost connection ends the lead with the batch.
    async fn run_inner(
        &self,
        connection: &mut PgConnection,
        shutdown: &mut watch::Receiver<bool>,
        failures: &mut Failures,
    ) -> Result<(), ProjectionError> {
        let name = self.projection.name();
        prepare_schema(&self.pool, &self.projection, &schema_of(name)).await?;
        let consumer = self.consumer().await?;
        // After failures, running is claimed only once a batch commits again.
        if failures.attempt == 0 {
            self.status.set_state(name, ProjectionState::Running);
        }
        // A continuous pull of twice a batch, so the next batch is on its way while one is
        // applied; each batch is whatever has arrived (up to its bounds), so a single event is
        // projected at once and a backlog in large batches.
        let mut incoming = consumer
            .stream()
            .max_messages_per_batch(self.options.batch_size * 2)
            .max_bytes_per_batch(self.options.batch_bytes * 2)
            .heartbeat(Duration::from_secs(15))
            .messages()
            .await
            .map_err(|err| consumer_error(name, err))?;
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let messages: Vec<_> = tokio::select! {
                // Unconstrained: tokio's cooperative budget would otherwise cut every batch at
                // 128 messages, however many are waiting, and batches would stay small.
                batch = tokio::task::unconstrained(next_batch(&mut incoming, &self.options)) => {
                    match batch {
                        Some(batch) => batch,
                        None => return Err(consumer_error(name, "the message stream ended")),
                    }
                }
                _ = shutdown.changed() => return Ok(()),
            };
            let mut delivered = Vec::with_capacity(messages.len());
            let mut last = None;
            for message in messages {
                let message = message.map_err(|err| consumer_error(name, err))?;
                let sequence = message
                    .info()
                    .map_err(|err| consumer_error(name, err))?
                    .stream_sequence;
                delivered.push(Delivered {
                    sequence,
                    subject: message.subject.to_string(),
                    payload: message.payload.clone(),
                });
                last = Some(message);
            }
            let Some(checkpoint) = self.project(connection, &delivered, shutdown).await? else {
                return Ok(());
            };
            self.status.set_sequence(name, checkpoint);
            self.status.set_state(name, ProjectionState::Running);
            *failures = Failures::default();
            if let Some(last) = last {
                // AckPolicy::All: acknowledging the last message acknowledges the whole batch.
                last.ack().await.map_err(|err| consumer_error(name, err))?;
            }
        }
    }

    /// Applies one batch: whole, tried `batch_attempts` times; then commit by commit, parking
    /// what cannot be applied. Returns the new checkpoint, or `None` on shutdown.
    async fn project(
        &self,
        connection: &mut PgConnection,
        delivered: &[Delivered],
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Option<u64>, ProjectionError> {
        let name = self.projection.name();
        let mut backoff = self.options.retry_backoff;
        let mut attempt = 1;
        loop {
            let commits: Result<Vec<_>, _> = delivered.iter().map(|d| self.decode(d)).collect();
            let commits = match commits {
                // Keys are fetched for this batch only, so an erasure applies from the next one.
                Ok(mut commits) => open_sealed(&self.store, &mut commits)
                    .await
                    .map(|()| commits),
                Err(err) => Err(err),
            };
            let err = match commits {
                Ok(commits) => match self.apply_batch(connection, commits).await {
                    Ok(checkpoint) => return Ok(Some(checkpoint)),
                    Err(err) => err,
                },
                // Opening sealed values failed: the keyring's database, not the events.
                Err(err @ ProjectionError::Store(_)) => return Err(err),
                // The stream is immutable: decoding again would fail again.
                Err(_) => break,
            };
            if attempt >= self.options.batch_attempts {
                tracing::warn!(projection = name, error = %err, attempts = attempt,
                    "batch keeps failing; applying it commit by commit");
                break;
            }
            tracing::warn!(projection = name, error = %err, attempt, retry_in = ?backoff,
                "batch failed; retrying");
            self.status.set_state(
                name,
                ProjectionState::Retrying {
                    attempt,
                    error: err.to_string(),
                },
            );
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.changed() => return Ok(None),
            }
            attempt += 1;
            backoff *= 2;
        }
        let names = self.store.names();
        let schema = schema_of(name);
        let mut checkpoint = 0;
        for one in delivered {
            let mut commit = self.decode(one);
            if let Ok(commit) = &mut commit {
                open_sealed(&self.store, std::slice::from_mut(commit)).await?;
            }
            let mut tx = sqlx::Connection::begin(&mut *connection)
                .await
                .in_projection(name)?;
            checkpoint = apply_parking(
                &mut tx,
                &self.projection,
                &schema,
                name,
                names,
                &one.subject,
                commit,
            )
            .await?;
            tx.commit().await.in_projection(name)?;
        }
        Ok(Some(checkpoint))
    }

    /// Decodes a delivered message as far as the projection reads it.
    fn decode(&self, delivered: &Delivered) -> Result<StoredCommit, ProjectionError> {
        let Delivered {
            sequence,
            subject,
            payload,
        } = delivered;
        let decoded = if !self.reads(subject, payload) {
            Ok(StoredCommit {
                sequence: *sequence,
                subject: subject.clone(),
                events: Vec::new(),
            })
        } else if self.projection.reads_data() {
            StoredCommit::decode(*sequence, subject, payload)
        } else {
            StoredCommit::decode_envelopes(*sequence, subject, payload)
        };
        decoded.map_err(|err| ProjectionError::BadEvent {
            projection: self.projection.name(),
            sequence: *sequence,
            reason: err.reason,
        })
    }

    /// Whether the projection reads the commit on `subject`: one of its aggregate types (or a
    /// subject that names none, decoded so that a malformed commit is parked, not skipped)
    /// whose payload names one of its events.
    fn reads(&self, subject: &str, payload: &[u8]) -> bool {
        let type_read = match self.projection.aggregate_types() {
            None => true,
            Some(types) => self
                .store
                .names()
                .aggregate_type_in(subject)
                .is_none_or(|aggregate_type| types.contains(&aggregate_type)),
        };
        type_read
            && (self.event_needles.is_empty()
                // A payload that escapes characters could spell a type in escapes: decode it.
                || memchr::memmem::find(payload, b"\\u").is_some()
                || self
                    .event_needles
                    .iter()
                    .any(|needle| needle.find(payload).is_some()))
    }

    /// Applies one batch and moves the checkpoint in one transaction; returns the checkpoint.
    #[instrument(skip_all, fields(projection = self.projection.name(), commits = commits.len(),
        first = commits.first().map(|c| c.sequence), last = commits.last().map(|c| c.sequence)))]
    async fn apply_batch(
        &self,
        connection: &mut PgConnection,
        commits: Vec<StoredCommit>,
    ) -> Result<u64, ProjectionError> {
        let name = self.projection.name();
        let mut tx = sqlx::Connection::begin(connection)
            .await
            .in_projection(name)?;
        let checkpoint =
            apply_commits(&mut tx, &self.projection, &schema_of(name), name, commits).await?;
        tx.commit().await.in_projection(name)?;
        Ok(checkpoint)
    }

    /// The durable consumer, positioned just after the checkpoint.
    async fn consumer(&self) -> Result<consumer::Consumer<pull::Config>, ProjectionError> {
        let name = self.projection.name();
        let durable = format!("proj_{name}");
        let mut conn = self.pool.acquire().await.in_projection(name)?;
        let checkpoint = checkpoint::read(&mut conn, name)
            .await
            .in_projection(name)?;
        drop(conn);
        self.status.set_sequence(name, checkpoint);
        let stream = self
            .store
            .jetstream()
            .get_stream(self.store.names().stream())
            .await
            .map_err(|err| consumer_error(name, err))?;
        if let Ok(mut existing) = stream.get_consumer::<pull::Config>(&durable).await {
            let info = existing
                .info()
                .await
                .map_err(|err| consumer_error(name, err))?;
            // Reuse the consumer only when it is exactly where the read model is. One ahead of
            // the checkpoint (read model dropped or restored) would skip events; one with
            // unacknowledged deliveries (a previous run died mid-batch) would hold them back
            // until the ack wait expires. The checkpoint is the truth: start again from it.
            if info.ack_floor.stream_sequence <= checkpoint && info.num_ack_pending == 0 {
                return Ok(existing);
            }
            tracing::info!(
                projection = name,
                checkpoint,
                consumer_at = info.ack_floor.stream_sequence,
                pending = info.num_ack_pending,
                "repositioning the consumer at the checkpoint"
            );
            stream
                .delete_consumer(&durable)
                .await
                .map_err(|err| consumer_error(name, err))?;
        }
        let deliver_policy = if checkpoint == 0 {
            DeliverPolicy::All
        } else {
            DeliverPolicy::ByStartSequence {
                start_sequence: checkpoint + 1,
            }
        };
        stream
            .create_consumer(pull::Config {
                durable_name: Some(durable),
                description: Some(format!("PurSight projection {name}")),
                filter_subject: self.store.names().all_events(),
                ack_policy: AckPolicy::All,
                ack_wait: Duration::from_secs(60),
                deliver_policy,
                max_ack_pending: 10_000,
                ..Default::default()
            })
            .await
            .map_err(|err| consumer_error(name, err))
    }
}

/// Creates the projection's schema and tables when missing.
pub fn prepare_schema<'a, P: Projection>(
    pool: &'a PgPool,
    projection: &'a P,
    schema: &'a str,
) -> futures::future::BoxFuture<'a, Result<(), ProjectionError>> {
    Box::pin(async move {
        let name = projection.name();
        let mut tx = pool.begin().await.in_projection(name)?;
        checkpoint::lock(&mut tx, name).await.in_projection(name)?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .execute(&mut *tx)
            .await
            .in_projection(name)?;
        sqlx::query(&format!("SET LOCAL search_path TO {schema}"))
            .execute(&mut *tx)
            .await
            .in_projection(name)?;
        // A plain string runs over the simple-query protocol, which accepts several statements.
        sqlx::Executor::execute(&mut *tx, projection.ddl())
            .await
            .in_projection(name)?;
        tx.commit().await.in_projection(name)?;
        Ok(())
    })
}

/// The transactional unit of every projection: applies the commits past the checkpoint named
/// `checkpoint_name` into `schema`, inside the caller's transaction, and moves the checkpoint.
/// Returns the new checkpoint. Commits at or below the checkpoint are skipped, which is what
/// makes redelivery after a crash harmless.
pub fn apply_commits<'a, P: Projection>(
    conn: &'a mut PgConnection,
    projection: &'a P,
    schema: &'a str,
    checkpoint_name: &'a str,
    commits: Vec<StoredCommit>,
) -> futures::future::BoxFuture<'a, Result<u64, ProjectionError>> {
    Box::pin(async move {
        let name = projection.name();
        let mut checkpoint = checkpoint::begin_batch(conn, name, schema, checkpoint_name)
            .await
            .in_projection(name)?;
        let start = checkpoint;
        // Owned commits: their events move into the `StoredEvent`s the projection reads
        // instead of being copied (a discovery's events carry whole schemas).
        let mut events = Vec::with_capacity(commits.len());
        for commit in commits.into_iter().filter(|c| c.sequence > start) {
            if commit.sequence != checkpoint + 1 {
                return Err(ProjectionError::Gap {
                    projection: name,
                    expected: checkpoint + 1,
                    received: commit.sequence,
                });
            }
            checkpoint = commit.sequence;
            events.extend(commit.into_stored_events());
        }
        if !events.is_empty() {
            projection.apply_all(conn, &events).await?;
        }
        if checkpoint != start {
            checkpoint::write(conn, checkpoint_name, checkpoint)
                .await
                .in_projection(name)?;
        }
        Ok(checkpoint)
    })
}

/// Applies one commit (or parks it when it could not be decoded) inside the caller's
/// transaction, each of its events in a savepoint: an event that fails because of what it holds
/// is parked, the others are applied, and the checkpoint moves past the commit. A failure of the
/// database itself is returned, and the caller's transaction must then be rolled back.
pub(crate) fn apply_parking<'a, P: Projection>(
    conn: &'a mut PgConnection,
    projection: &'a P,
    schema: &'a str,
    checkpoint_name: &'a str,
    names: &'a StreamNames,
    subject: &'a str,
    commit: Result<StoredCommit, ProjectionError>,
) -> futures::future::BoxFuture<'a, Result<u64, ProjectionError>> {
    Box::pin(async move {
        let name = projection.name();
        let checkpoint = checkpoint::begin_batch(conn, name, schema, checkpoint_name)
            .await
            .in_projection(name)?;
        let sequence = match &commit {
            Ok(commit) => commit.sequence,
            Err(ProjectionError::BadEvent { sequence, .. }) => *sequence,
            Err(_) => return commit.map(|_| checkpoint),
        };
        if sequence <= checkpoint {
            return Ok(checkpoint);
        }
        if sequence != checkpoint + 1 {
            return Err(ProjectionError::Gap {
                projection: name,
                expected: checkpoint + 1,
                received: sequence,
            });
        }
        match commit {
            Err(err) => {
                tracing::error!(projection = name, sequence, error = %err, "commit cannot be decoded; parked");
                let (tenant, aggregate_type, aggregate_id) = subject_parts(names, subject);
                let origin = Origin::Commit {
                    tenant,
                    aggregate_type,
                    aggregate_id,
                };
                parked::park(conn, checkpoint_name, sequence, origin, &err.to_string())
                    .await
                    .in_projection(name)?;
            }
            Ok(commit) => {
                let events: Vec<StoredEvent> = commit.into_stored_events().collect();
                for (index, event) in events.iter().enumerate() {
                    let one = std::slice::from_ref(event);
                    let Err(err) = parked::apply_in_savepoint(conn, projection, one).await else {
                        continue;
                    };
                    if !caused_by_event(&err) {
                        return Err(err);
                    }
                    tracing::error!(projection = name, sequence, event_id = %event.event.id,
                        tenant = ?event.event.tenant, error = %err, "event cannot be applied; parked");
                    let origin = Origin::Event {
                        index,
                        event: &event.event,
                    };
                    parked::park(conn, checkpoint_name, sequence, origin, &describe(&err))
                        .await
                        .in_projection(name)?;
                }
            }
        }
        checkpoint::write(conn, checkpoint_name, sequence)
            .await
            .in_projection(name)?;
        Ok(sequence)
    })
}

/// The tenant, aggregate type and aggregate id of an aggregate subject
/// (`<prefix>.events.<tenant>.<type>.<id>`); the whole subject as the tenant when it has
/// another form, so a parked row still says where the commit was.
fn subject_parts<'s>(
    names: &StreamNames,
    subject: &'s str,
) -> (&'s str, Option<&'s str>, Option<&'s str>) {
    let events = names.all_events();
    let prefix = events.trim_end_matches('>');
    let tokens: Option<Vec<&str>> = subject
        .strip_prefix(prefix)
        .map(|rest| rest.split('.').collect());
    match tokens.as_deref() {
        Some([tenant, aggregate_type, id]) => (tenant, Some(aggregate_type), Some(id)),
        _ => (subject, None, None),
    }
}

/// `err` for a person: PostgreSQL's SQLSTATE and detail too (its message alone, "unsupported
/// Unicode escape sequence", does not say that a NUL was refused).
pub(crate) fn describe(err: &ProjectionError) -> String {
    let ProjectionError::Database {
        source: sqlx::Error::Database(db),
        ..
    } = err
    else {
        return err.to_string();
    };
    let mut text = err.to_string();
    if let Some(code) = db.code() {
        text.push_str(&format!(" (SQLSTATE {code})"));
    }
    if let Some(detail) = db
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .and_then(|pg| pg.detail())
    {
        text.push_str(": ");
        text.push_str(detail);
    }
    text
}

/// SQLSTATE classes that say the database (or the read model's own schema) is in trouble, not
/// the event: connection (08), transaction state (25, 3B), rollback such as deadlock or
/// serialization (40), undefined objects or syntax (42: the read model or its code is broken,
/// parking would only divert every event), resources (53), object state and locks (55),
/// operator intervention (57), system (58), configuration (F0) and internal errors (XX).
const DATABASE_TROUBLE: [&str; 11] = [
    "08", "25", "3B", "40", "42", "53", "55", "57", "58", "F0", "XX",
];

/// Whether `err` comes from the event being applied (parking it lets the projection go on)
/// rather than from the database or NATS (parking would divert sound events; retry instead).
pub(crate) fn caused_by_event(err: &ProjectionError) -> bool {
    match err {
        ProjectionError::BadEvent { .. } => true,
        ProjectionError::Database { source, .. } => match source {
            sqlx::Error::Database(db) => db
                .code()
                .is_some_and(|code| !DATABASE_TROUBLE.iter().any(|c| code.starts_with(c))),
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) | sqlx::Error::Encode(_) => {
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// Waits for the next message, then takes the ones already arrived behind it until the batch
/// holds `batch_size` commits or `batch_bytes` payload bytes. `None` when the stream has ended.
///
/// Cancel-safe (the runner races it against shutdown): its only wait is for the first message;
/// once that has arrived the rest is taken without waiting, so no taken message is dropped.
async fn next_batch<S, T, E>(incoming: &mut S, options: &RunnerOptions) -> Option<Vec<Result<T, E>>>
where
    S: futures::Stream<Item = Result<T, E>> + Unpin,
    T: std::ops::Deref<Target = async_nats::Message>,
{
    let size = |item: &Result<T, E>| item.as_ref().map_or(0, |message| message.payload.len());
    let first = incoming.next().await?;
    let mut bytes = size(&first);
    let mut batch = vec![first];
    while batch.len() < options.batch_size && bytes < options.batch_bytes {
        // Only what is already here: a batch never waits for more.
        match futures::FutureExt::now_or_never(incoming.next()) {
            Some(Some(item)) => {
                bytes += size(&item);
                batch.push(item);
            }
            _ => break,
        }
    }
    Some(batch)
}

fn consumer_error(projection: &'static str, err: impl std::fmt::Display) -> ProjectionError {
    ProjectionError::Consumer {
        projection,
        reason: err.to_string(),
    }
}

/// Drains the whole stream into a projection once, without a durable consumer (used by tests
/// and by rebuild), sealed personal values opened (or `[erased]`) as the live runner opens them.
pub(crate) async fn read_all(
    store: &EventStore,
    from: u64,
) -> Result<
    impl futures::Stream<Item = Result<StoredCommit, eventlog::EventStoreError>>,
    ProjectionError,
> {
    // One opener for the read: keys fetched once, dropped with the read.
    let opener = std::sync::Arc::new(tokio::sync::Mutex::new(store.opener()));
    Ok(store
        .read_to_end(
            &store.names().all_events(),
            eventlog::DeliverFrom::Sequence(from),
        )
        .await?
        .then(move |commit| {
            let opener = opener.clone();
            async move {
                let mut commit = commit?;
                opener.lock().await.open(&mut commit.events).await?;
                Ok(commit)
            }
        })
        .boxed())
}

/// Opens the sealed personal values of decoded commits in place (see
/// [`eventlog::personal`]), with one key lookup for all of them.
pub(crate) async fn open_sealed(
    store: &EventStore,
    commits: &mut [StoredCommit],
) -> Result<(), ProjectionError> {
    store
        .opener()
        .open_commits(commits)
        .await
        .map_err(eventlog::EventStoreError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A delivered message as the pull stream yields it (anything that derefs to one).
    struct Delivered(async_nats::Message);

    impl std::ops::Deref for Delivered {
        type Target = async_nats::Message;
        fn deref(&self) -> &async_nats::Message {
            &self.0
        }
    }

    fn delivered(size: usize) -> Result<Delivered, String> {
        Ok(Delivered(async_nats::Message {
            subject: "pursight.events.t.data_source.x".into(),
            reply: None,
            payload: vec![b'x'; size].into(),
            headers: None,
            status: None,
            description: None,
            length: size,
        }))
    }

    fn sizes(batch: &[Result<Delivered, String>]) -> Vec<usize> {
        batch
            .iter()
            .map(|item| item.as_ref().map_or(0, |m| m.payload.len()))
            .collect()
    }

    #[tokio::test]
    async fn batches_take_what_has_arrived_up_to_their_commit_and_byte_bounds() {
        let options = RunnerOptions {
            batch_size: 3,
            batch_bytes: 250,
            ..RunnerOptions::default()
        };
        // Five small messages, then a large one, then two more; after them nothing arrives
        // (the stream stays pending, as a live consumer does).
        let arrived = [10, 10, 10, 10, 10, 1000, 100, 100].map(delivered);
        let mut incoming = futures::stream::iter(arrived).chain(futures::stream::pending());
        let mut next = || futures::FutureExt::now_or_never(next_batch(&mut incoming, &options));
        // Bounded by commits.
        assert_eq!(sizes(&next().unwrap().unwrap()), [10, 10, 10]);
        // Bounded by bytes: the message that reaches the bound is the batch's last.
        assert_eq!(sizes(&next().unwrap().unwrap()), [10, 10, 1000]);
        assert_eq!(sizes(&next().unwrap().unwrap()), [100, 100]);
        // Nothing more has arrived: the next batch waits instead of returning an empty one.
        assert!(next().is_none());
    }

    #[tokio::test]
    async fn a_large_first_message_is_a_batch_of_its_own_and_an_ended_stream_is_none() {
        let options = RunnerOptions {
            batch_size: 10,
            batch_bytes: 100,
            ..RunnerOptions::default()
        };
        let mut incoming = futures::stream::iter([500, 10].map(delivered));
        assert_eq!(
            sizes(&next_batch(&mut incoming, &options).await.unwrap()),
            [500]
        );
        assert_eq!(
            sizes(&next_batch(&mut incoming, &options).await.unwrap()),
            [10]
        );
        assert!(next_batch(&mut incoming, &options).await.is_none());
    }
}
