//! From an [`S3Target`] to requests: the credentials (static keys with the secret the caller
//! resolved, the environment's chain for IAM, unsigned requests without either), one
//! `object_store` client per bucket, `ListBuckets` for sources that name no bucket, and the
//! classification of failures into the [`FailureCategory`] a user acts on. Validation, discovery
//! and sampling all go through here, so a refused port or a wrong key reads the same wherever it
//! happens.
//!
//! `object_store`'s own retries are off: [`Session::call`] retries transient failures itself so
//! that discovery can count them. Each operation opens its own [`Session`] and drops it before
//! returning, which closes the HTTP connections of its clients.

use super::options::S3Target;
use crate::options::CloudAuth;
use crate::probe::{mentions_tls, ConnectionFailure};
use domain::datasource::FailureCategory;
use object_store::aws::{
    AmazonS3, AmazonS3Builder, AmazonS3ConfigKey, AwsAuthorizer, AwsCredential,
};
use object_store::client::{HttpConnector, HttpRequestBody, ReqwestConnector};
use object_store::{Certificate, ClientOptions, RetryConfig, StaticCredentialProvider};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// Environment variables of the AWS credential chain, for IAM sources. Only these are read, so
/// an `AWS_ENDPOINT` or `AWS_BUCKET` of the environment never redirects a source.
const CREDENTIAL_CHAIN_VARS: [&str; 11] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_METADATA_ENDPOINT",
    "AWS_IMDSV1_FALLBACK",
];

/// How requests are signed.
enum Credentials {
    /// No cloud identity configured: unsigned requests (public buckets, open local stores).
    Anonymous,
    /// Static keys; the secret key resolved from its reference.
    Static(Arc<AwsCredential>),
    /// The environment's credential chain (variables, web identity, container, instance role).
    Environment,
}

/// Request counters shared by the concurrent requests of one operation.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) queries: AtomicU64,
    pub(super) retries: AtomicU64,
    pub(super) errors: AtomicU64,
}

impl Tally {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn read(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// A classified failure of one request.
#[derive(Debug, Clone)]
pub(super) struct Failed {
    pub(super) failure: ConnectionFailure,
    /// Worth trying again (connection problems, timeouts, throttling, server errors).
    pub(super) transient: bool,
    /// Retries made before giving up.
    pub(super) retries: u64,
}

/// The credentials and client settings of one operation.
pub(super) struct Session {
    target: S3Target,
    credentials: Credentials,
    client: ClientOptions,
    /// Bound of one request.
    request_timeout: Duration,
    /// Retries of a transient failure.
    max_retries: u32,
    pub(super) tally: Tally,
}

impl Session {
    /// Resolves the credentials of `target` and prepares its client settings. Each request is
    /// bounded by `request_timeout` and retried at most `max_retries` times.
    pub(super) async fn open(
        target: &S3Target,
        request_timeout: Duration,
        max_retries: u32,
    ) -> Result<Session, ConnectionFailure> {
        let credentials = credentials(target)?;
        let client = client_options(target, request_timeout).await?;
        Ok(Session {
            target: target.clone(),
            credentials,
            client,
            request_timeout,
            max_retries,
            tally: Tally::default(),
        })
    }

    pub(super) fn target(&self) -> &S3Target {
        &self.target
    }

    /// The client of `bucket`.
    pub(super) fn store(&self, bucket: &str) -> Result<AmazonS3, ConnectionFailure> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&self.target.region)
            .with_client_options(self.client.clone())
            .with_retry(RetryConfig {
                max_retries: 0,
                retry_timeout: self.request_timeout,
                ..RetryConfig::default()
            });
        if let Some(endpoint) = &self.target.endpoint_url {
            builder = builder
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(!self.target.path_style);
        }
        builder = match &self.credentials {
            Credentials::Anonymous => builder.with_skip_signature(true),
            Credentials::Static(credential) => {
                builder.with_credentials(Arc::new(StaticCredentialProvider::new(AwsCredential {
                    key_id: credential.key_id.clone(),
                    secret_key: credential.secret_key.clone(),
                    token: credential.token.clone(),
                })))
            }
            Credentials::Environment => {
                let mut builder = builder;
                for var in CREDENTIAL_CHAIN_VARS {
                    if let (Ok(value), Ok(key)) = (
                        std::env::var(var),
                        var.to_ascii_lowercase().parse::<AmazonS3ConfigKey>(),
                    ) {
                        builder = builder.with_config(key, value);
                    }
                }
                builder
            }
        };
        builder.build().map_err(|error| {
            ConnectionFailure::new(
                FailureCategory::Config,
                format!("cannot set up the S3 client for {}: {error}", self.target),
                self.secret(),
            )
        })
    }

    /// The secret key, for scrubbing messages.
    pub(super) fn secret(&self) -> Option<&str> {
        match &self.credentials {
            Credentials::Static(credential) => Some(credential.secret_key.as_str()),
            _ => None,
        }
    }

    /// Runs one request (`what` names it in messages), bounded by the request timeout, retrying
    /// transient failures with a doubling pause from 200 ms, and counting all of it.
    pub(super) async fn call<T, F, Fut>(&self, what: &str, mut request: F) -> Result<T, Failed>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, object_store::Error>>,
    {
        let mut retries = 0u32;
        loop {
            Tally::bump(&self.tally.queries);
            let span = tracing::debug_span!("s3.request", what, retries);
            let answer = tokio::time::timeout(self.request_timeout, request()).instrument(span);
            let failed = match answer.await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(error)) => classify(&error, what, self.secret()),
                Err(_) => timed_out(what, self.request_timeout),
            };
            Tally::bump(&self.tally.errors);
            if !failed.transient || retries >= self.max_retries {
                return Err(Failed {
                    retries: u64::from(retries),
                    ..failed
                });
            }
            retries += 1;
            Tally::bump(&self.tally.retries);
            tracing::debug!(what, retries, "S3 request failed; trying again");
            tokio::time::sleep(Duration::from_millis(200 << (retries - 1).min(5))).await;
        }
    }

    /// The names of the buckets the credentials can see (`ListBuckets`), in name order.
    pub(super) async fn list_buckets(&self) -> Result<Vec<String>, Failed> {
        Tally::bump(&self.tally.queries);
        let span = tracing::debug_span!("s3.request", what = "listing the buckets");
        let outcome = tokio::time::timeout(self.request_timeout, self.list_buckets_once())
            .instrument(span)
            .await;
        let result = match outcome {
            Ok(result) => result,
            Err(_) => Err(timed_out("listing the buckets", self.request_timeout)),
        };
        if result.is_err() {
            Tally::bump(&self.tally.errors);
        }
        result
    }

    async fn list_buckets_once(&self) -> Result<Vec<String>, Failed> {
        let what = "listing the buckets";
        let config_failure = |message: String| Failed {
            failure: ConnectionFailure::new(FailureCategory::Config, message, self.secret()),
            transient: false,
            retries: 0,
        };
        let endpoint = self
            .target
            .endpoint_url
            .clone()
            .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", self.target.region));
        let mut request = http::Request::builder()
            .method(http::Method::GET)
            .uri(format!("{endpoint}/"))
            .body(HttpRequestBody::empty())
            .map_err(|error| config_failure(format!("invalid S3 endpoint {endpoint}: {error}")))?;
        let credential = match &self.credentials {
            Credentials::Anonymous => None,
            Credentials::Static(credential) => Some(Arc::clone(credential)),
            Credentials::Environment => {
                // Only the client's credential chain is used; the bucket name is a placeholder
                // the builder insists on.
                let store = self
                    .store("pursight-list-buckets")
                    .map_err(|failure| Failed {
                        failure,
                        transient: false,
                        retries: 0,
                    })?;
                Some(
                    store
                        .credentials()
                        .get_credential()
                        .await
                        .map_err(|error| classify(&error, what, self.secret()))?,
                )
            }
        };
        if let Some(credential) = &credential {
            AwsAuthorizer::new(credential, "s3", &self.target.region).authorize(&mut request, None);
        }
        let client = ReqwestConnector::default()
            .connect(&self.client)
            .map_err(|error| classify(&error, what, self.secret()))?;
        let response = client.execute(request).await.map_err(|error| {
            let error = object_store::Error::Generic {
                store: "S3",
                source: Box::new(error),
            };
            classify(&error, what, self.secret())
        })?;
        let status = response.status();
        let body = response.into_body().bytes().await.map_err(|error| {
            let error = object_store::Error::Generic {
                store: "S3",
                source: Box::new(error),
            };
            classify(&error, what, self.secret())
        })?;
        let body = String::from_utf8_lossy(&body);
        if !status.is_success() {
            return Err(status_failure(status.as_u16(), &body, what, self.secret()));
        }
        let mut names: Vec<String> = tag_texts(&body, "Bucket")
            .into_iter()
            .filter_map(|bucket| tag_texts(bucket, "Name").first().map(|n| (*n).to_owned()))
            .collect();
        names.sort();
        Ok(names)
    }
}

/// The credentials of `target`'s auth mode.
fn credentials(target: &S3Target) -> Result<Credentials, ConnectionFailure> {
    match &target.auth {
        CloudAuth::None => Ok(Credentials::Anonymous),
        CloudAuth::AwsIam => Ok(Credentials::Environment),
        CloudAuth::AwsStaticKeys { access_key_id, .. } => {
            // Resolved with the caller's resolver before the target was built.
            let secret = target.secret_access_key.as_ref().ok_or_else(|| {
                ConnectionFailure::new(
                    FailureCategory::Config,
                    "cloud_config.secret_access_key was not resolved for this connection",
                    None,
                )
            })?;
            Ok(Credentials::Static(Arc::new(AwsCredential {
                key_id: access_key_id.clone(),
                secret_key: secret.expose().to_owned(),
                token: None,
            })))
        }
        other => Err(ConnectionFailure::new(
            FailureCategory::Config,
            format!("an S3 source signs with AWS keys or the AWS environment, not {other}"),
            None,
        )),
    }
}

/// Timeouts, plain-HTTP permission and the CA of `target`.
async fn client_options(
    target: &S3Target,
    request_timeout: Duration,
) -> Result<ClientOptions, ConnectionFailure> {
    let config = |message: String| ConnectionFailure::new(FailureCategory::Config, message, None);
    if target.allows_http() && target.tls.mode.is_required() {
        return Err(config(format!(
            "TLS is required ({}) but the endpoint {} is plain HTTP",
            target.tls.mode,
            target.endpoint_url.as_deref().unwrap_or_default()
        )));
    }
    if target.tls.cert_file.is_some() || target.tls.key_file.is_some() {
        return Err(config(
            "client certificates (ssl_cert, ssl_key) are not supported for S3 sources".to_owned(),
        ));
    }
    let connect_timeout = if target.request_timeout.is_zero() {
        request_timeout
    } else {
        target.request_timeout.min(request_timeout)
    };
    let mut options = ClientOptions::new()
        .with_allow_http(target.allows_http())
        .with_timeout(request_timeout)
        .with_connect_timeout(connect_timeout)
        // PurSight closes its connections after every operation; none stay idle in between.
        .with_pool_idle_timeout(Duration::from_secs(5));
    if target.pool.max_connections > 0 {
        options = options.with_pool_max_idle_per_host(target.pool.max_connections as usize);
    }
    if let Some(path) = &target.tls.ca_file {
        let pem = tokio::fs::read(path)
            .await
            .map_err(|error| config(format!("cannot read the CA certificate {path}: {error}")))?;
        let certificates = Certificate::from_pem_bundle(&pem)
            .map_err(|error| config(format!("invalid CA certificate {path}: {error}")))?;
        for certificate in certificates {
            options = options.with_root_certificate(certificate);
        }
    }
    Ok(options)
}

/// A `Timeout` failure of `what` after `waited`.
pub(super) fn timed_out(what: &str, waited: Duration) -> Failed {
    Failed {
        failure: ConnectionFailure::new(
            FailureCategory::Timeout,
            format!("{what}: no answer within {} ms", waited.as_millis()),
            None,
        ),
        transient: true,
        retries: 0,
    }
}

/// The category of an `object_store` error met while doing `what`:
///
/// - 401/403 and the S3 codes of bad keys (`InvalidAccessKeyId`, `SignatureDoesNotMatch`,
///   `AccessDenied`, expired tokens), and credential-chain failures → `Auth`;
/// - 404 (no such bucket) and other refusals of the request → `Config`;
/// - refused, reset or unresolvable connections → `Unreachable` (transient), certificate and
///   handshake problems → `Tls`, timeouts → `Timeout` (transient);
/// - throttling (429, `SlowDown`) and 5xx → `Unreachable` (transient).
///
/// Messages name the S3 error code and message when the service sent one, never the body
/// otherwise, and have the secret key removed in case anything ever echoes it.
pub(super) fn classify(error: &object_store::Error, what: &str, secret: Option<&str>) -> Failed {
    use object_store::Error as E;
    let text = chain_text(error);
    let lower = text.to_ascii_lowercase();
    let status = status_code(&text);
    let code = tag_texts(&text, "Code").first().map(|c| (*c).to_owned());
    let (category, transient) = match error {
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => (FailureCategory::Auth, false),
        E::NotFound { .. } => (FailureCategory::Config, false),
        _ => {
            let http = find_source::<reqwest::Error>(error);
            let io = find_source::<std::io::Error>(error);
            if http.is_some_and(reqwest::Error::is_timeout)
                || io.is_some_and(|e| e.kind() == std::io::ErrorKind::TimedOut)
            {
                (FailureCategory::Timeout, true)
            } else if status.is_none() && code.is_none() && mentions_tls(&lower) {
                // Only without a response: a status or an S3 code means TLS worked, and a
                // service's error body (random request ids, echoed requests) can spell "ssl".
                (FailureCategory::Tls, false)
            } else if http.is_some_and(reqwest::Error::is_connect)
                || io.is_some()
                || lower.contains("error sending request")
            {
                (FailureCategory::Unreachable, true)
            } else if code.as_deref().is_some_and(is_auth_code)
                || matches!(status, Some(401 | 403))
                || lower.contains("credential")
            {
                (FailureCategory::Auth, false)
            } else if matches!(status, Some(429 | 500..=599)) || code.as_deref() == Some("SlowDown")
            {
                (FailureCategory::Unreachable, true)
            } else {
                (FailureCategory::Config, false)
            }
        }
    };
    let detail = match (&code, tag_texts(&text, "Message").first()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.clone(),
        _ => first_line(&text),
    };
    let detail = match (status, &code) {
        (Some(status), Some(_)) => format!("{detail} (HTTP {status})"),
        _ => detail,
    };
    Failed {
        failure: ConnectionFailure::new(category, format!("{what}: {detail}"), secret),
        transient,
        retries: 0,
    }
}

/// The failure of a raw request answered with `status` and `body`.
fn status_failure(status: u16, body: &str, what: &str, secret: Option<&str>) -> Failed {
    let code = tag_texts(body, "Code").first().map(|c| (*c).to_owned());
    let (category, transient) =
        if code.as_deref().is_some_and(is_auth_code) || matches!(status, 401 | 403) {
            (FailureCategory::Auth, false)
        } else if status == 429 || status >= 500 || code.as_deref() == Some("SlowDown") {
            (FailureCategory::Unreachable, true)
        } else {
            (FailureCategory::Config, false)
        };
    let detail = match (code, tag_texts(body, "Message").first()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code,
        _ => "no S3 error code".to_owned(),
    };
    Failed {
        failure: ConnectionFailure::new(
            category,
            format!("{what}: {detail} (HTTP {status})"),
            secret,
        ),
        transient,
        retries: 0,
    }
}

fn is_auth_code(code: &str) -> bool {
    matches!(
        code,
        "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "AccessDenied"
            | "ExpiredToken"
            | "InvalidToken"
            | "TokenRefreshRequired"
            | "AllAccessDisabled"
            | "AccountProblem"
    )
}

/// An error and its sources, joined by `: ` (drivers hide "connection refused" in a source).
fn chain_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    text
}

fn find_source<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<T>() {
            return Some(found);
        }
        current = error.source();
    }
    None
}

/// The HTTP status `object_store` quotes in its message (`… status code: 503 …`).
fn status_code(text: &str) -> Option<u16> {
    let at = text.find("status code: ")? + "status code: ".len();
    text.get(at..at + 3)?.parse().ok()
}

/// The texts of every `<tag>…</tag>` in `xml`, in order (S3 error and listing documents are
/// flat enough for this; names and codes hold no markup).
pub(super) fn tag_texts<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else {
            break;
        };
        out.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    out
}

/// The first line of a message, at most 300 characters.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > 300 {
        line.chars().take(300).chain(['…']).collect()
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(source: impl std::error::Error + Send + Sync + 'static) -> object_store::Error {
        object_store::Error::Generic {
            store: "S3",
            source: Box::new(source),
        }
    }

    #[test]
    fn status_errors_are_classified() {
        let denied = object_store::Error::PermissionDenied {
            path: "x".into(),
            source: "<Error><Code>InvalidAccessKeyId</Code><Message>no such key</Message></Error>"
                .into(),
        };
        let failed = classify(&denied, "listing s3://b", None);
        assert_eq!(failed.failure.category, FailureCategory::Auth);
        assert_eq!(
            failed.failure.message,
            "listing s3://b: InvalidAccessKeyId: no such key"
        );
        let missing = object_store::Error::NotFound {
            path: "x".into(),
            source: "NoSuchBucket".into(),
        };
        assert_eq!(
            classify(&missing, "x", None).failure.category,
            FailureCategory::Config
        );
        let busy = object_store::Error::Generic {
            store: "S3",
            source: "Server returned non-2xx status code: 503 Service Unavailable: \
                     <Code>SlowDown</Code>"
                .into(),
        };
        let failed = classify(&busy, "x", None);
        assert_eq!(failed.failure.category, FailureCategory::Unreachable);
        assert!(failed.transient);
        // A refused signature whose body happens to contain "ssl" and "tls" (a request id is
        // random letters) is still a credential problem: the service answered.
        let refused = object_store::Error::Generic {
            store: "S3",
            source: "Server returned non-2xx status code: 403 Forbidden: <Error>\
                     <Code>SignatureDoesNotMatch</Code><Message>bad signature</Message>\
                     <RequestId>Q7sslTLSx2</RequestId></Error>"
                .into(),
        };
        assert_eq!(
            classify(&refused, "x", None).failure.category,
            FailureCategory::Auth
        );
    }

    #[test]
    fn io_errors_are_unreachable_or_timeouts() {
        let refused = generic(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let failed = classify(&refused, "x", None);
        assert_eq!(failed.failure.category, FailureCategory::Unreachable);
        assert!(failed.transient);
        let slow = generic(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert_eq!(
            classify(&slow, "x", None).failure.category,
            FailureCategory::Timeout
        );
        let tls = generic(std::io::Error::other(
            "invalid peer certificate: UnknownIssuer",
        ));
        assert_eq!(
            classify(&tls, "x", None).failure.category,
            FailureCategory::Tls
        );
    }

    #[test]
    fn messages_never_carry_the_secret() {
        let error = generic(std::io::Error::other("signing with wJalrXUtnFEMI failed"));
        let failed = classify(&error, "x", Some("wJalrXUtnFEMI"));
        assert!(!failed.failure.message.contains("wJalrXUtnFEMI"));
        let failed = status_failure(
            403,
            "<Code>X wJalrXUtnFEMI</Code>",
            "y",
            Some("wJalrXUtnFEMI"),
        );
        assert!(!failed.failure.message.contains("wJalrXUtnFEMI"));
        assert_eq!(failed.failure.category, FailureCategory::Auth);
    }

    #[test]
    fn bucket_names_come_from_the_listing() {
        let body = "<ListAllMyBucketsResult><Owner><ID>1</ID><DisplayName>me</DisplayName></Owner>\
            <Buckets><Bucket><Name>b-two</Name><CreationDate>x</CreationDate></Bucket>\
            <Bucket><Name>b-one</Name></Bucket></Buckets></ListAllMyBucketsResult>";
        let names: Vec<&str> = tag_texts(body, "Bucket")
            .into_iter()
            .filter_map(|b| tag_texts(b, "Name").first().copied())
            .collect();
        assert_eq!(names, ["b-two", "b-one"]);
        assert_eq!(status_code("x status code: 503 Service"), Some(503));
    }
}
