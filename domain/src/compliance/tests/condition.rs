//! The condition language: what parses, what is refused (with the position), how it evaluates
//! and which facts it cites.

use super::fixtures::*;
use crate::asset::LabelStatus::*;
use crate::classification::ClassificationType::*;
use crate::compliance::condition::{Binding, Condition, Env};
use crate::datasource::SslMode;

fn refused(text: &str, binding: Binding) -> (usize, String) {
    let mut problems = Condition::parse(text, binding).expect_err(text);
    assert_eq!(problems.len(), 1, "{text}: {problems:?}");
    let e = problems.remove(0);
    (e.position, e.message)
}

#[test]
fn the_card_number_condition_fires_only_without_verified_tls() {
    let condition = Condition::parse(
        r#"any label (label.type == "CREDIT_CARD_NUMBER" and label.status in ["applied", "confirmed"])
           and not source.tls_mode in ["verify_ca", "verify_full"]"#,
        Binding::Column,
    )
    .unwrap();
    let pan = column("card_no", vec![label(CreditCardNumber, Applied, 20)]);
    let asset = asset(vec![pan.clone()]);
    let mut source = source();
    assert!(!condition.evaluate(&Env::asset(&source, &asset).with_column(&pan)));
    source.tls_mode = SslMode::Require;
    assert!(condition.evaluate(&Env::asset(&source, &asset).with_column(&pan)));
    let suggested = column("card_no", vec![label(CreditCardNumber, Suggested, 20)]);
    assert!(!condition.evaluate(&Env::asset(&source, &asset).with_column(&suggested)));
}

#[test]
fn every_kind_of_mistake_is_one_error_at_its_position() {
    use Binding::*;
    let cases: &[(&str, Binding, usize, &str)] = &[
        (
            "source.tls_mode ==",
            Asset,
            19,
            "expected a fact or a value, found the end",
        ),
        (
            "source.tls == \"x\"",
            Asset,
            1,
            "unknown fact `source.tls`; known: source.name",
        ),
        (
            "source.monitoring == \"yes\"",
            Asset,
            22,
            "is a boolean, compared with text",
        ),
        (
            "source.tls_mode == \"verify-full\"",
            Asset,
            20,
            "its values are disable, require",
        ),
        (
            "label.type == \"PASSWORD\"",
            Column,
            1,
            "only known inside any label",
        ),
        (
            "column.name == \"a\"",
            Asset,
            1,
            "only known in a column rule",
        ),
        ("any label (true)", Asset, 5, "labels belong to a column"),
        ("asset.path > \"a\"", Asset, 12, "need numbers"),
        ("asset.owner == \"x", Asset, 16, "unterminated string"),
        (
            "source.monitoring source.monitoring",
            Asset,
            19,
            "unexpected `source.monitoring`",
        ),
        ("exists(source.kind)", Asset, 8, "always present"),
        ("asset.path", Asset, 1, "not a condition"),
        ("asset.tags == \"a\"", Asset, 12, "is a set"),
        ("source.monitoring = true", Asset, 19, "`=` is written `==`"),
        ("(source.monitoring", Asset, 19, "expected `)`"),
        ("has_tag_prefix(\"\")", Asset, 16, "non-empty string"),
        (
            "any label (label.type == \"password\")",
            Column,
            26,
            "label types are written as PASSWORD",
        ),
        (
            "any column (any label (any column (true)))",
            Asset,
            28,
            "inside a label's scope",
        ),
    ];
    for (text, binding, position, message) in cases {
        let (at, got) = refused(text, *binding);
        assert!(got.contains(message), "{text}: {got}");
        assert_eq!(at, *position, "{text}: {got}");
    }
    // Positions count characters, not bytes.
    let (at, _) = refused("asset.owner == \"é\" and ?", Binding::Asset);
    assert_eq!(at, 24);
}

#[test]
fn every_problem_of_meaning_in_a_condition_is_reported_in_one_round() {
    let text = r#"source.tls == "x" and source.monitoring == "yes"
        and asset.path > "a" and any label (label.status == "approved")
        and asset.owner in ["a", 3] and missing.thing"#;
    let problems = Condition::parse(text, Binding::Column).unwrap_err();
    let found: Vec<(usize, &str)> = problems
        .iter()
        .map(|p| (p.position, p.message.as_str()))
        .collect();
    let expected = [
        "unknown fact `source.tls`",
        "is a boolean, compared with text",
        "need numbers",
        "`label.status` is never \"approved\"",
        "is text, compared with a number",
        "unknown fact `missing.thing`",
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for ((_, message), wanted) in found.iter().zip(expected) {
        assert!(message.contains(wanted), "{message} should say {wanted}");
    }
    // In the order of the text, each at its own character.
    assert!(found.windows(2).all(|w| w[0].0 < w[1].0), "{found:?}");
    assert_eq!(found[0].0, 1);
}

#[test]
fn a_fact_already_reported_adds_no_second_problem_where_it_is_used() {
    for text in [
        r#"source.nope == "a""#,
        r#"source.nope in ["a", "b"]"#,
        r#""x" in source.nope"#,
        "exists(source.nope)",
        "source.nope",
        "not source.nope > 3",
    ] {
        let problems = Condition::parse(text, Binding::Asset).unwrap_err();
        assert_eq!(problems.len(), 1, "{text}: {problems:?}");
        assert!(problems[0].message.contains("unknown fact"), "{text}");
    }
}

#[test]
fn a_syntax_error_ends_the_reading_after_the_problems_found_before_it() {
    let problems = Condition::parse(
        r#"source.tls == "x" and (source.kind == "postgresql""#,
        Binding::Asset,
    )
    .unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].message.contains("unknown fact `source.tls`"));
    assert!(problems[1].message.contains("expected `)`"), "{problems:?}");
}

#[test]
fn hostile_input_is_bounded() {
    let deep = format!("{}true{}", "(".repeat(100), ")".repeat(100));
    assert!(refused(&deep, Binding::Asset).1.contains("nests at most"));
    let long = format!("asset.owner == \"{}\"", "a".repeat(5000));
    assert!(refused(&long, Binding::Asset).1.contains("at most 4000"));
    assert!(refused("asset.owner == \"a\u{0}\"", Binding::Asset)
        .1
        .contains("control characters"));
}

#[test]
fn a_missing_fact_compares_false_and_exists_tells_it_apart() {
    let mut asset = asset(vec![]);
    asset.owner = None;
    let source = source();
    let env = Env::asset(&source, &asset);
    for (text, expected) in [
        ("asset.owner == \"x\"", false),
        ("asset.owner != \"x\"", false),
        ("not exists(asset.owner)", true),
        (
            "asset.row_estimate >= 1000 and asset.row_estimate < 1001",
            true,
        ),
        ("1000 <= asset.row_estimate", true),
        (
            "\"purpose:billing\" in asset.tags and has_tag_prefix(\"retention:\")",
            true,
        ),
        (
            "has_tag_prefix(\"residency:\") or source.region_in_eea",
            true,
        ),
        ("source.health in [\"degraded\", \"unhealthy\"]", false),
    ] {
        let condition = Condition::parse(text, Binding::Asset).unwrap();
        assert_eq!(condition.evaluate(&env), expected, "{text}");
    }
}

#[test]
fn explain_cites_the_witnesses_of_any_and_the_events_they_rest_on() {
    let condition = Condition::parse(
        r#"any column (any label ("gdpr_personal" in label.frameworks)) and not exists(asset.owner)"#,
        Binding::Asset,
    )
    .unwrap();
    let mut asset = asset(vec![
        column("id", vec![]),
        column("email", vec![label(EmailAddress, Applied, 21)]),
        column("notes", vec![label(Password, Suggested, 22)]),
    ]);
    asset.owner = None;
    let source = source();
    let (fired, cited) = condition.explain(&Env::asset(&source, &asset));
    assert!(fired);
    let summary: Vec<(String, Option<String>, String, u64)> = cited
        .iter()
        .map(|f| {
            (
                f.fact.clone(),
                f.column.clone(),
                f.value.clone(),
                f.evidence.sequence,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "label.frameworks".into(),
                Some("email".into()),
                "gdpr_personal,hipaa_phi".into(),
                21
            ),
            ("asset.owner".into(), None, "(none)".into(), METADATA),
        ]
    );
}

#[test]
fn a_finding_on_a_wide_table_cites_a_bounded_number_of_witnesses() {
    let condition = Condition::parse(
        r#"any column (any label ("gdpr_personal" in label.frameworks))"#,
        Binding::Asset,
    )
    .unwrap();
    let columns = (0..1000)
        .map(|i| {
            column(
                &format!("c{i}"),
                vec![label(EmailAddress, Applied, 100 + i)],
            )
        })
        .collect();
    let asset = asset(columns);
    let source = source();
    let (fired, cited) = condition.explain(&Env::asset(&source, &asset));
    assert!(fired);
    assert_eq!(cited.len(), crate::compliance::condition::MAX_WITNESSES);
    assert_eq!(cited[0].column.as_deref(), Some("c0"));
}

#[test]
fn a_column_rule_computes_its_column_independent_parts_once_per_asset_with_the_same_result() {
    use std::cell::Cell;
    let condition = Condition::parse(
        r#"any label ("hipaa_phi" in label.frameworks)
           and any column (any label (label.type == "HEALTH_DIAGNOSIS"))
           and any role (any column (column.name == "name"))"#,
        Binding::Column,
    )
    .unwrap();
    // Only the column quantifier outside the role is memoised: inside, a role is bound.
    assert_eq!(condition.memo_slots(), 1);
    for with_health in [true, false] {
        let mut columns = vec![
            column("name", vec![label(PersonName, Applied, 20)]),
            column("email", vec![label(EmailAddress, Applied, 21)]),
        ];
        if with_health {
            columns.push(column(
                "diagnosis",
                vec![label(HealthDiagnosis, Applied, 22)],
            ));
        }
        let asset = asset(columns);
        let source = source();
        let memo = vec![Cell::new(0u8); condition.memo_slots()];
        for column in &asset.columns {
            let plain = Env::asset(&source, &asset).with_column(column);
            let memoised = plain.with_memo(&memo);
            assert_eq!(condition.evaluate(&memoised), condition.evaluate(&plain));
            assert_eq!(condition.evaluate(&plain), with_health, "{}", column.name);
        }
        assert_eq!(memo[0].get(), if with_health { 2 } else { 1 });
    }
}

#[test]
fn the_shared_context_of_a_column_finding_is_cited_by_one_witness() {
    let condition = Condition::parse(
        r#"any label ("hipaa_phi" in label.frameworks)
           and any column (any label (label.type == "HEALTH_DIAGNOSIS"))"#,
        Binding::Column,
    )
    .unwrap();
    let asset = asset(vec![
        column("name", vec![label(PersonName, Applied, 20)]),
        column("diagnosis", vec![label(HealthDiagnosis, Applied, 21)]),
        column(
            "secondary_diagnosis",
            vec![label(HealthDiagnosis, Applied, 22)],
        ),
    ]);
    let source = source();
    let (fired, cited) =
        condition.explain(&Env::asset(&source, &asset).with_column(&asset.columns[0]));
    assert!(fired);
    let columns: Vec<Option<&str>> = cited.iter().map(|f| f.column.as_deref()).collect();
    assert_eq!(columns, [Some("name"), Some("diagnosis")]);
}

#[test]
fn the_keyword_values_a_condition_accepts_are_exactly_the_domain_s_values() {
    use crate::asset::LabelStatus;
    use crate::classification::{Framework, Sensitivity};
    use crate::compliance::condition::*;
    use crate::compliance::facts::label_status_str;
    use crate::datasource::{CloudProvider, DataSourceKind, Environment, HealthStatus, Location};
    use crate::discovery::AssetKind;
    fn names<T>(all: &[T], name: impl Fn(&T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(name).collect()
    }
    assert_eq!(KINDS, names(DataSourceKind::ALL, |k| k.as_str()));
    assert_eq!(TLS_MODES, names(SslMode::ALL, |m| m.as_str()));
    assert_eq!(LOCATIONS, names(Location::ALL, |l| l.as_str()));
    assert_eq!(PROVIDERS, names(CloudProvider::ALL, |p| p.as_str()));
    assert_eq!(ENVIRONMENTS, names(Environment::ALL, |e| e.as_str()));
    assert_eq!(HEALTH, names(HealthStatus::ALL, |h| h.as_str()));
    assert_eq!(ASSET_KINDS, names(AssetKind::ALL, |k| k.as_str()));
    assert_eq!(SENSITIVITIES, names(&Sensitivity::ALL, |s| s.as_str()));
    assert_eq!(FRAMEWORKS, names(&Framework::ALL, |f| f.as_str()));
    let statuses = [
        LabelStatus::Applied,
        LabelStatus::Suggested,
        LabelStatus::Confirmed,
        LabelStatus::Rejected,
    ];
    assert_eq!(STATUSES, names(&statuses, |s| label_status_str(*s)));
    for status in statuses {
        assert_eq!(
            serde_json::to_value(status).unwrap(),
            label_status_str(status)
        );
    }
    // Every fact path is unique and resolves to its own entry.
    for spec in FACTS {
        assert_eq!(spec.fact.path(), spec.path);
    }
}
