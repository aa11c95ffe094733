//! Commands over the stream itself: `replay`, `export`, `verify`, and `rebuild` of read models.

use crate::settings::{DatabaseArgs, StoreArgs};
use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use comfy_table::{presets::UTF8_HORIZONTAL_ONLY, Table};
use domain::{AggregateId, TenantId};
use eventlog::chain::ChainVerifier;
use eventlog::citation::{self, CitationCheck};
use eventlog::personal::SealedValues;
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
    /// Materialise every read model as it stood at this time (RFC 3339) into the schema
    /// `--into`, instead of printing events. With `--tenant`, only that tenant's events.
    #[arg(long, requires = "into", conflicts_with_all = ["aggregate", "until_sequence", "until_time"])]
    pub as_of: Option<DateTime<Utc>>,
    /// The PostgreSQL schema (in the read-model database) that receives the read models at
    /// `--as-of`: 1 to 48 characters of a-z, 0-9 and _, not `public`, `rm_*` or `pg_*`.
    #[arg(long, requires = "as_of", value_name = "SCHEMA")]
    pub into: Option<String>,
    /// Drop the `--into` schema first when it exists (otherwise an existing schema is refused).
    #[arg(long, requires = "into")]
    pub replace: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Only this tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Sign the export with this Ed25519 private key (from `pursight keygen`): writes a detached
    /// signature over the export's trailer (its digest, stream and sequence range) to OUTPUT.sig.
    #[arg(long, requires = "output", value_name = "KEY")]
    pub sign: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Verify an export file instead of the live stream.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Also check the export's detached signature with this public key (FILE.pub from
    /// `pursight keygen`).
    #[arg(long, requires = "file", value_name = "PUBLIC_KEY")]
    pub key: Option<PathBuf>,
    /// The signature file; FILE.sig unless set.
    #[arg(long, requires = "key")]
    pub signature: Option<PathBuf>,
    /// Also check every event a compliance report cites (the JSON of `pursight report
    /// compliance --format json`): each must stand in the stream, or in the export with
    /// `--file`, at the cited sequence with the cited hash.
    #[arg(long, value_name = "REPORT")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private key; the public key goes to the same path with `.pub` added.
    #[arg(long, short)]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// data_sources, audit_log, catalog, lineage, health, compliance or access.
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

/// Every stored event on `filter`, in order, to the current end of the stream, its sealed
/// personal values opened (or `[erased]`) with the tokens they held.
async fn events(
    store: &EventStore,
    filter: &str,
) -> anyhow::Result<impl futures::Stream<Item = anyhow::Result<(StoredEvent, SealedValues)>>> {
    let opener = std::sync::Arc::new(tokio::sync::Mutex::new(store.opener()));
    Ok(store
        .read_to_end(filter, DeliverFrom::Start)
        .await?
        .then(move |commit| {
            let opener = opener.clone();
            async move {
                let mut commit = commit?;
                let sealed = opener.lock().await.open(&mut commit.events).await?;
                Ok::<_, anyhow::Error>(commit.into_stored_events().zip(sealed).collect::<Vec<_>>())
            }
        })
        .flat_map(|commit| {
            let items: Vec<anyhow::Result<(StoredEvent, SealedValues)>> = match commit {
                Ok(events) => events.into_iter().map(Ok).collect(),
                Err(err) => vec![Err(err)],
            };
            futures::stream::iter(items)
        }))
}

pub async fn replay(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    args: ReplayArgs,
) -> anyhow::Result<ExitCode> {
    if let (Some(as_of), Some(into)) = (args.as_of, args.into.as_deref()) {
        return replay_into(
            store_args,
            database,
            as_of,
            args.tenant.as_deref(),
            into,
            args.replace,
        )
        .await;
    }
    let store = super::sealing_store(store_args, database).await?;
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
        let (stored, sealed) = stored?;
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
            Format::Ndjson => writeln!(out, "{}", export::to_shown_line(&stored, &sealed))?,
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

/// `path` with `suffix` appended to its file name (`e.ndjson` → `e.ndjson.sig`).
fn with_suffix(path: &std::path::Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

pub fn keygen(args: KeygenArgs) -> anyhow::Result<ExitCode> {
    use std::os::unix::fs::OpenOptionsExt;
    let public_path = with_suffix(&args.output, ".pub");
    for path in [&args.output, &public_path] {
        if path.exists() {
            anyhow::bail!(
                "{} exists; keygen never overwrites a key (remove it or choose another --output)",
                path.display()
            );
        }
    }
    let (private, public) = eventlog::signing::generate_key_pair()?;
    // The private key is readable by its owner only, and created (never truncated) here.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    file.write_all(private.as_bytes())?;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&public_path)
        .with_context(|| format!("cannot create {}", public_path.display()))?
        .write_all(public.as_bytes())?;
    let key = eventlog::signing::ExportSigner::from_pem(&private)?;
    println!(
        "wrote the private key to {} and the public key to {} (key id {})",
        args.output.display(),
        public_path.display(),
        key.key_id()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn export(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    args: ExportArgs,
) -> anyhow::Result<ExitCode> {
    // A bad key fails before any work.
    let signer = match &args.sign {
        Some(path) => Some(eventlog::signing::ExportSigner::from_pem(
            &std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the signing key {}", path.display()))?,
        )?),
        None => None,
    };
    let store = super::sealing_store(store_args, database).await?;
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
        if let Some(signer) = signer {
            let signature_path = with_suffix(path, ".sig");
            let signature = serde_json::to_string_pretty(&signer.sign(&trailer))?;
            std::fs::write(&signature_path, signature + "\n")
                .with_context(|| format!("cannot write {}", signature_path.display()))?;
            eprintln!(
                "signed with key {} to {}",
                signer.key_id(),
                signature_path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks an export's detached signature; `Err` holds why it fails.
fn check_signature(
    export: &std::path::Path,
    trailer: Option<&export::Trailer>,
    key: &std::path::Path,
    signature: Option<&std::path::Path>,
) -> anyhow::Result<Result<String, String>> {
    let public = std::fs::read_to_string(key)
        .with_context(|| format!("cannot read the public key {}", key.display()))?;
    let signature_path = signature.map_or_else(|| with_suffix(export, ".sig"), PathBuf::from);
    let Ok(text) = std::fs::read_to_string(&signature_path) else {
        return Ok(Err(format!(
            "there is no readable signature file {}",
            signature_path.display()
        )));
    };
    let Some(trailer) = trailer else {
        return Ok(Err(
            "the export has no readable trailer, so there is nothing the signature can cover"
                .into(),
        ));
    };
    Ok(match eventlog::signing::verify(&public, &text, trailer) {
        Ok(file) => Ok(format!(
            "signature valid: key {} signed this export (stream sequences {}..{}, digest {})",
            file.key_id, trailer.firstsequence, trailer.lastsequence, trailer.sha256
        )),
        Err(err @ eventlog::signing::SigningError::PublicKey(_)) => return Err(err.into()),
        Err(err) => Err(err.to_string()),
    })
}

/// The citations of the report given with `--report`, and the problems with the report itself.
fn report_citations(path: &std::path::Path) -> anyhow::Result<(CitationCheck, Vec<String>)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the report {}", path.display()))?;
    let document: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not JSON (write the report with --format json)",
            path.display()
        )
    })?;
    let (citations, malformed) = citation::citations_in(&document);
    Ok((CitationCheck::new(citations), malformed))
}

/// What checking the report's citations found, as a line for the person checking.
fn citations_line(check: &CitationCheck, problems: usize, where_: &str) -> String {
    if problems == 0 {
        format!(
            "report: all {} cited events stand in {where_} at their cited sequences with their cited hashes",
            check.len()
        )
    } else {
        format!(
            "report: {problems} citation problem(s) among {} cited events",
            check.len()
        )
    }
}

pub async fn verify(store_args: &StoreArgs, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let mut cited = match &args.report {
        Some(path) => Some(report_citations(path)?),
        None => None,
    };
    match &args.file {
        Some(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            let verified = export::verify_export(std::io::BufReader::new(file))?;
            let mut citation_problems = Vec::new();
            if let Some((check, malformed)) = &mut cited {
                // A second read, only for the cited ids: the export was verified above, so the
                // hashes found here are those of events whose content and chain are proven.
                let file = std::fs::File::open(path)
                    .with_context(|| format!("cannot open {}", path.display()))?;
                for line in std::io::BufRead::lines(std::io::BufReader::new(file)) {
                    let line = line?;
                    if line.trim().is_empty() || export::is_trailer(&line) {
                        continue;
                    }
                    if let Ok(stored) = export::from_line(&line) {
                        check.observe(&stored);
                    }
                }
                citation_problems.append(malformed);
                citation_problems.extend(check.problems("the export"));
            }
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
            let mut problems = verified.problems.clone();
            problems.extend(citation_problems.iter().cloned());
            let mut signed = None;
            if let Some(key) = &args.key {
                match check_signature(
                    path,
                    verified.trailer.as_ref(),
                    key,
                    args.signature.as_deref(),
                )? {
                    Ok(line) => signed = Some(line),
                    Err(reason) => problems.push(format!("SIGNATURE INVALID: {reason}")),
                }
            }
            let code = report(&verified.chains, &problems, &what);
            if let Some(line) = signed {
                println!("{line}");
            }
            if let Some((check, _)) = &cited {
                println!(
                    "{}",
                    citations_line(check, citation_problems.len(), "the export")
                );
            }
            Ok(code)
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
            let mut problems = Vec::new();
            if let Some((check, malformed)) = &mut cited {
                // Only the cited commits are read again, by direct gets; a sequence the stream
                // does not hold leaves its events unseen, and so reported.
                for sequence in check.sequences() {
                    if sequence < checked.range.first || sequence > checked.range.last {
                        continue;
                    }
                    if let Ok(commit) = store.commit_at(sequence).await {
                        for stored in commit.into_stored_events() {
                            check.observe(&stored);
                        }
                    }
                }
                problems.append(malformed);
                problems.extend(check.problems("the stream"));
            }
            let code = report(&checked.chains, &problems, &what);
            if let Some((check, _)) = &cited {
                println!("{}", citations_line(check, problems.len(), "the stream"));
            }
            Ok(code)
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

/// `replay --as-of T --into SCHEMA`: the read models at `T`, materialised into `SCHEMA`.
async fn replay_into(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    as_of: DateTime<Utc>,
    tenant: Option<&str>,
    into: &str,
    replace: bool,
) -> anyhow::Result<ExitCode> {
    // Refused before connecting to anything.
    if let Some(reason) = projections::as_of::refuse_schema_name(into) {
        anyhow::bail!(reason);
    }
    let tenant = tenant
        .map(TenantId::parse)
        .transpose()
        .map_err(|err| anyhow::anyhow!("--tenant: {err}"))?;
    let pool = projections::database::connect(&database.database_url).await?;
    let store = crate::settings::with_personal_keys(connect(store_args).await?, &pool)
        .map_err(anyhow::Error::msg)?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} replaying into {msg} [{bar:40}] {pos}/{len} sequence",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(into.to_owned());
    let progress = {
        let bar = bar.clone();
        move |done: u64, target: u64| {
            bar.set_length(target);
            bar.set_position(done);
        }
    };
    let report = projections::as_of::materialise(
        &store,
        &pool,
        as_of,
        tenant.as_ref().map(TenantId::as_str),
        into,
        replace,
        &progress,
    )
    .await?;
    bar.finish_and_clear();
    println!(
        "read models as of {} in schema {}: {} commits applied, up to sequence {}",
        as_of.to_rfc3339(),
        report.schema,
        report.commits,
        report.last_sequence
    );
    for (projection, sequence, error) in &report.parked {
        println!("not applied by {projection}: sequence {sequence}: {error}");
    }
    Ok(ExitCode::SUCCESS)
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
    let pool = projections::database::connect(&database.database_url).await?;
    let store = crate::settings::with_personal_keys(connect(store_args).await?, &pool)
        .map_err(anyhow::Error::msg)?;
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
