//! Every built-in rule: facts where it fires (on the right subject) and close facts where it
//! does not.

use super::fixtures::*;
use crate::asset::LabelStatus::*;
use crate::classification::ClassificationType::*;
use crate::compliance::engine::{evaluate, ActiveRule};
use crate::compliance::facts::{AssetFacts, LabelFacts, SourceFacts};
use crate::compliance::packs::builtin_rules;
use crate::compliance::violation::Subject;
use crate::datasource::{CloudProvider, Environment, SslMode};

/// The subjects `rule_id` fires on, as `source`, `asset` or the column name.
fn fired(rule_id: &str, source: &SourceFacts, asset: &AssetFacts) -> Vec<String> {
    let rule = builtin_rules()
        .find(|r| r.definition.id == rule_id)
        .unwrap_or_else(|| panic!("no rule {rule_id}"));
    let active = [ActiveRule {
        rule: rule.clone(),
        severity: rule.definition.severity,
    }];
    evaluate(&active, source, asset)
        .into_iter()
        .map(|f| match f.subject {
            Subject::Source { .. } => "source".to_owned(),
            Subject::Asset { .. } => "asset".to_owned(),
            Subject::Column { column, .. } => column,
        })
        .collect()
}

fn none() -> Vec<String> {
    Vec::new()
}

fn one(subject: &str) -> Vec<String> {
    vec![subject.to_owned()]
}

#[test]
fn pci_card_numbers_need_verified_tls() {
    let id = "pci-dss-pan-without-verified-tls";
    let asset = asset(vec![
        column("card_no", vec![label(CreditCardNumber, Confirmed, 20)]),
        column("email", vec![label(EmailAddress, Applied, 21)]),
    ]);
    let mut source = source();
    assert_eq!(fired(id, &source, &asset), none());
    source.tls_mode = SslMode::Require;
    assert_eq!(fired(id, &source, &asset), one("card_no"));
    let rejected = super::fixtures::asset(vec![column(
        "card_no",
        vec![label(CreditCardNumber, Rejected, 20)],
    )]);
    assert_eq!(fired(id, &source, &rejected), none());
}

#[test]
fn pci_card_security_codes_may_not_be_stored_at_all() {
    let id = "pci-dss-sad-stored";
    let source = source();
    let stored = asset(vec![column(
        "cvv",
        vec![label(CardSecurityCode, Suggested, 20)],
    )]);
    assert_eq!(fired(id, &source, &stored), one("cvv"));
    let rejected = asset(vec![column(
        "cvv",
        vec![label(CardSecurityCode, Rejected, 20)],
    )]);
    assert_eq!(fired(id, &source, &rejected), none());
}

#[test]
fn pci_card_numbers_need_a_recorded_protection() {
    let id = "pci-dss-pan-unprotected";
    let source = source();
    let mut asset = asset(vec![column(
        "card_no",
        vec![label(CreditCardNumber, Applied, 20)],
    )]);
    assert_eq!(fired(id, &source, &asset), one("card_no"));
    asset.tags.insert("protection:tokenised".into());
    assert_eq!(fired(id, &source, &asset), none());
}

#[test]
fn hipaa_phi_is_readable_only_with_the_phi_permission() {
    let id = "hipaa-phi-readable-without-phi-permission";
    let source = source();
    let mut asset = asset(vec![
        column("diagnosis", vec![label(HealthDiagnosis, Confirmed, 20)]),
        column("id", vec![]),
    ]);
    assert_eq!(fired(id, &source, &asset), one("diagnosis"));
    // A name next to a diagnosis is PHI too.
    asset.columns[1] = column("name", vec![label(PersonName, Applied, 21)]);
    assert_eq!(fired(id, &source, &asset), vec!["diagnosis", "name"]);
    asset.readers = vec![role("clinician", &["read", "read_phi"], 31)];
    assert_eq!(fired(id, &source, &asset), none());
}

#[test]
fn hipaa_identifiers_without_health_data_are_not_phi() {
    let id = "hipaa-phi-readable-without-phi-permission";
    let mut source = source();
    source.tls_mode = SslMode::Disable;
    // A video-rental customer's name and email: personal data, but no health information.
    let asset = asset(vec![
        column("name", vec![label(PersonName, Applied, 20)]),
        column("email", vec![label(EmailAddress, Confirmed, 21)]),
    ]);
    assert_eq!(fired(id, &source, &asset), none());
    assert_eq!(
        fired("hipaa-phi-without-verified-tls", &source, &asset),
        none()
    );
}

#[test]
fn hipaa_phi_needs_verified_tls() {
    let id = "hipaa-phi-without-verified-tls";
    let asset = asset(vec![column(
        "mrn",
        vec![label(MedicalRecordNumber, Applied, 20)],
    )]);
    let mut source = source();
    assert_eq!(fired(id, &source, &asset), none());
    source.tls_mode = SslMode::Disable;
    assert_eq!(fired(id, &source, &asset), one("mrn"));
}

#[test]
fn gdpr_special_category_labels_need_a_steward() {
    let id = "gdpr-special-category-unconfirmed";
    let source = source();
    let applied = asset(vec![column("religion", vec![label(Religion, Applied, 20)])]);
    assert_eq!(fired(id, &source, &applied), one("religion"));
    let confirmed = asset(vec![column(
        "religion",
        vec![label(Religion, Confirmed, 20)],
    )]);
    assert_eq!(fired(id, &source, &confirmed), none());
}

#[test]
fn gdpr_personal_data_needs_an_owner_and_a_purpose() {
    let id = "gdpr-personal-data-without-owner-or-purpose";
    let source = source();
    let mut asset = asset(vec![column(
        "email",
        vec![label(EmailAddress, Applied, 20)],
    )]);
    assert_eq!(fired(id, &source, &asset), none());
    asset.owner = None;
    assert_eq!(fired(id, &source, &asset), one("asset"));
    asset.owner = Some("dpo".into());
    asset.tags.remove("purpose:billing");
    assert_eq!(fired(id, &source, &asset), one("asset"));
    // No personal data: nothing to account for.
    asset.columns = vec![column("sku", vec![])];
    assert_eq!(fired(id, &source, &asset), none());
}

#[test]
fn gdpr_personal_data_needs_a_retention_period() {
    let id = "gdpr-personal-data-without-retention";
    let source = source();
    let mut asset = asset(vec![column(
        "email",
        vec![label(EmailAddress, Confirmed, 20)],
    )]);
    assert_eq!(fired(id, &source, &asset), none());
    asset.tags.remove("retention:2y");
    assert_eq!(fired(id, &source, &asset), one("asset"));
}

#[test]
fn gdpr_eu_resident_data_stays_in_the_eea() {
    let id = "gdpr-eu-resident-data-outside-eea";
    let mut asset = asset(vec![column(
        "email",
        vec![label(EmailAddress, Applied, 20)],
    )]);
    asset.tags.insert("residency:eu".into());
    let mut source = source();
    assert_eq!(fired(id, &source, &asset), none());
    source.region = Some("us-east-1".into());
    assert_eq!(fired(id, &source, &asset), one("asset"));
    source.cloud_provider = Some(CloudProvider::Gcp);
    source.region = Some("europe-west2".into()); // London: outside the EEA
    assert_eq!(fired(id, &source, &asset), one("asset"));
    asset.tags.remove("residency:eu");
    assert_eq!(fired(id, &source, &asset), none());
}

#[test]
fn gdpr_personal_data_is_not_reached_in_plain_text() {
    let id = "gdpr-personal-data-over-plain-connections";
    let asset = asset(vec![column("phone", vec![label(PhoneNumber, Applied, 20)])]);
    let mut source = source();
    source.tls_mode = SslMode::Require;
    assert_eq!(fired(id, &source, &asset), none());
    source.tls_mode = SslMode::Disable;
    assert_eq!(fired(id, &source, &asset), one("asset"));
}

#[test]
fn gdpr_real_personal_data_stays_out_of_development() {
    let id = "gdpr-personal-data-in-non-production";
    let asset = asset(vec![column(
        "email",
        vec![label(EmailAddress, Applied, 20)],
    )]);
    let mut source = source();
    assert_eq!(fired(id, &source, &asset), none());
    source.environment = Some(Environment::Development);
    assert_eq!(fired(id, &source, &asset), one("asset"));
}

#[test]
fn soc2_passwords_and_secret_keys_are_never_stored_readable() {
    let id = "soc2-plaintext-secrets";
    let source = source();
    let asset = asset(vec![
        column("password", vec![label(Password, Applied, 20)]),
        column("api_key", vec![label(SecretKey, Confirmed, 21)]),
        column("hint", vec![label(Password, Suggested, 22)]),
        column(
            "password_digest",
            vec![LabelFacts {
                hashed: true,
                ..label(Password, Applied, 23)
            }],
        ),
    ]);
    // The hashed passwords are stored as they should be; the readable ones and the key are not.
    assert_eq!(fired(id, &source, &asset), vec!["password", "api_key"]);
}

#[test]
fn soc2_production_personal_data_is_monitored() {
    let id = "soc2-production-personal-data-unmonitored";
    let asset = asset(vec![column(
        "email",
        vec![label(EmailAddress, Applied, 20)],
    )]);
    let mut source = source();
    assert_eq!(fired(id, &source, &asset), none());
    source.monitoring = false;
    assert_eq!(fired(id, &source, &asset), one("source"));
    source.environment = Some(Environment::Staging);
    assert_eq!(fired(id, &source, &asset), none());
}

#[test]
fn soc2_production_connections_are_encrypted() {
    let id = "soc2-production-without-tls";
    let asset = asset(vec![]);
    let mut source = source();
    source.tls_mode = SslMode::Disable;
    assert_eq!(fired(id, &source, &asset), one("source"));
    source.environment = None;
    assert_eq!(fired(id, &source, &asset), none());
}

#[test]
fn soc2_production_credentials_are_encrypted_at_rest() {
    let id = "soc2-production-credentials-unencrypted";
    let asset = asset(vec![]);
    let mut source = source();
    assert_eq!(fired(id, &source, &asset), none());
    source.credentials_encrypted = false;
    assert_eq!(fired(id, &source, &asset), one("source"));
}

#[test]
fn every_built_in_rule_has_a_test_here() {
    let tested = include_str!("pack_rules.rs");
    for rule in builtin_rules() {
        let id = &rule.definition.id;
        assert!(
            tested.contains(&format!("let id = \"{id}\"")),
            "{id} has no test in pack_rules.rs"
        );
    }
}
