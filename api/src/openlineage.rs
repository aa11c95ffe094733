//! `POST /api/v1/lineage`: OpenLineage RunEvents from a tenant's pipelines (Airflow, Spark, dbt,
//! the `openlineage-python` client …), with the same bearer tokens as GraphQL.
//!
//! A request is refused before anything is recorded: 413 above the body limit, 401 without a
//! valid token, 403 without the permission to manage data sources (lineage is catalog curation,
//! as stewards do it; a producer runs with a steward's service token), 400 with
//! `{"error", "path", "problem"}` naming the JSON path of the first problem. An accepted event
//! becomes one `RunObserved` on the job's `LineageJob` aggregate, each dataset matched to a
//! discovered asset of the caller's tenant by the OpenLineage dataset naming spec ([`matcher`]),
//! or kept as an external dataset. The command id is derived from the event, so a producer that
//! retries a delivery records it once.

use crate::app::AppState;
use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use commands::CommandError;
use domain::access::Permission;
use domain::discovery::AssetPath;
use domain::lineage_job::{
    job_id, parse_run_event, DatasetRef, LineageJob, ObserveRun, ObservedDataset,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};

/// Most distinct datasets (inputs, outputs and column-lineage inputs) of one event: each is
/// matched against the catalogue.
pub const MAX_DISTINCT_DATASETS: usize = 500;

fn refused(status: StatusCode, error: &str, path: Option<&str>, problem: &str) -> Response {
    let mut body = json!({ "error": error, "problem": problem });
    if let Some(path) = path {
        body["path"] = path.into();
    }
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

/// The handler of `POST /api/v1/lineage`.
#[tracing::instrument(name = "openlineage.ingest", skip_all)]
pub async fn ingest(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = match crate::http::read_bounded(&state, &headers, body).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = match state.auth.authenticate(authorization).await {
        Ok(caller) => caller,
        Err(err) => {
            return refused(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                None,
                &err.to_string(),
            )
        }
    };
    if let Err(err) = state
        .tenants
        .check(&caller.tenant, state.http.require_tenants)
    {
        return refused(StatusCode::FORBIDDEN, err.code(), None, &err.to_string());
    }
    let caller = crate::grants::with_grants(&state.pool, caller).await;
    if !caller.allows(Permission::ManageDataSources) {
        return refused(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            None,
            &format!(
                "you are not allowed to {} (OpenLineage events need it)",
                Permission::ManageDataSources.as_str()
            ),
        );
    }
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(err) => {
            return refused(
                StatusCode::BAD_REQUEST,
                "MALFORMED_EVENT",
                Some("$"),
                &format!("not JSON: {err}"),
            )
        }
    };
    let report = match parse_run_event(&value, chrono::Utc::now()) {
        Ok(report) => report,
        Err(err) => {
            return refused(
                StatusCode::BAD_REQUEST,
                "MALFORMED_EVENT",
                Some(&err.path),
                &err.problem,
            )
        }
    };
    let datasets = report.datasets();
    if datasets.len() > MAX_DISTINCT_DATASETS {
        return refused(
            StatusCode::BAD_REQUEST,
            "MALFORMED_EVENT",
            Some("$"),
            &format!("the event names more than {MAX_DISTINCT_DATASETS} datasets"),
        );
    }
    let matched = match matcher::match_datasets(&state.pool, caller.tenant.as_str(), &datasets)
        .await
    {
        Ok(matched) => matched,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the catalogue to match OpenLineage datasets");
            return refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                None,
                "the catalogue cannot be read; retry later",
            );
        }
    };
    let job = job_id(&report.job_namespace, &report.job_name);
    let run = report.observe(|dataset| ObservedDataset {
        namespace: dataset.namespace.clone(),
        name: dataset.name.clone(),
        asset_id: matched.get(dataset).map(|(id, _)| *id),
        asset_path: matched.get(dataset).map(|(_, path)| path.clone()),
    });
    let edges = run.edges.len();
    // A redelivery of the same event (same job, same content) is the same command.
    let mut hasher = Sha256::new();
    hasher.update(b"pursight.openlineage-command.v1\n");
    hasher.update(caller.tenant.as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(job.as_uuid().as_bytes());
    hasher.update(value.to_string().as_bytes());
    let digest = hasher.finalize();
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    id[6] = (id[6] & 0x0f) | 0x80;
    id[8] = (id[8] & 0x3f) | 0x80;
    let ctx = caller.command_context(Some(uuid::Uuid::from_bytes(id)));
    match state
        .handler
        .execute::<LineageJob>(&ctx, Permission::ManageDataSources, job, ObserveRun(run))
        .await
    {
        Ok(outcome) => (
            StatusCode::CREATED,
            Json(json!({
                "jobId": job.to_string(),
                "version": outcome.version,
                "eventIds": outcome.event_ids(),
                "duplicate": outcome.duplicate,
                "edges": edges,
                "matchedDatasets": matched.len(),
                "externalDatasets": datasets.len() - matched.len(),
            })),
        )
            .into_response(),
        Err(err) => {
            let status = match &err {
                CommandError::Forbidden(_) => StatusCode::FORBIDDEN,
                CommandError::Validation(_)
                | CommandError::NotFound(_)
                | CommandError::Append(eventlog::AppendError::TooLarge { .. }) => {
                    StatusCode::BAD_REQUEST
                }
                CommandError::Rejected(_) | CommandError::Conflict { .. } => StatusCode::CONFLICT,
                CommandError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(error = %err, "recording an OpenLineage event failed");
                return refused(status, err.code(), None, "the event could not be recorded");
            }
            refused(status, err.code(), None, &err.to_string())
        }
    }
}

/// Matching OpenLineage datasets to discovered assets, following the dataset naming spec
/// (<https://openlineage.io/docs/spec/naming>); the README lists the mapping per connector.
pub mod matcher {
    use super::*;

    /// How a namespace scheme maps onto a connector: its kind and how many path segments the
    /// dataset name splits into (the last keeps any further dots).
    fn scheme_kind(scheme: &str) -> Option<(&'static str, usize)> {
        Some(match scheme {
            "postgres" | "postgresql" => ("postgresql", 3),
            "mysql" => ("mysql", 2),
            "mongodb" => ("mongodb", 2),
            "redis" => ("redis", 2),
            "snowflake" => ("snowflake", 3),
            "s3" => ("s3", 0),
            _ => return None,
        })
    }

    /// `scheme://authority[/…]` → (scheme, host, port): host lowercased, brackets of an IPv6
    /// literal removed, port `None` when absent.
    pub fn split_namespace(namespace: &str) -> Option<(String, String, Option<u16>)> {
        let (scheme, rest) = namespace.split_once("://")?;
        let authority = rest.split('/').next().unwrap_or_default();
        let authority = authority.rsplit('@').next().unwrap_or_default();
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']')?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let port = match port {
            Some(port) => Some(port.parse::<u16>().ok()?),
            None => None,
        };
        if host.is_empty() {
            return None;
        }
        Some((scheme.to_ascii_lowercase(), host.to_ascii_lowercase(), port))
    }

    fn default_port(kind: &str) -> u16 {
        match kind {
            "postgresql" => 5432,
            "mysql" => 3306,
            "mongodb" => 27017,
            "redis" => 6379,
            _ => 443,
        }
    }

    /// Whether the source `config` (the redacted configuration of the read model) is the one
    /// the namespace names.
    fn source_matches(kind: &str, config: &Value, host: &str, port: Option<u16>) -> bool {
        let config_host = config["host"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match kind {
            // The bucket is the namespace's authority; any S3 source of the tenant may hold it.
            "s3" => true,
            "snowflake" => {
                let account = config["cloud_config"]["account"]
                    .as_str()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                (!account.is_empty() && account == host)
                    || config_host == host
                    || config_host.starts_with(&format!("{host}."))
            }
            _ => {
                let config_port = config["port"]
                    .as_u64()
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(default_port(kind));
                config_host == host && port.unwrap_or(default_port(kind)) == config_port
            }
        }
    }

    /// The candidate asset paths of a dataset name in a source of `kind`.
    fn candidate_paths(kind: &str, segments: usize, host: &str, name: &str) -> Vec<AssetPath> {
        let mut out = Vec::new();
        if kind == "s3" {
            let key = name.trim_start_matches('/');
            for prefix in [key.to_owned(), format!("{}/", key.trim_end_matches('/'))] {
                if let Ok(path) = AssetPath::new([host, prefix.as_str()]) {
                    out.push(path);
                }
            }
            return out;
        }
        let parts: Vec<&str> = name.splitn(segments, '.').collect();
        if parts.len() == segments {
            if let Ok(path) = AssetPath::new(parts) {
                out.push(path);
            }
        }
        out
    }

    /// Each dataset that names a discovered, present asset of `tenant`: its id and path. Only
    /// the tenant's own non-archived sources are considered, so another tenant's assets are
    /// never reached whatever the event names.
    pub async fn match_datasets(
        pool: &sqlx::PgPool,
        tenant: &str,
        datasets: &BTreeSet<DatasetRef>,
    ) -> Result<HashMap<DatasetRef, (uuid::Uuid, String)>, sqlx::Error> {
        let sources: Vec<(uuid::Uuid, String, Value)> = sqlx::query_as(
            "SELECT id, kind, config FROM rm_data_sources.data_sources
             WHERE tenant_id = $1 AND archived_at IS NULL",
        )
        .bind(tenant)
        .fetch_all(pool)
        .await?;
        // (dataset, source, path text) candidates, looked up in one query.
        let mut candidates: Vec<(&DatasetRef, uuid::Uuid, String)> = Vec::new();
        for dataset in datasets {
            let Some((scheme, host, port)) = split_namespace(&dataset.namespace) else {
                continue;
            };
            let Some((kind, segments)) = scheme_kind(&scheme) else {
                continue;
            };
            for (source, source_kind, config) in &sources {
                if source_kind != kind || !source_matches(kind, config, &host, port) {
                    continue;
                }
                for path in candidate_paths(kind, segments, &host, &dataset.name) {
                    candidates.push((dataset, *source, path.to_string()));
                }
            }
        }
        if candidates.is_empty() {
            return Ok(HashMap::new());
        }
        let source_ids: Vec<uuid::Uuid> = candidates.iter().map(|c| c.1).collect();
        let paths: Vec<String> = candidates.iter().map(|c| c.2.clone()).collect();
        let found: Vec<(uuid::Uuid, uuid::Uuid, String)> = sqlx::query_as(
            "SELECT a.id, a.source_id, a.path
             FROM rm_catalog.assets a
             JOIN UNNEST($2::uuid[], $3::text[]) AS c(source_id, path)
               ON c.source_id = a.source_id AND c.path = a.path
             WHERE a.tenant_id = $1 AND NOT a.removed",
        )
        .bind(tenant)
        .bind(&source_ids)
        .bind(&paths)
        .fetch_all(pool)
        .await?;
        let mut out = HashMap::new();
        for (dataset, source, path) in candidates {
            if out.contains_key(dataset) {
                continue;
            }
            if let Some((id, _, path)) = found.iter().find(|(_, s, p)| *s == source && *p == path) {
                out.insert(dataset.clone(), (*id, path.clone()));
            }
        }
        Ok(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn namespaces_split_into_scheme_host_and_port() {
            assert_eq!(
                split_namespace("postgres://DB.Example:5433"),
                Some(("postgres".into(), "db.example".into(), Some(5433)))
            );
            assert_eq!(
                split_namespace("s3://raw-bucket"),
                Some(("s3".into(), "raw-bucket".into(), None))
            );
            assert_eq!(
                split_namespace("mysql://[::1]:3306"),
                Some(("mysql".into(), "::1".into(), Some(3306)))
            );
            assert_eq!(split_namespace("postgres://host:99999"), None);
            assert_eq!(split_namespace("nightly"), None);
        }

        #[test]
        fn names_split_by_the_connector_s_path_depth() {
            let paths = candidate_paths("postgresql", 3, "h", "shop.public.orders");
            assert_eq!(paths[0].segments(), ["shop", "public", "orders"]);
            assert!(candidate_paths("postgresql", 3, "h", "public.orders").is_empty());
            let paths = candidate_paths("mysql", 2, "h", "shop.order.lines");
            assert_eq!(paths[0].segments(), ["shop", "order.lines"]);
            let paths = candidate_paths("s3", 0, "raw", "events/2024");
            assert_eq!(paths[0].segments(), ["raw", "events/2024"]);
            assert_eq!(paths[1].segments(), ["raw", "events/2024/"]);
        }
    }
}
