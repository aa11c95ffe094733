//! OpenLineage ingestion against a real, discovered PostgreSQL source: `POST /api/v1/lineage`
//! with RunEvents written from the spec's shape (reqwest) and sent by the official
//! `openlineage-python` client (installed by `.ci/run`). Edges join the discovered assets,
//! unmatched datasets stay external, later runs move `lastSeen` and mark what a job stopped
//! doing, malformed events are refused with the JSON path of the problem and record nothing, and
//! no tenant attaches lineage to another's assets.

mod support;

use domain::access::Role;
use serde_json::{json, Value};
use support::*;

const SECRET_VALUE: &str = "openlineage-secret-5c1d";

const BILLING: &str = r#"
CREATE SCHEMA billing;
CREATE TABLE billing.raw_invoices (id serial PRIMARY KEY, net numeric NOT NULL, tax numeric NOT NULL);
CREATE TABLE billing.invoices (id serial PRIMARY KEY, amount numeric NOT NULL);
CREATE TABLE billing.invoice_totals (day date PRIMARY KEY, total numeric NOT NULL);
INSERT INTO billing.raw_invoices (net, tax) SELECT g, g / 5 FROM generate_series(1, 20) g;
"#;

const LINEAGE: &str = "query($id: ID!) {
  lineage(assetId: $id, direction: BOTH, depth: 1) {
    fromAssetId fromPath fromColumns toAssetId toPath toColumns kind
    jobNamespace jobName firstSeen lastSeen fromExternal toExternal stale
  }
}";

const NAMESPACE: &str = "postgres://127.0.0.1:5432";
const RATES: &str = "s3://partner-drop";

/// A RunEvent as the spec's examples write it: the nightly job reads the raw invoices and a
/// partner's rate file, and writes the invoices; COMPLETE carries the column-lineage facet.
fn spec_event(db: &str, event_type: &str, run: &str, time: &str, with_rates: bool) -> Value {
    let mut inputs = vec![json!({
        "namespace": NAMESPACE,
        "name": format!("{db}.billing.raw_invoices"),
        "facets": {
            "schema": {
                "_producer": "https://example.org/nightly-loader",
                "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
                "fields": [{ "name": "net", "type": "numeric" }, { "name": "tax", "type": "numeric" }]
            }
        }
    })];
    if with_rates {
        inputs.push(json!({ "namespace": RATES, "name": "exports/rates.csv" }));
    }
    let mut output = json!({
        "namespace": NAMESPACE,
        "name": format!("{db}.billing.invoices"),
        "facets": {},
        "outputFacets": {
            "outputStatistics": {
                "_producer": "https://example.org/nightly-loader",
                "_schemaURL": "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet",
                "rowCount": 20
            }
        }
    });
    if event_type == "COMPLETE" {
        output["facets"]["columnLineage"] = json!({
            "_producer": "https://example.org/nightly-loader",
            "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet",
            "fields": {
                "amount": {
                    "inputFields": [
                        { "namespace": NAMESPACE, "name": format!("{db}.billing.raw_invoices"), "field": "net",
                          "transformations": [{ "type": "DIRECT", "subtype": "TRANSFORMATION" }] },
                        { "namespace": NAMESPACE, "name": format!("{db}.billing.raw_invoices"), "field": "tax" }
                    ],
                    "transformationDescription": "net + tax",
                    "transformationType": "IDENTITY"
                }
            }
        });
    }
    json!({
        "eventType": event_type,
        "eventTime": time,
        "run": {
            "runId": run,
            "facets": {
                "nominalTime": {
                    "_producer": "https://example.org/nightly-loader",
                    "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet",
                    "nominalStartTime": time
                }
            }
        },
        "job": {
            "namespace": "nightly",
            "name": "load_invoices",
            "facets": {
                "sql": {
                    "_producer": "https://example.org/nightly-loader",
                    "_schemaURL": "https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet",
                    "query": "INSERT INTO billing.invoices (amount) SELECT net + tax FROM billing.raw_invoices"
                }
            }
        },
        "inputs": inputs,
        "outputs": [output],
        "producer": "https://example.org/nightly-loader",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
    })
}

async fn post(app: &TestApp, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = app.client.post(app.url("/api/v1/lineage")).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn lineage(app: &TestApp, token: &str, asset: &str) -> Vec<Value> {
    let response = app.gql(Some(token), LINEAGE, json!({ "id": asset })).await;
    response["data"]["lineage"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .clone()
}

/// The ids of the billing tables `raw_invoices`, `invoices` and `invoice_totals` of a scanned
/// source.
async fn billing_assets(
    app: &TestApp,
    token: &str,
    db: &SourceDb,
    source: &str,
) -> (String, String, String) {
    let listed = app
        .gql(
            Some(token),
            "query($id: ID!) { assets(sourceId: $id) { id path } }",
            json!({ "id": source }),
        )
        .await;
    let id_of = |table: &str| -> String {
        listed["data"]["assets"]
            .as_array()
            .unwrap_or_else(|| panic!("{listed}"))
            .iter()
            .find(|a| a["path"] == format!("{}.billing.{table}", db.name))
            .unwrap_or_else(|| panic!("{table}: {listed}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    (
        id_of("raw_invoices"),
        id_of("invoices"),
        id_of("invoice_totals"),
    )
}

fn openlineage_edges<'a>(edges: &'a [Value], job: &str) -> Vec<&'a Value> {
    edges
        .iter()
        .filter(|e| e["kind"] == "openlineage" && e["jobName"] == job)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn openlineage_run_events_become_lineage_joined_to_discovered_assets() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let steward = TestApp::token("acme", &[Role::DataSteward]);
    let viewer = TestApp::token("acme", &[Role::Viewer]);
    let intruder = TestApp::token("globex", &[Role::Admin]);
    let db = SourceDb::create(BILLING, SECRET_VALUE).await;
    let source = register_and_scan(&app, &admin, db.input()).await;
    wait_projected(&app, &admin).await;
    let (raw, invoices, totals) = billing_assets(&app, &admin, &db, &source).await;

    // Refusals first: nothing of them may be recorded. (The scan's process managers may still
    // append their own events meanwhile, so "nothing" is counted on the lineage jobs.)
    let start = spec_event(
        &db.name,
        "START",
        "0191a2b3-0000-7000-8000-000000000001",
        "2026-01-10T02:00:00Z",
        true,
    );
    let (status, body) = post(&app, None, &start).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = post(&app, Some(&viewer), &start).await;
    assert_eq!(status, 403, "{body}");
    let malformed: Vec<(Value, &str)> = vec![
        (
            {
                let mut e = start.clone();
                e["eventType"] = json!("FINISHED");
                e
            },
            "$.eventType",
        ),
        (
            {
                let mut e = start.clone();
                e["run"]["runId"] = json!("run-42");
                e
            },
            "$.run.runId",
        ),
        (
            {
                let mut e = start.clone();
                e["eventTime"] = json!("last tuesday");
                e
            },
            "$.eventTime",
        ),
        (
            {
                let mut e = start.clone();
                e["inputs"][1]["name"] = json!("x".repeat(5000));
                e
            },
            "$.inputs[1].name",
        ),
        (
            {
                let mut e = start.clone();
                e["job"].as_object_mut().unwrap().remove("namespace");
                e
            },
            "$.job.namespace",
        ),
        (
            {
                let mut e = spec_event(
                    &db.name,
                    "COMPLETE",
                    "0191a2b3-0000-7000-8000-000000000001",
                    "2026-01-10T02:00:00Z",
                    true,
                );
                e["outputs"][0]["facets"]["columnLineage"]["fields"]["amount"]["inputFields"] =
                    json!("net");
                e
            },
            "$.outputs[0].facets.columnLineage.fields[\"amount\"].inputFields",
        ),
    ];
    for (event, path) in &malformed {
        let (status, body) = post(&app, Some(&steward), event).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["path"], *path, "{body}");
        assert!(
            body["problem"].as_str().is_some_and(|p| !p.is_empty()),
            "{body}"
        );
    }
    let response = app
        .client
        .post(app.url("/api/v1/lineage"))
        .bearer_auth(&steward)
        .header("content-type", "application/json")
        .body("{\"eventType\": \"START\", ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let recorded = |events: Vec<eventlog::CloudEvent>| {
        events
            .into_iter()
            .filter(|e| e.aggregatetype == "lineage_job")
            .count()
    };
    assert_eq!(
        recorded(app.events().await),
        0,
        "a refused event recorded something"
    );

    // (1) The spec-shaped run: START (dataset level), then COMPLETE with column lineage.
    let run = "0191a2b3-0000-7000-8000-000000000001";
    let (status, body) = post(&app, Some(&steward), &start).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["matchedDatasets"], 2, "{body}");
    assert_eq!(body["externalDatasets"], 1, "{body}");
    let complete = spec_event(&db.name, "COMPLETE", run, "2026-01-10T02:05:00Z", true);
    let (status, body) = post(&app, Some(&steward), &complete).await;
    assert_eq!(status, 201, "{body}");
    // A producer retrying a delivery records it once.
    let (status, body) = post(&app, Some(&steward), &complete).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["duplicate"], true, "{body}");
    wait_projected(&app, &admin).await;

    let edges = lineage(&app, &viewer, &invoices).await;
    let nightly = openlineage_edges(&edges, "load_invoices");
    let table = nightly
        .iter()
        .find(|e| e["fromAssetId"] == raw.as_str() && e["fromColumns"] == json!([]))
        .unwrap_or_else(|| panic!("{edges:?}"));
    assert_eq!(table["toAssetId"], invoices.as_str());
    assert_eq!(
        table["fromPath"],
        format!("{}.billing.raw_invoices", db.name)
    );
    assert_eq!(table["jobNamespace"], "nightly");
    assert_eq!(table["fromExternal"], false);
    assert_eq!(table["toExternal"], false);
    assert_eq!(table["firstSeen"], "2026-01-10T02:00:00+00:00");
    assert_eq!(table["lastSeen"], "2026-01-10T02:05:00+00:00");
    assert_eq!(table["stale"], false);
    let columns = nightly
        .iter()
        .find(|e| e["fromColumns"] != json!([]))
        .unwrap_or_else(|| panic!("{edges:?}"));
    assert_eq!(columns["fromColumns"], json!(["net", "tax"]));
    assert_eq!(columns["toColumns"], json!(["amount"]));
    assert_eq!(columns["fromAssetId"], raw.as_str());
    let external = nightly
        .iter()
        .find(|e| e["fromExternal"] == true)
        .unwrap_or_else(|| panic!("{edges:?}"));
    assert_eq!(external["fromPath"], "s3://partner-drop/exports/rates.csv");
    assert_eq!(external["toAssetId"], invoices.as_str());

    // A later run without the partner file: lastSeen moves, firstSeen stays, and the job is seen
    // to have stopped reading the partner file.
    let run2 = "0191a2b3-0000-7000-8000-000000000002";
    for (kind, time) in [
        ("START", "2026-01-11T02:00:00Z"),
        ("COMPLETE", "2026-01-11T02:04:00Z"),
    ] {
        let (status, body) = post(
            &app,
            Some(&steward),
            &spec_event(&db.name, kind, run2, time, false),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    // A run may not end twice differently.
    let (status, body) = post(
        &app,
        Some(&steward),
        &spec_event(&db.name, "FAIL", run2, "2026-01-11T02:06:00Z", false),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    wait_projected(&app, &admin).await;
    let edges = lineage(&app, &viewer, &invoices).await;
    let nightly = openlineage_edges(&edges, "load_invoices");
    let table = nightly
        .iter()
        .find(|e| e["fromAssetId"] == raw.as_str() && e["fromColumns"] == json!([]))
        .unwrap_or_else(|| panic!("{edges:?}"));
    assert_eq!(table["firstSeen"], "2026-01-10T02:00:00+00:00");
    assert_eq!(table["lastSeen"], "2026-01-11T02:04:00+00:00");
    assert_eq!(table["stale"], false);
    let external = nightly
        .iter()
        .find(|e| e["fromExternal"] == true)
        .unwrap_or_else(|| panic!("{edges:?}"));
    assert_eq!(external["lastSeen"], "2026-01-10T02:05:00+00:00");
    assert_eq!(external["stale"], true, "{external}");

    // A delivery that arrives late (an older run) moves firstSeen back, and neither lastSeen nor
    // what the job does now.
    let (status, body) = post(
        &app,
        Some(&steward),
        &spec_event(
            &db.name,
            "START",
            "0191a2b3-0000-7000-8000-000000000000",
            "2026-01-09T02:00:00Z",
            true,
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    wait_projected(&app, &admin).await;
    let edges = lineage(&app, &viewer, &invoices).await;
    let nightly = openlineage_edges(&edges, "load_invoices");
    let table = nightly
        .iter()
        .find(|e| e["fromAssetId"] == raw.as_str() && e["fromColumns"] == json!([]))
        .unwrap_or_else(|| panic!("{edges:?}"));
    assert_eq!(table["firstSeen"], "2026-01-09T02:00:00+00:00");
    assert_eq!(table["lastSeen"], "2026-01-11T02:04:00+00:00");
    assert_eq!(table["stale"], false);
    let external = nightly
        .iter()
        .find(|e| e["fromExternal"] == true)
        .unwrap_or_else(|| panic!("{edges:?}"));
    assert_eq!(external["firstSeen"], "2026-01-09T02:00:00+00:00");
    assert_eq!(external["lastSeen"], "2026-01-10T02:05:00+00:00");
    assert_eq!(external["stale"], true);

    // A dataset written before it is discovered is external; once a scan discovers it, the next
    // run puts the same edge on the asset.
    let archive_event = |run: &str, time: &str| {
        let mut e = spec_event(&db.name, "COMPLETE", run, time, false);
        e["job"]["name"] = json!("archive_invoices");
        e["inputs"] =
            json!([{ "namespace": NAMESPACE, "name": format!("{}.billing.invoices", db.name) }]);
        e["outputs"] = json!([{ "namespace": NAMESPACE, "name": format!("{}.billing.invoice_archive", db.name) }]);
        e
    };
    let (status, body) = post(
        &app,
        Some(&steward),
        &archive_event(
            "0191a2b3-0000-7000-8000-0000000000a1",
            "2026-01-11T05:00:00Z",
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["externalDatasets"], 1, "{body}");
    wait_projected(&app, &admin).await;
    let edges = lineage(&app, &viewer, &invoices).await;
    let archive = openlineage_edges(&edges, "archive_invoices");
    assert_eq!(archive.len(), 1, "{edges:?}");
    assert_eq!(archive[0]["toExternal"], true);
    assert_eq!(
        archive[0]["toPath"],
        format!("{NAMESPACE}/{}.billing.invoice_archive", db.name)
    );
    db.execute("CREATE TABLE billing.invoice_archive (id integer PRIMARY KEY, amount numeric);")
        .await;
    let scan = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { startScan(sourceId: $id, strategy: BALANCED, waitForCompletion: true) { completed } }",
            json!({ "id": source }),
        )
        .await;
    assert_eq!(scan["data"]["startScan"]["completed"], true, "{scan}");
    wait_projected(&app, &admin).await;
    let (status, body) = post(
        &app,
        Some(&steward),
        &archive_event(
            "0191a2b3-0000-7000-8000-0000000000a2",
            "2026-01-12T05:00:00Z",
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["externalDatasets"], 0, "{body}");
    wait_projected(&app, &admin).await;
    let edges = lineage(&app, &viewer, &invoices).await;
    let archive = openlineage_edges(&edges, "archive_invoices");
    assert_eq!(archive.len(), 1, "{edges:?}");
    assert_eq!(archive[0]["toExternal"], false);
    assert_eq!(
        archive[0]["toPath"],
        format!("{}.billing.invoice_archive", db.name)
    );
    assert_eq!(archive[0]["firstSeen"], "2026-01-11T05:00:00+00:00");
    assert_eq!(archive[0]["lastSeen"], "2026-01-12T05:00:00+00:00");

    // Another tenant naming acme's datasets gets external datasets of its own, nothing on acme's.
    let before_intruder = lineage(&app, &viewer, &invoices).await.len();
    let mut foreign = spec_event(
        &db.name,
        "COMPLETE",
        "0191a2b3-0000-7000-8000-0000000000ff",
        "2026-01-12T00:00:00Z",
        false,
    );
    foreign["job"]["name"] = json!("sneaky");
    let (status, body) = post(&app, Some(&intruder), &foreign).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["matchedDatasets"], 0, "{body}");
    assert_eq!(body["externalDatasets"], 2, "{body}");
    wait_projected(&app, &admin).await;
    let after = lineage(&app, &viewer, &invoices).await;
    assert_eq!(after.len(), before_intruder, "{after:?}");
    assert!(openlineage_edges(&after, "sneaky").is_empty());
    assert!(lineage(&app, &intruder, &invoices).await.is_empty());

    // (2) The official Python client, as a pipeline sends it.
    let output = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/openlineage_send.py"
        ))
        .args([
            &app.url("/"),
            &steward,
            &db.name,
            "0191a2b3-0000-7000-8000-0000000000aa",
            "2026-01-12T03:00:00Z",
            "2026-01-12T03:01:00Z",
        ])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "the openlineage-python client failed (is openlineage-python==1.26.0 installed? .ci/run installs it): {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    wait_projected(&app, &admin).await;
    let edges = lineage(&app, &viewer, &totals).await;
    let rollup = openlineage_edges(&edges, "rollup_invoice_totals");
    assert_eq!(rollup.len(), 2, "{edges:?}");
    for edge in &rollup {
        assert_eq!(edge["jobNamespace"], "python-jobs");
        assert_eq!(edge["fromAssetId"], invoices.as_str());
        assert_eq!(edge["toAssetId"], totals.as_str());
        assert_eq!(edge["fromExternal"], false);
        assert_eq!(edge["lastSeen"], "2026-01-12T03:01:00+00:00");
    }
    assert!(rollup
        .iter()
        .any(|e| e["fromColumns"] == json!(["amount"]) && e["toColumns"] == json!(["total"])));
    assert!(rollup
        .iter()
        .any(|e| e["firstSeen"] == "2026-01-12T03:00:00+00:00" && e["fromColumns"] == json!([])));

    let events = app.events().await;
    // START, COMPLETE (the redelivery is none), run 2's START and COMPLETE (its FAIL was
    // refused), a late START of an older run, two archive runs, the other tenant's COMPLETE and
    // the Python client's START and COMPLETE.
    assert_eq!(recorded(events.clone()), 10);
    assert!(
        events
            .iter()
            .all(|e| !e.data.to_string().contains(SECRET_VALUE)),
        "a secret reached an event"
    );
    db.remove().await;
    app.stop().await;
}

const IMPACT: &str = "query($id: ID!, $column: String) {
  impact(assetId: $id, column: $column, depth: 3) {
    assets { assetId path distance columns wholeAsset external
             reachedBy { kind fromPath jobNamespace jobName stale } }
    edges { kind jobName fromPath toPath }
  }
}";

const JOB: &str = "query($ns: String!, $name: String!) {
  lineageJob(namespace: $ns, name: $name) {
    id namespace name lastEventType lastEndedState failing overdue usualIntervalSeconds
    runs(first: 10) { runId state startedAt endedAt errorMessage }
  }
}";

/// Impact follows the edges jobs reported as well as the schema's, saying which job; a job's
/// runs (also a failed one, with its masked failure message) and its health are shown.
#[tokio::test(flavor = "multi_thread")]
async fn openlineage_edges_feed_impact_and_jobs_show_their_runs_and_health() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let steward = TestApp::token("acme", &[Role::DataSteward]);
    let viewer = TestApp::token("acme", &[Role::Viewer]);
    let db = SourceDb::create(BILLING, SECRET_VALUE).await;
    let source = register_and_scan(&app, &admin, db.input()).await;
    wait_projected(&app, &admin).await;
    let (raw, invoices, totals) = billing_assets(&app, &admin, &db, &source).await;

    // Nothing in the schema links these tables: without the jobs, nothing is downstream.
    let before = app.gql(Some(&viewer), IMPACT, json!({ "id": raw })).await;
    assert_eq!(before["data"]["impact"]["assets"], json!([]), "{before}");

    // nightly/load_invoices writes invoices from raw_invoices (amount from net and tax) on
    // three days, the third run failing; python-jobs/rollup writes invoice_totals from invoices.
    let runs = [
        ("0191a2b3-0000-7000-8000-00000000b001", "2026-01-10"),
        ("0191a2b3-0000-7000-8000-00000000b002", "2026-01-11"),
    ];
    for (run, day) in runs {
        for (kind, time) in [("START", "02:00:00Z"), ("COMPLETE", "02:05:00Z")] {
            let (status, body) = post(
                &app,
                Some(&steward),
                &spec_event(&db.name, kind, run, &format!("{day}T{time}"), false),
            )
            .await;
            assert_eq!(status, 201, "{body}");
        }
    }
    let failed_run = "0191a2b3-0000-7000-8000-00000000b003";
    let (status, body) = post(
        &app,
        Some(&steward),
        &spec_event(&db.name, "START", failed_run, "2026-01-12T02:00:00Z", false),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let mut fail = spec_event(&db.name, "FAIL", failed_run, "2026-01-12T02:01:00Z", false);
    fail["run"]["facets"]["errorMessage"] = json!({
        "_producer": "https://example.org/nightly-loader",
        "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
        "message": format!("connection to postgres://loader:{SECRET_VALUE}@127.0.0.1:5432/{} refused", db.name),
        "programmingLanguage": "python"
    });
    let (status, body) = post(&app, Some(&steward), &fail).await;
    assert_eq!(status, 201, "{body}");
    let mut rollup = spec_event(
        &db.name,
        "COMPLETE",
        "0191a2b3-0000-7000-8000-00000000c001",
        "2026-01-11T03:00:00Z",
        false,
    );
    rollup["job"]["namespace"] = json!("python-jobs");
    rollup["job"]["name"] = json!("rollup");
    rollup["inputs"] =
        json!([{ "namespace": NAMESPACE, "name": format!("{}.billing.invoices", db.name) }]);
    rollup["outputs"] =
        json!([{ "namespace": NAMESPACE, "name": format!("{}.billing.invoice_totals", db.name) }]);
    let (status, body) = post(&app, Some(&steward), &rollup).await;
    assert_eq!(status, 201, "{body}");
    wait_projected(&app, &admin).await;

    // impact(raw_invoices): invoices through the job's column lineage, invoice_totals behind it.
    let impact = app.gql(Some(&viewer), IMPACT, json!({ "id": raw })).await;
    let assets = impact["data"]["impact"]["assets"]
        .as_array()
        .unwrap_or_else(|| panic!("{impact}"))
        .clone();
    let paths: Vec<(&str, i64)> = assets
        .iter()
        .map(|a| {
            (
                a["assetId"].as_str().unwrap(),
                a["distance"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        paths,
        [(invoices.as_str(), 1), (totals.as_str(), 2)],
        "{impact}"
    );
    assert_eq!(assets[0]["columns"], json!(["amount"]), "{impact}");
    assert_eq!(assets[0]["external"], false);
    assert_eq!(
        assets[0]["reachedBy"],
        json!([{
            "kind": "openlineage",
            "fromPath": format!("{}.billing.raw_invoices", db.name),
            "jobNamespace": "nightly",
            "jobName": "load_invoices",
            "stale": false
        }]),
        "{impact}"
    );
    assert_eq!(assets[1]["wholeAsset"], true);
    assert_eq!(assets[1]["reachedBy"][0]["jobName"], "rollup");
    assert!(impact["data"]["impact"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["kind"] == "openlineage"));
    // From a column: only what the job derived from it.
    let from_net = app
        .gql(Some(&viewer), IMPACT, json!({ "id": raw, "column": "net" }))
        .await;
    assert_eq!(
        from_net["data"]["impact"]["assets"][0]["columns"],
        json!(["amount"]),
        "{from_net}"
    );
    let from_id = app
        .gql(Some(&viewer), IMPACT, json!({ "id": raw, "column": "id" }))
        .await;
    assert_eq!(from_id["data"]["impact"]["assets"], json!([]), "{from_id}");

    // The CLI says the same, naming the job.
    let printed = pursight(&app, &["lineage", &raw, "--downstream", "--tenant", "acme"]);
    let said = text(&printed);
    assert!(printed.status.success(), "{said}");
    assert!(
        said.contains("openlineage job nightly/load_invoices"),
        "{said}"
    );
    assert!(
        said.contains("openlineage job python-jobs/rollup"),
        "{said}"
    );

    // The job's runs, the failed one first with its message (credentials masked); its latest
    // run failed, and a daily job that last ran in January is overdue.
    let job = app
        .gql(
            Some(&viewer),
            JOB,
            json!({ "ns": "nightly", "name": "load_invoices" }),
        )
        .await;
    let job = &job["data"]["lineageJob"];
    assert_eq!(job["failing"], true, "{job}");
    assert_eq!(job["overdue"], true, "{job}");
    assert_eq!(job["usualIntervalSeconds"], 86_400, "{job}");
    assert_eq!(job["lastEndedState"], "FAIL");
    let runs = job["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3, "{job}");
    assert_eq!(runs[0]["runId"], failed_run);
    assert_eq!(runs[0]["state"], "FAIL");
    assert_eq!(runs[0]["startedAt"], "2026-01-12T02:00:00+00:00");
    assert_eq!(runs[0]["endedAt"], "2026-01-12T02:01:00+00:00");
    let message = runs[0]["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("postgres://loader:***@127.0.0.1"),
        "{message}"
    );
    assert!(!job.to_string().contains(SECRET_VALUE));
    assert_eq!(runs[1]["state"], "COMPLETE");
    assert_eq!(runs[1]["errorMessage"], Value::Null);
    // The edges of its last good run are not stale: a failed run is credited with nothing.
    let edges = lineage(&app, &viewer, &invoices).await;
    assert!(openlineage_edges(&edges, "load_invoices")
        .iter()
        .all(|e| e["stale"] == false));

    let listed_jobs = app
        .gql(
            Some(&viewer),
            "{ lineageJobs { namespace name failing overdue usualIntervalSeconds } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed_jobs["data"]["lineageJobs"],
        json!([
            { "namespace": "nightly", "name": "load_invoices", "failing": true, "overdue": true, "usualIntervalSeconds": 86_400 },
            { "namespace": "python-jobs", "name": "rollup", "failing": false, "overdue": false, "usualIntervalSeconds": null },
        ]),
        "{listed_jobs}"
    );
    // Another tenant sees no job; hostile arguments are refused.
    let globex = TestApp::token("globex", &[Role::Admin]);
    let other = app
        .gql(
            Some(&globex),
            JOB,
            json!({ "ns": "nightly", "name": "load_invoices" }),
        )
        .await;
    assert_eq!(other["data"]["lineageJob"], Value::Null, "{other}");
    let long = "n".repeat(513);
    for (query, vars) in [
        (JOB, json!({ "ns": long, "name": "load_invoices" })),
        (JOB, json!({ "ns": "nightly", "name": "" })),
        (JOB, json!({ "ns": "night\u{0}ly", "name": "x" })),
        ("{ lineageJobs(first: 101) { name } }", json!({})),
        ("{ lineageJobs(after: \"nope\") { name } }", json!({})),
    ] {
        let refused = app.gql(Some(&viewer), query, vars).await;
        assert_eq!(error_code(&refused), Some("VALIDATION"), "{refused}");
    }

    db.remove().await;
    app.stop().await;
}
