//! Connection parameters built from the DataSource model, one pure function per engine and one
//! entry point for all: [`ConnectionTarget::from_config`]. Nothing here touches the network but
//! [`SourceSecrets::resolve`], which the caller runs first with its one secret resolver.
//!
//! What every engine shares lives here: the TLS policy ([`TlsSettings`], `tls.rs`), the cloud
//! identity ([`CloudAuth`], `cloud.rs`), the pool knobs ([`PoolOptions`], `pool.rs`) and the URI
//! encoding (`uri.rs`). What is specific to an engine lives in that engine's folder
//! (`crate::postgres`, `crate::mysql`, …) and is re-exported here.
//!
//! Every target holds the resolved password as a [`SecretValue`], so its `Debug` shows
//! `SecretValue(***)`, and its `Display` is the URI with the password replaced by `***`. Only
//! `to_uri()` writes the password, percent-encoded.

mod cloud;
mod pool;
mod tls;
pub(crate) mod uri;

pub use crate::mongodb::MongoTarget;
pub use crate::mysql::{MysqlSslMode, MysqlTarget};
pub use crate::postgres::{PgSslMode, PostgresTarget};
pub use crate::redis::RedisTarget;
pub use crate::s3::S3Target;
pub use crate::snowflake::SnowflakeTarget;
pub use cloud::CloudAuth;
pub use pool::PoolOptions;
pub use tls::{TlsMode, TlsSettings};

use crate::probe::ConnectionFailure;
use crate::secrets::{SecretResolver, SecretValue};
use domain::datasource::{DataSourceConfig, DataSourceKind, FailureCategory, Host, HostPort};
use domain::TenantId;
use std::fmt;

/// The secrets a source's references point to, resolved before its target is built: targets
/// hold values, never fetch them, so one resolver (with its HTTP client and token caches) serves
/// every connection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceSecrets {
    /// `password_secret`.
    pub password: Option<SecretValue>,
    /// The secret a connector signs its own requests with: an S3 source's
    /// `cloud_config.secret_access_key`.
    pub signing_key: Option<SecretValue>,
}

impl SourceSecrets {
    /// Only a password.
    pub fn password(password: SecretValue) -> Self {
        Self {
            password: Some(password),
            signing_key: None,
        }
    }

    /// Resolves the references `config`'s kind uses. One that cannot be resolved is an `Auth`
    /// failure naming the field (the resolver's message names the reference, never a value).
    #[tracing::instrument(name = "secrets.resolve_source", skip_all, fields(kind = %config.kind))]
    pub async fn resolve(
        tenant: &TenantId,
        config: &DataSourceConfig,
        resolver: &SecretResolver,
    ) -> Result<Self, ConnectionFailure> {
        let resolve = async |field: &str, reference| {
            resolver.resolve(tenant, reference).await.map_err(|err| {
                ConnectionFailure::new(FailureCategory::Auth, format!("{field}: {err}"), None)
            })
        };
        let password = match &config.password_secret {
            Some(reference) => Some(resolve("password_secret", reference).await?),
            None => None,
        };
        // Only S3 signs with static keys itself; a database's cloud settings do not hold a
        // key PurSight uses, so an unresolvable one there must not block the connection.
        let signing_key = match (config.kind, CloudAuth::from_config(config)) {
            (DataSourceKind::S3, Ok(CloudAuth::AwsStaticKeys { secret_ref, .. })) => {
                Some(resolve("cloud_config.secret_access_key", &secret_ref).await?)
            }
            _ => None,
        };
        Ok(Self {
            password,
            signing_key,
        })
    }
}

/// A configuration the connectors cannot turn into connection parameters. Names the field the way
/// the domain's validation errors do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Where reads may go when a source has replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReadRouting {
    /// The primary (MongoDB: `primaryPreferred`). For DDL discovery and anything that must be fresh.
    #[default]
    Primary,
    /// A replica is acceptable (MongoDB: `secondaryPreferred`; PostgreSQL: the primary while it
    /// is healthy, the replica once it has failed over, see [`crate::failover`]). Only where
    /// policy allows stale reads: previews, profiling, statistics.
    ReplicaAllowed,
}

/// The connection parameters of one data source, whatever its kind.
///
/// ```
/// use connectors::options::{ConnectionTarget, SourceSecrets};
/// use connectors::secrets::SecretValue;
/// use domain::datasource::DataSourceConfigInput;
///
/// let config = DataSourceConfigInput {
///     name: Some("Sales".into()),
///     kind: Some("postgresql".into()),
///     host: Some("db.internal".into()),
///     database: Some("sales".into()),
///     username: Some("pursight".into()),
///     password_secret: Some("env:PURSIGHT_SOURCE_SECRET_SALES_PG".into()),
///     ..Default::default()
/// }
/// .parse()
/// .unwrap();
/// let secrets = SourceSecrets::password(SecretValue::new("p@ss:w/rd"));
/// let target = ConnectionTarget::from_config(&config, &secrets).unwrap();
/// assert_eq!(
///     target.to_string(),
///     "postgresql://pursight:***@db.internal:5432/sales?sslmode=prefer&application_name=pursight&connect_timeout=30"
/// );
/// let ConnectionTarget::Postgres(pg) = target else { unreachable!() };
/// assert!(pg.to_uri().starts_with("postgresql://pursight:p%40ss%3Aw%2Frd@db.internal:5432/sales?"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionTarget {
    Postgres(PostgresTarget),
    Mysql(MysqlTarget),
    Mongodb(MongoTarget),
    Redis(RedisTarget),
    S3(S3Target),
    Snowflake(SnowflakeTarget),
}

impl ConnectionTarget {
    /// The parameters for `config`'s kind, with its `secrets` resolved (see
    /// [`SourceSecrets::resolve`]).
    pub fn from_config(
        config: &DataSourceConfig,
        secrets: &SourceSecrets,
    ) -> Result<Self, ConfigError> {
        let password = secrets.password.as_ref();
        Ok(match config.kind {
            DataSourceKind::Postgresql => {
                Self::Postgres(PostgresTarget::from_config(config, password)?)
            }
            DataSourceKind::Mysql => Self::Mysql(MysqlTarget::from_config(config, password)?),
            DataSourceKind::Mongodb => Self::Mongodb(MongoTarget::from_config(config, password)?),
            DataSourceKind::Redis => Self::Redis(RedisTarget::from_config(config, password)?),
            DataSourceKind::S3 => {
                Self::S3(S3Target::from_config(config, secrets.signing_key.as_ref())?)
            }
            DataSourceKind::Snowflake => {
                Self::Snowflake(SnowflakeTarget::from_config(config, password)?)
            }
        })
    }

    pub fn kind(&self) -> DataSourceKind {
        match self {
            Self::Postgres(_) => DataSourceKind::Postgresql,
            Self::Mysql(_) => DataSourceKind::Mysql,
            Self::Mongodb(_) => DataSourceKind::Mongodb,
            Self::Redis(_) => DataSourceKind::Redis,
            Self::S3(_) => DataSourceKind::S3,
            Self::Snowflake(_) => DataSourceKind::Snowflake,
        }
    }

    pub fn pool(&self) -> &PoolOptions {
        match self {
            Self::Postgres(t) => &t.pool,
            Self::Mysql(t) => &t.pool,
            Self::Mongodb(t) => &t.pool,
            Self::Redis(t) => &t.pool,
            Self::S3(t) => &t.pool,
            Self::Snowflake(t) => &t.pool,
        }
    }

    pub fn cloud_auth(&self) -> &CloudAuth {
        match self {
            Self::Postgres(t) => &t.auth,
            Self::Mysql(t) => &t.auth,
            Self::Mongodb(t) => &t.auth,
            Self::Redis(t) => &t.auth,
            Self::S3(t) => &t.auth,
            Self::Snowflake(t) => &t.auth,
        }
    }

    pub fn tls(&self) -> &TlsSettings {
        match self {
            Self::Postgres(t) => &t.tls,
            Self::Mysql(t) => &t.tls,
            Self::Mongodb(t) => &t.tls,
            Self::Redis(t) => &t.tls,
            Self::S3(t) => &t.tls,
            Self::Snowflake(t) => &t.tls,
        }
    }
}

impl fmt::Display for ConnectionTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres(t) => t.fmt(f),
            Self::Mysql(t) => t.fmt(f),
            Self::Mongodb(t) => t.fmt(f),
            Self::Redis(t) => t.fmt(f),
            Self::S3(t) => t.fmt(f),
            Self::Snowflake(t) => t.fmt(f),
        }
    }
}

/// The host of a kind that needs one.
pub(crate) fn required_host(config: &DataSourceConfig) -> Result<Host, ConfigError> {
    config.host.clone().ok_or_else(|| {
        ConfigError::new("host", format!("is required for a {} source", config.kind))
    })
}

/// The primary endpoint of a kind that needs a host.
pub(crate) fn primary_endpoint(config: &DataSourceConfig) -> Result<HostPort, ConfigError> {
    Ok(HostPort {
        host: required_host(config)?,
        port: config.port,
    })
}

/// `replica_config.replica_host` / `replica_port` (the primary's port when not given).
pub(crate) fn replica_endpoint(config: &DataSourceConfig) -> Option<HostPort> {
    let replica = config.replica_config.as_ref()?;
    Some(HostPort {
        host: replica.replica_host.clone()?,
        port: replica.replica_port.unwrap_or(config.port),
    })
}

/// A non-blank trimmed database name.
pub(crate) fn database(config: &DataSourceConfig) -> Option<String> {
    config
        .database
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Configurations for the engines' unit tests, built through the domain's own parser so they
    //! are exactly what the event log would carry.
    use domain::datasource::{
        CloudConfigInput, DataSourceConfig, DataSourceConfigInput, ReplicaConfigInput,
        SslConfigInput,
    };

    pub(crate) fn input(kind: &str, host: Option<&str>) -> DataSourceConfigInput {
        DataSourceConfigInput {
            name: Some("Test source".into()),
            kind: Some(kind.into()),
            host: host.map(Into::into),
            ..Default::default()
        }
    }

    pub(crate) fn parse(input: DataSourceConfigInput) -> DataSourceConfig {
        input.parse().unwrap_or_else(|e| panic!("test config: {e}"))
    }

    pub(crate) fn ssl(mode: Option<&str>, ca: Option<&str>) -> SslConfigInput {
        SslConfigInput {
            mode: mode.map(Into::into),
            ssl_ca: ca.map(Into::into),
            ..Default::default()
        }
    }

    pub(crate) fn client_cert() -> SslConfigInput {
        SslConfigInput {
            mode: Some("verify_full".into()),
            ssl_ca: Some("/etc/pursight/ca.pem".into()),
            ssl_cert: Some("/etc/pursight/client.pem".into()),
            ssl_key: Some("/etc/pursight/client.key".into()),
        }
    }

    pub(crate) fn replica(host: &str, port: Option<i64>) -> ReplicaConfigInput {
        ReplicaConfigInput {
            replica_host: Some(host.into()),
            replica_port: port,
            ..Default::default()
        }
    }

    pub(crate) fn cloud() -> CloudConfigInput {
        CloudConfigInput::default()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use domain::datasource::{CloudConfigInput, PoolSettingsInput, SecretRef};
    use std::time::Duration;

    fn tls(location: &str, ssl_config: Option<domain::datasource::SslConfigInput>) -> TlsSettings {
        let mut input = input("postgresql", Some("db"));
        input.location = Some(location.into());
        if location != "on_prem" {
            input.cloud_provider = Some("aws".into());
        }
        input.ssl_config = ssl_config;
        TlsSettings::from_config(&parse(input))
    }

    #[tokio::test]
    async fn the_secrets_a_kind_uses_are_resolved_each_naming_its_field() {
        use crate::secrets::{EnvLookup, SecretResolverConfig};
        let env = EnvLookup::from_map([
            ("PURSIGHT_SOURCE_SECRET_DB_PW", "pw-value"),
            ("PURSIGHT_SOURCE_SECRET_S3_KEY", "s3-key-value"),
        ]);
        let resolver = SecretResolver::new(SecretResolverConfig::from_lookup(env)).unwrap();
        let tenant = TenantId::parse("acme").unwrap();
        let with_keys = |kind: &str, secret: &str| {
            let mut input = input(kind, Some("db"));
            input.password_secret = Some("env:PURSIGHT_SOURCE_SECRET_DB_PW".into());
            input.cloud_config = Some(CloudConfigInput {
                access_key_id: Some("AKIAEXAMPLE".into()),
                secret_access_key: Some(secret.into()),
                ..cloud()
            });
            if kind == "s3" {
                input.host = None;
                input.password_secret = None;
            }
            parse(input)
        };

        let s3 = SourceSecrets::resolve(
            &tenant,
            &with_keys("s3", "env:PURSIGHT_SOURCE_SECRET_S3_KEY"),
            &resolver,
        )
        .await
        .unwrap();
        assert_eq!(s3.password, None);
        assert_eq!(s3.signing_key, Some(SecretValue::new("s3-key-value")));
        let target = ConnectionTarget::from_config(
            &with_keys("s3", "env:PURSIGHT_SOURCE_SECRET_S3_KEY"),
            &s3,
        )
        .unwrap();
        let ConnectionTarget::S3(target) = target else {
            panic!("an S3 target")
        };
        assert_eq!(target.secret_access_key, s3.signing_key);

        // A database's cloud keys are not PurSight's to use: not resolved, so not in the way.
        let pg = SourceSecrets::resolve(
            &tenant,
            &with_keys("postgresql", "env:PURSIGHT_SOURCE_SECRET_UNSET"),
            &resolver,
        )
        .await
        .unwrap();
        assert_eq!(pg.password, Some(SecretValue::new("pw-value")));
        assert_eq!(pg.signing_key, None);

        let failure = SourceSecrets::resolve(
            &tenant,
            &with_keys("s3", "env:PURSIGHT_SOURCE_SECRET_UNSET"),
            &resolver,
        )
        .await
        .unwrap_err();
        assert_eq!(failure.category, FailureCategory::Auth);
        assert!(
            failure
                .message
                .starts_with("cloud_config.secret_access_key: "),
            "{failure}"
        );
        let mut unset_password = input("mysql", Some("db"));
        unset_password.password_secret = Some("env:PURSIGHT_SOURCE_SECRET_UNSET".into());
        let failure = SourceSecrets::resolve(&tenant, &parse(unset_password), &resolver)
            .await
            .unwrap_err();
        assert_eq!(failure.category, FailureCategory::Auth);
        assert!(
            failure.message.starts_with("password_secret: "),
            "{failure}"
        );
    }

    #[test]
    fn tls_policy_table() {
        use TlsMode::*;
        let ca = Some("/ca.pem");
        let cases = [
            ("on_prem", None, Preferred),
            ("cloud", None, Required),
            ("hybrid", None, Required),
            ("cloud", Some(ssl(Some("disable"), None)), Disabled),
            ("on_prem", Some(ssl(Some("require"), None)), Required),
            ("on_prem", Some(ssl(Some("require"), ca)), VerifyCa),
            ("on_prem", Some(ssl(Some("verify_ca"), ca)), VerifyCa),
            ("hybrid", Some(ssl(Some("verify_full"), ca)), VerifyFull),
            // The model defaults the mode to verify_ca when only a CA is given: checking the
            // host name as well is asked for with `mode: verify_full`.
            ("cloud", Some(ssl(None, ca)), VerifyCa),
        ];
        for (location, ssl_config, expected) in cases {
            let described = format!("{location} {ssl_config:?}");
            assert_eq!(tls(location, ssl_config).mode, expected, "{described}");
        }
    }

    #[test]
    fn disabled_tls_drops_the_files() {
        let mut disabled = ssl(Some("disable"), None);
        disabled.ssl_cert = Some("/c".into());
        disabled.ssl_key = Some("/k".into());
        let settings = tls("on_prem", Some(disabled));
        assert_eq!(settings.ca_file, None);
        assert_eq!(settings.cert_file, None);
        let full = tls("on_prem", Some(client_cert()));
        assert_eq!(full.ca_file.as_deref(), Some("/etc/pursight/ca.pem"));
        assert_eq!(full.key_file.as_deref(), Some("/etc/pursight/client.key"));
    }

    fn auth(provider: Option<&str>, cloud: CloudConfigInput) -> Result<CloudAuth, ConfigError> {
        let mut input = input("s3", None);
        input.cloud_provider = provider.map(Into::into);
        input.cloud_config = Some(cloud);
        CloudAuth::from_config(&parse(input))
    }

    #[test]
    fn cloud_auth_modes_come_from_provider_and_cloud_config() {
        let secret = |raw: &str| SecretRef::parse(raw).unwrap();
        let keys = CloudConfigInput {
            access_key_id: Some("AKIAEXAMPLE".into()),
            secret_access_key: Some("env:AWS_SECRET".into()),
            ..cloud()
        };
        let static_keys = CloudAuth::AwsStaticKeys {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_ref: secret("env:AWS_SECRET"),
        };
        assert_eq!(auth(Some("aws"), keys.clone()).unwrap(), static_keys);
        // S3-compatible stores without a provider sign with the same keys.
        assert_eq!(auth(None, keys.clone()).unwrap(), static_keys);
        let iam = CloudConfigInput {
            use_iam_auth: Some(true),
            ..keys
        };
        assert_eq!(auth(Some("aws"), iam).unwrap(), CloudAuth::AwsIam);

        let managed = CloudConfigInput {
            use_managed_identity: Some(true),
            client_id: Some("mi-client".into()),
            ..cloud()
        };
        assert_eq!(
            auth(Some("azure"), managed).unwrap(),
            CloudAuth::AzureManagedIdentity {
                client_id: Some("mi-client".into())
            }
        );
        let app = CloudConfigInput {
            tenant_id: Some("tenant".into()),
            client_id: Some("app".into()),
            client_secret: Some("vault:secret/azure#client_secret".into()),
            ..cloud()
        };
        let app_auth = auth(Some("azure"), app.clone()).unwrap();
        assert_eq!(
            app_auth,
            CloudAuth::AzureClientCredentials {
                tenant_id: "tenant".into(),
                client_id: "app".into(),
                secret_ref: secret("vault:secret/azure#client_secret"),
            }
        );
        assert_eq!(
            app_auth.secret_ref(),
            Some(&secret("vault:secret/azure#client_secret"))
        );
        let no_tenant = CloudConfigInput {
            tenant_id: None,
            ..app
        };
        assert_eq!(
            auth(Some("azure"), no_tenant).unwrap_err().to_string(),
            "cloud_config.tenant_id: is required for Azure client credentials"
        );

        let gcp = CloudConfigInput {
            service_account_key: Some("file:/run/secrets/gcp.json".into()),
            project_id: Some("acme-prod".into()),
            ..cloud()
        };
        assert_eq!(
            auth(Some("gcp"), gcp).unwrap(),
            CloudAuth::GcpServiceAccount {
                key_ref: secret("file:/run/secrets/gcp.json"),
                project_id: Some("acme-prod".into()),
            }
        );
        let region_only = CloudConfigInput {
            region: Some("eu-west-1".into()),
            ..cloud()
        };
        assert_eq!(auth(Some("aws"), region_only).unwrap(), CloudAuth::None);
        assert_eq!(
            CloudAuth::from_config(&parse(input("s3", None))).unwrap(),
            CloudAuth::None
        );
    }

    #[test]
    fn pool_knobs_map_to_pool_options() {
        let mut input = input("postgresql", Some("db"));
        input.pool = Some(PoolSettingsInput {
            pool_size: Some(8),
            max_overflow: Some(4),
            pool_timeout_secs: Some(12),
            pool_recycle_secs: Some(600),
        });
        let config = parse(input);
        assert_eq!(
            PoolOptions::from_settings(&config.pool),
            PoolOptions {
                max_connections: 12,
                min_connections: 0,
                acquire_timeout: Duration::from_secs(12),
                max_lifetime: Duration::from_secs(600),
            }
        );
        let target = ConnectionTarget::from_config(&config, &SourceSecrets::default()).unwrap();
        assert_eq!(target.pool().max_connections, 12);
    }

    #[test]
    fn every_kind_builds_through_the_one_entry_point() {
        for (kind, host) in [
            ("postgresql", Some("db")),
            ("mysql", Some("db")),
            ("mongodb", Some("db")),
            ("redis", Some("cache")),
            ("s3", None),
            ("snowflake", Some("xy12345.snowflakecomputing.com")),
        ] {
            let config = parse(input(kind, host));
            let target = ConnectionTarget::from_config(&config, &SourceSecrets::default()).unwrap();
            assert_eq!(target.kind(), config.kind);
            assert_eq!(target.cloud_auth(), &CloudAuth::None);
            assert_eq!(target.tls().mode, TlsMode::Preferred, "{kind}");
        }
    }

    #[test]
    fn no_target_shows_the_password() {
        let secrets = SourceSecrets {
            password: Some(SecretValue::new("p@ss:w/rd-TOPSECRET")),
            signing_key: Some(SecretValue::new("aws-TOPSECRET-signing-key")),
        };
        for (kind, host) in [
            ("postgresql", Some("db")),
            ("mysql", Some("db")),
            ("mongodb", Some("db")),
            ("redis", Some("cache")),
            ("s3", None),
            ("snowflake", Some("xy12345.snowflakecomputing.com")),
        ] {
            let mut input = input(kind, host);
            input.username = Some("app".into());
            input.password_secret = Some("env:PW".into());
            input.database = Some(if kind == "s3" { "raw-bucket" } else { "1" }.into());
            let target = ConnectionTarget::from_config(&parse(input), &secrets).unwrap();
            for shown in [
                target.to_string(),
                format!("{target:?}"),
                format!("{target:#?}"),
            ] {
                assert!(!shown.contains("TOPSECRET"), "{kind}: {shown}");
                assert!(!shown.contains("p%40ss"), "{kind}: {shown}");
            }
        }
    }
}
