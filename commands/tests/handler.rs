//! The command handler against the machine's NATS: long histories through snapshots, and
//! snapshots that do not fit the stream being ignored rather than trusted, refusals that write
//! nothing, and commands decided on a state loaded earlier. (Its logs: `handler_logs.rs`.)

mod support;
use support::{describe, store};

use commands::{CommandContext, CommandError, CommandHandler};
use domain::access::{Permission, Role};
use domain::datasource::{DataSource, DataSourceCommand, DataSourceConfigInput};
use domain::{AggregateId, TenantId};
use eventlog::{EventStore, Snapshot};
use std::sync::atomic::Ordering;
use uuid::Uuid;

async fn cleanup(store: &EventStore) {
    store.delete_scratch_store().await.unwrap();
}

fn ctx(roles: Vec<Role>) -> CommandContext {
    CommandContext::new(TenantId::parse("acme").unwrap(), "alice", roles, None)
}

async fn register(handler: &CommandHandler) -> AggregateId {
    let id = AggregateId::from_uuid(Uuid::now_v7());
    let config = DataSourceConfigInput {
        name: Some("Orders".into()),
        kind: Some("postgresql".into()),
        host: Some("db.internal".into()),
        ..Default::default()
    }
    .parse()
    .unwrap();
    handler
        .execute::<DataSource>(
            &ctx(vec![Role::Admin]),
            Permission::ManageDataSources,
            id,
            DataSourceCommand::Register { id, config },
        )
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn long_histories_load_through_verified_snapshots() {
    let store = store().await;
    let handler = CommandHandler::new(store.clone()).with_snapshot_every(50);
    let id = register(&handler).await;
    for i in 0..160 {
        let outcome = handler
            .execute::<DataSource>(
                &ctx(vec![Role::DataSteward]),
                Permission::ManageDataSources,
                id,
                describe(format!("revision {i}")),
            )
            .await
            .unwrap();
        assert_eq!(outcome.version, i + 2);
    }
    let tenant = TenantId::parse("acme").unwrap();
    let snapshot = store
        .load_snapshot(&tenant, "data_source", &id)
        .await
        .expect("a snapshot was saved");
    assert_eq!(
        snapshot.version, 150,
        "one snapshot per 50 events: at 50, 100, 150"
    );
    assert_eq!(snapshot.state["config"]["description"], "revision 148");
    let after = store
        .load_after(&tenant, "data_source", &id, &snapshot)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.events.len(), 11);
    assert_eq!(after.version(), 161);

    // The state after the snapshot is still right: an identical patch is a no-op…
    let same = handler
        .execute::<DataSource>(
            &ctx(vec![Role::Admin]),
            Permission::ManageDataSources,
            id,
            describe("revision 159".into()),
        )
        .await
        .unwrap();
    assert!(same.events.is_empty());
    assert_eq!(same.version, 161);

    // …and a snapshot that does not continue the chain is ignored, not trusted.
    let forged = Snapshot {
        last_hash: "f".repeat(64),
        ..snapshot.clone()
    };
    assert!(store
        .load_after(&tenant, "data_source", &id, &forged)
        .await
        .unwrap()
        .is_none());
    let lying = Snapshot {
        state: serde_json::json!({"nonsense": true}),
        ..forged
    };
    store
        .save_snapshot(&tenant, "data_source", &id, &lying)
        .await;
    let next = handler
        .execute::<DataSource>(
            &ctx(vec![Role::Admin]),
            Permission::ManageDataSources,
            id,
            describe("after a bad snapshot".into()),
        )
        .await
        .unwrap();
    assert_eq!(next.version, 162);
    cleanup(&store).await;
}

#[tokio::test]
async fn forbidden_and_invalid_commands_write_nothing() {
    let store = store().await;
    let handler = CommandHandler::new(store.clone());
    let id = register(&handler).await;
    let before = store.last_sequence().await.unwrap();
    let err = handler
        .execute::<DataSource>(
            &ctx(vec![Role::Viewer]),
            Permission::ManageDataSources,
            id,
            DataSourceCommand::AddToCatalog,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    let err = handler
        .execute::<DataSource>(
            &ctx(vec![Role::Admin]),
            Permission::ManageDataSources,
            id,
            DataSourceCommand::AddToCatalog,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, CommandError::Rejected(ref m) if m.contains("registered")),
        "{err}"
    );
    let patch = DataSourceCommand::PatchConfig {
        patch: DataSourceConfigInput {
            port: Some(0),
            ..Default::default()
        },
    };
    let err = handler
        .execute::<DataSource>(
            &ctx(vec![Role::Admin]),
            Permission::ManageDataSources,
            id,
            patch,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "VALIDATION");
    let missing = AggregateId::from_uuid(Uuid::now_v7());
    let err = handler
        .execute::<DataSource>(
            &ctx(vec![Role::Admin]),
            Permission::ManageDataSources,
            missing,
            DataSourceCommand::AddToCatalog,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
    assert_eq!(store.last_sequence().await.unwrap(), before);
    cleanup(&store).await;
}

/// A command decided on a state loaded earlier (`load_state` then `execute_loaded`) appends once
/// on a fresh stream, and when another writer committed in between it is decided again on the
/// new history instead of appending on the stale one; a viewer's loaded state executes nothing.
#[tokio::test]
async fn a_command_on_a_state_loaded_before_is_decided_again_when_the_stream_moved() {
    let store = store().await;
    let handler = CommandHandler::new(store.clone());
    let id = register(&handler).await;
    let admin = ctx(vec![Role::Admin]);
    let permission = Permission::ManageDataSources;

    // Nothing in between: the loaded state is decided on and appended once.
    let loaded = handler
        .load_state::<DataSource>(&admin, permission, id)
        .await
        .unwrap();
    let version = loaded.state().version;
    let outcome = handler
        .execute_loaded::<DataSource>(&admin, permission, id, describe("first".into()), loaded)
        .await
        .unwrap();
    assert_eq!(outcome.version, version + 1);
    assert_eq!(handler.stats().conflicts.load(Ordering::Relaxed), 0);

    // Another writer commits after the load: the append on the stale history is refused by the
    // stream, and the command is decided again on the fresh one.
    let stale = handler
        .load_state::<DataSource>(&admin, permission, id)
        .await
        .unwrap();
    let other = handler
        .execute::<DataSource>(
            &ctx(vec![Role::Admin]),
            permission,
            id,
            describe("second".into()),
        )
        .await
        .unwrap();
    let outcome = handler
        .execute_loaded::<DataSource>(
            &ctx(vec![Role::Admin]),
            permission,
            id,
            describe("third".into()),
            stale,
        )
        .await
        .unwrap();
    assert_eq!(
        outcome.version,
        other.version + 1,
        "appended after the other writer"
    );
    assert_eq!(handler.stats().conflicts.load(Ordering::Relaxed), 1);
    let state = handler
        .state::<DataSource>(&admin, permission, id)
        .await
        .unwrap();
    assert_eq!(state.version, outcome.version);
    assert_eq!(
        state.config.and_then(|c| c.description).as_deref(),
        Some("third")
    );

    // Loading needs the permission, as executing does.
    let err = handler
        .load_state::<DataSource>(&ctx(vec![Role::Viewer]), permission, id)
        .await
        .err()
        .unwrap();
    assert_eq!(err.code(), "FORBIDDEN");
    cleanup(&store).await;
}
