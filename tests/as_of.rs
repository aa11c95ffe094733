//! `pursight replay --as-of T --into SCHEMA`: an asset changed three times is read back as it
//! stood after each change, from read models materialised at that time; another tenant's later
//! events stay out of a tenant's replay; hostile or taken schema names are refused before
//! anything is written.

mod support;

use domain::access::Role;
use serde_json::json;
use sqlx::PgPool;
use support::*;

const SECRET_VALUE: &str = "as-of-secret-5e02";

#[tokio::test(flavor = "multi_thread")]
async fn an_asset_changed_three_times_is_read_back_as_it_stood_at_each_time() {
    let app = TestApp::spawn().await;
    let acme = TestApp::token("acme", &[Role::Admin]);
    let globex = TestApp::token("globex", &[Role::Admin]);
    let db = SourceDb::create(CARD_SHOP, SECRET_VALUE).await;
    let source = register_and_scan(&app, &acme, db.input()).await;
    let assets = app
        .gql(
            Some(&acme),
            "query($id: ID!) { assets(sourceId: $id) { id path } }",
            json!({ "id": source }),
        )
        .await;
    let asset = assets["data"]["assets"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{assets}"))
        .to_owned();

    // Three changes, the time taken after each one is recorded.
    let mut times = Vec::new();
    for i in 1..=3 {
        let changed = app
            .gql(
                Some(&acme),
                "mutation($id: ID!, $d: String!, $o: String!) { updateAssetMetadata(assetId: $id, description: $d, owner: $o, waitForProjection: true) { version } }",
                json!({ "id": asset, "d": format!("description {i}"), "o": format!("team-{i}") }),
            )
            .await;
        assert!(changed["errors"].is_null(), "{changed}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        times.push(chrono::Utc::now());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if i == 1 {
            // Another tenant's source, after the first change.
            let other = app
                .gql(
                    Some(&globex),
                    "mutation($input: DataSourceInput!) { registerDataSource(input: $input) { aggregateId } }",
                    json!({ "input": postgres_source("globex after the first change") }),
                )
                .await;
            assert!(other["errors"].is_null(), "{other}");
        }
    }

    let pool = PgPool::connect(&app.database_url).await.unwrap();
    for (i, at) in times.iter().enumerate() {
        let schema = format!("audit_as_of_{}", i + 1);
        let output = pursight(
            &app,
            &[
                "replay",
                "--as-of",
                &at.to_rfc3339(),
                "--into",
                &schema,
                "--tenant",
                "acme",
            ],
        );
        let said = text(&output);
        assert!(output.status.success(), "{said}");
        assert!(said.contains(&format!("in schema {schema}")), "{said}");
        let (description, owner): (Option<String>, Option<String>) = sqlx::query_as(&format!(
            "SELECT description, owner FROM {schema}.assets WHERE id = $1::uuid"
        ))
        .bind(&asset)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            description.as_deref(),
            Some(format!("description {}", i + 1).as_str())
        );
        assert_eq!(owner.as_deref(), Some(format!("team-{}", i + 1).as_str()));
        // Only acme's events: globex's source is in no replay of acme.
        let tenants: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT DISTINCT tenant_id FROM {schema}.data_sources"
        ))
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(tenants, [("acme".to_owned(),)]);
        // Every read model is there (the violations table exists, empty or not).
        for table in [
            "audit_log",
            "edges",
            "violations",
            "source_health",
            "column_labels",
            "grants",
        ] {
            sqlx::query(&format!("SELECT count(*) FROM {schema}.{table}"))
                .fetch_one(&pool)
                .await
                .unwrap_or_else(|e| panic!("{schema}.{table}: {e}"));
        }
    }
    // Without --tenant, all tenants: globex's source registered after the first change.
    let all = pursight(
        &app,
        &[
            "replay",
            "--as-of",
            &times[2].to_rfc3339(),
            "--into",
            "audit_all",
        ],
    );
    assert!(all.status.success(), "{}", text(&all));
    let (count,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM audit_all.data_sources WHERE tenant_id = 'globex'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(count, 1);
    // Before anything happened: the read models exist and are empty.
    let before = pursight(
        &app,
        &[
            "replay",
            "--as-of",
            "2000-01-01T00:00:00Z",
            "--into",
            "audit_before",
        ],
    );
    assert!(before.status.success(), "{}", text(&before));
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM audit_before.assets")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0);

    // Taken and hostile names are refused, and the live read models are untouched.
    let live_before: (i64,) = sqlx::query_as("SELECT count(*) FROM rm_catalog.assets")
        .fetch_one(&pool)
        .await
        .unwrap();
    for (schema, reason) in [
        ("rm_catalog", "reserved"),
        ("public", "reserved"),
        ("pg_temp", "reserved"),
        ("x; DROP SCHEMA rm_catalog CASCADE", "a-z, 0-9 and _"),
        ("Audit", "a-z, 0-9 and _"),
        ("audit_as_of_1", "exists"),
    ] {
        let refused = pursight(
            &app,
            &[
                "replay",
                "--as-of",
                &times[0].to_rfc3339(),
                "--into",
                schema,
            ],
        );
        assert!(!refused.status.success(), "{schema}");
        assert!(
            text(&refused).contains(reason),
            "{schema}: {}",
            text(&refused)
        );
    }
    let live_after: (i64,) = sqlx::query_as("SELECT count(*) FROM rm_catalog.assets")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(live_before, live_after);
    // --replace materialises again over an existing replay: now as of the third change.
    let replaced = pursight(
        &app,
        &[
            "replay",
            "--as-of",
            &times[2].to_rfc3339(),
            "--into",
            "audit_as_of_1",
            "--replace",
        ],
    );
    assert!(replaced.status.success(), "{}", text(&replaced));
    let (description,): (Option<String>,) =
        sqlx::query_as("SELECT description FROM audit_as_of_1.assets WHERE id = $1::uuid")
            .bind(&asset)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(description.as_deref(), Some("description 3"));
    // The replay leaves no checkpoint or parked event behind: readiness is as before.
    let (left,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM public.projection_checkpoints WHERE name LIKE 'as_of:%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left, 0);
    pool.close().await;
    app.stop().await;
    db.remove().await;
}
