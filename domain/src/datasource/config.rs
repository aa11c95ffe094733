//! [`DataSourceConfig`]: the validated configuration of a data source, as the events carry it and
//! the connectors read it (connection, cloud identity, replicas, TLS, pool, and catalog metadata).
//!
//! It is built only by [`DataSourceConfigInput::parse`](super::DataSourceConfigInput::parse),
//! which checks every field and the rules across fields; the fields are public for reading.
//! Credentials are [`SecretRef`]s, never values.

use super::secret::SecretRef;
use super::values::{
    CloudProvider, DataSourceKind, Environment, Host, HostPort, Location, SourceName, SslMode, Tag,
};
use crate::owner::Owner;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The validated configuration of a data source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DataSourceConfig {
    pub name: SourceName,
    pub kind: DataSourceKind,
    /// Required except for S3 (provider endpoint) and Snowflake (may use `cloud_config.account`).
    pub host: Option<Host>,
    /// The kind's default port when not given.
    pub port: u16,
    pub database: Option<String>,
    pub username: Option<String>,
    /// Where the password is kept; never the password.
    pub password_secret: Option<SecretRef>,
    /// Required when `location` is `cloud` or `hybrid`.
    pub cloud_provider: Option<CloudProvider>,
    pub location: Location,
    pub cloud_config: Option<CloudConfig>,
    pub replica_config: Option<ReplicaConfig>,
    pub ssl_config: Option<SslConfig>,
    pub pool: PoolSettings,
    /// Whether secrets are Fernet-encrypted (`fernet:` references) at rest.
    pub use_encryption: bool,
    /// Who answers for the source; its assets inherit it unless they have their own.
    pub owner: Option<Owner>,
    pub description: Option<String>,
    pub environment: Option<Environment>,
    /// Lowercase, deduplicated, in the order first given; at most 50.
    pub tags: Vec<Tag>,
}

/// Provider-specific identity and options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CloudConfig {
    /// The provider region, e.g. `eu-west-1`, `westeurope`, `europe-west1`.
    pub region: Option<String>,
    /// Azure: the directory (tenant) of the client.
    pub tenant_id: Option<String>,
    /// Azure: the application (client) id.
    pub client_id: Option<String>,
    /// Azure: the client secret, needs `client_id`.
    pub client_secret: Option<SecretRef>,
    /// Azure: authenticate with the managed identity of the host instead of a client secret.
    pub use_managed_identity: bool,
    /// AWS: static access key id, comes with `secret_access_key`.
    pub access_key_id: Option<String>,
    /// AWS: the secret access key, as a reference.
    pub secret_access_key: Option<SecretRef>,
    /// AWS: authenticate with IAM (RDS IAM tokens, instance roles) instead of static keys.
    pub use_iam_auth: bool,
    /// GCP: the project.
    pub project_id: Option<String>,
    /// GCP: the service-account key (JSON), as a reference.
    pub service_account_key: Option<SecretRef>,
    /// Snowflake: the account identifier.
    pub account: Option<String>,
    /// An explicit service endpoint (S3-compatible stores, private endpoints), `http(s)://…`.
    pub endpoint_url: Option<String>,
}

/// Read replicas (relational engines) or a replica set (MongoDB).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReplicaConfig {
    pub replica_host: Option<Host>,
    /// Needs `replica_host`.
    pub replica_port: Option<u16>,
    /// MongoDB only.
    pub replica_set: Option<String>,
    /// MongoDB only.
    pub replica_members: Vec<HostPort>,
    /// PostgreSQL: a read of the primary slower than this many milliseconds counts as bad
    /// (default 10 000). Reads that may be stale (samples) go to the replica while the primary
    /// is over its thresholds; DDL discovery always reads the primary.
    #[serde(default)]
    pub failover_latency_ms: Option<u32>,
    /// PostgreSQL: bad reads of the primary in a row that send reads to the replica (default 3).
    #[serde(default)]
    pub failover_consecutive_errors: Option<u32>,
    /// PostgreSQL: share of bad reads among the primary's last ten, in percent, that sends reads
    /// to the replica (default 50).
    #[serde(default)]
    pub failover_error_percent: Option<u32>,
    /// PostgreSQL: seconds the primary must serve well after coming back before its earlier
    /// failures are forgotten, so a flapping primary is not trusted at once (default 120).
    #[serde(default)]
    pub failover_cool_down_secs: Option<u32>,
}

/// TLS material (file paths on the connecting host) and how strictly it is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SslConfig {
    /// Defaults to `verify_ca` when a CA is given, `require` otherwise; `verify_full` (the CA and
    /// the host name checked) is always explicit.
    pub mode: SslMode,
    /// Required for `verify_ca` and `verify_full`.
    pub ssl_ca: Option<String>,
    /// Client certificate; comes with `ssl_key`.
    pub ssl_cert: Option<String>,
    /// Client key; comes with `ssl_cert`.
    pub ssl_key: Option<String>,
}

/// Connection pool sizing, tuned per source because managed cloud databases cap connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PoolSettings {
    /// 1..=1000, default 5.
    pub pool_size: u32,
    /// 0..=1000, default 10.
    pub max_overflow: u32,
    /// 1..=3600, default 30.
    pub pool_timeout_secs: u32,
    /// 1..=86400, default 3600.
    pub pool_recycle_secs: u32,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            pool_size: 5,
            max_overflow: 10,
            pool_timeout_secs: 30,
            pool_recycle_secs: 3600,
        }
    }
}

impl DataSourceConfig {
    /// Every secret reference the configuration holds, with its field path. The policy checks
    /// ([`SourcePolicy`](super::SourcePolicy)) go through this one list, so a new secret field
    /// is confined as soon as it is listed here.
    pub fn secret_refs(&self) -> Vec<(&'static str, &SecretRef)> {
        let mut refs = Vec::new();
        if let Some(secret) = &self.password_secret {
            refs.push(("password_secret", secret));
        }
        if let Some(cloud) = &self.cloud_config {
            let fields = [
                ("cloud_config.client_secret", &cloud.client_secret),
                ("cloud_config.secret_access_key", &cloud.secret_access_key),
                (
                    "cloud_config.service_account_key",
                    &cloud.service_account_key,
                ),
            ];
            refs.extend(
                fields
                    .into_iter()
                    .filter_map(|(field, secret)| secret.as_ref().map(|s| (field, s))),
            );
        }
        refs
    }

    /// Every host name or address the configuration tells PurSight to connect to, with its field
    /// path: the host, the replica and replica-set members, and the host of an explicit
    /// endpoint URL.
    pub fn network_hosts(&self) -> Vec<(&'static str, String)> {
        let mut hosts = Vec::new();
        if let Some(host) = &self.host {
            hosts.push(("host", host.as_str().to_owned()));
        }
        if let Some(replica) = &self.replica_config {
            if let Some(host) = &replica.replica_host {
                hosts.push(("replica_config.replica_host", host.as_str().to_owned()));
            }
            for member in &replica.replica_members {
                hosts.push((
                    "replica_config.replica_members",
                    member.host.as_str().to_owned(),
                ));
            }
        }
        if let Some(url) = self
            .cloud_config
            .as_ref()
            .and_then(|c| c.endpoint_url.as_deref())
        {
            hosts.push(("cloud_config.endpoint_url", url_host(url).to_owned()));
        }
        hosts
    }

    /// The configuration as JSON for read models, API responses and logs: every secret reference
    /// rendered with [`SecretRef::redacted`], so Fernet ciphertext never leaves the event log.
    pub fn redacted(&self) -> Value {
        let mut value = serde_json::to_value(self).expect("a data source config always serializes");
        redact(
            &mut value,
            "/password_secret",
            self.password_secret.as_ref(),
        );
        if let Some(cloud) = &self.cloud_config {
            // Destructured in full so that a new secret field cannot be added without being
            // considered here.
            let CloudConfig {
                region: _,
                tenant_id: _,
                client_id: _,
                client_secret,
                use_managed_identity: _,
                access_key_id: _,
                secret_access_key,
                use_iam_auth: _,
                project_id: _,
                service_account_key,
                account: _,
                endpoint_url: _,
            } = cloud;
            redact(
                &mut value,
                "/cloud_config/client_secret",
                client_secret.as_ref(),
            );
            redact(
                &mut value,
                "/cloud_config/secret_access_key",
                secret_access_key.as_ref(),
            );
            redact(
                &mut value,
                "/cloud_config/service_account_key",
                service_account_key.as_ref(),
            );
        }
        value
    }

    /// Whether `other` connects differently from `self`: anything a connector reads to open a
    /// connection. A change here makes an earlier connection test stale; the rest (name, owner,
    /// description, environment, tags) is catalog metadata.
    pub fn connection_differs(&self, other: &DataSourceConfig) -> bool {
        // Destructured in full so that adding a field forces a decision about which side it is on.
        let DataSourceConfig {
            name: _,
            kind,
            host,
            port,
            database,
            username,
            password_secret,
            cloud_provider,
            location,
            cloud_config,
            replica_config,
            ssl_config,
            pool,
            use_encryption,
            owner: _,
            description: _,
            environment: _,
            tags: _,
        } = self;
        *kind != other.kind
            || *host != other.host
            || *port != other.port
            || *database != other.database
            || *username != other.username
            || *password_secret != other.password_secret
            || *cloud_provider != other.cloud_provider
            || *location != other.location
            || *cloud_config != other.cloud_config
            || *replica_config != other.replica_config
            || *ssl_config != other.ssl_config
            || *pool != other.pool
            || *use_encryption != other.use_encryption
    }
}

fn redact(value: &mut Value, pointer: &str, secret: Option<&SecretRef>) {
    if let (Some(slot), Some(secret)) = (value.pointer_mut(pointer), secret) {
        *slot = Value::String(secret.redacted());
    }
}

/// The host of an `http(s)://` URL (validated at the edge): what lies between the scheme and the
/// first `/`, `?` or `#`, without user info and port; an IPv6 literal keeps its brackets off.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    // `\` ends the authority too: URL parsers treat it as `/` in http(s) URLs.
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or(bracketed);
    }
    host_port.split(':').next().unwrap_or(host_port)
}

#[cfg(test)]
mod url_tests {
    use super::url_host;

    #[test]
    fn url_hosts_ignore_user_info_ports_and_paths() {
        assert_eq!(url_host("http://127.0.0.1:5000/"), "127.0.0.1");
        assert_eq!(
            url_host("https://user:pw@s3.example.com/bucket?x"),
            "s3.example.com"
        );
        assert_eq!(
            url_host("http://[fd00:ec2::254]:80/latest"),
            "fd00:ec2::254"
        );
        assert_eq!(
            url_host("http://evil.example#@169.254.169.254/"),
            "evil.example"
        );
        assert_eq!(url_host("http://169.254.169.254"), "169.254.169.254");
        assert_eq!(
            url_host("http://169.254.169.254\\@evil.example/"),
            "169.254.169.254"
        );
    }
}
