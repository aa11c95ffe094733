//! The MongoDB connector against real SecantusDB servers (a MongoDB wire-protocol server,
//! `pip install secantusdb`), one per test: each test starts `secantusd-py` on a free port with
//! its own storage folder, and the server is killed and its folder removed when the test ends
//! (also when it panics). SecantusDB advertises itself as the primary of the single-member
//! replica set `secantus`, so the targets name that set, as a DataSource with a `replica_config`
//! would.

mod common;
use common::{free_port, unique};

use connectors::mongodb::{discover, sample, validate, MongoTarget};
use connectors::options::ConnectionTarget;
use connectors::probe::{DiscoveryError, DiscoveryOptions, DiscoveryProgress};
use connectors::secrets::SecretValue;
use domain::datasource::{
    DataSourceConfigInput, FailureCategory, PoolSettingsInput, ReplicaConfigInput,
};
use domain::discovery::{AssetKind, AssetPath, AssetSchema, LineageKind};
use domain::scan::{ScanScope, ScanStrategy};
use mongodb::bson::{doc, Bson, DateTime, Document};
use mongodb::options::{ClientOptions, IndexOptions, ServerMonitoringMode};
use mongodb::IndexModel;
use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const SERVER: &str = "secantusd-py";
const REPLICA_SET: &str = "secantus";

/// One SecantusDB process with its own storage folder; killed and removed on drop.
struct Secantus {
    port: u16,
    dir: PathBuf,
    child: Mutex<Option<Child>>,
}

impl Secantus {
    /// A server without authentication.
    fn start() -> Secantus {
        let dir = std::env::temp_dir().join(unique("pursight-secantus-"));
        std::fs::create_dir_all(&dir).unwrap();
        let server = Secantus {
            port: 0,
            dir,
            child: Mutex::new(None),
        };
        server.launch(&[])
    }

    /// A server requiring SCRAM authentication, with `user` / `password` as root. SecantusDB
    /// provisions users only without `--auth`: the user is created on a first run (committed to
    /// disk at once), then the server is restarted on the same storage with `--auth`.
    async fn start_with_user(user: &str, password: &str) -> Secantus {
        let dir = std::env::temp_dir().join(unique("pursight-secantus-"));
        std::fs::create_dir_all(&dir).unwrap();
        let first = Secantus {
            port: 0,
            dir,
            child: Mutex::new(None),
        }
        .launch(&["--sync-on-commit"]);
        let admin = admin_client(first.port).await;
        admin
            .database("admin")
            .run_command(doc! { "createUser": user, "pwd": password, "roles": ["root"] })
            .await
            .unwrap();
        admin.shutdown().await;
        first.stop();
        first.launch(&["--auth"])
    }

    /// Starts the server on a fresh free port with `flags`, waiting until it accepts connections.
    fn launch(mut self, flags: &[&str]) -> Secantus {
        self.port = free_port();
        let log = std::fs::File::create(self.dir.join("server.log")).unwrap();
        let mut command = Command::new(SERVER);
        command
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--storage-path")
            .arg(self.dir.join("data"))
            .args(["--cache-size", "64M", "--log-level", "WARNING"])
            .args(flags)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{SERVER} is needed (pip install secantusdb): {e}"));
        *self.child.lock().unwrap() = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            let exited = self
                .child
                .lock()
                .unwrap()
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
                panic!("{SERVER} did not start ({exited:?}): {log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self
    }

    fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Secantus {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A direct client for seeding and inspecting, independent of the connector. It polls (no
/// streaming monitor), so it keeps exactly one monitoring and one pooled connection.
async fn admin_client(port: u16) -> mongodb::Client {
    let mut options =
        ClientOptions::parse(format!("mongodb://127.0.0.1:{port}/?directConnection=true"))
            .await
            .unwrap();
    options.server_monitoring_mode = Some(ServerMonitoringMode::Poll);
    options.server_selection_timeout = Some(Duration::from_secs(10));
    mongodb::Client::with_options(options).unwrap()
}

/// What the connector is configured with.
#[derive(Default)]
struct Config<'a> {
    database: Option<&'a str>,
    user: Option<&'a str>,
    password: Option<&'a str>,
}

/// The target of a DataSource at `port`, naming the replica set and its one member.
fn target(port: u16, config: Config<'_>) -> MongoTarget {
    let input = DataSourceConfigInput {
        name: Some("MongoDB under test".into()),
        kind: Some("mongodb".into()),
        host: Some("127.0.0.1".into()),
        port: Some(port.into()),
        database: config.database.map(Into::into),
        username: config.user.map(Into::into),
        password_secret: config
            .password
            .map(|_| "env:PURSIGHT_TEST_MONGO_PASSWORD".into()),
        replica_config: Some(ReplicaConfigInput {
            replica_set: Some(REPLICA_SET.into()),
            replica_members: Some(vec![format!("127.0.0.1:{port}")]),
            ..Default::default()
        }),
        // A refused port is reported after the server selection timeout, which is this.
        pool: Some(PoolSettingsInput {
            pool_timeout_secs: Some(3),
            ..Default::default()
        }),
        ..Default::default()
    };
    let config_value = input.parse().unwrap_or_else(|e| panic!("test config: {e}"));
    let password = config.password.map(SecretValue::new);
    MongoTarget::from_config(&config_value, password.as_ref()).unwrap()
}

fn scoped(include: &[&str], exclude: &[&str], strategy: ScanStrategy) -> DiscoveryOptions {
    DiscoveryOptions {
        scope: ScanScope::parse(include.iter().copied(), exclude.iter().copied()).unwrap(),
        strategy,
        ..DiscoveryOptions::default()
    }
}

fn no_progress(_: DiscoveryProgress) {}

fn path(text: &str) -> AssetPath {
    AssetPath::parse(text).unwrap()
}

fn by_path(assets: &[AssetSchema]) -> BTreeMap<String, &AssetSchema> {
    assets.iter().map(|a| (a.path.to_string(), a)).collect()
}

/// (name, type, nullable, primary key) in ordinal order.
fn columns(asset: &AssetSchema) -> Vec<(String, String, bool, bool)> {
    let mut columns: Vec<_> = asset.columns.iter().collect();
    columns.sort_by_key(|c| c.ordinal);
    columns
        .into_iter()
        .map(|c| {
            (
                c.name.clone(),
                c.data_type.clone(),
                c.nullable,
                c.primary_key,
            )
        })
        .collect()
}

fn col(name: &str, data_type: &str, nullable: bool) -> (String, String, bool, bool) {
    (name.into(), data_type.into(), nullable, name == "_id")
}

/// `shop.people` (nested documents, missing and null fields, arrays; a unique and a compound
/// index), `shop.orders`, the view `shop.adults` over people joining orders, and a database
/// `archive` with one collection.
async fn seed(port: u16) {
    let client = admin_client(port).await;
    let shop = client.database("shop");
    let people = shop.collection::<Document>("people");
    people
        .insert_many([
            doc! {
                "_id": 1,
                "name": "Ann Secretvalue",
                "email": "ann@example.com",
                "address": { "city": "Lyon", "zip": "69001" },
                "tags": ["vip", "early"],
                "born": DateTime::from_millis(316_224_000_000),
                "contacts": [
                    { "kind": "work", "email": "ann@corp.example" },
                    { "kind": "home", "phone": "+33 1 23 45 67 89" },
                ],
            },
            doc! {
                "_id": 2,
                "name": "Bo",
                "email": "bo@example.com",
                "address": { "city": "Nice" },
                "phone": null,
                "contacts": [{ "kind": "home", "email": null }, { "email": "bo@home.example" }],
            },
            doc! {
                "_id": 3,
                "name": "Cy",
                "email": null,
                "tags": [],
                "phone": "+33 6 12 34 56 78",
                "age": 41_i64,
            },
        ])
        .await
        .unwrap();
    people
        .create_index(
            IndexModel::builder()
                .keys(doc! { "email": 1 })
                .options(
                    IndexOptions::builder()
                        .name("email_unique".to_owned())
                        .unique(true)
                        .build(),
                )
                .build(),
        )
        .await
        .unwrap();
    people
        .create_index(
            IndexModel::builder()
                .keys(doc! { "address.city": 1, "name": -1 })
                .build(),
        )
        .await
        .unwrap();
    shop.collection::<Document>("orders")
        .insert_many([
            doc! { "_id": 10, "person": 1, "total": 12.5 },
            doc! { "_id": 11, "person": 2, "total": 7_i64 },
        ])
        .await
        .unwrap();
    shop.run_command(doc! {
        "create": "adults",
        "viewOn": "people",
        "pipeline": [
            { "$match": { "age": { "$gte": 18 } } },
            { "$lookup": { "from": "orders", "localField": "_id", "foreignField": "person", "as": "orders" } },
            { "$project": { "name": 1, "age": 1 } },
        ],
    })
    .await
    .unwrap();
    client
        .database("archive")
        .collection::<Document>("old_people")
        .insert_one(doc! { "name": "Dee" })
        .await
        .unwrap();
    client.shutdown().await;
}

// ---- validation --------------------------------------------------------------------------------

#[tokio::test]
async fn validate_reports_latency_and_version_through_the_replica_set() {
    let server = Secantus::start();
    let target = target(server.port, Config::default());
    let uri = target.to_uri();
    assert!(
        uri.contains("replicaSet=secantus") && uri.contains("readPreference=primaryPreferred"),
        "{uri}"
    );
    let info = validate(&target, Duration::from_secs(10)).await.unwrap();
    let version = info.server_version.unwrap();
    assert!(
        version.starts_with(|c: char| c.is_ascii_digit()),
        "{version}"
    );
    assert!(info.latency_ms < 10_000);

    // Through the kind-independent entry point too.
    let any = ConnectionTarget::Mongodb(target);
    connectors::live::validate(&any, Duration::from_secs(10))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let port = free_port();
    let started = Instant::now();
    let failure = validate(&target(port, Config::default()), Duration::from_secs(2))
        .await
        .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Unreachable, "{failure}");
    assert!(started.elapsed() < Duration::from_secs(10));

    let error = discover(
        &target(port, Config::default()),
        &DiscoveryOptions::default(),
        &no_progress,
    )
    .await
    .unwrap_err();
    match error {
        DiscoveryError::Connection(failure) => {
            assert_eq!(failure.category, FailureCategory::Unreachable, "{failure}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_password_is_auth_and_never_shown() {
    let user = "scanner";
    let good = unique("good-pw-");
    let wrong = unique("wrong:pw@");
    let server = Secantus::start_with_user(user, &good).await;
    let with_good = |database| {
        target(
            server.port,
            Config {
                database,
                user: Some(user),
                password: Some(&good),
            },
        )
    };
    let with_wrong = target(
        server.port,
        Config {
            user: Some(user),
            password: Some(&wrong),
            ..Config::default()
        },
    );
    let encoded = wrong.replace(':', "%3A").replace('@', "%40");

    let failure = validate(&with_wrong, Duration::from_secs(10))
        .await
        .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Auth, "{failure}");
    for shown in [failure.to_string(), format!("{failure:?}")] {
        assert!(
            !shown.contains(&wrong) && !shown.contains(&encoded),
            "{shown}"
        );
    }
    let error = discover(&with_wrong, &DiscoveryOptions::default(), &no_progress)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, DiscoveryError::Connection(f) if f.category == FailureCategory::Auth),
        "{error:?}"
    );
    assert!(!format!("{error:?}").contains(&wrong));
    assert!(!format!("{with_wrong:?} {with_wrong}").contains(&wrong));

    validate(&with_good(None), Duration::from_secs(10))
        .await
        .unwrap();
    // The user can read: a discovery with the right password works.
    let discovery = discover(
        &with_good(Some("shop")),
        &DiscoveryOptions::default(),
        &no_progress,
    )
    .await
    .unwrap();
    assert_eq!(discovery.metrics.schemas, 1);
}

// ---- discovery ---------------------------------------------------------------------------------

#[tokio::test]
async fn discovery_infers_fields_indexes_counts_and_view_lineage() {
    let server = Secantus::start();
    seed(server.port).await;
    let reports = Mutex::new(Vec::new());
    let discovery = discover(
        &target(server.port, Config::default()),
        &scoped(&["shop", "shop.*"], &[], ScanStrategy::Balanced),
        &|p: DiscoveryProgress| reports.lock().unwrap().push(p),
    )
    .await
    .unwrap();
    let assets = by_path(&discovery.assets);
    assert_eq!(
        assets.keys().cloned().collect::<Vec<_>>(),
        ["shop", "shop.adults", "shop.orders", "shop.people"],
        "`archive` and the server's own databases are outside the scope"
    );
    assert_eq!(assets["shop"].kind, AssetKind::Database);

    let people = assets["shop.people"];
    assert_eq!(people.kind, AssetKind::Collection);
    assert_eq!(people.row_estimate, Some(3));
    assert_eq!(
        columns(people),
        vec![
            col("_id", "int", false),
            col("name", "string", false),
            col("email", "null|string", true),
            col("address", "object", true),
            col("address.city", "string", true),
            col("address.zip", "string", true),
            col("tags", "array", true),
            col("born", "date", true),
            col("contacts", "array", true),
            col("contacts.kind", "string", true),
            col("contacts.email", "null|string", true),
            col("contacts.phone", "string", true),
            col("phone", "null|string", true),
            col("age", "long", true),
        ]
    );
    let indexes: BTreeMap<&str, (&[String], bool, bool)> = people
        .indexes
        .iter()
        .map(|i| (i.name.as_str(), (i.columns.as_slice(), i.unique, i.primary)))
        .collect();
    assert_eq!(indexes.len(), 3, "{indexes:?}");
    assert_eq!(indexes["_id_"], (&["_id".to_owned()][..], true, true));
    assert_eq!(
        indexes["email_unique"],
        (&["email".to_owned()][..], true, false)
    );
    assert_eq!(
        indexes["address.city_1_name_-1"],
        (
            &["address.city".to_owned(), "name".to_owned()][..],
            false,
            false
        )
    );

    let orders = assets["shop.orders"];
    assert_eq!(orders.row_estimate, Some(2));
    assert_eq!(
        columns(orders),
        vec![
            col("_id", "int", false),
            col("person", "int", false),
            col("total", "double|long", false),
        ]
    );

    let adults = assets["shop.adults"];
    assert_eq!(adults.kind, AssetKind::View);
    assert_eq!(adults.comment.as_deref(), Some("view on people"));
    let definition = adults.view_definition.as_deref().unwrap();
    assert!(
        definition.starts_with(r#"[{"$match":{"age":{"$gte":18}}},"#),
        "{definition}"
    );
    assert_eq!(
        columns(adults),
        vec![
            col("_id", "int", false),
            col("name", "string", false),
            col("age", "long", false)
        ]
    );
    let edges: Vec<(String, String)> = discovery
        .lineage
        .iter()
        .map(|e| (e.from.to_string(), e.to.to_string()))
        .collect();
    assert_eq!(
        edges,
        [
            ("shop.orders".to_owned(), "shop.adults".to_owned()),
            ("shop.people".to_owned(), "shop.adults".to_owned()),
        ]
    );
    assert!(discovery
        .lineage
        .iter()
        .all(|e| e.kind == LineageKind::View && !e.is_column_level()));

    let metrics = &discovery.metrics;
    assert_eq!(
        (metrics.schemas, metrics.collections, metrics.views),
        (1, 2, 1)
    );
    assert_eq!(metrics.columns, 14 + 3 + 3);
    assert!(metrics.queries_executed >= 8, "{metrics:?}");
    assert_eq!((metrics.errors, metrics.retries), (0, 0));

    let reports = reports.into_inner().unwrap();
    let last = reports.last().unwrap();
    assert_eq!((last.assets_done, last.assets_total), (4, Some(4)));
    assert!(reports.len() >= 4, "{reports:?}");
    assert!(reports
        .windows(2)
        .all(|w| w[0].assets_done <= w[1].assets_done));

    // No sampled value is kept anywhere.
    let everything = format!("{:?}", discovery.assets);
    for value in ["Secretvalue", "ann@example.com", "Lyon", "69001", "+33 6"] {
        assert!(!everything.contains(value), "{value} leaked: {everything}");
    }
}

#[tokio::test]
async fn scope_and_configured_database_limit_what_is_read() {
    let server = Secantus::start();
    seed(server.port).await;
    let everything = target(server.port, Config::default());

    // Globs and excludes: collections only, the view left out, the database itself not matched.
    let discovery = discover(
        &everything,
        &scoped(&["*.*people"], &["shop.adults"], ScanStrategy::Conservative),
        &no_progress,
    )
    .await
    .unwrap();
    let paths: Vec<String> = discovery
        .assets
        .iter()
        .map(|a| a.path.to_string())
        .collect();
    assert_eq!(paths, ["archive.old_people", "shop.people"]);
    assert_eq!(discovery.metrics.schemas, 0);

    // Without a scope: every user database, never `admin`, `config` or `local`.
    let all = discover(&everything, &DiscoveryOptions::default(), &no_progress)
        .await
        .unwrap();
    let databases: Vec<String> = all
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::Database)
        .map(|a| a.path.to_string())
        .collect();
    assert_eq!(databases, ["archive", "shop"]);

    // A configured database is the only one read.
    let archive_only = target(
        server.port,
        Config {
            database: Some("archive"),
            ..Config::default()
        },
    );
    let discovery = discover(&archive_only, &DiscoveryOptions::default(), &no_progress)
        .await
        .unwrap();
    let paths: Vec<String> = discovery
        .assets
        .iter()
        .map(|a| a.path.to_string())
        .collect();
    assert_eq!(paths, ["archive", "archive.old_people"]);

    // A scope that leaves the configured database out does not connect at all.
    let nothing = discover(
        &archive_only,
        &scoped(&["shop.**"], &[], ScanStrategy::Auto),
        &no_progress,
    )
    .await
    .unwrap();
    assert!(nothing.assets.is_empty());
    assert_eq!(nothing.metrics.queries_executed, 0);
}

#[tokio::test]
async fn a_rescan_without_change_has_the_same_fingerprints() {
    let server = Secantus::start();
    let client = admin_client(server.port).await;
    let events = client.database("log").collection::<Document>("events");
    // 300 documents, every 15th with a field no other document has: a sample that picked other
    // documents would show other columns.
    let documents: Vec<Document> = (0..300)
        .map(|i| {
            let mut document = doc! { "_id": i, "kind": if i % 2 == 0 { "a" } else { "b" } };
            if i % 15 == 0 {
                document.insert(format!("note_{i}"), "x");
            }
            document
        })
        .collect();
    events.insert_many(documents).await.unwrap();
    let target = target(server.port, Config::default());
    let fingerprints = |assets: &[AssetSchema]| {
        assets
            .iter()
            .map(|a| (a.path.clone(), a.fingerprint()))
            .collect::<BTreeMap<_, _>>()
    };
    let options = scoped(&["log.**"], &[], ScanStrategy::Balanced);
    let first = discover(&target, &options, &no_progress).await.unwrap();
    let second = discover(&target, &options, &no_progress).await.unwrap();
    assert_eq!(first.assets.len(), 2);
    assert_eq!(fingerprints(&first.assets), fingerprints(&second.assets));
    assert_eq!(first.assets, second.assets);
    // The first 50 and the last 50 documents by `_id`: notes 0..45 and 255..285.
    let notes: Vec<&str> = first.assets[1]
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| n.starts_with("note_"))
        .collect();
    assert_eq!(
        notes,
        ["note_0", "note_15", "note_30", "note_45", "note_285", "note_270", "note_255"]
    );

    // A new document (the newest by `_id`, so sampled) with a new field changes the schema.
    events
        .insert_one(doc! { "_id": 1000, "kind": "c", "email": "new@example.com" })
        .await
        .unwrap();
    let third = discover(&target, &options, &no_progress).await.unwrap();
    let events_path = path("log.events");
    assert_ne!(
        fingerprints(&first.assets)[&events_path],
        fingerprints(&third.assets)[&events_path]
    );
    assert!(third.assets[1].column("email").is_some());
    client.shutdown().await;
}

// ---- sampling ----------------------------------------------------------------------------------

#[tokio::test]
async fn sampling_returns_the_values_for_classification() {
    let server = Secantus::start();
    seed(server.port).await;
    let target = target(server.port, Config::default());
    let discovery = discover(
        &target,
        &scoped(&["shop.people"], &[], ScanStrategy::Balanced),
        &no_progress,
    )
    .await
    .unwrap();
    let people = &discovery.assets[0];

    let sampled = sample(&target, people, 100, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(sampled.rows, 3);
    let names: Vec<&str> = sampled.columns.iter().map(|c| c.column.as_str()).collect();
    let expected: Vec<&str> = people.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, expected);
    assert!(sampled.columns.iter().all(|c| c.values.len() == 3));
    let values = |name: &str| -> BTreeSet<Option<String>> {
        sampled
            .columns
            .iter()
            .find(|c| c.column == name)
            .unwrap()
            .values
            .iter()
            .cloned()
            .collect()
    };
    let some = |v: &str| Some(v.to_owned());
    assert_eq!(
        values("email"),
        BTreeSet::from([some("ann@example.com"), some("bo@example.com"), None])
    );
    assert_eq!(
        values("address.city"),
        BTreeSet::from([some("Lyon"), some("Nice"), None])
    );
    assert_eq!(
        values("born"),
        BTreeSet::from([some("1980-01-09T00:00:00Z"), None])
    );
    assert_eq!(
        values("tags"),
        BTreeSet::from([some(r#"["vip","early"]"#), some("[]"), None])
    );
    // The fields of the documents in an array: the first element's value that is not null.
    assert_eq!(
        values("contacts.email"),
        BTreeSet::from([some("ann@corp.example"), some("bo@home.example"), None])
    );
    assert_eq!(
        values("contacts.phone"),
        BTreeSet::from([some("+33 1 23 45 67 89"), None])
    );
    assert_eq!(
        values("address"),
        BTreeSet::from([
            some(r#"{"city":"Lyon","zip":"69001"}"#),
            some(r#"{"city":"Nice"}"#),
            None
        ])
    );
    assert_eq!(
        values("_id"),
        BTreeSet::from([some("1"), some("2"), some("3")])
    );

    // Fewer rows than documents: exactly that many, through the kind-independent entry point.
    let any = ConnectionTarget::Mongodb(target.clone());
    let two = connectors::live::sample(&any, people, 2, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(two.rows, 2);
    assert!(two.columns.iter().all(|c| c.values.len() == 2));

    // Containers have no documents.
    let database = AssetSchema::new(AssetKind::Database, path("shop"));
    assert!(matches!(
        sample(&target, &database, 10, Duration::from_secs(5)).await,
        Err(DiscoveryError::Unsupported(_))
    ));
}

// ---- connections -------------------------------------------------------------------------------

/// `serverStatus.connections.current` as the server counts it.
async fn current_connections(client: &mongodb::Client) -> i64 {
    let status = client
        .database("admin")
        .run_command(doc! { "serverStatus": 1 })
        .await
        .unwrap();
    match status.get_document("connections").unwrap().get("current") {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        Some(Bson::Double(n)) => *n as i64,
        other => panic!("connections.current: {other:?}"),
    }
}

#[tokio::test]
async fn connections_are_closed_after_every_operation() {
    let server = Secantus::start();
    seed(server.port).await;
    let admin = admin_client(server.port).await;
    let baseline = current_connections(&admin).await;
    assert!(baseline >= 1);
    let target = target(server.port, Config::default());

    validate(&target, Duration::from_secs(10)).await.unwrap();
    let discovery = discover(&target, &DiscoveryOptions::default(), &no_progress)
        .await
        .unwrap();
    let people = discovery
        .assets
        .iter()
        .find(|a| a.path == path("shop.people"))
        .unwrap();
    sample(&target, people, 10, Duration::from_secs(10))
        .await
        .unwrap();
    // A collection that is gone samples nothing, and closes its connections as well.
    let missing = AssetSchema {
        path: path("shop.nowhere"),
        ..people.clone()
    };
    let empty = sample(&target, &missing, 10, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(empty.rows, 0);

    let during = current_connections(&admin).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = current_connections(&admin).await;
        if now <= baseline {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{now} connections open, {baseline} before (right after the operations: {during})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    admin.shutdown().await;
}

#[allow(dead_code)]
fn the_entry_points_are_send(target: &MongoTarget, asset: &AssetSchema) {
    fn send<T: Send>(_: T) {}
    send(sample(target, asset, 1, Duration::from_secs(1)));
    send(discover(target, &DiscoveryOptions::default(), &no_progress));
    send(validate(target, Duration::from_secs(1)));
}
