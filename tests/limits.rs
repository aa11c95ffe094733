//! Request limits of the GraphQL server against the real service: bodies capped before they are
//! read (also without a token), fragment bombs, deep nesting, aliases and page sizes refused
//! before any expensive work, a per-request timeout, GraphiQL and introspection switched off,
//! and a fuzz run of random and mutated documents that never gets a 5xx, a panic or an event.
//! Also what the server lets out: /metrics and /readyz details behind a token, NATS URL
//! credentials never in logs or messages.

mod support;

use domain::access::Role;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};
use sqlx::Connection;
use support::{error_code, postgres_source, TestApp, REGISTER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MIB: usize = 1024 * 1024;

/// Sends raw HTTP/1.1 `head` (and then `body`, while the answer is read) and returns the status
/// code of the answer.
async fn raw_status(app: &TestApp, head: String, body: Vec<u8>) -> u16 {
    raw_answer(app, head, body).await.0
}

/// Like [`raw_status`], and also returns the answer's body (as far as its `Content-Length`).
/// A client library cannot be used for bodies the server refuses unread: the server answers and
/// closes while the body is still being written, and the library reports the broken pipe instead
/// of the answer it already received.
async fn raw_answer(app: &TestApp, head: String, body: Vec<u8>) -> (u16, String) {
    let stream = TcpStream::connect(app.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer.write_all(head.as_bytes()).await.unwrap();
    // The server may answer and close before the body is sent: write errors are expected.
    let sender = tokio::spawn(async move {
        for chunk in body.chunks(64 * 1024) {
            if writer.write_all(chunk).await.is_err() {
                return;
            }
        }
        let _ = writer.shutdown().await;
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let read = reader.read(&mut buffer).await.unwrap();
        assert!(read > 0, "the connection closed without an answer");
        answer.extend_from_slice(&buffer[..read]);
    };
    let head_text = String::from_utf8_lossy(&answer[..head_end]).to_string();
    let length = head_text
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    while answer.len() < head_end + length {
        match reader.read(&mut buffer).await {
            Ok(read) if read > 0 => answer.extend_from_slice(&buffer[..read]),
            _ => break,
        }
    }
    sender.abort();
    let status = head_text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {head_text}"));
    (
        status,
        String::from_utf8_lossy(&answer[head_end..]).to_string(),
    )
}

fn post_head(app: &TestApp, extra: &str) -> String {
    format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{extra}\r\n",
        app.addr
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_the_limit_are_refused_unread_even_without_a_token() {
    let app = TestApp::spawn().await;
    // A declared 200 MB body is refused before a byte of it is sent.
    let status = raw_status(
        &app,
        post_head(&app, "Content-Length: 200000000\r\n"),
        Vec::new(),
    )
    .await;
    assert_eq!(status, 413);
    // Chunked (no length declared): refused once the limit is passed.
    let mut chunked = Vec::new();
    for _ in 0..40 {
        let chunk = vec![b' '; 64 * 1024];
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(&chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let status = raw_status(
        &app,
        post_head(&app, "Transfer-Encoding: chunked\r\n"),
        chunked,
    )
    .await;
    assert_eq!(status, 413);
    // A Content-Length smaller than the body: only the declared bytes are read, and they are not
    // a GraphQL request.
    let status = raw_status(
        &app,
        post_head(&app, "Content-Length: 20\r\n"),
        vec![b'{'; 2 * MIB],
    )
    .await;
    assert_eq!(status, 400);
    // The same with an honest Content-Length: refused with a message naming the setting.
    let big = format!(
        r#"{{"query": "{{ consistency {{ streamSequence }} }}", "pad": "{}"}}"#,
        "x".repeat(2 * MIB)
    );
    let (status, message) = raw_answer(
        &app,
        post_head(&app, &format!("Content-Length: {}\r\n", big.len())),
        big.into_bytes(),
    )
    .await;
    assert_eq!(status, 413);
    assert!(message.contains("PURSIGHT_MAX_BODY_BYTES"), "{message}");
    // Just under the limit is served: without a token, the answer is UNAUTHENTICATED.
    let query = format!(
        "{{ consistency {{ streamSequence }} }} #{}",
        "x".repeat(MIB - 200)
    );
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_body_limit_is_configurable() {
    let app = TestApp::spawn_configured(|c| c.http.max_body_bytes = 4096).await;
    let small = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(small.status().as_u16(), 200);
    let large = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": format!("{{ __typename }} #{}", "x".repeat(5000)) }))
        .send()
        .await
        .unwrap();
    assert_eq!(large.status().as_u16(), 413);
    app.stop().await;
}

/// Fragments F0..Fn where each selects the next twice.
fn fragment_bomb(levels: usize) -> String {
    let mut doc = String::from("query { ...F0 }\n");
    for level in 0..levels {
        doc.push_str(&format!(
            "fragment F{level} on Query {{ a: consistency {{ ...F{n} }} b: consistency {{ ...F{n} }} }}\n",
            n = level + 1
        ));
    }
    doc.push_str(&format!(
        "fragment F{levels} on Query {{ consistency {{ streamSequence }} }}\n"
    ));
    doc
}

#[tokio::test(flavor = "multi_thread")]
async fn documents_that_multiply_or_nest_are_refused_before_validation() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    // 2^29 selections: async-graphql alone spends minutes of CPU on this, without a token.
    for token in [None, Some(admin.as_str())] {
        let response = app.gql(token, &fragment_bomb(29), json!({})).await;
        assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
        assert!(
            response["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("fragments are expanded"),
            "{response}"
        );
    }
    let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
    let response = app.gql(Some(&admin), cycle, json!({})).await;
    assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
    // Nesting that would exhaust the parser's stack.
    for deep in [
        format!("{}{}", "{ a ".repeat(50_000), "}".repeat(50_000)),
        format!(
            "{{ assets(search: {}1{}) {{ id }} }}",
            "[".repeat(50_000),
            "]".repeat(50_000)
        ),
    ] {
        let response = app.gql(None, &deep, json!({})).await;
        assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
    }
    // Still serving.
    let response = app
        .gql(
            Some(&admin),
            "{ consistency { streamSequence } }",
            json!({}),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn aliases_and_page_sizes_count_towards_complexity_and_pages_are_capped() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    // One large page is fine.
    let one = app
        .gql(
            Some(&admin),
            "{ assets(first: 1000) { id path } }",
            json!({}),
        )
        .await;
    assert!(one["errors"].is_null(), "{one}");
    // 500 aliases of it are not (they took seconds of CPU and every pooled connection).
    let aliases: String = (0..500)
        .map(|i| format!("a{i}: assets(first: 1000) {{ id }} "))
        .collect();
    let response = app
        .gql(Some(&admin), &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too complex"),
        "{response}"
    );
    assert!(response["data"].is_null(), "{response}");
    // Many cheap aliases of a database read are refused too.
    let reads: String = (0..600)
        .map(|i| format!("c{i}: consistency {{ streamSequence }} "))
        .collect();
    let response = app
        .gql(Some(&admin), &format!("{{ {reads} }}"), json!({}))
        .await;
    assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
    // Each mutation costs a database write: hundreds of aliased ones are refused before any runs.
    let before = app.stream_sequence().await;
    let mutations: String = (0..600)
        .map(|i| format!("m{i}: registerDataSource(input: $input) {{ aggregateId }} "))
        .collect();
    let response = app
        .gql(
            Some(&admin),
            &format!("mutation($input: DataSourceInput!) {{ {mutations} }}"),
            json!({ "input": postgres_source("Aliased") }),
        )
        .await;
    assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
    assert_eq!(app.stream_sequence().await, before);
    // Every page size is capped; the cap is a VALIDATION error naming the bounds.
    for (query, bound) in [
        ("{ columnLabels(first: 1000000) { column } }", "1 and 1000"),
        ("{ scans(first: 1000000) { id } }", "1 and 500"),
        ("{ reviewQueue(first: 1000000) { column } }", "1 and 1000"),
        ("{ dataSources(first: 1000000) { id } }", "1 and 500"),
        ("{ assets(first: 1000000) { id } }", "1 and 1000"),
        ("{ auditTrail(first: 0) { hasNextPage } }", "1 and 500"),
        ("{ scans(first: -5) { id } }", "1 and 500"),
    ] {
        let response = app.gql(Some(&admin), query, json!({})).await;
        assert_eq!(
            error_code(&response),
            Some("VALIDATION"),
            "{query}: {response}"
        );
        assert!(
            response["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(bound),
            "{query}: {response}"
        );
    }
    // The caps are in the schema's descriptions.
    let sdl = api::graphql::sdl();
    assert!(sdl.contains("How many, 1 to 1000; more is a VALIDATION error."));
    assert!(sdl.contains("How many, 1 to 500; more is a VALIDATION error."));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_that_runs_too_long_is_stopped_with_a_timeout_error() {
    let app = TestApp::spawn_configured(|c| {
        c.http.limits.timeout = std::time::Duration::from_millis(500)
    })
    .await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    // The read model held by another session: the query waits on it, past its budget. (A zero
    // budget is not enough: a query the database answers before its first pause completes.)
    let mut holder = sqlx::PgConnection::connect(&app.database_url)
        .await
        .unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE rm_data_sources.data_sources IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .unwrap();
    let response = app
        .gql(Some(&admin), "{ dataSources { id } }", json!({}))
        .await;
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    holder.close().await.unwrap();
    assert_eq!(error_code(&response), Some("TIMEOUT"), "{response}");
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("commandId"),
        "{response}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn graphiql_and_introspection_can_be_turned_off() {
    let introspection = "{ __schema { queryType { name } } }";
    let admin = TestApp::token("acme", &[Role::Admin]);
    let on = TestApp::spawn().await;
    let page = on.client.get(on.url("/graphql")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let response = on.gql(Some(&admin), introspection, json!({})).await;
    assert_eq!(response["data"]["__schema"]["queryType"]["name"], "Query");
    on.stop().await;

    let off = TestApp::spawn_configured(|c| c.http.graphiql = false).await;
    let page = off.client.get(off.url("/graphql")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 404);
    let response = off.gql(Some(&admin), introspection, json!({})).await;
    assert!(response["data"]["__schema"].is_null(), "{response}");
    // Queries still work.
    let response = off
        .gql(
            Some(&admin),
            "{ consistency { streamSequence } }",
            json!({}),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    off.stop().await;
}

/// Documents the fuzz run starts from: valid and nearly valid queries and mutations.
fn seeds() -> Vec<(String, Value)> {
    let register = json!({ "input": postgres_source("Fuzzed") });
    vec![
        ("{ dataSources { id name lifecycleState } }".into(), json!({})),
        (
            "query Q($first: Int, $s: String) { assets(first: $first, search: $s) { id path columns { name labels { label } } history { kind } } }".into(),
            json!({ "first": 10, "s": "orders" }),
        ),
        (REGISTER.into(), register.clone()),
        (
            "mutation { registerDataSource(input: { name: \"\", kind: \"postgresql\" }) { aggregateId } }".into(),
            json!({}),
        ),
        (
            "mutation U($id: ID!) { archiveDataSource(id: $id) { aggregateId } }".into(),
            json!({ "id": "0190c4a6-7f3e-7cc5-9c3a-1a2b3c4d5e6f" }),
        ),
        (
            "mutation S($id: ID!) { startScan(sourceId: $id) { scanId } }".into(),
            json!({ "id": "not-an-id" }),
        ),
        (
            "{ auditTrail(first: 5) { entries { eventType actor } hasNextPage } consistency { projectedSequence streamSequence } }".into(),
            json!({}),
        ),
        (
            "query { ...F } fragment F on Query { scans(first: 3) { id status } reviewQueue { column } }".into(),
            json!({}),
        ),
        ("subscription { events { type } }".into(), json!({})),
        ("{ __schema { types { name fields { name } } } }".into(), json!({})),
        (
            "query H($id: ID!) { history(aggregateId: $id) { type sequence } dataSourceHealth(id: $id) { latest { status } } }".into(),
            json!({ "id": "0190c4a6-7f3e-7cc5-9c3a-1a2b3c4d5e6f" }),
        ),
    ]
}

/// Pieces of GraphQL syntax (and some that are not) that mutations insert.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    "$",
    "!",
    "@",
    "...",
    "...F",
    "fragment F on Query",
    "query",
    "mutation",
    "subscription",
    "on",
    "#",
    "\"",
    "\"\"\"",
    "\\",
    ",",
    "\n",
    "\u{0}",
    "\u{202e}",
    "é",
    "1",
    "-1",
    "2147483648",
    "1e309",
    "null",
    "true",
    "__typename",
    "a:",
    "first: 1000000",
    "@skip(if: true)",
    "@include(if: $x)",
    "$first",
    "id",
    "dataSources",
    "assets",
    "registerDataSource",
    "input:",
    "{ id }",
    "\u{feff}",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One edit of a document's text.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, &'static str),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(at, t)| Edit::Insert(at, t)),
        (any::<usize>(), 1usize..20).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), 1usize..40).prop_map(|(at, n)| Edit::Duplicate(at, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(doc: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = doc.chars().collect();
    for edit in edits {
        let len = chars.len().max(1);
        match *edit {
            Edit::Insert(at, token) => {
                let at = at % (chars.len() + 1);
                chars.splice(at..at, token.chars());
            }
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(chars.len());
                chars.drain(at.min(chars.len())..end);
            }
            Edit::Duplicate(at, n) => {
                let at = at % len;
                let end = (at + n).min(chars.len());
                let copy: Vec<char> = chars[at.min(chars.len())..end].to_vec();
                chars.splice(end..end, copy);
            }
            Edit::Truncate(at) => chars.truncate(at % len),
        }
    }
    chars.into_iter().collect()
}

/// What one fuzz case sends.
#[derive(Debug, Clone)]
enum Case {
    /// A seed with edits and perhaps other variables.
    Mutated {
        seed: usize,
        edits: Vec<Edit>,
        variables: Option<Value>,
    },
    /// A document of random tokens.
    Tokens(Vec<&'static str>, Value),
    /// A body that is not a GraphQL request at all.
    Body(Vec<u8>),
}

fn case(seed_count: usize) -> impl Strategy<Value = Case> {
    prop_oneof![
        6 => (
            0..seed_count,
            prop::collection::vec(edit(), 0..5),
            prop::option::weighted(0.3, json_value()),
        )
            .prop_map(|(seed, edits, variables)| Case::Mutated { seed, edits, variables }),
        2 => (prop::collection::vec(prop::sample::select(TOKENS), 1..40), json_value())
            .prop_map(|(tokens, variables)| Case::Tokens(tokens, variables)),
        1 => prop::collection::vec(any::<u8>(), 0..200).prop_map(Case::Body),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn random_and_mutated_documents_never_fail_the_server_nor_append_events() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let seeds = seeds();
    // A fixed seed: a failure found once is found again.
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = case(seeds.len());
    let mut sequence = app.stream_sequence().await;
    // How many cases got data, and how many appended events: the run must exercise both.
    let (mut answered, mut appended) = (0, 0);
    for round in 0..2000 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        let body: Vec<u8> = match &case {
            Case::Mutated {
                seed,
                edits,
                variables,
            } => {
                let (doc, seed_variables) = &seeds[*seed];
                serde_json::to_vec(&json!({
                    "query": apply(doc, edits),
                    "variables": variables.clone().unwrap_or_else(|| seed_variables.clone()),
                }))
                .unwrap()
            }
            Case::Tokens(tokens, variables) => {
                serde_json::to_vec(&json!({ "query": tokens.join(" "), "variables": variables }))
                    .unwrap()
            }
            Case::Body(bytes) => bytes.clone(),
        };
        // Half the cases without a token, half as an admin who may append events.
        let mut request = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(body);
        if round % 2 == 0 {
            request = request.bearer_auth(&admin);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|err| panic!("case {case:?}: no answer ({err})"));
        let status = response.status().as_u16();
        assert!(
            status == 200 || status == 400,
            "case {case:?}: status {status}"
        );
        let text = response.text().await.unwrap();
        let after = app.stream_sequence().await;
        if after != sequence {
            // Only a request whose mutation succeeded may append.
            let answer: Value = serde_json::from_str(&text).unwrap();
            let succeeded = answer["data"]
                .as_object()
                .is_some_and(|fields| fields.values().any(|v| !v.is_null()));
            assert!(
                succeeded && round % 2 == 0,
                "case {case:?} appended events: {text}"
            );
            sequence = after;
            appended += 1;
        }
        if status == 200 {
            let answer: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("case {case:?}: not JSON: {text}"));
            if answer["data"]
                .as_object()
                .is_some_and(|fields| fields.values().any(|v| !v.is_null()))
            {
                answered += 1;
            }
            for error in answer["errors"].as_array().into_iter().flatten() {
                assert!(
                    error["extensions"]["code"].is_string(),
                    "case {case:?}: an error without a code: {text}"
                );
                assert_ne!(
                    error["extensions"]["code"], "INTERNAL",
                    "case {case:?}: {text}"
                );
            }
        }
    }
    eprintln!("{answered} cases answered with data, {appended} appended events");
    assert!(
        answered > 20 && appended > 2,
        "{answered} answered, {appended} appended"
    );
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_and_readiness_details_need_the_metrics_token_when_one_is_set() {
    let token = "metrics-token-4f1c0d";
    let app = TestApp::spawn_configured(|c| c.http.metrics_token = Some(token.to_owned())).await;
    let get = |path: &str, bearer: Option<&str>| {
        let mut request = app.client.get(app.url(path));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        request.send()
    };
    for bearer in [None, Some("wrong"), Some("metrics-token-4f1c0")] {
        let metrics = get("/metrics", bearer).await.unwrap();
        assert_eq!(metrics.status().as_u16(), 401, "{bearer:?}");
        assert!(!metrics.text().await.unwrap().contains("pursight_"));
        // Readiness keeps its status code for load balancers, without the details.
        let ready = get("/readyz", bearer).await.unwrap();
        assert!(matches!(ready.status().as_u16(), 200 | 503));
        assert_eq!(ready.text().await.unwrap(), "", "{bearer:?}");
    }
    let metrics = get("/metrics", Some(token)).await.unwrap();
    assert_eq!(metrics.status().as_u16(), 200);
    assert!(metrics.text().await.unwrap().contains("pursight_"));
    let ready: Value = get("/readyz", Some(token))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(ready["projections"].is_object(), "{ready}");
    // Liveness stays open.
    assert_eq!(get("/healthz", None).await.unwrap().status().as_u16(), 200);
    app.stop().await;
}

/// `pursight` against the test's read models with `nats_url` and debug logging of everything.
fn pursight_debug(app: &TestApp, nats_url: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pursight"))
        .args(args)
        .env("PURSIGHT_STREAM_PREFIX", &app.prefix)
        .env("PURSIGHT_DATABASE_URL", &app.database_url)
        .env("PURSIGHT_NATS_URL", nats_url)
        .env("RUST_LOG", "debug")
        .env_remove("PURSIGHT_LOG")
        .output()
        .unwrap();
    support::text(&output)
}

#[tokio::test(flavor = "multi_thread")]
async fn nats_url_credentials_never_appear_in_logs_or_errors() {
    let app = TestApp::spawn().await;
    let password = "nats-pw-6b0e1f";
    // Unreachable: the error names the server, not the password.
    let unreachable = pursight_debug(
        &app,
        &format!("nats://alice:{password}@127.0.0.1:1"),
        &["replay"],
    );
    assert!(
        unreachable.contains("cannot connect to NATS at nats://alice:***@127.0.0.1:1"),
        "{unreachable}"
    );
    assert!(!unreachable.contains(password), "{unreachable}");
    let token = "nats-token-93ac2d";
    let unreachable = pursight_debug(&app, &format!("nats://{token}@127.0.0.1:1"), &["replay"]);
    assert!(!unreachable.contains(token), "{unreachable}");
    // Reachable (this server has no authentication, so it ignores them): debug logs of async-nats
    // name the server it connects to, without the credentials.
    let port = app.nats_url.rsplit(':').next().unwrap().to_owned();
    let served = pursight_debug(
        &app,
        &format!("nats://alice:{password}@127.0.0.1:{port}"),
        &["replay"],
    );
    assert!(!served.contains("cannot connect"), "{served}");
    assert!(!served.contains(password), "{served}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_shorter_than_32_bytes_are_refused_before_anything_starts() {
    let app = TestApp::spawn().await;
    for args in [
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--jwt-secret",
            "too-short-secret",
        ][..],
        &["token", "--jwt-secret", "too-short-secret"][..],
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_pursight"))
            .args(args)
            .env("PURSIGHT_STREAM_PREFIX", &app.prefix)
            .env("PURSIGHT_DATABASE_URL", &app.database_url)
            .env("PURSIGHT_NATS_URL", &app.nats_url)
            .env_remove("PURSIGHT_JWT_SECRET")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        let text = support::text(&output);
        assert!(
            text.contains("PURSIGHT_JWT_SECRET is 16 bytes long; it must have at least 32 bytes"),
            "{args:?}: {text}"
        );
        assert!(!text.contains("too-short-secret"), "{text}");
    }
    app.stop().await;
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message as JSON, or None when the connection ends.
async fn next_text(socket: &mut Socket) -> Option<Value> {
    use futures::StreamExt;
    let message = tokio::time::timeout(std::time::Duration::from_secs(30), socket.next())
        .await
        .expect("an answer");
    match message {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) => {
            Some(serde_json::from_str(&text).unwrap())
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_subscription_endpoint_refuses_fragment_bombs_and_large_messages_too() {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    use tokio_tungstenite::tungstenite::Message;

    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let connect = || async {
        let mut request = format!("ws://{}/graphql/ws", app.addr)
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {admin}") } });
        socket.send(Message::text(init.to_string())).await.unwrap();
        socket
    };
    let mut socket = connect().await;
    let ack = next_text(&mut socket).await.unwrap();
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let subscribe =
        json!({ "id": "1", "type": "subscribe", "payload": { "query": fragment_bomb(29) } });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    let answer = next_text(&mut socket).await.unwrap();
    // async-graphql answers a refused operation as a `next` with errors.
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "VALIDATION",
        "{answer}"
    );
    assert!(
        answer.to_string().contains("fragments are expanded"),
        "{answer}"
    );
    // A message over the body limit ends the connection instead of being buffered.
    let mut socket = connect().await;
    let _ack = next_text(&mut socket).await;
    let huge =
        json!({ "id": "2", "type": "subscribe", "payload": { "query": "x".repeat(2 * MIB) } });
    let _ = socket.send(Message::text(huge.to_string())).await;
    assert!(next_text(&mut socket).await.is_none());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_whose_request_timed_out_still_runs_to_its_end() {
    // A zero budget: the request answers TIMEOUT at its first wait.
    let app =
        TestApp::spawn_configured(|c| c.http.limits.timeout = std::time::Duration::ZERO).await;
    // A second instance on the same stream and read models, with the default budget, sets up
    // and watches.
    let sibling = app.sibling().await;
    let sibling_url = format!("http://{}/graphql", sibling.local_addr());
    let sibling_stop = sibling.shutdown_handle();
    let sibling_task = tokio::spawn(sibling.run_until_stopped(false));
    let admin = TestApp::token("acme", &[Role::Admin]);
    let gql = |query: &'static str, variables: Value| {
        app.client
            .post(&sibling_url)
            .bearer_auth(&admin)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
    };
    let db = support::SourceDb::create(
        "CREATE TABLE customers (id int PRIMARY KEY, email text);",
        "unused",
    )
    .await;
    let registered: Value = gql(REGISTER, json!({ "input": db.input(), "wait": true }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = registered["data"]["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap_or_else(|| panic!("{registered}"))
        .to_owned();
    let checked: Value = gql(
        "mutation($id: ID!) { validateConnection(id: $id) { ok } }",
        json!({ "id": id }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        checked["data"]["validateConnection"]["ok"], true,
        "{checked}"
    );

    let started = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { startScan(sourceId: $id, waitForCompletion: true) { scanId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&started), Some("TIMEOUT"), "{started}");
    // The scan goes on without its request and ends; it is not left `running`.
    let mut last = Value::Null;
    for _ in 0..300 {
        last = gql(
            "query($id: ID!) { scans(sourceId: $id) { status } }",
            json!({ "id": id }),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        if last["data"]["scans"][0]["status"] == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(last["data"]["scans"][0]["status"], "completed", "{last}");
    sibling_stop.shutdown();
    let _ = sibling_task.await;
    db.remove().await;
    app.stop().await;
}
