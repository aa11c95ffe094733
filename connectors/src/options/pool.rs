//! [`PoolOptions`]: the model's SQLAlchemy-style pool knobs in the terms of Rust pools (sqlx,
//! mongodb, bb8/deadpool).

use domain::datasource::PoolSettings;
use std::time::Duration;

/// Pool sizing and timeouts for one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// `pool_size + max_overflow`: the most connections open at once.
    pub max_connections: u32,
    /// Connections kept open while idle. Always 0: PurSight closes its connections at the end of
    /// every operation, so `pool_size` only counts toward the maximum.
    pub min_connections: u32,
    /// `pool_timeout`: how long to wait for a connection (also the connect timeout).
    pub acquire_timeout: Duration,
    /// `pool_recycle`: a connection older than this is closed instead of reused.
    pub max_lifetime: Duration,
}

impl PoolOptions {
    pub fn from_settings(settings: &PoolSettings) -> Self {
        Self {
            max_connections: settings.pool_size.saturating_add(settings.max_overflow),
            min_connections: 0,
            acquire_timeout: Duration::from_secs(settings.pool_timeout_secs.into()),
            max_lifetime: Duration::from_secs(settings.pool_recycle_secs.into()),
        }
    }
}

impl From<&PoolSettings> for PoolOptions {
    fn from(settings: &PoolSettings) -> Self {
        Self::from_settings(settings)
    }
}
