//! Tenants end to end: `pursight tenant` against the real stream while the service runs; a
//! suspended tenant's requests and WebSocket connections are refused, other tenants are not,
//! reactivation lets it back in, and refused commands record nothing.

mod support;

use domain::access::Role;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use support::{error_code, pursight, text, TestApp};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const QUERY: &str = "{ dataSources { id } }";

/// Runs `pursight tenant …` and returns (success, output).
fn tenant(app: &TestApp, args: &[&str]) -> (bool, String) {
    let mut all = vec!["tenant"];
    all.extend_from_slice(args);
    let output = pursight(app, &all);
    (output.status.success(), text(&output))
}

/// Asks until the response's first error code is `code` (`None`: no error). The registry
/// follows the stream asynchronously; the bound only keeps a broken build from hanging.
async fn until_code(app: &TestApp, token: &str, code: Option<&str>) -> Value {
    for _ in 0..300 {
        let response = app.gql(Some(token), QUERY, json!({})).await;
        if error_code(&response) == code {
            return response;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the response code never became {code:?}");
}

/// Opens a graphql-transport-ws connection and sends `connection_init` with `token`; returns
/// the socket and the server's first reply.
async fn connect(app: &TestApp, token: &str) -> (Socket, Option<Value>) {
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    let reply = next_message(&mut socket).await;
    (socket, reply)
}

/// The next text message as JSON, or a close frame as `{"close": code, "reason": …}`.
async fn next_message(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .ok()??
            .ok()?;
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "ping" {
                    continue;
                }
                return Some(value);
            }
            Message::Close(frame) => {
                return Some(match frame {
                    Some(frame) => {
                        json!({ "close": u16::from(frame.code), "reason": frame.reason.as_str() })
                    }
                    None => json!({ "close": null }),
                })
            }
            _ => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_suspended_tenant_is_refused_until_reactivated_and_others_are_unaffected() {
    let app = TestApp::spawn().await;
    let acme = TestApp::token("acme", &[Role::Admin]);
    let globex = TestApp::token("globex", &[Role::Admin]);

    // Never created: accepted, as before tenants were recorded.
    assert_eq!(
        error_code(&app.gql(Some(&acme), QUERY, json!({})).await),
        None
    );
    let (ok, out) = tenant(&app, &["create", "acme", "--name", "Acme Corp"]);
    assert!(ok, "{out}");
    assert!(out.contains("tenant acme created (Acme Corp)"), "{out}");
    assert_eq!(
        error_code(&app.gql(Some(&acme), QUERY, json!({})).await),
        None
    );

    // Suspended while the service runs: the next requests are refused, with the reason.
    let (ok, out) = tenant(&app, &["suspend", "acme", "--reason", "unpaid invoice"]);
    assert!(ok, "{out}");
    let refused = until_code(&app, &acme, Some("TENANT_SUSPENDED")).await;
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("tenant acme is suspended since ")
            && message.ends_with(": unpaid invoice"),
        "{message}"
    );
    assert!(refused["data"].is_null(), "{refused}");
    // A WebSocket connection of the tenant is refused at connection_init.
    let (_socket, reply) = connect(&app, &acme).await;
    let reply = reply.unwrap_or(Value::Null);
    assert_ne!(reply["type"], "connection_ack", "{reply}");
    assert!(
        reply.to_string().contains("TENANT_SUSPENDED"),
        "the refusal names the reason: {reply}"
    );
    // Another tenant, recorded or not, is unaffected.
    assert_eq!(
        error_code(&app.gql(Some(&globex), QUERY, json!({})).await),
        None
    );
    let (ok, out) = tenant(&app, &["create", "globex"]);
    assert!(ok, "{out}");
    assert_eq!(
        error_code(&app.gql(Some(&globex), QUERY, json!({})).await),
        None
    );

    // Reactivated: accepted again, over HTTP and WebSocket.
    let (ok, out) = tenant(&app, &["reactivate", "acme"]);
    assert!(ok, "{out}");
    until_code(&app, &acme, None).await;
    let (_socket, reply) = connect(&app, &acme).await;
    assert_eq!(reply.unwrap()["type"], "connection_ack");

    // The list shows both, with status, since and reason.
    let (ok, out) = tenant(&app, &["suspend", "globex", "--reason", "abuse report"]);
    assert!(ok, "{out}");
    let (ok, out) = tenant(&app, &["list"]);
    assert!(ok, "{out}");
    let acme_line = out.lines().find(|l| l.contains("acme")).unwrap();
    assert!(
        acme_line.contains("Acme Corp") && acme_line.contains("active"),
        "{out}"
    );
    let globex_line = out.lines().find(|l| l.contains("globex")).unwrap();
    assert!(
        globex_line.contains("suspended") && globex_line.contains("abuse report"),
        "{out}"
    );
    assert!(out.contains("2 tenants"), "{out}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_suspended_tenant_loses_its_open_subscription() {
    let app = TestApp::spawn().await;
    let acme = TestApp::token("acme", &[Role::Admin]);
    assert!(tenant(&app, &["create", "acme"]).0);
    let (mut socket, reply) = connect(&app, &acme).await;
    assert_eq!(reply.unwrap()["type"], "connection_ack");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { events { type } }" } });
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();

    let (ok, out) = tenant(&app, &["suspend", "acme", "--reason", "contract ended"]);
    assert!(ok, "{out}");
    // The server closes the socket; anything before the close would be the tenant's events.
    let close = loop {
        let message = next_message(&mut socket)
            .await
            .expect("the socket is closed");
        if message.get("close").is_some() {
            break message;
        }
    };
    assert_eq!(close["close"], 4403, "{close}");
    assert_eq!(close["reason"], "TENANT_SUSPENDED", "{close}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_tenant_commands_are_refused_and_record_nothing() {
    let app = TestApp::spawn().await;
    let refused = |args: &[&str], expected: &str| {
        let (ok, out) = tenant(&app, args);
        assert!(!ok, "{args:?} succeeded: {out}");
        assert!(out.contains(expected), "{args:?}: {out}");
    };
    refused(
        &["suspend", "acme", "--reason", "x"],
        "tenant acme was never created",
    );
    refused(&["reactivate", "acme"], "tenant acme was never created");
    refused(&["create", "Acme!"], "tenant id must be");
    refused(
        &["create", "acme", "--name", "two\nlines"],
        "--name must not contain control characters",
    );
    assert_eq!(app.stream_sequence().await, 0, "nothing was recorded");

    assert!(tenant(&app, &["create", "acme"]).0);
    let after_create = app.stream_sequence().await;
    refused(
        &["create", "acme"],
        "tenant acme: the tenant already exists",
    );
    refused(
        &["reactivate", "acme"],
        "tenant acme: the tenant is not suspended",
    );
    refused(
        &["suspend", "acme", "--reason", "  "],
        "--reason must not be empty",
    );
    refused(
        &["suspend", "acme", "--reason", "nul\u{1}"],
        "--reason must not contain control characters",
    );
    let long = "r".repeat(4097);
    refused(
        &["suspend", "acme", "--reason", &long],
        "--reason must be at most 4096 characters",
    );
    assert!(tenant(&app, &["suspend", "acme", "--reason", "unpaid"]).0);
    let after_suspend = app.stream_sequence().await;
    assert_eq!(after_suspend, after_create + 1);
    refused(
        &["suspend", "acme", "--reason", "again"],
        "tenant acme: the tenant is already suspended",
    );
    assert_eq!(
        app.stream_sequence().await,
        after_suspend,
        "refusals record nothing"
    );

    // The tenant's events live in its own subject space, so its own history shows them.
    let events = app.events().await;
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| e.tenant == "acme" && e.aggregatetype == "tenant"));
    let store = app.event_store().await;
    let own = store
        .read_to_end(
            &store
                .names()
                .tenant(&domain::TenantId::parse("acme").unwrap()),
            eventlog::DeliverFrom::Start,
        )
        .await
        .unwrap()
        .count()
        .await;
    assert_eq!(own, 2, "both commits are on the tenant's own subjects");
    let replay = pursight(&app, &["replay", "--tenant", "acme"]);
    assert!(replay.status.success(), "{}", text(&replay));
    assert!(
        text(&replay).contains("TenantSuspended"),
        "{}",
        text(&replay)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_token_can_suspend_or_reactivate_a_tenant() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    for mutation in [
        "mutation { suspendTenant(tenant: \"globex\", reason: \"x\") }",
        "mutation { reactivateTenant(tenant: \"acme\") }",
    ] {
        let response = app.gql(Some(&admin), mutation, json!({})).await;
        let message = response["errors"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains("Unknown field"), "{response}");
    }
    assert_eq!(app.stream_sequence().await, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_tenants_required_a_tenant_never_created_is_refused() {
    let app = TestApp::spawn_configured(|config| config.http.require_tenants = true).await;
    let acme = TestApp::token("acme", &[Role::Admin]);
    let refused = app.gql(Some(&acme), QUERY, json!({})).await;
    assert_eq!(error_code(&refused), Some("TENANT_UNKNOWN"), "{refused}");
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("tenant acme was never created"),
        "{message}"
    );
    let (_socket, reply) = connect(&app, &acme).await;
    assert!(
        reply
            .unwrap_or(Value::Null)
            .to_string()
            .contains("TENANT_UNKNOWN"),
        "a socket of an unknown tenant is refused at connection_init"
    );
    assert!(tenant(&app, &["create", "acme"]).0);
    until_code(&app, &acme, None).await;
    app.stop().await;
}
