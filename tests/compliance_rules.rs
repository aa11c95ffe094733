//! The built-in compliance rules on real sources: a PostgreSQL bike-rental club and a MariaDB
//! ticket shop are scanned, classified and evaluated with `pursight compliance evaluate`. Each
//! rule must fire on its subject and nowhere else, and resolve when the fact it reads changes —
//! an asset's owner and tags (set with `updateAssetMetadata`), a steward's confirmation,
//! monitoring, the source's region, a column dropped from the source or a label rejected. Open
//! violations are folded from the stream itself.

mod support;

use domain::access::Role;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use support::{pursight, register_and_scan, text, wait_projected, write_secret, SourceDb, TestApp};

/// Riders with names, e-mails and a religion; bikes without personal data; card checks that
/// keep the card security code; API clients with plain-text passwords and secret keys (and
/// bcrypt-hashed passwords, which no rule flags).
const BIKE_CLUB: &str = r#"
CREATE SCHEMA lending;
CREATE TABLE lending.riders (
    id            serial PRIMARY KEY,
    full_name     text NOT NULL,
    contact_email text,
    religion      text
);
INSERT INTO lending.riders (full_name, contact_email, religion)
SELECT f.name || ' ' || l.name,
       lower(f.name) || '.' || lower(l.name) || g || '@example.net',
       (ARRAY['Buddhist','Catholic','Hindu','Muslim','Jewish','Protestant','Sikh','Orthodox'])[1 + g % 8]
FROM generate_series(1, 48) AS g
JOIN (SELECT row_number() OVER () AS i, name FROM unnest(ARRAY['Wiebke','Tobiah','Marisol','Kasimir','Odalys','Fenwick','Ysolde','Radomir']) AS name) f ON f.i = 1 + g % 8
JOIN (SELECT row_number() OVER () AS i, name FROM unnest(ARRAY['Quarles','Vandermeer','Okonkwo','Lindqvist','Ferreira','Halloran','Szabo','Ambrose','Delacroix','Nakagawa']) AS name) l ON l.i = 1 + g % 10;
CREATE TABLE lending.bikes (
    id         serial PRIMARY KEY,
    frame_code text NOT NULL,
    colour     text NOT NULL
);
INSERT INTO lending.bikes (frame_code, colour)
SELECT 'FR-' || (1000 + g), (ARRAY['teal','ochre','black','red'])[1 + g % 4] FROM generate_series(1, 30) AS g;
CREATE TABLE lending.card_checks (
    id      serial PRIMARY KEY,
    amount  numeric(8,2) NOT NULL,
    cvc     text NOT NULL
);
INSERT INTO lending.card_checks (amount, cvc)
SELECT 5 + g * 1.25, lpad(((g * 389) % 900 + 100)::text, 3, '0') FROM generate_series(1, 40) AS g;
CREATE TABLE lending.api_clients (
    id             serial PRIMARY KEY,
    service_label  text NOT NULL,
    api_secret     text NOT NULL,
    login_password text NOT NULL,
    portal_password_hash text NOT NULL
);
INSERT INTO lending.api_clients (service_label, api_secret, login_password, portal_password_hash)
SELECT 'svc-' || g,
       'sk_live_' || left(translate(encode(sha256(('bikes' || g)::bytea), 'base64'), '+/=', ''), 28),
       (ARRAY['Harbour','Quill','Saffron','Mosaic','Juniper'])[1 + g % 5] || g || '!x' || (g * 7),
       '$2b$12$' || left(translate(encode(sha256(('salt' || g)::bytea), 'base64')
                                   || encode(sha256(('pedal' || g)::bytea), 'base64'), '+/=', '.x'), 53)
FROM generate_series(1, 30) AS g;
"#;

/// The rules this file checks (other rules fire too: they are not looked at here).
const RULES: &[&str] = &[
    "pci-dss-sad-stored",
    "gdpr-special-category-unconfirmed",
    "gdpr-personal-data-without-owner-or-purpose",
    "gdpr-personal-data-without-retention",
    "gdpr-eu-resident-data-outside-eea",
    "soc2-plaintext-secrets",
    "soc2-production-personal-data-unmonitored",
];

/// Every event of tenant `acme`, as `pursight replay` prints them.
fn history(app: &TestApp) -> Vec<Value> {
    let output = pursight(app, &["replay", "--tenant", "acme", "--format", "ndjson"]);
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn evaluate(app: &TestApp, source: &str) -> String {
    let output = pursight(app, &["compliance", "evaluate", source, "--tenant", "acme"]);
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    println!("{out}");
    out
}

/// `(rule, subject)` of every open violation of the rules looked at, the subject written
/// `source`, `path` or `path.column`.
fn open(events: &[Value]) -> BTreeSet<(String, String)> {
    let mut violations: BTreeMap<String, Option<(String, String)>> = BTreeMap::new();
    for event in events {
        let data = &event["data"];
        let id = data["violation_id"].as_str().unwrap_or_default().to_owned();
        match event["type"].as_str().unwrap_or_default() {
            "io.pursight.ViolationDetected.v1" => {
                let subject = &data["subject"];
                let place = match subject["level"].as_str().unwrap() {
                    "source" => "source".to_owned(),
                    "asset" => subject["path"].as_str().unwrap().to_owned(),
                    _ => format!(
                        "{}.{}",
                        subject["path"].as_str().unwrap(),
                        subject["column"].as_str().unwrap()
                    ),
                };
                violations.insert(
                    id,
                    Some((data["rule_id"].as_str().unwrap().to_owned(), place)),
                );
            }
            "io.pursight.ViolationResolved.v1" => {
                violations.insert(id, None);
            }
            _ => {}
        }
    }
    violations
        .into_values()
        .flatten()
        .filter(|(rule, _)| RULES.contains(&rule.as_str()))
        .collect()
}

fn set(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    pairs
        .iter()
        .map(|(rule, place)| ((*rule).to_owned(), (*place).to_owned()))
        .collect()
}

/// The `ViolationResolved` of `rule` on `place` (the last one).
fn resolution<'a>(events: &'a [Value], rule: &str, place: &str) -> &'a Value {
    let detected: BTreeSet<&str> = events
        .iter()
        .filter(|e| e["type"] == "io.pursight.ViolationDetected.v1")
        .filter(|e| e["data"]["rule_id"] == rule)
        .filter(|e| {
            let s = &e["data"]["subject"];
            let path = s["path"].as_str().unwrap_or_default();
            match s["column"].as_str() {
                Some(column) => format!("{path}.{column}") == place,
                None => path == place || (place == "source" && s["level"] == "source"),
            }
        })
        .filter_map(|e| e["data"]["violation_id"].as_str())
        .collect();
    events
        .iter()
        .rev()
        .find(|e| {
            e["type"] == "io.pursight.ViolationResolved.v1"
                && e["data"]["violation_id"]
                    .as_str()
                    .is_some_and(|id| detected.contains(id))
        })
        .unwrap_or_else(|| panic!("{rule} on {place} was not resolved"))
}

/// Whether `resolved` cites an event of type `event_type`.
fn cites(events: &[Value], resolved: &Value, event_type: &str) -> bool {
    resolved["data"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|cited| {
            events.iter().any(|e| {
                e["id"] == cited["event_id"]
                    && e["hash"] == cited["hash"]
                    && e["type"]
                        .as_str()
                        .is_some_and(|t| t.starts_with(&format!("io.pursight.{event_type}.")))
            })
        })
}

async fn gql_ok(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let response = app.gql(Some(token), query, variables).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"].clone()
}

/// Registers, validates and scans (with classification) a source; returns its id.
async fn connect_and_scan(app: &TestApp, token: &str, input: Value) -> String {
    let source = register_and_scan(app, token, input).await;
    wait_projected(app, token).await;
    source
}

async fn scan(app: &TestApp, token: &str, source: &str) {
    let scan = gql_ok(
        app,
        token,
        "mutation($id: ID!) { startScan(sourceId: $id, strategy: BALANCED, waitForCompletion: true) { completed classificationFailure } }",
        json!({ "id": source }),
    )
    .await;
    assert_eq!(scan["startScan"]["completed"], true, "{scan}");
    assert!(
        scan["startScan"]["classificationFailure"].is_null(),
        "{scan}"
    );
    wait_projected(app, token).await;
}

/// The applied or confirmed labels of a source: `(path.column, label) -> (asset id, frameworks)`.
async fn labels(
    app: &TestApp,
    token: &str,
    source: &str,
) -> BTreeMap<(String, String), (String, Vec<String>)> {
    let data = gql_ok(
        app,
        token,
        "query($s: ID!) { columnLabels(sourceId: $s, statuses: [\"applied\", \"confirmed\"]) { assetId assetPath column label frameworks } }",
        json!({ "s": source }),
    )
    .await;
    data["columnLabels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                (
                    format!(
                        "{}.{}",
                        l["assetPath"].as_str().unwrap(),
                        l["column"].as_str().unwrap()
                    ),
                    l["label"].as_str().unwrap().to_owned(),
                ),
                (
                    l["assetId"].as_str().unwrap().to_owned(),
                    l["frameworks"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f.as_str().unwrap().to_owned())
                        .collect(),
                ),
            )
        })
        .collect()
}

const UPDATE_METADATA: &str = "mutation($a: ID!, $owner: String, $tags: [String!], $description: String) {
  updateAssetMetadata(assetId: $a, owner: $owner, tags: $tags, description: $description, waitForProjection: true) {
    eventIds duplicate projected
  }
}";

const ASSET: &str = "query($a: ID!) { asset(id: $a) { owner ownerInherited tags tagsInherited description descriptionInherited } }";

#[tokio::test(flavor = "multi_thread")]
async fn each_rule_fires_on_its_subject_only_and_resolves_when_its_fact_changes() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(BIKE_CLUB, "bike-club-secret-51f0").await;
    let token = TestApp::token("acme", &[Role::Admin]);
    let mut input = db.input();
    input["name"] = json!("Bike club");
    input["environment"] = json!("production");
    input["location"] = json!("cloud");
    input["cloudProvider"] = json!("aws");
    input["cloudConfig"] = json!({ "region": "us-east-1" });
    input["owner"] = json!("club-it");
    let source = connect_and_scan(&app, &token, input).await;

    let found = labels(&app, &token, &source).await;
    let label = |place: &str, t: &str| {
        found
            .get(&(format!("{}.lending.{place}", db.name), t.to_owned()))
            .unwrap_or_else(|| panic!("{place} is not labelled {t}: {found:?}"))
            .clone()
    };
    let (riders, name_frameworks) = label("riders.full_name", "PERSON_NAME");
    label("card_checks.cvc", "CARD_SECURITY_CODE");
    label("riders.religion", "RELIGION");
    label("api_clients.api_secret", "SECRET_KEY");
    label("api_clients.login_password", "PASSWORD");
    // Bcrypt hashes are passwords too, stored as they should be: the plain-text rule passes them.
    label("api_clients.portal_password_hash", "PASSWORD");
    // A rider's name in a bike club is personal data, not health information.
    assert_eq!(name_frameworks, ["gdpr_personal"], "{found:?}");
    let bikes = gql_ok(
        &app,
        &token,
        "query($s: ID!) { assets(sourceId: $s, search: \"bikes\") { id path } }",
        json!({ "s": source }),
    )
    .await["assets"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let path = |rest: &str| format!("{}.lending.{rest}", db.name);
    let (riders_path, cvc, secret, password) = (
        path("riders"),
        path("card_checks.cvc"),
        path("api_clients.api_secret"),
        path("api_clients.login_password"),
    );
    let religion = path("riders.religion");

    // First pass: each rule on its subject and only there.
    evaluate(&app, &source);
    let events = history(&app);
    assert_eq!(
        open(&events),
        set(&[
            ("pci-dss-sad-stored", &cvc),
            ("gdpr-special-category-unconfirmed", &religion),
            ("gdpr-personal-data-without-owner-or-purpose", &riders_path),
            ("gdpr-personal-data-without-retention", &riders_path),
            ("soc2-plaintext-secrets", &secret),
            ("soc2-plaintext-secrets", &password),
            ("soc2-production-personal-data-unmonitored", "source"),
        ])
    );

    // The asset inherits the source's owner until it has its own.
    let shown = gql_ok(&app, &token, ASSET, json!({ "a": riders })).await;
    assert_eq!(shown["asset"]["owner"], "club-it", "{shown}");
    assert_eq!(shown["asset"]["ownerInherited"], true, "{shown}");
    assert_eq!(shown["asset"]["tags"], json!([]), "{shown}");

    // A steward gives the riders an owner, a purpose, a retention period and EU residency, and
    // marks the bikes EU-resident too; the religion label is confirmed.
    let set_riders = gql_ok(
        &app,
        &token,
        UPDATE_METADATA,
        json!({ "a": riders, "owner": "rental-desk", "tags": ["purpose:rentals", "Retention:3y", "residency:eu"], "description": "Club members who rent bikes" }),
    )
    .await;
    assert_eq!(
        set_riders["updateAssetMetadata"]["projected"], true,
        "{set_riders}"
    );
    assert_eq!(
        set_riders["updateAssetMetadata"]["eventIds"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    gql_ok(
        &app,
        &token,
        UPDATE_METADATA,
        json!({ "a": bikes, "tags": ["residency:eu"] }),
    )
    .await;
    let shown = gql_ok(&app, &token, ASSET, json!({ "a": riders })).await;
    assert_eq!(
        shown["asset"],
        json!({
            "owner": "rental-desk", "ownerInherited": false,
            "tags": ["purpose:rentals", "residency:eu", "retention:3y"], "tagsInherited": false,
            "description": "Club members who rent bikes", "descriptionInherited": false,
        })
    );
    let confirmed = gql_ok(
        &app,
        &token,
        "mutation($a: ID!) { confirmClassification(assetId: $a, column: \"religion\", label: \"RELIGION\", note: \"members state it for dietary ride catering\") { recorded } }",
        json!({ "a": riders }),
    )
    .await;
    assert_eq!(confirmed["confirmClassification"]["recorded"], true);

    evaluate(&app, &source);
    let events = history(&app);
    assert_eq!(
        open(&events),
        set(&[
            ("pci-dss-sad-stored", &cvc),
            // EU-resident personal data in us-east-1: the riders, not the bikes (no personal data).
            ("gdpr-eu-resident-data-outside-eea", &riders_path),
            ("soc2-plaintext-secrets", &secret),
            ("soc2-plaintext-secrets", &password),
            ("soc2-production-personal-data-unmonitored", "source"),
        ])
    );
    for rule in [
        "gdpr-personal-data-without-owner-or-purpose",
        "gdpr-personal-data-without-retention",
    ] {
        let resolved = resolution(&events, rule, &riders_path);
        assert!(
            cites(&events, resolved, "AssetMetadataChanged"),
            "{resolved}"
        );
    }
    let resolved = resolution(&events, "gdpr-special-category-unconfirmed", &religion);
    assert!(
        cites(&events, resolved, "ClassificationConfirmed"),
        "{resolved}"
    );

    // Monitoring starts: the production source is no longer unwatched.
    for mutation in ["catalogDataSource", "startMonitoringDataSource"] {
        gql_ok(
            &app,
            &token,
            &format!("mutation($id: ID!) {{ {mutation}(id: $id, waitForProjection: true) {{ version }} }}"),
            json!({ "id": source }),
        )
        .await;
    }
    evaluate(&app, &source);
    let events = history(&app);
    assert!(!open(&events)
        .iter()
        .any(|(rule, _)| rule == "soc2-production-personal-data-unmonitored"));
    let resolved = resolution(
        &events,
        "soc2-production-personal-data-unmonitored",
        "source",
    );
    assert!(cites(&events, resolved, "MonitoringStarted"), "{resolved}");

    // The card security code and the plain secrets are dropped from the source and it is
    // scanned again: those violations resolve, the others stay.
    db.execute("ALTER TABLE lending.card_checks DROP COLUMN cvc; ALTER TABLE lending.api_clients DROP COLUMN api_secret, DROP COLUMN login_password;").await;
    scan(&app, &token, &source).await;
    evaluate(&app, &source);
    let events = history(&app);
    assert_eq!(
        open(&events),
        set(&[("gdpr-eu-resident-data-outside-eea", &riders_path)])
    );
    for (rule, place) in [
        ("pci-dss-sad-stored", &cvc),
        ("soc2-plaintext-secrets", &secret),
        ("soc2-plaintext-secrets", &password),
    ] {
        let resolved = resolution(&events, rule, place);
        assert!(cites(&events, resolved, "SchemaChanged"), "{resolved}");
    }

    // The source moves to Frankfurt: EU-resident data is in the EEA.
    gql_ok(
        &app,
        &token,
        "mutation($id: ID!) { updateDataSourceConfig(id: $id, input: { cloudConfig: { region: \"eu-central-1\" } }, waitForProjection: true) { version } }",
        json!({ "id": source }),
    )
    .await;
    evaluate(&app, &source);
    let events = history(&app);
    assert_eq!(open(&events), BTreeSet::new());
    let resolved = resolution(&events, "gdpr-eu-resident-data-outside-eea", &riders_path);
    assert!(cites(&events, resolved, "SourceConfigured"), "{resolved}");

    // Clearing the asset's own owner makes the source's apply again; a bad tag is refused and
    // nothing is recorded.
    let cleared = gql_ok(
        &app,
        &token,
        UPDATE_METADATA,
        json!({ "a": riders, "owner": "" }),
    )
    .await;
    assert_eq!(cleared["updateAssetMetadata"]["projected"], true);
    let shown = gql_ok(&app, &token, ASSET, json!({ "a": riders })).await;
    assert_eq!(shown["asset"]["owner"], "club-it", "{shown}");
    assert_eq!(shown["asset"]["ownerInherited"], true, "{shown}");
    let before = app.stream_sequence().await;
    let refused = app
        .gql(
            Some(&token),
            UPDATE_METADATA,
            json!({ "a": riders, "tags": ["purpose:rentals", "keepforever"], "owner": "two\nlines" }),
        )
        .await;
    assert_eq!(
        support::error_code(&refused),
        Some("VALIDATION"),
        "{refused}"
    );
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("owner:") && message.contains("tags[1]:"),
        "{message}"
    );
    assert_eq!(app.stream_sequence().await, before);
    // A reader may not change metadata.
    let reader = TestApp::token("acme", &[Role::Viewer]);
    let forbidden = app
        .gql(
            Some(&reader),
            UPDATE_METADATA,
            json!({ "a": riders, "owner": "someone" }),
        )
        .await;
    assert_eq!(
        support::error_code(&forbidden),
        Some("FORBIDDEN"),
        "{forbidden}"
    );

    db.remove().await;
    app.stop().await;
}

/// A MariaDB ticket shop: the card security code and the plain password fire on their columns
/// (not on the order table beside them); rejecting the CVV label resolves its violation.
#[tokio::test(flavor = "multi_thread")]
async fn on_mariadb_card_codes_and_plain_passwords_fire_on_their_columns() {
    let app = TestApp::spawn().await;
    let run = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
    let (database, user, password) = (
        format!("pursight_tix_{run}"),
        format!("tix_{run}"),
        format!("Tix-{run}-pw"),
    );
    let mut setup = format!(
        "CREATE DATABASE {database};
         CREATE TABLE {database}.ticket_orders (id INT PRIMARY KEY, seat_row VARCHAR(4), cvv VARCHAR(4));
         CREATE TABLE {database}.box_office_staff (id INT PRIMARY KEY, badge_no VARCHAR(12), staff_password VARCHAR(40));
         CREATE USER '{user}'@'%' IDENTIFIED BY '{password}';
         GRANT SELECT, SHOW VIEW ON {database}.* TO '{user}'@'%';"
    );
    for i in 1..=40 {
        setup.push_str(&format!(
            "INSERT INTO {database}.ticket_orders VALUES ({i}, '{}{}', '{}');
             INSERT INTO {database}.box_office_staff VALUES ({i}, 'B-{}', '{}{}#{}');",
            ["A", "B", "C", "D"][i % 4],
            i % 30 + 1,
            (i * 577) % 900 + 100,
            9000 + i,
            ["Lantern", "Pebble", "Cobalt", "Thistle"][i % 4],
            i * 13,
            i % 7
        ));
    }
    testkit::mariadb_exec(&setup).await.unwrap();
    let secret = write_secret(
        "acme",
        &format!("{database}.secret"),
        &format!("{password}\n"),
    );
    let token = TestApp::token("acme", &[Role::Admin]);
    let source = connect_and_scan(
        &app,
        &token,
        json!({
            "name": "Ticket shop",
            "kind": "mysql",
            "host": "127.0.0.1",
            "port": 3306,
            "database": database,
            "username": user,
            "passwordSecret": format!("file:{}", secret.display()),
        }),
    )
    .await;
    let found = labels(&app, &token, &source).await;
    let (orders, _) = found
        .get(&(
            format!("{database}.ticket_orders.cvv"),
            "CARD_SECURITY_CODE".to_owned(),
        ))
        .unwrap_or_else(|| panic!("cvv is not labelled: {found:?}"))
        .clone();

    evaluate(&app, &source);
    let events = history(&app);
    let cvv = format!("{database}.ticket_orders.cvv");
    let staff_password = format!("{database}.box_office_staff.staff_password");
    assert_eq!(
        open(&events),
        set(&[
            ("pci-dss-sad-stored", &cvv),
            ("soc2-plaintext-secrets", &staff_password),
        ])
    );

    gql_ok(
        &app,
        &token,
        "mutation($a: ID!) { rejectClassification(assetId: $a, column: \"cvv\", label: \"CARD_SECURITY_CODE\", reason: \"seat check digits\") { recorded } }",
        json!({ "a": orders }),
    )
    .await;
    evaluate(&app, &source);
    let events = history(&app);
    assert_eq!(
        open(&events),
        set(&[("soc2-plaintext-secrets", &staff_password)])
    );
    let resolved = resolution(&events, "pci-dss-sad-stored", &cvv);
    assert!(
        cites(&events, resolved, "ClassificationRejected"),
        "{resolved}"
    );

    let _ = std::fs::remove_file(&secret);
    testkit::mariadb_exec(&format!("DROP USER IF EXISTS '{user}'@'%'"))
        .await
        .unwrap();
    testkit::drop_mariadb_database(&database).await.unwrap();
    app.stop().await;
}
