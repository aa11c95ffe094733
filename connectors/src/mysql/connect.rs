//! From a [`MysqlTarget`] to sqlx: the driver's connect options, and the classification of the
//! driver's errors into the [`FailureCategory`] a user acts on. Validation and discovery both
//! connect through here, so a refused port, a wrong password or a missing database reads the same
//! wherever it happens.

use super::options::{MysqlSslMode, MysqlTarget};
use crate::options::CloudAuth;
use crate::probe::{mentions_tls, ConnectionFailure};
use domain::datasource::FailureCategory;
use sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlSslMode as SqlxSslMode};
use std::io;

/// MySQL server error numbers the classification and the retry policy look at
/// (<https://mariadb.com/kb/en/mariadb-error-code-reference/>).
mod code {
    pub const TOO_MANY_CONNECTIONS: u16 = 1040;
    pub const DB_ACCESS_DENIED: u16 = 1044;
    pub const ACCESS_DENIED: u16 = 1045;
    pub const UNKNOWN_DATABASE: u16 = 1049;
    pub const SERVER_SHUTDOWN: u16 = 1053;
    pub const LOCK_WAIT_TIMEOUT: u16 = 1205;
    pub const DEADLOCK: u16 = 1213;
    pub const PLUGIN_NOT_LOADED: u16 = 1524;
    pub const ACCESS_DENIED_NO_PASSWORD: u16 = 1698;
    pub const CONNECTION_KILLED: u16 = 1927;
    pub const SERVER_GONE: u16 = 2006;
    pub const LOST_CONNECTION: u16 = 2013;
}

/// The password of `target`, for scrubbing messages.
pub(super) fn secret(target: &MysqlTarget) -> Option<&str> {
    target.password.as_ref().map(|p| p.expose())
}

/// The sqlx connect options of `target`: endpoint, database, user, password, `ssl-mode` and the
/// CA / client certificate / key files.
///
/// Token-based cloud identities (RDS IAM, Azure AD, GCP) would need a token fetched and sent as
/// the password with the cleartext plugin; that is not built, so a target relying on one without
/// a password is refused here as a configuration problem instead of failing later as "access
/// denied".
pub(super) fn connect_options(
    target: &MysqlTarget,
) -> Result<MySqlConnectOptions, ConnectionFailure> {
    if target.password.is_none() && target.auth != CloudAuth::None {
        return Err(ConnectionFailure::new(
            FailureCategory::Config,
            format!(
                "MySQL authentication through the cloud identity ({}) is not supported; \
                 configure a user and password_secret",
                target.auth
            ),
            None,
        ));
    }
    let mut options = MySqlConnectOptions::new()
        .host(target.endpoint.host.as_str())
        .port(target.endpoint.port)
        .ssl_mode(match target.ssl_mode {
            MysqlSslMode::Disabled => SqlxSslMode::Disabled,
            MysqlSslMode::Preferred => SqlxSslMode::Preferred,
            MysqlSslMode::Required => SqlxSslMode::Required,
            MysqlSslMode::VerifyCa => SqlxSslMode::VerifyCa,
            MysqlSslMode::VerifyIdentity => SqlxSslMode::VerifyIdentity,
        })
        // Catalog queries differ by the length of their `IN (…)` lists; a small cache keeps the
        // server's prepared-statement count (max_prepared_stmt_count is global) low.
        .statement_cache_capacity(16);
    if let Some(user) = &target.user {
        options = options.username(user);
    }
    if let Some(password) = &target.password {
        options = options.password(password.expose());
    }
    if let Some(database) = &target.database {
        options = options.database(database);
    }
    if let Some(ca) = &target.tls.ca_file {
        options = options.ssl_ca(ca);
    }
    if let Some(cert) = &target.tls.cert_file {
        options = options.ssl_client_cert(cert);
    }
    if let Some(key) = &target.tls.key_file {
        options = options.ssl_client_key(key);
    }
    Ok(options)
}

/// The category and message of a driver error met while connecting or querying; `secret` is
/// removed from the message in case a driver ever echoes it.
pub(super) fn classify(error: &sqlx::Error, secret: Option<&str>) -> ConnectionFailure {
    let category = match error {
        sqlx::Error::Database(db) => match server_code(db.as_ref()) {
            Some(
                code::ACCESS_DENIED
                | code::DB_ACCESS_DENIED
                | code::ACCESS_DENIED_NO_PASSWORD
                | code::PLUGIN_NOT_LOADED,
            ) => FailureCategory::Auth,
            Some(code::UNKNOWN_DATABASE) => FailureCategory::Config,
            Some(code::TOO_MANY_CONNECTIONS | code::SERVER_SHUTDOWN) => {
                FailureCategory::Unreachable
            }
            _ => FailureCategory::Config,
        },
        sqlx::Error::Tls(_) => FailureCategory::Tls,
        sqlx::Error::Io(io) if io.kind() == io::ErrorKind::TimedOut => FailureCategory::Timeout,
        // rustls reports certificate and handshake failures as I/O errors of kind InvalidData.
        sqlx::Error::Io(io)
            if io.kind() == io::ErrorKind::InvalidData && mentions_tls(&io.to_string()) =>
        {
            FailureCategory::Tls
        }
        // Refused, reset, unroutable, and DNS look-ups that found nothing.
        sqlx::Error::Io(_) => FailureCategory::Unreachable,
        sqlx::Error::PoolTimedOut => FailureCategory::Timeout,
        // Only "tls": a protocol error about "the handshake" is MySQL's own handshake.
        sqlx::Error::Protocol(message) if message.to_ascii_lowercase().contains("tls") => {
            FailureCategory::Tls
        }
        sqlx::Error::Protocol(_) | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            FailureCategory::Unreachable
        }
        _ => FailureCategory::Config,
    };
    ConnectionFailure::new(category, error.to_string(), secret)
}

/// Whether a failed catalog query is worth another try: lost connections, timeouts, lock waits
/// and deadlocks pass; a syntax error or a missing privilege fails the same way every time.
pub(super) fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => matches!(
            server_code(db.as_ref()),
            Some(
                code::TOO_MANY_CONNECTIONS
                    | code::SERVER_SHUTDOWN
                    | code::LOCK_WAIT_TIMEOUT
                    | code::DEADLOCK
                    | code::CONNECTION_KILLED
                    | code::SERVER_GONE
                    | code::LOST_CONNECTION
            )
        ),
        _ => false,
    }
}

fn server_code(error: &dyn sqlx::error::DatabaseError) -> Option<u16> {
    error
        .try_downcast_ref::<MySqlDatabaseError>()
        .map(MySqlDatabaseError::number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_unreachable_or_timeouts() {
        let refused = sqlx::Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert_eq!(
            classify(&refused, None).category,
            FailureCategory::Unreachable
        );
        let timed_out = sqlx::Error::Io(io::Error::from(io::ErrorKind::TimedOut));
        assert_eq!(
            classify(&timed_out, None).category,
            FailureCategory::Timeout
        );
        let bad_cert = sqlx::Error::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            "invalid peer certificate: UnknownIssuer",
        ));
        assert_eq!(classify(&bad_cert, None).category, FailureCategory::Tls);
        assert!(is_transient(&refused));
    }

    #[test]
    fn messages_never_carry_the_secret() {
        let error = sqlx::Error::Protocol("handshake with s3cr3t failed".into());
        let failure = classify(&error, Some("s3cr3t"));
        assert!(!failure.message.contains("s3cr3t"), "{}", failure.message);
        assert!(!is_transient(&sqlx::Error::RowNotFound));
    }
}
