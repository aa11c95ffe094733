//! Grants authorise requests (issue 18): a subject whose token carries no role may do what the
//! roles granted to it in its tenant allow — built-in or custom — from the request after the
//! grant is projected until the request after its revocation is; a grant in another tenant to
//! the same subject name gives nothing. A custom role with a condition ("everything but
//! critical data") sees exactly the assets it admits in `assets`, `asset`, `columnLabels`,
//! `reviewQueue`, `lineage`, `history` and the `events` subscription.

mod support;

use domain::access::Role;
use domain::TenantId;
use futures::SinkExt;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use support::ws::{self, Socket};
use support::{
    error_code, postgres_source, pursight, register_and_scan, text, wait_projected, SourceDb,
    TestApp, CARD_SHOP, REGISTER, SECRET,
};
use tokio_tungstenite::tungstenite::Message;

const KIM: &str = "kim@acme.test";

/// A token of `tenant` for `subject`, carrying `roles`.
fn token_of(tenant: &str, subject: &str, roles: &[Role]) -> String {
    api::auth::issue_token(
        SECRET,
        subject,
        &TenantId::parse(tenant).unwrap(),
        roles,
        3600,
    )
}

async fn gql_ok(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let response = app.gql(Some(token), query, variables).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"].clone()
}

const GRANT: &str = "mutation($s: String!, $r: String!) { grantRole(subject: $s, role: $r, waitForProjection: true) { projected } }";
const REVOKE: &str = "mutation($s: String!, $r: String!) { revokeRole(subject: $s, role: $r, waitForProjection: true) { projected } }";
const DEFINE: &str = "mutation($r: String!, $p: [String!]!, $c: AssetConditionInput) { defineRole(role: $r, permissions: $p, condition: $c, waitForProjection: true) { projected } }";

async fn grant(app: &TestApp, admin: &str, subject: &str, role: &str) {
    let done = gql_ok(app, admin, GRANT, json!({ "s": subject, "r": role })).await;
    assert_eq!(done["grantRole"]["projected"], true, "{done}");
}

async fn revoke(app: &TestApp, admin: &str, subject: &str, role: &str) {
    let done = gql_ok(app, admin, REVOKE, json!({ "s": subject, "r": role })).await;
    assert_eq!(done["revokeRole"]["projected"], true, "{done}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grant_authorises_requests_until_it_is_revoked_and_only_in_its_tenant() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let globex_admin = TestApp::token("globex", &[Role::Admin]);
    let kim = token_of("acme", KIM, &[]);
    let list = "{ dataSources { id } }";
    let register = |name: &str| json!({ "input": postgres_source(name) });

    // No role in the token, no grant: refused.
    let refused = app.gql(Some(&kim), list, json!({})).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");

    // Another tenant grants the same subject name every power: nothing changes here.
    grant(&app, &globex_admin, KIM, "admin").await;
    let refused = app.gql(Some(&kim), list, json!({})).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");

    // A granted built-in role: kim reads, but may not register.
    grant(&app, &admin, KIM, "viewer").await;
    gql_ok(&app, &kim, list, json!({})).await;
    // Also over a WebSocket opened now, whose later operations must see the revocation below.
    let mut socket = subscribe(&app, &kim, list).await;
    let first = next_json(&mut socket).await.expect("an answer");
    assert!(
        first["payload"]["data"]["dataSources"].is_array(),
        "{first}"
    );
    let refused = app.gql(Some(&kim), REGISTER, register("Kim's")).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");

    // A granted custom role that may update data sources: kim registers (the command handler
    // checks the grant too, not only the resolver).
    gql_ok(
        &app,
        &admin,
        DEFINE,
        json!({ "r": "source-keeper", "p": ["data_source:create", "data_source:update"] }),
    )
    .await;
    grant(&app, &admin, KIM, "source-keeper").await;
    let registered = gql_ok(&app, &kim, REGISTER, register("Kim's")).await;
    assert!(registered["registerDataSource"]["aggregateId"].is_string());
    // A custom role never hands out roles, whatever it holds.
    let escalate = app
        .gql(Some(&kim), GRANT, json!({ "s": KIM, "r": "admin" }))
        .await;
    assert_eq!(error_code(&escalate), Some("FORBIDDEN"), "{escalate}");

    // Revoked: the next request is refused.
    revoke(&app, &admin, KIM, "source-keeper").await;
    let refused = app.gql(Some(&kim), REGISTER, register("Kim's again")).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    gql_ok(&app, &kim, list, json!({})).await;
    revoke(&app, &admin, KIM, "viewer").await;
    let refused = app.gql(Some(&kim), list, json!({})).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    let again = json!({ "id": "2", "type": "subscribe", "payload": { "query": list } });
    socket
        .send(Message::Text(again.to_string().into()))
        .await
        .unwrap();
    let refused = loop {
        let message = next_json(&mut socket).await.expect("an answer");
        if message["id"] == "2" && message["type"] == "next" {
            break message;
        }
    };
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );

    // The read model rebuilds from the stream to the same grants: viewer again, no keeper.
    grant(&app, &admin, KIM, "viewer").await;
    let rebuilt = pursight(&app, &["rebuild", "access"]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt));
    gql_ok(&app, &kim, list, json!({})).await;
    let refused = app.gql(Some(&kim), REGISTER, register("Kim's again")).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");

    // Token roles keep working without any grant (bootstrap).
    let viewer = token_of("acme", KIM, &[Role::Viewer]);
    gql_ok(&app, &viewer, list, json!({})).await;
    app.stop().await;
}

/// Orders and their lines beside the card shop's customers (who hold card numbers: critical).
const ORDERS: &str = r#"
CREATE TABLE billing.orders (
    id          serial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES billing.customers (id),
    placed_on   date NOT NULL,
    total_cents integer NOT NULL
);
INSERT INTO billing.orders (customer_id, placed_on, total_cents)
SELECT 1 + g % 60, DATE '2025-03-01' + g, 100 * g FROM generate_series(1, 40) AS g;
CREATE TABLE billing.order_lines (
    id       serial PRIMARY KEY,
    order_id integer NOT NULL REFERENCES billing.orders (id),
    quantity integer NOT NULL
);
INSERT INTO billing.order_lines (order_id, quantity)
SELECT 1 + g % 40, 1 + g % 3 FROM generate_series(1, 80) AS g;
"#;

/// `(id, path)` of every asset `token` may list of `source`, one page of `first` at a time.
async fn asset_pages(
    app: &TestApp,
    token: &str,
    source: &str,
    first: i64,
) -> Vec<(String, String)> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = gql_ok(
            app,
            token,
            "query($s: ID!, $f: Int!, $a: String) { assets(sourceId: $s, first: $f, after: $a) { id path } }",
            json!({ "s": source, "f": first, "a": after }),
        )
        .await;
        let rows = page["assets"].as_array().unwrap().clone();
        assert!(rows.len() as i64 <= first);
        for row in &rows {
            all.push((
                row["id"].as_str().unwrap().to_owned(),
                row["path"].as_str().unwrap().to_owned(),
            ));
        }
        if (rows.len() as i64) < first {
            return all;
        }
        after = Some(all.last().unwrap().1.clone());
    }
}

fn id_ending(assets: &[(String, String)], suffix: &str) -> String {
    assets
        .iter()
        .find(|(_, path)| path.ends_with(suffix))
        .unwrap_or_else(|| panic!("no asset ending in {suffix}: {assets:?}"))
        .0
        .clone()
}

/// The asset ids of `columnLabels` or `reviewQueue` rows.
fn label_assets(rows: &Value) -> BTreeSet<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|l| l["assetId"].as_str().unwrap().to_owned())
        .collect()
}

/// The assets the edges of `lineage` touch.
fn lineage_assets(rows: &Value) -> BTreeSet<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .flat_map(|e| [e["fromAssetId"].clone(), e["toAssetId"].clone()])
        .map(|id| id.as_str().unwrap().to_owned())
        .collect()
}

async fn subscribe(app: &TestApp, token: &str, query: &str) -> Socket {
    ws::subscribe(app, token, query, json!({})).await
}

/// The next protocol message, or None after 10 s of silence or a close.
async fn next_json(socket: &mut Socket) -> Option<Value> {
    ws::next_json(socket, Duration::from_secs(10)).await
}

/// The events delivered until the registration of a data source named `marker` (which every
/// subscriber with any access sees: it is about no asset). Grants are no fence: they name
/// people and reach only subscribers who manage roles.
async fn events_until(socket: &mut Socket, marker: &str) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let message = next_json(socket)
            .await
            .unwrap_or_else(|| panic!("the stream ended before {marker}: {events:?}"));
        assert_eq!(message["type"], "next", "{message}");
        let event = message["payload"]["data"]["events"].clone();
        let done = event["name"] == "SourceRegistered" && event["data"]["config"]["name"] == marker;
        events.push(event);
        if done {
            return events;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_that_reads_everything_but_critical_data_sees_exactly_that_everywhere() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(&format!("{CARD_SHOP}{ORDERS}"), "shop-secret-41d9").await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let globex_admin = TestApp::token("globex", &[Role::Admin]);
    let kim = token_of("acme", KIM, &[]);
    let source = register_and_scan(&app, &admin, db.input()).await;
    wait_projected(&app, &admin).await;

    let everything = asset_pages(&app, &admin, &source, 1000).await;
    let customers = id_ending(&everything, "billing.customers");
    let orders = id_ending(&everything, "billing.orders");
    let lines = id_ending(&everything, "billing.order_lines");
    let labels_query =
        "query($s: ID!) { columnLabels(sourceId: $s) { assetId column label sensitivity } }";
    let all_labels = gql_ok(&app, &admin, labels_query, json!({ "s": source })).await;
    assert!(
        all_labels["columnLabels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["assetId"] == customers.as_str() && l["sensitivity"] == "critical"),
        "the customers' card numbers are critical: {all_labels}"
    );

    // The role, granted to kim, whose token carries no role at all.
    let role = json!({
        "r": "analyst",
        "p": ["asset:read", "classification:read", "data_source:read", "audit:read"],
        "c": { "maxSensitivity": "high" },
    });
    gql_ok(&app, &admin, DEFINE, role).await;
    // Conditions narrow reading only: a condition with a write is refused, nothing recorded.
    let refused = app
        .gql(
            Some(&admin),
            DEFINE,
            json!({ "r": "clerk", "p": ["asset:read", "asset:update"], "c": { "maxSensitivity": "high" } }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("VALIDATION"), "{refused}");
    let refused = app
        .gql(
            Some(&admin),
            DEFINE,
            json!({ "r": "clerk", "p": ["asset:read"], "c": { "maxSensitivity": "extreme" } }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("VALIDATION"), "{refused}");
    grant(&app, &admin, KIM, "analyst").await;
    let roles = gql_ok(
        &app,
        &admin,
        "{ roles { name condition { maxSensitivity } } }",
        json!({}),
    )
    .await;
    assert!(
        roles["roles"]
            .as_array()
            .unwrap()
            .contains(&json!({ "name": "analyst", "condition": { "maxSensitivity": "high" } })),
        "{roles}"
    );

    // A subscription open from before: it sees the asset events it may read, and not the others.
    let subscription = "subscription { events(fromSequence: 1) { name aggregateId data } }";
    let mut socket = subscribe(&app, &kim, subscription).await;

    // assets: everything but the customers, in pages that stay full and cursors that hold.
    let expected: Vec<(String, String)> = everything
        .iter()
        .filter(|(id, _)| *id != customers)
        .cloned()
        .collect();
    assert_eq!(asset_pages(&app, &kim, &source, 1000).await, expected);
    assert_eq!(asset_pages(&app, &kim, &source, 1).await, expected);
    assert_eq!(asset_pages(&app, &kim, &source, 2).await, expected);
    let searched = gql_ok(
        &app,
        &kim,
        "{ assets(search: \"customers\") { id } }",
        json!({}),
    )
    .await;
    // (The table's serial sequence, `customers_id_seq`, is an asset of its own that holds no
    // data: it may be found.)
    assert!(
        !searched["assets"].to_string().contains(customers.as_str()),
        "{searched}"
    );

    // asset: null, also behind aliases and fragments; the others in full.
    let one = gql_ok(
        &app,
        &kim,
        "query($c: ID!, $o: ID!) { hidden: asset(id: $c) { ...A } again: asset(id: $c) { id } shown: asset(id: $o) { ...A } } fragment A on Asset { id path columns { name labels { label } } history { change } }",
        json!({ "c": customers, "o": orders }),
    )
    .await;
    assert!(one["hidden"].is_null(), "{one}");
    assert!(one["again"].is_null(), "{one}");
    assert_eq!(one["shown"]["id"], orders.as_str(), "{one}");

    // columnLabels and reviewQueue: every label but the customers'.
    let kims_labels = gql_ok(&app, &kim, labels_query, json!({ "s": source })).await;
    let expected_labels: Vec<&Value> = all_labels["columnLabels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["assetId"] != customers.as_str())
        .collect();
    assert_eq!(
        kims_labels["columnLabels"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        expected_labels
    );
    let of_customers = gql_ok(
        &app,
        &kim,
        "query($a: ID!) { columnLabels(assetId: $a) { column } reviewQueue { assetId } }",
        json!({ "a": customers }),
    )
    .await;
    assert_eq!(of_customers["columnLabels"], json!([]), "{of_customers}");
    assert!(!label_assets(&of_customers["reviewQueue"]).contains(&customers));

    // lineage: the walk neither shows nor passes the customers.
    let lineage = "query($a: ID!) { lineage(assetId: $a, direction: BOTH, depth: 5) { fromAssetId toAssetId } }";
    let admins = gql_ok(&app, &admin, lineage, json!({ "a": lines })).await;
    assert!(
        lineage_assets(&admins["lineage"]).contains(&customers),
        "the admin sees the customers in the lineage: {admins}"
    );
    let kims = gql_ok(&app, &kim, lineage, json!({ "a": lines })).await;
    assert_eq!(
        lineage_assets(&kims["lineage"]),
        BTreeSet::from([orders.clone(), lines.clone()]),
        "{kims}"
    );
    let around_customers = gql_ok(&app, &kim, lineage, json!({ "a": customers })).await;
    assert_eq!(around_customers["lineage"], json!([]));
    // impact: from the customers the admin reaches the orders; for kim there is nothing to
    // start from; from the orders both reach the order lines.
    let impact = "query($a: ID!) { impact(assetId: $a, depth: 5) { assets { assetId } edges { toAssetId } } }";
    let admins = gql_ok(&app, &admin, impact, json!({ "a": customers })).await;
    assert!(
        admins["impact"]["assets"]
            .to_string()
            .contains(orders.as_str()),
        "{admins}"
    );
    let kims = gql_ok(&app, &kim, impact, json!({ "a": customers })).await;
    assert_eq!(kims["impact"]["assets"], json!([]), "{kims}");
    assert_eq!(kims["impact"]["edges"], json!([]), "{kims}");
    let kims = gql_ok(&app, &kim, impact, json!({ "a": orders })).await;
    assert_eq!(
        kims["impact"]["assets"],
        json!([{ "assetId": lines.as_str() }]),
        "{kims}"
    );

    // history: nothing of the customers, all of the orders.
    let history = "query($a: ID!) { history(aggregateId: $a) { id } }";
    let admins = gql_ok(&app, &admin, history, json!({ "a": customers })).await;
    assert!(!admins["history"].as_array().unwrap().is_empty());
    let kims = gql_ok(&app, &kim, history, json!({ "a": customers })).await;
    assert_eq!(kims["history"], json!([]));
    let admins = gql_ok(&app, &admin, history, json!({ "a": orders })).await;
    let kims = gql_ok(&app, &kim, history, json!({ "a": orders })).await;
    assert!(!kims["history"].as_array().unwrap().is_empty());
    assert_eq!(kims, admins);

    // dataSourceStats counts what kim may read.
    let stats = "query($s: ID!) { dataSourceStats(id: $s) { tables classification { label } } }";
    let admins = gql_ok(&app, &admin, stats, json!({ "s": source })).await;
    let kims = gql_ok(&app, &kim, stats, json!({ "s": source })).await;
    assert_eq!(admins["dataSourceStats"]["tables"], 3, "{admins}");
    assert_eq!(kims["dataSourceStats"]["tables"], 2, "{kims}");
    assert!(
        !kims["dataSourceStats"]["classification"]
            .as_array()
            .unwrap()
            .contains(&json!({ "label": "CREDIT_CARD_NUMBER" })),
        "{kims}"
    );

    // violations: the card numbers' finding is the admin's to see, not kim's.
    app.wait_compliance().await;
    let violations = "{ violations(first: 500) { totalCount edges { node { id assetId } } } }";
    let admins = gql_ok(&app, &admin, violations, json!({})).await;
    let on_customers: Vec<&Value> = admins["violations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["assetId"] == customers.as_str())
        .collect();
    assert!(!on_customers.is_empty(), "{admins}");
    let kims = gql_ok(&app, &kim, violations, json!({})).await;
    assert!(
        kims["violations"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"]["assetId"] != customers.as_str()),
        "{kims}"
    );
    assert_eq!(
        kims["violations"]["totalCount"].as_i64().unwrap(),
        admins["violations"]["totalCount"].as_i64().unwrap() - on_customers.len() as i64
    );
    let one = app
        .gql(
            Some(&kim),
            "query($v: ID!) { violation(id: $v) { id } }",
            json!({ "v": on_customers[0]["node"]["id"] }),
        )
        .await;
    assert_eq!(error_code(&one), Some("NOT_FOUND"), "{one}");
    let history_of_violation = gql_ok(
        &app,
        &kim,
        history,
        json!({ "a": on_customers[0]["node"]["id"] }),
    )
    .await;
    assert_eq!(history_of_violation["history"], json!([]));

    // auditTrail: the same entries as the admin's, without those about the customers.
    let trail = "query($f: AuditFilterInput) { auditTrail(filter: $f, first: 500) { entries { aggregateId eventId } } }";
    let ids = |page: &Value| -> Vec<String> {
        page["auditTrail"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["aggregateId"].as_str().unwrap().to_owned())
            .collect()
    };
    let admins = gql_ok(&app, &admin, trail, json!({ "f": null })).await;
    let kims = gql_ok(&app, &kim, trail, json!({ "f": null })).await;
    // Every violation about the customers, whatever its status now.
    let mut about_customers = BTreeSet::from([customers.clone()]);
    for id in ids(&admins).into_iter().collect::<BTreeSet<_>>() {
        let violation = app
            .gql(
                Some(&admin),
                "query($v: ID!) { violation(id: $v) { assetId } }",
                json!({ "v": id }),
            )
            .await;
        if violation["data"]["violation"]["assetId"] == customers.as_str() {
            about_customers.insert(id);
        }
    }
    assert!(
        about_customers.len() > 1,
        "no violation about the customers"
    );
    let expected: Vec<String> = ids(&admins)
        .into_iter()
        .filter(|id| !about_customers.contains(id))
        .collect();
    assert!(expected.len() < ids(&admins).len());
    assert_eq!(ids(&kims), expected);
    let kims = gql_ok(
        &app,
        &kim,
        trail,
        json!({ "f": { "aggregateId": customers } }),
    )
    .await;
    assert_eq!(kims["auditTrail"]["entries"], json!([]));

    // The subscription: events of the orders, none of the customers.
    fence(&app, &admin, "marker 1").await;
    let delivered = events_until(&mut socket, "marker 1").await;
    let about: BTreeSet<&str> = delivered
        .iter()
        .map(|e| e["aggregateId"].as_str().unwrap())
        .collect();
    assert!(about.contains(orders.as_str()), "{delivered:?}");
    assert!(about.contains(lines.as_str()), "{delivered:?}");
    assert!(!about.contains(customers.as_str()), "{delivered:?}");
    for violation in &on_customers {
        assert!(
            !about.contains(violation["node"]["id"].as_str().unwrap()),
            "{delivered:?}"
        );
    }
    assert!(
        delivered
            .iter()
            .all(|e| e["data"]["subject"]["asset_id"] != customers.as_str()),
        "{delivered:?}"
    );

    // Another tenant granting the same subject name an unconditional reader gives nothing here.
    gql_ok(
        &app,
        &globex_admin,
        DEFINE,
        json!({ "r": "analyst", "p": ["asset:read", "audit:read"], "c": null }),
    )
    .await;
    grant(&app, &globex_admin, KIM, "analyst").await;
    grant(&app, &globex_admin, KIM, "admin").await;
    let still = gql_ok(
        &app,
        &kim,
        "query($c: ID!) { asset(id: $c) { id } }",
        json!({ "c": customers }),
    )
    .await;
    assert!(still["asset"].is_null(), "{still}");

    // Revoked: kim is refused everywhere, and the open subscription ends.
    revoke(&app, &admin, KIM, "analyst").await;
    fence(&app, &admin, "marker 2").await;
    let mut ended = false;
    while let Some(message) = next_json(&mut socket).await {
        if message["type"] == "complete" {
            ended = true;
            break;
        }
        let event = &message["payload"]["data"]["events"];
        assert_ne!(
            event["data"]["config"]["name"], "marker 2",
            "delivered after the revocation"
        );
    }
    assert!(ended, "the subscription did not end after the revocation");
    for query in [
        "{ assets { id } }",
        "{ columnLabels { assetId } }",
        "{ dataSources { id } }",
    ] {
        let refused = app.gql(Some(&kim), query, json!({})).await;
        assert_eq!(
            error_code(&refused),
            Some("FORBIDDEN"),
            "{query}: {refused}"
        );
    }
    let refused = app
        .gql(
            Some(&kim),
            "query($a: ID!) { asset(id: $a) { id } }",
            json!({ "a": orders }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    let refused = app.gql(Some(&kim), history, json!({ "a": orders })).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    let mut refused_socket = subscribe(&app, &kim, subscription).await;
    let message = next_json(&mut refused_socket).await.expect("an answer");
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{message}"
    );

    db.remove().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn conditions_on_tags_and_sources_admit_exactly_their_assets() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(&format!("{CARD_SHOP}{ORDERS}"), "shop-secret-8c0e").await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let kim = token_of("acme", KIM, &[]);
    let source = register_and_scan(&app, &admin, db.input()).await;
    wait_projected(&app, &admin).await;
    let everything = asset_pages(&app, &admin, &source, 1000).await;
    let orders = id_ending(&everything, "billing.orders");
    let tagged = gql_ok(
        &app,
        &admin,
        "mutation($a: ID!) { updateAssetMetadata(assetId: $a, tags: [\"team:sales\"], waitForProjection: true) { projected } }",
        json!({ "a": orders }),
    )
    .await;
    assert_eq!(tagged["updateAssetMetadata"]["projected"], true, "{tagged}");
    let other_source = gql_ok(
        &app,
        &admin,
        REGISTER,
        json!({ "input": postgres_source("Elsewhere"), "wait": true }),
    )
    .await["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();

    gql_ok(
        &app,
        &admin,
        DEFINE,
        json!({ "r": "sales", "p": ["asset:read"], "c": { "tagsAny": ["team:sales"] } }),
    )
    .await;
    grant(&app, &admin, KIM, "sales").await;
    let change = "mutation($c: AssetConditionInput) { changeRole(role: \"sales\", permissions: [\"asset:read\"], condition: $c, waitForProjection: true) { projected } }";
    let ids = |assets: Vec<(String, String)>| -> Vec<String> {
        assets.into_iter().map(|(id, _)| id).collect()
    };
    let all_ids = ids(everything.clone());

    assert_eq!(
        ids(asset_pages(&app, &kim, &source, 1000).await),
        vec![orders.clone()]
    );
    gql_ok(
        &app,
        &admin,
        change,
        json!({ "c": { "tagsNone": ["team:sales"] } }),
    )
    .await;
    let expected: Vec<String> = all_ids
        .iter()
        .filter(|id| **id != orders)
        .cloned()
        .collect();
    assert_eq!(ids(asset_pages(&app, &kim, &source, 1000).await), expected);
    gql_ok(
        &app,
        &admin,
        change,
        json!({ "c": { "sources": [other_source] } }),
    )
    .await;
    assert!(asset_pages(&app, &kim, &source, 1000).await.is_empty());
    gql_ok(
        &app,
        &admin,
        change,
        json!({ "c": { "sources": [source] } }),
    )
    .await;
    assert_eq!(ids(asset_pages(&app, &kim, &source, 1000).await), all_ids);
    // Parts combine with AND: this source, and not the sales team's.
    gql_ok(
        &app,
        &admin,
        change,
        json!({ "c": { "sources": [source], "tagsNone": ["team:sales"] } }),
    )
    .await;
    assert_eq!(ids(asset_pages(&app, &kim, &source, 1000).await), expected);
    // A condition naming nothing, or an id that is no id, is refused.
    let refused = app.gql(Some(&admin), change, json!({ "c": {} })).await;
    assert_eq!(error_code(&refused), Some("VALIDATION"), "{refused}");
    let refused = app
        .gql(
            Some(&admin),
            change,
            json!({ "c": { "sources": ["nope"] } }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("VALIDATION"), "{refused}");

    db.remove().await;
    app.stop().await;
}

/// Registers a data source named `marker`: an event every subscriber with access sees.
async fn fence(app: &TestApp, admin: &str, marker: &str) {
    let registered = app
        .gql(
            Some(admin),
            REGISTER,
            json!({ "input": postgres_source(marker) }),
        )
        .await;
    assert!(registered["errors"].is_null(), "{registered}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_classification_run_by_a_conditioned_reader_names_only_assets_in_its_reach() {
    let app = TestApp::spawn().await;
    // Subscribers' e-mail addresses: personal, but not critical.
    const NEWSLETTER: &str = r#"
CREATE TABLE billing.newsletter (id serial PRIMARY KEY, subscriber_email text NOT NULL);
INSERT INTO billing.newsletter (subscriber_email)
SELECT 'reader' || g || '@letters.example' FROM generate_series(1, 50) AS g;
"#;
    let db = SourceDb::create(&format!("{CARD_SHOP}{NEWSLETTER}"), "run-secret-7c21").await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let source = register_and_scan(&app, &admin, db.input()).await;
    wait_projected(&app, &admin).await;
    // Kim runs classifications (unconditionally) and reads everything but critical data.
    gql_ok(
        &app,
        &admin,
        DEFINE,
        json!({ "r": "ops", "p": ["data_source:read", "data_source:update"], "c": null }),
    )
    .await;
    gql_ok(
        &app,
        &admin,
        DEFINE,
        json!({ "r": "analyst", "p": ["asset:read", "classification:read"], "c": { "maxSensitivity": "high" } }),
    )
    .await;
    grant(&app, &admin, KIM, "ops").await;
    grant(&app, &admin, KIM, "analyst").await;
    let kim = token_of("acme", KIM, &[]);
    const RUN: &str = "mutation($s: ID!) { startClassification(sourceId: $s, fromProfiles: true) { applied suggested outcomes { assetPath column label } } }";
    let paths = |run: &Value| -> BTreeSet<String> {
        run["startClassification"]["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["assetPath"].as_str().unwrap().to_owned())
            .collect()
    };
    let everything = gql_ok(&app, &admin, RUN, json!({ "s": source })).await;
    let theirs = gql_ok(&app, &kim, RUN, json!({ "s": source })).await;
    assert!(
        paths(&everything)
            .iter()
            .any(|p| p.ends_with("billing.customers")),
        "{everything}"
    );
    assert!(
        paths(&theirs)
            .iter()
            .any(|p| p.ends_with("billing.newsletter")),
        "{theirs}"
    );
    assert!(
        paths(&theirs)
            .iter()
            .all(|p| !p.ends_with("billing.customers")),
        "the card holders' table is out of kim's reach: {theirs}"
    );
    let outcomes = theirs["startClassification"]["outcomes"]
        .as_array()
        .unwrap();
    let counted = theirs["startClassification"]["applied"].as_i64().unwrap()
        + theirs["startClassification"]["suggested"].as_i64().unwrap();
    assert_eq!(counted, outcomes.len() as i64);

    // A scan's answer counts every asset of the source: for kim the counts are left out, while
    // the scan runs all the same; the admin gets them.
    const SCAN: &str = "mutation($s: ID!) { startScan(sourceId: $s, strategy: BALANCED, waitForCompletion: true) { scanId completed assetsChanged assetsRemoved metrics classifiedColumns } }";
    let scanned = gql_ok(&app, &kim, SCAN, json!({ "s": source })).await;
    let scan = &scanned["startScan"];
    assert_eq!(scan["completed"], true, "{scanned}");
    for withheld in [
        "assetsChanged",
        "assetsRemoved",
        "metrics",
        "classifiedColumns",
    ] {
        assert!(scan[withheld].is_null(), "{withheld}: {scanned}");
    }
    let by_admin = gql_ok(&app, &admin, SCAN, json!({ "s": source })).await;
    assert!(by_admin["startScan"]["metrics"].is_object(), "{by_admin}");
    assert!(
        by_admin["startScan"]["assetsChanged"].is_i64(),
        "{by_admin}"
    );
    const SCANS: &str = "query($s: ID!) { scans(sourceId: $s, first: 1) { id metrics } }";
    let listed = gql_ok(&app, &kim, SCANS, json!({ "s": source })).await;
    assert!(listed["scans"][0]["metrics"].is_null(), "{listed}");
    let listed = gql_ok(&app, &admin, SCANS, json!({ "s": source })).await;
    assert!(listed["scans"][0]["metrics"].is_object(), "{listed}");

    // Parked events (as a projection parks those it cannot apply) of both tables: kim's
    // `consistency` lists only the one in reach.
    let assets = asset_pages(&app, &admin, &source, 100).await;
    let cards = id_ending(&assets, "billing.customers");
    let letters = id_ending(&assets, "billing.newsletter");
    let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    for (i, asset) in [&cards, &letters].into_iter().enumerate() {
        sqlx::query(
            "INSERT INTO public.projection_parked (projection, sequence, event_index, event_id,
                 tenant_id, aggregate_type, aggregate_id, event_type, error)
             VALUES ('catalog', $1, 0, $2, 'acme', 'asset', $3, 'io.pursight.AssetDiscovered.v1', 'test')",
        )
        .bind(900_000_000_i64 + i as i64)
        .bind(uuid::Uuid::now_v7())
        .bind(asset)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
    const PARKED: &str = "{ consistency { parked { aggregateType aggregateId } } }";
    let parked = |answer: &Value| -> BTreeSet<String> {
        answer["consistency"]["parked"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["aggregateId"].as_str().map(str::to_owned))
            .collect()
    };
    let everything = parked(&gql_ok(&app, &admin, PARKED, json!({})).await);
    assert!(
        everything.contains(&cards) && everything.contains(&letters),
        "{everything:?}"
    );
    let theirs = parked(&gql_ok(&app, &kim, PARKED, json!({})).await);
    assert!(theirs.contains(&letters), "{theirs:?}");
    assert!(
        !theirs.contains(&cards),
        "the card holders' table is out of reach: {theirs:?}"
    );
    db.remove().await;
    app.stop().await;
}
