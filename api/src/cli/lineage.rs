//! `pursight lineage ASSET --downstream [--column C] [--depth N]`: impact analysis from the
//! read models, the same walk as the `impact` GraphQL query (`projections::impact`), printed as
//! a table (or JSON) — what changing this asset or column would touch, who owns it, how its
//! reached columns are classified and which violations are open on it. Schema edges and the
//! edges OpenLineage jobs reported are both followed; each row says which edges reached it.

use crate::settings::DatabaseArgs;
use clap::{Args, ValueEnum};
use comfy_table::{presets::UTF8_HORIZONTAL_ONLY, Table};
use domain::TenantId;
use projections::impact;
use serde_json::json;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LineageFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct LineageArgs {
    /// The asset: its id, or its path as shown in the catalog (`database.schema.table`).
    pub asset: String,
    /// Walk downstream (what the asset feeds): the impact of a change. Required, so that the
    /// direction is always written out.
    #[arg(long, required = true)]
    pub downstream: bool,
    /// Start from this column of the asset.
    #[arg(long)]
    pub column: Option<String>,
    /// Hops to follow, 1 to 10.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub depth: u32,
    /// The tenant whose catalog is read.
    #[arg(long, env = "PURSIGHT_TENANT", default_value = "demo")]
    pub tenant: String,
    #[arg(long, value_enum, default_value_t = LineageFormat::Table)]
    pub format: LineageFormat,
}

pub async fn run(database: &DatabaseArgs, args: LineageArgs) -> anyhow::Result<ExitCode> {
    let tenant = TenantId::parse(&args.tenant).map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
    let tenant = tenant.as_str();
    let pool = projections::database::connect(&database.database_url).await?;
    let found: Option<(uuid::Uuid, String)> = sqlx::query_as(
        "SELECT id, path FROM rm_catalog.assets
         WHERE tenant_id = $1 AND NOT removed AND (id::text = $2 OR path = $2)
         ORDER BY path LIMIT 1",
    )
    .bind(tenant)
    .bind(&args.asset)
    .fetch_optional(&pool)
    .await?;
    let Some((start, start_path)) = found else {
        anyhow::bail!(
            "no asset {:?} in tenant {tenant} (give its id or its path, e.g. shop.public.orders)",
            args.asset
        );
    };
    let (assets, _) = impact::walk(start, args.column.as_deref(), args.depth, |frontier| {
        let pool = &pool;
        async move { impact::edges_from(pool, tenant, &frontier).await }
    })
    .await?;
    let details = impact::details(&pool, tenant, &assets).await?;
    let from = match &args.column {
        Some(c) => format!("{start_path}.{c}"),
        None => start_path.clone(),
    };
    match args.format {
        LineageFormat::Json => {
            let rows: Vec<_> = assets
                .iter()
                .map(|a| {
                    let d = details.get(&a.asset_id).cloned().unwrap_or_default();
                    json!({
                        "assetId": a.asset_id,
                        "path": a.path,
                        "distance": a.distance,
                        "columns": a.reach.columns(),
                        "wholeAsset": a.reach.columns().is_none(),
                        "external": a.external,
                        "reachedBy": a.via.iter().map(|v| json!({
                            "kind": v.kind, "fromPath": v.from_path, "jobNamespace": v.job_namespace,
                            "jobName": v.job_name, "stale": v.stale,
                        })).collect::<Vec<_>>(),
                        "owner": d.owner,
                        "classifications": d.labels.iter().map(|(c, l, s)| json!({"column": c, "label": l, "status": s})).collect::<Vec<_>>(),
                        "openViolations": {
                            "critical": d.open_violations[0], "high": d.open_violations[1],
                            "medium": d.open_violations[2], "low": d.open_violations[3],
                        },
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({ "from": from, "downstream": rows }))?
            );
        }
        LineageFormat::Table => {
            println!("downstream of {from} (depth {}):", args.depth);
            if assets.is_empty() {
                println!("nothing downstream");
                return Ok(ExitCode::SUCCESS);
            }
            let mut table = Table::new();
            table.load_preset(UTF8_HORIZONTAL_ONLY).set_header([
                "hops",
                "asset",
                "columns reached",
                "via",
                "owner",
                "classifications",
                "open violations (c/h/m/l)",
            ]);
            for a in &assets {
                let d = details.get(&a.asset_id).cloned().unwrap_or_default();
                let columns = a.reach.columns().map_or_else(
                    || "(whole asset)".to_owned(),
                    |c| c.iter().cloned().collect::<Vec<_>>().join(", "),
                );
                let labels = d
                    .labels
                    .iter()
                    .map(|(c, l, s)| format!("{c}: {l} ({s})"))
                    .collect::<Vec<_>>()
                    .join("\n");
                let [c, h, m, l] = d.open_violations;
                let via = a
                    .via
                    .iter()
                    .map(impact::Via::describe)
                    .collect::<Vec<_>>()
                    .join("\n");
                let path = if a.external {
                    format!("{} (external)", a.path)
                } else {
                    a.path.clone()
                };
                table.add_row([
                    a.distance.to_string(),
                    path,
                    columns,
                    via,
                    d.owner.unwrap_or_else(|| "-".into()),
                    labels,
                    format!("{c}/{h}/{m}/{l}"),
                ]);
            }
            println!("{table}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
