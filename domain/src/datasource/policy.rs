//! [`SourcePolicy`]: what a tenant's source configuration may point at, set by the operator.
//!
//! A source's configuration is a tenant's input, yet PurSight acts on it with the server's own
//! privileges: it resolves the secret references and connects to the hosts. Without bounds, a
//! steward could name `env:PURSIGHT_JWT_SECRET` as a password and point the host at a listener
//! they control, and the server would send its signing key there. So:
//!
//! | reference | allowed only |
//! |---|---|
//! | `env:VAR` | `VAR` starts with the configured prefix (default `PURSIGHT_SOURCE_SECRET_`) and is none of the service's own settings |
//! | `file:PATH` | under `<secret dir>/<tenant>/` (no directory by default: `file:` is off), no `.`/`..` segments |
//! | `vault:MOUNT/PATH#F` | `PATH` (after an optional `data/`) starts with `<store prefix>/<tenant>/` |
//! | `aws-sm:NAME` or ARN | the name starts with `<store prefix>/<tenant>/` |
//! | `azure-kv:VAULT/NAME` | `NAME` starts with `<store prefix>-<tenant>-` (Azure names allow no `/`) |
//! | `fernet:TOKEN` | always (the token is ciphertext the tenant was given) |
//!
//! and hosts obey [`HostPolicy`]: an operator's deny list (CIDRs and names) beats their allow list
//! (empty: everything), and cloud metadata endpoints are always denied.
//!
//! The checks here are pure and lexical: [`DataSource`](super::DataSource) applies them when a
//! configuration is recorded (a clear VALIDATION error naming the field and the rule), and the
//! connectors apply them again when they resolve a secret or a host name (a name may resolve to a
//! denied address, and an old event may predate a stricter policy). A refusal never says whether
//! the variable, file or secret exists.

use super::config::DataSourceConfig;
use super::error::{FieldError, ValidationError};
use super::secret::{SecretLocation, SecretRef};
use crate::ids::TenantId;
use std::net::IpAddr;

/// Everything an operator configures about where sources may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourcePolicy {
    pub secrets: SecretPolicy,
    pub hosts: HostPolicy,
}

impl SourcePolicy {
    /// Checks every secret reference and host of `config` for `tenant`, reporting each field
    /// that breaks a rule.
    pub fn check(
        &self,
        tenant: &TenantId,
        config: &DataSourceConfig,
    ) -> Result<(), ValidationError> {
        let mut errors = Vec::new();
        for (field, secret) in config.secret_refs() {
            if let Err(rule) = self.secrets.check(tenant, secret) {
                errors.push(FieldError {
                    field: field.to_owned(),
                    message: rule,
                });
            }
        }
        if let Some(ssl) = &config.ssl_config {
            let files = [
                ("ssl_config.ssl_ca", &ssl.ssl_ca),
                ("ssl_config.ssl_cert", &ssl.ssl_cert),
                ("ssl_config.ssl_key", &ssl.ssl_key),
            ];
            for (field, path) in files {
                // Drivers read TLS files as written (a relative path from the server's working
                // directory), so only absolute paths are accepted here.
                let checked = path.as_deref().map(|path| match path.starts_with('/') {
                    true => self.secrets.check_file(tenant, path),
                    false => self
                        .secrets
                        .check_file(tenant, path)
                        .and(Err("must be absolute paths".to_owned())),
                });
                if let Some(Err(rule)) = checked {
                    errors.push(FieldError {
                        field: field.to_owned(),
                        message: format!("TLS files {rule}"),
                    });
                }
            }
        }
        for (field, host) in config.network_hosts() {
            if let Err(rule) = self.hosts.check_name(&host) {
                errors.push(FieldError {
                    field: field.to_owned(),
                    message: rule,
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationError { errors })
        }
    }
}

/// Where secret references may point. Built with [`SecretPolicy::new`], which refuses settings
/// that would open the service's own configuration to tenants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretPolicy {
    env_prefix: String,
    file_dir: Option<String>,
    store_prefix: String,
}

/// Environment variables the service itself reads for its own secrets and settings. They are
/// refused even when an operator's prefix would cover them.
pub const SERVICE_SETTINGS: &[&str] = &[
    "PURSIGHT_JWT_SECRET",
    "PURSIGHT_JWT_PUBLIC_KEY",
    "PURSIGHT_DATABASE_URL",
    "PURSIGHT_NATS_URL",
    "PURSIGHT_FERNET_KEY",
    "PURSIGHT_METRICS_TOKEN",
    "DATABASE_URL",
    "VAULT_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_CLIENT_SECRET",
    "AZURE_ACCESS_TOKEN",
];

impl Default for SecretPolicy {
    fn default() -> Self {
        Self {
            env_prefix: Self::DEFAULT_ENV_PREFIX.to_owned(),
            file_dir: None,
            store_prefix: Self::DEFAULT_STORE_PREFIX.to_owned(),
        }
    }
}

impl SecretPolicy {
    pub const DEFAULT_ENV_PREFIX: &'static str = "PURSIGHT_SOURCE_SECRET_";
    pub const DEFAULT_STORE_PREFIX: &'static str = "pursight";

    /// A policy with `env:` confined to `env_prefix`, `file:` to `file_dir/<tenant>/` (`None`:
    /// `file:` refused) and the secret stores to `store_prefix/<tenant>/`.
    ///
    /// Refuses an empty or short prefix, one that covers a service setting (`PURSIGHT_`
    /// would open `PURSIGHT_JWT_SECRET`), a relative directory, and a store prefix with other
    /// characters than letters, digits, `-`, `_` and inner `/`.
    pub fn new(
        env_prefix: &str,
        file_dir: Option<&str>,
        store_prefix: &str,
    ) -> Result<Self, String> {
        if env_prefix.len() < 4
            || !env_prefix
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(format!(
                "the env: prefix {env_prefix:?} must be at least 4 upper-case letters, digits or '_'"
            ));
        }
        if let Some(setting) = SERVICE_SETTINGS.iter().find(|s| s.starts_with(env_prefix)) {
            return Err(format!(
                "the env: prefix {env_prefix:?} would let sources read the service's own setting {setting}"
            ));
        }
        if let Some(dir) = file_dir {
            if !dir.starts_with('/') || dir.split('/').any(|s| s == "..") {
                return Err(format!(
                    "the secret directory {dir:?} must be an absolute path without '..'"
                ));
            }
        }
        let store_ok = !store_prefix.is_empty()
            && store_prefix.split('/').all(|segment| {
                !segment.is_empty()
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !store_ok {
            return Err(format!(
                "the secret store prefix {store_prefix:?} must be segments of letters, digits, '-' and '_' separated by '/'"
            ));
        }
        Ok(Self {
            env_prefix: env_prefix.to_owned(),
            file_dir: file_dir.map(|dir| dir.trim_end_matches('/').to_owned()),
            store_prefix: store_prefix.to_owned(),
        })
    }

    pub fn env_prefix(&self) -> &str {
        &self.env_prefix
    }

    /// The directory all `file:` references live under (per tenant below it), if any.
    pub fn file_dir(&self) -> Option<&str> {
        self.file_dir.as_deref()
    }

    /// The directory one tenant's `file:` references live under: `<dir>/<tenant>`.
    pub fn tenant_file_dir(&self, tenant: &TenantId) -> Option<String> {
        self.file_dir
            .as_deref()
            .map(|dir| format!("{dir}/{}", tenant.as_str()))
    }

    /// Whether `tenant` may use `secret`; the error is the rule it breaks, phrased for a
    /// VALIDATION message after the field name. It never says whether the target exists.
    pub fn check(&self, tenant: &TenantId, secret: &SecretRef) -> Result<(), String> {
        let tenant_id = tenant;
        let tenant = tenant.as_str();
        let store = &self.store_prefix;
        match secret.location() {
            SecretLocation::Env { var } => {
                let inside = var.len() > self.env_prefix.len() && var.starts_with(&self.env_prefix);
                if !inside || SERVICE_SETTINGS.contains(&var) {
                    return Err(format!(
                        "env: references may only name variables starting with {}",
                        self.env_prefix
                    ));
                }
                Ok(())
            }
            SecretLocation::File { path } => self
                .check_file(tenant_id, path)
                .map_err(|rule| format!("file: references {rule}")),
            SecretLocation::Vault { path, .. } => {
                // `MOUNT/SECRET` or the API form `MOUNT/data/SECRET`.
                let after_mount = path.split_once('/').map(|(_, rest)| rest);
                let secret_path =
                    after_mount.map(|rest| rest.strip_prefix("data/").unwrap_or(rest));
                let allowed = format!("{store}/{tenant}/");
                match secret_path {
                    Some(p) if plain_segments(path) && under(p, &allowed) => Ok(()),
                    _ => Err(format!(
                        "vault: references must name a secret under MOUNT/{allowed} (one tenant's part of the store)"
                    )),
                }
            }
            SecretLocation::AwsSecretsManager { name } => {
                // An ARN ends in `:secret:<name>-<6 random characters>`.
                let name = match name.strip_prefix("arn:") {
                    Some(_) => name.split_once(":secret:").map_or("", |(_, n)| n),
                    None => name,
                };
                let allowed = format!("{store}/{tenant}/");
                if plain_segments(name) && under(name, &allowed) {
                    Ok(())
                } else {
                    Err(format!(
                        "aws-sm: references must name a secret under {allowed} (one tenant's part of the store)"
                    ))
                }
            }
            SecretLocation::AzureKeyVault { name, .. } => {
                // Key Vault names hold only letters, digits and '-': the prefix is flattened, and
                // a tenant id with '_' has no unambiguous Azure form.
                let allowed = format!("{}-{tenant}-", store.replace('/', "-"));
                if !tenant.contains('_') && under(name, &allowed) {
                    Ok(())
                } else {
                    Err(format!(
                        "azure-kv: references must name a secret starting with {allowed} (tenant ids with '_' cannot use azure-kv:)"
                    ))
                }
            }
            SecretLocation::Fernet { .. } => Ok(()),
        }
    }

    /// Whether `tenant` may have the server read the file at `path` (a `file:` reference, or
    /// TLS material): relative to, or absolute under, `<secret dir>/<tenant>/`, without `.` or
    /// `..` segments. The error is the rule, to follow a subject ("… must be paths under …").
    pub fn check_file(&self, tenant: &TenantId, path: &str) -> Result<(), String> {
        let Some(dir) = self.tenant_file_dir(tenant) else {
            return Err("are disabled on this server (PURSIGHT_SECRET_DIR is not set)".to_owned());
        };
        let relative = match path.strip_prefix('/') {
            None => Some(path),
            Some(_) => path
                .strip_prefix(dir.as_str())
                .and_then(|rest| rest.strip_prefix('/')),
        };
        match relative {
            Some(relative) if plain_segments(relative) => Ok(()),
            _ => Err(format!(
                "must be paths under {dir}/ without '.' or '..' segments"
            )),
        }
    }
}

/// `path` starts with `prefix` and names something below it.
fn under(path: &str, prefix: &str) -> bool {
    path.len() > prefix.len() && path.starts_with(prefix)
}

/// No empty, `.` or `..` segment and no `%` (a percent-encoded dot is a dot to URL parsers): the
/// path cannot climb out of the prefix it starts with, neither on disk nor in a store's URL.
fn plain_segments(path: &str) -> bool {
    !path.contains('%')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..")
}

/// Which hosts sources may connect to.
///
/// Rules are CIDRs (`10.0.0.0/8`, `fd00::/8`, a single address) or names (`db.internal`, or
/// `*.corp.example` for every name below it). The deny list wins over the allow list; an empty
/// allow list allows everything not denied. Cloud metadata endpoints ([`METADATA_ADDRESSES`],
/// [`METADATA_NAMES`]) are always denied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPolicy {
    allow: Vec<HostRule>,
    deny: Vec<HostRule>,
}

/// The instance-metadata services of AWS (IPv4 and IPv6), GCP, Azure, OCI (all 169.254.169.254),
/// AWS ECS task metadata and Alibaba Cloud. They hand out the server's cloud credentials.
pub const METADATA_ADDRESSES: &[&str] = &[
    "169.254.169.254/32",
    "169.254.170.2/32",
    "fd00:ec2::254/128",
    "100.100.100.200/32",
];

/// Names of metadata services that resolve only inside a cloud.
pub const METADATA_NAMES: &[&str] = &["metadata.google.internal", "metadata.goog"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostRule {
    Net { addr: IpAddr, prefix: u8 },
    Name(String),
    Suffix(String),
}

impl HostRule {
    fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim().trim_end_matches('.').to_ascii_lowercase();
        let (addr, prefix) = match raw.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (raw.as_str(), None),
        };
        let unbracketed = addr.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            let ip = canonical(ip);
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => max,
                Some(p) => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= max)
                    .ok_or_else(|| format!("{raw:?} has an invalid prefix length"))?,
            };
            return Ok(HostRule::Net { addr: ip, prefix });
        }
        if prefix.is_some() {
            return Err(format!("{raw:?} is neither a CIDR nor a host name"));
        }
        let label_ok = |label: &str| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if let Some(suffix) = raw.strip_prefix("*.") {
            if suffix.split('.').all(label_ok) {
                return Ok(HostRule::Suffix(suffix.to_owned()));
            }
        } else if raw.split('.').all(label_ok) {
            return Ok(HostRule::Name(raw));
        }
        Err(format!("{raw:?} is neither a CIDR nor a host name"))
    }

    fn matches_ip(&self, ip: IpAddr) -> bool {
        let HostRule::Net { addr, prefix } = self else {
            return false;
        };
        match (canonical(ip), addr) {
            (IpAddr::V4(ip), IpAddr::V4(net)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
                u32::from(ip) & mask == u32::from(*net) & mask
            }
            (IpAddr::V6(ip), IpAddr::V6(net)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*prefix)).unwrap_or(0);
                u128::from(ip) & mask == u128::from(*net) & mask
            }
            _ => false,
        }
    }

    fn matches_name(&self, name: &str) -> bool {
        match self {
            HostRule::Name(rule) => rule == name,
            HostRule::Suffix(suffix) => name
                .strip_suffix(suffix.as_str())
                .is_some_and(|head| head.ends_with('.')),
            HostRule::Net { .. } => false,
        }
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:169.254.169.254`) is the IPv4 address it carries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

impl HostPolicy {
    /// Parses comma- or whitespace-separated rules (the `PURSIGHT_SOURCE_HOSTS_ALLOW` and
    /// `_DENY` syntax); an error names the rule that does not parse.
    pub fn parse(allow: &str, deny: &str) -> Result<Self, String> {
        let rules = |list: &str| -> Result<Vec<HostRule>, String> {
            list.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|rule| !rule.is_empty())
                .map(HostRule::parse)
                .collect()
        };
        Ok(Self {
            allow: rules(allow)?,
            deny: rules(deny)?,
        })
    }

    fn always_denied() -> impl Iterator<Item = HostRule> {
        METADATA_ADDRESSES
            .iter()
            .chain(METADATA_NAMES)
            .map(|rule| HostRule::parse(rule).expect("the built-in rules parse"))
    }

    /// Checks a host as written in a configuration (a name or a literal address), before any
    /// name is resolved.
    pub fn check_name(&self, host: &str) -> Result<(), String> {
        let host = host
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        let hit = |rule: &HostRule| match ip {
            Some(ip) => rule.matches_ip(ip),
            None => rule.matches_name(&host),
        };
        if Self::always_denied().any(|rule| hit(&rule)) {
            return Err("is a cloud metadata endpoint, which sources may never reach".to_owned());
        }
        if self.deny.iter().any(hit) {
            return Err("is denied by PURSIGHT_SOURCE_HOSTS_DENY".to_owned());
        }
        // A name not on the allow list may still resolve to allowed addresses; that is decided
        // at connection time by `check_resolved`.
        if ip.is_some() && !self.allow.is_empty() && !self.allow.iter().any(hit) {
            return Err("is not in PURSIGHT_SOURCE_HOSTS_ALLOW".to_owned());
        }
        Ok(())
    }

    /// Checks a host at connection time, with the addresses it resolved to: denied when the name
    /// or any address is denied; when an allow list is set, allowed when the name is on it or
    /// every address is.
    pub fn check_resolved(&self, host: &str, addresses: &[IpAddr]) -> Result<(), String> {
        self.check_name(host)?;
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        let hits = |rule: &HostRule| addresses.iter().any(|ip| rule.matches_ip(*ip));
        if Self::always_denied().any(|rule| hits(&rule)) {
            return Err(
                "resolves to a cloud metadata endpoint, which sources may never reach".to_owned(),
            );
        }
        if self.deny.iter().any(hits) {
            return Err("resolves to an address denied by PURSIGHT_SOURCE_HOSTS_DENY".to_owned());
        }
        if self.allow.is_empty() || self.allow.iter().any(|rule| rule.matches_name(&name)) {
            return Ok(());
        }
        let all_allowed = !addresses.is_empty()
            && addresses
                .iter()
                .all(|ip| self.allow.iter().any(|rule| rule.matches_ip(*ip)));
        if all_allowed {
            Ok(())
        } else {
            Err("is not in PURSIGHT_SOURCE_HOSTS_ALLOW".to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(id: &str) -> TenantId {
        TenantId::parse(id).unwrap()
    }

    fn check(policy: &SecretPolicy, tenant_id: &str, raw: &str) -> Result<(), String> {
        policy.check(&tenant(tenant_id), &SecretRef::parse(raw).unwrap())
    }

    #[test]
    fn env_references_stay_inside_the_prefix_and_never_reach_service_settings() {
        let policy = SecretPolicy::default();
        assert_eq!(
            check(&policy, "acme", "env:PURSIGHT_SOURCE_SECRET_PG"),
            Ok(())
        );
        for outside in [
            "env:PURSIGHT_JWT_SECRET",
            "env:PURSIGHT_DATABASE_URL",
            "env:HOME",
            "env:PURSIGHT_SOURCE_SECRET_",
            "env:AWS_SECRET_ACCESS_KEY",
        ] {
            let rule = check(&policy, "acme", outside).unwrap_err();
            assert!(rule.contains("PURSIGHT_SOURCE_SECRET_"), "{rule}");
        }
    }

    #[test]
    fn prefixes_that_would_open_service_settings_are_refused() {
        for prefix in ["PURSIGHT_", "PURSIGHT_JWT", "AWS_", "", "AB"] {
            assert!(
                SecretPolicy::new(prefix, None, "pursight").is_err(),
                "{prefix}"
            );
        }
        assert!(SecretPolicy::new("MY_SOURCES_", Some("relative/dir"), "p").is_err());
        assert!(SecretPolicy::new("MY_SOURCES_", Some("/srv/../etc"), "p").is_err());
        assert!(SecretPolicy::new("MY_SOURCES_", None, "a/../b").is_err());
        assert!(SecretPolicy::new("MY_SOURCES_", Some("/srv/secrets/"), "org/pursight").is_ok());
    }

    #[test]
    fn file_references_are_off_by_default_and_confined_to_the_tenants_directory() {
        let off = SecretPolicy::default();
        assert!(check(&off, "acme", "file:pg.txt")
            .unwrap_err()
            .contains("disabled"));
        let on =
            SecretPolicy::new("PURSIGHT_SOURCE_SECRET_", Some("/srv/secrets"), "pursight").unwrap();
        assert_eq!(check(&on, "acme", "file:pg.txt"), Ok(()));
        assert_eq!(check(&on, "acme", "file:db/pg.txt"), Ok(()));
        assert_eq!(check(&on, "acme", "file:/srv/secrets/acme/pg.txt"), Ok(()));
        for outside in [
            "file:/proc/self/environ",
            "file:../other/pg.txt",
            "file:db/../../other/pg.txt",
            "file:/srv/secrets/other/pg.txt",
            "file:/srv/secrets/acme",
            "file:/srv/secrets/acme-evil/pg.txt",
            "file:./pg.txt",
        ] {
            let rule = check(&on, "acme", outside).unwrap_err();
            assert!(rule.contains("/srv/secrets/acme/"), "{outside}: {rule}");
        }
    }

    #[test]
    fn tls_files_are_confined_like_file_references() {
        use crate::datasource::DataSourceConfigInput;
        let config = |ca: &str| {
            DataSourceConfigInput {
                name: Some("x".into()),
                kind: Some("postgresql".into()),
                host: Some("db.internal".into()),
                ssl_config: Some(crate::datasource::SslConfigInput {
                    mode: Some("verify_ca".into()),
                    ssl_ca: Some(ca.into()),
                    ..Default::default()
                }),
                ..Default::default()
            }
            .parse()
            .unwrap()
        };
        let off = SourcePolicy::default();
        let error = off
            .check(&tenant("acme"), &config("/srv/secrets/acme/ca.pem"))
            .unwrap_err();
        assert_eq!(error.errors[0].field, "ssl_config.ssl_ca");
        assert!(
            error.errors[0]
                .message
                .starts_with("TLS files are disabled"),
            "{error}"
        );
        let on = SourcePolicy {
            secrets: SecretPolicy::new("PURSIGHT_SOURCE_SECRET_", Some("/srv/secrets"), "pursight")
                .unwrap(),
            ..Default::default()
        };
        assert_eq!(
            on.check(&tenant("acme"), &config("/srv/secrets/acme/ca.pem")),
            Ok(())
        );
        let error = on
            .check(&tenant("acme"), &config("/etc/shadow"))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "ssl_config.ssl_ca: TLS files must be paths under /srv/secrets/acme/ without '.' or '..' segments"
        );
    }

    #[test]
    fn store_references_stay_inside_the_tenants_prefix() {
        let policy = SecretPolicy::default();
        assert_eq!(
            check(&policy, "acme", "vault:secret/pursight/acme/pg#password"),
            Ok(())
        );
        assert_eq!(
            check(
                &policy,
                "acme",
                "vault:secret/data/pursight/acme/pg#password"
            ),
            Ok(())
        );
        assert_eq!(check(&policy, "acme", "aws-sm:pursight/acme/pg"), Ok(()));
        assert_eq!(
            check(
                &policy,
                "acme",
                "aws-sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:pursight/acme/pg-AbCdEf"
            ),
            Ok(())
        );
        assert_eq!(
            check(&policy, "acme", "azure-kv:acme-kv/pursight-acme-pg"),
            Ok(())
        );
        for outside in [
            "vault:secret/pursight/other/pg#password",
            "vault:secret/pursight/acme/../other/pg#password",
            "vault:secret/pursight/acme/%2e%2e/other/pg#password",
            "vault:secret/pursight/acmeevil/pg#password",
            "vault:secret/pg#password",
            "aws-sm:pursight/other/pg",
            "aws-sm:pursight/acme/../other/pg",
            "aws-sm:prod/pg",
            "aws-sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/pg-AbCdEf",
            "azure-kv:acme-kv/pursight-other-pg",
            "azure-kv:acme-kv/pg-password",
        ] {
            assert!(check(&policy, "acme", outside).is_err(), "{outside}");
        }
        assert!(check(&policy, "ac_me", "azure-kv:kv1/pursight-ac-me-pg").is_err());
        assert_eq!(check(&policy, "acme", "fernet:gAAAAABk"), Ok(()));
    }

    #[test]
    fn metadata_endpoints_are_always_denied_in_every_spelling() {
        let policy = HostPolicy::default();
        for host in [
            "169.254.169.254",
            "[fd00:ec2::254]",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "metadata.google.internal",
            "METADATA.GOOGLE.INTERNAL.",
        ] {
            assert!(policy.check_name(host).is_err(), "{host}");
        }
        assert_eq!(policy.check_name("db.internal"), Ok(()));
        assert_eq!(policy.check_name("127.0.0.1"), Ok(()));
        let rebound = policy
            .check_resolved("innocent.example", &["169.254.169.254".parse().unwrap()])
            .unwrap_err();
        assert!(rebound.contains("metadata"), "{rebound}");
    }

    #[test]
    fn deny_beats_allow_and_names_on_the_allow_list_or_allowed_addresses_pass() {
        let policy = HostPolicy::parse(
            "10.0.0.0/8, *.corp.example db.partner.example",
            "10.9.0.0/16,evil.corp.example",
        )
        .unwrap();
        assert_eq!(policy.check_name("10.1.2.3"), Ok(()));
        assert!(policy.check_name("10.9.1.1").unwrap_err().contains("DENY"));
        assert!(policy
            .check_name("192.168.1.1")
            .unwrap_err()
            .contains("ALLOW"));
        assert!(policy
            .check_name("evil.corp.example")
            .unwrap_err()
            .contains("DENY"));
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            policy.check_resolved("pg.corp.example", &[ip("192.0.2.1")]),
            Ok(())
        );
        assert_eq!(
            policy.check_resolved("db.partner.example", &[ip("192.0.2.1")]),
            Ok(())
        );
        assert_eq!(
            policy.check_resolved("pg.internal", &[ip("10.2.3.4")]),
            Ok(())
        );
        assert!(policy
            .check_resolved("pg.internal", &[ip("192.0.2.1")])
            .is_err());
        assert!(policy
            .check_resolved("pg.corp.example", &[ip("10.9.0.1")])
            .unwrap_err()
            .contains("DENY"));
        assert!(policy.check_resolved("notcorp.example", &[]).is_err());
        assert!(HostPolicy::parse("10.0.0.0/33", "").is_err());
        assert!(HostPolicy::parse("", "not a host!").is_err());
    }
}
