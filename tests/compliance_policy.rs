//! Changing the compliance policy and accepting risk, end to end against real NATS and
//! PostgreSQL: a compliance officer accepts a violation found on a real, scanned source (a data
//! steward may not); custom rules are refused with every problem and nothing recorded, or defined
//! and found by the next `pursight compliance evaluate`; tuning changes a finding's severity and
//! disabling a framework resolves its violations; the `pursight compliance` subcommands do the
//! same from the command line.

mod support;

use domain::access::Role;
use serde_json::{json, Value};
use support::{
    error_code, of_type, pursight, register_and_scan, replayed, text, wait_projected, SourceDb,
    TestApp, REGISTER,
};

const SECRET_VALUE: &str = "policy-secret-51d0";

/// Buyers with e-mail addresses and card numbers that pass Luhn (public test numbers).
const SALES: &str = r#"
CREATE SCHEMA sales;
CREATE TABLE sales.buyers (
    id           serial PRIMARY KEY,
    email        text,
    card_number  text
);
INSERT INTO sales.buyers (email, card_number)
SELECT 'buyer' || g || '@example.net',
       (ARRAY['4111111111111111', '5500005555555559', '4012888888881881', '378282246310005', '6011111111111117'])[1 + g % 5]
FROM generate_series(1, 60) AS g;
"#;

/// The built-in rule that fires on the card column: the source is reached without verified TLS.
const RULE: &str = "pci-dss-pan-without-verified-tls";

const ACCEPT: &str = r#"
mutation($id: ID!, $reason: String!, $expires: DateTime!, $cid: ID) {
  acceptViolation(id: $id, reason: $reason, expiresAt: $expires, commandId: $cid, waitForProjection: true) {
    aggregateId version eventIds duplicate projected
  }
}"#;

const DEFINE: &str = r#"
mutation($input: ComplianceRuleInput!) {
  defineComplianceRule(input: $input) { aggregateId version eventIds }
}"#;

/// `pursight compliance ARGS --tenant acme`, which must succeed; its output.
fn compliance(app: &TestApp, args: &[&str]) -> String {
    let output = compliance_output(app, args);
    let out = text(&output);
    assert!(output.status.success(), "{args:?}: {out}");
    // Shown with --nocapture: what a user sees.
    println!("$ pursight compliance {}\n{out}", args.join(" "));
    out
}

fn compliance_output(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut all = vec!["compliance"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--tenant", "acme"]);
    pursight(app, &all)
}

/// The output line that names `needle`.
fn line_of<'a>(out: &'a str, needle: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle}: {out}"))
}

/// Registers the sales database (no TLS), validates, scans and classifies it; returns its id.
async fn scanned_source(app: &TestApp, db: &SourceDb) -> String {
    let admin = TestApp::token("acme", &[Role::Admin]);
    let source = register_and_scan(app, &admin, db.input()).await;
    wait_projected(app, &admin).await;
    source
}

/// The latest `ViolationDetected` of `rule`.
fn detected(events: &[Value], rule: &str) -> Vec<Value> {
    of_type(events, "ViolationDetected")
        .into_iter()
        .filter(|e| e["data"]["rule_id"] == rule)
        .map(|e| e["data"].clone())
        .collect()
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_compliance_officer_accepts_a_violation_and_a_data_steward_may_not() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(SALES, SECRET_VALUE).await;
    let source = scanned_source(&app, &db).await;
    let out = compliance(&app, &["evaluate", &source]);
    assert!(line_of(&out, RULE).contains("open"), "{out}");
    let events = replayed(&app, "acme");
    let found = detected(&events, RULE);
    assert_eq!(found.len(), 1, "{found:?}");
    let violation = found[0]["violation_id"].as_str().unwrap().to_owned();
    assert_eq!(found[0]["subject"]["column"], "card_number");

    // Neither a data steward nor a viewer or an auditor may accept the risk; nothing is recorded.
    let before = app.stream_sequence().await;
    let variables = json!({ "id": violation, "reason": "Compensating control: tokenised at the gateway", "expires": in_days(90) });
    for role in [Role::DataSteward, Role::Viewer, Role::Auditor] {
        let token = TestApp::token("acme", &[role]);
        let refused = app.gql(Some(&token), ACCEPT, variables.clone()).await;
        assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{role}: {refused}");
        assert!(
            refused["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("accept compliance risk"),
            "{refused}"
        );
    }

    // A compliance officer's bad requests are refused with the reason, before anything is written.
    let officer = TestApp::token("acme", &[Role::ComplianceOfficer]);
    for (reason, expires, expected) in [
        ("Too long a wait", in_days(400), "at most 366 days"),
        ("Already over", in_days(-1), "in the future"),
        ("   ", in_days(30), "reason"),
        ("bell\u{7} in the reason", in_days(30), "control characters"),
    ] {
        let refused = app
            .gql(
                Some(&officer),
                ACCEPT,
                json!({ "id": violation, "reason": reason, "expires": expires }),
            )
            .await;
        assert_eq!(error_code(&refused), Some("VALIDATION"), "{refused}");
        let message = refused["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
    }
    let unknown = app
        .gql(
            Some(&officer),
            ACCEPT,
            json!({ "id": uuid::Uuid::now_v7(), "reason": "No such thing", "expires": in_days(30) }),
        )
        .await;
    assert_eq!(error_code(&unknown), Some("NOT_FOUND"), "{unknown}");
    // Another tenant's officer does not find acme's violation.
    let elsewhere = TestApp::token("globex", &[Role::ComplianceOfficer]);
    let foreign = app
        .gql(
            Some(&elsewhere),
            ACCEPT,
            json!({ "id": violation, "reason": "Not ours", "expires": in_days(30) }),
        )
        .await;
    assert_eq!(error_code(&foreign), Some("NOT_FOUND"), "{foreign}");
    assert_eq!(app.stream_sequence().await, before, "nothing recorded");

    // The officer accepts; a retry with the same command id records nothing more.
    let command_id = uuid::Uuid::now_v7().to_string();
    let variables = json!({ "id": violation, "reason": "Compensating control: tokenised at the gateway", "expires": in_days(90), "cid": command_id });
    let accepted = app.gql(Some(&officer), ACCEPT, variables.clone()).await;
    let result = &accepted["data"]["acceptViolation"];
    assert_eq!(result["aggregateId"], violation.as_str(), "{accepted}");
    assert_eq!(
        result["eventIds"].as_array().unwrap().len(),
        1,
        "{accepted}"
    );
    assert_eq!(result["projected"], true, "{accepted}");
    let retried = app.gql(Some(&officer), ACCEPT, variables).await;
    assert_eq!(
        retried["data"]["acceptViolation"]["duplicate"], true,
        "{retried}"
    );
    assert_eq!(
        retried["data"]["acceptViolation"]["eventIds"],
        result["eventIds"]
    );
    let events = replayed(&app, "acme");
    let acceptances = of_type(&events, "ViolationAccepted");
    assert_eq!(acceptances.len(), 1, "{acceptances:?}");
    let acceptance = &acceptances[0]["data"];
    assert_eq!(acceptance["violation_id"], violation.as_str());
    assert_eq!(acceptance["by"], "alice@example.com");
    assert_eq!(
        acceptance["reason"],
        "Compensating control: tokenised at the gateway"
    );

    // The next evaluation shows it accepted, and records nothing over unchanged facts.
    let before = app.stream_sequence().await;
    let out = compliance(&app, &["evaluate", &source]);
    assert!(line_of(&out, RULE).contains("accepted"), "{out}");
    assert_eq!(app.stream_sequence().await, before);

    // Renewed from the command line, for 30 days.
    let out = compliance(
        &app,
        &[
            "accept",
            &violation,
            "--reason",
            "Renewed after review",
            "--expires",
            "30d",
        ],
    );
    assert!(
        out.contains(&format!("violation {violation} accepted by cli:")),
        "{out}"
    );
    let events = replayed(&app, "acme");
    assert_eq!(of_type(&events, "ViolationAccepted").len(), 2);
    let refused = compliance_output(
        &app,
        &[
            "accept",
            &violation,
            "--reason",
            "Soon",
            "--expires",
            "soon",
        ],
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("is not a time"),
        "{}",
        text(&refused)
    );

    // An officer manages no source.
    let register = app
        .gql(
            Some(&officer),
            REGISTER,
            json!({ "input": support::postgres_source("Elsewhere") }),
        )
        .await;
    assert_eq!(error_code(&register), Some("FORBIDDEN"), "{register}");

    db.remove().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn custom_rules_tuning_and_frameworks_change_what_the_next_evaluation_finds() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(SALES, SECRET_VALUE).await;
    let source = scanned_source(&app, &db).await;
    compliance(&app, &["evaluate", &source]);
    let officer = TestApp::token("acme", &[Role::ComplianceOfficer]);
    let steward = TestApp::token("acme", &[Role::DataSteward]);
    let rule = |condition: &str| {
        json!({
            "id": "acme-card-columns",
            "title": "Card numbers are catalogued",
            "framework": "pci-dss",
            "control": "PCI DSS v4.0 12.5.2",
            "severity": "medium",
            "subject": "column",
            "remediation": "Record where card data lives.",
            "condition": condition,
        })
    };
    const CARDS: &str = r#"any label (label.type == "CREDIT_CARD_NUMBER" and label.status in ["applied", "confirmed"])"#;

    // Every problem of an invalid rule is reported, with the condition's position; nothing is
    // recorded.
    let before = app.stream_sequence().await;
    let mut invalid =
        rule(r#"any label (label.kind == "CREDIT_CARD_NUMBER") and source.environment == "prod""#);
    invalid["framework"] = json!("iso27001");
    invalid["severity"] = json!("urgent");
    let refused = app
        .gql(Some(&officer), DEFINE, json!({ "input": invalid }))
        .await;
    assert_eq!(error_code(&refused), Some("VALIDATION"), "{refused}");
    let problems = refused["errors"][0]["extensions"]["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("{refused}"));
    let fields: Vec<&str> = problems
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    // Each problem of the condition is a message of its own, so all are fixed in one round.
    assert_eq!(
        fields,
        ["framework", "severity", "condition", "condition"],
        "{refused}"
    );
    let condition = problems[2]["message"].as_str().unwrap();
    assert!(
        condition.starts_with("at character 12: unknown fact `label.kind`"),
        "{condition}"
    );
    let environment = problems[3]["message"].as_str().unwrap();
    assert!(
        environment.contains("`source.environment` is never \"prod\""),
        "{environment}"
    );
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("unknown framework \"iso27001\""),
        "{message}"
    );
    assert!(message.contains("unknown severity \"urgent\""), "{message}");
    // A syntax error, a wrong type, and hostile text: each refused with its reason.
    let long = format!("{}true", "true and ".repeat(600));
    let deep = format!("{}true{}", "(".repeat(200), ")".repeat(200));
    for (condition, expected) in [
        ("any label (label.type == )", "at character 26"),
        ("asset.row_estimate > \"many\"", "at character "),
        (long.as_str(), "at most 4000 characters"),
        (deep.as_str(), "nests at most 32 levels"),
        ("true and \u{1b}[2J true", "control character U+001B"),
    ] {
        let refused = app
            .gql(Some(&officer), DEFINE, json!({ "input": rule(condition) }))
            .await;
        assert_eq!(error_code(&refused), Some("VALIDATION"), "{refused}");
        let problems = refused["errors"][0]["extensions"]["problems"]
            .as_array()
            .unwrap();
        assert_eq!(problems.len(), 1, "{refused}");
        assert_eq!(problems[0]["field"], "condition");
        let message = problems[0]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{expected}: {message}");
    }
    let mut two_lines = rule(CARDS);
    two_lines["title"] = json!("Card numbers\nare catalogued");
    let refused = app
        .gql(Some(&officer), DEFINE, json!({ "input": two_lines }))
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["problems"][0]["field"], "title",
        "{refused}"
    );
    // A data steward may not change the policy at all.
    let forbidden = app
        .gql(Some(&steward), DEFINE, json!({ "input": rule(CARDS) }))
        .await;
    assert_eq!(error_code(&forbidden), Some("FORBIDDEN"), "{forbidden}");
    assert_eq!(app.stream_sequence().await, before, "nothing recorded");

    // A valid custom rule is recorded once, and the next evaluation finds it.
    let defined = app
        .gql(Some(&officer), DEFINE, json!({ "input": rule(CARDS) }))
        .await;
    assert_eq!(
        defined["data"]["defineComplianceRule"]["eventIds"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{defined}"
    );
    let again = app
        .gql(Some(&officer), DEFINE, json!({ "input": rule(CARDS) }))
        .await;
    assert_eq!(
        again["data"]["defineComplianceRule"]["eventIds"],
        json!([]),
        "{again}"
    );
    let out = compliance(&app, &["evaluate", &source]);
    assert!(
        line_of(&out, "acme-card-columns").contains("medium"),
        "{out}"
    );
    let events = replayed(&app, "acme");
    let custom = detected(&events, "acme-card-columns");
    assert_eq!(custom.len(), 1, "{custom:?}");
    assert_eq!(custom[0]["rule_version"], 1);
    assert_eq!(custom[0]["subject"]["column"], "card_number");
    assert_eq!(custom[0]["severity"], "medium");

    // Tuning the built-in rule down: the next evaluation records the finding at its new severity.
    let tune = r#"mutation($rule: String!, $severity: String, $enabled: Boolean) {
        tuneComplianceRule(ruleId: $rule, severity: $severity, enabled: $enabled) { eventIds } }"#;
    let tuned = app
        .gql(
            Some(&officer),
            tune,
            json!({ "rule": RULE, "severity": "low" }),
        )
        .await;
    assert_eq!(
        tuned["data"]["tuneComplianceRule"]["eventIds"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{tuned}"
    );
    for (variables, code) in [
        (
            json!({ "rule": "acme-no-such-rule", "severity": "low" }),
            "NOT_FOUND",
        ),
        (json!({ "rule": RULE, "severity": "urgent" }), "VALIDATION"),
        (
            json!({ "rule": "Not A Rule\u{0}", "enabled": false }),
            "VALIDATION",
        ),
    ] {
        let refused = app.gql(Some(&officer), tune, variables).await;
        assert_eq!(error_code(&refused), Some(code), "{refused}");
    }
    let rules = app
        .gql(
            Some(&officer),
            r#"{ complianceRules(framework: "pci-dss") { id severity ownSeverity enabled frameworkEnabled custom version } }"#,
            json!({}),
        )
        .await;
    let listed = rules["data"]["complianceRules"].as_array().unwrap();
    let builtin = listed.iter().find(|r| r["id"] == RULE).unwrap();
    assert_eq!(builtin["severity"], "low", "{builtin}");
    assert_eq!(builtin["ownSeverity"], "critical", "{builtin}");
    let mine = listed
        .iter()
        .find(|r| r["id"] == "acme-card-columns")
        .unwrap();
    assert_eq!(mine["custom"], true);
    assert_eq!(mine["version"], 1);
    let out = compliance(&app, &["evaluate", &source]);
    assert!(line_of(&out, RULE).contains("low"), "{out}");
    let events = replayed(&app, "acme");
    let findings = detected(&events, RULE);
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert_eq!(findings[1]["severity"], "low");

    // Disabling PCI DSS: the next evaluation resolves the built-in and the custom violation.
    let toggle = r#"mutation($f: String!, $on: Boolean!) {
        enable: enableFramework(framework: $f) @include(if: $on) { eventIds }
        disable: disableFramework(framework: $f) @skip(if: $on) { eventIds } }"#;
    let disabled = app
        .gql(
            Some(&officer),
            toggle,
            json!({ "f": "pci-dss", "on": false }),
        )
        .await;
    assert_eq!(
        disabled["data"]["disable"]["eventIds"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{disabled}"
    );
    let forbidden = app
        .gql(
            Some(&steward),
            toggle,
            json!({ "f": "pci-dss", "on": true }),
        )
        .await;
    assert_eq!(error_code(&forbidden), Some("FORBIDDEN"), "{forbidden}");
    let unknown = app
        .gql(
            Some(&officer),
            toggle,
            json!({ "f": "iso27001", "on": true }),
        )
        .await;
    assert_eq!(error_code(&unknown), Some("VALIDATION"), "{unknown}");
    let out = compliance(&app, &["evaluate", &source]);
    assert!(!out.contains(RULE), "{out}");
    assert!(!out.contains("acme-card-columns"), "{out}");
    assert!(!out.contains("pci-dss: score"), "{out}");
    let events = replayed(&app, "acme");
    for id in [&findings[0]["violation_id"], &custom[0]["violation_id"]] {
        assert_eq!(
            of_type(&events, "ViolationResolved")
                .iter()
                .filter(|e| e["data"]["violation_id"] == *id)
                .count(),
            1,
            "{id} resolved once"
        );
    }

    // Retiring the custom rule; a second retirement finds no such rule.
    let retire = r#"mutation { retireComplianceRule(ruleId: "acme-card-columns") { eventIds } }"#;
    let retired = app.gql(Some(&officer), retire, json!({})).await;
    assert_eq!(
        retired["data"]["retireComplianceRule"]["eventIds"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{retired}"
    );
    let again = app.gql(Some(&officer), retire, json!({})).await;
    assert_eq!(error_code(&again), Some("NOT_FOUND"), "{again}");

    db.remove().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_lists_tunes_defines_retires_and_toggles_rules_with_clear_errors() {
    let app = TestApp::spawn().await;
    let out = compliance(&app, &["rules", "--framework", "pci-dss"]);
    let line = line_of(&out, RULE);
    assert!(line.contains("critical") && line.contains("yes"), "{out}");
    assert!(!out.contains("gdpr-"), "only PCI DSS rules: {out}");

    let out = compliance(&app, &["tune", RULE, "--severity", "high"]);
    assert!(
        out.contains(&format!("rule {RULE} tuned: severity high, enabled")),
        "{out}"
    );
    let out = compliance(&app, &["tune", RULE, "--enabled", "false"]);
    assert!(out.contains("severity high, disabled"), "{out}");
    let out = compliance(&app, &["rules", "--framework", "pci-dss"]);
    let line = line_of(&out, RULE);
    assert!(line.contains("high (own critical)"), "{out}");
    assert!(line.contains("no (rule disabled)"), "{out}");
    let out = compliance(
        &app,
        &["tune", RULE, "--severity", "default", "--enabled", "true"],
    );
    assert!(out.contains("severity critical, enabled"), "{out}");
    for (args, expected) in [
        (vec!["tune", RULE], "nothing to tune"),
        (
            vec!["tune", RULE, "--severity", "urgent"],
            "unknown severity",
        ),
        (
            vec!["tune", "acme-missing", "--severity", "low"],
            "no compliance rule acme-missing",
        ),
        (vec!["enable", "iso27001"], "unknown framework"),
        (
            vec!["retire", "acme-missing"],
            "no compliance rule acme-missing",
        ),
        (
            vec!["accept", "not-an-id", "--reason", "x", "--expires", "30d"],
            "violation id",
        ),
        (
            vec![
                "accept",
                "0190f5a0-0000-7000-8000-000000000000",
                "--reason",
                "x",
                "--expires",
                "30d",
            ],
            "violation not found",
        ),
        (
            vec![
                "accept",
                "0190f5a0-0000-7000-8000-000000000000",
                "--reason",
                "x",
                "--expires",
                "900d",
            ],
            "1 to 366",
        ),
    ] {
        let output = compliance_output(&app, &args);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            text(&output).contains(expected),
            "{args:?}: {}",
            text(&output)
        );
    }

    let dir = std::env::temp_dir().join(format!("pursight-{}", app.prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("rule.toml");
    std::fs::write(
        &good,
        r#"
id = "acme-secrets-anywhere"
title = "Secrets are stored"
framework = "soc2"
control = "SOC 2 CC6.1"
severity = "high"
subject = "column"
remediation = "Move secrets to a vault."
condition = 'any label (label.type in ["PASSWORD", "SECRET_KEY"])'
"#,
    )
    .unwrap();
    let good = good.to_str().unwrap();
    let out = compliance(&app, &["define", "--file", good]);
    assert!(
        out.contains("custom rule acme-secrets-anywhere version 1 defined"),
        "{out}"
    );
    let out = compliance(&app, &["define", "--file", good]);
    assert!(
        out.contains("version 1 is defined so already; nothing recorded"),
        "{out}"
    );
    let out = compliance(&app, &["rules", "--framework", "soc2"]);
    assert!(
        line_of(&out, "acme-secrets-anywhere").contains("custom v1"),
        "{out}"
    );

    // A broken file: every problem on its own line, the condition's with its position, and
    // nothing recorded.
    let before = app.stream_sequence().await;
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        r#"
id = "soc2-mine"
title = "Secrets"
framework = "iso27001"
severty = "high"
subject = "column"
remediation = "Move secrets to a vault."
condition = 'any label (label.type in ["PASSWORD"]) and'
"#,
    )
    .unwrap();
    let output = compliance_output(&app, &["define", "--file", bad.to_str().unwrap()]);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    println!("{err}");
    assert!(
        err.contains("is refused (6 problems); nothing was recorded"),
        "{err}"
    );
    for expected in [
        "  severty: unknown key",
        "  id: is reserved for built-in rules",
        "  framework: unknown framework \"iso27001\"",
        "  control: is missing",
        "  severity: is missing",
        "  condition: at character ",
    ] {
        assert!(err.contains(expected), "{expected}: {err}");
    }
    let missing = compliance_output(&app, &["define", "--file", "/nonexistent/rule.toml"]);
    assert!(text(&missing).contains("cannot open"), "{}", text(&missing));
    assert_eq!(app.stream_sequence().await, before, "nothing recorded");

    let out = compliance(&app, &["disable", "gdpr"]);
    assert!(
        out.contains("framework gdpr disabled: recorded event"),
        "{out}"
    );
    let out = compliance(&app, &["disable", "gdpr"]);
    assert!(
        out.contains("framework gdpr is disabled already; nothing recorded"),
        "{out}"
    );
    let out = compliance(&app, &["rules", "--framework", "gdpr"]);
    assert!(out.contains("no (framework disabled)"), "{out}");
    assert!(!out.contains("yes"), "{out}");
    compliance(&app, &["enable", "gdpr"]);
    let out = compliance(&app, &["retire", "acme-secrets-anywhere"]);
    assert!(
        out.contains("custom rule acme-secrets-anywhere retired"),
        "{out}"
    );

    std::fs::remove_dir_all(&dir).unwrap();
    app.stop().await;
}
