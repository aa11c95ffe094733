//! CompliancePolicy: frameworks on and off, tuning, custom rules defined, redefined, refused and
//! retired.

use super::*;
use crate::compliance::rules::SubjectLevel;
use crate::testing::{self, Given};

fn given(events: Vec<CompliancePolicyEvent>) -> Given<CompliancePolicy> {
    testing::given(events)
}

fn custom(condition: &str) -> RuleDefinition {
    RuleDefinition {
        id: "acme-no-orphan-tables".into(),
        version: 0,
        title: "Tables need an owner".into(),
        framework: FrameworkId::Soc2,
        control: "SOC 2 CC6.1".into(),
        severity: Severity::Low,
        remediation: "Set an owner.".into(),
        subject: SubjectLevel::Asset,
        condition: condition.into(),
    }
}

fn defined(version: u32) -> CompliancePolicyEvent {
    CompliancePolicyEvent::CustomRuleDefined(CustomRuleDefined {
        rule: RuleDefinition {
            version,
            ..custom("not exists(asset.owner)")
        },
    })
}

#[test]
fn frameworks_are_enabled_until_disabled_and_toggling_twice_records_once() {
    use CompliancePolicyCommand as C;
    let disabled = CompliancePolicyEvent::FrameworkDisabled(FrameworkDisabled {
        framework: FrameworkId::Hipaa,
    });
    given(vec![])
        .when(C::EnableFramework {
            framework: FrameworkId::Hipaa,
        })
        .then_nothing();
    let state = given(vec![])
        .when(C::DisableFramework {
            framework: FrameworkId::Hipaa,
        })
        .then(vec![disabled.clone()]);
    let (rules, _) = state.active_rules();
    assert!(rules
        .iter()
        .all(|r| r.rule.definition.framework != FrameworkId::Hipaa));
    given(vec![disabled.clone()])
        .when(C::DisableFramework {
            framework: FrameworkId::Hipaa,
        })
        .then_nothing();
    let state = given(vec![disabled])
        .when(C::EnableFramework {
            framework: FrameworkId::Hipaa,
        })
        .then(vec![CompliancePolicyEvent::FrameworkEnabled(
            FrameworkEnabled {
                framework: FrameworkId::Hipaa,
            },
        )]);
    assert!(state.enabled(FrameworkId::Hipaa));
}

#[test]
fn a_tuned_rule_runs_with_its_new_severity_or_not_at_all() {
    use CompliancePolicyCommand as C;
    let tune = |severity, enabled| C::TuneRule {
        rule_id: "gdpr-personal-data-in-non-production".into(),
        severity,
        enabled,
    };
    let state = given(vec![])
        .when(tune(Some(Severity::High), true))
        .then(vec![CompliancePolicyEvent::RuleTuned(RuleTuned {
            rule_id: "gdpr-personal-data-in-non-production".into(),
            severity: Some(Severity::High),
            enabled: true,
        })]);
    let (rules, _) = state.active_rules();
    let tuned = rules
        .iter()
        .find(|r| r.rule.definition.id == "gdpr-personal-data-in-non-production")
        .unwrap();
    assert_eq!(tuned.severity, Severity::High);
    given(vec![]).when(tune(None, true)).then_nothing();
    let state = given(vec![])
        .when(tune(None, false))
        .then(vec![CompliancePolicyEvent::RuleTuned(RuleTuned {
            rule_id: "gdpr-personal-data-in-non-production".into(),
            severity: None,
            enabled: false,
        })]);
    assert!(!state
        .active_rules()
        .0
        .iter()
        .any(|r| r.rule.definition.id == "gdpr-personal-data-in-non-production"));
    given(vec![])
        .when(C::TuneRule {
            rule_id: "no-such-rule".into(),
            severity: None,
            enabled: false,
        })
        .then_error(CompliancePolicyError::UnknownRule("no-such-rule".into()));
}

#[test]
fn custom_rules_are_numbered_and_a_redefinition_gets_the_next_version() {
    use CompliancePolicyCommand as C;
    let state = given(vec![])
        .when(C::DefineCustomRule {
            definition: custom("not exists(asset.owner)"),
        })
        .then(vec![defined(1)]);
    assert!(state
        .active_rules()
        .0
        .iter()
        .any(|r| r.rule.definition.id == "acme-no-orphan-tables"));
    given(vec![defined(1)])
        .when(C::DefineCustomRule {
            definition: custom("not exists(asset.owner)"),
        })
        .then_nothing();
    given(vec![defined(1)])
        .when(C::DefineCustomRule {
            definition: custom("not exists(asset.owner) or not exists(asset.description)"),
        })
        .then(vec![CompliancePolicyEvent::CustomRuleDefined(
            CustomRuleDefined {
                rule: RuleDefinition {
                    version: 2,
                    ..custom("not exists(asset.owner) or not exists(asset.description)")
                },
            },
        )]);
    let retired = CompliancePolicyEvent::CustomRuleRetired(CustomRuleRetired {
        rule_id: "acme-no-orphan-tables".into(),
        version: 1,
    });
    let state = given(vec![defined(1)])
        .when(C::RetireCustomRule {
            rule_id: "acme-no-orphan-tables".into(),
        })
        .then(vec![retired.clone()]);
    assert!(state.custom.is_empty());
    given(vec![defined(1), retired.clone()])
        .when(C::RetireCustomRule {
            rule_id: "acme-no-orphan-tables".into(),
        })
        .then_error(CompliancePolicyError::UnknownRule(
            "acme-no-orphan-tables".into(),
        ));
    // Defined again after retirement: version 2, not 1 again.
    given(vec![defined(1), retired])
        .when(C::DefineCustomRule {
            definition: custom("not exists(asset.owner)"),
        })
        .then(vec![defined(2)]);
}

#[test]
fn a_custom_rule_that_does_not_check_is_refused_with_the_reason_and_nothing_recorded() {
    use CompliancePolicyCommand as C;
    let when = given(vec![]).when(C::DefineCustomRule {
        definition: custom("not exists(asset.ownr)"),
    });
    let Err(CompliancePolicyError::Validation(e)) = when.result() else {
        panic!("accepted: {:?}", when.result());
    };
    assert_eq!(
        e.message_for("condition"),
        Some(
            "at character 12: unknown fact `asset.ownr`; known: asset.path, asset.kind, \
             asset.tags, asset.owner, asset.description, asset.row_estimate"
        )
    );
    let bad_fields = given(vec![]).when(C::DefineCustomRule {
        definition: RuleDefinition {
            title: " ".into(),
            ..custom("label.type == \"PASSWORD\"")
        },
    });
    let Err(CompliancePolicyError::Validation(e)) = bad_fields.result() else {
        panic!("accepted");
    };
    assert_eq!(e.fields().collect::<Vec<_>>(), ["title", "condition"]);
    given(vec![])
        .when(C::DefineCustomRule {
            definition: RuleDefinition {
                id: "pci-dss-sad-stored".into(),
                ..custom("true")
            },
        })
        .then_error(CompliancePolicyError::ReservedRuleId(
            "pci-dss-sad-stored".into(),
        ));
    given(vec![])
        .when(C::DefineCustomRule {
            definition: RuleDefinition {
                id: "gdpr-my-rule".into(),
                ..custom("true")
            },
        })
        .then_error(CompliancePolicyError::ReservedRuleId("gdpr-my-rule".into()));
}

#[test]
fn policy_ids_are_per_tenant_and_stable() {
    let acme = TenantId::parse("acme").unwrap();
    assert_eq!(policy_id(&acme), policy_id(&acme));
    assert_ne!(
        policy_id(&acme),
        policy_id(&TenantId::parse("globex").unwrap())
    );
    assert_eq!(policy_id(&acme).as_uuid().get_version_num(), 8);
}

#[test]
fn policy_events_round_trip_through_their_stored_form() {
    use crate::aggregate::DomainEvent;
    for event in [
        CompliancePolicyEvent::FrameworkEnabled(FrameworkEnabled {
            framework: FrameworkId::PciDss,
        }),
        CompliancePolicyEvent::FrameworkDisabled(FrameworkDisabled {
            framework: FrameworkId::Soc2,
        }),
        CompliancePolicyEvent::RuleTuned(RuleTuned {
            rule_id: "pci-dss-sad-stored".into(),
            severity: Some(Severity::Medium),
            enabled: true,
        }),
        defined(3),
        CompliancePolicyEvent::CustomRuleRetired(CustomRuleRetired {
            rule_id: "acme-no-orphan-tables".into(),
            version: 3,
        }),
    ] {
        let data = event.to_data();
        let back =
            CompliancePolicyEvent::from_stored(event.event_type(), event.version(), &data).unwrap();
        assert_eq!(back, event);
    }
    let data = defined(1).to_data();
    assert_eq!(data["rule"]["framework"], "soc2");
    assert_eq!(data["rule"]["subject"], "asset");
}

#[test]
fn a_policy_state_survives_a_snapshot() {
    use CompliancePolicyCommand as C;
    let mut state = CompliancePolicyState::default();
    for command in [
        C::DisableFramework {
            framework: FrameworkId::Hipaa,
        },
        C::TuneRule {
            rule_id: "pci-dss-sad-stored".into(),
            severity: Some(Severity::High),
            enabled: false,
        },
        C::DefineCustomRule {
            definition: custom("not exists(asset.owner)"),
        },
    ] {
        for event in CompliancePolicy::decide(&state, &command).unwrap() {
            state = CompliancePolicy::evolve(state, &event);
        }
    }
    let stored = serde_json::to_value(&state).unwrap();
    let back: CompliancePolicyState = serde_json::from_value(stored).unwrap();
    assert_eq!(back, state);
    assert_eq!(back.version, 3);
}
