//! The `catalog` read model's column labels against the machine's PostgreSQL and NATS, when many
//! label commits of one asset are projected in one batch: classifications and suggestions are
//! queued and written by one multi-row upsert, so a revocation, a review or a second row for the
//! same (column, label) in the same batch must see them written first. The labels and the
//! asset's version end exactly as when the commits are applied one by one, and an identical
//! asset (same id, same columns, same labels) of another tenant in the same batch never mixes
//! with them. The test has its own stream and database, removed when it ends.

mod support;
use support::Env;

use domain::asset::{Asset, AssetCommand, ClassifierOutcome};
use domain::classification::{Candidate, ClassificationType, Label, Signal, Tier};
use domain::discovery::{
    AssetId, AssetKind, AssetPath, AssetSchema, ColumnSchema, StatisticsThreshold,
};
use domain::text::FreeText;
use domain::{Aggregate, AggregateId, TenantId};
use eventlog::StoredCommit;
use projections::catalog::{self, Catalog};
use projections::runner::{apply_commits, prepare_schema};
use projections::{ProjectionRunner, StatusBoard};
use tokio::sync::watch;

impl Env {
    /// The asset's version in its own stream (what `assets.version` must end at).
    async fn version(&self, tenant: &str) -> i64 {
        let tenant = TenantId::parse(tenant).unwrap();
        let history = self
            .store
            .load(&tenant, Asset::NAME, &asset_id())
            .await
            .unwrap();
        history.version() as i64
    }

    /// A tenant's label rows in `schema`, in key order: (column, label, status, confidence,
    /// reviewed by, review note).
    async fn labels(&self, schema: &str, tenant: &str) -> Vec<LabelRow> {
        sqlx::query_as(&format!(
            "SELECT column_name, label, status, confidence, reviewed_by, review_note
             FROM {schema}.column_labels WHERE tenant_id = $1 ORDER BY column_name, label"
        ))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    async fn asset_version(&self, schema: &str, tenant: &str) -> i64 {
        sqlx::query_scalar(&format!(
            "SELECT version FROM {schema}.assets WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant)
        .bind(asset_id().as_uuid())
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// Every row of the tables label events write, as JSON text, in key order.
    async fn dump(&self, schema: &str) -> Vec<String> {
        let mut rows = Vec::new();
        for (table, order) in [
            ("assets", "tenant_id, id"),
            ("column_labels", "tenant_id, asset_id, column_name, label"),
            ("search_documents", "tenant_id, id"),
        ] {
            let table_rows: Vec<(String,)> = sqlx::query_as(&format!(
                "SELECT '{table} ' || to_jsonb(t)::text FROM {schema}.{table} t ORDER BY {order}"
            ))
            .fetch_all(&self.pool)
            .await
            .unwrap();
            rows.extend(table_rows.into_iter().map(|(r,)| r));
        }
        rows
    }
}

type LabelRow = (String, String, String, f64, Option<String>, Option<String>);

// The same source and path in both tenants: the same asset id, so the label rows of the two
// tenants have the same (asset, column, label) and differ only in their tenant.
fn source_id() -> AggregateId {
    AggregateId::parse("0192f0c4-1111-7000-8000-0000000000aa").unwrap()
}

fn path() -> AssetPath {
    AssetPath::parse("shop.public.customers").unwrap()
}

fn asset_id() -> AggregateId {
    AssetId::for_path(source_id(), &path())
}

fn discover() -> AssetCommand {
    let mut schema = AssetSchema::new(AssetKind::Table, path());
    for (ordinal, column) in ["email", "phone", "notes"].into_iter().enumerate() {
        schema
            .columns
            .push(ColumnSchema::new(column, "text", ordinal as u32 + 1));
    }
    AssetCommand::RecordDiscovery {
        asset_id: asset_id(),
        source_id: source_id(),
        scan_id: AggregateId::parse("0192f0c4-2222-7000-8000-0000000000aa").unwrap(),
        schema,
        statistics_threshold: StatisticsThreshold::DEFAULT,
    }
}

fn email() -> Label {
    ClassificationType::EmailAddress.into()
}

fn phone() -> Label {
    ClassificationType::PhoneNumber.into()
}

fn name() -> Label {
    ClassificationType::PersonName.into()
}

/// What the classifier concluded for one (column, label), as the classify handler builds it.
fn outcome(column: &str, label: Label, confidence: f64, applied: bool) -> ClassifierOutcome {
    ClassifierOutcome {
        column: column.into(),
        candidate: Candidate {
            label,
            confidence,
            signals: vec![Signal {
                tier: Tier::Rule,
                detail: format!("column name matches `{column}`"),
                weight: confidence,
            }],
        },
        applied,
    }
}

/// A classification of `columns` that found `outcomes` (labels of those columns it no longer
/// finds are revoked by the aggregate).
fn classify(columns: &[&str], outcomes: Vec<ClassifierOutcome>) -> AssetCommand {
    AssetCommand::RecordClassification {
        profiles: None,
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        outcomes,
        rule_set: None,
    }
}

fn row(
    column: &str,
    label: &Label,
    status: &str,
    confidence: f64,
    review: Option<&str>,
) -> LabelRow {
    (
        column.into(),
        label.as_str().into(),
        status.into(),
        confidence,
        review.map(|_| "officer@acme".to_owned()),
        review.map(str::to_owned),
    )
}

#[tokio::test]
async fn label_commits_projected_in_one_batch_end_as_applied_one_by_one_per_tenant() {
    let env = Env::new().await;
    let id = asset_id();

    // Every commit is appended before the runner starts, so that they arrive as one batch.
    env.run::<Asset>("acme", id, discover()).await;
    env.run::<Asset>("globex", id, discover()).await;
    // Three queued rows: EMAIL applied, PHONE and PERSON_NAME suggested.
    env.run::<Asset>(
        "acme",
        id,
        classify(
            &["email", "phone", "notes"],
            vec![
                outcome("email", email(), 0.91, true),
                outcome("phone", phone(), 0.55, false),
                outcome("notes", name(), 0.5, false),
            ],
        ),
    )
    .await;
    // The other tenant's identical keys, queued beside acme's.
    env.run::<Asset>(
        "globex",
        id,
        classify(
            &["email", "phone"],
            vec![
                outcome("email", email(), 0.7, true),
                outcome("phone", phone(), 0.4, false),
            ],
        ),
    )
    .await;
    // A review of a row still queued: it must find the row written.
    env.run::<Asset>(
        "acme",
        id,
        AssetCommand::ConfirmClassification {
            column: "phone".into(),
            label: phone(),
            note: Some(FreeText::parse("a reviewer checked").unwrap()),
        },
    )
    .await;
    // Revoked, suggested again, then applied again with other confidences: the suggestion and
    // the application are two queued rows of one key in a row, written one after the other.
    env.run::<Asset>(
        "acme",
        id,
        AssetCommand::RevokeClassification {
            column: "email".into(),
            label: email(),
            reason: "the column holds login names".into(),
        },
    )
    .await;
    env.run::<Asset>(
        "acme",
        id,
        classify(&["email"], vec![outcome("email", email(), 0.6, false)]),
    )
    .await;
    // The suggestion on `notes` becomes applied in the same commit: queued behind EMAIL.
    env.run::<Asset>(
        "acme",
        id,
        classify(
            &["email", "notes"],
            vec![
                outcome("email", email(), 0.97, true),
                outcome("notes", name(), 0.85, true),
            ],
        ),
    )
    .await;
    env.run::<Asset>(
        "globex",
        id,
        AssetCommand::RejectClassification {
            column: "phone".into(),
            label: phone(),
            reason: Some(FreeText::parse("extension numbers").unwrap()),
        },
    )
    .await;
    // A revocation of a row still queued: the row must not come back when the batch ends.
    let last = env
        .run::<Asset>(
            "acme",
            id,
            AssetCommand::RevokeClassification {
                column: "notes".into(),
                label: name(),
                reason: "free text".into(),
            },
        )
        .await;
    assert_eq!(last, env.store.last_sequence().await.unwrap());

    let expected_acme = vec![
        row("email", &email(), "applied", 0.97, None),
        row(
            "phone",
            &phone(),
            "confirmed",
            0.55,
            Some("a reviewer checked"),
        ),
    ];
    let expected_globex = vec![
        row("email", &email(), "applied", 0.7, None),
        row(
            "phone",
            &phone(),
            "rejected",
            0.4,
            Some("extension numbers"),
        ),
    ];
    let (acme_version, globex_version) = (env.version("acme").await, env.version("globex").await);
    // acme: discovery, three labels, confirmation, revocation, suggestion, two labels,
    // revocation; globex: discovery, two labels, rejection.
    assert_eq!((acme_version, globex_version), (10, 4));

    let (stop, stopped) = watch::channel(false);
    let runner = tokio::spawn(
        ProjectionRunner::new(
            Catalog,
            env.store.clone(),
            env.pool.clone(),
            StatusBoard::default(),
        )
        .run(stopped),
    );
    env.wait_for(catalog::NAME, last).await;
    let parked: Vec<(String,)> = sqlx::query_as("SELECT error FROM public.projection_parked")
        .fetch_all(&env.pool)
        .await
        .unwrap();
    assert!(parked.is_empty(), "{parked:?}");
    assert_eq!(env.labels("rm_catalog", "acme").await, expected_acme);
    assert_eq!(env.labels("rm_catalog", "globex").await, expected_globex);
    assert_eq!(env.asset_version("rm_catalog", "acme").await, acme_version);
    assert_eq!(
        env.asset_version("rm_catalog", "globex").await,
        globex_version
    );
    // The runner's lead is over before the same commits are applied beside it below.
    stop.send(true).unwrap();
    runner.await.unwrap().unwrap();

    // The runner's batch is whatever has arrived, which NATS may still have split: the same
    // commits applied as one batch for certain, and one commit per batch, into schemas of their
    // own, give exactly the same rows.
    let mut commits: Vec<StoredCommit> = Vec::new();
    for sequence in 1..=last {
        commits.push(env.store.commit_at(sequence).await.unwrap());
    }
    for (schema, batches) in [
        ("rm_batched", vec![&commits[..]]),
        ("rm_one_by_one", commits.chunks(1).collect::<Vec<_>>()),
    ] {
        prepare_schema(&env.pool, &Catalog, schema).await.unwrap();
        for batch in batches {
            let mut tx = env.pool.begin().await.unwrap();
            let checkpoint = format!("{schema}_catalog");
            apply_commits(&mut tx, &Catalog, schema, &checkpoint, batch.to_vec())
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    }
    assert_eq!(env.labels("rm_batched", "acme").await, expected_acme);
    assert_eq!(env.labels("rm_batched", "globex").await, expected_globex);
    assert_eq!(env.asset_version("rm_batched", "acme").await, acme_version);
    assert_eq!(
        env.asset_version("rm_batched", "globex").await,
        globex_version
    );
    let one_by_one = env.dump("rm_one_by_one").await;
    assert!(one_by_one.len() >= 8, "{one_by_one:?}");
    assert_eq!(env.dump("rm_batched").await, one_by_one);
    assert_eq!(env.dump("rm_catalog").await, one_by_one);
}
