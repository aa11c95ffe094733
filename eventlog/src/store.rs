//! [`EventStore`]: the JetStream-backed event store.
//!
//! Appends use `Nats-Expected-Last-Subject-Sequence` for optimistic concurrency per aggregate and
//! `Nats-Msg-Id` (derived from tenant, aggregate and command id, see [`crate::idempotency`]) for
//! idempotency. Reads use ordered consumers filtered to one
//! subject, so loading one aggregate never scans other aggregates' events.

use crate::chain::{hash_of, write_canonical, EnvelopeView, EventData, GENESIS};
use crate::envelope::{
    wire_type, AppendedEvent, CommittedEvents, NewCommit, StoredCommit, StoredEvent,
    BATCH_CONTENT_TYPE, CONTENT_TYPE_HEADER, DATA_CONTENT_TYPE, SPEC_VERSION,
};
use crate::error::{AppendError, DecodeError, EventStoreError};
use crate::subject::StreamNames;
use async_nats::jetstream::{self, consumer, stream};
use chrono::Utc;
use futures::{Stream, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tracing::instrument;
use uuid::Uuid;

/// Where to connect and which stream to use.
#[derive(Debug, Clone)]
pub struct EventStoreConfig {
    pub nats_url: String,
    pub names: StreamNames,
}

/// Settings of the stream that PurSight creates and checks on connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSettings {
    /// How long JetStream remembers commits' idempotency keys. Within it a retried command is
    /// recognised by the stream itself; after it, by the aggregate's history (see
    /// [`History::contains_command`]). An existing stream with a shorter window is raised to this.
    pub duplicate_window: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            duplicate_window: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// Where a read or subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliverFrom {
    /// From the first event in the stream.
    Start,
    /// From this stream sequence (inclusive).
    Sequence(u64),
    /// Only events appended from now on.
    New,
}

/// The outcome of an append.
#[derive(Debug, Clone)]
pub struct Appended {
    /// Stream sequence of the commit.
    pub sequence: u64,
    /// The events as stored (for a duplicate: the events of the original commit).
    pub events: CommittedEvents,
    /// The command id had already been appended; nothing new was written.
    pub duplicate: bool,
}

/// An aggregate's history (or the part of it after a snapshot) and the position a next commit
/// must expect.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub events: Vec<StoredEvent>,
    /// Stream sequence of the last commit, 0 when the aggregate has no events.
    pub last_sequence: u64,
    /// Events before `events` (already folded into a snapshot); 0 for a full history.
    pub base_version: u64,
    /// Hash of the last event before `events`; `None` for a full history.
    pub base_hash: Option<String>,
}

impl History {
    pub fn version(&self) -> u64 {
        self.events
            .last()
            .map_or(self.base_version, |e| e.event.aggregateversion)
    }

    pub fn last_hash(&self) -> String {
        self.events.last().map_or_else(
            || self.base_hash.clone().unwrap_or_else(|| GENESIS.to_owned()),
            |e| e.event.hash.clone(),
        )
    }

    /// Whether a command with this id already produced events here.
    pub fn contains_command(&self, command_id: &Uuid) -> bool {
        if self.events.is_empty() {
            return false;
        }
        let id = command_id.to_string();
        self.events.iter().any(|e| e.event.commandid == id)
    }
}

/// The event store. Cheap to clone: clones share one connection and its settings.
#[derive(Clone)]
pub struct EventStore {
    // One allocation shared by every clone: a store is cloned for every command, and cloning
    // (and dropping) the NATS client and JetStream context themselves is not free.
    inner: Arc<Connected>,
    /// Where personal data keys live; `None`: nothing is sealed (scratch stores, benchmarks).
    keyring: Option<Arc<dyn crate::personal::Keyring>>,
}

struct Connected {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    names: StreamNames,
    /// The snapshot bucket's stream; the handle carries the stream's whole info block.
    snapshots: jetstream::stream::Stream,
    /// Read once at connect: `server_info()` clones the whole INFO block on every call.
    max_payload: usize,
}

impl EventStore {
    /// Connects and makes sure the stream exists with the settings an event store needs.
    pub async fn connect(config: &EventStoreConfig) -> Result<Self, EventStoreError> {
        Self::connect_with(config, StreamSettings::default()).await
    }

    /// Like [`connect`](Self::connect) with other stream settings (tests use a short duplicate
    /// window to see what happens after it).
    #[instrument(skip_all, fields(url = crate::nats_url::redacted(&config.nats_url), stream = config.names.stream()))]
    pub async fn connect_with(
        config: &EventStoreConfig,
        settings: StreamSettings,
    ) -> Result<Self, EventStoreError> {
        // Credentials go to async-nats as options, never inside the URL it logs.
        let url = crate::nats_url::NatsUrl::parse(&config.nats_url);
        let options = match url.credentials() {
            Some(crate::nats_url::Credentials::UserPassword { user, password }) => {
                async_nats::ConnectOptions::with_user_and_password(user.clone(), password.clone())
            }
            Some(crate::nats_url::Credentials::Token(token)) => {
                async_nats::ConnectOptions::with_token(token.clone())
            }
            None => async_nats::ConnectOptions::new(),
        };
        let client = options
            .connection_timeout(Duration::from_secs(5))
            .retry_on_initial_connect()
            .max_reconnects(Some(3))
            .connect(url.servers())
            .await
            .map_err(|err| EventStoreError::Unreachable {
                url: url.redacted().to_owned(),
                reason: err.to_string(),
            })?;
        // retry_on_initial_connect returns at once; wait (bounded) for the first connection so an
        // absent server is reported clearly instead of as a later timeout.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while client.connection_state() != async_nats::connection::State::Connected {
            if tokio::time::Instant::now() > deadline {
                return Err(EventStoreError::Unreachable {
                    url: url.redacted().to_owned(),
                    reason: "no answer within 5 s".into(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let jetstream = jetstream::new(client.clone());
        ensure_stream(&jetstream, &config.names, settings).await?;
        let snapshots = crate::snapshot::ensure_bucket(&jetstream, &config.names).await?;
        Ok(Self {
            keyring: None,
            inner: Arc::new(Connected {
                max_payload: client.server_info().max_payload,
                client,
                jetstream,
                names: config.names.clone(),
                snapshots,
            }),
        })
    }

    pub fn names(&self) -> &StreamNames {
        &self.inner.names
    }

    /// The same store sealing personal data at append with keys from `keyring` (see
    /// [`crate::personal`]).
    pub fn with_keyring(mut self, keyring: Arc<dyn crate::personal::Keyring>) -> Self {
        self.keyring = Some(keyring);
        self
    }

    /// An opener for one read's views: shows what sealed values hold, or `[erased]`.
    pub fn opener(&self) -> crate::personal::Opener {
        crate::personal::Opener::new(self.keyring.clone())
    }

    /// The JetStream context, for projection runners that manage their own durable consumers.
    pub(crate) fn snapshots(&self) -> &jetstream::stream::Stream {
        &self.inner.snapshots
    }

    /// Sequence of the last commit on one subject, `None` when the subject has none.
    pub(crate) async fn last_sequence_of(
        &self,
        subject: &str,
    ) -> Result<Option<u64>, EventStoreError> {
        let stream = self
            .jetstream()
            .get_stream_no_info(self.names().stream())
            .await
            .map_err(|err| EventStoreError::jetstream("get stream", err))?;
        match stream.get_last_raw_message_by_subject(subject).await {
            Ok(message) => Ok(Some(message.sequence)),
            Err(err) if err.kind() == stream::LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Err(err) => Err(EventStoreError::jetstream("get last message", err)),
        }
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.inner.jetstream
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.inner.client
    }

    /// Deletes the stream and its snapshot bucket. Only for scratch stores (benchmarks, tests):
    /// an event store's history is meant to be kept forever.
    pub async fn delete_scratch_store(&self) -> Result<(), EventStoreError> {
        let _ = self
            .jetstream()
            .delete_stream(format!("KV_{}", self.names().snapshot_bucket()))
            .await;
        self.jetstream()
            .delete_stream(self.names().stream())
            .await
            .map_err(|err| EventStoreError::jetstream("delete stream", err))?;
        Ok(())
    }

    /// The largest payload the server accepts.
    pub fn max_payload(&self) -> usize {
        self.inner.max_payload
    }

    /// Sequence of the last commit in the stream (0 when empty).
    pub async fn last_sequence(&self) -> Result<u64, EventStoreError> {
        Ok(self.bounds().await?.last)
    }

    /// Appends a command's events as one commit.
    // Debug level: the command handler's span already names the aggregate and command.
    #[instrument(level = "debug", skip_all, fields(
        aggregate_type = commit.aggregate_type,
        aggregate_id = %commit.aggregate_id,
        command_id = %commit.metadata.command_id,
        expected_sequence = commit.expected_sequence,
    ))]
    pub async fn append(&self, mut commit: NewCommit) -> Result<Appended, AppendError> {
        if commit.events.is_empty() {
            return Err(AppendError::Empty);
        }
        if let Some(keyring) = &self.keyring {
            crate::personal::seal_commit(keyring.as_ref(), &mut commit)
                .await
                .map_err(EventStoreError::from)?;
        }
        let message_id = crate::idempotency::message_id(
            &commit.metadata.tenant,
            commit.aggregate_type,
            &commit.aggregate_id,
            &commit.metadata.command_id,
        );
        let mut command_text = Uuid::encode_buffer();
        let command_id = &*commit
            .metadata
            .command_id
            .hyphenated()
            .encode_lower(&mut command_text);
        let (events, payload) = envelope_events(&mut commit, command_id);
        let payload = bytes::Bytes::from(payload);
        let max = self.max_payload();
        // Leave room for headers and protocol framing.
        if payload.len() + 512 > max {
            return Err(AppendError::TooLarge {
                size: payload.len(),
                max,
            });
        }
        let subject = self.names().aggregate(
            &commit.metadata.tenant,
            commit.aggregate_type,
            &commit.aggregate_id,
        );
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, message_id.as_str());
        headers.insert(
            async_nats::header::NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
            async_nats::HeaderValue::from(commit.expected_sequence),
        );
        headers.insert(CONTENT_TYPE_HEADER, BATCH_CONTENT_TYPE);
        // A request whose reply is read here instead of `jetstream::Context::send_publish`: the
        // same message and headers on the wire, but async-nats reads every ack as an untagged
        // enum tried error-first, which builds (and formats) a serde error for each success.
        let request = async_nats::Request::new()
            .payload(payload.clone())
            .headers(headers)
            .timeout(Some(PUBLISH_TIMEOUT));
        let reply = self
            .client()
            .send_request(subject.clone(), request)
            .await
            .map_err(|err| match err.kind() {
                async_nats::RequestErrorKind::NoResponders => EventStoreError::jetstream(
                    "publish",
                    format!("no stream captures {}", self.names().all_events()),
                ),
                _ => EventStoreError::jetstream("publish", err),
            })?;
        match PublishReply::parse(&reply.payload)? {
            PublishReply::Stored {
                sequence,
                duplicate,
            } if duplicate => {
                tracing::info!(
                    sequence,
                    aggregate_type = commit.aggregate_type,
                    aggregate_id = %commit.aggregate_id,
                    command_id = %commit.metadata.command_id,
                    "duplicate command, nothing appended"
                );
                // The key is derived from tenant, aggregate and command, so only a collision or
                // a message published around PurSight could point elsewhere; still, another
                // aggregate's outcome must never be returned as this command's.
                let stored = self.raw_message_at(sequence).await?;
                if stored.subject.as_str() != subject {
                    return Err(AppendError::ForeignDuplicate { sequence });
                }
                let original = StoredCommit::decode(sequence, &subject, &stored.payload)?;
                if original.events.iter().any(|e| e.commandid != command_id) {
                    return Err(AppendError::ForeignDuplicate { sequence });
                }
                Ok(Appended {
                    sequence,
                    events: CommittedEvents::from_cloud_events(original.events),
                    duplicate: true,
                })
            }
            PublishReply::Stored { sequence, .. } => Ok(Appended {
                sequence,
                events: CommittedEvents::appended(events, sequence, payload),
                duplicate: false,
            }),
            PublishReply::Refused { err_code, .. } if err_code == WRONG_LAST_SEQUENCE => {
                Err(AppendError::Conflict {
                    aggregate_type: commit.aggregate_type.to_owned(),
                    aggregate_id: commit.aggregate_id.to_string(),
                    expected_sequence: commit.expected_sequence,
                })
            }
            PublishReply::Refused {
                code,
                err_code,
                description,
            } => Err(EventStoreError::jetstream(
                "publish",
                format!("{description} (status {code}, error code {err_code})"),
            )
            .into()),
        }
    }

    /// The message stored at a stream sequence, undecoded.
    async fn raw_message_at(
        &self,
        sequence: u64,
    ) -> Result<jetstream::message::StreamMessage, EventStoreError> {
        let stream = self
            .jetstream()
            .get_stream_no_info(self.names().stream())
            .await
            .map_err(|err| EventStoreError::jetstream("get stream", err))?;
        stream
            .get_raw_message(sequence)
            .await
            .map_err(|err| EventStoreError::jetstream("get message", err))
    }

    /// Reads the commit stored at a stream sequence.
    pub async fn commit_at(&self, sequence: u64) -> Result<StoredCommit, EventStoreError> {
        let message = self.raw_message_at(sequence).await?;
        Ok(StoredCommit::decode(
            sequence,
            message.subject.as_str(),
            &message.payload,
        )?)
    }

    /// Loads one aggregate's full history, in order.
    #[instrument(skip(self))]
    pub async fn load(
        &self,
        tenant: &domain::TenantId,
        aggregate_type: &str,
        aggregate_id: &domain::AggregateId,
    ) -> Result<History, EventStoreError> {
        let subject = self.names().aggregate(tenant, aggregate_type, aggregate_id);
        let stream = self
            .jetstream()
            .get_stream_no_info(self.names().stream())
            .await
            .map_err(|err| EventStoreError::jetstream("get stream", err))?;
        // Direct gets: the stream answers them itself, far cheaper for the server than requests
        // to the JetStream API, and every command on an existing aggregate loads its history.
        let last = match stream.direct_get_last_for_subject(&subject).await {
            Ok(message) => message,
            Err(err) if err.kind() == stream::DirectGetErrorKind::NotFound => {
                return Ok(History::default());
            }
            Err(err) => return Err(EventStoreError::jetstream("get last message", err)),
        };
        let last_sequence = last.sequence;
        let last_commit = StoredCommit::decode(last_sequence, &subject, &last.payload)?;
        // A single-commit history needs no consumer at all.
        if last_commit.events.first().map(|e| e.aggregateversion) == Some(1) {
            return Ok(History {
                events: last_commit.into_stored_events().collect(),
                last_sequence,
                ..History::default()
            });
        }
        let mut events = Vec::new();
        // A short history is fetched commit by commit, backwards: every commit carries the
        // sequence of the aggregate's previous commit in the `Nats-Expected-Last-Subject-Sequence`
        // header its append was checked against, so each earlier commit is one direct get by
        // sequence. Creating a consumer, or asking for the subject's next message from sequence
        // 1 (which the server answers by scanning), costs the server far more, and every command
        // on an existing aggregate loads its history. Events before the last commit bound the
        // number of earlier commits; anything unexpected falls back to a consumer.
        let earlier_events = last_commit
            .events
            .first()
            .map_or(0, |e| e.aggregateversion.saturating_sub(1));
        if earlier_events <= LOOKUP_LOAD_LIMIT {
            if let Some(earlier) = self
                .earlier_commits(&stream, &subject, &last.headers, earlier_events)
                .await?
            {
                let events = earlier
                    .into_iter()
                    .rev()
                    .chain([last_commit])
                    .flat_map(StoredCommit::into_stored_events)
                    .collect();
                return Ok(History {
                    events,
                    last_sequence,
                    ..History::default()
                });
            }
        }
        let mut commits = self.read(&subject, DeliverFrom::Start).await?;
        while let Some(commit) = commits.next().await {
            let commit = commit?;
            let done = commit.sequence >= last_sequence;
            events.extend(commit.into_stored_events());
            if done {
                break;
            }
        }
        Ok(History {
            events,
            last_sequence,
            ..History::default()
        })
    }

    /// [`load`](Self::load) with the sealed values in the events' `data` opened (`[erased]`
    /// once erased), for folding an aggregate's state that decisions compare (who holds a role,
    /// whether an owner changed); the actor stays sealed. Also returns what each opened value
    /// came from, for [`crate::personal::carry_tokens`].
    pub async fn load_opened(
        &self,
        tenant: &domain::TenantId,
        aggregate_type: &str,
        aggregate_id: &domain::AggregateId,
    ) -> Result<(History, crate::personal::Carried), EventStoreError> {
        let mut history = self.load(tenant, aggregate_type, aggregate_id).await?;
        let carried = self
            .opener()
            .open_data(history.events.iter_mut().map(|stored| &mut stored.event))
            .await?;
        Ok((history, carried))
    }

    /// The commits before the one whose headers are `headers`, newest first, followed through
    /// their previous-commit headers; `None` when the chain is not as appends write it (a
    /// missing header, another subject, more than `earlier_events` commits), so the caller
    /// reads the subject instead.
    async fn earlier_commits(
        &self,
        stream: &jetstream::stream::Stream<()>,
        subject: &str,
        headers: &async_nats::HeaderMap,
        earlier_events: u64,
    ) -> Result<Option<Vec<StoredCommit>>, EventStoreError> {
        let previous = |headers: &async_nats::HeaderMap| {
            headers
                .get(async_nats::header::NATS_EXPECTED_LAST_SUBJECT_SEQUENCE)
                .and_then(|value| value.as_str().parse::<u64>().ok())
        };
        let mut commits = Vec::new();
        let mut events = 0;
        let Some(mut next) = previous(headers) else {
            return Ok(None);
        };
        while next > 0 {
            let message = match stream.direct_get(next).await {
                Ok(message) => message,
                Err(err) if err.kind() == stream::DirectGetErrorKind::NotFound => return Ok(None),
                Err(err) => return Err(EventStoreError::jetstream("get message", err)),
            };
            if message.subject.as_str() != subject {
                return Ok(None);
            }
            let commit = StoredCommit::decode(next, subject, &message.payload)?;
            events += commit.events.len() as u64;
            if events > earlier_events {
                return Ok(None);
            }
            commits.push(commit);
            let Some(previous) = previous(&message.headers) else {
                return Ok(None);
            };
            next = previous;
        }
        Ok((events == earlier_events).then_some(commits))
    }

    /// An endless, ordered stream of commits on `filter` (a subject, wildcards allowed), starting
    /// at `from`. Malformed commits are yielded as errors, never skipped.
    pub async fn read(
        &self,
        filter: &str,
        from: DeliverFrom,
    ) -> Result<
        impl Stream<Item = Result<StoredCommit, EventStoreError>> + Send + 'static,
        EventStoreError,
    > {
        let (_, commits) = self.read_counted(filter, from).await?;
        Ok(commits.map(|item| item.map(|(commit, _)| commit)))
    }

    /// Like [`read`](Self::read), with how many matching messages the consumer has yet to
    /// deliver: in total when it was created, and after each commit.
    async fn read_counted(
        &self,
        filter: &str,
        from: DeliverFrom,
    ) -> Result<
        (
            u64,
            impl Stream<Item = Result<(StoredCommit, u64), EventStoreError>> + Send + 'static,
        ),
        EventStoreError,
    > {
        let deliver_policy = match from {
            DeliverFrom::Start | DeliverFrom::Sequence(0) => consumer::DeliverPolicy::All,
            DeliverFrom::Sequence(start_sequence) => {
                consumer::DeliverPolicy::ByStartSequence { start_sequence }
            }
            DeliverFrom::New => consumer::DeliverPolicy::New,
        };
        let stream = self
            .jetstream()
            .get_stream_no_info(self.names().stream())
            .await
            .map_err(|err| EventStoreError::jetstream("get stream", err))?;
        let consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: filter.to_owned(),
                deliver_policy,
                ..Default::default()
            })
            .await
            .map_err(|err| EventStoreError::jetstream("create ordered consumer", err))?;
        let pending = consumer.cached_info().num_pending;
        let messages = consumer
            .messages()
            .await
            .map_err(|err| EventStoreError::jetstream("consume", err))?;
        Ok((
            pending,
            messages.map(|message| {
                let message = message.map_err(|err| EventStoreError::jetstream("consume", err))?;
                let info = message
                    .info()
                    .map_err(|err| EventStoreError::jetstream("message info", err))?;
                let (sequence, pending) = (info.stream_sequence, info.pending);
                Ok((
                    StoredCommit::decode(sequence, message.subject.as_str(), &message.payload)?,
                    pending,
                ))
            }),
        ))
    }

    /// The stream's first and last sequence (`(0, 0)`-like when empty: last is 0).
    pub async fn bounds(&self) -> Result<SequenceRange, EventStoreError> {
        let stream = self
            .jetstream()
            .get_stream(self.names().stream())
            .await
            .map_err(|err| EventStoreError::jetstream("get stream", err))?;
        let info = stream
            .get_info()
            .await
            .map_err(|err| EventStoreError::jetstream("stream info", err))?;
        Ok(SequenceRange {
            first: info.state.first_sequence,
            last: info.state.last_sequence,
        })
    }

    /// Reads every commit on `filter` from `from` up to the stream's end as it is now, then
    /// stops. See [`read_range`](Self::read_range).
    pub async fn read_to_end(
        &self,
        filter: &str,
        from: DeliverFrom,
    ) -> Result<
        impl Stream<Item = Result<StoredCommit, EventStoreError>> + Send + 'static,
        EventStoreError,
    > {
        let end = self.last_sequence().await?;
        self.read_range(filter, from, end).await
    }

    /// Reads every commit on `filter` from `from` through stream sequence `end`, then stops.
    ///
    /// The read is complete or it fails: it ends when the consumer reports nothing more pending
    /// on `filter` or reaches `end`, never on a pause. A read that the server stops delivering,
    /// that stalls for [`STALL_LIMIT`], or (on [`StreamNames::all_events`], where every sequence
    /// must arrive) that skips a sequence ends with [`EventStoreError::IncompleteRead`].
    pub async fn read_range(
        &self,
        filter: &str,
        from: DeliverFrom,
        end: u64,
    ) -> Result<
        impl Stream<Item = Result<StoredCommit, EventStoreError>> + Send + 'static,
        EventStoreError,
    > {
        let start = match from {
            DeliverFrom::Sequence(seq) => seq.max(1),
            DeliverFrom::Start => 1,
            DeliverFrom::New => return Ok(futures::stream::empty().left_stream()),
        };
        if end == 0 || start > end {
            return Ok(futures::stream::empty().left_stream());
        }
        // Every sequence of the stream is on the all-events subject, so a read of it must see
        // each one (from the first the stream still holds).
        let every_sequence = filter == self.names().all_events();
        let first_held = if every_sequence {
            self.bounds().await?.first
        } else {
            0
        };
        let (pending, commits) = self.read_counted(filter, from).await?;
        if pending == 0 {
            if every_sequence && start.max(first_held) <= end {
                return Err(EventStoreError::IncompleteRead {
                    filter: filter.to_owned(),
                    end,
                    reason: format!(
                        "the stream delivers nothing from sequence {}",
                        start.max(first_held)
                    ),
                });
            }
            return Ok(futures::stream::empty().left_stream());
        }
        let mut commits = Box::pin(commits);
        let filter = filter.to_owned();
        Ok(async_stream_until(move |tx| async move {
            let mut expected = start.max(first_held);
            let mut last_read = None;
            let incomplete = |last_read: Option<u64>, why: String| {
                let after = last_read.map_or_else(
                    || "before the first commit".to_owned(),
                    |seq| format!("after sequence {seq}"),
                );
                EventStoreError::IncompleteRead {
                    filter: filter.clone(),
                    end,
                    reason: format!("{why} {after}"),
                }
            };
            loop {
                let (commit, pending) =
                    match tokio::time::timeout(STALL_LIMIT, commits.next()).await {
                        Ok(Some(Ok(item))) => item,
                        Ok(Some(Err(err))) => {
                            let _ = tx.send(Err(err)).await;
                            return;
                        }
                        Ok(None) => {
                            let err = incomplete(last_read, "the server stopped delivering".into());
                            let _ = tx.send(Err(err)).await;
                            return;
                        }
                        Err(_) => {
                            let err = incomplete(
                                last_read,
                                format!("no commit arrived for {} s", STALL_LIMIT.as_secs()),
                            );
                            let _ = tx.send(Err(err)).await;
                            return;
                        }
                    };
                if commit.sequence > end {
                    return;
                }
                if every_sequence && commit.sequence != expected {
                    let err = incomplete(
                        last_read,
                        format!(
                            "sequence {expected} is missing (the next commit is {})",
                            commit.sequence
                        ),
                    );
                    let _ = tx.send(Err(err)).await;
                    return;
                }
                expected = commit.sequence + 1;
                last_read = Some(commit.sequence);
                let reached_end = commit.sequence >= end;
                if tx.send(Ok(commit)).await.is_err() || reached_end {
                    return;
                }
                if pending == 0 {
                    if every_sequence {
                        let err = incomplete(last_read, "the stream holds nothing more".into());
                        let _ = tx.send(Err(err)).await;
                    }
                    return;
                }
            }
        })
        .right_stream())
    }
}

/// What [`EventStore::verify`] checked.
#[derive(Debug)]
pub struct StreamVerification {
    /// The sequences checked: the stream's first held through its last when verification began.
    pub range: SequenceRange,
    /// Commits read (every sequence of `range`).
    pub commits: u64,
    /// Every event's hash chain.
    pub chains: crate::chain::ChainVerifier,
}

impl EventStore {
    /// Verifies the whole stream as far as it reaches when called: every commit from the first
    /// the stream holds to its last is read (a read that ends early is an error), and every
    /// aggregate's hash chain is checked.
    pub async fn verify(&self) -> Result<StreamVerification, EventStoreError> {
        let range = self.bounds().await?;
        let mut chains = crate::chain::ChainVerifier::new();
        let mut commits = 0;
        let mut read = Box::pin(
            self.read_range(&self.names().all_events(), DeliverFrom::Start, range.last)
                .await?,
        );
        while let Some(commit) = read.next().await {
            commits += 1;
            for stored in commit?.into_stored_events() {
                chains.check(&stored);
            }
        }
        Ok(StreamVerification {
            range,
            commits,
            chains,
        })
    }
}

/// The stream sequences a read covered or a stream holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceRange {
    /// The first sequence (the stream's first held; 0 or 1 when empty).
    pub first: u64,
    /// The last sequence (0 when the stream is empty).
    pub last: u64,
}

/// Up to how many events before its last commit an aggregate's history is loaded by direct gets
/// of its commits instead of a consumer (see [`EventStore::load`]).
const LOOKUP_LOAD_LIMIT: u64 = 16;

/// How long a bounded read waits for the next commit before it reports itself incomplete. Long
/// enough for a busy server; the read normally ends on the consumer's pending count.
pub const STALL_LIMIT: Duration = Duration::from_secs(30);

/// Makes sure the stream exists with the settings an event store needs, or refuses one that
/// would let events be deleted, lost or mixed with others, naming each setting that is wrong. A
/// too-short duplicate window and direct gets being off are changed in place: that loses nothing.
async fn ensure_stream(
    jetstream: &jetstream::Context,
    names: &StreamNames,
    settings: StreamSettings,
) -> Result<(), EventStoreError> {
    let name = names.stream();
    let wanted_subject = names.all_events();
    match jetstream.get_stream(name).await {
        Ok(mut existing) => {
            let info = existing
                .info()
                .await
                .map_err(|err| EventStoreError::jetstream("stream info", err))?;
            let config = info.config.clone();
            let problems = stream_problems(&config, &wanted_subject);
            if !problems.is_empty() {
                return Err(EventStoreError::IncompatibleStream {
                    name: name.to_owned(),
                    reason: problems.join("; "),
                });
            }
            // Raised in place, because neither loses anything: a too-short duplicate window,
            // and direct gets being off (loads read through them).
            if config.duplicate_window < settings.duplicate_window || !config.allow_direct {
                let (was_window, was_direct) = (config.duplicate_window, config.allow_direct);
                jetstream
                    .update_stream(stream::Config {
                        duplicate_window: config.duplicate_window.max(settings.duplicate_window),
                        allow_direct: true,
                        ..config
                    })
                    .await
                    .map_err(|err| EventStoreError::IncompatibleStream {
                        name: name.to_owned(),
                        reason: format!(
                            "its duplicate_window ({was_window:?}, PurSight needs at least {:?}) or allow_direct ({was_direct}, PurSight needs true) could not be raised: {err}",
                            settings.duplicate_window
                        ),
                    })?;
                tracing::info!(
                    stream = name,
                    duplicate_window_was = ?was_window,
                    duplicate_window = ?settings.duplicate_window.max(was_window),
                    allow_direct_was = was_direct,
                    "raised the stream's duplicate window and turned direct gets on where needed"
                );
            }
            Ok(())
        }
        Err(err)
            if matches!(
                err.kind(),
                jetstream::context::GetStreamErrorKind::JetStream(js)
                    if js.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
            ) =>
        {
            jetstream
                .create_stream(stream::Config {
                    name: name.to_owned(),
                    description: Some("PurSight event store".into()),
                    subjects: vec![wanted_subject],
                    storage: stream::StorageType::File,
                    retention: stream::RetentionPolicy::Limits,
                    deny_delete: true,
                    deny_purge: true,
                    allow_direct: true,
                    duplicate_window: settings.duplicate_window,
                    ..Default::default()
                })
                .await
                .map_err(|err| EventStoreError::jetstream("create stream", err))?;
            tracing::info!(stream = name, "created event stream");
            Ok(())
        }
        Err(err) => Err(EventStoreError::jetstream("get stream", err)),
    }
}

/// Everything about an existing stream's configuration that makes it unfit to hold events, one
/// sentence per setting, naming it. The discard policy is not checked: it only acts when a
/// limit is reached, and every limit must be unset. Rollups need the purge permission, which
/// `deny_purge` already takes away.
fn stream_problems(config: &stream::Config, wanted_subject: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !config.deny_delete {
        problems.push("it allows deleting messages (deny_delete is off)".to_owned());
    }
    if !config.deny_purge {
        problems.push("it allows purging (deny_purge is off)".to_owned());
    }
    if config.subjects != [wanted_subject] {
        problems.push(format!(
            "it captures {:?} instead of exactly [{wanted_subject:?}]",
            config.subjects
        ));
    }
    if config.retention != stream::RetentionPolicy::Limits {
        problems.push(format!(
            "its retention is {:?}, which removes events once consumed (retention must be limits)",
            config.retention
        ));
    }
    if config.storage != stream::StorageType::File {
        problems.push(format!(
            "its storage is {:?}, which loses events when the server restarts (storage must be file)",
            config.storage
        ));
    }
    if !config.max_age.is_zero() {
        problems.push(format!(
            "max_age is {:?}: older events would be removed (it must be unlimited)",
            config.max_age
        ));
    }
    for (setting, limit) in [
        ("max_msgs", config.max_messages),
        ("max_bytes", config.max_bytes),
        ("max_msgs_per_subject", config.max_messages_per_subject),
    ] {
        if limit > 0 {
            problems.push(format!(
                "{setting} is {limit}: events beyond it would be removed or refused (it must be unlimited, -1)"
            ));
        }
    }
    if config.sealed {
        problems.push("it is sealed: nothing can be appended".to_owned());
    }
    if config.mirror.is_some() {
        problems.push("it is a mirror of another stream: nothing can be appended".to_owned());
    }
    problems
}

/// A small channel-backed stream so `read_to_end` can stop on sequence or idleness.
fn async_stream_until<F, Fut>(
    producer: F,
) -> impl Stream<Item = Result<StoredCommit, EventStoreError>> + Send + 'static
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<StoredCommit, EventStoreError>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    tokio::spawn(producer(tx));
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// How long an append waits for the stream's acknowledgement (async-nats' JetStream default).
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// JetStream's error code for a failed `Nats-Expected-Last-Subject-Sequence` check.
const WRONG_LAST_SEQUENCE: u64 = 10071;

/// The stream's answer to a publish.
#[derive(Debug, PartialEq)]
enum PublishReply {
    /// Stored at `sequence`; `duplicate` when the message id had already been stored there.
    Stored { sequence: u64, duplicate: bool },
    /// Refused, with JetStream's status, error code and description.
    Refused {
        code: u16,
        err_code: u64,
        description: String,
    },
}

impl PublishReply {
    /// Reads JetStream's `{"stream":…,"seq":N,"duplicate":…}` or `{"error":{…}}` in one pass.
    fn parse(payload: &[u8]) -> Result<Self, EventStoreError> {
        #[derive(serde::Deserialize)]
        struct Wire {
            #[serde(default)]
            error: Option<WireError>,
            seq: Option<u64>,
            #[serde(default)]
            duplicate: bool,
        }
        #[derive(serde::Deserialize)]
        struct WireError {
            #[serde(default)]
            code: u16,
            #[serde(default)]
            err_code: u64,
            #[serde(default)]
            description: String,
        }
        let unreadable = |reason: &dyn std::fmt::Display| {
            EventStoreError::jetstream(
                "publish ack",
                format!("unreadable acknowledgement: {reason}"),
            )
        };
        let wire: Wire = serde_json::from_slice(payload).map_err(|err| unreadable(&err))?;
        match (wire.error, wire.seq) {
            (Some(error), _) => Ok(Self::Refused {
                code: error.code,
                err_code: error.err_code,
                description: error.description,
            }),
            (None, Some(sequence)) => Ok(Self::Stored {
                sequence,
                duplicate: wire.duplicate,
            }),
            (None, None) => Err(unreadable(&"it holds neither a sequence nor an error")),
        }
    }
}

/// Wraps decided events into hash-chained CloudEvents and builds the commit's payload (the
/// CloudEvents batch). Each event is serialised once: its canonical JSON is hashed, and the
/// same bytes with `hash` added become its element of the batch (members of a JSON object are
/// unordered, so the payload needs no canonical order; verification re-canonicalises). No
/// `CloudEvent` is built: the caller needs only each event's id, version and hash.
/// `command_id` is the commit's command id as hyphenated text.
fn envelope_events(commit: &mut NewCommit, command_id: &str) -> (Vec<AppendedEvent>, Vec<u8>) {
    let decided = std::mem::take(&mut commit.events);
    let meta = &commit.metadata;
    let now = Utc::now();
    let source = ["/pursight/", meta.tenant.as_str()].concat();
    // The ids' text lives in stack buffers: three allocations fewer on every append.
    let mut texts = [Uuid::encode_buffer(); 3];
    let [aggregate_text, correlation_text, causation_text] = &mut texts;
    let aggregate_id = &*commit
        .aggregate_id
        .as_uuid()
        .hyphenated()
        .encode_lower(aggregate_text);
    let correlation_id = &*meta
        .correlation_id
        .hyphenated()
        .encode_lower(correlation_text);
    let causation_id = &*meta.causation_id.hyphenated().encode_lower(causation_text);
    let mut prevhash = std::mem::take(&mut commit.previous_hash);
    let mut canonical = Vec::with_capacity(2048);
    let mut payload = Vec::with_capacity(2048 * decided.len() + 2);
    payload.push(b'[');
    let events = decided
        .iter()
        .enumerate()
        .map(|(index, new)| {
            let id = Uuid::now_v7();
            let aggregate_version = commit.expected_version + index as u64 + 1;
            let event_type = wire_type(new.name, new.version);
            canonical.clear();
            let view = EnvelopeView {
                specversion: SPEC_VERSION,
                id,
                source: &source,
                event_type: &event_type,
                subject: aggregate_id,
                time: &now,
                datacontenttype: DATA_CONTENT_TYPE,
                data: EventData::Canonical(new.canonical_data()),
                tenant: meta.tenant.as_str(),
                aggregatetype: commit.aggregate_type,
                aggregateid: aggregate_id,
                aggregateversion: aggregate_version,
                actor: &meta.actor,
                commandid: command_id,
                correlationid: correlation_id,
                causationid: causation_id,
                traceparent: meta.traceparent.as_deref(),
                prevhash: &prevhash,
            };
            write_canonical(&view, &mut canonical);
            let hash = match redacted_for_hash(new.canonical_data()) {
                // The stored bytes keep the token; the hash is over the redacted event.
                Some(redacted) => {
                    let mut hashed = Vec::with_capacity(canonical.len());
                    write_canonical(
                        &EnvelopeView {
                            data: EventData::Value(&redacted),
                            ..view
                        },
                        &mut hashed,
                    );
                    hash_of(&hashed)
                }
                None => hash_of(&canonical),
            };
            if index > 0 {
                payload.push(b',');
            }
            // `{…}` without its closing brace, then `,"hash":"<hex>"}`.
            payload.extend_from_slice(&canonical[..canonical.len() - 1]);
            payload.extend_from_slice(b",\"hash\":\"");
            payload.extend_from_slice(hash.as_bytes());
            payload.extend_from_slice(b"\"}");
            prevhash.clone_from(&hash);
            AppendedEvent {
                id,
                aggregate_version,
                hash,
            }
        })
        .collect();
    payload.push(b']');
    (events, payload)
}

/// The event data with its Fernet tokens redacted, when it holds any (see [`crate::redact`]);
/// `None` for the usual data without one, found by a byte search before anything is parsed.
fn redacted_for_hash(canonical_data: &[u8]) -> Option<serde_json::Value> {
    const MARK: &[u8] = b"\"fernet:";
    if !canonical_data
        .windows(MARK.len())
        .any(|window| window == MARK)
    {
        return None;
    }
    let mut value: serde_json::Value = serde_json::from_slice(canonical_data).ok()?;
    if !crate::redact::holds_fernet_token(&value) {
        return None;
    }
    crate::redact::redact_value(&mut value);
    Some(value)
}

impl From<DecodeError> for AppendError {
    fn from(err: DecodeError) -> Self {
        AppendError::Store(err.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::compute_hash;
    use crate::envelope::StoredCommit;

    #[test]
    fn the_payload_holds_the_hashed_events_and_decodes_to_what_append_returns() {
        let tenant = domain::TenantId::parse("acme").unwrap();
        let mut commit = NewCommit {
            aggregate_type: "data_source",
            aggregate_id: domain::AggregateId::from_uuid(Uuid::now_v7()),
            expected_sequence: 4,
            expected_version: 2,
            previous_hash: "ab".repeat(32),
            metadata: crate::CommitMetadata {
                tenant,
                actor: "alice \"the admin\"".into(),
                command_id: Uuid::now_v7(),
                correlation_id: Uuid::now_v7(),
                causation_id: Uuid::now_v7(),
                traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
            },
            events: vec![
                crate::NewEvent::from_value(
                    "ConfigUpdated",
                    1,
                    &serde_json::json!({"z": 1, "a": {"é": [1.5, null, "q\"uote"]}}),
                ),
                crate::NewEvent::from_value(
                    "SourceArchived",
                    1,
                    &serde_json::json!({"reason": null}),
                ),
            ],
        };
        let command_id = commit.metadata.command_id.to_string();
        let (events, payload) = envelope_events(&mut commit, &command_id);
        let decoded = StoredCommit::decode(5, "s", &payload).unwrap();
        assert_eq!(
            CommittedEvents::from_cloud_events(decoded.events.clone()).to_vec(),
            events
        );
        assert_eq!(decoded.events[0].prevhash, "ab".repeat(32));
        assert!(decoded.events.iter().all(|e| e.commandid == command_id));
        assert_eq!(decoded.events[1].prevhash, events[0].hash);
        assert_eq!(events[1].aggregate_version, 4);
        assert_eq!(decoded.events[1].actor, "alice \"the admin\"");
        assert_eq!(
            decoded.events[0].data,
            serde_json::json!({"z": 1, "a": {"é": [1.5, null, "q\"uote"]}})
        );
        for event in &decoded.events {
            assert_eq!(event.hash, compute_hash(event), "the stored hash verifies");
        }
    }

    #[test]
    fn publish_replies_are_read_as_jetstream_writes_them() {
        assert_eq!(
            PublishReply::parse(br#"{"stream":"PURSIGHT_EVENTS","seq":42}"#).unwrap(),
            PublishReply::Stored {
                sequence: 42,
                duplicate: false
            }
        );
        assert_eq!(
            PublishReply::parse(br#"{"stream":"S","domain":"hub","seq":7,"duplicate":true}"#)
                .unwrap(),
            PublishReply::Stored {
                sequence: 7,
                duplicate: true
            }
        );
        assert_eq!(
            PublishReply::parse(
                br#"{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"}}"#
            )
            .unwrap(),
            PublishReply::Refused {
                code: 400,
                err_code: WRONG_LAST_SEQUENCE,
                description: "wrong last sequence: 3".into()
            }
        );
        for unreadable in [&b"not json"[..], br#"{"stream":"S"}"#, b""] {
            let err = PublishReply::parse(unreadable).unwrap_err().to_string();
            assert!(err.contains("unreadable acknowledgement"), "{err}");
        }
    }
}
