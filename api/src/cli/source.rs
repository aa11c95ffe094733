//! `pursight source add|list|validate` and `pursight scan` (followed by classification): the data-source workflows from the
//! command line. They run in-process against the event store and read models (the projections
//! run while the command does), so no server is needed.

use super::serve::app_config;
use crate::app::Application;
use crate::graphql::catalog::CatalogAssets;
use crate::settings::{DatabaseArgs, StoreArgs};
use anyhow::Context;
use clap::{Args, Subcommand};
use comfy_table::{presets::UTF8_HORIZONTAL_ONLY, Table};
use commands::CommandContext;
use domain::access::{Permission, Role};
use domain::datasource::{DataSource, DataSourceCommand, DataSourceConfigInput};
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
    #[arg(long)]
    pub password_secret: Option<String>,
    #[arg(long)]
    pub environment: Option<String>,
    #[arg(long)]
    pub owner: Option<String>,
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
    }
    Ok(ExitCode::SUCCESS)
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
    let known = CatalogAssets {
        store: state.store.clone(),
        pool: state.pool.clone(),
    };
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
