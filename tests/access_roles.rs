//! Custom roles and grants (the tenant's `AccessPolicy`) on a real source: a clinic database
//! with diagnosis codes is scanned and classified, then a custom role that reads assets but not
//! PHI is defined and granted. The HIPAA readers rule must fire on the PHI column, citing the
//! AccessPolicy event, and resolve when the role gets `asset:read_phi` or is retired, citing the
//! event that changed it. Bad input and a data steward are refused with nothing recorded.

mod support;

use domain::access::Role;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use support::{error_code, pursight, register_and_scan, text, wait_projected, SourceDb, TestApp};

const RULE: &str = "hipaa-phi-readable-without-phi-permission";

/// A small clinic: visits with ICD-10 diagnosis codes (invented rows).
const CLINIC: &str = r#"
CREATE SCHEMA clinic;
CREATE TABLE clinic.patient_visits (
    id             serial PRIMARY KEY,
    visit_day      date NOT NULL,
    diagnosis_code text NOT NULL
);
INSERT INTO clinic.patient_visits (visit_day, diagnosis_code)
SELECT DATE '2025-01-01' + g,
       (ARRAY['J45.909','E11.9','I10','K21.9','M54.5','N39.0','F41.1','R51.9','L40.0','H52.4'])[1 + g % 10]
FROM generate_series(1, 60) AS g;
"#;

/// Every event of tenant `acme`, as `pursight replay` prints them.
fn history(app: &TestApp) -> Vec<Value> {
    let output = pursight(app, &["replay", "--tenant", "acme", "--format", "ndjson"]);
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn is(event: &Value, event_type: &str) -> bool {
    event["type"]
        .as_str()
        .is_some_and(|t| t.starts_with(&format!("io.pursight.{event_type}.")))
}

/// The rule's violations by `column`: the last `ViolationDetected` or `ViolationResolved`.
fn rule_state(events: &[Value]) -> BTreeMap<String, Value> {
    let mut column_of: BTreeMap<String, String> = BTreeMap::new();
    let mut state = BTreeMap::new();
    for event in events {
        let data = &event["data"];
        let id = data["violation_id"].as_str().unwrap_or_default().to_owned();
        if is(event, "ViolationDetected") && data["rule_id"] == RULE {
            let column = data["subject"]["column"].as_str().unwrap().to_owned();
            column_of.insert(id.clone(), column.clone());
            state.insert(column, event.clone());
        } else if is(event, "ViolationResolved") {
            if let Some(column) = column_of.get(&id) {
                state.insert(column.clone(), event.clone());
            }
        }
    }
    state
}

/// Whether `event` cites (by id and hash) an event of `event_type`.
fn cites(events: &[Value], event: &Value, event_type: &str) -> bool {
    event["data"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|cited| {
            events.iter().any(|e| {
                e["id"] == cited["event_id"] && e["hash"] == cited["hash"] && is(e, event_type)
            })
        })
}

fn access_events(events: &[Value]) -> usize {
    events
        .iter()
        .filter(|e| e["aggregatetype"] == "access_policy")
        .count()
}

async fn gql_ok(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let response = app.gql(Some(token), query, variables).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"].clone()
}

const DEFINE: &str = "mutation($r: String!, $p: [String!]!, $d: String!) { defineRole(role: $r, permissions: $p, description: $d, waitForProjection: true) { version eventIds } }";
const CHANGE: &str = "mutation($r: String!, $p: [String!]!) { changeRole(role: $r, permissions: $p, description: \"Clinic analysts\") { version eventIds } }";

#[tokio::test(flavor = "multi_thread")]
async fn a_custom_role_without_read_phi_fires_the_hipaa_readers_rule_until_it_may_read_phi_or_is_retired(
) {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(CLINIC, "clinic-secret-7c21").await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let steward = TestApp::token("acme", &[Role::DataSteward]);
    let mut input = db.input();
    input["name"] = json!("Clinic");
    let source = register_and_scan(&app, &admin, input).await;
    wait_projected(&app, &admin).await;
    let labels = gql_ok(
        &app,
        &admin,
        "query($s: ID!) { columnLabels(sourceId: $s, statuses: [\"applied\", \"confirmed\"]) { column label frameworks } }",
        json!({ "s": source }),
    )
    .await;
    assert!(
        labels["columnLabels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["column"] == "diagnosis_code"
                && l["label"] == "HEALTH_DIAGNOSIS"
                && l["frameworks"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("hipaa_phi"))),
        "{labels}"
    );
    app.wait_compliance().await;
    // Only admin reads (it may read PHI): nothing fires.
    assert!(rule_state(&history(&app)).is_empty());

    // A data steward may not define roles; bad input is refused whole. Nothing is recorded.
    let before = access_events(&history(&app));
    let refused = app
        .gql(
            Some(&steward),
            DEFINE,
            json!({ "r": "clinic-analyst", "p": ["asset:read"], "d": "" }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    let invalid = app
        .gql(
            Some(&admin),
            DEFINE,
            json!({ "r": "Clinic Analyst", "p": ["asset:read", "asset:peek", "asset:read"], "d": "" }),
        )
        .await;
    assert_eq!(error_code(&invalid), Some("VALIDATION"), "{invalid}");
    let message = invalid["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("role \"Clinic Analyst\""), "{message}");
    assert!(
        message.contains("\"asset:peek\" is not a permission"),
        "{message}"
    );
    assert!(message.contains("asset:read is listed twice"), "{message}");
    let builtin = app
        .gql(
            Some(&admin),
            DEFINE,
            json!({ "r": "viewer", "p": ["asset:read", "asset:read_phi"], "d": "" }),
        )
        .await;
    assert_eq!(error_code(&builtin), Some("VALIDATION"), "{builtin}");
    assert_eq!(access_events(&history(&app)), before);

    // A custom role that reads assets but not PHI, granted to someone: the rule fires.
    gql_ok(
        &app,
        &admin,
        DEFINE,
        json!({ "r": "clinic-analyst", "p": ["asset:read", "classification:read"], "d": "Clinic analysts" }),
    )
    .await;
    app.wait_compliance().await;
    assert!(
        rule_state(&history(&app)).is_empty(),
        "a role nobody holds reads nothing"
    );
    gql_ok(
        &app,
        &admin,
        "mutation { grantRole(subject: \"kim@clinic.test\", role: \"clinic-analyst\") { eventIds } }",
        json!({}),
    )
    .await;
    app.wait_compliance().await;
    let events = history(&app);
    assert_eq!(
        access_events(&events),
        before + 2,
        "RoleDefined, RoleGranted"
    );
    let state = rule_state(&events);
    let detected = state
        .get("diagnosis_code")
        .unwrap_or_else(|| panic!("{RULE} did not fire on diagnosis_code: {state:?}"));
    assert!(is(detected, "ViolationDetected"), "{detected}");
    assert!(cites(&events, detected, "RoleGranted"), "{detected}");
    assert!(
        detected["data"]["facts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["role"] == "clinic-analyst"),
        "{detected}"
    );

    // Given asset:read_phi, the role may read PHI: resolved, citing the change.
    gql_ok(
        &app,
        &admin,
        CHANGE,
        json!({ "r": "clinic-analyst", "p": ["asset:read", "asset:read_phi"] }),
    )
    .await;
    app.wait_compliance().await;
    let events = history(&app);
    let resolved = &rule_state(&events)["diagnosis_code"];
    assert!(is(resolved, "ViolationResolved"), "{resolved}");
    assert!(cites(&events, resolved, "RoleChanged"), "{resolved}");

    // Without it again the rule fires again; retiring the role resolves it, citing the retirement.
    gql_ok(
        &app,
        &admin,
        CHANGE,
        json!({ "r": "clinic-analyst", "p": ["asset:read"] }),
    )
    .await;
    app.wait_compliance().await;
    let events = history(&app);
    let again = &rule_state(&events)["diagnosis_code"];
    assert!(is(again, "ViolationDetected"), "{again}");
    assert!(cites(&events, again, "RoleChanged"), "{again}");
    gql_ok(
        &app,
        &admin,
        "mutation { retireRole(role: \"clinic-analyst\") { eventIds } }",
        json!({}),
    )
    .await;
    app.wait_compliance().await;
    let events = history(&app);
    let resolved = &rule_state(&events)["diagnosis_code"];
    assert!(is(resolved, "ViolationResolved"), "{resolved}");
    assert!(cites(&events, resolved, "RoleRetired"), "{resolved}");

    // A built-in viewer reads assets but not PHI: granted, it fires; revoked, it resolves.
    let grant =
        "mutation($s: String!, $r: String!) { grantRole(subject: $s, role: $r) { eventIds } }";
    let revoke =
        "mutation($s: String!, $r: String!) { revokeRole(subject: $s, role: $r) { eventIds } }";
    let lee = json!({ "s": "lee@clinic.test", "r": "viewer" });
    gql_ok(&app, &admin, grant, lee.clone()).await;
    app.wait_compliance().await;
    let events = history(&app);
    let viewer = &rule_state(&events)["diagnosis_code"];
    assert!(is(viewer, "ViolationDetected"), "{viewer}");
    assert!(cites(&events, viewer, "RoleGranted"), "{viewer}");
    gql_ok(&app, &admin, revoke, lee.clone()).await;
    app.wait_compliance().await;
    let events = history(&app);
    let resolved = &rule_state(&events)["diagnosis_code"];
    assert!(is(resolved, "ViolationResolved"), "{resolved}");
    assert!(cites(&events, resolved, "RoleRevoked"), "{resolved}");
    let again = app.gql(Some(&admin), revoke, lee).await;
    assert_eq!(error_code(&again), Some("NOT_FOUND"), "{again}");

    // The roles query lists the built-in roles and the grants; data stewards may not read it.
    let roles = gql_ok(
        &app,
        &admin,
        "{ roles { name builtIn permissions subjects } }",
        json!({}),
    )
    .await;
    let names: Vec<&str> = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "admin",
            "data_steward",
            "viewer",
            "auditor",
            "compliance_officer"
        ]
    );
    let forbidden = app
        .gql(Some(&steward), "{ roles { name } }", json!({}))
        .await;
    assert_eq!(error_code(&forbidden), Some("FORBIDDEN"), "{forbidden}");

    db.remove().await;
    app.stop().await;
}
