//! `pursight bench discovery`: a full PostgreSQL discovery of a large synthetic schema through
//! the real scan workflow, measured against `pg_dump --schema-only` of the same database in the
//! same run, then a no-change rescan (which should append nothing).
//!
//! Everything it creates is scratch and named with a random run id: the database
//! `pursight_bench_<id>` with the synthetic schema, the read-model database
//! `pursight_benchrm_<id>` and the event stream of prefix `bench-disc-<id>`. All three are
//! removed at the end, also when a step fails or the run is interrupted (best effort).

use crate::app::{AppConfig, Application};
use crate::graphql::catalog::CatalogAssets;
use crate::settings::{DatabaseArgs, StoreArgs};
use anyhow::Context;
use clap::Args;
use commands::CommandContext;
use connectors::probe::DiscoveryProgress;
use domain::access::{Permission, Role};
use domain::datasource::{DataSource, DataSourceCommand, DataSourceConfigInput};
use domain::scan::{ScanScope, ScanStrategy};
use domain::{AggregateId, TenantId};
use eventlog::{DeliverFrom, EventStore, EventStoreConfig, StreamNames};
use futures::StreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Executor};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, Args)]
pub struct DiscoveryArgs {
    /// Tables to create in the scratch database (spread over four schemas).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub tables: u32,
    /// Columns per table, the bigint primary key included (mixed types: text, varchar, timestamptz,
    /// numeric, boolean, jsonb, …; some NOT NULL, some with defaults).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1600))]
    pub columns: u32,
    /// Discovery strategy: conservative, balanced, aggressive or auto.
    #[arg(long, default_value = "aggressive")]
    pub strategy: String,
}

/// The environment variable the scratch source's `env:` password reference points at, set only
/// when the database URL carries a password.
pub(super) const PASSWORD_VAR: &str = "PURSIGHT_SOURCE_SECRET_BENCH_PG";

/// Schemas the tables are spread over (round robin).
const SCHEMAS: &[&str] = &["sales", "inventory", "people", "analytics"];

/// Table name stems, cycled.
const STEMS: &[&str] = &[
    "orders",
    "customers",
    "invoices",
    "shipments",
    "products",
    "events",
    "accounts",
    "payments",
    "tickets",
    "sessions",
];

/// The PostgreSQL server of `--database-url`, where the scratch databases are created.
pub(super) struct Server {
    options: PgConnectOptions,
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) user: String,
    pub(super) password: Option<String>,
}

impl Server {
    pub(super) fn from_url(url: &str) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .with_context(|| format!("--database-url {}", crate::cli::redact_url(url)))?;
        Ok(Self {
            host: options.get_host().to_owned(),
            port: options.get_port(),
            user: options.get_username().to_owned(),
            password: url_password(url),
            options,
        })
    }

    pub(super) async fn connect(&self, database: &str) -> anyhow::Result<PgConnection> {
        self.options
            .clone()
            .database(database)
            .log_statements(tracing::log::LevelFilter::Off)
            // Batches of DDL and DROP DATABASE are slow by nature; no warnings for them.
            .log_slow_statements(tracing::log::LevelFilter::Off, Duration::ZERO)
            .connect()
            .await
            .with_context(|| {
                format!(
                    "cannot connect to database {database} on {}:{}",
                    self.host, self.port
                )
            })
    }

    /// The read-model database URL: `url` with its database replaced.
    pub(super) fn url_for(url: &str, database: &str) -> String {
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (url, None),
        };
        let authority_start = base.find("://").map_or(0, |i| i + 3);
        let base = match base[authority_start..].find('/') {
            Some(slash) => &base[..authority_start + slash],
            None => base,
        };
        match query {
            Some(query) => format!("{base}/{database}?{query}"),
            None => format!("{base}/{database}"),
        }
    }
}

/// The (percent-decoded) password of a `postgres://user:password@host/db` URL, if any.
fn url_password(url: &str) -> Option<String> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let credentials = &authority[..authority.rfind('@')?];
    let (_, password) = credentials.split_once(':')?;
    let bytes = password.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| password.get(i + 1..i + 3))
            .flatten()
            .and_then(|digits| u8::from_str_radix(digits, 16).ok());
        match hex {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(decoded).ok()
}

/// What the run created, for the clean-up.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) databases: Vec<String>,
    pub(super) store: Option<EventStore>,
    pub(super) app: Option<Application>,
}

/// The measurements, printed after the clean-up so the machine-readable line stays last.
struct Results {
    tables: u64,
    columns: u64,
    create: Duration,
    discovery: Duration,
    discovery_catalog: Option<Duration>,
    discovered_assets: u64,
    pg_dump: Duration,
    rescan: Duration,
    rescan_changed: u64,
    rescan_events: Option<u64>,
    rss_mb: Option<f64>,
}

pub async fn run(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    args: DiscoveryArgs,
) -> anyhow::Result<ExitCode> {
    let strategy =
        ScanStrategy::parse(&args.strategy).map_err(|err| anyhow::anyhow!("--strategy: {err}"))?;
    let run_id = Uuid::new_v4().simple().to_string()[..8].to_owned();
    let server = Server::from_url(&database.database_url)?;
    println!(
        "bench discovery: {} tables x {} columns, strategy {}, PostgreSQL {}:{} as {}, NATS {}, run {run_id}",
        args.tables,
        args.columns,
        strategy.as_str(),
        server.host,
        server.port,
        server.user,
        eventlog::nats_url::redacted(&store_args.nats_url)
    );

    let results = with_scratch(&server, async |scratch| {
        measure(
            store_args, database, &args, strategy, &run_id, &server, scratch,
        )
        .await
    })
    .await?;

    let secs = |d: Duration| d.as_secs_f64();
    println!(
        "created: {} tables, {} columns in {:.2} s",
        results.tables,
        results.columns,
        secs(results.create)
    );
    match results.discovery_catalog {
        Some(catalog) => println!(
            "discovery: {:.2} s ({} assets; catalog read {:.2} s, recording {:.2} s)",
            secs(results.discovery),
            results.discovered_assets,
            secs(catalog),
            secs(results.discovery.saturating_sub(catalog))
        ),
        None => println!(
            "discovery: {:.2} s ({} assets)",
            secs(results.discovery),
            results.discovered_assets
        ),
    }
    println!("pg_dump --schema-only: {:.2} s", secs(results.pg_dump));
    println!(
        "rescan: {:.2} s ({} assets changed)",
        secs(results.rescan),
        results.rescan_changed
    );
    println!(
        "ratio: {:.3}",
        secs(results.discovery) / secs(results.pg_dump).max(1e-9)
    );
    match results.rss_mb {
        Some(mb) => println!("rss_mb: {mb:.1}"),
        None => println!("rss_mb: unknown"),
    }
    println!(
        "rescan_events: {}",
        results.rescan_events.unwrap_or(results.rescan_changed)
    );
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    args: &DiscoveryArgs,
    strategy: ScanStrategy,
    run_id: &str,
    server: &Server,
    scratch: &mut Scratch,
) -> anyhow::Result<Results> {
    let bench_db = format!("pursight_bench_{run_id}");
    let read_model_db = format!("pursight_benchrm_{run_id}");

    // 1. The synthetic schema.
    let mut admin = server.connect("postgres").await?;
    admin
        .execute(format!("CREATE DATABASE \"{bench_db}\"").as_str())
        .await
        .with_context(|| format!("cannot create the scratch database {bench_db}"))?;
    scratch.databases.push(bench_db.clone());
    // Registered now so the clean-up drops it even if the service never starts (it is created
    // by the service, on first connect).
    scratch.databases.push(read_model_db.clone());
    let batch = batch_size(&mut admin).await?;
    admin.close().await?;
    let started = Instant::now();
    let columns = create_schema(server, &bench_db, args.tables, args.columns, batch).await?;
    let create = started.elapsed();
    println!(
        "created {} tables ({columns} columns) in {:.2} s",
        args.tables,
        create.as_secs_f64()
    );

    // 2. The in-process service on a scratch stream and read-model database.
    let (app, ctx, source) = scratch_service(
        store_args,
        database,
        server,
        scratch,
        &format!("bench-disc-{run_id}"),
        &read_model_db,
        &bench_db,
        &format!("bench discovery {run_id}"),
    )
    .await?;
    let state = app.state();

    // 3. The full discovery, through the workflow (every asset's SchemaDiscovered appended).
    let first = scan(app, &ctx, source, strategy, "discovery").await?;
    println!(
        "discovery: {:.2} s, {} assets recorded",
        first.elapsed.as_secs_f64(),
        first.changed
    );

    // 4. The baseline: pg_dump --schema-only of the same database, once the in-process read
    //    models have caught up, so that it does not share the machine with them.
    super::super::source::caught_up(app).await?;
    let pg_dump = pg_dump(server, &bench_db).await?;
    println!("pg_dump --schema-only: {:.2} s", pg_dump.as_secs_f64());

    // 5. A no-change rescan, which should append no schema events.
    let before = state.store.last_sequence().await?;
    let second = scan(app, &ctx, source, strategy, "rescan").await?;
    println!(
        "rescan: {:.2} s, {} assets changed",
        second.elapsed.as_secs_f64(),
        second.changed
    );
    let rescan_events = match schema_events_after(&state.store, before).await {
        Ok(count) => {
            if count != second.changed {
                println!(
                    "note: the stream tail holds {count} schema events, the scan reported {} changed assets",
                    second.changed
                );
            }
            Some(count)
        }
        Err(err) => {
            println!("note: cannot read the stream tail ({err:#}); counting changed assets");
            None
        }
    };

    Ok(Results {
        tables: u64::from(args.tables),
        columns,
        create,
        discovery: first.elapsed,
        discovery_catalog: first.catalog,
        discovered_assets: first.assets,
        pg_dump,
        rescan: second.elapsed,
        rescan_changed: second.changed,
        rescan_events,
        rss_mb: peak_rss_mb(),
    })
}

/// The in-process service (projections running, HTTP on a free port) on `store` and the
/// read-model database `read_model_db` of `--database-url`'s server, with a throwaway JWT secret.
pub(super) async fn scratch_app(
    store: EventStoreConfig,
    database: &DatabaseArgs,
    read_model_db: &str,
) -> anyhow::Result<Application> {
    Application::build(AppConfig {
        store,
        database_url: Server::url_for(&database.database_url, read_model_db),
        listen: "127.0.0.1:0".to_owned(),
        jwt_secret: Uuid::new_v4().simple().to_string() + &Uuid::new_v4().simple().to_string(),
        jwt_public_key_pem: None,
        command_attempts: 5,
        health_interval: None,
        source_policy: Default::default(),
        jwt_issuer: None,
        jwt_audience: None,
        oidc: Default::default(),
        http: crate::app::HttpSettings::default(),
        compliance: None,
        statistics_threshold: Default::default(),
    })
    .await
    .context("cannot start the in-process service")
}

/// Runs `work` with a fresh [`Scratch`], stopping early on Ctrl-C, and always cleans up what it
/// created (service, stream, databases) before returning `work`'s outcome.
pub(super) async fn with_scratch<T>(
    server: &Server,
    work: impl AsyncFnOnce(&mut Scratch) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let mut scratch = Scratch::default();
    let outcome = tokio::select! {
        outcome = work(&mut scratch) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    clean_up(server, scratch).await;
    outcome
}

/// A full scan of `source` through the workflow (`start_scan`, then `run_scan`, as `startScan`
/// runs them), without progress; a failed scan is an error.
pub(super) async fn scan_everything(
    app: &Application,
    ctx: &CommandContext,
    source: AggregateId,
    known: &CatalogAssets,
) -> anyhow::Result<commands::workflows::ScanReport> {
    let state = app.state();
    let scan_id = state
        .workflows
        .start_scan(
            &ctx.follow_up(),
            source,
            ScanStrategy::Auto,
            ScanScope::everything(),
        )
        .await?;
    let scan = state
        .workflows
        .run_scan(&ctx.follow_up(), source, scan_id, known, &|_| {})
        .await?;
    if let Some(failure) = &scan.failure {
        anyhow::bail!("the scan failed: {failure}");
    }
    Ok(scan)
}

/// Starts the in-process service on a scratch stream (prefix `stream_prefix`) and read-model
/// database, and registers and validates a PostgreSQL source named `source_name` for `data_db`
/// on `server` (its password, if the URL has one, through an `env:` reference).
#[allow(clippy::too_many_arguments)]
pub(super) async fn scratch_service<'s>(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    server: &Server,
    scratch: &'s mut Scratch,
    stream_prefix: &str,
    read_model_db: &str,
    data_db: &str,
    source_name: &str,
) -> anyhow::Result<(&'s Application, CommandContext, AggregateId)> {
    let names = StreamNames::new(stream_prefix, None)?;
    let store_config = EventStoreConfig {
        nats_url: store_args.nats_url.clone(),
        names,
    };
    scratch.store = Some(EventStore::connect(&store_config).await?);
    let app = scratch_app(store_config, database, read_model_db).await?;
    let app = &*scratch.app.insert(app);
    let state = app.state();
    let ctx = CommandContext::new(TenantId::parse("bench")?, "bench", vec![Role::Admin], None);
    if let Some(password) = &server.password {
        std::env::set_var(PASSWORD_VAR, password);
    }
    let config = DataSourceConfigInput {
        name: Some(source_name.to_owned()),
        kind: Some("postgresql".into()),
        host: Some(server.host.clone()),
        port: Some(i64::from(server.port)),
        database: Some(data_db.to_owned()),
        username: Some(server.user.clone()),
        password_secret: server
            .password
            .as_ref()
            .map(|_| format!("env:{PASSWORD_VAR}")),
        environment: Some("development".into()),
        tags: Some(vec!["bench".into()]),
        ..Default::default()
    }
    .parse()
    .map_err(|err| anyhow::anyhow!("scratch data source: {err}"))?;
    let source = AggregateId::from_uuid(Uuid::now_v7());
    state
        .handler
        .execute_new::<DataSource>(
            &ctx,
            Permission::ManageDataSources,
            source,
            DataSourceCommand::Register { id: source, config },
        )
        .await?;
    let validation = state
        .workflows
        .validate_connection(&ctx.follow_up(), source)
        .await?;
    if let Err(failure) = &validation.result {
        anyhow::bail!(
            "the scratch source cannot connect ({}): {}",
            failure.category.as_str(),
            failure.message
        );
    }
    Ok((app, ctx, source))
}

/// How many tables one DDL transaction creates: every created relation (table, TOAST table and
/// index, primary key, extra index) holds a lock until commit, and the server's lock table has
/// room for `max_locks_per_transaction × max_connections` locks shared by every session.
async fn batch_size(admin: &mut PgConnection) -> anyhow::Result<u32> {
    let (locks, connections): (String, String) = sqlx::query_as(
        "SELECT current_setting('max_locks_per_transaction'), current_setting('max_connections')",
    )
    .fetch_one(&mut *admin)
    .await?;
    let slots = locks.parse::<u32>().unwrap_or(64) * connections.parse::<u32>().unwrap_or(100);
    // Two sessions create at once; keep each under a quarter of the table, ~6 locks a table.
    Ok((slots / 4 / 6 / 10 * 10).clamp(10, 2_000))
}

/// Creates the synthetic schema in `database` on two connections, each batch of tables one
/// transaction; returns the number of columns created.
async fn create_schema(
    server: &Server,
    database: &str,
    tables: u32,
    columns: u32,
    batch: u32,
) -> anyhow::Result<u64> {
    let mut conn = server.connect(database).await?;
    let schemas = &SCHEMAS[..SCHEMAS.len().min(tables as usize)];
    let mut ddl = String::new();
    for schema in schemas {
        let _ = writeln!(ddl, "CREATE SCHEMA {schema};");
    }
    conn.execute(ddl.as_str()).await?;
    conn.close().await?;

    let bar = indicatif::ProgressBar::new(u64::from(tables));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} creating tables [{bar:30}] {pos}/{len} ({per_sec}, {elapsed})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    // Batches are multiples of 10 tables, so each foreign key (from table 10k+9 to 10k+8) stays
    // within one transaction and the batches are independent of each other.
    let batches: Vec<(u32, u32)> = (0..tables)
        .step_by(batch as usize)
        .map(|start| (start, (start + batch).min(tables)))
        .collect();
    let next = Mutex::new(batches.into_iter());
    let workers = (0..2).map(|_| async {
        let mut conn = server.connect(database).await?;
        conn.execute("SET synchronous_commit = off").await?;
        loop {
            let Some((start, end)) = next.lock().expect("batches").next() else {
                break;
            };
            let sql = batch_ddl(schemas, start, end, columns);
            conn.execute(sql.as_str())
                .await
                .with_context(|| format!("creating tables {start}..{end}"))?;
            bar.inc(u64::from(end - start));
        }
        conn.close().await?;
        anyhow::Ok(())
    });
    let outcome = futures::future::try_join_all(workers).await;
    bar.finish_and_clear();
    outcome?;
    Ok(u64::from(tables) * u64::from(columns))
}

/// The DDL of tables `start..end` as one transaction.
fn batch_ddl(schemas: &[&str], start: u32, end: u32, columns: u32) -> String {
    let mut sql = String::with_capacity((end - start) as usize * (columns as usize * 48 + 200));
    sql.push_str("BEGIN;\n");
    for i in start..end {
        let table = qualified(schemas, i);
        let _ = write!(sql, "CREATE TABLE {table} (id bigint PRIMARY KEY");
        for j in 1..columns {
            sql.push_str(", ");
            if i % 10 == 9 && j == 1 {
                // Every 10th table refers to the one before it.
                let _ = write!(
                    sql,
                    "parent_id bigint REFERENCES {} (id)",
                    qualified(schemas, i - 1)
                );
                continue;
            }
            column(&mut sql, i, j);
        }
        sql.push_str(");\n");
        let name = table_name(i);
        if i.is_multiple_of(4) && columns > 1 {
            let _ = writeln!(
                sql,
                "CREATE INDEX {name}_c1_idx ON {table} ({});",
                column_name(i, 1)
            );
        }
        if i.is_multiple_of(5) {
            let _ = writeln!(
                sql,
                "COMMENT ON TABLE {table} IS 'Synthetic table {i} for the discovery benchmark';"
            );
        }
        if i.is_multiple_of(15) && columns > 1 {
            let _ = writeln!(
                sql,
                "COMMENT ON COLUMN {table}.{} IS 'Column 1 of table {i}';",
                column_name(i, 1)
            );
        }
    }
    sql.push_str("COMMIT;\n");
    sql
}

fn table_name(i: u32) -> String {
    format!("{}_{i:05}", STEMS[i as usize % STEMS.len()])
}

fn qualified(schemas: &[&str], i: u32) -> String {
    format!("{}.{}", schemas[i as usize % schemas.len()], table_name(i))
}

/// The kinds of non-key columns, cycled per table and column: (name stem, type).
const KINDS: &[(&str, &str)] = &[
    ("note", "text"),
    ("code", "varchar"),
    ("created_at", "timestamptz"),
    ("amount", "numeric(12,2)"),
    ("is_active", "boolean"),
    ("attributes", "jsonb"),
    ("ref", "bigint"),
    ("born_on", "date"),
];

fn kind(i: u32, j: u32) -> (&'static str, &'static str) {
    KINDS[(i + j) as usize % KINDS.len()]
}

fn column_name(i: u32, j: u32) -> String {
    if i % 10 == 9 && j == 1 {
        return "parent_id".to_owned();
    }
    format!("{}_{j}", kind(i, j).0)
}

fn column(sql: &mut String, i: u32, j: u32) {
    let (_, ty) = kind(i, j);
    let _ = write!(sql, "{} ", column_name(i, j));
    if ty == "varchar" {
        let _ = write!(sql, "varchar({})", 32 << (j % 4));
    } else {
        sql.push_str(ty);
    }
    if j % 4 == 1 {
        sql.push_str(" NOT NULL");
    }
    if j.is_multiple_of(3) {
        match ty {
            "timestamptz" => sql.push_str(" DEFAULT now()"),
            "boolean" => sql.push_str(" DEFAULT false"),
            "jsonb" => sql.push_str(" DEFAULT '{}'::jsonb"),
            "numeric(12,2)" | "bigint" => sql.push_str(" DEFAULT 0"),
            "text" | "varchar" => sql.push_str(" DEFAULT ''"),
            _ => {}
        }
    }
}

struct ScanRun {
    elapsed: Duration,
    /// When the connector reported every asset read (before the workflow records them).
    catalog: Option<Duration>,
    assets: u64,
    changed: u64,
}

/// One scan through the workflow, as `pursight scan` runs it, timed from `start_scan` to the end
/// of `run_scan`.
async fn scan(
    app: &Application,
    ctx: &CommandContext,
    source: AggregateId,
    strategy: ScanStrategy,
    label: &str,
) -> anyhow::Result<ScanRun> {
    let state = app.state();
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {label} [{{bar:30}}] {{pos}}/{{len}} assets read ({{msg}}, {{elapsed}})"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let started = Instant::now();
    let catalog_read = Mutex::new(None);
    let progress = |p: DiscoveryProgress| {
        if let Some(total) = p.assets_total {
            bar.set_length(total);
            if p.assets_done >= total {
                catalog_read
                    .lock()
                    .expect("catalog time")
                    .get_or_insert_with(|| started.elapsed());
                bar.set_message(format!("{}; recording", p.current_strategy.as_str()));
                bar.set_position(p.assets_done);
                return;
            }
        }
        bar.set_position(p.assets_done);
        bar.set_message(p.current_strategy.as_str().to_owned());
    };
    let scan_id = state
        .workflows
        .start_scan(&ctx.follow_up(), source, strategy, ScanScope::everything())
        .await
        .with_context(|| format!("cannot start the {label}"))?;
    let known = CatalogAssets::new(&state.store, &state.pool);
    let report = state
        .workflows
        .run_scan(&ctx.follow_up(), source, scan_id, &known, &progress)
        .await;
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let report = report?;
    if let Some(failure) = &report.failure {
        anyhow::bail!("the {label} failed: {failure}");
    }
    let m = &report.metrics;
    let catalog = *catalog_read.lock().expect("catalog time");
    Ok(ScanRun {
        elapsed,
        catalog,
        assets: report.assets_changed + m.cache_hits,
        changed: report.assets_changed,
    })
}

/// Runs `pg_dump --schema-only` of `database` to /dev/null and times it.
async fn pg_dump(server: &Server, database: &str) -> anyhow::Result<Duration> {
    let mut command = std::process::Command::new("pg_dump");
    command
        .args(["--schema-only", "-h", &server.host, "-p"])
        .arg(server.port.to_string())
        .args(["-U", &server.user, "-d", database, "-f", "/dev/null"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if let Some(password) = &server.password {
        command.env("PGPASSWORD", password);
    }
    let (output, elapsed) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let output = command.output();
        (output, started.elapsed())
    })
    .await?;
    let output = match output {
        Ok(output) => output,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "pg_dump is not installed (it is the baseline of this benchmark): install the Debian package postgresql-client (`apt-get install postgresql-client`)"
        ),
        Err(err) => return Err(err).context("cannot run pg_dump"),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains("max_locks_per_transaction") {
            " (pg_dump locks every table in one transaction: raise the server's max_locks_per_transaction, or use fewer --tables)"
        } else {
            ""
        };
        anyhow::bail!(
            "pg_dump failed ({}): {}{hint}",
            output.status,
            stderr.trim()
        );
    }
    Ok(elapsed)
}

/// Counts the `SchemaDiscovered` and `SchemaChanged` events appended after stream sequence
/// `after`.
async fn schema_events_after(store: &EventStore, after: u64) -> anyhow::Result<u64> {
    if store.last_sequence().await? <= after {
        return Ok(0);
    }
    let mut commits = Box::pin(
        store
            .read_to_end(
                &store.names().all_events(),
                DeliverFrom::Sequence(after + 1),
            )
            .await?,
    );
    let mut count = 0;
    while let Some(commit) = commits.next().await {
        count += commit?
            .events
            .iter()
            .filter(|event| {
                matches!(
                    event.name_and_version(),
                    Some(("SchemaDiscovered" | "SchemaChanged", _))
                )
            })
            .count() as u64;
    }
    Ok(count)
}

/// The process's peak resident set size (`VmHWM`), in MB.
pub(super) fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Stops the service, deletes the scratch stream and drops the scratch databases; failures are
/// reported, not raised.
pub(super) async fn clean_up(server: &Server, scratch: Scratch) {
    if let Some(app) = scratch.app {
        let pool = app.state().pool.clone();
        app.shutdown_handle().shutdown();
        if tokio::time::timeout(Duration::from_secs(30), app.run_until_stopped(false))
            .await
            .is_err()
        {
            eprintln!("warning: the in-process service did not stop within 30 s");
        }
        pool.close().await;
    }
    if let Some(store) = scratch.store {
        match tokio::time::timeout(Duration::from_secs(30), store.delete_scratch_store()).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!(
                "warning: cannot delete the scratch stream {}: {err}",
                store.names().stream()
            ),
            Err(_) => eprintln!(
                "warning: deleting the scratch stream {} timed out",
                store.names().stream()
            ),
        }
    }
    if scratch.databases.is_empty() {
        return;
    }
    match server.connect("postgres").await {
        Ok(mut admin) => {
            for database in &scratch.databases {
                let drop = format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
                if let Err(err) = admin.execute(drop.as_str()).await {
                    eprintln!("warning: cannot drop the scratch database {database}: {err}");
                }
            }
            let _ = admin.close().await;
        }
        Err(err) => eprintln!(
            "warning: cannot drop the scratch databases {}: {err:#}",
            scratch.databases.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_model_url_names_the_scratch_database() {
        assert_eq!(
            Server::url_for("postgres://postgres@127.0.0.1:5432/pursight", "rm"),
            "postgres://postgres@127.0.0.1:5432/rm"
        );
        assert_eq!(
            Server::url_for("postgres://u:p@h/x?sslmode=disable", "rm"),
            "postgres://u:p@h/rm?sslmode=disable"
        );
        assert_eq!(Server::url_for("postgres://h", "rm"), "postgres://h/rm");
    }

    #[test]
    fn passwords_are_read_from_the_url() {
        assert_eq!(url_password("postgres://postgres@127.0.0.1/p"), None);
        assert_eq!(
            url_password("postgres://app:s%40cret@db:5432/x").as_deref(),
            Some("s@cret")
        );
    }

    #[test]
    fn every_tenth_table_refers_to_the_one_before_in_the_same_batch() {
        let sql = batch_ddl(SCHEMAS, 0, 10, 5);
        assert!(sql.contains(&format!(
            "parent_id bigint REFERENCES {} (id)",
            qualified(SCHEMAS, 8)
        )));
        assert_eq!(sql.matches("CREATE TABLE").count(), 10);
    }
}
