//! The compliance process manager as the service runs it (`commands::compliance_pm`): its
//! settings, the catalogue that lists a source's assets, and the parking place of the triggers
//! it cannot handle (`projection_parked`, under the name `compliance_pm`).

use crate::graphql::catalog::CatalogAssets;
use commands::compliance_pm::{
    Clock, ComplianceProcess, ParkedTrigger, ProcessSettings, ProcessStats, SystemClock,
    TriggerParking,
};
use commands::CommandHandler;
use futures::future::BoxFuture;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How the service runs the compliance worker.
#[derive(Clone)]
pub struct ComplianceWorkerSettings {
    /// How often a trigger that fails for what it holds is tried before it is parked
    /// (`PURSIGHT_COMPLIANCE_POISON_ATTEMPTS`, default 3).
    pub poison_attempts: u32,
    /// How often due risk acceptances are expired (`PURSIGHT_COMPLIANCE_EXPIRY_INTERVAL_SECS`,
    /// default 60).
    pub expiry_interval: Duration,
    /// Where "now" is read for expiry (tests set it).
    pub clock: Arc<dyn Clock>,
}

impl Default for ComplianceWorkerSettings {
    fn default() -> Self {
        Self {
            poison_attempts: 3,
            expiry_interval: Duration::from_secs(60),
            clock: Arc::new(SystemClock),
        }
    }
}

/// Parks triggers in the read-model database beside the projections' parked events.
struct PgParking {
    pool: PgPool,
}

impl TriggerParking for PgParking {
    fn park<'a>(&'a self, trigger: &'a ParkedTrigger) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            projections::parked::park_trigger(
                &self.pool,
                commands::compliance_pm::NAME,
                trigger.sequence,
                trigger.event.as_ref(),
                &trigger.tenant,
                trigger.aggregate_type.as_deref(),
                trigger.aggregate_id.as_deref(),
                &trigger.error,
            )
            .await
            .map_err(|err| err.to_string())
        })
    }
}

/// Starts the worker; it stops when `shutdown` turns true.
pub fn spawn(
    handler: CommandHandler,
    pool: PgPool,
    settings: &ComplianceWorkerSettings,
    shutdown: watch::Receiver<bool>,
) -> (JoinHandle<()>, Arc<ProcessStats>) {
    let known = Arc::new(CatalogAssets::new(handler.store(), &pool));
    let process = ComplianceProcess::new(
        handler,
        known,
        Arc::new(PgParking { pool }),
        settings.clock.clone(),
        ProcessSettings {
            poison_attempts: settings.poison_attempts.max(1),
            expiry_interval: settings.expiry_interval.max(Duration::from_millis(10)),
            ..ProcessSettings::default()
        },
    );
    let stats = process.stats();
    tracing::info!(
        expiry_interval_secs = settings.expiry_interval.as_secs_f64(),
        "compliance worker on"
    );
    (process.spawn(shutdown), stats)
}

/// The worker's lines of `/metrics`: how far behind the stream it is, whether it is failing, and
/// what it recorded and parked since the process started.
pub fn render_metrics(stats: &ProcessStats, stream_sequence: Option<u64>) -> String {
    use std::fmt::Write;
    use std::sync::atomic::Ordering::Relaxed;
    let mut out = String::new();
    let handled = stats.sequence.load(Relaxed);
    if let Some(stream) = stream_sequence {
        let _ = writeln!(out, "# HELP pursight_compliance_lag Events the compliance worker has not acknowledged yet.\n# TYPE pursight_compliance_lag gauge\npursight_compliance_lag {}", stream.saturating_sub(handled));
    }
    let _ = writeln!(out, "# HELP pursight_compliance_failing Failures in a row of the trigger in progress (0 when healthy).\n# TYPE pursight_compliance_failing gauge\npursight_compliance_failing {}", stats.failing.load(Relaxed));
    for (name, help, value) in [
        (
            "triggers",
            "Commits that touched compliance facts and were evaluated.",
            &stats.triggers,
        ),
        (
            "detected",
            "ViolationDetected events the worker recorded.",
            &stats.detected,
        ),
        (
            "resolved",
            "ViolationResolved events the worker recorded.",
            &stats.resolved,
        ),
        (
            "expired",
            "AcceptanceExpired events the worker recorded.",
            &stats.expired,
        ),
        (
            "parked",
            "Triggers the worker could not handle and parked.",
            &stats.parked,
        ),
    ] {
        let _ = writeln!(out, "# HELP pursight_compliance_{name}_total {help}\n# TYPE pursight_compliance_{name}_total counter\npursight_compliance_{name}_total {}", value.load(Relaxed));
    }
    out
}
