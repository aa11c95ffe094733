//! [`discover`]: the schema discovery of a MySQL or MariaDB source from `information_schema`.
//!
//! 1. One probe connection, opened and closed, so a refused port or a wrong password is reported
//!    as such (sqlx's pool retries refused connections until its acquire timeout and would only
//!    say "timed out").
//! 2. A small pool sized by the strategy ([`Tuning`]); the schemas in scope, then every table and
//!    view of those schemas in a single query.
//! 3. The tables and views in scope, cut into batches of one schema each; for each batch one
//!    query per catalog table (columns, key columns, index columns, view definitions), with up to
//!    [`Tuning::connections`] batches in flight. Each query is retried with exponential backoff
//!    ([`ATTEMPTS`] tries in all) when its failure is transient, and an `auto` scan steps down to
//!    conservative when queries get slow or fail.
//! 4. The routines, triggers and sequences of the schemas in scope, a few queries in all
//!    (`objects.rs`); triggers are listed on their tables.
//! 5. The pool is closed — on failure too — before the result is returned, so the server's
//!    connection count is back at its baseline when `discover` returns.

use super::assemble::{self, asset_path, BatchRows};
use super::catalog::{self, TableEntry};
use super::connect::{classify, connect_options, is_transient, secret};
use super::objects;
use super::options::MysqlTarget;
use super::tuning::{Tuner, Tuning};
use crate::probe::{
    ConnectionFailure, Discovery, DiscoveryError, DiscoveryOptions, DiscoveryProgress,
};
use crate::secrets::SecretValue;
use domain::datasource::FailureCategory;
use domain::discovery::{AssetKind, AssetSchema};
use domain::scan::ScanMetrics;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{Connection, MySqlConnection};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Tries of one catalog query, the first included.
const ATTEMPTS: u32 = 3;
/// The wait before the first retry; it doubles for each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Discovers the schemas, tables and views of `target` that `options.scope` covers, with their
/// columns, keys, indexes, comments, row estimates and view definitions, and the foreign-key
/// lineage between them, plus the lineage of every view parsed from its SQL (MySQL dialect).
///
/// `progress` is called after the listing and after every batch (from the calling task).
///
/// ```no_run
/// # async fn example(target: connectors::mysql::MysqlTarget) {
/// use connectors::probe::DiscoveryOptions;
///
/// let discovery = connectors::mysql::discover(&target, &DiscoveryOptions::default(), &|p| {
///     println!("{}/{:?} ({:?})", p.assets_done, p.assets_total, p.current_strategy)
/// })
/// .await
/// .unwrap();
/// println!("{} assets in {} queries", discovery.assets.len(), discovery.metrics.queries_executed);
/// # }
/// ```
pub async fn discover(
    target: &MysqlTarget,
    options: &DiscoveryOptions,
    progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
) -> Result<Discovery, DiscoveryError> {
    let started = Instant::now();
    let connect = connect_options(target)?;
    let connect_timeout = non_zero(target.connect_timeout).unwrap_or(options.query_timeout);
    probe(&connect, connect_timeout, secret(target)).await?;

    let tuner = Tuner::new(options.strategy, options.query_timeout);
    // The strategy sizes the pool; the source's own pool limit (pool_size + max_overflow) caps it.
    let pool_size = tuner
        .current()
        .connections
        .min(target.pool.max_connections.max(1));
    let pool = MySqlPoolOptions::new()
        .max_connections(pool_size)
        .min_connections(0)
        .acquire_timeout(connect_timeout)
        .max_lifetime(non_zero(target.pool.max_lifetime))
        // A dead connection fails its query, which is retried; a ping before every catalog query
        // would double the round trips.
        .test_before_acquire(false)
        .connect_lazy_with(connect);
    let catalog = Catalog {
        pool: pool.clone(),
        pool_size: pool_size as usize,
        stats: Arc::default(),
        tuner: Arc::new(Mutex::new(tuner)),
        secret: target.password.clone(),
    };
    let outcome = catalog
        .run(target.database.as_deref(), options, progress)
        .await;
    pool.close().await;
    let mut discovery = outcome?;
    discovery.metrics.duration_ms =
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(discovery)
}

/// Opens and closes one connection, classifying a failure.
async fn probe(
    options: &MySqlConnectOptions,
    timeout: Duration,
    secret: Option<&str>,
) -> Result<(), ConnectionFailure> {
    let connect = async {
        let connection = MySqlConnection::connect_with(options).await?;
        connection.close().await
    };
    match tokio::time::timeout(timeout, connect).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(classify(&error, secret)),
        Err(_) => Err(ConnectionFailure::new(
            FailureCategory::Timeout,
            format!("no connection within {} ms", timeout.as_millis()),
            secret,
        )),
    }
}

fn non_zero(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

/// One try of a catalog query. Boxed with `Send` spelled out: with plain `impl Future` closures
/// borrowing the pool, rustc cannot prove the whole discovery future `Send` for every lifetime
/// (rust-lang/rust#110338), and callers spawn it.
type QueryFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'a>>;

/// Counters shared by the batches in flight.
#[derive(Debug, Default)]
struct Stats {
    queries: AtomicU64,
    retries: AtomicU64,
    errors: AtomicU64,
}

/// Tables and views of one schema whose catalog rows are fetched together.
struct Batch {
    schema: String,
    entries: Vec<TableEntry>,
}

/// What every batch task needs: cheap to clone (the pool and the shared state are `Arc`s).
#[derive(Clone)]
struct Catalog {
    pool: MySqlPool,
    pool_size: usize,
    stats: Arc<Stats>,
    tuner: Arc<Mutex<Tuner>>,
    secret: Option<SecretValue>,
}

impl Catalog {
    async fn run(
        &self,
        database: Option<&str>,
        options: &DiscoveryOptions,
        progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
    ) -> Result<Discovery, DiscoveryError> {
        let scope = &options.scope;
        let pool = &self.pool;

        let schemas: Vec<String> = self
            .query("listing schemas", || {
                Box::pin(catalog::list_schemas(pool, database))
            })
            .await?
            .into_iter()
            .filter(|schema| asset_path(&[schema]).is_some_and(|p| scope.may_contain(&p)))
            .collect();
        let mut assets: Vec<AssetSchema> = schemas
            .iter()
            .filter_map(|schema| asset_path(&[schema]))
            .map(|path| AssetSchema::new(AssetKind::Schema, path))
            .collect();
        let tables = if schemas.is_empty() {
            Vec::new()
        } else {
            self.query("listing tables", || {
                Box::pin(catalog::list_tables(pool, &schemas))
            })
            .await?
        };
        let mut queue: VecDeque<TableEntry> = tables
            .into_iter()
            .filter(|t| asset_path(&[&t.schema, &t.name]).is_some_and(|p| scope.matches(&p)))
            .collect();

        let total = (assets.len() + queue.len()) as u64;
        let report = |done: usize| {
            progress(DiscoveryProgress {
                assets_done: done as u64,
                assets_total: Some(total),
                current_strategy: self.tuning().strategy,
            })
        };
        report(assets.len());

        let mut in_flight = JoinSet::new();
        loop {
            // Re-read for every round: an `auto` scan that stepped down starts fewer and smaller
            // batches from here on.
            let tuning = self.tuning();
            let limit = (tuning.connections as usize).min(self.pool_size);
            while in_flight.len() < limit {
                let Some(batch) = next_batch(&mut queue, tuning.batch_size) else {
                    break;
                };
                let catalog = self.clone();
                in_flight.spawn(async move { catalog.fetch(batch).await });
            }
            let Some(joined) = in_flight.join_next().await else {
                break;
            };
            let failure = match joined {
                Ok(Ok(fetched)) => {
                    assets.extend(fetched);
                    report(assets.len());
                    continue;
                }
                Ok(Err(error)) => error,
                Err(join_error) => DiscoveryError::Query {
                    message: format!("a catalog batch stopped: {join_error}"),
                    retries: 0,
                },
            };
            // Stop the other batches and wait for them, so their connections are back in the
            // pool before it is closed.
            in_flight.shutdown().await;
            return Err(failure);
        }

        // Routines, triggers and sequences: a few queries for every schema in scope (none when
        // no schema is).
        if !schemas.is_empty() {
            self.objects(&schemas, scope, &mut assets).await?;
        }

        assets.sort_by(|a, b| a.path.cmp(&b.path));
        let lineage = lineage(&assets, &self.stats.errors);
        let count = |kind: AssetKind| assets.iter().filter(|a| a.kind == kind).count() as u64;
        let metrics = ScanMetrics {
            schemas: count(AssetKind::Schema),
            tables: count(AssetKind::Table),
            views: count(AssetKind::View),
            columns: assets.iter().map(|a| a.columns.len() as u64).sum(),
            queries_executed: self.stats.queries.load(Ordering::Relaxed),
            retries: self.stats.retries.load(Ordering::Relaxed),
            errors: self.stats.errors.load(Ordering::Relaxed),
            ..ScanMetrics::default()
        };
        Ok(Discovery {
            assets,
            lineage,
            metrics,
        })
    }

    /// Adds the routines and sequences of `schemas` that `scope` admits to `assets`, and lists
    /// each table's triggers on it.
    async fn objects(
        &self,
        schemas: &[String],
        scope: &domain::scan::ScanScope,
        assets: &mut Vec<AssetSchema>,
    ) -> Result<(), DiscoveryError> {
        let pool = &self.pool;
        let routines = self
            .query("reading the routines", || {
                Box::pin(objects::routines(pool, schemas))
            })
            .await?;
        assets.extend(routines.into_iter().filter(|r| scope.matches(&r.path)));
        let keep = |path: &domain::discovery::AssetPath| scope.matches(path);
        let sequences = self
            .query("reading the sequences", || {
                Box::pin(objects::sequences(pool, schemas, &keep))
            })
            .await?;
        assets.extend(sequences);
        let mut triggers = self
            .query("reading the triggers", || {
                Box::pin(objects::triggers(pool, schemas))
            })
            .await?;
        for asset in assets.iter_mut().filter(|a| a.kind == AssetKind::Table) {
            if let [schema, table] = asset.path.segments() {
                if let Some(found) = triggers.remove(&(schema.clone(), table.clone())) {
                    asset.triggers = found;
                }
            }
        }

        Ok(())
    }

    /// The assets of one batch: columns of all its entries, keys and indexes of its tables, the
    /// definitions of its views — one query each, whatever the batch size.
    async fn fetch(self, batch: Batch) -> Result<Vec<AssetSchema>, DiscoveryError> {
        let Batch { schema, entries } = batch;
        let names_of = |kind: Option<AssetKind>| -> Vec<String> {
            entries
                .iter()
                .filter(|e| kind.is_none_or(|k| e.kind == k))
                .map(|e| e.name.clone())
                .collect()
        };
        let (all, tables, views) = (
            names_of(None),
            names_of(Some(AssetKind::Table)),
            names_of(Some(AssetKind::View)),
        );
        let pool = &self.pool;
        let schema_ref = schema.as_str();
        let mut rows = BatchRows {
            columns: self
                .query(&format!("reading the columns of {schema}"), || {
                    Box::pin(catalog::columns(pool, schema_ref, &all))
                })
                .await?,
            ..BatchRows::default()
        };
        if !tables.is_empty() {
            rows.keys = self
                .query(&format!("reading the keys of {schema}"), || {
                    Box::pin(catalog::key_columns(pool, schema_ref, &tables))
                })
                .await?;
            rows.indexes = self
                .query(&format!("reading the indexes of {schema}"), || {
                    Box::pin(catalog::index_columns(pool, schema_ref, &tables))
                })
                .await?;
        }
        if !views.is_empty() {
            rows.views = self
                .query(&format!("reading the views of {schema}"), || {
                    Box::pin(catalog::view_definitions(pool, schema_ref, &views))
                })
                .await?;
        }
        Ok(assemble::assets(&schema, entries, rows))
    }

    fn tuning(&self) -> Tuning {
        self.tuner.lock().expect("tuner lock poisoned").current()
    }

    fn observe(&self, latency: Duration, succeeded: bool) {
        let moved = self
            .tuner
            .lock()
            .expect("tuner lock poisoned")
            .observe(latency, succeeded);
        if let Some(strategy) = moved {
            tracing::info!(
                ?strategy,
                ?latency,
                succeeded,
                "auto discovery stepped down"
            );
        }
    }

    /// Runs one catalog query under the current timeout, retrying transient failures with
    /// exponential backoff, and counts queries, retries and errors.
    async fn query<'a, T, F>(&self, what: &str, mut attempt: F) -> Result<T, DiscoveryError>
    where
        F: FnMut() -> QueryFuture<'a, T>,
    {
        let mut backoff = FIRST_BACKOFF;
        let mut tries = 0;
        loop {
            tries += 1;
            let timeout = self.tuning().query_timeout;
            self.stats.queries.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let outcome = tokio::time::timeout(timeout, attempt()).await;
            let latency = started.elapsed();
            let (message, transient) = match outcome {
                Ok(Ok(value)) => {
                    self.observe(latency, true);
                    return Ok(value);
                }
                Ok(Err(error)) => (error.to_string(), is_transient(&error)),
                Err(_) => (format!("no answer within {} ms", timeout.as_millis()), true),
            };
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            self.observe(latency, false);
            let message = ConnectionFailure::new(
                FailureCategory::Config,
                format!("{what}: {message}"),
                self.secret.as_ref().map(SecretValue::expose),
            )
            .message;
            if !transient || tries >= ATTEMPTS {
                return Err(DiscoveryError::Query {
                    message,
                    retries: u64::from(tries - 1),
                });
            }
            tracing::debug!(%message, tries, "retrying a catalog query");
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
}

/// Up to `size` entries of the schema at the front of `queue` (entries arrive sorted by
/// schema, so a schema's tables are contiguous).
fn next_batch(queue: &mut VecDeque<TableEntry>, size: usize) -> Option<Batch> {
    let schema = queue.front()?.schema.clone();
    let mut entries = Vec::new();
    while entries.len() < size.max(1) {
        match queue.front() {
            Some(entry) if entry.schema == schema => entries.extend(queue.pop_front()),
            _ => break,
        }
    }
    Some(Batch { schema, entries })
}

/// Foreign-key edges of every table and the edges each view's SQL declares. A view whose SQL
/// does not parse counts as an error and loses only its own lineage.
fn lineage(
    assets: &[AssetSchema],
    errors: &std::sync::atomic::AtomicU64,
) -> Vec<domain::discovery::LineageEdge> {
    use crate::view_sql::{view_lineage, RelationIndex};
    // MySQL's "schema" is the database: paths are `[database, table]` and there is no fallback
    // schema for unqualified names.
    let mut index = RelationIndex::new("", None);
    let leaves = || {
        assets
            .iter()
            .filter(|a| matches!(a.kind, AssetKind::Table | AssetKind::View) && a.path.depth() == 2)
    };
    for asset in leaves() {
        let segments = asset.path.segments();
        let columns = asset.columns.iter().map(|c| c.name.clone()).collect();
        index.insert(
            &segments[0],
            &segments[1],
            asset.path.clone(),
            Some(columns),
        );
    }
    let mut edges: Vec<_> = assets
        .iter()
        .flat_map(AssetSchema::foreign_key_lineage)
        .collect();
    for asset in assets.iter().filter(|a| a.kind == AssetKind::Routine) {
        let Some(body) = asset.routine.as_ref().and_then(|r| r.definition.as_ref()) else {
            continue;
        };
        // Best effort, as for PostgreSQL: a body the parser cannot read (`BEGIN … END` blocks
        // often are not) is no lineage, not an error of the scan.
        match crate::view_sql::routine_lineage(
            &asset.path,
            &asset.path.segments()[0],
            body,
            &index,
            &sqlparser::dialect::MySqlDialect {},
        ) {
            Ok(found) => edges.extend(found),
            Err(error) => {
                tracing::debug!(routine = %asset.path, %error, "no lineage for this routine")
            }
        }
    }
    for asset in leaves() {
        let Some(sql) = &asset.view_definition else {
            continue;
        };
        let columns: Vec<String> = asset.columns.iter().map(|c| c.name.clone()).collect();
        let dialect = sqlparser::dialect::MySqlDialect {};
        match view_lineage(
            &asset.path,
            &asset.path.segments()[0],
            &columns,
            sql,
            &index,
            &dialect,
        ) {
            Ok(found) => edges.extend(found),
            Err(error) => {
                errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(view = %asset.path, %error, "view lineage not derived");
            }
        }
    }
    edges.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
    edges.dedup();
    edges
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::scan::ScanStrategy;

    fn entry(schema: &str, name: &str) -> TableEntry {
        TableEntry {
            schema: schema.into(),
            name: name.into(),
            kind: AssetKind::Table,
            comment: None,
            row_estimate: None,
            size_bytes: None,
        }
    }

    /// A catalog whose pool never connects: the queries below do not use it.
    fn offline_catalog(strategy: ScanStrategy) -> Catalog {
        Catalog {
            pool: MySqlPoolOptions::new().connect_lazy_with(MySqlConnectOptions::new()),
            pool_size: 2,
            stats: Arc::default(),
            tuner: Arc::new(Mutex::new(Tuner::new(strategy, Duration::from_secs(5)))),
            secret: Some(SecretValue::new("hunter2")),
        }
    }

    fn lost_connection() -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
    }

    #[tokio::test]
    async fn transient_failures_are_retried_with_backoff_and_counted() {
        let catalog = offline_catalog(ScanStrategy::Auto);
        let mut failures_left = 2;
        let started = Instant::now();
        let value = catalog
            .query("reading", || {
                let outcome = if failures_left > 0 {
                    failures_left -= 1;
                    Err(lost_connection())
                } else {
                    Ok(7)
                };
                Box::pin(async move { outcome })
            })
            .await
            .unwrap();
        assert_eq!(value, 7);
        assert!(
            started.elapsed() >= FIRST_BACKOFF * 3,
            "100 ms, then 200 ms"
        );
        let stats = &catalog.stats;
        let counts =
            [&stats.queries, &stats.retries, &stats.errors].map(|c| c.load(Ordering::Relaxed));
        assert_eq!(counts, [3, 2, 2]);
        assert_eq!(
            catalog.tuning().strategy,
            ScanStrategy::Conservative,
            "auto steps down on errors"
        );
    }

    #[tokio::test]
    async fn retries_stop_after_three_tries_and_permanent_errors_are_not_retried() {
        let catalog = offline_catalog(ScanStrategy::Balanced);
        let error = catalog
            .query("reading hunter2", || {
                Box::pin(async { Err::<(), _>(lost_connection()) })
            })
            .await
            .unwrap_err();
        match error {
            DiscoveryError::Query { message, retries } => {
                assert_eq!(retries, 2);
                assert!(!message.contains("hunter2"), "{message}");
            }
            other => panic!("{other}"),
        }
        let permanent = catalog
            .query("decoding", || {
                Box::pin(async { Err::<(), _>(sqlx::Error::RowNotFound) })
            })
            .await
            .unwrap_err();
        assert!(matches!(
            permanent,
            DiscoveryError::Query { retries: 0, .. }
        ));
        assert_eq!(catalog.stats.queries.load(Ordering::Relaxed), 4);
        assert_eq!(catalog.tuning().strategy, ScanStrategy::Balanced);
    }

    /// Compiles only if the future is `Send` for every lifetime of its arguments, as a caller
    /// that spawns it (or awaits it inside a spawned task) needs.
    #[allow(dead_code)]
    fn discovery_futures_are_send(
        target: &MysqlTarget,
        options: &DiscoveryOptions,
        progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
    ) {
        fn send<T: Send>(_: T) {}
        send(discover(target, options, progress));
        send(super::super::validate(target, Duration::from_secs(1)));
    }

    #[test]
    fn batches_hold_one_schema_and_at_most_the_batch_size() {
        let mut queue: VecDeque<TableEntry> = [
            entry("a", "t1"),
            entry("a", "t2"),
            entry("a", "t3"),
            entry("b", "t1"),
        ]
        .into();
        let sizes: Vec<(String, usize)> = std::iter::from_fn(|| next_batch(&mut queue, 2))
            .map(|b| (b.schema, b.entries.len()))
            .collect();
        assert_eq!(sizes, [("a".into(), 2), ("a".into(), 1), ("b".into(), 1)]);
    }
}
