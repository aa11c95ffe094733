//! The engine over all built-in rules: findings in a deterministic order, each citing exactly the
//! facts it rests on; source rules reported once per source.

use super::fixtures::*;
use crate::asset::LabelStatus::*;
use crate::classification::ClassificationType::*;
use crate::compliance::engine::{changed_facts, evaluate, evaluate_source, recheck, ActiveRule};
use crate::compliance::packs::builtin_rules;
use crate::compliance::policy::CompliancePolicyState;
use crate::compliance::rules::{FrameworkId, Severity};
use crate::compliance::violation::Subject;
use crate::datasource::SslMode;
use uuid::Uuid;

fn all_rules() -> Vec<ActiveRule> {
    let (rules, broken) = CompliancePolicyState::default().active_rules();
    assert!(broken.is_empty());
    rules
}

#[test]
fn findings_come_in_framework_rule_and_column_order_and_cite_their_evidence() {
    let mut source = source();
    source.tls_mode = SslMode::Require;
    let asset = asset(vec![
        column("cvv", vec![label(CardSecurityCode, Applied, 22)]),
        column("card_no", vec![label(CreditCardNumber, Applied, 21)]),
        column("password", vec![label(Password, Confirmed, 23)]),
    ]);
    let findings = evaluate(&all_rules(), &source, &asset);
    let summary: Vec<(FrameworkId, &str, Severity)> = findings
        .iter()
        .map(|f| (f.framework, f.rule_id.as_str(), f.severity))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                FrameworkId::PciDss,
                "pci-dss-pan-unprotected",
                Severity::High
            ),
            (
                FrameworkId::PciDss,
                "pci-dss-pan-without-verified-tls",
                Severity::Critical
            ),
            (
                FrameworkId::PciDss,
                "pci-dss-sad-stored",
                Severity::Critical
            ),
            (
                FrameworkId::Soc2,
                "soc2-plaintext-secrets",
                Severity::Critical
            ),
        ]
    );
    assert_eq!(
        findings,
        evaluate(&all_rules(), &source, &asset),
        "deterministic"
    );
    let tls = &findings[1];
    assert_eq!(
        tls.subject,
        Subject::Column {
            source_id: source.source_id,
            asset_id: asset.asset_id,
            path: "shop.public.customers".into(),
            column: "card_no".into(),
        }
    );
    assert_eq!(tls.control, "PCI DSS v4.0 4.2.1");
    let cited: Vec<(&str, &str)> = tls
        .facts
        .iter()
        .map(|f| (f.fact.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(
        cited,
        [
            ("label.type", "CREDIT_CARD_NUMBER"),
            ("label.status", "applied"),
            ("source.tls_mode", "require")
        ]
    );
    // Exactly the events of the cited facts: the label's and the configuration's, by sequence.
    assert_eq!(tls.evidence, vec![ev(CONFIG), ev(21)]);
}

#[test]
fn a_source_rule_is_reported_once_for_the_source_citing_the_first_asset_that_shows_it() {
    let mut source = source();
    source.monitoring = false;
    let mut b = asset(vec![column(
        "email",
        vec![label(EmailAddress, Applied, 40)],
    )]);
    b.path = "shop.public.b".into();
    b.asset_id = Uuid::from_u128(0xb);
    let mut a = asset(vec![column("phone", vec![label(PhoneNumber, Applied, 30)])]);
    a.path = "shop.public.a".into();
    a.asset_id = Uuid::from_u128(0xa);
    let findings = evaluate_source(&all_rules(), &source, &[b, a]);
    let unmonitored: Vec<_> = findings
        .iter()
        .filter(|f| f.rule_id == "soc2-production-personal-data-unmonitored")
        .collect();
    assert_eq!(unmonitored.len(), 1);
    assert_eq!(
        unmonitored[0].subject,
        Subject::Source {
            source_id: source.source_id
        }
    );
    assert!(unmonitored[0].evidence.contains(&ev(30)));
    assert!(!unmonitored[0].evidence.contains(&ev(40)));
}

#[test]
fn a_compliant_asset_has_no_findings() {
    let mut asset = asset(vec![
        column("email", vec![label(EmailAddress, Confirmed, 20)]),
        column("religion", vec![label(Religion, Confirmed, 21)]),
    ]);
    asset.readers = vec![role("crm", &["read"], 30)];
    assert_eq!(evaluate(&all_rules(), &source(), &asset), vec![]);
}

#[test]
fn a_rechecked_violation_names_the_fact_that_changed_and_its_event() {
    let rule = builtin_rules()
        .find(|r| r.definition.id == "pci-dss-pan-without-verified-tls")
        .unwrap();
    let mut source = source();
    source.tls_mode = SslMode::Require;
    let mut asset = asset(vec![column(
        "card_no",
        vec![label(CreditCardNumber, Applied, 21)],
    )]);
    let active = [ActiveRule {
        rule: rule.clone(),
        severity: Severity::Critical,
    }];
    let detected = evaluate(&active, &source, &asset).remove(0);

    // A steward rejects the label (event 50): the rule no longer fires, and the change is the
    // label's status resting on event 50.
    asset.columns[0].labels[0] = label(CreditCardNumber, Rejected, 50);
    let (fires, now) = recheck(rule, &detected.subject, &source, &asset).unwrap();
    assert!(!fires);
    let changed = changed_facts(&detected.facts, &now);
    let summary: Vec<(&str, &str, u64)> = changed
        .iter()
        .map(|f| (f.fact.as_str(), f.value.as_str(), f.evidence.sequence))
        .collect();
    // The type did not change, but it now rests on the review event too.
    assert_eq!(
        summary,
        [
            ("label.type", "CREDIT_CARD_NUMBER", 50),
            ("label.status", "rejected", 50)
        ]
    );

    // The TLS mode is raised instead (configuration event 60).
    asset.columns[0].labels[0] = label(CreditCardNumber, Applied, 21);
    source.tls_mode = SslMode::VerifyFull;
    source.config_evidence = ev(60);
    let (fires, now) = recheck(rule, &detected.subject, &source, &asset).unwrap();
    assert!(!fires);
    let changed = changed_facts(&detected.facts, &now);
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].fact, "source.tls_mode");
    assert_eq!(changed[0].value, "verify_full");
    assert_eq!(changed[0].evidence, ev(60));

    // The column is gone: nothing to recheck.
    asset.columns.clear();
    assert_eq!(recheck(rule, &detected.subject, &source, &asset), None);
}

#[test]
fn a_tenant_custom_rule_is_evaluated_like_a_pack_rule() {
    use crate::aggregate::Aggregate;
    use crate::compliance::policy::{CompliancePolicy, CompliancePolicyCommand};
    use crate::compliance::rules::{RuleDefinition, SubjectLevel};
    let command = CompliancePolicyCommand::DefineCustomRule {
        definition: RuleDefinition {
            id: "acme-big-tables-described".into(),
            version: 0,
            title: "Large tables need a description".into(),
            framework: FrameworkId::Soc2,
            control: "SOC 2 CC6.1".into(),
            severity: Severity::Low,
            remediation: "Describe the table.".into(),
            subject: SubjectLevel::Asset,
            condition: "asset.row_estimate >= 1000 and not exists(asset.description)".into(),
        },
    };
    let state = CompliancePolicy::decide(&Default::default(), &command)
        .unwrap()
        .iter()
        .fold(CompliancePolicyState::default(), CompliancePolicy::evolve);
    let (rules, broken) = state.active_rules();
    assert!(broken.is_empty());
    let mut asset = asset(vec![]);
    let findings = evaluate(&rules, &source(), &asset);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].rule_id, "acme-big-tables-described");
    assert_eq!(findings[0].rule_version, 1);
    assert_eq!(findings[0].evidence, vec![ev(SCHEMA), ev(METADATA)]);
    asset.description = Some("Customers of the web shop".into());
    assert!(evaluate(&rules, &source(), &asset).is_empty());
}
