//! What the HTTP-backed stores (Vault, AWS Secrets Manager, Azure Key Vault) share: turning
//! transport errors and error statuses into [`Failure`]s without quoting a response body, and
//! reading a JSON body without letting a parse error echo it.

use super::error::{Failure, SecretErrorKind};
use reqwest::{Response, StatusCode, Url};
use serde_json::Value;

/// The largest response body read from a secret store.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// `scheme://host:port` of a URL, for messages (never the path or query).
pub(crate) fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Parses a configured base URL (an endpoint override or `VAULT_ADDR`).
pub(crate) fn parse_base_url(raw: &str, setting: &str) -> Result<Url, Failure> {
    let url = Url::parse(raw.trim()).map_err(|_| {
        Failure::new(
            SecretErrorKind::NotConfigured,
            format!("{setting} is not a valid http(s) URL"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Failure::new(
            SecretErrorKind::NotConfigured,
            format!("{setting} is not a valid http(s) URL"),
        ));
    }
    Ok(url)
}

/// Maps a failed request (no response) to `Unreachable`.
pub(crate) fn transport(error: reqwest::Error, service: &str, url: &Url) -> Failure {
    let origin = origin(url);
    let detail = if error.is_timeout() {
        format!("{service} at {origin} did not answer in time")
    } else if error.is_connect() {
        format!("cannot connect to {service} at {origin}")
    } else {
        format!("request to {service} at {origin} failed")
    };
    // A transport error's message names the URL and the I/O cause, never a response body.
    Failure::new(SecretErrorKind::Unreachable, detail).with_source(error.without_url())
}

/// Maps an error status to a failure kind. The body is not read.
pub(crate) fn status_failure(status: StatusCode, service: &str) -> Failure {
    let kind = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => SecretErrorKind::Unauthorized,
        StatusCode::NOT_FOUND => SecretErrorKind::NotFound,
        _ => SecretErrorKind::ServiceError,
    };
    Failure::new(kind, format!("HTTP {} from {service}", status.as_u16()))
}

/// Reads a body of at most [`MAX_BODY_BYTES`] as JSON. Parse errors are reported by position
/// only (serde_json's messages do not quote input, and this one is written here anyway).
pub(crate) async fn json_body(
    response: Response,
    service: &str,
    url: &Url,
) -> Result<Value, Failure> {
    if response
        .content_length()
        .is_some_and(|length| length > MAX_BODY_BYTES as u64)
    {
        return Err(Failure::new(
            SecretErrorKind::MalformedResponse,
            format!("{service} answered with a body larger than {MAX_BODY_BYTES} bytes"),
        ));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|error| transport(error, service, url))?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Failure::new(
            SecretErrorKind::MalformedResponse,
            format!("{service} answered with a body larger than {MAX_BODY_BYTES} bytes"),
        ));
    }
    serde_json::from_slice(&bytes).map_err(|error| {
        Failure::new(
            SecretErrorKind::MalformedResponse,
            format!(
                "{service} answered with a body that is not JSON (line {}, column {})",
                error.line(),
                error.column()
            ),
        )
    })
}

/// An identifier taken from an error body (an AWS error code, an OAuth error code), kept only if
/// it looks like one, so free text from the body cannot slip into a message.
pub(crate) fn identifier(raw: &str) -> Option<&str> {
    let raw = raw.trim();
    (!raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.'))
    .then_some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_words_only() {
        assert_eq!(
            identifier("ResourceNotFoundException"),
            Some("ResourceNotFoundException")
        );
        assert_eq!(identifier("invalid_client"), Some("invalid_client"));
        assert_eq!(identifier("the password is hunter2"), None);
        assert_eq!(identifier(""), None);
        assert_eq!(identifier(&"a".repeat(65)), None);
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(
            status_failure(StatusCode::FORBIDDEN, "Vault").kind,
            SecretErrorKind::Unauthorized
        );
        assert_eq!(
            status_failure(StatusCode::NOT_FOUND, "Vault").kind,
            SecretErrorKind::NotFound
        );
        let sealed = status_failure(StatusCode::SERVICE_UNAVAILABLE, "Vault");
        assert_eq!(sealed.kind, SecretErrorKind::ServiceError);
        assert_eq!(sealed.detail, "HTTP 503 from Vault");
    }

    #[test]
    fn base_urls_must_be_http() {
        assert!(parse_base_url("http://127.0.0.1:8200", "VAULT_ADDR").is_ok());
        let error = parse_base_url("vault.internal:8200", "VAULT_ADDR").unwrap_err();
        assert_eq!(error.kind, SecretErrorKind::NotConfigured);
        assert!(parse_base_url("ftp://x", "VAULT_ADDR").is_err());
    }
}
