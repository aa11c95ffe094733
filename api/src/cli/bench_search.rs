//! `pursight bench search`: ranked search with facet counts, and `assets` browsing at depth, over
//! N synthetic assets in the real read-model tables, through the calls the API makes.
//!
//! The in-process service starts on a scratch stream and read-model database (its catalog
//! projection creates the tables). The assets, their columns, tags, owners and column labels are
//! then bulk-loaded with SQL into `rm_catalog.assets` and `rm_catalog.column_labels` (replaying
//! a million discoveries through NATS would take hours on a small machine), and their search
//! documents are written by the projection's own [`projections::search::refresh`] (the GIN index
//! is built after the load, as a rebuild would). Then a mixed set of queries runs through the
//! `search` resolver's code ([`crate::graphql::search::run`], then the facet counts), `assets`
//! pages are read after paths at random depths ([`projections::catalog::assets`]), and, as the
//! baseline, the same words through the substring filter `assets(search:)` offered before.
//! Finally a labeled ranking set (invented assets in a tenant of their own) gives precision@5.
//! Everything is named with a random run id and removed at the end.

use super::discovery::{peak_rss_mb, scratch_app, with_scratch, Scratch, Server};
use crate::graphql::search::run as search;
use crate::settings::{DatabaseArgs, StoreArgs};
use clap::Args;
use domain::classification::ClassificationType;
use eventlog::{EventStore, EventStoreConfig, StreamNames};
use projections::catalog::{self, AssetFilter};
use projections::search::SearchFilters;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Synthetic assets (tables and views with 8 columns, 0 to 2 tags, an owner for most, 0 to 3
    /// labels for two thirds of them).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1_000..=5_000_000))]
    pub assets: u64,
    /// Timed searches (and as many `assets` pages).
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u32).range(20..=100_000))]
    pub queries: u32,
}

const TENANT: &str = "bench";
const RANKING_TENANT: &str = "bench-ranking";
/// Assets loaded (and documents written) per statement.
const CHUNK: u64 = 20_000;

/// Syllables of the synthetic project code names (8000 three-syllable words).
const SYLLABLES: [&str; 20] = [
    "ka", "ro", "mi", "ta", "ne", "lu", "vo", "si", "de", "ba", "zu", "pe", "fo", "gi", "ha", "jo",
    "we", "xi", "ry", "mo",
];
const AREAS: [&str; 24] = [
    "sales",
    "billing",
    "logistics",
    "payroll",
    "marketing",
    "support",
    "inventory",
    "finance",
    "people",
    "research",
    "legal",
    "procurement",
    "fleet",
    "energy",
    "retail",
    "travel",
    "media",
    "claims",
    "lending",
    "trading",
    "audit",
    "security",
    "pricing",
    "quality",
];
const ENTITIES: [&str; 40] = [
    "orders",
    "invoices",
    "shipments",
    "customers",
    "contracts",
    "tickets",
    "payments",
    "accounts",
    "vendors",
    "products",
    "sessions",
    "events",
    "refunds",
    "quotes",
    "leads",
    "assets",
    "routes",
    "meters",
    "policies",
    "claims",
    "loans",
    "trades",
    "badges",
    "visits",
    "budgets",
    "ledgers",
    "campaigns",
    "surveys",
    "returns",
    "parcels",
    "devices",
    "alerts",
    "rates",
    "stores",
    "bookings",
    "orders_daily",
    "snapshots",
    "archives",
    "metrics",
    "forecasts",
];
const COLUMN_WORDS: [&str; 32] = [
    "created_at",
    "updated_at",
    "status",
    "amount",
    "currency",
    "email",
    "phone",
    "note",
    "country",
    "city",
    "postal_code",
    "quantity",
    "unit_price",
    "region",
    "channel",
    "score",
    "priority",
    "category",
    "label",
    "reference",
    "due_date",
    "opened_at",
    "closed_at",
    "owner_name",
    "batch",
    "version",
    "weight",
    "duration",
    "source",
    "comment",
    "rating",
    "segment",
];
const TAGS: [&str; 12] = [
    "team:sales",
    "team:ops",
    "team:finance",
    "team:research",
    "tier:gold",
    "tier:bronze",
    "pii",
    "restricted",
    "deprecated",
    "certified",
    "domain:core",
    "domain:edge",
];

/// The measurements, printed after the clean-up so the machine-readable line stays last.
struct Results {
    load: Duration,
    documents: Duration,
    index: Duration,
    search_ms: Vec<f64>,
    /// The same queries ranked and counted over every match (no bound), for comparison.
    exact_ms: Vec<f64>,
    /// Per query: how many of the exact top 20 the bounded search also returned, of how many.
    overlap: Vec<(usize, usize)>,
    /// Queries whose bounded facet counts were marked inexact.
    inexact: usize,
    matches: Vec<i64>,
    browse_ms: Vec<f64>,
    baseline_ms: Vec<f64>,
    precision: Vec<(String, f64)>,
    rss_mb: Option<f64>,
}

pub async fn run(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    args: SearchArgs,
) -> anyhow::Result<ExitCode> {
    let run_id = Uuid::new_v4().simple().to_string()[..8].to_owned();
    let server = Server::from_url(&database.database_url)?;
    println!(
        "bench search: {} assets bulk-loaded into the real read-model tables (rm_catalog.assets, column_labels; \
         search documents by the projection's refresh), {} queries, PostgreSQL {}:{}, run {run_id}",
        args.assets, args.queries, server.host, server.port
    );
    let r = with_scratch(&server, async |scratch| {
        measure(store_args, database, &args, &run_id, &server, scratch).await
    })
    .await?;
    let mut search_ms = r.search_ms.clone();
    let mut browse_ms = r.browse_ms.clone();
    let mut baseline_ms = r.baseline_ms.clone();
    let mut matches = r.matches.clone();
    matches.sort_unstable();
    println!(
        "loaded {} assets in {:.1} s, documents in {:.1} s, GIN index in {:.1} s",
        args.assets,
        r.load.as_secs_f64(),
        r.documents.as_secs_f64(),
        r.index.as_secs_f64()
    );
    println!(
        "matches per query: median {}, p95 {}, max {}",
        percentile_i(&matches, 0.5),
        percentile_i(&matches, 0.95),
        matches.last().copied().unwrap_or(0)
    );
    println!(
        "baseline (assets(search:) substring filter, first 100, same words): p50_ms {:.2}, p95_ms {:.2} over {} queries",
        percentile(&mut baseline_ms, 0.5),
        percentile(&mut baseline_ms, 0.95),
        baseline_ms.len()
    );
    println!(
        "browse (assets, 100 after a random path, no source): p50_ms {:.2}, browse_p95_ms: {:.2}",
        percentile(&mut browse_ms, 0.5),
        percentile(&mut browse_ms, 0.95)
    );
    for (query, p) in &r.precision {
        println!("ranking {query:?}: precision@5 {p:.2}");
    }
    let mean = r.precision.iter().map(|(_, p)| p).sum::<f64>() / r.precision.len().max(1) as f64;
    println!(
        "precision_at_5: {mean:.3} ({} labeled queries; relevant in top 5 / min(5, relevant))",
        r.precision.len()
    );
    let mut exact_ms = r.exact_ms.clone();
    println!(
        "unbounded (every match ranked and counted, the code before the bound): p50_ms {:.2}, p95_ms {:.2}",
        percentile(&mut exact_ms, 0.5),
        percentile(&mut exact_ms, 0.95)
    );
    let (same, of) = r
        .overlap
        .iter()
        .fold((0, 0), |(s, o), (a, b)| (s + a, o + b));
    println!(
        "bounded vs unbounded: {same} of {of} unbounded top-20 hits also in the bounded top 20 ({:.1} %); facets inexact for {} of {} queries",
        100.0 * same as f64 / of.max(1) as f64,
        r.inexact,
        r.overlap.len()
    );
    // The queries the bound changes: those matching more than it ranks.
    let (mut broad_bounded, mut broad_exact): (Vec<f64>, Vec<f64>) = r
        .matches
        .iter()
        .zip(r.search_ms.iter().zip(&r.exact_ms))
        .filter(|(m, _)| **m > projections::search::MAX_RANKED)
        .map(|(_, (b, e))| (*b, *e))
        .unzip();
    println!(
        "queries matching more than {} ({}): unbounded p50_ms {:.2}, p95_ms {:.2}; bounded p50_ms {:.2}, p95_ms {:.2}",
        projections::search::MAX_RANKED,
        broad_bounded.len(),
        percentile(&mut broad_exact, 0.5),
        percentile(&mut broad_exact, 0.95),
        percentile(&mut broad_bounded, 0.5),
        percentile(&mut broad_bounded, 0.95)
    );
    // Per kind of query (the order of `mixed_queries`), so that a slow kind shows.
    for (kind, range) in QUERY_KINDS {
        let (mut ms, found): (Vec<f64>, Vec<i64>) = r
            .search_ms
            .iter()
            .zip(&r.matches)
            .enumerate()
            .filter(|(i, _)| range.contains(&(i % 20)))
            .map(|(_, (ms, m))| (*ms, *m))
            .unzip();
        let mut found = found;
        found.sort_unstable();
        println!(
            "  {kind}: {} queries, median matches {}, p50_ms {:.2}, p95_ms {:.2}",
            ms.len(),
            percentile_i(&found, 0.5),
            percentile(&mut ms, 0.5),
            percentile(&mut ms, 0.95)
        );
    }
    println!(
        "search (bounded, as the API runs it; hits of 20 + facets, {} queries): p50_ms: {:.2}",
        search_ms.len(),
        percentile(&mut search_ms, 0.5)
    );
    println!("p50_ms: {:.2}", percentile(&mut search_ms, 0.5));
    println!("p95_ms: {:.2}", percentile(&mut search_ms, 0.95));
    match r.rss_mb {
        Some(mb) => println!("rss_mb: {mb:.1}"),
        None => println!("rss_mb: unknown"),
    }
    Ok(ExitCode::SUCCESS)
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    values[((values.len() as f64 - 1.0) * p).round() as usize]
}

fn percentile_i(values: &[i64], p: f64) -> i64 {
    if values.is_empty() {
        return 0;
    }
    values[((values.len() as f64 - 1.0) * p).round() as usize]
}

/// The synthetic code names: every three-syllable word.
fn code_names() -> Vec<String> {
    let mut words = Vec::with_capacity(8000);
    for a in SYLLABLES {
        for b in SYLLABLES {
            for c in SYLLABLES {
                words.push(format!("{a}{b}{c}"));
            }
        }
    }
    words
}

/// The id of synthetic asset `g`.
fn asset_id(g: u64) -> Uuid {
    Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0000 | u128::from(g))
}

async fn measure(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    args: &SearchArgs,
    run_id: &str,
    server: &Server,
    scratch: &mut Scratch,
) -> anyhow::Result<Results> {
    let store_config = EventStoreConfig {
        nats_url: store_args.nats_url.clone(),
        names: StreamNames::new(&format!("bench-search-{run_id}"), None)?,
    };
    scratch.store = Some(EventStore::connect(&store_config).await?);
    let read_model_db = format!("pursight_benchsearch_{run_id}");
    scratch.databases.push(read_model_db.clone());
    let app = scratch_app(store_config, database, &read_model_db).await?;
    let pool = app.state().pool.clone();
    scratch.app = Some(app);
    let mut conn = server.connect(&read_model_db).await?;
    wait_for_tables(&mut conn).await?;

    let started = Instant::now();
    load(&mut conn, args.assets).await?;
    let load = started.elapsed();
    let started = Instant::now();
    // The full-text indexes are built after the load, as a rebuild would.
    conn.execute(
        "DROP INDEX IF EXISTS rm_catalog.search_documents_document,
             rm_catalog.search_documents_sample16, rm_catalog.search_documents_sample64,
             rm_catalog.search_documents_sample256",
    )
    .await?;
    conn.execute("SET search_path TO rm_catalog").await?;
    let mut g = 0;
    while g < args.assets {
        let ids: Vec<Uuid> = (g..(g + CHUNK).min(args.assets)).map(asset_id).collect();
        projections::search::refresh(&mut conn, TENANT, &ids).await?;
        g += CHUNK;
        if g % 200_000 == 0 {
            println!("documents: {g} in {:.0} s", started.elapsed().as_secs_f64());
        }
    }
    let documents = started.elapsed();
    let started = Instant::now();
    conn.execute("SET maintenance_work_mem TO '256MB'").await?;
    // The projection's own DDL, as the catalog's next start would run it.
    conn.execute(projections::Projection::ddl(&catalog::Catalog))
        .await?;
    conn.execute("VACUUM ANALYZE rm_catalog.assets").await?;
    conn.execute("VACUUM ANALYZE rm_catalog.search_documents")
        .await?;
    conn.execute("VACUUM ANALYZE rm_catalog.search_words")
        .await?;
    conn.execute("VACUUM ANALYZE rm_catalog.column_labels")
        .await?;
    let index = started.elapsed();
    load_ranking_set(&mut conn).await?;
    conn.close().await?;

    let queries = mixed_queries(args.queries as usize);
    // Warm-up: the first statements of each shape prepare and fill caches.
    for query in queries.iter().take(10) {
        timed_search(&pool, query, true).await?;
        timed_search(&pool, query, false).await?;
    }
    let mut search_ms = Vec::with_capacity(queries.len());
    let mut exact_ms = Vec::with_capacity(queries.len());
    let mut overlap = Vec::with_capacity(queries.len());
    let mut inexact = 0;
    let mut matches = Vec::with_capacity(queries.len());
    for query in &queries {
        // Both ways, one after the other, so that both meet the same cache.
        let (ms, bounded) = timed_search(&pool, query, true).await?;
        let (exact_time, exact) = timed_search(&pool, query, false).await?;
        search_ms.push(ms);
        exact_ms.push(exact_time);
        matches.push(exact.total);
        inexact += usize::from(!bounded.exact);
        let shown: std::collections::HashSet<Uuid> = bounded.ids.iter().copied().collect();
        overlap.push((
            exact.ids.iter().filter(|id| shown.contains(id)).count(),
            exact.ids.len(),
        ));
    }

    let browse_ms = browse(&pool, args.queries as usize).await?;
    let mut baseline_ms = Vec::new();
    for query in queries.iter().take(20) {
        let filter = AssetFilter {
            search: Some(query.clone()),
            limit: 100,
            ..Default::default()
        };
        let started = Instant::now();
        catalog::assets(&pool, TENANT, &filter).await?;
        baseline_ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let precision = ranking(&pool).await?;
    Ok(Results {
        load,
        documents,
        index,
        search_ms,
        exact_ms,
        overlap,
        inexact,
        matches,
        browse_ms,
        baseline_ms,
        precision,
        rss_mb: peak_rss_mb(),
    })
}

/// What one timed search returned: the hits' ids, the facets' total and whether it is exact.
struct Outcome {
    ids: Vec<Uuid>,
    total: i64,
    exact: bool,
}

/// One search as the API runs it for `{ search(query:) { hits … facets … } }` (bounded, as the
/// API does, or ranking and counting every match): the page of 20 and the facet counts.
async fn timed_search(pool: &PgPool, query: &str, bounded: bool) -> anyhow::Result<(f64, Outcome)> {
    let started = Instant::now();
    let result = search(
        pool,
        TENANT,
        query,
        SearchFilters::default(),
        None,
        20,
        None,
        true,
        bounded,
    )
    .await?;
    let elapsed = started.elapsed().as_secs_f64() * 1e3;
    let (total, exact) = result
        .facets
        .as_ref()
        .map(|f| (f.total, f.exact))
        .unwrap_or((0, true));
    Ok((
        elapsed,
        Outcome {
            ids: result.hits.iter().map(|h| h.asset.0.id).collect(),
            total,
            exact,
        },
    ))
}

async fn wait_for_tables(conn: &mut PgConnection) -> anyhow::Result<()> {
    for _ in 0..600 {
        let (ready,): (bool,) = sqlx::query_as(
            "SELECT to_regclass('rm_catalog.search_words') IS NOT NULL
                AND to_regclass('rm_catalog.search_documents_document') IS NOT NULL",
        )
        .fetch_one(&mut *conn)
        .await?;
        if ready {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the catalog projection did not create its tables within a minute")
}

/// Bulk-loads `n` assets and their labels into the catalog tables, in chunks.
async fn load(conn: &mut PgConnection, n: u64) -> anyhow::Result<()> {
    let names = code_names();
    let sources: Vec<Uuid> = (0..20u128).map(|i| Uuid::from_u128(0xb0 + i)).collect();
    let owners: Vec<String> = (0..40).map(|i| format!("owner{i:02}@bench.test")).collect();
    let labels: Vec<&str> = ClassificationType::ALL
        .iter()
        .take(16)
        .map(|t| t.as_str())
        .collect();
    let started = Instant::now();
    let mut lo = 0u64;
    while lo < n {
        let hi = (lo + CHUNK).min(n) - 1;
        sqlx::query(
            "INSERT INTO rm_catalog.assets (tenant_id, id, source_id, path, path_segments, kind, name, schema,
                 column_count, fingerprint, row_estimate, removed, version, first_seen_at, updated_at, owner, tags)
             SELECT $1, ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
                    $10[1 + g % cardinality($10)],
                    w.db || '.' || w.area || '.' || w.nm, jsonb_build_array(w.db, w.area, w.nm),
                    CASE WHEN g % 10 = 0 THEN 'view' ELSE 'table' END, w.nm,
                    jsonb_build_object('columns', k.cols,
                        'comment', CASE WHEN g % 5 = 0 THEN 'holds ' || w.p2 || ' records of ' || w.area END),
                    8, md5(g::text), 1000 + g % 100000, false, 1, now(), now(),
                    CASE WHEN g % 10 < 7 THEN $9[1 + (g / 7) % cardinality($9)] END,
                    CASE g % 4 WHEN 0 THEN '[]'::jsonb
                               WHEN 1 THEN jsonb_build_array($8[1 + g % cardinality($8)])
                               ELSE jsonb_build_array($8[1 + g % cardinality($8)], $8[1 + (g / 3 + 1) % cardinality($8)]) END
             FROM generate_series($2::bigint, $3::bigint) g
             CROSS JOIN LATERAL (
                 SELECT a.area, a.p1, a.p2, a.db, a.area || '_' || a.p1 || '_' || a.entity AS nm
                 FROM (SELECT $5[1 + g % cardinality($5)] AS area,
                              $6[1 + (g / 31) % cardinality($6)] AS entity,
                              $4[1 + (g * 7919) % cardinality($4)] AS p1,
                              $4[1 + (g * 104729 + 13) % cardinality($4)] AS p2,
                              $4[1 + (g / 1000) % 50] AS db) a) w
             CROSS JOIN LATERAL (
                 SELECT jsonb_agg(jsonb_build_object(
                     'name', CASE WHEN c = 1 THEN 'id' WHEN c = 8 THEN w.p2 || '_code'
                                  ELSE $7[1 + (g * c * 31 + c) % cardinality($7)] END,
                     'data_type', 'text', 'nullable', true) ORDER BY c) AS cols
                 FROM generate_series(1, 8) c) k",
        )
        .bind(TENANT)
        .bind(lo as i64)
        .bind(hi as i64)
        .bind(&names)
        .bind(&AREAS[..])
        .bind(&ENTITIES[..])
        .bind(&COLUMN_WORDS[..])
        .bind(&TAGS[..])
        .bind(&owners)
        .bind(&sources)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO rm_catalog.column_labels (tenant_id, asset_id, column_name, label, status, confidence,
                 signals, origin, labelled_at, labelled_by)
             SELECT $1, ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'c' || n,
                    $4[1 + (g * 13 + n * 7) % cardinality($4)], 'applied', 0.9, '[]', '{}', now(), 'bench'
             FROM generate_series($2::bigint, $3::bigint) g, generate_series(1, 1 + (g % 3)::int) n
             WHERE g % 3 <> 0
             ON CONFLICT DO NOTHING",
        )
        .bind(TENANT)
        .bind(lo as i64)
        .bind(hi as i64)
        .bind(&labels)
        .execute(&mut *conn)
        .await?;
        lo = hi + 1;
        if lo.is_multiple_of(200_000) {
            println!("loaded: {lo} in {:.0} s", started.elapsed().as_secs_f64());
        }
    }
    Ok(())
}

/// The kinds of [`mixed_queries`], by the query's index modulo 20.
const QUERY_KINDS: [(&str, std::ops::RangeInclusive<usize>); 7] = [
    ("code name", 0..=5),
    ("code name + entity", 6..=9),
    ("area + entity", 10..=12),
    ("misspelled code name", 13..=14),
    ("4-letter prefix", 15..=16),
    ("column word + area", 17..=18),
    ("entity", 19..=19),
];

/// A mixed set of `n` queries, in a fixed order: a code name (about 120 matches), a code name
/// and an entity, an area and an entity (hundreds), a misspelled code name, the prefix of a code
/// name (thousands), a column word with an area, and a bare entity (tens of thousands).
fn mixed_queries(n: usize) -> Vec<String> {
    let names = code_names();
    let pick = |i: usize, salt: usize| &names[(i * 7919 + salt * 104_729) % names.len()];
    (0..n)
        .map(|i| match i % 20 {
            0..=5 => pick(i, 1).clone(),
            6..=9 => format!("{} {}", pick(i, 2), ENTITIES[i % ENTITIES.len()]),
            10..=12 => format!(
                "{} {}",
                AREAS[i % AREAS.len()],
                ENTITIES[(i / 3) % ENTITIES.len()]
            ),
            13..=14 => {
                // One letter dropped: a typo the lexicon corrects.
                let word = pick(i, 3);
                let cut = 2 + i % 3;
                format!("{}{}", &word[..cut], &word[cut + 1..])
            }
            15..=16 => pick(i, 4)[..4].to_owned(),
            17..=18 => format!(
                "{} {}",
                COLUMN_WORDS[i % COLUMN_WORDS.len()],
                AREAS[(i / 5) % AREAS.len()]
            ),
            _ => ENTITIES[i % ENTITIES.len()].to_owned(),
        })
        .collect()
}

/// `assets` pages of 100 after the paths of random assets (any depth), as the API reads them.
async fn browse(pool: &PgPool, n: usize) -> anyhow::Result<Vec<f64>> {
    let paths: Vec<(String,)> = sqlx::query_as(
        "SELECT path FROM rm_catalog.assets TABLESAMPLE SYSTEM (1) WHERE tenant_id = $1 LIMIT $2",
    )
    .bind(TENANT)
    .bind(n as i64)
    .fetch_all(pool)
    .await?;
    let mut times = Vec::with_capacity(paths.len() + 1);
    // The very first page too.
    let firsts = std::iter::once(None).chain(paths.into_iter().map(|(p,)| Some(p)));
    for after in firsts {
        let filter = AssetFilter {
            after,
            limit: 100,
            ..Default::default()
        };
        let started = Instant::now();
        let rows = catalog::assets(pool, TENANT, &filter).await?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(!rows.is_empty() || times.len() > 1, "no assets to browse");
    }
    Ok(times)
}

/// One invented asset of the labeled ranking set.
struct Labeled {
    path: &'static str,
    columns: &'static [&'static str],
    description: Option<&'static str>,
    tags: &'static [&'static str],
    owner: Option<&'static str>,
    labels: &'static [&'static str],
}

/// The labeled ranking set: invented assets whose words overlap (manifests and their archive,
/// two sensor tables, two invoice tables, customer-keyed tables), so that ranking has to choose.
const RANKING_SET: &[Labeled] = &[
    Labeled {
        path: "harbor.logistics.shipment_manifests",
        columns: &["manifest_id", "vessel_code", "port_of_call", "departed_at"],
        description: Some("Cargo manifests per sailing"),
        tags: &[],
        owner: Some("ops-desk"),
        labels: &[],
    },
    Labeled {
        path: "harbor.archive.shipment_manifest_archive",
        columns: &["manifest_id", "archived_at"],
        description: None,
        tags: &["deprecated"],
        owner: None,
        labels: &[],
    },
    Labeled {
        path: "harbor.logistics.vessel_positions",
        columns: &["vessel_code", "latitude", "longitude", "reported_at"],
        description: None,
        tags: &[],
        owner: Some("ops-desk"),
        labels: &[],
    },
    Labeled {
        path: "atlas.payroll.salary_bands",
        columns: &["band_code", "min_salary", "max_salary", "currency"],
        description: Some("Pay ranges per grade"),
        tags: &["restricted"],
        owner: Some("people-analytics"),
        labels: &[],
    },
    Labeled {
        path: "atlas.people.employee_contacts",
        columns: &["employee_id", "work_email", "mobile_phone"],
        description: None,
        tags: &["team:people"],
        owner: Some("people-analytics"),
        labels: &["EMAIL_ADDRESS", "PHONE_NUMBER"],
    },
    Labeled {
        path: "meridian.crm.customer_loyalty_points",
        columns: &["customer_id", "points_balance", "tier"],
        description: None,
        tags: &[],
        owner: Some("crm-team"),
        labels: &[],
    },
    Labeled {
        path: "meridian.support.customer_complaints",
        columns: &["complaint_id", "customer_id", "complaint_text", "opened_at"],
        description: Some("Free-text complaints sent by customers"),
        tags: &[],
        owner: Some("crm-team"),
        labels: &[],
    },
    Labeled {
        path: "verdant.iot.greenhouse_sensor_readings",
        columns: &["sensor_id", "humidity", "soil_temperature", "read_at"],
        description: None,
        tags: &[],
        owner: None,
        labels: &[],
    },
    Labeled {
        path: "verdant.iot.sensor_calibration_log",
        columns: &["sensor_id", "calibrated_by", "offset_value"],
        description: None,
        tags: &[],
        owner: None,
        labels: &[],
    },
    Labeled {
        path: "helix.research.clinical_trial_enrollments",
        columns: &[
            "participant_code",
            "trial_arm",
            "enrolled_on",
            "diagnosis_code",
        ],
        description: None,
        tags: &["restricted"],
        owner: Some("trial-office"),
        labels: &["HEALTH_DIAGNOSIS"],
    },
    Labeled {
        path: "meridian.billing.invoice_line_items",
        columns: &["invoice_id", "sku", "quantity", "unit_price"],
        description: None,
        tags: &[],
        owner: Some("billing-team"),
        labels: &[],
    },
    Labeled {
        path: "meridian.billing.invoice_disputes",
        columns: &["invoice_id", "dispute_reason", "customer_id"],
        description: None,
        tags: &[],
        owner: Some("billing-team"),
        labels: &[],
    },
    Labeled {
        path: "meridian.payments.card_tokens",
        columns: &["token", "card_last_four", "expiry"],
        description: None,
        tags: &["pii"],
        owner: Some("payments-team"),
        labels: &["CREDIT_CARD_NUMBER"],
    },
];

/// Labeled queries and the names of the assets expected on top (any order among them).
const RANKING_QUERIES: &[(&str, &[&str])] = &[
    (
        "shipment manifest",
        &["shipment_manifests", "shipment_manifest_archive"],
    ),
    ("vessel", &["vessel_positions", "shipment_manifests"]),
    ("salary", &["salary_bands"]),
    ("email", &["employee_contacts"]),
    ("customer complaints", &["customer_complaints"]),
    (
        "custmer",
        &[
            "customer_loyalty_points",
            "customer_complaints",
            "invoice_disputes",
        ],
    ),
    ("greenhous sensor", &["greenhouse_sensor_readings"]),
    (
        "sensor",
        &["greenhouse_sensor_readings", "sensor_calibration_log"],
    ),
    ("invoice", &["invoice_line_items", "invoice_disputes"]),
    ("payroll", &["salary_bands"]),
    ("clinical trial", &["clinical_trial_enrollments"]),
    ("card", &["card_tokens"]),
    ("humidity", &["greenhouse_sensor_readings"]),
    ("payments team", &["card_tokens"]),
    ("calibraton", &["sensor_calibration_log"]),
    ("HEALTH_DIAGNOSIS", &["clinical_trial_enrollments"]),
];

async fn load_ranking_set(conn: &mut PgConnection) -> anyhow::Result<()> {
    let mut ids = Vec::new();
    for (i, asset) in RANKING_SET.iter().enumerate() {
        let id = Uuid::from_u128(0xa5_0000 + i as u128);
        ids.push(id);
        let segments: Vec<&str> = asset.path.split('.').collect();
        let name = segments.last().copied().unwrap_or(asset.path);
        let columns: Vec<serde_json::Value> = asset
            .columns
            .iter()
            .map(|c| serde_json::json!({ "name": c, "data_type": "text", "nullable": true }))
            .collect();
        sqlx::query(
            "INSERT INTO rm_catalog.assets (tenant_id, id, source_id, path, path_segments, kind, name, schema,
                 column_count, fingerprint, removed, version, first_seen_at, updated_at, owner, tags, description)
             VALUES ($1, $2, $3, $4, $5, 'table', $6, $7, $8, 'f', false, 1, now(), now(), $9, $10, $11)",
        )
        .bind(RANKING_TENANT)
        .bind(id)
        .bind(Uuid::from_u128(0xa5))
        .bind(asset.path)
        .bind(serde_json::json!(segments))
        .bind(name)
        .bind(serde_json::json!({ "columns": columns }))
        .bind(columns.len() as i32)
        .bind(asset.owner)
        .bind(serde_json::json!(asset.tags))
        .bind(asset.description)
        .execute(&mut *conn)
        .await?;
        for label in asset.labels {
            sqlx::query(
                "INSERT INTO rm_catalog.column_labels (tenant_id, asset_id, column_name, label, status, confidence,
                     signals, origin, labelled_at, labelled_by)
                 VALUES ($1, $2, $3, $4, 'applied', 0.9, '[]', '{}', now(), 'bench')",
            )
            .bind(RANKING_TENANT)
            .bind(id)
            .bind(asset.columns[0])
            .bind(*label)
            .execute(&mut *conn)
            .await?;
        }
    }
    projections::search::refresh(conn, RANKING_TENANT, &ids).await?;
    Ok(())
}

/// Precision@5 of each labeled query: expected assets among the top 5 over min(5, expected).
async fn ranking(pool: &PgPool) -> anyhow::Result<Vec<(String, f64)>> {
    let mut out = Vec::new();
    for (query, expected) in RANKING_QUERIES {
        let result = search(
            pool,
            RANKING_TENANT,
            query,
            SearchFilters::default(),
            None,
            5,
            None,
            false,
            true,
        )
        .await?;
        let found = result
            .hits
            .iter()
            .filter(|h| expected.contains(&h.asset.0.name.as_str()))
            .count();
        out.push((
            (*query).to_owned(),
            found as f64 / expected.len().min(5) as f64,
        ));
    }
    Ok(out)
}
