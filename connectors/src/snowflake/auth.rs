//! How requests to the SQL API authenticate: the `Authorization: Bearer …` token and the
//! `X-Snowflake-Authorization-Token-Type` that names it, from the target's credential.
//!
//! - Key pair (`KEYPAIR_JWT`): the secret is the user's RSA private key in PEM. Each operation
//!   signs a JWT with it (RS256; `iss` = `ACCOUNT.USER.SHA256:<fingerprint>`, `sub` =
//!   `ACCOUNT.USER`, one hour of validity), where the fingerprint is the base64 SHA-256 of the
//!   public key's DER `SubjectPublicKeyInfo` — what Snowflake shows as `RSA_PUBLIC_KEY_FP`. The
//!   token is signed again when it nears its expiry, so a long discovery never sends a stale one.
//! - OAuth (`OAUTH`): the secret is the access token itself, sent as it is.
//!
//! Nothing here can print a key or a token: [`Credentials`] has a hand-written `Debug`, and
//! errors say what is wrong with a key, never what it holds.

use super::options::{SnowflakeAuthenticator, SnowflakeTarget};
use crate::probe::ConnectionFailure;
use crate::secrets::SecretValue;
use base64::Engine as _;
use domain::datasource::FailureCategory;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a signed JWT is valid (Snowflake accepts at most one hour).
const JWT_LIFETIME: Duration = Duration::from_secs(3600);
/// A JWT this close to its expiry is signed again before it is sent.
const JWT_RENEW_BEFORE: Duration = Duration::from_secs(300);

/// The credential of one operation, ready to put on requests.
pub(crate) struct Credentials {
    kind: Kind,
}

enum Kind {
    KeyPair {
        key: EncodingKey,
        /// `ACCOUNT.USER`.
        subject: String,
        /// `ACCOUNT.USER.SHA256:<fingerprint>`.
        issuer: String,
        /// The token last signed and when it expires (seconds since the epoch).
        signed: Mutex<Option<(SecretValue, u64)>>,
    },
    OAuth(SecretValue),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::KeyPair { issuer, .. } => f
                .debug_struct("Credentials::KeyPair")
                .field("issuer", issuer)
                .finish_non_exhaustive(),
            Kind::OAuth(_) => f.write_str("Credentials::OAuth(***)"),
        }
    }
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    iat: u64,
    exp: u64,
}

impl Credentials {
    /// The credential `target` is configured with. A missing user or secret, or a private key
    /// that cannot be read, is an `Auth` failure: the user has to fix the credential.
    pub(crate) fn of(target: &SnowflakeTarget) -> Result<Self, ConnectionFailure> {
        let auth_failure =
            |message: &str| ConnectionFailure::new(FailureCategory::Auth, message, None);
        let secret = target.password.as_ref().ok_or_else(|| {
            auth_failure(match target.authenticator {
                SnowflakeAuthenticator::KeyPair => {
                    "a snowflake source needs its user's private key (PEM) in password_secret"
                }
                SnowflakeAuthenticator::OAuth => {
                    "a snowflake source with authenticator=oauth needs an OAuth access token in \
                     password_secret"
                }
            })
        })?;
        let kind = match target.authenticator {
            SnowflakeAuthenticator::OAuth => Kind::OAuth(secret.clone()),
            SnowflakeAuthenticator::KeyPair => {
                let user = target
                    .user
                    .as_deref()
                    .filter(|u| !u.is_empty())
                    .ok_or_else(|| {
                        auth_failure("key-pair authentication needs the snowflake user in username")
                    })?;
                let (key, fingerprint) =
                    read_private_key(secret.expose()).map_err(|message| auth_failure(&message))?;
                let subject = format!(
                    "{}.{}",
                    account_for_jwt(&target.account),
                    user.to_uppercase()
                );
                let issuer = format!("{subject}.{fingerprint}");
                Kind::KeyPair {
                    key,
                    subject,
                    issuer,
                    signed: Mutex::new(None),
                }
            }
        };
        Ok(Self { kind })
    }

    /// The value of `X-Snowflake-Authorization-Token-Type`.
    pub(crate) fn token_type(&self) -> &'static str {
        match self.kind {
            Kind::KeyPair { .. } => "KEYPAIR_JWT",
            Kind::OAuth(_) => "OAUTH",
        }
    }

    /// The bearer token for the next request.
    pub(crate) fn bearer(&self) -> Result<SecretValue, ConnectionFailure> {
        match &self.kind {
            Kind::OAuth(token) => Ok(token.clone()),
            Kind::KeyPair {
                key,
                subject,
                issuer,
                signed,
            } => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs();
                let mut signed = signed.lock().unwrap_or_else(|p| p.into_inner());
                if let Some((token, expires)) = signed.as_ref() {
                    if now + JWT_RENEW_BEFORE.as_secs() < *expires {
                        return Ok(token.clone());
                    }
                }
                let claims = Claims {
                    iss: issuer,
                    sub: subject,
                    iat: now,
                    exp: now + JWT_LIFETIME.as_secs(),
                };
                let token = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, key)
                    .map(SecretValue::new)
                    .map_err(|error| {
                        // jsonwebtoken's errors name the failure kind, never key material.
                        ConnectionFailure::new(
                            FailureCategory::Auth,
                            format!("cannot sign the key-pair JWT: {error}"),
                            None,
                        )
                    })?;
                *signed = Some((token.clone(), claims.exp));
                Ok(token)
            }
        }
    }

    /// The OAuth token, for scrubbing messages (a JWT is never echoed and changes anyway).
    pub(crate) fn scrub(&self) -> Option<&str> {
        match &self.kind {
            Kind::OAuth(token) => Some(token.expose()),
            Kind::KeyPair { .. } => None,
        }
    }
}

/// The signing key and the `SHA256:<base64>` fingerprint of its public key, from a PEM private
/// key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`). The error says which rule the text
/// broke and never quotes it.
fn read_private_key(pem: &str) -> Result<(EncodingKey, String), String> {
    let pem = pem.trim();
    if pem.contains("ENCRYPTED PRIVATE KEY") {
        return Err(
            "the private key in password_secret is encrypted; store it unencrypted \
                    (PKCS#8) in the secret store, which protects it instead"
                .to_owned(),
        );
    }
    let private = RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| {
            "the secret in password_secret is not an RSA private key in PEM (PKCS#8 or PKCS#1)"
                .to_owned()
        })?;
    let public = private
        .to_public_key()
        .to_public_key_der()
        .map_err(|_| "cannot derive the public key of the private key".to_owned())?;
    let fingerprint = format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(public.as_bytes()))
    );
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| {
        "the private key in password_secret cannot be used for RS256 signatures".to_owned()
    })?;
    Ok((key, fingerprint))
}

/// The account as the JWT names it: upper case, without the region and cloud of a locator
/// (`xy12345.eu-west-1` → `XY12345`); for a global URL (`acct-xyz.global`) the part before `-`.
/// This is what Snowflake's own drivers send.
fn account_for_jwt(account: &str) -> String {
    let account = if account.contains(".global") {
        account.split('-').next().unwrap_or(account)
    } else {
        account.split('.').next().unwrap_or(account)
    };
    account.to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jwt_account_drops_region_and_cloud() {
        assert_eq!(account_for_jwt("xy12345.eu-west-1"), "XY12345");
        assert_eq!(account_for_jwt("myorg-analytics"), "MYORG-ANALYTICS");
        assert_eq!(account_for_jwt("xy12345-abc.global"), "XY12345");
    }

    #[test]
    fn unreadable_keys_are_refused_without_being_quoted() {
        let garbage = "-----BEGIN PRIVATE KEY-----\nTOPSECRETxx\n-----END PRIVATE KEY-----";
        let message = read_private_key(garbage).err().unwrap();
        assert!(!message.contains("TOPSECRET"), "{message}");
        let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nTOPSECRET\n-----END ENCRYPTED \
                         PRIVATE KEY-----";
        let message = read_private_key(encrypted).err().unwrap();
        assert!(message.contains("encrypted"), "{message}");
        assert!(!message.contains("TOPSECRET"), "{message}");
    }
}
