//! `vault:` references against a stand-in for HashiCorp Vault.
//!
//! No Vault server runs on the build machine, so [`common::StubServer`] plays one: it answers the
//! KV v2 read endpoint (`GET /v1/{mount}/data/{path}`) in Vault's documented JSON shape and
//! checks the `X-Vault-Token` header the way Vault does (403 on a bad token).

mod common;

use common::{assert_hidden, Reply, StubServer};
use connectors::secrets::{EnvLookup, SecretErrorKind, SecretResolver, SecretResolverConfig};
use domain::datasource::SecretRef;
use domain::TenantId;
use serde_json::json;

const TOKEN: &str = "hvs.test-root-token";
const PASSWORD: &str = "vault-stored-p@ssw0rd";

fn resolver(vars: &[(&str, &str)]) -> SecretResolver {
    let env = EnvLookup::from_map(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    SecretResolver::new(SecretResolverConfig::from_lookup(env)).unwrap()
}

fn acme() -> TenantId {
    TenantId::parse("acme").unwrap()
}

fn secret(raw: &str) -> SecretRef {
    SecretRef::parse(raw).unwrap()
}

/// Vault with one KV v2 secret at `secret/pursight/acme/orders` (tenant `acme`'s part of the
/// store under the default prefix).
async fn vault() -> StubServer {
    StubServer::start(|request| {
        if request.header("x-vault-token") != Some(TOKEN) {
            return Reply::json(403, json!({ "errors": ["permission denied"] }));
        }
        match (request.method.as_str(), request.target.as_str()) {
            ("GET", "/v1/secret/data/pursight/acme/orders") => Reply::json(
                200,
                json!({
                    "request_id": "0c6b8d2e-1111-2222-3333-444455556666",
                    "lease_id": "",
                    "renewable": false,
                    "lease_duration": 0,
                    "data": {
                        "data": { "password": PASSWORD, "username": "orders_app", "port": 5432 },
                        "metadata": { "created_time": "2024-05-01T10:00:00Z", "version": 3 }
                    }
                }),
            ),
            // A policy that hides the secret answers 403 and, in this stand-in, echoes something
            // secret-looking in the body: it must not reach the error.
            ("GET", "/v1/secret/data/pursight/acme/forbidden") => Reply::json(
                403,
                json!({ "errors": [format!("permission denied; value was {PASSWORD}")] }),
            ),
            ("GET", "/v1/secret/data/pursight/acme/garbled") => Reply {
                status: 200,
                content_type: "text/plain",
                body: format!("password={PASSWORD}"),
                headers: Vec::new(),
            },
            ("GET", "/v1/secret/data/pursight/acme/sealed") => {
                Reply::json(503, json!({ "errors": ["Vault is sealed"] }))
            }
            _ => Reply::json(404, json!({ "errors": [] })),
        }
    })
    .await
}

#[tokio::test]
async fn reads_a_field_of_a_kv2_secret_with_the_token() {
    let server = vault().await;
    let resolver = resolver(&[
        ("VAULT_ADDR", &server.base_url),
        ("VAULT_TOKEN", TOKEN),
        ("VAULT_NAMESPACE", "team-a"),
    ]);
    let value = resolver
        .resolve(
            &acme(),
            &secret("vault:secret/pursight/acme/orders#password"),
        )
        .await
        .unwrap();
    assert_eq!(value.expose(), PASSWORD);
    // Numbers are fields too.
    let port = resolver
        .resolve(&acme(), &secret("vault:secret/pursight/acme/orders#port"))
        .await
        .unwrap();
    assert_eq!(port.expose(), "5432");
    // The API form of the path is accepted as written.
    let same = resolver
        .resolve(
            &acme(),
            &secret("vault:secret/data/pursight/acme/orders#username"),
        )
        .await
        .unwrap();
    assert_eq!(same.expose(), "orders_app");

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(request.method, "GET");
        assert_eq!(request.target, "/v1/secret/data/pursight/acme/orders");
        assert_eq!(request.header("x-vault-token"), Some(TOKEN));
        assert_eq!(request.header("x-vault-namespace"), Some("team-a"));
    }
}

#[tokio::test]
async fn missing_secrets_fields_and_wrong_tokens_are_named() {
    let server = vault().await;
    let resolver_ok = resolver(&[("VAULT_ADDR", &server.base_url), ("VAULT_TOKEN", TOKEN)]);

    let error = resolver_ok
        .resolve(
            &acme(),
            &secret("vault:secret/pursight/acme/absent#password"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::NotFound);
    assert_eq!(
        error.to_string(),
        "cannot resolve secret vault:secret/pursight/acme/absent#password (vault): not found: HTTP 404 from Vault"
    );

    let error = resolver_ok
        .resolve(
            &acme(),
            &secret("vault:secret/pursight/acme/orders#api_key"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::NotFound);
    assert!(error
        .to_string()
        .ends_with("the Vault secret has no field api_key"));

    let wrong_token = resolver(&[
        ("VAULT_ADDR", &server.base_url),
        ("VAULT_TOKEN", "hvs.wrong"),
    ]);
    let error = wrong_token
        .resolve(
            &acme(),
            &secret("vault:secret/pursight/acme/orders#password"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::Unauthorized);
    assert_eq!(
        error.to_string(),
        "cannot resolve secret vault:secret/pursight/acme/orders#password (vault): unauthorized: HTTP 403 from Vault"
    );
    assert_hidden(
        "hvs.wrong",
        &[error.to_string(), format!("{wrong_token:?}")],
    );

    let sealed = resolver_ok
        .resolve(
            &acme(),
            &secret("vault:secret/pursight/acme/sealed#password"),
        )
        .await
        .unwrap_err();
    assert_eq!(sealed.kind(), SecretErrorKind::ServiceError);
}

#[tokio::test]
async fn response_bodies_never_reach_errors() {
    let server = vault().await;
    let resolver = resolver(&[("VAULT_ADDR", &server.base_url), ("VAULT_TOKEN", TOKEN)]);
    let forbidden = resolver
        .resolve(
            &acme(),
            &secret("vault:secret/pursight/acme/forbidden#password"),
        )
        .await
        .unwrap_err();
    assert_eq!(forbidden.kind(), SecretErrorKind::Unauthorized);
    let garbled = resolver
        .resolve(
            &acme(),
            &secret("vault:secret/pursight/acme/garbled#password"),
        )
        .await
        .unwrap_err();
    assert_eq!(garbled.kind(), SecretErrorKind::MalformedResponse);
    let shown: Vec<String> = [&forbidden, &garbled]
        .iter()
        .flat_map(|e| [e.to_string(), format!("{e:?}"), format!("{e:#?}")])
        .chain([format!("{resolver:?}")])
        .collect();
    assert_hidden(PASSWORD, &shown);
    assert_hidden(TOKEN, &shown);
}

#[tokio::test]
async fn configuration_and_reachability_problems_are_clear() {
    let error = resolver(&[("VAULT_TOKEN", TOKEN)])
        .resolve(
            &acme(),
            &secret("vault:secret/pursight/acme/orders#password"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::NotConfigured);
    assert!(error.to_string().ends_with("VAULT_ADDR is not set"));

    let error = resolver(&[("VAULT_ADDR", "http://127.0.0.1:1"), ("VAULT_TOKEN", TOKEN)])
        .resolve(&acme(), &secret("vault:orders#password"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::NotAllowed);

    // A port that was just free: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let error = resolver(&[
        ("VAULT_ADDR", &format!("http://{closed}")),
        ("VAULT_TOKEN", TOKEN),
    ])
    .resolve(
        &acme(),
        &secret("vault:secret/pursight/acme/orders#password"),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::Unreachable);
    assert_eq!(
        error.to_string(),
        format!(
            "cannot resolve secret vault:secret/pursight/acme/orders#password (vault): unreachable: cannot \
             connect to Vault at http://{closed}"
        )
    );
    assert_hidden(TOKEN, &[error.to_string(), format!("{error:?}")]);
}

#[tokio::test]
async fn another_tenants_secrets_are_never_requested() {
    let server = vault().await;
    let resolver = resolver(&[("VAULT_ADDR", &server.base_url), ("VAULT_TOKEN", TOKEN)]);
    let globex = TenantId::parse("globex").unwrap();
    for raw in [
        "vault:secret/pursight/acme/orders#password",
        "vault:secret/data/pursight/acme/orders#password",
        "vault:secret/pursight/globex/../acme/orders#password",
        "vault:secret/orders#password",
    ] {
        let error = resolver.resolve(&globex, &secret(raw)).await.unwrap_err();
        assert_eq!(error.kind(), SecretErrorKind::NotAllowed, "{raw}");
        assert!(error.detail().contains("MOUNT/pursight/globex/"), "{error}");
    }
    assert!(
        server.requests().is_empty(),
        "a refused reference reaches no store"
    );
}
