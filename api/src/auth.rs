//! Authentication: JWT bearer tokens carrying a subject, a tenant and roles.
//!
//! - HS256 with the shared secret `PURSIGHT_JWT_SECRET` (at least 32 bytes) always, for local use.
//! - RS256 with a PEM public key (`PURSIGHT_JWT_PUBLIC_KEY`), when configured.
//! - OAuth2/OIDC: RS256 and ES256 tokens verified against the identity provider's JWKS
//!   (`PURSIGHT_JWKS_URL`). Keys are fetched at start and cached by `kid`; a token naming an
//!   unknown `kid` makes one refetch (key rotation), at most once per
//!   `PURSIGHT_JWKS_MIN_REFRESH_SECS`, so a flood of forged `kid`s cannot turn PurSight into a
//!   load generator against the provider. A key is used only with the algorithm it is published
//!   for (no algorithm confusion).
//! - `exp` is required, `nbf` honoured, both with `PURSIGHT_JWT_LEEWAY_SECS` of clock skew; `iss`
//!   and `aud` are required and checked when `PURSIGHT_JWT_ISSUER` / `PURSIGHT_JWT_AUDIENCE` are
//!   set, and ignored otherwise.
//! - The tenant and roles claims are named by `PURSIGHT_JWT_TENANT_CLAIM` and
//!   `PURSIGHT_JWT_ROLES_CLAIM` (dotted paths such as `realm_access.roles`; providers name them
//!   differently). Roles may be a list or a space-separated string. A provider's token may carry
//!   roles PurSight does not know (`offline_access`…): those are ignored; a locally issued HS256
//!   token with an unknown role is refused, since PurSight wrote it.

use domain::access::{roles_allow, AssetScope, Permission, Role};
use domain::TenantId;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The claims `pursight token` writes.
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
/// Largest JWKS document read from the identity provider.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub subject: String,
    pub tenant: TenantId,
    /// The built-in roles of the token, then those granted to the subject in the tenant
    /// ([`crate::grants`]).
    pub roles: Vec<Role>,
    /// The built-in roles of the token alone (grants can only add to them).
    pub token_roles: Vec<Role>,
    /// The custom roles granted to the subject in the tenant, by name.
    pub custom_roles: Vec<String>,
    /// What the custom roles allow (see [`domain::access::permissions_given_by`]).
    pub granted: Vec<Permission>,
    /// Which assets the caller's reads reach.
    pub assets: AssetScope,
    /// The token's `exp` (seconds since the epoch): a subscription ends then.
    pub expires_at: u64,
}

impl Caller {
    /// The caller as their token alone makes them: no granted role.
    pub fn token_only(&self) -> Caller {
        Caller {
            roles: self.token_roles.clone(),
            custom_roles: Vec::new(),
            granted: Vec::new(),
            assets: token_scope(&self.token_roles),
            ..self.clone()
        }
    }

    /// Whether the caller's roles (token and granted) or custom roles allow `permission`.
    pub fn allows(&self, permission: Permission) -> bool {
        roles_allow(&self.roles, permission) || self.granted.contains(&permission)
    }

    /// The caller as the context of a command.
    pub fn command_context(&self, command_id: Option<uuid::Uuid>) -> commands::CommandContext {
        commands::CommandContext::new(
            self.tenant.clone(),
            self.subject.clone(),
            self.roles.clone(),
            command_id,
        )
        .with_granted(self.granted.clone())
    }

    /// Every role the caller holds, by name: built-in ones, then custom ones.
    pub fn role_names(&self) -> Vec<String> {
        self.roles
            .iter()
            .map(|r| r.as_str().to_owned())
            .chain(self.custom_roles.iter().cloned())
            .collect()
    }
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
    #[error("invalid token settings: {0}")]
    Settings(String),
}

/// OAuth2/OIDC settings; everything off by default.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The identity provider's JWKS document (`jwks_uri`).
    pub jwks_url: Option<String>,
    /// Shortest time between two fetches of the JWKS caused by unknown `kid`s.
    pub min_refresh: Duration,
    /// Dotted path of the tenant claim.
    pub tenant_claim: String,
    /// Dotted path of the roles claim.
    pub roles_claim: String,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            jwks_url: None,
            min_refresh: Duration::from_secs(30),
            tenant_claim: "tenant".into(),
            roles_claim: "roles".into(),
            leeway_secs: 60,
        }
    }
}

/// The identity provider's keys, by `kid`, each with the one algorithm it may verify.
struct Jwks {
    url: String,
    client: reqwest::Client,
    min_refresh: Duration,
    keys: std::sync::RwLock<HashMap<String, (Algorithm, DecodingKey)>>,
    /// When the keys were last fetched; held across a fetch so that fetches never overlap.
    fetched: tokio::sync::Mutex<Option<Instant>>,
}

impl Jwks {
    fn key(&self, kid: &str) -> Option<(Algorithm, DecodingKey)> {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(kid)
            .cloned()
    }

    /// Fetches the key set unless it was fetched less than `min_refresh` ago (or `force`).
    async fn refresh(&self, force: bool) -> Result<(), AuthError> {
        let mut fetched = self.fetched.lock().await;
        if !force && fetched.is_some_and(|at| at.elapsed() < self.min_refresh) {
            return Ok(());
        }
        *fetched = Some(Instant::now());
        let keys = self.fetch().await?;
        tracing::info!(
            keys = keys.len(),
            "fetched the identity provider's signing keys"
        );
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
        Ok(())
    }

    async fn fetch(&self) -> Result<HashMap<String, (Algorithm, DecodingKey)>, AuthError> {
        let unavailable = |reason: String| {
            AuthError::Invalid(format!("the signing keys cannot be fetched: {reason}"))
        };
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| unavailable(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("HTTP {}", response.status())));
        }
        if response
            .content_length()
            .is_some_and(|l| l > MAX_JWKS_BYTES as u64)
        {
            return Err(unavailable("the key set is larger than 1 MiB".into()));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| unavailable(e.without_url().to_string()))?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(unavailable("the key set is larger than 1 MiB".into()));
        }
        let set: JwkSet = serde_json::from_slice(&body)
            .map_err(|e| unavailable(format!("not a JWKS document: {e}")))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            // The algorithm a key may verify: as published, else the one its type implies.
            let implied = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
                AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
                    Some(Algorithm::ES256)
                }
                _ => None,
            };
            let algorithm = match jwk.common.key_algorithm {
                Some(KeyAlgorithm::RS256) => Some(Algorithm::RS256),
                Some(KeyAlgorithm::ES256) => Some(Algorithm::ES256),
                Some(_) => None,
                None => implied,
            };
            let Some(algorithm @ (Algorithm::RS256 | Algorithm::ES256)) = algorithm else {
                continue;
            };
            if implied != Some(algorithm) {
                continue;
            }
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.insert(kid, (algorithm, key));
            }
        }
        Ok(keys)
    }
}

/// Which key verifies a token.
enum KeyChoice {
    Key(DecodingKey),
    /// A JWKS key not (yet) in the cache.
    Unknown(String),
}

/// Verifies bearer tokens.
#[derive(Clone)]
pub struct Authenticator {
    hs256: DecodingKey,
    rs256: Option<DecodingKey>,
    jwks: Option<Arc<Jwks>>,
    claims: OidcSettings,
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
            jwks: None,
            claims: OidcSettings::default(),
            issuer: None,
            audience: None,
        })
    }

    /// Accepts identity-provider tokens as `settings` say; fetches the JWKS once now (a
    /// provider that is down is logged, and asked again on the first token).
    pub async fn with_oidc(mut self, settings: OidcSettings) -> Result<Self, AuthError> {
        for (name, path) in [
            ("PURSIGHT_JWT_TENANT_CLAIM", &settings.tenant_claim),
            ("PURSIGHT_JWT_ROLES_CLAIM", &settings.roles_claim),
        ] {
            if path.is_empty() || path.len() > 128 || path.split('.').any(str::is_empty) {
                return Err(AuthError::Settings(format!(
                    "{name} must be a claim name or a dotted path such as realm_access.roles"
                )));
            }
        }
        if let Some(url) = &settings.jwks_url {
            let parsed = reqwest::Url::parse(url)
                .map_err(|e| AuthError::Settings(format!("PURSIGHT_JWKS_URL is not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "https" | "http") {
                return Err(AuthError::Settings(
                    "PURSIGHT_JWKS_URL must be an https (or http) URL".into(),
                ));
            }
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::limited(3))
                .build()
                .map_err(|e| AuthError::Settings(e.to_string()))?;
            let jwks = Arc::new(Jwks {
                url: url.clone(),
                client,
                min_refresh: settings.min_refresh,
                keys: Default::default(),
                fetched: Default::default(),
            });
            if let Err(err) = jwks.refresh(true).await {
                tracing::warn!(error = %err, "the identity provider's keys are not available yet");
            }
            self.jwks = Some(jwks);
        }
        self.claims = settings;
        Ok(self)
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

    /// The clock skew allowed on `exp` and `nbf`, in seconds.
    pub fn leeway_secs(&self) -> u64 {
        self.claims.leeway_secs
    }

    /// The bare token of an `Authorization` header value.
    fn bearer(header: Option<&str>) -> Result<&str, AuthError> {
        let header = header.ok_or(AuthError::Missing)?;
        header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or(AuthError::Missing)
    }

    /// Verifies an `Authorization` header value with the keys at hand (no JWKS fetch).
    pub fn verify_header(&self, header: Option<&str>) -> Result<Caller, AuthError> {
        self.verify(Self::bearer(header)?)
    }

    /// Verifies an `Authorization` header value, fetching the provider's keys again when the
    /// token names a key not seen yet (rate-limited).
    pub async fn authenticate(&self, header: Option<&str>) -> Result<Caller, AuthError> {
        let token = Self::bearer(header)?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AuthError::Invalid("not a JWT".into()))?;
        match self.key(&header)? {
            KeyChoice::Key(key) => self.check(token, header.alg, &key),
            KeyChoice::Unknown(kid) => {
                let jwks = self.jwks.as_ref().expect("unknown keys come from a JWKS");
                jwks.refresh(false).await?;
                match self.key(&header)? {
                    KeyChoice::Key(key) => self.check(token, header.alg, &key),
                    KeyChoice::Unknown(_) => Err(unknown_key(&kid)),
                }
            }
        }
    }

    /// Verifies a bare token with the keys at hand (no JWKS fetch).
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AuthError::Invalid("not a JWT".into()))?;
        match self.key(&header)? {
            KeyChoice::Key(key) => self.check(token, header.alg, &key),
            KeyChoice::Unknown(kid) => Err(unknown_key(&kid)),
        }
    }

    fn key(&self, header: &Header) -> Result<KeyChoice, AuthError> {
        match header.alg {
            Algorithm::HS256 => Ok(KeyChoice::Key(self.hs256.clone())),
            Algorithm::RS256 | Algorithm::ES256 => {
                if let (Some(jwks), Some(kid)) = (&self.jwks, &header.kid) {
                    if kid.len() > 256 {
                        return Err(AuthError::Invalid("the kid is too long".into()));
                    }
                    return match jwks.key(kid) {
                        Some((algorithm, key)) if algorithm == header.alg => {
                            Ok(KeyChoice::Key(key))
                        }
                        Some((algorithm, _)) => Err(AuthError::Invalid(format!(
                            "key {kid:?} is published for {algorithm:?}, the token says {:?}",
                            header.alg
                        ))),
                        None => Ok(KeyChoice::Unknown(kid.clone())),
                    };
                }
                match (&self.rs256, header.alg) {
                    (Some(key), Algorithm::RS256) => Ok(KeyChoice::Key(key.clone())),
                    _ => Err(AuthError::Invalid(format!(
                        "{:?} tokens are not accepted: no public key configured{}",
                        header.alg,
                        if self.jwks.is_some() {
                            " (a token verified with PURSIGHT_JWKS_URL must name its kid)"
                        } else {
                            ""
                        }
                    ))),
                }
            }
            other => Err(AuthError::Invalid(format!(
                "algorithm {other:?} is not accepted"
            ))),
        }
    }

    fn check(&self, token: &str, alg: Algorithm, key: &DecodingKey) -> Result<Caller, AuthError> {
        let mut validation = Validation::new(alg);
        validation.validate_nbf = true;
        validation.leeway = self.claims.leeway_secs;
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
        let claims = jsonwebtoken::decode::<serde_json::Value>(token, key, &validation)
            .map_err(|err| AuthError::Invalid(err.to_string()))?
            .claims;
        let claim = |path: &str| {
            path.split('.')
                .try_fold(&claims, |value, name| value.get(name))
        };
        let sub = claims
            .get("sub")
            .and_then(|v| v.as_str())
            .ok_or_else(|| AuthError::Invalid("the sub claim is not a string".into()))?;
        let expires_at = claims
            .get("exp")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| AuthError::Invalid("the exp claim is not a number".into()))?;
        let tenant = claim(&self.claims.tenant_claim)
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                AuthError::Invalid(format!(
                    "the token has no {} claim naming the tenant",
                    self.claims.tenant_claim
                ))
            })?;
        let tenant = TenantId::parse(tenant).map_err(|err| AuthError::Invalid(err.to_string()))?;
        let names: Vec<&str> = match claim(&self.claims.roles_claim) {
            Some(serde_json::Value::Array(items)) => {
                items.iter().filter_map(|v| v.as_str()).collect()
            }
            Some(serde_json::Value::String(text)) => text.split_whitespace().collect(),
            _ => Vec::new(),
        };
        // PurSight's own tokens name only roles it knows; a provider's carry others too.
        let local = alg == Algorithm::HS256;
        let mut roles = Vec::new();
        for name in names {
            match name.parse::<Role>() {
                Ok(role) if !roles.contains(&role) => roles.push(role),
                Ok(_) => {}
                Err(err) if local => return Err(AuthError::Invalid(err)),
                Err(_) => {}
            }
        }
        if sub.trim().is_empty() {
            return Err(AuthError::Invalid("empty sub claim".into()));
        }
        if sub.len() > MAX_SUBJECT_BYTES {
            return Err(AuthError::Invalid(format!(
                "the sub claim is longer than {MAX_SUBJECT_BYTES} bytes"
            )));
        }
        if sub.chars().any(char::is_control) {
            return Err(AuthError::Invalid(
                "the sub claim contains control characters".into(),
            ));
        }
        Ok(Caller {
            subject: sub.to_owned(),
            tenant,
            assets: token_scope(&roles),
            token_roles: roles.clone(),
            roles,
            custom_roles: Vec::new(),
            granted: Vec::new(),
            expires_at,
        })
    }
}

/// The assets a token's built-in roles reach: every built-in role reads every asset.
fn token_scope(roles: &[Role]) -> AssetScope {
    if roles.is_empty() {
        AssetScope::Only(Vec::new())
    } else {
        AssetScope::All
    }
}

fn unknown_key(kid: &str) -> AuthError {
    let shown: String = kid.chars().take(64).filter(|c| !c.is_control()).collect();
    AuthError::Invalid(format!(
        "the token is signed with key {shown:?}, which the identity provider does not publish"
    ))
}

/// Refuses an HS256 secret shorter than [`MIN_SECRET_BYTES`].
pub fn check_secret(secret: &str) -> Result<(), AuthError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(AuthError::ShortSecret(secret.len()));
    }
    Ok(())
}

/// Seconds since the Unix epoch, the unit of `exp`, `nbf` and `iat`.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Issues an HS256 token (for `pursight token`, the demo and tests).
pub fn issue_token(
    secret: &str,
    subject: &str,
    tenant: &TenantId,
    roles: &[Role],
    ttl_secs: u64,
) -> String {
    let now = unix_now();
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

/// Identity-provider keys for tests: ES256 key pairs generated per test, the RS256 fixture, and
/// a JWKS endpoint the test serves and can rotate.
#[cfg(test)]
pub(crate) mod test_idp {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use serde_json::{json, Value};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    pub const RSA_PRIVATE: &[u8] = include_bytes!("../../tests/fixtures/rs256-test-private.pem");
    const RSA_PUBLIC: &str = include_str!("../../tests/fixtures/rs256-test-public.pem");

    /// A signing key with its kid and public JWK.
    pub struct TestKey {
        pub kid: String,
        pub alg: Algorithm,
        encoding: EncodingKey,
        pub jwk: Value,
    }

    impl TestKey {
        pub fn es256(kid: &str) -> Self {
            let rng = ring::rand::SystemRandom::new();
            let pkcs8 =
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                    .unwrap();
            // Uncompressed point: 0x04 || x || y.
            let point = pair.public_key().as_ref();
            let jwk = json!({
                "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            });
            Self {
                kid: kid.into(),
                alg: Algorithm::ES256,
                encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
                jwk,
            }
        }

        pub fn rs256(kid: &str) -> Self {
            use rsa::pkcs8::DecodePublicKey;
            use rsa::traits::PublicKeyParts;
            let public = rsa::RsaPublicKey::from_public_key_pem(RSA_PUBLIC).unwrap();
            let jwk = json!({
                "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
            });
            Self {
                kid: kid.into(),
                alg: Algorithm::RS256,
                encoding: EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(),
                jwk,
            }
        }

        /// A token over `claims`, naming this key's kid.
        pub fn sign(&self, claims: &Value) -> String {
            let mut header = Header::new(self.alg);
            header.kid = Some(self.kid.clone());
            jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
        }
    }

    /// A JWKS endpoint serving whatever keys the test sets, counting requests.
    pub struct TestJwks {
        pub url: String,
        keys: Arc<Mutex<Vec<Value>>>,
        hits: Arc<AtomicUsize>,
    }

    impl TestJwks {
        pub async fn serve(keys: &[&TestKey]) -> Self {
            let served: Arc<Mutex<Vec<Value>>> =
                Arc::new(Mutex::new(keys.iter().map(|k| k.jwk.clone()).collect()));
            let hits = Arc::new(AtomicUsize::new(0));
            let router = axum::Router::new().route(
                "/jwks",
                axum::routing::get({
                    let served = served.clone();
                    let hits = hits.clone();
                    move || async move {
                        hits.fetch_add(1, Ordering::SeqCst);
                        let keys = served.lock().unwrap().clone();
                        axum::Json(json!({ "keys": keys }))
                    }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/jwks", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, router).await });
            Self {
                url,
                keys: served,
                hits,
            }
        }

        /// The provider publishes `keys` from now on (a rotation).
        pub fn publish(&self, keys: &[&TestKey]) {
            *self.keys.lock().unwrap() = keys.iter().map(|k| k.jwk.clone()).collect();
        }

        pub fn hits(&self) -> usize {
            self.hits.load(Ordering::SeqCst)
        }
    }
}

#[cfg(test)]
mod oidc_tests {
    use super::test_idp::{TestJwks, TestKey};
    use super::*;
    use serde_json::json;

    const HS_SECRET: &str = "hs-secret-0123456789abcdef-0123456789";

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    /// Claims as a Keycloak-like provider writes them.
    fn provider_claims() -> serde_json::Value {
        json!({
            "sub": "f3c1-idp-user", "iss": "https://idp.test/realms/acme", "aud": "pursight",
            "exp": now() + 600, "iat": now(),
            "org": { "tenant": "acme" },
            "realm_access": { "roles": ["offline_access", "auditor", "uma_authorization"] }
        })
    }

    async fn authenticator(jwks: &TestJwks, min_refresh: Duration) -> Authenticator {
        Authenticator::new(HS_SECRET, None)
            .unwrap()
            .with_issuer(Some("https://idp.test/realms/acme".into()))
            .with_audience(Some("pursight".into()))
            .with_oidc(OidcSettings {
                jwks_url: Some(jwks.url.clone()),
                min_refresh,
                tenant_claim: "org.tenant".into(),
                roles_claim: "realm_access.roles".into(),
                leeway_secs: 0,
            })
            .await
            .unwrap()
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    #[tokio::test]
    async fn rs256_and_es256_provider_tokens_verify_against_the_jwks_with_configured_claims() {
        let rsa = TestKey::rs256("rsa-1");
        let ec = TestKey::es256("ec-1");
        let jwks = TestJwks::serve(&[&rsa, &ec]).await;
        let auth = authenticator(&jwks, Duration::from_secs(3600)).await;
        for key in [&rsa, &ec] {
            let caller = auth
                .authenticate(Some(&bearer(&key.sign(&provider_claims()))))
                .await
                .unwrap();
            assert_eq!(caller.subject, "f3c1-idp-user");
            assert_eq!(caller.tenant.as_str(), "acme");
            // The provider's own roles are ignored; PurSight's are kept.
            assert_eq!(caller.roles, vec![Role::Auditor]);
        }
        assert_eq!(jwks.hits(), 1, "the keys were fetched once, at start");

        // Wrong audience, issuer or an expired token are refused as before.
        for (claim, value) in [
            ("aud", json!("billing")),
            ("iss", json!("https://evil.test")),
            ("exp", json!(now() - 5)),
        ] {
            let mut claims = provider_claims();
            claims[claim] = value;
            assert!(
                auth.authenticate(Some(&bearer(&ec.sign(&claims))))
                    .await
                    .is_err(),
                "{claim}"
            );
        }
        // Without the tenant claim there is no caller.
        let mut claims = provider_claims();
        claims["org"] = json!({});
        let err = auth
            .authenticate(Some(&bearer(&ec.sign(&claims))))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("org.tenant"), "{err}");
    }

    #[tokio::test]
    async fn a_rotated_key_is_fetched_on_first_use_and_retired_keys_stop_working() {
        let old = TestKey::es256("2026-11");
        let jwks = TestJwks::serve(&[&old]).await;
        let auth = authenticator(&jwks, Duration::ZERO).await;
        assert!(auth
            .authenticate(Some(&bearer(&old.sign(&provider_claims()))))
            .await
            .is_ok());

        let new = TestKey::es256("2026-12");
        jwks.publish(&[&new]);
        let caller = auth
            .authenticate(Some(&bearer(&new.sign(&provider_claims()))))
            .await
            .unwrap();
        assert_eq!(caller.subject, "f3c1-idp-user");
        assert_eq!(jwks.hits(), 2, "one fetch for the unknown kid");
        let err = auth
            .authenticate(Some(&bearer(&old.sign(&provider_claims()))))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("does not publish"), "{err}");
    }

    #[tokio::test]
    async fn unknown_kids_refetch_the_keys_at_most_once_per_interval() {
        let key = TestKey::es256("k1");
        let jwks = TestJwks::serve(&[&key]).await;
        let auth = authenticator(&jwks, Duration::from_secs(3600)).await;
        for n in 0..20 {
            let forged = TestKey::es256(&format!("forged-{n}"));
            assert!(auth
                .authenticate(Some(&bearer(&forged.sign(&provider_claims()))))
                .await
                .is_err());
        }
        assert_eq!(
            jwks.hits(),
            1,
            "no fetch within the interval after the first"
        );
    }

    #[tokio::test]
    async fn a_key_verifies_only_with_its_published_algorithm() {
        let ec = TestKey::es256("shared");
        let jwks = TestJwks::serve(&[&ec]).await;
        let auth = authenticator(&jwks, Duration::from_secs(3600)).await;
        // An RS256 token naming the ES256 key's kid.
        let mut rsa = TestKey::rs256("shared");
        rsa.kid = "shared".into();
        let err = auth
            .authenticate(Some(&bearer(&rsa.sign(&provider_claims()))))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("published for ES256"), "{err}");
        // HS256 tokens signed with the shared secret keep working next to the provider's.
        let local = issue_token(
            HS_SECRET,
            "local",
            &TenantId::parse("acme").unwrap(),
            &[Role::Viewer],
            60,
        );
        let mut strict = authenticator(&jwks, Duration::from_secs(3600)).await;
        strict.issuer = None;
        strict.audience = None;
        strict.claims.tenant_claim = "tenant".into();
        strict.claims.roles_claim = "roles".into();
        assert_eq!(
            strict
                .authenticate(Some(&bearer(&local)))
                .await
                .unwrap()
                .roles,
            vec![Role::Viewer]
        );
    }

    #[tokio::test]
    async fn claim_paths_and_the_jwks_url_are_validated_at_start() {
        for (url, path) in [
            ("file:///etc/passwd", "roles"),
            ("not a url", "roles"),
            ("http://127.0.0.1:9/jwks", "realm_access..roles"),
        ] {
            let result = Authenticator::new(HS_SECRET, None)
                .unwrap()
                .with_oidc(OidcSettings {
                    jwks_url: Some(url.into()),
                    roles_claim: path.into(),
                    ..OidcSettings::default()
                })
                .await;
            assert!(
                matches!(result, Err(AuthError::Settings(_))),
                "{url} {path}"
            );
        }
    }
}
