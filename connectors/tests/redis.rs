//! The Redis connector against the machine's real Redis at 127.0.0.1:6379 (no password).
//!
//! Each test writes keys under its own prefix `pursight_t_<random>:` (in database 0, or another
//! logical database where that is what it tests), scopes its discoveries to that prefix
//! (`db<n>.<prefix>*`), and deletes its keys when it ends (also when it panics). The tests hold
//! one lock while they run so the connection-count test sees only its own connections come and
//! go. Faults (a cut connection, a `BUSY` reply) come from a small TCP proxy in front of the real
//! server that spoils the commands it is told to.

mod common;
use common::unique;

use connectors::options::ConnectionTarget;
use connectors::probe::{AssetSample, DiscoveryError, DiscoveryOptions, DiscoveryProgress};
use connectors::redis::{discover, validate, RedisTarget};
use connectors::secrets::SecretValue;
use domain::datasource::{DataSourceConfigInput, FailureCategory, ReplicaConfigInput};
use domain::discovery::{AssetKind, AssetPath, AssetSchema};
use domain::scan::{ScanScope, ScanStrategy};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn admin() -> redis::Connection {
    admin_of(0)
}

fn admin_of(db: u32) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:6379/{db}"))
        .and_then(|client| client.get_connection())
        .expect("the machine's Redis at 127.0.0.1:6379 (no password) is needed")
}

fn run(command: &mut redis::Cmd) {
    command.query::<redis::Value>(&mut admin()).unwrap();
}

/// Keys under one test's prefix in one logical database, deleted when the value is dropped.
struct Keys {
    prefix: String,
    db: u32,
}

impl Keys {
    fn new() -> Keys {
        Keys::in_db(0)
    }

    fn in_db(db: u32) -> Keys {
        Keys {
            prefix: unique("pursight_t_"),
            db,
        }
    }

    fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.prefix)
    }

    /// Only this test's keys.
    fn scope(&self) -> ScanScope {
        ScanScope::parse(
            [format!("db{}.{}*", self.db, self.prefix)],
            Vec::<String>::new(),
        )
        .unwrap()
    }

    fn path(&self, pattern: &str) -> AssetPath {
        AssetPath::new([format!("db{}", self.db), self.key(pattern)]).unwrap()
    }

    /// Runs `command` in this test's database.
    fn run(&self, command: &mut redis::Cmd) {
        command
            .query::<redis::Value>(&mut admin_of(self.db))
            .unwrap();
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        let mut admin = admin_of(self.db);
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

// ---- retries -----------------------------------------------------------------------------------

/// What the proxy does to a command it spoils.
#[derive(Clone, Copy)]
enum Fault {
    /// Closes the connection instead of passing the command on.
    Cut,
    /// Answers this error line (without `-` and CRLF) in the server's place.
    Reply(&'static str),
}

/// A TCP proxy to the machine's Redis that spoils the first commands whose bytes contain
/// `needle`, one fault each, and passes everything else through. Stops when dropped.
struct Proxy {
    port: u16,
    /// Connections accepted so far.
    connections: Arc<AtomicUsize>,
    /// Faults not used yet.
    faults: Arc<Mutex<VecDeque<Fault>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(needle: &'static [u8], faults: Vec<Fault>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let faults = Arc::new(Mutex::new(VecDeque::from(faults)));
        let task = tokio::spawn({
            let (connections, faults) = (connections.clone(), faults.clone());
            async move {
                // Dropped with the task, which ends every relay.
                let mut relays = tokio::task::JoinSet::new();
                while let Ok((client, _)) = listener.accept().await {
                    connections.fetch_add(1, Ordering::SeqCst);
                    relays.spawn(relay(client, needle, faults.clone()));
                }
            }
        });
        Proxy {
            port,
            connections,
            faults,
            task,
        }
    }

    fn faults_left(&self) -> usize {
        self.faults.lock().unwrap().len()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(client: TcpStream, needle: &'static [u8], faults: Arc<Mutex<VecDeque<Fault>>>) {
    let Ok(server) = TcpStream::connect("127.0.0.1:6379").await else {
        return;
    };
    let (mut from_client, to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let to_client = Arc::new(tokio::sync::Mutex::new(to_client));
    let replies = tokio::spawn({
        let to_client = to_client.clone();
        async move {
            let mut buffer = vec![0u8; 64 * 1024];
            while let Ok(n @ 1..) = from_server.read(&mut buffer).await {
                if to_client
                    .lock()
                    .await
                    .write_all(&buffer[..n])
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
    });
    let mut buffer = vec![0u8; 64 * 1024];
    while let Ok(n @ 1..) = from_client.read(&mut buffer).await {
        let chunk = &buffer[..n];
        let spoiled = chunk
            .windows(needle.len())
            .any(|w| w == needle)
            .then(|| faults.lock().unwrap().pop_front())
            .flatten();
        match spoiled {
            Some(Fault::Cut) => break,
            Some(Fault::Reply(line)) => {
                let reply = format!("-{line}\r\n");
                if to_client
                    .lock()
                    .await
                    .write_all(reply.as_bytes())
                    .await
                    .is_err()
                {
                    break;
                }
            }
            None => {
                if to_server.write_all(chunk).await.is_err() {
                    break;
                }
            }
        }
    }
    // Ends the other direction too: both sockets close.
    replies.abort();
}

/// The `SCAN` command as the driver sends it (not `HSCAN`, `SSCAN`, …).
const SCAN: &[u8] = b"$4\r\nSCAN\r\n";

#[tokio::test]
async fn discovery_reconnects_after_a_reset_connection_and_counts_the_retry() {
    let _serial = SERIAL.lock().await;
    let keys = Keys::new();
    fill(&keys);
    let proxy = Proxy::start(SCAN, vec![Fault::Cut]).await;
    let discovery = discover(
        &target(proxy.port, None, None, None),
        &options(&keys, ScanStrategy::Balanced),
        &no_progress,
    )
    .await
    .unwrap();
    assert_eq!(proxy.faults_left(), 0, "the connection was cut");
    assert_eq!(
        proxy.connections.load(Ordering::SeqCst),
        2,
        "one reconnection"
    );
    assert_eq!(discovery.assets.len(), 5);
    assert_eq!(
        columns(by_path(&discovery.assets)[&keys.path("user:*")]),
        vec![
            ("name", "string", false),
            ("email", "string", false),
            ("age", "number", true)
        ]
    );
    assert_eq!(discovery.metrics.retries, 1, "{:?}", discovery.metrics);
    assert_eq!(discovery.metrics.errors, 1, "{:?}", discovery.metrics);
}

#[tokio::test]
async fn busy_and_loading_replies_are_waited_out() {
    let _serial = SERIAL.lock().await;
    let keys = Keys::new();
    fill(&keys);
    let proxy = Proxy::start(
        SCAN,
        vec![
            Fault::Reply("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."),
            Fault::Reply("LOADING Redis is loading the dataset in memory"),
        ],
    )
    .await;
    let started = Instant::now();
    let discovery = discover(
        &target(proxy.port, None, None, None),
        &options(&keys, ScanStrategy::Auto),
        &no_progress,
    )
    .await
    .unwrap();
    assert_eq!(proxy.faults_left(), 0);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "backoff of 100 ms, then 200 ms"
    );
    assert_eq!(
        proxy.connections.load(Ordering::SeqCst),
        1,
        "same connection"
    );
    assert_eq!(discovery.assets.len(), 5);
    assert_eq!(discovery.metrics.retries, 2, "{:?}", discovery.metrics);
    assert_eq!(discovery.metrics.errors, 2, "{:?}", discovery.metrics);
}

#[tokio::test]
async fn retries_stop_after_two_and_refused_commands_are_not_retried() {
    let _serial = SERIAL.lock().await;
    let keys = Keys::new();
    fill(&keys);
    let busy = Fault::Reply("BUSY Redis is busy running a script.");
    let proxy = Proxy::start(SCAN, vec![busy; 4]).await;
    let error = discover(
        &target(proxy.port, None, None, None),
        &options(&keys, ScanStrategy::Balanced),
        &no_progress,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, DiscoveryError::Query { retries: 2, message } if message.contains("BUSY")),
        "{error:?}"
    );
    assert_eq!(proxy.faults_left(), 1, "three tries in all");

    // An ACL user who may not SCAN: refused at once, never retried.
    let user = unique("pursight_t_user_");
    let password = unique("pw-");
    run(redis::cmd("ACL")
        .arg("SETUSER")
        .arg(&user)
        .arg("on")
        .arg(format!(">{password}"))
        .arg("~*")
        .arg("+@all")
        .arg("-scan"));
    let refused = discover(
        &target(6379, None, Some(&user), Some(&password)),
        &options(&keys, ScanStrategy::Balanced),
        &no_progress,
    )
    .await;
    run(redis::cmd("ACL").arg("DELUSER").arg(&user));
    match refused.unwrap_err() {
        DiscoveryError::Query { retries, message } => {
            assert_eq!(retries, 0, "{message}");
            assert!(!message.contains(&password), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

// ---- sampling ----------------------------------------------------------------------------------

/// The asset of `pattern` (under `keys`' prefix) as discovery finds it on `target`.
async fn discovered(target: &RedisTarget, keys: &Keys, pattern: &str) -> AssetSchema {
    let discovery = discover(target, &options(keys, ScanStrategy::Balanced), &no_progress)
        .await
        .unwrap();
    let path = keys.path(pattern);
    discovery
        .assets
        .into_iter()
        .find(|asset| asset.path == path)
        .unwrap_or_else(|| panic!("{path} not discovered"))
}

/// Samples `asset` through the entry point every kind shares.
async fn sample(target: &RedisTarget, asset: &AssetSchema, rows: u32) -> AssetSample {
    connectors::live::sample(
        &ConnectionTarget::Redis(target.clone()),
        asset,
        rows,
        Duration::from_secs(10),
    )
    .await
    .unwrap()
}

/// The sampled rows (one value per column, in column order), sorted: `SCAN` returns keys in no
/// particular order. Checks the shape first: one sample per column of `asset`, in order, each
/// with one value per row.
fn rows(asset: &AssetSchema, sample: &AssetSample) -> Vec<Vec<Option<String>>> {
    let names: Vec<&str> = sample.columns.iter().map(|c| c.column.as_str()).collect();
    let expected: Vec<&str> = asset.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, expected);
    for column in &sample.columns {
        assert_eq!(
            column.values.len(),
            sample.rows as usize,
            "{}",
            column.column
        );
    }
    let mut rows: Vec<Vec<Option<String>>> = (0..sample.rows as usize)
        .map(|i| sample.columns.iter().map(|c| c.values[i].clone()).collect())
        .collect();
    rows.sort();
    rows
}

fn row(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(str::to_owned)).collect()
}

#[tokio::test]
async fn sampling_strings_reads_the_value_or_the_json_fields() {
    let _serial = SERIAL.lock().await;
    let keys = Keys::new();
    keys.run(redis::cmd("SET").arg(keys.key("note:1")).arg("hello"));
    keys.run(redis::cmd("SET").arg(keys.key("note:2")).arg("wörld"));
    keys.run(
        redis::cmd("SET")
            .arg(keys.key("blob:1"))
            .arg(&[0xff_u8, 0x00, 0x1a][..]),
    );
    keys.run(
        redis::cmd("SET")
            .arg(keys.key("profile:1"))
            .arg(r#"{"city":"Lyon","zip":69001,"phone":null,"geo":{"lat":45.7}}"#),
    );
    keys.run(
        redis::cmd("SET")
            .arg(keys.key("profile:2"))
            .arg(r#"{"city":"Nice","zip":6000,"geo":{"lat":43.7},"vip":true}"#),
    );
    let target = target(6379, None, None, None);

    let notes = discovered(&target, &keys, "note:*").await;
    let sampled = sample(&target, &notes, 10).await;
    assert_eq!(sampled.rows, 2);
    assert_eq!(
        rows(&notes, &sampled),
        vec![row(&[Some("hello")]), row(&[Some("wörld")])]
    );

    let blobs = discovered(&target, &keys, "blob:*").await;
    assert_eq!(
        rows(&blobs, &sample(&target, &blobs, 10).await),
        vec![row(&[Some("ff001a")])],
        "bytes that are not UTF-8 come as lowercase hex"
    );

    let profiles = discovered(&target, &keys, "profile:*").await;
    assert_eq!(
        rows(&profiles, &sample(&target, &profiles, 10).await),
        vec![
            // city, geo, phone, zip, then vip (seen in the second sample only)
            row(&[
                Some("Lyon"),
                Some(r#"{"lat":45.7}"#),
                None,
                Some("69001"),
                None
            ]),
            row(&[
                Some("Nice"),
                Some(r#"{"lat":43.7}"#),
                None,
                Some("6000"),
                Some("true")
            ]),
        ]
    );
}

#[tokio::test]
async fn sampling_hashes_reads_each_field_and_none_where_absent() {
    let _serial = SERIAL.lock().await;
    let keys = Keys::new();
    fill(&keys);
    let target = target(6379, None, None, None);
    let users = discovered(&target, &keys, "user:*").await;
    let sampled = sample(&target, &users, 10).await;
    assert_eq!(sampled.rows, 2);
    assert_eq!(
        rows(&users, &sampled),
        vec![
            // name, email, age
            row(&[Some("Ann Secretvalue"), Some("ann@example.com"), Some("31")]),
            row(&[Some("Bo"), Some("bo@example.com"), None]),
        ]
    );
    // A pattern without wildcard: its one key, read without scanning.
    let config = discovered(&target, &keys, "config").await;
    assert_eq!(
        rows(&config, &sample(&target, &config, 10).await),
        vec![row(&[Some("plain text")])]
    );
}

#[tokio::test]
async fn sampling_lists_sets_and_sorted_sets_reads_an_element() {
    let _serial = SERIAL.lock().await;
    let keys = Keys::new();
    keys.run(
        redis::cmd("RPUSH")
            .arg(keys.key("queue:1"))
            .arg(&["first", "second"]),
    );
    keys.run(redis::cmd("RPUSH").arg(keys.key("queue:2")).arg("only"));
    keys.run(redis::cmd("SADD").arg(keys.key("tags:1")).arg(&["a", "b"]));
    keys.run(redis::cmd("SADD").arg(keys.key("tags:2")).arg("z"));
    keys.run(
        redis::cmd("ZADD")
            .arg(keys.key("scores:1"))
            .arg(&["2", "high", "1", "low"]),
    );
    keys.run(
        redis::cmd("ZADD")
            .arg(keys.key("scores:2"))
            .arg(&["1.5", "m"]),
    );
    let target = target(6379, None, None, None);

    let queues = discovered(&target, &keys, "queue:*").await;
    assert_eq!(
        rows(&queues, &sample(&target, &queues, 10).await),
        vec![row(&[Some("first")]), row(&[Some("only")])]
    );

    let tags = discovered(&target, &keys, "tags:*").await;
    let tag_rows = rows(&tags, &sample(&target, &tags, 10).await);
    assert_eq!(tag_rows.len(), 2);
    assert!(
        tag_rows.contains(&row(&[Some("a")])) || tag_rows.contains(&row(&[Some("b")])),
        "{tag_rows:?}"
    );
    assert!(tag_rows.contains(&row(&[Some("z")])), "{tag_rows:?}");

    let scores = discovered(&target, &keys, "scores:*").await;
    assert_eq!(
        rows(&scores, &sample(&target, &scores, 10).await),
        vec![
            row(&[Some("low"), Some("1")]),
            row(&[Some("m"), Some("1.5")])
        ]
    );
}

#[tokio::test]
async fn a_pattern_with_more_keys_than_rows_samples_exactly_rows() {
    let _serial = SERIAL.lock().await;
    let keys = Keys::new();
    for n in 0..50 {
        keys.run(
            redis::cmd("HSET")
                .arg(keys.key(&format!("item:{n}")))
                .arg(&["sku", &format!("SKU-{n}")]),
        );
    }
    // Matched by the glob `item:*` but of another pattern, and a key of another type.
    keys.run(
        redis::cmd("HSET")
            .arg(keys.key("item:7:extra"))
            .arg(&["sku", "EXTRA"]),
    );
    keys.run(redis::cmd("SET").arg(keys.key("item:999")).arg("a string"));
    let target = target(6379, None, None, None);
    let items = discovered(&target, &keys, "item:*").await;
    assert_eq!(items.row_estimate, Some(51));

    let seven = sample(&target, &items, 7).await;
    assert_eq!(seven.rows, 7);
    let seven = rows(&items, &seven);
    let mut distinct = seven.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 7, "{seven:?}");
    for sampled in &seven {
        let sku = sampled[0].as_deref().unwrap();
        let n: u32 = sku.strip_prefix("SKU-").unwrap().parse().unwrap();
        assert!(n < 50, "{sku}");
    }

    let all = sample(&target, &items, 1000).await;
    assert_eq!(all.rows, 50, "only the hashes of the pattern itself");
    let mut expected: Vec<Vec<Option<String>>> =
        (0..50).map(|n| vec![Some(format!("SKU-{n}"))]).collect();
    expected.sort();
    assert_eq!(rows(&items, &all), expected);
}

#[tokio::test]
async fn sampling_reads_the_patterns_database_from_the_replica_or_else_the_primary() {
    let _serial = SERIAL.lock().await;
    let keys = Keys::in_db(3);
    keys.run(
        redis::cmd("HSET")
            .arg(keys.key("user:1"))
            .arg(&["email", "a@b.c"]),
    );
    let asset = discovered(&target(6379, Some("3"), None, None), &keys, "user:*").await;

    let primary = Proxy::start(SCAN, Vec::new()).await;
    let replica = Proxy::start(SCAN, Vec::new()).await;
    // The source's configured database is 0: the asset says 3.
    let with_replica = target_with_replica(primary.port, replica.port);
    let sampled = sample(&with_replica, &asset, 10).await;
    assert_eq!(rows(&asset, &sampled), vec![row(&[Some("a@b.c")])]);
    assert_eq!(replica.connections.load(Ordering::SeqCst), 1);
    assert_eq!(primary.connections.load(Ordering::SeqCst), 0);

    // A replica that cannot be reached: the primary answers.
    let sampled = sample(&target_with_replica(primary.port, 1), &asset, 10).await;
    assert_eq!(rows(&asset, &sampled), vec![row(&[Some("a@b.c")])]);
    assert_eq!(primary.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn sampling_rides_out_a_busy_server() {
    let _serial = SERIAL.lock().await;
    let keys = Keys::new();
    fill(&keys);
    let users = discovered(&target(6379, None, None, None), &keys, "user:*").await;
    let proxy = Proxy::start(
        SCAN,
        vec![
            Fault::Reply("BUSY Redis is busy running a script."),
            Fault::Cut,
        ],
    )
    .await;
    let sampled = sample(&target(proxy.port, None, None, None), &users, 10).await;
    assert_eq!(proxy.faults_left(), 0);
    assert_eq!(sampled.rows, 2);
}

fn target_with_replica(primary: u16, replica: u16) -> RedisTarget {
    let input = DataSourceConfigInput {
        name: Some("Redis with a replica".into()),
        kind: Some("redis".into()),
        host: Some("127.0.0.1".into()),
        port: Some(primary.into()),
        replica_config: Some(ReplicaConfigInput {
            replica_host: Some("127.0.0.1".into()),
            replica_port: Some(replica.into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let config = input.parse().unwrap_or_else(|e| panic!("test config: {e}"));
    RedisTarget::from_config(&config, None).unwrap()
}
