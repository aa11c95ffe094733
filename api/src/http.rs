//! HTTP routes: GraphQL (POST), GraphiQL (GET), subscriptions over WebSocket, OpenLineage
//! ingestion (`POST /api/v1/lineage`, [`crate::openlineage`]), health, readiness and metrics.
//!
//! Request bodies are bounded before anything is parsed: a declared `Content-Length` above the
//! limit is answered 413 without reading the body, and a body without one (chunked) is read only
//! up to the limit. The GraphQL document is then bounded by the schema's
//! [`crate::graphql::limits::RequestLimits`] before validation, before the token is even looked at.

use crate::app::AppState;
use crate::auth::Caller;
use crate::graphql::AuthFailure;
use async_graphql::http::{MultipartOptions, ALL_WEBSOCKET_PROTOCOLS};
use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use projections::ProjectionState;

pub fn router(state: AppState) -> Router {
    let router = if state.http.graphiql {
        Router::new()
            .route("/graphql", get(crate::graphiql::page).post(graphql))
            .route("/graphql/assets/{file}", get(crate::graphiql::asset))
    } else {
        // Turned off: as if there were no page at all.
        Router::new().route(
            "/graphql",
            post(graphql).get(|| async { StatusCode::NOT_FOUND }),
        )
    };
    router
        .route("/graphql/ws", get(graphql_ws))
        .route("/api/v1/lineage", post(crate::openlineage::ingest))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Reads a request body within `PURSIGHT_MAX_BODY_BYTES` (see the module doc); the error is the
/// response to send. Shared by GraphQL and the OpenLineage endpoint.
pub(crate) async fn read_bounded(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<axum::body::Bytes, Response> {
    let limit = state.http.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large(limit));
    }
    // A chunked body, or one longer than it declared, stops being read at the limit.
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(bytes),
        Err(err) => {
            let over_limit = std::error::Error::source(&err)
                .is_some_and(|cause| cause.is::<http_body_util::LengthLimitError>());
            if over_limit {
                return Err(too_large(limit));
            }
            Err((
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            )
                .into_response())
        }
    }
}

async fn graphql(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let limit = state.http.max_body_bytes;
    let bytes = match read_bounded(&state, &headers, body).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let request = match async_graphql::http::receive_body(
        content_type,
        bytes.as_ref(),
        MultipartOptions::default()
            .max_file_size(limit)
            .max_num_files(0),
    )
    .await
    {
        Ok(request) => request,
        Err(err) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("not a GraphQL request: {err}"),
            )
                .into_response()
        }
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let request = match state.auth.authenticate(authorization).await {
        Ok(caller) => {
            // Checked after the token is verified: an unverified token names no tenant.
            if let Err(err) = state
                .tenants
                .check(&caller.tenant, state.http.require_tenants)
            {
                let error = crate::tenants::refusal(&err).into_server_error(Default::default());
                return GraphQLResponse::from(async_graphql::Response::from_errors(vec![error]))
                    .into_response();
            }
            request.data(crate::grants::with_grants(&state.pool, caller).await)
        }
        Err(err) => request.data(AuthFailure(err)),
    };
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}

fn too_large(limit: usize) -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than {limit} bytes (PURSIGHT_MAX_BODY_BYTES)"),
    )
        .into_response()
}

/// graphql-transport-ws (and the legacy graphql-ws): the token comes in the `connection_init`
/// payload as `{"Authorization": "Bearer …"}` (or `authorization` / `token`), or in the upgrade
/// request's Authorization header.
///
/// A subscription lives no longer than its token: when the token's `exp` (plus the configured
/// leeway) passes, the server closes the socket with code 4401 ("token expired") and the client
/// reconnects with a fresh token.
async fn graphql_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let header_auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let schema = state.schema.clone();
    let auth = state.auth.clone();
    let tenants = state.tenants.clone();
    let tenants_init = state.tenants.clone();
    let pool = state.pool.clone();
    let require_tenants = state.http.require_tenants;
    let leeway = state.auth.leeway_secs();
    upgrade
        .max_message_size(state.http.max_body_bytes)
        .max_frame_size(state.http.max_body_bytes)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            use futures::{SinkExt, StreamExt};
            let (mut sink, stream) = socket.split();
            // The GraphQL side writes into a channel; this task forwards to the socket until the
            // token expires, then closes the socket itself.
            let (tx, mut rx) = futures::channel::mpsc::channel::<Message>(16);
            let (expiry_tx, mut expiry) = tokio::sync::watch::channel(None::<u64>);
            let (tenant_tx, mut tenant) = tokio::sync::watch::channel(None::<domain::TenantId>);
            let serve = GraphQLWebSocket::new_with_pair(tx, stream, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let from_payload = ["Authorization", "authorization"]
                        .iter()
                        .find_map(|key| {
                            payload
                                .get(*key)
                                .and_then(|v| v.as_str())
                                .map(str::to_owned)
                        })
                        .or_else(|| {
                            payload
                                .get("token")
                                .and_then(|v| v.as_str())
                                .map(|t| format!("Bearer {t}"))
                        });
                    let caller: Caller = auth
                        .authenticate(from_payload.or(header_auth).as_deref())
                        .await
                        .map_err(|err| async_graphql::Error::new(err.to_string()))?;
                    tenants_init
                        .check(&caller.tenant, require_tenants)
                        .map_err(|err| {
                            async_graphql::Error::new(format!("{}: {err}", err.code()))
                        })?;
                    let _ = expiry_tx.send(Some(caller.expires_at.saturating_add(leeway)));
                    let _ = tenant_tx.send(Some(caller.tenant.clone()));
                    let caller = crate::grants::with_grants(&pool, caller).await;
                    let mut data = Data::default();
                    data.insert(caller);
                    Ok(data)
                })
                .serve();
            tokio::pin!(serve);
            let expired = async move {
                let Ok(at) = expiry
                    .wait_for(Option::is_some)
                    .await
                    .map(|v| v.unwrap_or(0))
                else {
                    // The connection ended before it was initialised.
                    return std::future::pending().await;
                };
                let wait = at.saturating_sub(crate::auth::unix_now());
                tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
            };
            tokio::pin!(expired);
            // A tenant suspended while its socket is open loses it within the registry's delay.
            let suspended = async move {
                let Ok(caller_tenant) = tenant
                    .wait_for(Option::is_some)
                    .await
                    .map(|t| t.clone().expect("waited for Some"))
                else {
                    return std::future::pending().await;
                };
                tenants.suspended(&caller_tenant).await
            };
            tokio::pin!(suspended);
            let mut serving = true;
            loop {
                tokio::select! {
                    _ = &mut serve, if serving => serving = false,
                    message = rx.next() => match message {
                        Some(message) => {
                            if sink.send(message).await.is_err() {
                                break;
                            }
                        }
                        // The GraphQL side is done and everything it wrote was sent.
                        None => break,
                    },
                    _ = &mut expired => {
                        let close = Message::Close(Some(CloseFrame {
                            code: 4401,
                            reason: "token expired".into(),
                        }));
                        let _ = sink.send(close).await;
                        break;
                    }
                    err = &mut suspended => {
                        // Close reasons are at most 123 bytes; the message holds the reason.
                        let close = Message::Close(Some(CloseFrame {
                            code: 4403,
                            reason: "TENANT_SUSPENDED".into(),
                        }));
                        tracing::info!(tenant = %err.tenant(), "closing a suspended tenant's subscription socket");
                        let _ = sink.send(close).await;
                        break;
                    }
                }
            }
        })
}

async fn healthz() -> &'static str {
    "ok"
}

/// Whether a request may see operational details: always, unless `PURSIGHT_METRICS_TOKEN` is set;
/// then only with `Authorization: Bearer <that token>` (compared in constant time).
fn may_see_details(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(expected) = state.http.metrics_token.as_deref() else {
        return true;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    subtle::ConstantTimeEq::ct_eq(given.as_bytes(), expected.as_bytes()).into()
}

/// Ready when every projection runs here or in another process (standby); otherwise 503 with
/// each projection's state and reason (a projection `retrying` a batch or its connection is not
/// ready: its read model is frozen). Parked events leave the service ready, since every other
/// event is projected, but `degraded`, with each projection's count (`pursight projections
/// parked` names them); a read-model database that does not answer is not ready. With
/// `PURSIGHT_METRICS_TOKEN` set, callers without it get the status code only.
async fn readyz(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let snapshot = state.status.snapshot();
    let parked = crate::metrics::parked_counts(&state.pool).await;
    let database_up = parked.is_some();
    let mut ready = !snapshot.is_empty() && database_up;
    let parked = parked.unwrap_or_default();
    let projections: serde_json::Map<String, serde_json::Value> = snapshot
        .iter()
        .map(|(name, status)| {
            let (label, error) = match &status.state {
                ProjectionState::Running => ("running", None),
                ProjectionState::Starting => ("starting", None),
                ProjectionState::Standby => ("standby", None),
                ProjectionState::Stopped => ("stopped", None),
                ProjectionState::Retrying { attempt, error } => {
                    ("retrying", Some(format!("attempt {attempt}: {error}")))
                }
                ProjectionState::Failed(reason) => ("failed", Some(reason.clone())),
            };
            // In standby another process projects; this one is ready to take over.
            ready &= matches!(status.state, ProjectionState::Running | ProjectionState::Standby);
            let parked = parked.get(*name).copied().unwrap_or(0);
            (
                (*name).to_owned(),
                serde_json::json!({ "state": label, "lastSequence": status.last_sequence, "error": error, "parked": parked }),
            )
        })
        .collect();
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    if !may_see_details(&state, &headers) {
        return code.into_response();
    }
    let degraded = parked.values().any(|count| *count > 0);
    let mut body =
        serde_json::json!({ "ready": ready, "degraded": degraded, "projections": projections });
    if !database_up {
        body["error"] = "the read-model database does not answer".into();
    }
    (code, Json(body)).into_response()
}

/// Prometheus text; with `PURSIGHT_METRICS_TOKEN` set, only for callers with that token.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !may_see_details(&state, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "send `Authorization: Bearer <PURSIGHT_METRICS_TOKEN>`",
        )
            .into_response();
    }
    let stream = state.store.last_sequence().await.ok();
    let parked = crate::metrics::parked_counts(&state.pool).await;
    let mut body = crate::metrics::render(&state.handler.stats(), &state.status, stream, parked);
    if let Some(compliance) = &state.compliance {
        body.push_str(&crate::compliance_worker::render_metrics(
            compliance, stream,
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
