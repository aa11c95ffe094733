//! `pursight audit export`: the audit trail — events and refused commands — as CSV or NDJSON,
//! oldest first, for auditors' own tools.
//!
//! CSV cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
//! carriage return) get a leading `'`; NDJSON has one JSON object per line.

use super::report::csv_cell;
use crate::settings::DatabaseArgs;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use projections::audit_log::{self, AuditFilter, TrailRow};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Rows read per query.
const BATCH: i64 = 1000;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Export the audit trail (events and refused commands), oldest first: who did or tried
    /// what, on which resource, when, with the outcome and, for refusals, the reason.
    Export(ExportArgs),
}

/// The export's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// A header row, then one row per entry; formula-like cells get a leading `'`.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only this tenant; omitted: every tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only entries at or after this time (RFC 3339, e.g. 2026-12-01T00:00:00Z).
    #[arg(long)]
    pub from: Option<DateTime<Utc>>,
    /// Only entries before this time (RFC 3339).
    #[arg(long)]
    pub to: Option<DateTime<Utc>>,
    /// csv or ndjson.
    #[arg(long, value_enum, default_value_t = AuditFormat::Ndjson)]
    pub format: AuditFormat,
    /// The file to write (replaced if it exists); omitted: standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// One exported entry.
#[derive(Debug, Serialize)]
struct ExportedEntry<'a> {
    tenant: &'a str,
    time: String,
    outcome: &'a str,
    actor: &'a str,
    roles: &'a str,
    action: &'a str,
    resource_type: &'a str,
    target_id: &'a str,
    /// The event's id or the refusal's.
    id: String,
    /// 0 for refusals.
    sequence: i64,
    /// 0 for refusals.
    aggregate_version: i64,
    command_id: &'a str,
    correlation_id: &'a str,
    reason: Option<&'a str>,
}

const HEADER: [&str; 14] = [
    "tenant",
    "time",
    "outcome",
    "actor",
    "roles",
    "action",
    "resource_type",
    "target_id",
    "id",
    "sequence",
    "aggregate_version",
    "command_id",
    "correlation_id",
    "reason",
];

impl<'a> ExportedEntry<'a> {
    fn new(row: &'a TrailRow) -> Self {
        Self {
            tenant: &row.tenant_id,
            time: row
                .occurred_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            outcome: &row.outcome,
            actor: &row.actor,
            roles: &row.roles,
            action: &row.action,
            resource_type: &row.aggregate_type,
            target_id: &row.target_id,
            id: row.id.to_string(),
            sequence: row.sequence,
            aggregate_version: row.aggregate_version,
            command_id: &row.command_id,
            correlation_id: &row.correlation_id,
            reason: row.reason.as_deref(),
        }
    }

    fn cells(&self) -> [String; 14] {
        [
            self.tenant,
            &self.time,
            self.outcome,
            self.actor,
            self.roles,
            self.action,
            self.resource_type,
            self.target_id,
            &self.id,
            &self.sequence.to_string(),
            &self.aggregate_version.to_string(),
            self.command_id,
            self.correlation_id,
            self.reason.unwrap_or_default(),
        ]
        .map(csv_cell)
    }
}

pub async fn run(database: &DatabaseArgs, command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Export(args) => export(database, args).await,
    }
}

async fn export(database: &DatabaseArgs, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let pool = projections::database::connect(&database.database_url).await?;
    let sink: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::new(sink);
    let mut csv = (args.format == AuditFormat::Csv).then(|| csv::Writer::from_writer(Vec::new()));
    if let Some(writer) = csv.as_mut() {
        writer.write_record(HEADER)?;
    }
    let mut filter = AuditFilter {
        tenant: args.tenant.clone(),
        since: args.from,
        until: args.to,
        oldest_first: true,
        limit: BATCH,
        ..AuditFilter::default()
    };
    let (mut events, mut refusals) = (0u64, 0u64);
    loop {
        let rows = audit_log::trail(&pool, &filter).await?;
        for row in &rows {
            if row.outcome == "accepted" {
                events += 1;
            } else {
                refusals += 1;
            }
            let entry = ExportedEntry::new(row);
            match csv.as_mut() {
                Some(writer) => writer.write_record(entry.cells())?,
                None => {
                    serde_json::to_writer(&mut out, &entry)?;
                    out.write_all(b"\n")?;
                }
            }
        }
        // Each batch leaves the CSV buffer, so memory stays bounded by one batch.
        if let Some(writer) = csv.take() {
            out.write_all(
                &writer
                    .into_inner()
                    .map_err(|err| anyhow::anyhow!("{err}"))?,
            )?;
            csv = Some(
                csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(Vec::new()),
            );
        }
        match rows.last() {
            Some(last) if rows.len() as i64 == BATCH => {
                filter.before = Some((
                    last.occurred_at,
                    last.sequence,
                    last.aggregate_version,
                    last.id,
                ));
            }
            _ => break,
        }
    }
    out.flush()?;
    eprintln!("exported {events} events and {refusals} refusals");
    Ok(ExitCode::SUCCESS)
}

/// The outcome a refused command is recorded with, or `None` when `err` is not a refusal (a
/// failure of NATS, of the database, of the governed system: nothing to audit as a refusal).
fn refusal_outcome(err: &anyhow::Error) -> Option<projections::refusals::RefusalOutcome> {
    use commands::CommandError as E;
    use projections::refusals::RefusalOutcome as O;
    err.chain()
        .find_map(|cause| cause.downcast_ref::<commands::CommandError>())
        .and_then(|e| match e {
            E::Forbidden(_) => Some(O::Forbidden),
            E::Validation(_) => Some(O::Invalid),
            E::NotFound(_) => Some(O::NotFound),
            E::Rejected(_) => Some(O::Rejected),
            E::Conflict { .. } => Some(O::Conflict),
            _ => None,
        })
}

/// Records a command the CLI ran and the domain refused in the audit trail's refusals, as the
/// API records refused mutations (actor `cli:<user>`, action `cli <command> <subcommand>`).
/// Best effort: the command's own error is what the user sees either way.
pub async fn record_cli_refusal(
    database: &DatabaseArgs,
    tenant: &str,
    action: &str,
    err: &anyhow::Error,
) {
    let Some(outcome) = refusal_outcome(err) else {
        return;
    };
    let Ok(tenant) = domain::TenantId::parse(tenant) else {
        return;
    };
    let user = std::env::var("USER").unwrap_or_else(|_| "local".into());
    let refusal = projections::refusals::Refusal {
        tenant: tenant.as_str().to_owned(),
        actor: format!("cli:{user}"),
        roles: vec!["admin".into()],
        action: action.to_owned(),
        resource_type: String::new(),
        target_id: String::new(),
        outcome,
        reason: format!("{err:#}"),
        command_id: String::new(),
    };
    let recorded = async {
        let pool = projections::database::connect(&database.database_url).await?;
        projections::refusals::record(&pool, &refusal).await?;
        anyhow::Ok(())
    };
    if let Err(e) = recorded.await {
        tracing::warn!(error = %e, action, "refusal not recorded");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused() {
        let row = TrailRow {
            id: uuid::Uuid::nil(),
            tenant_id: "acme".into(),
            sequence: 0,
            occurred_at: Utc::now(),
            actor: "=HYPERLINK(\"http://x\")".into(),
            roles: "viewer".into(),
            event_type: String::new(),
            action: "archiveDataSource".into(),
            aggregate_type: "data_source".into(),
            target_id: String::new(),
            aggregate_version: 0,
            command_id: String::new(),
            correlation_id: String::new(),
            outcome: "forbidden".into(),
            reason: Some("@SUM(A1)".into()),
        };
        let cells = ExportedEntry::new(&row).cells();
        assert_eq!(cells[3], "'=HYPERLINK(\"http://x\")");
        assert_eq!(cells[13], "'@SUM(A1)");
    }
}
