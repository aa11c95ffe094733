//! Tests of the data source aggregate, written as stories: given these events happened, when this
//! command arrives, then these events (or this error) follow. No I/O anywhere.
//!
//! - `lifecycle.rs`: every command's happy path and the full state × command table.
//! - `update.rs`: the configuration update rules.
//! - `config.rs`: parsing configuration input into value objects.
//! - `events.rs`: stored form, decoding and upcasting of events.
//! - `health.rs`: the health window and assessment, and which assessments are recorded.
//! - `policy.rs`: the operator's source policy over decided events (`DataSource::admit`).

mod config;
mod events;
mod health;
mod lifecycle;
mod policy;
mod update;

use super::*;
use crate::aggregate::Aggregate;
use crate::ids::AggregateId;

/// The state after `events`, ready for a command.
pub(super) fn given(events: Vec<DataSourceEvent>) -> Given {
    Given {
        state: DataSource::replay(&events),
    }
}

pub(super) struct Given {
    state: DataSourceState,
}

impl Given {
    pub(super) fn when(self, command: DataSourceCommand) -> When {
        let result = DataSource::decide(&self.state, &command);
        When {
            state: self.state,
            command,
            result,
        }
    }

    pub(super) fn state(&self) -> &DataSourceState {
        &self.state
    }
}

pub(super) struct When {
    state: DataSourceState,
    command: DataSourceCommand,
    result: Result<Vec<DataSourceEvent>, DataSourceError>,
}

impl When {
    /// Asserts the decided events and returns the state they lead to.
    #[track_caller]
    pub(super) fn then(self, expected: Vec<DataSourceEvent>) -> Then {
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected, "events decided for {:?}", self.command);
                let before = self.state.version;
                let state = events.iter().fold(self.state, DataSource::evolve);
                assert_eq!(state.version, before + events.len() as u64);
                Then { state }
            }
            Err(error) => panic!("{:?} was refused: {error}", self.command),
        }
    }

    #[track_caller]
    pub(super) fn then_error(self, expected: DataSourceError) {
        match self.result {
            Ok(events) => panic!(
                "{:?} was accepted with {events:?}, expected {expected}",
                self.command
            ),
            Err(error) => assert_eq!(error, expected, "error for {:?}", self.command),
        }
    }

    pub(super) fn result(&self) -> &Result<Vec<DataSourceEvent>, DataSourceError> {
        &self.result
    }
}

pub(super) struct Then {
    state: DataSourceState,
}

impl Then {
    #[track_caller]
    pub(super) fn and_lifecycle(self, expected: LifecycleState) -> DataSourceState {
        assert_eq!(self.state.lifecycle, expected);
        self.state
    }
}

// ---- fixtures -----------------------------------------------------------------------------

pub(super) fn source_id() -> AggregateId {
    AggregateId::parse("0192f0c4-1111-7000-8000-000000000001").unwrap()
}

pub(super) fn scan_1() -> AggregateId {
    AggregateId::parse("0192f0c4-2222-7000-8000-000000000001").unwrap()
}

pub(super) fn scan_2() -> AggregateId {
    AggregateId::parse("0192f0c4-2222-7000-8000-000000000002").unwrap()
}

/// A minimal valid PostgreSQL input.
pub(super) fn postgres_input() -> DataSourceConfigInput {
    DataSourceConfigInput {
        name: Some("Sales".into()),
        kind: Some("postgresql".into()),
        host: Some("db.internal".into()),
        database: Some("sales".into()),
        username: Some("pursight".into()),
        password_secret: Some("env:PURSIGHT_SOURCE_SECRET_SALES_PG".into()),
        ..Default::default()
    }
}

pub(super) fn config() -> DataSourceConfig {
    postgres_input().parse().unwrap()
}

/// `config()` with the patch applied the way the API applies an update.
pub(super) fn config_with(patch: DataSourceConfigInput) -> DataSourceConfig {
    config().to_input().overlay(patch).parse().unwrap()
}

pub(super) fn registered() -> DataSourceEvent {
    DataSourceEvent::SourceRegistered(SourceRegistered {
        id: source_id(),
        config: config(),
    })
}

pub(super) fn configuration_started() -> DataSourceEvent {
    DataSourceEvent::ConfigurationStarted(ConfigurationStarted { retry: false })
}

pub(super) fn connection_validated() -> DataSourceEvent {
    DataSourceEvent::ConnectionValidated(ConnectionValidated {
        latency_ms: 12,
        server_version: Some("PostgreSQL 16.3".into()),
    })
}

pub(super) fn connection_failed() -> DataSourceEvent {
    DataSourceEvent::ConnectionFailed(ConnectionFailed {
        category: FailureCategory::Auth,
        message: "password authentication failed for user \"pursight\"".into(),
    })
}

pub(super) fn scan_started() -> DataSourceEvent {
    DataSourceEvent::SourceScanStarted(SourceScanStarted { scan_id: scan_1() })
}

pub(super) fn scan_completed() -> DataSourceEvent {
    DataSourceEvent::SourceScanCompleted(SourceScanCompleted { scan_id: scan_1() })
}

pub(super) fn scan_failed() -> DataSourceEvent {
    DataSourceEvent::SourceScanFailed(SourceScanFailed {
        scan_id: scan_1(),
        reason: "permission denied for schema hr".into(),
    })
}

pub(super) fn classification_started() -> DataSourceEvent {
    DataSourceEvent::ClassificationStarted(ClassificationStarted {})
}

pub(super) fn classification_completed() -> DataSourceEvent {
    DataSourceEvent::ClassificationCompleted(ClassificationCompleted {})
}

pub(super) fn compliance_check_started() -> DataSourceEvent {
    DataSourceEvent::ComplianceCheckStarted(ComplianceCheckStarted {})
}

pub(super) fn compliance_check_completed() -> DataSourceEvent {
    DataSourceEvent::ComplianceCheckCompleted(ComplianceCheckCompleted {
        counts: Some(ComplianceCounts {
            subjects: 3,
            open_high: 1,
            ..ComplianceCounts::default()
        }),
    })
}

pub(super) fn cataloged() -> DataSourceEvent {
    DataSourceEvent::SourceCataloged(SourceCataloged {})
}

pub(super) fn monitoring_started() -> DataSourceEvent {
    DataSourceEvent::MonitoringStarted(MonitoringStarted {})
}

pub(super) fn archived() -> DataSourceEvent {
    DataSourceEvent::SourceArchived(SourceArchived { reason: None })
}

/// A history that ends in `state`, along the seeds' diagram (scans use `scan_1()`).
pub(super) fn history_to(state: LifecycleState) -> Vec<DataSourceEvent> {
    use LifecycleState as S;
    let main_line = [
        (S::Registered, registered()),
        (S::Configuring, configuration_started()),
        (S::Connected, connection_validated()),
        (S::Scanning, scan_started()),
        (S::Scanned, scan_completed()),
        (S::Classifying, classification_started()),
        (S::Classified, classification_completed()),
        (S::Validating, compliance_check_started()),
        (S::Validated, compliance_check_completed()),
        (S::Cataloged, cataloged()),
        (S::Monitoring, monitoring_started()),
    ];
    let up_to = |target: LifecycleState| -> Vec<DataSourceEvent> {
        let end = main_line.iter().position(|(s, _)| *s == target).unwrap();
        main_line[..=end].iter().map(|(_, e)| e.clone()).collect()
    };
    let with = |target: LifecycleState, last: DataSourceEvent| {
        let mut events = up_to(target);
        events.push(last);
        events
    };
    match state {
        S::Unregistered => Vec::new(),
        S::Failed => with(S::Configuring, connection_failed()),
        S::ScanFailed => with(S::Scanning, scan_failed()),
        S::Archived => with(S::Cataloged, archived()),
        on_main_line => up_to(on_main_line),
    }
}
