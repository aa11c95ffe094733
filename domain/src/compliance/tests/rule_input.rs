//! Custom rules as people write them (GraphQL input, rule files): every problem is reported once,
//! naming its field (and, for a condition, the character), and hostile text is bounded.

use crate::compliance::packs::load_rule_file;
use crate::compliance::rules::{FrameworkId, RuleInput, Severity, SubjectLevel};

fn input(condition: &str) -> RuleInput {
    RuleInput {
        id: "acme-cards-in-dev".into(),
        title: "Card numbers outside production".into(),
        framework: "pci-dss".into(),
        control: "PCI DSS v4.0 6.5.5".into(),
        severity: "high".into(),
        subject: "column".into(),
        remediation: "Mask card numbers before they reach development.".into(),
        condition: condition.into(),
    }
}

const CARDS_IN_DEV: &str =
    r#"any label (label.type == "CREDIT_CARD_NUMBER") and source.environment == "development""#;

#[test]
fn a_valid_input_becomes_a_version_one_definition_with_its_fields_trimmed() {
    let definition = RuleInput {
        title: "  Card numbers outside production ".into(),
        ..input(CARDS_IN_DEV)
    }
    .check()
    .unwrap();
    assert_eq!(definition.version, 1);
    assert_eq!(definition.framework, FrameworkId::PciDss);
    assert_eq!(definition.severity, Severity::High);
    assert_eq!(definition.subject, SubjectLevel::Column);
    assert_eq!(definition.title, "Card numbers outside production");
}

#[test]
fn every_problem_is_reported_in_field_order_each_naming_its_field() {
    let err = RuleInput {
        framework: "iso27001".into(),
        severity: "urgent".into(),
        ..input(r#"any label (label.kind == "CREDIT_CARD_NUMBER")"#)
    }
    .check()
    .unwrap_err();
    assert_eq!(
        err.fields().collect::<Vec<_>>(),
        ["framework", "severity", "condition"]
    );
    assert!(err
        .message_for("framework")
        .unwrap()
        .contains("expected one of gdpr, pci-dss, hipaa, soc2"));
    let condition = err.message_for("condition").unwrap();
    assert!(
        condition.starts_with("at character 12: unknown fact `label.kind`"),
        "{condition}"
    );
}

#[test]
fn a_syntax_error_and_a_wrong_type_are_named_with_their_position() {
    let err = input(r#"source.environment == "production" and"#)
        .check()
        .unwrap_err();
    assert_eq!(err.fields().collect::<Vec<_>>(), ["condition"]);
    assert!(
        err.message_for("condition")
            .unwrap()
            .starts_with("at character "),
        "{err}"
    );
    let err = input("asset.row_estimate > \"many\"").check().unwrap_err();
    let message = err.message_for("condition").unwrap();
    assert!(message.starts_with("at character "), "{message}");
    assert!(message.contains("number"), "{message}");
}

#[test]
fn each_problem_of_a_condition_is_its_own_message() {
    let err = input(
        r#"any label (label.kind == "CREDIT_CARD_NUMBER") and source.environment == "prod"
           and column.name > 3"#,
    )
    .check()
    .unwrap_err();
    let messages: Vec<&str> = err
        .errors
        .iter()
        .filter(|e| e.field == "condition")
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(messages.len(), 3, "{err}");
    assert!(messages[0].contains("unknown fact `label.kind`"), "{err}");
    assert!(messages[1].contains("is never \"prod\""), "{err}");
    assert!(messages[2].contains("compared with a number"), "{err}");
}

#[test]
fn reserved_ids_and_bad_text_fields_are_reported_together() {
    let err = RuleInput {
        id: "gdpr-my-rule".into(),
        title: "two\nlines".into(),
        subject: "table".into(),
        ..input("true")
    }
    .check()
    .unwrap_err();
    assert_eq!(err.fields().collect::<Vec<_>>(), ["id", "title", "subject"]);
    assert!(err.message_for("id").unwrap().contains("reserved"), "{err}");
}

#[test]
fn hostile_conditions_are_bounded_and_refused() {
    // A control character, even where the lexer would take it for a space.
    for bad in [
        "true\u{0b}and true",
        "true and \u{1b}[2J true",
        "\u{85}true",
    ] {
        let err = input(bad).check().unwrap_err();
        let message = err.message_for("condition").unwrap();
        assert!(message.contains("control character"), "{message}");
        assert!(message.starts_with("at character "), "{message}");
    }
    // Layout characters are fine.
    input("true\n\tand\r\ntrue").check().unwrap();
    // Too long.
    let long = format!("{}true", "true and ".repeat(1000));
    let err = input(&long).check().unwrap_err();
    assert!(err
        .message_for("condition")
        .unwrap()
        .contains("at most 4000 characters"));
    // Too deep: refused with a message, not a stack overflow.
    let deep = format!("{}true{}", "(".repeat(500), ")".repeat(500));
    let err = input(&deep).check().unwrap_err();
    assert!(
        err.message_for("condition")
            .unwrap()
            .contains("nests at most"),
        "{err}"
    );
    let nots = format!("{}true", "not ".repeat(900));
    assert!(input(&nots).check().is_err());
}

#[test]
fn a_rule_file_is_a_pack_rule_at_the_top_or_in_one_rule_table() {
    let top = r#"
id = "acme-cards-in-dev"
title = "Card numbers outside production"
framework = "pci-dss"
control = "PCI DSS v4.0 6.5.5"
severity = "high"
subject = "column"
remediation = "Mask card numbers before they reach development."
condition = '''
any label (label.type == "CREDIT_CARD_NUMBER")
  and source.environment == "development"
'''
"#;
    let definition = load_rule_file(top).unwrap();
    assert_eq!(definition.id, "acme-cards-in-dev");
    assert_eq!(definition.framework, FrameworkId::PciDss);
    let copied = format!("[[rule]]\nversion = 7\n{top}");
    let from_pack = load_rule_file(&copied).unwrap();
    assert_eq!(
        from_pack, definition,
        "the version is the policy's to number"
    );
}

#[test]
fn a_rule_file_reports_every_problem_once() {
    let err = load_rule_file(
        r#"
id = "acme-x"
title = "X"
framework = "iso27001"
severty = "high"
subject = "column"
remediation = "Fix it."
condition = "not exists(asset.ownr)"
version = 0
"#,
    )
    .unwrap_err();
    assert_eq!(
        err.fields().collect::<Vec<_>>(),
        [
            "severty",
            "version",
            "framework",
            "control",
            "severity",
            "condition"
        ],
        "{err}"
    );
    assert_eq!(err.message_for("control"), Some("is missing"));
    assert_eq!(err.message_for("severity"), Some("is missing"));
    assert!(err
        .message_for("condition")
        .unwrap()
        .starts_with("at character 12:"));
    let err = load_rule_file("id = ").unwrap_err();
    assert!(
        err.message_for("(file)")
            .unwrap()
            .starts_with("not valid TOML"),
        "{err}"
    );
    let err = load_rule_file("[[rule]]\nid = \"a\"\n[[rule]]\nid = \"b\"\n").unwrap_err();
    assert!(
        err.message_for("(file)").unwrap().contains("one rule"),
        "{err}"
    );
    let huge = format!("title = \"{}\"", "x".repeat(70_000));
    assert!(load_rule_file(&huge)
        .unwrap_err()
        .message_for("(file)")
        .unwrap()
        .contains("at most"));
}
