//! [`validate`]: the connection test of a MongoDB source — the driver finds the primary (or any
//! member, the read preference being `primaryPreferred`), `buildInfo` opens and authenticates a
//! connection and tells the version, a `ping` is timed for the latency, and the client is shut
//! down (closing every socket it opened) before the answer is returned.

use super::connect::{classified, client, close, hosts, timed_out, Connected};
use super::options::MongoTarget;
use crate::probe::{ConnectionFailure, ConnectionInfo};
use mongodb::bson::{doc, Document};
use mongodb::error::Error;
use std::time::{Duration, Instant};

/// Connects to `target` and checks that it answers commands, all within `timeout`.
///
/// Failures are classified: refused or unknown host → `Unreachable`, wrong user or password →
/// `Auth`, TLS handshake or certificate problems → `Tls`, no answer in time → `Timeout`, a
/// connection string the driver refuses → `Config`. The password never appears in a message.
///
/// ```no_run
/// # async fn example(target: connectors::mongodb::MongoTarget) {
/// use std::time::Duration;
///
/// match connectors::mongodb::validate(&target, Duration::from_secs(5)).await {
///     Ok(info) => println!("{} ms, {:?}", info.latency_ms, info.server_version),
///     Err(failure) => println!("{:?}: {}", failure.category, failure.message),
/// }
/// # }
/// ```
#[tracing::instrument(
    name = "mongodb.validate",
    skip_all,
    fields(hosts = %hosts(target), replica_set = ?target.replica_set)
)]
pub async fn validate(
    target: &MongoTarget,
    timeout: Duration,
) -> Result<ConnectionInfo, ConnectionFailure> {
    // The driver's own deadlines are shorter than the test's, so that a refused port or a
    // rejected password is reported as such rather than as a generic timeout.
    let driver_timeout = timeout.mul_f64(0.75);
    let connected = client(target, driver_timeout, driver_timeout).await?;
    let test = check(&connected);
    let outcome = match tokio::time::timeout(timeout, test).await {
        Ok(Ok(info)) => Ok(info),
        Ok(Err(error)) => Err(classified(target, &error)),
        Err(_) => Err(timed_out(target, timeout)),
    };
    close(connected.client).await;
    match &outcome {
        Ok(info) => tracing::info!(latency_ms = info.latency_ms, "connection validated"),
        Err(failure) => {
            tracing::warn!(category = %failure.category, message = %failure.message, "connection failed")
        }
    }
    outcome
}

async fn check(connected: &Connected) -> Result<ConnectionInfo, Error> {
    let admin = connected.client.database("admin");
    // The first command opens and authenticates the connection; only the ping after it is timed.
    let build_info = admin
        .run_command(doc! { "buildInfo": 1 })
        .selection_criteria(connected.criteria.clone())
        .await?;
    let started = Instant::now();
    admin
        .run_command(doc! { "ping": 1 })
        .selection_criteria(connected.criteria.clone())
        .await?;
    let latency = started.elapsed();
    Ok(ConnectionInfo {
        latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        server_version: server_version(&build_info),
    })
}

/// The `version` field of a `buildInfo` reply.
fn server_version(build_info: &Document) -> Option<String> {
    build_info
        .get_str("version")
        .ok()
        .map(str::trim)
        .filter(|version| !version.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_comes_from_build_info() {
        let reply = doc! { "version": "8.2.11", "ok": 1.0 };
        assert_eq!(server_version(&reply).as_deref(), Some("8.2.11"));
        assert_eq!(server_version(&doc! { "ok": 1.0 }), None);
    }
}
