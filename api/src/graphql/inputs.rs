//! GraphQL input types. They mirror the domain's raw `DataSourceConfigInput` one to one: the
//! domain parses and validates, so every rule and message lives in one place.

use async_graphql::InputObject;
use domain::datasource::{
    CloudConfigInput, DataSourceConfigInput, PoolSettingsInput, ReplicaConfigInput, SslConfigInput,
};

/// A data source's configuration. For `registerDataSource`, `name` and `kind` are required; for
/// `updateDataSourceConfig` every field is optional and only the fields given change (nested
/// objects are replaced whole).
#[derive(InputObject, Default)]
pub struct DataSourceInput {
    /// Display name (1–128 characters).
    pub name: Option<String>,
    /// postgresql, mysql, mongodb, redis, s3 or snowflake.
    pub kind: Option<String>,
    /// Host name or IP address (endpoint for S3, account host for Snowflake).
    pub host: Option<String>,
    /// Port (1–65535); defaults to the engine's port.
    pub port: Option<i64>,
    /// Database, or bucket for S3.
    pub database: Option<String>,
    /// User the connector logs in as.
    pub username: Option<String>,
    /// A reference to the password, never the password: `env:VAR`, `file:PATH`,
    /// `vault:PATH#FIELD`, `aws-sm:NAME`, `azure-kv:VAULT/NAME` or `fernet:TOKEN`. Only what the
    /// server's policy allows the tenant: `env:` variables starting with
    /// `PURSIGHT_SOURCE_SECRET_` (the operator's prefix), `file:` paths under the secret
    /// directory's `<tenant>/` (off unless configured), `vault:MOUNT/pursight/<tenant>/…`,
    /// `aws-sm:pursight/<tenant>/…`, `azure-kv:VAULT/pursight-<tenant>-…`; anything else is a
    /// VALIDATION error naming the rule.
    pub password_secret: Option<String>,
    /// aws, azure or gcp (required for cloud and hybrid locations).
    pub cloud_provider: Option<String>,
    /// on_prem (default), cloud or hybrid.
    pub location: Option<String>,
    /// Provider-specific identity and options.
    pub cloud_config: Option<CloudConfigGql>,
    /// Read replica or replica set.
    pub replica_config: Option<ReplicaConfigGql>,
    /// TLS material and mode.
    pub ssl_config: Option<SslConfigGql>,
    /// Connection-pool settings.
    pub pool: Option<PoolSettingsGql>,
    /// Whether stored credentials are Fernet-encrypted.
    pub use_encryption: Option<bool>,
    /// Accountable owner (a person or team); the source's assets inherit it unless they have
    /// their own.
    pub owner: Option<String>,
    /// Whether the owner is a person or a team (default PERSON; ignored without `owner`).
    pub owner_kind: Option<super::owner_types::OwnerKindGql>,
    /// What the owner answers for (default TECHNICAL; ignored without `owner`).
    pub owner_type: Option<super::owner_types::OwnerTypeGql>,
    /// Free text (≤ 2000 characters).
    pub description: Option<String>,
    /// development, staging, production or test.
    pub environment: Option<String>,
    /// Lowercase tags (letters, digits, `_`, `:`, `-`, `.`).
    pub tags: Option<Vec<String>>,
}

/// Provider-specific identity and options. Credentials are secret references, never values.
#[derive(InputObject, Default)]
#[graphql(name = "CloudConfigInput")]
pub struct CloudConfigGql {
    /// Cloud region, e.g. `eu-west-1`.
    pub region: Option<String>,
    /// Azure tenant.
    pub tenant_id: Option<String>,
    /// Azure client id.
    pub client_id: Option<String>,
    /// Azure client secret, as a secret reference.
    pub client_secret: Option<String>,
    /// Azure: authenticate with the managed identity.
    pub use_managed_identity: Option<bool>,
    /// AWS access key id.
    pub access_key_id: Option<String>,
    /// AWS secret access key, as a secret reference.
    pub secret_access_key: Option<String>,
    /// AWS: authenticate with IAM instead of a password.
    pub use_iam_auth: Option<bool>,
    /// GCP project.
    pub project_id: Option<String>,
    /// GCP service-account key, as a secret reference.
    pub service_account_key: Option<String>,
    /// Snowflake account.
    pub account: Option<String>,
    /// Service endpoint override (S3-compatible stores, Snowflake).
    pub endpoint_url: Option<String>,
}

/// Read replica (relational) or replica set (MongoDB).
#[derive(InputObject, Default)]
#[graphql(name = "ReplicaConfigInput")]
pub struct ReplicaConfigGql {
    /// Read replica host (relational engines).
    pub replica_host: Option<String>,
    /// Read replica port.
    pub replica_port: Option<i64>,
    /// MongoDB replica-set name.
    pub replica_set: Option<String>,
    /// `host:port` of every member.
    pub replica_members: Option<Vec<String>>,
    /// PostgreSQL: a read of the primary slower than this many milliseconds counts as bad
    /// (100–600000; default 10000). Samples go to the replica while the primary is over its
    /// thresholds; discovery always reads the primary. Needs `replicaHost`.
    pub failover_latency_ms: Option<i64>,
    /// PostgreSQL: bad reads of the primary in a row that send reads to the replica (1–100;
    /// default 3).
    pub failover_consecutive_errors: Option<i64>,
    /// PostgreSQL: percentage of bad reads among the primary's last ten that sends reads to the
    /// replica (1–100; default 50).
    pub failover_error_percent: Option<i64>,
    /// PostgreSQL: seconds the primary must serve well after coming back before its earlier
    /// failures are forgotten (0–86400; default 120).
    pub failover_cool_down_secs: Option<i64>,
}

/// TLS material (file paths) and mode.
#[derive(InputObject, Default)]
#[graphql(name = "SslConfigInput")]
pub struct SslConfigGql {
    /// disable, require, verify_ca or verify_full.
    pub mode: Option<String>,
    /// CA certificate file: an absolute path under the server's secret directory's
    /// `<tenant>/` (TLS files are refused when the server has no `PURSIGHT_SECRET_DIR`).
    pub ssl_ca: Option<String>,
    /// Client certificate file, confined like `sslCa`.
    pub ssl_cert: Option<String>,
    /// Client key file, confined like `sslCa`.
    pub ssl_key: Option<String>,
}

/// Connection-pool settings.
#[derive(InputObject, Default)]
#[graphql(name = "PoolSettingsInput")]
pub struct PoolSettingsGql {
    /// Connections kept (1–1000, default 5).
    pub pool_size: Option<i64>,
    /// Extra connections under load (0–1000, default 10).
    pub max_overflow: Option<i64>,
    /// Seconds to wait for a connection (default 30).
    pub pool_timeout_secs: Option<i64>,
    /// Seconds after which a connection is replaced (default 3600).
    pub pool_recycle_secs: Option<i64>,
}

impl From<DataSourceInput> for DataSourceConfigInput {
    fn from(input: DataSourceInput) -> Self {
        DataSourceConfigInput {
            name: input.name,
            kind: input.kind,
            host: input.host,
            port: input.port,
            database: input.database,
            username: input.username,
            password_secret: input.password_secret,
            cloud_provider: input.cloud_provider,
            location: input.location,
            cloud_config: input.cloud_config.map(|c| CloudConfigInput {
                region: c.region,
                tenant_id: c.tenant_id,
                client_id: c.client_id,
                client_secret: c.client_secret,
                use_managed_identity: c.use_managed_identity,
                access_key_id: c.access_key_id,
                secret_access_key: c.secret_access_key,
                use_iam_auth: c.use_iam_auth,
                project_id: c.project_id,
                service_account_key: c.service_account_key,
                account: c.account,
                endpoint_url: c.endpoint_url,
            }),
            replica_config: input.replica_config.map(|r| ReplicaConfigInput {
                replica_host: r.replica_host,
                replica_port: r.replica_port,
                replica_set: r.replica_set,
                replica_members: r.replica_members,
                failover_latency_ms: r.failover_latency_ms,
                failover_consecutive_errors: r.failover_consecutive_errors,
                failover_error_percent: r.failover_error_percent,
                failover_cool_down_secs: r.failover_cool_down_secs,
            }),
            ssl_config: input.ssl_config.map(|s| SslConfigInput {
                mode: s.mode,
                ssl_ca: s.ssl_ca,
                ssl_cert: s.ssl_cert,
                ssl_key: s.ssl_key,
            }),
            pool: input.pool.map(|p| PoolSettingsInput {
                pool_size: p.pool_size,
                max_overflow: p.max_overflow,
                pool_timeout_secs: p.pool_timeout_secs,
                pool_recycle_secs: p.pool_recycle_secs,
            }),
            use_encryption: input.use_encryption,
            owner: input.owner,
            owner_kind: input.owner_kind.map(Into::into),
            owner_type: input.owner_type.map(Into::into),
            description: input.description,
            environment: input.environment,
            tags: input.tags,
        }
    }
}

/// Filters of the audit trail; all optional, combined with AND.
#[derive(InputObject, Default)]
pub struct AuditFilterInput {
    /// Only this aggregate.
    pub aggregate_id: Option<async_graphql::ID>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Short name (`SourceRegistered`) or full CloudEvents type.
    pub event_type: Option<String>,
    /// Inclusive lower bound of the event time.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Exclusive upper bound of the event time.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only this action: an event type (short name or full CloudEvents type) or a refused
    /// mutation's name (e.g. `archiveDataSource`).
    pub action: Option<String>,
    /// Only this resource (aggregate) type, e.g. `data_source`, `asset`, `compliance_policy`.
    pub resource: Option<String>,
    /// Only events (`ACCEPTED`) or only the refusals of one kind; omitted: both.
    pub outcome: Option<AuditOutcome>,
}

/// Whether an audit entry is an event or a refused command, and why it was refused.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuditOutcome {
    /// An event: the command was carried out.
    Accepted,
    /// Refused: the caller's roles do not allow it.
    Forbidden,
    /// Refused: the input was invalid.
    Invalid,
    /// Refused by the domain in the aggregate's current state.
    Rejected,
    /// Refused: concurrent changes kept winning; nothing was written.
    Conflict,
    /// Refused: what it addressed does not exist.
    NotFound,
}

impl AuditOutcome {
    /// The read model's name of the outcome.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Accepted => "accepted",
            AuditOutcome::Forbidden => "forbidden",
            AuditOutcome::Invalid => "invalid",
            AuditOutcome::Rejected => "rejected",
            AuditOutcome::Conflict => "conflict",
            AuditOutcome::NotFound => "not_found",
        }
    }

    /// From the read model's name (unknown names read as `ACCEPTED`'s opposite, `REJECTED`).
    pub fn parse(text: &str) -> Self {
        match text {
            "accepted" => AuditOutcome::Accepted,
            "forbidden" => AuditOutcome::Forbidden,
            "invalid" => AuditOutcome::Invalid,
            "conflict" => AuditOutcome::Conflict,
            "not_found" => AuditOutcome::NotFound,
            _ => AuditOutcome::Rejected,
        }
    }
}
