//! `pursight demo`: start the service on the local defaults, register example data sources and
//! print where to look.

use super::serve::{app_config, health_interval};
use crate::app::{AppConfig, Application};
use crate::graphql::catalog::{CatalogAssets, CatalogFeedback};
use crate::settings::{DatabaseArgs, StoreArgs, DEFAULT_LISTEN};
use clap::Args;
use commands::CommandContext;
use domain::access::{Permission, Role};
use domain::datasource::{DataSource, DataSourceCommand, DataSourceConfigInput};
use domain::scan::{ScanScope, ScanStrategy};
use domain::{AggregateId, TenantId};
use std::process::ExitCode;
use uuid::Uuid;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, env = "PURSIGHT_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: String,
    /// Tenant the demo data belongs to.
    #[arg(long, default_value = "demo")]
    pub tenant: String,
    /// Set up, print the summary and exit instead of serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Seconds between health checks of every source; off (0) unless set.
    #[arg(long, env = "PURSIGHT_HEALTH_INTERVAL_SECS", default_value_t = 0)]
    pub health_interval_secs: u64,
    #[command(flatten)]
    pub http: super::serve::HttpArgs,
}

/// The example sources; fixed ids make re-running the demo idempotent.
fn examples() -> Vec<(Uuid, DataSourceConfigInput)> {
    let source = |name: &str,
                  kind: &str,
                  port: i64,
                  database: &str,
                  username: &str,
                  tags: &[&str],
                  description: &str| DataSourceConfigInput {
        name: Some(name.into()),
        kind: Some(kind.into()),
        host: Some("127.0.0.1".into()),
        port: Some(port),
        database: (!database.is_empty()).then(|| database.into()),
        username: (!username.is_empty()).then(|| username.into()),
        location: Some("on_prem".into()),
        owner: Some("data-platform@example.com".into()),
        description: Some(description.into()),
        environment: Some("development".into()),
        tags: Some(tags.iter().map(|t| (*t).to_owned()).collect()),
        ..Default::default()
    };
    vec![
        (
            Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_d001),
            source(
                "Customer database",
                "postgresql",
                5432,
                SHOP_DB,
                "postgres",
                &["pii", "crm"],
                "Customers, orders and payments (local PostgreSQL).",
            ),
        ),
        (
            Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_d002),
            source(
                "Billing warehouse",
                "mysql",
                3306,
                BILLING_DB,
                "root",
                &["finance", "pci"],
                "Invoices and card payments (local MariaDB).",
            ),
        ),
        (
            Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_d003),
            source(
                "Session cache",
                "redis",
                6379,
                "1",
                "",
                &["sessions"],
                "Web sessions and carts (local Redis, database 1).",
            ),
        ),
    ]
}

const SHOP_DB: &str = "pursight_demo_shop";
const BILLING_DB: &str = "pursight_demo_billing";

const SHOP_SQL: &str = "
CREATE SCHEMA IF NOT EXISTS shop;
CREATE TABLE IF NOT EXISTS shop.customers (
    id BIGINT PRIMARY KEY, full_name TEXT NOT NULL, email TEXT UNIQUE, phone TEXT,
    date_of_birth DATE, created_at TIMESTAMPTZ NOT NULL DEFAULT now());
COMMENT ON TABLE shop.customers IS 'People who bought something';
CREATE TABLE IF NOT EXISTS shop.addresses (
    id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES shop.customers (id),
    street TEXT, city TEXT, postal_code TEXT, country CHAR(2));
CREATE TABLE IF NOT EXISTS shop.orders (
    id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES shop.customers (id),
    shipping_address_id BIGINT REFERENCES shop.addresses (id), total_cents BIGINT NOT NULL,
    placed_at TIMESTAMPTZ NOT NULL);
CREATE INDEX IF NOT EXISTS orders_customer ON shop.orders (customer_id);
CREATE TABLE IF NOT EXISTS shop.payments (
    id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL REFERENCES shop.orders (id),
    card_number TEXT, card_expiry TEXT, amount_cents BIGINT NOT NULL);
CREATE OR REPLACE VIEW shop.customer_order_totals AS
    SELECT c.id AS customer_id, c.email, sum(o.total_cents) AS lifetime_cents
    FROM shop.customers c JOIN shop.orders o ON o.customer_id = c.id GROUP BY c.id, c.email;
-- Synthetic rows (classification samples them); idempotent.
INSERT INTO shop.customers (id, full_name, email, phone, date_of_birth)
SELECT g, f.name || ' ' || l.name,
       lower(f.name) || '.' || lower(l.name) || g || '@example.com',
       '+1 202 555 0' || lpad((100 + g)::text, 3, '0'),
       date '1960-01-01' + (g * 397 % 15000)
FROM generate_series(1, 40) AS g
JOIN (SELECT row_number() OVER () AS i, name FROM unnest(ARRAY['Emma','Liam','Olivia','Noah','Sofia','Lucas','Mila','Ethan']) AS name) f ON f.i = 1 + g % 8
JOIN (SELECT row_number() OVER () AS i, name FROM unnest(ARRAY['Garcia','Smith','Nguyen','Johnson','Kowalski','Dubois','Rossi','Tanaka','Okafor']) AS name) l ON l.i = 1 + g % 9
ON CONFLICT (id) DO NOTHING;
INSERT INTO shop.addresses (id, customer_id, street, city, postal_code, country)
SELECT g, g, (100 + g * 7) || ' ' || (ARRAY['Maple Street','Oak Avenue','Elm Road','Cedar Lane'])[1 + g % 4],
       (ARRAY['Springfield','Portland','Austin','Denver'])[1 + g % 4], (10000 + g * 917 % 89999)::text, 'US'
FROM generate_series(1, 40) AS g ON CONFLICT (id) DO NOTHING;
INSERT INTO shop.orders (id, customer_id, shipping_address_id, total_cents, placed_at)
SELECT g, 1 + g % 40, 1 + g % 40, 500 + g * 137 % 20000, timestamptz '2026-01-01' + g * interval '7 hours'
FROM generate_series(1, 80) AS g ON CONFLICT (id) DO NOTHING;
INSERT INTO shop.payments (id, order_id, card_number, card_expiry, amount_cents)
SELECT g, g, (ARRAY['4111111111111111','5500005555555559','4012888888881881','378282246310005','6011111111111117'])[1 + g % 5],
       lpad((1 + g % 12)::text, 2, '0') || '/' || (27 + g % 4)::text, 500 + g * 137 % 20000
FROM generate_series(1, 80) AS g ON CONFLICT (id) DO NOTHING;
";

const BILLING_SQL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS invoices (id BIGINT PRIMARY KEY, customer_email VARCHAR(255) NOT NULL, iban VARCHAR(34), amount_cents BIGINT NOT NULL, issued_on DATE NOT NULL) COMMENT = 'Issued invoices'",
    "CREATE TABLE IF NOT EXISTS card_payments (id BIGINT PRIMARY KEY, invoice_id BIGINT NOT NULL, pan VARCHAR(19), cvv VARCHAR(4), paid_at DATETIME NOT NULL, CONSTRAINT fk_card_payments_invoice FOREIGN KEY (invoice_id) REFERENCES invoices (id))",
    "CREATE OR REPLACE VIEW unpaid_invoices AS SELECT i.id, i.customer_email, i.amount_cents FROM invoices i LEFT JOIN card_payments p ON p.invoice_id = i.id WHERE p.id IS NULL",
    // Synthetic rows (classification samples them); idempotent.
    "INSERT IGNORE INTO invoices (id, customer_email, iban, amount_cents, issued_on)
     WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
     SELECT i, CONCAT('billing', i, '@example.org'),
            ELT(1 + i % 3, 'DE89370400440532013000', 'GB82WEST12345698765432', 'NL91ABNA0417164300'),
            1000 + i * 731 % 50000, DATE_ADD('2026-01-01', INTERVAL i DAY) FROM n",
    "INSERT IGNORE INTO card_payments (id, invoice_id, pan, cvv, paid_at)
     WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
     SELECT i, i, ELT(1 + i % 3, '4111111111111111', '5500005555555559', '4012888888881881'),
            LPAD(100 + i * 37 % 900, 3, '0'), DATE_ADD('2026-01-02', INTERVAL i DAY) FROM n",
];

/// Creates the sample databases (idempotently). MariaDB is optional: without it the billing
/// source is registered but cannot connect, which the demo shows as a failed validation.
async fn prepare_sample_databases(database: &DatabaseArgs) -> anyhow::Result<Vec<String>> {
    use sqlx::postgres::PgConnectOptions;
    use sqlx::{ConnectOptions, Connection, Executor};
    use std::str::FromStr;
    let mut notes = Vec::new();
    let base = PgConnectOptions::from_str(&database.database_url)?;
    let mut admin = base.clone().database("postgres").connect().await?;
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(SHOP_DB)
        .fetch_optional(&mut admin)
        .await?;
    if exists.is_none() {
        admin
            .execute(format!("CREATE DATABASE {SHOP_DB}").as_str())
            .await?;
    }
    admin.close().await?;
    let mut shop = base.database(SHOP_DB).connect().await?;
    shop.execute(SHOP_SQL).await?;
    shop.close().await?;

    let mysql = sqlx::mysql::MySqlConnectOptions::new()
        .host("127.0.0.1")
        .port(3306)
        .username("root");
    match tokio::time::timeout(std::time::Duration::from_secs(5), mysql.connect()).await {
        Ok(Ok(mut conn)) => {
            conn.execute(format!("CREATE DATABASE IF NOT EXISTS {BILLING_DB}").as_str()).await?;
            conn.execute(format!("USE {BILLING_DB}").as_str()).await?;
            for statement in BILLING_SQL {
                conn.execute(*statement).await?;
            }
            conn.close().await?;
        }
        _ => notes.push("MariaDB is not reachable on 127.0.0.1:3306 (start it with `start-stop-daemon --start --background --exec /usr/sbin/mariadbd`); the billing source will show a failed connection".to_owned()),
    }
    if let Err(err) = prepare_redis().await {
        notes.push(format!("Redis is not reachable on 127.0.0.1:6379 ({err}); start it with `redis-server --daemonize yes`"));
    }
    Ok(notes)
}

/// Puts a few sessions, carts and feature flags into Redis database 1 (idempotently).
async fn prepare_redis() -> anyhow::Result<()> {
    let client = redis::Client::open("redis://127.0.0.1:6379/1")?;
    let mut conn = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        client.get_multiplexed_async_connection(),
    )
    .await??;
    let mut pipe = redis::pipe();
    for i in 1..=5u32 {
        pipe.hset_multiple(
            format!(
                "session:{}",
                Uuid::from_u128(u128::from(i) << 64 | 0x7000_8000_0000_0000_0000)
            ),
            &[
                ("user_id", i.to_string()),
                ("ip", format!("203.0.113.{i}")),
                ("user_agent", "Mozilla/5.0".to_owned()),
            ],
        )
        .ignore();
        pipe.del(format!("cart:{i}")).ignore();
        pipe.rpush(format!("cart:{i}"), &["sku-1001", "sku-2002"])
            .ignore();
    }
    pipe.set(
        "feature_flags",
        r#"{"checkout_v2": true, "beta_banner": false}"#,
    )
    .ignore();
    let _: () = pipe.query_async(&mut conn).await?;
    Ok(())
}

pub async fn demo(
    store: &StoreArgs,
    database: &DatabaseArgs,
    args: DemoArgs,
) -> anyhow::Result<ExitCode> {
    let (secret, generated) = match std::env::var("PURSIGHT_JWT_SECRET") {
        Ok(secret) if !secret.is_empty() => (secret, false),
        _ => (
            Uuid::new_v4().simple().to_string() + &Uuid::new_v4().simple().to_string(),
            true,
        ),
    };
    let config = args.http.apply(AppConfig {
        health_interval: health_interval(args.health_interval_secs),
        compliance: Some(Default::default()),
        ..app_config(store, database, &args.listen, secret.clone(), None)?
    })?;
    let app = Application::build(config).await?;
    app.recover_interrupted_work().await?;
    let addr = app.local_addr();
    let tenant = TenantId::parse(&args.tenant)?;
    let handler = app.state().handler.clone();

    let notes = prepare_sample_databases(database).await?;
    let workflows = app.state().workflows.clone();
    let mut registered = Vec::new();
    let mut outcomes = Vec::new();
    for (id, input) in examples() {
        let name = input.name.clone().unwrap_or_default();
        // A source kept from an earlier demo run is brought to today's example configuration
        // (an empty string clears a field; an identical configuration appends nothing).
        let mut patch = input.clone();
        patch.password_secret.get_or_insert_with(String::new);
        patch.database.get_or_insert_with(String::new);
        patch.username.get_or_insert_with(String::new);
        let config = input
            .parse()
            .map_err(|err| anyhow::anyhow!("demo source {name}: {err}"))?;
        let ctx = CommandContext::new(tenant.clone(), "pursight-demo", vec![Role::Admin], Some(id));
        let aggregate = AggregateId::from_uuid(id);
        let outcome = handler
            .execute::<DataSource>(
                &ctx,
                Permission::ManageDataSources,
                aggregate,
                DataSourceCommand::Register {
                    id: aggregate,
                    config,
                },
            )
            .await?;
        if outcome.duplicate {
            let ctx = CommandContext::new(tenant.clone(), "pursight-demo", vec![Role::Admin], None);
            handler
                .execute::<DataSource>(
                    &ctx,
                    Permission::ManageDataSources,
                    aggregate,
                    DataSourceCommand::PatchConfig { patch },
                )
                .await?;
        }
        registered.push((name.clone(), aggregate, outcome.duplicate));
        // Validate (this records the result while the source is being configured) and scan.
        let ctx = CommandContext::new(tenant.clone(), "pursight-demo", vec![Role::Admin], None);
        let report = workflows.validate_connection(&ctx, aggregate).await?;
        let line = match &report.result {
            Err(failure) => format!(
                "{name}: connection failed ({}): {}",
                failure.category.as_str(),
                failure.message
            ),
            Ok(_) => match workflows
                .start_scan(
                    &ctx.follow_up(),
                    aggregate,
                    ScanStrategy::Auto,
                    ScanScope::everything(),
                )
                .await
            {
                Ok(scan_id) => {
                    let known = CatalogAssets::new(&app.state().store, &app.state().pool);
                    let feedback = CatalogFeedback::new(&app.state().pool);
                    let outcome = workflows
                        .run_scan_and_classify(
                            &ctx.follow_up(),
                            aggregate,
                            scan_id,
                            &known,
                            &feedback,
                            commands::classify::PipelineProgress::silent(),
                        )
                        .await?;
                    let scan = outcome.scan;
                    let classified = match outcome.classification {
                        Some(Ok(report)) => format!(
                            "; classified: {} labels applied, {} suggested",
                            report.outcomes.iter().filter(|o| o.applied).count(),
                            report.outcomes.iter().filter(|o| !o.applied).count()
                        ),
                        Some(Err(reason)) => format!("; classification failed: {reason}"),
                        None => String::new(),
                    };
                    match scan.failure {
                        Some(failure) => format!("{name}: scan failed: {failure}"),
                        None => format!(
                            "{name}: scanned {} tables, {} views, {} key patterns, {} columns in {} ms ({} new or changed, {} removed){classified}",
                            scan.metrics.tables, scan.metrics.views, scan.metrics.collections, scan.metrics.columns, scan.metrics.duration_ms,
                            scan.assets_changed, scan.assets_removed
                        ),
                    }
                }
                Err(err) => format!("{name}: not scanned: {err}"),
            },
        };
        outcomes.push(line);
    }

    let compliance = compliance_summary(&app, &tenant, &registered).await?;
    let catalog = wait_for_catalog(&app, &tenant).await?;
    let token = crate::auth::issue_token(&secret, "demo-admin", &tenant, &[Role::Admin], 24 * 3600);
    println!();
    println!("PurSight demo is running.");
    println!();
    println!(
        "  {} data sources registered ({} new):",
        registered.len(),
        registered.iter().filter(|r| !r.2).count()
    );
    for line in outcomes.iter().chain(notes.iter()) {
        println!("    {line}");
    }
    println!();
    println!("{catalog}");
    println!();
    println!("{compliance}");
    println!();
    println!("  GraphiQL:   http://{addr}/graphql   (add the header below under \"Headers\")");
    println!("  Header:     {{\"Authorization\": \"Bearer {token}\"}}");
    println!("  Try:        {{ dataSources {{ name kind lifecycleState version }} assets(first: 20) {{ id path kind columnCount }} }}");
    println!("  Lineage:    {{ lineage(assetId: \"<an asset id>\") {{ fromPath toPath kind }} }}");
    println!("  Review:     {{ reviewQueue {{ assetPath column label confidence explanation }} }}");
    println!("  Readiness:  http://{addr}/readyz     Metrics: http://{addr}/metrics");
    println!("  History:    cargo run --release -- replay --tenant {tenant}");
    if generated {
        println!();
        println!("  PURSIGHT_JWT_SECRET was not set; this run uses a generated one:");
        println!("  export PURSIGHT_JWT_SECRET={secret}");
    }
    println!();
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    println!("Serving until Ctrl-C.");
    app.run_until_stopped(true).await?;
    Ok(ExitCode::SUCCESS)
}

/// Evaluates every example source against the enabled compliance packs (recording its
/// violations, as `pursight compliance evaluate` does) and renders one row per source and
/// framework: the score and the open violations by severity, then the most severe open findings.
async fn compliance_summary(
    app: &Application,
    tenant: &TenantId,
    registered: &[(String, AggregateId, bool)],
) -> anyhow::Result<String> {
    use domain::compliance::Severity;
    let state = app.state();
    let known = CatalogAssets::new(&state.store, &state.pool);
    let workflow = commands::compliance::ComplianceWorkflow::new(state.handler.clone());
    let mut scores = comfy_table::Table::new();
    scores
        .load_preset(comfy_table::presets::UTF8_HORIZONTAL_ONLY)
        .set_header([
            "compliance",
            "framework",
            "score",
            "critical",
            "high",
            "medium",
            "low",
            "accepted",
        ]);
    let mut worst = Vec::new();
    let mut failures = Vec::new();
    for (name, id, _) in registered {
        let ctx = CommandContext::new(tenant.clone(), "pursight-demo", vec![Role::Admin], None);
        // Sources whose connection or scan failed have nothing classified; the pass still
        // evaluates their posture, and a failure here is reported rather than ending the demo.
        let report = match workflow.evaluate_source(&ctx, *id, &known).await {
            Ok(report) => report,
            Err(err) => {
                failures.push(format!("{name}: not evaluated: {err}"));
                continue;
            }
        };
        for framework in &report.frameworks {
            let open = |severity: Severity| {
                framework
                    .violations
                    .iter()
                    .filter(|v| !v.accepted && v.severity == severity)
                    .count()
                    .to_string()
            };
            scores.add_row([
                name.clone(),
                framework.framework.to_string(),
                format!("{}/100", framework.score),
                open(Severity::Critical),
                open(Severity::High),
                open(Severity::Medium),
                open(Severity::Low),
                framework
                    .violations
                    .iter()
                    .filter(|v| v.accepted)
                    .count()
                    .to_string(),
            ]);
            for v in framework.violations.iter().filter(|v| !v.accepted) {
                worst.push((
                    std::cmp::Reverse(domain::compliance::engine::severity_weight(v.severity)),
                    v.severity.as_str(),
                    framework.framework.to_string(),
                    v.control.clone(),
                    v.title.clone(),
                    commands::compliance::subject_text(&v.subject),
                ));
            }
        }
    }
    worst.sort();
    worst.dedup();
    let mut findings = comfy_table::Table::new();
    findings
        .load_preset(comfy_table::presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(160)
        .set_header(["severity", "framework", "control", "violation", "subject"]);
    const SHOWN: usize = 10;
    for (_, severity, framework, control, title, subject) in worst.iter().take(SHOWN) {
        findings.add_row([
            severity.to_string(),
            framework.clone(),
            control.clone(),
            title.clone(),
            subject.clone(),
        ]);
    }
    let mut text = format!("{scores}");
    if !worst.is_empty() {
        text.push_str(&format!(
            "\n\n  {} open violations; the {} most severe:\n{findings}",
            worst.len(),
            worst.len().min(SHOWN)
        ));
    }
    for failure in failures {
        text.push_str(&format!("\n  {failure}"));
    }
    text.push_str(
        "\n  Scores: 100 minus 25 per open critical, 10 per high, 4 per medium, 1 per low violation.",
    );
    Ok(text)
}

/// Waits until the projections reflect the whole stream, then renders the tenant's catalog:
/// the sources, then the discovered tables and views.
async fn wait_for_catalog(app: &Application, tenant: &TenantId) -> anyhow::Result<String> {
    super::source::caught_up(app).await?;
    let state = app.state();
    let filter = projections::data_sources::ListFilter {
        include_archived: true,
        limit: 100,
        ..Default::default()
    };
    let rows = projections::data_sources::list(&state.pool, tenant.as_str(), &filter).await?;
    let mut sources = comfy_table::Table::new();
    sources
        .load_preset(comfy_table::presets::UTF8_HORIZONTAL_ONLY)
        .set_header(["source", "kind", "state", "version", "id"]);
    for row in rows {
        sources.add_row([
            row.name,
            row.kind,
            row.lifecycle_state,
            row.version.to_string(),
            row.id.to_string(),
        ]);
    }
    let assets = projections::catalog::assets(
        &state.pool,
        tenant.as_str(),
        &projections::catalog::AssetFilter {
            limit: 1000,
            ..Default::default()
        },
    )
    .await?;
    let mut catalog = comfy_table::Table::new();
    catalog
        .load_preset(comfy_table::presets::UTF8_HORIZONTAL_ONLY)
        .set_header(["asset", "kind", "columns", "rows (est.)"]);
    for asset in assets.iter().filter(|a| {
        matches!(
            a.kind.as_str(),
            "table"
                | "partitioned_table"
                | "view"
                | "materialized_view"
                | "collection"
                | "redis_key_pattern"
                | "s3_prefix"
        )
    }) {
        catalog.add_row([
            asset.path.clone(),
            asset.kind.clone(),
            asset.column_count.to_string(),
            asset.row_estimate.map_or("-".to_owned(), |r| r.to_string()),
        ]);
    }
    let labels = projections::labels::labels(
        &state.pool,
        tenant.as_str(),
        &projections::labels::LabelFilter {
            statuses: vec!["applied".into(), "confirmed".into()],
            limit: 200,
            ..Default::default()
        },
    )
    .await?;
    let mut classified = comfy_table::Table::new();
    classified
        .load_preset(comfy_table::presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(160)
        .set_header(["classified column", "label", "confidence", "why"]);
    for label in &labels {
        let signals: Vec<domain::classification::Signal> =
            serde_json::from_value(label.signals.clone()).unwrap_or_default();
        classified.add_row([
            format!("{}.{}", label.asset_path, label.column_name),
            label.label.clone(),
            format!("{:.2}", label.confidence),
            domain::classification::explanation(&signals),
        ]);
    }
    Ok(format!("{sources}\n\n{catalog}\n\n{classified}"))
}
