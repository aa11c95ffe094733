//! Discovery end to end: a real PostgreSQL database (the labeled pii-dev shop) registered,
//! validated and scanned through GraphQL; then an unchanged rescan, a change, a removal and a
//! partial scan — each test with its own source database, stream and read-model database.

mod support;

use domain::access::Role;
use serde_json::{json, Value};
use support::{error_code, wait_projected, SourceDb, TestApp, REGISTER};

const SECRET_VALUE: &str = "not-used-by-trust-auth-7f3a9c";

/// The pii-dev shop in a fresh database.
async fn shop_db() -> SourceDb {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/datasets/pii-dev/postgres.sql");
    let sql = std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "the pii-dev dataset is expected at {}: {err}",
            path.display()
        )
    });
    SourceDb::create(&sql, SECRET_VALUE).await
}

const VALIDATE: &str = "mutation($id: ID!) { validateConnection(id: $id) { ok latencyMs serverVersion category message lifecycleState recorded } }";
const SCAN: &str = r#"mutation($id: ID!, $include: [String!]!, $exclude: [String!]!) {
  startScan(sourceId: $id, strategy: BALANCED, scope: { include: $include, exclude: $exclude }, waitForCompletion: true) {
    scanId completed failure assetsChanged assetsRemoved metrics
  }
}"#;

async fn scan(app: &TestApp, token: &str, id: &str, include: &[&str], exclude: &[&str]) -> Value {
    let response = app
        .gql(
            Some(token),
            SCAN,
            json!({ "id": id, "include": include, "exclude": exclude }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    let result = response["data"]["startScan"].clone();
    assert_eq!(result["completed"], true, "{result}");
    result
}

async fn schema_events(app: &TestApp, token: &str) -> usize {
    let mut total = 0;
    for name in ["SchemaDiscovered", "SchemaChanged"] {
        let response = app
            .gql(Some(token), "query($t: String) { auditTrail(filter: { eventType: $t }, first: 500) { entries { eventId } } }", json!({ "t": name }))
            .await;
        total += response["data"]["auditTrail"]["entries"]
            .as_array()
            .unwrap()
            .len();
    }
    total
}

async fn asset_by_path(app: &TestApp, token: &str, source: &str, path_suffix: &str) -> Value {
    let response = app
        .gql(Some(token), "query($s: ID!) { assets(sourceId: $s, first: 1000, includeRemoved: true) { id path kind removed columns { name dataType nullable primaryKey } } }", json!({ "s": source }))
        .await;
    response["data"]["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"].as_str().unwrap().ends_with(path_suffix))
        .cloned()
        .unwrap_or_else(|| panic!("no asset ending in {path_suffix}: {response}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn register_validate_scan_and_an_unchanged_rescan_appends_no_schema_events() {
    let app = TestApp::spawn().await;
    let db = shop_db().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let registered = app
        .gql(
            Some(&admin),
            REGISTER,
            json!({ "input": db.input(), "wait": true }),
        )
        .await;
    let id = registered["data"]["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();

    let check = app.gql(Some(&admin), VALIDATE, json!({ "id": id })).await;
    let check = &check["data"]["validateConnection"];
    assert_eq!(check["ok"], true, "{check}");
    assert_eq!(check["lifecycleState"], "connected");
    assert!(
        check["serverVersion"].as_str().unwrap().starts_with("15"),
        "{check}"
    );

    let first = scan(&app, &admin, &id, &[], &[]).await;
    let metrics = &first["metrics"];
    assert_eq!(metrics["tables"], 20, "{metrics}");
    assert_eq!(metrics["views"], 3, "{metrics}");
    assert!(first["assetsChanged"].as_i64().unwrap() >= 23);
    wait_projected(&app, &admin).await;

    let customers = asset_by_path(&app, &admin, &id, "dev_shop.customers").await;
    assert_eq!(customers["kind"], "table");
    let id_column = customers["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "id")
        .unwrap();
    assert_eq!(id_column["primaryKey"], true);
    let downstream = app
        .gql(Some(&admin), "query($a: ID!) { lineage(assetId: $a, direction: DOWNSTREAM, depth: 1) { fromPath toPath kind } }", json!({ "a": customers["id"] }))
        .await;
    let edges = downstream["data"]["lineage"].as_array().unwrap();
    assert!(
        edges.iter().any(|e| e["kind"] == "foreign_key"
            && e["toPath"].as_str().unwrap().ends_with("dev_shop.orders")),
        "{downstream}"
    );

    // The compliance worker validates the classified source.
    app.wait_compliance().await;
    wait_projected(&app, &admin).await;
    let stats = app
        .gql(Some(&admin), "query($id: ID!) { dataSourceStats(id: $id) { tables views columns lastScan { status } } dataSource(id: $id) { lifecycleState } }", json!({ "id": id }))
        .await;
    assert_eq!(stats["data"]["dataSourceStats"]["tables"], 20, "{stats}");
    assert_eq!(stats["data"]["dataSourceStats"]["views"], 3);
    assert_eq!(
        stats["data"]["dataSourceStats"]["lastScan"]["status"],
        "completed"
    );
    assert_eq!(stats["data"]["dataSource"]["lifecycleState"], "validated");

    // Rescan with nothing changed.
    let before = schema_events(&app, &admin).await;
    let rescan = scan_again(&app, &admin, &id, &[], &[]).await;
    assert_eq!(rescan["assetsChanged"], 0, "{rescan}");
    wait_projected(&app, &admin).await;
    assert_eq!(
        schema_events(&app, &admin).await,
        before,
        "an unchanged rescan appends no schema events"
    );

    // Nothing anywhere shows the password.
    for query in ["{ dataSources { passwordSecret config } auditTrail(first: 500) { entries { eventType } } }"] {
        let response = app.gql(Some(&admin), query, json!({})).await;
        assert!(!response.to_string().contains(SECRET_VALUE));
    }
    let history = app
        .gql(
            Some(&admin),
            "query($id: ID!) { history(aggregateId: $id) { data } }",
            json!({ "id": id }),
        )
        .await;
    assert!(!history.to_string().contains(SECRET_VALUE));
    db.remove().await;
    app.stop().await;
}

/// Scans a source that already completed a scan: a scanned source can be rescanned.
async fn scan_again(
    app: &TestApp,
    token: &str,
    id: &str,
    include: &[&str],
    exclude: &[&str],
) -> Value {
    let response = app
        .gql(
            Some(token),
            SCAN,
            json!({ "id": id, "include": include, "exclude": exclude }),
        )
        .await;
    if error_code(&response) == Some("CONFLICT") {
        panic!("a completed scan must not block a rescan: {response}");
    }
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["startScan"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_removals_and_partial_scans_are_incremental() {
    let app = TestApp::spawn().await;
    let db = shop_db().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let registered = app
        .gql(
            Some(&admin),
            REGISTER,
            json!({ "input": db.input(), "wait": true }),
        )
        .await;
    let id = registered["data"]["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.gql(Some(&admin), VALIDATE, json!({ "id": id })).await;
    scan(&app, &admin, &id, &[], &[]).await;

    // A new column, a dropped table.
    db.execute("ALTER TABLE dev_shop.products ADD COLUMN launched_on DATE; DROP TABLE dev_shop.customer_survey CASCADE;").await;
    let rescan = scan_again(&app, &admin, &id, &[], &[]).await;
    assert_eq!(rescan["completed"], true, "{rescan}");
    assert_eq!(
        rescan["assetsChanged"], 1,
        "only products changed: {rescan}"
    );
    assert_eq!(rescan["assetsRemoved"], 1, "{rescan}");
    wait_projected(&app, &admin).await;
    let products = asset_by_path(&app, &admin, &id, "dev_shop.products").await;
    assert!(products["columns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "launched_on"));
    let history = app
        .gql(
            Some(&admin),
            "query($a: ID!) { asset(id: $a) { history { change diff } } }",
            json!({ "a": products["id"] }),
        )
        .await;
    let changes = history["data"]["asset"]["history"].as_array().unwrap();
    assert_eq!(
        changes
            .iter()
            .map(|c| c["change"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["discovered", "changed"]
    );
    assert!(
        changes[1]["diff"].to_string().contains("launched_on"),
        "{history}"
    );
    let survey = asset_by_path(&app, &admin, &id, "dev_shop.customer_survey").await;
    assert_eq!(survey["removed"], true);

    // A partial scan sees only its scope: dropping a table outside it removes nothing.
    db.execute("DROP TABLE dev_shop.integration_webhooks CASCADE;")
        .await;
    let database = db.name.clone();
    let partial = scan_again(
        &app,
        &admin,
        &id,
        &[&format!("{database}.dev_shop.customer*")],
        &[],
    )
    .await;
    assert_eq!(partial["assetsRemoved"], 0, "{partial}");
    wait_projected(&app, &admin).await;
    let webhooks = asset_by_path(&app, &admin, &id, "dev_shop.integration_webhooks").await;
    assert_eq!(webhooks["removed"], false, "outside the scope, untouched");

    // The table comes back: restored.
    db.execute("CREATE TABLE dev_shop.customer_survey (id BIGINT PRIMARY KEY, answer TEXT);")
        .await;
    let restored = scan_again(&app, &admin, &id, &[], &[]).await;
    assert_eq!(
        restored["assetsRemoved"], 1,
        "integration_webhooks is gone now: {restored}"
    );
    wait_projected(&app, &admin).await;
    let survey = asset_by_path(&app, &admin, &id, "dev_shop.customer_survey").await;
    assert_eq!(survey["removed"], false);
    db.remove().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_failure_is_classified_recorded_and_keeps_the_secret_out() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let input = json!({
        "name": "Nowhere", "kind": "postgresql", "host": "127.0.0.1", "port": 1,
        "database": "x", "username": "postgres", "passwordSecret": "env:PURSIGHT_SOURCE_SECRET_UNSET_42"
    });
    let registered = app
        .gql(
            Some(&admin),
            REGISTER,
            json!({ "input": input, "wait": true }),
        )
        .await;
    let id = registered["data"]["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();
    let check = app.gql(Some(&admin), VALIDATE, json!({ "id": id })).await;
    let check = &check["data"]["validateConnection"];
    assert_eq!(check["ok"], false, "{check}");
    assert_eq!(
        check["category"], "auth",
        "an unresolvable secret is an auth failure: {check}"
    );
    assert_eq!(check["lifecycleState"], "failed");

    let nowhere = json!({ "name": "Nowhere 2", "kind": "postgresql", "host": "127.0.0.1", "port": 1, "database": "x", "username": "postgres" });
    let registered = app
        .gql(
            Some(&admin),
            REGISTER,
            json!({ "input": nowhere, "wait": true }),
        )
        .await;
    let id = registered["data"]["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();
    let check = app.gql(Some(&admin), VALIDATE, json!({ "id": id })).await;
    assert_eq!(
        check["data"]["validateConnection"]["category"], "unreachable",
        "{check}"
    );
    let history = app
        .gql(
            Some(&admin),
            "query($id: ID!) { history(aggregateId: $id) { name } }",
            json!({ "id": id }),
        )
        .await;
    let names: Vec<&str> = history["data"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "SourceRegistered",
            "ConfigurationStarted",
            "ConnectionFailed"
        ]
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_left_running_by_a_stopped_service_is_ended_at_the_next_start() {
    let app = TestApp::spawn().await;
    let db = shop_db().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let registered = app
        .gql(
            Some(&admin),
            REGISTER,
            json!({ "input": db.input(), "wait": true }),
        )
        .await;
    let id = registered["data"]["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.gql(Some(&admin), VALIDATE, json!({ "id": id })).await;

    // Another instance starts a scan and "dies" before running it.
    let other = app.sibling().await;
    let ctx = commands::CommandContext::new(
        domain::TenantId::parse("acme").unwrap(),
        "alice",
        vec![Role::Admin],
        None,
    );
    let source = domain::AggregateId::parse(&id).unwrap();
    let scan_id = other
        .state()
        .workflows
        .start_scan(
            &ctx,
            source,
            domain::scan::ScanStrategy::Auto,
            domain::scan::ScanScope::everything(),
        )
        .await
        .unwrap();
    wait_projected(&app, &admin).await;
    let stuck = app
        .gql(
            Some(&admin),
            "query($id: ID!) { dataSource(id: $id) { lifecycleState } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(stuck["data"]["dataSource"]["lifecycleState"], "scanning");

    // The next start ends it; the source can be scanned again.
    assert_eq!(other.recover_interrupted_work().await.unwrap(), 1);
    wait_projected(&app, &admin).await;
    let response = app
        .gql(Some(&admin), "query($id: ID!) { dataSource(id: $id) { lifecycleState } scans(sourceId: $id) { id status failure } }", json!({ "id": id }))
        .await;
    assert_eq!(
        response["data"]["dataSource"]["lifecycleState"], "scan_failed",
        "{response}"
    );
    let ended = &response["data"]["scans"][0];
    assert_eq!(ended["id"], scan_id.to_string());
    assert_eq!(ended["status"], "failed");
    assert!(ended["failure"].as_str().unwrap().contains("interrupted"));
    assert_eq!(scan(&app, &admin, &id, &[], &[]).await["completed"], true);
    drop(other);
    db.remove().await;
    app.stop().await;
}

/// An S3 source end to end against moto: the service resolves the secret access key's
/// reference (the connector only ever gets the value), an unresolvable one is an `auth`
/// failure naming the field, and the bucket's prefixes are scanned.
#[tokio::test(flavor = "multi_thread")]
async fn an_s3_source_is_validated_and_scanned_with_the_key_its_reference_names() {
    let app = TestApp::spawn().await;
    let moto = testkit::MotoServer::start(&[]).await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    // Moto without authentication accepts unsigned requests: the bucket and an object.
    let bucket = format!("lake-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    support::put_objects(
        &moto.endpoint(),
        vec![
            (bucket.clone(), Vec::new()),
            (
                format!("{bucket}/customers/part-0.csv"),
                b"id,email\n1,ana@example.com\n2,bo@example.com\n".to_vec(),
            ),
        ],
    )
    .await;
    let secret_file = support::write_secret(
        "acme",
        &format!("pursight-e2e-s3-{}", uuid::Uuid::new_v4()),
        "moto-accepts-any-secret",
    );
    let source = |secret_ref: &str| {
        json!({
            "name": "Lake", "kind": "s3", "database": bucket,
            "cloudConfig": {
                "endpointUrl": moto.endpoint(), "region": "us-east-1",
                "accessKeyId": "AKIAPURSIGHTE2E00000", "secretAccessKey": secret_ref,
            },
        })
    };

    let registered = app
        .gql(
            Some(&admin),
            REGISTER,
            json!({ "input": source("file:nonexistent/s3-secret"), "wait": true }),
        )
        .await;
    let id = registered["data"]["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap_or_else(|| panic!("{registered}"))
        .to_owned();
    let check = app.gql(Some(&admin), VALIDATE, json!({ "id": id })).await;
    let check = &check["data"]["validateConnection"];
    assert_eq!(check["ok"], false, "{check}");
    assert_eq!(check["category"], "auth", "{check}");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("cloud_config.secret_access_key"),
        "{check}"
    );

    let update = "mutation($id: ID!, $input: DataSourceInput!) { updateDataSourceConfig(id: $id, input: $input, waitForProjection: true) { version } }";
    let secret_ref = format!("file:{}", secret_file.display());
    let response = app
        .gql(
            Some(&admin),
            update,
            json!({ "id": id, "input": { "cloudConfig": source(&secret_ref)["cloudConfig"] } }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    let check = app.gql(Some(&admin), VALIDATE, json!({ "id": id })).await;
    let check = &check["data"]["validateConnection"];
    assert_eq!(check["ok"], true, "{check}");

    scan(&app, &admin, &id, &[], &[]).await;
    wait_projected(&app, &admin).await;
    let customers = asset_by_path(&app, &admin, &id, "customers/").await;
    let columns: Vec<&str> = customers["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["id", "email"], "{customers}");
    let _ = std::fs::remove_file(&secret_file);
    app.stop().await;
}
