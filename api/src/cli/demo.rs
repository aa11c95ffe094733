//! `pursight demo`: start the service on the local defaults, register example data sources and
//! print where to look.

use super::serve::app_config;
use crate::app::Application;
use crate::settings::{DatabaseArgs, StoreArgs, DEFAULT_LISTEN};
use clap::Args;
use commands::CommandContext;
use domain::access::{Permission, Role};
use domain::datasource::{DataSource, DataSourceCommand, DataSourceConfigInput};
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
}

/// The example sources; fixed ids make re-running the demo idempotent.
fn examples() -> Vec<(Uuid, DataSourceConfigInput, &'static [DataSourceCommand])> {
    let source = |name: &str,
                  kind: &str,
                  port: i64,
                  database: &str,
                  username: &str,
                  secret: &str,
                  tags: &[&str],
                  description: &str| DataSourceConfigInput {
        name: Some(name.into()),
        kind: Some(kind.into()),
        host: Some("127.0.0.1".into()),
        port: Some(port),
        database: (!database.is_empty()).then(|| database.into()),
        username: (!username.is_empty()).then(|| username.into()),
        password_secret: (!secret.is_empty()).then(|| secret.into()),
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
                "pursight_demo",
                "postgres",
                "env:PGPASSWORD",
                &["pii", "crm"],
                "Customers, orders and payments (local PostgreSQL).",
            ),
            &[DataSourceCommand::BeginConfiguration],
        ),
        (
            Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_d002),
            source(
                "Billing warehouse",
                "mysql",
                3306,
                "pursight_demo",
                "root",
                "env:MYSQL_PWD",
                &["finance", "pci"],
                "Invoices and card payments (local MariaDB).",
            ),
            &[],
        ),
        (
            Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_d003),
            source(
                "Session cache",
                "redis",
                6379,
                "",
                "",
                "",
                &["sessions"],
                "Web sessions (local Redis).",
            ),
            &[],
        ),
    ]
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
    let config = app_config(store, database, &args.listen, secret.clone(), None)?;
    let app = Application::build(config).await?;
    let addr = app.local_addr();
    let tenant = TenantId::parse(&args.tenant)?;
    let handler = app.state().handler.clone();

    let mut registered = Vec::new();
    for (id, input, lifecycle) in examples() {
        let name = input.name.clone().unwrap_or_default();
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
        if !outcome.duplicate {
            for command in lifecycle {
                let ctx =
                    CommandContext::new(tenant.clone(), "pursight-demo", vec![Role::Admin], None);
                handler
                    .execute::<DataSource>(
                        &ctx,
                        Permission::ManageDataSources,
                        aggregate,
                        command.clone(),
                    )
                    .await?;
            }
        }
        registered.push((name, aggregate, outcome.duplicate));
    }

    let catalog = wait_for_catalog(&app, &tenant).await?;
    let token = crate::auth::issue_token(&secret, "demo-admin", &tenant, &[Role::Admin], 24 * 3600);
    println!();
    println!("PurSight demo is running.");
    println!();
    println!(
        "  {} data sources registered ({} new); the catalog read model shows:",
        registered.len(),
        registered.iter().filter(|r| !r.2).count()
    );
    println!();
    println!("{catalog}");
    println!();
    println!("  GraphiQL:   http://{addr}/graphql   (add the header below under \"Headers\")");
    println!("  Header:     {{\"Authorization\": \"Bearer {token}\"}}");
    println!("  Try:        {{ dataSources {{ name kind lifecycleState version }} consistency {{ projectedSequence streamSequence }} }}");
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

/// Waits until the projections reflect the whole stream, then renders the tenant's catalog.
async fn wait_for_catalog(app: &Application, tenant: &TenantId) -> anyhow::Result<String> {
    let state = app.state();
    let target = state.store.last_sequence().await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let checkpoints = projections::checkpoint::all(&state.pool).await?;
        let caught_up = projections::ALL
            .iter()
            .all(|name| checkpoints.iter().any(|(n, s)| n == name && *s >= target));
        if caught_up {
            break;
        }
        if std::time::Instant::now() > deadline {
            anyhow::bail!(
                "the read models did not catch up within 15 s; check the log and http://{}/readyz",
                app.local_addr()
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let filter = projections::data_sources::ListFilter {
        include_archived: true,
        limit: 100,
        ..Default::default()
    };
    let rows = projections::data_sources::list(&state.pool, tenant.as_str(), &filter).await?;
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_HORIZONTAL_ONLY)
        .set_header(["name", "kind", "state", "version", "password", "id"]);
    for row in rows {
        table.add_row([
            row.name,
            row.kind,
            row.lifecycle_state,
            row.version.to_string(),
            row.config["password_secret"]
                .as_str()
                .unwrap_or("-")
                .to_owned(),
            row.id.to_string(),
        ]);
    }
    Ok(table.to_string())
}
