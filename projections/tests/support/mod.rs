//! The harness the read models' tests share: a stream of its own (random prefix) and a
//! database of its own (`pursight_test_<suffix>`), both removed when the [`Env`] is dropped, and
//! commands decided against an aggregate's history and appended as the handler would.

use domain::{Aggregate, AggregateId, DomainEvent, TenantId};
use eventlog::{CommitMetadata, EventStore, EventStoreConfig, NewCommit, NewEvent, StreamNames};
use sqlx::PgPool;
use std::time::Duration;
use uuid::Uuid;

pub struct Env {
    pub store: EventStore,
    pub pool: PgPool,
    prefix: String,
    database: String,
}

impl Env {
    pub async fn new() -> Self {
        let suffix = Uuid::new_v4().simple().to_string()[..12].to_owned();
        let prefix = format!("t{suffix}");
        let store = EventStore::connect(&EventStoreConfig {
            nats_url: nats_url(),
            names: StreamNames::new(&prefix, None).unwrap(),
        })
        .await
        .unwrap();
        let database = format!("pursight_test_{suffix}");
        let pool = projections::database::connect(&format!(
            "postgres://postgres@127.0.0.1:5432/{database}"
        ))
        .await
        .unwrap();
        Self {
            store,
            pool,
            prefix,
            database,
        }
    }

    /// Decides `command` against the aggregate's history and appends what it decided (which
    /// must be something); returns the commit's sequence.
    pub async fn run<A: Aggregate>(
        &self,
        tenant: &str,
        id: AggregateId,
        command: A::Command,
    ) -> u64 {
        let tenant = TenantId::parse(tenant).unwrap();
        let history = self.store.load(&tenant, A::NAME, &id).await.unwrap();
        let events: Vec<A::Event> = history
            .events
            .iter()
            .map(|e| {
                let (name, version) = e.event.name_and_version().unwrap();
                A::Event::from_stored(name, version, &e.event.data).unwrap()
            })
            .collect();
        let decided = A::decide(&A::replay(events.iter()), &command)
            .unwrap_or_else(|_| panic!("{command:?} was refused"));
        assert!(!decided.is_empty(), "{command:?} decided nothing");
        let command_id = Uuid::now_v7();
        self.store
            .append(NewCommit {
                aggregate_type: A::NAME,
                aggregate_id: id,
                expected_sequence: history.last_sequence,
                expected_version: history.version(),
                previous_hash: history.last_hash(),
                metadata: CommitMetadata {
                    tenant,
                    actor: "officer@acme".into(),
                    command_id,
                    correlation_id: command_id,
                    causation_id: command_id,
                    traceparent: None,
                },
                events: decided.iter().map(NewEvent::from_domain).collect(),
            })
            .await
            .unwrap()
            .sequence
    }

    /// Waits (at most 10 s) until the projection `name` has applied `sequence`.
    pub async fn wait_for(&self, name: &str, sequence: u64) {
        let caught_up = projections::checkpoint::wait_for(
            &self.pool,
            &[name],
            sequence,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert!(caught_up, "the {name} projection did not reach {sequence}");
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let (prefix, database) = (self.prefix.clone(), self.database.clone());
        let _ = testkit::block_on_thread(move || async move {
            let _ = testkit::delete_event_store(&nats_url(), &prefix).await;
            let _ = testkit::drop_postgres_database(&database).await;
        });
    }
}

pub fn nats_url() -> String {
    std::env::var("PURSIGHT_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}
