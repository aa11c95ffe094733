//! [`ScanCommand`]: what the scanner (the scan process manager) asks of a Scan aggregate. Each is
//! decided in `decide.rs`.

use super::scope::ScanScope;
use super::values::{ScanMetrics, ScanStrategy};
use crate::ids::AggregateId;

/// A request to a scan aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanCommand {
    /// Start the scan of `source_id` (the data source's `SourceScanStarted` names the same id).
    Start {
        scan_id: AggregateId,
        source_id: AggregateId,
        strategy: ScanStrategy,
        scope: ScanScope,
    },
    /// How far the running scan is. Repeating the last progress records nothing.
    RecordProgress {
        assets_done: u64,
        /// Unknown until the scanner has listed the source's assets.
        assets_total: Option<u64>,
        /// The concrete strategy the scan runs with now (may move under `auto`).
        current_strategy: ScanStrategy,
    },
    Complete {
        metrics: ScanMetrics,
    },
    Fail {
        reason: String,
        metrics: ScanMetrics,
    },
}

impl ScanCommand {
    /// The variant name, as error messages and audit entries show it.
    pub fn name(&self) -> &'static str {
        match self {
            ScanCommand::Start { .. } => "Start",
            ScanCommand::RecordProgress { .. } => "RecordProgress",
            ScanCommand::Complete { .. } => "Complete",
            ScanCommand::Fail { .. } => "Fail",
        }
    }
}
