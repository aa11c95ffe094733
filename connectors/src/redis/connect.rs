//! From a [`RedisTarget`] to one live connection: the client (with the CA and client certificate
//! files read when the target has them), one multiplexed connection bounded by timeouts, and the
//! classification of the driver's errors into the [`FailureCategory`] a user acts on. Validation
//! and discovery both connect through here, so a refused port or a wrong password reads the same
//! wherever it happens.
//!
//! A multiplexed connection is one TCP (or TLS) socket; dropping it ends its driver task and
//! closes the socket, which is how both operations close their connection.

use super::options::RedisTarget;
use crate::probe::{mentions_tls, ConnectionFailure};
use domain::datasource::FailureCategory;
use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, Client, ClientTlsConfig, ErrorKind, RedisError, TlsCertificates,
};
use std::time::Duration;

/// The password of `target`, for scrubbing messages.
pub(super) fn secret(target: &RedisTarget) -> Option<&str> {
    target.password.as_ref().map(|p| p.expose())
}

/// Opens one connection to `target`: connect, authenticate and `SELECT` the database, each
/// command afterwards bounded by `response_timeout`. The whole opening is bounded by
/// `connect_timeout`.
pub(super) async fn open(
    target: &RedisTarget,
    connect_timeout: Duration,
    response_timeout: Duration,
) -> Result<MultiplexedConnection, ConnectionFailure> {
    let client = client(target).await?;
    connect(&client, target, connect_timeout, response_timeout).await
}

/// Opens one connection of `client` (built from `target`) as [`open`] does; a session calls it
/// again, with the same client, after losing its connection.
pub(super) async fn connect(
    client: &Client,
    target: &RedisTarget,
    connect_timeout: Duration,
    response_timeout: Duration,
) -> Result<MultiplexedConnection, ConnectionFailure> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(Some(response_timeout));
    let opening = client.get_multiplexed_async_connection_with_config(&config);
    match tokio::time::timeout(connect_timeout, opening).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(error)) => Err(classify(&error, secret(target))),
        Err(_) => Err(timed_out(target, connect_timeout)),
    }
}

/// A `Timeout` failure for `target` after `waited`.
pub(super) fn timed_out(target: &RedisTarget, waited: Duration) -> ConnectionFailure {
    ConnectionFailure::new(
        FailureCategory::Timeout,
        format!(
            "no answer from {} within {} ms",
            target.endpoint,
            waited.as_millis()
        ),
        secret(target),
    )
}

/// The driver client of `target`. The URL carries the password; a URL the driver refuses is
/// reported with the redacted form only.
pub(super) async fn client(target: &RedisTarget) -> Result<Client, ConnectionFailure> {
    let invalid = |error: RedisError| {
        ConnectionFailure::new(
            FailureCategory::Config,
            format!("invalid Redis connection {target}: {}", error.category()),
            secret(target),
        )
    };
    if !target.uses_tls() || (target.tls.ca_file.is_none() && target.tls.cert_file.is_none()) {
        return Client::open(target.to_uri()).map_err(invalid);
    }
    let root_cert = match &target.tls.ca_file {
        Some(path) => Some(read_pem(path, "CA certificate").await?),
        None => None,
    };
    let client_tls = match (&target.tls.cert_file, &target.tls.key_file) {
        (Some(cert), Some(key)) => Some(ClientTlsConfig {
            client_cert: read_pem(cert, "client certificate").await?,
            client_key: read_pem(key, "client key").await?,
        }),
        (Some(_), None) | (None, Some(_)) => {
            return Err(ConnectionFailure::new(
                FailureCategory::Config,
                "a Redis client certificate needs both ssl_cert and ssl_key",
                None,
            ))
        }
        (None, None) => None,
    };
    Client::build_with_tls(
        target.to_uri(),
        TlsCertificates {
            client_tls,
            root_cert,
        },
    )
    .map_err(invalid)
}

async fn read_pem(path: &str, what: &str) -> Result<Vec<u8>, ConnectionFailure> {
    tokio::fs::read(path).await.map_err(|error| {
        ConnectionFailure::new(
            FailureCategory::Config,
            format!("cannot read the {what} {path}: {error}"),
            None,
        )
    })
}

/// The category and message of a driver error met while connecting or querying; `secret` is
/// removed from the message in case the driver ever echoes it.
///
/// `NOAUTH`, `WRONGPASS` and `NOPERM` → `Auth`; `DB index is out of range` → `Config`; timeouts →
/// `Timeout`; certificate and handshake problems → `Tls`; other I/O (refused, reset, DNS) →
/// `Unreachable`.
pub(super) fn classify(error: &RedisError, secret: Option<&str>) -> ConnectionFailure {
    let text = error.to_string();
    let lower = text.to_ascii_lowercase();
    let code = error.code().unwrap_or_default();
    let category = if error.kind() == ErrorKind::AuthenticationFailed
        || matches!(code, "NOAUTH" | "WRONGPASS" | "NOPERM")
        || lower.contains("invalid password")
        || lower.contains("invalid username-password")
    {
        FailureCategory::Auth
    } else if lower.contains("db index") {
        FailureCategory::Config
    } else if error.is_timeout() {
        FailureCategory::Timeout
    } else if code.is_empty() && mentions_tls(&text) {
        // A server's error reply (it has a code) means the connection, TLS included, worked.
        FailureCategory::Tls
    } else if error.is_io_error() || error.is_connection_refusal() || error.is_connection_dropped()
    {
        FailureCategory::Unreachable
    } else {
        FailureCategory::Config
    };
    ConnectionFailure::new(category, text, secret)
}

/// Whether a failed command is worth reporting as a lost server rather than a refused command.
pub(super) fn is_connection_problem(error: &RedisError) -> bool {
    error.is_io_error() || error.is_timeout() || error.is_connection_dropped()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn io_errors_are_unreachable_or_timeouts() {
        let refused = RedisError::from(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert_eq!(
            classify(&refused, None).category,
            FailureCategory::Unreachable
        );
        let timed_out = RedisError::from(io::Error::from(io::ErrorKind::TimedOut));
        assert_eq!(
            classify(&timed_out, None).category,
            FailureCategory::Timeout
        );
        let bad_cert = RedisError::from(io::Error::new(
            io::ErrorKind::InvalidData,
            "invalid peer certificate: UnknownIssuer",
        ));
        assert_eq!(classify(&bad_cert, None).category, FailureCategory::Tls);
    }

    #[test]
    fn a_server_error_reply_is_never_a_tls_failure() {
        // The server answered, so TLS worked, even when its reply quotes TLS words.
        let reply = redis::parse_redis_value(b"-ERR unknown option 'tls-handshake'\r\n")
            .unwrap()
            .extract_error()
            .unwrap_err();
        assert_eq!(classify(&reply, None).category, FailureCategory::Config);
    }

    #[test]
    fn messages_never_carry_the_secret() {
        let error = RedisError::from(io::Error::other("handshake with s3cr3t failed"));
        let failure = classify(&error, Some("s3cr3t"));
        assert!(!failure.message.contains("s3cr3t"), "{}", failure.message);
    }
}
