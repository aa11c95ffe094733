//! End to end through HTTP: the real service (`Application::build` on port 0) against the
//! machine's NATS and PostgreSQL, each test with its own stream prefix and database.

mod support;

use domain::access::Role;
use serde_json::{json, Value};
use support::{error_code, postgres_source, pursight, text, TestApp, REGISTER, SECRET};

const SOURCE_FIELDS: &str = "id name kind lifecycleState version host port database username passwordSecret tags environment config";

async fn register(app: &TestApp, token: &str, input: Value) -> Value {
    let response = app
        .gql(
            Some(token),
            REGISTER,
            json!({ "input": input, "wait": true }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["registerDataSource"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn register_then_read_your_write_then_the_history_and_audit_trail_show_it() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let result = register(&app, &admin, postgres_source("Orders")).await;
    assert_eq!(result["version"], 1);
    assert_eq!(result["projected"], true);
    assert_eq!(result["duplicate"], false);
    assert_eq!(result["eventIds"].as_array().unwrap().len(), 1);
    let id = result["aggregateId"].as_str().unwrap().to_owned();

    let query = format!("query($id: ID!) {{ dataSource(id: $id) {{ {SOURCE_FIELDS} }} dataSources {{ id }} consistency {{ projectedSequence streamSequence }} }}");
    let response = app.gql(Some(&admin), &query, json!({ "id": id })).await;
    let source = &response["data"]["dataSource"];
    assert_eq!(source["name"], "Orders", "{response}");
    assert_eq!(source["kind"], "postgresql");
    assert_eq!(source["lifecycleState"], "registered");
    assert_eq!(source["port"], 5432);
    assert_eq!(
        source["passwordSecret"],
        "env:PURSIGHT_SOURCE_SECRET_ORDERS"
    );
    assert_eq!(source["tags"], json!(["pii"]));
    assert_eq!(response["data"]["dataSources"].as_array().unwrap().len(), 1);
    let consistency = &response["data"]["consistency"];
    assert_eq!(
        consistency["projectedSequence"],
        consistency["streamSequence"]
    );

    let history = app
        .gql(Some(&admin), "query($id: ID!) { history(aggregateId: $id) { type name aggregateVersion actor tenant commandId hash prevhash data } }", json!({ "id": id }))
        .await;
    let events = history["data"]["history"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{history}");
    assert_eq!(events[0]["type"], "io.pursight.SourceRegistered.v3");
    assert_eq!(events[0]["actor"], "alice@example.com");
    assert_eq!(events[0]["tenant"], "acme");
    assert_eq!(
        events[0]["commandId"], id,
        "a registration's id is its command id"
    );

    let audit = app
        .gql(
            Some(&admin),
            "{ auditTrail(first: 10) { entries { eventType actor aggregateId } hasNextPage } }",
            json!({}),
        )
        .await;
    let entries = audit["data"]["auditTrail"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["aggregateId"], id);

    // Lifecycle through the API: configure, then an invalid transition is refused with the state named.
    let configure = app
        .gql(Some(&admin), "mutation($id: ID!) { configureDataSource(id: $id, waitForProjection: true) { version } }", json!({ "id": id }))
        .await;
    assert_eq!(
        configure["data"]["configureDataSource"]["version"], 2,
        "{configure}"
    );
    let before = app.stream_sequence().await;
    let refused = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { catalogDataSource(id: $id) { version } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("CONFLICT"), "{refused}");
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("AddToCatalog") && message.contains("configuring"),
        "{message}"
    );
    assert_eq!(app.stream_sequence().await, before);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_updates_of_one_source_are_retried_and_none_is_lost() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::DataSteward]);
    let id = register(&app, &admin, postgres_source("Orders")).await["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();
    let update = "mutation($id: ID!, $input: DataSourceInput!) { updateDataSourceConfig(id: $id, input: $input) { version } }";
    let (a, b) = tokio::join!(
        app.gql(
            Some(&admin),
            update,
            json!({ "id": id, "input": { "owner": "team-a@example.com" } })
        ),
        app.gql(
            Some(&admin),
            update,
            json!({ "id": id, "input": { "description": "orders of the web shop" } })
        ),
    );
    assert!(a["errors"].is_null(), "{a}");
    assert!(b["errors"].is_null(), "{b}");
    let response = app
        .gql(
            Some(&admin),
            "query($id: ID!) { dataSource(id: $id) { version owner description } }",
            json!({ "id": id }),
        )
        .await;
    // Read the read model once it caught up with the stream.
    let mut source = response["data"]["dataSource"].clone();
    for _ in 0..100 {
        if source["version"] == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        source = app
            .gql(
                Some(&admin),
                "query($id: ID!) { dataSource(id: $id) { version owner description } }",
                json!({ "id": id }),
            )
            .await["data"]["dataSource"]
            .clone();
    }
    assert_eq!(source["version"], 3);
    assert_eq!(source["owner"], "team-a@example.com");
    assert_eq!(source["description"], "orders of the web shop");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_retries_a_lost_race_is_a_conflict_error_and_writes_nothing() {
    let app = TestApp::spawn_with_attempts(1).await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let id = register(&app, &admin, postgres_source("Orders")).await["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();
    let update = "mutation($id: ID!, $input: DataSourceInput!) { updateDataSourceConfig(id: $id, input: $input) { version } }";
    let requests = (0..16).map(|i| {
        let variables = json!({ "id": id, "input": { "description": format!("writer {i}") } });
        let admin = admin.clone();
        let app = &app;
        async move { app.gql(Some(&admin), update, variables).await }
    });
    let responses = futures::future::join_all(requests).await;
    let succeeded = responses.iter().filter(|r| r["errors"].is_null()).count();
    let conflicts = responses
        .iter()
        .filter(|r| error_code(r) == Some("CONFLICT"))
        .count();
    assert_eq!(succeeded + conflicts, 16, "{responses:?}");
    assert!(succeeded >= 1);
    assert!(
        conflicts >= 1,
        "16 simultaneous writers with no retry must collide"
    );
    let message = responses
        .iter()
        .find(|r| error_code(r) == Some("CONFLICT"))
        .unwrap()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("concurrently"), "{message}");
    // Exactly one event per successful command.
    let history = app
        .gql(
            Some(&admin),
            "query($id: ID!) { history(aggregateId: $id) { aggregateVersion } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        history["data"]["history"].as_array().unwrap().len(),
        1 + succeeded
    );
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let conflicts_metric: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("pursight_command_conflicts_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(conflicts_metric >= conflicts as u64);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_command_id_twice_appends_one_event() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let command_id = uuid::Uuid::now_v7().to_string();
    let variables =
        json!({ "input": postgres_source("Orders"), "commandId": command_id, "wait": true });
    let first = app.gql(Some(&admin), REGISTER, variables.clone()).await;
    let after_first = app.stream_sequence().await;
    let second = app.gql(Some(&admin), REGISTER, variables).await;
    let (first, second) = (
        &first["data"]["registerDataSource"],
        &second["data"]["registerDataSource"],
    );
    assert_eq!(second["duplicate"], true, "{second}");
    assert_eq!(first["aggregateId"], second["aggregateId"]);
    assert_eq!(first["eventIds"], second["eventIds"]);
    assert_eq!(app.stream_sequence().await, after_first);

    let id = first["aggregateId"].as_str().unwrap();
    let update = "mutation($id: ID!, $c: ID) { archiveDataSource(id: $id, reason: \"retired\", commandId: $c) { version duplicate eventIds } }";
    let archive_id = uuid::Uuid::now_v7().to_string();
    let a = app
        .gql(Some(&admin), update, json!({ "id": id, "c": archive_id }))
        .await;
    let b = app
        .gql(Some(&admin), update, json!({ "id": id, "c": archive_id }))
        .await;
    assert_eq!(a["data"]["archiveDataSource"]["duplicate"], false, "{a}");
    assert_eq!(b["data"]["archiveDataSource"]["duplicate"], true, "{b}");
    assert_eq!(
        a["data"]["archiveDataSource"]["eventIds"],
        b["data"]["archiveDataSource"]["eventIds"]
    );
    let history = app
        .gql(
            Some(&admin),
            "query($id: ID!) { history(aggregateId: $id) { name } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        history["data"]["history"],
        json!([{ "name": "SourceRegistered" }, { "name": "SourceArchived" }])
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_id_another_tenant_used_registers_this_tenants_own_source() {
    let app = TestApp::spawn().await;
    let (acme, globex) = (
        TestApp::token("acme", &[Role::Admin]),
        TestApp::token("globex", &[Role::Admin]),
    );
    let command_id = uuid::Uuid::now_v7().to_string();
    let mut outcomes = Vec::new();
    for (token, name) in [(&acme, "Orders"), (&globex, "Ledger")] {
        let variables =
            json!({ "input": postgres_source(name), "commandId": command_id, "wait": true });
        outcomes.push(app.gql(Some(token), REGISTER, variables).await);
    }
    let (ours, theirs) = (&outcomes[0], &outcomes[1]);
    let (ours, theirs) = (
        &ours["data"]["registerDataSource"],
        &theirs["data"]["registerDataSource"],
    );
    assert_eq!(theirs["duplicate"], false, "{theirs}");
    assert_ne!(ours["eventIds"], theirs["eventIds"]);
    let id = theirs["aggregateId"].as_str().unwrap();
    let history = app
        .gql(
            Some(&globex),
            "query($id: ID!) { history(aggregateId: $id) { tenant data } }",
            json!({ "id": id }),
        )
        .await;
    let events = history["data"]["history"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{history}");
    assert_eq!(events[0]["tenant"], "globex");
    assert_eq!(events[0]["data"]["config"]["name"], "Ledger", "{history}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_rule_set_creation_returns_the_id_it_created() {
    let app = TestApp::spawn().await;
    let (acme, globex) = (
        TestApp::token("acme", &[Role::Admin]),
        TestApp::token("globex", &[Role::Admin]),
    );
    let command_id = uuid::Uuid::now_v7().to_string();
    let create = |token: String| {
        let (app, command_id) = (&app, command_id.clone());
        async move {
            app.gql(
                Some(&token),
                "mutation($i: ScanRuleSetInput!, $c: ID) { createScanRuleSet(input: $i, commandId: $c) }",
                json!({ "i": { "name": "mail only", "enabledTypes": ["EMAIL_ADDRESS"] }, "c": command_id }),
            )
            .await
        }
    };
    let first = create(acme.clone()).await;
    let first = first["data"]["createScanRuleSet"]
        .as_str()
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    let after_first = app.stream_sequence().await;
    let again = create(acme.clone()).await;
    assert_eq!(
        again["data"]["createScanRuleSet"],
        first.as_str(),
        "{again}"
    );
    assert_eq!(
        app.stream_sequence().await,
        after_first,
        "a retry appends nothing"
    );
    let other = create(globex).await;
    let other = other["data"]["createScanRuleSet"]
        .as_str()
        .unwrap_or_else(|| panic!("{other}"));
    assert_ne!(
        other, first,
        "another tenant's command creates its own rule set"
    );

    // After more changes than a snapshot holds back, the loaded history no longer shows the
    // creating command; the retry still answers with the rule set it created.
    for n in 0..101 {
        let updated = app
            .gql(
                Some(&acme),
                "mutation($id: ID!, $i: ScanRuleSetInput!) { updateScanRuleSet(id: $id, input: $i) { version } }",
                json!({ "id": first, "i": { "name": format!("mail only {n}"), "enabledTypes": ["EMAIL_ADDRESS"] } }),
            )
            .await;
        assert!(updated["errors"].is_null(), "{updated}");
    }
    let after_updates = app.stream_sequence().await;
    let late = create(acme.clone()).await;
    assert_eq!(late["data"]["createScanRuleSet"], first.as_str(), "{late}");
    assert_eq!(app.stream_sequence().await, after_updates);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_input_is_rejected_field_by_field_and_writes_no_event() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let id = register(&app, &admin, postgres_source("Orders")).await["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = app.stream_sequence().await;
    let with = |patch: Value| {
        let mut input = postgres_source("Bad");
        for (key, value) in patch.as_object().unwrap() {
            input[key] = value.clone();
        }
        input
    };
    let cases = [
        (with(json!({ "name": "  " })), "name"),
        (with(json!({ "port": 70000 })), "port"),
        (
            with(json!({ "passwordSecret": "hunter2-Sup3rSecret" })),
            "password_secret",
        ),
        (with(json!({ "kind": "oracle" })), "kind"),
        (with(json!({ "tags": ["Has Space"] })), "tags"),
        (
            with(json!({ "sslConfig": { "mode": "verify_ca" } })),
            "ssl_config",
        ),
        (with(json!({ "location": "cloud" })), "cloud_provider"),
        (
            with(
                json!({ "replicaConfig": { "replicaHost": "replica.internal", "failoverErrorPercent": 0 } }),
            ),
            "replica_config.failover_error_percent",
        ),
    ];
    for (input, field) in cases {
        let response = app
            .gql(Some(&admin), REGISTER, json!({ "input": input }))
            .await;
        assert_eq!(
            error_code(&response),
            Some("VALIDATION"),
            "{field}: {response}"
        );
        let message = response["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains(field),
            "message {message:?} does not name {field}"
        );
        assert!(
            !response.to_string().contains("Sup3rSecret"),
            "a literal password is echoed: {response}"
        );
    }
    let update = "mutation($id: ID!, $input: DataSourceInput!) { updateDataSourceConfig(id: $id, input: $input) { version } }";
    let response = app
        .gql(
            Some(&admin),
            update,
            json!({ "id": id, "input": { "port": 0 } }),
        )
        .await;
    assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
    let response = app
        .gql(
            Some(&admin),
            update,
            json!({ "id": "not-a-uuid", "input": {} }),
        )
        .await;
    assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
    let response = app
        .gql(
            Some(&admin),
            update,
            json!({ "id": uuid::Uuid::now_v7().to_string(), "input": { "owner": "x" } }),
        )
        .await;
    assert_eq!(error_code(&response), Some("NOT_FOUND"), "{response}");
    assert_eq!(
        app.stream_sequence().await,
        before,
        "no rejected command wrote an event"
    );

    // Valid failover thresholds are kept in the configuration.
    let update = "mutation($id: ID!, $input: DataSourceInput!) { updateDataSourceConfig(id: $id, input: $input, waitForProjection: true) { version } }";
    let thresholds = json!({ "replicaConfig": {
        "replicaHost": "replica.internal",
        "failoverLatencyMs": 2500,
        "failoverConsecutiveErrors": 5,
        "failoverErrorPercent": 30,
        "failoverCoolDownSecs": 60,
    } });
    let response = app
        .gql(
            Some(&admin),
            update,
            json!({ "id": id, "input": thresholds }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    let response = app
        .gql(
            Some(&admin),
            "query($id: ID!) { dataSource(id: $id) { config } }",
            json!({ "id": id }),
        )
        .await;
    let replica = &response["data"]["dataSource"]["config"]["replica_config"];
    assert_eq!(replica["failover_latency_ms"], 2500, "{response}");
    assert_eq!(replica["failover_consecutive_errors"], 5);
    assert_eq!(replica["failover_error_percent"], 30);
    assert_eq!(replica["failover_cool_down_secs"], 60);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn callers_need_a_valid_token_and_the_right_role() {
    let app = TestApp::spawn().await;
    let response = app.gql(None, "{ dataSources { id } }", json!({})).await;
    assert_eq!(error_code(&response), Some("UNAUTHENTICATED"), "{response}");
    let response = app
        .gql(Some("not.a.jwt"), "{ dataSources { id } }", json!({}))
        .await;
    assert_eq!(error_code(&response), Some("UNAUTHENTICATED"), "{response}");
    let forged = api::auth::issue_token(
        "another-secret",
        "mallory",
        &domain::TenantId::parse("acme").unwrap(),
        &[Role::Admin],
        60,
    );
    let response = app
        .gql(Some(&forged), "{ dataSources { id } }", json!({}))
        .await;
    assert_eq!(error_code(&response), Some("UNAUTHENTICATED"), "{response}");

    let before = app.stream_sequence().await;
    for role in [Role::Viewer, Role::Auditor] {
        let token = TestApp::token("acme", &[role]);
        let response = app
            .gql(
                Some(&token),
                REGISTER,
                json!({ "input": postgres_source("Nope") }),
            )
            .await;
        assert_eq!(
            error_code(&response),
            Some("FORBIDDEN"),
            "{role}: {response}"
        );
    }
    assert_eq!(app.stream_sequence().await, before);
    let viewer = TestApp::token("acme", &[Role::Viewer]);
    let response = app
        .gql(
            Some(&viewer),
            "{ auditTrail { entries { eventId } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&response), Some("FORBIDDEN"), "{response}");
    let response = app
        .gql(Some(&viewer), "{ dataSources { id } }", json!({}))
        .await;
    assert!(response["errors"].is_null(), "{response}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_never_sees_another_tenants_sources_history_or_audit_trail() {
    let app = TestApp::spawn().await;
    let acme = TestApp::token("acme", &[Role::Admin]);
    let globex = TestApp::token("globex", &[Role::Admin]);
    let id = register(&app, &acme, postgres_source("Acme orders")).await["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();

    let response = app
        .gql(
            Some(&globex),
            "{ dataSources { id } auditTrail { entries { eventId } } }",
            json!({}),
        )
        .await;
    assert_eq!(response["data"]["dataSources"], json!([]), "{response}");
    assert_eq!(response["data"]["auditTrail"]["entries"], json!([]));
    let response = app
        .gql(
            Some(&globex),
            "query($id: ID!) { dataSource(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&response), Some("NOT_FOUND"), "{response}");
    let response = app
        .gql(
            Some(&globex),
            "query($id: ID!) { history(aggregateId: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(response["data"]["history"], json!([]), "{response}");
    let before = app.stream_sequence().await;
    let response = app
        .gql(
            Some(&globex),
            "mutation($id: ID!) { archiveDataSource(id: $id) { version } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&response), Some("NOT_FOUND"), "{response}");
    assert_eq!(app.stream_sequence().await, before);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn health_readiness_and_metrics_report_the_projections() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    register(&app, &admin, postgres_source("Orders")).await;
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let mut ready = Value::Null;
    for _ in 0..100 {
        let response = app.client.get(app.url("/readyz")).send().await.unwrap();
        if response.status() == 200 {
            ready = response.json().await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(ready["ready"], true, "{ready}");
    assert_eq!(ready["projections"]["data_sources"]["state"], "running");
    assert_eq!(ready["projections"]["audit_log"]["state"], "running");
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("pursight_commands_total 1"), "{metrics}");
    assert!(
        metrics.contains("pursight_projection_lag{projection=\"data_sources\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("pursight_projection_lag{projection=\"audit_log\"} 0"),
        "{metrics}"
    );
    let graphiql = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        graphiql.contains("graphiql"),
        "GET /graphql serves GraphiQL"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parked_event_shows_in_readyz_metrics_consistency_and_the_cli_of_its_tenant_only() {
    let app = TestApp::spawn().await;
    let client = async_nats::connect(&app.nats_url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let subject = format!(
        "{}.events.acme.data_source.{}",
        app.prefix,
        uuid::Uuid::now_v7()
    );
    js.publish(subject, "{\"not\": \"a batch\"}".into())
        .await
        .unwrap()
        .await
        .unwrap();
    // Another tenant's source, after the bad commit: it is projected all the same.
    let globex = TestApp::token("globex", &[Role::Admin]);
    let registered = app
        .gql(
            Some(&globex),
            REGISTER,
            json!({ "input": postgres_source("Orders"), "wait": true }),
        )
        .await;
    assert_eq!(
        registered["data"]["registerDataSource"]["projected"], true,
        "{registered}"
    );

    // Ready (every other event is projected) but degraded, with the count.
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ready"], true, "{body}");
    assert_eq!(body["degraded"], true, "{body}");
    assert_eq!(body["projections"]["data_sources"]["parked"], 1, "{body}");
    assert_eq!(body["projections"]["data_sources"]["state"], "running");
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("pursight_projection_parked{projection=\"data_sources\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("pursight_projection_up{projection=\"data_sources\"} 1"),
        "{metrics}"
    );

    // Each tenant sees its own parked events only.
    let query = "{ consistency { projections { name parked } parked { projection sequence eventType aggregateType attempts } } }";
    let acme = TestApp::token("acme", &[Role::Viewer]);
    let mine = app.gql(Some(&acme), query, json!({})).await;
    let consistency = &mine["data"]["consistency"];
    // Every projection that reads data-source commits parked it (the audit log too).
    assert!(
        consistency["parked"].as_array().unwrap().contains(
            &json!({ "projection": "data_sources", "sequence": 1, "eventType": null,
                               "aggregateType": "data_source", "attempts": 1 })
        ),
        "{mine}"
    );
    let data_sources = consistency["projections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "data_sources")
        .unwrap();
    assert_eq!(data_sources["parked"], 1);
    let theirs = app.gql(Some(&globex), query, json!({})).await;
    assert_eq!(
        theirs["data"]["consistency"]["parked"],
        json!([]),
        "{theirs}"
    );
    assert!(theirs["data"]["consistency"]["projections"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["parked"] == 0));

    // The operator's view names it with its error; a retry cannot fix an undecodable commit.
    let output = pursight(
        &app,
        &["projections", "parked", "--projection", "data_sources"],
    );
    let listed = text(&output);
    assert!(output.status.success(), "{listed}");
    assert!(
        listed.contains("data_sources") && listed.contains("acme"),
        "{listed}"
    );
    assert!(listed.contains("not a CloudEvents batch"), "{listed}");
    let output = pursight(&app, &["projections", "retry", "--sequence", "1"]);
    let retried = text(&output);
    assert_eq!(output.status.code(), Some(2), "{retried}");
    assert!(retried.contains("0 applied, 1 still failing"), "{retried}");
    let output = pursight(
        &app,
        &["projections", "parked", "--projection", "catalogue"],
    );
    assert!(!output.status.success());
    assert!(text(&output).contains("unknown projection"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_projection_stuck_on_its_database_is_not_ready_and_down_until_it_recovers() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    register(&app, &admin, postgres_source("Orders")).await;
    let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    // The database refuses every write to the read model (SQLSTATE 57P03, "cannot connect
    // now": its trouble, not the event's), so the projection can neither apply nor park.
    sqlx::raw_sql(
        "CREATE FUNCTION rm_data_sources.frozen() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'frozen' USING ERRCODE = '57P03'; END $$;
         CREATE TRIGGER frozen BEFORE INSERT OR UPDATE ON rm_data_sources.data_sources
           FOR EACH ROW EXECUTE FUNCTION rm_data_sources.frozen();",
    )
    .execute(&pool)
    .await
    .unwrap();
    let response = app
        .gql(
            Some(&admin),
            REGISTER,
            json!({ "input": postgres_source("Invoices") }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    let readyz = || async {
        let response = app.client.get(app.url("/readyz")).send().await.unwrap();
        let status = response.status();
        (status, response.json::<Value>().await.unwrap())
    };
    let mut seen = None;
    for _ in 0..400 {
        let (status, body) = readyz().await;
        if body["projections"]["data_sources"]["state"] == "retrying" {
            seen = Some((status, body));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let (status, body) = seen.expect("the projection reports itself retrying");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["ready"], false);
    let error = body["projections"]["data_sources"]["error"]
        .as_str()
        .unwrap();
    assert!(error.contains("frozen"), "{error}");
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("pursight_projection_up{projection=\"data_sources\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("pursight_projection_parked{projection=\"data_sources\"} 0"),
        "nothing is parked for the database's trouble: {metrics}"
    );

    // The database recovers: the projection catches up and the service is ready again.
    sqlx::raw_sql("DROP TRIGGER frozen ON rm_data_sources.data_sources")
        .execute(&pool)
        .await
        .unwrap();
    let mut recovered = false;
    for _ in 0..600 {
        let (status, body) = readyz().await;
        if status == 200 && body["projections"]["data_sources"]["state"] == "running" {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(recovered, "ready again once the database recovers");
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM rm_data_sources.data_sources ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(names, ["Invoices", "Orders"]);
    pool.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_and_oversized_free_text_are_validation_errors_and_append_nothing() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let id = register(&app, &admin, postgres_source("Orders")).await["aggregateId"].clone();
    let before = app.stream_sequence().await;
    let archive =
        "mutation($id: ID!, $r: String) { archiveDataSource(id: $id, reason: $r) { version } }";
    for reason in [
        "retired\u{0}".to_owned(),
        "line one\u{1b}[2J".to_owned(),
        // Over the cap (4096) yet under any request-body limit.
        "x".repeat(64 * 1024),
    ] {
        let response = app
            .gql(Some(&admin), archive, json!({ "id": id, "r": reason }))
            .await;
        assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
        let message = response["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with("reason must"), "{message}");
    }
    let rule_set = "mutation($i: ScanRuleSetInput!) { createScanRuleSet(input: $i) }";
    for input in [
        json!({ "name": "PII\u{0}" }),
        json!({ "name": "PII", "description": "x".repeat(16_385) }),
        json!({ "name": "PII", "customRules": [{ "label": "EMP\nID", "namePattern": "emp" }] }),
    ] {
        let response = app.gql(Some(&admin), rule_set, json!({ "i": input })).await;
        assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
    }
    let reject = "mutation($a: ID!) { rejectClassification(assetId: $a, column: \"c\", label: \"EMAIL\\u0000\") { recorded } }";
    let response = app
        .gql(Some(&admin), reject, json!({ "a": uuid::Uuid::now_v7() }))
        .await;
    assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
    let confirm = "mutation($a: ID!, $c: String!) { confirmClassification(assetId: $a, column: $c, label: \"EMAIL\") { recorded } }";
    for column in ["x".repeat(1025), "c\u{0}".to_owned(), String::new()] {
        let response = app
            .gql(
                Some(&admin),
                confirm,
                json!({ "a": uuid::Uuid::now_v7(), "c": column }),
            )
            .await;
        assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
        let message = response["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.starts_with("column must name a column"),
            "{message}"
        );
    }
    assert_eq!(app.stream_sequence().await, before, "nothing was appended");

    // Lines and tabs are prose, and fine.
    let response = app
        .gql(
            Some(&admin),
            archive,
            json!({ "id": id, "r": "retired:\n\tmoved to the new warehouse" }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    app.stop().await;
}

#[test]
fn every_graphql_field_is_documented() {
    let sdl = api::graphql::sdl();
    let lines: Vec<&str> = sdl.lines().collect();
    let mut current: Option<String> = None;
    let mut undocumented = Vec::new();
    let mut in_description = false;
    for (i, line) in lines.iter().enumerate() {
        // Lines inside a multi-line """ description are text, not fields.
        if line.matches("\"\"\"").count() % 2 == 1 {
            in_description = !in_description;
            continue;
        }
        if in_description {
            continue;
        }
        if let Some(rest) = ["type ", "input "]
            .iter()
            .find_map(|k| line.strip_prefix(k))
        {
            current = rest.split_whitespace().next().map(str::to_owned);
            continue;
        }
        if line.starts_with('}') {
            current = None;
            continue;
        }
        let Some(type_name) = &current else { continue };
        // A field line: one tab, a lowercase name, then `(` or `:`.
        let Some(rest) = line.strip_prefix('\t') else {
            continue;
        };
        if !rest.starts_with(|c: char| c.is_ascii_lowercase()) {
            continue;
        }
        let Some(field) = rest.split(['(', ':']).next() else {
            continue;
        };
        let previous = lines[i - 1].trim();
        if !(previous.ends_with("\"\"\"") || (previous.starts_with('"') && previous.ends_with('"')))
        {
            undocumented.push(format!("{type_name}.{field}"));
        }
    }
    assert!(
        undocumented.is_empty(),
        "fields without a description: {undocumented:?}"
    );
}

/// The attack of issue 15: a steward points a source at a listener they control and names the
/// server's own secrets as its password. Every such configuration is refused before an event is
/// written, whether registered or patched in later, and names the field and the rule.
#[tokio::test(flavor = "multi_thread")]
async fn sources_cannot_name_the_servers_secrets_other_tenants_secrets_or_metadata_hosts() {
    let app = TestApp::spawn().await;
    let steward = TestApp::token("acme", &[Role::DataSteward]);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let trap = |field: &str, value: &str| {
        let mut input = json!({
            "name": "Trap", "kind": "postgresql", "host": "127.0.0.1",
            "port": listener.local_addr().unwrap().port(), "database": "x", "username": "u",
            "passwordSecret": "env:PURSIGHT_SOURCE_SECRET_TRAP",
        });
        input[field] = json!(value);
        input
    };
    let before = app.stream_sequence().await;
    for (field, value, path, rule) in [
        (
            "passwordSecret",
            "env:PURSIGHT_JWT_SECRET",
            "password_secret",
            "env: references may only name variables starting with PURSIGHT_SOURCE_SECRET_",
        ),
        (
            "passwordSecret",
            "env:PURSIGHT_DATABASE_URL",
            "password_secret",
            "env: references may only name variables starting with PURSIGHT_SOURCE_SECRET_",
        ),
        (
            "passwordSecret",
            "file:/proc/self/environ",
            "password_secret",
            "file: references must be paths under",
        ),
        (
            "passwordSecret",
            "file:../globex/pg",
            "password_secret",
            "file: references must be paths under",
        ),
        (
            "passwordSecret",
            "vault:secret/pursight/globex/pg#password",
            "password_secret",
            "MOUNT/pursight/acme/",
        ),
        (
            "passwordSecret",
            "aws-sm:pursight/globex/pg",
            "password_secret",
            "under pursight/acme/",
        ),
        (
            "host",
            "169.254.169.254",
            "host",
            "is a cloud metadata endpoint",
        ),
        (
            "host",
            "fd00:ec2::254",
            "host",
            "is a cloud metadata endpoint",
        ),
    ] {
        let response = app
            .gql(
                Some(&steward),
                REGISTER,
                json!({ "input": trap(field, value) }),
            )
            .await;
        assert_eq!(
            error_code(&response),
            Some("VALIDATION"),
            "{value}: {response}"
        );
        let message = response["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("{path}: ")) && message.contains(rule),
            "{value}: {message}"
        );
        assert!(
            !message.contains("jwt-") && !message.contains(SECRET),
            "{message}"
        );
    }
    assert_eq!(
        app.stream_sequence().await,
        before,
        "no refused source was recorded"
    );

    // An allowed source cannot be patched into the trap either.
    let id = register(&app, &steward, trap("name", "Allowed")).await["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();
    let recorded = app.stream_sequence().await;
    let update = "mutation($id: ID!, $input: DataSourceInput!) { updateDataSourceConfig(id: $id, input: $input) { version } }";
    let response = app
        .gql(
            Some(&steward),
            update,
            json!({ "id": id, "input": { "passwordSecret": "env:PURSIGHT_JWT_SECRET" } }),
        )
        .await;
    assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
    assert_eq!(app.stream_sequence().await, recorded);
    app.stop().await;
}

/// A host name is checked again with the addresses it resolves to when PurSight connects: a name
/// that is not on the deny list but resolves into it is refused, and nothing is dialled.
#[tokio::test(flavor = "multi_thread")]
async fn a_name_resolving_to_a_denied_address_is_refused_when_connecting() {
    let hosts = domain::datasource::HostPolicy::parse("", "127.0.0.0/8, ::1").unwrap();
    let app = TestApp::spawn_with_hosts(hosts).await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let literal = app
        .gql(
            Some(&admin),
            REGISTER,
            json!({ "input": { "name": "Loopback", "kind": "postgresql", "host": "127.0.0.1", "database": "postgres", "username": "postgres" } }),
        )
        .await;
    assert_eq!(error_code(&literal), Some("VALIDATION"), "{literal}");
    assert!(literal
        .to_string()
        .contains("host: is denied by PURSIGHT_SOURCE_HOSTS_DENY"));
    let id = register(
        &app,
        &admin,
        json!({ "name": "By name", "kind": "postgresql", "host": "localhost", "database": "postgres", "username": "postgres" }),
    )
    .await["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();
    let check = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { validateConnection(id: $id) { ok category message } }",
            json!({ "id": id }),
        )
        .await;
    let check = &check["data"]["validateConnection"];
    assert_eq!(check["ok"], false, "{check}");
    assert_eq!(check["category"], "config", "{check}");
    assert_eq!(
        check["message"],
        "host: resolves to an address denied by PURSIGHT_SOURCE_HOSTS_DENY"
    );
    app.stop().await;
}
