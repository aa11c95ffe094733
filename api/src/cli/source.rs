//! `pursight source add|list|validate|health` and `pursight scan` (followed by classification):
//! the data-source workflows from the command line. They run in-process against the event store
//! and read models (the projections
//! run while the command does), so no server is needed.

use super::serve::app_config;
use crate::app::Application;
use crate::graphql::catalog::CatalogAssets;
use crate::settings::{DatabaseArgs, StoreArgs};
use anyhow::Context;
use clap::{Args, Subcommand};
use comfy_table::{presets::UTF8_HORIZONTAL_ONLY, Table};
use commands::health::HealthReport;
use commands::CommandContext;
use domain::access::{Permission, Role};
use domain::datasource::{DataSource, DataSourceCommand, DataSourceConfigInput, HealthStatus};
use domain::scan::{ScanScope, ScanStrategy};
use domain::{AggregateId, TenantId};
use projections::data_sources::{self, ListFilter};
use std::process::ExitCode;
use std::time::Duration;

/// Which tenant and who the command runs as.
#[derive(Debug, Clone, Args)]
pub struct Actor {
    /// Tenant to act in.
    #[arg(long, env = "PURSIGHT_TENANT", default_value = "demo", global = true)]
    pub tenant: String,
}

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Register a data source.
    Add(Box<AddArgs>),
    /// List the tenant's data sources.
    List,
    /// Test a source's connection (moves a registered/failed/configuring source to connected or failed).
    Validate {
        /// Source id or exact name.
        source: String,
    },
    /// Check a source's health now: latency, error rate, connections, storage and
    /// recommendations (exit code 2 when unhealthy).
    Health {
        /// Source id or exact name.
        source: String,
        /// Probes to make (1 to 20).
        #[arg(long, default_value_t = 3)]
        samples: u32,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    #[arg(long)]
    pub name: String,
    /// postgresql, mysql, mongodb, redis, s3 or snowflake.
    #[arg(long)]
    pub kind: String,
    #[arg(long)]
    pub host: Option<String>,
    #[arg(long)]
    pub port: Option<i64>,
    #[arg(long)]
    pub database: Option<String>,
    #[arg(long)]
    pub username: Option<String>,
    /// A secret reference: env:VAR, file:PATH, vault:PATH#FIELD, aws-sm:NAME, azure-kv:VAULT/NAME or fernet:TOKEN.
    /// Confined by the server's policy: env: only PURSIGHT_SOURCE_SECRET_* variables, file: only
    /// under PURSIGHT_SECRET_DIR/<tenant>/, stores only under pursight/<tenant>/.
    #[arg(long)]
    pub password_secret: Option<String>,
    #[arg(long)]
    pub environment: Option<String>,
    /// Who answers for the source; its assets inherit the owner unless they have their own.
    #[arg(long)]
    pub owner: Option<String>,
    /// person (default) or team.
    #[arg(long)]
    pub owner_kind: Option<domain::owner::OwnerKind>,
    /// technical (default), business or steward.
    #[arg(long)]
    pub owner_type: Option<domain::owner::OwnerType>,
    #[arg(long)]
    pub description: Option<String>,
    /// Repeat for several tags.
    #[arg(long = "tag")]
    pub tags: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Source id or exact name.
    pub source: String,
    /// conservative, balanced, aggressive or auto.
    #[arg(long, default_value = "auto")]
    pub strategy: String,
    /// Include pattern over asset paths (`db.schema.table`, `*` within a segment, `**` across); repeatable.
    #[arg(long = "scope")]
    pub include: Vec<String>,
    /// Exclude pattern; repeatable; wins over includes.
    #[arg(long)]
    pub exclude: Vec<String>,
}

/// Builds the in-process service (no HTTP is served) for a CLI command.
pub(super) async fn service(
    store: &StoreArgs,
    database: &DatabaseArgs,
) -> anyhow::Result<Application> {
    let config = app_config(
        store,
        database,
        "127.0.0.1:0",
        uuid::Uuid::new_v4().to_string(),
        None,
    )?;
    Ok(Application::build(config).await?)
}

pub(super) fn context(actor: &Actor) -> anyhow::Result<CommandContext> {
    let user = std::env::var("USER").unwrap_or_else(|_| "local".into());
    Ok(CommandContext::new(
        TenantId::parse(&actor.tenant)?,
        format!("cli:{user}"),
        vec![Role::Admin],
        None,
    ))
}

/// Waits until every projection has applied the stream's current end.
pub(crate) async fn caught_up(app: &Application) -> anyhow::Result<()> {
    let state = app.state();
    let target = state.store.last_sequence().await?;
    if !projections::checkpoint::wait_for(
        &state.pool,
        &projections::ALL,
        target,
        Duration::from_secs(60),
    )
    .await?
    {
        anyhow::bail!(
            "the read models did not catch up within 60 s; is a projection failing? (see the log)"
        );
    }
    Ok(())
}

/// Resolves a source given by id or by exact (case-insensitive) name.
pub(super) async fn resolve(
    app: &Application,
    tenant: &TenantId,
    source: &str,
) -> anyhow::Result<AggregateId> {
    if let Ok(id) = AggregateId::parse(source) {
        return Ok(id);
    }
    caught_up(app).await?;
    let rows = data_sources::list(
        &app.state().pool,
        tenant.as_str(),
        &ListFilter {
            include_archived: false,
            limit: 10_000,
            ..Default::default()
        },
    )
    .await?;
    let matches: Vec<_> = rows
        .iter()
        .filter(|r| r.name.eq_ignore_ascii_case(source))
        .collect();
    match matches.as_slice() {
        [one] => Ok(AggregateId::from_uuid(one.id)),
        [] => anyhow::bail!(
            "no data source named {source:?} in tenant {tenant}; `pursight source list` shows them"
        ),
        _ => anyhow::bail!(
            "{} data sources are named {source:?}; use the id",
            matches.len()
        ),
    }
}

pub async fn source(
    store: &StoreArgs,
    database: &DatabaseArgs,
    actor: &Actor,
    command: SourceCommand,
) -> anyhow::Result<ExitCode> {
    let app = service(store, database).await?;
    let ctx = context(actor)?;
    match command {
        SourceCommand::Add(args) => {
            let config = DataSourceConfigInput {
                name: Some(args.name),
                kind: Some(args.kind),
                host: args.host,
                port: args.port,
                database: args.database,
                username: args.username,
                password_secret: args.password_secret,
                environment: args.environment,
                owner: args.owner,
                owner_kind: args.owner_kind,
                owner_type: args.owner_type,
                description: args.description,
                tags: (!args.tags.is_empty()).then_some(args.tags),
                ..Default::default()
            }
            .parse()
            .map_err(|err| anyhow::anyhow!("invalid data source: {err}"))?;
            let id = AggregateId::from_uuid(ctx.command_id);
            app.state()
                .handler
                .execute::<DataSource>(
                    &ctx,
                    Permission::ManageDataSources,
                    id,
                    DataSourceCommand::Register { id, config },
                )
                .await?;
            println!("registered {id}");
        }
        SourceCommand::List => {
            caught_up(&app).await?;
            let rows = data_sources::list(
                &app.state().pool,
                &actor.tenant,
                &ListFilter {
                    include_archived: true,
                    limit: 10_000,
                    ..Default::default()
                },
            )
            .await?;
            let mut table = Table::new();
            table
                .load_preset(UTF8_HORIZONTAL_ONLY)
                .set_header(["name", "kind", "state", "host", "version", "id"]);
            for row in &rows {
                table.add_row([
                    row.name.clone(),
                    row.kind.clone(),
                    row.lifecycle_state.clone(),
                    row.config["host"].as_str().unwrap_or("-").to_owned(),
                    row.version.to_string(),
                    row.id.to_string(),
                ]);
            }
            println!("{table}\n{} data sources", rows.len());
        }
        SourceCommand::Validate { source } => {
            let id = resolve(&app, &ctx.tenant, &source).await?;
            let report = app.state().workflows.validate_connection(&ctx, id).await?;
            match &report.result {
                Ok(info) => println!(
                    "connected in {} ms to {} (lifecycle: {})",
                    info.latency_ms,
                    info.server_version
                        .as_deref()
                        .unwrap_or("a server of unknown version"),
                    report.lifecycle
                ),
                Err(failure) => {
                    println!(
                        "connection failed ({}): {} (lifecycle: {})",
                        failure.category.as_str(),
                        failure.message,
                        report.lifecycle
                    );
                    return Ok(ExitCode::from(2));
                }
            }
        }
        SourceCommand::Health { source, samples } => {
            let id = resolve(&app, &ctx.tenant, &source).await?;
            let report = app.state().health.check_health(&ctx, id, samples).await?;
            print!("{}", describe_health(&source, &report));
            if report.assessment.status == HealthStatus::Unhealthy {
                return Ok(ExitCode::from(2));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The report of `source health`, one figure per line.
fn describe_health(source: &str, report: &HealthReport) -> String {
    let a = &report.assessment;
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    let ms = |us: Option<u64>| or_dash(us.map(|us| format!("{:.2} ms", us as f64 / 1000.0)));
    let mut out = format!(
        "{source}: {} ({} of {} probes failed; {})\n",
        a.status,
        a.failures,
        a.samples,
        if report.recorded {
            "recorded as a change"
        } else {
            "unchanged since the last recorded check"
        }
    );
    let mut line = |label: &str, value: String| out.push_str(&format!("  {label:<12} {value}\n"));
    line(
        "latency",
        format!("p50 {}, p95 {}", ms(a.latency_p50_us), ms(a.latency_p95_us)),
    );
    line(
        "error rate",
        format!(
            "{:.1} %, uptime {:.1} %",
            100.0 * a.error_rate(),
            100.0 * a.uptime()
        ),
    );
    line(
        "connections",
        match (a.active_connections, a.max_connections) {
            (Some(active), Some(max)) => format!("{active} of {max}"),
            (Some(active), None) => active.to_string(),
            _ => "-".into(),
        },
    );
    line("storage", or_dash(a.storage_bytes.map(bytes)));
    line(
        "server",
        format!(
            "{}, up {}",
            a.server_version.as_deref().unwrap_or("unknown version"),
            or_dash(a.server_uptime_secs.map(duration))
        ),
    );
    if let Some(error) = &a.last_error {
        line(
            "last error",
            format!("{}: {}", error.category, error.message),
        );
    }
    if a.recommendations.is_empty() {
        out.push_str("no recommendations\n");
    } else {
        out.push_str("recommendations:\n");
        for r in &a.recommendations {
            out.push_str(&format!("  [{}] {}: {}\n", r.severity, r.code, r.message));
        }
    }
    out
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn duration(secs: u64) -> String {
    match secs {
        s if s < 3_600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {} min", s / 3_600, s % 3_600 / 60),
        s => format!("{} d {} h", s / 86_400, s % 86_400 / 3_600),
    }
}

pub async fn scan(
    store: &StoreArgs,
    database: &DatabaseArgs,
    actor: &Actor,
    args: ScanArgs,
) -> anyhow::Result<ExitCode> {
    let app = service(store, database).await?;
    let ctx = context(actor)?;
    let strategy =
        ScanStrategy::parse(&args.strategy).map_err(|err| anyhow::anyhow!("--strategy: {err}"))?;
    let scope = ScanScope::parse(&args.include, &args.exclude)
        .map_err(|err| anyhow::anyhow!("--scope/--exclude: {err}"))?;
    let id = resolve(&app, &ctx.tenant, &args.source).await?;
    let state = app.state();
    let scan_id = state
        .workflows
        .start_scan(&ctx, id, strategy, scope)
        .await
        .context("cannot start the scan")?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} scanning [{bar:30}] {pos}/{len} assets ({msg})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let progress = {
        let bar = bar.clone();
        move |p: connectors::probe::DiscoveryProgress| {
            if let Some(total) = p.assets_total {
                bar.set_length(total);
            }
            bar.set_position(p.assets_done);
            bar.set_message(p.current_strategy.as_str().to_owned());
        }
    };
    let known = CatalogAssets::new(&state.store, &state.pool);
    let report = state
        .workflows
        .run_scan(&ctx.follow_up(), id, scan_id, &known, &progress)
        .await?;
    bar.finish_and_clear();
    let m = &report.metrics;
    if let Some(failure) = &report.failure {
        println!("scan {scan_id} failed: {failure}");
        return Ok(ExitCode::from(2));
    }
    let mut table = Table::new();
    table.load_preset(UTF8_HORIZONTAL_ONLY).set_header([
        "scan",
        "duration",
        "schemas",
        "tables",
        "views",
        "columns",
        "new/changed",
        "removed",
        "queries",
        "retries",
        "errors",
    ]);
    table.add_row([
        scan_id.to_string(),
        format!("{:.1} s", m.duration_ms as f64 / 1000.0),
        m.schemas.to_string(),
        m.tables.to_string(),
        m.views.to_string(),
        m.columns.to_string(),
        report.assets_changed.to_string(),
        report.assets_removed.to_string(),
        m.queries_executed.to_string(),
        m.retries.to_string(),
        m.errors.to_string(),
    ]);
    println!("{table}");
    // Every scan is followed by classification (Scanned → Classifying → Classified).
    let classification = super::classify::run(
        &app,
        &ctx,
        id,
        commands::classify::ClassificationOptions::default(),
    )
    .await;
    match classification {
        Ok(report) => super::classify::print_report(&report),
        Err(err) => {
            println!("classification after the scan failed: {err:#}");
            return Ok(ExitCode::from(3));
        }
    }
    Ok(ExitCode::SUCCESS)
}
