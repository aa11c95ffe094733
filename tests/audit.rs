//! Refused commands in the audit trail: recorded with actor, action, target, outcome and reason,
//! never on the stream; `auditTrail` filters; tenant isolation; `pursight audit export`.

mod support;

use api::auth::issue_token;
use domain::access::Role;
use domain::TenantId;
use serde_json::{json, Value};
use support::{error_code, postgres_source, pursight, text, TestApp, REGISTER, SECRET};

const TRAIL: &str = "query($f: AuditFilterInput) { auditTrail(filter: $f, first: 500) {
    entries { eventId sequence actor eventType aggregateType aggregateId aggregateVersion
              commandId outcome action reason roles } } }";

fn token_for(subject: &str, tenant: &str, roles: &[Role]) -> String {
    issue_token(
        SECRET,
        subject,
        &TenantId::parse(tenant).unwrap(),
        roles,
        3600,
    )
}

async fn trail(app: &TestApp, token: &str, filter: Value) -> Vec<Value> {
    let response = app.gql(Some(token), TRAIL, json!({ "f": filter })).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["auditTrail"]["entries"]
        .as_array()
        .unwrap()
        .clone()
}

async fn register(app: &TestApp, token: &str, name: &str) -> String {
    let response = app
        .gql(
            Some(token),
            REGISTER,
            json!({ "input": postgres_source(name), "wait": true }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_are_recorded_with_who_what_and_why_and_never_on_the_stream() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let auditor = TestApp::token("acme", &[Role::Auditor]);
    let viewer = token_for("vera@example.com", "acme", &[Role::Viewer]);
    let id = register(&app, &admin, "Orders").await;
    let before = app.stream_sequence().await;

    // Forbidden: a viewer archives.
    let command_id = uuid::Uuid::now_v7().to_string();
    let forbidden = app
        .gql(
            Some(&viewer),
            "mutation($id: ID!, $c: ID) { archiveDataSource(id: $id, commandId: $c) { version } }",
            json!({ "id": id, "c": command_id }),
        )
        .await;
    assert_eq!(error_code(&forbidden), Some("FORBIDDEN"), "{forbidden}");
    // Invalid: a registration without a name.
    let mut nameless = postgres_source("x");
    nameless.as_object_mut().unwrap().remove("name");
    let invalid = app
        .gql(Some(&admin), REGISTER, json!({ "input": nameless }))
        .await;
    assert_eq!(error_code(&invalid), Some("VALIDATION"), "{invalid}");
    // Rejected by the domain: cataloguing a source that was never validated.
    let rejected = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { catalogDataSource(id: $id) { version } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&rejected), Some("CONFLICT"), "{rejected}");
    // Not found.
    let missing = uuid::Uuid::now_v7().to_string();
    let not_found = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { configureDataSource(id: $id) { version } }",
            json!({ "id": missing }),
        )
        .await;
    assert_eq!(error_code(&not_found), Some("NOT_FOUND"), "{not_found}");
    assert_eq!(
        app.stream_sequence().await,
        before,
        "refusals append nothing"
    );

    let refusals: Vec<Value> = trail(&app, &auditor, json!({}))
        .await
        .into_iter()
        .filter(|e| e["outcome"] != "ACCEPTED")
        .collect();
    assert_eq!(refusals.len(), 4, "{refusals:?}");
    let one = |outcome: &str| {
        let found: Vec<&Value> = refusals
            .iter()
            .filter(|e| e["outcome"] == outcome)
            .collect();
        assert_eq!(found.len(), 1, "{outcome}: {refusals:?}");
        found[0].clone()
    };
    let f = one("FORBIDDEN");
    assert_eq!(f["actor"], "vera@example.com");
    assert_eq!(f["roles"], json!(["viewer"]));
    assert_eq!(f["action"], "archiveDataSource");
    assert_eq!(f["aggregateType"], "data_source");
    assert_eq!(f["aggregateId"], id);
    assert_eq!(f["commandId"], command_id);
    assert_eq!(f["reason"], forbidden["errors"][0]["message"]);
    assert_eq!(f["sequence"], 0);
    assert_eq!(f["eventType"], "");
    let v = one("INVALID");
    assert_eq!(v["actor"], "alice@example.com");
    assert_eq!(v["action"], "registerDataSource");
    assert_eq!(v["aggregateId"], "");
    assert!(v["reason"].as_str().unwrap().contains("name"), "{v}");
    let r = one("REJECTED");
    assert_eq!(r["action"], "catalogDataSource");
    assert_eq!(r["aggregateId"], id);
    assert_eq!(r["reason"], rejected["errors"][0]["message"]);
    let n = one("NOT_FOUND");
    assert_eq!(n["action"], "configureDataSource");
    assert_eq!(n["aggregateId"], missing);

    // Filters.
    let by_actor = trail(&app, &auditor, json!({ "actor": "vera@example.com" })).await;
    assert_eq!(by_actor.len(), 1, "{by_actor:?}");
    let by_action = trail(&app, &auditor, json!({ "action": "catalogDataSource" })).await;
    assert_eq!(by_action.len(), 1, "{by_action:?}");
    assert_eq!(by_action[0]["outcome"], "REJECTED");
    let by_event = trail(&app, &auditor, json!({ "action": "SourceRegistered" })).await;
    assert_eq!(by_event.len(), 1, "{by_event:?}");
    assert_eq!(by_event[0]["outcome"], "ACCEPTED");
    assert_eq!(by_event[0]["reason"], Value::Null);
    let accepted = trail(&app, &auditor, json!({ "outcome": "ACCEPTED" })).await;
    assert_eq!(accepted.len(), 1, "{accepted:?}");
    let on_source = trail(
        &app,
        &auditor,
        json!({ "aggregateId": id, "resource": "data_source" }),
    )
    .await;
    assert_eq!(
        on_source.len(),
        3,
        "registered, forbidden, rejected: {on_source:?}"
    );
    let other_resource = trail(&app, &auditor, json!({ "resource": "asset" })).await;
    assert!(other_resource.is_empty(), "{other_resource:?}");
    let future = trail(&app, &auditor, json!({ "since": "2100-01-01T00:00:00Z" })).await;
    assert!(future.is_empty(), "{future:?}");
    let past = trail(&app, &auditor, json!({ "until": "2000-01-01T00:00:00Z" })).await;
    assert!(past.is_empty(), "{past:?}");
    let now = trail(
        &app,
        &auditor,
        json!({ "since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z" }),
    )
    .await;
    assert_eq!(now.len(), 5, "{now:?}");

    // Paging walks events and refusals alike, each once.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app
            .gql(
                Some(&auditor),
                "query($a: String) { auditTrail(first: 2, after: $a) { entries { eventId } endCursor hasNextPage } }",
                json!({ "a": after }),
            )
            .await;
        let page = &page["data"]["auditTrail"];
        for entry in page["entries"].as_array().unwrap() {
            seen.push(entry["eventId"].as_str().unwrap().to_owned());
        }
        if page["hasNextPage"] != true {
            break;
        }
        after = page["endCursor"].as_str().map(str::to_owned);
    }
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (5, 5), "{seen:?}");

    // Another tenant sees none of it.
    let other = TestApp::token("globex", &[Role::Auditor]);
    assert!(trail(&app, &other, json!({})).await.is_empty());
    assert!(trail(&app, &other, json!({ "outcome": "FORBIDDEN" }))
        .await
        .is_empty());
    // Nor may a viewer read the trail.
    let denied = app.gql(Some(&viewer), TRAIL, json!({})).await;
    assert_eq!(error_code(&denied), Some("FORBIDDEN"), "{denied}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_queries_are_recorded_once_per_request_and_never_on_the_stream() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let auditor = TestApp::token("acme", &[Role::Auditor]);
    let viewer = token_for("vera@example.com", "acme", &[Role::Viewer]);
    let id = register(&app, &admin, "Orders").await;
    let before = app.stream_sequence().await;

    // Forbidden: a viewer reads an aggregate's raw history.
    let forbidden = app
        .gql(
            Some(&viewer),
            "query($id: ID!) { history(aggregateId: $id) { sequence } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&forbidden), Some("FORBIDDEN"), "{forbidden}");
    // Invalid: a page larger than the cap.
    let invalid = app
        .gql(
            Some(&admin),
            "{ dataSources(first: 501) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&invalid), Some("VALIDATION"), "{invalid}");
    // A flood in one request: 100 aliased refused fields are one row, not 100.
    let flood: String = (0..100)
        .map(|i| format!("t{i}: auditTrail(first: 1) {{ entries {{ eventId }} }} "))
        .collect();
    let flooded = app
        .gql(Some(&viewer), &format!("{{ {flood} }}"), json!({}))
        .await;
    assert_eq!(
        flooded["errors"].as_array().map(Vec::len),
        Some(100),
        "{flooded}"
    );
    // Not recorded: an id that is not there (every reader asks for those), and a query allowed.
    let missing = app
        .gql(
            Some(&viewer),
            "query($id: ID!) { violation(id: $id) { id } }",
            json!({ "id": uuid::Uuid::now_v7().to_string() }),
        )
        .await;
    assert_eq!(error_code(&missing), Some("NOT_FOUND"), "{missing}");
    let allowed = app
        .gql(Some(&viewer), "{ dataSources { id } }", json!({}))
        .await;
    assert!(allowed["errors"].is_null(), "{allowed}");
    assert_eq!(
        app.stream_sequence().await,
        before,
        "refusals append nothing"
    );

    let refusals: Vec<Value> = trail(&app, &auditor, json!({}))
        .await
        .into_iter()
        .filter(|e| e["outcome"] != "ACCEPTED")
        .collect();
    assert_eq!(refusals.len(), 3, "{refusals:?}");
    let history = trail(&app, &auditor, json!({ "action": "history" })).await;
    assert_eq!(history.len(), 1, "{history:?}");
    let h = &history[0];
    assert_eq!(h["outcome"], "FORBIDDEN");
    assert_eq!(h["actor"], "vera@example.com");
    assert_eq!(h["roles"], json!(["viewer"]));
    assert_eq!(h["aggregateType"], "audit");
    assert_eq!(h["aggregateId"], id);
    assert_eq!(h["reason"], forbidden["errors"][0]["message"]);
    assert_eq!(h["sequence"], 0);
    let pages = trail(&app, &auditor, json!({ "action": "dataSources" })).await;
    assert_eq!(pages.len(), 1, "{pages:?}");
    assert_eq!(pages[0]["outcome"], "INVALID");
    assert_eq!(pages[0]["aggregateType"], "catalog");
    assert_eq!(pages[0]["reason"], invalid["errors"][0]["message"]);
    let flood = trail(&app, &auditor, json!({ "action": "auditTrail" })).await;
    assert_eq!(flood.len(), 1, "one row for the whole request: {flood:?}");
    assert_eq!(flood[0]["outcome"], "FORBIDDEN");
    // Another tenant sees none of it.
    let other = TestApp::token("globex", &[Role::Auditor]);
    assert!(trail(&app, &other, json!({ "action": "history" }))
        .await
        .is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_race_is_recorded_as_a_conflict_once_per_refused_command() {
    let app = TestApp::spawn_with_attempts(1).await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let auditor = TestApp::token("acme", &[Role::Auditor]);
    let id = register(&app, &admin, "Orders").await;
    let update = "mutation($id: ID!, $input: DataSourceInput!) { updateDataSourceConfig(id: $id, input: $input) { version } }";
    let requests = (0..16).map(|i| {
        let variables = json!({ "id": id, "input": { "description": format!("writer {i}") } });
        let admin = admin.clone();
        let app = &app;
        async move { app.gql(Some(&admin), update, variables).await }
    });
    let responses = futures::future::join_all(requests).await;
    let conflicts = responses
        .iter()
        .filter(|r| error_code(r) == Some("CONFLICT"))
        .count();
    assert!(
        conflicts >= 1,
        "16 simultaneous writers with no retry must collide"
    );
    let recorded = trail(&app, &auditor, json!({ "outcome": "CONFLICT" })).await;
    assert_eq!(recorded.len(), conflicts, "{recorded:?}");
    for entry in &recorded {
        assert_eq!(entry["action"], "updateDataSourceConfig");
        assert_eq!(entry["aggregateId"], id);
        assert!(
            entry["reason"].as_str().unwrap().contains("concurrently"),
            "{entry}"
        );
    }
    assert!(trail(&app, &auditor, json!({ "outcome": "REJECTED" }))
        .await
        .is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_export_carries_events_and_refusals_and_defuses_formulas() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let id = register(&app, &admin, "Orders").await;
    // A hostile subject and a hostile target, both chosen by the caller.
    let hostile = token_for(
        "=HYPERLINK(\"http://evil.example\")",
        "acme",
        &[Role::Viewer],
    );
    let refused = app
        .gql(
            Some(&hostile),
            "mutation($id: ID!) { archiveDataSource(id: $id) { version } }",
            json!({ "id": "+SUM(1,2)\n" }),
        )
        .await;
    // The id is checked before the permission: an invalid input.
    assert_eq!(error_code(&refused), Some("VALIDATION"), "{refused}");
    // Another tenant's refusal stays out of an export of acme.
    let globex = TestApp::token("globex", &[Role::Viewer]);
    let other = app
        .gql(
            Some(&globex),
            "mutation($id: ID!) { archiveDataSource(id: $id) { version } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&other), Some("FORBIDDEN"), "{other}");

    let dir = std::env::temp_dir().join(format!("pursight-audit-{}", app.prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let ndjson = dir.join("audit.ndjson");
    let output = pursight(
        &app,
        &[
            "audit",
            "export",
            "--tenant",
            "acme",
            "--format",
            "ndjson",
            "--output",
            ndjson.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let lines: Vec<Value> = std::fs::read_to_string(&ndjson)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["outcome"], "accepted");
    assert_eq!(lines[0]["target_id"], id);
    assert_eq!(lines[1]["outcome"], "invalid");
    assert_eq!(lines[1]["actor"], "=HYPERLINK(\"http://evil.example\")");
    assert_eq!(lines[1]["action"], "archiveDataSource");
    assert_eq!(
        lines[1]["target_id"], "+SUM(1,2)\\n",
        "control characters escaped"
    );
    assert!(lines.iter().all(|l| l["tenant"] == "acme"));

    let csv_path = dir.join("audit.csv");
    let output = pursight(
        &app,
        &[
            "audit",
            "export",
            "--tenant",
            "acme",
            "--format",
            "csv",
            "--output",
            csv_path.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(
        &rows[1][column("actor")],
        "'=HYPERLINK(\"http://evil.example\")"
    );
    assert_eq!(&rows[1][column("target_id")], "'+SUM(1,2)\\n");
    assert_eq!(&rows[1][column("outcome")], "invalid");
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell} would run as a formula"
            );
        }
    }

    // A rebuild of the audit log from the stream keeps the refusals (they are not on it).
    let output = pursight(&app, &["rebuild", "audit_log"]);
    assert!(output.status.success(), "{}", text(&output));

    // Every tenant when none is named.
    let output = pursight(&app, &["audit", "export"]);
    assert!(output.status.success(), "{}", text(&output));
    let all = String::from_utf8(output.stdout).unwrap();
    assert_eq!(all.lines().count(), 3, "{all}");
    assert!(all.contains("\"tenant\":\"globex\""), "{all}");
    std::fs::remove_dir_all(&dir).unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_the_cli_runs_and_the_domain_refuses_are_recorded_too() {
    let app = TestApp::spawn().await;
    let before = app.stream_sequence().await;
    // An unknown violation: refused (not found), nothing on the stream.
    let unknown = uuid::Uuid::new_v4().to_string();
    let output = pursight(
        &app,
        &[
            "compliance",
            "accept",
            &unknown,
            "--reason",
            "known risk",
            "--expires",
            "30d",
            "--tenant",
            "acme",
        ],
    );
    assert!(!output.status.success(), "{}", text(&output));
    // A custom rule that does not parse: refused (invalid).
    let dir = std::env::temp_dir().join(format!("pursight-cli-refusal-{unknown}"));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nid = \"acme-x\"\ntitle = \"X\"\nframework = \"gdpr\"\ncontrol = \"Art. 5\"\nseverity = \"low\"\nsubject = \"asset\"\nremediation = \"Fix.\"\ncondition = \"asset.nope == 1\"\n",
    )
    .unwrap();
    let output = pursight(
        &app,
        &[
            "compliance",
            "define",
            "--file",
            rules.to_str().unwrap(),
            "--tenant",
            "acme",
        ],
    );
    assert!(!output.status.success(), "{}", text(&output));
    assert_eq!(app.stream_sequence().await, before, "nothing was written");

    let output = pursight(&app, &["audit", "export", "--tenant", "acme"]);
    assert!(output.status.success(), "{}", text(&output));
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let accept = lines
        .iter()
        .find(|l| l["action"] == "cli compliance accept")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(accept["outcome"], "not_found", "{accept}");
    assert!(
        accept["actor"].as_str().unwrap().starts_with("cli:"),
        "{accept}"
    );
    let define = lines
        .iter()
        .find(|l| l["action"] == "cli compliance define")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(define["outcome"], "invalid", "{define}");
    assert!(
        define["reason"].as_str().unwrap().contains("asset.nope"),
        "{define}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    app.stop().await;
}
