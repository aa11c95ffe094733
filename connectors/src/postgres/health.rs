//! [`probe_health`]: one health probe of a PostgreSQL source — the round trip of `SELECT 1` and
//! what the server tells about itself: client connections open (all databases), the
//! `max_connections` setting, the size of the source's database and the server's uptime.

use super::connect::{connect_options, failure, secret_of, timed_out};
use super::options::PostgresTarget;
use crate::probe::{ConnectionFailure, HealthProbe};
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Executor, Row};
use std::time::{Duration, Instant};

/// Every figure in one round trip. Connections are counted server-wide because they all compete
/// for `max_connections`; only client backends count (not autovacuum, WAL writers and other
/// background processes, which `max_connections` does not limit).
const FIGURES: &str = "SELECT \
    (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS active_connections, \
    current_setting('max_connections')::bigint AS max_connections, \
    pg_database_size(current_database()) AS storage_bytes, \
    floor(extract(epoch FROM now() - pg_postmaster_start_time()))::bigint AS uptime_secs";

/// Opens one connection (not a pool), times `SELECT 1`, reads the version and the figures, and
/// closes the connection, all within `timeout`.
///
/// The figures are best effort: a server that refuses them (a PostgreSQL-compatible engine
/// without `pg_stat_activity.backend_type`, a revoked function) still answers, so the probe
/// succeeds with the figures left out. Losing the connection fails the probe. Every statement
/// goes over the simple query protocol (safe behind PgBouncer in transaction mode).
#[tracing::instrument(
    name = "postgres.probe_health",
    skip_all,
    fields(endpoint = %target.endpoint, database = ?target.database, sslmode = target.ssl_mode.as_str())
)]
pub async fn probe_health(
    target: &PostgresTarget,
    timeout: Duration,
) -> Result<HealthProbe, ConnectionFailure> {
    let secret = secret_of(target);
    let options = connect_options(target)?;
    let attempt = async {
        let mut connection = PgConnection::connect_with(&options).await?;
        let measured = measure(&mut connection).await;
        // Closed whatever the queries did, so the server frees the backend at once.
        let closed = connection.close().await;
        let probe = measured?;
        closed?;
        Ok::<_, sqlx::Error>(probe)
    };
    let outcome = match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(probe)) => Ok(probe),
        Ok(Err(error)) => Err(failure(&error, secret)),
        Err(_elapsed) => Err(timed_out(timeout, secret)),
    };
    match &outcome {
        Ok(probe) => tracing::debug!(latency_us = probe.latency_us(), "health probed"),
        Err(failure) => {
            tracing::warn!(category = %failure.category, message = %failure.message, "health probe failed")
        }
    }
    outcome
}

async fn measure(connection: &mut PgConnection) -> Result<HealthProbe, sqlx::Error> {
    let started = Instant::now();
    connection.execute("SELECT 1").await?;
    let latency = started.elapsed();
    let version: String = connection
        .fetch_one("SHOW server_version")
        .await?
        .try_get(0)?;
    let mut probe = HealthProbe {
        latency,
        server_version: Some(version),
        active_connections: None,
        max_connections: None,
        storage_bytes: None,
        server_uptime_secs: None,
    };
    match connection.fetch_one(FIGURES).await {
        Ok(row) => {
            let figure = |index: usize| -> Result<Option<u64>, sqlx::Error> {
                Ok(row
                    .try_get::<Option<i64>, _>(index)?
                    .and_then(|n| u64::try_from(n).ok()))
            };
            probe.active_connections = figure(0)?;
            probe.max_connections = figure(1)?;
            probe.storage_bytes = figure(2)?;
            probe.server_uptime_secs = figure(3)?;
        }
        Err(sqlx::Error::Database(refused)) => {
            tracing::debug!(error = %refused.message(), "the server refused its health figures");
        }
        Err(lost) => return Err(lost),
    }
    Ok(probe)
}
