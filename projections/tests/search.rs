//! The bounds of search against the machine's PostgreSQL: a query matching more documents than a
//! bounded search ranks and counts still finds the asset named by its words (a name candidate,
//! though it lies past the first matches in index order), marks its facet counts inexact, and
//! reaches no other tenant; the unbounded search counts every match. The database is the test's
//! own and is removed when it ends (also when it panics).

use projections::search::{self, Search, SearchFilters, MAX_COUNTED, MAX_RANKED};
use projections::{catalog::Catalog, compliance::Compliance, data_sources::DataSources};
use sqlx::PgPool;
use uuid::Uuid;

/// Drops the test's database when dropped.
struct Database(String);

impl Drop for Database {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = testkit::block_on_thread(move || async move {
            let _ = testkit::drop_postgres_database(&name).await;
        });
    }
}

async fn prepared() -> (PgPool, Database) {
    let name = format!(
        "pursight_test_{}",
        &Uuid::new_v4().simple().to_string()[..12]
    );
    let guard = Database(name.clone());
    let pool =
        projections::database::connect(&format!("postgres://postgres@127.0.0.1:5432/{name}"))
            .await
            .unwrap();
    projections::runner::prepare_schema(&pool, &Catalog, "rm_catalog")
        .await
        .unwrap();
    projections::runner::prepare_schema(&pool, &DataSources, "rm_data_sources")
        .await
        .unwrap();
    projections::runner::prepare_schema(&pool, &Compliance, "rm_compliance")
        .await
        .unwrap();
    (pool, guard)
}

async fn find(
    pool: &PgPool,
    tenant: &str,
    query: &str,
    bounded: bool,
) -> (Vec<String>, search::Facets) {
    let terms = search::terms(query);
    let expanded = search::expand(pool, tenant, &terms).await.unwrap();
    let search = Search {
        tsquery: search::tsquery(&expanded),
        name_key: terms.join(" "),
        filters: SearchFilters::default(),
        scope: None,
        bounded,
    };
    let hits = search::hits(pool, tenant, &search, None, 5).await.unwrap();
    let facets = search::facets(pool, tenant, &search).await.unwrap();
    (hits.into_iter().map(|h| h.name).collect(), facets)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broad_query_is_ranked_among_bounded_candidates_that_include_the_asset_it_names() {
    let (pool, _guard) = prepared().await;
    let many = MAX_RANKED.max(MAX_COUNTED) + 500;
    // `many` tables with a `ledger_code` column, then (last, past the first matches in index
    // order) the table named `ledger`.
    sqlx::query(
        "INSERT INTO rm_catalog.search_documents (tenant_id, id, source_id, kind, name, name_key, path,
             removed, owner, tags, description, columns, labels, sensitivities, terms, document)
         SELECT 'acme', ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
                '00000000-0000-4000-8000-0000000000aa', 'table', 'orders_' || g, 'orders ' || g,
                'db.s.orders_' || g, false, NULL, '[]', NULL, ARRAY['ledger_code'], '{}', '{}', '{}',
                setweight(to_tsvector('simple', 'orders ' || g), 'A')
                    || setweight(to_tsvector('simple', 'ledger code'), 'C')
         FROM generate_series(1, $1::bigint) g",
    )
    .bind(many)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO rm_catalog.search_documents (tenant_id, id, source_id, kind, name, name_key, path,
             removed, owner, tags, description, columns, labels, sensitivities, terms, document)
         VALUES ('acme', '00000000-0000-4000-8000-00000000ffff', '00000000-0000-4000-8000-0000000000aa',
                 'table', 'ledger', 'ledger', 'db.s.ledger', false, NULL, '[]', NULL, ARRAY['id'],
                 '{}', '{}', '{}', setweight(to_tsvector('simple', 'ledger'), 'A'))",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE rm_catalog.search_documents")
        .execute(&pool)
        .await
        .unwrap();

    let (names, facets) = find(&pool, "acme", "ledger", true).await;
    assert_eq!(names[0], "ledger", "{names:?}");
    assert!(!facets.exact);
    assert_eq!(facets.total, MAX_COUNTED + 1);
    let (names, facets) = find(&pool, "acme", "ledger", false).await;
    assert_eq!(names[0], "ledger", "{names:?}");
    assert!(facets.exact);
    assert_eq!(facets.total, many + 1);
    // A narrow query is exact either way.
    let (names, facets) = find(&pool, "acme", "orders 7", true).await;
    assert!(facets.exact);
    assert!(names.contains(&"orders_7".to_owned()), "{names:?}");
    // Another tenant finds and counts nothing, bounded or not.
    for bounded in [true, false] {
        let (names, facets) = find(&pool, "globex", "ledger", bounded).await;
        assert!(names.is_empty());
        assert_eq!(facets.total, 0);
    }
    pool.close().await;
}
