//! One entry point per operation for every kind, so callers never branch on the engine:
//! [`validate`] tests a connection, [`probe_health`] measures it and reads the server's own
//! figures, [`discover`] reads the schemas in scope.

use crate::options::ConnectionTarget;
use crate::probe::{
    AssetSample, ConnectionFailure, ConnectionInfo, Discovery, DiscoveryError, DiscoveryOptions,
    DiscoveryProgress, HealthProbe,
};
use domain::discovery::AssetSchema;
use std::time::Duration;

/// Tests the connection: connect, run a trivial query, close.
pub async fn validate(
    target: &ConnectionTarget,
    timeout: Duration,
) -> Result<ConnectionInfo, ConnectionFailure> {
    match target {
        ConnectionTarget::Postgres(target) => crate::postgres::validate(target, timeout).await,
        ConnectionTarget::Mysql(target) => crate::mysql::validate(target, timeout).await,
        ConnectionTarget::Redis(target) => crate::redis::validate(target, timeout).await,
        ConnectionTarget::Mongodb(target) => crate::mongodb::validate(target, timeout).await,
        ConnectionTarget::Snowflake(target) => crate::snowflake::validate(target, timeout).await,
        ConnectionTarget::S3(target) => crate::s3::validate(target, timeout).await,
    }
}

/// One health probe, all within `timeout`: connect, time a trivial query, read the server's
/// connection count and limit, storage size and uptime where the engine exposes them, close.
///
/// PostgreSQL, MySQL/MariaDB and Redis report their figures; other kinds report what
/// [`validate`] does (round trip and version) with no figures. Failures are classified like a
/// connection test's and never carry a secret.
pub async fn probe_health(
    target: &ConnectionTarget,
    timeout: Duration,
) -> Result<HealthProbe, ConnectionFailure> {
    match target {
        ConnectionTarget::Postgres(target) => crate::postgres::probe_health(target, timeout).await,
        ConnectionTarget::Mysql(target) => crate::mysql::probe_health(target, timeout).await,
        ConnectionTarget::Redis(target) => crate::redis::probe_health(target, timeout).await,
        other => validate(other, timeout)
            .await
            .map(HealthProbe::from_connection),
    }
}

/// Discovers every asset in scope with its schema, and the lineage the schemas declare. Names
/// come back with their control characters neutralised ([`crate::names`]).
pub async fn discover(
    target: &ConnectionTarget,
    options: &DiscoveryOptions,
    progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
) -> Result<Discovery, DiscoveryError> {
    let mut discovery = discover_raw(target, options, progress).await?;
    crate::names::neutralise_discovery(&mut discovery);
    Ok(discovery)
}

/// What the engine reports, names as they are.
async fn discover_raw(
    target: &ConnectionTarget,
    options: &DiscoveryOptions,
    progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
) -> Result<Discovery, DiscoveryError> {
    match target {
        ConnectionTarget::Postgres(target) => {
            crate::postgres::discover(target, options, progress).await
        }
        ConnectionTarget::Mysql(target) => crate::mysql::discover(target, options, progress).await,
        ConnectionTarget::Redis(target) => crate::redis::discover(target, options, progress).await,
        ConnectionTarget::Mongodb(target) => {
            crate::mongodb::discover(target, options, progress).await
        }
        ConnectionTarget::Snowflake(target) => {
            crate::snowflake::discover(target, options, progress).await
        }
        ConnectionTarget::S3(target) => crate::s3::discover(target, options, progress).await,
    }
}

/// Samples up to `rows` rows of one discovered asset for classification (`TABLESAMPLE` or the
/// engine's equivalent where it has one, otherwise the first rows). Columns whose recorded name
/// was neutralised ([`crate::names`]) are not the source's names and are left out; an asset
/// whose own path was neutralised is not read at all.
pub async fn sample(
    target: &ConnectionTarget,
    asset: &AssetSchema,
    rows: u32,
    timeout: Duration,
) -> Result<AssetSample, DiscoveryError> {
    match crate::names::readable(asset) {
        Some(asset) => sample_readable(target, &asset, rows, timeout).await,
        None => Ok(AssetSample::default()),
    }
}

async fn sample_readable(
    target: &ConnectionTarget,
    asset: &AssetSchema,
    rows: u32,
    timeout: Duration,
) -> Result<AssetSample, DiscoveryError> {
    match target {
        ConnectionTarget::Postgres(target) => {
            crate::postgres::sample(target, asset, rows, timeout).await
        }
        ConnectionTarget::Mysql(target) => crate::mysql::sample(target, asset, rows, timeout).await,
        ConnectionTarget::Redis(target) => crate::redis::sample(target, asset, rows, timeout).await,
        ConnectionTarget::Mongodb(target) => {
            crate::mongodb::sample(target, asset, rows, timeout).await
        }
        ConnectionTarget::Snowflake(target) => {
            crate::snowflake::sample(target, asset, rows, timeout).await
        }
        ConnectionTarget::S3(target) => crate::s3::sample(target, asset, rows, timeout).await,
    }
}

/// [`sample`] for several assets of one source: one connection for the batch where the engine
/// makes that cheaper (PostgreSQL), one [`sample`] after the other otherwise. One result per
/// asset, in order.
pub async fn sample_many(
    target: &ConnectionTarget,
    assets: &[&AssetSchema],
    rows: u32,
    timeout: Duration,
) -> Vec<Result<AssetSample, DiscoveryError>> {
    if let ConnectionTarget::Postgres(target) = target {
        // Only what can be read under its recorded names (see `sample`).
        let readable: Vec<Option<std::borrow::Cow<'_, AssetSchema>>> = assets
            .iter()
            .map(|asset| crate::names::readable(asset))
            .collect();
        let read: Vec<&AssetSchema> = readable.iter().flatten().map(|a| a.as_ref()).collect();
        let mut samples = match crate::postgres::sample_many(target, &read, rows, timeout).await {
            Ok(samples) => samples,
            Err(error) => read.iter().map(|_| Err(error.clone())).collect(),
        }
        .into_iter();
        return readable
            .iter()
            .map(|asset| match asset {
                Some(_) => samples.next().unwrap_or_else(|| Ok(AssetSample::default())),
                None => Ok(AssetSample::default()),
            })
            .collect();
    }
    let mut samples = Vec::with_capacity(assets.len());
    for asset in assets {
        samples.push(sample(target, asset, rows, timeout).await);
    }
    samples
}

#[allow(dead_code)]
fn assert_send(
    target: &ConnectionTarget,
    options: &DiscoveryOptions,
    progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
) {
    fn send<T: Send>(_: T) {}
    send(discover(target, options, progress));
    send(validate(target, Duration::from_secs(1)));
    send(sample(
        target,
        &AssetSchema::new(
            domain::discovery::AssetKind::Table,
            domain::discovery::AssetPath::parse("a.b").unwrap(),
        ),
        1,
        Duration::from_secs(1),
    ));
    send(probe_health(target, Duration::from_secs(1)));
}
