//! Glossary: the term lifecycle, refused transitions, hostile input and CSV import rows.

use super::*;
use crate::owner::{OwnerKind, OwnerType};
use crate::testing::{self, Given};
use crate::Aggregate;

fn given(events: Vec<GlossaryEvent>) -> Given<Glossary> {
    testing::given(events)
}

fn steward() -> Owner {
    Owner {
        name: "Ana Steward".into(),
        kind: OwnerKind::Person,
        owner_type: OwnerType::Steward,
    }
}

fn input(definition: &str) -> TermInput {
    TermInput {
        definition: definition.into(),
        synonyms: vec!["Client".into(), "client".into(), "Buyer".into()],
        related: vec![],
        owners: vec![steward()],
    }
}

fn content(definition: &str) -> TermContent {
    TermContent {
        definition: definition.into(),
        synonyms: vec!["Buyer".into(), "Client".into()],
        related: vec![],
        owners: vec![steward()],
    }
}

fn defined(name: &str) -> GlossaryEvent {
    GlossaryEvent::TermDefined(TermDefined {
        term_id: term_id(name),
        name: name.into(),
        content: content("A party that buys from us."),
    })
}

fn approved(name: &str) -> GlossaryEvent {
    GlossaryEvent::TermApproved(TermApproved {
        term_id: term_id(name),
    })
}

fn deprecated(name: &str) -> GlossaryEvent {
    GlossaryEvent::TermDeprecated(TermDeprecated {
        term_id: term_id(name),
        reason: None,
    })
}

fn asset() -> AggregateId {
    AggregateId::parse("0192f0c4-1111-7000-8000-000000000001").unwrap()
}

#[test]
fn a_term_goes_from_draft_to_approved_to_deprecated() {
    let state = given(vec![])
        .when(GlossaryCommand::DefineTerm {
            name: " Customer ".into(),
            content: input("A party that buys from us."),
        })
        .then(vec![defined("Customer")]);
    let id = term_id("customer");
    assert_eq!(state.terms[&id].status, TermStatus::Draft);
    let state = given(vec![defined("Customer")])
        .when(GlossaryCommand::ApproveTerm { term_id: id })
        .then(vec![approved("Customer")]);
    assert_eq!(state.terms[&id].status, TermStatus::Approved);
    let state = given(vec![defined("Customer"), approved("Customer")])
        .when(GlossaryCommand::DeprecateTerm {
            term_id: id,
            reason: Some(" Replaced by Client ".into()),
        })
        .then(vec![GlossaryEvent::TermDeprecated(TermDeprecated {
            term_id: id,
            reason: Some("Replaced by Client".into()),
        })]);
    assert_eq!(state.terms[&id].status, TermStatus::Deprecated);
}

#[test]
fn refused_transitions_record_nothing() {
    let id = term_id("Customer");
    given(vec![defined("Customer"), approved("Customer")])
        .when(GlossaryCommand::ApproveTerm { term_id: id })
        .then_error(GlossaryError::Transition {
            name: "Customer".into(),
            status: "approved",
            action: "approved",
        });
    let gone = vec![defined("Customer"), deprecated("Customer")];
    given(gone.clone())
        .when(GlossaryCommand::ApproveTerm { term_id: id })
        .then_error(GlossaryError::Transition {
            name: "Customer".into(),
            status: "deprecated",
            action: "approved",
        });
    given(gone.clone())
        .when(GlossaryCommand::ChangeTerm {
            term_id: id,
            content: input("Something else."),
        })
        .then_error(GlossaryError::Transition {
            name: "Customer".into(),
            status: "deprecated",
            action: "changed",
        });
    given(gone.clone())
        .when(GlossaryCommand::LinkTerm {
            term_id: id,
            asset_id: asset(),
            column: None,
        })
        .then_error(GlossaryError::Transition {
            name: "Customer".into(),
            status: "deprecated",
            action: "linked",
        });
    // A deprecated name stays taken, whatever its case.
    given(gone)
        .when(GlossaryCommand::DefineTerm {
            name: "CUSTOMER".into(),
            content: input("Again."),
        })
        .then_error(GlossaryError::NameTaken("Customer".into()));
    given(vec![])
        .when(GlossaryCommand::ApproveTerm { term_id: id })
        .then_error(GlossaryError::UnknownTerm(id));
}

#[test]
fn a_change_keeps_the_status_and_an_identical_one_records_nothing() {
    let id = term_id("Customer");
    let history = vec![defined("Customer"), approved("Customer")];
    let state = given(history.clone())
        .when(GlossaryCommand::ChangeTerm {
            term_id: id,
            content: input("Anyone who bought from us in the last two years."),
        })
        .then(vec![GlossaryEvent::TermChanged(TermChanged {
            term_id: id,
            content: content("Anyone who bought from us in the last two years."),
        })]);
    assert_eq!(state.terms[&id].status, TermStatus::Approved);
    given(history)
        .when(GlossaryCommand::ChangeTerm {
            term_id: id,
            content: input("A party that buys from us."),
        })
        .then_nothing();
}

#[test]
fn hostile_input_is_refused_with_one_message_per_problem() {
    let error = Glossary::decide(
        &GlossaryState::default(),
        &GlossaryCommand::DefineTerm {
            name: "=cmd|' /C calc'!A0".into(),
            content: TermInput {
                definition: format!("{}\u{0}", "x".repeat(10)),
                synonyms: vec!["ok".into(), "bad\u{202E}name".into()],
                related: vec!["Nowhere".into()],
                owners: vec![Owner {
                    name: "x".repeat(500),
                    kind: OwnerKind::Team,
                    owner_type: OwnerType::Business,
                }],
            },
        },
    )
    .unwrap_err();
    let GlossaryError::Invalid(problems) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert!(
        problems[0].starts_with("name: must not start with ="),
        "{problems:?}"
    );
    assert!(problems[1].starts_with("definition: must not contain control"));
    assert!(problems[2].starts_with("synonyms[1]"));
    assert!(problems[3].starts_with("owners[0]: owner: at most 120"));
    let long = Glossary::decide(
        &GlossaryState::default(),
        &GlossaryCommand::DefineTerm {
            name: "n".repeat(MAX_NAME_CHARS + 1),
            content: TermInput {
                definition: "d".repeat(MAX_DEFINITION_CHARS + 1),
                synonyms: vec!["s".into(); MAX_LIST_ITEMS + 1],
                ..TermInput::default()
            },
        },
    )
    .unwrap_err();
    let GlossaryError::Invalid(problems) = &long else {
        panic!("{long:?}");
    };
    assert_eq!(problems.len(), 3, "{problems:?}");
    // Related terms must exist, and a term is not related to itself.
    given(vec![])
        .when(GlossaryCommand::DefineTerm {
            name: "Order".into(),
            content: TermInput {
                related: vec!["Customer".into()],
                ..input("A purchase.")
            },
        })
        .then_error(GlossaryError::Invalid(vec![
            "related: no term named \"Customer\"".into(),
        ]));
    given(vec![defined("Customer")])
        .when(GlossaryCommand::DefineTerm {
            name: "Order".into(),
            content: TermInput {
                related: vec!["customer".into()],
                ..input("A purchase.")
            },
        })
        .then(vec![GlossaryEvent::TermDefined(TermDefined {
            term_id: term_id("Order"),
            name: "Order".into(),
            content: TermContent {
                related: vec!["customer".into()],
                ..content("A purchase.")
            },
        })]);
}

#[test]
fn links_to_assets_and_columns_are_recorded_once_and_removed() {
    let id = term_id("Customer");
    let link = |column: Option<&str>| GlossaryCommand::LinkTerm {
        term_id: id,
        asset_id: asset(),
        column: column.map(str::to_owned),
    };
    let linked = |column: Option<&str>| {
        GlossaryEvent::TermLinked(TermLinked {
            term_id: id,
            asset_id: asset(),
            column: column.map(str::to_owned),
        })
    };
    given(vec![defined("Customer")])
        .when(link(Some(" email ")))
        .then(vec![linked(Some("email"))]);
    given(vec![defined("Customer"), linked(None)])
        .when(link(None))
        .then_nothing();
    // The asset link and a column link are different links.
    given(vec![defined("Customer"), linked(None)])
        .when(link(Some("email")))
        .then(vec![linked(Some("email"))]);
    let state = given(vec![defined("Customer"), linked(Some("email"))])
        .when(GlossaryCommand::UnlinkTerm {
            term_id: id,
            asset_id: asset(),
            column: Some("email".into()),
        })
        .then(vec![GlossaryEvent::TermUnlinked(TermUnlinked {
            term_id: id,
            asset_id: asset(),
            column: Some("email".into()),
        })]);
    assert!(state.terms[&id].links.is_empty());
    given(vec![defined("Customer")])
        .when(GlossaryCommand::UnlinkTerm {
            term_id: id,
            asset_id: asset(),
            column: None,
        })
        .then_error(GlossaryError::NotLinked {
            name: "Customer".into(),
        });
}

fn row(line: u64, name: &str, status: &str) -> ImportRow {
    ImportRow {
        line,
        name: name.into(),
        definition: format!("The {name}."),
        synonyms: vec![],
        related: vec![],
        owners: vec!["team:business:Sales".into()],
        status: status.into(),
    }
}

#[test]
fn an_import_reports_every_bad_row_with_its_line_and_records_nothing() {
    let rows = vec![
        row(2, "Customer", "approved"),
        ImportRow {
            owners: vec!["robot:business:X".into()],
            ..row(3, "Order", "")
        },
        row(4, "customer", "draft"),
        ImportRow {
            related: vec!["Invoice".into()],
            ..row(5, "Refund", "retired")
        },
        ImportRow {
            definition: "@SUM(A1)".into(),
            ..row(6, "Payment", "")
        },
    ];
    let error = Glossary::decide(
        &GlossaryState::default(),
        &GlossaryCommand::ImportTerms { rows },
    )
    .unwrap_err();
    let GlossaryError::Invalid(problems) = error else {
        panic!("{error:?}");
    };
    let lines: Vec<&str> = problems
        .iter()
        .map(|p| p.split(':').next().unwrap())
        .collect();
    assert_eq!(
        lines,
        ["line 3", "line 4", "line 5", "line 5", "line 6"],
        "{problems:?}"
    );
    assert!(problems[1].contains("also on line 2"), "{problems:?}");
    assert!(
        problems[3].contains("no term named \"Invoice\""),
        "{problems:?}"
    );
}

#[test]
fn an_import_defines_changes_and_moves_status_and_a_second_import_records_nothing() {
    let rows = vec![
        ImportRow {
            related: vec!["Order".into()],
            ..row(2, "Customer", "approved")
        },
        row(3, "Order", ""),
        row(4, "Legacy id", "deprecated"),
    ];
    let state = given(vec![])
        .when(GlossaryCommand::ImportTerms { rows: rows.clone() })
        .result()
        .clone()
        .map(|events| Glossary::replay(&events))
        .unwrap();
    let status = |name: &str| state.by_name(name).unwrap().1.status;
    assert_eq!(status("customer"), TermStatus::Approved);
    assert_eq!(status("Order"), TermStatus::Draft);
    assert_eq!(status("Legacy id"), TermStatus::Deprecated);
    assert!(
        Glossary::decide(&state, &GlossaryCommand::ImportTerms { rows })
            .unwrap()
            .is_empty()
    );
    // A term cannot go back to draft, nor a deprecated one change.
    let error = Glossary::decide(
        &state,
        &GlossaryCommand::ImportTerms {
            rows: vec![
                row(2, "Customer", "draft"),
                ImportRow {
                    definition: "New".into(),
                    ..row(3, "Legacy id", "deprecated")
                },
            ],
        },
    )
    .unwrap_err();
    let GlossaryError::Invalid(problems) = error else {
        panic!("{error:?}");
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("line 2: status: a term cannot go from approved back to draft"));
}

#[test]
fn an_oversized_import_is_refused_before_any_row_is_read() {
    let rows: Vec<ImportRow> = (0..=MAX_IMPORT_ROWS as u64)
        .map(|i| row(i + 2, &format!("T{i}"), ""))
        .collect();
    assert!(matches!(
        Glossary::decide(&GlossaryState::default(), &GlossaryCommand::ImportTerms { rows }),
        Err(GlossaryError::Invalid(p)) if p[0].starts_with("at most 500 rows")
    ));
}

#[test]
fn events_round_trip_through_their_stored_form() {
    use crate::DomainEvent;
    for event in [
        defined("Customer"),
        approved("Customer"),
        GlossaryEvent::TermLinked(TermLinked {
            term_id: term_id("Customer"),
            asset_id: asset(),
            column: Some("email".into()),
        }),
    ] {
        let data = event.to_data();
        assert_eq!(
            GlossaryEvent::from_stored(event.event_type(), 1, &data).unwrap(),
            event
        );
    }
    assert_eq!(
        defined("Customer").to_data()["owners"][0],
        serde_json::json!({"name": "Ana Steward", "kind": "person", "type": "steward"})
    );
}
