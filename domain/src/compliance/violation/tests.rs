//! Violation: detection (idempotent), resolution, risk acceptance and its expiry.

use super::*;
use crate::compliance::tests::fixtures::ev;
use crate::testing::{self, Given};
use chrono::TimeZone;

fn given(events: Vec<ViolationEvent>) -> Given<Violation> {
    testing::given(events)
}

fn tenant() -> TenantId {
    TenantId::parse("acme").unwrap()
}

fn subject() -> Subject {
    Subject::Column {
        source_id: Uuid::from_u128(1),
        asset_id: Uuid::from_u128(2),
        path: "shop.public.payments".into(),
        column: "cvv".into(),
    }
}

fn finding(severity: Severity) -> Finding {
    Finding {
        rule_id: "pci-dss-sad-stored".into(),
        rule_version: 1,
        framework: FrameworkId::PciDss,
        control: "PCI DSS v4.0 3.3.1".into(),
        severity,
        subject: subject(),
        facts: vec![CitedFact {
            fact: "label.status".into(),
            column: Some("cvv".into()),
            label: Some("CARD_SECURITY_CODE".into()),
            role: None,
            value: "applied".into(),
            evidence: ev(20),
        }],
        evidence: vec![ev(20)],
    }
}

fn id() -> AggregateId {
    violation_id(&tenant(), "pci-dss-sad-stored", &subject())
}

fn detected(severity: Severity) -> ViolationEvent {
    let f = finding(severity);
    ViolationEvent::ViolationDetected(ViolationDetected {
        violation_id: id(),
        rule_id: f.rule_id,
        rule_version: f.rule_version,
        framework: f.framework,
        control: f.control,
        severity: f.severity,
        subject: f.subject,
        facts: f.facts,
        evidence: f.evidence,
    })
}

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, 12, 0, 0).unwrap()
}

fn accepted(until: DateTime<Utc>) -> ViolationEvent {
    ViolationEvent::ViolationAccepted(ViolationAccepted {
        violation_id: id(),
        by: "officer@acme".into(),
        reason: "Legacy terminal, decommissioned in January".into(),
        expires_at: until,
    })
}

fn detect(severity: Severity) -> ViolationCommand {
    ViolationCommand::Detect {
        tenant: tenant(),
        finding: finding(severity),
    }
}

#[test]
fn a_detection_opens_the_violation_and_the_same_finding_again_records_nothing() {
    let state = given(vec![])
        .when(detect(Severity::Critical))
        .then(vec![detected(Severity::Critical)]);
    assert_eq!(state.status, Some(ViolationStatus::Open));
    given(vec![detected(Severity::Critical)])
        .when(detect(Severity::Critical))
        .then_nothing();
    // A changed finding (here the tuned severity) is recorded again.
    given(vec![detected(Severity::Critical)])
        .when(detect(Severity::High))
        .then(vec![detected(Severity::High)]);
}

#[test]
fn resolving_cites_the_change_and_a_later_detection_reopens() {
    let resolved = ViolationEvent::ViolationResolved(ViolationResolved {
        violation_id: id(),
        change: "label.status".into(),
        evidence: vec![ev(25)],
    });
    let state = given(vec![detected(Severity::Critical)])
        .when(ViolationCommand::Resolve {
            change: "label.status".into(),
            evidence: vec![ev(25)],
        })
        .then(vec![resolved.clone()]);
    assert_eq!(state.status, Some(ViolationStatus::Resolved));
    given(vec![detected(Severity::Critical), resolved.clone()])
        .when(ViolationCommand::Resolve {
            change: "label.status".into(),
            evidence: vec![ev(25)],
        })
        .then_nothing();
    let state = given(vec![detected(Severity::Critical), resolved])
        .when(detect(Severity::Critical))
        .then(vec![detected(Severity::Critical)]);
    assert_eq!(state.status, Some(ViolationStatus::Open));
    given(vec![])
        .when(ViolationCommand::Resolve {
            change: "label.status".into(),
            evidence: vec![],
        })
        .then_error(ViolationError::NotFound);
}

#[test]
fn an_accepted_risk_stays_accepted_until_it_expires_and_then_reopens() {
    let accept = |until, now| ViolationCommand::Accept {
        by: "officer@acme".into(),
        reason: "Legacy terminal, decommissioned in January".into(),
        expires_at: until,
        now,
    };
    let state = given(vec![detected(Severity::Critical)])
        .when(accept(at(31), at(6)))
        .then(vec![accepted(at(31))]);
    assert_eq!(
        state.status,
        Some(ViolationStatus::Accepted { expires_at: at(31) })
    );
    let history = vec![detected(Severity::Critical), accepted(at(31))];
    // Re-evaluation while accepted changes nothing.
    given(history.clone())
        .when(detect(Severity::Critical))
        .then_nothing();
    given(history.clone())
        .when(ViolationCommand::ExpireAcceptance { now: at(30) })
        .then_nothing();
    let state = given(history)
        .when(ViolationCommand::ExpireAcceptance { now: at(31) })
        .then(vec![ViolationEvent::AcceptanceExpired(AcceptanceExpired {
            violation_id: id(),
            expired_at: at(31),
        })]);
    assert_eq!(state.status, Some(ViolationStatus::Open));
}

#[test]
fn acceptance_needs_a_reason_a_future_bounded_expiry_and_an_unresolved_violation() {
    let accept = |reason: &str, until, now| ViolationCommand::Accept {
        by: "officer@acme".into(),
        reason: reason.into(),
        expires_at: until,
        now,
    };
    let open = vec![detected(Severity::Critical)];
    given(open.clone())
        .when(accept(" ", at(31), at(6)))
        .then_error(ViolationError::Invalid {
            field: "reason",
            message: "must be 1 to 2000 characters without control characters".into(),
        });
    given(open.clone())
        .when(accept("ok", at(6), at(6)))
        .then_error(ViolationError::Invalid {
            field: "expires_at",
            message: "must be in the future".into(),
        });
    let Err(ViolationError::Invalid { field, .. }) = Violation::decide(
        &Violation::replay(&open),
        &accept("ok", at(6) + chrono::Duration::days(400), at(6)),
    ) else {
        panic!("a 400-day acceptance was allowed");
    };
    assert_eq!(field, "expires_at");
    let resolved = ViolationEvent::ViolationResolved(ViolationResolved {
        violation_id: id(),
        change: "label.status".into(),
        evidence: vec![],
    });
    given(vec![detected(Severity::Critical), resolved])
        .when(accept("ok", at(31), at(6)))
        .then_error(ViolationError::Resolved);
    given(vec![])
        .when(accept("ok", at(31), at(6)))
        .then_error(ViolationError::NotFound);
}

#[test]
fn violation_ids_are_derived_from_tenant_rule_and_subject() {
    let base = id();
    assert_eq!(
        base,
        violation_id(&tenant(), "pci-dss-sad-stored", &subject())
    );
    assert_eq!(base.as_uuid().get_version_num(), 8);
    let cvc = Subject::Column {
        source_id: Uuid::from_u128(1),
        asset_id: Uuid::from_u128(2),
        path: "shop.public.payments".into(),
        column: "cvc".into(),
    };
    let others = [
        violation_id(
            &TenantId::parse("globex").unwrap(),
            "pci-dss-sad-stored",
            &subject(),
        ),
        violation_id(&tenant(), "pci-dss-pan-unprotected", &subject()),
        violation_id(&tenant(), "pci-dss-sad-stored", &cvc),
        violation_id(
            &tenant(),
            "pci-dss-sad-stored",
            &Subject::Source {
                source_id: Uuid::from_u128(1),
            },
        ),
    ];
    for other in others {
        assert_ne!(base, other);
    }
    // A detection addressed to another violation's aggregate is refused.
    let mut wrong = finding(Severity::Critical);
    wrong.subject = cvc;
    given(vec![detected(Severity::Critical)])
        .when(ViolationCommand::Detect {
            tenant: tenant(),
            finding: wrong,
        })
        .then_error(ViolationError::WrongAggregate {
            expected: others[2],
            actual: base,
        });
}

#[test]
fn violation_events_round_trip_through_their_stored_form() {
    use crate::aggregate::DomainEvent;
    for event in [
        detected(Severity::Critical),
        ViolationEvent::ViolationResolved(ViolationResolved {
            violation_id: id(),
            change: "source.tls_mode".into(),
            evidence: vec![ev(30)],
        }),
        accepted(at(31)),
        ViolationEvent::AcceptanceExpired(AcceptanceExpired {
            violation_id: id(),
            expired_at: at(31),
        }),
    ] {
        let data = event.to_data();
        let back = ViolationEvent::from_stored(event.event_type(), event.version(), &data).unwrap();
        assert_eq!(back, event);
    }
    let data = detected(Severity::Critical).to_data();
    assert_eq!(data["framework"], "pci-dss");
    assert_eq!(data["subject"]["level"], "column");
    assert_eq!(data["evidence"][0]["sequence"], 20);
    assert_eq!(data["evidence"][0]["hash"], "h20");
}
