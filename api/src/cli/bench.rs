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

#[path = "bench_as_of.rs"]
mod as_of;
#[path = "bench_classify.rs"]
mod classify;
#[path = "bench_classify_scan.rs"]
mod classify_scan;
#[path = "bench_compliance.rs"]
mod compliance;
#[path = "bench_corpus.rs"]
mod corpus;
#[path = "bench_corpus_text.rs"]
mod corpus_text;
#[path = "bench_corpus_values.rs"]
mod corpus_values;
#[path = "bench_discovery.rs"]
mod discovery;
#[path = "bench_project.rs"]
mod project;
#[path = "bench_search.rs"]
mod search;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// N concurrent commands on distinct aggregates versus raw JetStream publishes of the same
    /// payload sizes, bare and shaped like an append (its headers and subject form), for two
    /// kinds of command: creations (`execute_new`: no read before the append) and changes of
    /// existing aggregates through the path every other mutation takes (load the history,
    /// decide, append); prints this process's and a local NATS server's CPU per operation,
    /// `ratio_existing_aggregates: X` (changes / bare raw) and last `ratio: X` (creations /
    /// bare raw).
    Append(AppendArgs),
    /// A backlog of data-source lifecycles (one commit per command) projected into every read
    /// model from an empty database, versus a raw `COPY` of the rows the read models end up
    /// holding; prints `ratio: X` (COPY time / projection time) and, last, `events_per_s: X`.
    Project(project::ProjectArgs),
    /// Full PostgreSQL discovery of a synthetic schema (scratch database, stream and read models)
    /// versus `pg_dump --schema-only` of the same database, then a no-change rescan; prints
    /// `ratio: X` (discovery / pg_dump), `rss_mb: X` and, last, `rescan_events: N`.
    Discovery(discovery::DiscoveryArgs),
    /// First scores the engine on each of the repository's labeled corpora with a model trained
    /// without that corpus (leave-one-corpus-out, in memory; `--neutral` also with every name
    /// replaced), printing precision and recall per corpus, the total and the calibration error
    /// (`heldout_applied_precision`, `heldout_applied_recall`, `heldout_suggested_recall`,
    /// `heldout_ece`). Then, given `--sql` and `--labels`, loads that dataset (PostgreSQL script +
    /// `table,column,label,alternates` CSV) into a scratch database, scans and classifies it, and
    /// prints precision, recall and F1 overall and per type, for applied labels and for applied +
    /// suggested, and speed; the last lines are then `applied_precision: X`,
    /// `applied_recall: X`, `suggested_recall: X`, `columns_per_s: X`.
    Classify(classify::ClassifyArgs),
    /// The whole pipeline of a scan, end to end, on a scratch database of N realistic tables
    /// (names, e-mail addresses, phones, dates, amounts, free text, codes): scan, sampling,
    /// profiling, classification, label events and propagation, until every read model has caught
    /// up; versus the raw sampling floor (the same sample queries with sqlx alone). Prints the
    /// phase timings, `ratio: X` (end to end / floor) and last `columns_per_s: X`.
    ClassifyScan(classify_scan::ClassifyScanArgs),
    /// The compliance engine over N synthetic classified columns (tables of 50) in memory,
    /// through the compliance worker's path: a full pass across the four packs, then one label
    /// change evaluated incrementally, and the same change by a full pass as the baseline;
    /// prints `baseline_full_ms`, then `columns_per_s: X` (full pass), `incremental_subjects: N`
    /// (columns evaluated for the change) and last `incremental_ms: X`.
    Compliance(compliance::ComplianceArgs),
    /// As-of reads of one data source (the GraphQL `asOf:` path: its own history loaded from
    /// the stream and folded up to a time) with `--events` in the stream, against the same reads
    /// when the stream held 1 % of them; prints the baseline, `ratio`, then `events`, `p50_ms`
    /// and last `p95_ms`.
    AsOf(as_of::AsOfArgs),
    /// `search` (ranked hits of 20 and facet counts) over N synthetic assets bulk-loaded into the
    /// real read-model tables (search documents written by the catalog projection's refresh), a
    /// mixed set of queries through the resolver's code; `assets` pages after random paths; the
    /// old substring filter as the baseline; precision@5 on a labeled ranking set. Prints
    /// `browse_p95_ms`, `precision_at_5`, `p50_ms`, `p95_ms` and last `rss_mb`.
    Search(search::SearchArgs),
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
        BenchCommand::ClassifyScan(args) => classify_scan::run(store, database, args).await,
        BenchCommand::Compliance(args) => compliance::run(args),
        BenchCommand::AsOf(args) => as_of::run(store, args).await,
        BenchCommand::Search(args) => search::run(store, database, args).await,
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
        args.count,
        args.concurrency,
        eventlog::nats_url::redacted(&store_args.nats_url)
    );

    // Baseline: raw async JetStream publishes of the same payload sizes to a scratch stream with
    // the same storage, the same concurrency, each awaiting its ack. For information, the same
    // shaped like an append (its three headers, a subject of the event store's form), into a
    // stream configured like the event store: what the protocol costs, as opposed to what
    // PurSight's client work costs.
    let js = store.jetstream().clone();
    let server = local_nats_server(&store_args.nats_url);
    let server = server.as_deref();
    let raw_root = format!("benchraw{run_id}");
    let headers_root = format!("benchhdr{run_id}");
    let raw_stream = format!("BENCHRAW_{run_id}");
    let headers_stream = format!("BENCHHDR_{run_id}");
    js.create_stream(jetstream::stream::Config {
        name: raw_stream.clone(),
        subjects: vec![format!("{raw_root}.>")],
        storage: jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await?;
    js.create_stream(jetstream::stream::Config {
        name: headers_stream.clone(),
        subjects: vec![format!("{headers_root}.>")],
        storage: jetstream::stream::StorageType::File,
        deny_delete: true,
        deny_purge: true,
        allow_direct: true,
        duplicate_window: Duration::from_secs(24 * 60 * 60),
        ..Default::default()
    })
    .await?;

    // Warm all paths up (connections, stream files, allocator) before any clock runs.
    let warm_up = args.count.min(500);
    let (_, warm_sizes, _) = ours(server, &handler, &tenant, 0, warm_up, args.concurrency).await?;
    // The aggregates the changes address, registered before any clock runs (one per command
    // of a round; each round changes every one of them once more).
    let (_, _, existing_ids) = ours(
        server,
        &handler,
        &tenant,
        1_000_000_000,
        args.count,
        args.concurrency,
    )
    .await?;
    // A first change of each, so that every timed load reads a history of several commits
    // (an aggregate of one commit is loaded by a single read).
    existing(
        server,
        &handler,
        &tenant,
        &existing_ids,
        0,
        args.concurrency,
    )
    .await?;
    raw(
        server,
        &js,
        &raw_root,
        0,
        &warm_sizes,
        args.concurrency,
        false,
    )
    .await?;
    raw(
        server,
        &js,
        &headers_root,
        0,
        &warm_sizes,
        args.concurrency,
        true,
    )
    .await?;

    let (mut ours_samples, mut raw_samples) = (Samples::default(), Samples::default());
    let (mut headers_samples, mut existing_samples) = (Samples::default(), Samples::default());
    // The raw sides publish the sizes the commands produced most recently (the warm-up's for
    // the first round), cycled to the round's count: sizes vary by a byte or two between
    // commands, and this lets any side go first.
    let mut sizes = warm_sizes;
    for round in 0..args.rounds as usize {
        let first = warm_up + round * args.count;
        let raw_sizes: Vec<usize> = sizes.iter().copied().cycle().take(args.count).collect();
        let mut rates = [0.0; 4];
        // Each round starts with the next side, so no side always follows the same one (or
        // always runs first after reading back a round's results).
        for side in (0..4).map(|offset| (round + offset) % 4) {
            rates[side] = match side {
                3 => {
                    let phase = existing(
                        server,
                        &handler,
                        &tenant,
                        &existing_ids,
                        round + 1,
                        args.concurrency,
                    )
                    .await?;
                    existing_samples.record(&phase, args.count)
                }
                0 => {
                    let (phase, round_sizes, _) = ours(
                        server,
                        &handler,
                        &tenant,
                        first,
                        args.count,
                        args.concurrency,
                    )
                    .await?;
                    sizes = round_sizes;
                    ours_samples.record(&phase, args.count)
                }
                raw_side => {
                    let shaped_like_append = raw_side == 2;
                    let (root, samples) = if shaped_like_append {
                        (&headers_root, &mut headers_samples)
                    } else {
                        (&raw_root, &mut raw_samples)
                    };
                    let phase = raw(
                        server,
                        &js,
                        root,
                        first,
                        &raw_sizes,
                        args.concurrency,
                        shaped_like_append,
                    )
                    .await?;
                    samples.record(&phase, args.count)
                }
            };
        }
        println!(
            "round {}: pursight creation {:.0} commands/s, pursight change of an existing aggregate {:.0} commands/s, raw publish {:.0} msgs/s, raw publish shaped like an append {:.0} msgs/s",
            round + 1,
            rates[0],
            rates[3],
            rates[1],
            rates[2],
        );
    }

    for stream in [&raw_stream, &headers_stream] {
        let _ = tokio::time::timeout(Duration::from_secs(10), js.delete_stream(stream)).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), store.delete_scratch_store()).await;

    let mean = sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64;
    let (ours_rate, raw_rate) = (
        median(&mut ours_samples.rates),
        median(&mut raw_samples.rates),
    );
    let headers_rate = median(&mut headers_samples.rates);
    let existing_rate = median(&mut existing_samples.rates);
    let rounds = args.rounds;
    println!("payload: mean {mean:.0} bytes per creation commit");
    println!(
        "pursight append, creation commands (execute_new: no read before the append): {ours_rate:.0} commands/s (median of {rounds} rounds)"
    );
    println!(
        "pursight command on an existing aggregate (load + decide + append, as every other mutation): {existing_rate:.0} commands/s (median of {rounds} rounds)"
    );
    println!("raw jetstream publish: {raw_rate:.0} msgs/s (median of {rounds} rounds)");
    println!(
        "raw jetstream publish shaped like an append (same headers and subject form): {headers_rate:.0} msgs/s (median of {rounds} rounds)"
    );
    let mut print_per_operation = |what: &str, of: fn(&mut Samples) -> &mut Vec<f64>| {
        if !of(&mut ours_samples).is_empty() {
            println!(
                "{what} per operation: pursight creation {:.1} µs, pursight change of an existing aggregate {:.1} µs, raw publish {:.1} µs, raw publish shaped like an append {:.1} µs (medians)",
                median(of(&mut ours_samples)),
                median(of(&mut existing_samples)),
                median(of(&mut raw_samples)),
                median(of(&mut headers_samples)),
            );
        }
    };
    print_per_operation("client CPU", |samples| &mut samples.cpu_per_op);
    print_per_operation("NATS server CPU", |samples| &mut samples.server_cpu_per_op);
    println!(
        "ratio_to_publish_shaped_like_append: {:.3}",
        ours_rate / headers_rate
    );
    println!("ratio_existing_aggregates: {:.3}", existing_rate / raw_rate);
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

/// One timed phase of the benchmark: wall-clock time, and the CPU time this process and the
/// local NATS server used in it (`None` where it cannot be read).
struct Phase {
    elapsed: Duration,
    cpu: Option<Duration>,
    server_cpu: Option<Duration>,
}

impl Phase {
    /// Runs `work` under the clock; `server` is the local NATS server's `/proc` stat file.
    async fn measure<T>(
        server: Option<&str>,
        work: impl std::future::Future<Output = T>,
    ) -> (Self, T) {
        let server_cpu = || server.and_then(cpu_time);
        let (started, cpu, server_before) = (Instant::now(), process_cpu(), server_cpu());
        let output = work.await;
        let elapsed = started.elapsed();
        let cpu = process_cpu().zip(cpu).map(|(after, before)| after - before);
        let server_cpu = server_cpu()
            .zip(server_before)
            .map(|(after, before)| after - before);
        (
            Self {
                elapsed,
                cpu,
                server_cpu,
            },
            output,
        )
    }
}

/// One side of the comparison, over the rounds.
#[derive(Default)]
struct Samples {
    /// Operations per second.
    rates: Vec<f64>,
    /// This process's CPU per operation, in µs: client work is what PurSight adds to a publish,
    /// and on a machine that also runs the NATS server it is taken from the server.
    cpu_per_op: Vec<f64>,
    /// The local NATS server's CPU per operation, in µs: the server is the bottleneck here, so
    /// this is what sets each side's rate.
    server_cpu_per_op: Vec<f64>,
}

impl Samples {
    /// Adds a phase of `count` operations; returns its rate.
    fn record(&mut self, phase: &Phase, count: usize) -> f64 {
        let rate = count as f64 / phase.elapsed.as_secs_f64();
        self.rates.push(rate);
        let per_op = |cpu: Duration| cpu.as_secs_f64() * 1e6 / count as f64;
        self.cpu_per_op.extend(phase.cpu.map(per_op));
        self.server_cpu_per_op.extend(phase.server_cpu.map(per_op));
        rate
    }
}

/// CPU time this process has used so far (user + system); `None` off Linux.
fn process_cpu() -> Option<Duration> {
    cpu_time("/proc/self/stat")
}

/// CPU time (user + system) of the process whose `/proc/<pid>/stat` is `stat_path`; `None`
/// where that file does not exist. Its unit is USER_HZ, which Linux fixes at 100 per second for
/// `/proc`, so a round of 20,000 operations is measured to within a few per cent.
fn cpu_time(stat_path: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// The `/proc` stat file of the NATS server this benchmark talks to, when that server runs on
/// this machine: the URL names a loopback host and exactly one `nats-server` process is found.
fn local_nats_server(url: &str) -> Option<String> {
    let authority = url.split("://").last()?.rsplit('@').next()?;
    let host = authority
        .strip_prefix('[')
        .and_then(|v6| v6.split(']').next())
        .unwrap_or_else(|| authority.split([':', '/']).next().unwrap_or(authority));
    if !matches!(host, "127.0.0.1" | "localhost" | "::1") {
        return None;
    }
    let mut servers = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            std::fs::read_to_string(path.join("comm"))
                .is_ok_and(|comm| comm.trim() == "nats-server")
        });
    let server = servers.next()?;
    servers
        .next()
        .is_none()
        .then(|| server.join("stat").display().to_string())
}

/// Registers `count` distinct data sources through the command handler, each command its own
/// task as in the server; returns the timed phase, each commit's payload size and the sources'
/// ids.
async fn ours(
    server: Option<&str>,
    handler: &CommandHandler,
    tenant: &TenantId,
    first: usize,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<(Phase, Vec<usize>, Vec<AggregateId>)> {
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
                password_secret: Some("env:PURSIGHT_SOURCE_SECRET_BENCH".into()),
                tags: Some(vec!["bench".into()]),
                ..Default::default()
            }
            .parse()
            .map_err(|err| anyhow::anyhow!("{err}"))?;
            Ok((id, DataSourceCommand::Register { id, config }))
        })
        .collect::<anyhow::Result<_>>()?;
    let ids = prepared.iter().map(|(id, _)| *id).collect();
    // Each task yields only its commit's payload size: a server does not keep the events it
    // appended either, and holding them here would charge their memory to the clock. (Reading
    // the sizes back from the stream would leave a consumer behind that the server keeps
    // feeding during the next phase.)
    let commands = futures::stream::iter(prepared)
        .map(|(id, command)| {
            let handler = handler.clone();
            let tenant = tenant.clone();
            spawn(async move {
                let ctx = CommandContext::new(tenant, "bench", vec![Role::Admin], None);
                let outcome = handler
                    .execute_new::<DataSource>(&ctx, Permission::ManageDataSources, id, command)
                    .await?;
                outcome
                    .events
                    .published_size()
                    .ok_or_else(|| anyhow::anyhow!("command {id} appended nothing new"))
            })
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<anyhow::Result<usize>>>();
    let (phase, sizes) = Phase::measure(server, commands).await;
    let sizes = sizes.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Ok((phase, sizes, ids))
}

/// Changes the description of each of `ids` through [`CommandHandler::execute`], the path of
/// every mutation on an existing aggregate (load its history, decide, append), each command
/// its own task as in the server; returns the timed phase.
async fn existing(
    server: Option<&str>,
    handler: &CommandHandler,
    tenant: &TenantId,
    ids: &[AggregateId],
    round: usize,
    concurrency: usize,
) -> anyhow::Result<Phase> {
    let prepared: Vec<(AggregateId, DataSourceCommand)> = ids
        .iter()
        .map(|id| {
            let patch = DataSourceConfigInput {
                description: Some(format!("bench round {round}")),
                ..Default::default()
            };
            (*id, DataSourceCommand::PatchConfig { patch })
        })
        .collect();
    let commands = futures::stream::iter(prepared)
        .map(|(id, command)| {
            let handler = handler.clone();
            let tenant = tenant.clone();
            spawn(async move {
                let ctx = CommandContext::new(tenant, "bench", vec![Role::Admin], None);
                let outcome = handler
                    .execute::<DataSource>(&ctx, Permission::ManageDataSources, id, command)
                    .await?;
                anyhow::ensure!(
                    !outcome.events.is_empty(),
                    "command on {id} changed nothing"
                );
                Ok(())
            })
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<anyhow::Result<()>>>();
    let (phase, results) = Phase::measure(server, commands).await;
    results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Ok(phase)
}

/// Publishes one message per size to distinct subjects, awaiting every ack. With
/// `shaped_like_append`, each carries what an append sends besides its payload: a unique
/// `Nats-Msg-Id`, `Nats-Expected-Last-Subject-Sequence: 0` (which the server checks) and the
/// batch `Content-Type`, on a subject of the event store's `<root>.events.<tenant>.<type>.<id>`
/// form.
async fn raw(
    server: Option<&str>,
    js: &jetstream::Context,
    subject_root: &str,
    first: usize,
    sizes: &[usize],
    concurrency: usize,
    shaped_like_append: bool,
) -> anyhow::Result<Phase> {
    let publishes = futures::stream::iter(sizes.iter().copied().enumerate())
        .map(|(i, size)| {
            let js = js.clone();
            let subject = if shaped_like_append {
                format!("{subject_root}.events.bench.data_source.{}", Uuid::now_v7())
            } else {
                format!("{subject_root}.{}", first + i)
            };
            spawn(async move {
                let payload = vec![b'x'; size].into();
                if shaped_like_append {
                    let publish = jetstream::context::Publish::build()
                        .payload(payload)
                        .message_id(Uuid::new_v4().to_string())
                        .expected_last_subject_sequence(0)
                        .header(
                            eventlog::envelope::CONTENT_TYPE_HEADER,
                            eventlog::envelope::BATCH_CONTENT_TYPE,
                        );
                    js.send_publish(subject, publish).await?.await?;
                } else {
                    js.publish(subject, payload).await?.await?;
                }
                Ok(())
            })
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<anyhow::Result<()>>>();
    let (phase, results) = Phase::measure(server, publishes).await;
    results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Ok(phase)
}

/// Runs a unit of benchmark work on its own task, so both cores are used as in the server.
async fn spawn<F, T>(work: F) -> anyhow::Result<T>
where
    F: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    tokio::spawn(work).await?
}
