//! [`DataSourceCommand`]: what a caller can ask of a data source. Each one is decided against the
//! current state in `decide.rs`; the lifecycle command names follow the seeds' state diagram.

use super::config::DataSourceConfig;
use super::events::FailureCategory;
use super::health::HealthAssessment;
use super::input::DataSourceConfigInput;
use crate::ids::AggregateId;

/// A request to a data source aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSourceCommand {
    /// Create the source with a configuration parsed at the edge.
    Register {
        id: AggregateId,
        config: DataSourceConfig,
    },
    /// Replace the configuration with a complete new one (merged and parsed at the edge:
    /// `current.to_input().overlay(patch).parse()`).
    UpdateConfig {
        config: DataSourceConfig,
    },
    /// Change only the fields given in `patch` (raw edge input). Merging happens against the
    /// state the decision is made on, so a concurrent change to other fields is never lost;
    /// the merged configuration is parsed here and refused field by field when invalid.
    PatchConfig {
        patch: DataSourceConfigInput,
    },
    /// "Configure Connection" (from Registered) or "Retry Configuration" (from Failed).
    BeginConfiguration,
    /// The connection test of the current configuration succeeded.
    RecordConnectionSucceeded {
        latency_ms: u64,
        server_version: Option<String>,
    },
    /// The connection test of the current configuration failed.
    RecordConnectionFailed {
        category: FailureCategory,
        message: String,
    },
    /// "Start Scan" (Connected), "Scheduled Scan" (Monitoring) or "Retry Scan" (ScanFailed).
    StartScan {
        scan_id: AggregateId,
    },
    CompleteScan {
        scan_id: AggregateId,
    },
    FailScan {
        scan_id: AggregateId,
        reason: String,
    },
    /// Classify the scanned assets (Scanned), or again (Classified).
    StartClassification,
    CompleteClassification,
    FailClassification {
        reason: String,
    },
    /// Classify with this scan rule set from now on (`None`: the built-in defaults).
    AttachScanRuleSet {
        rule_set_id: Option<AggregateId>,
    },
    StartComplianceCheck,
    /// The check finished with these counts.
    CompleteComplianceCheck {
        counts: super::ComplianceCounts,
    },
    AddToCatalog,
    StartMonitoring,
    /// Why, in the archiver's words (parsed text; at most 2000 characters are recorded).
    Archive {
        reason: Option<crate::text::FreeText>,
    },
    /// A health check assessed the source. Recorded only when it differs meaningfully from the
    /// last recorded assessment (see `HealthAssessment::differs_meaningfully`).
    RecordHealth {
        assessment: HealthAssessment,
    },
}

impl DataSourceCommand {
    /// The variant name, as error messages and audit entries show it.
    pub fn name(&self) -> &'static str {
        match self {
            DataSourceCommand::Register { .. } => "Register",
            DataSourceCommand::UpdateConfig { .. } => "UpdateConfig",
            DataSourceCommand::PatchConfig { .. } => "PatchConfig",
            DataSourceCommand::BeginConfiguration => "BeginConfiguration",
            DataSourceCommand::RecordConnectionSucceeded { .. } => "RecordConnectionSucceeded",
            DataSourceCommand::RecordConnectionFailed { .. } => "RecordConnectionFailed",
            DataSourceCommand::StartScan { .. } => "StartScan",
            DataSourceCommand::CompleteScan { .. } => "CompleteScan",
            DataSourceCommand::FailScan { .. } => "FailScan",
            DataSourceCommand::StartClassification => "StartClassification",
            DataSourceCommand::CompleteClassification => "CompleteClassification",
            DataSourceCommand::FailClassification { .. } => "FailClassification",
            DataSourceCommand::AttachScanRuleSet { .. } => "AttachScanRuleSet",
            DataSourceCommand::StartComplianceCheck => "StartComplianceCheck",
            DataSourceCommand::CompleteComplianceCheck { .. } => "CompleteComplianceCheck",
            DataSourceCommand::AddToCatalog => "AddToCatalog",
            DataSourceCommand::StartMonitoring => "StartMonitoring",
            DataSourceCommand::Archive { .. } => "Archive",
            DataSourceCommand::RecordHealth { .. } => "RecordHealth",
        }
    }
}
