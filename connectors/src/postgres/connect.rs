//! Connecting to PostgreSQL with sqlx: [`connect_options`] turns a [`PostgresTarget`] into
//! `PgConnectOptions`, [`validate`] is the connection test (`validateConnection`), and
//! [`classify`] sorts sqlx's errors into the [`FailureCategory`]s users see.
//!
//! Every message that leaves this module went through [`ConnectionFailure::new`] with the target's
//! password, so a driver echoing the password cannot leak it.

use super::options::{PgSslMode, PostgresTarget};
use crate::probe::{ConnectionFailure, ConnectionInfo};
use domain::datasource::FailureCategory;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode as SqlxSslMode};
use sqlx::{Connection, Executor, Row};
use std::io::ErrorKind;
use std::path::Path;
use std::time::{Duration, Instant};

/// The sqlx connection options of `target`: host, port, database, user, password, `sslmode` with
/// the root certificate and client certificate/key files, and `application_name`; behind
/// PgBouncer ([`PostgresTarget::pgbouncer`]) without the statement cache and without the
/// `extra_float_digits` startup parameter.
///
/// Fails with a [`FailureCategory::Config`] failure when a TLS file the target names cannot be
/// read, so that a typo in a path is reported as such instead of as a handshake error.
///
/// ```
/// use connectors::options::{CloudAuth, PoolOptions, TlsMode, TlsSettings};
/// use connectors::postgres::{connect_options, PgSslMode, PostgresTarget};
/// use domain::datasource::HostPort;
/// use std::time::Duration;
///
/// let target = PostgresTarget {
///     endpoint: HostPort::parse_with_default("db.internal", 5432).unwrap(),
///     replica: None,
///     database: Some("sales".into()),
///     user: Some("reader".into()),
///     password: None,
///     ssl_mode: PgSslMode::Require,
///     tls: TlsSettings { mode: TlsMode::Required, ca_file: None, cert_file: None, key_file: None },
///     application_name: "pursight".into(),
///     connect_timeout: Duration::from_secs(5),
///     pool: PoolOptions { max_connections: 5, min_connections: 0, acquire_timeout: Duration::from_secs(5), max_lifetime: Duration::from_secs(300) },
///     auth: CloudAuth::None,
///     pgbouncer: false,
///     reads: Default::default(),
/// };
/// let options = connect_options(&target).unwrap();
/// assert_eq!(options.get_host(), "db.internal");
/// assert_eq!(options.get_database(), Some("sales"));
/// ```
pub fn connect_options(target: &PostgresTarget) -> Result<PgConnectOptions, ConnectionFailure> {
    let secret = secret_of(target);
    // `new_without_pgpass`: the target says everything; a `~/.pgpass` on the PurSight host must
    // not silently supply a password the data source's configuration does not name.
    let mut options = PgConnectOptions::new_without_pgpass()
        .host(target.endpoint.host.as_str())
        .port(target.endpoint.port)
        .ssl_mode(sqlx_ssl_mode(target.ssl_mode))
        .application_name(&target.application_name);
    if target.pgbouncer {
        // A cached statement is a named one, living in a server session PgBouncer hands to other
        // clients between transactions. sqlx 0.8 still names statements with the cache off, so
        // this crate's own queries are simple-protocol or unnamed inside a transaction; the test
        // through a real PgBouncer holds both to it.
        // PgBouncer 1.18 (Debian 12) refuses startup parameters it does not track unless its
        // `ignore_startup_parameters` names them. Leaving `extra_float_digits` out changes
        // nothing from PostgreSQL 12 on, where any positive value means the shortest exact text.
        options = options.statement_cache_capacity(0).extra_float_digits(None);
    }
    if let Some(database) = &target.database {
        options = options.database(database);
    }
    if let Some(user) = &target.user {
        options = options.username(user);
    }
    if let Some(password) = &target.password {
        options = options.password(password.expose());
    }
    for (what, file) in [
        ("sslrootcert", target.ssl_root_cert()),
        ("sslcert", target.ssl_cert()),
        ("sslkey", target.ssl_key()),
    ] {
        if let Some(file) = file {
            if let Err(error) = std::fs::metadata(file) {
                return Err(ConnectionFailure::new(
                    FailureCategory::Config,
                    format!("{what} file {file} cannot be read: {error}"),
                    secret,
                ));
            }
        }
    }
    if let Some(file) = target.ssl_root_cert() {
        options = options.ssl_root_cert(Path::new(file));
    }
    if let Some(file) = target.ssl_cert() {
        options = options.ssl_client_cert(Path::new(file));
    }
    if let Some(file) = target.ssl_key() {
        options = options.ssl_client_key(Path::new(file));
    }
    Ok(options)
}

fn sqlx_ssl_mode(mode: PgSslMode) -> SqlxSslMode {
    match mode {
        PgSslMode::Disable => SqlxSslMode::Disable,
        PgSslMode::Prefer => SqlxSslMode::Prefer,
        PgSslMode::Require => SqlxSslMode::Require,
        PgSslMode::VerifyCa => SqlxSslMode::VerifyCa,
        PgSslMode::VerifyFull => SqlxSslMode::VerifyFull,
    }
}

pub(crate) fn secret_of(target: &PostgresTarget) -> Option<&str> {
    target.password.as_ref().map(|p| p.expose())
}

/// Tests the connection: opens one connection (not a pool), runs `SELECT 1` and
/// `SHOW server_version`, and closes the connection again, all within `timeout`.
///
/// `latency_ms` is the round trip of `SELECT 1` alone, without the connection set-up (TCP, TLS,
/// authentication), so it compares across sources with different handshakes. Both statements
/// go over the simple query protocol, which needs no prepared statements (safe behind PgBouncer
/// in transaction mode).
#[tracing::instrument(
    name = "postgres.validate",
    skip_all,
    fields(endpoint = %target.endpoint, database = ?target.database, sslmode = target.ssl_mode.as_str())
)]
pub async fn validate(
    target: &PostgresTarget,
    timeout: Duration,
) -> Result<ConnectionInfo, ConnectionFailure> {
    let secret = secret_of(target);
    let options = connect_options(target)?;
    let attempt = async {
        let mut connection = PgConnection::connect_with(&options).await?;
        let probed = probe(&mut connection).await;
        // Close explicitly (a Terminate message) whatever the probe said, so the server frees
        // the backend at once instead of when it notices the socket is gone.
        let closed = connection.close().await;
        let info = probed?;
        closed?;
        Ok::<_, sqlx::Error>(info)
    };
    let outcome = match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(info)) => Ok(info),
        Ok(Err(error)) => Err(failure(&error, secret)),
        Err(_elapsed) => Err(timed_out(timeout, secret)),
    };
    match &outcome {
        Ok(info) => tracing::info!(latency_ms = info.latency_ms, "connection validated"),
        Err(failure) => {
            tracing::warn!(category = %failure.category, message = %failure.message, "connection failed")
        }
    }
    outcome
}

async fn probe(connection: &mut PgConnection) -> Result<ConnectionInfo, sqlx::Error> {
    let started = Instant::now();
    // A `&str` without arguments goes over the simple query protocol.
    connection.execute("SELECT 1").await?;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let version: String = connection
        .fetch_one("SHOW server_version")
        .await?
        .try_get(0)?;
    Ok(ConnectionInfo {
        latency_ms,
        server_version: Some(version),
    })
}

/// The failure for a deadline that passed.
pub(crate) fn timed_out(timeout: Duration, secret: Option<&str>) -> ConnectionFailure {
    ConnectionFailure::new(
        FailureCategory::Timeout,
        format!("no answer within {} ms", timeout.as_millis()),
        secret,
    )
}

/// `error` as a user-facing failure: its [category](classify) and sqlx's message with `secret`
/// removed.
pub(crate) fn failure(error: &sqlx::Error, secret: Option<&str>) -> ConnectionFailure {
    ConnectionFailure::new(classify(error), describe(error), secret)
}

/// The message of `error` with the SQLSTATE, when the server sent one, so users can look it up.
fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (SQLSTATE {code})", db.message()),
            None => db.message().to_owned(),
        },
        other => other.to_string(),
    }
}

/// Where a user should look when connecting failed.
///
/// - I/O errors: refused, DNS, no route, reset → unreachable; a socket timeout → timeout; invalid
///   data mid-handshake → TLS (rustls reports certificate verification failures as I/O errors of
///   kind `InvalidData`); a missing file → config.
/// - Server errors by SQLSTATE: class 28 (invalid authorization, including 28P01 wrong password)
///   and 42501 → auth; 3D000 (no such database), class 42 and 22023 (bad option) → config;
///   class 08 and 53/57 (connection failures, too many connections, shutting down) → unreachable;
///   anything else → config. A message saying "password authentication failed" is auth whatever
///   its code.
/// - sqlx's own: TLS → tls, pool timed out → timeout, configuration → config.
pub fn classify(error: &sqlx::Error) -> FailureCategory {
    match error {
        sqlx::Error::Io(io) => match io.kind() {
            ErrorKind::TimedOut => FailureCategory::Timeout,
            ErrorKind::InvalidData => FailureCategory::Tls,
            ErrorKind::NotFound | ErrorKind::PermissionDenied => FailureCategory::Config,
            _ => FailureCategory::Unreachable,
        },
        sqlx::Error::Tls(_) => FailureCategory::Tls,
        sqlx::Error::PoolTimedOut => FailureCategory::Timeout,
        sqlx::Error::Database(db) => {
            classify_server_error(db.code().as_deref().unwrap_or(""), db.message())
        }
        sqlx::Error::Protocol(message) if mentions_password(message) => FailureCategory::Auth,
        sqlx::Error::Protocol(_) | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            FailureCategory::Unreachable
        }
        _ => FailureCategory::Config,
    }
}

/// The category of a server error from its SQLSTATE and message.
pub fn classify_server_error(code: &str, message: &str) -> FailureCategory {
    if mentions_password(message) || code.starts_with("28") || code == "42501" {
        return FailureCategory::Auth;
    }
    if code.starts_with("08") || code.starts_with("53") || code.starts_with("57") {
        return FailureCategory::Unreachable;
    }
    FailureCategory::Config
}

fn mentions_password(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("password authentication failed") || message.contains("requested password")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn io_errors_by_kind() {
        let io = |kind| sqlx::Error::Io(io::Error::new(kind, "boom"));
        assert_eq!(
            classify(&io(ErrorKind::ConnectionRefused)),
            FailureCategory::Unreachable
        );
        assert_eq!(
            classify(&io(ErrorKind::HostUnreachable)),
            FailureCategory::Unreachable
        );
        assert_eq!(
            classify(&io(ErrorKind::Other)),
            FailureCategory::Unreachable,
            "DNS lookup failures arrive as uncategorized I/O errors"
        );
        assert_eq!(classify(&io(ErrorKind::TimedOut)), FailureCategory::Timeout);
        assert_eq!(classify(&io(ErrorKind::InvalidData)), FailureCategory::Tls);
        assert_eq!(classify(&io(ErrorKind::NotFound)), FailureCategory::Config);
    }

    #[test]
    fn sqlx_errors() {
        assert_eq!(
            classify(&sqlx::Error::Tls("server does not support TLS".into())),
            FailureCategory::Tls
        );
        assert_eq!(
            classify(&sqlx::Error::PoolTimedOut),
            FailureCategory::Timeout
        );
        assert_eq!(
            classify(&sqlx::Error::Configuration("bad".into())),
            FailureCategory::Config
        );
    }

    #[test]
    fn server_errors_by_sqlstate() {
        let cases = [
            (
                "28P01",
                "password authentication failed for user \"x\"",
                FailureCategory::Auth,
            ),
            (
                "28000",
                "no pg_hba.conf entry for host",
                FailureCategory::Auth,
            ),
            (
                "42501",
                "permission denied for database",
                FailureCategory::Auth,
            ),
            (
                "3D000",
                "database \"nope\" does not exist",
                FailureCategory::Config,
            ),
            (
                "22023",
                "invalid value for parameter",
                FailureCategory::Config,
            ),
            (
                "53300",
                "sorry, too many clients already",
                FailureCategory::Unreachable,
            ),
            (
                "57P03",
                "the database system is starting up",
                FailureCategory::Unreachable,
            ),
            ("08006", "connection failure", FailureCategory::Unreachable),
            (
                "XX000",
                "password authentication failed",
                FailureCategory::Auth,
            ),
        ];
        for (code, message, expected) in cases {
            assert_eq!(classify_server_error(code, message), expected, "{code}");
        }
    }

    #[test]
    fn the_password_never_reaches_the_message() {
        let error = sqlx::Error::Protocol("server said s3cr3t!".into());
        let failure = failure(&error, Some("s3cr3t!"));
        assert_eq!(
            failure.message,
            "encountered unexpected or invalid data: server said ***"
        );
    }
}
