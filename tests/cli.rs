//! The real `pursight` binary: token, replay, export, verify (and tamper detection), rebuild,
//! and the clear messages when a dependency is missing.

mod support;

use domain::access::Role;
use serde_json::json;
use std::process::{Command, Output};
use support::{postgres_source, pursight, text, TestApp, REGISTER};

async fn populated() -> TestApp {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    for name in ["Orders", "Billing"] {
        let response = app
            .gql(
                Some(&admin),
                REGISTER,
                json!({ "input": postgres_source(name), "wait": true }),
            )
            .await;
        assert!(response["errors"].is_null(), "{response}");
    }
    let other = TestApp::token("globex", &[Role::Admin]);
    app.gql(
        Some(&other),
        REGISTER,
        json!({ "input": postgres_source("Ledger"), "wait": true }),
    )
    .await;
    app
}

#[tokio::test(flavor = "multi_thread")]
async fn export_verify_and_a_changed_byte_is_named_with_event_and_sequence() {
    let app = populated().await;
    let dir = std::env::temp_dir().join(format!("pursight-{}", app.prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("events.ndjson");
    let output = pursight(&app, &["export", "--output", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    let exported = std::fs::read_to_string(&file).unwrap();
    assert_eq!(exported.lines().count(), 4, "three events and the trailer");

    let output = pursight(&app, &["verify"]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("OK: 3 events"), "{}", text(&output));
    assert!(
        text(&output).contains("sequences 1..3 (3 commits)"),
        "verify names the range it checked: {}",
        text(&output)
    );
    let output = pursight(&app, &["verify", "--file", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));

    // An empty file and an export with its last event removed are not intact.
    let output = pursight(&app, &["verify", "--file", "/dev/null"]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("the file is empty"),
        "{}",
        text(&output)
    );
    let mut lines: Vec<&str> = exported.lines().collect();
    lines.remove(2);
    let shortened = dir.join("shortened.ndjson");
    std::fs::write(&shortened, lines.join("\n") + "\n").unwrap();
    let output = pursight(&app, &["verify", "--file", shortened.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("records 3 events, the file holds 2"),
        "{}",
        text(&output)
    );

    // One changed byte in the second event: "Billing" → "Bulling".
    let second = eventlog::export::from_line(exported.lines().nth(1).unwrap()).unwrap();
    let tampered = exported.replacen("\"name\":\"Billing\"", "\"name\":\"Bulling\"", 1);
    assert_ne!(tampered, exported);
    std::fs::write(&file, tampered).unwrap();
    let output = pursight(&app, &["verify", "--file", file.to_str().unwrap()]);
    assert!(!output.status.success());
    let report = text(&output);
    assert!(report.contains("TAMPERED"), "{report}");
    assert!(report.contains(&second.event.id.to_string()), "{report}");
    assert!(
        report.contains(&format!("sequence {}", second.sequence)),
        "{report}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_export_verifies_with_its_public_key_and_not_once_altered_or_with_another_key() {
    let app = populated().await;
    let dir = std::env::temp_dir().join(format!("pursight-signed-{}", app.prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();

    let output = pursight(&app, &["keygen", "--output", &path("auditor.key")]);
    assert!(output.status.success(), "{}", text(&output));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("auditor.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the private key is its owner's only");
    assert!(std::fs::read_to_string(dir.join("auditor.key.pub"))
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    // keygen never overwrites a key.
    let output = pursight(&app, &["keygen", "--output", &path("auditor.key")]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("never overwrites"),
        "{}",
        text(&output)
    );

    let output = pursight(
        &app,
        &[
            "export",
            "--tenant",
            "acme",
            "--sign",
            &path("auditor.key"),
            "--output",
            &path("e.ndjson"),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let verify = |args: &[&str]| {
        let mut all = vec!["verify", "--file"];
        all.extend_from_slice(args);
        pursight(&app, &all)
    };
    let output = verify(&[&path("e.ndjson"), "--key", &path("auditor.key.pub")]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("signature valid"),
        "{}",
        text(&output)
    );

    // Another key pair's public key does not verify the signature.
    assert!(pursight(&app, &["keygen", "--output", &path("other.key")])
        .status
        .success());
    let output = verify(&[&path("e.ndjson"), "--key", &path("other.key.pub")]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("SIGNATURE INVALID"),
        "{}",
        text(&output)
    );
    assert!(text(&output).contains("another key"), "{}", text(&output));

    // An export re-made after more events (a new trailer) is not covered by the old signature.
    let admin = TestApp::token("acme", &[Role::Admin]);
    let response = app
        .gql(
            Some(&admin),
            REGISTER,
            json!({ "input": postgres_source("Later"), "wait": true }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    let output = pursight(
        &app,
        &["export", "--tenant", "acme", "--output", &path("f.ndjson")],
    );
    assert!(output.status.success(), "{}", text(&output));
    let output = verify(&[
        &path("f.ndjson"),
        "--key",
        &path("auditor.key.pub"),
        "--signature",
        &path("e.ndjson.sig"),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("covers another export"),
        "{}",
        text(&output)
    );

    // A changed event: the digest no longer matches what was signed, and the event is named.
    let exported = std::fs::read_to_string(dir.join("e.ndjson")).unwrap();
    let first = eventlog::export::from_line(exported.lines().next().unwrap()).unwrap();
    std::fs::write(
        dir.join("e.ndjson"),
        exported.replacen("\"name\":\"Orders\"", "\"name\":\"Ordres\"", 1),
    )
    .unwrap();
    let output = verify(&[&path("e.ndjson"), "--key", &path("auditor.key.pub")]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains(&first.event.id.to_string()),
        "{}",
        text(&output)
    );

    // Without a signature file, --key fails clearly.
    std::fs::remove_file(dir.join("e.ndjson.sig")).unwrap();
    let output = verify(&[&path("e.ndjson"), "--key", &path("auditor.key.pub")]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("no readable signature file"),
        "{}",
        text(&output)
    );
    std::fs::remove_dir_all(&dir).unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fernet_tokens_show_as_redacted_in_history_and_export_and_both_verify() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let token = "fernet:gAAAAABnX1Y2c2VjcmV0LWNpcGhlcnRleHQtb2YtdGhlLXBhc3N3b3Jk";
    let mut input = postgres_source("Vaulted");
    input["passwordSecret"] = json!(token);
    let registered = app
        .gql(
            Some(&admin),
            REGISTER,
            json!({ "input": input, "wait": true }),
        )
        .await;
    assert!(registered["errors"].is_null(), "{registered}");
    let id = registered["data"]["registerDataSource"]["aggregateId"].clone();
    let history = app
        .gql(
            Some(&admin),
            "query($id: ID!) { history(aggregateId: $id) { data cloudEvent hash } }",
            json!({ "id": id }),
        )
        .await;
    let shown = history.to_string();
    assert!(!shown.contains("gAAAA"), "{shown}");
    let event = &history["data"]["history"][0];
    assert_eq!(
        event["data"]["config"]["password_secret"], "fernet:***",
        "{history}"
    );
    assert_eq!(
        event["cloudEvent"]["data"]["config"]["password_secret"],
        "fernet:***"
    );
    // The event as shown verifies against its hash (its sealed actor checked and restored).
    let cloud_event = eventlog::personal::stored_form(event["cloudEvent"].clone()).unwrap();
    assert_eq!(
        eventlog::chain::compute_hash(&cloud_event),
        cloud_event.hash
    );

    let dir = std::env::temp_dir().join(format!("pursight-{}", app.prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("events.ndjson");
    let output = pursight(&app, &["export", "--output", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    let exported = std::fs::read_to_string(&file).unwrap();
    assert!(!exported.contains("gAAAA") && exported.contains("fernet:***"));
    let output = pursight(&app, &["verify"]);
    assert!(output.status.success(), "{}", text(&output));
    let output = pursight(&app, &["verify", "--file", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    std::fs::remove_dir_all(&dir).unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_filters_by_tenant_and_sequence() {
    let app = populated().await;
    let output = pursight(&app, &["replay", "--tenant", "acme", "--format", "ndjson"]);
    assert!(output.status.success(), "{}", text(&output));
    let lines: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l.contains("\"tenant\":\"acme\"")));
    let output = pursight(
        &app,
        &["replay", "--until-sequence", "1", "--format", "ndjson"],
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 1);
    let output = pursight(&app, &["replay"]);
    let table = text(&output);
    assert!(
        table.contains("SourceRegistered v3") && table.contains("3 events"),
        "{table}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rebuild_swaps_in_a_fresh_read_model_and_unknown_names_are_refused() {
    let app = populated().await;
    let output = pursight(&app, &["rebuild", "data_sources"]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("up to sequence 3"),
        "{}",
        text(&output)
    );
    let admin = TestApp::token("acme", &[Role::Admin]);
    let response = app
        .gql(Some(&admin), "{ dataSources { name } }", json!({}))
        .await;
    assert_eq!(
        response["data"]["dataSources"].as_array().unwrap().len(),
        2,
        "{response}"
    );
    let output = pursight(&app, &["rebuild", "catalogue"]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("unknown read model \"catalogue\""),
        "{}",
        text(&output)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_and_missing_dependencies_get_clear_messages() {
    let app = TestApp::spawn().await;
    let output = pursight(
        &app,
        &[
            "token",
            "--tenant",
            "acme",
            "--roles",
            "viewer,auditor",
            "--jwt-secret",
            support::SECRET,
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let token = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let caller = api::auth::Authenticator::new(support::SECRET, None)
        .unwrap()
        .verify(&token)
        .unwrap();
    assert_eq!(caller.roles, vec![Role::Viewer, Role::Auditor]);

    let output = pursight(&app, &["serve"]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("PURSIGHT_JWT_SECRET is not set"),
        "{}",
        text(&output)
    );
    let output = pursight(&app, &["--nats-url", "nats://127.0.0.1:1", "replay"]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("nats-server -js"),
        "{}",
        text(&output)
    );
    let output = pursight(
        &app,
        &[
            "--database-url",
            "postgres://postgres@127.0.0.1:1/x",
            "migrate",
        ],
    );
    assert!(!output.status.success());
    assert!(
        text(&output).contains("cannot reach PostgreSQL"),
        "{}",
        text(&output)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn source_add_list_validate_and_scan_from_the_command_line() {
    let app = TestApp::spawn().await;
    let database = format!(
        "pursight_cli_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    );
    let admin = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/postgres")
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&admin)
        .await
        .unwrap();
    let source_db =
        sqlx::PgPool::connect(&format!("postgres://postgres@127.0.0.1:5432/{database}"))
            .await
            .unwrap();
    sqlx::raw_sql(
        "CREATE TABLE people (id INT PRIMARY KEY, email TEXT);
         CREATE TABLE visits (id INT PRIMARY KEY, person_id INT REFERENCES people (id));",
    )
    .execute(&source_db)
    .await
    .unwrap();
    source_db.close().await;

    let output = pursight(
        &app,
        &[
            "source",
            "add",
            "--tenant",
            "cli-test",
            "--name",
            "People db",
            "--kind",
            "postgresql",
            "--host",
            "127.0.0.1",
            "--port",
            "5432",
            "--database",
            &database,
            "--username",
            "postgres",
            "--tag",
            "pii",
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("registered"), "{}", text(&output));
    let output = pursight(
        &app,
        &[
            "source",
            "add",
            "--tenant",
            "cli-test",
            "--name",
            "Bad",
            "--kind",
            "postgresql",
            "--host",
            "h",
            "--password-secret",
            "hunter2-literal",
        ],
    );
    assert!(!output.status.success());
    assert!(
        text(&output).contains("password_secret") && !text(&output).contains("hunter2"),
        "{}",
        text(&output)
    );

    let output = pursight(
        &app,
        &["source", "validate", "--tenant", "cli-test", "People db"],
    );
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("connected in"), "{}", text(&output));
    let output = pursight(
        &app,
        &[
            "scan",
            "--tenant",
            "cli-test",
            "People db",
            "--strategy",
            "conservative",
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let summary = text(&output);
    assert!(summary.contains("new/changed"), "{summary}");
    // Every scan is followed by classification, which reports what it labelled.
    assert!(summary.contains("classified "), "{summary}");
    // On demand, from the stored statistics: the e-mail column (empty, so named only) is
    // suggested with its reason.
    let output = pursight(
        &app,
        &[
            "classify",
            "--tenant",
            "cli-test",
            "People db",
            "--from-profiles",
        ],
    );
    let classified = text(&output);
    assert!(output.status.success(), "{classified}");
    assert!(
        classified.contains("people.email") && classified.contains("EMAIL_ADDRESS"),
        "{classified}"
    );
    // The compliance worker validates the classified source.
    app.wait_compliance().await;
    let output = pursight(&app, &["source", "list", "--tenant", "cli-test"]);
    let listing = text(&output);
    assert!(
        listing.contains("People db")
            && listing.contains("validated")
            && listing.contains("1 data sources"),
        "{listing}"
    );
    let output = pursight(&app, &["scan", "--tenant", "cli-test", "Nobody"]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("no data source named \"Nobody\""),
        "{}",
        text(&output)
    );

    sqlx::query(&format!("DROP DATABASE {database} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    app.stop().await;
}

/// `pursight` with extra environment variables and debug logging, so every log line the
/// workflows write is in the output.
fn pursight_with(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pursight"));
    command
        .args(args)
        .env("PURSIGHT_STREAM_PREFIX", &app.prefix)
        .env("PURSIGHT_DATABASE_URL", &app.database_url)
        .env("PURSIGHT_NATS_URL", &app.nats_url)
        .env("RUST_LOG", "debug")
        .env("PURSIGHT_SECRET_DIR", support::secret_dir())
        .env_remove("PURSIGHT_LOG")
        .env_remove("PURSIGHT_JWT_SECRET");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_password_never_appears_in_events_logs_read_models_or_responses() {
    let app = TestApp::spawn().await;
    let run = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
    let (database, user) = (format!("pursight_leak_{run}"), format!("leak_{run}"));
    let secret = format!("S3cr3t-{run}-pw");
    let wrong = format!("Wr0ng-{run}-pw");
    let mysql = sqlx::MySqlPool::connect("mysql://root@127.0.0.1:3306/mysql")
        .await
        .unwrap();
    for statement in [
        format!("CREATE DATABASE {database}"),
        format!("CREATE TABLE {database}.members (id INT PRIMARY KEY, email VARCHAR(200), secret_note VARCHAR(100))"),
        format!("INSERT INTO {database}.members VALUES (1, 'ann@example.org', 'x'), (2, 'bob@example.org', 'y')"),
        format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{secret}'"),
        format!("GRANT SELECT, SHOW VIEW ON {database}.* TO '{user}'@'%'"),
    ] {
        sqlx::query(&statement).execute(&mysql).await.unwrap();
    }
    let wrong_file = support::write_secret("leak", &format!("pursight-wrong-{run}"), &wrong);

    let env = [("PURSIGHT_SOURCE_SECRET_LEAK_TEST", secret.as_str())];
    let mut output = String::new();
    for (name, reference) in [
        ("Members", "env:PURSIGHT_SOURCE_SECRET_LEAK_TEST".to_owned()),
        ("Members wrong", format!("file:{}", wrong_file.display())),
    ] {
        let add = pursight_with(
            &app,
            &[
                "source",
                "add",
                "--tenant",
                "leak",
                "--name",
                name,
                "--kind",
                "mysql",
                "--host",
                "127.0.0.1",
                "--port",
                "3306",
                "--database",
                &database,
                "--username",
                &user,
                "--password-secret",
                &reference,
            ],
            &env,
        );
        assert!(add.status.success(), "{}", text(&add));
        output.push_str(&text(&add));
        output.push_str(&text(&pursight_with(
            &app,
            &["source", "validate", "--tenant", "leak", name],
            &env,
        )));
    }
    assert!(output.contains("connected in"), "{output}");
    assert!(output.contains("connection failed (auth)"), "{output}");
    let scan = pursight_with(&app, &["scan", "--tenant", "leak", "Members"], &env);
    assert!(scan.status.success(), "{}", text(&scan));
    output.push_str(&text(&scan));
    let file = std::env::temp_dir().join(format!("pursight-leak-{run}.ndjson"));
    let export = pursight_with(&app, &["export", "--output", file.to_str().unwrap()], &env);
    assert!(export.status.success(), "{}", text(&export));
    let events = std::fs::read_to_string(&file).unwrap();
    assert!(events.contains("ConnectionValidated") && events.contains("SchemaDiscovered"));

    // Every read model, as text.
    let read_models = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'rm\\_%'",
    )
    .fetch_all(&read_models)
    .await
    .unwrap();
    let mut rows = String::new();
    for schema in schemas {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
        )
        .bind(&schema)
        .fetch_all(&read_models)
        .await
        .unwrap();
        for table in tables {
            let dump: Option<String> = sqlx::query_scalar(&format!(
                "SELECT string_agg(t::text, E'\\n') FROM \"{schema}\".\"{table}\" t"
            ))
            .fetch_one(&read_models)
            .await
            .unwrap();
            rows.push_str(&dump.unwrap_or_default());
        }
    }
    read_models.close().await;
    assert!(rows.contains("Members"), "the read models were read");

    let admin = TestApp::token("leak", &[Role::Admin]);
    let listing = app
        .gql(
            Some(&admin),
            "{ dataSources { id name passwordSecret config lifecycleState } auditTrail(first: 500) { entries { eventType } } }",
            json!({}),
        )
        .await;
    let mut responses = listing.to_string();
    for source in listing["data"]["dataSources"].as_array().unwrap() {
        let history = app
            .gql(
                Some(&admin),
                "query($id: ID!) { history(aggregateId: $id) { name data } dataSourceStats(id: $id) { columns } }",
                json!({ "id": source["id"] }),
            )
            .await;
        assert!(
            history.to_string().contains("SourceRegistered"),
            "{history}"
        );
        responses.push_str(&history.to_string());
    }
    assert!(responses.contains("Members wrong"), "{responses}");

    for (place, text) in [
        ("the command output and logs", &output),
        ("the events", &events),
        ("the read models", &rows),
        ("the GraphQL responses", &responses),
    ] {
        assert!(!text.contains(&secret), "the password appears in {place}");
        assert!(
            !text.contains(&wrong),
            "the wrong password appears in {place}"
        );
    }

    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&wrong_file);
    for statement in [
        format!("DROP USER IF EXISTS '{user}'@'%'"),
        format!("DROP DATABASE IF EXISTS {database}"),
    ] {
        sqlx::query(&statement).execute(&mysql).await.unwrap();
    }
    mysql.close().await;
    app.stop().await;
}

/// Runs `pursight bench …` against the machine's services (scratch streams and databases only).
fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pursight"))
        .arg("bench")
        .args(args)
        .env(
            "PURSIGHT_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/postgres",
        )
        .env_remove("PURSIGHT_STREAM_PREFIX")
        .output()
        .unwrap()
}

/// The number on the last line of `output`, which must read `<key>: <number>`.
fn last_number(output: &Output, key: &str) -> f64 {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    last.strip_prefix(&format!("{key}: "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("last line {last:?} is not `{key}: N`:\n{}", text(output)))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_append_and_projection_benchmarks_run_end_to_end_and_leave_nothing_behind() {
    let output = bench(&["project", "--sources", "40", "--concurrency", "8"]);
    assert!(output.status.success(), "{}", text(&output));
    let all = text(&output);
    // The benchmark checks the read models against what it seeded before it reports a speed.
    assert!(all.contains("seeded: 320 events in 320 commits"), "{all}");
    assert!(last_number(&output, "events_per_s") > 0.0, "{all}");
    let run = all
        .split_once(", run ")
        .map(|(_, rest)| rest[..8].to_owned())
        .expect("the run id is printed");

    let admin = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/postgres")
        .await
        .unwrap();
    let (left,): (i64,) = sqlx::query_as("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(format!("pursight_benchproj_{run}"))
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(left, 0, "the scratch read-model database is dropped");
    admin.close().await;
    let nats = async_nats::connect("nats://127.0.0.1:4222").await.unwrap();
    let jetstream = async_nats::jetstream::new(nats);
    let stream = format!("BENCH_PROJ_{}_EVENTS", run.to_uppercase());
    assert!(
        jetstream.get_stream(&stream).await.is_err(),
        "the scratch stream {stream} is deleted"
    );

    let output = bench(&["append", "-n", "60", "--concurrency", "8", "--rounds", "1"]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(last_number(&output, "ratio") > 0.0, "{}", text(&output));
}

/// `pursight roles`: the same commands as the GraphQL role mutations, as the operator (admin):
/// a role defined and granted here authorises its subject's requests; invalid input is refused
/// before anything is written and the refusal is in the audit trail.
#[tokio::test(flavor = "multi_thread")]
async fn roles_are_defined_granted_changed_and_retired_from_the_command_line() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let run = |args: &[&str]| {
        let mut all = vec!["roles"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--tenant", "acme"]);
        let output = pursight(&app, &all);
        (output.status.success(), text(&output))
    };
    let help = text(&pursight(&app, &["roles", "--help"]));
    for word in ["list", "define", "change", "retire", "grant", "revoke"] {
        assert!(help.contains(word), "{help}");
    }

    let (ok, out) = run(&[
        "define",
        "analyst",
        "-p",
        "asset:read,classification:read",
        "--max-sensitivity",
        "high",
        "--description",
        "Reads everything but critical data",
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("role analyst defined"), "{out}");
    let (ok, out) = run(&["grant", "kim@acme.test", "analyst"]);
    assert!(ok, "{out}");
    // The JSON is standard output alone (warnings go to standard error).
    let listing = pursight(
        &app,
        &["roles", "list", "--format", "json", "--tenant", "acme"],
    );
    assert!(listing.status.success(), "{}", text(&listing));
    let out = String::from_utf8_lossy(&listing.stdout).into_owned();
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    let analyst = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "analyst")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(analyst["builtIn"], false);
    assert_eq!(
        analyst["permissions"],
        json!(["asset:read", "classification:read"])
    );
    assert_eq!(analyst["subjects"], json!(["kim@acme.test"]));
    assert_eq!(analyst["condition"]["maxSensitivity"], "high");
    let (ok, table) = run(&["list"]);
    assert!(ok && table.contains("max_sensitivity=high") && table.contains("kim@acme.test"));

    // The API sees the same policy, and the grant authorises kim (whose token holds no role).
    support::wait_projected(&app, &admin).await;
    let roles = app
        .gql(
            Some(&admin),
            "{ roles { name subjects condition { maxSensitivity } } }",
            json!({}),
        )
        .await;
    assert!(
        roles["data"]["roles"]
            .as_array()
            .unwrap()
            .contains(&json!({ "name": "analyst", "subjects": ["kim@acme.test"], "condition": { "maxSensitivity": "high" } })),
        "{roles}"
    );
    let kim = api::auth::issue_token(
        support::SECRET,
        "kim@acme.test",
        &domain::TenantId::parse("acme").unwrap(),
        &[],
        3600,
    );
    let read = app
        .gql(Some(&kim), "{ dataSources { id } }", json!({}))
        .await;
    assert!(read["errors"].is_null(), "{read}");

    // Refused before anything is written, and recorded as refused.
    let before = app.stream_sequence().await;
    for (args, expected) in [
        (vec!["define", "Bad!", "-p", "asset:read"], "role"),
        (vec!["define", "admin", "-p", "asset:read"], "built-in"),
        (
            vec![
                "define",
                "ops",
                "-p",
                "data_source:update",
                "--max-sensitivity",
                "high",
            ],
            "condition",
        ),
        (
            vec![
                "define",
                "ops",
                "-p",
                "asset:read",
                "--max-sensitivity",
                "extreme",
            ],
            "maxSensitivity",
        ),
        (vec!["define", "ops", "-p", "asset:fly"], "asset:fly"),
        (vec!["retire", "nobody"], "nobody"),
    ] {
        let (ok, out) = run(&args);
        assert!(!ok, "{args:?}: {out}");
        assert!(out.contains(expected), "{args:?}: {out}");
    }
    assert_eq!(
        app.stream_sequence().await,
        before,
        "refusals write nothing"
    );
    let auditor = TestApp::token("acme", &[Role::Auditor]);
    let trail = app
        .gql(
            Some(&auditor),
            r#"{ auditTrail(filter: { action: "cli roles define" }) { entries { outcome actor } } }"#,
            json!({}),
        )
        .await;
    let entries = trail["data"]["auditTrail"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 5, "{trail}");
    assert!(entries.iter().all(|e| e["outcome"] == "INVALID"), "{trail}");

    // Changed, revoked, retired.
    let (ok, out) = run(&["change", "analyst", "-p", "asset:read"]);
    assert!(ok, "{out}");
    let (ok, out) = run(&["revoke", "kim@acme.test", "analyst"]);
    assert!(ok, "{out}");
    let (ok, out) = run(&["retire", "analyst"]);
    assert!(ok, "{out}");
    let (_, out) = run(&["list", "--format", "json"]);
    assert!(!out.contains("analyst"), "{out}");
    let events = support::replayed(&app, "acme");
    for event_type in [
        "RoleDefined",
        "RoleGranted",
        "RoleChanged",
        "RoleRevoked",
        "RoleRetired",
    ] {
        let found = support::of_type(&events, event_type);
        assert_eq!(found.len(), 1, "{event_type}");
        assert!(
            found[0]["actor"].as_str().unwrap().starts_with("cli:"),
            "{event_type}: {}",
            found[0]
        );
    }
    app.stop().await;
}
