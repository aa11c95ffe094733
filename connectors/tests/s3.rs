//! The S3 connector against moto (`moto_server`, installed by `.ci/run`), one server per test on
//! a free port, killed when the test ends (also when it panics).
//!
//! The validation-failure test starts moto with authentication on (`INITIAL_NO_AUTH_ACTION_COUNT`):
//! it creates an IAM user with an `s3:*` policy and an access key in the first unauthenticated
//! requests, after which moto checks every signature, so wrong keys really fail. Moto's signature
//! check rejects valid signatures of keys with `=` and of listings with a `/` in the prefix (boto3's
//! too), so the other tests run moto without it; there the connector still resolves its key from a
//! `file:` secret reference and signs, and moto accepts any key. Buckets and objects are seeded
//! through `object_store`; Parquet objects are written with the `parquet` crate's writer.

mod common;
use common::{free_port, unique};

use bytes::Bytes;
use connectors::options::{ConnectionTarget, SourceSecrets};
use connectors::probe::{DiscoveryError, DiscoveryOptions, DiscoveryProgress};
use connectors::s3::{discover, sample, validate, S3Target};
use connectors::secrets::{SecretResolver, SecretResolverConfig, SecretValue};
use domain::datasource::SecretPolicy;
use domain::TenantId;

/// The tenant whose `file:` secrets these tests resolve.
const SECRET_TENANT: &str = "pursight-s3";
use domain::datasource::{CloudConfigInput, DataSourceConfigInput, FailureCategory};
use domain::discovery::{AssetKind, AssetPath, AssetSchema};
use domain::scan::{ScanScope, ScanStrategy};
use object_store::aws::{AmazonS3, AmazonS3Builder, AwsAuthorizer, AwsCredential};
use object_store::client::{HttpClient, HttpConnector, HttpRequestBody, ReqwestConnector};
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, PutPayload};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const REGION: &str = "us-east-1";

/// One moto server, an access key (with authentication on: one allowed `s3:*`), and that key's
/// secret in a file the source's `file:` reference points to.
struct Moto {
    endpoint: String,
    key_id: String,
    secret: String,
    secret_file: std::path::PathBuf,
    http: HttpClient,
    /// Killed when the test ends (dropped after the fields above).
    _server: testkit::MotoServer,
}

impl Moto {
    /// A server that accepts any key.
    async fn start() -> Moto {
        Self::launch(false).await
    }

    /// A server that checks signatures against the key it issued.
    async fn start_with_auth() -> Moto {
        Self::launch(true).await
    }

    async fn launch(auth: bool) -> Moto {
        // With authentication on, three unauthenticated requests: the user, its policy, its key.
        let env: &[(&str, &str)] = if auth {
            &[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]
        } else {
            &[]
        };
        let server = testkit::MotoServer::start(env).await;
        let http = ReqwestConnector::default()
            .connect(&ClientOptions::new().with_allow_http(true))
            .unwrap();
        let mut moto = Moto {
            endpoint: server.endpoint(),
            key_id: String::new(),
            secret: String::new(),
            // The tenant `pursight-s3`'s directory under a secret directory of the temp dir.
            secret_file: std::env::temp_dir()
                .join(SECRET_TENANT)
                .join(unique("pursight-s3-secret-")),
            http,
            _server: server,
        };
        if auth {
            moto.bootstrap_iam().await;
        } else {
            moto.key_id = "AKIAPURSIGHTTEST0000".to_owned();
            moto.secret = unique("moto-secret-");
        }
        std::fs::create_dir_all(moto.secret_file.parent().unwrap()).unwrap();
        std::fs::write(&moto.secret_file, &moto.secret).unwrap();
        moto
    }

    /// Creates the user, its policy and its access key (moto does not check these three).
    async fn bootstrap_iam(&mut self) {
        let anyone = AwsCredential {
            key_id: "bootstrap".into(),
            secret_key: "bootstrap".into(),
            token: None,
        };
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        let encode = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        for action in [
            "Action=CreateUser&UserName=pursight".to_owned(),
            format!(
                "Action=PutUserPolicy&UserName=pursight&PolicyName=all&PolicyDocument={}",
                encode(policy)
            ),
            "Action=CreateAccessKey&UserName=pursight".to_owned(),
        ] {
            let (status, body) = self
                .signed(
                    "POST",
                    "/",
                    format!("{action}&Version=2010-05-08"),
                    "iam",
                    &anyone,
                )
                .await;
            assert_eq!(status, 200, "IAM {action}: {body}");
            if action.starts_with("Action=CreateAccessKey") {
                self.key_id = between(&body, "<AccessKeyId>", "</AccessKeyId>");
                self.secret = between(&body, "<SecretAccessKey>", "</SecretAccessKey>");
            }
        }
    }

    fn credential(&self) -> AwsCredential {
        AwsCredential {
            key_id: self.key_id.clone(),
            secret_key: self.secret.clone(),
            token: None,
        }
    }

    /// A SigV4-signed request; the status and body of the answer.
    async fn signed(
        &self,
        method: &str,
        path: &str,
        body: String,
        service: &str,
        credential: &AwsCredential,
    ) -> (u16, String) {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.endpoint))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(HttpRequestBody::from(body))
            .unwrap();
        AwsAuthorizer::new(credential, service, REGION).authorize(&mut request, None);
        let response = self.http.execute(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().bytes().await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    async fn create_bucket(&self, bucket: &str) -> AmazonS3 {
        let (status, body) = self
            .signed(
                "PUT",
                &format!("/{bucket}"),
                String::new(),
                "s3",
                &self.credential(),
            )
            .await;
        assert_eq!(status, 200, "create bucket {bucket}: {body}");
        AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_region(REGION)
            .with_bucket_name(bucket)
            .with_access_key_id(&self.key_id)
            .with_secret_access_key(&self.secret)
            .build()
            .unwrap()
    }

    /// A source on this server: `database` is `BUCKET[/PREFIX]` or none (every bucket).
    fn target(&self, database: Option<&str>) -> S3Target {
        self.target_with(database, &self.key_id, &self.secret_ref())
    }

    fn secret_ref(&self) -> String {
        format!("file:{}", self.secret_file.display())
    }

    fn target_with(&self, database: Option<&str>, key_id: &str, secret_ref: &str) -> S3Target {
        target_at(&self.endpoint, database, key_id, secret_ref)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.secret_file);
    }
}

/// A source on `endpoint` whose secret access key is in the file `secret_ref` names
/// (`file:PATH`). The command layer resolves references before it builds a target
/// (`SourceSecrets::resolve`, exercised below); the connector only ever sees the value.
fn target_at(endpoint: &str, database: Option<&str>, key_id: &str, secret_ref: &str) -> S3Target {
    let path = secret_ref
        .strip_prefix("file:")
        .expect("the tests keep secrets in files");
    let secrets = SourceSecrets {
        password: None,
        signing_key: Some(SecretValue::new(std::fs::read_to_string(path).unwrap())),
    };
    match ConnectionTarget::from_config(&config(endpoint, database, key_id, secret_ref), &secrets)
        .unwrap()
    {
        ConnectionTarget::S3(target) => target,
        other => panic!("not an S3 target: {other}"),
    }
}

fn config(
    endpoint: &str,
    database: Option<&str>,
    key_id: &str,
    secret_ref: &str,
) -> domain::datasource::DataSourceConfig {
    DataSourceConfigInput {
        name: Some("Lake under test".into()),
        kind: Some("s3".into()),
        database: database.map(Into::into),
        cloud_config: Some(CloudConfigInput {
            endpoint_url: Some(endpoint.into()),
            access_key_id: Some(key_id.into()),
            secret_access_key: Some(secret_ref.into()),
            region: Some(REGION.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
    .parse()
    .unwrap_or_else(|e| panic!("test config: {e}"))
}

fn between(text: &str, open: &str, close: &str) -> String {
    let start = text
        .find(open)
        .unwrap_or_else(|| panic!("{open} in {text}"))
        + open.len();
    let end = text[start..].find(close).unwrap() + start;
    text[start..end].to_owned()
}

async fn put(store: &AmazonS3, key: &str, bytes: impl Into<Bytes>) {
    store
        .put(&Path::parse(key).unwrap(), PutPayload::from(bytes.into()))
        .await
        .unwrap();
}

/// Three orders written with the low-level Parquet writer (Snappy pages): a required `id`, an
/// optional UTF-8 `email`, a `double` amount, an optional UTC millisecond timestamp and an
/// optional `address` group holding an optional `city`.
fn orders_parquet() -> Vec<u8> {
    use parquet::basic::Compression;
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    let schema = parse_message_type(
        "message orders {
            REQUIRED INT64 id;
            OPTIONAL BYTE_ARRAY email (UTF8);
            REQUIRED DOUBLE amount;
            OPTIONAL INT64 created_at (TIMESTAMP(MILLIS,true));
            OPTIONAL group address {
                OPTIONAL BYTE_ARRAY city (UTF8);
            }
        }",
    )
    .unwrap();
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut out = Vec::new();
    let mut writer =
        SerializedFileWriter::new(&mut out, Arc::new(schema), Arc::new(properties)).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let mut index = 0;
    while let Some(mut column) = group.next_column().unwrap() {
        match index {
            0 => {
                column
                    .typed::<Int64Type>()
                    .write_batch(&[1, 2, 3], None, None)
                    .unwrap();
            }
            1 => {
                let emails = [
                    ByteArray::from("ana@example.com"),
                    ByteArray::from("li@example.com"),
                ];
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&emails, Some(&[1, 0, 1]), None)
                    .unwrap();
            }
            2 => {
                column
                    .typed::<DoubleType>()
                    .write_batch(&[10.5, 20.0, 7.25], None, None)
                    .unwrap();
            }
            3 => {
                column
                    .typed::<Int64Type>()
                    .write_batch(
                        &[1_709_203_872_000, 1_709_290_272_000],
                        Some(&[1, 1, 0]),
                        None,
                    )
                    .unwrap();
            }
            4 => {
                // Row 1: address.city set; row 2: no address; row 3: address without city.
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&[ByteArray::from("Lisbon")], Some(&[2, 0, 1]), None)
                    .unwrap();
            }
            other => panic!("unexpected column {other}"),
        }
        column.close().unwrap();
        index += 1;
    }
    group.close().unwrap();
    writer.close().unwrap();
    out
}

const CUSTOMERS_1: &str = "id,name,email,zip,signup_date,score\n\
                           1,Ana,ana@example.com,02139,2024-01-05,4.5\n\
                           2,Bo,,10001,2024-02-10,3\n";
const CUSTOMERS_2: &str =
    "id,name,email,zip,signup_date,score\n3,Cy,cy@example.com,94105,2024-03-01,5\n";
const EVENTS_1: &str = "{\"id\":1,\"type\":\"click\",\"user\":{\"email\":\"a@x.io\",\"address\":{\"city\":\"Oslo\"}},\"tags\":[\"a\"]}\n\
                        {\"id\":2,\"type\":\"view\",\"user\":{\"email\":null}}\n";
const EVENTS_2: &str = "{\"id\":3,\"type\":\"click\",\"user\":{\"email\":\"c@x.io\",\"address\":{\"city\":\"Rome\",\"zip\":\"00100\"}},\"score\":1.5}\n";

/// A bucket with CSV, partitioned JSON lines, Parquet, a JSON array at the root, an unreadable
/// format and bookkeeping files.
async fn seed_lake(moto: &Moto) -> String {
    let bucket = unique("lake-");
    let store = moto.create_bucket(&bucket).await;
    put(&store, "customers/part-1.csv", CUSTOMERS_1).await;
    put(&store, "customers/part-2.csv", CUSTOMERS_2).await;
    put(&store, "events/date=2024-01-01/part-0.json", EVENTS_1).await;
    put(&store, "events/date=2024-01-02/part-0.json", EVENTS_2).await;
    put(&store, "events/_SUCCESS", "done").await;
    put(&store, "orders/2024/orders.parquet", orders_parquet()).await;
    put(&store, "docs/contract.pdf", "%PDF-1.4 not really").await;
    put(&store, "docs/empty.txt", Bytes::new()).await;
    put(
        &store,
        "accounts.json",
        r#"[{"account": "A-1", "active": true}, {"account": "A-2", "active": false, "limit": 100}]"#,
    )
    .await;
    bucket
}

/// The source of `bucket` on `moto`, and its discovery with the default options.
async fn discover_bucket(moto: &Moto, bucket: &str) -> (S3Target, connectors::probe::Discovery) {
    let target = moto.target(Some(bucket));
    let discovery = discover(&target, &DiscoveryOptions::default(), &no_progress)
        .await
        .unwrap();
    (target, discovery)
}

fn by_path(assets: &[AssetSchema]) -> BTreeMap<String, &AssetSchema> {
    assets.iter().map(|a| (a.path.to_string(), a)).collect()
}

fn columns(asset: &AssetSchema) -> Vec<(&str, &str, bool)> {
    let mut columns: Vec<_> = asset.columns.iter().collect();
    columns.sort_by_key(|c| c.ordinal);
    columns
        .into_iter()
        .map(|c| (c.name.as_str(), c.data_type.as_str(), c.nullable))
        .collect()
}

fn path(bucket: &str, prefix: &str) -> String {
    AssetPath::new([bucket, prefix]).unwrap().to_string()
}

fn no_progress(_: DiscoveryProgress) {}

fn scoped(include: &[String], exclude: &[String]) -> DiscoveryOptions {
    DiscoveryOptions {
        scope: ScanScope::parse(include, exclude).unwrap(),
        ..DiscoveryOptions::default()
    }
}

/// A listener that accepts connections and never answers.
async fn silent_server() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (port, task)
}

// ---- validation --------------------------------------------------------------------------------

#[tokio::test]
async fn validate_lists_the_bucket_or_the_buckets() {
    let moto = Moto::start().await;
    let bucket = unique("valid-");
    moto.create_bucket(&bucket).await;

    let info = validate(&moto.target(Some(&bucket)), Duration::from_secs(10))
        .await
        .unwrap();
    assert!(info.latency_ms < 10_000);
    assert_eq!(info.server_version, None);
    // Through the one entry point, and with a prefix, and with no bucket at all (ListBuckets).
    let target = ConnectionTarget::S3(moto.target(Some(&format!("{bucket}/landing/2024"))));
    connectors::live::validate(&target, Duration::from_secs(10))
        .await
        .unwrap();
    validate(&moto.target(None), Duration::from_secs(10))
        .await
        .unwrap();
}

#[tokio::test]
async fn validate_classifies_failures_and_hides_the_secret() {
    let moto = Moto::start_with_auth().await;
    let bucket = unique("fail-");
    moto.create_bucket(&bucket).await;
    let timeout = Duration::from_secs(10);

    // The key moto issued passes, for the bucket and for ListBuckets.
    validate(&moto.target(Some(&bucket)), timeout)
        .await
        .unwrap();
    validate(&moto.target(None), timeout).await.unwrap();

    // A wrong secret for a real key: moto refuses the signature.
    let wrong_file = std::env::temp_dir().join(unique("pursight-s3-wrong-"));
    let wrong_secret = "WRONG-secret-value-0123456789";
    std::fs::write(&wrong_file, wrong_secret).unwrap();
    let wrong_ref = format!("file:{}", wrong_file.display());
    for database in [Some(bucket.as_str()), None] {
        let failure = validate(
            &moto.target_with(database, &moto.key_id, &wrong_ref),
            timeout,
        )
        .await
        .unwrap_err();
        assert_eq!(failure.category, FailureCategory::Auth, "{failure}");
        assert!(
            failure.message.contains("SignatureDoesNotMatch"),
            "{failure}"
        );
        for shown in [failure.to_string(), format!("{failure:?}")] {
            assert!(!shown.contains(wrong_secret), "{shown}");
        }
    }
    let _ = std::fs::remove_file(&wrong_file);

    // A key moto never issued.
    let failure = validate(
        &moto.target_with(Some(&bucket), "AKIAUNKNOWN000000000", &moto.secret_ref()),
        timeout,
    )
    .await
    .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Auth, "{failure}");
    assert!(failure.message.contains("InvalidAccessKeyId"), "{failure}");
    assert!(!failure.message.contains(&moto.secret), "{failure}");

    // A secret reference that cannot be resolved fails before any request, as `Auth`.
    let unresolvable = config(
        &moto.endpoint,
        Some(&bucket),
        &moto.key_id,
        "file:nonexistent-secret",
    );
    let resolver = SecretResolver::new(
        SecretResolverConfig::from_env().with_policy(
            SecretPolicy::new(
                SecretPolicy::DEFAULT_ENV_PREFIX,
                std::env::temp_dir().to_str(),
                SecretPolicy::DEFAULT_STORE_PREFIX,
            )
            .unwrap(),
        ),
    )
    .unwrap();
    let tenant = TenantId::parse(SECRET_TENANT).unwrap();
    let failure = SourceSecrets::resolve(&tenant, &unresolvable, &resolver)
        .await
        .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Auth, "{failure}");
    assert!(
        failure.message.contains("cloud_config.secret_access_key"),
        "{failure}"
    );
    // The reference this server's key is in resolves to that key.
    let resolvable = config(
        &moto.endpoint,
        Some(&bucket),
        &moto.key_id,
        &moto.secret_ref(),
    );
    let secrets = SourceSecrets::resolve(&tenant, &resolvable, &resolver)
        .await
        .unwrap();
    assert_eq!(
        secrets.signing_key.as_ref().map(SecretValue::expose),
        Some(moto.secret.as_str())
    );

    // A bucket that does not exist.
    let failure = validate(&moto.target(Some("no-such-bucket-pursight")), timeout)
        .await
        .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Config, "{failure}");
    assert!(failure.message.contains("NoSuchBucket"), "{failure}");

    // Nothing listening.
    let closed = format!("http://127.0.0.1:{}", free_port());
    for database in [Some(bucket.as_str()), None] {
        let failure = validate(
            &target_at(&closed, database, &moto.key_id, &moto.secret_ref()),
            timeout,
        )
        .await
        .unwrap_err();
        assert_eq!(failure.category, FailureCategory::Unreachable, "{failure}");
    }

    // A server that accepts and never answers.
    let (port, server) = silent_server().await;
    let silent = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let failure = validate(
        &target_at(&silent, Some(&bucket), &moto.key_id, &moto.secret_ref()),
        Duration::from_millis(700),
    )
    .await
    .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Timeout, "{failure}");
    assert!(started.elapsed() < Duration::from_secs(5));
    server.abort();
}

// ---- discovery ---------------------------------------------------------------------------------

#[tokio::test]
async fn discovers_csv_json_lines_and_parquet_prefixes() {
    let moto = Moto::start().await;
    let bucket = seed_lake(&moto).await;
    let seen = Mutex::new(Vec::new());
    let record = |p: DiscoveryProgress| seen.lock().unwrap().push(p);
    let discovery = discover(
        &moto.target(Some(&bucket)),
        &DiscoveryOptions::default(),
        &record,
    )
    .await
    .unwrap();
    let assets = by_path(&discovery.assets);
    assert_eq!(
        assets.keys().cloned().collect::<Vec<_>>(),
        [
            bucket.clone(),
            path(&bucket, "/"),
            path(&bucket, "customers/"),
            path(&bucket, "docs/"),
            path(&bucket, "events/"),
            path(&bucket, "orders/"),
        ]
    );
    let bucket_asset = assets[&bucket];
    assert_eq!(bucket_asset.kind, AssetKind::Database);
    assert!(bucket_asset.columns.is_empty());
    // Data objects: 2 CSV, 2 JSON lines, 1 Parquet, 1 PDF, the root array (not _SUCCESS or
    // the empty object).
    assert_eq!(bucket_asset.row_estimate, Some(7));

    let customers = assets[&path(&bucket, "customers/")];
    assert_eq!(customers.kind, AssetKind::S3Prefix);
    assert_eq!(customers.comment.as_deref(), Some("format: csv"));
    assert_eq!(
        columns(customers),
        [
            ("id", "integer", false),
            ("name", "string", false),
            ("email", "string", true),
            ("zip", "string", false),
            ("signup_date", "date", false),
            ("score", "number", false),
        ]
    );
    assert_eq!(customers.row_estimate, Some(3));

    let events = assets[&path(&bucket, "events/")];
    assert_eq!(events.comment.as_deref(), Some("format: json"));
    assert_eq!(
        columns(events),
        [
            ("id", "number", false),
            ("tags", "array", true),
            ("type", "string", false),
            ("user.address.city", "string", true),
            ("user.email", "null|string", true),
            ("score", "number", true),
            ("user.address.zip", "string", true),
            ("date", "date", false),
        ]
    );
    let date = events.column("date").unwrap();
    assert_eq!(date.comment.as_deref(), Some("partition key"));
    assert_eq!(events.row_estimate, Some(3));

    let orders = assets[&path(&bucket, "orders/")];
    assert_eq!(orders.comment.as_deref(), Some("format: parquet"));
    assert_eq!(
        columns(orders),
        [
            ("id", "int64", false),
            ("email", "string", true),
            ("amount", "double", false),
            ("created_at", "timestamp(ms, utc)", true),
            ("address.city", "string", true),
        ]
    );
    assert_eq!(orders.row_estimate, Some(3), "from the Parquet footer");

    let root = assets[&path(&bucket, "/")];
    assert_eq!(
        columns(root),
        [
            ("account", "string", false),
            ("active", "boolean", false),
            ("limit", "number", true),
        ]
    );
    assert_eq!(root.row_estimate, Some(2));

    // Objects that are not records: one column for their content, nothing read yet.
    let docs = assets[&path(&bucket, "docs/")];
    assert_eq!(docs.comment.as_deref(), Some("format: unknown"));
    assert_eq!(columns(docs), [("content", "binary", false)]);
    assert_eq!(docs.row_estimate, None);

    let metrics = discovery.metrics;
    assert_eq!(metrics.schemas, 1);
    assert_eq!(metrics.collections, 5);
    assert_eq!(metrics.columns, 6 + 8 + 5 + 3 + 1);
    // One listing page; 2 + 2 heads; Parquet tail (the footer fits the first read); the root.
    assert_eq!(metrics.queries_executed, 1 + 2 + 2 + 1 + 1);
    assert_eq!((metrics.retries, metrics.errors), (0, 0));
    assert!(discovery.lineage.is_empty());

    let seen = seen.lock().unwrap();
    let last = seen.last().unwrap();
    assert_eq!(last.assets_done, 6);
    assert_eq!(last.assets_total, Some(6));
    assert!(
        seen.iter().any(|p| p.assets_total.is_none()),
        "listing progress"
    );
    assert_eq!(last.current_strategy, ScanStrategy::Balanced);
}

fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn gzip_compressed_csv_and_json_lines_are_discovered_and_sampled() {
    let moto = Moto::start().await;
    let bucket = unique("gz-");
    let store = moto.create_bucket(&bucket).await;
    put(
        &store,
        "logs/part-0.csv.gz",
        gzip("id,email,ip\n1,ana@example.com,10.0.0.1\n2,bo@example.com,10.0.0.2\n3,,10.0.0.3\n"),
    )
    .await;
    // Two gzip members one after another, as `cat a.gz b.gz` makes.
    let mut members = gzip("id,email,ip\n4,cy@example.com,");
    members.extend(gzip("10.0.0.4\n5,di@example.com,10.0.0.5\n"));
    put(&store, "logs/part-1.csv.gz", members).await;
    put(
        &store,
        "clicks/day-1.jsonl.gz",
        gzip("{\"user\":{\"email\":\"a@x.io\"},\"page\":\"/\"}\n{\"user\":{\"email\":\"b@x.io\"},\"page\":\"/buy\"}\n"),
    )
    .await;
    // Larger than the text read from one object (256 KiB by default): the count is estimated.
    let big: String = std::iter::once("id,email,amount\n".to_owned())
        .chain(
            (0..40_000).map(|i| format!("{i},user{i}@example.com,{}.{}\n", i * 7 % 1000, i % 100)),
        )
        .collect();
    put(&store, "big/part-0.csv.gz", gzip(&big)).await;
    // Named gzip, but not compressed: skipped and counted, never read as text.
    put(
        &store,
        "broken/part-0.csv.gz",
        "id,email\n1,ana@example.com\n",
    )
    .await;

    let (target, discovery) = discover_bucket(&moto, &bucket).await;
    let assets = by_path(&discovery.assets);

    let logs = assets[&path(&bucket, "logs/")];
    assert_eq!(logs.comment.as_deref(), Some("format: csv.gz"));
    assert_eq!(
        columns(logs),
        [
            ("id", "integer", false),
            ("email", "string", true),
            ("ip", "string", false),
        ]
    );
    assert_eq!(logs.row_estimate, Some(5), "both objects read whole");

    let clicks = assets[&path(&bucket, "clicks/")];
    assert_eq!(clicks.comment.as_deref(), Some("format: json.gz"));
    assert_eq!(
        columns(clicks),
        [("page", "string", false), ("user.email", "string", false)]
    );
    assert_eq!(clicks.row_estimate, Some(2));

    let big_asset = assets[&path(&bucket, "big/")];
    assert_eq!(columns(big_asset)[1], ("email", "string", false));
    let estimate = big_asset.row_estimate.unwrap();
    assert!(
        (36_000..=44_000).contains(&estimate),
        "40 000 rows estimated as {estimate}"
    );

    let broken = assets[&path(&bucket, "broken/")];
    assert!(broken.columns.is_empty());
    assert_eq!(discovery.metrics.errors, 1, "the object that is not gzip");

    let timeout = Duration::from_secs(10);
    let sampled = sample(&target, logs, 10, timeout).await.unwrap();
    assert_eq!(sampled.rows, 5);
    assert_eq!(
        values(&sampled, "email"),
        texts(&[
            Some("ana@example.com"),
            Some("bo@example.com"),
            None,
            Some("cy@example.com"),
            Some("di@example.com"),
        ])
    );
    let sampled = sample(&target, big_asset, 3, timeout).await.unwrap();
    assert_eq!(
        values(&sampled, "email"),
        texts(&[
            Some("user0@example.com"),
            Some("user1@example.com"),
            Some("user2@example.com"),
        ])
    );
}

#[tokio::test]
async fn the_objects_in_json_arrays_are_columns_and_sampled() {
    let moto = Moto::start().await;
    let bucket = unique("nested-");
    let store = moto.create_bucket(&bucket).await;
    put(
        &store,
        "customers/part-0.jsonl",
        "{\"id\":1,\"contacts\":[{\"kind\":\"home\",\"email\":null},{\"kind\":\"work\",\"email\":\"ann@corp.example\"}]}\n\
         {\"id\":2,\"contacts\":[]}\n\
         {\"id\":3,\"contacts\":[{\"kind\":\"home\",\"email\":\"cy@home.example\"}]}\n",
    )
    .await;
    let (target, discovery) = discover_bucket(&moto, &bucket).await;
    let assets = by_path(&discovery.assets);
    let customers = assets[&path(&bucket, "customers/")];
    assert_eq!(
        columns(customers),
        [
            ("contacts", "array", false),
            ("contacts.email", "null|string", true),
            ("contacts.kind", "string", true),
            ("id", "number", false),
        ]
    );
    let sampled = sample(&target, customers, 10, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        values(&sampled, "contacts.email"),
        texts(&[Some("ann@corp.example"), None, Some("cy@home.example")])
    );
    assert_eq!(
        values(&sampled, "contacts.kind"),
        texts(&[Some("home"), None, Some("home")])
    );
}

#[tokio::test]
async fn a_rescan_of_unchanged_objects_gives_identical_schemas() {
    let moto = Moto::start().await;
    let bucket = seed_lake(&moto).await;
    let target = moto.target(Some(&bucket));
    let first = discover(&target, &DiscoveryOptions::default(), &no_progress)
        .await
        .unwrap();
    let options = DiscoveryOptions {
        strategy: ScanStrategy::Conservative,
        ..DiscoveryOptions::default()
    };
    let second = discover(&target, &options, &no_progress).await.unwrap();
    let third = discover(&target, &DiscoveryOptions::default(), &no_progress)
        .await
        .unwrap();
    assert_eq!(first.assets, third.assets);
    let fingerprints = |assets: &[AssetSchema]| {
        assets
            .iter()
            .map(|a| (a.path.to_string(), a.fingerprint()))
            .collect::<BTreeMap<_, _>>()
    };
    // A strategy samples fewer objects; with this few objects the schemas are the same.
    assert_eq!(fingerprints(&first.assets), fingerprints(&second.assets));
}

#[tokio::test]
async fn discovery_without_a_bucket_covers_every_bucket() {
    let moto = Moto::start().await;
    let one = unique("one-");
    let two = unique("two-");
    put(&moto.create_bucket(&one).await, "a/x.csv", "k\n1\n").await;
    put(
        &moto.create_bucket(&two).await,
        "b/y.jsonl",
        "{\"k\":true}\n",
    )
    .await;
    let discovery = discover(
        &moto.target(None),
        &DiscoveryOptions::default(),
        &no_progress,
    )
    .await
    .unwrap();
    let assets = by_path(&discovery.assets);
    assert_eq!(
        assets.keys().cloned().collect::<Vec<_>>(),
        [one.clone(), path(&one, "a/"), two.clone(), path(&two, "b/")]
    );
    assert_eq!(
        columns(assets[&path(&one, "a/")]),
        [("k", "integer", false)]
    );
    assert_eq!(
        columns(assets[&path(&two, "b/")]),
        [("k", "boolean", false)]
    );

    // The scope reaches into one bucket only; the other is not even listed.
    let options = scoped(&[format!("{two}.**")], &[]);
    let discovery = discover(&moto.target(None), &options, &no_progress)
        .await
        .unwrap();
    let paths: Vec<String> = discovery
        .assets
        .iter()
        .map(|a| a.path.to_string())
        .collect();
    assert_eq!(paths, [two.clone(), path(&two, "b/")]);
    assert_eq!(
        discovery.metrics.queries_executed,
        1 + 1 + 1,
        "buckets, one listing, one head"
    );
}

#[tokio::test]
async fn the_scope_and_the_source_prefix_filter_prefixes() {
    let moto = Moto::start().await;
    let bucket = seed_lake(&moto).await;
    let target = moto.target(Some(&bucket));
    let paths = |assets: &[AssetSchema]| {
        assets
            .iter()
            .map(|a| a.path.to_string())
            .collect::<Vec<_>>()
    };

    // Globs within the prefix segment.
    let options = scoped(&[format!("{bucket}.*s/")], &[format!("{bucket}.docs/")]);
    let discovery = discover(&target, &options, &no_progress).await.unwrap();
    assert_eq!(
        paths(&discovery.assets),
        [
            path(&bucket, "customers/"),
            path(&bucket, "events/"),
            path(&bucket, "orders/")
        ]
    );

    // A literal prefix: only its keys are listed and read.
    let options = scoped(&[format!("{bucket}.events/")], &[]);
    let discovery = discover(&target, &options, &no_progress).await.unwrap();
    assert_eq!(paths(&discovery.assets), [path(&bucket, "events/")]);
    assert_eq!(discovery.metrics.queries_executed, 1 + 2);

    // The bucket root only.
    let options = scoped(&[path(&bucket, "/")], &[]);
    let discovery = discover(&target, &options, &no_progress).await.unwrap();
    assert_eq!(paths(&discovery.assets), [path(&bucket, "/")]);

    // A source holding one prefix of the bucket.
    let discovery = discover(
        &moto.target(Some(&format!("{bucket}/orders"))),
        &DiscoveryOptions::default(),
        &no_progress,
    )
    .await
    .unwrap();
    assert_eq!(
        paths(&discovery.assets),
        [bucket.clone(), path(&bucket, "orders/")]
    );
    assert_eq!(
        discovery.assets[0].row_estimate, None,
        "the bucket was not listed whole"
    );

    // Out of scope entirely: nothing is listed.
    let options = scoped(&["another-bucket.**".to_owned()], &[]);
    let discovery = discover(&target, &options, &no_progress).await.unwrap();
    assert!(discovery.assets.is_empty());
    assert_eq!(discovery.metrics.queries_executed, 0);
}

#[tokio::test]
async fn discovery_reports_an_unreachable_store() {
    let moto = Moto::start().await;
    let closed = format!("http://127.0.0.1:{}", free_port());
    let target = target_at(&closed, Some("lake-gone"), &moto.key_id, &moto.secret_ref());
    let options = DiscoveryOptions {
        strategy: ScanStrategy::Aggressive,
        query_timeout: Duration::from_secs(5),
        ..DiscoveryOptions::default()
    };
    match discover(&target, &options, &no_progress).await {
        Err(DiscoveryError::Connection(failure)) => {
            assert_eq!(failure.category, FailureCategory::Unreachable, "{failure}");
        }
        other => panic!("expected a connection failure, got {other:?}"),
    }
    // A bucket that is not there is a failed query, not a lost connection.
    match discover(
        &moto.target(Some("lake-never-made")),
        &DiscoveryOptions::default(),
        &no_progress,
    )
    .await
    {
        Err(DiscoveryError::Query { message, retries }) => {
            assert!(message.contains("NoSuchBucket"), "{message}");
            assert_eq!(retries, 0);
        }
        other => panic!("expected a query failure, got {other:?}"),
    }
}

// ---- sampling ----------------------------------------------------------------------------------

fn values(sample: &connectors::probe::AssetSample, column: &str) -> Vec<Option<String>> {
    sample
        .columns
        .iter()
        .find(|c| c.column == column)
        .unwrap_or_else(|| panic!("no column {column}"))
        .values
        .clone()
}

fn texts(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(str::to_owned)).collect()
}

#[tokio::test]
async fn sampling_reads_records_of_each_format() {
    let moto = Moto::start().await;
    let bucket = seed_lake(&moto).await;
    let (target, discovery) = discover_bucket(&moto, &bucket).await;
    let assets = by_path(&discovery.assets);
    let timeout = Duration::from_secs(10);

    // CSV across two objects, through the one entry point.
    let customers = assets[&path(&bucket, "customers/")];
    let live_target = ConnectionTarget::S3(target.clone());
    let sampled = connectors::live::sample(&live_target, customers, 10, timeout)
        .await
        .unwrap();
    assert_eq!(sampled.rows, 3);
    let names: Vec<&str> = sampled.columns.iter().map(|c| c.column.as_str()).collect();
    let schema: Vec<&str> = customers.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, schema);
    assert!(sampled.columns.iter().all(|c| c.values.len() == 3));
    assert_eq!(
        values(&sampled, "email"),
        texts(&[Some("ana@example.com"), None, Some("cy@example.com")])
    );
    assert_eq!(
        values(&sampled, "zip"),
        texts(&[Some("02139"), Some("10001"), Some("94105")])
    );

    // Fewer rows than there are.
    let two = sample(&target, customers, 2, timeout).await.unwrap();
    assert_eq!(two.rows, 2);
    assert!(two.columns.iter().all(|c| c.values.len() == 2));

    // JSON lines: nested fields, absent fields and partition values from the keys.
    let events = assets[&path(&bucket, "events/")];
    let sampled = sample(&target, events, 10, timeout).await.unwrap();
    assert_eq!(sampled.rows, 3);
    assert_eq!(
        values(&sampled, "user.address.city"),
        texts(&[Some("Oslo"), None, Some("Rome")])
    );
    assert_eq!(
        values(&sampled, "user.email"),
        texts(&[Some("a@x.io"), None, Some("c@x.io")])
    );
    assert_eq!(
        values(&sampled, "tags"),
        texts(&[Some("[\"a\"]"), None, None])
    );
    assert_eq!(
        values(&sampled, "id"),
        texts(&[Some("1"), Some("2"), Some("3")])
    );
    assert_eq!(
        values(&sampled, "date"),
        texts(&[Some("2024-01-01"), Some("2024-01-01"), Some("2024-01-02")])
    );

    // Parquet: rows from the first row group, Snappy pages, nested and null values.
    let orders = assets[&path(&bucket, "orders/")];
    let sampled = sample(&target, orders, 10, timeout).await.unwrap();
    assert_eq!(sampled.rows, 3);
    assert_eq!(
        values(&sampled, "id"),
        texts(&[Some("1"), Some("2"), Some("3")])
    );
    assert_eq!(
        values(&sampled, "email"),
        texts(&[Some("ana@example.com"), None, Some("li@example.com")])
    );
    assert_eq!(
        values(&sampled, "amount"),
        texts(&[Some("10.5"), Some("20.0"), Some("7.25")])
    );
    assert_eq!(
        values(&sampled, "created_at"),
        texts(&[
            Some("2024-02-29T10:51:12Z"),
            Some("2024-03-01T10:51:12Z"),
            None
        ])
    );
    assert_eq!(
        values(&sampled, "address.city"),
        texts(&[Some("Lisbon"), None, None])
    );

    // The bucket root: only its own objects, not the folders'.
    let root = assets[&path(&bucket, "/")];
    let sampled = sample(&target, root, 10, timeout).await.unwrap();
    assert_eq!(sampled.rows, 2);
    assert_eq!(values(&sampled, "limit"), texts(&[None, Some("100")]));
    assert_eq!(
        values(&sampled, "active"),
        texts(&[Some("true"), Some("false")])
    );

    // Zero rows, and an asset that is not a prefix of this source.
    let none = sample(&target, orders, 0, timeout).await.unwrap();
    assert_eq!(none.rows, 0);
    assert!(none.columns.iter().all(|c| c.values.is_empty()));
    assert_eq!(none.columns.len(), orders.columns.len());
    let bucket_asset = assets[&bucket];
    assert!(matches!(
        sample(&target, bucket_asset, 5, timeout).await,
        Err(DiscoveryError::Unsupported(_))
    ));
}

const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00";
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n";

#[tokio::test]
async fn objects_that_are_not_records_are_sampled_by_their_first_bytes_only() {
    use domain::classification::content::{sniff, ContentKind, SNIFF_BYTES};
    let moto = Moto::start().await;
    let bucket = unique("media-");
    let store = moto.create_bucket(&bucket).await;
    // 30 photos of 200 KiB each: JPEG and PNG alternating.
    for i in 0..30u64 {
        let (magic, ext) = if i % 2 == 0 {
            (JPEG, "jpg")
        } else {
            (PNG, "png")
        };
        put(
            &store,
            &format!("staff/photos/{i:03}.{ext}"),
            testkit::file_with_magic(magic, i, 200 * 1024),
        )
        .await;
    }
    put(
        &store,
        "scans/a.pdf",
        testkit::file_with_magic(PDF, 1, 50_000),
    )
    .await;
    put(&store, "scans/b.pdf", testkit::file_with_magic(PDF, 2, 90)).await;
    // Negatives: random bytes and plain text.
    put(&store, "misc/blob.bin", testkit::noise(7, 4096)).await;
    put(&store, "misc/raw", testkit::noise(8, 300)).await;
    put(
        &store,
        "misc/readme.txt",
        "Minutes of the planning meeting: the team agreed to move the release by a week, \
         pending the results of the load tests that run over the weekend on staging."
            .repeat(3),
    )
    .await;
    let (target, discovery) = discover_bucket(&moto, &bucket).await;
    let assets = by_path(&discovery.assets);
    let timeout = Duration::from_secs(10);
    for prefix in ["staff/photos/", "scans/", "misc/"] {
        assert_eq!(
            columns(assets[&path(&bucket, prefix)]),
            [("content", "binary", false)],
            "{prefix}"
        );
    }

    // At most MAX_CONTENT_OBJECTS objects, spread over the keys, and only their first bytes.
    let photos = assets[&path(&bucket, "staff/photos/")];
    let sampled = sample(&target, photos, 100, timeout).await.unwrap();
    assert_eq!(sampled.rows as usize, connectors::s3::MAX_CONTENT_OBJECTS);
    let photos_read = values(&sampled, "content");
    assert_eq!(photos_read.len(), connectors::s3::MAX_CONTENT_OBJECTS);
    let kinds: Vec<_> = photos_read
        .iter()
        .map(|v| {
            let v = v.as_deref().unwrap();
            assert_eq!(
                v.len(),
                2 * SNIFF_BYTES,
                "the first {SNIFF_BYTES} bytes, as hex"
            );
            sniff(v).map(|s| (s.kind, s.format))
        })
        .collect();
    assert!(kinds
        .iter()
        .all(|k| k.is_some_and(|(kind, _)| kind == ContentKind::Image)));
    assert!(kinds.contains(&Some((ContentKind::Image, "JPEG"))));
    assert!(kinds.contains(&Some((ContentKind::Image, "PNG"))));
    // Fewer rows asked for than the bound: that many.
    let few = sample(&target, photos, 3, timeout).await.unwrap();
    assert_eq!(few.rows, 3);

    // Documents, a small one read whole.
    let scans = sample(&target, assets[&path(&bucket, "scans/")], 100, timeout)
        .await
        .unwrap();
    let scans = values(&scans, "content");
    assert_eq!(scans.len(), 2);
    assert_eq!(scans[1].as_deref().map(str::len), Some(2 * 90));
    for v in &scans {
        let found = sniff(v.as_deref().unwrap()).unwrap();
        assert_eq!((found.kind, found.format), (ContentKind::Document, "PDF"));
    }

    // Random bytes and text are nothing.
    let misc = sample(&target, assets[&path(&bucket, "misc/")], 100, timeout)
        .await
        .unwrap();
    let misc = values(&misc, "content");
    assert_eq!(misc.len(), 3);
    assert!(
        misc.iter().all(|v| sniff(v.as_deref().unwrap()).is_none()),
        "{misc:?}"
    );
}
