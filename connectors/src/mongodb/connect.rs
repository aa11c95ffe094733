//! From a [`MongoTarget`] to a driver [`Client`], and back: the client built from the target's
//! connection string with the operation's timeouts, its shutdown (which closes every pooled and
//! monitoring connection), and the classification of driver errors into the [`FailureCategory`]
//! a user acts on. Validation, discovery and sampling all go through here, so a refused port or a
//! wrong password reads the same wherever it happens.
//!
//! The connection string names the replica set and every member, so the driver discovers the
//! topology itself: a single-member set that advertises itself (SecantusDB's `secantus`, a
//! one-node `rs0`) needs no `directConnection`.

use super::options::MongoTarget;
use crate::options::uri::encode;
use crate::options::CloudAuth;
use crate::probe::{mentions_tls, ConnectionFailure, DiscoveryError};
use domain::datasource::FailureCategory;
use mongodb::error::{Error, ErrorKind};
use mongodb::options::{ClientOptions, ReadPreference, SelectionCriteria};
use mongodb::Client;
use std::io;
use std::time::Duration;

/// How long shutting a client down may take before its connections are dropped unceremoniously.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Server error codes that mean the credentials or their rights are wrong: `Unauthorized`,
/// `UserNotFound`, `AuthenticationFailed`.
const AUTH_CODES: [i32; 3] = [13, 11, 18];
/// `MaxTimeMSExpired`: the server gave up within the operation's time limit.
const MAX_TIME_EXPIRED: i32 = 50;
/// `NamespaceNotFound`: the collection went away between listing and reading it.
pub(super) const NAMESPACE_NOT_FOUND: i32 = 26;

/// A live client and the read preference its connection string asked for, which commands run
/// through `run_command` do not pick up by themselves.
pub(super) struct Connected {
    pub client: Client,
    pub criteria: SelectionCriteria,
}

/// Builds the client of `target`. No connection is opened yet: the driver connects on the first
/// operation, waiting at most `selection` for a usable server and `connect` for each socket.
pub(super) async fn client(
    target: &MongoTarget,
    connect: Duration,
    selection: Duration,
) -> Result<Connected, ConnectionFailure> {
    if target.auth != CloudAuth::None && target.password.is_none() {
        return Err(failure(
            target,
            FailureCategory::Config,
            "MongoDB sources authenticate with a user and password: cloud identities are not \
             available for them in this version",
        ));
    }
    let mut options = ClientOptions::parse(target.to_uri())
        .await
        .map_err(|error| {
            // The driver may quote the connection string: show the redacted one instead.
            failure(
                target,
                FailureCategory::Config,
                format!("invalid MongoDB connection {target}: {}", error.kind),
            )
        })?;
    options.connect_timeout = Some(connect);
    options.server_selection_timeout = Some(selection);
    // Nothing stays open between operations.
    options.min_pool_size = Some(0);
    // The connection string always names a read preference; primary is the driver's default.
    let criteria = options
        .selection_criteria
        .clone()
        .unwrap_or(SelectionCriteria::ReadPreference(ReadPreference::Primary));
    let client = Client::with_options(options).map_err(|error| {
        failure(
            target,
            FailureCategory::Config,
            format!("invalid MongoDB connection {target}: {}", error.kind),
        )
    })?;
    Ok(Connected { client, criteria })
}

/// Shuts `client` down: its pools and monitors close their sockets. Every cursor of the client
/// must be dropped before (shutdown waits for them); past [`CLOSE_TIMEOUT`] the remaining
/// connections are closed without waiting.
pub(super) async fn close(client: Client) {
    let spare = client.clone();
    if tokio::time::timeout(CLOSE_TIMEOUT, client.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("MongoDB client did not shut down in time; closing it immediately");
        spare.shutdown().immediate(true).await;
    }
}

/// A failure whose message has the password removed, as typed and as encoded in the URI.
pub(super) fn failure(
    target: &MongoTarget,
    category: FailureCategory,
    message: impl Into<String>,
) -> ConnectionFailure {
    let secret = target.password.as_ref().map(|p| p.expose());
    let mut message = message.into();
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        message = message.replace(&encode(secret), "***");
    }
    ConnectionFailure::new(category, message, secret)
}

/// A `Timeout` failure after `waited`.
pub(super) fn timed_out(target: &MongoTarget, waited: Duration) -> ConnectionFailure {
    failure(
        target,
        FailureCategory::Timeout,
        format!(
            "no answer from {} within {} ms",
            hosts(target),
            waited.as_millis()
        ),
    )
}

/// `error` as a user-facing failure: its [category](classify) and the driver's message, without
/// the password.
pub(super) fn classified(target: &MongoTarget, error: &Error) -> ConnectionFailure {
    failure(target, classify(error), error.kind.to_string())
}

/// `error` met while reading: a [`DiscoveryError::Connection`] when the server could not be
/// reached or refused the credentials, a [`DiscoveryError::Query`] otherwise.
pub(super) fn read_error(
    target: &MongoTarget,
    what: &str,
    error: &Error,
    retries: u64,
) -> DiscoveryError {
    let failure = classified(target, error);
    if is_connection_problem(error) || failure.category == FailureCategory::Auth {
        DiscoveryError::Connection(failure)
    } else {
        DiscoveryError::Query {
            message: format!("{what}: {}", failure.message),
            retries,
        }
    }
}

/// The seed list, for messages and spans.
pub(super) fn hosts(target: &MongoTarget) -> String {
    target
        .hosts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The server error code of `error`, if the server answered with one.
pub(super) fn code(error: &Error) -> Option<i32> {
    match error.kind.as_ref() {
        ErrorKind::Command(command) => Some(command.code),
        _ => None,
    }
}

/// Whether `error` says the server is out of reach (and a retry, on a new connection, may help).
pub(super) fn is_connection_problem(error: &Error) -> bool {
    matches!(
        error.kind.as_ref(),
        ErrorKind::Io(_)
            | ErrorKind::ServerSelection { .. }
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. }
    )
}

/// Where a user should look.
///
/// - Authentication errors, and the server codes `Unauthorized`, `UserNotFound` and
///   `AuthenticationFailed` → auth.
/// - I/O: a socket timeout → timeout; invalid data or a certificate problem → TLS (rustls reports
///   verification failures as I/O errors); anything else (refused, reset, DNS) → unreachable.
/// - Server selection failed: the driver quotes each member's last error in its message, so the
///   same words decide (authentication, TLS, timed out); otherwise no member answered →
///   unreachable.
/// - `MaxTimeMSExpired` → timeout; an invalid TLS configuration → TLS; anything else → config.
pub(super) fn classify(error: &Error) -> FailureCategory {
    match error.kind.as_ref() {
        ErrorKind::Authentication { .. } => FailureCategory::Auth,
        ErrorKind::Command(command) if AUTH_CODES.contains(&command.code) => FailureCategory::Auth,
        ErrorKind::Command(command) if command.code == MAX_TIME_EXPIRED => FailureCategory::Timeout,
        ErrorKind::InvalidTlsConfig { .. } => FailureCategory::Tls,
        ErrorKind::Io(io_error) => classify_io(io_error),
        ErrorKind::DnsResolve { .. } | ErrorKind::ConnectionPoolCleared { .. } => {
            FailureCategory::Unreachable
        }
        ErrorKind::ServerSelection { message, .. } => {
            let lower = message.to_ascii_lowercase();
            if lower.contains("authentication") || lower.contains("auth failed") {
                FailureCategory::Auth
            } else if mentions_tls(&lower) {
                FailureCategory::Tls
            } else if lower.contains("refused")
                || lower.contains("reset")
                || lower.contains("unreachable")
                || lower.contains("lookup")
            {
                FailureCategory::Unreachable
            } else if lower.contains("timed out") {
                FailureCategory::Timeout
            } else {
                FailureCategory::Unreachable
            }
        }
        // The server answered the command, so the connection (TLS included) worked, whatever
        // words its message holds.
        ErrorKind::Command(_) | ErrorKind::Write(_) => FailureCategory::Config,
        other if mentions_tls(&other.to_string()) => FailureCategory::Tls,
        _ => FailureCategory::Config,
    }
}

fn classify_io(error: &io::Error) -> FailureCategory {
    if error.kind() == io::ErrorKind::TimedOut {
        FailureCategory::Timeout
    } else if error.kind() == io::ErrorKind::InvalidData || mentions_tls(&error.to_string()) {
        FailureCategory::Tls
    } else {
        FailureCategory::Unreachable
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::SecretValue;
    use domain::datasource::DataSourceConfigInput;

    fn io_error(kind: io::ErrorKind, message: &str) -> Error {
        Error::from(io::Error::new(kind, message))
    }

    #[test]
    fn io_errors_are_unreachable_timeouts_or_tls() {
        let refused = io_error(io::ErrorKind::ConnectionRefused, "connection refused");
        assert_eq!(classify(&refused), FailureCategory::Unreachable);
        let slow = io_error(io::ErrorKind::TimedOut, "timed out");
        assert_eq!(classify(&slow), FailureCategory::Timeout);
        let bad_cert = io_error(
            io::ErrorKind::InvalidData,
            "invalid peer certificate: UnknownIssuer",
        );
        assert_eq!(classify(&bad_cert), FailureCategory::Tls);
        assert!(is_connection_problem(&refused));
    }

    #[test]
    fn a_command_the_server_refused_is_never_a_tls_failure() {
        // The server answered, so TLS worked, even when its message quotes TLS words.
        let refused: mongodb::error::CommandError = serde_json::from_value(serde_json::json!({
            "code": 2,
            "codeName": "BadValue",
            "errmsg": "unrecognized option 'sslHandshakeCertificate'",
        }))
        .unwrap();
        let error = Error::from(ErrorKind::Command(refused));
        assert_eq!(classify(&error), FailureCategory::Config);
    }

    #[test]
    fn messages_never_carry_the_password_in_either_spelling() {
        let input = DataSourceConfigInput {
            name: Some("m".into()),
            kind: Some("mongodb".into()),
            host: Some("m1".into()),
            username: Some("u".into()),
            password_secret: Some("env:X".into()),
            ..Default::default()
        };
        let config = input.parse().unwrap();
        let password = SecretValue::new("p@ss word");
        let target = MongoTarget::from_config(&config, Some(&password)).unwrap();
        let shown = failure(
            &target,
            FailureCategory::Config,
            format!("bad uri {} or p@ss word", target.to_uri()),
        );
        assert!(!shown.message.contains("p@ss"), "{}", shown.message);
        assert!(!shown.message.contains("p%40ss"), "{}", shown.message);
    }
}
