//! The compliance read side end to end: a real PostgreSQL source holding card numbers, reached
//! without verified TLS, is scanned, classified and evaluated (`pursight compliance evaluate`);
//! then GraphQL lists its violations with evidence that matches the stream, its scores move when
//! a label is rejected and it is evaluated again, another tenant sees nothing, `pursight report
//! compliance` writes HTML, JSON and CSV, and `pursight rebuild compliance` gives the same rows.

mod support;

use domain::access::Role;
use serde_json::{json, Value};
use support::{
    compliance_evaluate, error_code, pursight, register_and_scan, replayed, text, wait_projected,
    SourceDb, TestApp, CARD_SHOP,
};

const SECRET_VALUE: &str = "compliance-read-secret-41d9";

const RULE: &str = "pci-dss-pan-without-verified-tls";

/// A tenant-controlled name that is markup in HTML and a formula in a spreadsheet.
const HOSTILE_NAME: &str = "=cmd|' /C calc'!A0 <script>alert(1)</script>";

const VIOLATIONS: &str = r#"
query($f: ViolationFilter, $first: Int!, $after: String) {
  violations(filter: $f, first: $first, after: $after) {
    totalCount
    pageInfo { endCursor hasNextPage }
    edges { cursor node {
      id rule ruleVersion title framework control severity status subjectLevel sourceId assetPath
      column remediation detectedAt resolvedAt
      evidence { eventId sequence hash }
      facts { fact column label value evidence { eventId sequence hash } }
      acceptance { by reason expiresAt }
      resolution { change evidence { eventId sequence hash } }
    } }
  }
}"#;

const SCORES: &str = r#"
query($s: ID) {
  complianceScores(sourceId: $s) {
    framework title enabled score updatedAt
    open { critical high medium low total }
    accepted { total }
    trend(days: 3) { day score open { total } accepted }
  }
}"#;

/// Asserts that each cited `{eventId, sequence, hash}` is an event of the stream with that id,
/// stream sequence and hash.
fn assert_cited_events_match(evidence: &[Value], events: &[Value]) {
    assert!(!evidence.is_empty());
    for cited in evidence {
        let event = events
            .iter()
            .find(|e| e["id"] == cited["eventId"])
            .unwrap_or_else(|| panic!("cited event {cited} is not in the stream"));
        assert_eq!(event["hash"], cited["hash"], "{cited}");
        assert_eq!(event["streamsequence"], cited["sequence"], "{cited}");
    }
}

/// `max(0, 100 − Σ weights)` over the open violations listed.
fn expected_score(violations: &[Value]) -> i64 {
    let penalty: i64 = violations
        .iter()
        .filter(|v| v["status"] == "open")
        .map(|v| match v["severity"].as_str().unwrap() {
            "critical" => 25,
            "high" => 10,
            "medium" => 4,
            _ => 1,
        })
        .sum();
    (100 - penalty).max(0)
}

/// Every violation (all pages of `first`), checking that pages neither repeat nor skip.
async fn all_violations(app: &TestApp, token: &str, filter: Value, first: i64) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .gql(
                Some(token),
                VIOLATIONS,
                json!({ "f": filter, "first": first, "after": after }),
            )
            .await;
        let connection = &page["data"]["violations"];
        let edges = connection["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{page}"));
        out.extend(edges.iter().map(|e| e["node"].clone()));
        if connection["pageInfo"]["hasNextPage"] != true {
            assert_eq!(connection["totalCount"], out.len(), "{page}");
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    let mut ids: Vec<&str> = out.iter().map(|v| v["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), out.len(), "a page repeated a violation");
    out
}

fn framework<'a>(scores: &'a Value, id: &str) -> &'a Value {
    scores["data"]["complianceScores"]
        .as_array()
        .unwrap_or_else(|| panic!("{scores}"))
        .iter()
        .find(|f| f["framework"] == id)
        .unwrap_or_else(|| panic!("no {id} in {scores}"))
}

/// Every row of the compliance read model, as JSON text, in key order.
async fn dump(database_url: &str) -> Vec<String> {
    let pool = sqlx::PgPool::connect(database_url).await.unwrap();
    let mut rows = Vec::new();
    for (table, order) in [
        ("violations", "tenant_id, id"),
        ("violation_history", "tenant_id, violation_id, version"),
        ("scores", "tenant_id, source_id, framework"),
        ("daily_scores", "tenant_id, source_id, framework, day"),
        ("custom_rules", "tenant_id, rule_id, version"),
    ] {
        let table_rows: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT '{table} ' || to_jsonb(t)::text FROM rm_compliance.{table} t ORDER BY {order}"
        ))
        .fetch_all(&pool)
        .await
        .unwrap();
        rows.extend(table_rows.into_iter().map(|(r,)| r));
    }
    pool.close().await;
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn violations_scores_and_reports_follow_the_evaluation_per_tenant() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(CARD_SHOP, SECRET_VALUE).await;
    let token = TestApp::token("acme", &[Role::Admin]);
    let viewer = TestApp::token("acme", &[Role::Viewer]);
    let other = TestApp::token("globex", &[Role::Admin]);
    // The source is registered without ssl_config (TLS mode `disable`) under a hostile name.
    let mut input = db.input();
    input["name"] = json!(HOSTILE_NAME);
    let source = register_and_scan(&app, &token, input).await;
    compliance_evaluate(&app, &source);
    wait_projected(&app, &token).await;

    // The packs as the tenant runs them (nothing tuned: the packs' own severities).
    let frameworks = app
        .gql(
            Some(&viewer),
            "{ complianceFrameworks { id title version enabled rules { id title control severity defaultSeverity enabled builtIn remediation condition subject } } }",
            json!({}),
        )
        .await;
    let packs = frameworks["data"]["complianceFrameworks"]
        .as_array()
        .unwrap_or_else(|| panic!("{frameworks}"));
    assert_eq!(
        packs
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["gdpr", "pci-dss", "hipaa", "soc2"]
    );
    assert!(packs
        .iter()
        .all(|f| f["enabled"] == true && f["version"].as_str().unwrap().starts_with("sha256:")));
    let pci_rule = packs[1]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == RULE)
        .unwrap()
        .clone();
    assert_eq!(pci_rule["control"], "PCI DSS v4.0 4.2.1");
    assert_eq!(pci_rule["severity"], "critical");
    assert_eq!(pci_rule["builtIn"], true);
    assert_eq!(pci_rule["subject"], "column");
    assert!(pci_rule["condition"]
        .as_str()
        .unwrap()
        .contains("CREDIT_CARD_NUMBER"));

    // The violation, listed with evidence that is exactly the stream's events.
    let events = replayed(&app, "acme");
    let pci = all_violations(
        &app,
        &viewer,
        json!({ "framework": "pci-dss", "sourceId": source }),
        2,
    )
    .await;
    let card = pci
        .iter()
        .find(|v| v["rule"] == RULE && v["column"] == "card_number")
        .unwrap_or_else(|| panic!("{pci:?}"))
        .clone();
    assert_eq!(card["status"], "open");
    assert_eq!(card["severity"], "critical");
    assert_eq!(card["control"], "PCI DSS v4.0 4.2.1");
    assert_eq!(card["framework"], "pci-dss");
    assert_eq!(card["subjectLevel"], "column");
    assert_eq!(
        card["assetPath"].as_str().unwrap().split('.').next_back(),
        Some("customers")
    );
    assert_eq!(card["title"], pci_rule["title"]);
    assert_eq!(card["remediation"], pci_rule["remediation"]);
    assert!(card["resolvedAt"].is_null() && card["acceptance"].is_null());
    assert_cited_events_match(card["evidence"].as_array().unwrap(), &events);
    for fact in card["facts"].as_array().unwrap() {
        assert_cited_events_match(std::slice::from_ref(&fact["evidence"]), &events);
    }
    let detected = events
        .iter()
        .find(|e| {
            e["type"] == "io.pursight.ViolationDetected.v1"
                && e["data"]["violation_id"] == card["id"]
        })
        .unwrap();
    let one = app
        .gql(
            Some(&viewer),
            "query($id: ID!) { violation(id: $id) { id status history { eventType status event { eventId sequence hash } evidence { eventId } } } }",
            json!({ "id": card["id"] }),
        )
        .await;
    let entries = one["data"]["violation"]["history"]
        .as_array()
        .unwrap_or_else(|| panic!("{one}"));
    assert_eq!(entries.len(), 1, "{one}");
    assert_eq!(entries[0]["eventType"], "ViolationDetected");
    assert_eq!(entries[0]["event"]["eventId"], detected["id"]);
    assert_eq!(entries[0]["event"]["hash"], detected["hash"]);
    assert_eq!(entries[0]["event"]["sequence"], detected["streamsequence"]);

    // Scores: the documented formula over the open violations; the trend ends on today's.
    let scores = app.gql(Some(&viewer), SCORES, json!({ "s": source })).await;
    let pci_score = framework(&scores, "pci-dss");
    let score_before = pci_score["score"].as_i64().unwrap();
    assert_eq!(score_before, expected_score(&pci), "{scores}");
    assert!(score_before <= 75, "{scores}");
    assert!(pci_score["open"]["critical"].as_i64().unwrap() >= 1);
    assert_eq!(pci_score["trend"].as_array().unwrap().len(), 3);
    assert_eq!(pci_score["trend"][2]["score"], score_before);
    let tenant_wide = app.gql(Some(&viewer), SCORES, json!({})).await;
    assert_eq!(framework(&tenant_wide, "pci-dss")["score"], score_before);
    let stats = app
        .gql(
            Some(&viewer),
            "query($id: ID!) { dataSourceStats(id: $id) { compliance { lowestScore open { critical total } accepted { total } frameworks { framework score } } } }",
            json!({ "id": source }),
        )
        .await;
    let summary = &stats["data"]["dataSourceStats"]["compliance"];
    assert!(
        summary["open"]["critical"].as_i64().unwrap() >= 1,
        "{stats}"
    );
    assert!(
        summary["lowestScore"].as_i64().unwrap() <= score_before,
        "{stats}"
    );
    assert!(summary["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["framework"] == "pci-dss" && f["score"] == score_before));

    // Another tenant sees nothing of it.
    let theirs = app
        .gql(
            Some(&other),
            VIOLATIONS,
            json!({ "f": null, "first": 500, "after": null }),
        )
        .await;
    assert_eq!(theirs["data"]["violations"]["totalCount"], 0, "{theirs}");
    assert_eq!(theirs["data"]["violations"]["edges"], json!([]));
    let theirs = app
        .gql(
            Some(&other),
            "query($id: ID!) { violation(id: $id) { id } }",
            json!({ "id": card["id"] }),
        )
        .await;
    assert_eq!(error_code(&theirs), Some("NOT_FOUND"), "{theirs}");
    let theirs = app.gql(Some(&other), SCORES, json!({ "s": source })).await;
    assert_eq!(error_code(&theirs), Some("NOT_FOUND"), "{theirs}");
    // Its own tenant-wide scores: every framework at 100, nothing open.
    let theirs = app.gql(Some(&other), SCORES, json!({})).await;
    let frameworks = theirs["data"]["complianceScores"].as_array().unwrap();
    assert_eq!(frameworks.len(), 4, "{theirs}");
    for f in frameworks {
        assert_eq!(
            (f["score"].as_i64(), f["open"]["total"].as_i64()),
            (Some(100), Some(0))
        );
    }
    // Bad filters and cursors are refused with one clear message each; no token, no answer.
    for (filter, after, needle) in [
        (
            json!({ "framework": "iso27001" }),
            Value::Null,
            "unknown framework",
        ),
        (
            json!({ "severity": "urgent" }),
            Value::Null,
            "unknown severity",
        ),
        (json!({ "status": "closed" }), Value::Null, "unknown status"),
        (Value::Null, json!("not-a-cursor"), "not a cursor"),
    ] {
        let refused = app
            .gql(
                Some(&viewer),
                VIOLATIONS,
                json!({ "f": filter, "first": 10, "after": after }),
            )
            .await;
        assert_eq!(error_code(&refused), Some("VALIDATION"), "{refused}");
        assert!(
            refused["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{refused}"
        );
    }
    let anonymous = app
        .gql(
            None,
            VIOLATIONS,
            json!({ "f": null, "first": 10, "after": null }),
        )
        .await;
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
    // A page larger than the cap is refused.
    let too_many = app
        .gql(
            Some(&viewer),
            VIOLATIONS,
            json!({ "f": null, "first": 501, "after": null }),
        )
        .await;
    assert_eq!(error_code(&too_many), Some("VALIDATION"), "{too_many}");

    // Reports in the three formats.
    let dir = std::env::temp_dir().join(format!("pursight-report-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = |format: &str| {
        let path = dir.join(format!("report.{format}"));
        let output = pursight(
            &app,
            &[
                "report",
                "compliance",
                "--tenant",
                "acme",
                "--source",
                &source,
                "--framework",
                "pci-dss",
                "--format",
                format,
                "--output",
                path.to_str().unwrap(),
            ],
        );
        assert!(output.status.success(), "{}", text(&output));
        std::fs::read_to_string(&path).unwrap()
    };
    let json_report: Value = serde_json::from_str(&report("json")).unwrap();
    assert_eq!(json_report["tenant"], "acme");
    assert_eq!(json_report["framework"]["id"], "pci-dss");
    assert_eq!(json_report["source"]["name"], HOSTILE_NAME);
    assert_eq!(json_report["score"]["score"], score_before);
    let listed = json_report["violations"].as_array().unwrap();
    assert_eq!(
        listed.len(),
        pci.iter().filter(|v| v["status"] != "resolved").count()
    );
    let in_report = listed
        .iter()
        .find(|v| v["rule"] == RULE && v["column"] == "card_number")
        .unwrap();
    assert_eq!(in_report["control"], "PCI DSS v4.0 4.2.1");
    assert_eq!(in_report["remediation"], card["remediation"]);
    for v in listed {
        assert_cited_events_match(v["evidence"].as_array().unwrap(), &events);
    }
    // `pursight verify --report` checks every cited event, against the live stream and against
    // an export; a report whose citation was edited fails, naming the event.
    let report_path = dir.join("report.json");
    let verify = |args: &[&str]| {
        let mut all = vec!["verify"];
        all.extend_from_slice(args);
        pursight(&app, &all)
    };
    let live = verify(&["--report", report_path.to_str().unwrap()]);
    assert!(live.status.success(), "{}", text(&live));
    assert!(
        text(&live).contains("cited events stand in the stream at their cited sequences"),
        "{}",
        text(&live)
    );
    let export_path = dir.join("export.ndjson");
    let exported = pursight(
        &app,
        &[
            "export",
            "--tenant",
            "acme",
            "--output",
            export_path.to_str().unwrap(),
        ],
    );
    assert!(exported.status.success(), "{}", text(&exported));
    let against_export = verify(&[
        "--file",
        export_path.to_str().unwrap(),
        "--report",
        report_path.to_str().unwrap(),
    ]);
    assert!(against_export.status.success(), "{}", text(&against_export));
    assert!(text(&against_export).contains("stand in the export"));
    let cited = &in_report["evidence"][0];
    let mut forged = json_report.clone();
    let forged_hash = format!("{:0>64}", "f00d");
    for v in forged["violations"].as_array_mut().unwrap() {
        for e in v["evidence"].as_array_mut().unwrap() {
            if e["eventId"] == cited["eventId"] {
                e["hash"] = json!(forged_hash);
            }
        }
    }
    let forged_path = dir.join("forged.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    for args in [
        vec!["--report", forged_path.to_str().unwrap()],
        vec![
            "--file",
            export_path.to_str().unwrap(),
            "--report",
            forged_path.to_str().unwrap(),
        ],
    ] {
        let refused = verify(&args);
        assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
        let said = text(&refused);
        assert!(
            said.contains(&format!(
                "cited event {} is cited with hash {forged_hash}",
                cited["eventId"].as_str().unwrap()
            )),
            "{said}"
        );
    }

    let html = report("html");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("@media print"));
    for external in [
        "http://", "https://", "<link", " src=", "url(", "@import", "<script",
    ] {
        assert!(!html.contains(external), "the page holds {external:?}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("PCI DSS v4.0 4.2.1"));
    for cited in in_report["evidence"].as_array().unwrap() {
        assert!(html.contains(cited["hash"].as_str().unwrap()));
    }

    let csv_text = report("csv");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), listed.len());
    let cell = |record: &csv::StringRecord, name: &str| {
        record[headers.iter().position(|h| h == name).unwrap()].to_owned()
    };
    let row = records
        .iter()
        .find(|r| cell(r, "rule") == RULE && cell(r, "column") == "card_number")
        .unwrap();
    assert_eq!(cell(row, "source"), format!("'{HOSTILE_NAME}"));
    assert_eq!(cell(row, "control"), "PCI DSS v4.0 4.2.1");
    for cited in in_report["evidence"].as_array().unwrap() {
        assert!(cell(row, "evidence").contains(cited["hash"].as_str().unwrap()));
    }
    std::fs::remove_dir_all(&dir).unwrap();

    // A steward rejects the label, the source is evaluated again: the violation is resolved by
    // the rejection, and the score rises.
    let asset = app
        .gql(
            Some(&token),
            "query($s: ID!) { columnLabels(sourceId: $s) { assetId column label } }",
            json!({ "s": source }),
        )
        .await["data"]["columnLabels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["column"] == "card_number" && l["label"] == "CREDIT_CARD_NUMBER")
        .unwrap()["assetId"]
        .clone();
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
    compliance_evaluate(&app, &source);
    wait_projected(&app, &token).await;
    let events = replayed(&app, "acme");
    let rejection = events
        .iter()
        .find(|e| {
            e["type"] == "io.pursight.ClassificationRejected.v1"
                && e["data"]["column"] == "card_number"
        })
        .unwrap();
    let pci = all_violations(
        &app,
        &viewer,
        json!({ "framework": "pci-dss", "sourceId": source }),
        500,
    )
    .await;
    let card = pci.iter().find(|v| v["id"] == card["id"]).unwrap();
    assert_eq!(card["status"], "resolved", "{card}");
    assert!(!card["resolvedAt"].is_null());
    let resolution = &card["resolution"];
    assert!(resolution["change"]
        .as_str()
        .unwrap()
        .contains("label.status"));
    assert!(resolution["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["eventId"] == rejection["id"] && c["hash"] == rejection["hash"]));
    let resolved_only = all_violations(
        &app,
        &viewer,
        json!({ "status": "resolved", "sourceId": source }),
        500,
    )
    .await;
    assert!(resolved_only.iter().any(|v| v["id"] == card["id"]));
    assert!(resolved_only.iter().all(|v| v["status"] == "resolved"));
    let scores = app.gql(Some(&viewer), SCORES, json!({ "s": source })).await;
    let score_after = framework(&scores, "pci-dss")["score"].as_i64().unwrap();
    assert_eq!(score_after, expected_score(&pci), "{scores}");
    assert!(score_after > score_before, "{score_before} → {score_after}");
    assert_eq!(
        framework(&scores, "pci-dss")["trend"][2]["score"],
        score_after
    );
    let one = app
        .gql(
            Some(&viewer),
            "query($id: ID!) { violation(id: $id) { history { eventType status } } }",
            json!({ "id": card["id"] }),
        )
        .await;
    assert_eq!(
        one["data"]["violation"]["history"],
        json!([
            { "eventType": "ViolationDetected", "status": "open" },
            { "eventType": "ViolationResolved", "status": "resolved" },
        ])
    );

    // A rebuild of the read model gives the same rows.
    let before = dump(&app.database_url).await;
    let output = pursight(&app, &["rebuild", "compliance"]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(dump(&app.database_url).await, before);

    db.remove().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_with_a_condition_scores_only_the_violations_it_may_read() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(CARD_SHOP, SECRET_VALUE).await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let source = register_and_scan(&app, &admin, db.input()).await;
    compliance_evaluate(&app, &source);
    wait_projected(&app, &admin).await;
    // Kim reads everything but critical data: not the customers table, whose card numbers are
    // critical, nor the violations about it.
    for (query, variables) in [
        (
            "mutation($r: String!, $p: [String!]!, $c: AssetConditionInput) { defineRole(role: $r, permissions: $p, condition: $c, waitForProjection: true) { projected } }",
            json!({ "r": "analyst", "p": ["asset:read", "classification:read", "data_source:read"], "c": { "maxSensitivity": "high" } }),
        ),
        (
            "mutation($s: String!, $r: String!) { grantRole(subject: $s, role: $r, waitForProjection: true) { projected } }",
            json!({ "s": "kim@acme.test", "r": "analyst" }),
        ),
    ] {
        let done = app.gql(Some(&admin), query, variables).await;
        assert!(done["errors"].is_null(), "{done}");
    }
    let kim = api::auth::issue_token(
        support::SECRET,
        "kim@acme.test",
        &domain::TenantId::parse("acme").unwrap(),
        &[],
        3600,
    );
    let everything = all_violations(&app, &admin, json!({ "sourceId": source }), 50).await;
    let readable = all_violations(&app, &kim, json!({ "sourceId": source }), 50).await;
    assert!(
        readable.len() < everything.len(),
        "the customers' violations are out of kim's reach: {everything:?}"
    );
    for scope in [json!({ "s": source }), json!({ "s": null })] {
        let theirs = app.gql(Some(&kim), SCORES, scope.clone()).await;
        let ours = app.gql(Some(&admin), SCORES, scope).await;
        for id in ["gdpr", "pci-dss", "hipaa", "soc2"] {
            let of = |all: &[Value]| -> Vec<Value> {
                all.iter()
                    .filter(|v| v["framework"] == id)
                    .cloned()
                    .collect()
            };
            assert_eq!(
                framework(&theirs, id)["score"],
                expected_score(&of(&readable)),
                "{id}: {theirs}"
            );
            assert_eq!(
                framework(&ours, id)["score"],
                expected_score(&of(&everything)),
                "{id}: {ours}"
            );
            // The kept trend counts every asset: none for a caller with a condition.
            assert_eq!(framework(&theirs, id)["trend"], json!([]), "{theirs}");
        }
        assert_ne!(
            framework(&theirs, "pci-dss")["score"],
            framework(&ours, "pci-dss")["score"],
            "the card-number violation must not count for kim"
        );
    }
    app.stop().await;
}
