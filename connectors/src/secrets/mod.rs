//! Resolving secret references: a [`SecretRef`] from the DataSource model (`env:`, `file:`,
//! `vault:`, `aws-sm:`, `azure-kv:`, `fernet:`) becomes a [`SecretValue`] at connection time, and
//! nowhere else.
//!
//! [`SecretResolver`] is built once from a [`SecretResolverConfig`] (usually
//! [`SecretResolverConfig::from_env`]) and shared; it keeps one HTTP client with timeouts for the
//! stores that have an HTTP API. One file per store:
//!
//! - `env.rs`, `file.rs`, `fernet.rs`: local sources;
//! - `vault.rs` (HashiCorp Vault KV v2), `aws.rs` + `sigv4.rs` (AWS Secrets Manager),
//!   `azure.rs` (Azure Key Vault): documented HTTP APIs called with `reqwest`, no vendor SDKs;
//! - `value.rs`, `error.rs`, `config.rs`, `http.rs`: what they share.
//!
//! The guarantee: a secret value never reaches a `Display` or `Debug` output of this module. A
//! [`SecretValue`] prints as `SecretValue(***)`, and a [`SecretError`] names the reference, the
//! scheme and the reason, never the value or a response body that could contain it.

mod aws;
mod azure;
mod config;
mod env;
mod error;
mod fernet;
mod file;
mod http;
mod sigv4;
mod value;
mod vault;

pub use config::{AwsConfig, AzureConfig, EnvLookup, SecretResolverConfig, VaultConfig};
pub use error::{SecretError, SecretErrorKind};
pub use value::SecretValue;

use domain::datasource::{SecretLocation, SecretRef};
use domain::TenantId;
use error::Failure;
use std::fmt;
use tracing::Instrument;

/// Resolves [`SecretRef`]s to [`SecretValue`]s.
///
/// ```
/// use connectors::secrets::{EnvLookup, SecretResolver, SecretResolverConfig};
/// use domain::datasource::SecretRef;
/// use domain::TenantId;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let config = SecretResolverConfig::from_lookup(EnvLookup::from_map([
///     ("PURSIGHT_SOURCE_SECRET_PG", "hunter2"),
///     ("PURSIGHT_JWT_SECRET", "the-service-signing-key"),
/// ]));
/// let resolver = SecretResolver::new(config).unwrap();
/// let acme = TenantId::parse("acme").unwrap();
/// let reference = SecretRef::parse("env:PURSIGHT_SOURCE_SECRET_PG").unwrap();
/// assert_eq!(resolver.resolve(&acme, &reference).await.unwrap().expose(), "hunter2");
///
/// let missing = SecretRef::parse("env:PURSIGHT_SOURCE_SECRET_NOPE").unwrap();
/// assert_eq!(
///     resolver.resolve(&acme, &missing).await.unwrap_err().to_string(),
///     "cannot resolve secret env:PURSIGHT_SOURCE_SECRET_NOPE (env): not found: \
///      environment variable PURSIGHT_SOURCE_SECRET_NOPE is not set"
/// );
///
/// // The service's own settings are out of reach, whether they are set or not.
/// let own = SecretRef::parse("env:PURSIGHT_JWT_SECRET").unwrap();
/// assert_eq!(
///     resolver.resolve(&acme, &own).await.unwrap_err().to_string(),
///     "cannot resolve secret env:PURSIGHT_JWT_SECRET (env): not allowed: \
///      env: references may only name variables starting with PURSIGHT_SOURCE_SECRET_"
/// );
/// # }
/// ```
pub struct SecretResolver {
    config: SecretResolverConfig,
    http: reqwest::Client,
    azure_tokens: azure::TokenCache,
}

/// The HTTP client for the secret stores could not be built (TLS backend initialisation).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client for secret stores")]
pub struct ResolverInitError(#[source] reqwest::Error);

impl SecretResolver {
    /// A resolver with its own HTTP client (timeouts from `config`, no redirects: a token is
    /// never forwarded to another host).
    pub fn new(config: SecretResolverConfig) -> Result<Self, ResolverInitError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("pursight-connectors/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ResolverInitError)?;
        Ok(Self {
            config,
            http,
            azure_tokens: azure::TokenCache::default(),
        })
    }

    /// A resolver configured from this process's environment.
    pub fn from_env() -> Result<Self, ResolverInitError> {
        Self::new(SecretResolverConfig::from_env())
    }

    pub fn config(&self) -> &SecretResolverConfig {
        &self.config
    }

    /// Fetches the value `secret` points to for `tenant`.
    ///
    /// Every reference is first checked against the configuration's
    /// [`SecretPolicy`](domain::datasource::SecretPolicy) for `tenant` (kind
    /// [`SecretErrorKind::NotAllowed`], nothing looked up).
    ///
    /// - `env:VAR`: the variable; unset or empty is `NotFound`.
    /// - `file:PATH`: the file without one trailing newline; relative paths below the tenant's
    ///   directory of the policy's secret directory.
    /// - `vault:MOUNT/PATH#FIELD`: the field of a KV v2 secret.
    /// - `aws-sm:NAME`: `SecretString` (its `password` field when it is a JSON object).
    /// - `azure-kv:VAULT/NAME`: the secret's `value`.
    /// - `fernet:TOKEN`: the token decrypted with `PURSIGHT_FERNET_KEY`.
    pub async fn resolve(
        &self,
        tenant: &TenantId,
        secret: &SecretRef,
    ) -> Result<SecretValue, SecretError> {
        let span = tracing::info_span!(
            "secret.resolve",
            %tenant,
            secret = %secret.redacted(),
            scheme = secret.scheme().prefix(),
        );
        async {
            let outcome = self.fetch(tenant, secret).await;
            match &outcome {
                Ok(_) => tracing::debug!("secret resolved"),
                Err(failure) => tracing::debug!(
                    kind = failure.kind.as_str(),
                    detail = %failure.detail,
                    "secret not resolved"
                ),
            }
            outcome.map_err(|failure| failure.into_error(secret))
        }
        .instrument(span)
        .await
    }

    async fn fetch(&self, tenant: &TenantId, secret: &SecretRef) -> Result<SecretValue, Failure> {
        let config = &self.config;
        // Checked again here, not only when the configuration was recorded: an event may predate
        // a stricter policy, and this is the last step before the server reads anything.
        config
            .policy
            .check(tenant, secret)
            .map_err(|rule| Failure::new(SecretErrorKind::NotAllowed, rule))?;
        match secret.location() {
            SecretLocation::Env { var } => env::resolve(&config.env, var),
            SecretLocation::File { path } => {
                let dir = config.policy.tenant_file_dir(tenant).ok_or_else(|| {
                    Failure::new(SecretErrorKind::NotAllowed, "file: references are disabled")
                })?;
                file::resolve(std::path::Path::new(&dir), path).await
            }
            SecretLocation::Vault { path, field } => {
                vault::resolve(&self.http, &config.vault, path, field).await
            }
            SecretLocation::AwsSecretsManager { name } => {
                aws::resolve(&self.http, &config.aws, name).await
            }
            SecretLocation::AzureKeyVault { vault, name } => {
                azure::resolve(&self.http, &config.azure, &self.azure_tokens, vault, name).await
            }
            SecretLocation::Fernet { token } => fernet::resolve(&config.fernet_keys, token),
        }
    }
}

impl SecretResolver {
    /// Checks, before a connection, that the TLS files of `config` (`ssl_ca`, `ssl_cert`,
    /// `ssl_key`) are inside `tenant`'s directory of the secret directory with links followed:
    /// the drivers read them with the server's rights, and a link planted in the directory must
    /// not lead them elsewhere. A refusal is a `Config` failure naming the field; like secret
    /// files, a missing file and one outside read the same.
    pub async fn confine_tls_files(
        &self,
        tenant: &TenantId,
        config: &domain::datasource::DataSourceConfig,
    ) -> Result<(), crate::probe::ConnectionFailure> {
        let Some(ssl) = &config.ssl_config else {
            return Ok(());
        };
        let policy = &self.config.policy;
        let files = [
            ("ssl_config.ssl_ca", &ssl.ssl_ca),
            ("ssl_config.ssl_cert", &ssl.ssl_cert),
            ("ssl_config.ssl_key", &ssl.ssl_key),
        ];
        for (field, path) in files {
            let Some(path) = path.as_deref() else {
                continue;
            };
            let refuse = |rule: String| {
                crate::probe::ConnectionFailure::new(
                    domain::datasource::FailureCategory::Config,
                    format!("{field}: TLS files {rule}"),
                    None,
                )
            };
            policy.check_file(tenant, path).map_err(refuse)?;
            let dir = policy.tenant_file_dir(tenant).unwrap_or_default();
            let inside =
                file::real_path_inside(std::path::Path::new(&dir), std::path::Path::new(path))
                    .await
                    .is_some();
            if !inside {
                return Err(refuse(format!("must be readable files under {dir}/")));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for SecretResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretResolver")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
