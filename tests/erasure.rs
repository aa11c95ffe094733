//! Erasure without breaking immutability (GDPR Art. 17): personal data in events is sealed per
//! person, never stored in plain text on the stream; `pursight erase --subject S` destroys the
//! person's keys, after which the rebuilt read models, `history`, `auditTrail`, `replay` and
//! `export` show `[erased]`, while the live stream and the export still verify and another
//! person's data still reads. Real NATS, PostgreSQL and the `pursight` binary.

mod support;

use api::auth::issue_token;
use domain::access::Role;
use domain::TenantId;
use serde_json::{json, Value};
use support::{
    postgres_source, pursight, register_and_scan, text, wait_projected, SourceDb, TestApp,
    REGISTER, SECRET,
};

const DANA: &str = "dana.erasure@example.test";
const OMAR: &str = "omar.keeps@example.test";
const DANA_REASON: &str = "Dana retired this after the audit call";
const OMAR_REASON: &str = "Omar moved it to the warehouse";
/// Every source's description ends so; it is the registrant's text, sealed under their key.
const DESCRIBED: &str = "as its registrant described it";

fn token_for(subject: &str, tenant: &str) -> String {
    issue_token(
        SECRET,
        subject,
        &TenantId::parse(tenant).unwrap(),
        &[Role::Admin],
        3600,
    )
}

/// Registers a source owned by `owner` and archives it with `reason`; returns its id.
async fn register_and_archive(
    app: &TestApp,
    token: &str,
    name: &str,
    owner: &str,
    reason: &str,
) -> String {
    let mut input = postgres_source(name);
    input["owner"] = owner.into();
    input["description"] = format!("{name}, {DESCRIBED}").into();
    let response = app
        .gql(
            Some(token),
            REGISTER,
            json!({ "input": input, "wait": true }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    let id = response["data"]["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .gql(
            Some(token),
            "mutation($id: ID!, $r: String) { archiveDataSource(id: $id, reason: $r, waitForProjection: true) { version } }",
            json!({ "id": id, "r": reason }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    id
}

/// Every message of the test's stream, as raw bytes.
async fn raw_stream(app: &TestApp) -> String {
    let client = async_nats::connect(&app.nats_url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let names = eventlog::StreamNames::new(&app.prefix, None).unwrap();
    let mut stream = js.get_stream(names.stream()).await.unwrap();
    let last = stream.info().await.unwrap().state.last_sequence;
    let mut all = Vec::new();
    for sequence in 1..=last {
        let message = stream.get_raw_message(sequence).await.unwrap();
        all.extend_from_slice(&message.payload);
        all.push(b'\n');
    }
    String::from_utf8(all).unwrap()
}

async fn sources(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app
        .gql(
            Some(token),
            "{ dataSources(includeArchived: true) { id name owner description registeredBy updatedBy } }",
            json!({}),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["dataSources"].as_array().unwrap().clone()
}

fn source<'a>(sources: &'a [Value], id: &str) -> &'a Value {
    sources.iter().find(|s| s["id"] == id).unwrap()
}

async fn history(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let response = app
        .gql(
            Some(token),
            "query($id: ID!) { history(aggregateId: $id) { name actor data hash cloudEvent } }",
            json!({ "id": id }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["history"].as_array().unwrap().clone()
}

async fn trail(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app
        .gql(
            Some(token),
            "{ auditTrail(first: 500) { entries { actor eventType outcome } } }",
            json!({}),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["auditTrail"]["entries"]
        .as_array()
        .unwrap()
        .clone()
}

fn export(app: &TestApp, path: &std::path::Path) -> String {
    let out = pursight(app, &["export", "--output", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let out = pursight(app, &["verify", "--file", path.to_str().unwrap()]);
    assert!(out.status.success(), "the export verifies: {}", text(&out));
    std::fs::read_to_string(path).unwrap()
}

/// An export with its trailer's digest recomputed over the (changed) event lines.
fn reseal_trailer(export: &str) -> String {
    use sha2::Digest;
    let lines: Vec<&str> = export.lines().collect();
    let (trailer, events) = lines.split_last().unwrap();
    let mut digest = sha2::Sha256::new();
    for line in events {
        digest.update(line.as_bytes());
        digest.update(b"\n");
    }
    let mut trailer: Value = serde_json::from_str(trailer).unwrap();
    trailer["sha256"] = hex::encode(digest.finalize()).into();
    let mut out = events.join("\n");
    out.push('\n');
    out.push_str(&trailer.to_string());
    out.push('\n');
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erased_person_reads_as_erased_everywhere_while_every_hash_still_verifies() {
    let app = TestApp::spawn().await;
    let dana = token_for(DANA, "acme");
    let omar = token_for(OMAR, "acme");
    let dana_elsewhere = token_for(DANA, "globex");
    let dana_source = register_and_archive(&app, &dana, "Dana's orders", DANA, DANA_REASON).await;
    let omar_source = register_and_archive(&app, &omar, "Omar's orders", OMAR, OMAR_REASON).await;
    let globex_source =
        register_and_archive(&app, &dana_elsewhere, "Globex orders", DANA, DANA_REASON).await;
    wait_projected(&app, &dana).await;

    // Never plain text on the stream.
    let raw = raw_stream(&app).await;
    for plain in [DANA, OMAR, DANA_REASON, OMAR_REASON, DESCRIBED] {
        assert!(!raw.contains(plain), "{plain} is stored sealed");
    }
    assert!(raw.contains("\"pii:v1:"));

    // Before the erasure every view shows the person.
    let before = sources(&app, &dana).await;
    assert_eq!(source(&before, &dana_source)["owner"], DANA);
    assert_eq!(source(&before, &dana_source)["registeredBy"], DANA);
    let events = history(&app, &dana, &dana_source).await;
    assert_eq!(events[0]["actor"], DANA);
    let archived = events
        .iter()
        .find(|e| e["name"] == "SourceArchived")
        .unwrap();
    assert_eq!(archived["data"]["reason"], DANA_REASON);
    let dir = std::env::temp_dir().join(format!("pursight-erasure-{}", app.prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let exported = export(&app, &dir.join("before.ndjson"));
    assert!(
        exported.contains(DANA_REASON),
        "an export shows what it may"
    );

    // Hostile subjects are refused before anything is written.
    let sequence = app.stream_sequence().await;
    let long = "x".repeat(513);
    for bad in ["", "   ", "dana\nsomeone", long.as_str()] {
        let out = pursight(&app, &["erase", "--subject", bad, "--tenant", "acme"]);
        assert!(!out.status.success(), "{bad:?} is refused");
        assert!(text(&out).contains("--subject"), "{}", text(&out));
    }
    let out = pursight(&app, &["erase", "--subject", DANA, "--tenant", "../acme"]);
    assert!(!out.status.success());
    assert_eq!(app.stream_sequence().await, sequence);

    // Erase Dana in acme; the read models are rebuilt.
    let out = pursight(&app, &["erase", "--subject", DANA, "--tenant", "acme"]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("PersonalDataErased"), "{said}");
    assert!(said.contains("rebuilt catalog"), "{said}");
    assert!(!said.contains(DANA), "the subject is never printed: {said}");
    wait_projected(&app, &omar).await;

    // The stream still holds no plain text, and still verifies.
    let raw = raw_stream(&app).await;
    for plain in [DANA, OMAR, DANA_REASON, OMAR_REASON] {
        assert!(!raw.contains(plain), "{plain} is stored sealed");
    }
    let out = pursight(&app, &["verify"]);
    assert!(out.status.success(), "{}", text(&out));

    // Read models: Dana is [erased], Omar is not.
    let after = sources(&app, &omar).await;
    assert_eq!(source(&after, &dana_source)["owner"], "[erased]");
    assert_eq!(source(&after, &dana_source)["registeredBy"], "[erased]");
    assert_eq!(source(&after, &dana_source)["updatedBy"], "[erased]");
    assert_eq!(source(&after, &dana_source)["description"], "[erased]");
    assert_eq!(
        source(&after, &omar_source)["description"],
        format!("Omar's orders, {DESCRIBED}")
    );
    assert_eq!(source(&after, &omar_source)["owner"], OMAR);
    assert_eq!(source(&after, &omar_source)["registeredBy"], OMAR);

    // history: opened values, and a cloudEvent that still carries its tokens.
    let events = history(&app, &omar, &dana_source).await;
    assert!(
        events.iter().all(|e| e["actor"] == "[erased]"),
        "{events:?}"
    );
    let archived = events
        .iter()
        .find(|e| e["name"] == "SourceArchived")
        .unwrap();
    assert_eq!(archived["data"]["reason"], "[erased]");
    assert!(archived["cloudEvent"]["sealed"]["/data/reason"]["token"]
        .as_str()
        .unwrap()
        .starts_with("pii:v1:"));
    assert!(archived["cloudEvent"]["sealed"]["/data/reason"]["salt"].is_null());
    let stored = eventlog::personal::stored_form(archived["cloudEvent"].clone()).unwrap();
    assert_eq!(eventlog::chain::compute_hash(&stored), archived["hash"]);
    let events = history(&app, &omar, &omar_source).await;
    let archived = events
        .iter()
        .find(|e| e["name"] == "SourceArchived")
        .unwrap();
    assert_eq!(archived["actor"], OMAR);
    assert_eq!(archived["data"]["reason"], OMAR_REASON);

    // auditTrail: Dana's entries read [erased]; the erasure itself is recorded.
    let entries = trail(&app, &omar).await;
    assert!(entries.iter().all(|e| e["actor"] != DANA), "{entries:?}");
    assert!(entries.iter().any(|e| e["actor"] == "[erased]"));
    assert!(entries.iter().any(|e| e["actor"] == OMAR));
    let erased: Vec<_> = entries
        .iter()
        .filter(|e| e["eventType"] == "io.pursight.PersonalDataErased.v1")
        .collect();
    assert_eq!(erased.len(), 1, "{entries:?}");

    // Another tenant of the same person is untouched by an erasure in acme.
    let globex = sources(&app, &dana_elsewhere).await;
    assert_eq!(source(&globex, &globex_source)["owner"], DANA);

    // Export and replay: [erased], no plain text of Dana's in acme, and the export verifies.
    let exported = export(&app, &dir.join("after.ndjson"));
    let acme_lines: Vec<&str> = exported
        .lines()
        .filter(|line| line.contains("\"tenant\":\"acme\""))
        .collect();
    assert!(acme_lines
        .iter()
        .all(|line| !line.contains(DANA) && !line.contains(DANA_REASON)));
    assert!(acme_lines.iter().any(|line| line.contains("[erased]")));
    assert!(acme_lines.iter().any(|line| line.contains(OMAR_REASON)));
    let out = pursight(&app, &["replay", "--tenant", "acme", "--format", "ndjson"]);
    assert!(out.status.success(), "{}", text(&out));
    let replayed = String::from_utf8_lossy(&out.stdout);
    assert!(!replayed.contains(DANA) && !replayed.contains(DANA_REASON));
    assert!(replayed.contains("[erased]") && replayed.contains(OMAR_REASON));

    // A shown value cannot be changed (nor an erased one "restored") without failing verify,
    // even with the trailer's (unkeyed) digest recomputed.
    for (shown, forged) in [
        ("\"[erased]\"", "\"someone else\""),
        (OMAR_REASON, "Omar did not"),
    ] {
        let forged = reseal_trailer(&exported.replacen(shown, forged, 1));
        let forged_path = dir.join("forged.ndjson");
        std::fs::write(&forged_path, forged).unwrap();
        let out = pursight(&app, &["verify", "--file", forged_path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            text(&out).contains("does not match its sealed token"),
            "{}",
            text(&out)
        );
    }

    // Idempotent: a second erasure changes nothing.
    let sequence = app.stream_sequence().await;
    let out = pursight(&app, &["erase", "--subject", DANA, "--tenant", "acme"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("already erased"), "{}", text(&out));
    assert_eq!(app.stream_sequence().await, sequence);

    // Dana may act again later: that is sealed under a new key, and reads.
    let again = register_and_archive(&app, &dana, "Dana's new orders", OMAR, "back again").await;
    wait_projected(&app, &dana).await;
    let now = sources(&app, &dana).await;
    assert_eq!(source(&now, &again)["registeredBy"], DANA);
    assert_eq!(source(&now, &dana_source)["registeredBy"], "[erased]");

    // Without --tenant: every tenant that holds a key of the subject (globex now; acme again,
    // for what Dana did after the first erasure).
    let out = pursight(&app, &["erase", "--subject", DANA, "--no-rebuild"]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("tenant globex: destroyed 1 data key"),
        "{said}"
    );
    assert!(said.contains("tenant acme: destroyed 1 data key"), "{said}");
    assert!(said.contains("pursight rebuild NAME"), "{said}");
    let out = pursight(&app, &["rebuild", "data_sources"]);
    assert!(out.status.success(), "{}", text(&out));
    let globex = sources(&app, &dana_elsewhere).await;
    assert_eq!(source(&globex, &globex_source)["owner"], "[erased]");
    let now = sources(&app, &omar).await;
    assert_eq!(source(&now, &again)["registeredBy"], "[erased]");
    assert_eq!(source(&now, &again)["owner"], OMAR);

    std::fs::remove_dir_all(&dir).ok();
    app.stop().await;
}

const SHOP: &str = r#"
CREATE SCHEMA shop;
CREATE TABLE shop.customers (
    id    serial PRIMARY KEY,
    email text NOT NULL
);
INSERT INTO shop.customers (email)
SELECT 'customer' || g || '@shop.example' FROM generate_series(1, 60) AS g;
"#;

const DANA_NOTE: &str = "Dana checked every address by hand";
const DANA_DESCRIPTION: &str = "Customer addresses, curated by Dana";

async fn gql_ok(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let response = app.gql(Some(token), query, variables).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"].clone()
}

/// The catalog's copies: an asset's own owner and description, a label's reviewer and note.
async fn asset_and_label(app: &TestApp, token: &str, asset: &str) -> (Value, Value) {
    let shown = gql_ok(
        app,
        token,
        "query($a: ID!) { asset(id: $a) { owner description } columnLabels(assetId: $a) { column label status reviewedBy reviewNote } }",
        json!({ "a": asset }),
    )
    .await;
    let label = shown["columnLabels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["column"] == "email" && l["status"] == "confirmed")
        .cloned()
        .unwrap_or(Value::Null);
    (shown["asset"].clone(), label)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erased_owner_and_reviewer_read_as_erased_in_the_rebuilt_catalog() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(SHOP, "shop-secret-erasure-4d1").await;
    let dana = token_for(DANA, "acme");
    let source = register_and_scan(&app, &dana, db.input()).await;
    wait_projected(&app, &dana).await;
    let labels = gql_ok(
        &app,
        &dana,
        "query($s: ID!) { columnLabels(sourceId: $s) { assetId column label } }",
        json!({ "s": source }),
    )
    .await;
    let email = labels["columnLabels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["column"] == "email")
        .unwrap_or_else(|| panic!("the email column is labelled: {labels}"))
        .clone();
    let asset = email["assetId"].as_str().unwrap().to_owned();

    // Dana owns the asset and confirms the label with a note.
    gql_ok(
        &app,
        &dana,
        "mutation($a: ID!, $o: String, $d: String) { updateAssetMetadata(assetId: $a, owner: $o, description: $d, waitForProjection: true) { projected } }",
        json!({ "a": asset, "o": DANA, "d": DANA_DESCRIPTION }),
    )
    .await;
    // Omar changes only the tags: the event carries Dana's description over, still as her text.
    let omar = token_for(OMAR, "acme");
    gql_ok(
        &app,
        &omar,
        "mutation($a: ID!) { updateAssetMetadata(assetId: $a, tags: [\"purpose:billing\"], waitForProjection: true) { projected } }",
        json!({ "a": asset }),
    )
    .await;
    let confirmed = gql_ok(
        &app,
        &dana,
        "mutation($a: ID!, $l: String!, $n: String) { confirmClassification(assetId: $a, column: \"email\", label: $l, note: $n) { recorded } }",
        json!({ "a": asset, "l": email["label"], "n": DANA_NOTE }),
    )
    .await;
    assert_eq!(confirmed["confirmClassification"]["recorded"], true);
    wait_projected(&app, &dana).await;
    let (shown, label) = asset_and_label(&app, &dana, &asset).await;
    assert_eq!(shown["owner"], DANA);
    assert_eq!(shown["description"], DANA_DESCRIPTION);
    assert_eq!(label["reviewedBy"], DANA, "{label}");
    assert_eq!(label["reviewNote"], DANA_NOTE, "{label}");
    let raw = raw_stream(&app).await;
    assert!(!raw.contains(DANA) && !raw.contains(DANA_NOTE) && !raw.contains(DANA_DESCRIPTION));

    let out = pursight(&app, &["erase", "--subject", DANA, "--tenant", "acme"]);
    assert!(out.status.success(), "{}", text(&out));
    let (shown, label) = asset_and_label(&app, &dana, &asset).await;
    assert_eq!(shown["owner"], "[erased]");
    assert_eq!(
        shown["description"], "[erased]",
        "Dana's description, carried over by Omar's change, is erased with her"
    );
    assert_eq!(label["reviewedBy"], "[erased]", "{label}");
    assert_eq!(label["reviewNote"], "[erased]", "{label}");
    let out = pursight(&app, &["verify"]);
    assert!(out.status.success(), "{}", text(&out));

    db.remove().await;
    app.stop().await;
}

const ERIN: &str = "erin.erasure@example.test";
const ERIN_REASON: &str = "Erin paused globex for the billing review";
const DEFINITION: &str = "Someone who bought from us, as Omar wrote it";
const GRANT: &str = "mutation($s: String!, $r: String!) { grantRole(subject: $s, role: $r, waitForProjection: true) { projected } }";
const ROLES: &str = "{ roles { name subjects } }";

fn subjects_of(roles: &Value, role: &str) -> Vec<String> {
    roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == role)
        .unwrap()["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The key rows of the test's database, as a backup would hold them.
async fn key_rows(pool: &sqlx::PgPool) -> Vec<(uuid::Uuid, String, String, Option<Vec<u8>>)> {
    sqlx::query_as(
        "SELECT key_id, tenant_id, subject_digest, wrapped_key FROM personal_keys ORDER BY key_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// A backup of `personal_keys` restored: the saved rows of `keys` put back as they were.
async fn restore_keys(
    pool: &sqlx::PgPool,
    saved: &[(uuid::Uuid, String, String, Option<Vec<u8>>)],
    keys: &[uuid::Uuid],
) {
    for (id, tenant, digest, wrapped) in saved.iter().filter(|row| keys.contains(&row.0)) {
        sqlx::query("DELETE FROM personal_keys WHERE key_id = $1")
            .bind(id)
            .execute(pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO personal_keys (key_id, tenant_id, subject_digest, wrapped_key) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(tenant)
        .bind(digest)
        .bind(wrapped)
        .execute(pool)
        .await
        .unwrap();
    }
}

async fn live_keys(pool: &sqlx::PgPool, keys: &[uuid::Uuid]) -> i64 {
    let (live,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM personal_keys WHERE key_id = ANY($1) AND erased_at IS NULL",
    )
    .bind(keys)
    .fetch_one(pool)
    .await
    .unwrap();
    live
}

fn replayed(app: &TestApp, tenant: &str) -> String {
    let out = pursight(app, &["replay", "--tenant", tenant, "--format", "ndjson"]);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erased_grantee_term_owner_and_tenant_operator_read_as_erased_and_hold_no_role() {
    let app = TestApp::spawn().await;
    let omar = token_for(OMAR, "acme");
    let erin = issue_token(
        SECRET,
        ERIN,
        &TenantId::parse("acme").unwrap(),
        &[Role::Viewer],
        3600,
    );
    // Erin, a viewer, is refused a mutation (recorded with her as actor); Omar is refused a
    // revocation that names her.
    let refused = app
        .gql(
            Some(&erin),
            "mutation { defineRole(role: \"erins_role\", permissions: [\"asset:read\"]) { version } }",
            json!({}),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    let refused = app
        .gql(
            Some(&omar),
            "mutation($s: String!) { revokeRole(subject: $s, role: \"viewer\") { version } }",
            json!({ "s": ERIN }),
        )
        .await;
    assert!(!refused["errors"].is_null(), "{refused}");
    let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    let naming_erin = |pool: sqlx::PgPool| async move {
        let (rows,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM audit_refusals WHERE actor = $1 OR strpos(reason, $1) > 0",
        )
        .bind(ERIN)
        .fetch_one(&pool)
        .await
        .unwrap();
        rows
    };
    assert_eq!(naming_erin(pool.clone()).await, 2);
    // Erin is granted admin; a term names her as an owner; she suspends globex as operator.
    gql_ok(&app, &omar, GRANT, json!({ "s": ERIN, "r": "admin" })).await;
    let term = gql_ok(
        &app,
        &omar,
        "mutation($n: String!, $i: GlossaryTermInput!) { defineGlossaryTerm(name: $n, input: $i, waitForProjection: true) { termId } }",
        json!({ "n": "Customer", "i": {
            "definition": DEFINITION,
            "owners": [
                { "name": ERIN, "kind": "PERSON", "type": "STEWARD" },
                { "name": "Sales", "kind": "TEAM", "type": "BUSINESS" }
            ]
        }}),
    )
    .await["defineGlossaryTerm"]["termId"]
        .as_str()
        .unwrap()
        .to_owned();
    for args in [
        vec!["tenant", "create", "globex", "--operator", ERIN],
        vec![
            "tenant",
            "suspend",
            "globex",
            "--reason",
            ERIN_REASON,
            "--operator",
            ERIN,
        ],
    ] {
        let out = pursight(&app, &args);
        assert!(out.status.success(), "{}", text(&out));
    }
    const TERM: &str =
        "query($id: ID!) { glossaryTerm(id: $id) { definition owners { name kind } } }";
    // Sorted: the listing's order follows the names.
    let owners = |shown: &Value| -> Vec<String> {
        let mut names: Vec<String> = shown["glossaryTerm"]["owners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    let shown = gql_ok(&app, &omar, TERM, json!({ "id": term })).await;
    assert_eq!(owners(&shown), ["Sales", ERIN]);
    // The grant authorises Erin's viewer token to what admins may do.
    let roles = gql_ok(&app, &erin, ROLES, json!({})).await;
    assert_eq!(subjects_of(&roles, "admin"), [ERIN]);
    let out = pursight(&app, &["tenant", "list"]);
    assert!(text(&out).contains(ERIN_REASON), "{}", text(&out));

    // Never plain text on the stream: grant subject, owner, operator, reason, definition.
    let raw = raw_stream(&app).await;
    for plain in [ERIN, ERIN_REASON, DEFINITION] {
        assert!(!raw.contains(plain), "{plain} is stored sealed");
    }
    let saved = key_rows(&pool).await;

    // Erase Erin everywhere (acme: grant subject and owner; globex: operator and reason).
    let out = pursight(&app, &["erase", "--subject", ERIN]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("tenant acme: destroyed 1 data key"), "{said}");
    assert!(
        said.contains("tenant globex: destroyed 1 data key"),
        "{said}"
    );
    assert!(!said.contains(ERIN), "{said}");
    let erased: Vec<uuid::Uuid> = key_rows(&pool)
        .await
        .into_iter()
        .filter(|row| row.3.is_none())
        .map(|row| row.0)
        .collect();
    assert_eq!(erased.len(), 2);
    assert_eq!(naming_erin(pool.clone()).await, 0, "refusals blanked");

    // The grant names nobody now: Erin's token is a viewer's again, and nobody holds it.
    let refused = app.gql(Some(&erin), ROLES, json!({})).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    let roles = gql_ok(&app, &omar, ROLES, json!({})).await;
    assert!(subjects_of(&roles, "admin").is_empty(), "{roles}");
    // The term's owner reads [erased]; Omar's definition (sealed under his key) still reads.
    let shown = gql_ok(&app, &omar, TERM, json!({ "id": term })).await;
    assert_eq!(owners(&shown), ["Sales", "[erased]"]);
    assert_eq!(shown["glossaryTerm"]["definition"], DEFINITION);
    // The tenant's operator and reason read [erased].
    let out = pursight(&app, &["tenant", "list"]);
    let listed = text(&out);
    assert!(out.status.success(), "{listed}");
    assert!(
        !listed.contains(ERIN_REASON) && listed.contains("[erased]"),
        "{listed}"
    );
    // Replay, export and verify.
    for tenant in ["acme", "globex"] {
        let replay = replayed(&app, tenant);
        assert!(
            !replay.contains(ERIN) && !replay.contains(ERIN_REASON),
            "{replay}"
        );
        assert!(replay.contains("[erased]"));
    }
    let dir = std::env::temp_dir().join(format!("pursight-erasure-{}", app.prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let exported = export(&app, &dir.join("erin.ndjson"));
    assert!(!exported.contains(ERIN) && !exported.contains(ERIN_REASON));
    let out = pursight(&app, &["verify"]);
    assert!(out.status.success(), "{}", text(&out));

    // A backup of the key table restored brings the keys back, and the data with them...
    restore_keys(&pool, &saved, &erased).await;
    assert_eq!(live_keys(&pool, &erased).await, 2);
    assert!(replayed(&app, "globex").contains(ERIN_REASON));
    // (a restored read-model database brings Erin back as the actor of her refusal, too)
    sqlx::query("UPDATE audit_refusals SET actor = $1 WHERE actor = '[erased]'")
        .bind(ERIN)
        .execute(&pool)
        .await
        .unwrap();
    // ...until the recorded erasures are applied again: at the start of a service,
    let sibling = app.sibling().await;
    assert_eq!(live_keys(&pool, &erased).await, 0);
    assert_eq!(naming_erin(pool.clone()).await, 0);
    sibling.shutdown_handle().shutdown();
    drop(sibling);
    assert!(!replayed(&app, "globex").contains(ERIN_REASON));
    // and by `pursight erase --reapply`.
    restore_keys(&pool, &saved, &erased).await;
    let out = pursight(&app, &["erase", "--reapply"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("2 restored key(s) destroyed again"),
        "{}",
        text(&out)
    );
    assert_eq!(live_keys(&pool, &erased).await, 0);
    for tenant in ["acme", "globex"] {
        let replay = replayed(&app, tenant);
        assert!(!replay.contains(ERIN) && !replay.contains(ERIN_REASON));
    }
    let shown = gql_ok(&app, &omar, TERM, json!({ "id": term })).await;
    assert_eq!(owners(&shown), ["Sales", "[erased]"]);
    // Nothing to re-apply: nothing changes.
    let out = pursight(&app, &["erase", "--reapply"]);
    assert!(
        text(&out).contains("0 restored key(s) destroyed again"),
        "{}",
        text(&out)
    );

    // Granted anew, Erin holds the role again (under a new key).
    gql_ok(&app, &omar, GRANT, json!({ "s": ERIN, "r": "admin" })).await;
    let roles = gql_ok(&app, &erin, ROLES, json!({})).await;
    assert_eq!(subjects_of(&roles, "admin"), [ERIN]);

    pool.close().await;
    std::fs::remove_dir_all(&dir).ok();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn aggregate_snapshots_keep_personal_values_sealed_and_erase_purges_them() {
    use commands::{CommandContext, CommandHandler};
    use domain::access::Permission;
    use domain::access_policy::{access_policy_id, AccessPolicy, AccessPolicyCommand};
    use domain::Aggregate;
    let app = TestApp::spawn().await;
    let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    let store = support_store_with_keys(&app, &pool).await;
    // A snapshot after every second event, so three grants leave one.
    let handler = CommandHandler::new(store.clone()).with_snapshot_every(2);
    let tenant = TenantId::parse("acme").unwrap();
    // A context per command: one command id each.
    let ctx = || CommandContext::new(tenant.clone(), OMAR, vec![Role::Admin], None);
    let id = access_policy_id(&tenant);
    let grantees = ["ana.snap@example.test", ERIN, "ivo.snap@example.test"];
    for subject in grantees {
        handler
            .execute::<AccessPolicy>(
                &ctx(),
                Permission::ManageRoles,
                id,
                AccessPolicyCommand::GrantRole {
                    subject: subject.into(),
                    role: "viewer".into(),
                },
            )
            .await
            .unwrap();
    }
    let snapshot = store
        .load_snapshot(&tenant, AccessPolicy::NAME, &id)
        .await
        .expect("a snapshot was saved");
    let kept = snapshot.state.to_string();
    for subject in grantees {
        assert!(!kept.contains(subject), "{subject} is sealed in {kept}");
    }
    assert!(kept.contains("pii:v1:"), "{kept}");
    // Loaded through the snapshot, the state reads the subjects (a revocation finds its grant).
    let state = handler
        .state::<AccessPolicy>(&ctx(), Permission::ManageRoles, id)
        .await
        .unwrap();
    assert_eq!(state.grants["viewer"].len(), 3);
    handler
        .execute::<AccessPolicy>(
            &ctx(),
            Permission::ManageRoles,
            id,
            AccessPolicyCommand::RevokeRole {
                subject: grantees[0].into(),
                role: "viewer".into(),
            },
        )
        .await
        .unwrap();

    // Erasing Erin purges the tenant's snapshots; her grant is held by nobody afterwards.
    let out = pursight(&app, &["erase", "--subject", ERIN, "--tenant", "acme"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("aggregate snapshot(s) purged"),
        "{}",
        text(&out)
    );
    assert!(store
        .load_snapshot(&tenant, AccessPolicy::NAME, &id)
        .await
        .is_none());
    let state = handler
        .state::<AccessPolicy>(&ctx(), Permission::ManageRoles, id)
        .await
        .unwrap();
    assert_eq!(
        state.grants["viewer"].iter().collect::<Vec<_>>(),
        [&grantees[2].to_owned()]
    );
    pool.close().await;
    app.stop().await;
}

/// The test's event store, sealing with the service's key table.
async fn support_store_with_keys(app: &TestApp, pool: &sqlx::PgPool) -> eventlog::EventStore {
    use projections::personal_keys::{MasterKey, PgKeyring};
    let (master, _) = MasterKey::from_env().unwrap();
    app.event_store()
        .await
        .with_keyring(std::sync::Arc::new(PgKeyring::new(pool.clone(), master)))
}
