//! Health: the window's figures, the assessment's status and recommendations, and the decider's
//! rule that only a meaningful change of health is recorded.

use super::*;
use DataSourceCommand as C;
use LifecycleState as S;

const MS: u64 = 1_000;

fn ok(latency_us: u64) -> ProbeOutcome {
    ProbeOutcome::Ok { latency_us }
}

fn failed(category: FailureCategory) -> ProbeOutcome {
    ProbeOutcome::Failed {
        category,
        message: "connection refused (os error 111)".into(),
    }
}

fn window_of(outcomes: impl IntoIterator<Item = ProbeOutcome>) -> HealthWindow {
    let mut window = HealthWindow::default();
    for outcome in outcomes {
        window.record(outcome);
    }
    window
}

fn assess_with(
    window: &HealthWindow,
    config: &DataSourceConfig,
    figures: &ServerFigures,
) -> HealthAssessment {
    assess(window, config, figures, &HealthThresholds::default()).expect("a non-empty window")
}

fn assess_default(window: &HealthWindow) -> HealthAssessment {
    assess_with(window, &config(), &ServerFigures::default())
}

fn codes(assessment: &HealthAssessment) -> Vec<(RecommendationCode, Severity)> {
    assessment
        .recommendations
        .iter()
        .map(|r| (r.code, r.severity))
        .collect()
}

fn connections(active: u64, max: u64) -> ServerFigures {
    ServerFigures {
        active_connections: Some(active),
        max_connections: Some(max),
        ..ServerFigures::default()
    }
}

// ---- the window -----------------------------------------------------------------------------

#[test]
fn percentiles_are_nearest_rank_over_the_successful_probes_only() {
    let mut outcomes: Vec<ProbeOutcome> = (1..=19).map(|ms| ok(ms * MS)).collect();
    outcomes.insert(7, failed(FailureCategory::Timeout));
    let window = window_of(outcomes);
    assert_eq!(window.len(), 20);
    // 19 latencies: rank ceil(0.5 × 19) = 10, rank ceil(0.95 × 19) = 19.
    assert_eq!(window.latency_percentile_us(50), Some(10 * MS));
    assert_eq!(window.latency_percentile_us(95), Some(19 * MS));
    assert_eq!(window.latency_percentile_us(0), Some(MS));
    assert_eq!(window_of([ok(700)]).latency_percentile_us(95), Some(700));
    assert_eq!(
        window_of([failed(FailureCategory::Auth)]).latency_percentile_us(50),
        None
    );
}

#[test]
fn the_window_keeps_only_the_most_recent_outcomes() {
    let mut window = HealthWindow::new(3);
    for outcome in [failed(FailureCategory::Unreachable), ok(1), ok(2), ok(3)] {
        window.record(outcome);
    }
    assert_eq!(window.len(), 3);
    assert_eq!(window.failures(), 0, "the failure was the oldest and left");
    assert_eq!(
        window.outcomes().cloned().collect::<Vec<_>>(),
        [ok(1), ok(2), ok(3)]
    );
    assert_eq!(HealthWindow::new(0).capacity(), 1);
}

#[test]
fn nothing_measured_is_no_assessment() {
    let thresholds = HealthThresholds::default();
    assert_eq!(
        assess(
            &HealthWindow::default(),
            &config(),
            &ServerFigures::default(),
            &thresholds
        ),
        None
    );
}

// ---- status and recommendations ---------------------------------------------------------------

#[test]
fn fast_answers_with_connections_to_spare_are_healthy() {
    let figures = ServerFigures {
        server_version: Some("16.3".into()),
        active_connections: Some(7),
        max_connections: Some(100),
        storage_bytes: Some(7_651_843),
        server_uptime_secs: Some(86_400),
    };
    let assessment = assess_with(&window_of([ok(400), ok(600), ok(500)]), &config(), &figures);
    assert_eq!(assessment.status, HealthStatus::Healthy);
    assert!(assessment.recommendations.is_empty(), "{assessment:?}");
    assert_eq!((assessment.samples, assessment.failures), (3, 0));
    assert_eq!(assessment.error_rate(), 0.0);
    assert_eq!(assessment.uptime(), 1.0);
    assert_eq!(assessment.latency_p50_us, Some(500));
    assert_eq!(assessment.latency_p95_us, Some(600));
    assert_eq!(assessment.active_connections, Some(7));
    assert_eq!(assessment.storage_bytes, Some(7_651_843));
    assert_eq!(assessment.server_version.as_deref(), Some("16.3"));
    assert_eq!(assessment.last_error, None);
}

#[test]
fn a_failed_latest_probe_is_unhealthy_with_advice_for_its_category() {
    let window = window_of([ok(500), ok(500), failed(FailureCategory::Unreachable)]);
    let assessment = assess_default(&window);
    assert_eq!(assessment.status, HealthStatus::Unhealthy);
    assert_eq!(
        codes(&assessment),
        [(RecommendationCode::ConnectionFailing, Severity::Critical)]
    );
    let message = &assessment.recommendations[0].message;
    assert!(
        message.contains("unreachable") && message.contains("firewall"),
        "{message}"
    );
    assert_eq!(
        assessment.last_error,
        Some(ProbeFailure {
            category: FailureCategory::Unreachable,
            message: "connection refused (os error 111)".into()
        })
    );
    assert_eq!((assessment.samples, assessment.failures), (3, 1));

    let auth = assess_default(&window_of([failed(FailureCategory::Auth)]));
    assert!(auth.recommendations[0].message.contains("password_secret"));
    assert_eq!(auth.latency_p50_us, None);
    assert_eq!(auth.uptime(), 0.0);
}

#[test]
fn intermittent_failures_degrade_and_half_failing_is_unhealthy() {
    let mut outcomes = vec![failed(FailureCategory::Timeout); 2];
    outcomes.extend(std::iter::repeat_n(ok(500), 18));
    let assessment = assess_default(&window_of(outcomes));
    assert_eq!(assessment.status, HealthStatus::Degraded);
    assert_eq!(
        codes(&assessment),
        [(RecommendationCode::HighErrorRate, Severity::Warning)]
    );
    assert!(assessment.recommendations[0]
        .message
        .starts_with("2 of the last 20 probes failed (10 %)"));

    // One failure in twenty is under the 10 % threshold: still healthy.
    let mut outcomes = vec![failed(FailureCategory::Timeout)];
    outcomes.extend(std::iter::repeat_n(ok(500), 19));
    assert_eq!(
        assess_default(&window_of(outcomes)).status,
        HealthStatus::Healthy
    );

    // Ten of twenty failed: unhealthy although the latest answered.
    let outcomes = (0..20).map(|i| {
        if i % 2 == 0 {
            failed(FailureCategory::Timeout)
        } else {
            ok(500)
        }
    });
    let assessment = assess_default(&window_of(outcomes));
    assert_eq!(assessment.status, HealthStatus::Unhealthy);
    assert_eq!(assessment.error_rate(), 0.5);
}

#[test]
fn failures_concentrated_in_the_newer_half_are_a_rising_error_rate() {
    let fail = || failed(FailureCategory::Timeout);
    let window = window_of([
        ok(1),
        ok(1),
        ok(1),
        ok(1),
        ok(1),
        ok(1),
        fail(),
        ok(1),
        fail(),
        ok(1),
    ]);
    let assessment = assess_default(&window);
    assert_eq!(assessment.status, HealthStatus::Degraded);
    assert_eq!(
        codes(&assessment),
        [
            (RecommendationCode::HighErrorRate, Severity::Warning),
            (RecommendationCode::RisingErrorRate, Severity::Warning)
        ]
    );
    assert!(
        assessment.recommendations[1]
            .message
            .contains("0 % of the older probes failed, 40 % of the newer"),
        "{}",
        assessment.recommendations[1].message
    );

    // The same failures in the older half are falling, not rising.
    let window = window_of([
        ok(1),
        fail(),
        ok(1),
        fail(),
        ok(1),
        ok(1),
        ok(1),
        ok(1),
        ok(1),
        ok(1),
    ]);
    assert_eq!(
        codes(&assess_default(&window)),
        [(RecommendationCode::HighErrorRate, Severity::Warning)]
    );
    // Too few probes to speak of a trend.
    let window = window_of([ok(1), ok(1), fail(), ok(1)]);
    assert!(window.error_trend(6).is_none());
    assert_eq!(
        codes(&assess_default(&window)),
        [(RecommendationCode::HighErrorRate, Severity::Warning)]
    );
}

#[test]
fn a_slow_p95_is_high_latency_and_a_very_slow_one_critical() {
    let slow = window_of([ok(20 * MS), ok(30 * MS), ok(300 * MS)]);
    let assessment = assess_default(&slow);
    assert_eq!(assessment.status, HealthStatus::Degraded);
    assert_eq!(
        codes(&assessment),
        [(RecommendationCode::HighLatency, Severity::Warning)]
    );
    assert!(assessment.recommendations[0]
        .message
        .contains("300.0 ms (threshold 250.0 ms)"));
    let very_slow = window_of([ok(1_500 * MS)]);
    assert_eq!(
        codes(&assess_default(&very_slow)),
        [(RecommendationCode::HighLatency, Severity::Critical)]
    );
    let thresholds = HealthThresholds {
        high_latency_us: 10 * MS,
        ..HealthThresholds::default()
    };
    let tuned = assess(
        &window_of([ok(20 * MS)]),
        &config(),
        &ServerFigures::default(),
        &thresholds,
    )
    .unwrap();
    assert_eq!(tuned.status, HealthStatus::Degraded);
}

#[test]
fn plain_text_to_a_cloud_or_hybrid_source_is_flagged_without_changing_the_status() {
    let with = |location: &str, mode: Option<&str>| {
        config_with(DataSourceConfigInput {
            location: Some(location.into()),
            cloud_provider: (location != "on_prem").then(|| "aws".into()),
            ssl_config: mode.map(|mode| SslConfigInput {
                mode: Some(mode.into()),
                ..Default::default()
            }),
            ..Default::default()
        })
    };
    let window = window_of([ok(500)]);
    for location in ["cloud", "hybrid"] {
        let assessment = assess_with(
            &window,
            &with(location, Some("disable")),
            &ServerFigures::default(),
        );
        assert_eq!(
            codes(&assessment),
            [(RecommendationCode::TlsDisabled, Severity::Critical)],
            "{location}"
        );
        assert!(assessment.recommendations[0].message.contains(location));
        assert_eq!(assessment.status, HealthStatus::Healthy);
    }
    for (location, mode) in [
        ("on_prem", Some("disable")),
        ("cloud", None),
        ("cloud", Some("require")),
    ] {
        let assessment = assess_with(&window, &with(location, mode), &ServerFigures::default());
        assert!(
            assessment.recommendations.is_empty(),
            "{location} {mode:?}: {assessment:?}"
        );
    }
}

#[test]
fn nearly_all_server_connections_in_use_is_a_saturated_pool() {
    let window = window_of([ok(500)]);
    let assessment = assess_with(&window, &config(), &connections(85, 100));
    assert_eq!(assessment.status, HealthStatus::Degraded);
    assert_eq!(
        codes(&assessment),
        [(RecommendationCode::PoolSaturated, Severity::Warning)]
    );
    let message = &assessment.recommendations[0].message;
    assert!(
        message.contains("85 of the server's 100 connections") && message.contains("up to 15 more"),
        "{message}"
    );
    assert_eq!(
        codes(&assess_with(&window, &config(), &connections(96, 100))),
        [(RecommendationCode::PoolSaturated, Severity::Critical)]
    );
    for figures in [
        connections(50, 100),
        connections(0, 0),
        ServerFigures::default(),
    ] {
        assert!(assess_with(&window, &config(), &figures)
            .recommendations
            .is_empty());
    }
}

#[test]
fn recommendations_come_most_severe_first() {
    let config = config_with(DataSourceConfigInput {
        location: Some("cloud".into()),
        cloud_provider: Some("gcp".into()),
        ssl_config: Some(SslConfigInput {
            mode: Some("disable".into()),
            ..Default::default()
        }),
        ..Default::default()
    });
    let assessment = assess_with(&window_of([ok(400 * MS)]), &config, &connections(99, 100));
    assert_eq!(
        codes(&assessment),
        [
            (RecommendationCode::PoolSaturated, Severity::Critical),
            (RecommendationCode::TlsDisabled, Severity::Critical),
            (RecommendationCode::HighLatency, Severity::Warning),
        ]
    );
    assert_eq!(assessment.status, HealthStatus::Degraded);
}

// ---- what counts as a change ----------------------------------------------------------------

pub(super) fn healthy() -> HealthAssessment {
    assess_default(&window_of([ok(40 * MS), ok(50 * MS), ok(60 * MS)]))
}

fn with_p95(p95_us: Option<u64>) -> HealthAssessment {
    HealthAssessment {
        latency_p95_us: p95_us,
        ..healthy()
    }
}

#[test]
fn a_change_is_another_status_other_codes_or_a_large_p95_move() {
    let base = healthy();
    assert_eq!(base.latency_p95_us, Some(60 * MS));
    assert!(!base.differs_meaningfully(&base));
    assert!(
        !with_p95(Some(85 * MS)).differs_meaningfully(&base),
        "+42 %"
    );
    assert!(with_p95(Some(95 * MS)).differs_meaningfully(&base), "+58 %");
    assert!(with_p95(Some(25 * MS)).differs_meaningfully(&base), "-58 %");
    assert!(with_p95(None).differs_meaningfully(&base));
    // Sub-millisecond jitter is a large share but no news.
    assert!(!HealthAssessment {
        latency_p95_us: Some(900),
        ..healthy()
    }
    .differs_meaningfully(&HealthAssessment {
        latency_p95_us: Some(300),
        ..healthy()
    }));
    let degraded = HealthAssessment {
        status: HealthStatus::Degraded,
        ..healthy()
    };
    assert!(degraded.differs_meaningfully(&base));
    let advised = assess_with(
        &window_of([ok(40 * MS), ok(50 * MS), ok(60 * MS)]),
        &config(),
        &connections(90, 100),
    );
    assert_eq!(advised.status, HealthStatus::Degraded);
    assert!(
        advised.differs_meaningfully(&degraded),
        "same status, another code"
    );
    // Figures that are not part of the rule are not news on their own.
    let more_storage = HealthAssessment {
        storage_bytes: Some(1 << 30),
        samples: 20,
        ..healthy()
    };
    assert!(!more_storage.differs_meaningfully(&base));
}

fn assessed(assessment: HealthAssessment) -> DataSourceEvent {
    DataSourceEvent::HealthAssessed(HealthAssessed { assessment })
}

#[test]
fn the_first_assessment_is_recorded_without_moving_the_lifecycle() {
    let state = given(history_to(S::Connected))
        .when(C::RecordHealth {
            assessment: healthy(),
        })
        .then(vec![assessed(healthy())])
        .and_lifecycle(S::Connected);
    assert_eq!(state.health, Some(healthy()));
    // Health is observed in any state but Archived, a running scan included.
    given(history_to(S::Scanning))
        .when(C::RecordHealth {
            assessment: healthy(),
        })
        .then(vec![assessed(healthy())])
        .and_lifecycle(S::Scanning);
}

#[test]
fn an_unchanged_health_records_nothing() {
    let mut history = history_to(S::Monitoring);
    history.push(assessed(healthy()));
    given(history.clone())
        .when(C::RecordHealth {
            assessment: with_p95(Some(70 * MS)),
        })
        .then(vec![])
        .and_lifecycle(S::Monitoring);
    given(history)
        .when(C::RecordHealth {
            assessment: healthy(),
        })
        .then(vec![]);
}

#[test]
fn a_changed_health_is_recorded() {
    let mut history = history_to(S::Cataloged);
    history.push(assessed(healthy()));
    let down = assess_default(&window_of([ok(500), failed(FailureCategory::Unreachable)]));
    given(history.clone())
        .when(C::RecordHealth {
            assessment: down.clone(),
        })
        .then(vec![assessed(down.clone())]);
    let slower = with_p95(Some(200 * MS));
    given(history.clone())
        .when(C::RecordHealth {
            assessment: slower.clone(),
        })
        .then(vec![assessed(slower)]);
    // Compared with the last recorded assessment, not the first.
    history.push(assessed(down.clone()));
    given(history)
        .when(C::RecordHealth {
            assessment: healthy(),
        })
        .then(vec![assessed(healthy())]);
}

#[test]
fn an_archived_source_refuses_health() {
    given(history_to(S::Archived))
        .when(C::RecordHealth {
            assessment: healthy(),
        })
        .then_error(DataSourceError::InvalidTransition {
            command: "RecordHealth",
            state: S::Archived,
        });
}

#[test]
fn health_texts_are_bounded_and_inconsistent_counts_refused() {
    let mut noisy = assess_default(&window_of([failed(FailureCategory::Config)]));
    noisy.last_error.as_mut().unwrap().message = "é".repeat(5000);
    noisy.server_version = Some(format!("  {}  ", "v".repeat(300)));
    let when = given(history_to(S::Connected)).when(C::RecordHealth { assessment: noisy });
    let Ok(events) = when.result() else {
        panic!("refused")
    };
    let DataSourceEvent::HealthAssessed(recorded) = &events[0] else {
        panic!("{events:?}")
    };
    let recorded = &recorded.assessment;
    assert_eq!(
        recorded
            .last_error
            .as_ref()
            .unwrap()
            .message
            .chars()
            .count(),
        2000
    );
    assert_eq!(recorded.server_version.as_ref().unwrap().len(), 200);

    let error = |field: &str, message: &str| {
        DataSourceError::Validation(ValidationError::single(field, message))
    };
    given(history_to(S::Connected))
        .when(C::RecordHealth {
            assessment: HealthAssessment {
                samples: 0,
                failures: 0,
                ..healthy()
            },
        })
        .then_error(error("samples", "must be at least 1"));
    given(history_to(S::Connected))
        .when(C::RecordHealth {
            assessment: HealthAssessment {
                samples: 2,
                failures: 3,
                ..healthy()
            },
        })
        .then_error(error("failures", "cannot exceed samples (3 > 2)"));
}
