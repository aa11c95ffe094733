//! The event store against the machine's real NATS JetStream. Every test uses its own stream
//! prefix and deletes its stream at the end.

use domain::{AggregateId, TenantId};
use eventlog::chain::GENESIS;
use eventlog::{
    export, AppendError, CommitMetadata, DeliverFrom, EventStore, EventStoreConfig,
    EventStoreError, NewCommit, NewEvent, StreamNames,
};
use futures::StreamExt;
use std::time::Duration;
use uuid::Uuid;

fn nats_url() -> String {
    std::env::var("PURSIGHT_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

struct TestStore {
    store: EventStore,
}

impl TestStore {
    async fn new() -> Self {
        let prefix = format!("t{}", &Uuid::new_v4().simple().to_string()[..12]);
        let names = StreamNames::new(&prefix, None).unwrap();
        let store = EventStore::connect(&EventStoreConfig {
            nats_url: nats_url(),
            names,
        })
        .await
        .expect("NATS with JetStream must run on 127.0.0.1:4222");
        Self { store }
    }

    async fn cleanup(self) {
        self.store.delete_scratch_store().await.unwrap();
    }
}

fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).unwrap()
}

fn commit(
    tenant: &TenantId,
    id: AggregateId,
    expected_sequence: u64,
    expected_version: u64,
    previous_hash: &str,
    command_id: Uuid,
    payloads: &[serde_json::Value],
) -> NewCommit {
    NewCommit {
        aggregate_type: "data_source",
        aggregate_id: id,
        expected_sequence,
        expected_version,
        previous_hash: previous_hash.to_owned(),
        metadata: CommitMetadata {
            tenant: tenant.clone(),
            actor: "alice".into(),
            command_id,
            correlation_id: command_id,
            causation_id: command_id,
            traceparent: None,
        },
        events: payloads
            .iter()
            .map(|data| NewEvent::from_value("TestHappened", 1, data))
            .collect(),
    }
}

fn new_id() -> AggregateId {
    AggregateId::from_uuid(Uuid::now_v7())
}

#[tokio::test]
async fn append_then_load_returns_the_events_in_order_with_a_hash_chain() {
    let t = TestStore::new().await;
    let acme = tenant("acme");
    let id = new_id();
    let first = t
        .store
        .append(commit(
            &acme,
            id,
            0,
            0,
            GENESIS,
            Uuid::now_v7(),
            &[serde_json::json!({"n": 1}), serde_json::json!({"n": 2})],
        ))
        .await
        .unwrap();
    assert!(!first.duplicate);
    assert_eq!(first.events.len(), 2);
    let history = t.store.load(&acme, "data_source", &id).await.unwrap();
    let second = t
        .store
        .append(commit(
            &acme,
            id,
            history.last_sequence,
            history.version(),
            &history.last_hash(),
            Uuid::now_v7(),
            &[serde_json::json!({"n": 3})],
        ))
        .await
        .unwrap();
    let history = t.store.load(&acme, "data_source", &id).await.unwrap();
    assert_eq!(history.last_sequence, second.sequence);
    let numbers: Vec<i64> = history
        .events
        .iter()
        .map(|e| e.event.data["n"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, vec![1, 2, 3]);
    let versions: Vec<u64> = history
        .events
        .iter()
        .map(|e| e.event.aggregateversion)
        .collect();
    assert_eq!(versions, vec![1, 2, 3]);
    assert_eq!(history.events[0].event.prevhash, GENESIS);
    assert_eq!(
        history.events[1].event.prevhash,
        history.events[0].event.hash
    );
    assert_eq!(
        history.events[2].event.prevhash,
        history.events[1].event.hash
    );
    let event = &history.events[0].event;
    assert_eq!(event.specversion, "1.0");
    assert_eq!(event.event_type, "io.pursight.TestHappened.v1");
    assert_eq!(event.source, "/pursight/acme");
    assert_eq!(event.subject, id.to_string());
    assert_eq!(event.actor, "alice");
    t.cleanup().await;
}

#[tokio::test]
async fn a_stale_expected_sequence_is_a_typed_conflict_and_appends_nothing() {
    let t = TestStore::new().await;
    let acme = tenant("acme");
    let id = new_id();
    t.store
        .append(commit(
            &acme,
            id,
            0,
            0,
            GENESIS,
            Uuid::now_v7(),
            &[serde_json::json!({})],
        ))
        .await
        .unwrap();
    // Someone else also believes the aggregate is new.
    let err = t
        .store
        .append(commit(
            &acme,
            id,
            0,
            0,
            GENESIS,
            Uuid::now_v7(),
            &[serde_json::json!({})],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppendError::Conflict {
                expected_sequence: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        t.store
            .load(&acme, "data_source", &id)
            .await
            .unwrap()
            .events
            .len(),
        1
    );
    t.cleanup().await;
}

#[tokio::test]
async fn the_same_command_id_twice_is_reported_as_duplicate_and_stored_once() {
    let t = TestStore::new().await;
    let acme = tenant("acme");
    let id = new_id();
    let command_id = Uuid::now_v7();
    let first = t
        .store
        .append(commit(
            &acme,
            id,
            0,
            0,
            GENESIS,
            command_id,
            &[serde_json::json!({"a": 1})],
        ))
        .await
        .unwrap();
    let again = t
        .store
        .append(commit(
            &acme,
            id,
            0,
            0,
            GENESIS,
            command_id,
            &[serde_json::json!({"a": 1})],
        ))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.sequence, first.sequence);
    assert_eq!(
        again.events.cloud_events().unwrap(),
        first.events.cloud_events().unwrap(),
        "a duplicate answers with the original events"
    );
    assert_eq!(*again.events, *first.events);
    let stored = t
        .store
        .jetstream()
        .get_stream_no_info(t.store.names().stream())
        .await
        .unwrap()
        .get_raw_message(first.sequence)
        .await
        .unwrap();
    assert_eq!(
        first.events.published_size(),
        Some(stored.payload.len()),
        "the published size is the stored commit's"
    );
    assert_eq!(again.events.published_size(), None, "nothing was published");
    assert_eq!(
        stored
            .headers
            .get("Content-Type")
            .map(|value| value.as_str()),
        Some(eventlog::envelope::BATCH_CONTENT_TYPE),
        "subscribers are told the payload is a CloudEvents batch"
    );
    assert_eq!(t.store.last_sequence().await.unwrap(), first.sequence);
    t.cleanup().await;
}

#[tokio::test]
async fn a_command_id_reused_by_another_tenant_or_aggregate_appends_its_own_commit() {
    let t = TestStore::new().await;
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    let id = new_id();
    let command_id = Uuid::now_v7();
    let ours = t
        .store
        .append(commit(
            &acme,
            id,
            0,
            0,
            GENESIS,
            command_id,
            &[serde_json::json!({"t": "acme"})],
        ))
        .await
        .unwrap();
    // Another tenant picks the same command id, even for an aggregate with the same id.
    let theirs = t
        .store
        .append(commit(
            &globex,
            id,
            0,
            0,
            GENESIS,
            command_id,
            &[serde_json::json!({"t": "globex"})],
        ))
        .await
        .unwrap();
    assert!(
        !theirs.duplicate,
        "another tenant's command is not a duplicate"
    );
    assert_ne!(theirs.sequence, ours.sequence);
    assert_ne!(theirs.events.ids(), ours.events.ids());
    let history = t.store.load(&globex, "data_source", &id).await.unwrap();
    assert_eq!(history.events.len(), 1);
    assert_eq!(history.events[0].event.data["t"], "globex");
    assert_eq!(history.events[0].event.tenant, "globex");
    // The same tenant, another aggregate: appended too.
    let other = new_id();
    let elsewhere = t
        .store
        .append(commit(
            &acme,
            other,
            0,
            0,
            GENESIS,
            command_id,
            &[serde_json::json!({"t": "other"})],
        ))
        .await
        .unwrap();
    assert!(!elsewhere.duplicate);
    // The same tenant and aggregate retrying: a duplicate answering with the original ids.
    let retry = t
        .store
        .append(commit(
            &globex,
            id,
            0,
            0,
            GENESIS,
            command_id,
            &[serde_json::json!({"t": "globex"})],
        ))
        .await
        .unwrap();
    assert!(retry.duplicate);
    assert_eq!(retry.sequence, theirs.sequence);
    assert_eq!(retry.events.ids(), theirs.events.ids());
    assert_eq!(t.store.last_sequence().await.unwrap(), elsewhere.sequence);
    t.cleanup().await;
}

#[tokio::test]
async fn a_duplicate_key_stored_for_another_subject_is_an_error_not_its_outcome() {
    let t = TestStore::new().await;
    let acme = tenant("acme");
    let (id, command_id) = (new_id(), Uuid::now_v7());
    // Someone with write access to the stream publishes under this commit's key elsewhere.
    let key = eventlog::idempotency::message_id(&acme, "data_source", &id, &command_id);
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(async_nats::header::NATS_MESSAGE_ID, key.as_str());
    let elsewhere = t.store.names().aggregate(&acme, "data_source", &new_id());
    t.store
        .jetstream()
        .publish_with_headers(elsewhere, headers, "[]".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let err = t
        .store
        .append(commit(
            &acme,
            id,
            0,
            0,
            GENESIS,
            command_id,
            &[serde_json::json!({})],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppendError::ForeignDuplicate { sequence: 1 }),
        "{err}"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn loading_a_long_history_returns_every_event_once_and_nothing_of_other_aggregates() {
    let t = TestStore::new().await;
    let acme = tenant("acme");
    let id = new_id();
    let other = new_id();
    let (mut sequence, mut version, mut hash) = (0u64, 0u64, GENESIS.to_owned());
    for i in 0..1500 {
        let payloads = [serde_json::json!({"i": i})];
        let appended = t
            .store
            .append(commit(
                &acme,
                id,
                sequence,
                version,
                &hash,
                Uuid::now_v7(),
                &payloads,
            ))
            .await
            .unwrap();
        sequence = appended.sequence;
        version += 1;
        hash = appended.events[0].hash.clone();
        if i % 100 == 0 {
            t.store
                .append(commit(
                    &acme,
                    other,
                    0,
                    0,
                    GENESIS,
                    Uuid::now_v7(),
                    &payloads,
                ))
                .await
                .ok();
        }
        // A short history is loaded by lookups, a long one by a consumer: both exactly.
        if i == 9 {
            let history = t.store.load(&acme, "data_source", &id).await.unwrap();
            assert_eq!(history.events.len(), 10);
            assert!(history.events.iter().enumerate().all(
                |(i, e)| e.event.data["i"] == i as i64 && e.event.aggregateid == id.to_string()
            ));
            assert_eq!(
                (history.last_sequence, history.last_hash()),
                (sequence, hash.clone())
            );
        }
    }
    let history = t.store.load(&acme, "data_source", &id).await.unwrap();
    assert_eq!(history.events.len(), 1500);
    assert!(history
        .events
        .iter()
        .enumerate()
        .all(|(i, e)| e.event.data["i"] == i as i64));
    assert_eq!(history.last_hash(), hash);
    t.cleanup().await;
}

#[tokio::test]
async fn subscribers_see_new_commits_of_their_tenant_only_and_can_resume_from_a_sequence() {
    let t = TestStore::new().await;
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    let early = t
        .store
        .append(commit(
            &acme,
            new_id(),
            0,
            0,
            GENESIS,
            Uuid::now_v7(),
            &[serde_json::json!({"early": true})],
        ))
        .await
        .unwrap();
    let mut live = Box::pin(
        t.store
            .read(&t.store.names().tenant(&acme), DeliverFrom::New)
            .await
            .unwrap(),
    );
    t.store
        .append(commit(
            &globex,
            new_id(),
            0,
            0,
            GENESIS,
            Uuid::now_v7(),
            &[serde_json::json!({"other": true})],
        ))
        .await
        .unwrap();
    let later = t
        .store
        .append(commit(
            &acme,
            new_id(),
            0,
            0,
            GENESIS,
            Uuid::now_v7(),
            &[serde_json::json!({"later": true})],
        ))
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), live.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        got.sequence, later.sequence,
        "new commits only, and not globex's"
    );

    let mut resumed = Box::pin(
        t.store
            .read(
                &t.store.names().tenant(&acme),
                DeliverFrom::Sequence(early.sequence),
            )
            .await
            .unwrap(),
    );
    let first = tokio::time::timeout(Duration::from_secs(5), resumed.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let second = tokio::time::timeout(Duration::from_secs(5), resumed.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.sequence, second.sequence),
        (early.sequence, later.sequence)
    );
    t.cleanup().await;
}

#[tokio::test]
async fn a_malformed_message_in_the_stream_is_reported_not_skipped() {
    let t = TestStore::new().await;
    let acme = tenant("acme");
    let id = new_id();
    // A foreign publisher writes garbage onto an event subject.
    t.store
        .jetstream()
        .publish(
            t.store.names().aggregate(&acme, "data_source", &id),
            "not a batch".into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let err = t.store.load(&acme, "data_source", &id).await.unwrap_err();
    assert!(matches!(err, EventStoreError::Decode(_)), "{err:?}");
    let mut all = Box::pin(
        t.store
            .read_to_end(&t.store.names().all_events(), DeliverFrom::Start)
            .await
            .unwrap(),
    );
    assert!(all.next().await.unwrap().is_err());
    t.cleanup().await;
}

#[tokio::test]
async fn an_existing_stream_that_allows_purge_is_refused_with_a_clear_message() {
    let prefix = format!("t{}", &Uuid::new_v4().simple().to_string()[..12]);
    let names = StreamNames::new(&prefix, None).unwrap();
    let client = async_nats::connect(nats_url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    js.create_stream(async_nats::jetstream::stream::Config {
        name: names.stream().to_owned(),
        subjects: vec![names.all_events()],
        ..Default::default()
    })
    .await
    .unwrap();
    let err = EventStore::connect(&EventStoreConfig {
        nats_url: nats_url(),
        names: names.clone(),
    })
    .await
    .err()
    .expect("must refuse");
    let message = err.to_string();
    assert!(
        message.contains("deny_purge") && message.contains("deny_delete"),
        "{message}"
    );
    js.delete_stream(names.stream()).await.unwrap();
}

/// Creates `names`' stream beforehand with `config` (name, subjects and the two deny flags set
/// as PurSight would) and returns what connecting to it says.
async fn connect_to_prepared_stream(
    config: async_nats::jetstream::stream::Config,
) -> (
    Result<EventStore, EventStoreError>,
    async_nats::jetstream::Context,
    StreamNames,
) {
    let prefix = format!("t{}", &Uuid::new_v4().simple().to_string()[..12]);
    let names = StreamNames::new(&prefix, None).unwrap();
    let client = async_nats::connect(nats_url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    js.create_stream(async_nats::jetstream::stream::Config {
        name: names.stream().to_owned(),
        subjects: vec![names.all_events()],
        deny_delete: true,
        deny_purge: true,
        ..config
    })
    .await
    .unwrap();
    let connected = EventStore::connect(&EventStoreConfig {
        nats_url: nats_url(),
        names: names.clone(),
    })
    .await;
    (connected, js, names)
}

#[tokio::test]
async fn an_existing_stream_that_would_lose_events_is_refused_naming_each_setting() {
    use async_nats::jetstream::stream::{Config, RetentionPolicy, StorageType};
    let cases: Vec<(Config, &[&str])> = vec![
        (
            Config {
                max_age: Duration::from_secs(3600),
                max_messages: 1000,
                max_bytes: 1 << 20,
                ..Default::default()
            },
            &["max_age", "max_msgs", "max_bytes"],
        ),
        (
            Config {
                retention: RetentionPolicy::Interest,
                ..Default::default()
            },
            &["retention"],
        ),
        (
            Config {
                storage: StorageType::Memory,
                max_messages_per_subject: 1,
                ..Default::default()
            },
            &["storage", "max_msgs_per_subject"],
        ),
    ];
    for (config, settings) in cases {
        let (connected, js, names) = connect_to_prepared_stream(config).await;
        let message = connected.err().expect("must refuse").to_string();
        for setting in settings {
            assert!(
                message.contains(setting),
                "{setting} not named in: {message}"
            );
        }
        js.delete_stream(names.stream()).await.unwrap();
    }
}

#[tokio::test]
async fn an_existing_stream_with_a_short_duplicate_window_or_no_direct_gets_is_updated() {
    let (connected, js, names) =
        connect_to_prepared_stream(async_nats::jetstream::stream::Config {
            duplicate_window: Duration::from_secs(1),
            allow_direct: false,
            ..Default::default()
        })
        .await;
    let store = connected.expect("a short window is raised, not refused");
    let info = js
        .get_stream(names.stream())
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .config
        .clone();
    assert_eq!(info.duplicate_window, Duration::from_secs(24 * 60 * 60));
    assert!(info.allow_direct, "loads read by direct gets");
    store.delete_scratch_store().await.unwrap();
}

#[tokio::test]
async fn verify_accepts_the_live_stream_and_an_export_names_the_event_with_a_changed_byte() {
    let t = TestStore::new().await;
    let acme = tenant("acme");
    for _ in 0..3 {
        let id = new_id();
        let first = t
            .store
            .append(commit(
                &acme,
                id,
                0,
                0,
                GENESIS,
                Uuid::now_v7(),
                &[serde_json::json!({"amount": 100})],
            ))
            .await
            .unwrap();
        t.store
            .append(commit(
                &acme,
                id,
                first.sequence,
                1,
                &first.events[0].hash,
                Uuid::now_v7(),
                &[serde_json::json!({"amount": 250})],
            ))
            .await
            .unwrap();
    }
    let checked = t.store.verify().await.unwrap();
    assert_eq!((checked.range.first, checked.range.last), (1, 6));
    assert_eq!(checked.commits, 6);
    assert_eq!(checked.chains.events_checked(), 6);
    assert!(checked.chains.violations().is_empty());
    let lines = export_lines(&t.store).await;
    assert_eq!(lines.len(), 7, "six events and the trailer");
    let verified = export::verify_export(lines.join("\n").as_bytes()).unwrap();
    assert!(verified.is_intact(), "{:?}", verified.problems);
    assert_eq!(verified.chains.events_checked(), 6);

    // Change one byte of the fourth event: 250 → 350.
    let target = export::from_line(&lines[3]).unwrap();
    let tampered_line = lines[3].replacen("\"amount\":250", "\"amount\":350", 1);
    assert_ne!(tampered_line, lines[3]);
    let mut tampered = lines.clone();
    tampered[3] = tampered_line;
    let verified = export::verify_export(tampered.join("\n").as_bytes()).unwrap();
    let first = &verified.chains.violations()[0];
    assert_eq!(first.event_id, target.event.id.to_string());
    assert_eq!(first.sequence, target.sequence);
    assert!(verified.problems.iter().any(|p| p.contains("digest")));

    // Dropping an event breaks the chain of its aggregate too.
    let mut dropped = lines.clone();
    dropped.remove(0);
    let verified = export::verify_export(dropped.join("\n").as_bytes()).unwrap();
    assert!(!verified.chains.violations().is_empty());
    assert!(!verified.is_intact());
    t.cleanup().await;
}

/// The export of every event of `store`, line by line (the trailer last).
async fn export_lines(store: &EventStore) -> Vec<String> {
    let mut out = Vec::new();
    export::export(store, &store.names().all_events(), &mut out)
        .await
        .unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The problems `verify --file` reports for these lines (joined as a file would hold them).
fn export_problems(lines: &[String]) -> Vec<String> {
    let text = if lines.is_empty() {
        String::new()
    } else {
        lines.join("\n") + "\n"
    };
    let verified = export::verify_export(text.as_bytes()).unwrap();
    let mut problems = verified.problems.clone();
    problems.extend(verified.chains.violations().iter().map(|v| v.to_string()));
    problems
}

#[tokio::test]
async fn an_incomplete_export_or_one_with_foreign_members_is_rejected() {
    let t = TestStore::new().await;
    let acme = tenant("acme");
    let mut expected_sequence = 0;
    let mut previous_hash = GENESIS.to_owned();
    let id = new_id();
    for n in 0..3u64 {
        let appended = t
            .store
            .append(commit(
                &acme,
                id,
                expected_sequence,
                n,
                &previous_hash,
                Uuid::now_v7(),
                &[serde_json::json!({"n": n})],
            ))
            .await
            .unwrap();
        expected_sequence = appended.sequence;
        previous_hash = appended.events[0].hash.clone();
    }
    let lines = export_lines(&t.store).await;
    assert_eq!(lines.len(), 4);
    assert!(export_problems(&lines).is_empty());

    let empty = export_problems(&[]);
    assert!(empty[0].contains("empty"), "{empty:?}");

    let no_trailer = export_problems(&lines[..3]);
    assert!(no_trailer[0].contains("no trailer"), "{no_trailer:?}");

    // The last event removed: its aggregate's chain is intact, the trailer is not.
    let mut last_removed = lines.clone();
    last_removed.remove(2);
    let problems = export_problems(&last_removed);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("records 3 events, the file holds 2")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("all 3 sequences")),
        "{problems:?}"
    );

    // A member that is not part of the hashed event.
    let mut extra = lines.clone();
    extra[1] = extra[1].replacen('{', "{\"note\":\"approved by audit\",", 1);
    let problems = export_problems(&extra);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("\"note\" is not part of the hashed event")),
        "{problems:?}"
    );

    // Lines after the trailer.
    let mut appended = lines.clone();
    appended.push(lines[0].clone());
    let problems = export_problems(&appended);
    assert!(
        problems.iter().any(|p| p.contains("follows the trailer")),
        "{problems:?}"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn reads_to_the_end_stop_at_the_last_matching_commit_and_see_every_one() {
    let t = TestStore::new().await;
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    // acme's commits first, then many of globex's: a read of acme ends on its last commit.
    for _ in 0..3 {
        t.store
            .append(commit(
                &acme,
                new_id(),
                0,
                0,
                GENESIS,
                Uuid::now_v7(),
                &[serde_json::json!({})],
            ))
            .await
            .unwrap();
    }
    for _ in 0..20 {
        t.store
            .append(commit(
                &globex,
                new_id(),
                0,
                0,
                GENESIS,
                Uuid::now_v7(),
                &[serde_json::json!({})],
            ))
            .await
            .unwrap();
    }
    let names = t.store.names();
    let read = |filter: String| {
        let store = t.store.clone();
        async move {
            let commits: Vec<_> = store
                .read_to_end(&filter, DeliverFrom::Start)
                .await
                .unwrap()
                .map(|commit| commit.unwrap().sequence)
                .collect()
                .await;
            commits
        }
    };
    assert_eq!(read(names.tenant(&acme)).await, vec![1, 2, 3]);
    assert_eq!(
        read(names.tenant(&globex)).await,
        (4..=23).collect::<Vec<_>>()
    );
    assert_eq!(read(names.all_events()).await, (1..=23).collect::<Vec<_>>());
    assert!(read(names.tenant(&tenant("initech"))).await.is_empty());
    // A tenant's export holds its commits and says which range it covered.
    let mut out = Vec::new();
    let trailer = export::export(&t.store, &names.tenant(&acme), &mut out)
        .await
        .unwrap();
    assert_eq!((trailer.firstsequence, trailer.lastsequence), (1, 23));
    assert_eq!((trailer.commits, trailer.events), (3, 3));
    assert!(!trailer.everysequence);
    assert!(export::verify_export(out.as_slice()).unwrap().is_intact());
    t.cleanup().await;
}

#[tokio::test]
async fn fernet_tokens_are_redacted_in_exports_and_the_hashes_verify_as_shown() {
    let t = TestStore::new().await;
    let acme = tenant("acme");
    let token = "fernet:gAAAAABnX1Y2c2VjcmV0LWNpcGhlcnRleHQ=";
    let id = new_id();
    let appended = t
        .store
        .append(commit(
            &acme,
            id,
            0,
            0,
            GENESIS,
            Uuid::now_v7(),
            &[serde_json::json!({"config": {"password_secret": token, "name": "crm"}})],
        ))
        .await
        .unwrap();
    // The stream keeps the token (connectors decrypt it); the chain verifies live.
    let history = t.store.load(&acme, "data_source", &id).await.unwrap();
    assert_eq!(
        history.events[0].event.data["config"]["password_secret"],
        token
    );
    assert_eq!(history.events[0].event.hash, appended.events[0].hash);
    let checked = t.store.verify().await.unwrap();
    assert!(
        checked.chains.violations().is_empty(),
        "{:?}",
        checked.chains.violations()
    );
    // Views and exports show `fernet:***`, and verify as they are.
    let shown = history.events[0].clone().redacted();
    assert_eq!(shown.event.data["config"]["password_secret"], "fernet:***");
    assert_eq!(
        eventlog::chain::compute_hash(&shown.event),
        shown.event.hash
    );
    let lines = export_lines(&t.store).await;
    assert!(
        !lines.join("\n").contains("gAAAA"),
        "the token never leaves the stream"
    );
    assert!(lines[0].contains("fernet:***"));
    assert!(export_problems(&lines).is_empty());
    // A token put in place of the redaction is not covered by the chain (Fernet's own HMAC
    // protects tokens), but the export's digest catches the changed line.
    let mut forged = lines.clone();
    forged[0] = forged[0].replacen("fernet:***", "fernet:other", 1);
    assert!(!export_problems(&forged).is_empty());
    t.cleanup().await;
}
