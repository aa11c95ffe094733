//! Given/when/then tests of the LineageJob aggregate and the RunEvent reader.

use super::*;
use crate::testing::{self, Given};
use serde_json::json;

fn given(events: Vec<LineageJobEvent>) -> Given<LineageJob> {
    testing::given(events)
}

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

const RUN: &str = "0190f0c4-1111-7000-8000-00000000000a";

fn event(event_type: &str) -> Value {
    json!({
        "eventType": event_type,
        "eventTime": "2026-03-01T10:00:00.000Z",
        "producer": "https://example.org/nightly-loader",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": { "runId": RUN, "facets": {} },
        "job": { "namespace": "nightly", "name": "load_invoices" },
        "inputs": [{ "namespace": "postgres://db.example:5432", "name": "billing.public.raw_invoices" }],
        "outputs": [{
            "namespace": "postgres://db.example:5432",
            "name": "billing.public.invoices",
            "facets": { "columnLineage": { "_producer": "x", "_schemaURL": "y", "fields": {
                "amount": { "inputFields": [
                    { "namespace": "postgres://db.example:5432", "name": "billing.public.raw_invoices", "field": "net" },
                    { "namespace": "postgres://db.example:5432", "name": "billing.public.raw_invoices", "field": "tax" }
                ] }
            } } }
        }]
    })
}

fn external(d: &DatasetRef) -> ObservedDataset {
    ObservedDataset {
        namespace: d.namespace.clone(),
        name: d.name.clone(),
        asset_id: None,
        asset_path: None,
    }
}

fn observed(event_type: &str) -> LineageJobEvent {
    LineageJobEvent::RunObserved(
        parse_run_event(&event(event_type), now())
            .unwrap()
            .observe(external),
    )
}

fn observe(event_type: &str) -> ObserveRun {
    let LineageJobEvent::RunObserved(run) = observed(event_type);
    ObserveRun(run)
}

#[test]
fn a_complete_event_records_dataset_and_column_edges() {
    let LineageJobEvent::RunObserved(run) = observed("COMPLETE");
    assert_eq!(run.event_type, RunEventType::Complete);
    assert_eq!(run.edges.len(), 2, "{:?}", run.edges);
    assert!(run.edges[0].from_columns.is_empty() && run.edges[0].to_columns.is_empty());
    assert_eq!(run.edges[0].from.name, "billing.public.raw_invoices");
    assert_eq!(run.edges[0].to.name, "billing.public.invoices");
    assert_eq!(run.edges[1].from_columns, ["net", "tax"]);
    assert_eq!(run.edges[1].to_columns, ["amount"]);
    let state = given(vec![])
        .when(observe("COMPLETE"))
        .then(vec![observed("COMPLETE")]);
    assert_eq!(state.ended.len(), 1);
}

#[test]
fn failed_and_aborted_runs_record_no_edges() {
    for kind in ["FAIL", "ABORT", "OTHER"] {
        let LineageJobEvent::RunObserved(run) = observed(kind);
        assert!(run.edges.is_empty(), "{kind}");
    }
}

#[test]
fn a_run_is_started_then_completed_and_a_redelivered_end_records_nothing() {
    given(vec![observed("START")])
        .when(observe("COMPLETE"))
        .then(vec![observed("COMPLETE")]);
    given(vec![observed("START"), observed("COMPLETE")])
        .when(observe("COMPLETE"))
        .then(vec![]);
    // A late START after the end is still a fact the producer reported.
    given(vec![observed("COMPLETE")])
        .when(observe("START"))
        .then(vec![observed("START")]);
}

#[test]
fn a_run_that_ended_does_not_end_another_way() {
    given(vec![observed("FAIL")])
        .when(observe("COMPLETE"))
        .then_error(LineageJobError::RunAlreadyEnded {
            run_id: RUN.parse().unwrap(),
            ended: RunEventType::Fail,
            now: RunEventType::Complete,
        });
}

#[test]
fn an_event_of_another_job_is_refused() {
    let mut other = event("START");
    other["job"]["name"] = json!("another");
    let run = parse_run_event(&other, now()).unwrap().observe(external);
    given(vec![observed("START")])
        .when(ObserveRun(run))
        .then_error(LineageJobError::OtherJob);
}

#[test]
fn ended_runs_are_remembered_within_a_bound() {
    let mut events = Vec::new();
    for n in 0..(REMEMBERED_RUNS as u128 + 10) {
        let mut e = event("COMPLETE");
        e["run"]["runId"] = json!(Uuid::from_u128(n).to_string());
        events.push(LineageJobEvent::RunObserved(
            parse_run_event(&e, now()).unwrap().observe(external),
        ));
    }
    assert_eq!(given(events).state().ended.len(), REMEMBERED_RUNS);
}

#[test]
fn job_and_external_ids_are_stable_and_distinct() {
    assert_eq!(job_id("a", "b"), job_id("a", "b"));
    assert_ne!(job_id("a", "bc"), job_id("ab", "c"));
    assert_ne!(
        external_dataset_id("a", "b"),
        job_id("a", "b").as_uuid(),
        "two derivations"
    );
}

#[test]
fn malformed_events_are_refused_with_the_path_of_the_problem() {
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|e: &mut Value| e["eventType"] = json!("DONE")),
            "$.eventType",
        ),
        (
            Box::new(|e: &mut Value| e["eventTime"] = json!("yesterday")),
            "$.eventTime",
        ),
        (
            Box::new(|e: &mut Value| e["eventTime"] = json!("2026-03-05T00:00:00Z")),
            "$.eventTime",
        ),
        (
            Box::new(|e: &mut Value| e["run"]["runId"] = json!("not-a-uuid")),
            "$.run.runId",
        ),
        (
            Box::new(|e: &mut Value| e["job"]["name"] = json!("")),
            "$.job.name",
        ),
        (
            Box::new(|e: &mut Value| e["job"]["namespace"] = json!("x".repeat(513))),
            "$.job.namespace",
        ),
        (
            Box::new(|e: &mut Value| e["inputs"][0]["name"] = json!("a\nb")),
            "$.inputs[0].name",
        ),
        (
            Box::new(|e: &mut Value| e["outputs"] = json!({})),
            "$.outputs",
        ),
        (
            Box::new(|e: &mut Value| {
                e["outputs"][0]["facets"]["columnLineage"]["fields"]["amount"]["inputFields"][1]
                    ["field"] = json!(7)
            }),
            "$.outputs[0].facets.columnLineage.fields[\"amount\"].inputFields[1].field",
        ),
        (
            Box::new(|e: &mut Value| e["surprise"] = json!(1)),
            "$[\"surprise\"]",
        ),
        (
            Box::new(|e: &mut Value| {
                e.as_object_mut().unwrap().remove("producer");
            }),
            "$.producer",
        ),
        (
            Box::new(|e: &mut Value| {
                e["inputs"] = json!(vec![json!({"namespace": "n", "name": "x"}); 101])
            }),
            "$.inputs",
        ),
    ];
    for (change, path) in cases {
        let mut e = event("START");
        change(&mut e);
        let err = parse_run_event(&e, now()).unwrap_err();
        assert_eq!(err.path, path, "{err}");
    }
    // Within every count, but 100 long inputs times 100 outputs would be a huge event.
    let mut e = event("START");
    let long =
        |i: usize| json!({"namespace": "s3://bucket", "name": format!("{i}-{}", "k".repeat(1000))});
    e["inputs"] = json!((0..100).map(long).collect::<Vec<_>>());
    e["outputs"] = json!((100..200).map(long).collect::<Vec<_>>());
    let err = parse_run_event(&e, now()).unwrap_err();
    assert_eq!(err.path, "$", "{err}");
    assert!(err.problem.contains("bytes"), "{err}");
    let err = parse_run_event(&json!([1]), now()).unwrap_err();
    assert_eq!(err.path, "$");
    let err = parse_run_event(&json!({"dataset": {}}), now()).unwrap_err();
    assert!(err.problem.contains("only RunEvents"), "{err}");
}

#[test]
fn events_round_trip_through_their_stored_form() {
    let event = observed("COMPLETE");
    let back = LineageJobEvent::from_stored(event.event_type(), event.version(), &event.to_data())
        .unwrap();
    assert_eq!(back, event);
    assert!(LineageJobEvent::READABLE.contains(&("RunObserved", 1)));
}

#[test]
fn a_failed_run_keeps_its_error_message_bounded_and_with_credentials_masked() {
    let mut failed = event("FAIL");
    failed["run"]["facets"]["errorMessage"] = json!({
        "_producer": "x", "_schemaURL": "y",
        "message": "could not connect to postgres://etl:hunter2@db.example:5432/billing (password=hunter2; api_key: \"k-123\")\u{0}\u{202E}",
        "programmingLanguage": "python",
        "stackTrace": "Traceback …"
    });
    let run = parse_run_event(&failed, now()).unwrap().observe(external);
    let message = run.error_message.clone().unwrap();
    assert_eq!(
        message,
        "could not connect to postgres://etl:***@db.example:5432/billing (password=***; api_key: \"***\")  "
    );
    assert!(!message.contains("hunter2") && !message.contains("k-123"));
    assert!(run.edges.is_empty());
    // Recorded and read back as it was; an event without one has no field at all.
    let stored = serde_json::to_value(&run).unwrap();
    assert_eq!(stored["error_message"], json!(message));
    let plain = parse_run_event(&event("COMPLETE"), now())
        .unwrap()
        .observe(external);
    assert!(plain.error_message.is_none());
    assert!(serde_json::to_value(&plain)
        .unwrap()
        .get("error_message")
        .is_none());
    // Long messages are cut; a facet of another shape is read past.
    failed["run"]["facets"]["errorMessage"]["message"] = json!("x".repeat(10_000));
    let long = parse_run_event(&failed, now())
        .unwrap()
        .error_message
        .unwrap();
    assert_eq!(long.chars().count(), openlineage::MAX_ERROR_CHARS);
    failed["run"]["facets"]["errorMessage"] = json!("boom");
    assert!(parse_run_event(&failed, now())
        .unwrap()
        .error_message
        .is_none());
}
