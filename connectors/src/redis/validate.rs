//! [`validate`]: the connection test of a Redis source — one real connection, a `PING` whose
//! round trip is the latency, `INFO server` for the version, and the connection dropped (which
//! closes its socket) before the answer is returned.

use super::connect::{classify, open, secret, timed_out};
use super::options::RedisTarget;
use crate::probe::{ConnectionFailure, ConnectionInfo};
use redis::aio::MultiplexedConnection;
use std::time::{Duration, Instant};

/// Connects to `target` once and checks that it answers commands, all within `timeout`.
///
/// Failures are classified: refused or unknown host → `Unreachable`, `NOAUTH` / `WRONGPASS` →
/// `Auth`, TLS handshake or certificate problems → `Tls`, no answer in time → `Timeout`, a
/// database index the server does not have → `Config`. The password never appears in a message.
///
/// ```no_run
/// # async fn example(target: connectors::redis::RedisTarget) {
/// use std::time::Duration;
///
/// match connectors::redis::validate(&target, Duration::from_secs(5)).await {
///     Ok(info) => println!("{} ms, {:?}", info.latency_ms, info.server_version),
///     Err(failure) => println!("{:?}: {}", failure.category, failure.message),
/// }
/// # }
/// ```
pub async fn validate(
    target: &RedisTarget,
    timeout: Duration,
) -> Result<ConnectionInfo, ConnectionFailure> {
    // One deadline for the whole test: a server that accepts the TCP connection and then stalls
    // must not hold the caller longer than asked.
    let test = async {
        let mut connection = open(target, timeout, timeout).await?;
        let info = check(&mut connection)
            .await
            .map_err(|error| classify(&error, secret(target)));
        drop(connection);
        info
    };
    match tokio::time::timeout(timeout, test).await {
        Ok(outcome) => outcome,
        Err(_) => Err(timed_out(target, timeout)),
    }
}

async fn check(
    connection: &mut MultiplexedConnection,
) -> Result<ConnectionInfo, redis::RedisError> {
    let started = Instant::now();
    let _: String = redis::cmd("PING").query_async(connection).await?;
    let latency = started.elapsed();
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(connection)
        .await?;
    Ok(ConnectionInfo {
        latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        server_version: server_version(&info),
    })
}

/// The `redis_version` field of an `INFO server` reply.
fn server_version(info: &str) -> Option<String> {
    info.lines()
        .find_map(|line| line.strip_prefix("redis_version:"))
        .map(|version| version.trim().to_owned())
        .filter(|version| !version.is_empty())
}

#[cfg(test)]
mod tests {
    use super::server_version;

    #[test]
    fn the_version_comes_from_info_server() {
        let info = "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n";
        assert_eq!(server_version(info).as_deref(), Some("7.0.15"));
        assert_eq!(server_version("# Server\r\n"), None);
    }
}
