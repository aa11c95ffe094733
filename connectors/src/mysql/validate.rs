//! [`validate`]: the connection test of a MySQL or MariaDB source — one real connection, a
//! `SELECT 1` whose round trip is the latency, the server's `VERSION()`, and an explicit close.

use super::connect::{classify, connect_options, secret};
use super::options::MysqlTarget;
use crate::probe::{ConnectionFailure, ConnectionInfo};
use domain::datasource::FailureCategory;
use sqlx::{Connection, MySqlConnection};
use std::time::{Duration, Instant};

/// Connects to `target` once and checks that it answers queries, all within `timeout`.
///
/// Failures are classified: refused or unknown host → `Unreachable`, access denied (1045) →
/// `Auth`, TLS handshake or certificate problems → `Tls`, no answer in time → `Timeout`, unknown
/// database (1049) → `Config`. The password never appears in a message.
///
/// ```no_run
/// # async fn example(target: connectors::mysql::MysqlTarget) {
/// use std::time::Duration;
///
/// match connectors::mysql::validate(&target, Duration::from_secs(5)).await {
///     Ok(info) => println!("{} ms, {:?}", info.latency_ms, info.server_version),
///     Err(failure) => println!("{:?}: {}", failure.category, failure.message),
/// }
/// # }
/// ```
pub async fn validate(
    target: &MysqlTarget,
    timeout: Duration,
) -> Result<ConnectionInfo, ConnectionFailure> {
    let options = connect_options(target)?;
    let secret = secret(target);
    // One deadline for the whole test: a server that accepts the TCP connection and then stalls
    // in the handshake or on the query must not hold the caller longer than asked.
    match tokio::time::timeout(timeout, check(options)).await {
        Ok(Ok(info)) => Ok(info),
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
    }
}

async fn check(options: sqlx::mysql::MySqlConnectOptions) -> Result<ConnectionInfo, sqlx::Error> {
    let mut connection = MySqlConnection::connect_with(&options).await?;
    let outcome = async {
        let started = Instant::now();
        sqlx::query("SELECT 1").execute(&mut connection).await?;
        let latency = started.elapsed();
        let version: String = sqlx::query_scalar("SELECT VERSION()")
            .fetch_one(&mut connection)
            .await?;
        Ok::<_, sqlx::Error>(ConnectionInfo {
            latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            server_version: Some(version),
        })
    }
    .await;
    // Closed whatever the queries did, so the server's connection count goes back down at once
    // instead of when the socket is dropped.
    let closed = connection.close().await;
    let info = outcome?;
    closed?;
    Ok(info)
}
