//! [`validate`]: the connection test of an S3 source — credentials resolved, then one real
//! listing: the first key under the source's prefix (`ListObjectsV2`, `max-keys=1`) when it
//! names a bucket, `ListBuckets` when it does not. The round trip of that request is the
//! latency; S3 has no server version to report.

use super::connect::{Failed, Session};
use super::options::S3Target;
use crate::probe::{ConnectionFailure, ConnectionInfo};
use domain::datasource::FailureCategory;
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use std::time::{Duration, Instant};
use tracing::Instrument;

/// Lists `target`'s bucket (or its buckets) once, all within `timeout`.
///
/// Failures are classified: refused or unknown endpoint → `Unreachable`, unknown key, bad
/// signature or access denied → `Auth` (as is a secret reference that cannot be resolved),
/// certificate problems → `Tls`, no answer in time → `Timeout`, a bucket that does not exist or
/// an auth mode S3 cannot use → `Config`. The secret key never appears in a message.
///
/// ```no_run
/// # async fn example(target: connectors::s3::S3Target) {
/// use std::time::Duration;
///
/// match connectors::s3::validate(&target, Duration::from_secs(5)).await {
///     Ok(info) => println!("{} ms", info.latency_ms),
///     Err(failure) => println!("{:?}: {}", failure.category, failure.message),
/// }
/// # }
/// ```
pub async fn validate(
    target: &S3Target,
    timeout: Duration,
) -> Result<ConnectionInfo, ConnectionFailure> {
    let span = tracing::info_span!("s3.validate", target = %target);
    let test = async {
        // One real request, no retries: the test reports what the store answers now.
        let session = Session::open(target, timeout, 0).await?;
        let started = Instant::now();
        let listed = match &target.bucket {
            Some(bucket) => {
                let store = session.store(bucket)?;
                let prefix = target.prefix.as_ref().map(|p| format!("{p}/"));
                let what = format!("listing s3://{bucket}/{}", prefix.as_deref().unwrap_or(""));
                session
                    .call(&what, || {
                        store.list_paginated(
                            prefix.as_deref(),
                            PaginatedListOptions {
                                max_keys: Some(1),
                                ..PaginatedListOptions::default()
                            },
                        )
                    })
                    .await
                    .map(drop)
            }
            None => session.list_buckets().await.map(drop),
        };
        let latency = started.elapsed();
        drop(session);
        listed.map_err(|failed: Failed| failed.failure)?;
        Ok(ConnectionInfo {
            latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            server_version: None,
        })
    };
    let outcome = tokio::time::timeout(timeout, test.instrument(span.clone())).await;
    let outcome = outcome.unwrap_or_else(|_| {
        Err(ConnectionFailure::new(
            FailureCategory::Timeout,
            format!("no answer from {target} within {} ms", timeout.as_millis()),
            None,
        ))
    });
    span.in_scope(|| match &outcome {
        Ok(info) => tracing::debug!(latency_ms = info.latency_ms, "S3 connection test passed"),
        Err(failure) => tracing::debug!(
            category = ?failure.category,
            message = %failure.message,
            "S3 connection test failed"
        ),
    });
    outcome
}
