//! HTTP routes: GraphQL (POST), GraphiQL (GET), subscriptions over WebSocket, health, readiness
//! and metrics.

use crate::app::AppState;
use crate::auth::Caller;
use crate::graphql::AuthFailure;
use async_graphql::http::{GraphiQLSource, ALL_WEBSOCKET_PROTOCOLS};
use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use projections::ProjectionState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("PurSight GraphQL")
            .finish(),
    )
}

async fn graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let request = match state.auth.verify_header(authorization) {
        Ok(caller) => request.into_inner().data(caller),
        Err(err) => request.into_inner().data(AuthFailure(err)),
    };
    state.schema.execute(request).await.into()
}

/// graphql-transport-ws (and the legacy graphql-ws): the token comes in the `connection_init`
/// payload as `{"Authorization": "Bearer …"}` (or `authorization` / `token`), or in the upgrade
/// request's Authorization header.
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
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, schema, protocol)
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
                        .verify_header(from_payload.or(header_auth).as_deref())
                        .map_err(|err| async_graphql::Error::new(err.to_string()))?;
                    let mut data = Data::default();
                    data.insert(caller);
                    Ok(data)
                })
                .serve()
        })
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when every projection runs here or in another process (standby); otherwise 503 with
/// each projection's state and reason (a projection `retrying` a batch or its connection is not
/// ready: its read model is frozen). Parked events leave the service ready, since every other
/// event is projected, but `degraded`, with each projection's count (`pursight projections
/// parked` names them); a read-model database that does not answer is not ready.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let snapshot = state.status.snapshot();
    let parked = crate::metrics::parked_counts(&state.pool).await;
    let mut ready = !snapshot.is_empty() && parked.is_some();
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
    let degraded = parked.values().any(|count| *count > 0);
    (
        code,
        Json(
            serde_json::json!({ "ready": ready, "degraded": degraded, "projections": projections }),
        ),
    )
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let stream = state.store.last_sequence().await.ok();
    let parked = crate::metrics::parked_counts(&state.pool).await;
    let body = crate::metrics::render(&state.handler.stats(), &state.status, stream, parked);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
