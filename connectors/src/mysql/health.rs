//! [`probe_health`]: one health probe of a MySQL or MariaDB source — the round trip of
//! `SELECT 1` and what the server tells about itself: `Threads_connected`, `max_connections`,
//! the data and index size of the source's schema, and `Uptime`.

use super::connect::{classify, connect_options, secret};
use super::options::MysqlTarget;
use crate::probe::{ConnectionFailure, HealthProbe};
use domain::datasource::FailureCategory;
use sqlx::{Connection, Executor, MySqlConnection, Row};
use std::time::{Duration, Instant};

/// Status counters, over the text protocol (no prepared statement, which `SHOW` may not be).
const STATUS: &str = "SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_connected', 'Uptime')";

/// The connection limit and the size of the current schema. Cast to text so that the driver
/// reads them alike on MySQL and MariaDB, whose integer column types differ.
const LIMITS: &str = "SELECT CAST(@@max_connections AS CHAR), \
    (SELECT CAST(COALESCE(SUM(data_length + index_length), 0) AS CHAR) \
     FROM information_schema.tables WHERE table_schema = DATABASE())";

/// Connects to `target` once, times `SELECT 1`, reads the version and the figures, and closes
/// the connection, all within `timeout`.
///
/// The figures are best effort: a server that refuses one (a missing privilege, a compatible
/// engine without the variable) still answers, so the probe succeeds without it; losing the
/// connection fails the probe. The size is that of the configured database; a source without
/// one has none. Failures are classified like [`validate`](super::validate)'s and never carry
/// the password.
#[tracing::instrument(
    name = "mysql.probe_health",
    skip_all,
    fields(endpoint = %target.endpoint, database = ?target.database)
)]
pub async fn probe_health(
    target: &MysqlTarget,
    timeout: Duration,
) -> Result<HealthProbe, ConnectionFailure> {
    let options = connect_options(target)?;
    let secret = secret(target);
    let outcome =
        match tokio::time::timeout(timeout, check(options, target.database.is_some())).await {
            Ok(Ok(probe)) => Ok(probe),
            Ok(Err(error)) => Err(classify(&error, secret)),
            Err(_) => Err(ConnectionFailure::new(
                FailureCategory::Timeout,
                format!(
                    "no answer from {} within {} ms",
                    target.endpoint,
                    timeout.as_millis()
                ),
                secret,
            )),
        };
    match &outcome {
        Ok(probe) => tracing::debug!(latency_us = probe.latency_us(), "health probed"),
        Err(failure) => {
            tracing::warn!(category = %failure.category, message = %failure.message, "health probe failed")
        }
    }
    outcome
}

async fn check(
    options: sqlx::mysql::MySqlConnectOptions,
    has_database: bool,
) -> Result<HealthProbe, sqlx::Error> {
    let mut connection = MySqlConnection::connect_with(&options).await?;
    let measured = measure(&mut connection, has_database).await;
    // Closed whatever the queries did, so the server's connection count goes back down at once.
    let closed = connection.close().await;
    let probe = measured?;
    closed?;
    Ok(probe)
}

async fn measure(
    connection: &mut MySqlConnection,
    has_database: bool,
) -> Result<HealthProbe, sqlx::Error> {
    let started = Instant::now();
    connection.execute("SELECT 1").await?;
    let latency = started.elapsed();
    let version: String = connection.fetch_one("SELECT VERSION()").await?.try_get(0)?;
    let mut probe = HealthProbe {
        latency,
        server_version: Some(version),
        active_connections: None,
        max_connections: None,
        storage_bytes: None,
        server_uptime_secs: None,
    };
    if let Some(rows) = best_effort(connection.fetch_all(STATUS).await)? {
        for row in rows {
            let name: String = row.try_get(0)?;
            let value: String = row.try_get(1)?;
            let value = value.trim().parse::<u64>().ok();
            match name.to_ascii_lowercase().as_str() {
                "threads_connected" => probe.active_connections = value,
                "uptime" => probe.server_uptime_secs = value,
                _ => {}
            }
        }
    }
    if let Some(row) = best_effort(connection.fetch_one(LIMITS).await)? {
        let number = |index: usize| -> Result<Option<u64>, sqlx::Error> {
            Ok(row
                .try_get::<Option<String>, _>(index)?
                .and_then(|text| text.trim().parse::<u64>().ok()))
        };
        probe.max_connections = number(0)?;
        if has_database {
            probe.storage_bytes = number(1)?;
        }
    }
    Ok(probe)
}

/// The result of a figure's query, `None` when the server refused it (an error answer) rather
/// than the connection failing.
fn best_effort<T>(result: Result<T, sqlx::Error>) -> Result<Option<T>, sqlx::Error> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(sqlx::Error::Database(refused)) => {
            tracing::debug!(error = %refused.message(), "the server refused a health figure");
            Ok(None)
        }
        Err(lost) => Err(lost),
    }
}
