//! Authentication: JWT bearer tokens carrying `sub`, `tenant` and `roles`.
//!
//! HS256 with the shared secret `PURSIGHT_JWT_SECRET` (at least 32 bytes) always; RS256 as well
//! when a public key (`PURSIGHT_JWT_PUBLIC_KEY`, a PEM file) is configured, so an identity
//! provider can sign tokens. `exp` is required, `nbf` honoured (both with jsonwebtoken's 60 s
//! leeway for clock skew); `iss` and `aud` are required and checked when `PURSIGHT_JWT_ISSUER` /
//! `PURSIGHT_JWT_AUDIENCE` are set, and ignored otherwise (an identity provider's tokens usually
//! carry an audience).

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
    /// Not before; checked when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// Shortest HS256 secret accepted: 256 bits, the size of the HMAC-SHA-256 output (RFC 7518
/// §3.2); a shorter one can be brute-forced from any token.
pub const MIN_SECRET_BYTES: usize = 32;
/// Longest `sub` accepted; it is written into every event the caller causes.
pub const MAX_SUBJECT_BYTES: usize = 256;

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
    #[error("PURSIGHT_JWT_SECRET is {0} bytes long; it must have at least 32 bytes (e.g. `export PURSIGHT_JWT_SECRET=$(openssl rand -hex 32)`)")]
    ShortSecret(usize),
}

/// Verifies bearer tokens.
#[derive(Clone)]
pub struct Authenticator {
    hs256: DecodingKey,
    rs256: Option<DecodingKey>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl Authenticator {
    /// `rsa_public_pem`: optional PEM public key for RS256 tokens.
    /// Refuses a secret shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &str, rsa_public_pem: Option<&[u8]>) -> Result<Self, AuthError> {
        check_secret(secret)?;
        let rs256 = rsa_public_pem
            .map(DecodingKey::from_rsa_pem)
            .transpose()
            .map_err(|err| {
                AuthError::Invalid(format!("RS256 public key is not a PEM RSA key: {err}"))
            })?;
        Ok(Self {
            hs256: DecodingKey::from_secret(secret.as_bytes()),
            rs256,
            issuer: None,
            audience: None,
        })
    }

    /// Requires tokens to carry `iss` equal to `issuer` (when `Some` and not empty).
    pub fn with_issuer(mut self, issuer: Option<String>) -> Self {
        self.issuer = issuer.filter(|i| !i.is_empty());
        self
    }

    /// Requires tokens to carry `audience` in `aud` (when `Some` and not empty).
    pub fn with_audience(mut self, audience: Option<String>) -> Self {
        self.audience = audience.filter(|a| !a.is_empty());
        self
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
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            // jsonwebtoken refuses every token with an `aud` unless audiences are configured;
            // without one configured, the audience is not PurSight's to check.
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
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
        if claims.sub.len() > MAX_SUBJECT_BYTES {
            return Err(AuthError::Invalid(format!(
                "the sub claim is longer than {MAX_SUBJECT_BYTES} bytes"
            )));
        }
        if claims.sub.chars().any(char::is_control) {
            return Err(AuthError::Invalid(
                "the sub claim contains control characters".into(),
            ));
        }
        Ok(Caller {
            subject: claims.sub,
            tenant,
            roles,
        })
    }
}

/// Refuses an HS256 secret shorter than [`MIN_SECRET_BYTES`].
pub fn check_secret(secret: &str) -> Result<(), AuthError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(AuthError::ShortSecret(secret.len()));
    }
    Ok(())
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
        nbf: None,
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

    const SECRET: &str = "s3cret-key-0123456789abcdef-0123456789";

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn claims(sub: &str) -> serde_json::Value {
        serde_json::json!({ "sub": sub, "tenant": "acme", "roles": ["viewer"], "exp": now() + 600, "iat": now() })
    }

    fn hs256(claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::default(),
            claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    }

    fn invalid(result: Result<Caller, AuthError>) -> String {
        match result {
            Err(AuthError::Invalid(message)) => message,
            other => panic!("expected an invalid token, got {other:?}"),
        }
    }

    #[test]
    fn tokens_round_trip_and_wrong_secrets_fail() {
        let tenant = TenantId::parse("acme").unwrap();
        let token = issue_token(SECRET, "alice", &tenant, &[Role::Admin, Role::Auditor], 60);
        let auth = Authenticator::new(SECRET, None).unwrap();
        let caller = auth
            .verify_header(Some(&format!("Bearer {token}")))
            .unwrap();
        assert_eq!(caller.tenant, tenant);
        assert_eq!(caller.roles, vec![Role::Admin, Role::Auditor]);
        let other = Authenticator::new("another-key-0123456789abcdef-01234", None).unwrap();
        assert!(matches!(other.verify(&token), Err(AuthError::Invalid(_))));
        assert!(matches!(auth.verify_header(None), Err(AuthError::Missing)));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let mut expired = claims("a");
        expired["exp"] = 1.into();
        let auth = Authenticator::new(SECRET, None).unwrap();
        assert!(invalid(auth.verify(&hs256(&expired))).contains("Expired"));
    }

    #[test]
    fn secrets_shorter_than_32_bytes_are_refused_at_start() {
        let err = Authenticator::new(&"k".repeat(31), None).err().unwrap();
        assert!(matches!(err, AuthError::ShortSecret(31)));
        assert!(err.to_string().contains("at least 32 bytes"), "{err}");
        assert!(Authenticator::new(&"k".repeat(32), None).is_ok());
    }

    #[test]
    fn tokens_not_yet_valid_are_refused() {
        let auth = Authenticator::new(SECRET, None).unwrap();
        let mut early = claims("a");
        early["nbf"] = (now() + 3600).into();
        assert!(invalid(auth.verify(&hs256(&early))).contains("ImmatureSignature"));
        early["nbf"] = (now() - 10).into();
        assert!(auth.verify(&hs256(&early)).is_ok());
    }

    #[test]
    fn subjects_with_control_characters_or_over_256_bytes_are_refused() {
        let auth = Authenticator::new(SECRET, None).unwrap();
        for sub in [
            "alice\nINFO forged log line",
            "bob\u{0}",
            "carol\u{1b}[31m",
            "dave\u{85}",
        ] {
            assert!(
                invalid(auth.verify(&hs256(&claims(sub)))).contains("control characters"),
                "{sub:?}"
            );
        }
        let long = "é".repeat(129); // 258 bytes in 129 characters
        assert!(invalid(auth.verify(&hs256(&claims(&long)))).contains("256 bytes"));
        let longest = "a".repeat(256);
        assert_eq!(
            auth.verify(&hs256(&claims(&longest))).unwrap().subject,
            longest
        );
    }

    #[test]
    fn the_issuer_is_checked_when_configured() {
        let auth = Authenticator::new(SECRET, None)
            .unwrap()
            .with_issuer(Some("https://idp.example".into()));
        let mut token = claims("a");
        assert!(invalid(auth.verify(&hs256(&token))).contains("iss"));
        token["iss"] = "https://evil.example".into();
        assert!(invalid(auth.verify(&hs256(&token))).contains("InvalidIssuer"));
        token["iss"] = "https://idp.example".into();
        assert!(auth.verify(&hs256(&token)).is_ok());
        // Not configured: any issuer.
        token["iss"] = "https://evil.example".into();
        let open = Authenticator::new(SECRET, None).unwrap();
        assert!(open.verify(&hs256(&token)).is_ok());
    }

    #[test]
    fn the_audience_is_checked_when_configured_and_ignored_otherwise() {
        let auth = Authenticator::new(SECRET, None)
            .unwrap()
            .with_audience(Some("pursight".into()));
        let mut token = claims("a");
        assert!(invalid(auth.verify(&hs256(&token))).contains("aud"));
        token["aud"] = "another-app".into();
        assert!(invalid(auth.verify(&hs256(&token))).contains("InvalidAudience"));
        token["aud"] = serde_json::json!(["another-app", "pursight"]);
        assert!(auth.verify(&hs256(&token)).is_ok());
        let open = Authenticator::new(SECRET, None).unwrap();
        token["aud"] = "another-app".into();
        assert!(open.verify(&hs256(&token)).is_ok());
    }
}

#[cfg(test)]
mod rs256_tests {
    use super::*;

    const PRIVATE: &[u8] = include_bytes!("../../tests/fixtures/rs256-test-private.pem");
    const PUBLIC: &[u8] = include_bytes!("../../tests/fixtures/rs256-test-public.pem");
    const HS_SECRET: &str = "hs-secret-0123456789abcdef-0123456789";

    fn rs256(claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            claims,
            &EncodingKey::from_rsa_pem(PRIVATE).unwrap(),
        )
        .unwrap()
    }

    fn rs256_token(tenant: &str) -> String {
        rs256(&serde_json::json!({
            "sub": "idp-user", "tenant": tenant, "roles": ["auditor"], "exp": 4_000_000_000u64, "iat": 0
        }))
    }

    #[test]
    fn rs256_tokens_are_accepted_only_with_a_configured_public_key() {
        let token = rs256_token("acme");
        let without = Authenticator::new(HS_SECRET, None).unwrap();
        assert!(
            matches!(without.verify(&token), Err(AuthError::Invalid(m)) if m.contains("no public key"))
        );
        let with = Authenticator::new(HS_SECRET, Some(PUBLIC)).unwrap();
        let caller = with.verify(&token).unwrap();
        assert_eq!(caller.subject, "idp-user");
        assert_eq!(caller.roles, vec![Role::Auditor]);
        // HS256 tokens keep working next to RS256.
        let hs = issue_token(
            HS_SECRET,
            "a",
            &TenantId::parse("acme").unwrap(),
            &[Role::Viewer],
            60,
        );
        assert!(with.verify(&hs).is_ok());
    }

    #[test]
    fn rs256_tokens_from_an_identity_provider_carry_iss_and_aud() {
        let token = rs256(&serde_json::json!({
            "sub": "idp-user", "tenant": "acme", "roles": ["viewer"], "exp": 4_000_000_000u64,
            "iat": 0, "iss": "https://idp.example", "aud": "pursight"
        }));
        // Nothing configured: the audience is not checked (jsonwebtoken alone refuses it).
        let open = Authenticator::new(HS_SECRET, Some(PUBLIC)).unwrap();
        assert_eq!(open.verify(&token).unwrap().subject, "idp-user");
        let strict = Authenticator::new(HS_SECRET, Some(PUBLIC))
            .unwrap()
            .with_issuer(Some("https://idp.example".into()))
            .with_audience(Some("pursight".into()));
        assert!(strict.verify(&token).is_ok());
        let other = Authenticator::new(HS_SECRET, Some(PUBLIC))
            .unwrap()
            .with_audience(Some("billing".into()));
        assert!(
            matches!(other.verify(&token), Err(AuthError::Invalid(m)) if m.contains("InvalidAudience"))
        );
    }

    #[test]
    fn tokens_with_unknown_roles_or_unsafe_tenants_are_refused() {
        let with = Authenticator::new(HS_SECRET, Some(PUBLIC)).unwrap();
        assert!(with.verify(&rs256_token("acme.*")).is_err());
        let claims = Claims {
            sub: "a".into(),
            tenant: "acme".into(),
            roles: vec!["root".into()],
            exp: 4_000_000_000,
            iat: 0,
            nbf: None,
        };
        let token = jsonwebtoken::encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(HS_SECRET.as_bytes()),
        )
        .unwrap();
        assert!(
            matches!(with.verify(&token), Err(AuthError::Invalid(m)) if m.contains("unknown role"))
        );
    }
}
