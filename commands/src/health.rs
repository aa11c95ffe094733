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
    assess, DataSource, DataSourceCommand, DataSourceConfig, DataSourceError, DataSourceState,
    FailureCategory, HealthAssessment, HealthThresholds, HealthWindow, LifecycleState,
    ProbeOutcome, ServerFigures,
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
    backoff: AuthBackoff,
}

/// Periodic checks of a source whose credentials keep being refused back off: each such check is
/// a failed login on the source (which may lock the account or alert its owners) and, when the
/// host is not the tenant's own, traffic to someone else's server every interval. After
/// [`AuthBackoff::FREE_FAILURES`] refusals in a row, the next 2, 4, 8… rounds (at most
/// [`AuthBackoff::MAX_SKIPPED_ROUNDS`]) are skipped. Any other outcome, a changed connection
/// configuration or a check on request starts over.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct AuthBackoff {
    refused_in_a_row: u32,
    rounds_to_skip: u32,
}

impl AuthBackoff {
    const FREE_FAILURES: u32 = 3;
    const MAX_SKIPPED_ROUNDS: u32 = 32;

    /// Takes one check's probes into account.
    fn observe(&mut self, probes: &[ProbeOutcome]) {
        let refused = !probes.is_empty()
            && probes.iter().all(|probe| {
                matches!(
                    probe,
                    ProbeOutcome::Failed {
                        category: FailureCategory::Auth,
                        ..
                    }
                )
            });
        if !refused {
            *self = Self::default();
            return;
        }
        self.refused_in_a_row += 1;
        if self.refused_in_a_row >= Self::FREE_FAILURES {
            let doublings = (self.refused_in_a_row - Self::FREE_FAILURES + 1).min(5);
            self.rounds_to_skip = (1 << doublings).min(Self::MAX_SKIPPED_ROUNDS);
        }
    }

    /// Whether this periodic round skips the source (and counts the skip).
    fn skip_round(&mut self) -> bool {
        if self.rounds_to_skip == 0 {
            return false;
        }
        self.rounds_to_skip -= 1;
        true
    }
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
        let (state, config) = self.load(ctx, source).await?;
        if let Some(observed) = self.lock().get_mut(&(ctx.tenant.clone(), source)) {
            // Asked for explicitly: whatever the periodic checks were skipping is tried now.
            observed.backoff = AuthBackoff::default();
        }
        self.probe_and_record(ctx, source, samples, state, config)
            .await
    }

    /// The periodic check of `source`: one probe, unless its credentials were refused
    /// [`AuthBackoff::FREE_FAILURES`] times in a row and it is backing off (`None`: skipped).
    #[instrument(skip(self, ctx), fields(tenant = %ctx.tenant))]
    pub async fn check_periodically(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
    ) -> Result<Option<HealthReport>, CommandError> {
        let (state, config) = self.load(ctx, source).await?;
        if let Some(observed) = self.lock().get_mut(&(ctx.tenant.clone(), source)) {
            if observed.config.connection_differs(&config) {
                observed.backoff = AuthBackoff::default();
            } else if observed.backoff.skip_round() {
                tracing::info!(%source, "credentials keep being refused; health check backing off");
                return Ok(None);
            }
        }
        self.probe_and_record(ctx, source, 1, state, config)
            .await
            .map(Some)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<WindowKey, Observed>> {
        self.windows.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The source's state and configuration, refusing archived and unknown sources.
    async fn load(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
    ) -> Result<(DataSourceState, DataSourceConfig), CommandError> {
        let state = self
            .workflows
            .handler()
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
        Ok((state, config))
    }

    async fn probe_and_record(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
        samples: u32,
        state: DataSourceState,
        config: DataSourceConfig,
    ) -> Result<HealthReport, CommandError> {
        let handler = self.workflows.handler();

        let mut outcomes = Vec::with_capacity(samples as usize);
        let mut figures = ServerFigures::default();
        match self.workflows.target(&ctx.tenant, &config).await {
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
            let mut windows = self.lock();
            let observed = windows
                .entry((ctx.tenant.clone(), source))
                .or_insert_with(|| Observed {
                    config: config.clone(),
                    window: HealthWindow::new(self.window_size),
                    backoff: AuthBackoff::default(),
                });
            if observed.config.connection_differs(&config) {
                observed.window = HealthWindow::new(self.window_size);
                observed.backoff = AuthBackoff::default();
            }
            observed.config = config.clone();
            observed.backoff.observe(&outcomes);
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
        self.lock().retain(|key, _| keep.contains(key));
    }

    /// How many probe outcomes the window of `source` holds.
    pub fn window_len(&self, tenant: &TenantId, source: AggregateId) -> usize {
        self.lock()
            .get(&(tenant.clone(), source))
            .map_or(0, |observed| observed.window.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> ProbeOutcome {
        ProbeOutcome::Failed {
            category: FailureCategory::Auth,
            message: "password authentication failed".into(),
        }
    }

    /// How many of the next `rounds` periodic rounds probe.
    fn probed(backoff: &mut AuthBackoff, rounds: u32) -> u32 {
        (0..rounds).filter(|_| !backoff.skip_round()).count() as u32
    }

    #[test]
    fn refused_credentials_back_off_exponentially_and_anything_else_starts_over() {
        let mut backoff = AuthBackoff::default();
        for _ in 0..2 {
            backoff.observe(&[refused()]);
            assert!(!backoff.skip_round(), "the first refusals are free");
        }
        backoff.observe(&[refused()]);
        assert_eq!(probed(&mut backoff, 2), 0);
        assert_eq!(probed(&mut backoff, 1), 1);
        backoff.observe(&[refused()]);
        assert_eq!(probed(&mut backoff, 4), 0);
        assert_eq!(probed(&mut backoff, 1), 1);
        for _ in 0..10 {
            backoff.observe(&[refused()]);
        }
        assert_eq!(probed(&mut backoff, AuthBackoff::MAX_SKIPPED_ROUNDS), 0);
        assert_eq!(probed(&mut backoff, 1), 1, "skips are capped");

        // An unreachable host is not a refused login: no back-off from it.
        backoff.observe(&[ProbeOutcome::Failed {
            category: FailureCategory::Unreachable,
            message: "connection refused".into(),
        }]);
        assert_eq!(backoff, AuthBackoff::default());
        backoff.observe(&[refused(), ProbeOutcome::Ok { latency_us: 5 }]);
        assert_eq!(backoff, AuthBackoff::default());
    }
}
