//! The PostgreSQL connector against servers the tests start themselves (`common::pg_cluster`,
//! `common::pgbouncer`): a TLS-enabled cluster with certificates generated for the test, a
//! streaming replica, and PgBouncer in transaction mode in front of the machine's PostgreSQL.
//!
//! Targets are built from the DataSource model (`DataSourceConfigInput` → `ConnectionTarget`),
//! and reads go through `connectors::live`, as the command layer does: `sslmode`, the replica and
//! the PgBouncer flag come from the configuration alone.
//!
//! Which server answered a sample is read from the data: the views sampled here select
//! `inet_server_port()` and `pg_is_in_recovery()`, evaluated by whichever server runs the query.

mod common;

use common::pg_cluster::{ClusterOptions, PgCluster, USER};
use common::pgbouncer::PgBouncer;
use connectors::failover::{FailoverPolicy, ReadHealth, Server};
use connectors::live;
use connectors::options::{ConnectionTarget, SourceSecrets};
use connectors::postgres::{connect_options, PgSslMode, PostgresTarget};
use connectors::probe::{AssetSample, Discovery, DiscoveryError, DiscoveryOptions};
use connectors::secrets::SecretValue;
use domain::datasource::{
    DataSourceConfigInput, FailureCategory, ReplicaConfigInput, SslConfigInput,
};
use domain::discovery::{AssetKind, AssetSchema};
use sqlx::{Connection, PgConnection};
use std::path::Path;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Targets from the model
// ---------------------------------------------------------------------------------------------

/// A PostgreSQL source at `host:port`, database and user [`USER`].
fn source(host: &str, port: u16) -> DataSourceConfigInput {
    DataSourceConfigInput {
        name: Some("Cluster under test".into()),
        kind: Some("postgresql".into()),
        host: Some(host.into()),
        port: Some(port.into()),
        database: Some(USER.into()),
        username: Some(USER.into()),
        password_secret: Some("env:PURSIGHT_TEST_PG_PASSWORD".into()),
        ..Default::default()
    }
}

fn ssl(mode: Option<&str>, ca: Option<&Path>) -> Option<SslConfigInput> {
    Some(SslConfigInput {
        mode: mode.map(Into::into),
        ssl_ca: ca.map(|p| p.display().to_string()),
        ..Default::default()
    })
}

fn build(input: DataSourceConfigInput, password: &str) -> ConnectionTarget {
    let config = input.parse().unwrap_or_else(|e| panic!("test config: {e}"));
    ConnectionTarget::from_config(
        &config,
        &SourceSecrets::password(SecretValue::new(password)),
    )
    .unwrap()
}

fn postgres(target: &ConnectionTarget) -> &PostgresTarget {
    match target {
        ConnectionTarget::Postgres(pg) => pg,
        other => panic!("expected a PostgreSQL target, got {other}"),
    }
}

fn everything() -> DiscoveryOptions {
    DiscoveryOptions {
        query_timeout: TIMEOUT,
        ..DiscoveryOptions::default()
    }
}

fn asset<'d>(discovery: &'d Discovery, name: &str) -> &'d AssetSchema {
    discovery
        .assets
        .iter()
        .find(|a| a.path.name() == name && matches!(a.kind, AssetKind::Table | AssetKind::View))
        .unwrap_or_else(|| {
            let found: Vec<String> = discovery
                .assets
                .iter()
                .map(|a| a.path.to_string())
                .collect();
            panic!("{name} not discovered; found {found:?}")
        })
}

/// The values of `column` in a sample.
fn values(sample: &AssetSample, column: &str) -> Vec<Option<String>> {
    sample
        .columns
        .iter()
        .find(|c| c.column == column)
        .unwrap_or_else(|| panic!("no column {column} in the sample"))
        .values
        .clone()
}

/// Which server answered a sample of a `who_*` view: its port and whether it is a replica.
fn answered_by(sample: &AssetSample) -> (u16, bool) {
    let port = values(sample, "port")[0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    let in_recovery = values(sample, "in_recovery")[0].as_deref() == Some("true");
    (port, in_recovery)
}

async fn execute(connection: &mut PgConnection, sql: &str) {
    sqlx::raw_sql(sql)
        .execute(&mut *connection)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

// ---------------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn tls_modes_from_the_model_against_a_tls_cluster() {
    let cluster = PgCluster::start(ClusterOptions {
        tls: true,
        replica: false,
    })
    .await;
    let tls = cluster.tls.clone().unwrap();
    let port = cluster.primary.port;
    let password = cluster.password.clone();
    let mut db = cluster.primary.admin_to(USER).await;
    execute(
        &mut db,
        &format!(
            "SET ROLE {USER}; \
             CREATE SCHEMA crm; \
             CREATE TABLE crm.customers (id bigint PRIMARY KEY, email text NOT NULL); \
             INSERT INTO crm.customers VALUES (1, 'ada@example.com'), (2, 'alan@example.com');"
        ),
    )
    .await;
    db.close().await.unwrap();

    // A CA alone: verify-ca, the chain checked against the CA. Only `hostssl` connections get
    // past pg_hba, so every success below was encrypted.
    let verify_ca = build(
        DataSourceConfigInput {
            ssl_config: ssl(None, Some(&tls.ca)),
            ..source("localhost", port)
        },
        &password,
    );
    assert_eq!(postgres(&verify_ca).ssl_mode, PgSslMode::VerifyCa);
    let info = live::validate(&verify_ca, TIMEOUT)
        .await
        .unwrap_or_else(|f| panic!("verify-ca: {f:?}"));
    assert!(info.server_version.is_some());

    // verify-ca should not check the host name, but sqlx 0.8.6 does with rustls >= 0.23.24
    // (its no-hostname verifier misses rustls' new `NotValidForNameContext` error: sqlx issue
    // 3793, fixed in sqlx 0.9). Through 127.0.0.1, which the certificate does not name, verify-ca
    // therefore fails like verify-full. When this assertion breaks, sqlx got the fix: assert
    // success here instead.
    let verify_ca_by_address = build(
        DataSourceConfigInput {
            ssl_config: ssl(None, Some(&tls.ca)),
            ..source("127.0.0.1", port)
        },
        &password,
    );
    let failure = live::validate(&verify_ca_by_address, TIMEOUT)
        .await
        .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Tls, "{failure:?}");
    assert!(
        failure.message.contains("not valid for name"),
        "{failure:?}"
    );

    // The host name checked as well: through the name on the certificate …
    let verify_full = build(
        DataSourceConfigInput {
            ssl_config: ssl(Some("verify_full"), Some(&tls.ca)),
            ..source("localhost", port)
        },
        &password,
    );
    assert_eq!(postgres(&verify_full).ssl_mode, PgSslMode::VerifyFull);
    live::validate(&verify_full, TIMEOUT)
        .await
        .unwrap_or_else(|f| panic!("verify-full via localhost: {f:?}"));

    // … and through an address the certificate does not name.
    let mismatch = build(
        DataSourceConfigInput {
            ssl_config: ssl(Some("verify_full"), Some(&tls.ca)),
            ..source("127.0.0.1", port)
        },
        &password,
    );
    let failure = live::validate(&mismatch, TIMEOUT).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Tls, "{failure:?}");

    // A CA that did not sign the server's certificate.
    let wrong_ca = build(
        DataSourceConfigInput {
            ssl_config: ssl(Some("verify_ca"), Some(&tls.other_ca)),
            ..source("127.0.0.1", port)
        },
        &password,
    );
    let failure = live::validate(&wrong_ca, TIMEOUT).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Tls, "{failure:?}");

    // Encryption without verification.
    let require = build(
        DataSourceConfigInput {
            ssl_config: ssl(Some("require"), None),
            ..source("127.0.0.1", port)
        },
        &password,
    );
    live::validate(&require, TIMEOUT)
        .await
        .unwrap_or_else(|f| panic!("require: {f:?}"));

    // A wrong password over a verified connection: auth, and the password nowhere.
    let wrong_password = "Wr0ng-S3cret-pw";
    let rejected = build(
        DataSourceConfigInput {
            ssl_config: ssl(Some("verify_full"), Some(&tls.ca)),
            ..source("localhost", port)
        },
        wrong_password,
    );
    let failure = live::validate(&rejected, TIMEOUT).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Auth, "{failure:?}");
    let error = live::discover(&rejected, &everything(), &|_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&error, DiscoveryError::Connection(f) if f.category == FailureCategory::Auth),
        "{error:?}"
    );
    for shown in [
        failure.to_string(),
        format!("{failure:?}"),
        error.to_string(),
        format!("{error:?}"),
        rejected.to_string(),
        format!("{rejected:?}"),
    ] {
        assert!(!shown.contains(wrong_password), "{shown}");
        assert!(!shown.contains(&password), "{shown}");
    }

    // Discovery and sampling through verified TLS.
    let discovery = live::discover(&verify_full, &everything(), &|_| {})
        .await
        .unwrap_or_else(|e| panic!("discovery over TLS: {e}"));
    let customers = asset(&discovery, "customers");
    assert_eq!(customers.path.to_string(), format!("{USER}.crm.customers"));
    let columns: Vec<&str> = customers.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(columns, ["id", "email"]);
    let sample = live::sample(&verify_full, customers, 10, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(sample.rows, 2);
    let mut emails = values(&sample, "email");
    emails.sort();
    assert_eq!(
        emails,
        [
            Some("ada@example.com".to_owned()),
            Some("alan@example.com".to_owned())
        ]
    );
}

#[tokio::test]
async fn tls_required_against_a_server_without_tls_is_a_tls_failure() {
    let cluster = PgCluster::start(ClusterOptions::default()).await;
    let port = cluster.primary.port;
    let required = build(
        DataSourceConfigInput {
            ssl_config: ssl(Some("require"), None),
            ..source("127.0.0.1", port)
        },
        &cluster.password,
    );
    let failure = live::validate(&required, TIMEOUT).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Tls, "{failure:?}");
    // The same server in plain text (on-prem without ssl_config: TLS preferred) is fine, so the
    // failure above was TLS and nothing else.
    let preferred = build(source("127.0.0.1", port), &cluster.password);
    live::validate(&preferred, TIMEOUT)
        .await
        .unwrap_or_else(|f| panic!("plain text: {f:?}"));
}

// ---------------------------------------------------------------------------------------------
// Replica and failover
// ---------------------------------------------------------------------------------------------

/// Waits short enough for a test: the primary is retried 300 ms after tripping, then 600 ms,
/// up to every 2 s.
fn quick_failover() -> FailoverPolicy {
    FailoverPolicy {
        first_backoff: Duration::from_millis(300),
        max_backoff: Duration::from_secs(2),
        cool_down: Duration::from_secs(5),
        ..FailoverPolicy::default()
    }
}

#[tokio::test]
async fn a_sampling_run_fails_over_to_the_replica_and_returns_to_the_primary() {
    let cluster = PgCluster::start(ClusterOptions {
        tls: true,
        replica: true,
    })
    .await;
    let tls = cluster.tls.clone().unwrap();
    let (primary_port, replica_port) = (cluster.primary.port, cluster.replica().port);
    assert!(cluster.replica().in_recovery().await);

    // Six assets whose rows say which server read them.
    let views = 6;
    let mut db = cluster.primary.admin_to(USER).await;
    let mut ddl = format!("SET ROLE {USER}; CREATE SCHEMA ops;");
    for i in 1..=views {
        ddl.push_str(&format!(
            "CREATE VIEW ops.who_{i} AS SELECT inet_server_port() AS port, \
             pg_is_in_recovery() AS in_recovery, n FROM generate_series(1, 3) AS n;"
        ));
    }
    execute(&mut db, &ddl).await;
    db.close().await.unwrap();
    cluster.wait_for_replica().await;

    let mut target = build(
        DataSourceConfigInput {
            ssl_config: ssl(Some("verify_full"), Some(&tls.ca)),
            replica_config: Some(ReplicaConfigInput {
                replica_host: Some("localhost".into()),
                replica_port: Some(replica_port.into()),
                ..Default::default()
            }),
            ..source("localhost", primary_port)
        },
        &cluster.password,
    );
    if let ConnectionTarget::Postgres(pg) = &mut target {
        pg.reads = ReadHealth::new(quick_failover());
    }
    let health = postgres(&target).reads.clone();

    // DDL discovery reads the primary.
    let discovery = live::discover(&target, &everything(), &|_| {})
        .await
        .unwrap();
    let assets: Vec<AssetSchema> = (1..=views)
        .map(|i| asset(&discovery, &format!("who_{i}")).clone())
        .collect();

    // The run: a healthy primary answers the first half …
    let mut answers = Vec::new();
    for (i, asset) in assets.iter().enumerate() {
        if i == views / 2 {
            // … then the primary goes away mid-run.
            cluster.primary.stop();
        }
        let sample = live::sample(&target, asset, 5, TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("sampling {} failed: {e}", asset.path));
        assert_eq!(sample.rows, 3);
        answers.push(answered_by(&sample));
    }
    let primary = (primary_port, false);
    let replica = (replica_port, true);
    assert_eq!(
        answers,
        [primary, primary, primary, replica, replica, replica],
        "every asset sampled, the second half by the replica"
    );
    assert_eq!(
        health.serving(),
        Server::Replica,
        "three failed reads in a row trip the primary"
    );

    // Discovery does not fail over: a replica may lag behind the DDL.
    let error = live::discover(&target, &everything(), &|_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&error, DiscoveryError::Connection(f) if f.category == FailureCategory::Unreachable),
        "{error:?}"
    );

    // Still down: reads stay on the replica (probes of the primary fail and are answered by the
    // replica too).
    for asset in &assets {
        let sample = live::sample(&target, asset, 5, TIMEOUT).await.unwrap();
        assert_eq!(answered_by(&sample), replica);
    }

    // The primary is back: after the backoff a probe finds it, and reads return.
    cluster.primary.start();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut on_replica_meanwhile = 0;
    loop {
        let sample = live::sample(&target, &assets[0], 5, TIMEOUT).await.unwrap();
        if answered_by(&sample) == primary {
            break;
        }
        assert_eq!(answered_by(&sample), replica);
        on_replica_meanwhile += 1;
        assert!(
            Instant::now() < deadline,
            "reads never returned to the restarted primary"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(health.serving(), Server::Primary);
    for asset in &assets {
        let sample = live::sample(&target, asset, 5, TIMEOUT).await.unwrap();
        assert_eq!(answered_by(&sample), primary);
    }
    eprintln!("{on_replica_meanwhile} reads on the replica before the primary was probed back");
}

// ---------------------------------------------------------------------------------------------
// PgBouncer
// ---------------------------------------------------------------------------------------------

/// A database of its own on the machine's PostgreSQL, dropped (`WITH (FORCE)`) on drop.
struct ScratchDb {
    name: String,
}

const MACHINE_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

impl ScratchDb {
    async fn create() -> ScratchDb {
        let name = common::unique("pursight_bouncer_");
        let mut admin = PgConnection::connect(MACHINE_ADMIN).await.unwrap();
        execute(&mut admin, &format!("CREATE DATABASE \"{name}\"")).await;
        admin.close().await.unwrap();
        let mut db = PgConnection::connect(&format!("postgres://postgres@127.0.0.1:5432/{name}"))
            .await
            .unwrap();
        execute(
            &mut db,
            "CREATE SCHEMA shop; \
             CREATE TABLE shop.customers (id bigint PRIMARY KEY, email text NOT NULL, \
               phone text, score double precision); \
             CREATE TABLE shop.orders (id bigint PRIMARY KEY, \
               customer_id bigint NOT NULL REFERENCES shop.customers(id), total numeric(10,2)); \
             INSERT INTO shop.customers VALUES (1, 'ada@example.com', '+44 20 7946 0018', 0.1), \
               (2, 'alan@example.com', NULL, 2.5); \
             INSERT INTO shop.orders VALUES (10, 1, 12.50), (11, 2, 99.99), (12, 1, 0.01); \
             CREATE VIEW shop.via AS SELECT inet_server_port() AS port;",
        )
        .await;
        db.close().await.unwrap();
        ScratchDb { name }
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        common::drop_machine_database(&self.name);
    }
}

#[tokio::test]
async fn validate_discover_and_sample_through_pgbouncer_in_transaction_mode() {
    let db = ScratchDb::create().await;
    // Declared after the database: dropped first, so the DROP DATABASE meets no pooled session.
    let bouncer = PgBouncer::start(5432);
    let mut input = source("127.0.0.1", bouncer.port);
    input.database = Some(format!("{}?pgbouncer=true", db.name));
    input.username = Some("postgres".into());
    input.password_secret = None;
    let config = input.parse().unwrap();
    let target = ConnectionTarget::from_config(&config, &SourceSecrets::default()).unwrap();
    let pg = postgres(&target);
    assert!(pg.pgbouncer);
    assert_eq!(pg.database.as_deref(), Some(db.name.as_str()));

    // Controls: this really is a transaction-pooling PgBouncer. Without the flag, sqlx's
    // `extra_float_digits` startup parameter is refused …
    let mut plain = pg.clone();
    plain.pgbouncer = false;
    let refused = PgConnection::connect_with(&connect_options(&plain).unwrap())
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("extra_float_digits"),
        "{refused}"
    );
    // … and a named prepared statement outlives its client in the shared server session, so
    // the next client's statement of the same name collides.
    let options = connect_options(pg).unwrap();
    let mut outcomes = Vec::new();
    for _ in 0..2 {
        let mut client = PgConnection::connect_with(&options).await.unwrap();
        outcomes.push(sqlx::query("SELECT 1").execute(&mut client).await);
        client.close().await.ok();
    }
    outcomes[0].as_ref().unwrap();
    let collided = outcomes[1].as_ref().unwrap_err();
    assert!(
        collided.to_string().contains("already exists"),
        "{collided}"
    );

    // The connector itself: everything twice, so that anything one client left behind in the
    // server session would meet the next one.
    for _ in 0..2 {
        let info = live::validate(&target, TIMEOUT)
            .await
            .unwrap_or_else(|f| panic!("validate through PgBouncer: {f:?}\n{}", bouncer.log()));
        assert!(info.server_version.is_some());

        let discovery = live::discover(&target, &everything(), &|_| {})
            .await
            .unwrap_or_else(|e| panic!("discover through PgBouncer: {e}\n{}", bouncer.log()));
        let customers = asset(&discovery, "customers");
        let columns: Vec<(&str, &str)> = customers
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.data_type.as_str()))
            .collect();
        assert_eq!(
            columns,
            [
                ("id", "bigint"),
                ("email", "text"),
                ("phone", "text"),
                ("score", "double precision")
            ]
        );
        let orders = asset(&discovery, "orders");
        assert!(
            discovery
                .lineage
                .iter()
                .any(|edge| edge.from == customers.path && edge.to == orders.path
                    || edge.from == orders.path && edge.to == customers.path),
            "the foreign key is discovered: {:?}",
            discovery.lineage
        );

        let sample = live::sample(&target, customers, 10, TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("sample through PgBouncer: {e}\n{}", bouncer.log()));
        assert_eq!(sample.rows, 2);
        let mut scores = values(&sample, "score");
        scores.sort();
        assert_eq!(scores, [Some("0.1".to_owned()), Some("2.5".to_owned())]);
        let mut phones = values(&sample, "phone");
        phones.sort();
        assert_eq!(phones, [None, Some("+44 20 7946 0018".to_owned())]);
        let totals = live::sample(&target, orders, 10, TIMEOUT).await.unwrap();
        let mut totals = values(&totals, "total");
        totals.sort();
        assert_eq!(
            totals,
            [
                Some("0.01".to_owned()),
                Some("12.50".to_owned()),
                Some("99.99".to_owned())
            ]
        );
        // The rows came from the server behind PgBouncer, not from PgBouncer's port.
        let via = live::sample(&target, asset(&discovery, "via"), 1, TIMEOUT)
            .await
            .unwrap();
        assert_eq!(values(&via, "port"), [Some("5432".to_owned())]);
        assert_ne!(bouncer.port, 5432);
    }
}
