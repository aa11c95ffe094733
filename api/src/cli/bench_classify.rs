//! `pursight bench classify`: classification quality and speed on a labeled dataset (the format
//! of `datasets/pii-dev/`: a PostgreSQL script and `labels.csv` with
//! `table,column,label,alternates`), after the leave-one-corpus-out scores on the repository's own
//! labeled corpora ([`super::corpus`]): the figure for schemas the engine has not learned from.
//!
//! The script is loaded into a scratch database, which is registered, scanned and classified
//! through the real workflow by an in-process service on a scratch stream and read-model
//! database; the labels the catalog then shows (applied and suggested, propagated ones included)
//! are scored against the file. Everything scratch is removed at the end, also on failure.
//!
//! Scoring, per label row: an applied label is correct when it is the column's label or one of
//! its alternates (applied precision); a sensitive column (label not `NONE`) is recalled when a
//! correct label is applied (applied recall) or applied or suggested (suggested recall).

use super::discovery::{scan_everything, scratch_service, with_scratch, Scratch, Server};
use crate::graphql::catalog::{CatalogAssets, CatalogFeedback};
use crate::settings::{DatabaseArgs, StoreArgs};
use anyhow::Context;
use clap::Args;
use commands::classify::ClassificationOptions;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// PostgreSQL script that creates and fills the dataset's tables (e.g. pii-dev/postgres.sql).
    /// Without it (and `--labels`) only the leave-one-corpus-out scores are measured, in memory.
    #[arg(long, requires = "labels")]
    pub sql: Option<PathBuf>,
    /// `table,column,label,alternates` CSV with the expected label of every column.
    #[arg(long, requires = "sql")]
    pub labels: Option<PathBuf>,
    /// Measure only these corpora in the leave-one-corpus-out part (repeatable; default all).
    #[arg(long = "corpus")]
    pub corpora: Vec<String>,
    /// Skip the leave-one-corpus-out part.
    #[arg(long)]
    pub no_corpora: bool,
    /// Also measure the corpora with every table and column renamed (`t1.col1`), so only the
    /// values and their neighbours speak; prints `neutral_*` lines.
    #[arg(long)]
    pub neutral: bool,
    /// List every wrong applied label and missed column of the corpora.
    #[arg(long)]
    pub errors: bool,
    /// Print the candidates and signals of corpus columns, `corpus:table.column` (repeatable;
    /// with `--neutral`, as the column is classified under neutral names).
    #[arg(long)]
    pub explain: Vec<String>,
    /// Also write every column's outcome as CSV `table,column,label,state,confidence`.
    #[arg(long)]
    pub predictions: Option<PathBuf>,
}

/// The expected label of one column.
#[derive(Debug, Clone)]
pub(super) struct Expected {
    pub label: String,
    pub alternates: Vec<String>,
}

impl Expected {
    pub fn accepts(&self, label: &str) -> bool {
        self.label == label || self.alternates.iter().any(|a| a == label)
    }

    pub fn sensitive(&self) -> bool {
        self.label != "NONE"
    }
}

/// One predicted label of one column.
#[derive(Debug, Clone)]
pub(super) struct Predicted {
    pub table: String,
    pub column: String,
    pub label: String,
    pub applied: bool,
    pub confidence: f64,
}

/// Reads `labels.csv`: `(table, column) → expected`.
fn read_labels(path: &Path) -> anyhow::Result<BTreeMap<(String, String), Expected>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --labels {}", path.display()))?;
    let mut labels = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.starts_with("table,")) {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        let [table, column, label, rest @ ..] = fields.as_slice() else {
            anyhow::bail!(
                "{}:{}: expected table,column,label,alternates",
                path.display(),
                i + 1
            );
        };
        let alternates = rest
            .first()
            .map(|a| {
                a.split('|')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        labels.insert(
            (table.trim().to_owned(), column.trim().to_owned()),
            Expected {
                label: label.trim().to_owned(),
                alternates,
            },
        );
    }
    anyhow::ensure!(!labels.is_empty(), "{} holds no label rows", path.display());
    Ok(labels)
}

/// Precision/recall/F1 from counts.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Score {
    pub true_positives: u64,
    pub predicted: u64,
    pub expected: u64,
    /// Expected columns recalled (a column can be recalled by any accepted label).
    pub recalled: u64,
}

impl Score {
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.predicted)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.recalled, self.expected)
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 {
        1.0
    } else {
        n as f64 / d as f64
    }
}

/// Scores predictions (applied only, or applied and suggested) overall and per expected type.
pub(super) fn score(
    expected: &BTreeMap<(String, String), Expected>,
    predictions: &[Predicted],
    include_suggested: bool,
) -> (Score, BTreeMap<String, Score>) {
    let mut overall = Score::default();
    let mut per_type: BTreeMap<String, Score> = BTreeMap::new();
    let counted: Vec<&Predicted> = predictions
        .iter()
        .filter(|p| p.applied || include_suggested)
        .collect();
    for p in &counted {
        let Some(e) = expected.get(&(p.table.clone(), p.column.clone())) else {
            continue;
        };
        let correct = e.accepts(&p.label);
        overall.predicted += 1;
        let entry = per_type.entry(p.label.clone()).or_default();
        entry.predicted += 1;
        if correct {
            overall.true_positives += 1;
            entry.true_positives += 1;
        }
    }
    for ((table, column), e) in expected.iter().filter(|(_, e)| e.sensitive()) {
        overall.expected += 1;
        let entry = per_type.entry(e.label.clone()).or_default();
        entry.expected += 1;
        let recalled = counted
            .iter()
            .any(|p| &p.table == table && &p.column == column && e.accepts(&p.label));
        if recalled {
            overall.recalled += 1;
            entry.recalled += 1;
        }
    }
    (overall, per_type)
}

pub async fn run(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    args: ClassifyArgs,
) -> anyhow::Result<ExitCode> {
    let known: Vec<&str> = domain::classification::corpus::corpora()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    if let Some(unknown) = args.corpora.iter().find(|c| !known.contains(&c.as_str())) {
        anyhow::bail!(
            "--corpus {unknown}: no such corpus (known: {})",
            known.join(", ")
        );
    }
    for target in &args.explain {
        let (name, column) = target
            .split_once(':')
            .with_context(|| format!("--explain {target}: expected corpus:table.column"))?;
        let corpus = domain::classification::corpus::corpora()
            .iter()
            .find(|c| c.name == name)
            .with_context(|| format!("--explain {target}: no corpus {name}"))?;
        super::corpus::explain(corpus, column, args.neutral);
    }
    let held_out =
        (!args.no_corpora).then(|| super::corpus::run(&args.corpora, args.errors, false));
    let neutral = (!args.no_corpora && args.neutral)
        .then(|| super::corpus::run(&args.corpora, args.errors, true));
    let (Some(sql), Some(labels)) = (args.sql.clone(), args.labels.clone()) else {
        print_held_out(held_out, neutral);
        return Ok(ExitCode::SUCCESS);
    };
    let expected = read_labels(&labels)?;
    anyhow::ensure!(
        sql.is_file(),
        "--sql {} is not a readable file",
        sql.display()
    );
    let run_id = Uuid::new_v4().simple().to_string()[..8].to_owned();
    let server = Server::from_url(&database.database_url)?;
    println!(
        "bench classify: {} ({} labelled columns), PostgreSQL {}:{}, NATS {}, run {run_id}",
        sql.display(),
        expected.len(),
        server.host,
        server.port,
        eventlog::nats_url::redacted(&store_args.nats_url)
    );
    let (predictions, columns, elapsed) = with_scratch(&server, async |scratch| {
        measure(store_args, database, &sql, &run_id, &server, scratch).await
    })
    .await?;

    if let Some(path) = &args.predictions {
        let mut csv = String::from("table,column,label,state,confidence\n");
        for p in &predictions {
            csv.push_str(&format!(
                "{},{},{},{},{:.3}\n",
                p.table,
                p.column,
                p.label,
                if p.applied { "applied" } else { "suggested" },
                p.confidence
            ));
        }
        std::fs::write(path, csv)
            .with_context(|| format!("cannot write --predictions {}", path.display()))?;
        println!("predictions written to {}", path.display());
    }

    let (applied, applied_types) = score(&expected, &predictions, false);
    let (suggested, suggested_types) = score(&expected, &predictions, true);
    println!(
        "{:<24} {:>5} {:>5} {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6}",
        "type", "cols", "pred", "P", "R", "F1", "P+s", "R+s", "F1+s"
    );
    for (label, a) in &applied_types {
        let s = suggested_types.get(label).copied().unwrap_or_default();
        println!(
            "{label:<24} {:>5} {:>5} {:>6.3} {:>6.3} {:>6.3} | {:>6.3} {:>6.3} {:>6.3}",
            a.expected,
            a.predicted,
            a.precision(),
            a.recall(),
            a.f1(),
            s.precision(),
            s.recall(),
            s.f1()
        );
    }
    println!(
        "overall applied: P {:.3} R {:.3} F1 {:.3} ({} labels, {} correct, {} of {} sensitive columns)",
        applied.precision(),
        applied.recall(),
        applied.f1(),
        applied.predicted,
        applied.true_positives,
        applied.recalled,
        applied.expected
    );
    println!(
        "overall applied+suggested: P {:.3} R {:.3} F1 {:.3}",
        suggested.precision(),
        suggested.recall(),
        suggested.f1()
    );
    println!(
        "classification: {columns} columns in {:.2} s",
        elapsed.as_secs_f64()
    );
    print_held_out(held_out, neutral);
    println!("applied_precision: {:.4}", applied.precision());
    println!("applied_recall: {:.4}", applied.recall());
    println!("suggested_recall: {:.4}", suggested.recall());
    println!(
        "columns_per_s: {:.1}",
        columns as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}

/// The leave-one-corpus-out totals (names as they are, then neutral names) as `key: value`
/// lines.
fn print_held_out(held_out: Option<(Score, Score, f64)>, neutral: Option<(Score, Score, f64)>) {
    for (prefix, scores) in [("heldout", held_out), ("neutral", neutral)] {
        if let Some((applied, suggested, ece)) = scores {
            println!("{prefix}_applied_precision: {:.4}", applied.precision());
            println!("{prefix}_applied_recall: {:.4}", applied.recall());
            println!("{prefix}_suggested_recall: {:.4}", suggested.recall());
            println!("{prefix}_ece: {ece:.4}");
        }
    }
}

async fn measure(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    sql: &Path,
    run_id: &str,
    server: &Server,
    scratch: &mut Scratch,
) -> anyhow::Result<(Vec<Predicted>, u64, Duration)> {
    let data_db = format!("pursight_benchcls_{run_id}");
    let read_model_db = format!("pursight_benchclsrm_{run_id}");
    let mut admin = server.connect("postgres").await?;
    sqlx::Executor::execute(
        &mut admin,
        format!("CREATE DATABASE \"{data_db}\"").as_str(),
    )
    .await
    .with_context(|| format!("cannot create the scratch database {data_db}"))?;
    scratch.databases.push(data_db.clone());
    scratch.databases.push(read_model_db.clone());
    sqlx::Connection::close(admin).await?;
    load_script(server, &data_db, sql).await?;

    let (app, ctx, source) = scratch_service(
        store_args,
        database,
        server,
        scratch,
        &format!("bench-cls-{run_id}"),
        &read_model_db,
        &data_db,
        &format!("bench classify {run_id}"),
    )
    .await?;
    let state = app.state();
    let tenant = ctx.tenant.clone();
    let known = CatalogAssets::new(&state.store, &state.pool);
    let scan = scan_everything(app, &ctx, source, &known).await?;
    println!(
        "scanned: {} assets, {} columns",
        scan.metrics.tables + scan.metrics.views,
        scan.metrics.columns
    );
    let feedback = CatalogFeedback::new(&state.pool);
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} classifying [{bar:30}] {pos}/{len} assets ({elapsed})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let started = Instant::now();
    let report = state
        .workflows
        .classify_source(
            &ctx.follow_up(),
            source,
            &known,
            &feedback,
            ClassificationOptions::default(),
            &|p| {
                bar.set_length(p.assets_total);
                bar.set_position(p.assets_done);
            },
        )
        .await;
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let report = report?;
    for (path, reason) in &report.failures {
        println!("warning: {path} was not classified: {reason}");
    }

    // What the catalog shows once it has caught up (propagated labels included).
    let target = state.store.last_sequence().await?;
    let caught_up = projections::checkpoint::wait_for(
        &state.pool,
        &[projections::catalog::NAME],
        target,
        Duration::from_secs(60),
    )
    .await?;
    anyhow::ensure!(caught_up, "the catalog read model did not catch up in 60 s");
    let rows = projections::labels::labels(
        &state.pool,
        tenant.as_str(),
        &projections::labels::LabelFilter {
            source_id: Some(source.as_uuid()),
            statuses: vec!["applied".into(), "suggested".into(), "confirmed".into()],
            limit: 1_000_000,
            ..Default::default()
        },
    )
    .await?;
    let predictions = rows
        .into_iter()
        .map(|row| Predicted {
            table: row
                .asset_path
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_owned(),
            column: row.column_name,
            label: row.label,
            applied: row.status != "suggested",
            confidence: row.confidence,
        })
        .collect();
    Ok((predictions, report.columns, elapsed))
}

/// Loads the dataset script with `psql` (the scripts use psql's syntax and many statements).
async fn load_script(server: &Server, database: &str, script: &Path) -> anyhow::Result<()> {
    let mut command = std::process::Command::new("psql");
    command
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            &server.host,
            "-p",
        ])
        .arg(server.port.to_string())
        .args(["-U", &server.user, "-d", database, "-f"])
        .arg(script)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if let Some(password) = &server.password {
        command.env("PGPASSWORD", password);
    }
    let output = tokio::task::spawn_blocking(move || command.output()).await?;
    let output = match output {
        Ok(output) => output,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "psql is not installed (it loads the dataset): install the Debian package postgresql-client"
        ),
        Err(err) => return Err(err).context("cannot run psql"),
    };
    if !output.status.success() {
        anyhow::bail!(
            "loading {} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(rows: &[(&str, &str, &str, &[&str])]) -> BTreeMap<(String, String), Expected> {
        rows.iter()
            .map(|(t, c, l, a)| {
                (
                    (t.to_string(), c.to_string()),
                    Expected {
                        label: l.to_string(),
                        alternates: a.iter().map(|s| s.to_string()).collect(),
                    },
                )
            })
            .collect()
    }

    fn predicted(t: &str, c: &str, l: &str, applied: bool) -> Predicted {
        Predicted {
            table: t.into(),
            column: c.into(),
            label: l.into(),
            applied,
            confidence: 0.9,
        }
    }

    #[test]
    fn alternates_count_as_correct_and_none_columns_are_not_recalled() {
        let expected = expected(&[
            ("customers", "email", "EMAIL_ADDRESS", &[]),
            ("customers", "city", "NONE", &["POSTAL_ADDRESS"]),
            ("customers", "card_brand", "NONE", &[]),
            ("customers", "ph", "PHONE_NUMBER", &[]),
        ]);
        let predictions = vec![
            predicted("customers", "email", "EMAIL_ADDRESS", true),
            predicted("customers", "city", "POSTAL_ADDRESS", true),
            predicted("customers", "card_brand", "CREDIT_CARD_NUMBER", true),
            predicted("customers", "ph", "PHONE_NUMBER", false),
        ];
        let (applied, per_type) = score(&expected, &predictions, false);
        assert_eq!((applied.true_positives, applied.predicted), (2, 3));
        assert_eq!((applied.recalled, applied.expected), (1, 2));
        assert_eq!(per_type["CREDIT_CARD_NUMBER"].precision(), 0.0);
        let (suggested, _) = score(&expected, &predictions, true);
        assert_eq!(suggested.recall(), 1.0);
    }

    #[test]
    fn the_labels_file_is_read_with_alternates() {
        let dir = std::env::temp_dir().join(format!("pursight-labels-{}", Uuid::new_v4()));
        std::fs::write(
            &dir,
            "table,column,label,alternates\nshops,town,NONE,POSTAL_ADDRESS|POSTAL_CODE\nshops,id,NONE,\n",
        )
        .unwrap();
        let labels = read_labels(&dir).unwrap();
        std::fs::remove_file(&dir).unwrap();
        let town = &labels[&("shops".to_owned(), "town".to_owned())];
        assert!(town.accepts("POSTAL_CODE") && !town.sensitive());
        assert_eq!(labels.len(), 2);
    }
}
