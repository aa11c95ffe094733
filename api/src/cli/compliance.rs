//! `pursight compliance`: `evaluate [SOURCE]` runs a full compliance pass over one source (or
//! every source of the tenant), recorded as Violation events (a second run over unchanged facts
//! records nothing), with a summary per framework; `rules`, `enable`, `disable`, `tune`,
//! `define`, `retire` show and change the tenant's compliance policy; `accept` records a
//! compliance officer's risk acceptance.

use super::source::{context, resolve, service, Actor};
use crate::graphql::catalog::CatalogAssets;
use crate::settings::{DatabaseArgs, StoreArgs};
use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use clap::Subcommand;
use comfy_table::{presets::UTF8_HORIZONTAL_ONLY, ContentArrangement, Table};
use commands::compliance::{subject_text, ComplianceReport, ComplianceWorkflow};
use commands::compliance_pm::tenant_sources;
use commands::compliance_policy::{CompliancePolicyCommands, RuleListing, SeverityChange};
use commands::{CommandError, CommandOutcome};
use domain::compliance::packs::MAX_RULE_FILE_BYTES;
use domain::compliance::violation::MAX_ACCEPTANCE_DAYS;
use domain::compliance::{load_rule_file, FrameworkId};
use domain::text::escape_controls;
use domain::AggregateId;
use std::io::Read;
use std::path::PathBuf;
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
    /// List the compliance rules — built-in packs' and the tenant's custom ones — with the
    /// severity and enablement the next evaluation uses.
    Rules {
        /// Only this framework's rules: gdpr, pci-dss, hipaa or soc2.
        #[arg(long)]
        framework: Option<String>,
    },
    /// Evaluate a framework's rules again (frameworks are enabled until disabled).
    Enable {
        /// gdpr, pci-dss, hipaa or soc2.
        framework: String,
    },
    /// Stop evaluating a framework's rules; the next evaluation resolves their open violations.
    Disable {
        /// gdpr, pci-dss, hipaa or soc2.
        framework: String,
    },
    /// Change a rule's severity and/or switch it on or off for the tenant (what is not given
    /// stays as it is). Takes effect at the next evaluation.
    Tune {
        /// The rule's id (see `pursight compliance rules`).
        rule: String,
        /// low, medium, high or critical; `default` restores the rule's own severity.
        #[arg(long)]
        severity: Option<String>,
        /// Whether the rule is evaluated.
        #[arg(long, value_name = "true|false")]
        enabled: Option<bool>,
    },
    /// Define a custom rule (or its next version) from a TOML file in the format of a pack rule.
    ///
    /// The file holds the keys of one pack rule — id, title, framework, control, severity,
    /// subject, remediation, condition (version is optional and ignored: the policy numbers
    /// versions) — at its top or in a single [[rule]] table. Every problem is printed, one per
    /// line (a condition's with its character position), and then nothing is recorded.
    Define {
        /// The rule file (at most 64 KiB).
        #[arg(long)]
        file: PathBuf,
    },
    /// Retire a custom rule; the next evaluation resolves its open violations.
    Retire {
        /// The custom rule's id.
        rule: String,
    },
    /// Accept the risk of a violation until a date, as a compliance officer: it stops counting
    /// in the scores and reopens when the acceptance expires.
    Accept {
        /// The violation's id (the violation_id of its ViolationDetected).
        violation: String,
        /// Why the risk is acceptable: 1 to 2000 characters.
        #[arg(long)]
        reason: String,
        /// When the acceptance ends: an RFC 3339 time (2027-03-31T00:00:00Z), a date (2027-03-31,
        /// midnight UTC) or a number of days from now (90d); at most 366 days ahead.
        #[arg(long, value_name = "TIME")]
        expires: String,
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
        ComplianceCommand::Rules { framework } => {
            let framework = framework.as_deref().map(framework_of).transpose()?;
            let app = service(store, database).await?;
            let ctx = context(actor)?;
            let rules = CompliancePolicyCommands::new(app.state().handler.clone())
                .rules(&ctx, framework)
                .await?;
            print_rules(&rules);
            Ok(ExitCode::SUCCESS)
        }
        ComplianceCommand::Enable { framework } => {
            let framework = framework_of(&framework)?;
            let (commands, ctx) = policy_commands(store, database, actor).await?;
            let outcome = commands.enable_framework(&ctx, framework).await?;
            changed(
                &outcome,
                &format!("framework {framework} enabled"),
                &format!("framework {framework} is enabled already"),
            );
            Ok(ExitCode::SUCCESS)
        }
        ComplianceCommand::Disable { framework } => {
            let framework = framework_of(&framework)?;
            let (commands, ctx) = policy_commands(store, database, actor).await?;
            let outcome = commands.disable_framework(&ctx, framework).await?;
            changed(
                &outcome,
                &format!("framework {framework} disabled"),
                &format!("framework {framework} is disabled already"),
            );
            Ok(ExitCode::SUCCESS)
        }
        ComplianceCommand::Tune {
            rule,
            severity,
            enabled,
        } => {
            if severity.is_none() && enabled.is_none() {
                anyhow::bail!("nothing to tune: give --severity and/or --enabled");
            }
            let severity = match severity.as_deref() {
                None => SeverityChange::Keep,
                Some(raw) => SeverityChange::parse(raw).map_err(anyhow::Error::msg)?,
            };
            let (commands, ctx) = policy_commands(store, database, actor).await?;
            let outcome = commands.tune_rule(&ctx, &rule, severity, enabled).await?;
            let rules = commands.rules(&ctx, None).await?;
            let now = rules
                .iter()
                .find(|r| r.id == rule.trim())
                .map(|r| {
                    format!(
                        ": severity {}, {}",
                        r.severity.as_str(),
                        if r.rule_enabled {
                            "enabled"
                        } else {
                            "disabled"
                        }
                    )
                })
                .unwrap_or_default();
            changed(
                &outcome,
                &format!("rule {} tuned{now}", rule.trim()),
                &format!("rule {} is tuned so already{now}", rule.trim()),
            );
            Ok(ExitCode::SUCCESS)
        }
        ComplianceCommand::Define { file } => {
            let text = read_rule_file(&file)?;
            let definition = match load_rule_file(&text) {
                Ok(definition) => definition,
                Err(e) => {
                    eprintln!(
                        "error: the rule in {} is refused ({} problem{}); nothing was recorded:",
                        escape_controls(&file.display().to_string()),
                        e.errors.len(),
                        if e.errors.len() == 1 { "" } else { "s" }
                    );
                    for problem in &e.errors {
                        eprintln!("  {}", escape_controls(&problem.to_string()));
                    }
                    let refused =
                        anyhow::Error::new(commands::CommandError::Validation(e.to_string()));
                    super::audit::record_cli_refusal(
                        database,
                        &actor.tenant,
                        "cli compliance define",
                        &refused,
                    )
                    .await;
                    return Ok(ExitCode::FAILURE);
                }
            };
            let id = definition.id.clone();
            let (commands, ctx) = policy_commands(store, database, actor).await?;
            let outcome = commands.define_rule(&ctx, definition).await?;
            let version = commands
                .policy(&ctx)
                .await?
                .custom
                .get(&id)
                .map(|d| d.version)
                .unwrap_or_default();
            changed(
                &outcome,
                &format!("custom rule {id} version {version} defined"),
                &format!("custom rule {id} version {version} is defined so already"),
            );
            Ok(ExitCode::SUCCESS)
        }
        ComplianceCommand::Retire { rule } => {
            let (commands, ctx) = policy_commands(store, database, actor).await?;
            let outcome = commands.retire_rule(&ctx, &rule).await?;
            changed(
                &outcome,
                &format!("custom rule {} retired", rule.trim()),
                &format!("custom rule {} is retired already", rule.trim()),
            );
            Ok(ExitCode::SUCCESS)
        }
        ComplianceCommand::Accept {
            violation,
            reason,
            expires,
        } => {
            let id = AggregateId::parse(violation.trim())
                .map_err(|e| anyhow::anyhow!("VIOLATION must be a violation id (a UUID): {e}"))?;
            let now = Utc::now();
            let expires_at = expiry(&expires, now)?;
            let (commands, ctx) = policy_commands(store, database, actor).await?;
            let outcome = commands
                .accept_violation(&ctx, id, &reason, expires_at, now)
                .await?;
            let what = format!(
                "violation {id} accepted by {} until {}",
                ctx.actor,
                expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            // Accept always records (a renewal is a new acceptance).
            changed(&outcome, &what, &what);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn policy_commands(
    store: &StoreArgs,
    database: &DatabaseArgs,
    actor: &Actor,
) -> anyhow::Result<(CompliancePolicyCommands, commands::CommandContext)> {
    let app = service(store, database).await?;
    Ok((
        CompliancePolicyCommands::new(app.state().handler.clone()),
        context(actor)?,
    ))
}

fn framework_of(raw: &str) -> anyhow::Result<FrameworkId> {
    FrameworkId::parse(raw).map_err(anyhow::Error::msg)
}

/// Says what a policy command did: the change with the events recorded, or `unchanged` when the
/// policy already was so.
fn changed(outcome: &CommandOutcome, what: &str, unchanged: &str) {
    if outcome.events.is_empty() {
        println!("{unchanged}; nothing recorded");
    } else {
        let ids: Vec<String> = outcome
            .event_ids()
            .iter()
            .map(|id| id.to_string())
            .collect();
        println!(
            "{what}: recorded event {} (aggregate {}, version {}, sequence {}){}",
            ids.join(", "),
            outcome.aggregate_id,
            outcome.version,
            outcome.sequence,
            if outcome.duplicate {
                ", already recorded by this command"
            } else {
                ""
            }
        );
    }
}

/// Reads a rule file, refusing anything larger than a rule can be before reading it whole.
fn read_rule_file(path: &std::path::Path) -> anyhow::Result<String> {
    let shown = escape_controls(&path.display().to_string()).into_owned();
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {shown}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_RULE_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {shown}"))?;
    if bytes.len() > MAX_RULE_FILE_BYTES {
        anyhow::bail!("{shown} is larger than a rule file may be ({MAX_RULE_FILE_BYTES} bytes)");
    }
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{shown} is not UTF-8 text"))
}

/// `--expires`: an RFC 3339 time, a date (midnight UTC) or `Nd` days from `now`.
fn expiry(raw: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    let raw = raw.trim();
    let expected = "expected an RFC 3339 time (2027-03-31T00:00:00Z), a date (2027-03-31) or a number of days (90d)";
    if let Some(days) = raw.strip_suffix('d') {
        let days: i64 = days
            .parse()
            .ok()
            .filter(|d| (1..=MAX_ACCEPTANCE_DAYS).contains(d))
            .ok_or_else(|| {
                anyhow::anyhow!("--expires {raw:?}: a number of days is 1 to {MAX_ACCEPTANCE_DAYS}")
            })?;
        return Ok(now + chrono::Duration::days(days));
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(raw) {
        return Ok(time.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(date
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc());
    }
    anyhow::bail!(
        "--expires {:?} is not a time; {expected}",
        domain::text::escape_controls(&raw.chars().take(40).collect::<String>())
    )
}

fn print_rules(rules: &[RuleListing]) {
    let mut table = Table::new();
    table
        .load_preset(UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(200)
        .set_header([
            "rule",
            "framework",
            "severity",
            "enabled",
            "control",
            "title",
        ]);
    for r in rules {
        let severity = if r.severity == r.own_severity {
            r.severity.as_str().to_owned()
        } else {
            format!("{} (own {})", r.severity.as_str(), r.own_severity.as_str())
        };
        let enabled = match (r.rule_enabled, r.framework_enabled) {
            (true, true) => "yes",
            (false, _) => "no (rule disabled)",
            (true, false) => "no (framework disabled)",
        };
        let id = if r.custom {
            format!("{} (custom v{})", r.id, r.version)
        } else {
            r.id.clone()
        };
        table.add_row([
            id,
            r.framework.as_str().to_owned(),
            severity,
            enabled.to_owned(),
            r.control.clone(),
            r.title.clone(),
        ]);
    }
    println!("{table}");
    let enabled = rules.iter().filter(|r| r.enabled()).count();
    println!(
        "{} rules, {enabled} enabled, {} custom",
        rules.len(),
        rules.iter().filter(|r| r.custom).count()
    );
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
