//! [`DataSourceConfigInput`]: raw configuration as it arrives at the edge (GraphQL, CLI, JSON
//! files), and the one parser that turns it into a [`DataSourceConfig`].
//!
//! Everything here is optional plain data so that the parser, not serde, writes the error
//! messages, and so that an update is a patch: `current.to_input().overlay(patch).parse()`.
//! In a patch, `None` keeps the current value, an empty string clears an optional text field, an
//! empty list clears the tags, and an empty nested object (`"ssl_config": {}`) removes the block.

use super::config::{CloudConfig, DataSourceConfig, PoolSettings, ReplicaConfig, SslConfig};
use super::error::{FieldError, ValidationError};
use super::secret::SecretRef;
use super::values::{
    parse_port, CloudProvider, DataSourceKind, Environment, Host, HostPort, Location, SourceName,
    SslMode, Tag,
};
use crate::owner::{Owner, OwnerKind, OwnerType};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Raw configuration of a data source. See the module docs for patch semantics.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSourceConfigInput {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub host: Option<String>,
    pub port: Option<i64>,
    pub database: Option<String>,
    pub username: Option<String>,
    pub password_secret: Option<String>,
    pub cloud_provider: Option<String>,
    pub location: Option<String>,
    pub cloud_config: Option<CloudConfigInput>,
    pub replica_config: Option<ReplicaConfigInput>,
    pub ssl_config: Option<SslConfigInput>,
    pub pool: Option<PoolSettingsInput>,
    pub use_encryption: Option<bool>,
    pub owner: Option<String>,
    /// `person` or `team` (default person); without an `owner` it has no effect. Closed
    /// vocabularies, so typed already (and small: a command carries this input).
    #[serde(default)]
    pub owner_kind: Option<OwnerKind>,
    /// `technical`, `business` or `steward` (default technical); without an `owner` it has no
    /// effect.
    #[serde(default)]
    pub owner_type: Option<OwnerType>,
    pub description: Option<String>,
    pub environment: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// Raw [`CloudConfig`].
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudConfigInput {
    pub region: Option<String>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub use_managed_identity: Option<bool>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub use_iam_auth: Option<bool>,
    pub project_id: Option<String>,
    pub service_account_key: Option<String>,
    pub account: Option<String>,
    pub endpoint_url: Option<String>,
}

/// Raw [`ReplicaConfig`]; members are `host[:port]` strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicaConfigInput {
    pub replica_host: Option<String>,
    pub replica_port: Option<i64>,
    pub replica_set: Option<String>,
    pub replica_members: Option<Vec<String>>,
    pub failover_latency_ms: Option<i64>,
    pub failover_consecutive_errors: Option<i64>,
    pub failover_error_percent: Option<i64>,
    pub failover_cool_down_secs: Option<i64>,
}

/// Raw [`SslConfig`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SslConfigInput {
    pub mode: Option<String>,
    pub ssl_ca: Option<String>,
    pub ssl_cert: Option<String>,
    pub ssl_key: Option<String>,
}

/// Raw [`PoolSettings`]; missing values take the defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSettingsInput {
    pub pool_size: Option<i64>,
    pub max_overflow: Option<i64>,
    pub pool_timeout_secs: Option<i64>,
    pub pool_recycle_secs: Option<i64>,
}

const MAX_TAGS: usize = 50;
const MAX_DESCRIPTION_CHARS: usize = 2000;
const MAX_TEXT_CHARS: usize = 256;
const MAX_PATH_CHARS: usize = 4096;

impl DataSourceConfigInput {
    /// Parses and checks the whole input, reporting every invalid field at once.
    ///
    /// ```
    /// use domain::datasource::DataSourceConfigInput;
    ///
    /// let input = DataSourceConfigInput {
    ///     name: Some("Sales".into()),
    ///     kind: Some("postgresql".into()),
    ///     host: Some("db.internal".into()),
    ///     port: Some(70000),
    ///     ..Default::default()
    /// };
    /// let error = input.parse().unwrap_err();
    /// assert_eq!(error.to_string(), "port: must be between 1 and 65535 (got 70000)");
    /// ```
    pub fn parse(self) -> Result<DataSourceConfig, ValidationError> {
        let mut r = Report::default();
        let name = match self.name.as_deref() {
            None => r.fail("name", "is required"),
            Some(raw) => r.check("name", SourceName::parse(raw)),
        };
        let kind = match self.kind.as_deref().map(str::trim) {
            None | Some("") => r.fail(
                "kind",
                "is required (one of postgresql, mysql, mongodb, redis, s3, snowflake)",
            ),
            Some(raw) => r.check("kind", DataSourceKind::parse(raw)),
        };
        let host = r.optional("host", self.host.as_deref(), Host::parse);
        let port = match self.port {
            Some(raw) => r.check("port", parse_port(raw)),
            None => kind.map(|k| k.default_port()),
        };
        let database = r.text("database", self.database.as_deref(), MAX_TEXT_CHARS);
        let username = r.text("username", self.username.as_deref(), MAX_TEXT_CHARS);
        let password_secret = r.optional(
            "password_secret",
            self.password_secret.as_deref(),
            SecretRef::parse,
        );
        let cloud_provider = r.optional(
            "cloud_provider",
            self.cloud_provider.as_deref(),
            CloudProvider::parse,
        );
        let location = r
            .optional("location", self.location.as_deref(), Location::parse)
            .unwrap_or_default();
        let cloud_config = self.cloud_config.and_then(|input| input.parse(&mut r));
        let replica_config = self
            .replica_config
            .and_then(|input| input.parse(kind, &mut r));
        let ssl_config = self.ssl_config.and_then(|input| input.parse(&mut r));
        let pool = self.pool.unwrap_or_default().parse(&mut r);
        let (owner_kind, owner_type) = (self.owner_kind, self.owner_type);
        let owner = r
            .text("owner", self.owner.as_deref(), MAX_TEXT_CHARS)
            .map(|name| Owner {
                name,
                kind: owner_kind.unwrap_or(OwnerKind::Person),
                owner_type: owner_type.unwrap_or(OwnerType::Technical),
            });
        let description = r.prose(
            "description",
            self.description.as_deref(),
            MAX_DESCRIPTION_CHARS,
        );
        let environment = r.optional(
            "environment",
            self.environment.as_deref(),
            Environment::parse,
        );
        let tags = parse_tags(self.tags.unwrap_or_default(), &mut r);

        if let Some(kind) = kind {
            let account = cloud_config.as_ref().and_then(|c| c.account.as_ref());
            if is_blank(self.host.as_deref()) {
                if kind.requires_host() {
                    r.fail::<()>("host", format!("is required for a {kind} source"));
                } else if kind == DataSourceKind::Snowflake && account.is_none() {
                    r.fail::<()>(
                        "host",
                        "is required for a snowflake source unless cloud_config.account is set",
                    );
                }
            }
        }
        if matches!(location, Location::Cloud | Location::Hybrid)
            && is_blank(self.cloud_provider.as_deref())
        {
            r.fail::<()>(
                "cloud_provider",
                format!("is required when location is {location} (one of aws, azure, gcp)"),
            );
        }

        let (Some(name), Some(kind), Some(port), Some(pool)) = (name, kind, port, pool) else {
            return Err(r.into_error());
        };
        if !r.errors.is_empty() {
            return Err(r.into_error());
        }
        Ok(DataSourceConfig {
            name,
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
            use_encryption: self.use_encryption.unwrap_or(false),
            owner,
            description,
            environment,
            tags,
        })
    }

    /// This input with every field the patch sets replaced by the patch's value. Nested blocks
    /// are replaced whole, so a patch states the complete new block.
    pub fn overlay(self, patch: DataSourceConfigInput) -> DataSourceConfigInput {
        DataSourceConfigInput {
            name: patch.name.or(self.name),
            kind: patch.kind.or(self.kind),
            host: patch.host.or(self.host),
            port: patch.port.or(self.port),
            database: patch.database.or(self.database),
            username: patch.username.or(self.username),
            password_secret: patch.password_secret.or(self.password_secret),
            cloud_provider: patch.cloud_provider.or(self.cloud_provider),
            location: patch.location.or(self.location),
            cloud_config: patch.cloud_config.or(self.cloud_config),
            replica_config: patch.replica_config.or(self.replica_config),
            ssl_config: patch.ssl_config.or(self.ssl_config),
            pool: patch.pool.or(self.pool),
            use_encryption: patch.use_encryption.or(self.use_encryption),
            owner: patch.owner.or(self.owner),
            owner_kind: patch.owner_kind.or(self.owner_kind),
            owner_type: patch.owner_type.or(self.owner_type),
            description: patch.description.or(self.description),
            environment: patch.environment.or(self.environment),
            tags: patch.tags.or(self.tags),
        }
    }
}

impl DataSourceConfig {
    /// The input that parses back to this configuration, to overlay an update on.
    pub fn to_input(&self) -> DataSourceConfigInput {
        let text = |value: &Option<String>| value.clone();
        let secret = |value: &Option<SecretRef>| value.as_ref().map(|s| s.as_str().to_owned());
        DataSourceConfigInput {
            name: Some(self.name.to_string()),
            kind: Some(self.kind.as_str().to_owned()),
            host: self.host.as_ref().map(Host::to_string),
            port: Some(self.port.into()),
            database: text(&self.database),
            username: text(&self.username),
            password_secret: secret(&self.password_secret),
            cloud_provider: self.cloud_provider.map(|p| p.as_str().to_owned()),
            location: Some(self.location.as_str().to_owned()),
            cloud_config: self.cloud_config.as_ref().map(|c| CloudConfigInput {
                region: text(&c.region),
                tenant_id: text(&c.tenant_id),
                client_id: text(&c.client_id),
                client_secret: secret(&c.client_secret),
                use_managed_identity: Some(c.use_managed_identity),
                access_key_id: text(&c.access_key_id),
                secret_access_key: secret(&c.secret_access_key),
                use_iam_auth: Some(c.use_iam_auth),
                project_id: text(&c.project_id),
                service_account_key: secret(&c.service_account_key),
                account: text(&c.account),
                endpoint_url: text(&c.endpoint_url),
            }),
            replica_config: self.replica_config.as_ref().map(|c| ReplicaConfigInput {
                replica_host: c.replica_host.as_ref().map(Host::to_string),
                replica_port: c.replica_port.map(i64::from),
                replica_set: text(&c.replica_set),
                replica_members: Some(c.replica_members.iter().map(HostPort::to_string).collect()),
                failover_latency_ms: c.failover_latency_ms.map(i64::from),
                failover_consecutive_errors: c.failover_consecutive_errors.map(i64::from),
                failover_error_percent: c.failover_error_percent.map(i64::from),
                failover_cool_down_secs: c.failover_cool_down_secs.map(i64::from),
            }),
            ssl_config: self.ssl_config.as_ref().map(|c| SslConfigInput {
                mode: Some(c.mode.as_str().to_owned()),
                ssl_ca: text(&c.ssl_ca),
                ssl_cert: text(&c.ssl_cert),
                ssl_key: text(&c.ssl_key),
            }),
            pool: Some(PoolSettingsInput {
                pool_size: Some(self.pool.pool_size.into()),
                max_overflow: Some(self.pool.max_overflow.into()),
                pool_timeout_secs: Some(self.pool.pool_timeout_secs.into()),
                pool_recycle_secs: Some(self.pool.pool_recycle_secs.into()),
            }),
            use_encryption: Some(self.use_encryption),
            owner: self.owner.as_ref().map(|o| o.name.clone()),
            owner_kind: self.owner.as_ref().map(|o| o.kind),
            owner_type: self.owner.as_ref().map(|o| o.owner_type),
            description: text(&self.description),
            environment: self.environment.map(|e| e.as_str().to_owned()),
            tags: Some(self.tags.iter().map(Tag::to_string).collect()),
        }
    }
}

impl CloudConfigInput {
    fn parse(self, r: &mut Report) -> Option<CloudConfig> {
        let texts = [
            &self.region,
            &self.tenant_id,
            &self.client_id,
            &self.client_secret,
            &self.access_key_id,
            &self.secret_access_key,
            &self.project_id,
            &self.service_account_key,
            &self.account,
            &self.endpoint_url,
        ];
        if texts.iter().all(|t| is_blank(t.as_deref()))
            && self.use_managed_identity.is_none()
            && self.use_iam_auth.is_none()
        {
            return None;
        }
        let before = r.errors.len();
        let config = CloudConfig {
            region: r.optional("cloud_config.region", self.region.as_deref(), |raw| {
                word(raw, 64, "_-", "letters, digits, '-' and '_'")
            }),
            tenant_id: r.text(
                "cloud_config.tenant_id",
                self.tenant_id.as_deref(),
                MAX_TEXT_CHARS,
            ),
            client_id: r.text(
                "cloud_config.client_id",
                self.client_id.as_deref(),
                MAX_TEXT_CHARS,
            ),
            client_secret: r.optional(
                "cloud_config.client_secret",
                self.client_secret.as_deref(),
                SecretRef::parse,
            ),
            use_managed_identity: self.use_managed_identity.unwrap_or(false),
            access_key_id: r.optional(
                "cloud_config.access_key_id",
                self.access_key_id.as_deref(),
                |raw| word(raw, 128, "", "letters and digits"),
            ),
            secret_access_key: r.optional(
                "cloud_config.secret_access_key",
                self.secret_access_key.as_deref(),
                SecretRef::parse,
            ),
            use_iam_auth: self.use_iam_auth.unwrap_or(false),
            project_id: r.optional(
                "cloud_config.project_id",
                self.project_id.as_deref(),
                |raw| word(raw, 64, "-", "letters, digits and '-'"),
            ),
            service_account_key: r.optional(
                "cloud_config.service_account_key",
                self.service_account_key.as_deref(),
                SecretRef::parse,
            ),
            account: r.optional("cloud_config.account", self.account.as_deref(), |raw| {
                word(raw, 255, "._-", "letters, digits, '.', '-' and '_'")
            }),
            endpoint_url: r.optional(
                "cloud_config.endpoint_url",
                self.endpoint_url.as_deref(),
                parse_url,
            ),
        };
        if !is_blank(self.client_secret.as_deref()) && is_blank(self.client_id.as_deref()) {
            r.fail::<()>(
                "cloud_config.client_id",
                "is required when client_secret is set",
            );
        }
        let has_key_id = !is_blank(self.access_key_id.as_deref());
        let has_secret_key = !is_blank(self.secret_access_key.as_deref());
        if has_key_id && !has_secret_key {
            r.fail::<()>(
                "cloud_config.secret_access_key",
                "is required when access_key_id is set",
            );
        }
        if has_secret_key && !has_key_id {
            r.fail::<()>(
                "cloud_config.access_key_id",
                "is required when secret_access_key is set",
            );
        }
        (r.errors.len() == before).then_some(config)
    }
}

impl ReplicaConfigInput {
    fn parse(self, kind: Option<DataSourceKind>, r: &mut Report) -> Option<ReplicaConfig> {
        let members = self.replica_members.unwrap_or_default();
        let failover = [
            (
                "failover_latency_ms",
                self.failover_latency_ms,
                100,
                600_000,
            ),
            (
                "failover_consecutive_errors",
                self.failover_consecutive_errors,
                1,
                100,
            ),
            (
                "failover_error_percent",
                self.failover_error_percent,
                1,
                100,
            ),
            (
                "failover_cool_down_secs",
                self.failover_cool_down_secs,
                0,
                86_400,
            ),
        ];
        // The first threshold given names the field the kind and replica checks report on.
        let failover_given = failover
            .iter()
            .find(|(_, raw, _, _)| raw.is_some())
            .map(|(name, _, _, _)| *name);
        if is_blank(self.replica_host.as_deref())
            && self.replica_port.is_none()
            && is_blank(self.replica_set.as_deref())
            && members.is_empty()
            && failover_given.is_none()
        {
            return None;
        }
        let before = r.errors.len();
        let [latency, consecutive, percent, cool_down] = failover.map(|(name, raw, min, max)| {
            raw.and_then(|raw| r.check(&format!("replica_config.{name}"), bounded(raw, min, max)))
        });
        if let Some(field) = failover_given {
            if let Some(kind) = kind.filter(|k| *k != DataSourceKind::Postgresql) {
                r.fail::<()>(
                    &format!("replica_config.{field}"),
                    format!("only applies to postgresql sources (this source is {kind})"),
                );
            }
            if is_blank(self.replica_host.as_deref()) {
                r.fail::<()>(
                    &format!("replica_config.{field}"),
                    "needs replica_host: reads fail over to the read replica",
                );
            }
        }
        let default_port = kind.map_or(0, |k| k.default_port());
        let config = ReplicaConfig {
            replica_host: r.optional(
                "replica_config.replica_host",
                self.replica_host.as_deref(),
                Host::parse,
            ),
            replica_port: self
                .replica_port
                .and_then(|raw| r.check("replica_config.replica_port", parse_port(raw))),
            replica_set: r.optional(
                "replica_config.replica_set",
                self.replica_set.as_deref(),
                |raw| word(raw, 128, "_-.", "letters, digits, '.', '-' and '_'"),
            ),
            replica_members: members
                .iter()
                .enumerate()
                .filter_map(|(i, raw)| {
                    let field = format!("replica_config.replica_members[{i}]");
                    r.check(&field, HostPort::parse_with_default(raw, default_port))
                })
                .collect(),
            failover_latency_ms: latency,
            failover_consecutive_errors: consecutive,
            failover_error_percent: percent,
            failover_cool_down_secs: cool_down,
        };
        if self.replica_port.is_some() && is_blank(self.replica_host.as_deref()) {
            r.fail::<()>(
                "replica_config.replica_host",
                "is required when replica_port is set",
            );
        }
        if let Some(kind) = kind.filter(|k| *k != DataSourceKind::Mongodb) {
            let message = format!("only applies to mongodb sources (this source is {kind})");
            if !is_blank(self.replica_set.as_deref()) {
                r.fail::<()>("replica_config.replica_set", message.clone());
            }
            if !members.is_empty() {
                r.fail::<()>("replica_config.replica_members", message);
            }
        }
        (r.errors.len() == before).then_some(config)
    }
}

impl SslConfigInput {
    fn parse(self, r: &mut Report) -> Option<SslConfig> {
        if [&self.mode, &self.ssl_ca, &self.ssl_cert, &self.ssl_key]
            .iter()
            .all(|t| is_blank(t.as_deref()))
        {
            return None;
        }
        let before = r.errors.len();
        let ssl_ca = r.optional("ssl_config.ssl_ca", self.ssl_ca.as_deref(), parse_path);
        let ssl_cert = r.optional("ssl_config.ssl_cert", self.ssl_cert.as_deref(), parse_path);
        let ssl_key = r.optional("ssl_config.ssl_key", self.ssl_key.as_deref(), parse_path);
        let has_ca = !is_blank(self.ssl_ca.as_deref());
        // The seeds: a CA present means the chain is verified (verify-ca); checking the host name
        // as well (verify-full) is asked for explicitly; without a CA, encryption only.
        let default_mode = if has_ca {
            SslMode::VerifyCa
        } else {
            SslMode::Require
        };
        let mode = r
            .optional("ssl_config.mode", self.mode.as_deref(), SslMode::parse)
            .unwrap_or(default_mode);
        if mode.verifies_server() && !has_ca {
            r.fail::<()>(
                "ssl_config.ssl_ca",
                format!("is required when mode is {mode}"),
            );
        }
        let has_cert = !is_blank(self.ssl_cert.as_deref());
        let has_key = !is_blank(self.ssl_key.as_deref());
        if has_cert && !has_key {
            r.fail::<()>("ssl_config.ssl_key", "is required when ssl_cert is set");
        }
        if has_key && !has_cert {
            r.fail::<()>("ssl_config.ssl_cert", "is required when ssl_key is set");
        }
        (r.errors.len() == before).then_some(SslConfig {
            mode,
            ssl_ca,
            ssl_cert,
            ssl_key,
        })
    }
}

impl PoolSettingsInput {
    fn parse(self, r: &mut Report) -> Option<PoolSettings> {
        let defaults = PoolSettings::default();
        let mut setting =
            |field: &str, raw: Option<i64>, default: u32, min: u32, max: u32| match raw {
                None => Some(default),
                Some(raw) => r.check(field, bounded(raw, min, max)),
            };
        // Every setting is checked before giving up, so one answer names every bad value.
        let pool_size = setting(
            "pool.pool_size",
            self.pool_size,
            defaults.pool_size,
            1,
            1000,
        );
        let max_overflow = setting(
            "pool.max_overflow",
            self.max_overflow,
            defaults.max_overflow,
            0,
            1000,
        );
        let pool_timeout_secs = setting(
            "pool.pool_timeout_secs",
            self.pool_timeout_secs,
            defaults.pool_timeout_secs,
            1,
            3600,
        );
        let pool_recycle_secs = setting(
            "pool.pool_recycle_secs",
            self.pool_recycle_secs,
            defaults.pool_recycle_secs,
            1,
            86_400,
        );
        Some(PoolSettings {
            pool_size: pool_size?,
            max_overflow: max_overflow?,
            pool_timeout_secs: pool_timeout_secs?,
            pool_recycle_secs: pool_recycle_secs?,
        })
    }
}

fn parse_tags(raw: Vec<String>, r: &mut Report) -> Vec<Tag> {
    if raw.len() > MAX_TAGS {
        r.fail::<()>(
            "tags",
            format!("must be at most {MAX_TAGS} tags (got {})", raw.len()),
        );
        return Vec::new();
    }
    let mut tags: Vec<Tag> = Vec::with_capacity(raw.len());
    for (i, raw) in raw.iter().enumerate() {
        if let Some(tag) = r.check(&format!("tags[{i}]"), Tag::parse(raw)) {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
    }
    tags
}

fn bounded(raw: i64, min: u32, max: u32) -> Result<u32, String> {
    u32::try_from(raw)
        .ok()
        .filter(|value| (min..=max).contains(value))
        .ok_or_else(|| format!("must be between {min} and {max} (got {raw})"))
}

/// Free text: bounded, and single-line unless it is prose (a description may have paragraphs).
fn parse_text(raw: &str, max_chars: usize, multiline: bool) -> Result<String, String> {
    let chars = raw.chars().count();
    if chars > max_chars {
        return Err(format!(
            "must be at most {max_chars} characters (got {chars})"
        ));
    }
    let allowed_control = |c: char| multiline && (c == '\n' || c == '\t');
    if raw.chars().any(|c| c.is_control() && !allowed_control(c)) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(raw.to_owned())
}

fn parse_path(raw: &str) -> Result<String, String> {
    if raw.chars().count() > MAX_PATH_CHARS || raw.chars().any(char::is_control) {
        return Err(format!(
            "must be a file path of at most {MAX_PATH_CHARS} characters without control characters"
        ));
    }
    Ok(raw.to_owned())
}

fn parse_url(raw: &str) -> Result<String, String> {
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && raw.len() <= 2048
                && !raw.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(raw.to_owned())
        }
        _ => Err("must be an http:// or https:// URL without spaces".to_owned()),
    }
}

fn word(raw: &str, max_chars: usize, extra: &str, allowed: &str) -> Result<String, String> {
    if raw.len() <= max_chars
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
    {
        Ok(raw.to_owned())
    } else {
        Err(format!(
            "must be at most {max_chars} characters of {allowed}"
        ))
    }
}

fn is_blank(raw: Option<&str>) -> bool {
    raw.is_none_or(|s| s.trim().is_empty())
}

/// Collects field errors while the parser keeps going, so one answer names every problem.
#[derive(Default)]
struct Report {
    errors: Vec<FieldError>,
}

impl Report {
    fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result
            .map_err(|message| self.fail::<()>(field, message))
            .ok()
    }

    fn fail<T>(&mut self, field: &str, message: impl Into<String>) -> Option<T> {
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
        None
    }

    /// An optional field: absent or blank is `None`, anything else must parse (trimmed).
    fn optional<T>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
        self.check(field, parse(raw))
    }

    fn text(&mut self, field: &str, raw: Option<&str>, max_chars: usize) -> Option<String> {
        self.optional(field, raw, |raw| parse_text(raw, max_chars, false))
    }

    fn prose(&mut self, field: &str, raw: Option<&str>, max_chars: usize) -> Option<String> {
        self.optional(field, raw, |raw| parse_text(raw, max_chars, true))
    }

    fn into_error(self) -> ValidationError {
        ValidationError {
            errors: self.errors,
        }
    }
}

/// Shows a raw secret field in `Debug` without its value: it may be a pasted password.
fn debug_secret(raw: &Option<String>) -> Option<String> {
    raw.as_deref().map(|raw| match SecretRef::parse(raw) {
        Ok(secret) => secret.redacted(),
        Err(_) => "<not a secret reference, hidden>".to_owned(),
    })
}

impl fmt::Debug for DataSourceConfigInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataSourceConfigInput")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("username", &self.username)
            .field("password_secret", &debug_secret(&self.password_secret))
            .field("cloud_provider", &self.cloud_provider)
            .field("location", &self.location)
            .field("cloud_config", &self.cloud_config)
            .field("replica_config", &self.replica_config)
            .field("ssl_config", &self.ssl_config)
            .field("pool", &self.pool)
            .field("use_encryption", &self.use_encryption)
            .field("owner", &self.owner)
            .field("owner_kind", &self.owner_kind)
            .field("owner_type", &self.owner_type)
            .field("description", &self.description)
            .field("environment", &self.environment)
            .field("tags", &self.tags)
            .finish()
    }
}

impl fmt::Debug for CloudConfigInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudConfigInput")
            .field("region", &self.region)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &debug_secret(&self.client_secret))
            .field("use_managed_identity", &self.use_managed_identity)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &debug_secret(&self.secret_access_key))
            .field("use_iam_auth", &self.use_iam_auth)
            .field("project_id", &self.project_id)
            .field(
                "service_account_key",
                &debug_secret(&self.service_account_key),
            )
            .field("account", &self.account)
            .field("endpoint_url", &self.endpoint_url)
            .finish()
    }
}
