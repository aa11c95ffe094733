//! `vault:PATH#FIELD` — HashiCorp Vault, KV version 2 secrets engine, over its HTTP API.
//!
//! `PATH` is `MOUNT/SECRET`: `secret/orders` reads `GET {VAULT_ADDR}/v1/secret/data/orders` with
//! the `X-Vault-Token` header, and `FIELD` is taken from `data.data` of the answer. A path that
//! already contains a `data` segment after the mount (`secret/data/orders`, the API form) is used
//! as written, which is also how mounts with a `/` in their name are addressed.

use super::config::VaultConfig;
use super::error::{Failure, SecretErrorKind};
use super::http::{json_body, parse_base_url, status_failure, transport};
use super::value::SecretValue;
use reqwest::{Client, Url};
use serde_json::Value;

const SERVICE: &str = "Vault";

pub(crate) async fn resolve(
    client: &Client,
    config: &VaultConfig,
    path: &str,
    field: &str,
) -> Result<SecretValue, Failure> {
    let address = config
        .address
        .as_deref()
        .ok_or_else(|| Failure::new(SecretErrorKind::NotConfigured, "VAULT_ADDR is not set"))?;
    let token = config
        .token
        .as_ref()
        .ok_or_else(|| Failure::new(SecretErrorKind::NotConfigured, "VAULT_TOKEN is not set"))?;
    if field.is_empty() {
        return Err(Failure::new(
            SecretErrorKind::InvalidReference,
            "the reference names no field (vault:PATH#FIELD)",
        ));
    }
    let url = kv2_url(&parse_base_url(address, "VAULT_ADDR")?, path)?;
    let mut request = client
        .get(url.clone())
        .header("X-Vault-Token", token.expose());
    if let Some(namespace) = &config.namespace {
        request = request.header("X-Vault-Namespace", namespace);
    }
    let response = request
        .send()
        .await
        .map_err(|error| transport(error, SERVICE, &url))?;
    if !response.status().is_success() {
        return Err(status_failure(response.status(), SERVICE));
    }
    let body = json_body(response, SERVICE, &url).await?;
    let Some(data) = body.pointer("/data/data") else {
        return Err(Failure::new(
            SecretErrorKind::MalformedResponse,
            "Vault answered without data.data (is this a KV version 2 mount?)",
        ));
    };
    match data.get(field) {
        Some(Value::String(value)) if !value.is_empty() => Ok(SecretValue::new(value.clone())),
        Some(Value::String(_)) => Err(Failure::new(
            SecretErrorKind::NotFound,
            format!("field {field} of the Vault secret is empty"),
        )),
        Some(Value::Number(number)) => Ok(SecretValue::new(number.to_string())),
        Some(Value::Bool(flag)) => Ok(SecretValue::new(flag.to_string())),
        None | Some(Value::Null) if data.is_object() => Err(Failure::new(
            SecretErrorKind::NotFound,
            format!("the Vault secret has no field {field}"),
        )),
        None | Some(Value::Null) => Err(Failure::new(
            SecretErrorKind::NotFound,
            "the Vault secret has no data (deleted or destroyed version?)",
        )),
        Some(_) => Err(Failure::new(
            SecretErrorKind::MalformedResponse,
            format!("field {field} of the Vault secret is not a string"),
        )),
    }
}

/// `{address}/v1/{mount}/data/{rest}`, each segment percent-encoded.
pub(crate) fn kv2_url(address: &Url, path: &str) -> Result<Url, Failure> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.len() < 2 {
        return Err(Failure::new(
            SecretErrorKind::InvalidReference,
            "the Vault path must be MOUNT/SECRET, e.g. secret/orders",
        ));
    }
    let already_api_form = segments[1..].contains(&"data");
    let mut url = address.clone();
    {
        let mut parts = url.path_segments_mut().map_err(|_| {
            Failure::new(
                SecretErrorKind::NotConfigured,
                "VAULT_ADDR cannot carry a path",
            )
        })?;
        parts.pop_if_empty().push("v1").push(segments[0]);
        if !already_api_form {
            parts.push("data");
        }
        parts.extend(&segments[1..]);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(address: &str, path: &str) -> String {
        kv2_url(&Url::parse(address).unwrap(), path)
            .unwrap()
            .to_string()
    }

    #[test]
    fn mount_and_path_become_the_kv2_data_url() {
        assert_eq!(
            url("http://vault:8200", "secret/orders"),
            "http://vault:8200/v1/secret/data/orders"
        );
        assert_eq!(
            url("http://vault:8200/", "secret/team/orders/"),
            "http://vault:8200/v1/secret/data/team/orders"
        );
        assert_eq!(
            url("http://vault:8200", "secret/data/orders"),
            "http://vault:8200/v1/secret/data/orders"
        );
        assert_eq!(
            url("http://vault:8200", "kv/team-a/data/orders"),
            "http://vault:8200/v1/kv/team-a/data/orders"
        );
        assert_eq!(
            url("https://gw.example/vault", "secret/a b"),
            "https://gw.example/vault/v1/secret/data/a%20b"
        );
    }

    #[test]
    fn a_path_without_a_mount_is_refused() {
        let error = kv2_url(&Url::parse("http://vault:8200").unwrap(), "orders").unwrap_err();
        assert_eq!(error.kind, SecretErrorKind::InvalidReference);
    }
}
