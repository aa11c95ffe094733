//! `pursight bench project`: how fast the read models catch up with a backlog of governance
//! events, measured against a raw `COPY` of the rows they end up holding, in the same run.
//!
//! A scratch stream is seeded with the lifecycles of many data sources (registered, configured,
//! connected, scanned, classified, reconfigured: one commit per command, as the service writes
//! them), then the service's projections start on an empty scratch database and the clock runs
//! until every projection's checkpoint has reached the end of the stream. The baseline copies
//! the resulting `audit_log` and `data_sources` rows into tables of the same definition with
//! `COPY … FROM STDIN`. Everything is named with a random run id and removed at the end.

use super::discovery::{scratch_app, with_scratch, Scratch, Server};
use crate::settings::{DatabaseArgs, StoreArgs};
use anyhow::Context;
use clap::Args;
use domain::datasource::{DataSource, DataSourceCommand, DataSourceConfigInput, DataSourceState};
use domain::{Aggregate, AggregateId, TenantId};
use eventlog::chain::GENESIS;
use eventlog::{CommitMetadata, EventStore, EventStoreConfig, NewCommit, NewEvent, StreamNames};
use futures::{StreamExt, TryStreamExt};
use projections::Projection;
use sqlx::{Connection, Executor, PgConnection};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// Data sources whose lifecycles are seeded (eight commits, one event each, per source).
    #[arg(long, default_value_t = 12_500, value_parser = clap::value_parser!(u32).range(1..))]
    pub sources: u32,
    /// Sources seeded at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: u32,
}

/// The measurements, printed after the clean-up so the machine-readable line stays last.
struct Results {
    events: u64,
    commits: u64,
    seeded: Duration,
    projected: Duration,
    copied: Duration,
    copied_rows: u64,
}

pub async fn run(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    args: ProjectArgs,
) -> anyhow::Result<ExitCode> {
    let run_id = Uuid::new_v4().simple().to_string()[..8].to_owned();
    let server = Server::from_url(&database.database_url)?;
    println!(
        "bench project: {} sources x {} commits, projections {}, PostgreSQL {}:{}, NATS {}, run {run_id}",
        args.sources,
        LIFECYCLE_COMMITS,
        projections::ALL.join(", "),
        server.host,
        server.port,
        eventlog::nats_url::redacted(&store_args.nats_url)
    );
    let results = with_scratch(&server, async |scratch| {
        measure(store_args, database, &args, &run_id, &server, scratch).await
    })
    .await?;

    let secs = |d: Duration| d.as_secs_f64().max(1e-9);
    let events = results.events as f64;
    println!(
        "seeded: {} events in {} commits in {:.2} s",
        results.events,
        results.commits,
        secs(results.seeded)
    );
    println!(
        "projected: {:.2} s ({:.0} events/s into {} read models)",
        secs(results.projected),
        events / secs(results.projected),
        projections::ALL.len()
    );
    println!(
        "raw COPY of the {} resulting rows: {:.2} s ({:.0} events/s)",
        results.copied_rows,
        secs(results.copied),
        events / secs(results.copied)
    );
    println!(
        "ratio: {:.3}",
        secs(results.copied) / secs(results.projected)
    );
    println!("events_per_s: {:.0}", events / secs(results.projected));
    Ok(ExitCode::SUCCESS)
}

async fn measure(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    args: &ProjectArgs,
    run_id: &str,
    server: &Server,
    scratch: &mut Scratch,
) -> anyhow::Result<Results> {
    // 1. The backlog, on a scratch stream.
    let store_config = EventStoreConfig {
        nats_url: store_args.nats_url.clone(),
        names: StreamNames::new(&format!("bench-proj-{run_id}"), None)?,
    };
    let store = &*scratch
        .store
        .insert(EventStore::connect(&store_config).await?);
    let tenant = TenantId::parse("bench")?;
    let started = Instant::now();
    let events: Vec<u64> = futures::stream::iter(0..args.sources)
        .map(|index| seed_source(store, &tenant, index))
        .buffer_unordered(args.concurrency as usize)
        .map_ok(|(_, events)| events)
        .try_collect()
        .await?;
    let seeded = started.elapsed();
    let events: u64 = events.iter().sum();
    let last = store.last_sequence().await?;
    println!(
        "seeded {events} events ({last} commits) in {:.2} s",
        seeded.as_secs_f64()
    );

    // 2. The service's projections, from an empty read-model database, until all caught up.
    let read_model_db = format!("pursight_benchproj_{run_id}");
    scratch.databases.push(read_model_db.clone());
    let started = Instant::now();
    let app = scratch_app(store_config, database, &read_model_db).await?;
    let pool = app.state().pool.clone();
    scratch.app = Some(app);
    let finished = catch_up_times(&pool, last, started, Duration::from_secs(600)).await?;
    let projected = started.elapsed();
    let laggards: Vec<&str> = projections::ALL
        .iter()
        .copied()
        .filter(|name| !finished.iter().any(|(done, _)| done == name))
        .collect();
    anyhow::ensure!(
        laggards.is_empty(),
        "{} did not reach sequence {last} within 10 minutes",
        laggards.join(", ")
    );
    println!(
        "projected in {:.2} s ({})",
        projected.as_secs_f64(),
        finished
            .iter()
            .map(|(name, at)| format!("{name} {:.2} s", at.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // 3. What the read models hold must be what was seeded, or the speed means nothing.
    let mut conn = server.connect(&read_model_db).await?;
    let (audit_rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM rm_audit_log.audit_log")
        .fetch_one(&mut conn)
        .await?;
    let (source_rows, final_state_rows): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE lifecycle_state = $1 AND version = $2)
         FROM rm_data_sources.data_sources",
    )
    .bind(FINAL_STATE)
    .bind(LIFECYCLE_COMMITS as i64)
    .fetch_one(&mut conn)
    .await?;
    anyhow::ensure!(
        audit_rows as u64 == events
            && source_rows == i64::from(args.sources)
            && final_state_rows == source_rows,
        "the read models do not match the stream: {audit_rows} audit rows for {events} events, \
         {source_rows} sources ({final_state_rows} {FINAL_STATE} at version {LIFECYCLE_COMMITS}) \
         for {} seeded",
        args.sources
    );

    // 4. The baseline: COPY the same rows into tables of the same definition.
    let copied = copy_baseline(&mut conn).await?;
    conn.close().await?;
    Ok(Results {
        events,
        commits: last,
        seeded,
        projected,
        copied,
        copied_rows: audit_rows as u64 + source_rows as u64,
    })
}

/// Polls the checkpoints until every projection has reached `last` (or `timeout` passed);
/// returns when each got there, measured from `started`, in the order they finished.
async fn catch_up_times(
    pool: &sqlx::PgPool,
    last: u64,
    started: Instant,
    timeout: Duration,
) -> anyhow::Result<Vec<(&'static str, Duration)>> {
    let mut finished: Vec<(&'static str, Duration)> = Vec::new();
    while finished.len() < projections::ALL.len() && started.elapsed() < timeout {
        let checkpoints = projections::checkpoint::all(pool).await?;
        for name in projections::ALL {
            let done = checkpoints.iter().any(|(n, s)| n == name && *s >= last);
            if done && !finished.iter().any(|(f, _)| *f == name) {
                finished.push((name, started.elapsed()));
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(finished)
}

/// Commits per seeded source.
pub(super) const LIFECYCLE_COMMITS: u32 = 8;
/// Where each seeded lifecycle ends.
const FINAL_STATE: &str = "classified";

/// Appends one source's lifecycle, a commit per command, each decided by the domain against the
/// state so far (the backlog is what the service would have written). Appends directly, with the
/// expected sequence, version and hash the handler would use, because loading each aggregate
/// back before every command would make seeding, which is not measured, the slow part.
pub(super) async fn seed_source(
    store: &EventStore,
    tenant: &TenantId,
    index: u32,
) -> anyhow::Result<(Uuid, u64)> {
    let id = AggregateId::from_uuid(Uuid::now_v7());
    let scan_id = AggregateId::from_uuid(Uuid::now_v7());
    let config = DataSourceConfigInput {
        name: Some(format!("bench source {index}")),
        kind: Some("postgresql".into()),
        host: Some(format!("db{}.internal", index % 50)),
        database: Some("app".into()),
        username: Some("reader".into()),
        password_secret: Some("env:PURSIGHT_SOURCE_SECRET_BENCH".into()),
        environment: Some("production".into()),
        tags: Some(vec!["bench".into(), format!("team-{}", index % 7)]),
        ..Default::default()
    };
    let commands = [
        DataSourceCommand::Register {
            id,
            config: config.parse().map_err(|err| anyhow::anyhow!("{err}"))?,
        },
        DataSourceCommand::BeginConfiguration,
        DataSourceCommand::RecordConnectionSucceeded {
            latency_ms: 3,
            server_version: Some("PostgreSQL 15".into()),
        },
        DataSourceCommand::PatchConfig {
            patch: DataSourceConfigInput {
                description: Some(format!("orders database of team {}", index % 7)),
                ..Default::default()
            },
        },
        DataSourceCommand::StartScan { scan_id },
        DataSourceCommand::CompleteScan { scan_id },
        DataSourceCommand::StartClassification,
        DataSourceCommand::CompleteClassification,
    ];
    debug_assert_eq!(commands.len(), LIFECYCLE_COMMITS as usize);
    let mut state = DataSourceState::default();
    let (mut sequence, mut version, mut hash) = (0, 0, GENESIS.to_owned());
    for command in &commands {
        let decided = DataSource::decide(&state, command)
            .map_err(|err| anyhow::anyhow!("seeding {command:?}: {err}"))?;
        let command_id = Uuid::new_v4();
        let appended = store
            .append(NewCommit {
                aggregate_type: DataSource::NAME,
                aggregate_id: id,
                expected_sequence: sequence,
                expected_version: version,
                previous_hash: hash,
                metadata: CommitMetadata {
                    tenant: tenant.clone(),
                    actor: "bench".into(),
                    command_id,
                    correlation_id: command_id,
                    causation_id: command_id,
                    traceparent: None,
                },
                events: decided.iter().map(NewEvent::from_domain).collect(),
            })
            .await?;
        state = decided.iter().fold(state, DataSource::evolve);
        sequence = appended.sequence;
        version += appended.events.len() as u64;
        hash = appended
            .events
            .last()
            .map(|event| event.hash.clone())
            .context("an append returned no events")?;
    }
    Ok((id.as_uuid(), version))
}

/// Copies the projected `audit_log` and `data_sources` rows into fresh tables of the same
/// definition with `COPY … FROM STDIN`; returns the time the two copies took.
async fn copy_baseline(conn: &mut PgConnection) -> anyhow::Result<Duration> {
    let tables = [
        (
            "audit_log",
            projections::audit_log::AuditLog.ddl(),
            "rm_audit_log",
        ),
        (
            "data_sources",
            projections::data_sources::DataSources.ddl(),
            "rm_data_sources",
        ),
    ];
    conn.execute("CREATE SCHEMA bench_copy; SET search_path TO bench_copy")
        .await?;
    let mut rows = Vec::new();
    for (table, ddl, schema) in tables {
        conn.execute(ddl).await?;
        let data: Vec<u8> = conn
            .copy_out_raw(&format!("COPY {schema}.{table} TO STDOUT"))
            .await?
            .try_fold(Vec::new(), |mut all, chunk| async move {
                all.extend_from_slice(&chunk);
                Ok(all)
            })
            .await?;
        rows.push((table, data));
    }
    let started = Instant::now();
    for (table, data) in rows {
        let mut copy = conn
            .copy_in_raw(&format!("COPY bench_copy.{table} FROM STDIN"))
            .await?;
        copy.send(data).await?;
        copy.finish().await?;
    }
    Ok(started.elapsed())
}
