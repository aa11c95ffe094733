//! Commands over the stream itself: `replay`, `export`, `verify`, and `rebuild` of read models.

use crate::settings::{DatabaseArgs, StoreArgs};
use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use comfy_table::{presets::UTF8_HORIZONTAL_ONLY, Table};
use domain::{AggregateId, TenantId};
use eventlog::chain::ChainVerifier;
use eventlog::{export, DeliverFrom, EventStore, StoredEvent};
use futures::StreamExt;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Ndjson,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Only this tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only this aggregate (needs --tenant).
    #[arg(long, requires = "tenant")]
    pub aggregate: Option<String>,
    /// Stop after this stream sequence.
    #[arg(long)]
    pub until_sequence: Option<u64>,
    /// Stop at events recorded after this time (RFC 3339).
    #[arg(long)]
    pub until_time: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Only this tenant.
    #[arg(long)]
    pub tenant: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Verify an export file instead of the live stream.
    #[arg(long)]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// data_sources, audit_log, catalog, lineage, health or compliance.
    pub name: String,
}

async fn connect(store: &StoreArgs) -> anyhow::Result<EventStore> {
    Ok(EventStore::connect(&store.config()?).await?)
}

/// The subject filter for an optional tenant and aggregate.
fn filter(
    store: &EventStore,
    tenant: Option<&str>,
    aggregate: Option<&str>,
) -> anyhow::Result<String> {
    let names = store.names();
    Ok(match (tenant, aggregate) {
        (Some(t), Some(a)) => names.any_aggregate(&TenantId::parse(t)?, &AggregateId::parse(a)?),
        (Some(t), None) => names.tenant(&TenantId::parse(t)?),
        _ => names.all_events(),
    })
}

/// Every stored event on `filter`, in order, to the current end of the stream.
async fn events(
    store: &EventStore,
    filter: &str,
) -> anyhow::Result<impl futures::Stream<Item = anyhow::Result<StoredEvent>>> {
    Ok(store
        .read_to_end(filter, DeliverFrom::Start)
        .await?
        .flat_map(|commit| {
            let items: Vec<anyhow::Result<StoredEvent>> = match commit {
                Ok(commit) => commit.into_stored_events().map(Ok).collect(),
                Err(err) => vec![Err(err.into())],
            };
            futures::stream::iter(items)
        }))
}

pub async fn replay(store_args: &StoreArgs, args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let store = connect(store_args).await?;
    let filter = filter(&store, args.tenant.as_deref(), args.aggregate.as_deref())?;
    let mut events = Box::pin(events(&store, &filter).await?);
    let mut table = Table::new();
    table.load_preset(UTF8_HORIZONTAL_ONLY).set_header([
        "seq",
        "time",
        "tenant",
        "type",
        "aggregate",
        "ver",
        "actor",
        "command",
    ]);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut count = 0u64;
    while let Some(stored) = events.next().await {
        let stored = stored?;
        if args
            .until_sequence
            .is_some_and(|until| stored.sequence > until)
            || args
                .until_time
                .is_some_and(|until| stored.event.time > until)
        {
            break;
        }
        count += 1;
        match args.format {
            Format::Ndjson => writeln!(out, "{}", export::to_line(&stored))?,
            Format::Table => {
                let e = &stored.event;
                table.add_row([
                    stored.sequence.to_string(),
                    e.time.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
                    e.tenant.clone(),
                    e.name_and_version()
                        .map_or(e.event_type.clone(), |(n, v)| format!("{n} v{v}")),
                    format!("{} {}", e.aggregatetype, e.aggregateid),
                    e.aggregateversion.to_string(),
                    e.actor.clone(),
                    e.commandid.clone(),
                ]);
            }
        }
    }
    if matches!(args.format, Format::Table) {
        writeln!(out, "{table}")?;
        writeln!(out, "{count} events")?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn export(store_args: &StoreArgs, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = connect(store_args).await?;
    let filter = filter(&store, args.tenant.as_deref(), None)?;
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let trailer = export::export(&store, &filter, out).await?;
    if let Some(path) = &args.output {
        eprintln!(
            "exported {} events in {} commits (stream sequences {}..{}) to {}",
            trailer.events,
            trailer.commits,
            trailer.firstsequence,
            trailer.lastsequence,
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn verify(store_args: &StoreArgs, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    match &args.file {
        Some(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            let verified = export::verify_export(std::io::BufReader::new(file))?;
            let what = match &verified.trailer {
                Some(t) => format!(
                    "{} (export of {} {}, stream sequences {}..{}: {} commits)",
                    path.display(),
                    t.stream,
                    t.filter,
                    t.firstsequence,
                    t.lastsequence,
                    verified.commits
                ),
                None => path.display().to_string(),
            };
            Ok(report(&verified.chains, &verified.problems, &what))
        }
        None => {
            let store = connect(store_args).await?;
            let checked = store.verify().await?;
            let what = format!(
                "stream {}, sequences {}..{} ({} commits)",
                store.names().stream(),
                checked.range.first,
                checked.range.last,
                checked.commits
            );
            Ok(report(&checked.chains, &[], &what))
        }
    }
}

/// Prints the outcome of a verification: OK with what was checked, or every problem found.
fn report(verifier: &ChainVerifier, problems: &[String], what: &str) -> ExitCode {
    let violations = verifier.violations();
    if violations.is_empty() && problems.is_empty() {
        println!(
            "OK: {} events in {} aggregates verified in {what}; complete, and every hash chain is intact",
            verifier.events_checked(),
            verifier.aggregates_checked()
        );
        return ExitCode::SUCCESS;
    }
    if !problems.is_empty() {
        println!(
            "INCOMPLETE OR ALTERED: {} problem(s) with {what}",
            problems.len()
        );
        for problem in problems {
            println!("  {problem}");
        }
    }
    if let Some((first, rest)) = violations.split_first() {
        println!("TAMPERED: {} problem(s) in {what}", violations.len());
        println!("first broken link: {first}");
        for violation in rest {
            println!("  {violation}");
        }
    }
    ExitCode::from(2)
}

pub async fn rebuild(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    args: RebuildArgs,
) -> anyhow::Result<ExitCode> {
    if !projections::ALL.contains(&args.name.as_str()) {
        anyhow::bail!(
            "unknown read model {:?}: choose one of {}",
            args.name,
            projections::ALL.join(", ")
        );
    }
    let store = connect(store_args).await?;
    let pool = projections::database::connect(&database.database_url).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} rebuilding {msg} [{bar:40}] {pos}/{len} sequence",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(args.name.clone());
    let progress = {
        let bar = bar.clone();
        move |done: u64, target: u64| {
            bar.set_length(target);
            bar.set_position(done);
        }
    };
    let report =
        projections::rebuild::rebuild_by_name(&args.name, &store, &pool, &progress).await?;
    bar.finish_and_clear();
    println!(
        "rebuilt {} from {} commits up to sequence {} and swapped it in",
        report.projection, report.commits, report.last_sequence
    );
    Ok(ExitCode::SUCCESS)
}
