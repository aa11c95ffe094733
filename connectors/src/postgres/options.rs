//! [`PostgresTarget`]: libpq-style connection parameters of a PostgreSQL source, as plain fields
//! (to build sqlx's `PgConnectOptions` from) and as a `postgresql://` URI (for libpq tools such as
//! `pg_dump`).

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
}

impl PostgresTarget {
    pub const APPLICATION_NAME: &'static str = "pursight";

    pub fn from_config(
        config: &DataSourceConfig,
        password: Option<&SecretValue>,
    ) -> Result<Self, ConfigError> {
        let tls = TlsSettings::from_config(config);
        let pool = PoolOptions::from_settings(&config.pool);
        Ok(Self {
            endpoint: primary_endpoint(config)?,
            replica: replica_endpoint(config),
            database: database(config),
            user: config.username.clone(),
            password: password.cloned(),
            ssl_mode: PgSslMode::from_tls(tls.mode),
            tls,
            application_name: Self::APPLICATION_NAME.to_owned(),
            connect_timeout: pool.acquire_timeout,
            pool,
            auth: CloudAuth::from_config(config)?,
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

    /// The target for `routing`: the replica when allowed and configured, the primary otherwise.
    pub fn route(&self, routing: ReadRouting) -> PostgresTarget {
        match routing {
            ReadRouting::ReplicaAllowed => self.replica_target(),
            ReadRouting::Primary => None,
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
            ("cloud", Some(ssl(None, ca)), "verify-full"),
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
            target
                .route(ReadRouting::ReplicaAllowed)
                .endpoint
                .to_string(),
            "replica.internal:5433"
        );

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
    fn ipv6_hosts_are_bracketed() {
        let target =
            PostgresTarget::from_config(&parse(input("postgresql", Some("::1"))), None).unwrap();
        assert!(target.to_uri().starts_with("postgresql://[::1]:5432/?"));
    }
}
