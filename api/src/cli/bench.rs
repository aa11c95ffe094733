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
use std::time::{Duration, Instant};
use uuid::Uuid;

#[path = "bench_classify.rs"]
mod classify;
#[path = "bench_discovery.rs"]
mod discovery;
#[path = "bench_project.rs"]
mod project;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// N concurrent commands on distinct aggregates versus raw JetStream publishes of the same
    /// payload sizes; the last line is `ratio: X` (ours / raw).
    Append(AppendArgs),
    /// A backlog of data-source lifecycles (one commit per command) projected into every read
    /// model from an empty database, versus a raw `COPY` of the rows the read models end up
    /// holding; prints `ratio: X` (COPY time / projection time) and, last, `events_per_s: X`.
    Project(project::ProjectArgs),
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
    /// Commands (and raw publishes) per round.
    #[arg(long, short = 'n', default_value_t = 20_000)]
    pub count: usize,
    /// How many are in flight at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Rounds of (commands, then raw publishes); the medians are compared, so one round
    /// disturbed by something else on the machine does not decide the ratio.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
}

pub async fn run(
    store: &StoreArgs,
    database: &DatabaseArgs,
    command: BenchCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Append(args) => append(store, args).await,
        BenchCommand::Project(args) => project::run(store, database, args).await,
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

    let mut ours_rates = Vec::new();
    let mut raw_rates = Vec::new();
    let mut sizes = Vec::new();
    for round in 0..args.rounds as usize {
        let first = warm_up + round * args.count;
        let (ours_elapsed, round_sizes) =
            ours(&handler, &tenant, first, args.count, args.concurrency).await?;
        let raw_elapsed = raw(
            &js,
            &raw_subject_root,
            first,
            &round_sizes,
            args.concurrency,
        )
        .await?;
        let ours_rate = args.count as f64 / ours_elapsed.as_secs_f64();
        let raw_rate = args.count as f64 / raw_elapsed.as_secs_f64();
        println!(
            "round {}: pursight append {ours_rate:.0} events/s ({:.2} s), raw publish {raw_rate:.0} msgs/s ({:.2} s)",
            round + 1,
            ours_elapsed.as_secs_f64(),
            raw_elapsed.as_secs_f64()
        );
        ours_rates.push(ours_rate);
        raw_rates.push(raw_rate);
        sizes = round_sizes;
    }

    let _ = tokio::time::timeout(Duration::from_secs(10), js.delete_stream(&raw_stream)).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), store.delete_scratch_store()).await;

    let mean = sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64;
    let (ours_rate, raw_rate) = (median(&mut ours_rates), median(&mut raw_rates));
    println!("payload: mean {mean:.0} bytes per commit");
    println!(
        "pursight append: {ours_rate:.0} events/s (median of {} rounds)",
        args.rounds
    );
    println!(
        "raw jetstream publish: {raw_rate:.0} msgs/s (median of {} rounds)",
        args.rounds
    );
    println!("ratio: {:.3}", ours_rate / raw_rate);
    Ok(ExitCode::SUCCESS)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
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
    let started = Instant::now();
    // Each task yields only its commit's sequence: a server does not keep the events it
    // appended either, and holding them here would charge their memory to the clock.
    let sequences: Vec<anyhow::Result<u64>> = futures::stream::iter(prepared)
        .map(|(id, command)| {
            let handler = handler.clone();
            let tenant = tenant.clone();
            spawn(async move {
                let ctx = CommandContext::new(tenant, "bench", vec![Role::Admin], None);
                let outcome = handler
                    .execute_new::<DataSource>(&ctx, Permission::ManageDataSources, id, command)
                    .await?;
                Ok(outcome.sequence)
            })
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let sequences = sequences.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let sizes = payload_sizes(handler.store(), &sequences).await?;
    Ok((elapsed, sizes))
}

/// The stored payload size of each commit in `sequences` (read back after the clock stopped).
async fn payload_sizes(store: &EventStore, sequences: &[u64]) -> anyhow::Result<Vec<usize>> {
    let (Some(&first), Some(&last)) = (sequences.iter().min(), sequences.iter().max()) else {
        return Ok(Vec::new());
    };
    let wanted: std::collections::HashSet<u64> = sequences.iter().copied().collect();
    let stream = store
        .jetstream()
        .get_stream_no_info(store.names().stream())
        .await?;
    let mut messages = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            deliver_policy: jetstream::consumer::DeliverPolicy::ByStartSequence {
                start_sequence: first,
            },
            ..Default::default()
        })
        .await?
        .messages()
        .await?;
    let mut sizes = Vec::with_capacity(sequences.len());
    while let Some(message) = messages.next().await {
        let message = message?;
        let sequence = message.info().map_err(anyhow::Error::msg)?.stream_sequence;
        if wanted.contains(&sequence) {
            sizes.push(message.payload.len());
        }
        if sequence >= last {
            break;
        }
    }
    Ok(sizes)
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
async fn spawn<F, T>(work: F) -> anyhow::Result<T>
where
    F: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    tokio::spawn(work).await?
}
