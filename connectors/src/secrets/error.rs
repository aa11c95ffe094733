//! [`SecretError`]: why a secret reference could not be resolved.
//!
//! A message names the reference (redacted with [`SecretRef::redacted`], so a Fernet token never
//! shows), the scheme, the [`SecretErrorKind`] and a short detail written by this crate. It never
//! carries the secret or any part of a store's response body: bodies are parsed for the fields
//! PurSight needs and otherwise dropped, and only identifiers (HTTP status, AWS error codes, OAuth
//! error codes) are quoted.

use domain::datasource::{SecretRef, SecretScheme};
use std::error::Error as StdError;
use std::fmt;

/// What went wrong, coarse enough to decide on (retry, ask for new credentials, fix the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretErrorKind {
    /// The resolver lacks what this scheme needs (`VAULT_ADDR`, `PURSIGHT_FERNET_KEY`, a region…).
    NotConfigured,
    /// The reference cannot be turned into a request (e.g. a Vault path without a mount).
    InvalidReference,
    /// The variable, file, secret or field does not exist (or is empty).
    NotFound,
    /// The store refused the credentials PurSight presented.
    Unauthorized,
    /// The store could not be reached, timed out, or the file could not be read.
    Unreachable,
    /// The store answered with something that is not the documented response.
    MalformedResponse,
    /// A `fernet:` token does not decrypt with the configured key.
    WrongFernetKey,
    /// The store answered with an error status not covered above (e.g. Vault sealed, HTTP 503).
    ServiceError,
    /// The reference points outside what the server's [`SecretPolicy`](domain::datasource::SecretPolicy)
    /// allows this tenant; nothing was looked up.
    NotAllowed,
}

impl SecretErrorKind {
    /// A short phrase for messages.
    pub fn as_str(&self) -> &'static str {
        match self {
            SecretErrorKind::NotConfigured => "not configured",
            SecretErrorKind::InvalidReference => "invalid reference",
            SecretErrorKind::NotFound => "not found",
            SecretErrorKind::Unauthorized => "unauthorized",
            SecretErrorKind::Unreachable => "unreachable",
            SecretErrorKind::MalformedResponse => "malformed response",
            SecretErrorKind::WrongFernetKey => "wrong fernet key",
            SecretErrorKind::ServiceError => "service error",
            SecretErrorKind::NotAllowed => "not allowed",
        }
    }
}

impl fmt::Display for SecretErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secret reference that could not be resolved.
///
/// `Display` reads `cannot resolve secret vault:secret/pg#password (vault): not found: …`.
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve secret {reference} ({scheme}): {kind}: {detail}", scheme = .scheme.prefix())]
pub struct SecretError {
    reference: String,
    scheme: SecretScheme,
    kind: SecretErrorKind,
    detail: String,
    /// Transport errors only (never a body parse error, which could quote the body).
    #[source]
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl SecretError {
    /// The reference as shown to people (`fernet:***` for Fernet tokens).
    pub fn reference(&self) -> &str {
        &self.reference
    }

    pub fn scheme(&self) -> SecretScheme {
        self.scheme
    }

    pub fn kind(&self) -> SecretErrorKind {
        self.kind
    }

    /// The reason without the reference, e.g. `HTTP 404 from Vault`.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// A failure inside one store, before the reference is attached.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: SecretErrorKind,
    pub(crate) detail: String,
    pub(crate) source: Option<Box<dyn StdError + Send + Sync>>,
}

impl Failure {
    pub(crate) fn new(kind: SecretErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub(crate) fn into_error(self, secret: &SecretRef) -> SecretError {
        SecretError {
            reference: secret.redacted(),
            scheme: secret.scheme(),
            kind: self.kind,
            detail: self.detail,
            source: self.source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_reference_scheme_kind_and_detail() {
        let secret = SecretRef::parse("vault:secret/pg#password").unwrap();
        let error =
            Failure::new(SecretErrorKind::NotFound, "HTTP 404 from Vault").into_error(&secret);
        assert_eq!(
            error.to_string(),
            "cannot resolve secret vault:secret/pg#password (vault): not found: HTTP 404 from Vault"
        );
        assert_eq!(error.kind(), SecretErrorKind::NotFound);
        assert_eq!(error.scheme(), SecretScheme::Vault);
    }

    #[test]
    fn fernet_tokens_are_redacted_in_the_message() {
        let secret = SecretRef::parse("fernet:gAAAAABlCIPHERTEXT").unwrap();
        let error =
            Failure::new(SecretErrorKind::WrongFernetKey, "does not decrypt").into_error(&secret);
        assert!(error.to_string().contains("fernet:***"));
        assert!(!error.to_string().contains("CIPHERTEXT"));
        assert!(!format!("{error:?}").contains("CIPHERTEXT"));
    }
}
