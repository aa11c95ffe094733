//! `aws-sm:` references against a stand-in for AWS Secrets Manager.
//!
//! AWS cannot be called from the build machine, so [`common::StubServer`] plays Secrets Manager:
//! it accepts the JSON-protocol request (`POST /`, `X-Amz-Target:
//! secretsmanager.GetSecretValue`, `Content-Type: application/x-amz-json-1.1`) and answers with
//! `GetSecretValue`'s documented response or error shapes (`__type` codes). The SigV4 signature
//! algorithm itself is checked against AWS's published test vectors in the unit tests of
//! `secrets::sigv4`; here the test checks the `Authorization` header's structure and scope.

mod common;

use common::{assert_hidden, Recorded, Reply, StubServer};
use connectors::secrets::{EnvLookup, SecretErrorKind, SecretResolver, SecretResolverConfig};
use domain::datasource::SecretRef;
use serde_json::json;

const KEY_ID: &str = "AKIDPURSIGHTTEST";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYTESTKEY";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSION";
const PASSWORD: &str = "aws-stored-p@ssw0rd";

fn resolver(server: &StubServer, extra: &[(&str, &str)]) -> SecretResolver {
    let mut vars = vec![
        (
            "AWS_ENDPOINT_URL_SECRETS_MANAGER".to_string(),
            server.base_url.clone(),
        ),
        ("AWS_REGION".to_string(), "eu-west-1".to_string()),
        ("AWS_ACCESS_KEY_ID".to_string(), KEY_ID.to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), SECRET_KEY.to_string()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    SecretResolver::new(SecretResolverConfig::from_lookup(EnvLookup::from_map(vars))).unwrap()
}

fn secret(raw: &str) -> SecretRef {
    SecretRef::parse(raw).unwrap()
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply {
        status,
        content_type: "application/x-amz-json-1.1",
        body: json!({ "__type": code, "Message": message }).to_string(),
        headers: Vec::new(),
    }
}

/// Secrets Manager with a plain secret, an RDS-style JSON secret and some failures.
async fn secrets_manager() -> StubServer {
    StubServer::start(|request| {
        if request.method != "POST"
            || request.target != "/"
            || request.header("x-amz-target") != Some("secretsmanager.GetSecretValue")
        {
            return error(400, "UnknownOperationException", "");
        }
        if !request
            .header("authorization")
            .is_some_and(|a| a.starts_with(&format!("AWS4-HMAC-SHA256 Credential={KEY_ID}/")))
        {
            return error(
                400,
                "UnrecognizedClientException",
                "The security token is invalid.",
            );
        }
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let id = body["SecretId"].as_str().unwrap_or_default().to_owned();
        let found = |secret_string: String| Reply {
            status: 200,
            content_type: "application/x-amz-json-1.1",
            body: json!({
                "ARN": format!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:{id}-AbCdEf"),
                "Name": id,
                "SecretString": secret_string,
                "VersionId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
                "VersionStages": ["AWSCURRENT"],
                "CreatedDate": 1.523477145713E9
            })
            .to_string(),
            headers: Vec::new(),
        };
        match id.as_str() {
            "prod/orders-db" => found(PASSWORD.to_owned()),
            "prod/rds-managed" => {
                found(json!({ "username": "admin", "password": PASSWORD }).to_string())
            }
            "arn:aws:secretsmanager:eu-central-1:123456789012:secret:pg-AbCdEf" => {
                found(PASSWORD.to_owned())
            }
            "forbidden" => error(
                400,
                "AccessDeniedException",
                &format!("User is not authorized; the value {PASSWORD} is hidden"),
            ),
            _ => error(
                400,
                "ResourceNotFoundException",
                "Secrets Manager can't find the specified secret.",
            ),
        }
    })
    .await
}

/// The date in the credential scope and the `X-Amz-Date` header agree, and the signed headers
/// are those of the JSON protocol.
fn assert_signed(request: &Recorded, region: &str, signed_headers: &str) {
    let amz_date = request.header("x-amz-date").expect("x-amz-date is sent");
    assert_eq!(amz_date.len(), 16, "{amz_date}");
    let authorization = request.header("authorization").unwrap();
    let prefix = format!(
        "AWS4-HMAC-SHA256 Credential={KEY_ID}/{}/{region}/secretsmanager/aws4_request, \
         SignedHeaders={signed_headers}, Signature=",
        &amz_date[..8]
    );
    assert!(authorization.starts_with(&prefix), "{authorization}");
    let signature = &authorization[prefix.len()..];
    assert_eq!(signature.len(), 64, "{signature}");
    assert!(signature
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(
        request.header("content-type"),
        Some("application/x-amz-json-1.1")
    );
    assert!(!authorization.contains(SECRET_KEY));
}

#[tokio::test]
async fn get_secret_value_is_signed_and_answers_the_secret_string() {
    let server = secrets_manager().await;
    let resolver = resolver(&server, &[]);
    let value = resolver
        .resolve(&secret("aws-sm:prod/orders-db"))
        .await
        .unwrap();
    assert_eq!(value.expose(), PASSWORD);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&request.body).unwrap(),
        json!({ "SecretId": "prod/orders-db" })
    );
    assert_signed(
        request,
        "eu-west-1",
        "content-type;host;x-amz-date;x-amz-target",
    );
    assert_eq!(request.header("x-amz-security-token"), None);
}

#[tokio::test]
async fn session_tokens_are_sent_and_signed_and_arns_choose_the_region() {
    let server = secrets_manager().await;
    let resolver = resolver(&server, &[("AWS_SESSION_TOKEN", SESSION_TOKEN)]);
    let value = resolver
        .resolve(&secret(
            "aws-sm:arn:aws:secretsmanager:eu-central-1:123456789012:secret:pg-AbCdEf",
        ))
        .await
        .unwrap();
    assert_eq!(value.expose(), PASSWORD);
    let request = &server.requests()[0];
    assert_eq!(request.header("x-amz-security-token"), Some(SESSION_TOKEN));
    assert_signed(
        request,
        "eu-central-1",
        "content-type;host;x-amz-date;x-amz-security-token;x-amz-target",
    );
}

#[tokio::test]
async fn json_secrets_yield_their_password() {
    let server = secrets_manager().await;
    let value = resolver(&server, &[])
        .resolve(&secret("aws-sm:prod/rds-managed"))
        .await
        .unwrap();
    assert_eq!(value.expose(), PASSWORD);
}

#[tokio::test]
async fn errors_carry_the_aws_code_and_nothing_of_the_message() {
    let server = secrets_manager().await;
    let resolver = resolver(&server, &[("AWS_SESSION_TOKEN", SESSION_TOKEN)]);

    let missing = resolver
        .resolve(&secret("aws-sm:prod/absent"))
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), SecretErrorKind::NotFound);
    assert_eq!(
        missing.to_string(),
        "cannot resolve secret aws-sm:prod/absent (aws-sm): not found: HTTP 400 from AWS Secrets \
         Manager (ResourceNotFoundException)"
    );

    let denied = resolver
        .resolve(&secret("aws-sm:forbidden"))
        .await
        .unwrap_err();
    assert_eq!(denied.kind(), SecretErrorKind::Unauthorized);
    assert!(
        denied.to_string().ends_with("(AccessDeniedException)"),
        "{denied}"
    );

    let shown: Vec<String> = [&missing, &denied]
        .iter()
        .flat_map(|e| [e.to_string(), format!("{e:?}")])
        .chain([format!("{resolver:?}")])
        .collect();
    assert_hidden(PASSWORD, &shown);
    assert_hidden(SECRET_KEY, &shown);
    assert_hidden(SESSION_TOKEN, &shown);
    assert_hidden("not authorized", &shown);
}

#[tokio::test]
async fn missing_region_or_credentials_are_configuration_errors() {
    let server = secrets_manager().await;
    let no_keys = SecretResolver::new(SecretResolverConfig::from_lookup(EnvLookup::from_map([
        ("AWS_ENDPOINT_URL", server.base_url.as_str()),
        ("AWS_REGION", "eu-west-1"),
    ])))
    .unwrap();
    let error = no_keys
        .resolve(&secret("aws-sm:prod/orders-db"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::NotConfigured);
    assert!(error
        .to_string()
        .ends_with("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"));

    let no_region = SecretResolver::new(SecretResolverConfig::from_lookup(EnvLookup::from_map([
        ("AWS_ACCESS_KEY_ID", KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ])))
    .unwrap();
    let error = no_region
        .resolve(&secret("aws-sm:prod/orders-db"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::NotConfigured);
    assert!(server.requests().is_empty());
}
