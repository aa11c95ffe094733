//! The bounds of search against the machine's PostgreSQL: a query matching more documents than a
//! bounded search ranks and counts still finds the asset named by its words (a name candidate,
//! though it lies past the first matches in index order), marks its facet counts inexact, and
//! reaches no other tenant; the unbounded search counts every match. Words matching most of a
//! large catalogue are ranked and counted over a pseudo-random sample, with an estimate of the
//! total; prefixes are searched as the lexicon's words. The database is the test's own and is
//! removed when it ends (also when it panics).

use projections::search::{self, Sample, Search, SearchFilters, MAX_COUNTED, MAX_RANKED};
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
    let mut search = Search {
        tsquery: search::tsquery(&expanded),
        name_key: terms.join(" "),
        filters: SearchFilters::default(),
        scope: None,
        bounded,
        sample: Sample::All,
    };
    // As the API does: the sample is chosen once per search.
    search.sample = search::sample(pool, tenant, &search).await.unwrap();
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

/// Inserts `n` documents `orders_<g>` with a `ledger_code` column (one in four described as
/// `archived`, one in twelve as `retired`, one in fifty as `disputed`) into `tenant`, then the table named `ledger`, and the words of all of them into
/// the tenant's lexicon.
async fn ledgers(pool: &PgPool, tenant: &str, n: i64) {
    sqlx::query(
        "INSERT INTO rm_catalog.search_documents (tenant_id, id, source_id, kind, name, name_key, path,
             removed, owner, tags, description, columns, labels, sensitivities, terms, document)
         SELECT $1, ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
                '00000000-0000-4000-8000-0000000000aa', CASE WHEN g % 4 = 0 THEN 'view' ELSE 'table' END,
                'orders_' || g, 'orders ' || g, 'db.s.orders_' || g, false, NULL, '[]', NULL,
                ARRAY['ledger_code'], '{}', '{}', '{}',
                setweight(to_tsvector('simple', 'orders ' || g), 'A')
                    || setweight(to_tsvector('simple', 'ledger code'), 'C')
                    || setweight(to_tsvector('simple', CASE WHEN g % 4 = 1 THEN 'archived' ELSE '' END), 'D')
                    || setweight(to_tsvector('simple', CASE WHEN g % 12 = 2 THEN 'retired' ELSE '' END), 'D')
                    || setweight(to_tsvector('simple', CASE WHEN g % 50 = 3 THEN 'disputed' ELSE '' END), 'D')
         FROM generate_series(1, $2::bigint) g",
    )
    .bind(tenant)
    .bind(n)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO rm_catalog.search_documents (tenant_id, id, source_id, kind, name, name_key, path,
             removed, owner, tags, description, columns, labels, sensitivities, terms, document)
         VALUES ($1, '00000000-0000-4000-8000-00000fffffff', '00000000-0000-4000-8000-0000000000aa',
                 'table', 'ledger', 'ledger', 'db.s.ledger', false, NULL, '[]', NULL, ARRAY['id'],
                 '{}', '{}', '{}', setweight(to_tsvector('simple', 'ledger'), 'A'))",
    )
    .bind(tenant)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO rm_catalog.search_words (tenant_id, word)
         SELECT DISTINCT $1, w FROM rm_catalog.search_documents d, unnest(tsvector_to_array(d.document)) w
         WHERE d.tenant_id = $1 AND char_length(w) >= 3 ON CONFLICT DO NOTHING",
    )
    .bind(tenant)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE rm_catalog.search_documents")
        .execute(pool)
        .await
        .unwrap();
}

async fn chosen(pool: &PgPool, tenant: &str, query: &str) -> Sample {
    let terms = search::terms(query);
    let expanded = search::expand(pool, tenant, &terms).await.unwrap();
    let search = Search {
        tsquery: search::tsquery(&expanded),
        name_key: terms.join(" "),
        bounded: true,
        ..Search::default()
    };
    search::sample(pool, tenant, &search).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn words_matching_most_of_a_large_catalogue_are_ranked_and_counted_over_a_sample() {
    let (pool, _guard) = prepared().await;
    let many = 60_000;
    ledgers(&pool, "acme", many).await;

    // Every document mentions `ledger`: bucket 0 (1/256) holds enough of them.
    assert_eq!(
        chosen(&pool, "acme", "ledger").await,
        Sample::TwoHundredFiftySixth
    );
    let (names, facets) = find(&pool, "acme", "ledg", true).await;
    assert_eq!(
        names[0], "ledger",
        "the named asset is a candidate: {names:?}"
    );
    assert!(!facets.exact);
    assert_eq!(facets.total, MAX_COUNTED + 1, "read as more than 2000");
    let estimate = facets.estimated_total.expect("a sample counted in full");
    assert!(
        (many / 2..=many * 2).contains(&estimate),
        "an estimate near {many}: {estimate}"
    );
    // The kinds' proportions survive the sampling (one in four is a view).
    let kinds = &facets.values["kind"];
    let count = |k: &str| kinds.iter().find(|(v, _)| v == k).map_or(0, |(_, n)| *n);
    let (views, tables) = (count("view"), count("table"));
    assert!(views > 0 && tables > 2 * views, "{kinds:?}");

    // A word in one document in four is ranked and counted over one sixty-fourth, one in twelve
    // over one sixteenth.
    assert_eq!(chosen(&pool, "acme", "archived").await, Sample::SixtyFourth);
    let (_, facets) = find(&pool, "acme", "archive", true).await;
    assert!(!facets.exact);
    let estimate = facets.estimated_total.unwrap();
    assert!((7_500..=30_000).contains(&estimate), "{estimate}");
    assert_eq!(chosen(&pool, "acme", "retired").await, Sample::Sixteenth);
    let (_, facets) = find(&pool, "acme", "retired", true).await;
    let estimate = facets.estimated_total.unwrap();
    assert!((2_500..=10_000).contains(&estimate), "{estimate}");
    // A word in one document in fifty (1 200 here) is ranked over one sixteenth too: its count
    // is an estimate, and reads as one (not as "more than 2000").
    assert_eq!(chosen(&pool, "acme", "disputed").await, Sample::Sixteenth);
    let (_, facets) = find(&pool, "acme", "disputed", true).await;
    assert!(!facets.exact);
    let estimate = facets.estimated_total.unwrap();
    assert!((600..=2_000).contains(&estimate), "{estimate}");
    assert_eq!(
        facets.total, estimate,
        "an estimate of 2000 or less is the total"
    );

    // Unbounded, every match is counted.
    let (names, facets) = find(&pool, "acme", "ledger", false).await;
    assert_eq!(names[0], "ledger");
    assert!(facets.exact);
    assert_eq!(facets.total, many + 1);
    assert_eq!(facets.estimated_total, Some(many + 1));

    // A narrow query is neither sampled nor inexact; its prefix finds the lexicon's words.
    assert_eq!(chosen(&pool, "acme", "orders 4242").await, Sample::All);
    let (names, facets) = find(&pool, "acme", "orders 4242", true).await;
    assert!(facets.exact);
    assert_eq!(facets.estimated_total, Some(facets.total));
    assert!(names.contains(&"orders_42420".to_owned()), "{names:?}");
    assert_eq!(names[0], "orders_4242", "{names:?}");

    // Another tenant's catalogue is not sampled for this one's words, and finds nothing.
    assert_eq!(chosen(&pool, "globex", "ledger").await, Sample::All);
    let (names, facets) = find(&pool, "globex", "ledger", true).await;
    assert!(names.is_empty());
    assert_eq!(facets.total, 0);
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prefixes_become_the_lexicons_words_and_stay_prefixes_without_them() {
    let (pool, _guard) = prepared().await;
    ledgers(&pool, "acme", 30).await;
    let terms = search::terms("ledg ord");
    let expanded = search::expand(&pool, "acme", &terms).await.unwrap();
    assert_eq!(
        search::tsquery(&expanded).unwrap(),
        "(ledger) & (orders)",
        "{expanded:?}"
    );
    // A prefix of more words than are expanded stays a prefix.
    sqlx::query(
        "INSERT INTO rm_catalog.search_words (tenant_id, word)
         SELECT 'acme', 'ordinal' || g FROM generate_series(1, $1::bigint) g",
    )
    .bind(search::EXPANSIONS)
    .execute(&pool)
    .await
    .unwrap();
    let expanded = search::expand(&pool, "acme", &terms).await.unwrap();
    assert_eq!(search::tsquery(&expanded).unwrap(), "(ledger) & (ord:*)");
    // Another tenant's lexicon is not this one's: its prefixes stay prefixes.
    let expanded = search::expand(&pool, "globex", &terms).await.unwrap();
    assert_eq!(search::tsquery(&expanded).unwrap(), "(ledg:*) & (ord:*)");
    // Every word must match: the table named `ledger` has no word starting with `ord`.
    let (names, facets) = find(&pool, "acme", "ledg ord", true).await;
    assert_eq!(facets.total, 30);
    assert!(!names.contains(&"ledger".to_owned()), "{names:?}");
    let (names, _) = find(&pool, "acme", "orders 7", true).await;
    assert_eq!(names[0], "orders_7");
    pool.close().await;
}
