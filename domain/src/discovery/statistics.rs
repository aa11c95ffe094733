//! [`AssetStatistics`]: the engine's figures about an asset that move without its schema
//! changing — row estimate, size on disk, when it was last analyzed — and
//! [`StatisticsThreshold`], how far they must move before a scan records them again.
//!
//! They are refreshed on every scan but left out of the fingerprint: a table that grows by a few
//! rows between two scans is not a schema change, and recording every wiggle would flood the
//! asset's history. A move by more than the threshold (default 10 %) of the last recorded value
//! is recorded (`StatisticsChanged`); appearing (a first `ANALYZE`) or disappearing always is. The
//! time of the last analysis alone never is: autovacuum moves it all the time.

use super::asset_schema::AssetSchema;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Row estimate, size and last analysis of one asset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AssetStatistics {
    pub row_estimate: Option<i64>,
    pub size_bytes: Option<i64>,
    pub last_analyzed: Option<DateTime<Utc>>,
}

impl AssetStatistics {
    /// Whether these figures moved far enough from `before` to be recorded.
    ///
    /// ```
    /// use domain::discovery::{AssetStatistics, StatisticsThreshold};
    ///
    /// let before = AssetStatistics { row_estimate: Some(1_000), ..Default::default() };
    /// let small = AssetStatistics { row_estimate: Some(1_090), ..Default::default() };
    /// let large = AssetStatistics { row_estimate: Some(1_200), ..Default::default() };
    /// let threshold = StatisticsThreshold::default();
    /// assert!(!small.moved_from(&before, threshold));
    /// assert!(large.moved_from(&before, threshold));
    /// assert!(before.moved_from(&AssetStatistics::default(), threshold), "a first estimate is news");
    /// ```
    pub fn moved_from(&self, before: &AssetStatistics, threshold: StatisticsThreshold) -> bool {
        moved(before.row_estimate, self.row_estimate, threshold)
            || moved(before.size_bytes, self.size_bytes, threshold)
    }
}

fn moved(before: Option<i64>, after: Option<i64>, threshold: StatisticsThreshold) -> bool {
    match (before, after) {
        (None, None) => false,
        (None, Some(_)) | (Some(_), None) => true,
        (Some(before), Some(after)) => {
            let change = (after as f64 - before as f64).abs();
            // From zero, any growth is a move (a fraction of nothing is nothing).
            change > 0.0 && change > threshold.0 * (before.unsigned_abs() as f64)
        }
    }
}

/// The fraction of the last recorded value by which a statistic must move to be recorded again;
/// 0 records every change. Default 0.10 (10 %).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatisticsThreshold(f64);

impl StatisticsThreshold {
    /// 10 %.
    pub const DEFAULT: StatisticsThreshold = StatisticsThreshold(0.10);

    /// A threshold from a percentage between 0 and 1000.
    pub fn from_percent(percent: f64) -> Result<Self, String> {
        if percent.is_finite() && (0.0..=1000.0).contains(&percent) {
            Ok(Self(percent / 100.0))
        } else {
            Err(format!(
                "a statistics change threshold is a percentage between 0 and 1000 (got {percent})"
            ))
        }
    }

    /// A threshold from a fraction between 0 and 1 (0.10 for 10 %), as a scan rule set sets it.
    pub fn from_fraction(fraction: f64) -> Result<Self, String> {
        if fraction.is_finite() && (0.0..=1.0).contains(&fraction) {
            Ok(Self(fraction))
        } else {
            Err(format!(
                "a statistics change threshold is a fraction between 0 and 1 (got {fraction})"
            ))
        }
    }

    /// The fraction (0.10 for 10 %).
    pub fn fraction(&self) -> f64 {
        self.0
    }
}

impl Default for StatisticsThreshold {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl AssetSchema {
    /// The schema's statistics.
    pub fn statistics(&self) -> AssetStatistics {
        AssetStatistics {
            row_estimate: self.row_estimate,
            size_bytes: self.size_bytes,
            last_analyzed: self.last_analyzed,
        }
    }

    /// Replaces the schema's statistics.
    pub fn set_statistics(&mut self, statistics: &AssetStatistics) {
        self.row_estimate = statistics.row_estimate;
        self.size_bytes = statistics.size_bytes;
        self.last_analyzed = statistics.last_analyzed;
    }
}
