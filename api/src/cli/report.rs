//! `pursight report compliance`: one framework's compliance report for a tenant (or one of its
//! sources) from the `compliance` read model — the score, the open and accepted counts, and
//! every open and accepted violation with its control, remediation and evidence — as a
//! self-contained HTML page, JSON (with the evidence's event ids, sequences and hashes, for
//! `pursight verify` or anyone holding an export) or CSV (one row per violation).
//!
//! Everything in a report that a tenant controls (source names, paths, column names, reasons,
//! custom rule texts) is escaped for its format: HTML-escaped in the page, and in CSV a cell
//! that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage
//! return) gets a leading `'`.

use super::source::{caught_up, context, resolve, service, Actor};
use crate::graphql::compliance::{framework_title, framework_version, load_policy};
use crate::settings::{DatabaseArgs, StoreArgs};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use domain::compliance::FrameworkId;
use projections::compliance::{self as rm, EvidenceJson, FactJson, ScoreRow, ViolationRow};
use projections::data_sources::{self, ListFilter};
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Write one framework's compliance report: the score, and every open and accepted violation
    /// with its control, remediation and evidence.
    ///
    /// Reads the compliance read model (run `pursight compliance evaluate` first). The HTML is
    /// one self-contained page (no external assets) that prints well; the JSON carries the
    /// event id, stream sequence and hash of every cited event, so `pursight verify` — or anyone
    /// holding an export — can check them; the CSV has one row per violation.
    Compliance(ComplianceReportArgs),
}

/// The report's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained page, printable.
    Html,
    /// Machine-readable, with the full evidence.
    Json,
    /// One row per violation.
    Csv,
}

#[derive(Debug, Args)]
pub struct ComplianceReportArgs {
    /// Only this source (id or exact name); omitted: every source of the tenant.
    #[arg(long)]
    pub source: Option<String>,
    /// gdpr, pci-dss, hipaa or soc2.
    #[arg(long)]
    pub framework: String,
    /// html, json or csv.
    #[arg(long, value_enum)]
    pub format: ReportFormat,
    /// The file to write (replaced if it exists).
    #[arg(long)]
    pub output: PathBuf,
}

pub async fn run(
    store: &StoreArgs,
    database: &DatabaseArgs,
    actor: &Actor,
    command: ReportCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        ReportCommand::Compliance(args) => compliance(store, database, actor, args).await,
    }
}

/// The score and counts of the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportScore {
    pub score: u8,
    pub formula: &'static str,
    pub open: Counts,
    pub accepted: Counts,
}

/// Violations by severity.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Counts {
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
    pub total: i64,
}

impl Counts {
    fn new(low: i64, medium: i64, high: i64, critical: i64) -> Self {
        Self {
            critical,
            high,
            medium,
            low,
            total: low + medium + high + critical,
        }
    }
}

/// The framework a report is about.
#[derive(Debug, Clone, Serialize)]
pub struct ReportFramework {
    pub id: &'static str,
    pub title: String,
    pub version: String,
    pub enabled: bool,
}

/// The source a report is limited to.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSource {
    pub id: uuid::Uuid,
    pub name: String,
}

/// A risk acceptance.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportAcceptance {
    pub by: String,
    pub reason: String,
    pub accepted_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

/// One violation of the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportViolation {
    pub id: uuid::Uuid,
    pub rule: String,
    pub rule_version: i32,
    pub title: String,
    pub control: String,
    pub severity: String,
    pub status: String,
    pub source_id: uuid::Uuid,
    pub source_name: Option<String>,
    pub subject_level: String,
    pub asset_path: Option<String>,
    pub column: Option<String>,
    pub remediation: String,
    pub detected_at: DateTime<Utc>,
    pub acceptance: Option<ReportAcceptance>,
    pub facts: Vec<FactJson>,
    pub evidence: Vec<EvidenceJson>,
}

/// A whole compliance report (the JSON format is this, serialised).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceReportDoc {
    pub report: &'static str,
    pub format_version: u32,
    pub tenant: String,
    pub framework: ReportFramework,
    /// `null`: every source of the tenant.
    pub source: Option<ReportSource>,
    pub generated_at: DateTime<Utc>,
    /// The stream's last sequence when the report was made; the read model had applied it.
    pub as_of_sequence: u64,
    pub score: ReportScore,
    pub violations: Vec<ReportViolation>,
}

const FORMULA: &str = "max(0, 100 - sum of the weights of open violations); weights critical 25, high 10, medium 4, low 1; accepted and resolved violations do not count";

async fn compliance(
    store: &StoreArgs,
    database: &DatabaseArgs,
    actor: &Actor,
    args: ComplianceReportArgs,
) -> anyhow::Result<ExitCode> {
    let framework = FrameworkId::parse(&args.framework).map_err(anyhow::Error::msg)?;
    let app = service(store, database).await?;
    let ctx = context(actor)?;
    let source = match &args.source {
        Some(source) => Some(resolve(&app, &ctx.tenant, source).await?.as_uuid()),
        None => None,
    };
    caught_up(&app).await?;
    let state = app.state();
    let as_of_sequence = state.store.last_sequence().await?;
    let tenant = ctx.tenant.as_str();
    let names: HashMap<uuid::Uuid, String> = data_sources::list(
        &state.pool,
        tenant,
        &ListFilter {
            include_archived: true,
            limit: 100_000,
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .map(|row| (row.id, row.name))
    .collect();
    let source = match source {
        Some(id) => Some(ReportSource {
            id,
            name: names
                .get(&id)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("no data source {id} in tenant {}", ctx.tenant))?,
        }),
        None => None,
    };
    let policy = load_policy(&state.store, &ctx.tenant).await?;
    let row: ScoreRow = rm::scores(&state.pool, tenant, source.as_ref().map(|s| s.id))
        .await?
        .into_iter()
        .find(|r| r.framework == framework.as_str())
        .unwrap_or_default();
    let violations = rm::standing(
        &state.pool,
        tenant,
        framework.as_str(),
        source.as_ref().map(|s| s.id),
    )
    .await?
    .into_iter()
    .map(|v| violation(v, &names))
    .collect();
    let doc = ComplianceReportDoc {
        report: "compliance",
        format_version: 1,
        tenant: tenant.to_owned(),
        framework: ReportFramework {
            id: framework.as_str(),
            title: framework_title(framework),
            version: framework_version(framework),
            enabled: policy.enabled(framework),
        },
        source,
        generated_at: Utc::now(),
        as_of_sequence,
        score: ReportScore {
            score: row.score(),
            formula: FORMULA,
            open: Counts::new(
                row.open_low,
                row.open_medium,
                row.open_high,
                row.open_critical,
            ),
            accepted: Counts::new(
                row.accepted_low,
                row.accepted_medium,
                row.accepted_high,
                row.accepted_critical,
            ),
        },
        violations,
    };
    let bytes = match args.format {
        ReportFormat::Html => html(&doc).into_bytes(),
        ReportFormat::Json => {
            let mut json = serde_json::to_vec_pretty(&doc)?;
            json.push(b'\n');
            json
        }
        ReportFormat::Csv => csv(&doc)?,
    };
    std::fs::write(&args.output, bytes)
        .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", args.output.display()))?;
    println!(
        "wrote {}: {} score {}/100, {} open and {} accepted violations (as of stream sequence {})",
        args.output.display(),
        doc.framework.title,
        doc.score.score,
        doc.score.open.total,
        doc.score.accepted.total,
        doc.as_of_sequence
    );
    Ok(ExitCode::SUCCESS)
}

fn violation(v: ViolationRow, names: &HashMap<uuid::Uuid, String>) -> ReportViolation {
    let facts = v.facts();
    let evidence = v.evidence();
    let acceptance = match (&v.accepted_by, &v.accepted_reason, v.accepted_until) {
        (Some(by), Some(reason), Some(expires_at)) => Some(ReportAcceptance {
            by: by.clone(),
            reason: reason.clone(),
            accepted_at: v.accepted_at,
            expires_at,
        }),
        _ => None,
    };
    ReportViolation {
        id: v.id,
        source_name: names.get(&v.source_id).cloned(),
        rule: v.rule_id,
        rule_version: v.rule_version,
        title: v.title,
        control: v.control,
        severity: v.severity,
        status: v.status,
        source_id: v.source_id,
        subject_level: v.subject_level,
        asset_path: v.asset_path,
        column: v.column_name,
        remediation: v.remediation,
        detected_at: v.detected_at,
        acceptance,
        facts,
        evidence,
    }
}

/// `text` safe inside HTML text and double-quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `cell` safe to open in a spreadsheet: a cell starting with a character that makes it a
/// formula gets a leading `'` (OWASP's CSV injection advice).
pub fn csv_cell(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

fn subject_text(v: &ReportViolation) -> String {
    let source = v
        .source_name
        .clone()
        .unwrap_or_else(|| v.source_id.to_string());
    match (&v.asset_path, &v.column) {
        (Some(path), Some(column)) => format!("{path}.{column}"),
        (Some(path), None) => path.clone(),
        _ => format!("source {source}"),
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn csv(doc: &ComplianceReportDoc) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "framework",
        "severity",
        "status",
        "rule",
        "rule_version",
        "title",
        "control",
        "source_id",
        "source",
        "subject_level",
        "asset_path",
        "column",
        "remediation",
        "detected_at",
        "accepted_by",
        "accepted_reason",
        "accepted_until",
        "evidence",
    ])?;
    for v in &doc.violations {
        let acceptance = v.acceptance.as_ref();
        let evidence = v
            .evidence
            .iter()
            .map(|e| format!("{}:{}:{}", e.sequence, e.event_id, e.hash))
            .collect::<Vec<_>>()
            .join(" ");
        let cells = [
            doc.framework.id.to_owned(),
            v.severity.clone(),
            v.status.clone(),
            v.rule.clone(),
            v.rule_version.to_string(),
            v.title.clone(),
            v.control.clone(),
            v.source_id.to_string(),
            v.source_name.clone().unwrap_or_default(),
            v.subject_level.clone(),
            v.asset_path.clone().unwrap_or_default(),
            v.column.clone().unwrap_or_default(),
            v.remediation.clone(),
            v.detected_at.to_rfc3339(),
            acceptance.map(|a| a.by.clone()).unwrap_or_default(),
            acceptance.map(|a| a.reason.clone()).unwrap_or_default(),
            acceptance
                .map(|a| a.expires_at.to_rfc3339())
                .unwrap_or_default(),
            evidence,
        ];
        writer.write_record(cells.iter().map(|c| csv_cell(c)))?;
    }
    Ok(writer.into_inner().map_err(|e| e.into_error())?)
}

const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24; margin: 2rem auto; max-width: 70rem; padding: 0 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .75rem; border-bottom: 2px solid #1b1f24; padding-bottom: .25rem; }
h3 { font-size: 1rem; margin: 0; }
.meta { color: #4a5560; margin: 0 0 1.5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid #d0d7de; }
th { background: #f3f5f7; font-weight: 600; }
.summary { display: flex; gap: 2rem; align-items: center; flex-wrap: wrap; }
.score { font-size: 3rem; font-weight: 700; border: 3px solid #1b1f24; border-radius: .5rem; padding: .25rem 1rem; }
.score small { font-size: 1rem; font-weight: 400; }
.counts { width: auto; }
.violation { border: 1px solid #d0d7de; border-left-width: 6px; border-radius: .35rem; padding: .75rem 1rem; margin: 0 0 1rem; break-inside: avoid; page-break-inside: avoid; }
.sev-critical { border-left-color: #8b0000; }
.sev-high { border-left-color: #c2410c; }
.sev-medium { border-left-color: #b8860b; }
.sev-low { border-left-color: #4a5560; }
.badge { display: inline-block; font-size: .75rem; font-weight: 700; text-transform: uppercase; letter-spacing: .03em; border: 1px solid currentColor; border-radius: .25rem; padding: 0 .35rem; margin-right: .35rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .6rem 0; }
dt { color: #4a5560; }
dd { margin: 0; white-space: pre-wrap; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .8rem; word-break: break-all; }
.evidence td { font-size: .8rem; }
.none { color: #4a5560; font-style: italic; }
footer { margin-top: 2rem; color: #4a5560; font-size: .8rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; color: #000; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .violation { border-color: #000; }
  th { background: none; }
  @page { margin: 1.5cm; }
}
"#;

fn html(doc: &ComplianceReportDoc) -> String {
    use std::fmt::Write as _;
    let e = escape_html;
    let mut out = String::new();
    let scope = match &doc.source {
        Some(source) => format!("source {} ({})", e(&source.name), source.id),
        None => "every source of the tenant".to_owned(),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} compliance report — {tenant}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>{title} compliance report</h1>\n\
         <p class=\"meta\">Tenant <strong>{tenant}</strong>, {scope}. Generated {generated} from the \
         event stream up to sequence {sequence}. Framework pack {version}{disabled}.</p>\n",
        title = e(&doc.framework.title),
        tenant = e(&doc.tenant),
        generated = time(doc.generated_at),
        sequence = doc.as_of_sequence,
        version = e(&doc.framework.version),
        disabled = if doc.framework.enabled {
            ""
        } else {
            " (disabled for this tenant: not evaluated)"
        },
    );
    let s = &doc.score;
    let _ = write!(
        out,
        "<h2>Score</h2>\n<div class=\"summary\">\n<div class=\"score\">{score}<small>/100</small></div>\n\
         <table class=\"counts\">\n<tr><th></th><th>critical</th><th>high</th><th>medium</th><th>low</th><th>total</th></tr>\n\
         <tr><th>open</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n\
         <tr><th>accepted</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n</table>\n</div>\n\
         <p class=\"meta\">Score: {formula}.</p>\n",
        s.open.critical,
        s.open.high,
        s.open.medium,
        s.open.low,
        s.open.total,
        s.accepted.critical,
        s.accepted.high,
        s.accepted.medium,
        s.accepted.low,
        s.accepted.total,
        score = s.score,
        formula = e(s.formula),
    );
    let _ = writeln!(
        out,
        "<h2>Open and accepted violations ({})</h2>",
        doc.violations.len()
    );
    if doc.violations.is_empty() {
        out.push_str("<p class=\"none\">No open or accepted violations.</p>\n");
    }
    for v in &doc.violations {
        let _ = write!(
            out,
            "<section class=\"violation sev-{severity}\">\n<h3><span class=\"badge\">{severity}</span>\
             <span class=\"badge\">{status}</span>{title}</h3>\n<dl>\n\
             <dt>Control</dt><dd>{control}</dd>\n<dt>Subject</dt><dd>{subject}</dd>\n\
             <dt>Source</dt><dd>{source}</dd>\n<dt>Rule</dt><dd><code>{rule}</code> v{rule_version}</dd>\n\
             <dt>Detected</dt><dd>{detected}</dd>\n<dt>Remediation</dt><dd>{remediation}</dd>\n",
            severity = e(&v.severity),
            status = e(&v.status),
            title = e(&v.title),
            control = e(&v.control),
            subject = e(&subject_text(v)),
            source = e(&v
                .source_name
                .clone()
                .unwrap_or_else(|| v.source_id.to_string())),
            rule = e(&v.rule),
            rule_version = v.rule_version,
            detected = time(v.detected_at),
            remediation = e(&v.remediation),
        );
        if let Some(a) = &v.acceptance {
            let _ = writeln!(
                out,
                "<dt>Accepted</dt><dd>by {by} until {until}: {reason}</dd>",
                by = e(&a.by),
                until = time(a.expires_at),
                reason = e(&a.reason),
            );
        }
        if !v.facts.is_empty() {
            out.push_str("<dt>Facts</dt><dd>");
            for (i, f) in v.facts.iter().enumerate() {
                if i > 0 {
                    out.push_str("<br>");
                }
                let about: Vec<String> = [&f.column, &f.label, &f.role]
                    .into_iter()
                    .flatten()
                    .map(|s| e(s))
                    .collect();
                let _ = write!(
                    out,
                    "<code>{fact}</code>{about} = {value} <span class=\"mono\">(sequence {sequence})</span>",
                    fact = e(&f.fact),
                    about = if about.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", about.join(", "))
                    },
                    value = e(&f.value),
                    sequence = f.evidence.sequence,
                );
            }
            out.push_str("</dd>\n");
        }
        out.push_str("</dl>\n<table class=\"evidence\">\n<tr><th>evidence: sequence</th><th>event id</th><th>hash</th></tr>\n");
        for ev in &v.evidence {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
                ev.sequence,
                ev.event_id,
                e(&ev.hash)
            );
        }
        out.push_str("</table>\n</section>\n");
    }
    let _ = write!(
        out,
        "<footer>Every cited event can be checked against the stream (<code>pursight verify</code>) \
         or an export (<code>pursight export</code>, then <code>pursight verify --file</code>) by its \
         id, sequence and hash; the JSON form of this report lists them all.</footer>\n</body>\n</html>\n"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_quotes() {
        assert_eq!(
            escape_html(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    /// A report whose every tenant-controlled text is `text`.
    fn hostile(text: &str) -> ComplianceReportDoc {
        let evidence = EvidenceJson {
            event_id: uuid::Uuid::from_u128(1),
            sequence: 7,
            hash: "ab".repeat(32),
        };
        ComplianceReportDoc {
            report: "compliance",
            format_version: 1,
            tenant: "acme".into(),
            framework: ReportFramework {
                id: "gdpr",
                title: "GDPR".into(),
                version: "sha256:000000000000".into(),
                enabled: true,
            },
            source: Some(ReportSource {
                id: uuid::Uuid::from_u128(2),
                name: text.into(),
            }),
            generated_at: Utc::now(),
            as_of_sequence: 9,
            score: ReportScore {
                score: 90,
                formula: FORMULA,
                open: Counts::new(0, 0, 1, 0),
                accepted: Counts::new(0, 0, 0, 0),
            },
            violations: vec![ReportViolation {
                id: uuid::Uuid::from_u128(3),
                rule: "acme-custom".into(),
                rule_version: 1,
                title: text.into(),
                control: text.into(),
                severity: "high".into(),
                status: "accepted".into(),
                source_id: uuid::Uuid::from_u128(2),
                source_name: Some(text.into()),
                subject_level: "column".into(),
                asset_path: Some(text.into()),
                column: Some(text.into()),
                remediation: text.into(),
                detected_at: Utc::now(),
                acceptance: Some(ReportAcceptance {
                    by: text.into(),
                    reason: text.into(),
                    accepted_at: Some(Utc::now()),
                    expires_at: Utc::now(),
                }),
                facts: vec![FactJson {
                    fact: "asset.owner".into(),
                    column: Some(text.into()),
                    label: None,
                    role: None,
                    value: text.into(),
                    evidence: evidence.clone(),
                }],
                evidence: vec![evidence],
            }],
        }
    }

    #[test]
    fn tenant_text_never_becomes_markup_or_a_formula() {
        let text = "=HYPERLINK(\"x\") <img src=x onerror=alert(1)> & \"quoted\"";
        let doc = hostile(text);
        let page = html(&doc);
        assert!(!page.contains("<img"), "{page}");
        // Title, control, subject, source, remediation, acceptance (2), fact value and the
        // header's source name: each escaped.
        assert!(
            page.matches("&lt;img src=x onerror=alert(1)&gt;").count() >= 9,
            "{page}"
        );
        let bytes = csv(&doc).unwrap();
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let record = reader.records().next().unwrap().unwrap();
        let formulas: Vec<&str> = record.iter().filter(|c| c.starts_with('=')).collect();
        assert!(formulas.is_empty(), "{formulas:?}");
        assert!(record.iter().filter(|c| *c == format!("'{text}")).count() >= 7);
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_get_a_leading_quote() {
        for formula in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_cell(formula), format!("'{formula}"));
        }
        assert_eq!(csv_cell("billing.customers"), "billing.customers");
        assert_eq!(csv_cell(""), "");
    }
}
