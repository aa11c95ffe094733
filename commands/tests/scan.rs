//! The scan workflow end to end: a scratch PostgreSQL database on 127.0.0.1:5432 discovered into
//! a scratch event stream on the machine's NATS (both removed when the test ends).

mod common;

use commands::workflows::{AssetList, KnownAssets, ScanReport, SourceWorkflows};
use commands::{CommandContext, CommandHandler};
use common::nats_url;
use connectors::secrets::SecretResolver;
use domain::access::{Permission, Role};
use domain::asset::Asset;
use domain::datasource::{DataSource, DataSourceCommand, DataSourceConfigInput};
use domain::discovery::{AssetId, AssetPath};
use domain::scan::{ScanScope, ScanStrategy};
use domain::{AggregateId, TenantId};
use eventlog::{DeliverFrom, EventStore, EventStoreConfig, StreamNames, StreamSettings};
use futures::StreamExt;
use sqlx::{Connection, Executor, PgConnection};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

const SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// A scratch event stream and a scratch database, both removed on drop (also when the test
/// panics).
struct Scratch {
    store: EventStore,
    prefix: String,
    database: String,
}

impl Scratch {
    async fn new(ddl: &str) -> Scratch {
        Self::with_settings(ddl, StreamSettings::default()).await
    }

    async fn with_settings(ddl: &str, settings: StreamSettings) -> Scratch {
        let suffix = Uuid::new_v4().simple().to_string()[..12].to_owned();
        let prefix = format!("t{suffix}");
        let store = EventStore::connect_with(
            &EventStoreConfig {
                nats_url: nats_url(),
                names: StreamNames::new(&prefix, None).unwrap(),
            },
            settings,
        )
        .await
        .unwrap();
        let database = format!("pursight_scan_{suffix}");
        let mut admin = PgConnection::connect(&format!("{SERVER}/postgres"))
            .await
            .unwrap();
        admin
            .execute(format!("CREATE DATABASE \"{database}\"").as_str())
            .await
            .unwrap();
        let scratch = Scratch {
            store,
            prefix,
            database,
        };
        let mut conn = PgConnection::connect(&format!("{SERVER}/{}", scratch.database))
            .await
            .unwrap();
        conn.execute(ddl).await.unwrap();
        conn.close().await.unwrap();
        scratch
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        common::remove_scratch(self.prefix.clone(), Some(self.database.clone()));
    }
}

fn admin() -> CommandContext {
    CommandContext::new(
        TenantId::parse("acme").unwrap(),
        "alice",
        vec![Role::Admin],
        None,
    )
}

/// What the read side would answer: set by the test between scans.
#[derive(Default)]
struct Known(Mutex<AssetList>);

impl KnownAssets for Known {
    fn known_assets<'a>(
        &'a self,
        _tenant: &'a TenantId,
        _source: AggregateId,
    ) -> Pin<Box<dyn Future<Output = Result<AssetList, String>> + Send + 'a>> {
        let known = self.0.lock().unwrap().clone();
        Box::pin(async move { Ok(known) })
    }
}

/// Starts and runs one scan; returns its report and how many commands it executed.
async fn scan(
    workflows: &SourceWorkflows,
    ctx: &CommandContext,
    source: AggregateId,
    known: &Known,
) -> (ScanReport, u64) {
    let executed = || workflows.handler().stats().executed.load(Ordering::Relaxed);
    let scan_id = workflows
        .start_scan(
            &ctx.follow_up(),
            source,
            ScanStrategy::Balanced,
            ScanScope::everything(),
        )
        .await
        .unwrap();
    let before = executed();
    let report = workflows
        .run_scan(&ctx.follow_up(), source, scan_id, known, &|_| {})
        .await
        .unwrap();
    assert_eq!(report.failure, None);
    (report, executed() - before)
}

const SHOP: &str = "
    CREATE SCHEMA shop;
    CREATE TABLE shop.customers (id bigint PRIMARY KEY, name text NOT NULL);
    COMMENT ON COLUMN shop.customers.name IS 'legal name';
    CREATE TABLE shop.orders (id bigint PRIMARY KEY,
        customer_id bigint NOT NULL REFERENCES shop.customers (id), total numeric(12,2));
    CREATE TABLE shop.notes (id bigint, body text);
    COMMENT ON TABLE shop.notes IS 'free text';
    CREATE VIEW shop.order_totals AS SELECT o.id, o.total FROM shop.orders o;
";

/// Registers the scratch database as a source and validates it, so that it can be scanned.
async fn connected_source(
    handler: &CommandHandler,
    workflows: &SourceWorkflows,
    ctx: &CommandContext,
    database: &str,
) -> AggregateId {
    let source = AggregateId::from_uuid(Uuid::now_v7());
    let config = DataSourceConfigInput {
        name: Some("shop".into()),
        kind: Some("postgresql".into()),
        host: Some("127.0.0.1".into()),
        port: Some(5432),
        database: Some(database.to_owned()),
        username: Some("postgres".into()),
        ..Default::default()
    }
    .parse()
    .unwrap();
    handler
        .execute_new::<DataSource>(
            ctx,
            Permission::ManageDataSources,
            source,
            DataSourceCommand::Register { id: source, config },
        )
        .await
        .unwrap();
    let validated = workflows
        .validate_connection(&ctx.follow_up(), source)
        .await
        .unwrap();
    assert!(validated.result.is_ok(), "{:?}", validated.result);
    source
}

#[tokio::test]
async fn a_retried_scan_start_returns_the_same_scan_also_after_the_duplicate_window() {
    let window = std::time::Duration::from_secs(1);
    let scratch = Scratch::with_settings(
        SHOP,
        StreamSettings {
            duplicate_window: window,
        },
    )
    .await;
    // A snapshot after every command: the source's loaded history never shows the command
    // again, as after 100 later events in production.
    let handler = CommandHandler::new(scratch.store.clone()).with_snapshot_every(1);
    let workflows = SourceWorkflows::new(
        handler.clone(),
        Arc::new(SecretResolver::from_env().unwrap()),
    );
    let ctx = admin();
    let source = connected_source(&handler, &workflows, &ctx, &scratch.database).await;
    let request = ctx.follow_up();
    let start = || {
        workflows.begin_scan(
            &request,
            source,
            ScanStrategy::Balanced,
            ScanScope::everything(),
        )
    };
    let first = start().await.unwrap();
    assert!(!first.already_started);
    let end = scratch.store.last_sequence().await.unwrap();

    let within = start().await.unwrap();
    assert_eq!(within.scan_id, first.scan_id);
    assert!(within.already_started);
    // Past the window JetStream has forgotten the keys; the aggregates' histories still hold
    // the command (the server drops expired keys on a timer, hence the margin).
    tokio::time::sleep(window * 3).await;
    let after = start().await.unwrap();
    assert_eq!(after.scan_id, first.scan_id);
    assert!(after.already_started);
    assert_eq!(
        scratch.store.last_sequence().await.unwrap(),
        end,
        "a retry appends nothing"
    );
}

#[tokio::test]
async fn a_first_scan_records_every_asset_and_only_the_lineage_there_is() {
    let scratch = Scratch::new(SHOP).await;
    let handler = CommandHandler::new(scratch.store.clone());
    let workflows = SourceWorkflows::new(
        handler.clone(),
        Arc::new(SecretResolver::from_env().unwrap()),
    );
    let ctx = admin();
    let source = connected_source(&handler, &workflows, &ctx, &scratch.database).await;

    let known = Known::default();
    let path = |raw: &str| AssetPath::parse(&format!("{}{raw}", scratch.database)).unwrap();
    let paths: Vec<AssetPath> = [
        "",
        ".public",
        ".shop",
        ".shop.customers",
        ".shop.notes",
        ".shop.order_totals",
        ".shop.orders",
    ]
    .into_iter()
    .map(path)
    .collect();

    let (first, commands) = scan(&workflows, &ctx, source, &known).await;
    assert_eq!(first.assets_changed, paths.len() as u64);
    assert_eq!(first.metrics.tables, 3);
    assert_eq!(first.metrics.views, 1);
    // One command per asset, one lineage command for each asset that has lineage (orders: its
    // foreign key; order_totals: the table it selects from), then the scan and the source are
    // completed. Assets without lineage get no lineage command: a new aggregate has none to
    // replace.
    assert_eq!(commands, paths.len() as u64 + 2 + 2);
    let lineage_of = |raw: &str| {
        let (handler, ctx, path) = (handler.clone(), ctx.follow_up(), path(raw));
        async move {
            let state = handler
                .state::<Asset>(
                    &ctx,
                    Permission::ManageDataSources,
                    AssetId::for_path(source, &path),
                )
                .await
                .unwrap();
            assert_eq!(state.path.as_ref(), Some(&path), "{path} was recorded");
            state
                .lineage
                .iter()
                .map(|edge| (edge.from.to_string(), edge.to.to_string()))
                .collect::<Vec<_>>()
        }
    };
    let customers = path(".shop.customers").to_string();
    let orders = path(".shop.orders").to_string();
    let totals = path(".shop.order_totals").to_string();
    assert!(lineage_of(".shop.orders")
        .await
        .contains(&(customers.clone(), orders.clone())));
    assert!(lineage_of(".shop.order_totals")
        .await
        .contains(&(orders.clone(), totals)));
    assert!(lineage_of(".shop.customers").await.is_empty());
    assert!(lineage_of(".shop.notes").await.is_empty());

    // A rescan of the unchanged database appends no asset event at all.
    *known.0.lock().unwrap() = paths
        .iter()
        .map(|path| (AssetId::for_path(source, path), path.clone()))
        .collect();
    let before = scratch.store.last_sequence().await.unwrap();
    let (second, commands) = scan(&workflows, &ctx, source, &known).await;
    assert_eq!((second.assets_changed, second.assets_removed), (0, 0));
    assert_eq!(second.metrics.cache_hits, paths.len() as u64);
    assert_eq!(commands, paths.len() as u64 + 2);
    let mut commits = Box::pin(
        scratch
            .store
            .read_to_end(
                &scratch.store.names().all_events(),
                DeliverFrom::Sequence(before + 1),
            )
            .await
            .unwrap(),
    );
    let mut types = Vec::new();
    while let Some(commit) = commits.next().await {
        types.extend(commit.unwrap().events.into_iter().map(|e| e.aggregatetype));
    }
    assert!(!types.is_empty(), "the rescan itself is recorded");
    assert!(
        types.iter().all(|t| t != "asset"),
        "no asset events: {types:?}"
    );
}
