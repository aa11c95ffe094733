//! What every connector reports when it is asked to connect, to report its health or to
//! discover: the shared vocabulary between the engine folders and the command layer.

use domain::datasource::{FailureCategory, ServerFigures};
use domain::discovery::{AssetSchema, LineageEdge};
use domain::scan::{ScanMetrics, ScanScope, ScanStrategy};
use std::time::Duration;

/// A successful connection test.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionInfo {
    /// Round trip of the ping / `SELECT 1`, in milliseconds.
    pub latency_ms: u64,
    /// The server's own version string, when the protocol tells it.
    pub server_version: Option<String>,
}

/// A successful health probe: the connection test's round trip, plus what the server says about
/// itself where the engine exposes it (`None` where it does not, or where the user may not ask).
#[derive(Debug, Clone, PartialEq)]
pub struct HealthProbe {
    /// Round trip of the trivial query (`SELECT 1`, `PING`), without the connection set-up.
    pub latency: Duration,
    pub server_version: Option<String>,
    /// Client connections open on the server (every database and client, not only PurSight's):
    /// what competes for `max_connections`.
    pub active_connections: Option<u64>,
    /// The server's connection limit.
    pub max_connections: Option<u64>,
    /// The size of the source's database (PostgreSQL, MySQL) or the memory in use (Redis).
    pub storage_bytes: Option<u64>,
    /// Seconds since the server started.
    pub server_uptime_secs: Option<u64>,
}

impl HealthProbe {
    /// A probe of an engine that only tells its round trip and version.
    pub fn from_connection(info: ConnectionInfo) -> Self {
        Self {
            latency: Duration::from_millis(info.latency_ms),
            server_version: info.server_version,
            active_connections: None,
            max_connections: None,
            storage_bytes: None,
            server_uptime_secs: None,
        }
    }

    /// The round trip in whole microseconds.
    pub fn latency_us(&self) -> u64 {
        u64::try_from(self.latency.as_micros()).unwrap_or(u64::MAX)
    }

    /// The server's figures, as the domain's health assessment takes them.
    pub fn figures(&self) -> ServerFigures {
        ServerFigures {
            server_version: self.server_version.clone(),
            active_connections: self.active_connections,
            max_connections: self.max_connections,
            storage_bytes: self.storage_bytes,
            server_uptime_secs: self.server_uptime_secs,
        }
    }
}

/// A failed connection test, classified so users know where to look. The message never holds
/// a secret (drivers' messages are passed through [`ConnectionFailure::new`], which removes the
/// password if a driver echoes it).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{category:?}: {message}")]
pub struct ConnectionFailure {
    pub category: FailureCategory,
    pub message: String,
}

impl ConnectionFailure {
    /// A failure whose message has every occurrence of `secret`, in every encoding a driver
    /// may have put it in, replaced by `***` ([`redact_secret`]).
    pub fn new(
        category: FailureCategory,
        message: impl Into<String>,
        secret: Option<&str>,
    ) -> Self {
        Self {
            category,
            message: redact_secret(message.into(), secret),
        }
    }
}

/// `message` with `secret` replaced by `***` as it is, and as drivers and servers may have
/// re-encoded it before quoting it back: percent-encoded (a connection URI, with `+` or `%20`
/// for spaces), JSON-escaped, Base64 (standard and URL-safe, padded or not: HTTP Basic and SASL
/// exchanges) and hex. Failure messages are recorded in events, which are never rewritten, so a
/// password must not slip through in any spelling.
pub fn redact_secret(message: String, secret: Option<&str>) -> String {
    use base64::Engine;
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return message;
    };
    let percent = percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    let json = serde_json::to_string(secret).unwrap_or_default();
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let mut spellings = vec![
        secret.to_owned(),
        percent.clone(),
        percent.to_ascii_lowercase(),
        percent.replace("%20", "+"),
        json.trim_matches('"').to_owned(),
        hex::encode(secret),
        hex::encode_upper(secret),
    ];
    spellings.extend(engines.iter().map(|engine| engine.encode(secret)));
    // Longest first, so a spelling that contains another is replaced whole.
    spellings.sort_by_key(|spelling| std::cmp::Reverse(spelling.len()));
    spellings.dedup();
    spellings
        .iter()
        // Very short secrets re-encode to common text; the raw form is still replaced.
        .filter(|spelling| spelling.as_str() == secret || spelling.len() >= 4)
        .fold(message, |message, spelling| {
            message.replace(spelling.as_str(), "***")
        })
}

#[cfg(test)]
mod redaction_tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn passwords_are_redacted_in_every_encoding() {
        let password = "p@ss w/rd:\"é";
        let encodings = [
            password.to_owned(),
            percent_encoding::utf8_percent_encode(password, percent_encoding::NON_ALPHANUMERIC)
                .to_string(),
            "p%40ss+w%2Frd%3A%22%C3%A9".to_owned(),
            serde_json::to_string(password).unwrap(),
            base64::engine::general_purpose::STANDARD.encode(password),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(password),
            hex::encode(password),
        ];
        for encoded in encodings {
            let message = format!("login failed for postgres://u:{encoded}@db/x (auth)");
            let redacted = redact_secret(message.clone(), Some(password));
            assert!(
                !redacted.contains(&encoded.trim_matches('"').to_owned()),
                "{redacted}"
            );
            assert!(redacted.contains("***"), "{redacted}");
            assert!(
                redacted.starts_with("login failed for postgres://u:"),
                "{redacted}"
            );
        }
        let failure = ConnectionFailure::new(
            FailureCategory::Auth,
            format!("bad password {}", hex::encode(password)),
            Some(password),
        );
        assert_eq!(failure.message, "bad password ***");
        assert_eq!(redact_secret("nothing".into(), None), "nothing");
    }
}

/// Whether a driver's error text reads like a TLS problem: a certificate, a handshake, or the
/// TLS library naming itself (`rustls`, OpenSSL), in any case.
///
/// Only meaningful for failures the server did not answer: a server's own message (an S3 error
/// body with a random request id, a command error quoting its input) can spell these words by
/// chance, so callers rule out answered requests before asking.
pub fn mentions_tls(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["certificate", "handshake", "tls", "ssl"]
        .iter()
        .any(|word| lower.contains(word))
}

/// How a discovery runs.
#[derive(Debug, Clone)]
pub struct DiscoveryOptions {
    pub scope: ScanScope,
    pub strategy: ScanStrategy,
    /// Upper bound for one catalog query.
    pub query_timeout: Duration,
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        Self {
            scope: ScanScope::everything(),
            strategy: ScanStrategy::Auto,
            query_timeout: Duration::from_secs(30),
        }
    }
}

/// Progress of a discovery, reported as it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveryProgress {
    pub assets_done: u64,
    pub assets_total: Option<u64>,
    pub current_strategy: ScanStrategy,
}

/// Everything one discovery found in scope.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// Every asset in scope (schemas, tables, views, …), each with its full schema.
    pub assets: Vec<AssetSchema>,
    /// Lineage found in the schemas: foreign keys and view definitions.
    pub lineage: Vec<LineageEdge>,
    /// Counters of the run (`duration_ms`, asset counts, queries, retries, errors, cache hits).
    pub metrics: ScanMetrics,
}

/// Why a discovery could not finish.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DiscoveryError {
    #[error("cannot connect: {0}")]
    Connection(#[from] ConnectionFailure),
    #[error("catalog query failed after {retries} retries: {message}")]
    Query { message: String, retries: u64 },
    #[error("{0}")]
    Unsupported(String),
}

/// Sampled values of one asset's columns, for classification. The caller profiles them into
/// statistics at once and drops them: sampled values are never stored, logged or returned.
#[derive(Debug, Clone, Default)]
pub struct AssetSample {
    /// Rows (documents, objects' records, keys) sampled.
    pub rows: u32,
    /// One entry per column or field of the asset's schema that could be read, in schema order;
    /// each holds exactly `rows` values, `None` for NULL or absent.
    pub columns: Vec<ColumnSample>,
}

/// The sampled values of one column, rendered as text (dates ISO 8601, numbers as written,
/// binary as lowercase hex, JSON as compact JSON).
#[derive(Debug, Clone, Default)]
pub struct ColumnSample {
    pub column: String,
    pub values: Vec<Option<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_words_are_found_in_any_case_and_nothing_else_is() {
        for text in [
            "invalid peer certificate: UnknownIssuer",
            "TLS handshake eof",
            "received fatal alert: HandshakeFailure",
            "rustls::Error(InvalidMessage)",
            "SSL routines::wrong version number",
        ] {
            assert!(mentions_tls(text), "{text}");
        }
        for text in ["connection refused", "timed out", "no route to host", ""] {
            assert!(!mentions_tls(text), "{text}");
        }
    }
}
