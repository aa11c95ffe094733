//! `pursight replay --as-of T --into SCHEMA`: an asset changed three times is read back as it
//! stood after each change, from read models materialised at that time; another tenant's later
//! events stay out of a tenant's replay; hostile or taken schema names are refused before
//! anything is written.
//!
//! The GraphQL `asOf:` arguments: the same three past states read back through `asset`,
//! `assets`, `columnLabels` and `dataSources`; an as-of read at "now" answers exactly what the
//! live read models answer; a role whose condition excludes a past state does not read it.

mod support;

use domain::access::Role;
use serde_json::json;
use serde_json::Value;
use sqlx::PgPool;
use support::*;

const SECRET_VALUE: &str = "as-of-secret-5e02";

#[tokio::test(flavor = "multi_thread")]
async fn an_asset_changed_three_times_is_read_back_as_it_stood_at_each_time() {
    let app = TestApp::spawn().await;
    let acme = TestApp::token("acme", &[Role::Admin]);
    let globex = TestApp::token("globex", &[Role::Admin]);
    let db = SourceDb::create(CARD_SHOP, SECRET_VALUE).await;
    let source = register_and_scan(&app, &acme, db.input()).await;
    let assets = app
        .gql(
            Some(&acme),
            "query($id: ID!) { assets(sourceId: $id) { id path } }",
            json!({ "id": source }),
        )
        .await;
    let asset = assets["data"]["assets"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{assets}"))
        .to_owned();

    // Three changes, the time taken after each one is recorded.
    let mut times = Vec::new();
    for i in 1..=3 {
        let changed = app
            .gql(
                Some(&acme),
                "mutation($id: ID!, $d: String!, $o: String!) { updateAssetMetadata(assetId: $id, description: $d, owner: $o, waitForProjection: true) { version } }",
                json!({ "id": asset, "d": format!("description {i}"), "o": format!("team-{i}") }),
            )
            .await;
        assert!(changed["errors"].is_null(), "{changed}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        times.push(chrono::Utc::now());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if i == 1 {
            // Another tenant's source, after the first change.
            let other = app
                .gql(
                    Some(&globex),
                    "mutation($input: DataSourceInput!) { registerDataSource(input: $input) { aggregateId } }",
                    json!({ "input": postgres_source("globex after the first change") }),
                )
                .await;
            assert!(other["errors"].is_null(), "{other}");
        }
    }

    let pool = PgPool::connect(&app.database_url).await.unwrap();
    for (i, at) in times.iter().enumerate() {
        let schema = format!("audit_as_of_{}", i + 1);
        let output = pursight(
            &app,
            &[
                "replay",
                "--as-of",
                &at.to_rfc3339(),
                "--into",
                &schema,
                "--tenant",
                "acme",
            ],
        );
        let said = text(&output);
        assert!(output.status.success(), "{said}");
        assert!(said.contains(&format!("in schema {schema}")), "{said}");
        let (description, owner): (Option<String>, Option<String>) = sqlx::query_as(&format!(
            "SELECT description, owner FROM {schema}.assets WHERE id = $1::uuid"
        ))
        .bind(&asset)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            description.as_deref(),
            Some(format!("description {}", i + 1).as_str())
        );
        assert_eq!(owner.as_deref(), Some(format!("team-{}", i + 1).as_str()));
        // Only acme's events: globex's source is in no replay of acme.
        let tenants: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT DISTINCT tenant_id FROM {schema}.data_sources"
        ))
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(tenants, [("acme".to_owned(),)]);
        // Every read model is there (the violations table exists, empty or not).
        for table in [
            "audit_log",
            "edges",
            "violations",
            "source_health",
            "column_labels",
            "grants",
        ] {
            sqlx::query(&format!("SELECT count(*) FROM {schema}.{table}"))
                .fetch_one(&pool)
                .await
                .unwrap_or_else(|e| panic!("{schema}.{table}: {e}"));
        }
    }
    // Without --tenant, all tenants: globex's source registered after the first change.
    let all = pursight(
        &app,
        &[
            "replay",
            "--as-of",
            &times[2].to_rfc3339(),
            "--into",
            "audit_all",
        ],
    );
    assert!(all.status.success(), "{}", text(&all));
    let (count,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM audit_all.data_sources WHERE tenant_id = 'globex'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(count, 1);
    // Before anything happened: the read models exist and are empty.
    let before = pursight(
        &app,
        &[
            "replay",
            "--as-of",
            "2000-01-01T00:00:00Z",
            "--into",
            "audit_before",
        ],
    );
    assert!(before.status.success(), "{}", text(&before));
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM audit_before.assets")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0);

    // Taken and hostile names are refused, and the live read models are untouched.
    let live_before: (i64,) = sqlx::query_as("SELECT count(*) FROM rm_catalog.assets")
        .fetch_one(&pool)
        .await
        .unwrap();
    for (schema, reason) in [
        ("rm_catalog", "reserved"),
        ("public", "reserved"),
        ("pg_temp", "reserved"),
        ("x; DROP SCHEMA rm_catalog CASCADE", "a-z, 0-9 and _"),
        ("Audit", "a-z, 0-9 and _"),
        ("audit_as_of_1", "exists"),
    ] {
        let refused = pursight(
            &app,
            &[
                "replay",
                "--as-of",
                &times[0].to_rfc3339(),
                "--into",
                schema,
            ],
        );
        assert!(!refused.status.success(), "{schema}");
        assert!(
            text(&refused).contains(reason),
            "{schema}: {}",
            text(&refused)
        );
    }
    let live_after: (i64,) = sqlx::query_as("SELECT count(*) FROM rm_catalog.assets")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(live_before, live_after);
    // --replace materialises again over an existing replay: now as of the third change.
    let replaced = pursight(
        &app,
        &[
            "replay",
            "--as-of",
            &times[2].to_rfc3339(),
            "--into",
            "audit_as_of_1",
            "--replace",
        ],
    );
    assert!(replaced.status.success(), "{}", text(&replaced));
    let (description,): (Option<String>,) =
        sqlx::query_as("SELECT description FROM audit_as_of_1.assets WHERE id = $1::uuid")
            .bind(&asset)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(description.as_deref(), Some("description 3"));
    // The replay leaves no checkpoint or parked event behind: readiness is as before.
    let (left,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM public.projection_checkpoints WHERE name LIKE 'as_of:%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left, 0);
    pool.close().await;
    app.stop().await;
    db.remove().await;
}

const ASSET_AT: &str = "query($id: ID!, $at: DateTime) { asset(id: $id, asOf: $at) {
    id path kind name columnCount fingerprint rowEstimate removed version firstSeenAt updatedAt
    owner ownerInherited ownerDetails { name kind type } tags tagsInherited description descriptionInherited
    columns { name dataType nullable primaryKey ordinal labels { label status confidence signals { tier detail weight } reviewedBy reviewNote } }
    history { version change fingerprint at } } }";
const SOURCES_AT: &str = "query($at: DateTime) { dataSources(asOf: $at, includeArchived: true) {
    id name kind lifecycleState version owner ownerDetails { name kind type } tags description config registeredAt registeredBy updatedAt updatedBy archivedAt lastSequence } }";
const LABELS_AT: &str = "query($id: ID!, $at: DateTime) { columnLabels(assetId: $id, asOf: $at) {
    column label status confidence signals { tier detail weight } labelledBy labelledAt reviewedAt reviewedBy reviewNote } }";
const ASSETS_AT: &str = "query($at: DateTime) { assets(asOf: $at, includeRemoved: true) { id path version description } }";

fn data(response: Value) -> Value {
    assert!(response["errors"].is_null(), "{response}");
    response["data"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn graphql_as_of_reads_each_past_state_and_now_answers_as_the_live_read_models() {
    let app = TestApp::spawn().await;
    let acme = TestApp::token("acme", &[Role::Admin]);
    let globex = TestApp::token("globex", &[Role::Admin]);
    let db = SourceDb::create(CARD_SHOP, SECRET_VALUE).await;
    let before = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let source = register_and_scan(&app, &acme, db.input()).await;
    wait_projected(&app, &acme).await;
    let assets = data(
        app.gql(
            Some(&acme),
            "query($id: ID!) { assets(sourceId: $id) { id path } }",
            json!({ "id": source }),
        )
        .await,
    );
    let asset = assets["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"].as_str().unwrap().ends_with("billing.customers"))
        .unwrap_or_else(|| panic!("{assets}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let scanned = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    // Before the source existed: no asset, no source, no label, no page.
    let at = json!({ "id": asset, "at": before.to_rfc3339() });
    assert_eq!(
        data(app.gql(Some(&acme), ASSET_AT, at.clone()).await)["asset"],
        Value::Null
    );
    assert_eq!(
        data(app.gql(Some(&acme), SOURCES_AT, at.clone()).await)["dataSources"],
        json!([])
    );
    assert_eq!(
        data(app.gql(Some(&acme), LABELS_AT, at.clone()).await)["columnLabels"],
        json!([])
    );
    assert_eq!(
        data(app.gql(Some(&acme), ASSETS_AT, at).await)["assets"],
        json!([])
    );

    // Three changes of the asset, and a review of its card-number label between them.
    let mut times = Vec::new();
    for i in 1..=3 {
        data(app.gql(
            Some(&acme),
            "mutation($id: ID!, $d: String!, $o: String!) { updateAssetMetadata(assetId: $id, description: $d, owner: $o, waitForProjection: true) { version } }",
            json!({ "id": asset, "d": format!("description {i}"), "o": format!("team-{i}") }),
        ).await);
        if i == 2 {
            data(app.gql(
                Some(&acme),
                "mutation($a: ID!) { rejectClassification(assetId: $a, column: \"card_number\", label: \"CREDIT_CARD_NUMBER\", reason: \"test numbers only\") { recorded } }",
                json!({ "a": asset }),
            ).await);
            wait_projected(&app, &acme).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        times.push(chrono::Utc::now());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let card = |asset: &Value| -> Value {
        asset["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "card_number")
            .unwrap()["labels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["label"] == "CREDIT_CARD_NUMBER")
            .cloned()
            .unwrap_or(Value::Null)
    };
    let at_scan = data(
        app.gql(
            Some(&acme),
            ASSET_AT,
            json!({ "id": asset, "at": scanned.to_rfc3339() }),
        )
        .await,
    )["asset"]
        .clone();
    assert_eq!(at_scan["description"], Value::Null, "{at_scan}");
    assert_eq!(at_scan["history"].as_array().unwrap().len(), 1, "{at_scan}");
    assert_eq!(card(&at_scan)["status"], "applied", "{at_scan}");
    let mut versions = vec![at_scan["version"].as_i64().unwrap()];
    for (i, at) in times.iter().enumerate() {
        let past = data(
            app.gql(
                Some(&acme),
                ASSET_AT,
                json!({ "id": asset, "at": at.to_rfc3339() }),
            )
            .await,
        )["asset"]
            .clone();
        assert_eq!(
            past["description"],
            format!("description {}", i + 1),
            "{past}"
        );
        assert_eq!(past["owner"], format!("team-{}", i + 1), "{past}");
        let status = if i == 0 { "applied" } else { "rejected" };
        assert_eq!(card(&past)["status"], status, "{past}");
        let labels = data(
            app.gql(
                Some(&acme),
                LABELS_AT,
                json!({ "id": asset, "at": at.to_rfc3339() }),
            )
            .await,
        )["columnLabels"]
            .clone();
        let card_label = labels
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["column"] == "card_number" && l["label"] == "CREDIT_CARD_NUMBER")
            .cloned()
            .unwrap();
        assert_eq!(card_label["status"], status, "{labels}");
        if i > 0 {
            assert_eq!(card_label["reviewNote"], "test numbers only", "{labels}");
        }
        let page = data(
            app.gql(Some(&acme), ASSETS_AT, json!({ "at": at.to_rfc3339() }))
                .await,
        )["assets"]
            .clone();
        let listed = page
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == asset.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{page}"));
        assert_eq!(listed["description"], format!("description {}", i + 1));
        versions.push(past["version"].as_i64().unwrap());
    }
    assert!(versions.windows(2).all(|v| v[0] < v[1]), "{versions:?}");

    // "Now" as of a time to come answers exactly what the live read models answer.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    for (query, variables) in [
        (ASSET_AT, json!({ "id": asset })),
        (SOURCES_AT, json!({})),
        (LABELS_AT, json!({ "id": asset })),
        (ASSETS_AT, json!({})),
    ] {
        let live = data(app.gql(Some(&acme), query, variables.clone()).await);
        let mut at = variables;
        at["at"] = json!(later);
        let as_of = data(app.gql(Some(&acme), query, at).await);
        assert_eq!(as_of, live, "{query}");
        assert_ne!(live.to_string().len(), 0);
    }

    // Another tenant reads nothing of acme at any time.
    let theirs = data(
        app.gql(Some(&globex), ASSET_AT, json!({ "id": asset, "at": later }))
            .await,
    );
    assert_eq!(theirs["asset"], Value::Null);
    let theirs = data(
        app.gql(Some(&globex), SOURCES_AT, json!({ "at": later }))
            .await,
    );
    assert_eq!(theirs["dataSources"], json!([]));
    // Labels as of a time need the asset: a whole catalogue is `replay --as-of --into`.
    let refused = app
        .gql(
            Some(&acme),
            "query($at: DateTime) { columnLabels(asOf: $at) { label } }",
            json!({ "at": later }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("VALIDATION"), "{refused}");

    // A role that reads everything but critical data: the asset is in reach now (its card
    // numbers were rejected), but not as it stood when the card numbers were applied.
    data(app.gql(
        Some(&acme),
        "mutation($r: String!, $p: [String!]!, $c: AssetConditionInput) { defineRole(role: $r, permissions: $p, condition: $c, waitForProjection: true) { projected } }",
        json!({ "r": "analyst", "p": ["asset:read", "classification:read", "data_source:read"], "c": { "maxSensitivity": "high" } }),
    ).await);
    data(app.gql(
        Some(&acme),
        "mutation($s: String!, $r: String!) { grantRole(subject: $s, role: $r, waitForProjection: true) { projected } }",
        json!({ "s": "kim@acme.test", "r": "analyst" }),
    ).await);
    let kim = api::auth::issue_token(
        SECRET,
        "kim@acme.test",
        &domain::TenantId::parse("acme").unwrap(),
        &[],
        3600,
    );
    let now = data(
        app.gql(Some(&kim), ASSET_AT, json!({ "id": asset, "at": later }))
            .await,
    );
    assert_eq!(now["asset"]["id"], asset.as_str(), "{now}");
    for at in [scanned, times[0]] {
        let then = data(
            app.gql(
                Some(&kim),
                ASSET_AT,
                json!({ "id": asset, "at": at.to_rfc3339() }),
            )
            .await,
        );
        assert_eq!(then["asset"], Value::Null, "{then}");
        let labels = data(
            app.gql(
                Some(&kim),
                LABELS_AT,
                json!({ "id": asset, "at": at.to_rfc3339() }),
            )
            .await,
        );
        assert_eq!(labels["columnLabels"], json!([]), "{labels}");
    }
    app.stop().await;
}

const VIOLATIONS_AS_OF: &str = r#"
query($f: ViolationFilter, $first: Int!, $after: String, $at: DateTime) {
  violations(filter: $f, first: $first, after: $after, asOf: $at) {
    totalCount
    pageInfo { endCursor hasNextPage }
    edges { cursor node {
      id rule ruleVersion title framework control severity status subjectLevel sourceId assetPath
      column remediation detectedAt resolvedAt
      evidence { eventId sequence hash }
      facts { fact column label value evidence { eventId sequence hash } }
      acceptance { by reason expiresAt }
      resolution { change evidence { eventId sequence hash } }
      history { status eventType version at }
    } }
  }
}"#;

/// The time now, a little after whatever came before (event times and `now` may share a
/// millisecond otherwise).
async fn moment() -> chrono::DateTime<chrono::Utc> {
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let now = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    now
}

#[tokio::test(flavor = "multi_thread")]
async fn violations_as_of_answer_as_the_compliance_read_model_stood() {
    let app = TestApp::spawn().await;
    let acme = TestApp::token("acme", &[Role::Admin]);
    let db = SourceDb::create(CARD_SHOP, SECRET_VALUE).await;
    let source = register_and_scan(&app, &acme, db.input()).await;
    let before_detection = moment().await;
    compliance_evaluate(&app, &source);
    app.wait_compliance().await;
    wait_projected(&app, &acme).await;
    let page = |at: Option<chrono::DateTime<chrono::Utc>>, filter: Value| {
        let app = &app;
        let acme = &acme;
        async move {
            let response = app
                .gql(
                    Some(acme),
                    VIOLATIONS_AS_OF,
                    json!({ "f": filter, "first": 30, "at": at.map(|t| t.to_rfc3339()) }),
                )
                .await;
            assert!(response["errors"].is_null(), "{response}");
            response["data"]["violations"].clone()
        }
    };
    let find = |answer: &Value, id: &str| -> Option<Value> {
        answer["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["id"] == id)
            .map(|e| e["node"].clone())
    };
    let live = page(None, json!({})).await;
    let open: Vec<Value> = live["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .filter(|n| n["status"] == "open")
        .collect();
    let card = open
        .iter()
        .find(|n| n["column"] == "card_number")
        .and_then(|n| n["id"].as_str())
        .unwrap_or_else(|| panic!("a finding about the card numbers: {live}"))
        .to_owned();
    // Another finding, about personal data in general (so it stays accepted when the card
    // numbers' label goes).
    let other = open
        .iter()
        .find(|n| n["framework"] == "gdpr" && n["subjectLevel"] == "asset")
        .and_then(|n| n["id"].as_str())
        .unwrap_or_else(|| panic!("a finding about something else: {live}"))
        .to_owned();
    let detected = moment().await;

    // Accepted (until in 30 days), and another one accepted until tomorrow.
    const ACCEPT: &str = "mutation($id: ID!, $until: DateTime!) { acceptViolation(id: $id, reason: \"compensating control\", expiresAt: $until, waitForProjection: true) { __typename } }";
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    for (id, until) in [
        (&card, chrono::Utc::now() + chrono::Duration::days(30)),
        (&other, tomorrow),
    ] {
        let accepted = app
            .gql(
                Some(&acme),
                ACCEPT,
                json!({ "id": id, "until": until.to_rfc3339() }),
            )
            .await;
        assert!(accepted["errors"].is_null(), "{accepted}");
    }
    let accepted_at = moment().await;

    // Resolved: the card-number label is rejected, the worker resolves the findings.
    let asset = live["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["id"] == card.as_str())
        .map(|e| e["node"]["assetPath"].clone())
        .unwrap();
    let assets = app
        .gql(
            Some(&acme),
            "query($id: ID!) { assets(sourceId: $id) { id path } }",
            json!({ "id": source }),
        )
        .await;
    let asset_id = assets["data"]["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"] == asset)
        .and_then(|a| a["id"].as_str())
        .unwrap_or_else(|| panic!("{assets}"))
        .to_owned();
    let rejected = app
        .gql(
            Some(&acme),
            "mutation($a: ID!) { rejectClassification(assetId: $a, column: \"card_number\", label: \"CREDIT_CARD_NUMBER\", reason: \"test data\") { recorded } }",
            json!({ "a": asset_id }),
        )
        .await;
    assert!(rejected["errors"].is_null(), "{rejected}");
    app.wait_compliance().await;
    wait_projected(&app, &acme).await;
    let now = page(None, json!({})).await;
    assert_eq!(find(&now, &card).unwrap()["status"], "resolved", "{now}");
    let resolved_at = moment().await;

    // Each past state read back.
    let at = page(Some(before_detection), json!({})).await;
    assert_eq!(at["totalCount"], 0, "nothing was detected yet: {at}");
    let at = page(Some(detected), json!({})).await;
    let then = find(&at, &card).expect("detected by then");
    assert_eq!(then["status"], "open");
    assert!(
        then["acceptance"].is_null() && then["resolvedAt"].is_null(),
        "{then}"
    );
    assert_eq!(
        then["history"][0]["eventType"], "ViolationDetected",
        "{then}"
    );
    assert_eq!(then["history"].as_array().unwrap().len(), 1, "{then}");
    let at = page(Some(accepted_at), json!({})).await;
    let then = find(&at, &card).unwrap();
    assert_eq!(then["status"], "accepted", "{then}");
    assert_eq!(then["acceptance"]["reason"], "compensating control");
    assert_eq!(then["history"].as_array().unwrap().len(), 2, "{then}");
    let accepted_only = page(Some(accepted_at), json!({ "status": "accepted" })).await;
    assert!(find(&accepted_only, &card).is_some(), "{accepted_only}");
    assert!(find(
        &page(Some(detected), json!({ "status": "accepted" })).await,
        &card
    )
    .is_none());
    let at = page(Some(resolved_at), json!({})).await;
    let then = find(&at, &card).unwrap();
    assert_eq!(then["status"], "resolved", "{then}");
    assert!(then["acceptance"].is_null(), "{then}");
    assert!(then["resolution"]["change"].is_string(), "{then}");

    // The acceptance that ends tomorrow: held then, expired the day after, whether or not the
    // worker has recorded its expiry yet.
    assert_eq!(find(&now, &other).unwrap()["status"], "accepted", "{now}");
    let held = page(Some(tomorrow - chrono::Duration::hours(1)), json!({})).await;
    assert_eq!(find(&held, &other).unwrap()["status"], "accepted");
    let after = page(Some(tomorrow + chrono::Duration::days(1)), json!({})).await;
    let expired = find(&after, &other).unwrap();
    assert_eq!(expired["status"], "open", "{expired}");
    assert!(expired["acceptance"].is_null(), "{expired}");

    // As of a time to come: exactly the live answer, page by page.
    let future = Some(chrono::Utc::now() + chrono::Duration::hours(1));
    // (The worker may still be recording findings again after the rejection: once it and the
    // read models are idle, the live answer is final.)
    app.wait_compliance().await;
    wait_projected(&app, &acme).await;
    let now = page(None, json!({})).await;
    // The finding about personal data was recorded again when the card numbers' label went;
    // it stays accepted, and nothing was parked on the way.
    let again = find(&now, &other).unwrap();
    assert_eq!(again["status"], "accepted", "{again}");
    let detections = again["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["eventType"] == "ViolationDetected")
        .count();
    assert_eq!(detections, 2, "{again}");
    let parked = app
        .gql(
            Some(&acme),
            "{ consistency { parked { projection sequence } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        parked["data"]["consistency"]["parked"],
        json!([]),
        "{parked}"
    );
    assert_same(&page(future, json!({})).await, &now, "");
    for status in ["open", "accepted", "resolved"] {
        assert_same(
            &page(future, json!({ "status": status })).await,
            &page(None, json!({ "status": status })).await,
            status,
        );
    }
    let mut after: Option<String> = None;
    let mut walked = Vec::new();
    loop {
        let response = app
            .gql(
                Some(&acme),
                VIOLATIONS_AS_OF,
                json!({ "first": 2, "after": after, "at": future.map(|t| t.to_rfc3339()) }),
            )
            .await;
        let answer = &response["data"]["violations"];
        for edge in answer["edges"].as_array().unwrap() {
            walked.push(edge["node"]["id"].clone());
        }
        if answer["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = answer["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    let all: Vec<Value> = now["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect();
    assert_eq!(walked, all, "pages of two walk the same order");

    // Another tenant reads none of it.
    let globex = TestApp::token("globex", &[Role::Admin]);
    let theirs = app
        .gql(
            Some(&globex),
            VIOLATIONS_AS_OF,
            json!({ "first": 30, "at": future.map(|t| t.to_rfc3339()) }),
        )
        .await;
    assert_eq!(theirs["data"]["violations"]["totalCount"], 0, "{theirs}");
    app.stop().await;
    db.remove().await;
}

/// Fails naming the first place where `a` and `b` differ.
fn assert_same(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                assert_same(
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                    &format!("{at}.{key}"),
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                assert_same(x, y, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(a, b, "as of a time to come, unlike live, at {at}"),
    }
}
