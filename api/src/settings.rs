//! Configuration shared by every subcommand: flags with environment fallbacks and defaults that
//! work on a developer machine (SPEC §6).

use clap::Args;

pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/pursight";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Where the event store lives.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// NATS server with JetStream.
    #[arg(long, env = "PURSIGHT_NATS_URL", default_value = DEFAULT_NATS_URL, global = true)]
    pub nats_url: String,
    /// Subject prefix: events live on `<prefix>.events.>`; several instances can share a server.
    #[arg(
        long,
        env = "PURSIGHT_STREAM_PREFIX",
        default_value = "pursight",
        global = true
    )]
    pub stream_prefix: String,
    /// Stream name (default `<PREFIX>_EVENTS`).
    #[arg(long = "stream", env = "PURSIGHT_STREAM", global = true)]
    pub stream: Option<String>,
}

impl StoreArgs {
    pub fn names(&self) -> Result<eventlog::StreamNames, eventlog::EventStoreError> {
        eventlog::StreamNames::new(&self.stream_prefix, self.stream.as_deref())
    }

    pub fn config(&self) -> Result<eventlog::EventStoreConfig, eventlog::EventStoreError> {
        Ok(eventlog::EventStoreConfig {
            nats_url: self.nats_url.clone(),
            names: self.names()?,
        })
    }
}

/// The store sealing personal data with keys kept in `pool`'s `personal_keys` table, wrapped by
/// the master key `PURSIGHT_PERSONAL_DATA_KEY` (a fixed development key, with a warning, when
/// unset). An invalid setting is an error that does not repeat the value.
pub fn with_personal_keys(
    store: eventlog::EventStore,
    pool: &sqlx::PgPool,
) -> Result<eventlog::EventStore, String> {
    use projections::personal_keys::{MasterKey, PgKeyring, MASTER_KEY_SETTING};
    let (master, configured) = MasterKey::from_env()?;
    if !configured {
        tracing::warn!(
            "{MASTER_KEY_SETTING} is not set: personal data keys are wrapped with the public development key; set it (openssl rand -hex 32) outside development"
        );
    }
    eventlog::personal::set_pseudonym_key(&master.pseudonym_key());
    Ok(store.with_keyring(std::sync::Arc::new(PgKeyring::new(pool.clone(), master))))
}

/// Where the read models live.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL database for the read models (created if missing).
    #[arg(long, env = "PURSIGHT_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
}

/// Where tenants' source configurations may point (SPEC §5), from the environment:
///
/// | variable | default |
/// |---|---|
/// | `PURSIGHT_SECRET_ENV_PREFIX` | `PURSIGHT_SOURCE_SECRET_` (the only variables `env:` may name) |
/// | `PURSIGHT_SECRET_DIR` | none: `file:` refused; else files under `<dir>/<tenant>/` |
/// | `PURSIGHT_SECRET_STORE_PREFIX` | `pursight` (`vault:`, `aws-sm:` under `<prefix>/<tenant>/`, `azure-kv:` names `<prefix>-<tenant>-…`) |
/// | `PURSIGHT_SOURCE_HOSTS_ALLOW` | empty: every host not denied |
/// | `PURSIGHT_SOURCE_HOSTS_DENY` | empty (cloud metadata endpoints are always denied) |
///
/// An invalid setting stops the service with a message naming the variable.
/// `PURSIGHT_STATISTICS_CHANGE_PERCENT` (default 10): how many percent an asset's row estimate
/// or size must move since last recorded before a scan records it again (0: every change).
pub fn statistics_threshold_from_env() -> Result<domain::discovery::StatisticsThreshold, String> {
    match std::env::var("PURSIGHT_STATISTICS_CHANGE_PERCENT") {
        Ok(raw) if !raw.trim().is_empty() => {
            let percent: f64 = raw.trim().parse().map_err(|_| {
                format!(
                    "PURSIGHT_STATISTICS_CHANGE_PERCENT must be a number of percent (got {raw:?})"
                )
            })?;
            domain::discovery::StatisticsThreshold::from_percent(percent)
                .map_err(|error| format!("PURSIGHT_STATISTICS_CHANGE_PERCENT: {error}"))
        }
        _ => Ok(Default::default()),
    }
}

pub fn source_policy_from_env() -> Result<domain::datasource::SourcePolicy, String> {
    use domain::datasource::{HostPolicy, SecretPolicy, SourcePolicy};
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let secrets = SecretPolicy::new(
        var("PURSIGHT_SECRET_ENV_PREFIX")
            .as_deref()
            .unwrap_or(SecretPolicy::DEFAULT_ENV_PREFIX),
        var("PURSIGHT_SECRET_DIR").as_deref(),
        var("PURSIGHT_SECRET_STORE_PREFIX")
            .as_deref()
            .unwrap_or(SecretPolicy::DEFAULT_STORE_PREFIX),
    )
    .map_err(|reason| {
        format!("PURSIGHT_SECRET_ENV_PREFIX / PURSIGHT_SECRET_DIR / PURSIGHT_SECRET_STORE_PREFIX: {reason}")
    })?;
    let hosts = HostPolicy::parse(
        &var("PURSIGHT_SOURCE_HOSTS_ALLOW").unwrap_or_default(),
        &var("PURSIGHT_SOURCE_HOSTS_DENY").unwrap_or_default(),
    )
    .map_err(|reason| {
        format!("PURSIGHT_SOURCE_HOSTS_ALLOW / PURSIGHT_SOURCE_HOSTS_DENY: {reason}")
    })?;
    Ok(SourcePolicy { secrets, hosts })
}
