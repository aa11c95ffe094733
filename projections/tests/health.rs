//! The `health` read model against the machine's PostgreSQL and NATS: the latest recorded
//! health per source, its history, tenant isolation and a rebuild. Each test has its own stream
//! and database, removed when it ends (also when it panics).

mod support;
use support::Env;

use domain::datasource::{
    assess, DataSource, DataSourceCommand, DataSourceConfigInput, FailureCategory,
    HealthAssessment, HealthStatus, HealthThresholds, HealthWindow, ProbeOutcome, ServerFigures,
};
use domain::AggregateId;
use projections::health::{self, Health};
use projections::{ProjectionRunner, StatusBoard};
use tokio::sync::watch;
use uuid::Uuid;

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
    env.run::<DataSource>("acme", id, DataSourceCommand::Register { id, config })
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
        env.run::<DataSource>(
            "acme",
            id,
            DataSourceCommand::RecordHealth {
                assessment: health.clone(),
            },
        )
        .await;
    }
    let last = env
        .run::<DataSource>("acme", id, DataSourceCommand::BeginConfiguration)
        .await;
    env.wait_for(health::NAME, last).await;

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
