//! The value types a scan speaks: [`ScanStrategy`], [`ScanMetrics`] and [`ScanStatus`].

use crate::datasource::values::keyword_enum;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

keyword_enum! {
    /// How hard a scan may push the source (concurrency, batch size, timeouts are the
    /// connectors' mapping of these).
    pub enum ScanStrategy ("scan strategy") {
        /// Few connections, small batches, long timeouts: for loaded or fragile production systems.
        Conservative = "conservative",
        Balanced = "balanced",
        /// Many connections and large batches: for replicas, development systems, benchmarks.
        Aggressive = "aggressive",
        /// Starts balanced and moves on measured latency and error rate during the scan.
        Auto = "auto",
    }
}

impl ScanStrategy {
    /// The concrete strategy a scan runs with first: `auto` starts balanced.
    pub fn initial(&self) -> ScanStrategy {
        match self {
            ScanStrategy::Auto => ScanStrategy::Balanced,
            fixed => *fixed,
        }
    }

    /// Whether the strategy is one a scan actually runs with (not `auto`).
    pub fn is_concrete(&self) -> bool {
        *self != ScanStrategy::Auto
    }

    /// Whether a scan started with `self` may be running with `current`: a fixed strategy never
    /// moves, `auto` may be at any concrete strategy.
    pub fn allows(&self, current: ScanStrategy) -> bool {
        match self {
            ScanStrategy::Auto => current.is_concrete(),
            fixed => *fixed == current,
        }
    }
}

keyword_enum! {
    /// Where a scan is.
    #[derive(Default)]
    pub enum ScanStatus ("scan status") {
        /// Before `ScanStarted`: the aggregate does not exist yet.
        #[default]
        NotStarted = "not_started",
        Running = "running",
        Completed = "completed",
        Failed = "failed",
    }
}

impl ScanStatus {
    /// Completed or failed: nothing more happens to the scan.
    pub fn is_finished(&self) -> bool {
        matches!(self, ScanStatus::Completed | ScanStatus::Failed)
    }
}

/// What a scan did, as reported when it completes or fails (counts so far for a failed scan).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct ScanMetrics {
    /// Wall time of the scan, measured by the scanner.
    pub duration_ms: u64,
    /// Schemas (or databases, for engines without schemas) discovered.
    pub schemas: u64,
    pub tables: u64,
    pub views: u64,
    /// MongoDB collections, Redis key patterns and S3 prefixes.
    pub collections: u64,
    /// Columns and inferred fields over all assets.
    pub columns: u64,
    /// Assets discovered for the first time or changed (`SchemaDiscovered`, `SchemaChanged`).
    pub assets_changed: u64,
    /// Assets gone within the scope (`AssetRemoved`).
    pub assets_removed: u64,
    pub queries_executed: u64,
    pub retries: u64,
    pub errors: u64,
    pub cache_hits: u64,
}
