//! `aws-sm:NAME` — AWS Secrets Manager `GetSecretValue` over its JSON protocol, without the SDK.
//!
//! `POST /` to `https://secretsmanager.{region}.amazonaws.com` (or the endpoint override) with
//! `X-Amz-Target: secretsmanager.GetSecretValue`, body `{"SecretId": NAME}`, signed with SigV4
//! ([`super::sigv4`]). The region of an ARN reference wins over the configured region.
//!
//! The answer's `SecretString` is the secret; when it is a JSON object with a string `password`
//! field (the format RDS and the Secrets Manager rotation templates use) that field is the secret.
//! `SecretBinary` is accepted when it decodes to UTF-8. Errors quote only the AWS error code.

use super::config::AwsConfig;
use super::error::{Failure, SecretErrorKind};
use super::http::{identifier, json_body, parse_base_url, transport};
use super::sigv4::{amz_date, authorization, SigningParams, SigningRequest};
use super::value::SecretValue;
use base64::Engine;
use chrono::Utc;
use reqwest::{Client, StatusCode, Url};
use serde_json::Value;

const SERVICE: &str = "AWS Secrets Manager";
const SIGNING_NAME: &str = "secretsmanager";
const TARGET: &str = "secretsmanager.GetSecretValue";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

pub(crate) async fn resolve(
    client: &Client,
    config: &AwsConfig,
    name: &str,
) -> Result<SecretValue, Failure> {
    let region = arn_region(name)
        .or(config.region.as_deref())
        .ok_or_else(|| {
            Failure::new(
                SecretErrorKind::NotConfigured,
                "no AWS region (set AWS_REGION or use the secret's ARN)",
            )
        })?;
    let (Some(access_key_id), Some(secret_access_key)) =
        (&config.access_key_id, &config.secret_access_key)
    else {
        return Err(Failure::new(
            SecretErrorKind::NotConfigured,
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
        ));
    };
    let url = match &config.endpoint {
        Some(endpoint) => parse_base_url(endpoint, "AWS_ENDPOINT_URL_SECRETS_MANAGER")?,
        None => parse_base_url(
            &format!("https://secretsmanager.{region}.amazonaws.com/"),
            "AWS_REGION",
        )?,
    };
    let host = host_header(&url);
    let body = serde_json::to_vec(&serde_json::json!({ "SecretId": name }))
        .expect("a JSON object of one string serializes");
    let now = Utc::now();
    let date = amz_date(now);
    let mut signed: Vec<(&str, &str)> = vec![
        ("content-type", CONTENT_TYPE),
        ("host", &host),
        ("x-amz-date", &date),
        ("x-amz-target", TARGET),
    ];
    if let Some(token) = &config.session_token {
        signed.push(("x-amz-security-token", token.expose()));
    }
    let path = url.path().to_owned();
    let auth = authorization(
        &SigningRequest {
            method: "POST",
            path: &path,
            query: "",
            headers: &signed,
            payload: &body,
        },
        &SigningParams {
            access_key_id,
            secret_access_key: secret_access_key.expose(),
            region,
            service: SIGNING_NAME,
            time: now,
        },
    );
    let mut request = client.post(url.clone()).header("Authorization", auth);
    for (name, value) in &signed {
        // reqwest writes `host` itself from the URL, the same way `host_header` does.
        if *name != "host" {
            request = request.header(*name, *value);
        }
    }
    let response = request
        .body(body)
        .send()
        .await
        .map_err(|error| transport(error, SERVICE, &url))?;
    let status = response.status();
    let header_code = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(':').next().unwrap_or_default().to_owned());
    let body = json_body(response, SERVICE, &url).await;
    if !status.is_success() {
        let body_code = body.ok().and_then(|body| {
            body.get("__type")
                .and_then(Value::as_str)
                .map(|code| code.rsplit('#').next().unwrap_or_default().to_owned())
        });
        let code = body_code.or(header_code);
        return Err(error_failure(status, code.as_deref().and_then(identifier)));
    }
    secret_from(&body?)
}

fn secret_from(body: &Value) -> Result<SecretValue, Failure> {
    if let Some(text) = body.get("SecretString").and_then(Value::as_str) {
        if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text) {
            if let Some(Value::String(password)) = fields.get("password") {
                return non_empty(password.clone());
            }
        }
        return non_empty(text.to_owned());
    }
    if let Some(encoded) = body.get("SecretBinary").and_then(Value::as_str) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| {
                Failure::new(
                    SecretErrorKind::MalformedResponse,
                    "SecretBinary is not base64",
                )
            })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Failure::new(
                SecretErrorKind::MalformedResponse,
                "SecretBinary is not UTF-8 text",
            )
        })?;
        return non_empty(text);
    }
    Err(Failure::new(
        SecretErrorKind::MalformedResponse,
        "the answer has neither SecretString nor SecretBinary",
    ))
}

fn non_empty(value: String) -> Result<SecretValue, Failure> {
    if value.is_empty() {
        Err(Failure::new(
            SecretErrorKind::NotFound,
            "the secret is empty",
        ))
    } else {
        Ok(SecretValue::new(value))
    }
}

fn error_failure(status: StatusCode, code: Option<&str>) -> Failure {
    let kind = match code {
        Some("ResourceNotFoundException") => SecretErrorKind::NotFound,
        Some(
            "AccessDeniedException"
            | "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "IncompleteSignature"
            | "MissingAuthenticationToken"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "DecryptionFailure",
        ) => SecretErrorKind::Unauthorized,
        _ => match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => SecretErrorKind::Unauthorized,
            StatusCode::NOT_FOUND => SecretErrorKind::NotFound,
            _ => SecretErrorKind::ServiceError,
        },
    };
    let detail = match code {
        Some(code) => format!("HTTP {} from {SERVICE} ({code})", status.as_u16()),
        None => format!("HTTP {} from {SERVICE}", status.as_u16()),
    };
    Failure::new(kind, detail)
}

/// The region of `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME`.
fn arn_region(name: &str) -> Option<&str> {
    let mut parts = name.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_partition), Some("secretsmanager"), Some(region))
            if !region.is_empty() =>
        {
            Some(region)
        }
        _ => None,
    }
}

/// `host[:port]` as HTTP clients send it (the port only when it is not the scheme's default).
fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_regions_are_found() {
        assert_eq!(
            arn_region("arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-AbCdEf"),
            Some("eu-west-1")
        );
        assert_eq!(arn_region("prod/pg"), None);
    }

    #[test]
    fn host_headers_carry_non_default_ports() {
        assert_eq!(
            host_header(&Url::parse("http://127.0.0.1:4566/").unwrap()),
            "127.0.0.1:4566"
        );
        assert_eq!(
            host_header(&Url::parse("https://secretsmanager.eu-west-1.amazonaws.com/").unwrap()),
            "secretsmanager.eu-west-1.amazonaws.com"
        );
    }

    #[test]
    fn json_secrets_yield_their_password_field() {
        let body = serde_json::json!({
            "SecretString": "{\"username\":\"app\",\"password\":\"p@ss\"}"
        });
        assert_eq!(secret_from(&body).unwrap().expose(), "p@ss");
        let plain = serde_json::json!({ "SecretString": "plain-value" });
        assert_eq!(secret_from(&plain).unwrap().expose(), "plain-value");
        let binary = serde_json::json!({ "SecretBinary": "aHVudGVyMg==" });
        assert_eq!(secret_from(&binary).unwrap().expose(), "hunter2");
    }

    #[test]
    fn error_codes_decide_the_kind() {
        let not_found = error_failure(StatusCode::BAD_REQUEST, Some("ResourceNotFoundException"));
        assert_eq!(not_found.kind, SecretErrorKind::NotFound);
        assert_eq!(
            not_found.detail,
            "HTTP 400 from AWS Secrets Manager (ResourceNotFoundException)"
        );
        assert_eq!(
            error_failure(StatusCode::BAD_REQUEST, Some("UnrecognizedClientException")).kind,
            SecretErrorKind::Unauthorized
        );
        assert_eq!(
            error_failure(StatusCode::INTERNAL_SERVER_ERROR, None).kind,
            SecretErrorKind::ServiceError
        );
    }
}
