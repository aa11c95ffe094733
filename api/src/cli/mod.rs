//! The `pursight` command line: `serve`, `demo`, `source`, `scan`, `classify`, `compliance`, `glossary`, `roles`, `report`, `token`, `tenant`, `replay`,
//! `erase`, `rebuild`, `projections`, `verify`, `export`, `audit`, `keygen`, `migrate`, `schema` and `bench`. Every subcommand has `--help`; configuration
//! comes from flags or `PURSIGHT_*` environment variables with local defaults.

mod audit;
mod bench;
mod classify;
mod compliance;
mod demo;
mod erase;
mod glossary;
mod history;
mod lineage;
mod projection;
mod report;
mod roles;
mod serve;
mod source;
mod tenant;

use crate::settings::{DatabaseArgs, StoreArgs};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// PurSight: event-sourced data governance.
#[derive(Debug, Parser)]
#[command(name = "pursight", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Log filter (e.g. `info`, `pursight=debug`); also RUST_LOG.
    #[arg(long, env = "PURSIGHT_LOG", global = true)]
    pub log: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the GraphQL service and the projections.
    Serve(serve::ServeArgs),
    /// Start the service on the local defaults, register example data sources and print where
    /// to look.
    Demo(demo::DemoArgs),
    /// Print a signed token for local use.
    Token(serve::TokenArgs),
    /// Create, suspend, reactivate and list tenants (platform operator; talks to NATS directly).
    /// A suspended tenant's tokens are refused with TENANT_SUSPENDED.
    #[command(subcommand)]
    Tenant(tenant::TenantCommandArgs),
    /// Print the event history (all, one tenant, one aggregate, up to a sequence or a time), or
    /// materialise every read model as it stood at a time into a schema (`--as-of T --into S`).
    Replay(history::ReplayArgs),
    /// Rebuild a read model from the stream into fresh tables and swap it in.
    Rebuild(history::RebuildArgs),
    /// Show the events a projection could not apply (parked) and replay them after a fix.
    #[command(subcommand)]
    Projections(projection::ProjectionsCommand),
    /// Verify the live stream (every sequence from its first to its last, and every hash chain;
    /// prints the range checked) or an export file (its trailer's counts and digest, and every
    /// hash chain); with `--report`, also that every event a compliance report cites stands at
    /// its cited sequence with its cited hash; exit code 2 when anything is missing or changed.
    Verify(history::VerifyArgs),
    /// Export the stream as NDJSON: one CloudEvent per line (Fernet tokens as `fernet:***`;
    /// sealed personal values opened or `[erased]`, their tokens kept in member `sealed`), then
    /// a trailer line with stream, filter, sequence range, counts and a SHA-256 over the lines;
    /// with `--sign KEY`, also a detached Ed25519 signature over that trailer (OUTPUT.sig).
    Export(history::ExportArgs),
    /// Erase a person's personal data (GDPR Art. 17): destroy their data keys, so that every
    /// replay, export and read model shows `[erased]` while every hash chain still verifies;
    /// records a `PersonalDataErased` event and rebuilds the read models. Idempotent.
    /// `--reapply` destroys again the keys of every recorded erasure (after restoring a backup
    /// of `personal_keys`).
    Erase(erase::EraseArgs),
    /// The audit trail (events and refused commands): `pursight audit export --format csv|ndjson`.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Impact analysis: everything downstream of an asset or one of its columns, with the
    /// columns reached, owners, classifications and open violations.
    Lineage(lineage::LineageArgs),
    /// Write a new Ed25519 key pair for signing exports: FILE (private, PKCS#8 PEM, mode 0600)
    /// and FILE.pub (public, SubjectPublicKeyInfo PEM). Never overwrites a file.
    Keygen(history::KeygenArgs),
    /// Create the read-model database if missing and run migrations.
    Migrate,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Register, list, validate and health-check data sources.
    Source {
        #[command(flatten)]
        actor: source::Actor,
        #[command(subcommand)]
        command: source::SourceCommand,
    },
    /// Discover a source's schemas (incremental: unchanged assets append nothing), then classify them.
    Scan {
        #[command(flatten)]
        actor: source::Actor,
        #[command(flatten)]
        args: source::ScanArgs,
    },
    /// Classify a scanned source's columns now (every scan is followed by classification).
    Classify {
        #[command(flatten)]
        actor: source::Actor,
        #[command(flatten)]
        args: classify::ClassifyArgs,
    },
    /// Evaluate compliance rules (GDPR, PCI DSS, HIPAA, SOC 2) and record violations.
    Compliance {
        #[command(flatten)]
        actor: source::Actor,
        #[command(subcommand)]
        command: compliance::ComplianceCommand,
    },
    /// The business glossary as CSV: `pursight glossary import FILE.csv` (every bad row reported
    /// with its line, nothing recorded unless all are valid) and `pursight glossary export
    /// [--output FILE]`.
    Glossary {
        #[command(flatten)]
        actor: source::Actor,
        #[command(subcommand)]
        command: glossary::GlossaryCommand,
    },
    /// A tenant's roles and grants: `pursight roles list|define|change|retire|grant|revoke`
    /// (the commands of the GraphQL role mutations, run as the operator with the admin role;
    /// talks to NATS directly).
    Roles {
        #[command(flatten)]
        actor: source::Actor,
        #[command(subcommand)]
        command: roles::RolesCommand,
    },
    /// Write reports from the read models (compliance: HTML, JSON or CSV).
    Report {
        #[command(flatten)]
        actor: source::Actor,
        #[command(subcommand)]
        command: report::ReportCommand,
    },
    /// Performance benchmarks against a baseline measured in the same run.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

pub fn init_tracing(cli: &Cli) {
    let quiet = matches!(
        cli.command,
        Command::Token(_)
            | Command::Schema
            | Command::Replay(_)
            | Command::Export(_)
            | Command::Keygen(_)
            | Command::Audit(_)
            | Command::Lineage(_)
    );
    let default = if quiet {
        "warn"
    } else {
        "info,sqlx=warn,async_nats=warn"
    };
    let filter = cli
        .log
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| default.to_owned());
    crate::logging::init(&filter);
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Commands that change a tenant's history: a refusal is recorded in the audit trail.
    let audited = match &cli.command {
        Command::Source { actor, command } => {
            Some((actor.tenant.clone(), action("source", command)))
        }
        Command::Scan { actor, .. } => Some((actor.tenant.clone(), "cli scan".to_owned())),
        Command::Classify { actor, .. } => Some((actor.tenant.clone(), "cli classify".to_owned())),
        Command::Compliance { actor, command } => {
            Some((actor.tenant.clone(), action("compliance", command)))
        }
        Command::Glossary { actor, command } => {
            Some((actor.tenant.clone(), action("glossary", command)))
        }
        Command::Roles { actor, command } => Some((actor.tenant.clone(), action("roles", command))),
        _ => None,
    };
    let database = cli.database.clone();
    let result = dispatch(cli).await;
    if let (Err(err), Some((tenant, action))) = (&result, audited) {
        audit::record_cli_refusal(&database, &tenant, &action, err).await;
    }
    result
}

/// `cli <command> <subcommand>` from a subcommand's variant name (`Accept { .. }` → `accept`).
fn action(command: &str, subcommand: &impl std::fmt::Debug) -> String {
    let debug = format!("{subcommand:?}");
    let name: String = debug
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    format!("cli {command} {}", name.to_ascii_lowercase())
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::serve(&cli.store, &cli.database, args).await,
        Command::Demo(args) => demo::demo(&cli.store, &cli.database, args).await,
        Command::Token(args) => serve::token(args),
        Command::Tenant(command) => tenant::run(&cli.store, &cli.database, command).await,
        Command::Replay(args) => history::replay(&cli.store, &cli.database, args).await,
        Command::Rebuild(args) => history::rebuild(&cli.store, &cli.database, args).await,
        Command::Projections(command) => projection::run(&cli.store, &cli.database, command).await,
        Command::Verify(args) => history::verify(&cli.store, args).await,
        Command::Export(args) => history::export(&cli.store, &cli.database, args).await,
        Command::Keygen(args) => history::keygen(args),
        Command::Erase(args) => erase::run(&cli.store, &cli.database, args).await,
        Command::Audit(command) => audit::run(&cli.database, command).await,
        Command::Lineage(args) => lineage::run(&cli.database, args).await,
        Command::Migrate => {
            projections::database::connect(&cli.database.database_url).await?;
            println!(
                "read-model database ready: {}",
                redact_url(&cli.database.database_url)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(ExitCode::SUCCESS)
        }
        Command::Source { actor, command } => {
            source::source(&cli.store, &cli.database, &actor, command).await
        }
        Command::Scan { actor, args } => {
            source::scan(&cli.store, &cli.database, &actor, args).await
        }
        Command::Classify { actor, args } => {
            classify::classify(&cli.store, &cli.database, &actor, args).await
        }
        Command::Compliance { actor, command } => {
            compliance::run(&cli.store, &cli.database, &actor, command).await
        }
        Command::Glossary { actor, command } => {
            glossary::run(&cli.store, &cli.database, &actor, command).await
        }
        Command::Roles { actor, command } => {
            roles::run(&cli.store, &cli.database, &actor, command).await
        }
        Command::Report { actor, command } => {
            report::run(&cli.store, &cli.database, &actor, command).await
        }
        Command::Bench(command) => bench::run(&cli.store, &cli.database, command).await,
    }
}

/// The store, sealing (and opening) personal values with the key table of the read-model
/// database: every CLI command that writes or shows a tenant's events uses it, so none of them
/// writes personal data in plain text or shows it sealed.
pub(crate) async fn sealing_store(
    store: &crate::settings::StoreArgs,
    database: &crate::settings::DatabaseArgs,
) -> anyhow::Result<eventlog::EventStore> {
    let events = eventlog::EventStore::connect(&store.config()?).await?;
    let pool = projections::database::connect(&database.database_url).await?;
    crate::settings::with_personal_keys(events, &pool).map_err(anyhow::Error::msg)
}

/// A database URL with any password removed, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{}@{}", &url[..scheme + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_urls_lose_their_password_in_messages() {
        assert_eq!(
            super::redact_url("postgres://app:hunter2@db:5432/x"),
            "postgres://app@db:5432/x"
        );
        assert_eq!(
            super::redact_url("postgres://postgres@127.0.0.1/p"),
            "postgres://postgres@127.0.0.1/p"
        );
    }
}
