//! Health checks end to end: the real service (and the real `pursight` binary) against the
//! machine's NATS and PostgreSQL, checking PostgreSQL databases created for the test (and
//! dropped when it ends, also when it panics) and sources nobody listens for.

mod support;

use domain::access::Role;
use serde_json::{json, Value};
use std::time::Duration;
use support::{error_code, pursight, text, TestApp, REGISTER};

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

const HEALTH_FIELDS: &str = "status samples failures errorRate uptime latencyP50Ms latencyP95Ms \
    activeConnections maxConnections storageBytes serverUptimeSecs serverVersion \
    lastError { category message } recommendations { code severity message } assessedAt version";

/// A PostgreSQL database to check, dropped on drop.
struct SourceDb {
    name: String,
}

impl SourceDb {
    async fn create() -> SourceDb {
        let name = format!(
            "pursight_hsrc_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let admin = sqlx::PgPool::connect(ADMIN_URL).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        SourceDb { name }
    }

    fn input(&self, name: &str) -> Value {
        json!({
            "name": name,
            "kind": "postgresql",
            "host": "127.0.0.1",
            "port": 5432,
            "database": self.name,
            "username": "postgres",
        })
    }
}

impl Drop for SourceDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = testkit::block_on_thread(move || async move {
            let _ = testkit::drop_postgres_database(&name).await;
        });
    }
}

/// A source on a local port nobody listens on.
fn unreachable_source(name: &str) -> Value {
    json!({
        "name": name,
        "kind": "postgresql",
        "host": "127.0.0.1",
        "port": 1,
        "database": "orders",
        "username": "reader",
    })
}

async fn register(app: &TestApp, token: &str, input: Value) -> String {
    let response = app
        .gql(
            Some(token),
            REGISTER,
            json!({ "input": input, "wait": true }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn check(app: &TestApp, token: &str, id: &str, samples: i32) -> Value {
    let query = format!(
        "mutation($id: ID!, $samples: Int!) {{ checkDataSourceHealth(sourceId: $id, samples: $samples, waitForProjection: true) {{ recorded lifecycleState projected health {{ {HEALTH_FIELDS} }} }} }}"
    );
    app.gql(Some(token), &query, json!({ "id": id, "samples": samples }))
        .await
}

async fn health(app: &TestApp, token: &str, id: &str) -> Value {
    let query = format!(
        "query($id: ID!) {{ dataSourceHealth(id: $id) {{ sourceId {HEALTH_FIELDS} history(last: 10) {{ status version samples failures recommendations {{ code }} }} }} }}"
    );
    app.gql(Some(token), &query, json!({ "id": id })).await
}

fn codes(assessment: &Value) -> Vec<String> {
    assessment["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checked_postgres_source_reports_its_figures_and_keeps_a_history_of_changes() {
    let db = SourceDb::create().await;
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let id = register(&app, &admin, db.input("Orders")).await;

    let response = health(&app, &admin, &id).await;
    assert!(response["errors"].is_null(), "{response}");
    assert!(
        response["data"]["dataSourceHealth"].is_null(),
        "never checked: {response}"
    );

    let response = check(&app, &admin, &id, 3).await;
    assert!(response["errors"].is_null(), "{response}");
    let result = &response["data"]["checkDataSourceHealth"];
    assert_eq!(result["recorded"], true, "{result}");
    assert_eq!(result["projected"], true);
    assert_eq!(
        result["lifecycleState"], "registered",
        "health does not move the lifecycle"
    );
    let checked = &result["health"];
    assert_eq!(checked["status"], "healthy", "{checked}");
    assert_eq!(
        (checked["samples"].as_i64(), checked["failures"].as_i64()),
        (Some(3), Some(0))
    );
    assert_eq!(checked["errorRate"], 0.0);
    assert_eq!(checked["uptime"], 1.0);
    assert!(checked["latencyP50Ms"].as_f64().unwrap() <= checked["latencyP95Ms"].as_f64().unwrap());
    let admin_pool = sqlx::PgPool::connect(ADMIN_URL).await.unwrap();
    let (max, size): (i64, i64) = sqlx::query_as(&format!(
        "SELECT current_setting('max_connections')::bigint, pg_database_size('{}')",
        db.name
    ))
    .fetch_one(&admin_pool)
    .await
    .unwrap();
    admin_pool.close().await;
    assert_eq!(checked["maxConnections"], max);
    assert_eq!(
        checked["storageBytes"], size,
        "the size of the source's database"
    );
    assert!(checked["activeConnections"].as_i64().unwrap() >= 1);
    assert!(checked["serverVersion"]
        .as_str()
        .unwrap()
        .starts_with(|c: char| c.is_ascii_digit()));
    assert!(checked["lastError"].is_null());
    assert_eq!(codes(checked), Vec::<String>::new());

    let response = health(&app, &admin, &id).await;
    let recorded = &response["data"]["dataSourceHealth"];
    assert_eq!(recorded["sourceId"], id.as_str(), "{response}");
    assert_eq!(recorded["status"], "healthy");
    assert_eq!(recorded["storageBytes"], size);
    assert_eq!(recorded["version"], 2);
    assert_eq!(recorded["history"].as_array().unwrap().len(), 1);

    // The same health again is no news: nothing is appended (unless the p95 moved a lot).
    let before = app.stream_sequence().await;
    let again = check(&app, &admin, &id, 2).await;
    let again = &again["data"]["checkDataSourceHealth"];
    assert_eq!(
        again["health"]["samples"], 5,
        "the window keeps the earlier probes"
    );
    let appended = app.stream_sequence().await - before;
    assert_eq!(appended, u64::from(again["recorded"] == true), "{again}");

    // The source moves away: the next check records it unhealthy, and the history shows both.
    let update = "mutation($id: ID!) { updateDataSourceConfig(id: $id, input: { port: 1 }, waitForProjection: true) { version } }";
    let updated = app.gql(Some(&admin), update, json!({ "id": id })).await;
    assert!(updated["errors"].is_null(), "{updated}");
    let down = check(&app, &admin, &id, 1).await;
    let down = &down["data"]["checkDataSourceHealth"];
    assert_eq!(down["recorded"], true, "{down}");
    assert_eq!(down["health"]["status"], "unhealthy");
    let response = health(&app, &admin, &id).await;
    let recorded = &response["data"]["dataSourceHealth"];
    assert_eq!(recorded["status"], "unhealthy", "{response}");
    assert_eq!(recorded["lastError"]["category"], "unreachable");
    let history = recorded["history"].as_array().unwrap();
    assert_eq!(history.first().unwrap()["status"], "healthy");
    assert_eq!(history.last().unwrap()["status"], "unhealthy");
    assert_eq!(history.last().unwrap()["version"], recorded["version"]);

    // Each change is an event in the source's history, never an overwritten row.
    let events = app
        .gql(
            Some(&admin),
            "query($id: ID!) { history(aggregateId: $id) { type actor } }",
            json!({ "id": id }),
        )
        .await;
    let assessed = events["data"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "io.pursight.HealthAssessed.v1")
        .count();
    assert_eq!(assessed, history.len(), "{events}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_source_becomes_unhealthy_with_a_recommendation() {
    let app = TestApp::spawn().await;
    let steward = TestApp::token("acme", &[Role::DataSteward]);
    let id = register(&app, &steward, unreachable_source("Nowhere")).await;
    let response = check(&app, &steward, &id, 2).await;
    assert!(response["errors"].is_null(), "{response}");
    let checked = &response["data"]["checkDataSourceHealth"]["health"];
    assert_eq!(checked["status"], "unhealthy", "{checked}");
    assert_eq!(
        (checked["samples"].as_i64(), checked["failures"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(checked["errorRate"], 1.0);
    assert_eq!(checked["uptime"], 0.0);
    assert!(checked["latencyP50Ms"].is_null());
    assert_eq!(checked["lastError"]["category"], "unreachable");
    assert_eq!(codes(checked), ["connection_failing"]);
    let advice = &checked["recommendations"][0];
    assert_eq!(advice["severity"], "critical");
    assert!(
        advice["message"].as_str().unwrap().contains("firewall"),
        "{advice}"
    );

    let recorded = health(&app, &steward, &id).await;
    let recorded = &recorded["data"]["dataSourceHealth"];
    assert_eq!(recorded["status"], "unhealthy", "{recorded}");
    assert_eq!(codes(recorded), ["connection_failing"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_text_to_a_cloud_source_is_flagged() {
    let db = SourceDb::create().await;
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let mut input = db.input("Cloud orders");
    input["location"] = json!("cloud");
    input["cloudProvider"] = json!("aws");
    input["sslConfig"] = json!({ "mode": "disable" });
    let id = register(&app, &admin, input).await;
    let response = check(&app, &admin, &id, 1).await;
    let checked = &response["data"]["checkDataSourceHealth"]["health"];
    assert_eq!(checked["status"], "healthy", "{response}");
    assert_eq!(codes(checked), ["tls_disabled"]);
    assert_eq!(checked["recommendations"][0]["severity"], "critical");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn health_needs_the_right_role_a_live_source_and_stays_in_its_tenant() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let viewer = TestApp::token("acme", &[Role::Viewer]);
    let other = TestApp::token("globex", &[Role::Admin]);
    let id = register(&app, &admin, unreachable_source("Nowhere")).await;

    let refused = check(&app, &viewer, &id, 1).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    let read = health(&app, &viewer, &id).await;
    assert!(read["errors"].is_null(), "viewers read health: {read}");
    assert_eq!(
        error_code(&health(&app, &other, &id).await),
        Some("NOT_FOUND")
    );
    assert_eq!(
        error_code(&check(&app, &other, &id, 1).await),
        Some("NOT_FOUND")
    );
    for samples in [0, 21, -1] {
        let invalid = check(&app, &admin, &id, samples).await;
        assert_eq!(
            error_code(&invalid),
            Some("VALIDATION"),
            "{samples}: {invalid}"
        );
    }
    let before = app.stream_sequence().await;
    let archive =
        "mutation($id: ID!) { archiveDataSource(id: $id, waitForProjection: true) { version } }";
    app.gql(Some(&admin), archive, json!({ "id": id })).await;
    let archived = check(&app, &admin, &id, 1).await;
    assert_eq!(error_code(&archived), Some("CONFLICT"), "{archived}");
    assert_eq!(
        app.stream_sequence().await,
        before + 1,
        "only the archiving was appended"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn periodic_checks_record_health_when_turned_on() {
    let db = SourceDb::create().await;
    let app = TestApp::spawn_with_health_interval(Duration::from_secs(1)).await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let id = register(&app, &admin, db.input("Watched")).await;
    let mut recorded = Value::Null;
    for _ in 0..150 {
        let response = health(&app, &admin, &id).await;
        recorded = response["data"]["dataSourceHealth"].clone();
        if !recorded.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(recorded["status"], "healthy", "{recorded}");
    let events = app
        .gql(
            Some(&admin),
            "query($id: ID!) { history(aggregateId: $id) { type actor } }",
            json!({ "id": id }),
        )
        .await;
    let first = events["data"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "io.pursight.HealthAssessed.v1")
        .cloned()
        .unwrap();
    assert_eq!(first["actor"], "pursight-health");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_interval_nothing_is_checked() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let id = register(&app, &admin, unreachable_source("Quiet")).await;
    let before = app.stream_sequence().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.stream_sequence().await, before);
    assert!(health(&app, &admin, &id).await["data"]["dataSourceHealth"].is_null());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn source_health_on_the_command_line_prints_the_figures_and_fails_when_unhealthy() {
    let db = SourceDb::create().await;
    let app = TestApp::spawn().await;
    let admin = TestApp::token("cli-health", &[Role::Admin]);
    register(&app, &admin, db.input("Health db")).await;
    register(&app, &admin, unreachable_source("Gone db")).await;

    let output = pursight(
        &app,
        &[
            "source",
            "health",
            "--tenant",
            "cli-health",
            "Health db",
            "--samples",
            "2",
        ],
    );
    let report = text(&output);
    assert!(output.status.success(), "{report}");
    assert!(
        report.contains("Health db: healthy (0 of 2 probes failed; recorded as a change)"),
        "{report}"
    );
    for expected in [
        "latency      p50 ",
        "error rate   0.0 %, uptime 100.0 %",
        "connections  ",
        "storage      ",
        "no recommendations",
    ] {
        assert!(report.contains(expected), "{expected:?} in {report}");
    }

    let output = pursight(
        &app,
        &["source", "health", "--tenant", "cli-health", "Gone db"],
    );
    let report = text(&output);
    assert_eq!(output.status.code(), Some(2), "{report}");
    assert!(
        report.contains("Gone db: unhealthy (3 of 3 probes failed"),
        "{report}"
    );
    assert!(report.contains("last error   unreachable: "), "{report}");
    assert!(
        report.contains("[critical] connection_failing: "),
        "{report}"
    );

    let output = pursight(
        &app,
        &[
            "source",
            "health",
            "--tenant",
            "cli-health",
            "Health db",
            "--samples",
            "0",
        ],
    );
    assert!(!output.status.success());
    assert!(
        text(&output).contains("samples must be between 1 and 20"),
        "{}",
        text(&output)
    );
    app.stop().await;
}
