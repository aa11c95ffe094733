//! [`SecretResolverConfig`]: where the [`SecretResolver`](super::SecretResolver) looks and how long
//! it waits, read once from the environment (or from a map in tests).
//!
//! | setting | variable |
//! |---|---|
//! | `env:` lookups | the process environment (or [`EnvLookup::from_map`]) |
//! | Fernet key(s) | `PURSIGHT_FERNET_KEY` (comma-separated: the first encrypts, all decrypt) |
//! | Vault | `VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_NAMESPACE` |
//! | AWS Secrets Manager | `AWS_ENDPOINT_URL_SECRETS_MANAGER` or `AWS_ENDPOINT_URL`, `AWS_REGION` or `AWS_DEFAULT_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` |
//! | Azure Key Vault | `PURSIGHT_AZURE_KEYVAULT_URL`, `AZURE_AUTHORITY_HOST`, `AZURE_ACCESS_TOKEN`, or `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET` |
//! | where references may point | [`SecretPolicy`] (set by the service from `PURSIGHT_SECRET_ENV_PREFIX`, `PURSIGHT_SECRET_DIR`, `PURSIGHT_SECRET_STORE_PREFIX`; default: `env:` under `PURSIGHT_SOURCE_SECRET_`, no `file:`, stores under `pursight/<tenant>/`) |
//!
//! Credentials for the stores themselves are [`SecretValue`]s, so `Debug` of a configuration is
//! safe to log.

use super::value::SecretValue;
use domain::datasource::SecretPolicy;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How `env:VAR` references (and the resolver's own settings) are looked up.
///
/// ```
/// use connectors::secrets::EnvLookup;
///
/// let env = EnvLookup::from_map([("PG_PASSWORD", "hunter2")]);
/// assert_eq!(env.get("PG_PASSWORD").as_deref(), Some("hunter2"));
/// assert_eq!(env.get("OTHER"), None);
/// ```
#[derive(Clone)]
pub struct EnvLookup(Arc<LookupFn>);

type LookupFn = dyn Fn(&str) -> Option<String> + Send + Sync;

impl EnvLookup {
    /// The environment of this process. A variable that is not valid UTF-8 counts as unset.
    pub fn process() -> Self {
        Self(Arc::new(|name| std::env::var(name).ok()))
    }

    /// A fixed set of variables (tests, embedding).
    pub fn from_map<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let vars: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self(Arc::new(move |name| vars.get(name).cloned()))
    }

    /// Any lookup function.
    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        Self(Arc::new(lookup))
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
    }

    /// The value of `name` if set and not blank, trimmed.
    fn setting(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }
}

impl fmt::Debug for EnvLookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnvLookup(..)")
    }
}

/// Everything a [`SecretResolver`](super::SecretResolver) needs.
#[derive(Debug, Clone)]
pub struct SecretResolverConfig {
    /// Where `env:` references are looked up.
    pub env: EnvLookup,
    /// Where references may point, checked again at every resolution (relative `file:` paths
    /// are read below the tenant's directory of it).
    pub policy: SecretPolicy,
    /// Time allowed to open a connection to a secret store.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request to a secret store.
    pub request_timeout: Duration,
    /// The Fernet key(s) for `fernet:` references; the first is the current one.
    pub fernet_keys: Vec<SecretValue>,
    pub vault: VaultConfig,
    pub aws: AwsConfig,
    pub azure: AzureConfig,
}

/// HashiCorp Vault (KV v2 secrets engine).
#[derive(Debug, Clone, Default)]
pub struct VaultConfig {
    /// `VAULT_ADDR`, e.g. `https://vault.internal:8200`.
    pub address: Option<String>,
    /// `VAULT_TOKEN`, sent as `X-Vault-Token`.
    pub token: Option<SecretValue>,
    /// `VAULT_NAMESPACE` (Vault Enterprise), sent as `X-Vault-Namespace`.
    pub namespace: Option<String>,
}

/// AWS Secrets Manager.
#[derive(Debug, Clone, Default)]
pub struct AwsConfig {
    /// Overrides `https://secretsmanager.{region}.amazonaws.com`.
    pub endpoint: Option<String>,
    /// The region; an ARN reference uses the ARN's region instead.
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretValue>,
    pub session_token: Option<SecretValue>,
}

/// Azure Key Vault.
#[derive(Debug, Clone, Default)]
pub struct AzureConfig {
    /// Overrides `https://{vault}.vault.azure.net`; `{vault}` in it is replaced by the vault name.
    pub vault_url: Option<String>,
    /// Overrides `https://login.microsoftonline.com`.
    pub authority_host: Option<String>,
    /// A ready bearer token for `https://vault.azure.net`; skips the token request.
    pub access_token: Option<SecretValue>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretValue>,
}

impl SecretResolverConfig {
    /// The same configuration with references confined by `policy`.
    pub fn with_policy(mut self, policy: SecretPolicy) -> Self {
        self.policy = policy;
        self
    }

    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

    /// The configuration from this process's environment.
    pub fn from_env() -> Self {
        Self::from_lookup(EnvLookup::process())
    }

    /// The configuration read through `env`, which also serves `env:` references.
    pub fn from_lookup(env: EnvLookup) -> Self {
        let secret = |name: &str| env.setting(name).map(SecretValue::new);
        let fernet_keys = env
            .setting("PURSIGHT_FERNET_KEY")
            .map(|keys| {
                keys.split(',')
                    .map(str::trim)
                    .filter(|key| !key.is_empty())
                    .map(SecretValue::new)
                    .collect()
            })
            .unwrap_or_default();
        let vault = VaultConfig {
            address: env.setting("VAULT_ADDR"),
            token: secret("VAULT_TOKEN"),
            namespace: env.setting("VAULT_NAMESPACE"),
        };
        let aws = AwsConfig {
            endpoint: env
                .setting("AWS_ENDPOINT_URL_SECRETS_MANAGER")
                .or_else(|| env.setting("AWS_ENDPOINT_URL")),
            region: env
                .setting("AWS_REGION")
                .or_else(|| env.setting("AWS_DEFAULT_REGION")),
            access_key_id: env.setting("AWS_ACCESS_KEY_ID"),
            secret_access_key: secret("AWS_SECRET_ACCESS_KEY"),
            session_token: secret("AWS_SESSION_TOKEN"),
        };
        let azure = AzureConfig {
            vault_url: env.setting("PURSIGHT_AZURE_KEYVAULT_URL"),
            authority_host: env.setting("AZURE_AUTHORITY_HOST"),
            access_token: secret("AZURE_ACCESS_TOKEN"),
            tenant_id: env.setting("AZURE_TENANT_ID"),
            client_id: env.setting("AZURE_CLIENT_ID"),
            client_secret: secret("AZURE_CLIENT_SECRET"),
        };
        Self {
            env,
            policy: SecretPolicy::default(),
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            fernet_keys,
            vault,
            aws,
            azure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_through_the_lookup_and_blank_ones_ignored() {
        let config = SecretResolverConfig::from_lookup(EnvLookup::from_map([
            ("VAULT_ADDR", " http://127.0.0.1:8200 "),
            ("VAULT_TOKEN", "s.vault-token-value"),
            ("AWS_ENDPOINT_URL", "http://generic"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://sm"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AZURE_ACCESS_TOKEN", "   "),
            ("PURSIGHT_FERNET_KEY", "k1, k2,"),
        ]));
        assert_eq!(
            config.vault.address.as_deref(),
            Some("http://127.0.0.1:8200")
        );
        assert_eq!(config.aws.endpoint.as_deref(), Some("http://sm"));
        assert_eq!(config.aws.region.as_deref(), Some("eu-west-1"));
        assert!(config.azure.access_token.is_none());
        let keys: Vec<&str> = config.fernet_keys.iter().map(SecretValue::expose).collect();
        assert_eq!(keys, ["k1", "k2"]);
        assert!(!format!("{config:?}").contains("vault-token-value"));
    }
}
