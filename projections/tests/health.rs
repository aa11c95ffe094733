//! The `health` read model against the machine's PostgreSQL and NATS: the latest recorded
//! health per source, its history, tenant isolation and a rebuild. Each test has its own stream
//! and database, removed when it ends (also when it panics).

use domain::datasource::{
    assess, DataSource, DataSourceCommand, DataSourceConfigInput, DataSourceEvent, FailureCategory,
    HealthAssessment, HealthStatus, HealthThresholds, HealthWindow, ProbeOutcome, ServerFigures,
};
use domain::{Aggregate, AggregateId, DomainEvent, TenantId};
use eventlog::{CommitMetadata, EventStore, EventStoreConfig, NewCommit, NewEvent, StreamNames};
use projections::health::{self, Health};
use projections::{ProjectionRunner, StatusBoard};
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

struct Env {
    store: EventStore,
    pool: PgPool,
    prefix: String,
    database: String,
    tenant: TenantId,
}

impl Env {
    async fn new() -> Self {
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
            tenant: TenantId::parse("acme").unwrap(),
        }
    }

    /// Decides `command` against the source's history and appends the result (if any).
    async fn run(&self, id: AggregateId, command: DataSourceCommand) -> u64 {
        let history = self
            .store
            .load(&self.tenant, DataSource::NAME, &id)
            .await
            .unwrap();
        let events: Vec<DataSourceEvent> = history
            .events
            .iter()
            .map(|e| {
                let (name, version) = e.event.name_and_version().unwrap();
                DataSourceEvent::from_stored(name, version, &e.event.data).unwrap()
            })
            .collect();
        let decided = DataSource::decide(&DataSource::replay(events.iter()), &command).unwrap();
        let command_id = Uuid::now_v7();
        self.store
            .append(NewCommit {
                aggregate_type: DataSource::NAME,
                aggregate_id: id,
                expected_sequence: history.last_sequence,
                expected_version: history.version(),
                previous_hash: history.last_hash(),
                metadata: CommitMetadata {
                    tenant: self.tenant.clone(),
                    actor: "pursight-health".into(),
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

    async fn wait_for(&self, sequence: u64) {
        let caught_up = projections::checkpoint::wait_for(
            &self.pool,
            &[health::NAME],
            sequence,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert!(caught_up, "the health projection did not reach {sequence}");
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

fn nats_url() -> String {
    std::env::var("PURSIGHT_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

fn assessment(outcomes: Vec<ProbeOutcome>, figures: ServerFigures) -> HealthAssessment {
    let config = DataSourceConfigInput {
        name: Some("Orders".into()),
        kind: Some("postgresql".into()),
        host: Some("db.internal".into()),
        ..Default::default()
    }
    .parse()
    .unwrap();
    let mut window = HealthWindow::default();
    for outcome in outcomes {
        window.record(outcome);
    }
    assess(&window, &config, &figures, &HealthThresholds::default()).unwrap()
}

#[tokio::test]
async fn the_latest_health_and_its_history_are_kept_per_tenant_and_rebuilt_alike() {
    let env = Env::new().await;
    let (stop, stopped) = watch::channel(false);
    let runner = tokio::spawn(
        ProjectionRunner::new(
            Health,
            env.store.clone(),
            env.pool.clone(),
            StatusBoard::default(),
        )
        .run(stopped),
    );
    let id = AggregateId::from_uuid(Uuid::now_v7());
    let config = DataSourceConfigInput {
        name: Some("Orders".into()),
        kind: Some("postgresql".into()),
        host: Some("db.internal".into()),
        ..Default::default()
    }
    .parse()
    .unwrap();
    env.run(id, DataSourceCommand::Register { id, config })
        .await;
    let saturated = assessment(
        vec![ProbeOutcome::Ok { latency_us: 800 }],
        ServerFigures {
            server_version: Some("16.3".into()),
            active_connections: Some(85),
            max_connections: Some(100),
            storage_bytes: Some(7_651_843),
            server_uptime_secs: Some(3_600),
        },
    );
    let down = assessment(
        vec![
            ProbeOutcome::Ok { latency_us: 800 },
            ProbeOutcome::Failed {
                category: FailureCategory::Unreachable,
                message: "connection refused".into(),
            },
        ],
        ServerFigures::default(),
    );
    for health in [&saturated, &down, &saturated] {
        env.run(
            id,
            DataSourceCommand::RecordHealth {
                assessment: health.clone(),
            },
        )
        .await;
    }
    let last = env.run(id, DataSourceCommand::BeginConfiguration).await;
    env.wait_for(last).await;

    let latest = health::latest(&env.pool, "acme", id.as_uuid())
        .await
        .unwrap()
        .expect("a recorded health");
    assert_eq!(latest.status, saturated.status.as_str());
    assert_eq!(
        latest.version, 4,
        "the third assessment, not the configuration after it"
    );
    assert_eq!(latest.storage_bytes, Some(7_651_843));
    assert_eq!(
        (latest.active_connections, latest.max_connections),
        (Some(85), Some(100))
    );
    assert_eq!(latest.latency_p95_us, Some(800));
    assert_eq!(latest.recommendations[0]["code"], "pool_saturated");
    assert_eq!(latest.last_error, None);

    let history = health::history(&env.pool, "acme", id.as_uuid(), 20)
        .await
        .unwrap();
    let statuses: Vec<&str> = history.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(
        statuses,
        ["degraded", "unhealthy", "degraded"],
        "oldest first"
    );
    assert_eq!(
        history[1].last_error.as_ref().unwrap()["category"],
        "unreachable"
    );
    assert_eq!((history[1].samples, history[1].failures), (2, 1));
    assert_eq!(down.status, HealthStatus::Unhealthy);
    let last_two = health::history(&env.pool, "acme", id.as_uuid(), 2)
        .await
        .unwrap();
    assert_eq!(
        last_two.iter().map(|r| r.version).collect::<Vec<_>>(),
        [3, 4]
    );
    assert!(health::latest(&env.pool, "globex", id.as_uuid())
        .await
        .unwrap()
        .is_none());

    stop.send(true).unwrap();
    runner.await.unwrap().unwrap();
    let report =
        projections::rebuild::rebuild_by_name(health::NAME, &env.store, &env.pool, &|_, _| {})
            .await
            .unwrap();
    assert_eq!(report.last_sequence, last);
    let rebuilt = health::history(&env.pool, "acme", id.as_uuid(), 20)
        .await
        .unwrap();
    assert_eq!(
        rebuilt
            .iter()
            .map(|r| (r.version, r.status.clone()))
            .collect::<Vec<_>>(),
        history
            .iter()
            .map(|r| (r.version, r.status.clone()))
            .collect::<Vec<_>>()
    );
}
