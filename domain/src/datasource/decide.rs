//! The data source decider: which events a command produces in which lifecycle state.
//!
//! The moves are the seeds' state diagram (§9.1 of the architecture report):
//!
//! | command | from | to |
//! |---|---|---|
//! | BeginConfiguration | Registered, Failed | Configuring |
//! | RecordConnectionSucceeded | Configuring | Connected |
//! | RecordConnectionFailed | Configuring | Failed |
//! | StartScan | Connected, Monitoring, ScanFailed, Scanned, Classified, Validating, Validated | Scanning |
//! | CompleteScan / FailScan | Scanning | Scanned / ScanFailed |
//! | StartClassification / CompleteClassification | Scanned, Classified, Validating, Validated / Classifying | Classifying / Classified |
//! | FailClassification | Classifying | Scanned |
//! | AttachScanRuleSet | any registered state but Archived | (unchanged) |
//! | StartComplianceCheck / CompleteComplianceCheck | Classified / Validating | Validating / Validated |
//! | AddToCatalog | Validated | Cataloged |
//! | StartMonitoring | Cataloged | Monitoring |
//! | Archive | any resting state (see `archive_allowed`) | Archived |
//!
//! `StartScan` and `StartClassification` from Classified (rescan / reclassify after a rule set
//! changed) and `FailClassification` are our additions too, and so are both from Validating and
//! Validated: the compliance worker validates every classified source on its own, and a user's
//! rescan or reclassification must not be refused because its check ran first (or is running:
//! a check interrupted this way does not complete, and the pass after the new classification
//! validates again).
//! `StartScan` from Scanned (a rescan before classification) is our addition: the diagram only
//! rescans from Monitoring, which leaves a freshly scanned source no way to pick up schema
//! changes until classification and cataloguing exist.
//!
//! plus `UpdateConfig`, which the diagram leaves implicit (see `update_config`), and
//! `RecordHealth`, which is accepted in every state but Archived and never moves the lifecycle
//! (see `record_health`). Anything else is [`DataSourceError::InvalidTransition`].

use super::commands::DataSourceCommand;
use super::config::DataSourceConfig;
use super::error::{DataSourceError, ValidationError};
use super::events::*;
use super::health::{HealthAssessment, ProbeFailure, Recommendation};
use super::lifecycle::LifecycleState;
use super::state::DataSourceState;
use crate::ids::AggregateId;

/// Connector diagnostics are bounded so that one failure cannot bloat a commit; the head of a
/// message is the useful part.
const MAX_DIAGNOSTIC_CHARS: usize = 2000;
const MAX_SERVER_VERSION_CHARS: usize = 200;
const MAX_ARCHIVE_REASON_CHARS: usize = 2000;

pub(super) fn decide(
    state: &DataSourceState,
    command: &DataSourceCommand,
) -> Result<Vec<DataSourceEvent>, DataSourceError> {
    use DataSourceCommand as C;
    use DataSourceEvent as E;
    use LifecycleState as S;

    if let C::Register { id, config } = command {
        return match state.id {
            Some(existing) => Err(DataSourceError::AlreadyRegistered { id: existing }),
            None => Ok(vec![E::SourceRegistered(SourceRegistered {
                id: *id,
                config: config.clone(),
            })]),
        };
    }
    let (Some(_), Some(current)) = (state.id, &state.config) else {
        return Err(DataSourceError::NotFound);
    };
    let from = state.lifecycle;
    let event = match (command, from) {
        (C::UpdateConfig { config }, _) => return update_config(from, current, config),
        (C::PatchConfig { patch }, _) => {
            let merged = current.to_input().overlay(patch.clone()).parse()?;
            return update_config(from, current, &merged);
        }
        (C::BeginConfiguration, S::Registered | S::Failed) => {
            E::ConfigurationStarted(ConfigurationStarted {
                retry: from == S::Failed,
            })
        }
        (
            C::RecordConnectionSucceeded {
                latency_ms,
                server_version,
            },
            S::Configuring,
        ) => E::ConnectionValidated(ConnectionValidated {
            latency_ms: *latency_ms,
            server_version: server_version
                .as_deref()
                .map(|v| truncate(v.trim(), MAX_SERVER_VERSION_CHARS))
                .filter(|v| !v.is_empty()),
        }),
        (C::RecordConnectionFailed { category, message }, S::Configuring) => {
            E::ConnectionFailed(ConnectionFailed {
                category: *category,
                message: truncate(message, MAX_DIAGNOSTIC_CHARS),
            })
        }
        (C::AttachScanRuleSet { rule_set_id }, _) if from != S::Archived => {
            if state.rule_set_id == *rule_set_id {
                return Ok(Vec::new());
            }
            E::ScanRuleSetAttached(ScanRuleSetAttached {
                rule_set_id: *rule_set_id,
            })
        }
        (
            C::StartScan { scan_id },
            S::Connected
            | S::Monitoring
            | S::ScanFailed
            | S::Scanned
            | S::Classified
            | S::Validating
            | S::Validated,
        ) => E::SourceScanStarted(SourceScanStarted { scan_id: *scan_id }),
        (C::CompleteScan { scan_id }, S::Scanning) => {
            check_running_scan(state, *scan_id)?;
            E::SourceScanCompleted(SourceScanCompleted { scan_id: *scan_id })
        }
        (C::FailScan { scan_id, reason }, S::Scanning) => {
            check_running_scan(state, *scan_id)?;
            E::SourceScanFailed(SourceScanFailed {
                scan_id: *scan_id,
                reason: truncate(reason, MAX_DIAGNOSTIC_CHARS),
            })
        }
        (C::StartClassification, S::Scanned | S::Classified | S::Validating | S::Validated) => {
            E::ClassificationStarted(ClassificationStarted {})
        }
        (C::FailClassification { reason }, S::Classifying) => {
            E::ClassificationFailed(ClassificationFailed {
                reason: truncate(reason, MAX_DIAGNOSTIC_CHARS),
            })
        }
        (C::CompleteClassification, S::Classifying) => {
            E::ClassificationCompleted(ClassificationCompleted {})
        }
        (C::StartComplianceCheck, S::Classified) => {
            E::ComplianceCheckStarted(ComplianceCheckStarted {})
        }
        (C::CompleteComplianceCheck { counts }, S::Validating) => {
            E::ComplianceCheckCompleted(ComplianceCheckCompleted {
                counts: Some(*counts),
            })
        }
        (C::AddToCatalog, S::Validated) => E::SourceCataloged(SourceCataloged {}),
        (C::StartMonitoring, S::Cataloged) => E::MonitoringStarted(MonitoringStarted {}),
        (C::Archive { reason }, _) if archive_allowed(from) => {
            archive(reason.as_ref().map(|r| r.as_str()))?
        }
        (C::RecordHealth { assessment }, _) if from != S::Archived => {
            return record_health(state.health.as_ref(), assessment);
        }
        _ => {
            return Err(DataSourceError::InvalidTransition {
                command: command.name(),
                state: from,
            })
        }
    };
    Ok(vec![event])
}

/// Replaces the configuration.
///
/// Refused while work is running (the scan, classification or check would run against a
/// configuration it did not start with) and once archived. The kind is fixed at registration:
/// everything discovered so far belongs to that kind of system. An identical configuration
/// records nothing. A change to how the source connects sends a source that already has a
/// connection result back to Configuring, since that result no longer applies; a change of
/// catalog metadata only (name, owner, description, environment, tags) keeps the state.
///
/// A connection change while Configuring keeps Configuring: a connection test already running
/// may still report on the previous configuration, so whoever runs tests should start a new one
/// after an update (the aggregate cannot tell the two results apart).
fn update_config(
    from: LifecycleState,
    current: &DataSourceConfig,
    new: &DataSourceConfig,
) -> Result<Vec<DataSourceEvent>, DataSourceError> {
    if !from.is_resting() {
        return Err(DataSourceError::InvalidTransition {
            command: "UpdateConfig",
            state: from,
        });
    }
    if new.kind != current.kind {
        return Err(DataSourceError::KindChanged {
            from: current.kind,
            to: new.kind,
        });
    }
    if new == current {
        return Ok(Vec::new());
    }
    let connection_changed = current.connection_differs(new);
    Ok(vec![DataSourceEvent::SourceConfigured(SourceConfigured {
        config: new.clone(),
        connection_changed,
        requires_revalidation: connection_changed && from.has_connection_result(),
    })])
}

/// Whether a source may be archived from `state`.
///
/// A deliberate departure from the seeds, which only draw Cataloged → Archived: a source that
/// was registered by mistake, never connects or is being retired before it reached the catalog
/// must be retirable too. So any resting state may be archived (Registered, Configuring,
/// Connected, Failed, ScanFailed, Scanned, Classified, Validated, Cataloged, Monitoring), but not
/// while a scan, classification or compliance check runs (let it finish or fail first), and not
/// twice.
fn archive_allowed(state: LifecycleState) -> bool {
    state.is_resting()
}

fn archive(reason: Option<&str>) -> Result<DataSourceEvent, DataSourceError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if let Some(reason) = reason {
        let chars = reason.chars().count();
        if chars > MAX_ARCHIVE_REASON_CHARS {
            return Err(ValidationError::single(
                "reason",
                format!("must be at most {MAX_ARCHIVE_REASON_CHARS} characters (got {chars})"),
            )
            .into());
        }
    }
    Ok(DataSourceEvent::SourceArchived(SourceArchived {
        reason: reason.map(str::to_owned),
    }))
}

/// Records a health assessment when it is news: the first one, or one that
/// [differs meaningfully](HealthAssessment::differs_meaningfully) from the last recorded one.
/// Anything else records nothing, so the history holds changes, not every check.
///
/// Health is observed, not decided, so any state but Archived accepts it (a source being scanned
/// can still be down). Figures are checked for consistency and texts bounded like every other
/// connector diagnostic.
fn record_health(
    previous: Option<&HealthAssessment>,
    assessment: &HealthAssessment,
) -> Result<Vec<DataSourceEvent>, DataSourceError> {
    if assessment.samples == 0 {
        return Err(ValidationError::single("samples", "must be at least 1").into());
    }
    if assessment.failures > assessment.samples {
        return Err(ValidationError::single(
            "failures",
            format!(
                "cannot exceed samples ({} > {})",
                assessment.failures, assessment.samples
            ),
        )
        .into());
    }
    let assessment = HealthAssessment {
        server_version: assessment
            .server_version
            .as_deref()
            .map(|v| truncate(v.trim(), MAX_SERVER_VERSION_CHARS))
            .filter(|v| !v.is_empty()),
        last_error: assessment.last_error.as_ref().map(|e| ProbeFailure {
            category: e.category,
            message: truncate(&e.message, MAX_DIAGNOSTIC_CHARS),
        }),
        recommendations: assessment
            .recommendations
            .iter()
            .map(|r| Recommendation {
                message: truncate(&r.message, MAX_DIAGNOSTIC_CHARS),
                ..r.clone()
            })
            .collect(),
        ..assessment.clone()
    };
    match previous {
        Some(previous) if !assessment.differs_meaningfully(previous) => Ok(Vec::new()),
        _ => Ok(vec![DataSourceEvent::HealthAssessed(HealthAssessed {
            assessment,
        })]),
    }
}

fn check_running_scan(
    state: &DataSourceState,
    scan_id: AggregateId,
) -> Result<(), DataSourceError> {
    match state.running_scan {
        Some(running) if running != scan_id => Err(DataSourceError::ScanMismatch {
            running,
            got: scan_id,
        }),
        _ => Ok(()),
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}
