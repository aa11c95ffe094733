//! Compliance end to end: a real PostgreSQL source holding card numbers, reached without
//! verified TLS, is scanned and classified through GraphQL, then evaluated with
//! `pursight compliance evaluate`, or by the compliance worker alone; the violations are read
//! back from the stream itself.

mod support;

use domain::access::Role;
use serde_json::{json, Value};
use support::{
    compliance_evaluate, of_type, pursight, register_and_scan, replayed, text, wait_projected,
    SourceDb, TestApp, CARD_SHOP,
};

const SECRET_VALUE: &str = "compliance-secret-7c2e";

const RULE: &str = "pci-dss-pan-without-verified-tls";

#[tokio::test(flavor = "multi_thread")]
async fn card_numbers_without_verified_tls_are_a_violation_until_the_label_is_rejected() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(CARD_SHOP, SECRET_VALUE).await;
    let token = TestApp::token("acme", &[Role::Admin]);
    // The source is registered without ssl_config: TLS mode `disable`.
    let source = register_and_scan(&app, &token, db.input()).await;
    wait_projected(&app, &token).await;
    let labels = app
        .gql(
            Some(&token),
            "query($s: ID!) { columnLabels(sourceId: $s) { assetId assetPath column label status } }",
            json!({ "s": source }),
        )
        .await;
    let card = labels["data"]["columnLabels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["column"] == "card_number" && l["label"] == "CREDIT_CARD_NUMBER")
        .unwrap_or_else(|| panic!("card_number is not labelled: {labels}"))
        .clone();
    assert_eq!(card["status"], "applied", "{card}");
    let asset = card["assetId"].as_str().unwrap().to_owned();

    // First pass: the PCI DSS rule fires on the card column, citing real events of the stream.
    // By name, as a user types it.
    let out = compliance_evaluate(&app, "Shop database");
    assert!(out.contains(RULE), "{out}");
    assert!(out.contains("PCI DSS v4.0 4.2.1"), "{out}");
    assert!(out.contains("billing.customers.card_number"), "{out}");
    assert!(out.contains("source validated"), "{out}");
    let events = replayed(&app, "acme");
    let detected: Vec<&Value> = of_type(&events, "ViolationDetected")
        .into_iter()
        .filter(|e| e["data"]["rule_id"] == RULE)
        .collect();
    assert_eq!(detected.len(), 1, "{detected:?}");
    let violation = &detected[0]["data"];
    assert_eq!(violation["subject"]["level"], "column");
    assert_eq!(violation["subject"]["column"], "card_number");
    assert_eq!(violation["subject"]["asset_id"], asset.as_str());
    assert_eq!(violation["severity"], "critical");
    let evidence = violation["evidence"].as_array().unwrap();
    // The label (classification event) and the TLS mode (registration) are both cited.
    assert!(evidence.len() >= 2, "{violation}");
    for cited in evidence {
        let event = events
            .iter()
            .find(|e| e["id"] == cited["event_id"])
            .unwrap_or_else(|| panic!("cited event {cited} is not in the stream"));
        assert_eq!(event["hash"], cited["hash"], "{cited}");
        assert_eq!(event["streamsequence"], cited["sequence"], "{cited}");
    }
    let cited_types: Vec<&Value> = evidence
        .iter()
        .map(|c| &events.iter().find(|e| e["id"] == c["event_id"]).unwrap()["type"])
        .collect();
    assert!(
        cited_types.contains(&&json!("io.pursight.AssetClassified.v1")),
        "{cited_types:?}"
    );
    assert!(
        cited_types.iter().any(|t| t
            .as_str()
            .unwrap()
            .starts_with("io.pursight.SourceRegistered.")),
        "{cited_types:?}"
    );
    assert_eq!(of_type(&events, "ComplianceCheckStarted").len(), 1);
    assert_eq!(of_type(&events, "ComplianceCheckCompleted").len(), 1);
    wait_projected(&app, &token).await;
    let read = app
        .gql(
            Some(&token),
            "query($id: ID!) { dataSource(id: $id) { lifecycleState } }",
            json!({ "id": source }),
        )
        .await;
    assert_eq!(
        read["data"]["dataSource"]["lifecycleState"], "validated",
        "{read}"
    );

    // Second pass over unchanged facts: nothing is appended (the worker done as well).
    app.wait_compliance().await;
    let before = app.stream_sequence().await;
    let out = compliance_evaluate(&app, &source);
    assert!(out.contains("0 violations detected, 0 resolved"), "{out}");
    assert!(out.contains(RULE), "{out}");
    assert_eq!(app.stream_sequence().await, before);

    // A steward rejects the label: the next pass resolves the violation, citing the rejection.
    let rejected = app
        .gql(
            Some(&token),
            "mutation($a: ID!) { rejectClassification(assetId: $a, column: \"card_number\", label: \"CREDIT_CARD_NUMBER\", reason: \"test data\") { recorded } }",
            json!({ "a": asset }),
        )
        .await;
    assert_eq!(
        rejected["data"]["rejectClassification"]["recorded"], true,
        "{rejected}"
    );
    let out = compliance_evaluate(&app, &source);
    assert!(!out.contains(RULE), "{out}");
    let events = replayed(&app, "acme");
    let rejection = of_type(&events, "ClassificationRejected")
        .into_iter()
        .find(|e| e["data"]["column"] == "card_number")
        .unwrap()
        .clone();
    let resolved: Vec<&Value> = of_type(&events, "ViolationResolved")
        .into_iter()
        .filter(|e| e["data"]["violation_id"] == violation["violation_id"])
        .collect();
    assert_eq!(resolved.len(), 1, "{resolved:?}");
    let resolution = &resolved[0]["data"];
    assert!(
        resolution["change"]
            .as_str()
            .unwrap()
            .contains("label.status"),
        "{resolution}"
    );
    assert!(
        resolution["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["event_id"] == rejection["id"] && c["hash"] == rejection["hash"]),
        "{resolution}"
    );

    // Without a source, every source of the tenant is evaluated; nothing is left to record.
    app.wait_compliance().await;
    let output = pursight(&app, &["compliance", "evaluate", "--tenant", "acme"]);
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    assert!(out.contains("compliance of Shop database"), "{out}");
    assert!(out.contains("0 violations detected, 0 resolved"), "{out}");

    db.remove().await;
    app.stop().await;
}

/// Registers, validates, scans and classifies the shop database; returns the source id and the
/// id of the asset holding `card_number`.
async fn classified_shop(app: &TestApp, db: &SourceDb, token: &str) -> (String, String) {
    let source = register_and_scan(app, token, db.input()).await;
    wait_projected(app, token).await;
    let labels = app
        .gql(
            Some(token),
            "query($s: ID!) { columnLabels(sourceId: $s) { assetId column label } }",
            json!({ "s": source }),
        )
        .await;
    let asset = labels["data"]["columnLabels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["column"] == "card_number" && l["label"] == "CREDIT_CARD_NUMBER")
        .unwrap_or_else(|| panic!("card_number is not labelled: {labels}"))["assetId"]
        .as_str()
        .unwrap()
        .to_owned();
    (source, asset)
}

fn typed<'a>(
    events: &'a [eventlog::CloudEvent],
    event_type: &str,
) -> Vec<&'a eventlog::CloudEvent> {
    events
        .iter()
        .filter(|e| {
            e.name_and_version()
                .is_some_and(|(name, _)| name == event_type)
        })
        .collect()
}

/// Parks nothing: a trigger of this test must never be parked.
struct NoParking;

impl commands::compliance_pm::TriggerParking for NoParking {
    fn park<'a>(
        &'a self,
        trigger: &'a commands::compliance_pm::ParkedTrigger,
    ) -> futures::future::BoxFuture<'a, Result<(), String>> {
        panic!("a trigger was parked: {trigger:?}")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worker_records_violations_resolves_them_when_a_label_is_rejected_and_expires_acceptances(
) {
    use commands::compliance_pm::{ComplianceProcess, ProcessSettings, SystemClock};
    use domain::compliance::{Violation, ViolationCommand};
    use futures::TryStreamExt;

    let app = TestApp::spawn().await;
    let db = SourceDb::create(CARD_SHOP, SECRET_VALUE).await;
    let token = TestApp::token("acme", &[Role::Admin]);
    let (source, asset) = classified_shop(&app, &db, &token).await;

    // Nobody runs `compliance evaluate`: the worker's pass after the classification records the
    // card column's violation and validates the source with the counts.
    app.wait_compliance().await;
    let events = app.events().await;
    let detected: Vec<_> = typed(&events, "ViolationDetected")
        .into_iter()
        .filter(|e| e.data["rule_id"] == RULE && e.data["subject"]["column"] == "card_number")
        .collect();
    assert_eq!(detected.len(), 1, "{detected:?}");
    assert_eq!(detected[0].actor, commands::compliance_pm::ACTOR);
    assert_eq!(detected[0].data["subject"]["asset_id"], asset.as_str());
    let violation = domain::AggregateId::from_uuid(detected[0].aggregateid.parse().unwrap());
    let completed = typed(&events, "ComplianceCheckCompleted");
    assert_eq!(completed.len(), 1);
    assert_eq!(
        completed[0].event_type,
        "io.pursight.ComplianceCheckCompleted.v2"
    );
    let counts = &completed[0].data["counts"];
    assert!(counts["open_critical"].as_u64().unwrap() >= 1, "{counts}");
    // The source, the table and its five columns at least.
    assert!(counts["subjects"].as_u64().unwrap() >= 7, "{counts}");
    wait_projected(&app, &token).await;
    let read = app
        .gql(
            Some(&token),
            "query($id: ID!) { dataSource(id: $id) { lifecycleState } }",
            json!({ "id": source }),
        )
        .await;
    assert_eq!(
        read["data"]["dataSource"]["lifecycleState"], "validated",
        "{read}"
    );

    // A compliance officer accepts the risk for a day (through the command handler: the
    // mutation is not this test's subject). It stays accepted while the clock is before expiry.
    let store = app.event_store().await;
    let handler = commands::CommandHandler::new(store.clone());
    let officer = commands::CommandContext::new(
        domain::TenantId::parse("acme").unwrap(),
        "officer@example.com",
        vec![Role::Admin],
        None,
    );
    let now = app.clock.now_peek();
    handler
        .execute::<Violation>(
            &officer,
            domain::access::Permission::ManageDataSources,
            violation,
            ViolationCommand::Accept {
                by: "officer@example.com".into(),
                reason: "compensating control: tokenisation next quarter".into(),
                expires_at: now + chrono::Duration::days(1),
                now,
            },
        )
        .await
        .unwrap();
    app.wait_compliance().await;
    let rounds = app.clock.reads();
    while app.clock.reads() < rounds + 3 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(typed(&app.events().await, "AcceptanceExpired").is_empty());

    // Two days later the acceptance has run out: the violation is open again, once.
    app.clock.advance(chrono::Duration::days(2));
    let mut expired = Vec::new();
    for _ in 0..400 {
        expired = typed(&app.events().await, "AcceptanceExpired")
            .into_iter()
            .cloned()
            .collect();
        if !expired.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].aggregateid, violation.to_string());
    let rounds = app.clock.reads();
    while app.clock.reads() < rounds + 3 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(typed(&app.events().await, "AcceptanceExpired").len(), 1);

    // A steward rejects the label through GraphQL: the worker resolves the violation, citing
    // the rejection, without an evaluate.
    let rejected = app
        .gql(
            Some(&token),
            "mutation($a: ID!) { rejectClassification(assetId: $a, column: \"card_number\", label: \"CREDIT_CARD_NUMBER\", reason: \"test data\") { recorded } }",
            json!({ "a": asset }),
        )
        .await;
    assert_eq!(
        rejected["data"]["rejectClassification"]["recorded"], true,
        "{rejected}"
    );
    app.wait_compliance().await;
    let events = app.events().await;
    let rejection = typed(&events, "ClassificationRejected")
        .into_iter()
        .find(|e| e.data["column"] == "card_number")
        .unwrap()
        .clone();
    let resolved: Vec<_> = typed(&events, "ViolationResolved")
        .into_iter()
        .filter(|e| e.aggregateid == violation.to_string())
        .collect();
    assert_eq!(resolved.len(), 1, "{resolved:?}");
    assert_eq!(resolved[0].actor, commands::compliance_pm::ACTOR);
    assert!(
        resolved[0].data["change"]
            .as_str()
            .unwrap()
            .contains("label.status"),
        "{}",
        resolved[0].data
    );
    assert!(
        resolved[0].data["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["event_id"] == rejection.id.to_string() && c["hash"] == rejection.hash),
        "{}",
        resolved[0].data
    );
    // Resolved by the label event's own trigger (not a later pass).
    assert_eq!(resolved[0].causationid, rejection.id.to_string());

    // Every trigger of the stream handled again (a redelivery of each): nothing is appended.
    let before = app.stream_sequence().await;
    let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    let process = ComplianceProcess::new(
        handler.clone(),
        std::sync::Arc::new(api::graphql::catalog::CatalogAssets::new(&store, &pool)),
        std::sync::Arc::new(NoParking),
        std::sync::Arc::new(SystemClock),
        ProcessSettings::default(),
    );
    let commits: Vec<eventlog::StoredCommit> = store
        .read_to_end(&store.names().all_events(), eventlog::DeliverFrom::Start)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let mut triggers = 0;
    for commit in &commits {
        let outcome = process.handle(commit).await.unwrap();
        assert_eq!((outcome.detected, outcome.resolved), (0, 0), "{commit:?}");
        triggers += 1;
    }
    assert!(triggers > 10);
    assert_eq!(app.stream_sequence().await, before);
    pool.close().await;

    // The worker's own consumer deleted: it is created again and redelivers the whole stream to
    // the running worker, which records nothing.
    let client = async_nats::connect(&app.nats_url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    js.get_stream(store.names().stream())
        .await
        .unwrap()
        .delete_consumer(commands::compliance_pm::NAME)
        .await
        .unwrap();
    app.wait_compliance().await;
    assert_eq!(app.stream_sequence().await, before);

    db.remove().await;
    app.stop().await;
}

/// A small run of `pursight bench compliance`: it needs no service, and one label change is
/// evaluated on one column.
#[test]
fn the_compliance_bench_evaluates_one_column_for_one_label_change() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pursight"))
        .args(["bench", "compliance", "--columns", "600"])
        .output()
        .unwrap();
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    let value = |key: &str| -> f64 {
        out.lines()
            .find_map(|line| line.strip_prefix(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("no {key} in {out}"))
            .parse()
            .unwrap()
    };
    assert!(value("columns_per_s") > 0.0, "{out}");
    assert_eq!(value("incremental_subjects"), 1.0, "{out}");
    assert!(value("incremental_ms") >= 0.0, "{out}");
    // The incremental evaluation resolves what the full pass resolves.
    let change = out
        .lines()
        .find(|l| l.starts_with("one label change"))
        .unwrap_or_else(|| panic!("{out}"));
    let resolved_after = |marker: &str| -> u64 {
        let rest =
            &change[change.find(marker).unwrap_or_else(|| panic!("{change}")) + marker.len()..];
        rest.split_whitespace().next().unwrap().parse().unwrap()
    };
    let incremental = resolved_after("incremental ");
    assert!(incremental >= 1, "{change}");
    assert_eq!(incremental, resolved_after("full pass "), "{change}");
}

/// A commit the worker cannot read is parked where `pursight projections parked` shows it, and
/// the worker goes on past it.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_trigger_is_parked_and_the_worker_goes_on() {
    let app = TestApp::spawn().await;
    let client = async_nats::connect(&app.nats_url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let subject = format!("{}.events.acme.asset.{}", app.prefix, uuid::Uuid::new_v4());
    js.publish(subject, "not a commit".into())
        .await
        .unwrap()
        .await
        .unwrap();
    // Acknowledged: the worker is past it.
    app.wait_compliance().await;
    let output = pursight(
        &app,
        &["projections", "parked", "--projection", "compliance_pm"],
    );
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    assert!(out.contains("compliance_pm"), "{out}");
    assert!(out.contains("acme"), "{out}");
    assert!(out.contains("not a CloudEvents batch"), "{out}");
    app.stop().await;
}
