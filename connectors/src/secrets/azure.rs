//! `azure-kv:VAULT/NAME` — Azure Key Vault "Get Secret" over its REST API, without the SDK.
//!
//! `GET https://{VAULT}.vault.azure.net/secrets/{NAME}?api-version=7.4` with a bearer token for
//! `https://vault.azure.net`. The token is `AZURE_ACCESS_TOKEN` when set, otherwise obtained with
//! the OAuth 2.0 client-credentials grant from
//! `POST {AZURE_AUTHORITY_HOST}/{tenant}/oauth2/v2.0/token` and kept until a minute before it
//! expires. The answer's `value` is the secret.

use super::config::AzureConfig;
use super::error::{Failure, SecretErrorKind};
use super::http::{identifier, json_body, parse_base_url, status_failure, transport};
use super::value::SecretValue;
use reqwest::{Client, StatusCode, Url};
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const SERVICE: &str = "Azure Key Vault";
const TOKEN_SERVICE: &str = "the Microsoft identity platform";
const API_VERSION: &str = "7.4";
const SCOPE: &str = "https://vault.azure.net/.default";
const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// A cached token is renewed this long before it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// The bearer token of the client-credentials grant, reused across resolutions.
#[derive(Debug, Default)]
pub(crate) struct TokenCache(Mutex<Option<CachedToken>>);

#[derive(Debug)]
struct CachedToken {
    token: SecretValue,
    renew_at: Instant,
}

pub(crate) async fn resolve(
    client: &Client,
    config: &AzureConfig,
    cache: &TokenCache,
    vault: &str,
    name: &str,
) -> Result<SecretValue, Failure> {
    if vault.is_empty() || name.is_empty() {
        return Err(Failure::new(
            SecretErrorKind::InvalidReference,
            "the reference must be azure-kv:VAULT/NAME",
        ));
    }
    let base = match &config.vault_url {
        Some(template) => parse_base_url(
            &template.replace("{vault}", vault),
            "PURSIGHT_AZURE_KEYVAULT_URL",
        )?,
        None => parse_base_url(
            &format!("https://{vault}.vault.azure.net"),
            "the Key Vault name",
        )?,
    };
    let url = secret_url(&base, name)?;
    let token = bearer_token(client, config, cache).await?;
    let response = client
        .get(url.clone())
        .bearer_auth(token.expose())
        .send()
        .await
        .map_err(|error| transport(error, SERVICE, &url))?;
    if response.status() == StatusCode::UNAUTHORIZED {
        // A revoked or expired token: the next resolution asks for a new one.
        *cache.0.lock().await = None;
    }
    if !response.status().is_success() {
        return Err(status_failure(response.status(), SERVICE));
    }
    let body = json_body(response, SERVICE, &url).await?;
    match body.get("value") {
        Some(Value::String(value)) if !value.is_empty() => Ok(SecretValue::new(value.clone())),
        Some(Value::String(_)) => Err(Failure::new(
            SecretErrorKind::NotFound,
            "the Key Vault secret is empty",
        )),
        _ => Err(Failure::new(
            SecretErrorKind::MalformedResponse,
            "Key Vault answered without a string value",
        )),
    }
}

/// `{base}/secrets/{name}?api-version=7.4`.
fn secret_url(base: &Url, name: &str) -> Result<Url, Failure> {
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|_| {
            Failure::new(
                SecretErrorKind::NotConfigured,
                "PURSIGHT_AZURE_KEYVAULT_URL cannot carry a path",
            )
        })?
        .pop_if_empty()
        .push("secrets")
        .push(name);
    url.query_pairs_mut()
        .append_pair("api-version", API_VERSION);
    Ok(url)
}

async fn bearer_token(
    client: &Client,
    config: &AzureConfig,
    cache: &TokenCache,
) -> Result<SecretValue, Failure> {
    if let Some(token) = &config.access_token {
        return Ok(token.clone());
    }
    let (Some(tenant), Some(client_id), Some(client_secret)) =
        (&config.tenant_id, &config.client_id, &config.client_secret)
    else {
        return Err(Failure::new(
            SecretErrorKind::NotConfigured,
            "no Azure credentials (set AZURE_ACCESS_TOKEN, or AZURE_TENANT_ID, AZURE_CLIENT_ID \
             and AZURE_CLIENT_SECRET)",
        ));
    };
    let mut cached = cache.0.lock().await;
    if let Some(entry) = cached
        .as_ref()
        .filter(|entry| Instant::now() < entry.renew_at)
    {
        return Ok(entry.token.clone());
    }
    let authority = config
        .authority_host
        .as_deref()
        .unwrap_or(DEFAULT_AUTHORITY);
    let mut url = parse_base_url(authority, "AZURE_AUTHORITY_HOST")?;
    url.path_segments_mut()
        .map_err(|_| {
            Failure::new(
                SecretErrorKind::NotConfigured,
                "AZURE_AUTHORITY_HOST cannot carry a path",
            )
        })?
        .pop_if_empty()
        .extend([tenant.as_str(), "oauth2", "v2.0", "token"]);
    let response = client
        .post(url.clone())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id.as_str()),
            ("client_secret", client_secret.expose()),
            ("scope", SCOPE),
        ])
        .send()
        .await
        .map_err(|error| transport(error, TOKEN_SERVICE, &url))?;
    let status = response.status();
    let body = json_body(response, TOKEN_SERVICE, &url).await;
    if !status.is_success() {
        // The OAuth error code (`invalid_client`, …) is an identifier; the description is not
        // quoted.
        let code = body
            .ok()
            .and_then(|body| body.get("error").and_then(Value::as_str).map(str::to_owned));
        let kind = if matches!(
            status,
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            SecretErrorKind::Unauthorized
        } else {
            SecretErrorKind::ServiceError
        };
        let detail = match code.as_deref().and_then(identifier) {
            Some(code) => format!(
                "token request refused: HTTP {} from {TOKEN_SERVICE} ({code})",
                status.as_u16()
            ),
            None => format!(
                "token request refused: HTTP {} from {TOKEN_SERVICE}",
                status.as_u16()
            ),
        };
        return Err(Failure::new(kind, detail));
    }
    let body = body?;
    let token = body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            Failure::new(
                SecretErrorKind::MalformedResponse,
                "the token answer has no access_token",
            )
        })?;
    let token = SecretValue::new(token);
    // `expires_in` is a number of seconds; some endpoints send it as a string.
    let lifetime = match body.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .map(Duration::from_secs)
    .unwrap_or(Duration::ZERO);
    *cached = Some(CachedToken {
        token: token.clone(),
        renew_at: Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN),
    });
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_urls_follow_the_rest_api() {
        let url = secret_url(
            &Url::parse("https://acme-kv.vault.azure.net").unwrap(),
            "pg-password",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://acme-kv.vault.azure.net/secrets/pg-password?api-version=7.4"
        );
        let proxied = secret_url(&Url::parse("http://127.0.0.1:9000/kv/").unwrap(), "x").unwrap();
        assert_eq!(
            proxied.as_str(),
            "http://127.0.0.1:9000/kv/secrets/x?api-version=7.4"
        );
    }
}
