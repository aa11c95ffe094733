//! Health probes against the machine's real servers: PostgreSQL 127.0.0.1:5432 (`postgres`,
//! trust), MariaDB 127.0.0.1:3306 (`root`, no password) and Redis 127.0.0.1:6379.
//!
//! Each test that needs a database creates its own (`pursight_health_<random>`) and drops it
//! when it ends, passed or failed, so the tests run in parallel. Every probe goes through
//! [`connectors::live::probe_health`] with a target built from a data source configuration, the
//! way the command layer calls it.

mod common;
use common::unique;

use connectors::live::probe_health;
use connectors::options::{ConnectionTarget, SourceSecrets};
use connectors::probe::HealthProbe;
use connectors::secrets::SecretValue;
use domain::datasource::{DataSourceConfigInput, FailureCategory};
use sqlx::{Connection, MySqlConnection, PgConnection};
use std::time::Duration;

const PG_ADMIN: &str = testkit::POSTGRES_ADMIN_URL;
const TIMEOUT: Duration = Duration::from_secs(10);

fn target(
    kind: &str,
    port: u16,
    database: Option<&str>,
    user: Option<&str>,
    password: Option<&str>,
) -> ConnectionTarget {
    let config = DataSourceConfigInput {
        name: Some(format!("{kind} under test")),
        kind: Some(kind.into()),
        host: Some("127.0.0.1".into()),
        port: Some(port.into()),
        database: database.map(Into::into),
        username: user.map(Into::into),
        password_secret: password.map(|_| "env:PURSIGHT_TEST_HEALTH_PASSWORD".into()),
        ..Default::default()
    }
    .parse()
    .unwrap_or_else(|e| panic!("test config: {e}"));
    let secrets = SourceSecrets {
        password: password.map(SecretValue::new),
        signing_key: None,
    };
    ConnectionTarget::from_config(&config, &secrets).unwrap()
}

// ---- PostgreSQL ---------------------------------------------------------------------------------

struct PgDb {
    name: String,
}

impl PgDb {
    async fn create() -> PgDb {
        let name = unique("pursight_health_");
        let mut admin = PgConnection::connect(PG_ADMIN)
            .await
            .expect("the machine's PostgreSQL");
        sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        PgDb { name }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }

    fn target(&self) -> ConnectionTarget {
        target("postgresql", 5432, Some(&self.name), Some("postgres"), None)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = testkit::block_on_thread(move || async move {
            let _ = testkit::drop_postgres_database(&name).await;
        });
    }
}

async fn pg_scalar(url: &str, sql: &str) -> i64 {
    let mut connection = PgConnection::connect(url).await.unwrap();
    let value: i64 = sqlx::query_scalar(sql)
        .fetch_one(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
    value
}

#[tokio::test]
async fn postgres_reports_latency_version_connections_limit_size_and_uptime() {
    let db = PgDb::create().await;
    let empty = probe_health(&db.target(), TIMEOUT).await.unwrap();
    assert!(empty.latency < TIMEOUT);
    let version = empty.server_version.clone().unwrap();
    assert!(
        version.starts_with(|c: char| c.is_ascii_digit()),
        "{version}"
    );
    let max = pg_scalar(
        PG_ADMIN,
        "SELECT current_setting('max_connections')::bigint",
    )
    .await;
    assert_eq!(empty.max_connections, Some(max as u64));
    let size = pg_scalar(&db.url(), "SELECT pg_database_size(current_database())").await;
    assert_eq!(
        empty.storage_bytes,
        Some(size as u64),
        "the size of the source's own database"
    );
    let uptime = pg_scalar(
        PG_ADMIN,
        "SELECT floor(extract(epoch FROM now() - pg_postmaster_start_time()))::bigint",
    )
    .await as u64;
    let reported = empty.server_uptime_secs.unwrap();
    assert!(
        reported <= uptime && uptime - reported <= 5,
        "{reported} vs {uptime}"
    );

    // About 8 MB more data is about 8 MB more storage.
    let mut connection = PgConnection::connect(&db.url()).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE filler AS SELECT i, repeat(md5(i::text), 32) AS payload
         FROM generate_series(1, 8000) AS i",
    )
    .execute(&mut connection)
    .await
    .unwrap();
    connection.close().await.unwrap();
    let filled = probe_health(&db.target(), TIMEOUT).await.unwrap();
    let grown = filled.storage_bytes.unwrap() - empty.storage_bytes.unwrap();
    assert!(grown > 7_000_000, "grew by {grown} bytes");
}

#[tokio::test]
async fn postgres_counts_the_client_connections_the_server_has_open() {
    let db = PgDb::create().await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(PgConnection::connect(&db.url()).await.unwrap());
    }
    let probe = probe_health(&db.target(), TIMEOUT).await.unwrap();
    // Five held here and the probe's own; other tests may add more, never fewer.
    let active = probe.active_connections.unwrap();
    assert!(active >= 6, "{active}");
    assert!(active <= probe.max_connections.unwrap());
    for connection in held {
        connection.close().await.unwrap();
    }
}

#[tokio::test]
async fn postgres_missing_database_is_config_and_closed_port_unreachable() {
    let missing = target(
        "postgresql",
        5432,
        Some(&unique("pursight_nope_")),
        Some("postgres"),
        None,
    );
    let failure = probe_health(&missing, TIMEOUT).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Config, "{failure}");
    let closed = target("postgresql", 1, Some("postgres"), Some("postgres"), None);
    let failure = probe_health(&closed, TIMEOUT).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Unreachable, "{failure}");
}

// ---- MySQL / MariaDB -------------------------------------------------------------------------

struct MysqlDb {
    name: String,
}

impl MysqlDb {
    async fn create() -> MysqlDb {
        let name = unique("pursight_health_");
        mysql_exec(&format!("CREATE DATABASE `{name}`")).await;
        MysqlDb { name }
    }
}

impl Drop for MysqlDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = testkit::block_on_thread(move || async move {
            let _ = testkit::drop_mariadb_database(&name).await;
        });
    }
}

async fn mysql_exec(sql: &str) {
    testkit::mariadb_exec(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql} on the machine's MariaDB: {e}"));
}

async fn mysql_number(sql: &str) -> u64 {
    let mut admin = MySqlConnection::connect(testkit::MARIADB_ADMIN_URL)
        .await
        .unwrap();
    let text: String = sqlx::query_scalar(sql).fetch_one(&mut admin).await.unwrap();
    admin.close().await.unwrap();
    text.parse().unwrap()
}

#[tokio::test]
async fn mysql_reports_threads_limit_schema_size_and_uptime() {
    let db = MysqlDb::create().await;
    let source = target("mysql", 3306, Some(&db.name), Some("root"), None);
    let empty = probe_health(&source, TIMEOUT).await.unwrap();
    assert!(empty.server_version.is_some());
    assert_eq!(empty.storage_bytes, Some(0), "a schema without tables");
    assert_eq!(
        empty.max_connections,
        Some(mysql_number("SELECT CAST(@@max_connections AS CHAR)").await)
    );
    assert!(
        empty.active_connections.unwrap() >= 1,
        "the probe's own connection"
    );
    let uptime = mysql_number(
        "SELECT CAST(VARIABLE_VALUE AS CHAR) FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'",
    )
    .await;
    let reported = empty.server_uptime_secs.unwrap();
    assert!(
        reported <= uptime && uptime - reported <= 5,
        "{reported} vs {uptime}"
    );

    mysql_exec(&format!(
        "CREATE TABLE `{0}`.filler (id INT PRIMARY KEY, payload TEXT) ENGINE=InnoDB;
         INSERT INTO `{0}`.filler
           SELECT seq, REPEAT(MD5(seq), 32) FROM `{0}`.seq_1_to_4000;
         ANALYZE TABLE `{0}`.filler;",
        db.name
    ))
    .await;
    let filled = probe_health(&source, TIMEOUT).await.unwrap();
    let size = filled.storage_bytes.unwrap();
    assert!(size > 3_000_000, "{size} bytes for about 4 MB of rows");

    let without_database = target("mysql", 3306, None, Some("root"), None);
    let probe = probe_health(&without_database, TIMEOUT).await.unwrap();
    assert_eq!(probe.storage_bytes, None, "no database, no size");
    assert!(probe.max_connections.is_some());
}

#[tokio::test]
async fn mysql_wrong_password_is_auth_and_the_password_is_never_shown() {
    let user = unique("pursight_hu_");
    let good = unique("good-pw-");
    let wrong = unique("wrong-pw-");
    mysql_exec(&format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{good}'; CREATE USER '{user}'@'localhost' IDENTIFIED BY '{good}'")).await;
    let with_wrong = probe_health(
        &target("mysql", 3306, None, Some(&user), Some(&wrong)),
        TIMEOUT,
    )
    .await;
    let with_good = probe_health(
        &target("mysql", 3306, None, Some(&user), Some(&good)),
        TIMEOUT,
    )
    .await;
    mysql_exec(&format!(
        "DROP USER '{user}'@'%'; DROP USER '{user}'@'localhost'"
    ))
    .await;

    let failure = with_wrong.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Auth, "{failure}");
    assert!(!failure.message.contains(&wrong), "{}", failure.message);
    assert!(!format!("{failure:?}").contains(&wrong));
    // A user without any grant still gets a probe.
    let probe = with_good.unwrap();
    assert!(probe.server_version.is_some());
    assert!(!format!("{probe:?}").contains(&good));
}

// ---- Redis -------------------------------------------------------------------------------------

#[tokio::test]
async fn redis_reports_clients_limit_memory_and_uptime() {
    let mut admin = redis::Client::open("redis://127.0.0.1:6379/0")
        .unwrap()
        .get_connection()
        .expect("the machine's Redis at 127.0.0.1:6379");
    let probe = probe_health(&target("redis", 6379, None, None, None), TIMEOUT)
        .await
        .unwrap();
    let config: std::collections::HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxclients")
        .query(&mut admin)
        .unwrap();
    assert_eq!(
        probe.max_connections,
        Some(config["maxclients"].parse().unwrap())
    );
    // This admin connection and the probe's own were both open.
    assert!(probe.active_connections.unwrap() >= 2, "{probe:?}");
    assert!(probe.storage_bytes.unwrap() > 0, "used_memory");
    assert!(probe.server_uptime_secs.is_some());
    let version = probe.server_version.unwrap();
    assert!(
        version.starts_with(|c: char| c.is_ascii_digit()),
        "{version}"
    );

    let failure = probe_health(&target("redis", 1, None, None, None), TIMEOUT)
        .await
        .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Unreachable, "{failure}");
}

// ---- other kinds -------------------------------------------------------------------------------

#[tokio::test]
async fn kinds_without_a_health_probe_fall_back_to_the_connection_test() {
    // Nothing listens on port 1: the fallback really connects, and says so.
    let mongo = target("mongodb", 1, Some("app"), None, None);
    let failure = probe_health(&mongo, TIMEOUT).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Unreachable, "{failure}");
}

#[test]
fn a_probe_hands_its_figures_to_the_assessment() {
    let probe = HealthProbe {
        latency: Duration::from_micros(1_234),
        server_version: Some("16.3".into()),
        active_connections: Some(3),
        max_connections: Some(100),
        storage_bytes: Some(42),
        server_uptime_secs: Some(7),
    };
    assert_eq!(probe.latency_us(), 1_234);
    let figures = probe.figures();
    assert_eq!(figures.active_connections, Some(3));
    assert_eq!(figures.storage_bytes, Some(42));
    assert_eq!(figures.server_version.as_deref(), Some("16.3"));
}
