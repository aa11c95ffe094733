//! Every lifecycle command's happy path, and the whole state × command table checked against the
//! seeds' diagram plus our archive rule.

use super::*;
use crate::text::FreeText;
use crate::{Rejection, RejectionKind};
use DataSourceCommand as C;
use LifecycleState as S;

#[test]
fn a_new_source_is_registered() {
    given(vec![])
        .when(C::Register {
            id: source_id(),
            config: config(),
        })
        .then(vec![registered()])
        .and_lifecycle(S::Registered);
}

#[test]
fn configure_connection_then_connection_success() {
    given(vec![registered()])
        .when(C::BeginConfiguration)
        .then(vec![configuration_started()])
        .and_lifecycle(S::Configuring);
    given(vec![registered(), configuration_started()])
        .when(C::RecordConnectionSucceeded {
            latency_ms: 12,
            server_version: Some(" PostgreSQL 16.3 ".into()),
        })
        .then(vec![connection_validated()])
        .and_lifecycle(S::Connected);
}

#[test]
fn connection_failed_then_retry_configuration() {
    given(vec![registered(), configuration_started()])
        .when(C::RecordConnectionFailed {
            category: FailureCategory::Auth,
            message: "password authentication failed for user \"pursight\"".into(),
        })
        .then(vec![connection_failed()])
        .and_lifecycle(S::Failed);
    given(history_to(S::Failed))
        .when(C::BeginConfiguration)
        .then(vec![DataSourceEvent::ConfigurationStarted(
            ConfigurationStarted { retry: true },
        )])
        .and_lifecycle(S::Configuring);
}

#[test]
fn start_scan_then_scan_complete() {
    given(history_to(S::Connected))
        .when(C::StartScan { scan_id: scan_1() })
        .then(vec![scan_started()])
        .and_lifecycle(S::Scanning);
    let state = given(history_to(S::Scanning))
        .when(C::CompleteScan { scan_id: scan_1() })
        .then(vec![scan_completed()])
        .and_lifecycle(S::Scanned);
    assert_eq!(state.running_scan, None);
}

#[test]
fn scan_error_then_retry_scan() {
    given(history_to(S::Scanning))
        .when(C::FailScan {
            scan_id: scan_1(),
            reason: "permission denied for schema hr".into(),
        })
        .then(vec![scan_failed()])
        .and_lifecycle(S::ScanFailed);
    let state = given(history_to(S::ScanFailed))
        .when(C::StartScan { scan_id: scan_2() })
        .then(vec![DataSourceEvent::SourceScanStarted(
            SourceScanStarted { scan_id: scan_2() },
        )])
        .and_lifecycle(S::Scanning);
    assert_eq!(state.running_scan, Some(scan_2()));
}

#[test]
fn classification_compliance_catalog_and_monitoring() {
    let steps = [
        (
            S::Scanned,
            C::StartClassification,
            classification_started(),
            S::Classifying,
        ),
        (
            S::Classifying,
            C::CompleteClassification,
            classification_completed(),
            S::Classified,
        ),
        (
            S::Classified,
            C::StartComplianceCheck,
            compliance_check_started(),
            S::Validating,
        ),
        (
            S::Validating,
            C::CompleteComplianceCheck {
                counts: ComplianceCounts {
                    subjects: 3,
                    open_high: 1,
                    ..ComplianceCounts::default()
                },
            },
            compliance_check_completed(),
            S::Validated,
        ),
        (S::Validated, C::AddToCatalog, cataloged(), S::Cataloged),
        (
            S::Cataloged,
            C::StartMonitoring,
            monitoring_started(),
            S::Monitoring,
        ),
    ];
    for (from, command, event, to) in steps {
        given(history_to(from))
            .when(command)
            .then(vec![event])
            .and_lifecycle(to);
    }
}

#[test]
fn scheduled_scan_from_monitoring() {
    given(history_to(S::Monitoring))
        .when(C::StartScan { scan_id: scan_2() })
        .then(vec![DataSourceEvent::SourceScanStarted(
            SourceScanStarted { scan_id: scan_2() },
        )])
        .and_lifecycle(S::Scanning);
}

#[test]
fn archive_source_with_a_reason() {
    given(history_to(S::Cataloged))
        .when(C::Archive {
            reason: FreeText::parse_optional(Some("  decommissioned  ")).unwrap(),
        })
        .then(vec![DataSourceEvent::SourceArchived(SourceArchived {
            reason: Some("decommissioned".into()),
        })])
        .and_lifecycle(S::Archived);
    given(vec![registered()])
        .when(C::Archive {
            reason: FreeText::parse_optional(Some("   ")).unwrap(),
        })
        .then(vec![archived()])
        .and_lifecycle(S::Archived);
}

#[test]
fn an_archive_reason_is_bounded() {
    let error = DataSourceError::Validation(ValidationError::single(
        "reason",
        "must be at most 2000 characters (got 2001)",
    ));
    given(vec![registered()])
        .when(C::Archive {
            reason: FreeText::parse_optional(Some(&"x".repeat(2001))).unwrap(),
        })
        .then_error(error);
}

#[test]
fn an_archived_source_cannot_be_scanned() {
    given(vec![registered(), archived()])
        .when(C::StartScan { scan_id: scan_1() })
        .then_error(DataSourceError::InvalidTransition {
            command: "StartScan",
            state: S::Archived,
        });
}

#[test]
fn registering_twice_is_a_conflict() {
    let error = DataSourceError::AlreadyRegistered { id: source_id() };
    assert_eq!(error.kind(), RejectionKind::Refused);
    given(vec![registered()])
        .when(C::Register {
            id: source_id(),
            config: config(),
        })
        .then_error(error.clone());
    given(history_to(S::Archived))
        .when(C::Register {
            id: scan_1(),
            config: config(),
        })
        .then_error(error);
}

#[test]
fn every_command_but_register_needs_a_registered_source() {
    for command in sample_commands() {
        if matches!(command, C::Register { .. }) {
            continue;
        }
        given(vec![])
            .when(command)
            .then_error(DataSourceError::NotFound);
    }
    assert_eq!(DataSourceError::NotFound.kind(), RejectionKind::NotFound);
}

#[test]
fn results_of_another_scan_are_refused() {
    let mismatch = DataSourceError::ScanMismatch {
        running: scan_1(),
        got: scan_2(),
    };
    given(history_to(S::Scanning))
        .when(C::CompleteScan { scan_id: scan_2() })
        .then_error(mismatch.clone());
    given(history_to(S::Scanning))
        .when(C::FailScan {
            scan_id: scan_2(),
            reason: "late".into(),
        })
        .then_error(mismatch);
}

#[test]
fn connector_diagnostics_are_bounded() {
    let when = given(history_to(S::Configuring)).when(C::RecordConnectionFailed {
        category: FailureCategory::Timeout,
        message: "é".repeat(5000),
    });
    let Ok(events) = when.result() else {
        panic!("refused")
    };
    let DataSourceEvent::ConnectionFailed(failed) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(failed.message.chars().count(), 2000);
}

#[test]
fn invalid_transitions_name_the_command_and_the_state() {
    let error = DataSourceError::InvalidTransition {
        command: "StartScan",
        state: S::ScanFailed,
    };
    assert_eq!(
        error.to_string(),
        "command StartScan is not allowed while the data source is scan_failed"
    );
    assert_eq!(error.kind(), RejectionKind::Refused);
}

/// The seeds' §9.1 diagram, transcribed edge by edge: (command, from, to).
const DIAGRAM: &[(&str, LifecycleState, LifecycleState)] = &[
    ("BeginConfiguration", S::Registered, S::Configuring), // Configure Connection
    ("RecordConnectionSucceeded", S::Configuring, S::Connected), // Connection Success
    ("RecordConnectionFailed", S::Configuring, S::Failed), // Connection Failed
    ("StartScan", S::Connected, S::Scanning),              // Start Scan
    ("CompleteScan", S::Scanning, S::Scanned),             // Scan Complete
    ("FailScan", S::Scanning, S::ScanFailed),              // Scan Error
    ("StartClassification", S::Scanned, S::Classifying),   // Start Classification
    ("CompleteClassification", S::Classifying, S::Classified), // Classification Complete
    ("StartComplianceCheck", S::Classified, S::Validating), // Start Compliance Check
    ("CompleteComplianceCheck", S::Validating, S::Validated), // Validation Complete
    ("AddToCatalog", S::Validated, S::Cataloged),          // Add to Catalog
    ("StartMonitoring", S::Cataloged, S::Monitoring),      // Start Monitoring
    ("StartScan", S::Monitoring, S::Scanning),             // Scheduled Scan
    ("BeginConfiguration", S::Failed, S::Configuring),     // Retry Configuration
    ("StartScan", S::ScanFailed, S::Scanning),             // Retry Scan
    ("StartScan", S::Scanned, S::Scanning),                // Rescan (our addition)
    ("StartScan", S::Classified, S::Scanning),             // Rescan (our addition)
    ("StartClassification", S::Classified, S::Classifying), // Reclassify (our addition)
    ("FailClassification", S::Classifying, S::Scanned),    // Classification error (our addition)
    ("StartScan", S::Validating, S::Scanning),             // Rescan (our addition)
    ("StartScan", S::Validated, S::Scanning),              // Rescan (our addition)
    ("StartClassification", S::Validating, S::Classifying), // Reclassify (our addition)
    ("StartClassification", S::Validated, S::Classifying), // Reclassify (our addition)
    ("Archive", S::Cataloged, S::Archived),                // Archive Source
];

/// Our departure: archiving is allowed from every resting state, not only Cataloged.
const ALSO_ARCHIVABLE: &[LifecycleState] = &[
    S::Registered,
    S::Configuring,
    S::Connected,
    S::Failed,
    S::ScanFailed,
    S::Scanned,
    S::Classified,
    S::Validated,
    S::Monitoring,
];

/// States in which the configuration may be updated (a metadata-only change keeps the state).
const UPDATABLE: &[LifecycleState] = &[
    S::Registered,
    S::Configuring,
    S::Connected,
    S::Scanned,
    S::Classified,
    S::Validated,
    S::Cataloged,
    S::Monitoring,
    S::Failed,
    S::ScanFailed,
];

/// One instance of every command, with arguments valid for the histories of `history_to`.
fn sample_commands() -> Vec<DataSourceCommand> {
    vec![
        C::Register {
            id: source_id(),
            config: config(),
        },
        C::UpdateConfig {
            config: config_with(DataSourceConfigInput {
                name: Some("Sales (EU)".into()),
                ..Default::default()
            }),
        },
        C::BeginConfiguration,
        C::RecordConnectionSucceeded {
            latency_ms: 3,
            server_version: None,
        },
        C::RecordConnectionFailed {
            category: FailureCategory::Unreachable,
            message: "connection refused".into(),
        },
        C::StartScan { scan_id: scan_2() },
        C::CompleteScan { scan_id: scan_1() },
        C::FailScan {
            scan_id: scan_1(),
            reason: "boom".into(),
        },
        C::StartClassification,
        C::CompleteClassification,
        C::FailClassification {
            reason: "sampling failed".into(),
        },
        C::AttachScanRuleSet {
            rule_set_id: Some(scan_2()),
        },
        C::StartComplianceCheck,
        C::CompleteComplianceCheck {
            counts: ComplianceCounts::default(),
        },
        C::AddToCatalog,
        C::StartMonitoring,
        C::Archive { reason: None },
        C::RecordHealth {
            assessment: super::health::healthy(),
        },
    ]
}

fn expected_target(command: &str, from: LifecycleState) -> Option<LifecycleState> {
    let on_diagram = DIAGRAM
        .iter()
        .find(|(c, f, _)| *c == command && *f == from)
        .map(|(_, _, to)| *to);
    let extra = match command {
        "Archive" if ALSO_ARCHIVABLE.contains(&from) => Some(S::Archived),
        "UpdateConfig" if UPDATABLE.contains(&from) => Some(from),
        "AttachScanRuleSet" if !matches!(from, S::Unregistered | S::Archived) => Some(from),
        // Health is observed, never a move: every registered state but Archived records it.
        "RecordHealth" if !matches!(from, S::Unregistered | S::Archived) => Some(from),
        "Register" if from == S::Unregistered => Some(S::Registered),
        _ => None,
    };
    on_diagram.or(extra)
}

#[test]
fn histories_reach_the_state_they_are_named_after() {
    for state in LifecycleState::ALL {
        assert_eq!(given(history_to(*state)).state().lifecycle, *state);
    }
}

#[test]
fn every_state_allows_exactly_the_moves_of_the_diagram_and_the_archive_rule() {
    let mut allowed = 0;
    for from in LifecycleState::ALL.iter().copied() {
        for command in sample_commands() {
            let name = command.name();
            let when = given(history_to(from)).when(command);
            match (expected_target(name, from), when.result()) {
                (Some(to), Ok(events)) => {
                    allowed += 1;
                    assert_eq!(events.len(), 1, "{name} from {from}: {events:?}");
                    let state = DataSource::replay(history_to(from).iter().chain(events));
                    assert_eq!(state.lifecycle, to, "{name} from {from}");
                }
                (None, Err(error)) => {
                    let expected = if from == S::Unregistered {
                        DataSourceError::NotFound
                    } else if name == "Register" {
                        DataSourceError::AlreadyRegistered { id: source_id() }
                    } else {
                        DataSourceError::InvalidTransition {
                            command: name,
                            state: from,
                        }
                    };
                    assert_eq!(*error, expected, "{name} from {from}");
                }
                (expected, result) => {
                    panic!("{name} from {from}: expected {expected:?}, got {result:?}")
                }
            }
        }
    }
    // The diagram's edges, 9 extra archive sources, 10 updatable states, 1 registration, and
    // the 13 states between registration and archiving, where a rule set can be attached and
    // health is recorded.
    assert_eq!(
        allowed,
        DIAGRAM.len()
            + ALSO_ARCHIVABLE.len()
            + UPDATABLE.len()
            + 1
            + 2 * (LifecycleState::ALL.len() - 2)
    );
}

#[test]
fn every_state_has_a_snake_case_name() {
    let names: Vec<&str> = LifecycleState::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        names,
        [
            "unregistered",
            "registered",
            "configuring",
            "connected",
            "scanning",
            "scanned",
            "classifying",
            "classified",
            "validating",
            "validated",
            "cataloged",
            "monitoring",
            "failed",
            "scan_failed",
            "archived"
        ]
    );
    assert_eq!(serde_json::to_value(S::ScanFailed).unwrap(), "scan_failed");
    assert_eq!(S::ScanFailed.to_string(), "scan_failed");
    assert_eq!(DataSourceState::default().lifecycle, S::Unregistered);
}
