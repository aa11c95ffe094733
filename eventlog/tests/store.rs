//! The event store against the machine's real NATS JetStream. Every test uses its own stream
//! prefix and deletes its stream at the end.

use domain::{AggregateId, TenantId};
use eventlog::chain::{ChainVerifier, GENESIS};
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
    let mut lines = Vec::new();
    let mut verifier = ChainVerifier::new();
    let mut commits = Box::pin(
        t.store
            .read_to_end(&t.store.names().all_events(), DeliverFrom::Start)
            .await
            .unwrap(),
    );
    while let Some(commit) = commits.next().await {
        for stored in commit.unwrap().into_stored_events() {
            verifier.check(&stored);
            lines.push(export::to_line(&stored));
        }
    }
    assert_eq!(verifier.events_checked(), 6);
    assert!(verifier.violations().is_empty());
    let clean = lines.join("\n");
    assert!(export::verify_export(clean.as_bytes())
        .unwrap()
        .violations()
        .is_empty());

    // Change one byte of the fourth event: 250 → 350.
    let target = export::from_line(&lines[3]).unwrap();
    let tampered_line = lines[3].replacen("\"amount\":250", "\"amount\":350", 1);
    assert_ne!(tampered_line, lines[3]);
    let mut tampered = lines.clone();
    tampered[3] = tampered_line;
    let verifier = export::verify_export(tampered.join("\n").as_bytes()).unwrap();
    let first = &verifier.violations()[0];
    assert_eq!(first.event_id, target.event.id.to_string());
    assert_eq!(first.sequence, target.sequence);

    // Dropping an event breaks the chain of its aggregate too.
    let mut dropped = lines.clone();
    dropped.remove(0);
    assert!(!export::verify_export(dropped.join("\n").as_bytes())
        .unwrap()
        .violations()
        .is_empty());
    t.cleanup().await;
}
