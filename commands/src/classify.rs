//! The classification workflow: after a scan (or on demand), every asset in the rule set's scope
//! is sampled through its connector, each sampled column is turned into a statistics profile at
//! once (the values are dropped there and never stored, logged or returned), the classifier
//! combines its three tiers with the tenant's review feedback, and each asset records what
//! changed: applied and suggested labels, labels no longer found. Labels then propagate along
//! column-level lineage, and propagated labels whose origin is gone are revoked.
//!
//! The same path runs without writing anything for `previewScanRuleSet` and can re-evaluate from
//! the stored profiles instead of sampling (a changed rule set needs no new read of the source).

use crate::workflows::{AssetList, KnownAssets, SourceWorkflows};
use crate::{CommandContext, CommandError, Loaded};
use domain::access::Permission;
use domain::aggregate::DomainEvent;
use domain::asset::{
    is_classifier_suggestion, Asset, AssetCommand, AssetEvent, AssetState, ClassifierOutcome,
    LabelOrigin, LabelStatus, RuleSetRef,
};
use domain::classification::{
    classify_table, Candidate, ColumnProfile, FeedbackModel, Signal, TableProfile, Tier,
};
use domain::datasource::{DataSource, DataSourceCommand, DataSourceConfig};
use domain::discovery::{AssetId, AssetSchema};
use domain::rule_set::{RuleSetDefinition, ScanRuleSet};
use domain::{Aggregate, AggregateId};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

/// How many assets are sampled and classified at once (each holds one connection to the
/// source while it samples).
pub const CLASSIFICATION_CONCURRENCY: usize = 8;
/// The most assets one sampling connection reads, one after the other.
const MAX_SAMPLING_BATCH: usize = 64;

/// How many assets one sampling connection reads, one after the other, when `assets` are
/// classified: spread evenly over the [`CLASSIFICATION_CONCURRENCY`] connections, so that each
/// is opened once (a connection costs the source a process, and a TLS handshake) while every
/// one of them stays busy, and at most [`MAX_SAMPLING_BATCH`] so that progress is reported as
/// the batches finish.
pub fn sampling_batch(assets: usize) -> usize {
    assets
        .div_ceil(CLASSIFICATION_CONCURRENCY)
        .clamp(1, MAX_SAMPLING_BATCH)
}
/// How many asset histories are loaded at once for propagation.
const LOADING_CONCURRENCY: usize = 32;
/// How many lineage hops a label travels at most (views of views of …).
const MAX_PROPAGATION_HOPS: usize = 5;

/// The tenant's reviewed labels, as the read side knows them.
pub trait FeedbackSource: Send + Sync {
    fn feedback<'a>(
        &'a self,
        tenant: &'a domain::TenantId,
    ) -> Pin<Box<dyn Future<Output = Result<FeedbackModel, String>> + Send + 'a>>;
}

/// No feedback (a tenant nobody reviewed for yet, and tests of the classifier alone).
pub struct NoFeedback;

impl FeedbackSource for NoFeedback {
    fn feedback<'a>(
        &'a self,
        _tenant: &'a domain::TenantId,
    ) -> Pin<Box<dyn Future<Output = Result<FeedbackModel, String>> + Send + 'a>> {
        Box::pin(async { Ok(FeedbackModel::default()) })
    }
}

/// What a classification run is asked to do.
#[derive(Debug, Clone, Default)]
pub struct ClassificationOptions {
    /// Classify with this definition instead of the source's attached rule set (previews).
    pub rule_set: Option<RuleSetDefinition>,
    /// Record nothing: report what would be labelled.
    pub dry_run: bool,
    /// Re-evaluate the stored column profiles instead of sampling the source (assets without a
    /// stored profile are sampled).
    pub from_profiles: bool,
}

/// What the classifier concluded for one column label.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelOutcome {
    pub asset_id: AggregateId,
    /// The asset's path, e.g. `shop.public.customers`.
    pub asset_path: String,
    pub column: String,
    pub candidate: Candidate,
    pub applied: bool,
}

/// Progress of a classification, reported after each asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassificationProgress {
    pub assets_done: u64,
    pub assets_total: u64,
}

/// The outcome of a classification run.
#[derive(Debug, Clone, Default)]
pub struct ClassificationReport {
    pub assets: u64,
    pub columns: u64,
    /// Rows read from the source (0 when re-evaluated from profiles).
    pub rows_sampled: u64,
    /// What the classifier concluded (applied and suggested labels), whether or not it changed
    /// anything recorded.
    pub outcomes: Vec<LabelOutcome>,
    /// Label events recorded (0 for a dry run).
    pub labels_recorded: u64,
    pub propagated: u64,
    pub revoked_by_lineage: u64,
    /// Assets that could not be sampled, with the reason (they keep their labels).
    pub failures: Vec<(String, String)>,
    pub duration_ms: u64,
    /// The rule set (and version) used; `None` for the built-in defaults or a preview.
    pub rule_set: Option<RuleSetRef>,
    /// The classified assets after their labels were recorded (for propagation).
    states: BTreeMap<AggregateId, AssetState>,
}

/// Where a scan followed by classification reports its progress.
#[derive(Clone, Copy)]
pub struct PipelineProgress<'a> {
    pub scan: &'a (dyn Fn(connectors::probe::DiscoveryProgress) + Send + Sync),
    pub classification: &'a (dyn Fn(ClassificationProgress) + Send + Sync),
}

impl PipelineProgress<'static> {
    /// Reports nothing.
    pub fn silent() -> Self {
        Self {
            scan: &|_| {},
            classification: &|_| {},
        }
    }
}

/// A scan and the classification that followed it.
#[derive(Debug, Clone)]
pub struct ScanAndClassification {
    pub scan: crate::workflows::ScanReport,
    /// `None` when the scan failed (nothing to classify); `Err` with the reason when the
    /// classification failed (the scan's results stand).
    pub classification: Option<Result<ClassificationReport, String>>,
}

impl SourceWorkflows {
    /// Runs a started scan and, when it completed, classifies the source (Scanned → Classifying
    /// → Classified): the pipeline every scan goes through.
    pub fn run_scan_and_classify<'a>(
        &'a self,
        ctx: &'a CommandContext,
        source: AggregateId,
        scan_id: AggregateId,
        known: &'a dyn KnownAssets,
        feedback: &'a dyn FeedbackSource,
        progress: PipelineProgress<'a>,
    ) -> futures::future::BoxFuture<'a, Result<ScanAndClassification, CommandError>> {
        Box::pin(async move {
            let scan = self
                .run_scan(ctx, source, scan_id, known, progress.scan)
                .await?;
            if scan.failure.is_some() {
                return Ok(ScanAndClassification {
                    scan,
                    classification: None,
                });
            }
            let classification = self
                .classify_source(
                    &ctx.follow_up(),
                    source,
                    known,
                    feedback,
                    ClassificationOptions::default(),
                    progress.classification,
                )
                .await
                .map_err(|e| e.to_string());
            if let Err(reason) = &classification {
                tracing::warn!(%source, %reason, "classification after the scan failed");
            }
            Ok(ScanAndClassification {
                scan,
                classification: Some(classification),
            })
        })
    }

    /// Classifies a source's assets. Unless a dry run, the source moves Scanned/Classified →
    /// Classifying → Classified (or back to Scanned when the run fails as a whole).
    pub fn classify_source<'a>(
        &'a self,
        ctx: &'a CommandContext,
        source: AggregateId,
        known: &'a dyn KnownAssets,
        feedback: &'a dyn FeedbackSource,
        options: ClassificationOptions,
        progress: &'a (dyn Fn(ClassificationProgress) + Send + Sync),
    ) -> futures::future::BoxFuture<'a, Result<ClassificationReport, CommandError>> {
        let span = tracing::info_span!("classify_source", tenant = %ctx.tenant, %source);
        Box::pin(tracing::Instrument::instrument(
            async move {
                let started = Instant::now();
                let permission = Permission::ManageDataSources;
                let state = self
                    .handler
                    .state::<DataSource>(ctx, permission, source)
                    .await?;
                let Some(config) = state.config else {
                    return Err(CommandError::NotFound(format!("no data source {source}")));
                };
                let (definition, rule_set) = match (&options.rule_set, state.rule_set_id) {
                    (Some(definition), _) => {
                        definition.validate().map_err(|e| {
                            CommandError::Validation(format!("invalid scan rule set: {e}"))
                        })?;
                        (definition.clone(), None)
                    }
                    (None, Some(id)) => {
                        let rule_set = self
                            .handler
                            .state::<ScanRuleSet>(ctx, Permission::ReadCatalog, id)
                            .await?;
                        match (rule_set.definition, rule_set.archived) {
                            (Some(definition), false) => (
                                definition,
                                Some(RuleSetRef {
                                    id,
                                    version: rule_set.rule_set_version,
                                }),
                            ),
                            _ => (RuleSetDefinition::defaults("built-in defaults"), None),
                        }
                    }
                    (None, None) => (RuleSetDefinition::defaults("built-in defaults"), None),
                };
                if !options.dry_run {
                    self.handler
                        .execute::<DataSource>(
                            ctx,
                            permission,
                            source,
                            DataSourceCommand::StartClassification,
                        )
                        .await?;
                }
                // One listing for the run: classification and propagation cover the same assets.
                let assets = self.list_assets(ctx, source, known).await?;
                let outcome = self
                    .classify_assets(
                        ctx,
                        &config,
                        &assets,
                        feedback,
                        &options,
                        &definition,
                        rule_set,
                        progress,
                    )
                    .await;
                let mut report = match outcome {
                    Ok(report) => report,
                    Err(error) => {
                        if !options.dry_run {
                            self.handler
                                .execute::<DataSource>(
                                    &ctx.follow_up(),
                                    permission,
                                    source,
                                    DataSourceCommand::FailClassification {
                                        reason: error.to_string(),
                                    },
                                )
                                .await?;
                        }
                        return Err(error);
                    }
                };
                if !options.dry_run {
                    let states = std::mem::take(&mut report.states);
                    let (propagated, revoked) =
                        self.propagate_from(ctx, source, &assets, states).await?;
                    report.propagated = propagated;
                    report.revoked_by_lineage = revoked;
                    self.handler
                        .execute::<DataSource>(
                            &ctx.follow_up(),
                            permission,
                            source,
                            DataSourceCommand::CompleteClassification,
                        )
                        .await?;
                }
                report.rule_set = rule_set;
                report.duration_ms = started.elapsed().as_millis() as u64;
                tracing::info!(
                    assets = report.assets,
                    columns = report.columns,
                    labels = report.outcomes.len(),
                    recorded = report.labels_recorded,
                    failures = report.failures.len(),
                    "classification finished"
                );
                Ok(report)
            },
            span,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    async fn classify_assets(
        &self,
        ctx: &CommandContext,
        config: &DataSourceConfig,
        assets: &AssetList,
        feedback: &dyn FeedbackSource,
        options: &ClassificationOptions,
        definition: &RuleSetDefinition,
        rule_set: Option<RuleSetRef>,
        progress: &(dyn Fn(ClassificationProgress) + Send + Sync),
    ) -> Result<ClassificationReport, CommandError> {
        let feedback = feedback
            .feedback(&ctx.tenant)
            .await
            .map_err(|e| CommandError::Unavailable(format!("cannot read review feedback: {e}")))?;
        let in_scope: Vec<AggregateId> = assets
            .iter()
            .filter(|(_, path)| definition.scope.matches(path))
            .map(|(id, _)| *id)
            .collect();
        // The target is only needed when sampling; a source that cannot be reached can still be
        // re-evaluated from its profiles.
        let target = match self.target(&ctx.tenant, config).await {
            Ok(target) => Some(target),
            Err(failure) if options.from_profiles => {
                tracing::warn!(%failure, "source unreachable; re-evaluating stored profiles only");
                None
            }
            Err(failure) => return Err(CommandError::Unavailable(failure.to_string())),
        };
        let settings = definition.settings();
        let total = in_scope.len() as u64;
        let done = std::sync::atomic::AtomicU64::new(0);
        let batches: Vec<Vec<AggregateId>> = in_scope
            .chunks(sampling_batch(in_scope.len()))
            .map(|batch| batch.to_vec())
            .collect();
        let results: Vec<Result<Vec<AssetClassification>, CommandError>> =
            futures::stream::iter(batches)
                .map(|batch| {
                    let target = target.as_ref();
                    let settings = &settings;
                    let feedback = &feedback;
                    let done = &done;
                    async move {
                        let size = batch.len() as u64;
                        let outcome = self
                            .classify_batch(
                                ctx, batch, target, options, definition, settings, feedback,
                                rule_set,
                            )
                            .await;
                        let assets_done =
                            done.fetch_add(size, std::sync::atomic::Ordering::Relaxed) + size;
                        progress(ClassificationProgress {
                            assets_done,
                            assets_total: total,
                        });
                        outcome
                    }
                })
                .buffer_unordered(CLASSIFICATION_CONCURRENCY)
                .collect()
                .await;
        let mut report = ClassificationReport::default();
        for asset in results
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
        {
            report.assets += 1;
            report.columns += asset.columns;
            report.rows_sampled += asset.rows_sampled;
            report.labels_recorded += asset.labels_recorded;
            report.outcomes.extend(asset.outcomes);
            if let Some(state) = asset.state {
                report.states.insert(
                    state
                        .id
                        .unwrap_or(AggregateId::from_uuid(uuid::Uuid::nil())),
                    state,
                );
            }
            if let Some(failure) = asset.failure {
                report.failures.push((asset.path, failure));
            }
        }
        report
            .outcomes
            .sort_by(|a, b| (&a.asset_path, &a.column).cmp(&(&b.asset_path, &b.column)));
        Ok(report)
    }

    /// Classifies a batch of assets: their histories, one sampling connection for those that
    /// need a sample, then each asset's labels.
    #[allow(clippy::too_many_arguments)]
    async fn classify_batch(
        &self,
        ctx: &CommandContext,
        batch: Vec<AggregateId>,
        target: Option<&connectors::options::ConnectionTarget>,
        options: &ClassificationOptions,
        definition: &RuleSetDefinition,
        settings: &domain::classification::ClassifierSettings,
        feedback: &FeedbackModel,
        rule_set: Option<RuleSetRef>,
    ) -> Result<Vec<AssetClassification>, CommandError> {
        let mut assets = Vec::with_capacity(batch.len());
        for asset_id in batch {
            // Kept for the command that records the asset's labels, which then decides on it
            // instead of reading the history a second time.
            let loaded = self
                .handler
                .load_state::<Asset>(ctx, Permission::ManageDataSources, asset_id)
                .await?;
            let state = loaded.state();
            // Types, routines and sequences hold no rows; a materialized view never refreshed
            // has none to read (sampling it is an error on the server, not a failure of the
            // source): it is classified once a refresh shows up in a scan.
            let classifiable = state.schema.as_ref().is_some_and(|schema| {
                !state.removed
                    && schema.kind.holds_data()
                    && !schema.columns.is_empty()
                    && schema.populated != Some(false)
            });
            if classifiable {
                // Stored profiles only hold the custom rules that existed when they were taken:
                // a rule set with a new value rule needs a fresh sample.
                let stored = options.from_profiles
                    && !state.profiles.is_empty()
                    && profiles_cover(&state.profiles, &definition.custom_rules);
                assets.push((asset_id, loaded, stored));
            }
        }
        let to_sample: Vec<&AssetSchema> = assets
            .iter()
            .filter(|(_, _, stored)| !stored)
            .filter_map(|(_, loaded, _)| loaded.state().schema.as_ref())
            .collect();
        let mut samples = match target {
            Some(target) if !to_sample.is_empty() => connectors::live::sample_many(
                target,
                &to_sample,
                definition.sample_size,
                self.connect_timeout * 6,
            )
            .await
            .into_iter(),
            _ => Vec::new().into_iter(),
        };
        let mut classified = Vec::with_capacity(assets.len());
        for (asset_id, loaded, stored) in assets {
            let sample = if stored { None } else { samples.next() };
            classified.push(
                self.classify_asset(
                    ctx, asset_id, loaded, stored, sample, options, definition, settings, feedback,
                    rule_set,
                )
                .await?,
            );
        }
        Ok(classified)
    }

    #[allow(clippy::too_many_arguments)]
    async fn classify_asset(
        &self,
        ctx: &CommandContext,
        asset_id: AggregateId,
        loaded: Loaded<Asset>,
        stored: bool,
        sample: Option<Result<connectors::probe::AssetSample, connectors::probe::DiscoveryError>>,
        options: &ClassificationOptions,
        definition: &RuleSetDefinition,
        settings: &domain::classification::ClassifierSettings,
        feedback: &FeedbackModel,
        rule_set: Option<RuleSetRef>,
    ) -> Result<AssetClassification, CommandError> {
        let permission = Permission::ManageDataSources;
        let state = loaded.state();
        let schema = state
            .schema
            .clone()
            .expect("only classifiable assets are classified");
        let path = schema.path.to_string();
        let mut result = AssetClassification {
            path: path.clone(),
            ..Default::default()
        };
        let (profiles, rows) = if stored {
            (state.profiles.clone(), 0)
        } else {
            match sample {
                Some(Ok(sample)) => {
                    // Values live only inside this block: profiled, then dropped. Profiling is
                    // the CPU-heavy step (every value through every detector); on the blocking
                    // pool the assets of concurrent batches are profiled on every core instead
                    // of on the one thread polling the batches, and the runtime's other tasks
                    // (the event store's connection, projections) are not stalled meanwhile.
                    let rows = sample.rows;
                    let columns = schema.columns.clone();
                    let rules = definition.custom_rules.clone();
                    let profiles =
                        tokio::task::spawn_blocking(move || profile(&columns, sample, &rules))
                            .await
                            .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()));
                    (profiles, rows)
                }
                Some(Err(error)) => {
                    tracing::warn!(asset = %path, %error, "sampling failed; the asset keeps its labels");
                    result.failure = Some(error.to_string());
                    return Ok(result);
                }
                None => {
                    result.failure = Some("no stored profile and the source is unreachable".into());
                    return Ok(result);
                }
            }
        };
        result.rows_sampled = u64::from(rows);
        result.columns = profiles.len() as u64;
        let table = TableProfile {
            table: schema.path.name().to_owned(),
            columns: profiles.clone(),
            places: TableProfile::places_of(schema.path.segments()),
        };
        let mut outcomes = Vec::new();
        for verdict in classify_table(&table, settings, feedback) {
            for candidate in verdict.candidates {
                if candidate.confidence < settings.floor {
                    continue;
                }
                outcomes.push(ClassifierOutcome {
                    column: verdict.column.clone(),
                    applied: candidate.confidence >= settings.threshold,
                    candidate,
                });
            }
        }
        result.outcomes = outcomes
            .iter()
            .map(|o| LabelOutcome {
                asset_id,
                asset_path: path.clone(),
                column: o.column.clone(),
                candidate: o.candidate.clone(),
                applied: o.applied,
            })
            .collect();
        if options.dry_run {
            return Ok(result);
        }
        let mut after = state.clone();
        let recorded = self
            .handler
            .execute_loaded::<Asset>(
                &ctx.follow_up(),
                permission,
                asset_id,
                AssetCommand::RecordClassification {
                    columns: profiles.iter().map(|p| p.column.clone()).collect(),
                    profiles: (!stored).then_some((rows, profiles)),
                    outcomes,
                    rule_set,
                },
                loaded,
            )
            .await?;
        // The state after the commit, for propagation (which would otherwise load it again).
        for event in &recorded
            .events
            .cloud_events()
            .map_err(eventlog::EventStoreError::from)?
        {
            if let Some((name, version)) = event.name_and_version() {
                if let Ok(event) = AssetEvent::from_stored(name, version, &event.data) {
                    after = Asset::evolve(after, &event);
                }
            }
        }
        result.state = Some(after);
        result.labels_recorded = recorded.events.len() as u64;
        Ok(result)
    }

    /// Copies applied and confirmed labels along column-level lineage (hop by hop, at most
    /// [`MAX_PROPAGATION_HOPS`]) and revokes propagated labels whose origin label is gone.
    /// Returns (labels propagated, labels revoked).
    pub async fn propagate_labels(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
        known: &dyn KnownAssets,
    ) -> Result<(u64, u64), CommandError> {
        let assets = self.list_assets(ctx, source, known).await?;
        self.propagate_from(ctx, source, &assets, BTreeMap::new())
            .await
    }

    /// The source's assets as the read side knows them.
    async fn list_assets(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
        known: &dyn KnownAssets,
    ) -> Result<AssetList, CommandError> {
        known
            .known_assets(&ctx.tenant, source)
            .await
            .map_err(|e| CommandError::Unavailable(format!("cannot list known assets: {e}")))
    }

    /// [`propagate_labels`](Self::propagate_labels), with the current states of some assets at
    /// hand (the others are loaded).
    async fn propagate_from(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
        assets: &AssetList,
        at_hand: BTreeMap<AggregateId, AssetState>,
    ) -> Result<(u64, u64), CommandError> {
        let permission = Permission::ManageDataSources;
        let loaded: Vec<Result<(AggregateId, AssetState), CommandError>> = futures::stream::iter(
            assets
                .iter()
                .map(|entry| entry.0)
                .filter(|id| !at_hand.contains_key(id))
                .collect::<Vec<_>>(),
        )
        .map(|id| {
            // Owned handler and context: futures borrowing them cannot be proven `Send`
            // across the stream combinator.
            let handler = self.handler.clone();
            let ctx = ctx.clone();
            async move {
                let state = handler
                    .state::<Asset>(&ctx, Permission::ReadCatalog, id)
                    .await?;
                Ok((id, state))
            }
        })
        .buffer_unordered(LOADING_CONCURRENCY)
        .collect()
        .await;
        let mut states = at_hand;
        for loaded in loaded {
            let (id, state) = loaded?;
            if state.exists() && !state.removed {
                states.insert(id, state);
            }
        }
        let mut propagated = 0;
        let mut revoked = 0;

        // Revocations first: a label whose origin lost its label must not feed new copies.
        loop {
            let mut stale = Vec::new();
            for (id, state) in &states {
                for label in &state.labels {
                    let LabelOrigin::Propagated {
                        from_asset,
                        from_column,
                        from_path,
                    } = &label.origin
                    else {
                        continue;
                    };
                    if label.status == LabelStatus::Rejected {
                        continue;
                    }
                    let origin_holds = states
                        .get(from_asset)
                        .and_then(|s| s.label(from_column, &label.label))
                        .is_some_and(|l| {
                            matches!(l.status, LabelStatus::Applied | LabelStatus::Confirmed)
                        });
                    if !origin_holds {
                        stale.push((
                            *id,
                            label.column.clone(),
                            label.label.clone(),
                            format!("its origin {from_path}.{from_column} no longer has the label"),
                        ));
                    }
                }
            }
            if stale.is_empty() {
                break;
            }
            for (id, column, label, reason) in stale {
                let outcome = self
                    .handler
                    .execute::<Asset>(
                        &ctx.follow_up(),
                        permission,
                        id,
                        AssetCommand::RevokeClassification {
                            column,
                            label,
                            reason,
                        },
                    )
                    .await?;
                revoked += outcome.events.len() as u64;
                let state = self.handler.state::<Asset>(ctx, permission, id).await?;
                states.insert(id, state);
            }
        }

        for _hop in 0..MAX_PROPAGATION_HOPS {
            let mut copies = Vec::new();
            for state in states.values() {
                let (Some(to_id), Some(to_path)) = (state.id, &state.path) else {
                    continue;
                };
                for edge in state.lineage.iter().filter(|e| &e.to == to_path) {
                    let from_id = AssetId::for_path(source, &edge.from);
                    let Some(origin) = states.get(&from_id) else {
                        continue;
                    };
                    for (from_column, to_column) in
                        column_pairs(&edge.from_columns, &edge.to_columns)
                    {
                        if !carries_values(
                            column_type(origin, from_column),
                            column_type(state, to_column),
                        ) {
                            // e.g. `count(email)`: the view reads the column but does not
                            // expose its values.
                            continue;
                        }
                        for label in origin.labels.iter().filter(|l| {
                            l.column == from_column
                                && matches!(l.status, LabelStatus::Applied | LabelStatus::Confirmed)
                        }) {
                            if state
                                .label(to_column, &label.label)
                                .is_some_and(|known| !is_classifier_suggestion(known))
                            {
                                continue;
                            }
                            let from_path = edge.from.to_string();
                            copies.push((
                                to_id,
                                to_column.to_owned(),
                                Candidate {
                                    label: label.label.clone(),
                                    confidence: label.confidence,
                                    signals: vec![Signal {
                                        tier: Tier::Propagation,
                                        detail: format!(
                                            "propagated from {from_path}.{from_column} along {} lineage",
                                            edge.kind
                                        ),
                                        weight: label.confidence,
                                    }],
                                },
                                LabelOrigin::Propagated {
                                    from_asset: from_id,
                                    from_path,
                                    from_column: from_column.to_owned(),
                                },
                            ));
                        }
                    }
                }
            }
            if copies.is_empty() {
                break;
            }
            let mut touched = Vec::new();
            for (id, column, candidate, origin) in copies {
                let outcome = self
                    .handler
                    .execute::<Asset>(
                        &ctx.follow_up(),
                        permission,
                        id,
                        AssetCommand::PropagateClassification {
                            column,
                            candidate,
                            origin,
                        },
                    )
                    .await?;
                propagated += outcome.events.len() as u64;
                touched.push(id);
            }
            for id in touched {
                let state = self.handler.state::<Asset>(ctx, permission, id).await?;
                states.insert(id, state);
            }
        }
        Ok((propagated, revoked))
    }
}

/// The profiles of the sampled columns of an asset; the sample is dropped here.
fn profile(
    columns: &[domain::discovery::ColumnSchema],
    sample: connectors::probe::AssetSample,
    custom_rules: &[domain::classification::CustomRule],
) -> Vec<ColumnProfile> {
    columns
        .iter()
        .filter_map(|column| {
            let sampled = sample.columns.iter().find(|c| c.column == column.name)?;
            let values: Vec<Option<&str>> = sampled.values.iter().map(|v| v.as_deref()).collect();
            Some(ColumnProfile::build(
                &column.name,
                &column.data_type,
                &values,
                custom_rules,
            ))
        })
        .collect()
}

/// Whether every profile counted every value rule of `rules`.
fn profiles_cover(
    profiles: &[ColumnProfile],
    rules: &[domain::classification::CustomRule],
) -> bool {
    rules
        .iter()
        .filter(|rule| rule.value_pattern.is_some())
        .all(|rule| {
            profiles
                .iter()
                .all(|p| p.custom_hits.contains_key(&rule.label))
        })
}

/// The engine's type of `column` in the asset's current schema.
fn column_type<'s>(state: &'s AssetState, column: &str) -> Option<&'s str> {
    state
        .schema
        .as_ref()?
        .columns
        .iter()
        .find(|c| c.name == column)
        .map(|c| c.data_type.as_str())
}

/// The broad family of an engine type: what kind of values a column can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeFamily {
    Text,
    Number,
    Temporal,
    Boolean,
    Other,
}

fn type_family(data_type: &str) -> TypeFamily {
    let t = data_type.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if has(&["bool", "bit(1)"]) {
        TypeFamily::Boolean
    } else if has(&["date", "time", "interval"]) {
        TypeFamily::Temporal
    } else if has(&[
        "char", "text", "string", "clob", "uuid", "inet", "macaddr", "enum", "json",
    ]) {
        TypeFamily::Text
    } else if has(&[
        "int", "numeric", "decimal", "real", "double", "float", "number", "money", "serial",
    ]) {
        TypeFamily::Number
    } else {
        TypeFamily::Other
    }
}

/// Whether a column of type `to` can hold the values of a column of type `from` it is derived
/// from: the same family, or text (a cast or a concatenation keeps the values). A number derived
/// from text or dates (`count(email)`, `extract(year from born)`) does not.
fn carries_values(from: Option<&str>, to: Option<&str>) -> bool {
    match (from.map(type_family), to.map(type_family)) {
        (Some(from), Some(to)) => from == to || matches!(to, TypeFamily::Text | TypeFamily::Other),
        // Unknown types (inferred fields without one): let the label flow.
        _ => true,
    }
}

/// The (from, to) column pairs along which a label flows: pairwise for equal lists (foreign
/// keys), every source column into the one output column of a view column edge.
fn column_pairs<'e>(from: &'e [String], to: &'e [String]) -> Vec<(&'e str, &'e str)> {
    if from.len() == to.len() {
        from.iter()
            .zip(to)
            .map(|(f, t)| (f.as_str(), t.as_str()))
            .collect()
    } else if to.len() == 1 {
        from.iter().map(|f| (f.as_str(), to[0].as_str())).collect()
    } else {
        Vec::new()
    }
}

#[derive(Debug, Default)]
struct AssetClassification {
    path: String,
    columns: u64,
    rows_sampled: u64,
    outcomes: Vec<LabelOutcome>,
    labels_recorded: u64,
    failure: Option<String>,
    /// The asset after its labels were recorded.
    state: Option<AssetState>,
}

#[cfg(test)]
mod tests {
    use super::column_pairs;

    #[test]
    fn labels_flow_only_into_columns_that_can_hold_the_values() {
        use super::carries_values;
        assert!(carries_values(Some("character varying(60)"), Some("text")));
        assert!(
            carries_values(Some("date"), Some("text")),
            "to_char(born, …)"
        );
        assert!(carries_values(Some("integer"), Some("bigint")));
        assert!(
            !carries_values(Some("text"), Some("bigint")),
            "count(email)"
        );
        assert!(
            !carries_values(Some("date"), Some("double precision")),
            "extract(year …)"
        );
        assert!(
            !carries_values(Some("text"), Some("boolean")),
            "email IS NOT NULL"
        );
        assert!(carries_values(None, Some("bigint")));
    }

    #[test]
    fn labels_flow_pairwise_or_into_a_single_output_column() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            column_pairs(&s(&["id", "email"]), &s(&["customer_id", "customer_email"])),
            vec![("id", "customer_id"), ("email", "customer_email")]
        );
        assert_eq!(
            column_pairs(&s(&["first_name", "last_name"]), &s(&["customer_name"])),
            vec![
                ("first_name", "customer_name"),
                ("last_name", "customer_name")
            ]
        );
        assert!(column_pairs(&s(&["a", "b", "c"]), &s(&["x", "y"])).is_empty());
    }
}
