//! Health checks through the command handler against the machine's NATS (a stream of its own,
//! deleted when the test ends) and PostgreSQL 127.0.0.1:5432 as the checked source.

mod common;

use commands::health::HealthMonitor;
use commands::workflows::SourceWorkflows;
use commands::{CommandContext, CommandError, CommandHandler};
use common::nats_url;
use connectors::secrets::SecretResolver;
use domain::access::{Permission, Role};
use domain::datasource::{
    DataSource, DataSourceCommand, DataSourceConfigInput, FailureCategory, HealthStatus,
    RecommendationCode,
};
use domain::{AggregateId, TenantId};
use eventlog::{EventStore, EventStoreConfig, StreamNames};
use std::sync::Arc;
use uuid::Uuid;

/// A scratch event store, deleted on drop (also when the test panics).
struct Scratch {
    store: EventStore,
    prefix: String,
}

impl Scratch {
    async fn new() -> Scratch {
        let prefix = format!("t{}", &Uuid::new_v4().simple().to_string()[..12]);
        let store = EventStore::connect(&EventStoreConfig {
            nats_url: nats_url(),
            names: StreamNames::new(&prefix, None).unwrap(),
        })
        .await
        .unwrap();
        Scratch { store, prefix }
    }

    fn monitor(&self) -> HealthMonitor {
        let secrets = SecretResolver::from_env().unwrap();
        HealthMonitor::new(SourceWorkflows::new(
            CommandHandler::new(self.store.clone()),
            Arc::new(secrets),
        ))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        common::remove_scratch(self.prefix.clone(), None);
    }
}

fn ctx(roles: Vec<Role>) -> CommandContext {
    CommandContext::new(TenantId::parse("acme").unwrap(), "alice", roles, None)
}

fn admin() -> CommandContext {
    ctx(vec![Role::Admin])
}

async fn register(monitor_of: &Scratch, input: DataSourceConfigInput) -> AggregateId {
    let id = AggregateId::from_uuid(Uuid::now_v7());
    CommandHandler::new(monitor_of.store.clone())
        .execute::<DataSource>(
            &admin(),
            Permission::ManageDataSources,
            id,
            DataSourceCommand::Register {
                id,
                config: input.parse().unwrap(),
            },
        )
        .await
        .unwrap();
    id
}

fn local_postgres() -> DataSourceConfigInput {
    DataSourceConfigInput {
        name: Some("Local PostgreSQL".into()),
        kind: Some("postgresql".into()),
        host: Some("127.0.0.1".into()),
        port: Some(5432),
        database: Some("postgres".into()),
        username: Some("postgres".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn checks_fill_the_window_and_only_changes_are_recorded() {
    let scratch = Scratch::new().await;
    let monitor = scratch.monitor();
    let id = register(&scratch, local_postgres()).await;

    let first = monitor.check_health(&admin(), id, 3).await.unwrap();
    assert!(first.recorded, "the first assessment is news");
    assert_eq!(first.version, 2);
    let health = &first.assessment;
    assert_eq!(health.status, HealthStatus::Healthy, "{health:?}");
    assert_eq!((health.samples, health.failures), (3, 0));
    assert!(health.latency_p50_us.is_some() && health.latency_p95_us.is_some());
    assert!(health.active_connections.unwrap() >= 1);
    assert!(health.storage_bytes.unwrap() > 0);

    let second = monitor.check_health(&admin(), id, 2).await.unwrap();
    assert_eq!(
        second.assessment.samples, 5,
        "the window keeps the earlier probes"
    );
    assert_eq!(monitor.window_len(&admin().tenant, id), 5);
    // Recorded exactly when the decider's rule says the health changed: on an idle machine it
    // is still healthy with a similar p95, so nothing is appended.
    let changed = second.assessment.differs_meaningfully(&first.assessment);
    assert_eq!(second.recorded, changed, "{:?}", second.assessment);
    assert_eq!(second.version, 2 + u64::from(changed));

    // A new endpoint starts a new window: the old probes say nothing about it.
    CommandHandler::new(scratch.store.clone())
        .execute::<DataSource>(
            &admin(),
            Permission::ManageDataSources,
            id,
            DataSourceCommand::PatchConfig {
                patch: DataSourceConfigInput {
                    port: Some(1),
                    ..Default::default()
                },
            },
        )
        .await
        .unwrap();
    let down = monitor.check_health(&admin(), id, 1).await.unwrap();
    assert!(down.recorded);
    assert_eq!(
        down.version,
        second.version + 2,
        "the update, then the assessment"
    );
    let health = &down.assessment;
    assert_eq!(health.status, HealthStatus::Unhealthy);
    assert_eq!((health.samples, health.failures), (1, 1));
    assert_eq!(
        health.last_error.as_ref().unwrap().category,
        FailureCategory::Unreachable
    );
    assert_eq!(
        health.codes().into_iter().collect::<Vec<_>>(),
        [RecommendationCode::ConnectionFailing]
    );
}

/// The local PostgreSQL registered with a password in an environment variable nobody set (inside
/// the policy's prefix): every probe fails as `Auth` without the network. Returns the source and
/// the variable's name.
async fn register_with_unset_password(scratch: &Scratch) -> (AggregateId, String) {
    let variable = format!("PURSIGHT_SOURCE_SECRET_UNSET_{}", Uuid::new_v4().simple());
    let id = register(
        scratch,
        DataSourceConfigInput {
            password_secret: Some(format!("env:{variable}")),
            ..local_postgres()
        },
    )
    .await;
    (id, variable)
}

#[tokio::test]
async fn an_unresolvable_secret_fails_every_sample_without_the_network() {
    let scratch = Scratch::new().await;
    let monitor = scratch.monitor();
    let (id, _) = register_with_unset_password(&scratch).await;
    let report = monitor.check_health(&admin(), id, 2).await.unwrap();
    let health = &report.assessment;
    assert_eq!(health.status, HealthStatus::Unhealthy);
    assert_eq!((health.samples, health.failures), (2, 2));
    assert_eq!(
        health.last_error.as_ref().unwrap().category,
        FailureCategory::Auth
    );
}

#[tokio::test]
async fn periodic_checks_of_refused_credentials_back_off_until_the_configuration_changes() {
    let scratch = Scratch::new().await;
    let monitor = scratch.monitor();
    let (id, variable) = register_with_unset_password(&scratch).await;
    let mut probed = Vec::new();
    for _ in 0..6 {
        let report = monitor.check_periodically(&admin(), id).await.unwrap();
        probed.push(report.is_some());
    }
    // Three refusals, then two rounds skipped, then a probe (refused again: four skipped next).
    assert_eq!(probed, [true, true, true, false, false, true]);
    assert!(monitor
        .check_periodically(&admin(), id)
        .await
        .unwrap()
        .is_none());

    // A new password reference is worth trying at once.
    CommandHandler::new(scratch.store.clone())
        .execute::<DataSource>(
            &admin(),
            Permission::ManageDataSources,
            id,
            DataSourceCommand::PatchConfig {
                patch: DataSourceConfigInput {
                    password_secret: Some(format!("env:{variable}_NEW")),
                    ..Default::default()
                },
            },
        )
        .await
        .unwrap();
    assert!(monitor
        .check_periodically(&admin(), id)
        .await
        .unwrap()
        .is_some());
    // So is a check someone asks for, and it clears the back-off.
    for _ in 0..3 {
        monitor.check_periodically(&admin(), id).await.unwrap();
    }
    monitor.check_health(&admin(), id, 1).await.unwrap();
    assert!(monitor
        .check_periodically(&admin(), id)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn checks_need_the_right_role_a_live_source_and_a_sane_sample_count() {
    let scratch = Scratch::new().await;
    let monitor = scratch.monitor();
    let id = register(&scratch, local_postgres()).await;
    let viewer = ctx(vec![Role::Viewer]);
    assert!(matches!(
        monitor.check_health(&viewer, id, 1).await,
        Err(CommandError::Forbidden(Permission::ManageDataSources))
    ));
    for samples in [0, HealthMonitor::MAX_SAMPLES + 1] {
        assert!(matches!(
            monitor.check_health(&admin(), id, samples).await,
            Err(CommandError::Validation(_))
        ));
    }
    let unknown = AggregateId::from_uuid(Uuid::now_v7());
    assert!(matches!(
        monitor.check_health(&admin(), unknown, 1).await,
        Err(CommandError::NotFound(_))
    ));
    CommandHandler::new(scratch.store.clone())
        .execute::<DataSource>(
            &admin(),
            Permission::ManageDataSources,
            id,
            DataSourceCommand::Archive { reason: None },
        )
        .await
        .unwrap();
    match monitor.check_health(&admin(), id, 1).await {
        Err(CommandError::Rejected(message)) => assert!(
            message.contains("RecordHealth") && message.contains("archived"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        monitor.window_len(&admin().tenant, id),
        0,
        "nothing was probed"
    );
}
