//! Classification end to end: a real PostgreSQL database with people, cards and look-alike
//! columns is scanned (every scan is followed by classification) and its labels, explanations,
//! review, lineage propagation and scan rule sets are checked through GraphQL — each test with
//! its own source database, stream and read-model database.

mod support;

use domain::access::Role;
use serde_json::{json, Value};
use support::{wait_projected, SourceDb, TestApp, REGISTER};

const SECRET_VALUE: &str = "classification-secret-4b1d";

/// Sampled values that must never appear anywhere the API answers.
const SAMPLED_VALUES: &[&str] = &[
    "4111111111111111",
    "amelia.hughes",
    "Hughes",
    "+44 20 7946 0",
    "E204617",
];

/// 60 contacts with names, e-mails, phones, card numbers and staff references; orders with
/// 16-digit references that fail Luhn; a directory view re-exposing the people columns.
const CRM: &str = r#"
CREATE SCHEMA crm;
CREATE TABLE crm.contacts (
    id              serial PRIMARY KEY,
    first_name      text NOT NULL,
    last_name       text NOT NULL,
    email           text,
    mobile_phone    text,
    card_number     text,
    staff_ref       text,
    email_verified  boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO crm.contacts (first_name, last_name, email, mobile_phone, card_number, staff_ref, email_verified)
SELECT f.name, l.name,
       lower(f.name) || '.' || lower(l.name) || g || '@example.org',
       '+44 20 7946 0' || lpad((100 + g)::text, 3, '0'),
       (ARRAY['4111111111111111', '5500005555555559', '4012888888881881', '378282246310005', '6011111111111117'])[1 + g % 5],
       'E' || (204600 + g)::text,
       g % 2 = 0
FROM generate_series(1, 60) AS g
JOIN (SELECT row_number() OVER () AS i, name FROM unnest(ARRAY['Amelia','Oliver','Isla','Noah','Ava','Leo','Mia','Arthur','Freya','Jack']) AS name) f ON f.i = 1 + g % 10
JOIN (SELECT row_number() OVER () AS i, name FROM unnest(ARRAY['Hughes','Patel','Khan','Murphy','Walsh','Evans','Byrne','Novak','Silva','Jensen','Moreau','Rossi']) AS name) l ON l.i = 1 + g % 12;
CREATE TABLE crm.orders (
    id          serial PRIMARY KEY,
    contact_id  integer NOT NULL REFERENCES crm.contacts (id),
    order_ref   text NOT NULL,
    total       numeric(10, 2) NOT NULL
);
INSERT INTO crm.orders (contact_id, order_ref, total)
SELECT 1 + g % 60, (1000000000000000 + g * 7919)::text || '', (g * 13 % 500) + 0.99
FROM generate_series(1, 80) AS g;
-- Every reference fails Luhn: change the last digit where it would pass.
UPDATE crm.orders SET order_ref = left(order_ref, 15) || ((right(order_ref, 1)::int + 1) % 10)::text
WHERE (SELECT sum(d) % 10 = 0 FROM (
    SELECT CASE WHEN i % 2 = 0 THEN (CASE WHEN 2 * substr(reverse(order_ref), i, 1)::int > 9 THEN 2 * substr(reverse(order_ref), i, 1)::int - 9 ELSE 2 * substr(reverse(order_ref), i, 1)::int END)
                ELSE substr(reverse(order_ref), i, 1)::int END AS d
    FROM generate_series(1, 16) AS i) digits);
CREATE TABLE crm.leads (id serial PRIMARY KEY, email text);
INSERT INTO crm.leads (email)
SELECT lower(f.name) || '.' || g || '@example.net'
FROM generate_series(1, 30) AS g
JOIN (SELECT row_number() OVER () AS i, name FROM unnest(ARRAY['Iris','Omar','Lena','Hugo','Nina']) AS name) f ON f.i = 1 + g % 5;
CREATE VIEW crm.contact_directory AS
    SELECT c.id, c.first_name AS given, c.email AS reach_at, c.last_name AS tag_line
    FROM crm.contacts c;
CREATE VIEW crm.mail_stats AS
    SELECT c.email_verified, count(c.email) AS mails FROM crm.contacts c GROUP BY c.email_verified;
"#;

const SCAN: &str = r#"mutation($id: ID!) {
  startScan(sourceId: $id, strategy: BALANCED, waitForCompletion: true) {
    completed failure classifiedColumns classificationFailure
  }
}"#;

const LABELS: &str = r#"query($s: ID!) {
  columnLabels(sourceId: $s) {
    assetId assetPath column label status confidence sensitivity frameworks origin propagatedFrom
    explanation signals { tier detail weight }
  }
}"#;

async fn registered_and_scanned(app: &TestApp, token: &str, db: &SourceDb) -> String {
    let registered = app
        .gql(
            Some(token),
            REGISTER,
            json!({ "input": db.input(), "wait": true }),
        )
        .await;
    let id = registered["data"]["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap_or_else(|| panic!("{registered}"))
        .to_owned();
    let check = app
        .gql(
            Some(token),
            "mutation($id: ID!) { validateConnection(id: $id) { ok message } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(check["data"]["validateConnection"]["ok"], true, "{check}");
    let scan = app.gql(Some(token), SCAN, json!({ "id": id })).await;
    let result = &scan["data"]["startScan"];
    assert_eq!(result["completed"], true, "{scan}");
    assert!(result["classificationFailure"].is_null(), "{scan}");
    assert!(
        result["classifiedColumns"].as_i64().unwrap() >= 13,
        "{scan}"
    );
    id
}

async fn labels(app: &TestApp, token: &str, source: &str) -> Vec<Value> {
    wait_projected(app, token).await;
    let response = app.gql(Some(token), LABELS, json!({ "s": source })).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["columnLabels"].as_array().unwrap().clone()
}

fn find<'a>(
    labels: &'a [Value],
    path_suffix: &str,
    column: &str,
    label: &str,
) -> Option<&'a Value> {
    labels.iter().find(|l| {
        l["assetPath"].as_str().unwrap().ends_with(path_suffix)
            && l["column"] == column
            && l["label"] == label
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_labels_sensitive_columns_with_reasons_and_leaves_look_alikes_alone() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(CRM, SECRET_VALUE).await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let source = registered_and_scanned(&app, &admin, &db).await;
    let labels = labels(&app, &admin, &source).await;

    for (column, label) in [
        ("email", "EMAIL_ADDRESS"),
        ("card_number", "CREDIT_CARD_NUMBER"),
        ("mobile_phone", "PHONE_NUMBER"),
        ("first_name", "PERSON_NAME"),
        ("last_name", "PERSON_NAME"),
    ] {
        let found = find(&labels, "crm.contacts", column, label)
            .unwrap_or_else(|| panic!("{column} is not labelled {label}: {labels:#?}"));
        assert_eq!(found["status"], "applied", "{found}");
        assert!(found["confidence"].as_f64().unwrap() >= 0.8, "{found}");
        assert!(
            !found["explanation"].as_str().unwrap().is_empty(),
            "{found}"
        );
        assert_eq!(found["origin"], "classifier");
    }
    let card = find(&labels, "crm.contacts", "card_number", "CREDIT_CARD_NUMBER").unwrap();
    assert_eq!(card["sensitivity"], "critical");
    assert!(card["frameworks"]
        .as_array()
        .unwrap()
        .contains(&json!("pci_cardholder")));
    assert!(
        card["signals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["tier"] == "rule" && s["detail"].as_str().unwrap().contains("Luhn")),
        "the card label says Luhn passed: {card}"
    );

    // Look-alikes: order references fail Luhn, booleans and timestamps named after e-mail.
    for (path, column) in [
        ("crm.orders", "order_ref"),
        ("crm.contacts", "email_verified"),
        ("crm.contacts", "created_at"),
        ("crm.orders", "total"),
        // Reads the e-mail column along its lineage, but holds counts.
        ("crm.mail_stats", "mails"),
    ] {
        assert!(
            !labels
                .iter()
                .any(|l| l["assetPath"].as_str().unwrap().ends_with(path)
                    && l["column"] == column
                    && l["status"] == "applied"),
            "{path}.{column} must not be labelled: {labels:#?}"
        );
    }

    // The view re-exposes the e-mail (classified there or propagated along its lineage).
    let reach = find(
        &labels,
        "crm.contact_directory",
        "reach_at",
        "EMAIL_ADDRESS",
    )
    .unwrap_or_else(|| panic!("the view's reach_at has no e-mail label: {labels:#?}"));
    assert_ne!(reach["status"], "rejected");

    // The catalog shows labels per column, and the stats count them; the compliance worker has
    // validated the classified source.
    app.wait_compliance().await;
    wait_projected(&app, &admin).await;
    let stats = app
        .gql(Some(&admin), "query($id: ID!) { dataSourceStats(id: $id) { classification { label sensitivity applied suggested } sensitivity { sensitivity columns } } dataSource(id: $id) { lifecycleState } }", json!({ "id": source }))
        .await;
    assert_eq!(stats["data"]["dataSource"]["lifecycleState"], "validated");
    let counts = stats["data"]["dataSourceStats"]["classification"]
        .as_array()
        .unwrap();
    let emails = counts
        .iter()
        .find(|c| c["label"] == "EMAIL_ADDRESS")
        .unwrap();
    assert!(emails["applied"].as_i64().unwrap() >= 1, "{stats}");

    // Every asset's columns carry exactly that asset's labels, however many assets one query
    // resolves (their labels are loaded together).
    let assets = app
        .gql(Some(&admin), "query($s: ID!) { assets(sourceId: $s) { path columns { name labels { label status } } } }", json!({ "s": source }))
        .await;
    let assets = assets["data"]["assets"]
        .as_array()
        .unwrap_or_else(|| panic!("{assets}"));
    let mut from_columns: Vec<(String, String, String, String)> = Vec::new();
    for asset in assets {
        for column in asset["columns"].as_array().unwrap() {
            for label in column["labels"].as_array().unwrap() {
                from_columns.push(
                    [
                        &asset["path"],
                        &column["name"],
                        &label["label"],
                        &label["status"],
                    ]
                    .map(|v| v.as_str().unwrap().to_owned())
                    .into(),
                );
            }
        }
    }
    let mut listed: Vec<(String, String, String, String)> = labels
        .iter()
        .map(|l| {
            [&l["assetPath"], &l["column"], &l["label"], &l["status"]]
                .map(|v| v.as_str().unwrap().to_owned())
                .into()
        })
        .collect();
    from_columns.sort();
    listed.sort();
    assert!(
        assets.len() > 1 && !listed.is_empty(),
        "several labelled assets: {assets:#?}"
    );
    assert_eq!(from_columns, listed);

    // No sampled value anywhere: labels, assets, events.
    let everything = [
        app.gql(Some(&admin), LABELS, json!({ "s": source })).await,
        app.gql(Some(&admin), "query($s: ID!) { assets(sourceId: $s) { path columns { name labels { label explanation signals { detail } } } } }", json!({ "s": source })).await,
        app.gql(Some(&admin), "{ auditTrail(first: 500) { entries { eventType data } } }", json!({})).await,
    ]
    .map(|v| v.to_string())
    .join("\n");
    for value in SAMPLED_VALUES.iter().chain([SECRET_VALUE].iter()) {
        assert!(
            !everything.contains(value),
            "{value} leaked into an API response"
        );
    }
    db.remove().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reviewers_confirm_reject_and_label_by_hand_and_rejections_stick() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(CRM, SECRET_VALUE).await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let viewer = TestApp::token("acme", &[Role::Viewer]);
    let source = registered_and_scanned(&app, &admin, &db).await;
    let labels = labels(&app, &admin, &source).await;
    let email = find(&labels, "crm.contacts", "email", "EMAIL_ADDRESS").unwrap();
    let contacts = email["assetId"].as_str().unwrap().to_owned();

    const RERUN: &str = "mutation($s: ID!) { startClassification(sourceId: $s, fromProfiles: true) { assets columns applied labelsRecorded outcomes { assetPath column label confidence } } }";
    let confidence_of_leads_email = |run: &Value| {
        run["data"]["startClassification"]["outcomes"]
            .as_array()
            .unwrap_or_else(|| panic!("{run}"))
            .iter()
            .find(|o| {
                o["assetPath"].as_str().unwrap().ends_with("crm.leads")
                    && o["column"] == "email"
                    && o["label"] == "EMAIL_ADDRESS"
            })
            .map_or(0.0, |o| o["confidence"].as_f64().unwrap())
    };
    let baseline = app.gql(Some(&admin), RERUN, json!({ "s": source })).await;
    let before_review = confidence_of_leads_email(&baseline);
    assert!(before_review >= 0.8, "{baseline}");

    const REJECT: &str = "mutation($a: ID!, $c: String!, $l: String!) { rejectClassification(assetId: $a, column: $c, label: $l, reason: \"test\") { recorded version lineageChanges } }";
    let forbidden = app
        .gql(
            Some(&viewer),
            REJECT,
            json!({ "a": contacts, "c": "email", "l": "EMAIL_ADDRESS" }),
        )
        .await;
    assert_eq!(support::error_code(&forbidden), Some("FORBIDDEN"));

    let rejected = app
        .gql(
            Some(&admin),
            REJECT,
            json!({ "a": contacts, "c": "email", "l": "EMAIL_ADDRESS" }),
        )
        .await;
    assert_eq!(
        rejected["data"]["rejectClassification"]["recorded"], true,
        "{rejected}"
    );
    let missing = app
        .gql(
            Some(&admin),
            REJECT,
            json!({ "a": contacts, "c": "email", "l": "US_SSN" }),
        )
        .await;
    assert_eq!(
        support::error_code(&missing),
        Some("NOT_FOUND"),
        "{missing}"
    );

    // Labels propagated from the rejected one are revoked.
    let after = self::labels(&app, &admin, &source).await;
    assert_eq!(
        find(&after, "crm.contacts", "email", "EMAIL_ADDRESS").unwrap()["status"],
        "rejected"
    );
    assert!(
        !after.iter().any(|l| l["propagatedFrom"]
            .as_str()
            .is_some_and(|p| p.ends_with("contacts.email"))),
        "{after:#?}"
    );

    // A label the classifier cannot find on its own arrives along the view's lineage, and goes
    // when its origin is rejected.
    let propagated = find(&after, "crm.contact_directory", "tag_line", "PERSON_NAME")
        .unwrap_or_else(|| panic!("tag_line has no propagated label: {after:#?}"));
    assert!(
        propagated["propagatedFrom"]
            .as_str()
            .is_some_and(|p| p.ends_with("crm.contacts.last_name")),
        "{propagated}"
    );
    assert_eq!(propagated["status"], "applied");
    let rejected = app
        .gql(
            Some(&admin),
            REJECT,
            json!({ "a": contacts, "c": "last_name", "l": "PERSON_NAME" }),
        )
        .await;
    assert!(
        rejected["data"]["rejectClassification"]["lineageChanges"]
            .as_i64()
            .unwrap()
            >= 1,
        "{rejected}"
    );
    let after = self::labels(&app, &admin, &source).await;
    assert!(
        find(&after, "crm.contact_directory", "tag_line", "PERSON_NAME")
            .is_none_or(|l| l["propagatedFrom"].is_null()),
        "the propagated label is revoked with its origin: {after:#?}"
    );

    // Reclassifying does not bring the rejected label back, and the look-alike column of
    // another table loses confidence from the rejection (the tenant's feedback).
    let rerun = app.gql(Some(&admin), RERUN, json!({ "s": source })).await;
    assert!(rerun["errors"].is_null(), "{rerun}");
    let after_review = confidence_of_leads_email(&rerun);
    assert!(
        after_review < before_review,
        "leads.email: {before_review} before the rejection, {after_review} after"
    );
    let again = self::labels(&app, &admin, &source).await;
    assert_eq!(
        find(&again, "crm.contacts", "email", "EMAIL_ADDRESS").unwrap()["status"],
        "rejected"
    );

    // Confirm and label by hand.
    let confirmed = app
        .gql(Some(&admin), "mutation($a: ID!) { confirmClassification(assetId: $a, column: \"card_number\", label: \"CREDIT_CARD_NUMBER\") { recorded } }", json!({ "a": contacts }))
        .await;
    assert_eq!(
        confirmed["data"]["confirmClassification"]["recorded"], true,
        "{confirmed}"
    );
    let manual = app
        .gql(Some(&admin), "mutation($a: ID!) { classifyManually(assetId: $a, column: \"staff_ref\", label: \"EMPLOYEE_ID\", note: \"HR numbers\") { recorded } }", json!({ "a": contacts }))
        .await;
    assert_eq!(
        manual["data"]["classifyManually"]["recorded"], true,
        "{manual}"
    );
    let unknown = app
        .gql(Some(&admin), "mutation($a: ID!) { classifyManually(assetId: $a, column: \"nope\", label: \"EMPLOYEE_ID\") { recorded } }", json!({ "a": contacts }))
        .await;
    assert_eq!(
        support::error_code(&unknown),
        Some("VALIDATION"),
        "{unknown}"
    );
    let last = self::labels(&app, &admin, &source).await;
    assert_eq!(
        find(&last, "crm.contacts", "card_number", "CREDIT_CARD_NUMBER").unwrap()["status"],
        "confirmed"
    );
    let hand = find(&last, "crm.contacts", "staff_ref", "EMPLOYEE_ID").unwrap();
    assert_eq!(
        (hand["origin"].as_str(), hand["status"].as_str()),
        (Some("manual"), Some("applied"))
    );
    assert!(hand["explanation"].as_str().unwrap().contains("HR numbers"));

    db.remove().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rule_sets_preview_without_writing_and_reevaluate_attached_sources() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(CRM, SECRET_VALUE).await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let source = registered_and_scanned(&app, &admin, &db).await;
    wait_projected(&app, &admin).await;

    let staff_rule = json!({
        "name": "HR",
        "customRules": [{ "label": "EMPLOYEE_ID", "namePattern": "(?i)staff|employee", "valuePattern": "E[0-9]{6}" }]
    });
    // Invalid definitions are refused with the field named.
    let invalid = app
        .gql(
            Some(&admin),
            "mutation($i: ScanRuleSetInput!) { createScanRuleSet(input: $i) }",
            json!({ "i": { "name": "bad", "threshold": 0.3, "floor": 0.6 } }),
        )
        .await;
    assert_eq!(
        support::error_code(&invalid),
        Some("VALIDATION"),
        "{invalid}"
    );
    assert!(invalid.to_string().contains("floor"), "{invalid}");

    // A preview writes nothing.
    app.wait_compliance().await;
    let before = app.stream_sequence().await;
    let preview = app
        .gql(Some(&admin), "query($s: ID!, $r: ScanRuleSetInput!) { previewScanRuleSet(sourceId: $s, ruleSet: $r) { assetPath column label state confidence explanation } }", json!({ "s": source, "r": staff_rule }))
        .await;
    assert!(preview["errors"].is_null(), "{preview}");
    let outcomes = preview["data"]["previewScanRuleSet"].as_array().unwrap();
    let staff = outcomes
        .iter()
        .find(|o| o["column"] == "staff_ref" && o["label"] == "EMPLOYEE_ID")
        .unwrap_or_else(|| panic!("{preview}"));
    assert_eq!(staff["state"], "applied", "{staff}");
    assert_eq!(
        app.stream_sequence().await,
        before,
        "a preview appends nothing"
    );

    // A rule set that only looks for e-mail addresses, attached to the source.
    let created = app
        .gql(
            Some(&admin),
            "mutation($i: ScanRuleSetInput!) { createScanRuleSet(input: $i) }",
            json!({ "i": { "name": "mail only", "enabledTypes": ["EMAIL_ADDRESS"] } }),
        )
        .await;
    let rule_set = created["data"]["createScanRuleSet"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    let attached = app
        .gql(
            Some(&admin),
            "mutation($s: ID!, $r: ID) { attachScanRuleSet(sourceId: $s, ruleSetId: $r) }",
            json!({ "s": source, "r": rule_set }),
        )
        .await;
    assert_eq!(attached["data"]["attachScanRuleSet"], true, "{attached}");

    // Changing it re-evaluates the stored profiles: only labels that change are recorded.
    let updated = app
        .gql(Some(&admin), "mutation($id: ID!, $i: ScanRuleSetInput!) { updateScanRuleSet(id: $id, input: $i) { version reevaluatedSources labelsChanged } }", json!({ "id": rule_set, "i": { "name": "mail and cards", "enabledTypes": ["EMAIL_ADDRESS", "CREDIT_CARD_NUMBER"] } }))
        .await;
    let update = &updated["data"]["updateScanRuleSet"];
    assert_eq!(update["version"], 2, "{updated}");
    assert_eq!(update["reevaluatedSources"], 1, "{updated}");
    assert!(update["labelsChanged"].as_i64().unwrap() > 0, "{updated}");
    let labels = labels(&app, &admin, &source).await;
    let live: Vec<&Value> = labels
        .iter()
        .filter(|l| l["origin"] == "classifier" && l["status"] != "rejected")
        .collect();
    assert!(
        live.iter()
            .all(|l| l["label"] == "EMAIL_ADDRESS" || l["label"] == "CREDIT_CARD_NUMBER"),
        "only the enabled types remain: {live:#?}"
    );
    let card = find(&labels, "crm.contacts", "card_number", "CREDIT_CARD_NUMBER").unwrap();
    assert!(card["signals"].to_string().len() > 2);
    let listed = app
        .gql(
            Some(&admin),
            "{ scanRuleSets { id name version } }",
            json!({}),
        )
        .await;
    assert!(listed.to_string().contains("mail and cards"), "{listed}");

    db.remove().await;
    app.stop().await;
}
