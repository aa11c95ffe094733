//! `aws-sm:` references against AWS Secrets Manager as `moto_server` serves it (installed by
//! `.ci/run`), one server per test on a free port.
//!
//! Moto runs with authentication on (`INITIAL_NO_AUTH_ACTION_COUNT`): the first requests create
//! IAM users, their policies and access keys, and the secrets; after that moto checks every
//! SigV4 signature and every user's policy, so a wrong key or a user without
//! `secretsmanager:GetSecretValue` really fails. The signing of session tokens is checked against
//! a request botocore signed, in the unit tests of `secrets::sigv4` (moto refuses its own
//! session credentials for Secrets Manager, so it cannot check them here).

mod common;

use common::assert_hidden;
use connectors::secrets::{EnvLookup, SecretErrorKind, SecretResolver, SecretResolverConfig};
use domain::datasource::SecretRef;
use domain::TenantId;
use object_store::aws::{AwsAuthorizer, AwsCredential};
use object_store::client::{HttpConnector, HttpRequestBody, ReqwestConnector};
use serde_json::{json, Value};

const REGION: &str = "us-east-1";
const PASSWORD: &str = "aws-stored-p@ssw0rd";
const RDS_PASSWORD: &str = "rds-managed-p@ssw0rd";

/// A moto server with two users (`reader`, allowed `secretsmanager:GetSecretValue`, and `nobody`,
/// allowed nothing), their access keys, and tenant `acme`'s secrets: a plain one
/// (`pursight/acme/orders-db`) and an RDS-style JSON one (`pursight/acme/rds-managed`).
struct SecretsManager {
    endpoint: String,
    reader: AwsCredential,
    nobody: AwsCredential,
    /// The ARN moto gave `pursight/acme/orders-db`.
    orders_arn: String,
    /// Killed when the test ends.
    _server: testkit::MotoServer,
}

impl SecretsManager {
    async fn start() -> Self {
        // Unauthenticated: 2 × (CreateUser, CreateAccessKey), 1 PutUserPolicy, 2 CreateSecret.
        let server = testkit::MotoServer::start(&[("INITIAL_NO_AUTH_ACTION_COUNT", "7")]).await;
        let endpoint = server.endpoint();
        let http = ReqwestConnector::default()
            .connect(&object_store::ClientOptions::new().with_allow_http(true))
            .unwrap();
        let bootstrap = AwsCredential {
            key_id: "bootstrap".into(),
            secret_key: "bootstrap".into(),
            token: None,
        };
        let send = async |service: &str, target: Option<&str>, body: String| {
            let content_type = match target {
                Some(_) => "application/x-amz-json-1.1",
                None => "application/x-www-form-urlencoded",
            };
            let mut request = http::Request::builder()
                .method("POST")
                .uri(format!("{endpoint}/"))
                .header("content-type", content_type);
            if let Some(target) = target {
                request = request.header("x-amz-target", target);
            }
            let mut request = request.body(HttpRequestBody::from(body)).unwrap();
            AwsAuthorizer::new(&bootstrap, service, REGION).authorize(&mut request, None);
            let response = http.execute(request).await.unwrap();
            let status = response.status().as_u16();
            let body = response.into_body().bytes().await.unwrap();
            let body = String::from_utf8_lossy(&body).into_owned();
            assert_eq!(status, 200, "{service} {target:?}: {body}");
            body
        };
        let iam = |action: String| send("iam", None, format!("{action}&Version=2010-05-08"));
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
        let encoded =
            percent_encoding::utf8_percent_encode(policy, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let mut keys = Vec::new();
        for user in ["reader", "nobody"] {
            iam(format!("Action=CreateUser&UserName={user}")).await;
            let body = iam(format!("Action=CreateAccessKey&UserName={user}")).await;
            keys.push(AwsCredential {
                key_id: between(&body, "<AccessKeyId>", "</AccessKeyId>"),
                secret_key: between(&body, "<SecretAccessKey>", "</SecretAccessKey>"),
                token: None,
            });
        }
        iam(format!(
            "Action=PutUserPolicy&UserName=reader&PolicyName=read&PolicyDocument={encoded}"
        ))
        .await;
        let create = async |name: &str, value: String| {
            let body = send(
                "secretsmanager",
                Some("secretsmanager.CreateSecret"),
                json!({ "Name": name, "SecretString": value }).to_string(),
            )
            .await;
            serde_json::from_str::<Value>(&body).unwrap()["ARN"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let orders_arn = create("pursight/acme/orders-db", PASSWORD.to_owned()).await;
        create(
            "pursight/acme/rds-managed",
            json!({ "username": "admin", "password": RDS_PASSWORD }).to_string(),
        )
        .await;
        let nobody = keys.pop().unwrap();
        let reader = keys.pop().unwrap();
        Self {
            endpoint: endpoint.clone(),
            reader,
            nobody,
            orders_arn,
            _server: server,
        }
    }

    /// A resolver signing with `key` (and `secret_key` instead of the key's own, when given).
    fn resolver(&self, key: &AwsCredential, secret_key: Option<&str>) -> SecretResolver {
        let vars = [
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", self.endpoint.as_str()),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", key.key_id.as_str()),
            (
                "AWS_SECRET_ACCESS_KEY",
                secret_key.unwrap_or(&key.secret_key),
            ),
        ];
        SecretResolver::new(SecretResolverConfig::from_lookup(EnvLookup::from_map(vars))).unwrap()
    }
}

fn between(text: &str, open: &str, close: &str) -> String {
    let start = text
        .find(open)
        .unwrap_or_else(|| panic!("{open} in {text}"))
        + open.len();
    let end = text[start..].find(close).unwrap() + start;
    text[start..end].to_owned()
}

fn acme() -> TenantId {
    TenantId::parse("acme").unwrap()
}

fn secret(raw: &str) -> SecretRef {
    SecretRef::parse(raw).unwrap()
}

#[tokio::test]
async fn signed_requests_read_plain_and_json_secrets_by_name_and_arn() {
    let sm = SecretsManager::start().await;
    let resolver = sm.resolver(&sm.reader, None);
    let plain = resolver
        .resolve(&acme(), &secret("aws-sm:pursight/acme/orders-db"))
        .await
        .unwrap();
    assert_eq!(plain.expose(), PASSWORD);
    let rds = resolver
        .resolve(&acme(), &secret("aws-sm:pursight/acme/rds-managed"))
        .await
        .unwrap();
    assert_eq!(
        rds.expose(),
        RDS_PASSWORD,
        "a JSON secret yields its password"
    );
    let by_arn = resolver
        .resolve(&acme(), &secret(&format!("aws-sm:{}", sm.orders_arn)))
        .await
        .unwrap();
    assert_eq!(by_arn.expose(), PASSWORD);
}

#[tokio::test]
async fn refusals_and_missing_secrets_are_named_without_values_or_bodies() {
    let sm = SecretsManager::start().await;
    let wrong_key = "WRONG-secret-access-key-0123456789";
    let forged = sm.resolver(&sm.reader, Some(wrong_key));
    let error = forged
        .resolve(&acme(), &secret("aws-sm:pursight/acme/orders-db"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::Unauthorized, "{error}");
    assert_eq!(
        error.to_string(),
        "cannot resolve secret aws-sm:pursight/acme/orders-db (aws-sm): unauthorized: HTTP 403 \
         from AWS Secrets Manager"
    );

    let unprivileged = sm.resolver(&sm.nobody, None);
    let denied = unprivileged
        .resolve(&acme(), &secret("aws-sm:pursight/acme/orders-db"))
        .await
        .unwrap_err();
    assert_eq!(denied.kind(), SecretErrorKind::Unauthorized, "{denied}");

    let reader = sm.resolver(&sm.reader, None);
    let missing = reader
        .resolve(&acme(), &secret("aws-sm:pursight/acme/absent"))
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), SecretErrorKind::NotFound);
    // AWS answers 400, moto 404; both name the code, which is what the message repeats.
    assert!(
        missing.to_string().starts_with(
            "cannot resolve secret aws-sm:pursight/acme/absent (aws-sm): not found: HTTP "
        ),
        "{missing}"
    );
    assert!(
        missing
            .to_string()
            .ends_with(" from AWS Secrets Manager (ResourceNotFoundException)"),
        "{missing}"
    );

    let shown: Vec<String> = [&error, &denied, &missing]
        .iter()
        .flat_map(|e| [e.to_string(), format!("{e:?}")])
        .chain([format!("{forged:?}"), format!("{reader:?}")])
        .collect();
    assert_hidden(PASSWORD, &shown);
    assert_hidden(wrong_key, &shown);
    assert_hidden(&sm.reader.secret_key, &shown);
    // Moto's refusal bodies name the user and the action; none of it is repeated.
    assert_hidden("not authorized", &shown);
    assert_hidden("SignatureDoesNotMatch", &shown);
}

#[tokio::test]
async fn another_tenants_secrets_are_refused_before_any_request() {
    let sm = SecretsManager::start().await;
    let resolver = sm.resolver(&sm.reader, None);
    let globex = TenantId::parse("globex").unwrap();
    for raw in [
        "aws-sm:pursight/acme/orders-db".to_owned(),
        format!("aws-sm:{}", sm.orders_arn),
        "aws-sm:pursight/globex/../acme/orders-db".to_owned(),
        "aws-sm:orders-db".to_owned(),
    ] {
        let error = resolver.resolve(&globex, &secret(&raw)).await.unwrap_err();
        assert_eq!(error.kind(), SecretErrorKind::NotAllowed, "{raw}: {error}");
        assert_eq!(
            error.detail(),
            "aws-sm: references must name a secret under pursight/globex/ (one tenant's part of \
             the store)"
        );
    }
}

#[tokio::test]
async fn missing_region_or_credentials_are_configuration_errors() {
    let no_keys = SecretResolver::new(SecretResolverConfig::from_lookup(EnvLookup::from_map([
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
        ("AWS_REGION", REGION),
    ])))
    .unwrap();
    let error = no_keys
        .resolve(&acme(), &secret("aws-sm:pursight/acme/orders-db"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::NotConfigured);
    assert!(error
        .to_string()
        .ends_with("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"));

    let no_region = SecretResolver::new(SecretResolverConfig::from_lookup(EnvLookup::from_map([
        ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "example-secret"),
    ])))
    .unwrap();
    let error = no_region
        .resolve(&acme(), &secret("aws-sm:pursight/acme/orders-db"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::NotConfigured);
}
