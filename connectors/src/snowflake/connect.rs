//! From a [`SnowflakeTarget`] to the HTTPS client of one operation: the TLS policy applied (a CA
//! file, a client certificate, `https` required unless TLS is disabled or merely preferred), the
//! connect timeout, and the classification of transport errors into the [`FailureCategory`] a
//! user acts on.
//!
//! Each operation (validate, discover, sample) builds its own client and drops it before it
//! returns; dropping a `reqwest::Client` closes its pooled keep-alive connections, which is how
//! every operation closes its connections.

use super::options::SnowflakeTarget;
use crate::options::TlsMode;
use crate::probe::{mentions_tls, ConnectionFailure};
use domain::datasource::FailureCategory;
use std::error::Error as _;
use std::time::Duration;

/// Sent on every request, as the SQL API asks clients to identify themselves.
pub(crate) const USER_AGENT: &str = concat!("pursight/", env!("CARGO_PKG_VERSION"));

/// The HTTP client of one operation on `target`; `connect_timeout` bounds each TCP + TLS
/// handshake and `max_idle` the keep-alive connections it holds (one per statement in flight).
pub(crate) async fn http_client(
    target: &SnowflakeTarget,
    connect_timeout: Duration,
    max_idle: usize,
) -> Result<reqwest::Client, ConnectionFailure> {
    let config = |message: String| ConnectionFailure::new(FailureCategory::Config, message, None);
    let plain = target.base_url.starts_with("http://");
    if plain && target.tls.mode.is_required() {
        return Err(config(format!(
            "TLS is {} for this source but its SQL API endpoint {} is plain http",
            target.tls.mode, target.base_url
        )));
    }
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(connect_timeout)
        .pool_max_idle_per_host(max_idle.max(1))
        // The SQL API never redirects; following one would send the token elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .https_only(target.tls.mode.is_required());
    if target.tls.mode != TlsMode::Disabled {
        if let Some(ca) = &target.tls.ca_file {
            let pem = read(ca, "CA certificate").await?;
            let certificate = reqwest::Certificate::from_pem(&pem)
                .map_err(|_| config(format!("the CA certificate {ca} is not PEM")))?;
            builder = builder.add_root_certificate(certificate);
        }
        if target.tls.mode == TlsMode::VerifyCa {
            builder = builder.danger_accept_invalid_hostnames(true);
        }
        match (&target.tls.cert_file, &target.tls.key_file) {
            (Some(cert), Some(key)) => {
                let mut pem = read(cert, "client certificate").await?;
                pem.push(b'\n');
                pem.extend(read(key, "client key").await?);
                let identity = reqwest::Identity::from_pem(&pem).map_err(|_| {
                    config(format!(
                        "the client certificate {cert} and key {key} are not a PEM pair"
                    ))
                })?;
                builder = builder.identity(identity);
            }
            (None, None) => {}
            _ => {
                return Err(config(
                    "a client certificate needs both ssl_cert and ssl_key".to_owned(),
                ))
            }
        }
    }
    builder
        .build()
        .map_err(|error| config(format!("cannot set up the HTTPS client: {error}")))
}

async fn read(path: &str, what: &str) -> Result<Vec<u8>, ConnectionFailure> {
    tokio::fs::read(path).await.map_err(|error| {
        ConnectionFailure::new(
            FailureCategory::Config,
            format!("cannot read the {what} {path}: {error}"),
            None,
        )
    })
}

/// The category and message of a request that got no answer. reqwest's message names the
/// URL (which carries no credential) and the I/O cause, never a body.
pub(crate) fn transport_failure(error: &reqwest::Error) -> (FailureCategory, String) {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    let category = if error.is_timeout() {
        FailureCategory::Timeout
    } else if mentions_tls(&chain) {
        FailureCategory::Tls
    } else {
        FailureCategory::Unreachable
    };
    (category, chain)
}
