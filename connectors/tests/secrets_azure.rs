//! `azure-kv:` references against a stand-in for Azure Key Vault and the Microsoft identity
//! platform.
//!
//! Azure cannot be called from the build machine, so one [`common::StubServer`] plays both: the
//! OAuth 2.0 client-credentials token endpoint (`POST /{tenant}/oauth2/v2.0/token`, form body,
//! `{"access_token", "expires_in", "token_type"}` answer) and Key Vault's "Get Secret"
//! (`GET /secrets/{name}?api-version=7.4` with a bearer token, `{"value", "id", "attributes"}`
//! answer), each in its documented request and response format.

mod common;

use common::{assert_hidden, Reply, StubServer};
use connectors::secrets::{EnvLookup, SecretErrorKind, SecretResolver, SecretResolverConfig};
use domain::datasource::SecretRef;
use domain::TenantId;
use serde_json::json;

const TENANT: &str = "contoso-tenant";
const CLIENT_ID: &str = "pursight-app";
const CLIENT_SECRET: &str = "azure-client-secret-value";
const ACCESS_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test-access-token";
const PASSWORD: &str = "kv-stored-p@ssw0rd";

fn acme() -> TenantId {
    TenantId::parse("acme").unwrap()
}

fn secret(raw: &str) -> SecretRef {
    SecretRef::parse(raw).unwrap()
}

/// Token endpoint and Key Vault on one stub. Key Vault is mounted under `/{vault}` so the test
/// also shows which vault was addressed.
async fn azure() -> StubServer {
    StubServer::start(|request| {
        let token_path = format!("/{TENANT}/oauth2/v2.0/token");
        if request.method == "POST" && request.target == token_path {
            let form = request.body_text();
            let expected = [
                "grant_type=client_credentials".to_string(),
                format!("client_id={CLIENT_ID}"),
                format!("client_secret={CLIENT_SECRET}"),
                "scope=https%3A%2F%2Fvault.azure.net%2F.default".to_string(),
            ];
            if !expected.iter().all(|pair| form.split('&').any(|p| p == pair)) {
                return Reply::json(
                    401,
                    json!({
                        "error": "invalid_client",
                        "error_description": format!("AADSTS7000215: Invalid client secret {CLIENT_SECRET}"),
                    }),
                );
            }
            return Reply::json(
                200,
                json!({ "token_type": "Bearer", "expires_in": 3599, "access_token": ACCESS_TOKEN }),
            );
        }
        if request.header("authorization") != Some(&format!("Bearer {ACCESS_TOKEN}")) {
            return Reply::json(
                401,
                json!({ "error": { "code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token." } }),
            )
            .with_header("WWW-Authenticate", "Bearer authorization=\"https://login.microsoftonline.com/x\"");
        }
        match request.target.as_str() {
            "/acme-kv/secrets/pursight-acme-pg-password?api-version=7.4" => Reply::json(
                200,
                json!({
                    "value": PASSWORD,
                    "id": "https://acme-kv.vault.azure.net/secrets/pursight-acme-pg-password/4387e9f3d6e14c459867679a90fd0f79",
                    "attributes": { "enabled": true, "created": 1493938410, "updated": 1493938410, "recoveryLevel": "Recoverable+Purgeable" }
                }),
            ),
            "/acme-kv/secrets/pursight-acme-forbidden?api-version=7.4" => Reply::json(
                403,
                json!({ "error": { "code": "Forbidden", "message": format!("Access denied to {PASSWORD}") } }),
            ),
            _ => Reply::json(
                404,
                json!({ "error": { "code": "SecretNotFound", "message": "A secret with (name/id) x was not found in this key vault." } }),
            ),
        }
    })
    .await
}

fn resolver(server: &StubServer, extra: &[(&str, &str)]) -> SecretResolver {
    let mut vars = vec![
        (
            "PURSIGHT_AZURE_KEYVAULT_URL".to_string(),
            format!("{}/{{vault}}", server.base_url),
        ),
        ("AZURE_AUTHORITY_HOST".to_string(), server.base_url.clone()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    SecretResolver::new(SecretResolverConfig::from_lookup(EnvLookup::from_map(vars))).unwrap()
}

fn client_credentials(server: &StubServer, client_secret: &str) -> SecretResolver {
    resolver(
        server,
        &[
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_ID", CLIENT_ID),
            ("AZURE_CLIENT_SECRET", client_secret),
        ],
    )
}

#[tokio::test]
async fn client_credentials_token_then_get_secret_and_the_token_is_reused() {
    let server = azure().await;
    let resolver = client_credentials(&server, CLIENT_SECRET);
    for _ in 0..2 {
        let value = resolver
            .resolve(
                &acme(),
                &secret("azure-kv:acme-kv/pursight-acme-pg-password"),
            )
            .await
            .unwrap();
        assert_eq!(value.expose(), PASSWORD);
    }
    let requests = server.requests();
    let targets: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.target.as_str()))
        .collect();
    assert_eq!(
        targets,
        [
            ("POST", "/contoso-tenant/oauth2/v2.0/token"),
            (
                "GET",
                "/acme-kv/secrets/pursight-acme-pg-password?api-version=7.4"
            ),
            (
                "GET",
                "/acme-kv/secrets/pursight-acme-pg-password?api-version=7.4"
            ),
        ]
    );
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        requests[1].header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
}

#[tokio::test]
async fn a_ready_access_token_skips_the_token_request() {
    let server = azure().await;
    let resolver = resolver(&server, &[("AZURE_ACCESS_TOKEN", ACCESS_TOKEN)]);
    let value = resolver
        .resolve(
            &acme(),
            &secret("azure-kv:acme-kv/pursight-acme-pg-password"),
        )
        .await
        .unwrap();
    assert_eq!(value.expose(), PASSWORD);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn not_found_forbidden_and_bad_tokens_are_named_without_bodies() {
    let server = azure().await;
    let resolver = client_credentials(&server, CLIENT_SECRET);

    let missing = resolver
        .resolve(&acme(), &secret("azure-kv:acme-kv/pursight-acme-absent"))
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), SecretErrorKind::NotFound);
    assert_eq!(
        missing.to_string(),
        "cannot resolve secret azure-kv:acme-kv/pursight-acme-absent (azure-kv): not found: HTTP 404 from Azure \
         Key Vault"
    );

    let forbidden = resolver
        .resolve(&acme(), &secret("azure-kv:acme-kv/pursight-acme-forbidden"))
        .await
        .unwrap_err();
    assert_eq!(forbidden.kind(), SecretErrorKind::Unauthorized);
    assert!(forbidden
        .to_string()
        .ends_with("HTTP 403 from Azure Key Vault"));

    let stale = resolver_with_token(&server, "expired-token")
        .resolve(
            &acme(),
            &secret("azure-kv:acme-kv/pursight-acme-pg-password"),
        )
        .await
        .unwrap_err();
    assert_eq!(stale.kind(), SecretErrorKind::Unauthorized);
    assert!(stale.to_string().ends_with("HTTP 401 from Azure Key Vault"));

    let shown: Vec<String> = [&missing, &forbidden, &stale]
        .iter()
        .flat_map(|e| [e.to_string(), format!("{e:?}")])
        .chain([format!("{resolver:?}")])
        .collect();
    assert_hidden(PASSWORD, &shown);
    assert_hidden(ACCESS_TOKEN, &shown);
    assert_hidden(CLIENT_SECRET, &shown);
}

fn resolver_with_token(server: &StubServer, token: &str) -> SecretResolver {
    resolver(server, &[("AZURE_ACCESS_TOKEN", token)])
}

#[tokio::test]
async fn a_refused_client_secret_names_the_oauth_error_only() {
    let server = azure().await;
    let wrong = "wrong-client-secret";
    let resolver = client_credentials(&server, wrong);
    let error = resolver
        .resolve(
            &acme(),
            &secret("azure-kv:acme-kv/pursight-acme-pg-password"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::Unauthorized);
    assert_eq!(
        error.to_string(),
        "cannot resolve secret azure-kv:acme-kv/pursight-acme-pg-password (azure-kv): unauthorized: token \
         request refused: HTTP 401 from the Microsoft identity platform (invalid_client)"
    );
    let shown = [
        error.to_string(),
        format!("{error:?}"),
        format!("{resolver:?}"),
    ];
    assert_hidden(wrong, &shown);
    assert_hidden(CLIENT_SECRET, &shown);
    assert_hidden("AADSTS", &shown);
    // Only the token request was made.
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn without_credentials_nothing_is_sent() {
    let server = azure().await;
    let error = resolver(&server, &[])
        .resolve(
            &acme(),
            &secret("azure-kv:acme-kv/pursight-acme-pg-password"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::NotConfigured);
    assert!(server.requests().is_empty());
}
