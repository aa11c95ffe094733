//! [`probe_health`]: one health probe of a Redis source — the round trip of `PING` and what
//! `INFO` tells: `connected_clients`, `maxclients` (from `INFO` on Redis 7, else `CONFIG GET`
//! where allowed), `used_memory` and `uptime_in_seconds`.

use super::connect::{classify, is_connection_problem, open, secret, timed_out};
use super::options::RedisTarget;
use crate::probe::{ConnectionFailure, HealthProbe};
use redis::aio::MultiplexedConnection;
use redis::RedisError;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Connects to `target` once, times `PING`, reads `INFO`, and drops the connection (closing
/// its socket), all within `timeout`.
///
/// The figures are best effort: managed services often rename or forbid `CONFIG`, and an ACL
/// may forbid `INFO`; the probe then succeeds without those figures. Losing the connection
/// fails it. The password never appears in a message.
#[tracing::instrument(name = "redis.probe_health", skip_all, fields(endpoint = %target.endpoint))]
pub async fn probe_health(
    target: &RedisTarget,
    timeout: Duration,
) -> Result<HealthProbe, ConnectionFailure> {
    let probe = async {
        let mut connection = open(target, timeout, timeout).await?;
        let measured = measure(&mut connection)
            .await
            .map_err(|error| classify(&error, secret(target)));
        drop(connection);
        measured
    };
    let outcome = match tokio::time::timeout(timeout, probe).await {
        Ok(outcome) => outcome,
        Err(_) => Err(timed_out(target, timeout)),
    };
    match &outcome {
        Ok(probe) => tracing::debug!(latency_us = probe.latency_us(), "health probed"),
        Err(failure) => {
            tracing::warn!(category = %failure.category, message = %failure.message, "health probe failed")
        }
    }
    outcome
}

async fn measure(connection: &mut MultiplexedConnection) -> Result<HealthProbe, RedisError> {
    let started = Instant::now();
    let _: String = redis::cmd("PING").query_async(connection).await?;
    let latency = started.elapsed();
    let info: Option<String> = best_effort(redis::cmd("INFO").query_async(connection).await)?;
    let fields = info.as_deref().map(parse_info).unwrap_or_default();
    let number = |name: &str| fields.get(name).and_then(|v| v.parse::<u64>().ok());
    let mut max_connections = number("maxclients");
    if max_connections.is_none() {
        let config: Option<HashMap<String, String>> = best_effort(
            redis::cmd("CONFIG")
                .arg("GET")
                .arg("maxclients")
                .query_async(connection)
                .await,
        )?;
        max_connections = config
            .and_then(|config| config.get("maxclients").cloned())
            .and_then(|v| v.parse().ok());
    }
    Ok(HealthProbe {
        latency,
        server_version: fields.get("redis_version").cloned(),
        active_connections: number("connected_clients"),
        max_connections,
        storage_bytes: number("used_memory"),
        server_uptime_secs: number("uptime_in_seconds"),
    })
}

/// The value of a command, `None` when the server refused it (an error reply) rather than the
/// connection failing.
fn best_effort<T>(result: Result<T, RedisError>) -> Result<Option<T>, RedisError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if is_connection_problem(&error) => Err(error),
        Err(refused) => {
            tracing::debug!(error = %refused, "the server refused a health figure");
            Ok(None)
        }
    }
}

/// The `name:value` lines of an `INFO` reply (section headers and blank lines skipped).
fn parse_info(info: &str) -> HashMap<String, String> {
    info.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_info;

    #[test]
    fn info_lines_become_fields() {
        let info = "# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:731\r\n\r\n# Clients\r\n\
                    connected_clients:3\r\nmaxclients:10000\r\n# Memory\r\nused_memory:1061488\r\n";
        let fields = parse_info(info);
        assert_eq!(fields["redis_version"], "7.0.15");
        assert_eq!(fields["connected_clients"], "3");
        assert_eq!(fields["maxclients"], "10000");
        assert_eq!(fields["used_memory"], "1061488");
        assert_eq!(fields.len(), 5);
    }
}
