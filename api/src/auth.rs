//! Authentication: JWT bearer tokens carrying `sub`, `tenant` and `roles`.
//!
//! HS256 with the shared secret `PURSIGHT_JWT_SECRET` always; RS256 as well when a public key
//! (`PURSIGHT_JWT_PUBLIC_KEY`, a PEM file) is configured, so an identity provider can sign tokens.

use domain::access::Role;
use domain::TenantId;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// The claims PurSight reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub tenant: String,
    pub roles: Vec<String>,
    pub exp: u64,
    pub iat: u64,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub subject: String,
    pub tenant: TenantId,
    pub roles: Vec<Role>,
}

/// Why a token was refused. Messages never echo the token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    #[error(
        "missing bearer token: send `Authorization: Bearer <JWT>` (get one with `pursight token`)"
    )]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// Verifies bearer tokens.
#[derive(Clone)]
pub struct Authenticator {
    hs256: DecodingKey,
    rs256: Option<DecodingKey>,
}

impl Authenticator {
    /// `rsa_public_pem`: optional PEM public key for RS256 tokens.
    pub fn new(secret: &str, rsa_public_pem: Option<&[u8]>) -> Result<Self, AuthError> {
        let rs256 = rsa_public_pem
            .map(DecodingKey::from_rsa_pem)
            .transpose()
            .map_err(|err| {
                AuthError::Invalid(format!("RS256 public key is not a PEM RSA key: {err}"))
            })?;
        Ok(Self {
            hs256: DecodingKey::from_secret(secret.as_bytes()),
            rs256,
        })
    }

    /// Verifies an `Authorization` header value.
    pub fn verify_header(&self, header: Option<&str>) -> Result<Caller, AuthError> {
        let header = header.ok_or(AuthError::Missing)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(AuthError::Missing)?;
        self.verify(token.trim())
    }

    /// Verifies a bare token.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AuthError::Invalid("not a JWT".into()))?;
        let key = match header.alg {
            Algorithm::HS256 => &self.hs256,
            Algorithm::RS256 => self.rs256.as_ref().ok_or_else(|| {
                AuthError::Invalid("RS256 tokens are not accepted: no public key configured".into())
            })?,
            other => {
                return Err(AuthError::Invalid(format!(
                    "algorithm {other:?} is not accepted"
                )))
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|err| AuthError::Invalid(err.to_string()))?
            .claims;
        let tenant =
            TenantId::parse(&claims.tenant).map_err(|err| AuthError::Invalid(err.to_string()))?;
        let roles = claims
            .roles
            .iter()
            .map(|r| r.parse::<Role>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(AuthError::Invalid)?;
        if claims.sub.trim().is_empty() {
            return Err(AuthError::Invalid("empty sub claim".into()));
        }
        Ok(Caller {
            subject: claims.sub,
            tenant,
            roles,
        })
    }
}

/// Issues an HS256 token (for `pursight token`, the demo and tests).
pub fn issue_token(
    secret: &str,
    subject: &str,
    tenant: &TenantId,
    roles: &[Role],
    ttl_secs: u64,
) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let claims = Claims {
        sub: subject.to_owned(),
        tenant: tenant.to_string(),
        roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
        exp: now + ttl_secs,
        iat: now,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 encoding cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_wrong_secrets_fail() {
        let tenant = TenantId::parse("acme").unwrap();
        let token = issue_token(
            "s3cret-key",
            "alice",
            &tenant,
            &[Role::Admin, Role::Auditor],
            60,
        );
        let auth = Authenticator::new("s3cret-key", None).unwrap();
        let caller = auth
            .verify_header(Some(&format!("Bearer {token}")))
            .unwrap();
        assert_eq!(caller.tenant, tenant);
        assert_eq!(caller.roles, vec![Role::Admin, Role::Auditor]);
        let other = Authenticator::new("another-key", None).unwrap();
        assert!(matches!(other.verify(&token), Err(AuthError::Invalid(_))));
        assert!(matches!(auth.verify_header(None), Err(AuthError::Missing)));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let claims = Claims {
            sub: "a".into(),
            tenant: "acme".into(),
            roles: vec![],
            exp: 1,
            iat: 0,
        };
        let token =
            jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(b"k"))
                .unwrap();
        assert!(Authenticator::new("k", None)
            .unwrap()
            .verify(&token)
            .is_err());
    }
}

#[cfg(test)]
mod rs256_tests {
    use super::*;

    const PRIVATE: &[u8] = include_bytes!("../../tests/fixtures/rs256-test-private.pem");
    const PUBLIC: &[u8] = include_bytes!("../../tests/fixtures/rs256-test-public.pem");

    fn rs256_token(tenant: &str) -> String {
        let claims = Claims {
            sub: "idp-user".into(),
            tenant: tenant.into(),
            roles: vec!["auditor".into()],
            exp: 4_000_000_000,
            iat: 0,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            &claims,
            &EncodingKey::from_rsa_pem(PRIVATE).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn rs256_tokens_are_accepted_only_with_a_configured_public_key() {
        let token = rs256_token("acme");
        let without = Authenticator::new("hs-secret", None).unwrap();
        assert!(
            matches!(without.verify(&token), Err(AuthError::Invalid(m)) if m.contains("no public key"))
        );
        let with = Authenticator::new("hs-secret", Some(PUBLIC)).unwrap();
        let caller = with.verify(&token).unwrap();
        assert_eq!(caller.subject, "idp-user");
        assert_eq!(caller.roles, vec![Role::Auditor]);
        // HS256 tokens keep working next to RS256.
        let hs = issue_token(
            "hs-secret",
            "a",
            &TenantId::parse("acme").unwrap(),
            &[Role::Viewer],
            60,
        );
        assert!(with.verify(&hs).is_ok());
    }

    #[test]
    fn tokens_with_unknown_roles_or_unsafe_tenants_are_refused() {
        let with = Authenticator::new("hs-secret", Some(PUBLIC)).unwrap();
        assert!(with.verify(&rs256_token("acme.*")).is_err());
        let claims = Claims {
            sub: "a".into(),
            tenant: "acme".into(),
            roles: vec!["root".into()],
            exp: 4_000_000_000,
            iat: 0,
        };
        let token = jsonwebtoken::encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(b"hs-secret"),
        )
        .unwrap();
        assert!(
            matches!(with.verify(&token), Err(AuthError::Invalid(m)) if m.contains("unknown role"))
        );
    }
}
