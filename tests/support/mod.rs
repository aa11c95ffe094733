//! Test harness: a real PurSight service on port 0 with its own stream prefix and database,
//! against the machine's NATS and PostgreSQL. `TestApp::stop` removes both.
#![allow(dead_code)]

pub mod ws;

use api::auth::issue_token;
use api::compliance_worker::ComplianceWorkerSettings;
use api::{AppConfig, Application, ShutdownHandle};
use commands::compliance_pm::ManualClock;
use domain::access::Role;
use domain::datasource::{HostPolicy, SecretPolicy, SourcePolicy};
use domain::TenantId;
use eventlog::{EventStoreConfig, StreamNames};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::process::{Command, Output};
use uuid::Uuid;

pub const SECRET: &str = "test-secret-0123456789abcdef-0123456789";

pub struct TestApp {
    pub addr: SocketAddr,
    pub prefix: String,
    pub database: String,
    pub database_url: String,
    pub nats_url: String,
    pub client: reqwest::Client,
    shutdown: ShutdownHandle,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    stream: String,
    /// The compliance worker's clock (acceptance expiry); tests move it.
    pub clock: ManualClock,
    /// Set once `stop` removed everything; otherwise `Drop` does it (a test that panics still
    /// leaves nothing behind).
    cleaned: bool,
}

pub fn nats_url() -> String {
    std::env::var("PURSIGHT_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with_attempts(5).await
    }

    pub async fn spawn_with_attempts(command_attempts: u32) -> Self {
        Self::spawn_with(command_attempts, None).await
    }

    /// A service that also checks every source's health every `interval` (off in the others).
    pub async fn spawn_with_health_interval(interval: std::time::Duration) -> Self {
        Self::spawn_with(5, Some(interval)).await
    }

    /// A service whose sources may only reach the hosts `hosts` allows.
    pub async fn spawn_with_hosts(hosts: HostPolicy) -> Self {
        Self::spawn_configured(|config| config.source_policy.hosts = hosts).await
    }

    /// A service whose configuration `adjust` changes first (limits, GraphiQL, tokens).
    pub async fn spawn_configured(adjust: impl FnOnce(&mut AppConfig)) -> Self {
        Self::spawn_adjusted(5, None, adjust).await
    }

    async fn spawn_with(
        command_attempts: u32,
        health_interval: Option<std::time::Duration>,
    ) -> Self {
        Self::spawn_adjusted(command_attempts, health_interval, |_| {}).await
    }

    async fn spawn_adjusted(
        command_attempts: u32,
        health_interval: Option<std::time::Duration>,
        adjust: impl FnOnce(&mut AppConfig),
    ) -> Self {
        let suffix = Uuid::new_v4().simple().to_string()[..12].to_owned();
        let prefix = format!("t{suffix}");
        let database = format!("pursight_test_{suffix}");
        let database_url = format!("postgres://postgres@127.0.0.1:5432/{database}");
        let names = StreamNames::new(&prefix, None).unwrap();
        let stream = names.stream().to_owned();
        let clock = ManualClock::new(chrono::Utc::now());
        let mut config = config(
            names,
            &database_url,
            command_attempts,
            health_interval,
            clock.clone(),
        );
        adjust(&mut config);
        let app = Application::build(config)
            .await
            .expect("the service starts");
        let addr = app.local_addr();
        let shutdown = app.shutdown_handle();
        let task = tokio::spawn(app.run_until_stopped(false));
        Self {
            addr,
            prefix,
            database,
            database_url,
            nats_url: nats_url(),
            client: reqwest::Client::new(),
            shutdown,
            task: Some(task),
            stream,
            clock,
            cleaned: false,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A token for `tenant` with `roles`.
    pub fn token(tenant: &str, roles: &[Role]) -> String {
        issue_token(
            SECRET,
            "alice@example.com",
            &TenantId::parse(tenant).unwrap(),
            roles,
            3600,
        )
    }

    /// Runs a GraphQL request and returns the whole response body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    /// The stream's last sequence (all tenants).
    pub async fn stream_sequence(&self) -> u64 {
        let client = async_nats::connect(&self.nats_url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let stream = js.get_stream(&self.stream).await.unwrap();
        stream.get_info().await.unwrap().state.last_sequence
    }

    pub async fn stop(mut self) {
        self.shutdown.shutdown();
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(15), task).await;
        }
        remove_resources(
            self.nats_url.clone(),
            self.prefix.clone(),
            self.database.clone(),
        )
        .await;
        self.cleaned = true;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if self.cleaned {
            return;
        }
        self.shutdown.shutdown();
        let (nats_url, prefix, database) = (
            self.nats_url.clone(),
            self.prefix.clone(),
            self.database.clone(),
        );
        // Drop cannot await: clean up on a thread with its own runtime.
        let _ = testkit::block_on_thread(move || remove_resources(nats_url, prefix, database));
    }
}

/// Deletes a test's stream, snapshot bucket and read-model database.
async fn remove_resources(nats_url: String, prefix: String, database: String) {
    let _ = testkit::delete_event_store(&nats_url, &prefix).await;
    let _ = testkit::drop_postgres_database(&database).await;
}

/// The service configuration of a test: port 0, the test secret, periodic health checks only
/// when asked, the compliance worker on with `clock` and an expiry round every 100 ms.
fn config(
    names: StreamNames,
    database_url: &str,
    command_attempts: u32,
    health_interval: Option<std::time::Duration>,
    clock: ManualClock,
) -> AppConfig {
    AppConfig {
        store: EventStoreConfig {
            nats_url: nats_url(),
            names,
        },
        database_url: database_url.to_owned(),
        listen: "127.0.0.1:0".into(),
        jwt_secret: SECRET.into(),
        jwt_public_key_pem: None,
        command_attempts,
        health_interval,
        source_policy: test_policy(),
        jwt_issuer: None,
        jwt_audience: None,
        oidc: Default::default(),
        http: api::HttpSettings::default(),
        compliance: Some(ComplianceWorkerSettings {
            expiry_interval: std::time::Duration::from_millis(100),
            clock: std::sync::Arc::new(clock),
            ..ComplianceWorkerSettings::default()
        }),
        statistics_threshold: Default::default(),
    }
}

/// The policy of the test services: the defaults, with `file:` references under [`secret_dir`].
pub fn test_policy() -> SourcePolicy {
    SourcePolicy {
        secrets: SecretPolicy::new(
            SecretPolicy::DEFAULT_ENV_PREFIX,
            Some(secret_dir().to_str().unwrap()),
            SecretPolicy::DEFAULT_STORE_PREFIX,
        )
        .unwrap(),
        hosts: HostPolicy::default(),
    }
}

/// The `PURSIGHT_SECRET_DIR` of every test service and CLI run: `file:` references resolve in
/// `<dir>/<tenant>/`. Shared by the tests; each writes files with unique names.
pub fn secret_dir() -> std::path::PathBuf {
    std::env::temp_dir().join("pursight-test-secrets")
}

/// Writes `value` as the secret file `name` of `tenant` and returns its path.
pub fn write_secret(tenant: &str, name: &str, value: &str) -> std::path::PathBuf {
    let dir = secret_dir().join(tenant);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, value).unwrap();
    path
}

impl TestApp {
    /// Another service instance on the same stream and read-model database (as a second
    /// process would be).
    pub async fn sibling(&self) -> Application {
        let names = StreamNames::new(&self.prefix, None).unwrap();
        Application::build(config(
            names,
            &self.database_url,
            5,
            None,
            self.clock.clone(),
        ))
        .await
        .expect("the sibling service starts")
    }
}

/// The `code` extension of the first error, if any.
pub fn error_code(response: &Value) -> Option<&str> {
    response["errors"][0]["extensions"]["code"].as_str()
}

pub const REGISTER: &str = r#"
mutation Register($input: DataSourceInput!, $commandId: ID, $wait: Boolean = false) {
  registerDataSource(input: $input, commandId: $commandId, waitForProjection: $wait) {
    aggregateId version sequence eventIds duplicate projected
  }
}"#;

pub fn postgres_source(name: &str) -> Value {
    json!({
        "name": name,
        "kind": "postgresql",
        "host": "db.internal",
        "port": 5432,
        "database": "orders",
        "username": "reader",
        "passwordSecret": "env:PURSIGHT_SOURCE_SECRET_ORDERS",
        "tags": ["pii"],
        "environment": "production"
    })
}

/// A PostgreSQL database of its own for a test, loaded from a script, with a `file:` secret of
/// tenant `acme` (the tenant of every test that uses one) holding `secret` (the machine's
/// PostgreSQL trusts local connections, so it is only checked for leaks); dropped by `remove` or,
/// when a test panics, by `Drop`.
pub struct SourceDb {
    pub name: String,
    admin: sqlx::PgPool,
    secret_file: std::path::PathBuf,
    removed: bool,
}

impl SourceDb {
    pub async fn create(sql: &str, secret: &str) -> Self {
        let name = format!(
            "pursight_src_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let admin = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/postgres")
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        let db = sqlx::PgPool::connect(&format!("postgres://postgres@127.0.0.1:5432/{name}"))
            .await
            .unwrap();
        sqlx::raw_sql(sql).execute(&db).await.unwrap();
        db.close().await;
        let secret_file = write_secret("acme", &format!("{name}.secret"), &format!("{secret}\n"));
        Self {
            name,
            admin,
            secret_file,
            removed: false,
        }
    }

    pub async fn execute(&self, sql: &str) {
        let db =
            sqlx::PgPool::connect(&format!("postgres://postgres@127.0.0.1:5432/{}", self.name))
                .await
                .unwrap();
        sqlx::raw_sql(sql).execute(&db).await.unwrap();
        db.close().await;
    }

    pub fn input(&self) -> Value {
        json!({
            "name": "Shop database",
            "kind": "postgresql",
            "host": "127.0.0.1",
            "port": 5432,
            "database": self.name,
            "username": "postgres",
            "passwordSecret": format!("file:{}", self.secret_file.display()),
        })
    }

    pub async fn remove(mut self) {
        let _ = std::fs::remove_file(&self.secret_file);
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&self.admin)
        .await
        .unwrap();
        self.removed = true;
    }
}

/// A test that panics still removes its source database.
impl Drop for SourceDb {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        let _ = std::fs::remove_file(&self.secret_file);
        let name = self.name.clone();
        let _ = testkit::block_on_thread(move || async move {
            let _ = testkit::drop_postgres_database(&name).await;
        });
    }
}

/// Waits until the read models have applied the whole stream.
pub async fn wait_projected(app: &TestApp, token: &str) {
    for _ in 0..400 {
        let response = app
            .gql(
                Some(token),
                "{ consistency { projectedSequence streamSequence } }",
                json!({}),
            )
            .await;
        let c = &response["data"]["consistency"];
        if c["projectedSequence"] == c["streamSequence"] {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("read models did not catch up");
}

/// Runs the real `pursight` binary against the test's stream and read-model database.
pub fn pursight(app: &TestApp, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pursight"))
        .args(args)
        .env("PURSIGHT_STREAM_PREFIX", &app.prefix)
        .env("PURSIGHT_DATABASE_URL", &app.database_url)
        .env("PURSIGHT_NATS_URL", &app.nats_url)
        .env("PURSIGHT_SECRET_DIR", secret_dir())
        .env_remove("PURSIGHT_JWT_SECRET")
        .output()
        .unwrap()
}

/// A command's stdout and stderr, as text.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

impl TestApp {
    /// The test's event store (same stream and prefix as the service).
    pub async fn event_store(&self) -> eventlog::EventStore {
        eventlog::EventStore::connect(&EventStoreConfig {
            nats_url: self.nats_url.clone(),
            names: StreamNames::new(&self.prefix, None).unwrap(),
        })
        .await
        .unwrap()
    }

    /// Every event of the stream, in order.
    pub async fn events(&self) -> Vec<eventlog::CloudEvent> {
        use futures::TryStreamExt;
        let store = self.event_store().await;
        let commits: Vec<eventlog::StoredCommit> = store
            .read_to_end(&store.names().all_events(), eventlog::DeliverFrom::Start)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        commits.into_iter().flat_map(|c| c.events).collect()
    }

    /// Waits until the compliance worker has handled (acknowledged) every event of the stream,
    /// its own included.
    pub async fn wait_compliance(&self) {
        let client = async_nats::connect(&self.nats_url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let mut settled = 0;
        for _ in 0..2400 {
            if let Ok(stream) = js.get_stream(&self.stream).await {
                let last = stream.cached_info().state.last_sequence;
                if let Ok(mut consumer) = stream
                    .get_consumer::<async_nats::jetstream::consumer::pull::Config>(
                        commands::compliance_pm::NAME,
                    )
                    .await
                {
                    let info = consumer.info().await.unwrap();
                    if info.ack_floor.stream_sequence >= last
                        && info.num_ack_pending == 0
                        && info.num_pending == 0
                    {
                        // Twice in a row: nothing was appended in between.
                        settled += 1;
                        if settled == 2 {
                            return;
                        }
                    } else {
                        settled = 0;
                    }
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the compliance worker did not catch up");
    }
}

/// Customers with names, e-mails and card numbers that pass Luhn, in schema `billing`: a source
/// the compliance tests scan, classify and evaluate.
pub const CARD_SHOP: &str = r#"
CREATE SCHEMA billing;
CREATE TABLE billing.customers (
    id           serial PRIMARY KEY,
    first_name   text NOT NULL,
    last_name    text NOT NULL,
    email        text,
    card_number  text
);
INSERT INTO billing.customers (first_name, last_name, email, card_number)
SELECT f.name, l.name,
       lower(f.name) || '.' || lower(l.name) || g || '@example.org',
       (ARRAY['4111111111111111', '5500005555555559', '4012888888881881', '378282246310005', '6011111111111117'])[1 + g % 5]
FROM generate_series(1, 60) AS g
JOIN (SELECT row_number() OVER () AS i, name FROM unnest(ARRAY['Amelia','Oliver','Isla','Noah','Ava','Leo','Mia','Arthur','Freya','Jack']) AS name) f ON f.i = 1 + g % 10
JOIN (SELECT row_number() OVER () AS i, name FROM unnest(ARRAY['Hughes','Patel','Khan','Murphy','Walsh','Evans','Byrne','Novak','Silva','Jensen','Moreau','Rossi']) AS name) l ON l.i = 1 + g % 12;
"#;

/// Every event of `tenant`, as `pursight replay --format ndjson` prints them.
pub fn replayed(app: &TestApp, tenant: &str) -> Vec<Value> {
    let output = pursight(app, &["replay", "--tenant", tenant, "--format", "ndjson"]);
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The replayed events of `event_type`, whatever their version.
pub fn of_type<'a>(events: &'a [Value], event_type: &str) -> Vec<&'a Value> {
    let wire = format!("io.pursight.{event_type}.v");
    events
        .iter()
        .filter(|e| e["type"].as_str().is_some_and(|t| t.starts_with(&wire)))
        .collect()
}

/// `pursight compliance evaluate SOURCE --tenant acme`, which must succeed; its output (printed,
/// so `--nocapture` shows what a user sees).
pub fn compliance_evaluate(app: &TestApp, source: &str) -> String {
    let output = pursight(app, &["compliance", "evaluate", source, "--tenant", "acme"]);
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    println!("{out}");
    out
}

/// Registers a source from `input` (waiting for the read models), validates its connection and
/// scans it to completion, classification included and without failure, through GraphQL;
/// returns its id.
pub async fn register_and_scan(app: &TestApp, token: &str, input: Value) -> String {
    let registered = app
        .gql(
            Some(token),
            REGISTER,
            json!({ "input": input, "wait": true }),
        )
        .await;
    let source = registered["data"]["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap_or_else(|| panic!("{registered}"))
        .to_owned();
    let check = app
        .gql(
            Some(token),
            "mutation($id: ID!) { validateConnection(id: $id) { ok message } }",
            json!({ "id": source }),
        )
        .await;
    assert_eq!(check["data"]["validateConnection"]["ok"], true, "{check}");
    let scan = app
        .gql(
            Some(token),
            "mutation($id: ID!) { startScan(sourceId: $id, strategy: BALANCED, waitForCompletion: true) { completed classificationFailure } }",
            json!({ "id": source }),
        )
        .await;
    assert_eq!(scan["data"]["startScan"]["completed"], true, "{scan}");
    assert!(
        scan["data"]["startScan"]["classificationFailure"].is_null(),
        "{scan}"
    );
    source
}

/// Uploads `objects` (`bucket/key` paths, or a bare bucket name with an empty body to create
/// it) to the S3 server at `endpoint` (moto) with plain PUTs.
pub async fn put_objects(endpoint: &str, objects: Vec<(String, Vec<u8>)>) {
    let http = reqwest::Client::new();
    for (path, body) in objects {
        http.put(format!("{endpoint}/{path}"))
            .body(body)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
    }
}
