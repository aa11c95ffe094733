//! [`MysqlTarget`]: connection parameters of a MySQL or MariaDB source, as plain fields (to build
//! sqlx's `MySqlConnectOptions` from) and as a `mysql://` URI in the parameter names sqlx and the
//! MySQL connectors share (`ssl-mode`, `ssl-ca`, `ssl-cert`, `ssl-key`).

use crate::options::uri::{encode, userinfo, Query, REDACTED};
use crate::options::{
    database, primary_endpoint, replica_endpoint, CloudAuth, ConfigError, PoolOptions, ReadRouting,
    TlsMode, TlsSettings,
};
use crate::secrets::SecretValue;
use domain::datasource::{DataSourceConfig, HostPort};
use std::fmt;
use std::time::Duration;

/// MySQL's `ssl-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MysqlSslMode {
    Disabled,
    Preferred,
    Required,
    VerifyCa,
    VerifyIdentity,
}

impl MysqlSslMode {
    pub fn from_tls(mode: TlsMode) -> Self {
        match mode {
            TlsMode::Disabled => MysqlSslMode::Disabled,
            TlsMode::Preferred => MysqlSslMode::Preferred,
            TlsMode::Required => MysqlSslMode::Required,
            TlsMode::VerifyCa => MysqlSslMode::VerifyCa,
            TlsMode::VerifyFull => MysqlSslMode::VerifyIdentity,
        }
    }

    /// The MySQL spelling (`VERIFY_IDENTITY`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            MysqlSslMode::Disabled => "DISABLED",
            MysqlSslMode::Preferred => "PREFERRED",
            MysqlSslMode::Required => "REQUIRED",
            MysqlSslMode::VerifyCa => "VERIFY_CA",
            MysqlSslMode::VerifyIdentity => "VERIFY_IDENTITY",
        }
    }
}

/// Everything needed to connect to one MySQL or MariaDB server.
#[derive(Debug, Clone, PartialEq)]
pub struct MysqlTarget {
    pub endpoint: HostPort,
    pub replica: Option<HostPort>,
    pub database: Option<String>,
    pub user: Option<String>,
    pub password: Option<SecretValue>,
    pub ssl_mode: MysqlSslMode,
    pub tls: TlsSettings,
    /// From `pool_timeout`.
    pub connect_timeout: Duration,
    pub pool: PoolOptions,
    pub auth: CloudAuth,
}

impl MysqlTarget {
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
            ssl_mode: MysqlSslMode::from_tls(tls.mode),
            tls,
            connect_timeout: pool.acquire_timeout,
            pool,
            auth: CloudAuth::from_config(config)?,
        })
    }

    /// The same parameters pointed at the read replica, if there is one.
    pub fn replica_target(&self) -> Option<MysqlTarget> {
        let replica = self.replica.clone()?;
        Some(MysqlTarget {
            endpoint: replica,
            replica: None,
            ..self.clone()
        })
    }

    /// The target for `routing`: the replica when allowed and configured, the primary otherwise.
    pub fn route(&self, routing: ReadRouting) -> MysqlTarget {
        match routing {
            ReadRouting::ReplicaAllowed => self.replica_target(),
            ReadRouting::Primary => None,
        }
        .unwrap_or_else(|| self.clone())
    }

    /// `mysql://user:password@host:port/db?ssl-mode=…`, the password percent-encoded.
    pub fn to_uri(&self) -> String {
        self.render(self.password.as_ref().map(|p| encode(p.expose())))
    }

    fn render(&self, password: Option<String>) -> String {
        let mut query = Query::default();
        query
            .push("ssl-mode", self.ssl_mode.as_str())
            .push_opt("ssl-ca", self.tls.ca_file.as_deref())
            .push_opt("ssl-cert", self.tls.cert_file.as_deref())
            .push_opt("ssl-key", self.tls.key_file.as_deref());
        format!(
            "mysql://{}{}/{}{}",
            userinfo(self.user.as_deref(), password.as_deref()),
            self.endpoint,
            self.database.as_deref().map(encode).unwrap_or_default(),
            query.render()
        )
    }
}

/// The URI with the password shown as `***`.
impl fmt::Display for MysqlTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let password = self.password.as_ref().map(|_| REDACTED.to_owned());
        f.write_str(&self.render(password))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::test_support::*;

    fn target_with(
        location: &str,
        ssl_config: Option<domain::datasource::SslConfigInput>,
    ) -> MysqlTarget {
        let mut input = input("mysql", Some("maria.internal"));
        input.location = Some(location.into());
        if location != "on_prem" {
            input.cloud_provider = Some("azure".into());
        }
        input.ssl_config = ssl_config;
        MysqlTarget::from_config(&parse(input), None).unwrap()
    }

    #[test]
    fn ssl_mode_selection_table() {
        let ca = Some("/ca.pem");
        let cases = [
            ("on_prem", None, "PREFERRED"),
            ("cloud", None, "REQUIRED"),
            ("hybrid", None, "REQUIRED"),
            ("cloud", Some(ssl(Some("disable"), None)), "DISABLED"),
            ("on_prem", Some(ssl(Some("require"), None)), "REQUIRED"),
            ("on_prem", Some(ssl(Some("require"), ca)), "VERIFY_CA"),
            ("cloud", Some(ssl(Some("verify_ca"), ca)), "VERIFY_CA"),
            (
                "cloud",
                Some(ssl(Some("verify_full"), ca)),
                "VERIFY_IDENTITY",
            ),
        ];
        for (location, ssl_config, expected) in cases {
            let described = format!("{location} {ssl_config:?}");
            let target = target_with(location, ssl_config);
            assert_eq!(target.ssl_mode.as_str(), expected, "{described}");
        }
    }

    #[test]
    fn uri_carries_tls_files_and_encodes_the_password() {
        let mut input = input("mysql", Some("maria.internal"));
        input.database = Some("pii_dev".into());
        input.username = Some("scanner".into());
        input.password_secret = Some("env:MYSQL_PASSWORD".into());
        input.ssl_config = Some(client_cert());
        let password = SecretValue::new("p@ss:w/rd");
        let target = MysqlTarget::from_config(&parse(input), Some(&password)).unwrap();
        assert_eq!(
            target.to_uri(),
            "mysql://scanner:p%40ss%3Aw%2Frd@maria.internal:3306/pii_dev?ssl-mode=VERIFY_IDENTITY\
             &ssl-ca=/etc/pursight/ca.pem&ssl-cert=/etc/pursight/client.pem\
             &ssl-key=/etc/pursight/client.key"
        );
        let shown = target.to_string();
        assert!(shown.starts_with("mysql://scanner:***@maria.internal:3306/pii_dev?"));
        for output in [shown, format!("{target:?}")] {
            assert!(
                !output.contains("p@ss") && !output.contains("p%40ss"),
                "{output}"
            );
        }
    }

    #[test]
    fn the_replica_is_a_second_target() {
        let mut input = input("mysql", Some("primary"));
        input.replica_config = Some(replica("reader", Some(3307)));
        let target = MysqlTarget::from_config(&parse(input), None).unwrap();
        assert_eq!(
            target.route(ReadRouting::ReplicaAllowed).to_uri(),
            "mysql://reader:3307/?ssl-mode=PREFERRED"
        );
        assert_eq!(
            target.route(ReadRouting::Primary).to_uri(),
            "mysql://primary:3306/?ssl-mode=PREFERRED"
        );
    }
}
