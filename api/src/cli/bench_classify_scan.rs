//! `pursight bench classify-scan`: the speed of the whole classification pipeline, end to end, on
//! a synthetic database of realistic tables (names, e-mail addresses, phone numbers, dates,
//! amounts, free text, codes, …): registration aside, a scan, sampling, profiling, classification,
//! the label events and their propagation, until every read model has caught up — the path
//! `startScan` takes. Columns per second over that whole time is the figure.
//!
//! The baseline in the same run is the raw sampling floor: the same sample queries (every column
//! as text, cut like the connector cuts it, `LIMIT rows`, in a read-only transaction) issued
//! directly with sqlx over as many connections and in the same batches as the workflow, with no
//! profiling, classification or events. The ratio says how much the pipeline adds to the reads
//! it cannot avoid.
//!
//! Everything it creates is scratch and named with a random run id: the database
//! `pursight_benchcs_<id>`, the read-model database `pursight_benchcsrm_<id>` and the event
//! stream of prefix `bench-cs-<id>`; all are removed at the end, also when a step fails or the
//! run is interrupted (best effort).

use super::discovery::{scan_everything, scratch_service, with_scratch, Scratch, Server};
use crate::graphql::catalog::{CatalogAssets, CatalogFeedback};
use crate::settings::{DatabaseArgs, StoreArgs};
use anyhow::Context;
use clap::Args;
use commands::classify::ClassificationOptions;
use futures::StreamExt;
use sqlx::{Connection, Executor, Row};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, Args)]
pub struct ClassifyScanArgs {
    /// Tables to create in the scratch database.
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    pub tables: u32,
    /// Columns per table, the bigint primary key included.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(2..=400))]
    pub columns: u32,
    /// Rows per table (the default sample size is 100 rows).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rows: u32,
}

/// The schema the tables are created in.
const SCHEMA: &str = "app";

/// Table name stems, cycled: what the tables are about changes the context the classifier sees.
const STEMS: &[&str] = &[
    "customers",
    "orders",
    "employees",
    "invoices",
    "support_tickets",
    "shipments",
    "contacts",
    "payments",
    "products",
    "subscriptions",
];

/// The kinds of non-key columns, cycled per table from a different start: (name, SQL type, value
/// expression over the row number `g` and the table number `t`). The values are invented here
/// (not taken from any evaluation set) and spread so that columns are not constant.
const KINDS: &[(&str, &str, &str)] = &[
    (
        "first_name",
        "text",
        "(ARRAY['Hannah','Mateo','Ingrid','Kwame','Yuki','Lucia','Oskar','Priya','Tomasz','Elif','Rafael','Noor'])[1 + (g * 7 + t) % 12]",
    ),
    (
        "last_name",
        "text",
        "(ARRAY['Varga','Lindholm','Adeyemi','Kowalczyk','Moreau','Tanaka','Ferreira','Novak','Halvorsen','Demir','Quinlan'])[1 + (g * 5 + t) % 11]",
    ),
    (
        "email",
        "text",
        "'user' || (t * 1000 + g) || (ARRAY['@example.net','@mail.example.org','@corp.example.com'])[1 + g % 3]",
    ),
    (
        "phone",
        "text",
        "'+44 20 7946 ' || lpad(((g * 37 + t) % 10000)::text, 4, '0')",
    ),
    (
        "birth_date",
        "date",
        "date '1948-01-01' + ((g * 131 + t * 17) % 20000)",
    ),
    (
        "amount",
        "numeric(12,2)",
        "((g * 7919 + t * 31) % 100000) / 100.0",
    ),
    (
        "notes",
        "text",
        "CASE g % 4 WHEN 0 THEN 'Called the customer back on ' || to_char(date '2024-01-01' + g, 'YYYY-MM-DD') || ', no answer.' \
         WHEN 1 THEN 'Delivery postponed because the warehouse ran out of packaging material.' \
         WHEN 2 THEN 'Please send the corrected invoice to user' || g || '@example.net before Friday.' \
         ELSE 'Item ' || (g * 13 % 500) || ' replaced under warranty after the inspection.' END",
    ),
    (
        "country_code",
        "char(2)",
        "(ARRAY['DE','FR','GB','US','NL','SE','PL','ES'])[1 + (g + t) % 8]",
    ),
    (
        "status",
        "varchar(16)",
        "(ARRAY['open','closed','pending','on_hold'])[1 + (g * 3 + t) % 4]",
    ),
    (
        "created_at",
        "timestamptz",
        "timestamptz '2024-01-01 08:00:00+00' + (g * 37 + t) * interval '1 minute'",
    ),
    (
        "city",
        "text",
        "(ARRAY['Rotterdam','Lyon','Leeds','Malmö','Kraków','Porto','Graz','Aarhus','Bilbao'])[1 + (g * 11 + t) % 9]",
    ),
    (
        "postal_code",
        "varchar(10)",
        "lpad(((g * 97 + t * 13) % 99999)::text, 5, '0')",
    ),
    (
        "order_ref",
        "varchar(20)",
        "'ORD-' || lpad((t * 1000 + g)::text, 8, '0')",
    ),
    ("quantity", "integer", "(g * 13 + t) % 50 + 1"),
    ("is_active", "boolean", "(g + t) % 3 <> 0"),
    (
        "ip_address",
        "text",
        "'10.' || (g % 256) || '.' || (t % 256) || '.' || ((g * 7) % 256)",
    ),
    (
        "street_address",
        "text",
        "((g * 3) % 200 + 1) || ' ' || (ARRAY['Harbour Road','Linden Street','Mill Lane','Station Avenue','Orchard Way'])[1 + (g + t) % 5]",
    ),
    (
        "description",
        "text",
        "(ARRAY['Stainless steel water bottle, 750 ml, keeps drinks cold for a day.', \
                'Cotton tote bag with a reinforced handle and an inner pocket.', \
                'Wireless mouse with a silent click and a two-year battery.'])[1 + (g + t) % 3]",
    ),
    (
        "sku",
        "varchar(24)",
        "'SKU-' || (10000 + (g * 17 + t) % 90000)",
    ),
    (
        "username",
        "text",
        "(ARRAY['hvarga','mlindholm','kadeyemi','tkowal','emoreau','ytanaka'])[1 + (g + t) % 6] || (g % 90 + 10)",
    ),
    ("currency", "char(3)", "(ARRAY['EUR','GBP','USD','SEK'])[1 + g % 4]"),
    ("discount_pct", "real", "((g * 3 + t) % 40)::real / 2"),
];

/// Table `t`'s name.
fn table_name(t: u32) -> String {
    format!("{}_{t:05}", STEMS[t as usize % STEMS.len()])
}

/// Table `t`'s non-key columns: (name, type, value expression). Names repeat with a suffix when
/// a table has more columns than there are kinds.
fn table_columns(t: u32, columns: u32) -> Vec<(String, &'static str, &'static str)> {
    (0..columns - 1)
        .map(|j| {
            let (name, ty, value) = KINDS[(t as usize * 3 + j as usize) % KINDS.len()];
            let round = j as usize / KINDS.len();
            let name = match round {
                0 => name.to_owned(),
                n => format!("{name}_{}", n + 1),
            };
            (name, ty, value)
        })
        .collect()
}

/// The DDL and data of table `t`.
fn table_sql(t: u32, columns: u32, rows: u32) -> String {
    let name = table_name(t);
    let cols = table_columns(t, columns);
    let mut sql = format!("CREATE TABLE {SCHEMA}.{name} (id bigint PRIMARY KEY");
    for (column, ty, _) in &cols {
        let _ = write!(sql, ", {column} {ty}");
    }
    sql.push_str(");\n");
    let _ = write!(sql, "INSERT INTO {SCHEMA}.{name} SELECT g");
    for (_, ty, value) in &cols {
        let _ = write!(sql, ", ({value})::{ty}");
    }
    let _ = writeln!(
        sql,
        " FROM generate_series(1, {rows}) AS g, (SELECT {t} AS t) AS k;"
    );
    sql
}

/// The connector's sample query of table `t` (every column as text, cut at the same length,
/// `LIMIT rows`): what the baseline issues.
fn sample_sql(t: u32, columns: u32, rows: u32) -> String {
    let mut select = vec!["left(\"id\"::text, 4096)".to_owned()];
    select.extend(
        table_columns(t, columns)
            .into_iter()
            .map(|(name, _, _)| format!("left(\"{name}\"::text, 4096)")),
    );
    format!(
        "SELECT {} FROM \"{SCHEMA}\".\"{}\" LIMIT {rows}",
        select.join(", "),
        table_name(t)
    )
}

/// The workflow's sampling concurrency (`commands::classify`): the baseline reads the same way,
/// in the same batches ([`commands::classify::sampling_batch`]).
const CONNECTIONS: usize = commands::classify::CLASSIFICATION_CONCURRENCY;

struct Results {
    columns_created: u64,
    create: Duration,
    assets: u64,
    scan: Duration,
    classification: Duration,
    columns: u64,
    applied: usize,
    suggested: usize,
    label_events: u64,
    projection: Duration,
    floor: Duration,
}

pub async fn run(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    args: ClassifyScanArgs,
) -> anyhow::Result<ExitCode> {
    let run_id = Uuid::new_v4().simple().to_string()[..8].to_owned();
    let server = Server::from_url(&database.database_url)?;
    println!(
        "bench classify-scan: {} tables x {} columns x {} rows, PostgreSQL {}:{}, NATS {}, run {run_id}, {} build",
        args.tables,
        args.columns,
        args.rows,
        server.host,
        server.port,
        eventlog::nats_url::redacted(&store_args.nats_url),
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    let r = with_scratch(&server, async |scratch| {
        measure(store_args, database, &args, &run_id, &server, scratch).await
    })
    .await?;

    let secs = |d: Duration| d.as_secs_f64();
    let total = r.scan + r.classification + r.projection;
    println!(
        "created: {} columns in {:.2} s (not timed below)",
        r.columns_created,
        secs(r.create)
    );
    println!("scan: {:.2} s ({} assets)", secs(r.scan), r.assets);
    println!(
        "sampling+classification: {:.2} s ({} columns; {} labels applied, {} suggested; {} label events)",
        secs(r.classification),
        r.columns,
        r.applied,
        r.suggested,
        r.label_events
    );
    println!("projection catch-up: {:.2} s", secs(r.projection));
    println!("end to end: {:.2} s", secs(total));
    println!(
        "raw sampling floor: {:.2} s (the same sample queries with sqlx, {CONNECTIONS} connections, {} tables each in turn)",
        secs(r.floor),
        commands::classify::sampling_batch(args.tables as usize)
    );
    println!(
        "floor_columns_per_s: {:.1}",
        r.columns as f64 / secs(r.floor).max(1e-9)
    );
    println!("ratio: {:.2}", secs(total) / secs(r.floor).max(1e-9));
    println!(
        "columns_per_s: {:.1}",
        r.columns as f64 / secs(total).max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}

async fn measure(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    args: &ClassifyScanArgs,
    run_id: &str,
    server: &Server,
    scratch: &mut Scratch,
) -> anyhow::Result<Results> {
    let data_db = format!("pursight_benchcs_{run_id}");
    let read_model_db = format!("pursight_benchcsrm_{run_id}");
    let mut admin = server.connect("postgres").await?;
    admin
        .execute(format!("CREATE DATABASE \"{data_db}\"").as_str())
        .await
        .with_context(|| format!("cannot create the scratch database {data_db}"))?;
    scratch.databases.push(data_db.clone());
    scratch.databases.push(read_model_db.clone());
    admin.close().await?;

    // 1. The tables, 25 to a transaction.
    let started = Instant::now();
    let mut conn = server.connect(&data_db).await?;
    conn.execute(format!("SET synchronous_commit = off; CREATE SCHEMA {SCHEMA};").as_str())
        .await?;
    let tables: Vec<u32> = (0..args.tables).collect();
    for chunk in tables.chunks(25) {
        let mut sql = String::from("BEGIN;\n");
        for &t in chunk {
            sql.push_str(&table_sql(t, args.columns, args.rows));
        }
        sql.push_str("COMMIT;\n");
        conn.execute(sql.as_str())
            .await
            .with_context(|| format!("creating tables from {}", chunk[0]))?;
    }
    conn.execute("ANALYZE").await?;
    conn.close().await?;
    let create = started.elapsed();

    // 2. The in-process service on a scratch stream and read-model database, the source
    //    registered and validated (not timed: done once per source).
    let (app, ctx, source) = scratch_service(
        store_args,
        database,
        server,
        scratch,
        &format!("bench-cs-{run_id}"),
        &read_model_db,
        &data_db,
        &format!("bench classify-scan {run_id}"),
    )
    .await?;
    super::super::source::caught_up(app).await?;
    let state = app.state();
    let known = CatalogAssets::new(&state.store, &state.pool);
    let feedback = CatalogFeedback::new(&state.pool);

    // 3. The pipeline of `startScan`: the scan, then classification of what it found.
    let started = Instant::now();
    let scan = scan_everything(app, &ctx, source, &known).await?;
    let scan_time = started.elapsed();
    let started = Instant::now();
    let report = state
        .workflows
        .classify_source(
            &ctx.follow_up(),
            source,
            &known,
            &feedback,
            ClassificationOptions::default(),
            &|_| {},
        )
        .await?;
    let classification = started.elapsed();
    for (path, reason) in report.failures.iter().take(5) {
        println!("warning: {path} was not classified: {reason}");
    }
    anyhow::ensure!(
        report.failures.is_empty(),
        "{} assets were not classified",
        report.failures.len()
    );

    // 4. Until every read model shows what was recorded.
    let started = Instant::now();
    super::super::source::caught_up(app).await?;
    let projection = started.elapsed();

    // 5. The baseline, on the same (now idle) machine.
    let floor = sampling_floor(server, &data_db, args).await?;

    Ok(Results {
        columns_created: u64::from(args.tables) * u64::from(args.columns),
        create,
        assets: scan.metrics.tables + scan.metrics.views,
        scan: scan_time,
        classification,
        columns: report.columns,
        applied: report.outcomes.iter().filter(|o| o.applied).count(),
        suggested: report.outcomes.iter().filter(|o| !o.applied).count(),
        label_events: report.labels_recorded + report.propagated,
        projection,
        floor,
    })
}

/// The sample queries of every table, issued directly: [`CONNECTIONS`] at once, each connection
/// reading a batch of tables in turn (as many as the workflow's), each in a read-only transaction, the values
/// fetched as text and dropped.
async fn sampling_floor(
    server: &Server,
    database: &str,
    args: &ClassifyScanArgs,
) -> anyhow::Result<Duration> {
    let tables: Vec<u32> = (0..args.tables).collect();
    let started = Instant::now();
    let batch = commands::classify::sampling_batch(tables.len());
    let batches = futures::stream::iter(tables.chunks(batch).map(|batch| async move {
        let mut conn = server.connect(database).await?;
        let mut values = 0usize;
        for &t in batch {
            let mut tx = conn.begin_with("BEGIN READ ONLY").await?;
            let rows = (&mut *tx)
                .fetch_all(sample_sql(t, args.columns, args.rows).as_str())
                .await?;
            tx.rollback().await?;
            for row in &rows {
                for i in 0..row.len() {
                    values += usize::from(row.try_get::<Option<String>, _>(i)?.is_some());
                }
            }
        }
        conn.close().await?;
        anyhow::Ok(values)
    }))
    .buffer_unordered(CONNECTIONS)
    .collect::<Vec<_>>()
    .await;
    let values: usize = batches
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?
        .iter()
        .sum();
    anyhow::ensure!(values > 0, "the baseline read no values");
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_tables_repeat_kinds_under_new_names() {
        let columns = table_columns(0, 2 * KINDS.len() as u32 + 1);
        let names: std::collections::BTreeSet<&str> =
            columns.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names.len(), columns.len());
        let sql = table_sql(3, 5, 10);
        assert!(sql.starts_with("CREATE TABLE app.invoices_00003 (id bigint PRIMARY KEY"));
        assert!(sql.contains("generate_series(1, 10)"));
        assert!(sample_sql(3, 5, 10).ends_with("FROM \"app\".\"invoices_00003\" LIMIT 10"));
    }
}
