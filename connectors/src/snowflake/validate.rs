//! [`validate`]: the connection test of a Snowflake source — the credential read, one real
//! statement (`SELECT CURRENT_VERSION()`) in the configured context, whose round trip is the
//! latency and whose answer is the server version, and the HTTP client dropped (closing its
//! connection) before the answer is returned.

use super::api::{Api, Statement};
use super::auth::Credentials;
use super::connect::http_client;
use super::options::SnowflakeTarget;
use crate::probe::{ConnectionFailure, ConnectionInfo};
use domain::datasource::FailureCategory;
use std::time::{Duration, Instant};

/// Tests `target` within `timeout`.
///
/// Failures are classified: a key that cannot be read, `401` or `403` → `Auth`; refused
/// connections and unknown hosts → `Unreachable`; certificate and handshake problems → `Tls`;
/// no answer in time → `Timeout`; a statement the context makes fail (unknown warehouse,
/// database or role) → `Config`. No key or token appears in a message.
///
/// ```no_run
/// # async fn example(target: connectors::snowflake::SnowflakeTarget) {
/// use std::time::Duration;
///
/// match connectors::snowflake::validate(&target, Duration::from_secs(10)).await {
///     Ok(info) => println!("{} ms, Snowflake {:?}", info.latency_ms, info.server_version),
///     Err(failure) => println!("{:?}: {}", failure.category, failure.message),
/// }
/// # }
/// ```
#[tracing::instrument(
    name = "snowflake.validate",
    skip_all,
    fields(account = %target.account, base_url = %target.base_url)
)]
pub async fn validate(
    target: &SnowflakeTarget,
    timeout: Duration,
) -> Result<ConnectionInfo, ConnectionFailure> {
    let credentials = Credentials::of(target)?;
    let http = http_client(target, timeout, 1).await?;
    let api = Api::new(http, target, credentials);
    let statement = Statement::new("validate", "SELECT CURRENT_VERSION()");
    let started = Instant::now();
    let test = api.execute(&statement, timeout);
    // One deadline for the whole test, whatever the client's own bounds.
    let outcome = match tokio::time::timeout(timeout + Duration::from_secs(1), test).await {
        Ok(outcome) => outcome.map_err(|error| error.into_failure(api.scrub())),
        Err(_) => Err(ConnectionFailure::new(
            FailureCategory::Timeout,
            format!(
                "no answer from {} within {} ms",
                target.base_url,
                timeout.as_millis()
            ),
            None,
        )),
    };
    let latency = started.elapsed();
    let result = outcome?;
    let version = result
        .rows
        .first()
        .and_then(|row| row.first().cloned().flatten())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    drop(api);
    tracing::info!(
        latency_ms = latency.as_millis() as u64,
        "connection test passed"
    );
    Ok(ConnectionInfo {
        latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        server_version: version,
    })
}
