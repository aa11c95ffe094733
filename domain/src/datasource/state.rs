//! [`DataSourceState`]: what the decider needs to know about a data source, and how each event
//! changes it. Evolving is total: an event that happened is applied whatever the state.

use super::config::DataSourceConfig;
use super::events::DataSourceEvent;
use super::health::HealthAssessment;
use super::lifecycle::LifecycleState;
use crate::ids::AggregateId;
use serde::{Deserialize, Serialize};

/// The folded history of one data source. `Default` is a source not yet registered.
///
/// Serializable so that the event store can keep it as a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataSourceState {
    pub id: Option<AggregateId>,
    pub lifecycle: LifecycleState,
    pub config: Option<DataSourceConfig>,
    /// The scan in progress while `lifecycle` is Scanning, to refuse results of other scans.
    pub running_scan: Option<AggregateId>,
    /// The scan rule set classification follows (`None`: the built-in defaults).
    #[serde(default)]
    pub rule_set_id: Option<AggregateId>,
    /// Number of events applied.
    pub version: u64,
    /// The last recorded health assessment, which a new one is compared against. Defaulted so
    /// that snapshots taken before health checks existed still load.
    #[serde(default)]
    pub health: Option<HealthAssessment>,
}

impl DataSourceState {
    pub(super) fn evolve(mut self, event: &DataSourceEvent) -> Self {
        use DataSourceEvent as E;
        use LifecycleState as S;
        self.version += 1;
        match event {
            E::SourceRegistered(e) => {
                self.id = Some(e.id);
                self.config = Some(e.config.clone());
                self.lifecycle = S::Registered;
            }
            E::SourceConfigured(e) => {
                self.config = Some(e.config.clone());
                if e.requires_revalidation {
                    self.lifecycle = S::Configuring;
                }
            }
            E::ConfigurationStarted(_) => self.lifecycle = S::Configuring,
            E::ConnectionValidated(_) => self.lifecycle = S::Connected,
            E::ConnectionFailed(_) => self.lifecycle = S::Failed,
            E::SourceScanStarted(e) => {
                self.lifecycle = S::Scanning;
                self.running_scan = Some(e.scan_id);
            }
            E::SourceScanCompleted(_) => {
                self.lifecycle = S::Scanned;
                self.running_scan = None;
            }
            E::SourceScanFailed(_) => {
                self.lifecycle = S::ScanFailed;
                self.running_scan = None;
            }
            E::ClassificationStarted(_) => self.lifecycle = S::Classifying,
            E::ClassificationCompleted(_) => self.lifecycle = S::Classified,
            E::ClassificationFailed(_) => self.lifecycle = S::Scanned,
            E::ScanRuleSetAttached(e) => self.rule_set_id = e.rule_set_id,
            E::ComplianceCheckStarted(_) => self.lifecycle = S::Validating,
            E::ComplianceCheckCompleted(_) => self.lifecycle = S::Validated,
            E::SourceCataloged(_) => self.lifecycle = S::Cataloged,
            E::MonitoringStarted(_) => self.lifecycle = S::Monitoring,
            E::SourceArchived(_) => {
                self.lifecycle = S::Archived;
                self.running_scan = None;
            }
            E::HealthAssessed(e) => self.health = Some(e.assessment.clone()),
        }
        self
    }
}
