//! The Redis connector against the machine's real Redis at 127.0.0.1:6379 (no password).
//!
//! All tests share database 0: each writes keys under its own prefix `pursight_t_<random>:`,
//! scopes its discoveries to that prefix (`db0.<prefix>*`), and deletes its keys when it ends
//! (also when it panics). The tests hold one lock while they run so the connection-count test
//! sees only its own connections come and go.

use connectors::probe::{DiscoveryOptions, DiscoveryProgress};
use connectors::redis::{discover, validate, RedisTarget};
use connectors::secrets::SecretValue;
use domain::datasource::{DataSourceConfigInput, FailureCategory};
use domain::discovery::{AssetKind, AssetPath, AssetSchema};
use domain::scan::{ScanScope, ScanStrategy};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const URL: &str = "redis://127.0.0.1:6379/0";

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A name no other test (or earlier run) uses.
fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}{:x}{:x}{:x}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn admin() -> redis::Connection {
    redis::Client::open(URL)
        .and_then(|client| client.get_connection())
        .expect("the machine's Redis at 127.0.0.1:6379 (no password) is needed")
}

fn run(command: &mut redis::Cmd) {
    command.query::<redis::Value>(&mut admin()).unwrap();
}

/// Keys under one test's prefix, deleted when the value is dropped.
struct Keys {
    prefix: String,
}

impl Keys {
    fn new() -> Keys {
        Keys {
            prefix: unique("pursight_t_"),
        }
    }

    fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.prefix)
    }

    /// Only this test's keys.
    fn scope(&self) -> ScanScope {
        ScanScope::parse([format!("db0.{}*", self.prefix)], Vec::<String>::new()).unwrap()
    }

    fn path(&self, pattern: &str) -> AssetPath {
        AssetPath::new(["db0".to_owned(), self.key(pattern)]).unwrap()
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        let mut admin = admin();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query(&mut admin)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<i64, _> = redis::cmd("DEL").arg(keys).query(&mut admin);
        }
    }
}

fn target(
    port: u16,
    database: Option<&str>,
    user: Option<&str>,
    password: Option<&str>,
) -> RedisTarget {
    let input = DataSourceConfigInput {
        name: Some("Redis under test".into()),
        kind: Some("redis".into()),
        host: Some("127.0.0.1".into()),
        port: Some(port.into()),
        database: database.map(Into::into),
        username: user.map(Into::into),
        password_secret: password.map(|_| "env:PURSIGHT_TEST_REDIS_PASSWORD".into()),
        ..Default::default()
    };
    let config = input.parse().unwrap_or_else(|e| panic!("test config: {e}"));
    RedisTarget::from_config(&config, password.map(SecretValue::new).as_ref()).unwrap()
}

fn options(keys: &Keys, strategy: ScanStrategy) -> DiscoveryOptions {
    DiscoveryOptions {
        scope: keys.scope(),
        strategy,
        ..DiscoveryOptions::default()
    }
}

fn no_progress(_: DiscoveryProgress) {}

fn by_path(assets: &[AssetSchema]) -> BTreeMap<AssetPath, &AssetSchema> {
    assets.iter().map(|a| (a.path.clone(), a)).collect()
}

fn columns(asset: &AssetSchema) -> Vec<(&str, &str, bool)> {
    let mut columns: Vec<_> = asset.columns.iter().collect();
    columns.sort_by_key(|c| c.ordinal);
    columns
        .into_iter()
        .map(|c| (c.name.as_str(), c.data_type.as_str(), c.nullable))
        .collect()
}

/// The number of clients connected to the server.
fn client_count(admin: &mut redis::Connection) -> usize {
    let list: String = redis::cmd("CLIENT").arg("LIST").query(admin).unwrap();
    list.lines().filter(|line| !line.trim().is_empty()).count()
}

// ---- validation --------------------------------------------------------------------------------

#[tokio::test]
async fn validate_reports_latency_and_version() {
    let _serial = SERIAL.lock().await;
    let info = validate(&target(6379, None, None, None), Duration::from_secs(5))
        .await
        .unwrap();
    let version = info.server_version.unwrap();
    assert!(
        version.starts_with(|c: char| c.is_ascii_digit()),
        "{version}"
    );
    assert!(info.latency_ms < 5000);
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let _serial = SERIAL.lock().await;
    let failure = validate(&target(1, None, None, None), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Unreachable, "{failure}");
}

#[tokio::test]
async fn a_wrong_password_is_auth_and_never_shown() {
    let _serial = SERIAL.lock().await;
    let user = unique("pursight_t_user_");
    let good = unique("good-pw-");
    let wrong = unique("wrong-pw-");
    run(redis::cmd("ACL")
        .arg("SETUSER")
        .arg(&user)
        .arg("on")
        .arg(format!(">{good}"))
        .arg("~*")
        .arg("+@all"));
    let with_wrong = validate(
        &target(6379, None, Some(&user), Some(&wrong)),
        Duration::from_secs(5),
    )
    .await;
    let with_good = validate(
        &target(6379, None, Some(&user), Some(&good)),
        Duration::from_secs(5),
    )
    .await;
    run(redis::cmd("ACL").arg("DELUSER").arg(&user));

    let failure = with_wrong.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Auth, "{failure}");
    assert!(!failure.message.contains(&wrong), "{}", failure.message);
    assert!(!format!("{failure:?}").contains(&wrong));
    assert!(with_good.is_ok(), "{with_good:?}");
}

#[tokio::test]
async fn a_missing_database_index_is_config() {
    let _serial = SERIAL.lock().await;
    let failure = validate(
        &target(6379, Some("99999"), None, None),
        Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Config, "{failure}");
}

// ---- discovery ---------------------------------------------------------------------------------

/// Hashes, JSON strings, plain strings, a set and a sorted set under `keys`' prefix.
fn fill(keys: &Keys) {
    run(redis::cmd("HSET").arg(keys.key("user:1")).arg(&[
        "name",
        "Ann Secretvalue",
        "email",
        "ann@example.com",
        "age",
        "31",
    ]));
    run(redis::cmd("HSET")
        .arg(keys.key("user:2"))
        .arg(&["name", "Bo", "email", "bo@example.com"]));
    run(redis::cmd("SET")
        .arg(keys.key("profile:0b3f9a2c-1d4e-4f5a-8b6c-7d8e9f0a1b2c"))
        .arg(r#"{"city":"Lyon","zip":69001,"phone":null}"#));
    run(redis::cmd("SET")
        .arg(keys.key("profile:1c4a0b3d-2e5f-4a6b-9c7d-8e9f0a1b2c3d"))
        .arg(r#"{"city":"Nice","zip":6000}"#));
    run(redis::cmd("SET").arg(keys.key("config")).arg("plain text"));
    run(redis::cmd("SADD").arg(keys.key("tags:42")).arg(&["a", "b"]));
    run(redis::cmd("ZADD")
        .arg(keys.key("scores:deadbeef01"))
        .arg(&["1", "x", "2", "y"]));
}

#[tokio::test]
async fn discovery_groups_keys_into_patterns_with_value_shapes() {
    let _serial = SERIAL.lock().await;
    let keys = Keys::new();
    fill(&keys);
    let discovery = discover(
        &target(6379, None, None, None),
        &options(&keys, ScanStrategy::Conservative),
        &no_progress,
    )
    .await
    .unwrap();
    let assets = by_path(&discovery.assets);
    assert_eq!(
        assets.keys().cloned().collect::<Vec<_>>(),
        vec![
            keys.path("config"),
            keys.path("profile:*"),
            keys.path("scores:*"),
            keys.path("tags:*"),
            keys.path("user:*"),
        ],
        "the database itself is outside the scope"
    );

    let users = assets[&keys.path("user:*")];
    assert_eq!(users.kind, AssetKind::RedisKeyPattern);
    assert_eq!(users.row_estimate, Some(2));
    assert_eq!(
        columns(users),
        vec![
            ("name", "string", false),
            ("email", "string", false),
            ("age", "number", true)
        ]
    );
    assert_eq!(
        columns(assets[&keys.path("profile:*")]),
        vec![
            ("city", "string", false),
            ("phone", "null", true),
            ("zip", "number", false)
        ]
    );
    assert_eq!(
        columns(assets[&keys.path("config")]),
        vec![("value", "string", false)]
    );
    assert_eq!(
        columns(assets[&keys.path("tags:*")]),
        vec![("element", "string", false)]
    );
    assert_eq!(
        columns(assets[&keys.path("scores:*")]),
        vec![("element", "string", false), ("score", "number", false)]
    );

    let metrics = discovery.metrics;
    assert_eq!(metrics.collections, 5);
    assert_eq!(metrics.columns, 3 + 3 + 1 + 1 + 2);
    assert!(metrics.queries_executed >= 3, "{metrics:?}");
    // No sampled value is kept anywhere.
    let everything = format!("{:?}", discovery.assets);
    for value in [
        "Secretvalue",
        "ann@example.com",
        "Lyon",
        "plain text",
        "69001",
    ] {
        assert!(!everything.contains(value), "{value} leaked: {everything}");
    }
}

#[tokio::test]
async fn a_rescan_without_change_has_the_same_fingerprints() {
    let _serial = SERIAL.lock().await;
    let keys = Keys::new();
    fill(&keys);
    let target = target(6379, None, None, None);
    let fingerprints = |assets: &[AssetSchema]| {
        assets
            .iter()
            .map(|a| (a.path.clone(), a.fingerprint()))
            .collect::<BTreeMap<_, _>>()
    };
    let first = discover(
        &target,
        &options(&keys, ScanStrategy::Aggressive),
        &no_progress,
    )
    .await
    .unwrap();
    let second = discover(&target, &options(&keys, ScanStrategy::Auto), &no_progress)
        .await
        .unwrap();
    assert_eq!(first.assets.len(), 5);
    assert_eq!(fingerprints(&first.assets), fingerprints(&second.assets));

    run(redis::cmd("HSET")
        .arg(keys.key("user:3"))
        .arg(&["nickname", "C"]));
    let third = discover(
        &target,
        &options(&keys, ScanStrategy::Balanced),
        &no_progress,
    )
    .await
    .unwrap();
    let path = keys.path("user:*");
    assert_ne!(
        fingerprints(&first.assets)[&path],
        fingerprints(&third.assets)[&path]
    );
}

#[tokio::test]
async fn a_whole_database_scan_includes_the_database_asset() {
    let _serial = SERIAL.lock().await;
    let keys = Keys::new();
    fill(&keys);
    let scope = ScanScope::parse(
        ["db0".to_owned(), format!("db0.{}*", keys.prefix)],
        Vec::<String>::new(),
    )
    .unwrap();
    let discovery = discover(
        &target(6379, None, None, None),
        &DiscoveryOptions {
            scope,
            ..DiscoveryOptions::default()
        },
        &no_progress,
    )
    .await
    .unwrap();
    let assets = by_path(&discovery.assets);
    let database = assets[&AssetPath::new(["db0"]).unwrap()];
    assert_eq!(database.kind, AssetKind::Database);
    assert!(assets.contains_key(&keys.path("user:*")));
    assert_eq!(discovery.metrics.schemas, 1);

    // A scope that leaves the database out does not connect at all.
    let elsewhere = ScanScope::parse(["db1.**"], Vec::<String>::new()).unwrap();
    let nothing = discover(
        &target(6379, None, None, None),
        &DiscoveryOptions {
            scope: elsewhere,
            ..DiscoveryOptions::default()
        },
        &no_progress,
    )
    .await
    .unwrap();
    assert!(nothing.assets.is_empty());
    assert_eq!(nothing.metrics.queries_executed, 0);
}

#[tokio::test]
async fn connections_go_back_to_the_baseline() {
    let _serial = SERIAL.lock().await;
    let keys = Keys::new();
    fill(&keys);
    let mut admin = admin();
    let baseline = client_count(&mut admin);
    let target = target(6379, None, None, None);
    validate(&target, Duration::from_secs(5)).await.unwrap();
    discover(
        &target,
        &options(&keys, ScanStrategy::Aggressive),
        &no_progress,
    )
    .await
    .unwrap();
    let failed = validate(
        &self::target(6379, Some("99999"), None, None),
        Duration::from_secs(5),
    )
    .await;
    assert!(failed.is_err());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = client_count(&mut admin);
        if now <= baseline {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{now} clients connected, {baseline} before"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
