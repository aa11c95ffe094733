//! Scan rule sets: creation, versioned updates, archiving and validation of definitions.

use super::*;
use crate::testing::{self, Given};

fn given(events: Vec<ScanRuleSetEvent>) -> Given<ScanRuleSet> {
    testing::given(events)
}

fn id() -> AggregateId {
    AggregateId::parse("0192f0c4-5555-7000-8000-000000000001").unwrap()
}

fn employee_ids() -> CustomRule {
    CustomRule {
        label: "EMPLOYEE_ID".into(),
        name_pattern: Some("(?i)^(emp|employee)_?(id|no)$".into()),
        value_pattern: Some("E[0-9]{6}".into()),
        validator: None,
        min_match_ratio: 0.6,
    }
}

fn definition() -> RuleSetDefinition {
    RuleSetDefinition {
        custom_rules: vec![employee_ids()],
        ..RuleSetDefinition::defaults("HR")
    }
}

fn created() -> ScanRuleSetEvent {
    ScanRuleSetEvent::ScanRuleSetCreated(ScanRuleSetCreated {
        rule_set_id: id(),
        definition: definition(),
    })
}

#[test]
fn a_rule_set_is_created_at_version_1_and_each_change_adds_a_version() {
    let state = given(vec![])
        .when(ScanRuleSetCommand::Create {
            id: id(),
            definition: definition(),
        })
        .then(vec![created()]);
    assert_eq!(state.rule_set_version, 1);
    let stricter = RuleSetDefinition {
        threshold: 0.9,
        ..definition()
    };
    let state = given(vec![created()])
        .when(ScanRuleSetCommand::Update {
            definition: stricter.clone(),
        })
        .then(vec![ScanRuleSetEvent::ScanRuleSetUpdated(
            ScanRuleSetUpdated {
                rule_set_id: id(),
                version: 2,
                definition: stricter,
            },
        )]);
    assert_eq!(state.rule_set_version, 2);
    assert_eq!(state.definition.unwrap().settings().threshold, 0.9);
    given(vec![created()])
        .when(ScanRuleSetCommand::Update {
            definition: definition(),
        })
        .then_nothing();
}

#[test]
fn archived_rule_sets_cannot_change() {
    let archived = ScanRuleSetEvent::ScanRuleSetArchived(ScanRuleSetArchived { rule_set_id: id() });
    given(vec![created()])
        .when(ScanRuleSetCommand::Archive)
        .then(vec![archived.clone()]);
    given(vec![created(), archived])
        .when(ScanRuleSetCommand::Update {
            definition: definition(),
        })
        .then_error(ScanRuleSetError::Archived);
    given(vec![])
        .when(ScanRuleSetCommand::Archive)
        .then_error(ScanRuleSetError::NotFound);
}

#[test]
fn every_problem_of_a_definition_names_its_field() {
    let broken = RuleSetDefinition {
        name: " ".into(),
        sample_size: 0,
        threshold: 0.4,
        floor: 0.6,
        enabled_types: Some(vec![]),
        custom_rules: vec![
            CustomRule {
                label: "EMAIL_ADDRESS".into(),
                name_pattern: Some("(unclosed".into()),
                ..employee_ids()
            },
            CustomRule {
                name_pattern: None,
                value_pattern: None,
                validator: Some("no-such-check".into()),
                min_match_ratio: 0.0,
                ..employee_ids()
            },
        ],
        ..definition()
    };
    let Err(ValidationError { errors }) = broken.validate() else {
        panic!("accepted");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "name",
            "sample_size",
            "floor",
            "enabled_types",
            "custom_rules[0].label",
            "custom_rules[0].name_pattern",
            "custom_rules[1].name_pattern",
            "custom_rules[1].validator",
            "custom_rules[1].min_match_ratio",
        ]
    );
    given(vec![])
        .when(ScanRuleSetCommand::Create {
            id: id(),
            definition: broken,
        })
        .then_error(ScanRuleSetError::Validation(ValidationError { errors }));
}

#[test]
fn control_characters_and_oversized_text_in_a_definition_are_refused_before_any_event() {
    let hostile = RuleSetDefinition {
        name: "PII\0rules".into(),
        description: Some("x".repeat(16_385)),
        custom_rules: vec![CustomRule {
            label: "EMPLOYEE\nID".into(),
            value_pattern: Some("^E\u{0}\\d+$".into()),
            ..employee_ids()
        }],
        ..definition()
    };
    let Err(ValidationError { errors }) = hostile.validate() else {
        panic!("accepted");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "name",
            "description",
            "custom_rules[0].label",
            "custom_rules[0].value_pattern"
        ]
    );
    assert!(
        errors[0].message.contains("U+0000"),
        "{}",
        errors[0].message
    );
    given(vec![])
        .when(ScanRuleSetCommand::Create {
            id: id(),
            definition: hostile,
        })
        .then_error(ScanRuleSetError::Validation(ValidationError { errors }));
    // A description on several lines is prose, and fine.
    let prose = given(vec![]).when(ScanRuleSetCommand::Create {
        id: id(),
        definition: RuleSetDefinition {
            description: Some("Finds employee ids.\n\tSee HR-12.".into()),
            ..definition()
        },
    });
    assert!(prose.result().is_ok());
}

#[test]
fn events_round_trip_through_their_stored_form() {
    let updated = ScanRuleSetEvent::ScanRuleSetUpdated(ScanRuleSetUpdated {
        rule_set_id: id(),
        version: 2,
        definition: definition(),
    });
    let archived = ScanRuleSetEvent::ScanRuleSetArchived(ScanRuleSetArchived { rule_set_id: id() });
    for event in [created(), updated, archived] {
        let decoded =
            ScanRuleSetEvent::from_stored(event.event_type(), 1, &event.to_data()).unwrap();
        assert_eq!(decoded, event);
    }
    assert_eq!(
        created().to_data()["definition"]["custom_rules"][0]["label"],
        "EMPLOYEE_ID"
    );
}

#[test]
fn the_statistics_change_threshold_is_a_fraction_read_as_the_service_setting_when_unset() {
    use crate::discovery::StatisticsThreshold;
    let service = StatisticsThreshold::from_percent(25.0).unwrap();
    assert_eq!(definition().statistics_threshold(service), service);
    let fine = RuleSetDefinition {
        statistics_change: Some(0.01),
        ..definition()
    };
    assert!(fine.validate().is_ok());
    assert_eq!(fine.statistics_threshold(service).fraction(), 0.01);
    for bad in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
        let refused = RuleSetDefinition {
            statistics_change: Some(bad),
            ..definition()
        };
        let Err(ValidationError { errors }) = refused.validate() else {
            panic!("accepted {bad}");
        };
        assert_eq!(errors[0].field, "statistics_change");
        given(vec![created()])
            .when(ScanRuleSetCommand::Update {
                definition: refused,
            })
            .then_error(ScanRuleSetError::Validation(ValidationError { errors }));
    }
    // Recorded before the field existed: no field, read as unset; unset is not written.
    let mut old = created().to_data();
    assert!(old["definition"].get("statistics_change").is_none());
    old["definition"]
        .as_object_mut()
        .unwrap()
        .remove("statistics_change");
    let ScanRuleSetEvent::ScanRuleSetCreated(read) =
        ScanRuleSetEvent::from_stored("ScanRuleSetCreated", 1, &old).unwrap()
    else {
        panic!("not a creation");
    };
    assert_eq!(read.definition.statistics_change, None);
}
