//! The live PostgreSQL connector against the machine's PostgreSQL at 127.0.0.1:5432 (user
//! `postgres`, trust authentication): connection tests and discovery of the `pii-dev` dataset.
//!
//! Every test works in its own database `pursight_conn_<random>`, dropped (`WITH (FORCE)`) when
//! the test ends, passed or failed.
//!
//! The server trusts every local connection, so it never checks a password: the wrong-password
//! and no-TLS cases are played by a few lines of the PostgreSQL wire protocol on a local port
//! (see [`fake_server`]), which is exactly what sqlx sees from a real server in those cases.

mod common;

use connectors::options::{CloudAuth, PoolOptions, TlsMode, TlsSettings};
use connectors::postgres::{discover, validate, PgSslMode, PostgresTarget};
use connectors::probe::{Discovery, DiscoveryError, DiscoveryOptions, DiscoveryProgress};
use connectors::secrets::SecretValue;
use domain::datasource::{FailureCategory, HostPort};
use domain::discovery::{AssetKind, AssetPath, AssetSchema, LineageEdge, LineageKind};
use domain::scan::{ScanScope, ScanStrategy};
use sqlx::{Connection, PgConnection};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

// ---------------------------------------------------------------------------------------------
// Test databases and targets
// ---------------------------------------------------------------------------------------------

/// A database of its own for one test, dropped when the value goes out of scope.
struct TestDb {
    name: String,
}

impl TestDb {
    async fn create() -> TestDb {
        let name = common::unique("pursight_conn_");
        let mut admin = admin().await;
        sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        admin.close().await.unwrap();
        TestDb { name }
    }

    /// A connection to this database, for setting it up.
    async fn connect(&self) -> PgConnection {
        PgConnection::connect(&format!("postgres://postgres@127.0.0.1:5432/{}", self.name))
            .await
            .expect("connect to the test database")
    }

    /// Loads `../../shared/datasets/pii-dev/postgres.sql` (schema `dev_shop`).
    async fn load_dataset(&self) {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/datasets/pii-dev/postgres.sql");
        let sql = std::fs::read_to_string(&file).unwrap_or_else(|error| {
            panic!(
                "the pii-dev dataset is expected at {} (shared/datasets/pii-dev/postgres.sql next \
                 to the repository): {error}",
                file.display()
            )
        });
        let mut connection = self.connect().await;
        sqlx::raw_sql(&sql)
            .execute(&mut connection)
            .await
            .expect("load the dataset");
        connection.close().await.unwrap();
    }

    async fn execute(&self, sql: &str) {
        let mut connection = self.connect().await;
        sqlx::raw_sql(sql).execute(&mut connection).await.unwrap();
        connection.close().await.unwrap();
    }

    fn target(&self) -> PostgresTarget {
        target("127.0.0.1", 5432, Some(&self.name))
    }

    fn path(&self, rest: &[&str]) -> AssetPath {
        let mut segments = vec![self.name.as_str()];
        segments.extend_from_slice(rest);
        AssetPath::new(segments).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        common::drop_machine_database(&self.name);
    }
}

async fn admin() -> PgConnection {
    PgConnection::connect(ADMIN_URL)
        .await
        .expect("PostgreSQL must run at 127.0.0.1:5432 with user postgres (trust)")
}

fn target(host: &str, port: u16, database: Option<&str>) -> PostgresTarget {
    PostgresTarget {
        endpoint: HostPort::parse_with_default(&format!("{host}:{port}"), 5432).unwrap(),
        replica: None,
        database: database.map(str::to_owned),
        user: Some("postgres".into()),
        password: None,
        ssl_mode: PgSslMode::Prefer,
        tls: TlsSettings {
            mode: TlsMode::Preferred,
            ca_file: None,
            cert_file: None,
            key_file: None,
        },
        application_name: "pursight-test".into(),
        connect_timeout: Duration::from_secs(5),
        pool: PoolOptions {
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            max_lifetime: Duration::from_secs(300),
        },
        auth: CloudAuth::None,
        pgbouncer: false,
        reads: Default::default(),
    }
}

fn options(scope: ScanScope, strategy: ScanStrategy) -> DiscoveryOptions {
    DiscoveryOptions {
        scope,
        strategy,
        query_timeout: Duration::from_secs(30),
    }
}

/// A discovery future is `Send`: the command layer runs it on a spawned task.
fn send<T: Send>(value: T) -> T {
    value
}

async fn run(
    target: &PostgresTarget,
    options: &DiscoveryOptions,
) -> (Discovery, Vec<DiscoveryProgress>) {
    let seen = Mutex::new(Vec::new());
    let progress = |p: DiscoveryProgress| seen.lock().unwrap().push(p);
    let discovery = send(discover(target, options, &progress))
        .await
        .expect("discovery succeeds");
    (discovery, seen.into_inner().unwrap())
}

fn asset<'d>(discovery: &'d Discovery, path: &AssetPath) -> &'d AssetSchema {
    discovery
        .assets
        .iter()
        .find(|a| &a.path == path)
        .unwrap_or_else(|| panic!("no asset {path}"))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// A PostgreSQL server that only knows how to say no
// ---------------------------------------------------------------------------------------------

/// What the fake server does with a client.
#[derive(Clone, Copy)]
enum Fake {
    /// Answers `N` to the TLS request (and then hangs up).
    NoTls,
    /// Asks for a cleartext password, then rejects it with SQLSTATE 28P01 and a message that
    /// (unlike a real server's) repeats the password, to prove it is removed.
    WrongPassword,
    /// Accepts the connection and never says anything.
    Silent,
    /// Lets the client in (no password), then never answers a query.
    Mute,
}

/// Serves `behaviour` on a fresh local port; returns the port.
async fn fake_server(behaviour: Fake) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve(socket, behaviour));
        }
    });
    port
}

async fn serve(mut socket: TcpStream, behaviour: Fake) -> std::io::Result<()> {
    const SSL_REQUEST: i32 = 80877103;
    if let Fake::Silent = behaviour {
        tokio::time::sleep(Duration::from_secs(30)).await;
        return Ok(());
    }
    let mut startup = read_startup(&mut socket).await?;
    if startup == SSL_REQUEST {
        socket.write_all(b"N").await?;
        if let Fake::NoTls = behaviour {
            return Ok(());
        }
        startup = read_startup(&mut socket).await?;
    }
    assert_eq!(startup, 196608, "protocol 3.0 startup message");
    if let Fake::Mute = behaviour {
        // AuthenticationOk, then ReadyForQuery (idle); then read whatever comes, forever.
        socket.write_all(b"R").await?;
        socket.write_all(&8i32.to_be_bytes()).await?;
        socket.write_all(&0i32.to_be_bytes()).await?;
        socket.write_all(b"Z").await?;
        socket.write_all(&5i32.to_be_bytes()).await?;
        socket.write_all(b"I").await?;
        let mut sink = [0u8; 1024];
        while socket.read(&mut sink).await? > 0 {}
        return Ok(());
    }
    // AuthenticationCleartextPassword
    socket.write_all(b"R").await?;
    socket.write_all(&8i32.to_be_bytes()).await?;
    socket.write_all(&3i32.to_be_bytes()).await?;
    // PasswordMessage: 'p', length, password, NUL
    let tag = socket.read_u8().await?;
    assert_eq!(tag, b'p');
    let len = socket.read_i32().await?;
    let mut body = vec![0u8; (len - 4) as usize];
    socket.read_exact(&mut body).await?;
    let password = String::from_utf8_lossy(&body[..body.len() - 1]).into_owned();
    let message = format!("password authentication failed for user \"alice\" (tried {password})");
    let mut fields = Vec::new();
    for (code, value) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', "28P01"),
        (b'M', message.as_str()),
    ] {
        fields.push(code);
        fields.extend_from_slice(value.as_bytes());
        fields.push(0);
    }
    fields.push(0);
    socket.write_all(b"E").await?;
    socket
        .write_all(&(fields.len() as i32 + 4).to_be_bytes())
        .await?;
    socket.write_all(&fields).await?;
    socket.flush().await
}

/// Reads a startup-phase message (length, then code and body); returns its code.
async fn read_startup(socket: &mut TcpStream) -> std::io::Result<i32> {
    let len = socket.read_i32().await?;
    let mut body = vec![0u8; (len - 4) as usize];
    socket.read_exact(&mut body).await?;
    Ok(i32::from_be_bytes([body[0], body[1], body[2], body[3]]))
}

// ---------------------------------------------------------------------------------------------
// validate
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn validate_reports_latency_and_server_version() {
    let db = TestDb::create().await;
    let info = validate(&db.target(), Duration::from_secs(5))
        .await
        .expect("validates");
    let version = info.server_version.expect("a version");
    assert!(
        version.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "SHOW server_version starts with the major version: {version:?}"
    );
    assert!(info.latency_ms < 5_000, "{}", info.latency_ms);

    // TLS through rustls: the server has ssl on, `require` encrypts without verifying.
    let mut require = db.target();
    require.ssl_mode = PgSslMode::Require;
    validate(&require, Duration::from_secs(5))
        .await
        .expect("TLS without verification");
}

#[tokio::test]
async fn a_missing_database_is_a_config_failure() {
    let failure = validate(
        &target("127.0.0.1", 5432, Some("pursight_conn_does_not_exist")),
        Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Config, "{failure:?}");
    assert!(failure.message.contains("3D000"), "{}", failure.message);
    assert!(
        failure.message.contains("does not exist"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let failure = validate(
        &target("127.0.0.1", 1, Some("postgres")),
        Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert_eq!(
        failure.category,
        FailureCategory::Unreachable,
        "{failure:?}"
    );
}

#[tokio::test]
async fn a_rejected_password_is_auth_and_never_shown() {
    let port = fake_server(Fake::WrongPassword).await;
    let mut target = target("127.0.0.1", port, Some("sales"));
    target.user = Some("alice".into());
    target.password = Some(SecretValue::new("hunter2-Zq9"));
    let failure = validate(&target, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Auth, "{failure:?}");
    assert!(failure.message.contains("28P01"), "{}", failure.message);
    assert!(
        failure.message.contains("(tried ***)"),
        "{}",
        failure.message
    );
    assert!(!failure.to_string().contains("hunter2"), "{failure}");

    let error = discover(&target, &DiscoveryOptions::default(), &|_| {})
        .await
        .unwrap_err();
    let DiscoveryError::Connection(failure) = &error else {
        panic!("expected a connection failure, got {error:?}");
    };
    assert_eq!(failure.category, FailureCategory::Auth);
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[tokio::test]
async fn tls_failures_are_tls() {
    // A server refusing TLS while the target requires it.
    let port = fake_server(Fake::NoTls).await;
    let mut no_tls = target("127.0.0.1", port, Some("sales"));
    no_tls.ssl_mode = PgSslMode::Require;
    let failure = validate(&no_tls, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Tls, "{failure:?}");

    // The real server's (self-signed) certificate checked against CAs that did not sign it.
    let mut verify = target("127.0.0.1", 5432, Some("postgres"));
    verify.ssl_mode = PgSslMode::VerifyCa;
    verify.tls.ca_file = Some("/etc/ssl/certs/ca-certificates.crt".into());
    let failure = validate(&verify, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Tls, "{failure:?}");

    // A CA file that is not there is a configuration mistake, said with the path.
    verify.tls.ca_file = Some("/nonexistent/pursight-ca.pem".into());
    let failure = validate(&verify, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Config, "{failure:?}");
    assert!(failure.message.contains("/nonexistent/pursight-ca.pem"));
}

#[tokio::test]
async fn a_silent_server_is_a_timeout() {
    let port = fake_server(Fake::Silent).await;
    let started = std::time::Instant::now();
    let failure = validate(
        &target("127.0.0.1", port, Some("sales")),
        Duration::from_millis(300),
    )
    .await
    .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Timeout, "{failure:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(failure.message, "no answer within 300 ms");
}

// ---------------------------------------------------------------------------------------------
// discover
// ---------------------------------------------------------------------------------------------

fn view_edge(
    db: &TestDb,
    from: &str,
    from_columns: &[&str],
    view: &str,
    to: &[&str],
) -> LineageEdge {
    LineageEdge {
        from: db.path(&["dev_shop", from]),
        from_columns: strings(from_columns),
        to: db.path(&["dev_shop", view]),
        to_columns: strings(to),
        kind: LineageKind::View,
    }
}

#[tokio::test]
async fn discovers_the_pii_dev_dataset_in_a_handful_of_queries() {
    let db = TestDb::create().await;
    db.load_dataset().await;
    db.execute(
        "COMMENT ON TABLE dev_shop.customers IS 'People who buy';
         COMMENT ON COLUMN dev_shop.customers.email IS 'Primary contact';
         CREATE UNIQUE INDEX customers_login ON dev_shop.customers (login_name);
         CREATE INDEX customers_name_lower ON dev_shop.customers (lower(last_name), first_name);
         ANALYZE;",
    )
    .await;

    let (discovery, progress) = run(
        &db.target(),
        &options(ScanScope::everything(), ScanStrategy::Balanced),
    )
    .await;
    let metrics = discovery.metrics;
    assert_eq!(metrics.tables, 20);
    assert_eq!(metrics.views, 3);
    assert_eq!(metrics.schemas, 2, "public and dev_shop");
    assert_eq!(
        metrics.columns, 199,
        "183 table columns and 16 view columns"
    );
    assert_eq!((metrics.retries, metrics.errors), (0, 0));
    assert!(
        metrics.queries_executed < 20,
        "batched: {} queries for 23 relations",
        metrics.queries_executed
    );
    assert!(metrics.duration_ms > 0);

    // Containers.
    assert_eq!(asset(&discovery, &db.path(&[])).kind, AssetKind::Database);
    assert_eq!(
        asset(&discovery, &db.path(&["dev_shop"])).kind,
        AssetKind::Schema
    );
    assert_eq!(
        asset(&discovery, &db.path(&["public"])).kind,
        AssetKind::Schema
    );
    assert_eq!(discovery.assets.len(), 1 + 2 + 23);

    // A table in detail.
    let customers = asset(&discovery, &db.path(&["dev_shop", "customers"]));
    assert_eq!(customers.kind, AssetKind::Table);
    assert_eq!(customers.comment.as_deref(), Some("People who buy"));
    assert_eq!(customers.columns.len(), 14);
    let id = customers.column("id").unwrap();
    assert_eq!(
        (
            id.data_type.as_str(),
            id.nullable,
            id.primary_key,
            id.ordinal
        ),
        ("integer", false, true, 1)
    );
    let email = customers.column("email").unwrap();
    assert_eq!(email.data_type, "character varying(120)");
    assert!(email.nullable && !email.primary_key);
    assert_eq!(email.comment.as_deref(), Some("Primary contact"));
    assert_eq!(
        customers.column("password_changed_at").unwrap().data_type,
        "timestamp without time zone"
    );
    let index = |name: &str| customers.indexes.iter().find(|i| i.name == name).unwrap();
    assert_eq!(index("pk_customers").columns, strings(&["id"]));
    assert!(index("pk_customers").primary && index("pk_customers").unique);
    assert!(index("customers_login").unique && !index("customers_login").primary);
    let lowered = index("customers_name_lower");
    assert!(
        lowered.columns[0].starts_with("lower("),
        "{:?}",
        lowered.columns
    );
    assert_eq!(lowered.columns[1], "first_name");
    assert!(!lowered.unique);

    // Row estimates after ANALYZE are the exact counts of these small tables.
    let mut setup = db.connect().await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM dev_shop.customers")
        .fetch_one(&mut setup)
        .await
        .unwrap();
    setup.close().await.unwrap();
    assert_eq!(customers.row_estimate, Some(rows));

    // Foreign keys, with their referenced tables as full paths.
    let orders = asset(&discovery, &db.path(&["dev_shop", "orders"]));
    let fk = orders
        .foreign_keys
        .iter()
        .find(|fk| fk.name == "fk_orders_customer_id")
        .expect("fk_orders_customer_id");
    assert_eq!(fk.columns, strings(&["customer_id"]));
    assert_eq!(fk.referenced, db.path(&["dev_shop", "customers"]));
    assert_eq!(fk.referenced_columns, strings(&["id"]));
    assert_eq!(orders.foreign_keys.len(), 2);

    // Views.
    let overview = asset(&discovery, &db.path(&["dev_shop", "v_order_overview"]));
    assert_eq!(overview.kind, AssetKind::View);
    assert_eq!(overview.row_estimate, None);
    assert_eq!(overview.columns.len(), 6);
    let definition = overview.view_definition.as_deref().expect("view SQL");
    assert!(definition.contains("dev_shop.orders"), "{definition}");
    for view in ["v_open_tickets", "v_seller_payouts"] {
        assert!(asset(&discovery, &db.path(&["dev_shop", view]))
            .view_definition
            .is_some());
    }

    // Lineage: foreign keys (referenced → referencing) ...
    let lineage = &discovery.lineage;
    assert!(lineage.contains(&LineageEdge {
        from: db.path(&["dev_shop", "customers"]),
        from_columns: strings(&["id"]),
        to: db.path(&["dev_shop", "orders"]),
        to_columns: strings(&["customer_id"]),
        kind: LineageKind::ForeignKey,
    }));
    let fk_edges = lineage
        .iter()
        .filter(|e| e.kind == LineageKind::ForeignKey)
        .count();
    let declared: usize = discovery.assets.iter().map(|a| a.foreign_keys.len()).sum();
    assert_eq!(fk_edges, declared);
    // ... and views, column level where the SQL says which column feeds which.
    for expected in [
        view_edge(&db, "orders", &["id"], "v_order_overview", &["order_id"]),
        view_edge(
            &db,
            "customers",
            &["first_name", "last_name"],
            "v_order_overview",
            &["customer_name"],
        ),
        view_edge(
            &db,
            "customers",
            &["email"],
            "v_order_overview",
            &["customer_email"],
        ),
        view_edge(
            &db,
            "customer_addresses",
            &["postcode"],
            "v_order_overview",
            &["ship_postcode"],
        ),
        view_edge(
            &db,
            "tickets",
            &["reach_at"],
            "v_open_tickets",
            &["callback_number"],
        ),
        view_edge(
            &db,
            "agents",
            &["agent_login"],
            "v_open_tickets",
            &["agent_login"],
        ),
        view_edge(
            &db,
            "marketplace_sellers",
            &["payout_iban"],
            "v_seller_payouts",
            &["payout_iban"],
        ),
    ] {
        assert!(
            lineage.contains(&expected),
            "missing {expected:?} in {lineage:#?}"
        );
    }
    let mut view_sources: Vec<(String, String)> = lineage
        .iter()
        .filter(|e| e.kind == LineageKind::View)
        .map(|e| (e.from.name().to_owned(), e.to.name().to_owned()))
        .collect();
    view_sources.sort();
    view_sources.dedup();
    assert_eq!(
        view_sources,
        vec![
            ("agents".to_owned(), "v_open_tickets".to_owned()),
            (
                "customer_addresses".to_owned(),
                "v_order_overview".to_owned()
            ),
            ("customers".to_owned(), "v_order_overview".to_owned()),
            (
                "marketplace_sellers".to_owned(),
                "v_seller_payouts".to_owned()
            ),
            ("orders".to_owned(), "v_order_overview".to_owned()),
            ("tickets".to_owned(), "v_open_tickets".to_owned()),
        ]
    );

    // Progress: ends with everything done, at the strategy asked for.
    let last = progress.last().expect("progress reported");
    assert_eq!(last.assets_total, Some(26));
    assert_eq!(last.assets_done, 26);
    assert_eq!(last.current_strategy, ScanStrategy::Balanced);
}

#[tokio::test]
async fn a_view_sqlparser_cannot_read_is_counted_not_fatal() {
    let db = TestDb::create().await;
    db.execute(
        "CREATE TABLE public.items (id int PRIMARY KEY, name text);
         CREATE VIEW public.items_xml AS SELECT xmlelement(name item, xmlattributes(id AS id), name) AS doc FROM public.items;
         CREATE VIEW public.item_names AS SELECT name FROM items;",
    )
    .await;
    let (discovery, _) = run(
        &db.target(),
        &options(ScanScope::everything(), ScanStrategy::Conservative),
    )
    .await;
    assert_eq!(discovery.metrics.views, 2);
    assert_eq!(
        discovery.metrics.errors, 1,
        "the XML view's SQL does not parse"
    );
    assert!(asset(&discovery, &db.path(&["public", "items_xml"]))
        .view_definition
        .is_some());
    assert_eq!(
        discovery.lineage,
        vec![LineageEdge {
            from: db.path(&["public", "items"]),
            from_columns: strings(&["name"]),
            to: db.path(&["public", "item_names"]),
            to_columns: strings(&["name"]),
            kind: LineageKind::View,
        }]
    );
}

#[tokio::test]
async fn the_scope_limits_what_is_discovered_and_excludes_win() {
    let db = TestDb::create().await;
    db.load_dataset().await;
    let include = format!("{}.dev_shop.customer*", db.name);
    let scope = ScanScope::parse([include.as_str()], Vec::<&str>::new()).unwrap();
    let (discovery, _) = run(&db.target(), &options(scope, ScanStrategy::Auto)).await;
    let paths: Vec<AssetPath> = discovery.assets.iter().map(|a| a.path.clone()).collect();
    assert_eq!(
        paths,
        vec![
            db.path(&[]),
            db.path(&["dev_shop"]),
            db.path(&["dev_shop", "customer_addresses"]),
            db.path(&["dev_shop", "customer_survey"]),
            db.path(&["dev_shop", "customers"]),
        ]
    );
    assert_eq!(discovery.metrics.tables, 3);
    assert_eq!(discovery.metrics.views, 0);

    let exclude = format!("{}.dev_shop.customer_*", db.name);
    let scope = ScanScope::parse([format!("{}.**", db.name)], [exclude]).unwrap();
    let (discovery, _) = run(&db.target(), &options(scope, ScanStrategy::Auto)).await;
    let names: Vec<&str> = discovery
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::Table)
        .map(|a| a.path.name())
        .collect();
    assert_eq!(names.len(), 18);
    assert!(names.contains(&"customers"));
    assert!(!names.contains(&"customer_addresses") && !names.contains(&"customer_survey"));

    let elsewhere = ScanScope::parse(["another_db.**"], Vec::<&str>::new()).unwrap();
    let (discovery, _) = run(&db.target(), &options(elsewhere, ScanStrategy::Auto)).await;
    assert!(discovery.assets.is_empty() && discovery.lineage.is_empty());
}

#[tokio::test]
async fn a_server_that_stops_answering_fails_the_scan_after_retries() {
    let port = fake_server(Fake::Mute).await;
    let options = DiscoveryOptions {
        query_timeout: Duration::from_millis(100),
        ..options(ScanScope::everything(), ScanStrategy::Balanced)
    };
    // Each attempt is abandoned by the client; the abandoned connection is closed rather than
    // put back (sqlx would wait forever testing it), so the discovery ends.
    let error = tokio::time::timeout(
        Duration::from_secs(20),
        discover(&target("127.0.0.1", port, Some("sales")), &options, &|_| {}),
    )
    .await
    .expect("the discovery ends")
    .unwrap_err();
    let DiscoveryError::Query { message, retries } = &error else {
        panic!("expected a query failure, got {error:?}");
    };
    assert_eq!(*retries, 3);
    assert_eq!(message, "no answer from the server within 600 ms");
}

#[tokio::test]
async fn a_batch_that_fails_for_good_ends_the_scan_and_its_siblings() {
    let db = TestDb::create().await;
    db.execute(
        "CREATE SCHEMA wide;
         DO $$ BEGIN
           FOR i IN 1..450 LOOP
             EXECUTE format('CREATE TABLE wide.t%s (id bigint PRIMARY KEY)', i);
           END LOOP;
         END $$;
         CREATE VIEW wide.a_first AS SELECT id FROM wide.t1;
         CREATE VIEW wide.zz_last AS SELECT id FROM wide.t1;",
    )
    .await;
    let baseline = connections_to(&db.name).await;
    // Both views wait for the lock on t1: the first batch and the last (balanced: 200
    // relations per batch, two in flight) fail; the first to give up ends the scan.
    let mut locker = db.connect().await;
    sqlx::raw_sql("BEGIN; LOCK TABLE wide.t1 IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();
    let blocked = DiscoveryOptions {
        query_timeout: Duration::from_millis(200),
        ..options(ScanScope::everything(), ScanStrategy::Balanced)
    };
    let error = tokio::time::timeout(
        Duration::from_secs(30),
        discover(&db.target(), &blocked, &|_| {}),
    )
    .await
    .expect("the discovery ends")
    .unwrap_err();
    let DiscoveryError::Query { message, retries } = &error else {
        panic!("expected a query failure, got {error:?}");
    };
    assert_eq!(*retries, 3);
    assert!(message.contains("statement timeout"), "{message}");
    locker.close().await.unwrap();
    wait_for_connections(&db.name, baseline).await;
}

/// Polls until `database` has `expected` connections again (the server notices closed
/// connections asynchronously).
async fn wait_for_connections(database: &str, expected: i64) {
    let mut now = connections_to(database).await;
    for _ in 0..50 {
        if now == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        now = connections_to(database).await;
    }
    assert_eq!(now, expected, "connections left open");
}

async fn connections_to(database: &str) -> i64 {
    let mut admin = admin().await;
    let count = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1")
        .bind(database)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    count
}

#[tokio::test]
async fn every_connection_is_closed_afterwards() {
    let db = TestDb::create().await;
    db.load_dataset().await;
    let baseline = connections_to(&db.name).await;

    validate(&db.target(), Duration::from_secs(5))
        .await
        .unwrap();
    for strategy in [ScanStrategy::Aggressive, ScanStrategy::Auto] {
        run(&db.target(), &options(ScanScope::everything(), strategy)).await;
    }
    // A failing discovery closes its pool too. Another session holds an exclusive lock on
    // `orders`: `pg_get_viewdef` of the view reading it waits for the lock, so the batch's
    // catalog work times out, `auto` steps down to conservative, and after three retries the
    // discovery gives up.
    let mut locker = db.connect().await;
    sqlx::raw_sql("BEGIN; LOCK TABLE dev_shop.orders IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();
    let blocked = DiscoveryOptions {
        query_timeout: Duration::from_millis(300),
        ..options(ScanScope::everything(), ScanStrategy::Auto)
    };
    let seen = Mutex::new(Vec::new());
    let error = discover(&db.target(), &blocked, &|p| seen.lock().unwrap().push(p))
        .await
        .unwrap_err();
    assert!(
        matches!(error, DiscoveryError::Query { retries: 3, .. }),
        "{error:?}"
    );
    let strategies: Vec<ScanStrategy> = seen
        .into_inner()
        .unwrap()
        .iter()
        .map(|p| p.current_strategy)
        .collect();
    assert_eq!(
        strategies,
        vec![ScanStrategy::Balanced, ScanStrategy::Conservative]
    );
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut locker)
        .await
        .unwrap();
    locker.close().await.unwrap();

    wait_for_connections(&db.name, baseline).await;
}

#[tokio::test]
async fn discovery_is_deterministic() {
    let db = TestDb::create().await;
    db.load_dataset().await;
    let fingerprints = |d: &Discovery| {
        d.assets
            .iter()
            .map(|a| (a.path.to_string(), a.fingerprint()))
            .collect::<Vec<_>>()
    };
    let (first, _) = run(
        &db.target(),
        &options(ScanScope::everything(), ScanStrategy::Auto),
    )
    .await;
    let (second, _) = run(
        &db.target(),
        &options(ScanScope::everything(), ScanStrategy::Auto),
    )
    .await;
    assert_eq!(fingerprints(&first), fingerprints(&second));
    assert_eq!(first.lineage, second.lineage);

    // Batch sizes and concurrency do not change what is found.
    let (small, _) = run(
        &db.target(),
        &options(ScanScope::everything(), ScanStrategy::Conservative),
    )
    .await;
    let (large, _) = run(
        &db.target(),
        &options(ScanScope::everything(), ScanStrategy::Aggressive),
    )
    .await;
    assert_eq!(fingerprints(&first), fingerprints(&small));
    assert_eq!(fingerprints(&first), fingerprints(&large));
    assert_eq!(first.lineage, large.lineage);
}

#[tokio::test]
async fn queries_grow_with_batches_not_tables() {
    let db = TestDb::create().await;
    db.execute(
        "CREATE SCHEMA wide;
         CREATE TABLE wide.parent (id bigint PRIMARY KEY);
         DO $$ BEGIN
           FOR i IN 1..449 LOOP
             EXECUTE format('CREATE TABLE wide.t%s (id bigint PRIMARY KEY, parent_id bigint REFERENCES wide.parent (id), note text)', i);
           END LOOP;
         END $$;",
    )
    .await;
    let mut found = Vec::new();
    for strategy in [
        ScanStrategy::Conservative,
        ScanStrategy::Balanced,
        ScanStrategy::Aggressive,
    ] {
        let (discovery, progress) =
            run(&db.target(), &options(ScanScope::everything(), strategy)).await;
        assert_eq!(discovery.metrics.tables, 450);
        assert_eq!(discovery.metrics.columns, 1 + 449 * 3);
        assert_eq!(
            discovery
                .lineage
                .iter()
                .filter(|e| e.kind == LineageKind::ForeignKey)
                .count(),
            449
        );
        // Per unit of work: the session settings, then one query per kind of detail (columns,
        // keys, indexes, triggers; no views or partitioned tables here). The overview: settings,
        // database, relations, types, routines, sequences.
        let batches = 450u64.div_ceil(match strategy {
            ScanStrategy::Conservative => 50,
            ScanStrategy::Balanced => 200,
            _ => 500,
        });
        assert_eq!(
            discovery.metrics.queries_executed,
            6 + batches * 5,
            "{strategy}"
        );
        assert!(progress
            .windows(2)
            .all(|w| w[0].assets_done <= w[1].assets_done));
        found.push(
            discovery
                .assets
                .iter()
                .map(|a| a.fingerprint())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(found[0], found[1]);
    assert_eq!(found[0], found[2]);
}

// ---------------------------------------------------------------------------------------------
// Sampling
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sampling_reads_values_as_text_one_asset_or_a_batch_over_one_connection() {
    let db = TestDb::create().await;
    db.execute(
        "CREATE SCHEMA crm;
         CREATE TABLE crm.people (id INT PRIMARY KEY, email TEXT, born DATE, vip BOOLEAN,
                                  aliases TEXT[]);
         INSERT INTO crm.people SELECT g, 'p' || g || '@example.org', date '1990-01-01' + g,
                g % 2 = 0, ARRAY['a' || g || '@example.org', 'b \"' || g || '\"']
           FROM generate_series(1, 30) g;
         UPDATE crm.people SET email = NULL WHERE id <= 3;
         CREATE TABLE crm.gone (id INT PRIMARY KEY);
         CREATE VIEW crm.mails AS SELECT email FROM crm.people;
         CREATE TABLE crm.touched (n INT);
         CREATE FUNCTION crm.touch() RETURNS INT LANGUAGE plpgsql VOLATILE
           AS $$ BEGIN INSERT INTO crm.touched VALUES (1); RETURN 1; END $$;
         CREATE VIEW crm.touchy AS SELECT crm.touch() AS n, id FROM crm.people;",
    )
    .await;
    let options = DiscoveryOptions::default();
    let discovery = discover(&db.target(), &options, &|_| {}).await.unwrap();
    let asset = |name: &str| -> AssetSchema {
        discovery
            .assets
            .iter()
            .find(|a| a.path == db.path(&["crm", name]))
            .cloned()
            .unwrap()
    };
    let people = asset("people");
    let sample = connectors::postgres::sample(&db.target(), &people, 10, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(sample.rows, 10);
    let column = |name: &str| {
        sample
            .columns
            .iter()
            .find(|c| c.column == name)
            .unwrap()
            .values
            .clone()
    };
    assert_eq!(column("email").len(), 10);
    assert!(column("email")
        .iter()
        .flatten()
        .all(|v| v.ends_with("@example.org")));
    assert!(column("born").iter().flatten().all(|v| v.starts_with("19")));
    assert!(column("vip")
        .iter()
        .flatten()
        .all(|v| v == "true" || v == "false"));
    // Arrays as JSON (not PostgreSQL's `{…}` syntax), for the profiler to read element by element.
    assert_eq!(
        people.column("aliases").map(|c| c.data_type.as_str()),
        Some("text[]")
    );
    for aliases in column("aliases").iter().flatten() {
        let elements: Vec<String> = serde_json::from_str(aliases).unwrap();
        assert!(elements[0].ends_with("@example.org"), "{aliases}");
        assert!(elements[1].starts_with("b \""), "{aliases}");
    }

    // A batch: the table dropped after discovery fails alone, the others are read.
    let (gone, mails) = (asset("gone"), asset("mails"));
    db.execute("DROP TABLE crm.gone").await;
    let samples = connectors::live::sample_many(
        &connectors::options::ConnectionTarget::Postgres(db.target()),
        &[&people, &gone, &mails],
        100,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[0].as_ref().unwrap().rows, 30);
    assert!(samples[1].is_err(), "{:?}", samples[1]);
    let mails = samples[2].as_ref().unwrap();
    assert_eq!(mails.rows, 30);
    assert_eq!(
        mails.columns[0]
            .values
            .iter()
            .filter(|v| v.is_none())
            .count(),
        3
    );

    // Sampling is read-only: a view whose function writes fails (alone), and nothing is written.
    let (touchy, touched) = (asset("touchy"), asset("touched"));
    let samples = connectors::live::sample_many(
        &connectors::options::ConnectionTarget::Postgres(db.target()),
        &[&touchy, &touched],
        100,
        Duration::from_secs(10),
    )
    .await;
    let refused = samples[0].as_ref().unwrap_err().to_string();
    assert!(refused.contains("read-only transaction"), "{refused}");
    assert_eq!(
        samples[1].as_ref().unwrap().rows,
        0,
        "the view wrote nothing"
    );
    let single = connectors::postgres::sample(&db.target(), &touchy, 10, Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(
        single.to_string().contains("read-only transaction"),
        "{single}"
    );
}

/// A sample never carries a table's documents: text is cut on the server, binary values arrive
/// as the hex of their first bytes (what the classifier's magic numbers need), arrays keep their
/// first elements and stay valid JSON.
#[tokio::test]
async fn sampled_values_are_bounded_and_binary_values_arrive_as_their_first_bytes() {
    let db = TestDb::create().await;
    db.execute(
        "CREATE SCHEMA files;
         CREATE TABLE files.staff (id INT PRIMARY KEY, badge BYTEA, notes TEXT, tags TEXT[]);
         INSERT INTO files.staff
           SELECT g,
                  '\\xffd8ffe000104a464946'::bytea || decode(repeat('ab', 200000), 'hex'),
                  repeat('Lorem ipsum dolor sit amet. ', 2000),
                  array_fill('tag'::text, ARRAY[5000])
             FROM generate_series(1, 5) g;",
    )
    .await;
    let discovery = discover(&db.target(), &DiscoveryOptions::default(), &|_| {})
        .await
        .unwrap();
    let staff = discovery
        .assets
        .iter()
        .find(|a| a.path == db.path(&["files", "staff"]))
        .cloned()
        .unwrap();
    let sample = connectors::postgres::sample(&db.target(), &staff, 10, Duration::from_secs(10))
        .await
        .unwrap();
    common::assert_bounded_sample(&sample, "badge", "ffd8ffe000104a464946", "notes", 5);
    for tags in common::sampled(&sample, "tags") {
        let elements: Vec<String> = serde_json::from_str(&tags).unwrap();
        assert_eq!(elements.len(), 100);
    }
}

#[tokio::test]
async fn control_characters_in_discovered_names_are_neutralised_and_those_columns_not_sampled() {
    let db = TestDb::create().await;
    // PostgreSQL identifiers may hold any character but NUL.
    db.execute(
        "CREATE SCHEMA shop;
         CREATE TABLE shop.people (id int, \"e\nmail\" text, \"bell\u{7}\" text);
         INSERT INTO shop.people VALUES (1, 'a@example.com', 'x');
         CREATE TABLE shop.\"odd\u{1b}[2Jtable\" (id int);
         INSERT INTO shop.\"odd\u{1b}[2Jtable\" VALUES (7);",
    )
    .await;
    let target = connectors::options::ConnectionTarget::Postgres(db.target());
    let discovery = connectors::live::discover(
        &target,
        &options(ScanScope::everything(), ScanStrategy::Auto),
        &|_| {},
    )
    .await
    .unwrap();
    let people = asset(&discovery, &db.path(&["shop", "people"]));
    let names: Vec<&str> = people.columns.iter().map(|c| c.name.as_str()).collect();
    // Recorded with the control characters escaped: different from the source's names.
    assert_eq!(names, ["id", "e\\u{a}mail", "bell\\u{7}"]);
    let odd = asset(&discovery, &db.path(&["shop", "odd\\u{1b}[2Jtable"]));
    assert_eq!(odd.columns.len(), 1);
    let no_control = |text: &str| !text.chars().any(char::is_control);
    assert!(discovery.assets.iter().all(|a| {
        a.path.segments().iter().all(|s| no_control(s))
            && a.columns.iter().all(|c| no_control(&c.name))
    }));

    // Sampling reads the columns the source knows under their recorded names, and skips the
    // others (and the asset whose own name was changed) instead of failing.
    let sample = connectors::live::sample(&target, people, 10, Duration::from_secs(10))
        .await
        .unwrap();
    let sampled: Vec<&str> = sample.columns.iter().map(|c| c.column.as_str()).collect();
    assert_eq!(sampled, ["id"]);
    assert_eq!(sample.rows, 1);
    let sample = connectors::live::sample(&target, odd, 10, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(sample.columns.is_empty());
}

#[tokio::test]
async fn an_unpopulated_materialized_view_is_reported_as_such_not_as_a_connection_failure() {
    let db = TestDb::create().await;
    db.execute(
        "CREATE SCHEMA ops;
         CREATE TABLE ops.jobs (id INT PRIMARY KEY, state TEXT);
         INSERT INTO ops.jobs VALUES (1, 'done');
         CREATE MATERIALIZED VIEW ops.job_states AS SELECT state, count(*) AS n FROM ops.jobs GROUP BY state WITH NO DATA;",
    )
    .await;
    let discovery = discover(&db.target(), &DiscoveryOptions::default(), &|_| {})
        .await
        .unwrap();
    let view = discovery
        .assets
        .iter()
        .find(|a| a.path == db.path(&["ops", "job_states"]))
        .cloned()
        .unwrap();
    assert_eq!(view.kind, AssetKind::MaterializedView);
    assert_eq!(view.populated, Some(false));
    // Known unpopulated: not even asked.
    let known = connectors::postgres::sample(&db.target(), &view, 10, Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(
        matches!(&known, DiscoveryError::Unsupported(m) if m.contains("is not populated")),
        "{known:?}"
    );
    // Emptied after the scan saw it populated: the server's refusal says the same.
    let stale = AssetSchema {
        populated: Some(true),
        ..view
    };
    let samples = connectors::live::sample_many(
        &connectors::options::ConnectionTarget::Postgres(db.target()),
        &[&stale],
        10,
        Duration::from_secs(10),
    )
    .await;
    assert!(
        matches!(&samples[0], Err(DiscoveryError::Unsupported(m)) if m.contains("is not populated")),
        "{:?}",
        samples[0]
    );
}
