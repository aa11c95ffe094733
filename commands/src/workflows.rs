//! Process managers for data sources: connection validation and scanning. They drive several
//! aggregates through the one command handler — the data source (lifecycle), the scan
//! (progress, metrics) and one asset per discovered table/view/collection — and talk to the
//! governed system only through `connectors`.
//!
//! A scan is incremental by construction: every discovered asset is offered to its `Asset`
//! aggregate, which decides from the fingerprint whether anything changed, so a rescan of an
//! unchanged source appends no `SchemaDiscovered`/`SchemaChanged` events at all. Assets known
//! from earlier scans, inside this scan's scope, that were not seen are recorded as removed;
//! assets outside the scope are left alone.

use crate::{CommandContext, CommandError, CommandHandler};
use connectors::options::{ConnectionTarget, SourceSecrets};
use connectors::probe::{ConnectionFailure, ConnectionInfo, DiscoveryOptions, DiscoveryProgress};
use connectors::secrets::SecretResolver;
use domain::access::Permission;
use domain::asset::{Asset, AssetCommand};
use domain::datasource::{
    DataSource, DataSourceCommand, DataSourceConfig, FailureCategory, LifecycleState,
};
use domain::discovery::{AssetId, AssetPath, LineageEdge, StatisticsThreshold};
use domain::scan::{Scan, ScanCommand, ScanMetrics, ScanScope, ScanStrategy};
use domain::{AggregateId, TenantId};
use futures::StreamExt;
use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::instrument;

/// A source's known assets: id and path of each.
pub type AssetList = Vec<(AggregateId, AssetPath)>;

/// How many asset commands a scan has in flight at once.
const RECORDING_CONCURRENCY: usize = 64;

/// Assets a source already has, as far as the catalog knows (the read side supplies them).
pub trait KnownAssets: Send + Sync {
    fn known_assets<'a>(
        &'a self,
        tenant: &'a domain::TenantId,
        source: AggregateId,
    ) -> Pin<Box<dyn Future<Output = Result<AssetList, String>> + Send + 'a>>;
}

/// The outcome of a connection test.
#[derive(Debug, Clone)]
pub struct ValidationReport {
    pub result: Result<ConnectionInfo, ConnectionFailure>,
    /// Whether the result was recorded on the source's lifecycle (it is while configuring).
    pub recorded: bool,
    pub lifecycle: LifecycleState,
}

/// The outcome of a scan.
/// A scan that [`SourceWorkflows::begin_scan`] started (or found started by the same command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartedScan {
    pub scan_id: AggregateId,
    /// The command had already started this scan: nothing was recorded, and it must not be run
    /// a second time.
    pub already_started: bool,
}

#[derive(Debug, Clone)]
pub struct ScanReport {
    pub scan_id: AggregateId,
    pub metrics: ScanMetrics,
    /// Assets whose `Asset` aggregate appended events (new, changed, restored).
    pub assets_changed: u64,
    pub assets_removed: u64,
    /// The reason, when the scan failed.
    pub failure: Option<String>,
}

/// What recording one discovered asset did to its aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recorded {
    /// The aggregate was created: its whole history is this commit, so it has no lineage yet.
    New,
    /// Events were appended to an existing aggregate (changed or restored).
    Changed,
    /// Only the statistics moved (`StatisticsChanged`): the schema, and so its lineage, did not.
    Statistics,
    /// Nothing was appended (same fingerprint, statistics within the threshold).
    Unchanged,
}

impl Recorded {
    fn of(outcome: &crate::CommandOutcome) -> Self {
        if outcome.events.is_empty() {
            Self::Unchanged
        } else if outcome.events.cloud_events().is_ok_and(|events| {
            let statistics = domain::aggregate::wire_type("StatisticsChanged", 1);
            events.iter().all(|event| event.event_type == statistics)
        }) {
            Self::Statistics
        } else if !outcome.duplicate && outcome.version == outcome.events.len() as u64 {
            Self::New
        } else {
            Self::Changed
        }
    }
}

/// Runs data-source workflows.
#[derive(Clone)]
pub struct SourceWorkflows {
    pub(crate) handler: CommandHandler,
    secrets: Arc<SecretResolver>,
    pub(crate) connect_timeout: Duration,
    /// How far an asset's statistics must move before a scan records them again.
    statistics_threshold: StatisticsThreshold,
}

impl SourceWorkflows {
    pub fn new(handler: CommandHandler, secrets: Arc<SecretResolver>) -> Self {
        Self {
            handler,
            secrets,
            connect_timeout: Duration::from_secs(10),
            statistics_threshold: StatisticsThreshold::DEFAULT,
        }
    }

    /// The same workflows, recording an asset's statistics (row estimate, size) only when they
    /// moved by more than `threshold` since last recorded (default 10 %).
    pub fn with_statistics_threshold(mut self, threshold: StatisticsThreshold) -> Self {
        self.statistics_threshold = threshold;
        self
    }

    pub fn handler(&self) -> &CommandHandler {
        &self.handler
    }

    /// Builds the connection target of a configuration, resolving its secret references.
    /// Every connection of a workflow (validate, scan, sample, health) starts here, so this is
    /// where the operator's policy is enforced at use: hosts are checked with the addresses they
    /// resolve to, and secret references for the tenant, before anything is read or dialled.
    pub(crate) async fn target(
        &self,
        tenant: &TenantId,
        config: &DataSourceConfig,
    ) -> Result<ConnectionTarget, ConnectionFailure> {
        connectors::hosts::admit(&self.handler.policy().hosts, config).await?;
        self.secrets.confine_tls_files(tenant, config).await?;
        let secrets = SourceSecrets::resolve(tenant, config, &self.secrets).await?;
        ConnectionTarget::from_config(config, &secrets)
            .map_err(|err| ConnectionFailure::new(FailureCategory::Config, err.to_string(), None))
    }

    /// Tests the connection of a source. While the source is registered, failed or configuring,
    /// the result moves its lifecycle (→ connected / failed); later it is only reported.
    #[instrument(skip(self, ctx), fields(tenant = %ctx.tenant))]
    pub async fn validate_connection(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
    ) -> Result<ValidationReport, CommandError> {
        let state = self
            .handler
            .state::<DataSource>(ctx, Permission::ManageDataSources, source)
            .await?;
        let Some(config) = state.config.clone() else {
            return Err(CommandError::NotFound(format!("no data source {source}")));
        };
        let result = match self.target(&ctx.tenant, &config).await {
            Ok(target) => connectors::live::validate(&target, self.connect_timeout).await,
            Err(failure) => Err(failure),
        };
        let mut lifecycle = state.lifecycle;
        let recordable = matches!(
            lifecycle,
            LifecycleState::Registered | LifecycleState::Failed | LifecycleState::Configuring
        );
        if recordable {
            if lifecycle != LifecycleState::Configuring {
                self.handler
                    .execute::<DataSource>(
                        &ctx.follow_up(),
                        Permission::ManageDataSources,
                        source,
                        DataSourceCommand::BeginConfiguration,
                    )
                    .await?;
            }
            let command = match &result {
                Ok(info) => DataSourceCommand::RecordConnectionSucceeded {
                    latency_ms: info.latency_ms,
                    server_version: info.server_version.clone(),
                },
                Err(failure) => DataSourceCommand::RecordConnectionFailed {
                    category: failure.category,
                    message: failure.message.clone(),
                },
            };
            self.handler
                .execute::<DataSource>(
                    &ctx.follow_up(),
                    Permission::ManageDataSources,
                    source,
                    command,
                )
                .await?;
            lifecycle = if result.is_ok() {
                LifecycleState::Connected
            } else {
                LifecycleState::Failed
            };
        }
        Ok(ValidationReport {
            result,
            recorded: recordable,
            lifecycle,
        })
    }

    /// Starts a scan: records it on the source and a new `Scan` aggregate, and returns its id.
    /// Run it with [`run_scan`](Self::run_scan).
    pub async fn start_scan(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
        strategy: ScanStrategy,
        scope: ScanScope,
    ) -> Result<AggregateId, CommandError> {
        Ok(self.begin_scan(ctx, source, strategy, scope).await?.scan_id)
    }

    /// Like [`start_scan`](Self::start_scan), and says whether the command had already
    /// started this scan. The scan's id and the scan's own command id are derived from the
    /// caller's command id, so a retried request (same command id) finds the scan it started,
    /// within the stream's duplicate window and after it, and starts no second one.
    pub async fn begin_scan(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
        strategy: ScanStrategy,
        scope: ScanScope,
    ) -> Result<StartedScan, CommandError> {
        let scan_id = ctx.created_id("scan");
        // The id derives from the command id, so a scan that exists under it is the one an
        // earlier attempt of this very command started. Asked first, because after the
        // duplicate window the source's history may no longer show the command (a snapshot
        // taken since hides it), and the source would then refuse or start a second scan.
        let earlier = self
            .handler
            .state::<Scan>(ctx, Permission::ManageDataSources, scan_id)
            .await?;
        if earlier.id.is_some() {
            return Ok(StartedScan {
                scan_id,
                already_started: true,
            });
        }
        // The source decides first: a scan of a source that cannot be scanned never exists.
        let on_source = self
            .handler
            .execute::<DataSource>(
                ctx,
                Permission::ManageDataSources,
                source,
                DataSourceCommand::StartScan { scan_id },
            )
            .await?;
        let on_scan = self
            .handler
            .execute_new::<Scan>(
                &ctx.keyed_follow_up("start-scan"),
                Permission::ManageDataSources,
                scan_id,
                ScanCommand::Start {
                    scan_id,
                    source_id: source,
                    strategy,
                    scope,
                },
            )
            .await?;
        Ok(StartedScan {
            scan_id,
            already_started: on_source.duplicate && on_scan.duplicate,
        })
    }

    /// Ends a scan that will never finish (its process stopped while it ran), so that the source
    /// can be scanned and configured again: the scan and the source record the failure.
    pub async fn fail_interrupted_scan(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
        scan_id: AggregateId,
        reason: &str,
    ) -> Result<(), CommandError> {
        self.fail_scan(ctx, source, scan_id, reason, ScanMetrics::default())
            .await
    }

    /// Records a scan's failure on the scan and on its source (scan_failed).
    async fn fail_scan(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
        scan_id: AggregateId,
        reason: &str,
        metrics: ScanMetrics,
    ) -> Result<(), CommandError> {
        self.handler
            .execute::<Scan>(
                ctx,
                Permission::ManageDataSources,
                scan_id,
                ScanCommand::Fail {
                    reason: reason.to_owned(),
                    metrics,
                },
            )
            .await?;
        self.handler
            .execute::<DataSource>(
                &ctx.follow_up(),
                Permission::ManageDataSources,
                source,
                DataSourceCommand::FailScan {
                    scan_id,
                    reason: reason.to_owned(),
                },
            )
            .await?;
        Ok(())
    }

    /// Runs a started scan to its end (completed or failed) and reports what changed.
    ///
    /// The future is boxed so it can be spawned: the compiler cannot prove `Send` for the
    /// unboxed future through the borrowed, higher-ranked executor types it holds.
    pub fn run_scan<'a>(
        &'a self,
        ctx: &'a CommandContext,
        source: AggregateId,
        scan_id: AggregateId,
        known: &'a dyn KnownAssets,
        progress: &'a (dyn Fn(DiscoveryProgress) + Send + Sync),
    ) -> futures::future::BoxFuture<'a, Result<ScanReport, CommandError>> {
        let span = tracing::info_span!("run_scan", tenant = %ctx.tenant, %source, %scan_id);
        Box::pin(tracing::Instrument::instrument(
            async move {
                let started = Instant::now();
                let scan = self
                    .handler
                    .state::<Scan>(ctx, Permission::ManageDataSources, scan_id)
                    .await?;
                let (Some(strategy), scope) = (scan.strategy, scan.scope.clone()) else {
                    return Err(CommandError::NotFound(format!("no scan {scan_id}")));
                };
                let outcome = self
                    .discover_and_record(ctx, source, scan_id, strategy, scope, known, progress)
                    .await;
                let mut metrics = match &outcome {
                    Ok((metrics, _, _)) => *metrics,
                    Err((metrics, _)) => *metrics,
                };
                metrics.duration_ms = started.elapsed().as_millis() as u64;
                match outcome {
                    Ok((_, changed, removed)) => {
                        metrics.assets_changed = changed;
                        metrics.assets_removed = removed;
                        self.handler
                            .execute::<Scan>(
                                &ctx.follow_up(),
                                Permission::ManageDataSources,
                                scan_id,
                                ScanCommand::Complete { metrics },
                            )
                            .await?;
                        self.handler
                            .execute::<DataSource>(
                                &ctx.follow_up(),
                                Permission::ManageDataSources,
                                source,
                                DataSourceCommand::CompleteScan { scan_id },
                            )
                            .await?;
                        Ok(ScanReport {
                            scan_id,
                            metrics,
                            assets_changed: changed,
                            assets_removed: removed,
                            failure: None,
                        })
                    }
                    Err((_, reason)) => {
                        self.fail_scan(&ctx.follow_up(), source, scan_id, &reason, metrics)
                            .await?;
                        Ok(ScanReport {
                            scan_id,
                            metrics,
                            assets_changed: 0,
                            assets_removed: 0,
                            failure: Some(reason),
                        })
                    }
                }
            },
            span,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    async fn discover_and_record(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
        scan_id: AggregateId,
        strategy: ScanStrategy,
        scope: ScanScope,
        known: &dyn KnownAssets,
        progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
    ) -> Result<(ScanMetrics, u64, u64), (ScanMetrics, String)> {
        let fail = |reason: String| (ScanMetrics::default(), reason);
        let state = self
            .handler
            .state::<DataSource>(ctx, Permission::ManageDataSources, source)
            .await
            .map_err(|err| fail(err.to_string()))?;
        // The attached scan rule set may set how far statistics must move to be recorded; an
        // archived or unset one leaves the service's setting.
        let statistics_threshold = match state.rule_set_id {
            Some(id) => {
                let rule_set = self
                    .handler
                    .state::<domain::rule_set::ScanRuleSet>(ctx, Permission::ReadCatalog, id)
                    .await
                    .map_err(|err| fail(err.to_string()))?;
                match (rule_set.definition, rule_set.archived) {
                    (Some(definition), false) => {
                        definition.statistics_threshold(self.statistics_threshold)
                    }
                    _ => self.statistics_threshold,
                }
            }
            None => self.statistics_threshold,
        };
        let config = state
            .config
            .ok_or_else(|| fail(format!("no data source {source}")))?;
        let target = self
            .target(&ctx.tenant, &config)
            .await
            .map_err(|err| fail(err.to_string()))?;
        let options = DiscoveryOptions {
            scope: scope.clone(),
            strategy,
            ..Default::default()
        };
        let discovery = connectors::live::discover(&target, &options, progress)
            .await
            .map_err(|err| fail(err.to_string()))?;
        let mut metrics = discovery.metrics;

        // What the catalog already knows: for removal detection, and so that assets never seen
        // before skip loading an (empty) history.
        let known = known
            .known_assets(&ctx.tenant, source)
            .await
            .map_err(|err| (metrics, format!("cannot list known assets: {err}")))?;
        let known_ids: HashSet<AggregateId> = known.iter().map(|(id, _)| *id).collect();

        // Each asset is its own aggregate; record them with bounded concurrency.
        let seen: HashSet<AggregateId> = discovery
            .assets
            .iter()
            .map(|schema| AssetId::for_path(source, &schema.path))
            .collect();
        let mut lineage: BTreeMap<AggregateId, Vec<LineageEdge>> =
            seen.iter().map(|id| (*id, Vec::new())).collect();
        for edge in &discovery.lineage {
            // An edge belongs to its downstream asset (the view, the referencing table).
            lineage
                .entry(AssetId::for_path(source, &edge.to))
                .or_default()
                .push(edge.clone());
        }
        let recorded: Vec<Result<(AggregateId, Recorded), CommandError>> =
            futures::stream::iter(discovery.assets)
                .map(|schema| {
                    let asset_id = AssetId::for_path(source, &schema.path);
                    let command = AssetCommand::RecordDiscovery {
                        asset_id,
                        source_id: source,
                        scan_id,
                        schema,
                        statistics_threshold,
                    };
                    // Owned handler and context: futures borrowing them cannot be proven `Send`
                    // across the stream combinator.
                    let handler = self.handler.clone();
                    let ctx = ctx.follow_up();
                    let is_new = !known_ids.contains(&asset_id);
                    async move {
                        // A guess only: if the asset does exist, the stream refuses the append
                        // and the handler decides again on the real history.
                        let permission = Permission::ManageDataSources;
                        let outcome = if is_new {
                            handler
                                .execute_new::<Asset>(&ctx, permission, asset_id, command)
                                .await?
                        } else {
                            handler
                                .execute::<Asset>(&ctx, permission, asset_id, command)
                                .await?
                        };
                        Ok((asset_id, Recorded::of(&outcome)))
                    }
                })
                .buffer_unordered(RECORDING_CONCURRENCY)
                .collect()
                .await;
        let mut changed = 0;
        let mut touched = HashSet::new();
        let mut fresh = HashSet::new();
        for result in recorded {
            match result {
                Ok((asset_id, recorded @ (Recorded::New | Recorded::Changed))) => {
                    changed += 1;
                    touched.insert(asset_id);
                    if recorded == Recorded::New {
                        fresh.insert(asset_id);
                    }
                }
                // The schema is unchanged (a cache hit); its statistics were refreshed.
                Ok((_, Recorded::Statistics | Recorded::Unchanged)) => metrics.cache_hits += 1,
                Err(err) => {
                    metrics.errors += 1;
                    return Err((
                        metrics,
                        format!("recording a discovered asset failed: {err}"),
                    ));
                }
            }
        }
        // An asset's lineage derives from its own schema (its foreign keys, its view
        // definition), which the fingerprint covers: only new, changed or restored assets can
        // have different edges, so an unchanged rescan sends no lineage commands at all. An
        // asset created by this scan has no lineage yet: replacing none with none is no command.
        let needs_lineage = |(id, edges): &(AggregateId, Vec<LineageEdge>)| {
            touched.contains(id) && !(edges.is_empty() && fresh.contains(id))
        };
        let lineage_results: Vec<Result<(), CommandError>> =
            futures::stream::iter(lineage.into_iter().filter(needs_lineage))
                .map(|(asset_id, edges)| {
                    let handler = self.handler.clone();
                    let ctx = ctx.follow_up();
                    async move {
                        handler
                            .execute::<Asset>(
                                &ctx,
                                Permission::ManageDataSources,
                                asset_id,
                                AssetCommand::ReplaceLineage { edges },
                            )
                            .await
                            .map(|_| ())
                    }
                })
                .buffer_unordered(RECORDING_CONCURRENCY)
                .collect()
                .await;
        if let Some(Err(err)) = lineage_results.into_iter().find(Result::is_err) {
            metrics.errors += 1;
            return Err((metrics, format!("recording lineage failed: {err}")));
        }

        // Known assets inside the scope that were not seen are gone; outside the scope, untouched.
        let mut removed = 0;
        for (asset_id, path) in known {
            if seen.contains(&asset_id) || !scope.matches(&path) {
                continue;
            }
            let outcome = self
                .handler
                .execute::<Asset>(
                    &ctx.follow_up(),
                    Permission::ManageDataSources,
                    asset_id,
                    AssetCommand::RecordRemoval { scan_id },
                )
                .await
                .map_err(|err| (metrics, format!("recording a removal failed: {err}")))?;
            if !outcome.events.is_empty() {
                removed += 1;
            }
        }
        Ok((metrics, changed, removed))
    }
}
