//! The periodic health checks of the service: every interval, one probe of every non-archived
//! source of every tenant through the [`HealthMonitor`], whose windows then hold the recent
//! history the assessments are made from.
//!
//! With several `pursight serve` processes on one read-model database, one of them checks at a
//! time: the task takes a session-level advisory lock (like the projection runners' lead) and
//! keeps it while its connection lives; the others wait in standby and take over when it goes.

use commands::health::HealthMonitor;
use commands::CommandContext;
use domain::access::Role;
use domain::{AggregateId, TenantId};
use futures::StreamExt;
use sqlx::{PgConnection, PgPool};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Sources checked at once: probes mostly wait on the network.
const CONCURRENT_CHECKS: usize = 4;

/// The actor the checks' events are recorded with.
pub const ACTOR: &str = "pursight-health";

/// Starts the periodic checks; the task ends when `shutdown` turns true, after the check it is
/// running (bounded by the probe timeout).
pub fn spawn(
    monitor: HealthMonitor,
    pool: PgPool,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        // A round that took longer than the interval is not followed by a burst of catch-ups.
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut lead: Option<PgConnection> = None;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
            if !holds_lead(&pool, &mut lead).await {
                continue;
            }
            tokio::select! {
                result = check_all(&monitor, &pool) => {
                    if let Err(err) = result {
                        tracing::warn!(error = %err, "cannot list the sources to check; retrying next interval");
                    }
                }
                _ = shutdown.changed() => return,
            }
        }
    })
}

/// Whether this process leads the checks, taking the lead when it is free. A lead whose
/// connection died is given up (the lock went with the session).
async fn holds_lead(pool: &PgPool, lead: &mut Option<PgConnection>) -> bool {
    if let Some(connection) = lead.as_mut() {
        if sqlx::query("SELECT 1")
            .execute(&mut *connection)
            .await
            .is_ok()
        {
            return true;
        }
        tracing::warn!("lost the health-check lead connection; taking the lead again");
        *lead = None;
    }
    let Ok(mut connection) = pool.acquire().await else {
        return false;
    };
    let taken: Result<(bool,), _> =
        sqlx::query_as("SELECT pg_try_advisory_lock(hashtext('pursight.health.lead'))")
            .fetch_one(&mut *connection)
            .await;
    match taken {
        Ok((true,)) => {
            tracing::info!("leading the periodic health checks");
            // Detached from the pool, which it would otherwise occupy for good; dropping it
            // closes the session, which releases the lock.
            *lead = Some(connection.detach());
            true
        }
        // Another process leads; this connection goes back to the pool without the lock.
        Ok((false,)) => false,
        Err(err) => {
            tracing::warn!(error = %err, "cannot take the health-check lead");
            false
        }
    }
}

/// One check of every source that is not archived, then forgets the windows of the others.
async fn check_all(monitor: &HealthMonitor, pool: &PgPool) -> Result<(), sqlx::Error> {
    let sources = projections::data_sources::active(pool).await?;
    let keys: HashSet<(TenantId, AggregateId)> = sources
        .iter()
        .filter_map(|(tenant, id)| {
            Some((TenantId::parse(tenant).ok()?, AggregateId::from_uuid(*id)))
        })
        .collect();
    futures::stream::iter(keys.iter().cloned())
        .for_each_concurrent(CONCURRENT_CHECKS, |(tenant, source)| async move {
            let ctx = CommandContext::new(tenant, ACTOR, vec![Role::Admin], None);
            // A source whose credentials keep being refused is skipped some rounds (see
            // `HealthMonitor::check_periodically`).
            if let Err(err) = monitor.check_periodically(&ctx, source).await {
                // Archived since the listing, or the event store briefly away: next round.
                tracing::warn!(%source, error = %err, "health check not recorded");
            }
        })
        .await;
    monitor.retain(&keys);
    Ok(())
}
