//! [`PostgresTarget`]: libpq-style connection parameters of a PostgreSQL source, as plain fields
//! (to build sqlx's `PgConnectOptions` from) and as a `postgresql://` URI (for libpq tools such as
//! `pg_dump`).
//!
//! A source reached through PgBouncer in transaction mode says so in its `database` field, the way
//! Prisma's connection strings do: `sales?pgbouncer=true` (see [`PostgresTarget::pgbouncer`]).
//! The model has no free-form connection options, and the suffix keeps the fact next to the
//! database it is about.

use crate::failover::{FailoverPolicy, ReadHealth, Server};
use crate::options::uri::{encode, userinfo, Query, REDACTED};
use crate::options::{
    database, primary_endpoint, replica_endpoint, CloudAuth, ConfigError, PoolOptions, ReadRouting,
    TlsMode, TlsSettings,
};
use crate::secrets::SecretValue;
use domain::datasource::{DataSourceConfig, HostPort};
use std::fmt;
use std::time::Duration;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PgSslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl PgSslMode {
    pub fn from_tls(mode: TlsMode) -> Self {
        match mode {
            TlsMode::Disabled => PgSslMode::Disable,
            TlsMode::Preferred => PgSslMode::Prefer,
            TlsMode::Required => PgSslMode::Require,
            TlsMode::VerifyCa => PgSslMode::VerifyCa,
            TlsMode::VerifyFull => PgSslMode::VerifyFull,
        }
    }

    /// The libpq spelling (`verify-full`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            PgSslMode::Disable => "disable",
            PgSslMode::Prefer => "prefer",
            PgSslMode::Require => "require",
            PgSslMode::VerifyCa => "verify-ca",
            PgSslMode::VerifyFull => "verify-full",
        }
    }
}

/// Everything needed to connect to one PostgreSQL server.
#[derive(Debug, Clone, PartialEq)]
pub struct PostgresTarget {
    pub endpoint: HostPort,
    /// `replica_config.replica_host` / `replica_port`; see [`PostgresTarget::replica_target`].
    pub replica: Option<HostPort>,
    pub database: Option<String>,
    pub user: Option<String>,
    pub password: Option<SecretValue>,
    pub ssl_mode: PgSslMode,
    /// `sslrootcert`, `sslcert`, `sslkey` and the engine-neutral policy they came from.
    pub tls: TlsSettings,
    pub application_name: String,
    /// From `pool_timeout`.
    pub connect_timeout: Duration,
    pub pool: PoolOptions,
    pub auth: CloudAuth,
    /// The endpoints are PgBouncer in transaction (or statement) mode, from `?pgbouncer=true`
    /// after the database name: no statement cache and no `extra_float_digits` startup
    /// parameter (PgBouncer refuses it unless told to ignore it). Every query of this crate
    /// already avoids named prepared statements, which such a pooler cannot keep.
    pub pgbouncer: bool,
    /// Where reads that may be stale go (primary or replica), shared by the clones of this
    /// target; see [`crate::failover`].
    pub reads: ReadHealth,
}

impl PostgresTarget {
    pub const APPLICATION_NAME: &'static str = "pursight";

    pub fn from_config(
        config: &DataSourceConfig,
        password: Option<&SecretValue>,
    ) -> Result<Self, ConfigError> {
        let tls = TlsSettings::from_config(config);
        let pool = PoolOptions::from_settings(&config.pool);
        let (database, pgbouncer) = split_database(database(config))?;
        Ok(Self {
            endpoint: primary_endpoint(config)?,
            replica: replica_endpoint(config),
            database,
            user: config.username.clone(),
            password: password.cloned(),
            ssl_mode: PgSslMode::from_tls(tls.mode),
            tls,
            application_name: Self::APPLICATION_NAME.to_owned(),
            connect_timeout: pool.acquire_timeout,
            pool,
            auth: CloudAuth::from_config(config)?,
            pgbouncer,
            reads: ReadHealth::new(FailoverPolicy::for_source(config)),
        })
    }

    /// The same parameters pointed at the read replica, if there is one.
    pub fn replica_target(&self) -> Option<PostgresTarget> {
        let replica = self.replica.clone()?;
        Some(PostgresTarget {
            endpoint: replica,
            replica: None,
            ..self.clone()
        })
    }

    /// The target for `routing` now: the primary for [`ReadRouting::Primary`]; for
    /// [`ReadRouting::ReplicaAllowed`], the replica only while [`reads`](Self::reads) has failed
    /// over to it (a healthy primary serves fresher rows).
    pub fn route(&self, routing: ReadRouting) -> PostgresTarget {
        match routing {
            ReadRouting::ReplicaAllowed if self.reads.serving() == Server::Replica => {
                self.replica_target()
            }
            _ => None,
        }
        .unwrap_or_else(|| self.clone())
    }

    pub fn ssl_root_cert(&self) -> Option<&str> {
        self.tls.ca_file.as_deref()
    }

    pub fn ssl_cert(&self) -> Option<&str> {
        self.tls.cert_file.as_deref()
    }

    pub fn ssl_key(&self) -> Option<&str> {
        self.tls.key_file.as_deref()
    }

    /// `postgresql://user:password@host:port/db?sslmode=…`, the password percent-encoded.
    pub fn to_uri(&self) -> String {
        self.render(self.password.as_ref().map(|p| encode(p.expose())))
    }

    fn render(&self, password: Option<String>) -> String {
        let mut query = Query::default();
        query
            .push("sslmode", self.ssl_mode.as_str())
            .push_opt("sslrootcert", self.ssl_root_cert())
            .push_opt("sslcert", self.ssl_cert())
            .push_opt("sslkey", self.ssl_key())
            .push("application_name", &self.application_name)
            .push(
                "connect_timeout",
                self.connect_timeout.as_secs().to_string(),
            );
        format!(
            "postgresql://{}{}/{}{}",
            userinfo(self.user.as_deref(), password.as_deref()),
            self.endpoint,
            self.database.as_deref().map(encode).unwrap_or_default(),
            query.render()
        )
    }
}

/// The database name and the PgBouncer flag of a `database` field: `sales`, `sales?pgbouncer=true`
/// (or `=false`), `?pgbouncer=true` for the user's default database.
fn split_database(field: Option<String>) -> Result<(Option<String>, bool), ConfigError> {
    let Some(field) = field else {
        return Ok((None, false));
    };
    let Some((name, options)) = field.split_once('?') else {
        return Ok((Some(field), false));
    };
    let mut pgbouncer = false;
    for option in options.split('&').filter(|o| !o.is_empty()) {
        pgbouncer = match option.split_once('=') {
            Some(("pgbouncer", "true")) => true,
            Some(("pgbouncer", "false")) => false,
            _ => {
                return Err(ConfigError::new(
                    "database",
                    format!(
                        "`{option}` is not a connection option PurSight knows \
                         (only pgbouncer=true|false may follow the database name)"
                    ),
                ))
            }
        };
    }
    let name = name.trim();
    Ok(((!name.is_empty()).then(|| name.to_owned()), pgbouncer))
}

/// The URI with the password shown as `***`.
impl fmt::Display for PostgresTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let password = self.password.as_ref().map(|_| REDACTED.to_owned());
        f.write_str(&self.render(password))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failover::ReadOutcome;
    use crate::options::test_support::*;
    use domain::datasource::{CloudConfigInput, PoolSettingsInput};

    fn target_with(
        location: &str,
        ssl_config: Option<domain::datasource::SslConfigInput>,
    ) -> PostgresTarget {
        let mut input = input("postgresql", Some("db.internal"));
        input.location = Some(location.into());
        if location != "on_prem" {
            input.cloud_provider = Some("aws".into());
        }
        input.ssl_config = ssl_config;
        PostgresTarget::from_config(&parse(input), None).unwrap()
    }

    #[test]
    fn sslmode_selection_table() {
        let ca = Some("/ca.pem");
        let cases = [
            ("on_prem", None, "prefer"),
            ("cloud", None, "require"),
            ("hybrid", None, "require"),
            ("on_prem", Some(ssl(Some("require"), None)), "require"),
            ("on_prem", Some(ssl(Some("require"), ca)), "verify-ca"),
            ("cloud", Some(ssl(Some("verify_ca"), ca)), "verify-ca"),
            ("cloud", Some(ssl(Some("verify_full"), ca)), "verify-full"),
            // A CA alone verifies the chain; the host name only when asked for.
            ("cloud", Some(ssl(None, ca)), "verify-ca"),
            ("cloud", Some(ssl(Some("disable"), None)), "disable"),
        ];
        for (location, ssl_config, expected) in cases {
            let described = format!("{location} {ssl_config:?}");
            let target = target_with(location, ssl_config);
            assert_eq!(target.ssl_mode.as_str(), expected, "{described}");
            assert!(
                target.to_uri().contains(&format!("sslmode={expected}&")),
                "{described}"
            );
        }
    }

    #[test]
    fn tls_files_go_into_the_uri() {
        let target = target_with("on_prem", Some(client_cert()));
        assert_eq!(
            target.to_uri(),
            "postgresql://db.internal:5432/?sslmode=verify-full&sslrootcert=/etc/pursight/ca.pem\
             &sslcert=/etc/pursight/client.pem&sslkey=/etc/pursight/client.key\
             &application_name=pursight&connect_timeout=30"
        );
        assert_eq!(target.ssl_root_cert(), Some("/etc/pursight/ca.pem"));
    }

    #[test]
    fn password_is_percent_encoded_in_the_uri_and_hidden_elsewhere() {
        let mut input = input("postgresql", Some("db.internal"));
        input.port = Some(6432);
        input.database = Some("sales db".into());
        input.username = Some("app@corp".into());
        input.password_secret = Some("env:PG_PASSWORD".into());
        let password = SecretValue::new("p@ss:w/rd");
        let target = PostgresTarget::from_config(&parse(input), Some(&password)).unwrap();
        assert_eq!(
            target.to_uri(),
            "postgresql://app%40corp:p%40ss%3Aw%2Frd@db.internal:6432/sales%20db\
             ?sslmode=prefer&application_name=pursight&connect_timeout=30"
        );
        assert_eq!(
            target.to_string(),
            "postgresql://app%40corp:***@db.internal:6432/sales%20db\
             ?sslmode=prefer&application_name=pursight&connect_timeout=30"
        );
        let debug = format!("{target:?}");
        assert!(debug.contains("SecretValue(***)"));
        assert!(
            !debug.contains("p@ss") && !debug.contains("w/rd"),
            "{debug}"
        );
        assert_eq!(
            target.password.as_ref().map(SecretValue::expose),
            Some("p@ss:w/rd")
        );
    }

    #[test]
    fn the_replica_is_a_second_target() {
        let mut input = input("postgresql", Some("primary.internal"));
        input.port = Some(5433);
        input.location = Some("hybrid".into());
        input.cloud_provider = Some("aws".into());
        input.replica_config = Some(replica("replica.internal", None));
        let target = PostgresTarget::from_config(&parse(input), None).unwrap();
        let second = target.replica_target().unwrap();
        assert_eq!(second.endpoint.to_string(), "replica.internal:5433");
        assert_eq!(second.replica, None);
        assert_eq!(second.ssl_mode, PgSslMode::Require);
        assert_eq!(target.route(ReadRouting::Primary).endpoint, target.endpoint);
        assert_eq!(
            target.route(ReadRouting::ReplicaAllowed).endpoint,
            target.endpoint,
            "a healthy primary serves reads that may be stale too"
        );
        for _ in 0..target.reads.policy().max_consecutive_bad {
            let route = target.reads.choose();
            target.reads.record(route, ReadOutcome::Failed);
        }
        assert_eq!(
            target
                .route(ReadRouting::ReplicaAllowed)
                .endpoint
                .to_string(),
            "replica.internal:5433"
        );
        assert_eq!(target.route(ReadRouting::Primary).endpoint, target.endpoint);

        let mut explicit = self::input("postgresql", Some("primary.internal"));
        explicit.replica_config = Some(replica("10.0.0.9", Some(5999)));
        let target = PostgresTarget::from_config(&parse(explicit), None).unwrap();
        assert!(target
            .replica_target()
            .unwrap()
            .to_uri()
            .starts_with("postgresql://10.0.0.9:5999/?"));
        let lone = PostgresTarget::from_config(&parse(self::input("postgresql", Some("p"))), None)
            .unwrap();
        assert_eq!(
            lone.route(ReadRouting::ReplicaAllowed).endpoint,
            lone.endpoint
        );
    }

    #[test]
    fn timeouts_pool_and_cloud_auth_are_carried() {
        let mut input = input("postgresql", Some("db.rds.amazonaws.com"));
        input.location = Some("cloud".into());
        input.cloud_provider = Some("aws".into());
        input.cloud_config = Some(CloudConfigInput {
            use_iam_auth: Some(true),
            ..Default::default()
        });
        input.pool = Some(PoolSettingsInput {
            pool_timeout_secs: Some(7),
            ..Default::default()
        });
        let target = PostgresTarget::from_config(&parse(input), None).unwrap();
        assert_eq!(target.connect_timeout, Duration::from_secs(7));
        assert_eq!(target.pool.max_connections, 15);
        assert_eq!(target.auth, CloudAuth::AwsIam);
        assert!(target.to_uri().ends_with("connect_timeout=7"));
    }

    #[test]
    fn pgbouncer_follows_the_database_name() {
        let with = |database: &str| {
            let mut input = input("postgresql", Some("bouncer.internal"));
            input.database = Some(database.into());
            PostgresTarget::from_config(&parse(input), None)
        };
        let target = with("sales?pgbouncer=true").unwrap();
        assert_eq!(target.database.as_deref(), Some("sales"));
        assert!(target.pgbouncer);
        assert!(
            target
                .to_uri()
                .starts_with("postgresql://bouncer.internal:5432/sales?sslmode="),
            "libpq tools get the plain database name: {}",
            target.to_uri()
        );
        let default_db = with("?pgbouncer=true").unwrap();
        assert_eq!(default_db.database, None);
        assert!(default_db.pgbouncer);
        let plain = with("sales").unwrap();
        assert!(!plain.pgbouncer);
        assert!(!with("sales?pgbouncer=false").unwrap().pgbouncer);
        let error = with("sales?sslmode=disable").unwrap_err();
        assert_eq!(error.field, "database");
        assert!(error.message.contains("sslmode=disable"), "{error}");
        assert!(with("sales?pgbouncer=yes").is_err());
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        let target =
            PostgresTarget::from_config(&parse(input("postgresql", Some("::1"))), None).unwrap();
        assert!(target.to_uri().starts_with("postgresql://[::1]:5432/?"));
    }
}
