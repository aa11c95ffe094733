//! `pursight bench …`: performance measured against a baseline taken in the same run.

use crate::settings::{DatabaseArgs, StoreArgs};
use async_nats::jetstream;
use clap::{Args, Subcommand};
use commands::{CommandContext, CommandHandler};
use domain::access::{Permission, Role};
use domain::datasource::{DataSource, DataSourceCommand, DataSourceConfigInput};
use domain::{AggregateId, TenantId};
use eventlog::{EventStore, EventStoreConfig, StreamNames};
use futures::StreamExt;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[path = "bench_classify.rs"]
mod classify;
#[path = "bench_discovery.rs"]
mod discovery;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// N concurrent commands on distinct aggregates versus raw JetStream publishes of the same
    /// payload sizes; the last line is `ratio: X` (ours / raw).
    Append(AppendArgs),
    /// Full PostgreSQL discovery of a synthetic schema (scratch database, stream and read models)
    /// versus `pg_dump --schema-only` of the same database, then a no-change rescan; prints
    /// `ratio: X` (discovery / pg_dump), `rss_mb: X` and, last, `rescan_events: N`.
    Discovery(discovery::DiscoveryArgs),
    /// Loads a labeled dataset (PostgreSQL script + `table,column,label,alternates` CSV) into a
    /// scratch database, scans and classifies it, and prints precision, recall and F1 overall and
    /// per type, for applied labels and for applied + suggested, and speed; the last lines are
    /// `applied_precision: X`, `applied_recall: X`, `suggested_recall: X`, `columns_per_s: X`.
    Classify(classify::ClassifyArgs),
}

#[derive(Debug, Args)]
pub struct AppendArgs {
    /// Commands (and raw publishes) to issue.
    #[arg(long, short = 'n', default_value_t = 5000)]
    pub count: usize,
    /// How many are in flight at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
}

pub async fn run(
    store: &StoreArgs,
    database: &DatabaseArgs,
    command: BenchCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Append(args) => append(store, args).await,
        BenchCommand::Discovery(args) => discovery::run(store, database, args).await,
        BenchCommand::Classify(args) => classify::run(store, database, args).await,
    }
}

async fn append(store_args: &StoreArgs, args: AppendArgs) -> anyhow::Result<ExitCode> {
    let run_id = Uuid::new_v4().simple().to_string()[..8].to_owned();
    let names = StreamNames::new(&format!("bench-{run_id}"), None)?;
    let store = EventStore::connect(&EventStoreConfig {
        nats_url: store_args.nats_url.clone(),
        names: names.clone(),
    })
    .await?;
    let handler = CommandHandler::new(store.clone());
    let tenant = TenantId::parse("bench")?;
    println!(
        "bench append: {} commands, {} in flight, NATS {}",
        args.count, args.concurrency, store_args.nats_url
    );

    // Baseline: raw async JetStream publishes of the same payload sizes to a scratch stream with
    // the same storage, the same concurrency, each awaiting its ack.
    let raw_subject_root = format!("benchraw{run_id}");
    let raw_stream = format!("BENCHRAW_{run_id}");
    let js = store.jetstream().clone();
    js.create_stream(jetstream::stream::Config {
        name: raw_stream.clone(),
        subjects: vec![format!("{raw_subject_root}.>")],
        storage: jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await?;

    // Warm both paths up (connections, stream files, allocator) before any clock runs.
    let warm_up = args.count.min(500);
    let (_, warm_sizes) = ours(&handler, &tenant, 0, warm_up, args.concurrency).await?;
    raw(&js, &raw_subject_root, 0, &warm_sizes, args.concurrency).await?;

    let (ours_elapsed, sizes) =
        ours(&handler, &tenant, warm_up, args.count, args.concurrency).await?;
    let raw_elapsed = raw(&js, &raw_subject_root, warm_up, &sizes, args.concurrency).await?;
    let ours_rate = args.count as f64 / ours_elapsed.as_secs_f64();
    let raw_rate = args.count as f64 / raw_elapsed.as_secs_f64();

    let _ = tokio::time::timeout(Duration::from_secs(10), js.delete_stream(&raw_stream)).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), store.delete_scratch_store()).await;

    let mean = sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64;
    println!("payload: mean {mean:.0} bytes per commit");
    println!(
        "pursight append: {ours_rate:.0} events/s ({:.2} s)",
        ours_elapsed.as_secs_f64()
    );
    println!(
        "raw jetstream publish: {raw_rate:.0} msgs/s ({:.2} s)",
        raw_elapsed.as_secs_f64()
    );
    println!("ratio: {:.3}", ours_rate / raw_rate);
    Ok(ExitCode::SUCCESS)
}

/// Registers `count` distinct data sources through the command handler, each command its own
/// task as in the server; returns the elapsed time and each commit's payload size.
async fn ours(
    handler: &CommandHandler,
    tenant: &TenantId,
    first: usize,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<(Duration, Vec<usize>)> {
    // The commands are parsed at the edge, before the clock starts, as in the API.
    let prepared: Vec<(AggregateId, DataSourceCommand)> = (first..first + count)
        .map(|i| {
            let id = AggregateId::from_uuid(Uuid::now_v7());
            let config = DataSourceConfigInput {
                name: Some(format!("bench source {i}")),
                kind: Some("postgresql".into()),
                host: Some("db.internal".into()),
                database: Some("app".into()),
                username: Some("reader".into()),
                password_secret: Some("env:BENCH_PASSWORD".into()),
                tags: Some(vec!["bench".into()]),
                ..Default::default()
            }
            .parse()
            .map_err(|err| anyhow::anyhow!("{err}"))?;
            Ok((id, DataSourceCommand::Register { id, config }))
        })
        .collect::<anyhow::Result<_>>()?;
    let outcomes = Arc::new(std::sync::Mutex::new(Vec::with_capacity(count)));
    let started = Instant::now();
    let results: Vec<anyhow::Result<()>> = futures::stream::iter(prepared)
        .map(|(id, command)| {
            let handler = handler.clone();
            let tenant = tenant.clone();
            let outcomes = outcomes.clone();
            spawn(async move {
                let ctx = CommandContext::new(tenant, "bench", vec![Role::Admin], None);
                let outcome = handler
                    .execute_new::<DataSource>(&ctx, Permission::ManageDataSources, id, command)
                    .await?;
                outcomes.lock().expect("outcomes").push(outcome.events);
                Ok(())
            })
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let sizes = std::mem::take(&mut *outcomes.lock().expect("outcomes"))
        .iter()
        .map(|events| serde_json::to_vec(events).map(|bytes| bytes.len()))
        .collect::<Result<_, _>>()?;
    Ok((elapsed, sizes))
}

/// Publishes one message per size to distinct subjects, awaiting every ack.
async fn raw(
    js: &jetstream::Context,
    subject_root: &str,
    first: usize,
    sizes: &[usize],
    concurrency: usize,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let results: Vec<anyhow::Result<()>> = futures::stream::iter(sizes.iter().copied().enumerate())
        .map(|(i, size)| {
            let js = js.clone();
            let subject = format!("{subject_root}.{}", first + i);
            spawn(async move {
                js.publish(subject, vec![b'x'; size].into()).await?.await?;
                Ok(())
            })
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Ok(elapsed)
}

/// Runs a unit of benchmark work on its own task, so both cores are used as in the server.
async fn spawn<F>(work: F) -> anyhow::Result<()>
where
    F: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    tokio::spawn(work).await?
}
