//! Subscriptions over WebSocket (graphql-transport-ws) against the real service.

mod support;

use domain::access::Role;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use support::ws::{self, Socket};
use support::{postgres_source, TestApp, REGISTER};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// Subscribes to `query` without variables.
async fn subscribe(app: &TestApp, token: &str, query: &str) -> Socket {
    ws::subscribe(app, token, query, json!({})).await
}

/// The next protocol message, or None after 2 s of silence.
async fn next_json(socket: &mut Socket) -> Option<Value> {
    ws::next_json(socket, Duration::from_secs(2)).await
}

/// The `events` payload of the next `next` message.
async fn next_event(socket: &mut Socket) -> Option<Value> {
    let message = next_json(socket).await?;
    assert_eq!(message["type"], "next", "{message}");
    Some(message["payload"]["data"]["events"].clone())
}

async fn register(app: &TestApp, token: &str, name: &str) -> String {
    let response = app
        .gql(
            Some(token),
            REGISTER,
            json!({ "input": postgres_source(name) }),
        )
        .await;
    response["data"]["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn subscribers_receive_their_tenants_events_only_filtered_and_resumable() {
    let app = TestApp::spawn().await;
    let acme = TestApp::token("acme", &[Role::Admin]);
    let globex = TestApp::token("globex", &[Role::Auditor]);
    let globex_admin = TestApp::token("globex", &[Role::Admin]);
    let first = register(&app, &acme, "Acme orders").await;
    register(&app, &globex_admin, "Globex ledger").await;

    let query =
        "subscription { events(fromSequence: 1) { name tenant aggregateId sequence data } }";
    let mut acme_socket = subscribe(&app, &acme, query).await;
    let replayed = next_event(&mut acme_socket)
        .await
        .expect("replay from sequence 1");
    assert_eq!(replayed["aggregateId"], first);
    assert_eq!(replayed["tenant"], "acme");
    let mut globex_socket = subscribe(&app, &globex, query).await;
    let theirs = next_event(&mut globex_socket)
        .await
        .expect("globex's own event");
    assert_eq!(theirs["tenant"], "globex");

    let second = register(&app, &acme, "Acme billing").await;
    let live = next_event(&mut acme_socket).await.expect("live event");
    assert_eq!(live["aggregateId"], second);
    assert_eq!(live["name"], "SourceRegistered");
    assert!(
        next_event(&mut globex_socket).await.is_none(),
        "globex must not see acme's events"
    );

    // Filter by type and aggregate.
    let filtered = format!(
        "subscription {{ events(fromSequence: 1, types: [\"SourceArchived\"], aggregateId: \"{first}\") {{ name aggregateId }} }}"
    );
    let mut filtered_socket = subscribe(&app, &acme, &filtered).await;
    app.gql(
        Some(&acme),
        "mutation($id: ID!) { archiveDataSource(id: $id) { version } }",
        json!({ "id": second }),
    )
    .await;
    app.gql(
        Some(&acme),
        "mutation($id: ID!) { archiveDataSource(id: $id) { version } }",
        json!({ "id": first }),
    )
    .await;
    let archived = next_event(&mut filtered_socket)
        .await
        .expect("the archive of the first source");
    assert_eq!(
        archived,
        json!({ "name": "SourceArchived", "aggregateId": first })
    );
    assert!(next_event(&mut filtered_socket).await.is_none());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_without_a_valid_token_is_refused() {
    let app = TestApp::spawn().await;
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init =
        json!({ "type": "connection_init", "payload": { "Authorization": "Bearer forged" } });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    let reply = next_json(&mut socket).await;
    assert!(
        reply.as_ref().is_none_or(|r| r["type"] != "connection_ack"),
        "{reply:?}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_ends_when_its_token_expires() {
    let app = TestApp::spawn_configured(|config| config.oidc.leeway_secs = 0).await;
    let token = api::auth::issue_token(
        support::SECRET,
        "short-lived",
        &domain::TenantId::parse("acme").unwrap(),
        &[Role::Admin],
        3,
    );
    let mut socket = subscribe(&app, &token, "subscription { events { type } }").await;
    // Events still arrive while the token is valid.
    let admin = TestApp::token("acme", &[Role::Admin]);
    register(&app, &admin, "Before expiry").await;
    assert!(next_event(&mut socket).await.is_some());
    // Then the server closes the socket with 4401; generous bound, the token lives 3 s.
    let close = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(message) = socket.next().await {
            if let Ok(Message::Close(frame)) = message {
                return frame;
            }
        }
        None
    })
    .await
    .expect("the socket is closed once the token has expired")
    .expect("with a close frame");
    assert_eq!(u16::from(close.code), 4401);
    assert_eq!(close.reason.as_str(), "token expired");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn grants_which_name_people_reach_only_subscribers_who_manage_roles() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let steward = TestApp::token("acme", &[Role::DataSteward]);
    let granted = app
        .gql(
            Some(&admin),
            r#"mutation { grantRole(subject: "dana@acme.example", role: "auditor") { version } }"#,
            json!({}),
        )
        .await;
    assert!(granted["errors"].is_null(), "{granted}");
    let fence = register(&app, &admin, "Fence").await;
    let query = "subscription { events(fromSequence: 1) { type aggregateId data } }";
    for (token, sees_grant) in [(&admin, true), (&steward, false)] {
        let mut socket = subscribe(&app, token, query).await;
        let mut seen = Vec::new();
        while let Some(event) = next_event(&mut socket).await {
            let done = event["aggregateId"] == fence.as_str();
            seen.push(event);
            if done {
                break;
            }
        }
        assert!(
            seen.iter().any(|e| e["aggregateId"] == fence.as_str()),
            "the replay reached the fence: {seen:?}"
        );
        let grant = seen
            .iter()
            .any(|e| e["type"].as_str().unwrap().contains("RoleGranted"));
        assert_eq!(grant, sees_grant, "{seen:?}");
        assert_eq!(
            seen.iter()
                .any(|e| e.to_string().contains("dana@acme.example")),
            sees_grant
        );
    }
    app.stop().await;
}
