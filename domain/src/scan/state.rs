//! [`ScanState`]: what the decider needs to know about a scan, and how each event changes it.
//! Evolving is total: an event that happened is applied whatever the state.

use super::events::ScanEvent;
use super::scope::ScanScope;
use super::values::{ScanMetrics, ScanStatus, ScanStrategy};
use crate::ids::AggregateId;
use serde::{Deserialize, Serialize};

/// The folded history of one scan. `Default` is a scan not yet started.
///
/// Serializable so that the event store can keep it as a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanState {
    pub id: Option<AggregateId>,
    pub source_id: Option<AggregateId>,
    pub status: ScanStatus,
    /// The strategy asked for at start.
    pub strategy: Option<ScanStrategy>,
    /// The concrete strategy last reported (the initial one until progress says otherwise).
    pub current_strategy: Option<ScanStrategy>,
    pub scope: ScanScope,
    pub assets_done: u64,
    pub assets_total: Option<u64>,
    /// Set when the scan completed or failed.
    pub metrics: Option<ScanMetrics>,
    pub failure_reason: Option<String>,
    /// Number of events applied.
    pub version: u64,
}

impl ScanState {
    pub(super) fn evolve(mut self, event: &ScanEvent) -> Self {
        self.version += 1;
        match event {
            ScanEvent::ScanStarted(e) => {
                self.id = Some(e.scan_id);
                self.source_id = Some(e.source_id);
                self.status = ScanStatus::Running;
                self.strategy = Some(e.strategy);
                self.current_strategy = Some(e.strategy.initial());
                self.scope = e.scope.clone();
            }
            ScanEvent::ScanProgressed(e) => {
                self.assets_done = e.assets_done;
                self.assets_total = e.assets_total;
                self.current_strategy = Some(e.current_strategy);
            }
            ScanEvent::ScanCompleted(e) => {
                self.status = ScanStatus::Completed;
                self.metrics = Some(e.metrics);
            }
            ScanEvent::ScanFailed(e) => {
                self.status = ScanStatus::Failed;
                self.metrics = Some(e.metrics);
                self.failure_reason = Some(e.reason.clone());
            }
        }
        self
    }
}
