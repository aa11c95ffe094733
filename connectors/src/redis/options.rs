//! [`RedisTarget`]: the `redis://` / `rediss://` URL of a Redis source.
//!
//! TLS (`rediss://`) whenever the policy requires it: an `ssl_config` that does not disable it, or
//! a cloud/hybrid location. Redis has no "prefer", so an on-prem source without `ssl_config`
//! connects in plain text. The CA and client certificate paths stay in [`RedisTarget::tls`] for
//! the connector (the URL cannot carry them). The logical database is `database` when it is a
//! number; any other `database` text is a label and the database is 0.

use crate::options::uri::{encode, userinfo, REDACTED};
use crate::options::{
    database, primary_endpoint, replica_endpoint, CloudAuth, ConfigError, PoolOptions, ReadRouting,
    TlsSettings,
};
use crate::secrets::SecretValue;
use domain::datasource::{DataSourceConfig, HostPort};
use std::fmt;
use std::time::Duration;

/// Everything needed to connect to one Redis server.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisTarget {
    pub endpoint: HostPort,
    pub replica: Option<HostPort>,
    /// The logical database index.
    pub db: u32,
    /// The ACL user (Redis 6+); `None` authenticates as `default`.
    pub user: Option<String>,
    pub password: Option<SecretValue>,
    pub tls: TlsSettings,
    /// From `pool_timeout`.
    pub connect_timeout: Duration,
    pub pool: PoolOptions,
    pub auth: CloudAuth,
}

impl RedisTarget {
    pub fn from_config(
        config: &DataSourceConfig,
        password: Option<&SecretValue>,
    ) -> Result<Self, ConfigError> {
        let pool = PoolOptions::from_settings(&config.pool);
        Ok(Self {
            endpoint: primary_endpoint(config)?,
            replica: replica_endpoint(config),
            db: database(config).and_then(|db| db.parse().ok()).unwrap_or(0),
            user: config.username.clone(),
            password: password.cloned(),
            tls: TlsSettings::from_config(config),
            connect_timeout: pool.acquire_timeout,
            pool,
            auth: CloudAuth::from_config(config)?,
        })
    }

    /// Whether the URL is `rediss://`.
    pub fn uses_tls(&self) -> bool {
        self.tls.mode.is_required()
    }

    /// The same parameters pointed at the replica, if there is one.
    pub fn replica_target(&self) -> Option<RedisTarget> {
        let replica = self.replica.clone()?;
        Some(RedisTarget {
            endpoint: replica,
            replica: None,
            ..self.clone()
        })
    }

    /// The target for `routing`: the replica when allowed and configured, the primary otherwise.
    pub fn route(&self, routing: ReadRouting) -> RedisTarget {
        match routing {
            ReadRouting::ReplicaAllowed => self.replica_target(),
            ReadRouting::Primary => None,
        }
        .unwrap_or_else(|| self.clone())
    }

    /// `redis[s]://[user][:password@]host:port/db`, the password percent-encoded.
    pub fn to_uri(&self) -> String {
        self.render(self.password.as_ref().map(|p| encode(p.expose())))
    }

    fn render(&self, password: Option<String>) -> String {
        let scheme = if self.uses_tls() { "rediss" } else { "redis" };
        format!(
            "{scheme}://{}{}/{}",
            userinfo(self.user.as_deref(), password.as_deref()),
            self.endpoint,
            self.db
        )
    }
}

/// The URL with the password shown as `***`.
impl fmt::Display for RedisTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let password = self.password.as_ref().map(|_| REDACTED.to_owned());
        f.write_str(&self.render(password))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::test_support::*;

    fn target(
        location: &str,
        ssl_config: Option<domain::datasource::SslConfigInput>,
        database: Option<&str>,
    ) -> RedisTarget {
        let mut input = input("redis", Some("cache.internal"));
        input.location = Some(location.into());
        if location != "on_prem" {
            input.cloud_provider = Some("aws".into());
        }
        input.ssl_config = ssl_config;
        input.database = database.map(Into::into);
        RedisTarget::from_config(&parse(input), None).unwrap()
    }

    #[test]
    fn tls_when_configured_or_in_the_cloud() {
        assert_eq!(
            target("on_prem", None, None).to_uri(),
            "redis://cache.internal:6379/0"
        );
        assert_eq!(
            target("cloud", None, None).to_uri(),
            "rediss://cache.internal:6379/0"
        );
        assert_eq!(
            target("hybrid", None, None).to_uri(),
            "rediss://cache.internal:6379/0"
        );
        let with_ca = target("on_prem", Some(ssl(None, Some("/ca.pem"))), None);
        assert!(with_ca.to_uri().starts_with("rediss://"));
        assert_eq!(with_ca.tls.ca_file.as_deref(), Some("/ca.pem"));
        assert!(target("cloud", Some(ssl(Some("disable"), None)), None)
            .to_uri()
            .starts_with("redis://"));
    }

    #[test]
    fn numeric_databases_select_the_index() {
        assert_eq!(target("on_prem", None, Some("3")).db, 3);
        assert_eq!(
            target("on_prem", None, Some(" 12 ")).to_uri(),
            "redis://cache.internal:6379/12"
        );
        assert_eq!(target("on_prem", None, Some("sessions")).db, 0);
    }

    #[test]
    fn credentials_are_encoded_and_hidden() {
        let mut input = input("redis", Some("cache.internal"));
        input.password_secret = Some("env:REDIS_PASSWORD".into());
        let password = SecretValue::new("p@ss:w/rd");
        let target = RedisTarget::from_config(&parse(input.clone()), Some(&password)).unwrap();
        assert_eq!(
            target.to_uri(),
            "redis://:p%40ss%3Aw%2Frd@cache.internal:6379/0"
        );
        assert_eq!(target.to_string(), "redis://:***@cache.internal:6379/0");
        input.username = Some("scanner".into());
        let target = RedisTarget::from_config(&parse(input), Some(&password)).unwrap();
        assert_eq!(
            target.to_uri(),
            "redis://scanner:p%40ss%3Aw%2Frd@cache.internal:6379/0"
        );
        assert!(!format!("{target:?}").contains("p@ss"));
    }

    #[test]
    fn the_replica_is_a_second_target() {
        let mut input = input("redis", Some("primary"));
        input.replica_config = Some(replica("replica", None));
        let target = RedisTarget::from_config(&parse(input), None).unwrap();
        assert_eq!(
            target.route(ReadRouting::ReplicaAllowed).to_uri(),
            "redis://replica:6379/0"
        );
    }
}
