//! `pursight compliance evaluate [SOURCE]`: a full compliance pass over one source (or every
//! source of the tenant), recorded as Violation events (a second run over unchanged facts
//! records nothing), with a summary per framework.

use super::source::{context, resolve, service, Actor};
use crate::graphql::catalog::CatalogAssets;
use crate::settings::{DatabaseArgs, StoreArgs};
use clap::Subcommand;
use comfy_table::{presets::UTF8_HORIZONTAL_ONLY, ContentArrangement, Table};
use commands::compliance::{subject_text, ComplianceReport, ComplianceWorkflow};
use commands::compliance_pm::tenant_sources;
use commands::CommandError;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ComplianceCommand {
    /// Evaluate a source against the enabled compliance rules and record its violations.
    ///
    /// Evaluates the tenant's enabled rules (GDPR, PCI DSS, HIPAA, SOC 2 and custom rules) over
    /// the source's catalogued facts: records a ViolationDetected for every new or
    /// changed finding and a ViolationResolved for every open violation that no longer fires,
    /// then prints each framework's score and open violations. A classified source moves through
    /// validating to validated. Idempotent: a second run over unchanged facts records nothing.
    /// Without SOURCE, every source of the tenant that is not archived is evaluated. (`pursight
    /// serve` runs the compliance worker, which keeps violations up to date on its own; this is
    /// the manual full pass.)
    Evaluate {
        /// Source id or exact name (default: every source of the tenant).
        source: Option<String>,
    },
}

pub async fn run(
    store: &StoreArgs,
    database: &DatabaseArgs,
    actor: &Actor,
    command: ComplianceCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        ComplianceCommand::Evaluate { source } => {
            let app = service(store, database).await?;
            let ctx = context(actor)?;
            let state = app.state();
            let known = CatalogAssets::new(&state.store, &state.pool);
            let workflow = ComplianceWorkflow::new(state.handler.clone());
            let Some(source) = source else {
                let sources = tenant_sources(&state.handler, &ctx.tenant).await?;
                let mut evaluated = 0;
                for id in sources {
                    match workflow.evaluate_source(&ctx, id, &known).await {
                        Ok(report) => {
                            if evaluated > 0 {
                                println!("\n{}", "─".repeat(60));
                            }
                            print_report(&report);
                            evaluated += 1;
                        }
                        // Archived sources are no longer evaluated.
                        Err(CommandError::Rejected(_)) => {}
                        Err(err) => return Err(err.into()),
                    }
                }
                if evaluated == 0 {
                    println!("tenant {} has no source to evaluate", ctx.tenant);
                }
                return Ok(ExitCode::SUCCESS);
            };
            let id = resolve(&app, &ctx.tenant, &source).await?;
            let report = workflow.evaluate_source(&ctx, id, &known).await?;
            print_report(&report);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_report(report: &ComplianceReport) {
    println!("compliance of {}", report.source_name);
    for framework in &report.frameworks {
        let open = framework.violations.iter().filter(|v| !v.accepted).count();
        let accepted = framework.violations.len() - open;
        println!(
            "\n{}: score {}/100, {open} open, {accepted} accepted",
            framework.framework, framework.score
        );
        if framework.violations.is_empty() {
            continue;
        }
        let mut table = Table::new();
        table
            .load_preset(UTF8_HORIZONTAL_ONLY)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(160)
            .set_header(["severity", "rule", "control", "subject", "status"]);
        for v in &framework.violations {
            table.add_row([
                v.severity.as_str().to_owned(),
                v.rule_id.clone(),
                v.control.clone(),
                subject_text(&v.subject),
                if v.accepted { "accepted" } else { "open" }.to_owned(),
            ]);
        }
        println!("{table}");
    }
    println!(
        "\nscores: 100 minus 25 per open critical, 10 per high, 4 per medium and 1 per low violation (at least 0); accepted violations do not count"
    );
    for (rule, reason) in &report.broken_rules {
        println!("warning: custom rule {rule} was not evaluated: {reason}");
    }
    println!(
        "\nevaluated {} subjects: {} findings, {} violations detected, {} resolved{}",
        report.subjects,
        report.findings,
        report.detected,
        report.resolved,
        report
            .lifecycle
            .map(|l| format!("; source {}", l.as_str()))
            .unwrap_or_default(),
    );
}
