//! The MySQL / MariaDB connector against the machine's real MariaDB at 127.0.0.1:3306 (`root`
//! without a password).
//!
//! Every test works in its own database `pursight_conn_<random>`, dropped when the test ends
//! (also when it panics), so the tests run in parallel without seeing each other's tables. The
//! labeled dataset `shared/datasets/pii-dev/mysql.sql` creates and `USE`s a database called
//! `dev_shop`; those two statements are left out and the rest runs inside the test's database.

mod common;
use common::unique;

use connectors::mysql::{discover, validate, MysqlTarget};
use connectors::probe::{DiscoveryError, DiscoveryOptions, DiscoveryProgress};
use connectors::secrets::SecretValue;
use domain::datasource::{DataSourceConfigInput, FailureCategory, SslConfigInput};
use domain::discovery::{AssetKind, AssetPath, AssetSchema, LineageKind};
use domain::scan::{ScanScope, ScanStrategy};
use sqlx::{Connection, MySqlConnection};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const HOST: &str = "127.0.0.1";
const PORT: u16 = 3306;
const ADMIN_URL: &str = testkit::MARIADB_ADMIN_URL;

// ---- fixtures ----------------------------------------------------------------------------------

async fn admin() -> MySqlConnection {
    MySqlConnection::connect(ADMIN_URL)
        .await
        .expect("the machine's MariaDB at 127.0.0.1:3306 (root, no password) is needed")
}

/// Runs `sql` (one or more statements) as root, outside any database.
async fn admin_exec(sql: &str) {
    testkit::mariadb_exec(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A database owned by one test, dropped when the value is.
struct TestDb {
    name: String,
}

impl TestDb {
    async fn empty() -> TestDb {
        let name = unique("pursight_conn_");
        admin_exec(&format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4")).await;
        TestDb { name }
    }

    /// A database holding the pii-dev dataset (20 tables, 3 views).
    async fn pii_dev() -> TestDb {
        let db = TestDb::empty().await;
        db.exec(&dataset_script()).await;
        db
    }

    /// Runs `sql` (one or more statements) inside this database.
    async fn exec(&self, sql: &str) {
        let mut connection = MySqlConnection::connect(&format!("{ADMIN_URL}/{}", self.name))
            .await
            .unwrap();
        sqlx::raw_sql(sql)
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("loading into {}: {e}", self.name));
        connection.close().await.unwrap();
    }

    fn target(&self) -> MysqlTarget {
        target(Some(&self.name), Some("root"), None)
    }

    fn path(&self, table: &str) -> AssetPath {
        AssetPath::new([self.name.as_str(), table]).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let dropped =
            testkit::block_on_thread(
                move || async move { testkit::drop_mariadb_database(&name).await },
            );
        if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
            panic!("could not drop test database {}", self.name);
        }
    }
}

/// The dataset script without its `CREATE DATABASE dev_shop` and `USE dev_shop` statements.
fn dataset_script() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/pii-dev/mysql.sql");
    let script = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the labeled dataset is missing at {} ({e}); it ships in shared/datasets/pii-dev/",
            path.display()
        )
    });
    let kept: Vec<&str> = script
        .lines()
        .filter(|line| {
            let upper = line.trim_start().to_ascii_uppercase();
            !(upper.starts_with("CREATE DATABASE") || upper.starts_with("USE "))
        })
        .collect();
    let kept = kept.join("\n");
    assert!(
        !kept.contains("dev_shop;") && !kept.contains("`dev_shop`") && !kept.contains(" dev_shop."),
        "the dataset names dev_shop beyond CREATE DATABASE / USE; the loader must rewrite it"
    );
    kept
}

/// A target built through the DataSource model, as the command layer builds it.
fn target(database: Option<&str>, user: Option<&str>, password: Option<&str>) -> MysqlTarget {
    target_on(PORT, database, user, password, None)
}

fn target_on(
    port: u16,
    database: Option<&str>,
    user: Option<&str>,
    password: Option<&str>,
    ssl_mode: Option<&str>,
) -> MysqlTarget {
    let input = DataSourceConfigInput {
        name: Some("MariaDB under test".into()),
        kind: Some("mysql".into()),
        host: Some(HOST.into()),
        port: Some(port.into()),
        database: database.map(Into::into),
        username: user.map(Into::into),
        password_secret: password.map(|_| "env:PURSIGHT_TEST_MYSQL_PASSWORD".into()),
        ssl_config: ssl_mode.map(|mode| SslConfigInput {
            mode: Some(mode.into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let config = input.parse().unwrap_or_else(|e| panic!("test config: {e}"));
    MysqlTarget::from_config(&config, password.map(SecretValue::new).as_ref()).unwrap()
}

fn options(strategy: ScanStrategy) -> DiscoveryOptions {
    DiscoveryOptions {
        strategy,
        ..DiscoveryOptions::default()
    }
}

fn ignore_progress(_: DiscoveryProgress) {}

/// Connections the server holds with `database` as their current database.
async fn connections_to(database: &str) -> i64 {
    let mut admin = admin().await;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = ?")
            .bind(database)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    admin.close().await.unwrap();
    count
}

/// Waits briefly for the server to forget closed connections (it drops a thread shortly after
/// the client's `COM_QUIT`), then asserts the count is back at `baseline`.
async fn assert_connections_back_to(database: &str, baseline: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = connections_to(database).await;
        if now == baseline {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{now} connections to {database} remain, baseline {baseline}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn by_path(assets: &[AssetSchema]) -> BTreeMap<String, &AssetSchema> {
    assets.iter().map(|a| (a.path.to_string(), a)).collect()
}

// ---- discovery ---------------------------------------------------------------------------------

#[tokio::test]
async fn discovers_the_pii_dev_dataset_in_a_few_batched_queries() {
    let db = TestDb::pii_dev().await;
    let baseline = connections_to(&db.name).await;
    let reports = Mutex::new(Vec::new());
    let discovery = discover(&db.target(), &options(ScanStrategy::Balanced), &|p| {
        reports.lock().unwrap().push(p)
    })
    .await
    .expect("discovery");
    assert_connections_back_to(&db.name, baseline).await;

    let count = |kind| discovery.assets.iter().filter(|a| a.kind == kind).count();
    assert_eq!(count(AssetKind::Schema), 1);
    assert_eq!(count(AssetKind::Table), 20);
    assert_eq!(count(AssetKind::View), 3);
    let m = discovery.metrics;
    assert_eq!((m.schemas, m.tables, m.views), (1, 20, 3));
    // 183 table columns and 16 view columns, as the dataset defines them.
    assert_eq!(m.columns, 199);
    assert_eq!(
        discovery
            .assets
            .iter()
            .map(|a| a.columns.len() as u64)
            .sum::<u64>(),
        199
    );
    // Schemas, tables, then columns, keys, indexes and views of the one balanced batch, then
    // routines, sequences and triggers of the schema: far below one query per table.
    assert_eq!(
        m.queries_executed, 9,
        "queries for 23 tables and views: {m:?}"
    );
    assert_eq!((m.retries, m.errors), (0, 0));
    assert!(discovery.assets.iter().all(|a| a.validate().is_ok()));

    let assets = by_path(&discovery.assets);
    let schema = assets[&db.name];
    assert!(schema.columns.is_empty());

    let customers = assets[&format!("{}.customers", db.name)];
    assert_eq!(customers.kind, AssetKind::Table);
    let id = customers.column("id").unwrap();
    assert!(id.primary_key && !id.nullable, "{id:?}");
    assert_eq!((id.data_type.as_str(), id.ordinal), ("int(11)", 1));
    let email = customers.column("email").unwrap();
    assert_eq!(email.data_type, "varchar(120)");
    assert!(email.nullable && !email.primary_key && email.default.is_none());
    assert_eq!(customers.columns.len(), 14);
    assert_eq!(customers.row_estimate.map(|n| n > 0), Some(true));

    let orders = assets[&format!("{}.orders", db.name)];
    let index_names: Vec<&str> = orders.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        index_names,
        [
            "PRIMARY",
            "fk_orders_customer_id",
            "fk_orders_shipping_address_id"
        ]
    );
    let primary = &orders.indexes[0];
    assert!(primary.primary && primary.unique && primary.columns == ["id"]);
    assert!(!orders.indexes[1].unique && orders.indexes[1].columns == ["customer_id"]);
    assert_eq!(orders.foreign_keys.len(), 2);
    let to_customers = orders
        .foreign_keys
        .iter()
        .find(|fk| fk.name == "fk_orders_customer_id")
        .unwrap();
    assert_eq!(to_customers.referenced, db.path("customers"));
    assert_eq!(
        (
            to_customers.columns.as_slice(),
            to_customers.referenced_columns.as_slice()
        ),
        (&["customer_id".to_owned()][..], &["id".to_owned()][..])
    );

    // Foreign keys are lineage from the referenced table to the referencing one.
    let foreign_keys = discovery
        .lineage
        .iter()
        .filter(|e| e.kind == LineageKind::ForeignKey);
    assert_eq!(foreign_keys.count(), 17);
    // Views are lineage from the tables their SQL reads, column to column where it says so.
    let into = |view: &str| -> Vec<_> {
        discovery
            .lineage
            .iter()
            .filter(|e| e.kind == LineageKind::View && e.to == db.path(view))
            .collect()
    };
    let overview = into("v_order_overview");
    let email = overview
        .iter()
        .find(|e| e.to_columns == ["customer_email".to_owned()])
        .expect("customer_email has a column edge");
    assert_eq!(
        (email.from.clone(), email.from_columns.clone()),
        (db.path("customers"), vec!["email".to_owned()])
    );
    let sources: std::collections::BTreeSet<_> = overview.iter().map(|e| e.from.clone()).collect();
    assert_eq!(
        sources,
        [
            db.path("orders"),
            db.path("customers"),
            db.path("customer_addresses")
        ]
        .into_iter()
        .collect()
    );
    assert!(into("v_open_tickets")
        .iter()
        .any(|e| e.from == db.path("agents")));
    assert!(into("v_seller_payouts")
        .iter()
        .all(|e| e.from == db.path("marketplace_sellers")));
    let edge = discovery
        .lineage
        .iter()
        .find(|e| e.to == db.path("orders") && e.from == db.path("customers"))
        .expect("customers → orders");
    assert_eq!(
        (edge.from_columns.as_slice(), edge.to_columns.as_slice()),
        (&["id".to_owned()][..], &["customer_id".to_owned()][..])
    );
    assert!(discovery
        .lineage
        .iter()
        .any(|e| e.to == db.path("ticket_messages") && e.from == db.path("tickets")));

    for view in ["v_order_overview", "v_open_tickets", "v_seller_payouts"] {
        let asset = assets[&format!("{}.{view}", db.name)];
        assert_eq!(asset.kind, AssetKind::View);
        let definition = asset.view_definition.as_deref().unwrap_or_default();
        assert!(
            definition.to_ascii_lowercase().contains("select"),
            "{view}: {definition:?}"
        );
        assert!(asset.indexes.is_empty() && asset.foreign_keys.is_empty());
        assert_eq!(asset.row_estimate, None);
    }
    let overview = assets[&format!("{}.v_order_overview", db.name)];
    assert_eq!(overview.columns.len(), 6);
    assert!(overview
        .view_definition
        .as_deref()
        .unwrap()
        .contains("`orders`"));

    let reports = reports.into_inner().unwrap();
    let last = reports.last().expect("progress was reported");
    assert_eq!(last.assets_total, Some(24));
    assert_eq!(last.assets_done, 24);
    assert_eq!(last.current_strategy, ScanStrategy::Balanced);
}

#[tokio::test]
async fn a_rescan_of_an_unchanged_database_has_the_same_fingerprints() {
    let db = TestDb::pii_dev().await;
    let fingerprints = |assets: &[AssetSchema]| -> BTreeMap<String, String> {
        assets
            .iter()
            .map(|a| (a.path.to_string(), a.fingerprint().as_str().to_owned()))
            .collect()
    };
    let first = discover(&db.target(), &options(ScanStrategy::Auto), &ignore_progress)
        .await
        .unwrap();
    // Another strategy cuts other batches; the result must not depend on it.
    let second = discover(
        &db.target(),
        &options(ScanStrategy::Conservative),
        &ignore_progress,
    )
    .await
    .unwrap();
    assert_eq!(first.assets.len(), 24);
    assert_eq!(fingerprints(&first.assets), fingerprints(&second.assets));
    assert_eq!(first.lineage, second.lineage);

    db.exec("ALTER TABLE customers ADD COLUMN nickname VARCHAR(30) COMMENT 'shown in the app'")
        .await;
    let third = discover(&db.target(), &options(ScanStrategy::Auto), &ignore_progress)
        .await
        .unwrap();
    let (before, after) = (fingerprints(&first.assets), fingerprints(&third.assets));
    let changed: Vec<&String> = before
        .keys()
        .filter(|path| before[*path] != after[*path])
        .collect();
    assert_eq!(changed, [&format!("{}.customers", db.name)]);
    let customers = &by_path(&third.assets)[&format!("{}.customers", db.name)];
    let nickname = customers.column("nickname").unwrap();
    assert_eq!(nickname.comment.as_deref(), Some("shown in the app"));
    assert_eq!(nickname.ordinal, 15);
}

#[tokio::test]
async fn many_tables_are_read_in_batches_not_one_query_per_table() {
    let db = TestDb::empty().await;
    let mut ddl = String::from(
        "CREATE TABLE parent (id INT PRIMARY KEY, code VARCHAR(8) DEFAULT 'x', UNIQUE KEY uq_code (code)) COMMENT 'the parent';\n",
    );
    for i in 0..60 {
        ddl.push_str(&format!(
            "CREATE TABLE t{i:02} (id INT NOT NULL, parent_id INT, note TEXT, \
             PRIMARY KEY (id), KEY by_parent_note (parent_id, id), \
             CONSTRAINT fk_t{i:02}_parent FOREIGN KEY (parent_id) REFERENCES parent (id));\n"
        ));
    }
    db.exec(&ddl).await;

    let discovery = discover(
        &db.target(),
        &options(ScanStrategy::Conservative),
        &ignore_progress,
    )
    .await
    .unwrap();
    let m = discovery.metrics;
    assert_eq!((m.schemas, m.tables, m.views, m.columns), (1, 61, 0, 182));
    // Conservative batches hold 25 tables: 3 batches × (columns, keys, indexes) + 2 listings
    // + routines, sequences and triggers.
    assert_eq!(m.queries_executed, 14, "{m:?}");
    assert_eq!(discovery.lineage.len(), 60);

    let assets = by_path(&discovery.assets);
    let parent = assets[&format!("{}.parent", db.name)];
    assert_eq!(parent.comment.as_deref(), Some("the parent"));
    assert_eq!(
        parent.column("code").unwrap().default.as_deref(),
        Some("'x'")
    );
    let unique = parent.indexes.iter().find(|i| i.name == "uq_code").unwrap();
    assert!(unique.unique && !unique.primary);
    let t07 = assets[&format!("{}.t07", db.name)];
    let composite = t07
        .indexes
        .iter()
        .find(|i| i.name == "by_parent_note")
        .unwrap();
    assert_eq!(composite.columns, ["parent_id", "id"]);
}

#[tokio::test]
async fn the_scope_decides_which_schemas_and_tables_are_read() {
    let db = TestDb::empty().await;
    db.exec(
        "CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(80));
         CREATE TABLE audit_log (id INT PRIMARY KEY, entry TEXT);
         CREATE TABLE audit_archive (id INT PRIMARY KEY);
         CREATE VIEW v_customers AS SELECT id, email FROM customers;",
    )
    .await;
    // Without a database in the target every schema of the server is listed; the scope keeps
    // this test's own.
    let unbounded = target(None, Some("root"), None);
    let names = |discovery: &connectors::probe::Discovery| -> Vec<String> {
        discovery
            .assets
            .iter()
            .map(|a| a.path.to_string())
            .collect()
    };
    let run = |include: Vec<String>, exclude: Vec<String>| {
        let target = unbounded.clone();
        async move {
            let scoped = DiscoveryOptions {
                scope: ScanScope::parse(include, exclude).unwrap(),
                ..options(ScanStrategy::Balanced)
            };
            discover(&target, &scoped, &ignore_progress).await.unwrap()
        }
    };
    let db_name = db.name.clone();
    let path = |table: &str| format!("{db_name}.{table}");

    let everything_but_audit = run(
        vec![format!("{}.**", db.name)],
        vec![format!("{}.audit_*", db.name)],
    )
    .await;
    assert_eq!(
        names(&everything_but_audit),
        [db.name.clone(), path("customers"), path("v_customers")]
    );

    let one_table = run(vec![path("audit_log")], vec![]).await;
    assert_eq!(
        names(&one_table),
        [db.name.clone(), path("audit_log")],
        "the schema is listed because it may contain the table"
    );

    let nothing = run(vec![format!("{}_other.**", db.name)], vec![]).await;
    assert!(nothing.assets.is_empty(), "{:?}", names(&nothing));
    assert_eq!(
        nothing.metrics.queries_executed, 1,
        "no schema in scope, no table listing"
    );

    let excluded_subtree = run(
        vec![format!("{}.**", db.name)],
        vec![format!("{}.**", db.name)],
    )
    .await;
    assert!(excluded_subtree.assets.is_empty());
}

#[tokio::test]
async fn discovery_reports_connection_failures_by_category() {
    let db = TestDb::empty().await;
    let missing = discover(
        &target(Some(&format!("{}_missing", db.name)), Some("root"), None),
        &DiscoveryOptions::default(),
        &ignore_progress,
    )
    .await
    .unwrap_err();
    match missing {
        DiscoveryError::Connection(failure) => {
            assert_eq!(failure.category, FailureCategory::Config, "{failure}")
        }
        other => panic!("expected a connection failure, got {other}"),
    }
    let closed = discover(
        &target_on(closed_port(), None, Some("root"), None, None),
        &DiscoveryOptions::default(),
        &ignore_progress,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&closed, DiscoveryError::Connection(f) if f.category == FailureCategory::Unreachable),
        "{closed}"
    );
}

// ---- validation --------------------------------------------------------------------------------

/// A local port with nothing listening: bound, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind((HOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

const TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn validate_reports_latency_and_the_server_version_and_closes() {
    let db = TestDb::empty().await;
    let info = validate(&db.target(), TIMEOUT).await.expect("validation");
    let version = info.server_version.expect("a version");
    assert!(version.contains("MariaDB"), "{version}");
    assert!(info.latency_ms < TIMEOUT.as_millis() as u64);
    assert_connections_back_to(&db.name, 0).await;
}

#[tokio::test]
async fn validate_classifies_an_unknown_database_as_config() {
    let name = unique("pursight_conn_missing_");
    let failure = validate(&target(Some(&name), Some("root"), None), TIMEOUT)
        .await
        .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Config, "{failure}");
    assert!(failure.message.contains(&name), "{failure}");
}

#[tokio::test]
async fn validate_classifies_a_closed_port_as_unreachable() {
    let target = target_on(closed_port(), None, Some("root"), None, None);
    let failure = validate(&target, TIMEOUT).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Unreachable, "{failure}");
}

#[tokio::test]
async fn validate_classifies_a_wrong_password_as_auth_without_showing_it() {
    let user = unique("pursight_t_");
    let password = "Right-pw-9f3c";
    admin_exec(&format!(
        "CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"
    ))
    .await;
    struct DropUser(String);
    impl Drop for DropUser {
        fn drop(&mut self) {
            let sql = format!("DROP USER IF EXISTS '{}'@'%'", self.0);
            let _ =
                testkit::block_on_thread(move || async move { testkit::mariadb_exec(&sql).await });
        }
    }
    let _cleanup = DropUser(user.clone());

    let right = validate(&target(None, Some(&user), Some(password)), TIMEOUT).await;
    assert!(right.is_ok(), "{right:?}");

    let wrong_password = "Wrong-pw-77aa";
    let failure = validate(&target(None, Some(&user), Some(wrong_password)), TIMEOUT)
        .await
        .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Auth, "{failure}");
    assert!(!failure.message.contains(wrong_password), "{failure}");
    assert!(!format!("{failure:?}").contains(wrong_password));

    let discovery = discover(
        &target(None, Some(&user), Some(wrong_password)),
        &DiscoveryOptions::default(),
        &ignore_progress,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&discovery, DiscoveryError::Connection(f) if f.category == FailureCategory::Auth),
        "{discovery}"
    );
    assert!(!discovery.to_string().contains(wrong_password));
}

#[tokio::test]
async fn validate_classifies_required_tls_against_a_plain_server_as_tls() {
    let mut admin = admin().await;
    let have_ssl: (String, String) = sqlx::query_as("SHOW VARIABLES LIKE 'have_ssl'")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    if have_ssl.1 == "YES" {
        eprintln!("this MariaDB has TLS enabled; the plain-server TLS failure cannot be shown");
        return;
    }
    let target = target_on(PORT, None, Some("root"), None, Some("require"));
    let failure = validate(&target, TIMEOUT).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Tls, "{failure}");
}

#[tokio::test]
async fn routines_triggers_and_sequences_are_catalogued_with_routine_lineage() {
    let db = TestDb::empty().await;
    db.exec(
        "CREATE TABLE shipments (id INT PRIMARY KEY, parcel_count INT NOT NULL, changed_at DATETIME NULL);
         CREATE TABLE shipment_archive (id INT PRIMARY KEY, parcel_count INT NOT NULL, changed_at DATETIME NULL);
         CREATE TRIGGER stamp_shipment BEFORE UPDATE ON shipments FOR EACH ROW SET NEW.changed_at = NOW();
         CREATE FUNCTION parcels_of(shipment INT) RETURNS INT DETERMINISTIC COMMENT 'parcels of one shipment'
             RETURN (SELECT parcel_count FROM shipments WHERE id = shipment);
         CREATE PROCEDURE archive_shipments(IN older_than DATETIME)
             INSERT INTO shipment_archive SELECT * FROM shipments WHERE changed_at < older_than;
         CREATE SEQUENCE label_numbers START WITH 1000 INCREMENT BY 5 MINVALUE 1000 MAXVALUE 999999 CYCLE;",
    )
    .await;
    let found = discover(&db.target(), &options(ScanStrategy::Auto), &ignore_progress)
        .await
        .unwrap();
    let assets = by_path(&found.assets);
    let at = |name: &str| format!("{}.{name}", db.name);

    let function = assets[&at("parcels_of(int(11))")];
    assert_eq!(function.kind, AssetKind::Routine);
    let routine = function.routine.as_ref().unwrap();
    assert_eq!(routine.kind, "function");
    assert_eq!(routine.arguments, "shipment int(11)");
    assert_eq!(routine.return_type.as_deref(), Some("int(11)"));
    assert_eq!(routine.language, "sql");
    assert!(routine
        .definition
        .as_deref()
        .unwrap()
        .contains("parcel_count"));
    assert_eq!(function.comment.as_deref(), Some("parcels of one shipment"));

    let procedure = assets[&at("archive_shipments(datetime)")]
        .routine
        .as_ref()
        .unwrap();
    assert_eq!(procedure.kind, "procedure");
    assert_eq!(procedure.arguments, "IN older_than datetime");
    assert_eq!(procedure.return_type, None);
    // The procedure's body reads shipments: lineage from the table to the routine.
    let procedure_path = db.path("archive_shipments(datetime)");
    assert!(
        found.lineage.iter().any(|e| e.from == db.path("shipments")
            && e.to == procedure_path
            && e.kind == LineageKind::Routine),
        "{:?}",
        found.lineage
    );

    let shipments = assets[&at("shipments")];
    assert_eq!(shipments.triggers.len(), 1, "{:?}", shipments.triggers);
    let trigger = &shipments.triggers[0];
    assert_eq!(
        (
            trigger.name.as_str(),
            trigger.timing.as_str(),
            trigger.level.as_str()
        ),
        ("stamp_shipment", "BEFORE", "ROW")
    );
    assert_eq!(trigger.events, ["UPDATE"]);
    assert!(trigger
        .definition
        .starts_with("CREATE TRIGGER `stamp_shipment` BEFORE UPDATE ON"));
    assert!(assets[&at("shipment_archive")].triggers.is_empty());

    let sequence = assets[&at("label_numbers")];
    assert_eq!(sequence.kind, AssetKind::Sequence);
    let settings = sequence.sequence.as_ref().unwrap();
    assert_eq!(
        (
            settings.start,
            settings.increment,
            settings.min_value,
            settings.max_value,
            settings.cycle
        ),
        (1000, 5, 1000, 999_999, true)
    );
    // A sequence is not also listed as a table.
    assert_eq!(
        found
            .assets
            .iter()
            .filter(|a| a.path == db.path("label_numbers"))
            .count(),
        1
    );

    // Nothing moves on a rescan; the scope leaves routines out like tables.
    let again = discover(
        &db.target(),
        &options(ScanStrategy::Conservative),
        &ignore_progress,
    )
    .await
    .unwrap();
    let fingerprints = |assets: &[AssetSchema]| -> Vec<(String, String)> {
        assets
            .iter()
            .map(|a| (a.path.to_string(), a.fingerprint().as_str().to_owned()))
            .collect()
    };
    assert_eq!(fingerprints(&found.assets), fingerprints(&again.assets));
    let mut scoped = options(ScanStrategy::Auto);
    scoped.scope =
        ScanScope::parse([format!("{}.shipments", db.name)], Vec::<String>::new()).unwrap();
    let only = discover(&db.target(), &scoped, &ignore_progress)
        .await
        .unwrap();
    assert!(only
        .assets
        .iter()
        .all(|a| a.kind != AssetKind::Routine && a.kind != AssetKind::Sequence));
    assert_eq!(by_path(&only.assets)[&at("shipments")].triggers.len(), 1);
}

/// A sample never carries a table's documents: text is cut on the server and binary values arrive
/// as the hex of their first bytes, which is all the classifier's magic numbers need.
#[tokio::test]
async fn sampled_values_are_bounded_and_blobs_arrive_as_their_first_bytes() {
    let db = TestDb::empty().await;
    db.exec(
        "CREATE TABLE staff (id INT PRIMARY KEY, badge LONGBLOB, notes LONGTEXT);
         INSERT INTO staff
           SELECT seq, CONCAT(UNHEX('89504E470D0A1A0A'), REPEAT(UNHEX('AB'), 300000)),
                  REPEAT('Lorem ipsum dolor sit amet. ', 2000)
             FROM (SELECT 1 AS seq UNION SELECT 2 UNION SELECT 3) s;",
    )
    .await;
    let discovery = discover(
        &db.target(),
        &options(ScanStrategy::Balanced),
        &ignore_progress,
    )
    .await
    .unwrap();
    let staff = discovery
        .assets
        .iter()
        .find(|a| a.path == db.path("staff"))
        .cloned()
        .unwrap();
    let sample =
        connectors::mysql::sample(&db.target(), &staff, 10, std::time::Duration::from_secs(10))
            .await
            .unwrap();
    common::assert_bounded_sample(&sample, "badge", "89504e470d0a1a0a", "notes", 3);
}
