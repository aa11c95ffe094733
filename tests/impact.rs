//! Impact analysis against a real PostgreSQL source: `impact(assetId, column, depth)` and
//! `pursight lineage ASSET --downstream` list what a change would touch — the columns reached
//! through foreign keys and views, owners, classifications and open violations — and nothing of
//! another tenant.

mod support;

use domain::access::Role;
use serde_json::{json, Value};
use support::*;

const SECRET_VALUE: &str = "impact-secret-2b7e";

const SHOP: &str = r#"
CREATE SCHEMA shop;
CREATE TABLE shop.customers (
    id          serial PRIMARY KEY,
    email       text NOT NULL,
    card_number text
);
CREATE TABLE shop.orders (
    id          serial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES shop.customers (id),
    total       numeric NOT NULL
);
CREATE TABLE shop.order_lines (
    id       serial PRIMARY KEY,
    order_id integer NOT NULL REFERENCES shop.orders (id),
    sku      text NOT NULL
);
CREATE VIEW shop.mailing_list AS SELECT email, card_number FROM shop.customers;
INSERT INTO shop.customers (email, card_number)
SELECT 'buyer' || g || '@example.org',
       (ARRAY['4111111111111111', '5500005555555559', '4012888888881881'])[1 + g % 3]
FROM generate_series(1, 60) g;
INSERT INTO shop.orders (customer_id, total) SELECT 1 + g % 60, g FROM generate_series(1, 60) g;
INSERT INTO shop.order_lines (order_id, sku) SELECT 1 + g % 60, 'sku-' || g FROM generate_series(1, 60) g;
"#;

const IMPACT: &str = "query($id: ID!, $column: String, $depth: Int! = 3) {
  impact(assetId: $id, column: $column, depth: $depth) {
    truncated
    assets { assetId path distance columns wholeAsset owner
             classifications { column label sensitivity status }
             openViolations { critical high medium low total } }
    edges { fromPath toPath kind }
  }
}";

fn paths(impact: &Value) -> Vec<(i64, String, Vec<String>)> {
    impact["assets"]
        .as_array()
        .unwrap_or_else(|| panic!("{impact}"))
        .iter()
        .map(|a| {
            let path = a["path"].as_str().unwrap();
            (
                a["distance"].as_i64().unwrap(),
                path.rsplit('.').next().unwrap().to_owned(),
                a["columns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn impact_follows_columns_through_keys_and_views_with_owners_labels_and_violations() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let viewer = TestApp::token("acme", &[Role::Viewer]);
    let db = SourceDb::create(SHOP, SECRET_VALUE).await;
    let source = register_and_scan(&app, &admin, db.input()).await;
    compliance_evaluate(&app, &source);
    wait_projected(&app, &admin).await;
    let listed = app
        .gql(
            Some(&admin),
            "query($id: ID!) { assets(sourceId: $id) { id path } }",
            json!({ "id": source }),
        )
        .await;
    let id_of = |table: &str| -> String {
        listed["data"]["assets"]
            .as_array()
            .unwrap_or_else(|| panic!("{listed}"))
            .iter()
            .find(|a| a["path"].as_str().unwrap().ends_with(&format!(".{table}")))
            .unwrap_or_else(|| panic!("{table}: {listed}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let customers = id_of("customers");
    let orders = id_of("orders");
    let view = id_of("mailing_list");
    let owned = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { updateAssetMetadata(assetId: $id, owner: \"marketing-team\", waitForProjection: true) { version } }",
            json!({ "id": view }),
        )
        .await;
    assert!(owned["errors"].is_null(), "{owned}");

    // The whole customers table: orders through its key (customer_id only, so order_lines,
    // which reads orders.id, is not reached) and the view.
    let response = app
        .gql(Some(&viewer), IMPACT, json!({ "id": customers }))
        .await;
    let whole = &response["data"]["impact"];
    assert!(whole.is_object(), "{response}");
    assert_eq!(
        paths(whole),
        [
            (
                1,
                "mailing_list".to_owned(),
                vec!["card_number".to_owned(), "email".to_owned()]
            ),
            (1, "orders".to_owned(), vec!["customer_id".to_owned()]),
        ],
        "{whole}"
    );
    let mailing = &whole["assets"][0];
    assert_eq!(mailing["owner"], "marketing-team");
    let labels: Vec<&str> = mailing["classifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"EMAIL_ADDRESS"), "{mailing}");
    assert!(labels.contains(&"CREDIT_CARD_NUMBER"), "{mailing}");
    // Card numbers in a source without verified TLS: the view has open violations.
    assert!(
        mailing["openViolations"]["total"].as_i64().unwrap() > 0,
        "{mailing}"
    );
    assert!(
        mailing["openViolations"]["critical"].as_i64().unwrap() > 0,
        "{mailing}"
    );
    // The edges taken lead to exactly those two assets.
    let reached: std::collections::BTreeSet<&str> = whole["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["toPath"].as_str().unwrap().rsplit('.').next().unwrap())
        .collect();
    assert_eq!(reached, ["mailing_list", "orders"].into(), "{whole}");

    // From one column: the key reaches orders, an unrelated column reaches only the view.
    let from_id = app
        .gql(
            Some(&viewer),
            IMPACT,
            json!({ "id": customers, "column": "id" }),
        )
        .await;
    assert_eq!(
        paths(&from_id["data"]["impact"]),
        [(1, "orders".to_owned(), vec!["customer_id".to_owned()])]
    );
    let from_email = app
        .gql(
            Some(&viewer),
            IMPACT,
            json!({ "id": customers, "column": "email" }),
        )
        .await;
    // The view's SQL maps its columns one by one: email reaches email only.
    assert_eq!(
        paths(&from_email["data"]["impact"]),
        [(1, "mailing_list".to_owned(), vec!["email".to_owned()])]
    );
    // orders feeds order_lines through order_id.
    let from_orders = app
        .gql(Some(&viewer), IMPACT, json!({ "id": orders, "depth": 1 }))
        .await;
    assert_eq!(
        paths(&from_orders["data"]["impact"]),
        [(1, "order_lines".to_owned(), vec!["order_id".to_owned()])]
    );

    // Bounds, and another tenant.
    let deep = app
        .gql(
            Some(&viewer),
            IMPACT,
            json!({ "id": customers, "depth": 11 }),
        )
        .await;
    assert_eq!(error_code(&deep), Some("VALIDATION"), "{deep}");
    let other = TestApp::token("globex", &[Role::Admin]);
    let theirs = app
        .gql(Some(&other), IMPACT, json!({ "id": customers }))
        .await;
    assert_eq!(theirs["data"]["impact"]["assets"], json!([]), "{theirs}");

    // The CLI prints the same walk, by path.
    let path = listed["data"]["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == customers.as_str())
        .unwrap()["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let printed = pursight(
        &app,
        &["lineage", &path, "--downstream", "--tenant", "acme"],
    );
    let said = text(&printed);
    assert!(printed.status.success(), "{said}");
    assert!(
        said.contains("mailing_list") && said.contains("marketing-team"),
        "{said}"
    );
    assert!(
        said.contains("customer_id") && !said.contains("order_lines"),
        "{said}"
    );
    let json_out = pursight(
        &app,
        &[
            "lineage",
            &customers,
            "--downstream",
            "--column",
            "id",
            "--format",
            "json",
            "--tenant",
            "acme",
        ],
    );
    let parsed: Value = serde_json::from_slice(&json_out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&json_out)));
    assert_eq!(
        parsed["downstream"].as_array().unwrap().len(),
        1,
        "{parsed}"
    );
    assert_eq!(parsed["downstream"][0]["columns"], json!(["customer_id"]));
    let missing = pursight(
        &app,
        &[
            "lineage",
            "no.such.table",
            "--downstream",
            "--tenant",
            "acme",
        ],
    );
    assert!(!missing.status.success());
    assert!(text(&missing).contains("no asset"), "{}", text(&missing));
    let other_tenant = pursight(
        &app,
        &["lineage", &path, "--downstream", "--tenant", "globex"],
    );
    assert!(!other_tenant.status.success(), "{}", text(&other_tenant));
    app.stop().await;
    db.remove().await;
}
