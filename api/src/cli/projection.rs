//! `pursight projections parked|retry`: the events a projection could not apply, and replaying
//! them from the stream once what stopped them is fixed.

use crate::settings::{DatabaseArgs, StoreArgs};
use clap::{Args, Subcommand};
use comfy_table::{presets::UTF8_HORIZONTAL_ONLY, Table};
use eventlog::EventStore;
use projections::parked::ParkedEvent;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// List parked events (projection, sequence, tenant, aggregate, type, error, attempts,
    /// when), oldest first, and the triggers the compliance worker parked (`compliance_pm`).
    Parked(ParkedArgs),
    /// Read parked events again from the stream and apply them: a row goes when its event
    /// applies, stays with the new error otherwise. A retried event is applied after later
    /// events of its aggregate; when it is older than them, `pursight rebuild NAME` is the exact
    /// repair. Exit code 2 when any still fails.
    Retry(RetryArgs),
}

#[derive(Debug, Args)]
pub struct ParkedArgs {
    /// Only this projection (or `compliance_pm`, the compliance worker).
    #[arg(long)]
    pub projection: Option<String>,
}

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// Only this projection (default: every projection with parked events).
    #[arg(long)]
    pub projection: Option<String>,
    /// Only the parked events of the commit at this stream sequence.
    #[arg(long)]
    pub sequence: Option<u64>,
}

pub async fn run(
    store: &StoreArgs,
    database: &DatabaseArgs,
    command: ProjectionsCommand,
) -> anyhow::Result<ExitCode> {
    let known = |name: &Option<String>| -> anyhow::Result<()> {
        match name {
            Some(name) if !projections::ALL.contains(&name.as_str()) => anyhow::bail!(
                "unknown projection {name:?}: choose one of {}",
                projections::ALL.join(", ")
            ),
            _ => Ok(()),
        }
    };
    // The compliance worker parks the triggers it cannot handle beside the projections' events;
    // they are listed, not retried (the repair is `pursight compliance evaluate SOURCE`).
    let listable = |name: &Option<String>| match name {
        Some(name) if name == commands::compliance_pm::NAME => Ok(()),
        _ => known(name),
    };
    let pool = projections::database::connect(&database.database_url).await?;
    match command {
        ProjectionsCommand::Parked(args) => {
            listable(&args.projection)?;
            let rows = projections::parked::list(&pool, args.projection.as_deref(), None).await?;
            if rows.is_empty() {
                println!("no parked events");
            } else {
                println!("{}", table(&rows));
            }
            Ok(ExitCode::SUCCESS)
        }
        ProjectionsCommand::Retry(args) => {
            known(&args.projection)?;
            let store = crate::settings::with_personal_keys(
                EventStore::connect(&store.config()?).await?,
                &pool,
            )
            .map_err(anyhow::Error::msg)?;
            let names: Vec<String> = match args.projection {
                Some(name) => vec![name],
                None => projections::parked::counts(&pool, None)
                    .await?
                    .into_iter()
                    .map(|(name, _)| name)
                    .filter(|name| projections::ALL.contains(&name.as_str()))
                    .collect(),
            };
            let mut still_failing = 0;
            for name in names {
                let report =
                    projections::parked::retry_by_name(&name, &store, &pool, args.sequence).await?;
                println!(
                    "{name}: {} applied, {} still failing",
                    report.applied.len(),
                    report.failed.len()
                );
                if !report.failed.is_empty() {
                    println!("{}", table(&report.failed));
                }
                still_failing += report.failed.len();
            }
            Ok(if still_failing == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
    }
}

fn table(rows: &[ParkedEvent]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_HORIZONTAL_ONLY).set_header([
        "projection",
        "sequence",
        "tenant",
        "aggregate",
        "type",
        "error",
        "attempts",
        "parked at",
    ]);
    for row in rows {
        table.add_row([
            row.projection.clone(),
            row.sequence.to_string(),
            row.tenant_id.clone(),
            match (&row.aggregate_type, &row.aggregate_id) {
                (Some(kind), Some(id)) => format!("{kind} {id}"),
                _ => String::new(),
            },
            row.event_type
                .clone()
                .unwrap_or_else(|| "(undecodable commit)".into()),
            row.error.clone(),
            row.attempts.to_string(),
            row.parked_at.to_rfc3339(),
        ]);
    }
    table
}
