//! Every scan command's happy path, and the status × command table.

use super::*;
use crate::{Rejection, RejectionKind};
use ScanCommand as C;
use ScanStatus as S;
use ScanStrategy::*;

#[test]
fn a_scan_starts_with_its_strategy_and_scope() {
    let state = given(vec![]).when(start(Auto)).then(vec![started(Auto)]);
    assert_eq!(state.status, S::Running);
    assert_eq!(state.id, Some(scan_id()));
    assert_eq!(state.source_id, Some(source_id()));
    assert_eq!(state.strategy, Some(Auto));
    assert_eq!(
        state.current_strategy,
        Some(Balanced),
        "auto starts balanced"
    );
    assert_eq!(state.scope, scope());

    let state = given(vec![])
        .when(start(Conservative))
        .then(vec![started(Conservative)]);
    assert_eq!(state.current_strategy, Some(Conservative));
}

#[test]
fn progress_is_recorded_while_running() {
    let state = given(vec![started(Auto)])
        .when(C::RecordProgress {
            assets_done: 10,
            assets_total: Some(48),
            current_strategy: Aggressive,
        })
        .then(vec![progressed(10, Some(48), Aggressive)]);
    assert_eq!(state.status, S::Running);
    assert_eq!(
        (
            state.assets_done,
            state.assets_total,
            state.current_strategy
        ),
        (10, Some(48), Some(Aggressive))
    );
    assert_eq!(state.version, 2);
}

#[test]
fn repeating_the_last_progress_records_nothing() {
    given(history_to(S::Running))
        .when(C::RecordProgress {
            assets_done: 10,
            assets_total: Some(48),
            current_strategy: Balanced,
        })
        .then_nothing();
    // Nothing reported yet looks like the start itself.
    given(vec![started(Auto)])
        .when(C::RecordProgress {
            assets_done: 0,
            assets_total: None,
            current_strategy: Balanced,
        })
        .then_nothing();
    // Any difference is progress.
    given(history_to(S::Running))
        .when(C::RecordProgress {
            assets_done: 10,
            assets_total: Some(49),
            current_strategy: Balanced,
        })
        .then(vec![progressed(10, Some(49), Balanced)]);
}

#[test]
fn only_auto_moves_between_strategies() {
    given(vec![started(Conservative)])
        .when(C::RecordProgress {
            assets_done: 1,
            assets_total: None,
            current_strategy: Conservative,
        })
        .then(vec![progressed(1, None, Conservative)]);
    let when = given(vec![started(Conservative)]).when(C::RecordProgress {
        assets_done: 1,
        assets_total: None,
        current_strategy: Aggressive,
    });
    assert_eq!(
        when.result().as_ref().unwrap_err().kind(),
        RejectionKind::Invalid
    );
    when.then_error(ScanError::StrategyNotAllowed {
        started: Conservative,
        current: Aggressive,
    });
    // `auto` is what a scan is asked to do, never what it runs with.
    given(vec![started(Auto)])
        .when(C::RecordProgress {
            assets_done: 1,
            assets_total: None,
            current_strategy: Auto,
        })
        .then_error(ScanError::StrategyNotAllowed {
            started: Auto,
            current: Auto,
        });
}

#[test]
fn a_running_scan_completes_with_its_metrics() {
    let state = given(history_to(S::Running))
        .when(C::Complete { metrics: metrics() })
        .then(vec![completed()]);
    assert_eq!(state.status, S::Completed);
    assert_eq!(state.metrics, Some(metrics()));
}

#[test]
fn a_running_scan_fails_with_a_reason_and_the_metrics_so_far() {
    let state = given(history_to(S::Running))
        .when(C::Fail {
            reason: "  permission denied for schema hr\n".into(),
            metrics: metrics(),
        })
        .then(vec![failed()]);
    assert_eq!(state.status, S::Failed);
    assert_eq!(
        state.failure_reason.as_deref(),
        Some("permission denied for schema hr")
    );

    given(history_to(S::Running))
        .when(C::Fail {
            reason: " ".into(),
            metrics: metrics(),
        })
        .then_error(ScanError::MissingReason);

    let long = "x".repeat(5000);
    let when = given(history_to(S::Running)).when(C::Fail {
        reason: long,
        metrics: metrics(),
    });
    let Ok(events) = when.result() else {
        panic!("refused")
    };
    let [ScanEvent::ScanFailed(failed)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(failed.reason.chars().count(), 2000);
}

#[test]
fn a_scope_with_too_many_patterns_is_refused() {
    let patterns: Vec<String> = (0..65).map(|i| format!("db.t{i}")).collect();
    let scope = ScanScope {
        include: patterns
            .iter()
            .map(|p| ScopePattern::parse(p).unwrap())
            .collect(),
        exclude: Vec::new(),
    };
    let when = given(vec![]).when(C::Start {
        scan_id: scan_id(),
        source_id: source_id(),
        strategy: Auto,
        scope,
    });
    assert_eq!(
        when.result().as_ref().unwrap_err().kind(),
        RejectionKind::Invalid
    );
    when.then_error(ScanError::InvalidScope(ScopeError::TooManyPatterns {
        list: "include",
        max: 64,
        got: 65,
    }));
}

fn sample_commands() -> Vec<ScanCommand> {
    vec![
        start(Balanced),
        C::RecordProgress {
            assets_done: 20,
            assets_total: Some(48),
            current_strategy: Balanced,
        },
        C::Complete { metrics: metrics() },
        C::Fail {
            reason: "connection reset".into(),
            metrics: metrics(),
        },
    ]
}

/// The moves of the decider's table; everything else is an invalid transition.
fn allowed(command: &ScanCommand, status: ScanStatus) -> bool {
    matches!(
        (command, status),
        (C::Start { .. }, S::NotStarted)
            | (C::RecordProgress { .. }, S::Running)
            | (C::Complete { .. }, S::Running)
            | (C::Fail { .. }, S::Running)
    )
}

#[test]
fn every_command_outside_its_states_is_an_invalid_transition() {
    for status in ScanStatus::ALL {
        for command in sample_commands() {
            let when = given(history_to(*status)).when(command.clone());
            if allowed(&command, *status) {
                assert!(
                    when.result().is_ok(),
                    "{} refused while {status}",
                    command.name()
                );
                continue;
            }
            let error = when.result().clone().unwrap_err();
            let expected_kind = if *status == S::NotStarted {
                RejectionKind::NotFound
            } else {
                RejectionKind::Refused
            };
            assert_eq!(error.kind(), expected_kind, "{error}");
            assert_eq!(
                error.to_string(),
                format!(
                    "command {} is not allowed while the scan is {status}",
                    command.name()
                )
            );
            when.then_error(ScanError::InvalidTransition {
                command: command.name(),
                state: *status,
            });
        }
    }
}

#[test]
fn a_finished_scan_is_not_restarted() {
    for status in [S::Completed, S::Failed] {
        assert!(status.is_finished());
        given(history_to(status))
            .when(start(Auto))
            .then_error(ScanError::InvalidTransition {
                command: "Start",
                state: status,
            });
    }
}
