//! The facts a data source records, their stored form and how older versions are read.
//!
//! Each event is a struct named after the fact, wrapped in a [`DataSourceEvent`] variant of the
//! same name. `event_type()` is that name and `version()` the schema version it is written with;
//! the JSON Schema of every readable `(type, version)` is generated into `schemas/`. Events carry
//! no timestamps or actors: the envelope does.
//!
//! Versions: `SourceRegistered` is at v3 and `SourceConfigured` at v2, their configuration's
//! owner typed (name, person or team, technical, business or steward). `SourceRegistered` v1
//! ([`v1::SourceRegisteredV1`]) and v2 ([`v2::SourceRegisteredV2`]) and `SourceConfigured` v1
//! ([`v2::SourceConfiguredV1`]) are frozen here and upcast on read, a plain owner read as
//! [`crate::owner::Owner::untyped`]. `ComplianceCheckCompleted` is at v2 (with the check's
//! counts); its v1 ([`v1::ComplianceCheckCompletedV1`], no fields) reads as v2 without counts.
//! Every other event is at v1.

use super::config::DataSourceConfig;
use super::health::HealthAssessment;
use super::input::{DataSourceConfigInput, PoolSettingsInput};
use super::values::keyword_enum;
use crate::aggregate::{DomainEvent, EventDecodeError};
use crate::ids::AggregateId;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

keyword_enum! {
    /// Why a connection test failed, so a user knows where to look.
    pub enum FailureCategory ("failure category") {
        /// DNS, routing, refused connection.
        Unreachable = "unreachable",
        /// Credentials refused or the secret could not be resolved.
        Auth = "auth",
        /// Handshake or certificate verification failed.
        Tls = "tls",
        /// No answer within the connector's deadline.
        Timeout = "timeout",
        /// The configuration cannot describe a working connection (e.g. a missing database).
        Config = "config",
    }
}

/// A data source was registered with its initial configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceRegistered {
    pub id: AggregateId,
    pub config: DataSourceConfig,
}

/// The configuration was replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceConfigured {
    /// The complete new configuration.
    pub config: DataSourceConfig,
    /// Whether anything a connector reads to connect changed (as opposed to catalog metadata).
    pub connection_changed: bool,
    /// Whether the change sent the source back to Configuring because an earlier connection
    /// result no longer applies. Recorded, not recomputed on replay, so that a later change of
    /// the rule does not rewrite history.
    pub requires_revalidation: bool,
}

/// A connection test of the current configuration was requested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConfigurationStarted {
    /// Whether this retries after a failed connection test.
    pub retry: bool,
}

/// The connection test succeeded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConnectionValidated {
    pub latency_ms: u64,
    pub server_version: Option<String>,
}

/// The connection test failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConnectionFailed {
    pub category: FailureCategory,
    /// The connector's diagnostic, at most 2000 characters.
    pub message: String,
}

/// A scan of the source started; `scan_id` is the Scan aggregate doing the work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceScanStarted {
    pub scan_id: AggregateId,
}

/// The running scan finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceScanCompleted {
    pub scan_id: AggregateId,
}

/// The running scan failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceScanFailed {
    pub scan_id: AggregateId,
    /// At most 2000 characters.
    pub reason: String,
}

/// Classification of the scanned assets started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClassificationStarted {}

/// Classification of the scanned assets finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClassificationCompleted {}

/// Classification stopped before it finished; the source is back to Scanned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClassificationFailed {
    /// At most 2000 characters.
    pub reason: String,
}

/// The source's classification now follows this scan rule set (`None`: the built-in defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScanRuleSetAttached {
    pub rule_set_id: Option<AggregateId>,
}

/// The compliance check of the classified assets started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplianceCheckStarted {}

/// The compliance check finished, with what it found (v2; a v1 event has no counts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplianceCheckCompleted {
    /// `None` when read from a v1 event, which was recorded without counts.
    #[serde(default)]
    pub counts: Option<ComplianceCounts>,
}

/// The outcome of a compliance check: the violations of the source that are open (by severity)
/// and accepted after it, and how many subjects the rules looked at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ComplianceCounts {
    /// The source, its assets and their columns.
    pub subjects: u64,
    pub open_critical: u64,
    pub open_high: u64,
    pub open_medium: u64,
    pub open_low: u64,
    /// Accepted by a compliance officer (not counted as open).
    pub accepted: u64,
}

/// The source's assets were published to the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceCataloged {}

/// Scheduled monitoring of the source started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MonitoringStarted {}

/// The source was archived; it accepts no further commands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceArchived {
    pub reason: Option<String>,
}

/// The source's health changed meaningfully (or was assessed for the first time). Checks that
/// find nothing new record nothing, so the history is a history of changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HealthAssessed {
    pub assessment: HealthAssessment,
}

/// Every event of the data source aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSourceEvent {
    SourceRegistered(SourceRegistered),
    SourceConfigured(SourceConfigured),
    ConfigurationStarted(ConfigurationStarted),
    ConnectionValidated(ConnectionValidated),
    ConnectionFailed(ConnectionFailed),
    SourceScanStarted(SourceScanStarted),
    SourceScanCompleted(SourceScanCompleted),
    SourceScanFailed(SourceScanFailed),
    ClassificationStarted(ClassificationStarted),
    ClassificationCompleted(ClassificationCompleted),
    ClassificationFailed(ClassificationFailed),
    ScanRuleSetAttached(ScanRuleSetAttached),
    ComplianceCheckStarted(ComplianceCheckStarted),
    ComplianceCheckCompleted(ComplianceCheckCompleted),
    SourceCataloged(SourceCataloged),
    MonitoringStarted(MonitoringStarted),
    SourceArchived(SourceArchived),
    HealthAssessed(HealthAssessed),
}

impl DataSourceEvent {
    /// Every `(event_type, version)` that [`DomainEvent::from_stored`] reads, old versions
    /// included. Each has a schema file in `schemas/`.
    pub const READABLE: &'static [(&'static str, u32)] = &[
        ("SourceRegistered", 1),
        ("SourceRegistered", 2),
        ("SourceRegistered", 3),
        ("SourceConfigured", 1),
        ("SourceConfigured", 2),
        ("ConfigurationStarted", 1),
        ("ConnectionValidated", 1),
        ("ConnectionFailed", 1),
        ("SourceScanStarted", 1),
        ("SourceScanCompleted", 1),
        ("SourceScanFailed", 1),
        ("ClassificationStarted", 1),
        ("ClassificationCompleted", 1),
        ("ClassificationFailed", 1),
        ("ScanRuleSetAttached", 1),
        ("ComplianceCheckStarted", 1),
        ("ComplianceCheckCompleted", 1),
        ("ComplianceCheckCompleted", 2),
        ("SourceCataloged", 1),
        ("MonitoringStarted", 1),
        ("SourceArchived", 1),
        ("HealthAssessed", 1),
    ];
}

/// Applies `$body` to the inner struct of whichever variant `$event` is.
macro_rules! with_inner {
    ($event:expr, $inner:ident => $body:expr) => {
        match $event {
            DataSourceEvent::SourceRegistered($inner) => $body,
            DataSourceEvent::SourceConfigured($inner) => $body,
            DataSourceEvent::ConfigurationStarted($inner) => $body,
            DataSourceEvent::ConnectionValidated($inner) => $body,
            DataSourceEvent::ConnectionFailed($inner) => $body,
            DataSourceEvent::SourceScanStarted($inner) => $body,
            DataSourceEvent::SourceScanCompleted($inner) => $body,
            DataSourceEvent::SourceScanFailed($inner) => $body,
            DataSourceEvent::ClassificationStarted($inner) => $body,
            DataSourceEvent::ClassificationCompleted($inner) => $body,
            DataSourceEvent::ClassificationFailed($inner) => $body,
            DataSourceEvent::ScanRuleSetAttached($inner) => $body,
            DataSourceEvent::ComplianceCheckStarted($inner) => $body,
            DataSourceEvent::ComplianceCheckCompleted($inner) => $body,
            DataSourceEvent::SourceCataloged($inner) => $body,
            DataSourceEvent::MonitoringStarted($inner) => $body,
            DataSourceEvent::SourceArchived($inner) => $body,
            DataSourceEvent::HealthAssessed($inner) => $body,
        }
    };
}

impl DomainEvent for DataSourceEvent {
    fn event_type(&self) -> &'static str {
        match self {
            DataSourceEvent::SourceRegistered(_) => "SourceRegistered",
            DataSourceEvent::SourceConfigured(_) => "SourceConfigured",
            DataSourceEvent::ConfigurationStarted(_) => "ConfigurationStarted",
            DataSourceEvent::ConnectionValidated(_) => "ConnectionValidated",
            DataSourceEvent::ConnectionFailed(_) => "ConnectionFailed",
            DataSourceEvent::SourceScanStarted(_) => "SourceScanStarted",
            DataSourceEvent::SourceScanCompleted(_) => "SourceScanCompleted",
            DataSourceEvent::SourceScanFailed(_) => "SourceScanFailed",
            DataSourceEvent::ClassificationStarted(_) => "ClassificationStarted",
            DataSourceEvent::ClassificationCompleted(_) => "ClassificationCompleted",
            DataSourceEvent::ClassificationFailed(_) => "ClassificationFailed",
            DataSourceEvent::ScanRuleSetAttached(_) => "ScanRuleSetAttached",
            DataSourceEvent::ComplianceCheckStarted(_) => "ComplianceCheckStarted",
            DataSourceEvent::ComplianceCheckCompleted(_) => "ComplianceCheckCompleted",
            DataSourceEvent::SourceCataloged(_) => "SourceCataloged",
            DataSourceEvent::MonitoringStarted(_) => "MonitoringStarted",
            DataSourceEvent::SourceArchived(_) => "SourceArchived",
            DataSourceEvent::HealthAssessed(_) => "HealthAssessed",
        }
    }

    fn version(&self) -> u32 {
        match self {
            DataSourceEvent::SourceRegistered(_) => 3,
            DataSourceEvent::SourceConfigured(_) | DataSourceEvent::ComplianceCheckCompleted(_) => {
                2
            }
            _ => 1,
        }
    }

    fn serialize_data<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        with_inner!(self, inner => inner.serialize(serializer))
    }

    fn from_stored(event_type: &str, version: u32, data: &Value) -> Result<Self, EventDecodeError> {
        let decode = Decoder {
            event_type,
            version,
            data,
        };
        use DataSourceEvent as E;
        Ok(match (event_type, version) {
            ("SourceRegistered", 1) => {
                E::SourceRegistered(decode.with::<v1::SourceRegisteredV1>()?.upcast()?)
            }
            ("SourceRegistered", 2) => {
                E::SourceRegistered(decode.with::<v2::SourceRegisteredV2>()?.upcast())
            }
            ("SourceRegistered", 3) => E::SourceRegistered(decode.with()?),
            ("SourceConfigured", 1) => {
                E::SourceConfigured(decode.with::<v2::SourceConfiguredV1>()?.upcast())
            }
            ("SourceConfigured", 2) => E::SourceConfigured(decode.with()?),
            ("ConfigurationStarted", 1) => E::ConfigurationStarted(decode.with()?),
            ("ConnectionValidated", 1) => E::ConnectionValidated(decode.with()?),
            ("ConnectionFailed", 1) => E::ConnectionFailed(decode.with()?),
            ("SourceScanStarted", 1) => E::SourceScanStarted(decode.with()?),
            ("SourceScanCompleted", 1) => E::SourceScanCompleted(decode.with()?),
            ("SourceScanFailed", 1) => E::SourceScanFailed(decode.with()?),
            ("ClassificationStarted", 1) => E::ClassificationStarted(decode.with()?),
            ("ClassificationCompleted", 1) => E::ClassificationCompleted(decode.with()?),
            ("ClassificationFailed", 1) => E::ClassificationFailed(decode.with()?),
            ("ScanRuleSetAttached", 1) => E::ScanRuleSetAttached(decode.with()?),
            ("ComplianceCheckStarted", 1) => E::ComplianceCheckStarted(decode.with()?),
            ("ComplianceCheckCompleted", 1) => {
                decode.with::<v1::ComplianceCheckCompletedV1>()?;
                E::ComplianceCheckCompleted(ComplianceCheckCompleted { counts: None })
            }
            ("ComplianceCheckCompleted", 2) => E::ComplianceCheckCompleted(decode.with()?),
            ("SourceCataloged", 1) => E::SourceCataloged(decode.with()?),
            ("MonitoringStarted", 1) => E::MonitoringStarted(decode.with()?),
            ("SourceArchived", 1) => E::SourceArchived(decode.with()?),
            ("HealthAssessed", 1) => E::HealthAssessed(decode.with()?),
            _ => {
                return Err(EventDecodeError::Unknown {
                    event_type: event_type.to_owned(),
                    version,
                })
            }
        })
    }
}

struct Decoder<'a> {
    event_type: &'a str,
    version: u32,
    data: &'a Value,
}

impl Decoder<'_> {
    fn with<T: DeserializeOwned>(self) -> Result<T, EventDecodeError> {
        let (event_type, version) = (self.event_type, self.version);
        T::deserialize(self.data).map_err(|e| malformed(event_type, version, e))
    }
}

fn malformed(event_type: &str, version: u32, reason: impl fmt::Display) -> EventDecodeError {
    EventDecodeError::Malformed {
        event_type: event_type.to_owned(),
        version,
        reason: reason.to_string(),
    }
}

/// Frozen shapes of older event versions. Never edit these: they describe data already stored.
pub mod v1 {
    use super::*;

    /// `ComplianceCheckCompleted` v1, recorded before the check carried its counts.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct ComplianceCheckCompletedV1 {}

    /// `SourceRegistered` v1, written before cloud, replica, TLS and pool settings existed:
    /// a flat configuration whose `tags` were one comma-separated string and whose pool was a
    /// single optional `pool_size`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct SourceRegisteredV1 {
        pub id: AggregateId,
        pub config: DataSourceConfigV1,
    }

    /// The v1 configuration, in the plain types it was stored with.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct DataSourceConfigV1 {
        pub name: String,
        pub kind: String,
        pub host: Option<String>,
        pub port: Option<i64>,
        pub database: Option<String>,
        pub username: Option<String>,
        pub password_secret: Option<String>,
        pub cloud_provider: Option<String>,
        pub location: Option<String>,
        pub pool_size: Option<i64>,
        #[serde(default)]
        pub use_encryption: bool,
        pub owner: Option<String>,
        pub description: Option<String>,
        pub environment: Option<String>,
        /// Comma-separated, e.g. `"pii,finance"`.
        #[serde(default)]
        pub tags: String,
    }

    impl SourceRegisteredV1 {
        /// The v2 event: tags split, trimmed and deduplicated, pool settings defaulted around the
        /// stored `pool_size`. Goes through the current parser, so the result holds every
        /// invariant of a freshly registered source.
        pub fn upcast(self) -> Result<SourceRegistered, EventDecodeError> {
            let c = self.config;
            let input = DataSourceConfigInput {
                name: Some(c.name),
                kind: Some(c.kind),
                host: c.host,
                port: c.port,
                database: c.database,
                username: c.username,
                password_secret: c.password_secret,
                cloud_provider: c.cloud_provider,
                location: c.location,
                pool: Some(PoolSettingsInput {
                    pool_size: c.pool_size,
                    ..PoolSettingsInput::default()
                }),
                use_encryption: Some(c.use_encryption),
                owner: c.owner,
                description: c.description,
                environment: c.environment,
                tags: Some(
                    c.tags
                        .split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect(),
                ),
                ..DataSourceConfigInput::default()
            };
            let config = input.parse().map_err(|e| {
                malformed("SourceRegistered", 1, format!("cannot upcast to v2: {e}"))
            })?;
            Ok(SourceRegistered {
                id: self.id,
                config,
            })
        }
    }
}

/// Frozen shapes from before owners were typed: `SourceRegistered` v2 and `SourceConfigured` v1
/// carried a configuration whose owner was a plain string. Never edit these.
pub mod v2 {
    use super::*;
    use crate::datasource::config::{CloudConfig, PoolSettings, ReplicaConfig, SslConfig};
    use crate::datasource::secret::SecretRef;
    use crate::datasource::values::{
        CloudProvider, DataSourceKind, Environment, Host, Location, SourceName, Tag,
    };
    use crate::owner::Owner;

    // Its doc comments and schema name are the recorded configuration's (the schema files
    // carry them).
    /// The validated configuration of a data source.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[schemars(rename = "DataSourceConfig")]
    pub struct DataSourceConfigV2 {
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
        pub owner: Option<String>,
        pub description: Option<String>,
        pub environment: Option<Environment>,
        /// Lowercase, deduplicated, in the order first given; at most 50.
        pub tags: Vec<Tag>,
    }

    impl DataSourceConfigV2 {
        /// The current configuration: the plain owner read as [`Owner::untyped`].
        pub fn upcast(self) -> DataSourceConfig {
            DataSourceConfig {
                name: self.name,
                kind: self.kind,
                host: self.host,
                port: self.port,
                database: self.database,
                username: self.username,
                password_secret: self.password_secret,
                cloud_provider: self.cloud_provider,
                location: self.location,
                cloud_config: self.cloud_config,
                replica_config: self.replica_config,
                ssl_config: self.ssl_config,
                pool: self.pool,
                use_encryption: self.use_encryption,
                owner: self.owner.map(Owner::untyped),
                description: self.description,
                environment: self.environment,
                tags: self.tags,
            }
        }
    }

    /// A data source was registered with its initial configuration.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct SourceRegisteredV2 {
        pub id: AggregateId,
        pub config: DataSourceConfigV2,
    }

    impl SourceRegisteredV2 {
        /// The v3 event.
        pub fn upcast(self) -> SourceRegistered {
            SourceRegistered {
                id: self.id,
                config: self.config.upcast(),
            }
        }
    }

    /// The configuration was replaced.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct SourceConfiguredV1 {
        /// The complete new configuration.
        pub config: DataSourceConfigV2,
        /// Whether anything a connector reads to connect changed (as opposed to catalog metadata).
        pub connection_changed: bool,
        /// Whether the change sent the source back to Configuring because an earlier connection
        /// result no longer applies. Recorded, not recomputed on replay, so that a later change of
        /// the rule does not rewrite history.
        pub requires_revalidation: bool,
    }

    impl SourceConfiguredV1 {
        /// The v2 event.
        pub fn upcast(self) -> SourceConfigured {
            SourceConfigured {
                config: self.config.upcast(),
                connection_changed: self.connection_changed,
                requires_revalidation: self.requires_revalidation,
            }
        }
    }
}
