//! `pursight bench as-of`: how long an as-of read of one aggregate takes once the stream is
//! long, against the same reads while the stream was short, in the same run.
//!
//! A scratch stream is seeded with data-source lifecycles (eight commits each, as the service
//! writes them; see `bench project`). After the first 1 % of the events, a sample of those
//! sources is read as of times spread over their lifecycles — the baseline. The stream is then
//! filled up to `--events`, and the very same reads are timed again. Each read is the call the
//! GraphQL `asOf:` arguments make ([`projections::as_of_read::source_at`]: load the aggregate's
//! own history from the stream, fold it up to the time). An asset's as-of read is the same load
//! and fold on its own history, plus its source's. The stream is deleted at the end.

use super::project::{seed_source, LIFECYCLE_COMMITS};
use crate::settings::StoreArgs;
use chrono::{DateTime, Utc};
use clap::Args;
use domain::TenantId;
use eventlog::{EventStore, EventStoreConfig, StreamNames};
use futures::{StreamExt, TryStreamExt};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, Args)]
pub struct AsOfArgs {
    /// Events in the stream when the reads are timed (eight per seeded source).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(800..))]
    pub events: u64,
    /// As-of reads timed in each phase (each of a random early source at a random time).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub reads: u32,
    /// Sources seeded at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: u32,
}

pub async fn run(store_args: &StoreArgs, args: AsOfArgs) -> anyhow::Result<ExitCode> {
    let run_id = Uuid::new_v4().simple().to_string()[..8].to_owned();
    let store = EventStore::connect(&EventStoreConfig {
        nats_url: store_args.nats_url.clone(),
        names: StreamNames::new(&format!("bench-asof-{run_id}"), None)?,
    })
    .await?;
    println!(
        "bench as-of: {} events (data-source lifecycles of {LIFECYCLE_COMMITS} commits), {} reads per phase, NATS {}, run {run_id}",
        args.events,
        args.reads,
        eventlog::nats_url::redacted(&store_args.nats_url)
    );
    let outcome = measure(&store, &args).await;
    store.delete_scratch_store().await?;
    let (baseline, long) = outcome?;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "baseline ({} events): p50_ms {:.2}, p95_ms {:.2}",
        baseline.events,
        ms(baseline.p50),
        ms(baseline.p95)
    );
    println!(
        "ratio (p95 at {} events / p95 at {}): {:.2}",
        long.events,
        baseline.events,
        ms(long.p95) / ms(baseline.p95).max(1e-6)
    );
    println!("events: {}", long.events);
    println!("p50_ms: {:.2}", ms(long.p50));
    println!("p95_ms: {:.2}", ms(long.p95));
    Ok(ExitCode::SUCCESS)
}

struct Phase {
    events: u64,
    p50: Duration,
    p95: Duration,
}

async fn measure(store: &EventStore, args: &AsOfArgs) -> anyhow::Result<(Phase, Phase)> {
    let tenant = TenantId::parse("bench")?;
    let total_sources = (args.events / u64::from(LIFECYCLE_COMMITS)).max(1) as u32;
    let early_sources = (total_sources / 100).max(1);
    let started = Utc::now();
    let early = seed(store, &tenant, 0..early_sources, args.concurrency).await?;
    let seeded_early = Utc::now();
    // The reads: early sources at times spread over the early seeding (some before a source's
    // registration, most in the middle of its lifecycle, some after its end).
    let span = (seeded_early - started)
        .num_microseconds()
        .unwrap_or(1)
        .max(1);
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let reads: Vec<(Uuid, DateTime<Utc>)> = (0..args.reads)
        .map(|_| {
            let source = early[(next() % early.len() as u64) as usize];
            let at = started + chrono::Duration::microseconds((next() % span as u64) as i64);
            (source, at)
        })
        .collect();
    let baseline = time_reads(store, &tenant, &reads).await?;
    println!(
        "seeded {} commits; baseline reads done",
        store.last_sequence().await?
    );
    let seeding = Instant::now();
    let mut done = early_sources;
    while done < total_sources {
        let until = (done + 10_000).min(total_sources);
        seed(store, &tenant, done..until, args.concurrency).await?;
        done = until;
        eprintln!(
            "seeded {} of {} events ({:.0} s)",
            u64::from(done) * u64::from(LIFECYCLE_COMMITS),
            u64::from(total_sources) * u64::from(LIFECYCLE_COMMITS),
            seeding.elapsed().as_secs_f64()
        );
    }
    let long = time_reads(store, &tenant, &reads).await?;
    Ok((
        Phase {
            events: u64::from(early_sources) * u64::from(LIFECYCLE_COMMITS),
            ..baseline
        },
        Phase {
            events: u64::from(total_sources) * u64::from(LIFECYCLE_COMMITS),
            ..long
        },
    ))
}

/// Seeds the sources numbered `range`; returns their ids.
async fn seed(
    store: &EventStore,
    tenant: &TenantId,
    range: std::ops::Range<u32>,
    concurrency: u32,
) -> anyhow::Result<Vec<Uuid>> {
    futures::stream::iter(range)
        .map(|index| seed_source(store, tenant, index))
        .buffer_unordered(concurrency as usize)
        .map_ok(|(id, _)| id)
        .try_collect()
        .await
}

/// Times each read on its own (one after another, as a client's requests would arrive).
async fn time_reads(
    store: &EventStore,
    tenant: &TenantId,
    reads: &[(Uuid, DateTime<Utc>)],
) -> anyhow::Result<Phase> {
    let mut times = Vec::with_capacity(reads.len());
    let mut found = 0;
    for (source, at) in reads {
        let started = Instant::now();
        let row = projections::as_of_read::source_at(store, tenant, *source, *at).await?;
        times.push(started.elapsed());
        found += usize::from(row.is_some());
    }
    anyhow::ensure!(found > 0, "no read found a source: the times are off");
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok(Phase {
        events: 0,
        p50: at(0.50),
        p95: at(0.95),
    })
}
