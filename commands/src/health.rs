//! Health checks of data sources. [`HealthMonitor::check_health`] probes a source through
//! `connectors`, adds the outcomes to the source's rolling window, assesses the window with the
//! domain's rules and records the assessment on the source (`RecordHealth`), which appends
//! `HealthAssessed` only when the health changed meaningfully.
//!
//! The windows live in this process's memory: after a restart, or in a one-off CLI run, checks
//! start with an empty window. Only what changed is kept across processes, in the events. A
//! window also starts over when the source's connection settings change, since outcomes
//! measured against the old endpoint say nothing about the new one.

use crate::workflows::SourceWorkflows;
use crate::{CommandContext, CommandError};
use domain::access::Permission;
use domain::datasource::{
    assess, DataSource, DataSourceCommand, DataSourceConfig, DataSourceError, HealthAssessment,
    HealthThresholds, HealthWindow, LifecycleState, ProbeOutcome, ServerFigures,
};
use domain::{AggregateId, TenantId};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::instrument;

/// Windows are per tenant and source: a source id alone is never trusted across tenants.
type WindowKey = (TenantId, AggregateId);

/// A source's window and the configuration its outcomes were measured with.
struct Observed {
    config: DataSourceConfig,
    window: HealthWindow,
}

/// What one health check found.
#[derive(Debug, Clone)]
pub struct HealthReport {
    pub source: AggregateId,
    /// The assessment of the source's window after this check's probes.
    pub assessment: HealthAssessment,
    /// Whether it was news and appended as `HealthAssessed`.
    pub recorded: bool,
    /// The source's version after the check.
    pub version: u64,
    /// Stream sequence of the source's last commit (this check's, when recorded).
    pub sequence: u64,
    pub lifecycle: LifecycleState,
}

/// Checks the health of data sources and remembers their recent probe outcomes.
#[derive(Clone)]
pub struct HealthMonitor {
    workflows: SourceWorkflows,
    windows: Arc<Mutex<HashMap<WindowKey, Observed>>>,
    thresholds: HealthThresholds,
    window_size: usize,
    probe_timeout: Duration,
}

impl HealthMonitor {
    /// Most probes one check may make: enough for percentiles, few enough to stay a check.
    pub const MAX_SAMPLES: u32 = 20;

    pub fn new(workflows: SourceWorkflows) -> Self {
        Self {
            workflows,
            windows: Arc::default(),
            thresholds: HealthThresholds::default(),
            window_size: HealthWindow::DEFAULT_CAPACITY,
            probe_timeout: Duration::from_secs(10),
        }
    }

    pub fn with_thresholds(mut self, thresholds: HealthThresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    /// How many recent probe outcomes each source's window keeps.
    pub fn with_window(mut self, probes: usize) -> Self {
        self.window_size = probes.max(1);
        self
    }

    /// The deadline of one probe (connect, queries, close).
    pub fn with_probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }

    /// Probes `source` `samples` times (one after the other), assesses its window and records
    /// the assessment. Needs the permission to manage data sources, since it may append; an
    /// archived source is refused before anything is probed.
    #[instrument(skip(self, ctx), fields(tenant = %ctx.tenant))]
    pub async fn check_health(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
        samples: u32,
    ) -> Result<HealthReport, CommandError> {
        if !(1..=Self::MAX_SAMPLES).contains(&samples) {
            return Err(CommandError::Validation(format!(
                "samples must be between 1 and {} (got {samples})",
                Self::MAX_SAMPLES
            )));
        }
        let handler = self.workflows.handler();
        let state = handler
            .state::<DataSource>(ctx, Permission::ManageDataSources, source)
            .await?;
        let Some(config) = state.config.clone() else {
            return Err(CommandError::NotFound(format!("no data source {source}")));
        };
        if state.lifecycle == LifecycleState::Archived {
            let refused = DataSourceError::InvalidTransition {
                command: "RecordHealth",
                state: LifecycleState::Archived,
            };
            return Err(CommandError::Rejected(refused.to_string()));
        }

        let mut outcomes = Vec::with_capacity(samples as usize);
        let mut figures = ServerFigures::default();
        match self.workflows.target(&config).await {
            Ok(target) => {
                for _ in 0..samples {
                    match connectors::live::probe_health(&target, self.probe_timeout).await {
                        Ok(probe) => {
                            figures = probe.figures();
                            outcomes.push(ProbeOutcome::Ok {
                                latency_us: probe.latency_us(),
                            });
                        }
                        Err(failure) => outcomes.push(ProbeOutcome::Failed {
                            category: failure.category,
                            message: failure.message,
                        }),
                    }
                }
            }
            // No connection can be described (an unresolvable secret, an unusable
            // configuration): every probe asked for fails the same way, without the network.
            Err(failure) => outcomes.extend((0..samples).map(|_| ProbeOutcome::Failed {
                category: failure.category,
                message: failure.message.clone(),
            })),
        }

        let assessment = {
            let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
            let observed = windows
                .entry((ctx.tenant.clone(), source))
                .or_insert_with(|| Observed {
                    config: config.clone(),
                    window: HealthWindow::new(self.window_size),
                });
            if observed.config.connection_differs(&config) {
                observed.window = HealthWindow::new(self.window_size);
            }
            observed.config = config.clone();
            for outcome in outcomes {
                observed.window.record(outcome);
            }
            assess(&observed.window, &config, &figures, &self.thresholds)
        };
        let Some(assessment) = assessment else {
            return Err(CommandError::Validation("no probe was made".into()));
        };
        let outcome = handler
            .execute::<DataSource>(
                ctx,
                Permission::ManageDataSources,
                source,
                DataSourceCommand::RecordHealth {
                    assessment: assessment.clone(),
                },
            )
            .await?;
        tracing::info!(
            %source,
            status = %assessment.status,
            recorded = !outcome.events.is_empty(),
            "health checked"
        );
        Ok(HealthReport {
            source,
            recorded: !outcome.events.is_empty() && !outcome.duplicate,
            assessment,
            version: outcome.version,
            sequence: outcome.sequence,
            lifecycle: state.lifecycle,
        })
    }

    /// Forgets the windows of every source not in `keep` (archived or gone).
    pub fn retain(&self, keep: &HashSet<WindowKey>) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.retain(|key, _| keep.contains(key));
    }

    /// How many probe outcomes the window of `source` holds.
    pub fn window_len(&self, tenant: &TenantId, source: AggregateId) -> usize {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows
            .get(&(tenant.clone(), source))
            .map_or(0, |observed| observed.window.len())
    }
}
