//! `pursight classify SOURCE`: classifies a scanned source's columns now (also run after every
//! `pursight scan`), with a progress bar and a table of every label with its reasons.

use super::source::{context, resolve, service, Actor};
use crate::app::Application;
use crate::graphql::catalog::{CatalogAssets, CatalogFeedback};
use crate::settings::{DatabaseArgs, StoreArgs};
use clap::Args;
use comfy_table::{presets::UTF8_HORIZONTAL_ONLY, ContentArrangement, Table};
use commands::classify::{ClassificationOptions, ClassificationProgress, ClassificationReport};
use commands::CommandContext;
use domain::classification::explanation;
use domain::AggregateId;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Source id or exact name.
    pub source: String,
    /// Re-evaluate the stored column statistics instead of sampling the source again.
    #[arg(long)]
    pub from_profiles: bool,
}

pub async fn classify(
    store: &StoreArgs,
    database: &DatabaseArgs,
    actor: &Actor,
    args: ClassifyArgs,
) -> anyhow::Result<ExitCode> {
    let app = service(store, database).await?;
    let ctx = context(actor)?;
    let id = resolve(&app, &ctx.tenant, &args.source).await?;
    let options = ClassificationOptions {
        from_profiles: args.from_profiles,
        ..Default::default()
    };
    let report = run(&app, &ctx, id, options).await?;
    print_report(&report);
    Ok(ExitCode::SUCCESS)
}

/// Classifies with a progress bar.
pub(crate) async fn run(
    app: &Application,
    ctx: &CommandContext,
    source: AggregateId,
    options: ClassificationOptions,
) -> anyhow::Result<ClassificationReport> {
    let state = app.state();
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} classifying [{bar:30}] {pos}/{len} assets ({elapsed})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let known = CatalogAssets::new(&state.store, &state.pool);
    let feedback = CatalogFeedback::new(&state.pool);
    let progress = |p: ClassificationProgress| {
        bar.set_length(p.assets_total);
        bar.set_position(p.assets_done);
    };
    let report = state
        .workflows
        .classify_source(
            &ctx.follow_up(),
            source,
            &known,
            &feedback,
            options,
            &progress,
        )
        .await;
    bar.finish_and_clear();
    Ok(report?)
}

/// Prints every label (applied first, then suggested) with its reasons, and a summary line.
pub(crate) fn print_report(report: &ClassificationReport) {
    let mut table = Table::new();
    table
        .load_preset(UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(160)
        .set_header(["column", "label", "state", "confidence", "why"]);
    let mut outcomes: Vec<_> = report.outcomes.iter().collect();
    outcomes.sort_by_key(|o| !o.applied);
    for o in outcomes {
        table.add_row([
            format!("{}.{}", o.asset_path, o.column),
            o.candidate.label.to_string(),
            if o.applied { "applied" } else { "suggested" }.to_owned(),
            format!("{:.2}", o.candidate.confidence),
            explanation(&o.candidate.signals),
        ]);
    }
    if !report.outcomes.is_empty() {
        println!("{table}");
    }
    let applied = report.outcomes.iter().filter(|o| o.applied).count();
    println!(
        "classified {} columns of {} assets in {:.1} s: {applied} labels applied, {} suggested for review, {} propagated along lineage, {} label events recorded",
        report.columns,
        report.assets,
        report.duration_ms as f64 / 1000.0,
        report.outcomes.len() - applied,
        report.propagated,
        report.labels_recorded,
    );
    for (path, reason) in &report.failures {
        println!("warning: {path} was not classified: {reason}");
    }
}
