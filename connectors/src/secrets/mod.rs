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
use error::Failure;
use std::fmt;
use tracing::Instrument;

/// Resolves [`SecretRef`]s to [`SecretValue`]s.
///
/// ```
/// use connectors::secrets::{EnvLookup, SecretResolver, SecretResolverConfig};
/// use domain::datasource::SecretRef;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let config = SecretResolverConfig::from_lookup(EnvLookup::from_map([("PG_PASSWORD", "hunter2")]));
/// let resolver = SecretResolver::new(config).unwrap();
/// let password = resolver.resolve(&SecretRef::parse("env:PG_PASSWORD").unwrap()).await.unwrap();
/// assert_eq!(password.expose(), "hunter2");
///
/// let missing = resolver.resolve(&SecretRef::parse("env:NOPE").unwrap()).await.unwrap_err();
/// assert_eq!(
///     missing.to_string(),
///     "cannot resolve secret env:NOPE (env): not found: environment variable NOPE is not set"
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

    /// Fetches the value `secret` points to.
    ///
    /// - `env:VAR`: the variable; unset or empty is `NotFound`.
    /// - `file:PATH`: the file without one trailing newline; relative paths against `file_base`.
    /// - `vault:MOUNT/PATH#FIELD`: the field of a KV v2 secret.
    /// - `aws-sm:NAME`: `SecretString` (its `password` field when it is a JSON object).
    /// - `azure-kv:VAULT/NAME`: the secret's `value`.
    /// - `fernet:TOKEN`: the token decrypted with `PURSIGHT_FERNET_KEY`.
    pub async fn resolve(&self, secret: &SecretRef) -> Result<SecretValue, SecretError> {
        let span = tracing::info_span!(
            "secret.resolve",
            secret = %secret.redacted(),
            scheme = secret.scheme().prefix(),
        );
        async {
            let outcome = self.fetch(secret).await;
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

    async fn fetch(&self, secret: &SecretRef) -> Result<SecretValue, Failure> {
        let config = &self.config;
        match secret.location() {
            SecretLocation::Env { var } => env::resolve(&config.env, var),
            SecretLocation::File { path } => file::resolve(config.file_base.as_deref(), path).await,
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

impl fmt::Debug for SecretResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretResolver")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
