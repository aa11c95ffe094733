//! Classification labels: the classifier's outcomes, human review, propagation and revocation.

use super::*;
use crate::classification::{Candidate, ClassificationType, ColumnProfile, Label, Signal, Tier};
use crate::text::FreeText;

fn total() -> String {
    "total".to_owned()
}

fn card() -> Label {
    Label::BuiltIn(ClassificationType::CreditCardNumber)
}

fn luhn_signals(passing: u32) -> Vec<Signal> {
    vec![
        Signal {
            tier: Tier::Rule,
            detail: format!("{passing} of 100 sampled non-null values pass Luhn"),
            weight: 0.7,
        },
        Signal {
            tier: Tier::Rule,
            detail: "column name matches `card_no`".into(),
            weight: 0.3,
        },
    ]
}

fn outcome(confidence: f64, applied: bool, signals: Vec<Signal>) -> ClassifierOutcome {
    ClassifierOutcome {
        column: total(),
        candidate: Candidate {
            label: card(),
            confidence,
            signals,
        },
        applied,
    }
}

fn classify(outcomes: Vec<ClassifierOutcome>) -> AssetCommand {
    AssetCommand::RecordClassification {
        profiles: None,
        columns: vec![total()],
        outcomes,
        rule_set: None,
    }
}

fn applied_event(confidence: f64, signals: Vec<Signal>) -> AssetEvent {
    AssetEvent::AssetClassified(AssetClassified {
        asset_id: asset_id(),
        column: total(),
        label: card(),
        confidence,
        evidence_key: evidence_key(&signals),
        signals,
        origin: LabelOrigin::Classifier,
        rule_set: None,
    })
}

fn suggested_event(confidence: f64, signals: Vec<Signal>) -> AssetEvent {
    AssetEvent::ClassificationSuggested(ClassificationSuggested {
        asset_id: asset_id(),
        column: total(),
        label: card(),
        confidence,
        evidence_key: evidence_key(&signals),
        signals,
        origin: LabelOrigin::Classifier,
        rule_set: None,
    })
}

fn rejected_event(signals: &[Signal]) -> AssetEvent {
    AssetEvent::ClassificationRejected(ClassificationRejected {
        asset_id: asset_id(),
        column: total(),
        label: card(),
        evidence_key: evidence_key(signals),
        reason: Some("order totals".into()),
    })
}

#[test]
fn confident_outcomes_are_applied_and_others_suggested() {
    let state = given(vec![discovered()])
        .when(classify(vec![outcome(0.93, true, luhn_signals(95))]))
        .then(vec![applied_event(0.93, luhn_signals(95))]);
    assert_eq!(state.labels[0].status, LabelStatus::Applied);
    let state = given(vec![discovered()])
        .when(classify(vec![outcome(0.6, false, luhn_signals(60))]))
        .then(vec![suggested_event(0.6, luhn_signals(60))]);
    assert_eq!(state.labels[0].status, LabelStatus::Suggested);
}

#[test]
fn a_reclassification_with_the_same_result_records_nothing() {
    given(vec![discovered(), applied_event(0.93, luhn_signals(95))])
        .when(classify(vec![outcome(0.91, true, luhn_signals(91))]))
        .then_nothing();
}

#[test]
fn a_suggestion_becomes_applied_when_confidence_rises() {
    given(vec![discovered(), suggested_event(0.6, luhn_signals(60))])
        .when(classify(vec![outcome(0.9, true, luhn_signals(95))]))
        .then(vec![applied_event(0.9, luhn_signals(95))]);
}

#[test]
fn labels_the_classifier_no_longer_finds_are_revoked_only_for_evaluated_columns() {
    let revoked = AssetEvent::ClassificationRevoked(ClassificationRevoked {
        asset_id: asset_id(),
        column: total(),
        label: card(),
        reason: "the classifier no longer finds it".into(),
    });
    given(vec![discovered(), applied_event(0.93, luhn_signals(95))])
        .when(classify(vec![]))
        .then(vec![revoked]);
    given(vec![discovered(), applied_event(0.93, luhn_signals(95))])
        .when(AssetCommand::RecordClassification {
            profiles: None,
            columns: vec!["id".into()],
            outcomes: vec![],
            rule_set: None,
        })
        .then_nothing();
}

#[test]
fn a_rejected_label_is_not_proposed_again_until_its_evidence_changes() {
    let history = vec![
        discovered(),
        applied_event(0.93, luhn_signals(95)),
        rejected_event(&luhn_signals(95)),
    ];
    // A new sample: other counts, same kind of evidence.
    given(history.clone())
        .when(classify(vec![outcome(0.95, true, luhn_signals(97))]))
        .then_nothing();
    // New evidence: suggested for review, never applied again without a person.
    let mut more = luhn_signals(97);
    more.push(Signal {
        tier: Tier::Context,
        detail: "table also holds cardholder names".into(),
        weight: 0.2,
    });
    given(history)
        .when(classify(vec![outcome(0.97, true, more.clone())]))
        .then(vec![suggested_event(0.97, more)]);
}

#[test]
fn reviewers_confirm_and_reject_labels() {
    let confirmed = AssetEvent::ClassificationConfirmed(ClassificationConfirmed {
        asset_id: asset_id(),
        column: total(),
        label: card(),
        note: None,
    });
    let state = given(vec![discovered(), suggested_event(0.6, luhn_signals(60))])
        .when(AssetCommand::ConfirmClassification {
            column: total(),
            label: card(),
            note: None,
        })
        .then(vec![confirmed.clone()]);
    assert_eq!(state.labels[0].status, LabelStatus::Confirmed);
    // A confirmed label is left alone by the classifier, even when it stops finding it.
    given(vec![
        discovered(),
        suggested_event(0.6, luhn_signals(60)),
        confirmed,
    ])
    .when(classify(vec![]))
    .then_nothing();
    given(vec![discovered(), applied_event(0.93, luhn_signals(95))])
        .when(AssetCommand::RejectClassification {
            column: total(),
            label: card(),
            reason: Some(FreeText::parse("order totals").unwrap()),
        })
        .then(vec![rejected_event(&luhn_signals(95))]);
    given(vec![discovered()])
        .when(AssetCommand::ConfirmClassification {
            column: total(),
            label: card(),
            note: None,
        })
        .then_error(AssetError::LabelNotFound {
            column: total(),
            label: card(),
        });
}

#[test]
fn manual_labels_need_a_real_column_and_survive_reclassification() {
    let label = Label::Custom("INTERNAL_PRICE".into());
    let state = given(vec![discovered()])
        .when(AssetCommand::ClassifyManually {
            column: total(),
            label: label.clone(),
            note: Some(FreeText::parse("list prices are confidential").unwrap()),
        })
        .result()
        .clone()
        .unwrap();
    assert_eq!(state.len(), 1);
    let AssetEvent::AssetClassified(event) = &state[0] else {
        panic!("{state:?}")
    };
    assert_eq!(event.origin, LabelOrigin::Manual);
    assert_eq!(event.confidence, 1.0);
    assert!(event.signals[0]
        .detail
        .contains("list prices are confidential"));
    given(vec![discovered(), state[0].clone()])
        .when(classify(vec![]))
        .then_nothing();
    given(vec![discovered()])
        .when(AssetCommand::ClassifyManually {
            column: "nope".into(),
            label,
            note: None,
        })
        .then_error(AssetError::UnknownColumn {
            column: "nope".into(),
        });
}

#[test]
fn propagated_labels_do_not_override_labels_already_there() {
    let origin = LabelOrigin::Propagated {
        from_asset: source_id(),
        from_path: "sales.public.cards".into(),
        from_column: "pan".into(),
    };
    let candidate = Candidate {
        label: card(),
        confidence: 0.93,
        signals: vec![Signal {
            tier: Tier::Propagation,
            detail: "propagated from sales.public.cards.pan".into(),
            weight: 0.93,
        }],
    };
    let events = given(vec![discovered()])
        .when(AssetCommand::PropagateClassification {
            column: total(),
            candidate: candidate.clone(),
            origin: origin.clone(),
        })
        .result()
        .clone()
        .unwrap();
    assert!(matches!(&events[..], [AssetEvent::AssetClassified(e)] if e.origin == origin));
    // Rejected here before: a propagation may not bring it back.
    given(vec![
        discovered(),
        applied_event(0.93, luhn_signals(95)),
        rejected_event(&luhn_signals(95)),
    ])
    .when(AssetCommand::PropagateClassification {
        column: total(),
        candidate,
        origin,
    })
    .then_nothing();
}

#[test]
fn feedback_signals_do_not_change_the_evidence() {
    let mut reviewed = luhn_signals(95);
    reviewed.push(Signal {
        tier: Tier::Feedback,
        detail: "a reviewer rejected CREDIT_CARD_NUMBER on `orders.total`, a similar column".into(),
        weight: -0.4,
    });
    assert_eq!(evidence_key(&reviewed), evidence_key(&luhn_signals(12)));
    reviewed.push(Signal {
        tier: Tier::Context,
        detail: "table also holds cardholder names".into(),
        weight: 0.2,
    });
    assert_ne!(evidence_key(&reviewed), evidence_key(&luhn_signals(95)));
}

#[test]
fn a_propagated_label_replaces_a_classifier_suggestion() {
    let origin = LabelOrigin::Propagated {
        from_asset: source_id(),
        from_path: "sales.public.cards".into(),
        from_column: "pan".into(),
    };
    let candidate = Candidate {
        label: card(),
        confidence: 0.93,
        signals: vec![Signal {
            tier: Tier::Propagation,
            detail: "propagated from sales.public.cards.pan along view lineage".into(),
            weight: 0.93,
        }],
    };
    let state = given(vec![discovered(), suggested_event(0.6, luhn_signals(60))])
        .when(AssetCommand::PropagateClassification {
            column: total(),
            candidate,
            origin: origin.clone(),
        })
        .then(vec![AssetEvent::AssetClassified(AssetClassified {
            asset_id: asset_id(),
            column: total(),
            label: card(),
            confidence: 0.93,
            evidence_key: evidence_key(&[Signal {
                tier: Tier::Propagation,
                detail: "propagated from sales.public.cards.pan along view lineage".into(),
                weight: 0.93,
            }]),
            signals: vec![Signal {
                tier: Tier::Propagation,
                detail: "propagated from sales.public.cards.pan along view lineage".into(),
                weight: 0.93,
            }],
            origin: origin.clone(),
            rule_set: None,
        })]);
    assert_eq!(state.labels[0].origin, origin);
    assert_eq!(state.labels[0].status, LabelStatus::Applied);
}

#[test]
fn new_profiles_and_labels_are_one_commit_and_unchanged_profiles_are_not_recorded_again() {
    let profile = ColumnProfile::build("total", "numeric", &[Some("12.50"), None], &[]);
    let command = AssetCommand::RecordClassification {
        profiles: Some((2, vec![profile.clone()])),
        columns: vec![total()],
        outcomes: vec![outcome(0.93, true, luhn_signals(95))],
        rule_set: None,
    };
    let profiled = AssetEvent::ColumnsProfiled(ColumnsProfiled {
        asset_id: asset_id(),
        rows: 2,
        profiles: vec![profile],
    });
    let state = given(vec![discovered()]).when(command.clone()).then(vec![
        profiled.clone(),
        applied_event(0.93, luhn_signals(95)),
    ]);
    assert_eq!(state.profiles.len(), 1);
    given(vec![
        discovered(),
        profiled,
        applied_event(0.93, luhn_signals(95)),
    ])
    .when(command)
    .then_nothing();
}
