//! [`discover`]: DDL discovery of one PostgreSQL database — the database, its schemas, and every
//! table, partitioned table (with its partitions), view and materialized view in scope, each
//! with columns, keys, indexes, triggers, comments, statistics and view SQL; the user-defined
//! types, routines and sequences in scope — plus the lineage those schemas declare.
//!
//! How it runs:
//!
//! 1. One plain connection is opened and closed first, so that an unreachable server, a wrong
//!    password or a TLS problem is reported as such (the pool would retry a refused connection
//!    until its timeout and say only "timed out").
//! 2. A small pool (sized by the strategy, see `pace.rs`) reads the [overview and the list of
//!    relations](super::catalog) once, then the details of the relations in scope in batches,
//!    several batches in flight at once. Each unit of work is one read-only transaction; a unit
//!    that fails is retried up to [`MAX_RETRIES`] times with exponential backoff. Every query
//!    is bounded by the server's `statement_timeout` (the query timeout) and, should the server
//!    stop answering altogether, by the client a little later.
//! 3. Lineage: the foreign keys of every discovered table (those declared on partitions
//!    included), the parsed SQL of every discovered view and the relations named in the body of
//!    every SQL-language routine (`crate::view_sql`).
//! 4. The pool is closed — whatever happened — before `discover` returns, so the server's
//!    connection count is back where it was.
//!
//! DDL discovery reads the primary only: a replica may lag behind a migration that just ran.

use super::catalog::{self, BatchRows, Overview, Relation, RelationKind};
use super::connect::{connect_options, failure, secret_of, timed_out};
use super::objects::{self, Object};
use super::options::PostgresTarget;
use super::pace::{Knobs, Pace};
use crate::options::ReadRouting;
use crate::probe::{
    ConnectionFailure, Discovery, DiscoveryError, DiscoveryOptions, DiscoveryProgress,
};
use crate::view_sql::{routine_lineage, view_lineage, RelationIndex};
use domain::discovery::{AssetKind, AssetPath, AssetSchema, LineageEdge};
use domain::scan::{ScanMetrics, ScanStrategy};
use futures::stream::{FuturesUnordered, StreamExt};
use sqlx::pool::PoolConnection;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Executor, Postgres, Transaction};
use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Retries of one failed unit of catalog work before the discovery gives up.
pub const MAX_RETRIES: u64 = 3;

/// The wait before the first retry; doubled for each further one (100, 200, 400 ms).
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// How much longer than the server's `statement_timeout` the client waits for an answer (the
/// server's clock starts when the statement arrives; ours when it is sent).
const CLIENT_GRACE: Duration = Duration::from_millis(500);

/// How long closing the pool may take before `discover` returns anyway.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Discovers the schemas in `options.scope` of the database `target` names, on the primary.
///
/// `progress` is called as batches complete and when `auto` changes strategy. The returned
/// assets are sorted by path and [normalized](AssetSchema::normalized); lineage edges are sorted
/// too, so two discoveries of an unchanged database are equal (row estimates aside).
///
/// Fails with [`DiscoveryError::Connection`] when no connection can be opened and with
/// [`DiscoveryError::Query`] when a unit of catalog work still fails after [`MAX_RETRIES`]
/// retries. A view whose SQL cannot be parsed does not fail the scan: it is counted in
/// `metrics.errors` and logged, and its lineage is missing.
#[tracing::instrument(
    name = "postgres.discover",
    skip_all,
    fields(endpoint = %target.endpoint, database = ?target.database, strategy = %options.strategy)
)]
pub async fn discover(
    target: &PostgresTarget,
    options: &DiscoveryOptions,
    progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
) -> Result<Discovery, DiscoveryError> {
    let started = Instant::now();
    let target = target.route(ReadRouting::Primary);
    let secret = secret_of(&target);
    let connect = connect_options(&target)?;
    let connect_timeout = if target.connect_timeout.is_zero() {
        options.query_timeout
    } else {
        target.connect_timeout
    };
    check_reachable(&connect, connect_timeout, secret).await?;

    let pace = Pace::new(options.strategy);
    let connections = pace
        .max_connections()
        .min(target.pool.max_connections.max(1));
    let mut pool_options = PgPoolOptions::new()
        .max_connections(connections)
        .min_connections(0)
        .acquire_timeout(connect_timeout)
        // Fresh connections, used back to back: a ping before every use would only add
        // round trips.
        .test_before_acquire(false);
    if !target.pool.max_lifetime.is_zero() {
        pool_options = pool_options.max_lifetime(target.pool.max_lifetime);
    }
    let pool = pool_options.connect_lazy_with(connect);

    let scan = Scan {
        pool: &pool,
        options,
        progress,
        secret,
        connections,
        pace: Mutex::new(pace),
        counters: Counters::default(),
        failing: AtomicBool::new(false),
        // 0 would switch the server's limit off; PostgreSQL accepts at most i32::MAX ms.
        settings: format!(
            "{}; SET LOCAL statement_timeout = {}",
            catalog::SESSION_SETTINGS,
            options.query_timeout.as_millis().clamp(1, i32::MAX as u128)
        ),
    };
    let outcome = scan.run().await;
    // Connections with an abandoned conversation are already closed on drop (`Scan::release`);
    // the bound is a last guard against a driver that hangs while saying goodbye.
    if tokio::time::timeout(CLOSE_TIMEOUT, pool.close())
        .await
        .is_err()
    {
        tracing::warn!("closing the discovery pool took longer than {CLOSE_TIMEOUT:?}");
    }

    let mut discovery = outcome?;
    discovery.metrics.duration_ms =
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(
        assets = discovery.assets.len(),
        lineage = discovery.lineage.len(),
        queries = discovery.metrics.queries_executed,
        retries = discovery.metrics.retries,
        errors = discovery.metrics.errors,
        duration_ms = discovery.metrics.duration_ms,
        "discovery finished"
    );
    Ok(discovery)
}

async fn check_reachable(
    options: &PgConnectOptions,
    timeout: Duration,
    secret: Option<&str>,
) -> Result<(), ConnectionFailure> {
    match tokio::time::timeout(timeout, PgConnection::connect_with(options)).await {
        Err(_elapsed) => Err(timed_out(timeout, secret)),
        Ok(Err(error)) => Err(failure(&error, secret)),
        Ok(Ok(connection)) => {
            // Nothing to report if the goodbye fails: the socket is dropped either way.
            let _ = connection.close().await;
            Ok(())
        }
    }
}

/// Counters shared by the batches in flight.
#[derive(Default)]
struct Counters {
    queries: AtomicU64,
    retries: AtomicU64,
    errors: AtomicU64,
    assets_done: AtomicU64,
    assets_total: AtomicU64,
}

impl Counters {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Why one unit of catalog work failed.
struct Failed {
    message: String,
    /// Decoding problems fail the same way every time; retrying them only delays the report.
    retryable: bool,
    /// The connection's protocol state is unknown (see `Scan::release`).
    poisoned: bool,
}

impl From<sqlx::Error> for Failed {
    fn from(error: sqlx::Error) -> Self {
        let retryable = !matches!(
            error,
            sqlx::Error::ColumnDecode { .. }
                | sqlx::Error::ColumnNotFound(_)
                | sqlx::Error::Decode(_)
        );
        // A server error (statement timeout, lock timeout, …) leaves the connection in a known
        // state; a failure below the protocol does not.
        let poisoned = matches!(
            error,
            sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_)
        );
        Failed {
            message: error.to_string(),
            retryable,
            poisoned,
        }
    }
}

/// One discovery in progress.
struct Scan<'a> {
    pool: &'a PgPool,
    options: &'a DiscoveryOptions,
    progress: &'a (dyn Fn(DiscoveryProgress) + Send + Sync),
    secret: Option<&'a str>,
    /// The pool's size: never more units in flight than this.
    connections: u32,
    pace: Mutex<Pace>,
    counters: Counters,
    /// Another batch failed for good: the discovery is ending, nothing is retried any more.
    failing: AtomicBool,
    /// `SET LOCAL …` run at the start of every transaction.
    settings: String,
}

impl Scan<'_> {
    async fn run(&self) -> Result<Discovery, DiscoveryError> {
        let mut attempt = 0;
        let (overview, relations, objects) = loop {
            match self.fetch_overview().await {
                Ok(found) => break found,
                Err(failed) => {
                    let backoff = self.after_failure("overview", attempt, failed)?;
                    attempt += 1;
                    tokio::time::sleep(backoff).await;
                }
            }
        };
        let database = overview.database.clone();
        let scope = &self.options.scope;
        let database_path = path([database.as_str()])?;

        let mut assets: Vec<AssetSchema> = Vec::new();
        if !scope.may_contain(&database_path) {
            return Ok(self.finish(assets, Vec::new()));
        }
        let mut database_asset = AssetSchema::new(AssetKind::Database, database_path.clone());
        database_asset.comment = overview.comment.clone();
        assets.push(database_asset);

        let mut schemas_in_scope: HashSet<&str> = HashSet::new();
        for (name, comment) in &overview.schemas {
            let schema_path = path([database.as_str(), name.as_str()])?;
            if scope.may_contain(&schema_path) {
                let mut schema = AssetSchema::new(AssetKind::Schema, schema_path);
                schema.comment = comment.clone();
                assets.push(schema);
                schemas_in_scope.insert(name.as_str());
            }
        }
        for object in objects {
            if schemas_in_scope.contains(object.schema.as_str())
                && scope.matches(&object.asset.path)
            {
                assets.push(object.asset);
            }
        }
        let mut leaves: VecDeque<&Relation> = VecDeque::new();
        for relation in &relations {
            if schemas_in_scope.contains(relation.schema.as_str())
                && scope.matches(&relation.path(&database).map_err(unsupported)?)
            {
                leaves.push_back(relation);
            }
        }
        self.counters
            .assets_total
            .store((assets.len() + leaves.len()) as u64, Ordering::Relaxed);
        self.counters
            .assets_done
            .store(assets.len() as u64, Ordering::Relaxed);
        self.report();

        // Once a batch has failed for good, no new batch starts and the ones in flight are let
        // finish (without retrying) rather than dropped mid-query: a query abandoned half-way
        // leaves its connection in a state sqlx cannot always recover from.
        let mut in_flight = FuturesUnordered::new();
        let mut first_error = None;
        loop {
            let knobs = self.knobs();
            let limit = knobs.connections.min(self.connections) as usize;
            while first_error.is_none() && in_flight.len() < limit && !leaves.is_empty() {
                let take = knobs.batch_size.min(leaves.len());
                let batch: Vec<&Relation> = leaves.drain(..take).collect();
                in_flight.push(self.run_batch(batch, &database));
            }
            let Some(done) = in_flight.next().await else {
                break;
            };
            match done {
                Ok(batch) => {
                    self.counters
                        .assets_done
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    assets.extend(batch);
                    self.report();
                }
                Err(error) => {
                    self.failing.store(true, Ordering::Relaxed);
                    first_error.get_or_insert(error);
                }
            }
        }
        if let Some(error) = first_error {
            return Err(error);
        }

        assets.sort_by(|a, b| a.path.cmp(&b.path));
        let lineage = self.lineage(&database, &relations, &assets);
        Ok(self.finish(assets, lineage))
    }

    fn finish(&self, assets: Vec<AssetSchema>, lineage: Vec<LineageEdge>) -> Discovery {
        let mut metrics = ScanMetrics {
            queries_executed: self.counters.queries.load(Ordering::Relaxed),
            retries: self.counters.retries.load(Ordering::Relaxed),
            errors: self.counters.errors.load(Ordering::Relaxed),
            ..ScanMetrics::default()
        };
        for asset in &assets {
            match asset.kind {
                AssetKind::Schema => metrics.schemas += 1,
                AssetKind::Table | AssetKind::PartitionedTable => metrics.tables += 1,
                AssetKind::View | AssetKind::MaterializedView => metrics.views += 1,
                _ => {}
            }
            metrics.columns += asset.columns.len() as u64;
        }
        Discovery {
            assets,
            lineage,
            metrics,
        }
    }

    /// Foreign-key edges of every discovered table and view edges of every discovered view,
    /// deduplicated and sorted.
    fn lineage(
        &self,
        database: &str,
        relations: &[Relation],
        assets: &[AssetSchema],
    ) -> Vec<LineageEdge> {
        let mut index = RelationIndex::new(database, Some("public"));
        for relation in relations {
            if let Ok(path) = relation.path(database) {
                index.insert(&relation.schema, &relation.name, path, None);
            }
        }
        let leaves = || {
            assets
                .iter()
                .filter(|a| a.kind.is_relation())
                .filter(|a| a.path.depth() == 3)
        };
        for asset in leaves() {
            let segments = asset.path.segments();
            let columns = asset.columns.iter().map(|c| c.name.clone()).collect();
            index.insert(
                &segments[1],
                &segments[2],
                asset.path.clone(),
                Some(columns),
            );
        }

        let mut edges: Vec<LineageEdge> = Vec::new();
        for asset in assets.iter().filter(|a| a.kind == AssetKind::Routine) {
            let Some(body) = asset.routine.as_ref().and_then(|r| r.definition.as_ref()) else {
                continue;
            };
            // Best effort: a body the parser cannot read (or that names no known relation) is
            // simply no lineage, and not an error of the scan.
            match routine_lineage(
                &asset.path,
                &asset.path.segments()[1],
                body,
                &index,
                &sqlparser::dialect::PostgreSqlDialect {},
            ) {
                Ok(found) => edges.extend(found),
                Err(error) => {
                    tracing::debug!(routine = %asset.path, %error, "no lineage for this routine")
                }
            }
        }
        for asset in leaves() {
            edges.extend(asset.foreign_key_lineage());
            let Some(sql) = &asset.view_definition else {
                continue;
            };
            let columns: Vec<String> = asset.columns.iter().map(|c| c.name.clone()).collect();
            match view_lineage(
                &asset.path,
                &asset.path.segments()[1],
                &columns,
                sql,
                &index,
                &sqlparser::dialect::PostgreSqlDialect {},
            ) {
                Ok(found) => edges.extend(found),
                Err(error) => {
                    Counters::bump(&self.counters.errors);
                    tracing::warn!(view = %asset.path, %error, "no lineage for this view");
                }
            }
        }
        let mut seen = HashSet::new();
        edges.retain(|edge| seen.insert(edge.clone()));
        edges.sort_by(|a, b| {
            (
                &a.from,
                &a.to,
                a.kind.as_str(),
                &a.from_columns,
                &a.to_columns,
            )
                .cmp(&(
                    &b.from,
                    &b.to,
                    b.kind.as_str(),
                    &b.from_columns,
                    &b.to_columns,
                ))
        });
        edges
    }

    async fn run_batch(
        &self,
        relations: Vec<&Relation>,
        database: &str,
    ) -> Result<Vec<AssetSchema>, DiscoveryError> {
        let oids: Vec<Oid> = relations.iter().map(|r| r.oid).collect();
        let views: Vec<Oid> = relations
            .iter()
            .filter(|r| r.kind.has_definition())
            .map(|r| r.oid)
            .collect();
        let partitioned: Vec<Oid> = relations
            .iter()
            .filter(|r| r.kind == RelationKind::PartitionedTable)
            .map(|r| r.oid)
            .collect();
        let mut attempt = 0;
        let rows = loop {
            match self.fetch_batch(&oids, &views, &partitioned).await {
                Ok(rows) => break rows,
                Err(failed) => {
                    let backoff = self.after_failure("batch", attempt, failed)?;
                    attempt += 1;
                    tokio::time::sleep(backoff).await;
                }
            }
        };
        catalog::assemble(database, &relations, &rows).map_err(|error| {
            Counters::bump(&self.counters.errors);
            DiscoveryError::Query {
                message: error.to_string(),
                retries: 0,
            }
        })
    }

    async fn fetch_overview(&self) -> Result<(Overview, Vec<Relation>, Vec<Object>), Failed> {
        let mut connection = self.acquire().await?;
        let fetched = self.overview_queries(&mut connection).await;
        Self::release(&mut connection, &fetched);
        let (overview, relations, found) = fetched?;
        let overview = match overview.first() {
            Some(row) => Overview::decode(row)?,
            None => {
                return Err(Failed {
                    message: "the overview query returned no row".to_owned(),
                    retryable: false,
                    poisoned: false,
                })
            }
        };
        let mut decoded = Vec::with_capacity(relations.len());
        for row in &relations {
            decoded.extend(Relation::decode(row)?);
        }
        let objects = decode_objects(&overview.database, &found).map_err(|error| Failed {
            message: error.to_string(),
            retryable: false,
            poisoned: false,
        })?;
        Ok((overview, decoded, objects))
    }

    async fn overview_queries(
        &self,
        connection: &mut PgConnection,
    ) -> Result<(Vec<PgRow>, Vec<PgRow>, ObjectRows), Failed> {
        let mut tx = self.begin(connection).await?;
        let overview = self.fetch(&mut tx, catalog::OVERVIEW, None).await?;
        let relations = self.fetch(&mut tx, catalog::RELATIONS, None).await?;
        let types = self.fetch(&mut tx, objects::TYPES, None).await?;
        let mut composite: Vec<Oid> = Vec::new();
        for row in &types {
            composite.extend(sqlx::Row::try_get::<Option<Oid>, _>(row, "relid")?);
        }
        let attributes = if composite.is_empty() {
            Vec::new()
        } else {
            self.fetch(&mut tx, catalog::COLUMNS, Some(&composite))
                .await?
        };
        let found = ObjectRows {
            types,
            attributes,
            routines: self.fetch(&mut tx, objects::ROUTINES, None).await?,
            sequences: self.fetch(&mut tx, objects::SEQUENCES, None).await?,
        };
        self.bounded(tx.commit()).await?;
        Ok((overview, relations, found))
    }

    async fn fetch_batch(
        &self,
        oids: &[Oid],
        views: &[Oid],
        partitioned: &[Oid],
    ) -> Result<BatchRows, Failed> {
        let mut connection = self.acquire().await?;
        let fetched = self
            .batch_queries(&mut connection, oids, views, partitioned)
            .await;
        Self::release(&mut connection, &fetched);
        fetched
    }

    async fn batch_queries(
        &self,
        connection: &mut PgConnection,
        oids: &[Oid],
        views: &[Oid],
        partitioned: &[Oid],
    ) -> Result<BatchRows, Failed> {
        let mut tx = self.begin(connection).await?;
        let mut rows = BatchRows {
            columns: self.fetch(&mut tx, catalog::COLUMNS, Some(oids)).await?,
            constraints: self
                .fetch(&mut tx, catalog::CONSTRAINTS, Some(oids))
                .await?,
            indexes: self.fetch(&mut tx, catalog::INDEXES, Some(oids)).await?,
            triggers: self.fetch(&mut tx, catalog::TRIGGERS, Some(oids)).await?,
            ..BatchRows::default()
        };
        if !views.is_empty() {
            rows.view_definitions = self
                .fetch(&mut tx, catalog::VIEW_DEFINITIONS, Some(views))
                .await?;
        }
        if !partitioned.is_empty() {
            rows.partitions = self
                .fetch(&mut tx, catalog::PARTITIONS, Some(partitioned))
                .await?;
            rows.partition_foreign_keys = self
                .fetch(&mut tx, catalog::PARTITION_FOREIGN_KEYS, Some(partitioned))
                .await?;
        }
        self.bounded(tx.commit()).await?;
        Ok(rows)
    }

    async fn acquire(&self) -> Result<PoolConnection<Postgres>, Failed> {
        // The pool bounds the wait itself (`acquire_timeout`).
        Ok(self.pool.acquire().await?)
    }

    /// A connection whose unit of work was abandoned mid-conversation (a client-side timeout,
    /// an I/O error) may still owe or expect protocol messages; sqlx would hang testing it on
    /// its way back into the pool. Such a connection is closed instead of reused.
    fn release<T>(connection: &mut PoolConnection<Postgres>, outcome: &Result<T, Failed>) {
        if outcome.as_ref().is_err_and(|failed| failed.poisoned) {
            connection.close_on_drop();
        }
    }

    /// A read-only transaction with the session settings applied (counted as one query).
    async fn begin<'c>(
        &self,
        connection: &'c mut PgConnection,
    ) -> Result<Transaction<'c, Postgres>, Failed> {
        let mut tx = self.bounded(connection.begin_with(catalog::BEGIN)).await?;
        Counters::bump(&self.counters.queries);
        let started = Instant::now();
        // A `&str` without arguments goes over the simple query protocol: both `SET`s in one
        // round trip.
        let connection: &mut PgConnection = &mut tx;
        self.bounded(connection.execute(self.settings.as_str()))
            .await?;
        self.observe(started.elapsed(), false);
        Ok(tx)
    }

    /// Runs one catalog query, binding `oids` as `$1` when given. Unnamed (not cached) prepared
    /// statements: each text runs only a few times per connection, and nothing is left behind
    /// on the server connection (which a transaction-pooling PgBouncer hands to other clients).
    async fn fetch(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        sql: &'static str,
        oids: Option<&[Oid]>,
    ) -> Result<Vec<PgRow>, Failed> {
        Counters::bump(&self.counters.queries);
        let started = Instant::now();
        let query = sqlx::query(sql).persistent(false);
        let query = match oids {
            Some(oids) => query.bind(oids),
            None => query,
        };
        let rows = self.bounded(query.fetch_all(&mut **tx)).await?;
        self.observe(started.elapsed(), false);
        Ok(rows)
    }

    /// `work`, given up on by the client [`CLIENT_GRACE`] after the server's own
    /// `statement_timeout` (the query timeout) should have stopped it: normally the server
    /// cancels a slow statement and answers with an error, which leaves the connection usable;
    /// the client-side limit is for a server or network that stopped answering at all.
    async fn bounded<T>(
        &self,
        work: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, Failed> {
        let limit = self.options.query_timeout + CLIENT_GRACE;
        match tokio::time::timeout(limit, work).await {
            Ok(result) => Ok(result?),
            Err(_elapsed) => Err(Failed {
                message: format!("no answer from the server within {} ms", limit.as_millis()),
                retryable: true,
                poisoned: true,
            }),
        }
    }

    /// Books a failed unit of work (an error, and a retry if one is left) and says what to do:
    /// wait this long and try again, or give up with the error. Backoff doubles from
    /// [`FIRST_BACKOFF`] for each of at most [`MAX_RETRIES`] retries.
    /// The loop itself is written out at the two call sites (overview and batch).
    fn after_failure(
        &self,
        what: &'static str,
        attempt: u64,
        failed: Failed,
    ) -> Result<Duration, DiscoveryError> {
        Counters::bump(&self.counters.errors);
        self.observe(Duration::ZERO, true);
        let message = crate::probe::redact_secret(failed.message, self.secret);
        let give_up =
            !failed.retryable || attempt >= MAX_RETRIES || self.failing.load(Ordering::Relaxed);
        if give_up {
            tracing::error!(unit = what, retries = attempt, error = %message, "catalog work failed");
            return Err(DiscoveryError::Query {
                message,
                retries: attempt,
            });
        }
        let backoff = FIRST_BACKOFF * 2u32.pow(attempt as u32);
        tracing::warn!(
            unit = what,
            attempt,
            backoff_ms = backoff.as_millis() as u64,
            error = %message,
            "catalog work failed, retrying"
        );
        Counters::bump(&self.counters.retries);
        Ok(backoff)
    }

    fn knobs(&self) -> Knobs {
        self.pace
            .lock()
            .map(|pace| pace.knobs())
            .unwrap_or_else(|poisoned| poisoned.into_inner().knobs())
    }

    fn strategy(&self) -> ScanStrategy {
        self.pace
            .lock()
            .map(|pace| pace.current())
            .unwrap_or_else(|poisoned| poisoned.into_inner().current())
    }

    /// Feeds one outcome to the pace; a change of strategy is logged and reported.
    fn observe(&self, latency: Duration, failed: bool) {
        let changed = {
            let mut pace = self
                .pace
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            pace.observe(latency, failed)
        };
        if changed {
            tracing::warn!(
                latency_ms = latency.as_millis() as u64,
                failed,
                strategy = %self.strategy(),
                "auto strategy stepping down"
            );
            self.report();
        }
    }

    fn report(&self) {
        (self.progress)(DiscoveryProgress {
            assets_done: self.counters.assets_done.load(Ordering::Relaxed),
            assets_total: Some(self.counters.assets_total.load(Ordering::Relaxed)),
            current_strategy: self.strategy(),
        });
    }
}

/// The rows of the per-discovery object queries (types, their attributes, routines, sequences).
struct ObjectRows {
    types: Vec<PgRow>,
    attributes: Vec<PgRow>,
    routines: Vec<PgRow>,
    sequences: Vec<PgRow>,
}

fn decode_objects(
    database: &str,
    rows: &ObjectRows,
) -> Result<Vec<Object>, catalog::AssembleError> {
    let mut found = Vec::new();
    for row in &rows.types {
        found.extend(objects::decode_type(database, row)?);
    }
    objects::attach_attributes(database, &mut found, &rows.attributes)?;
    for row in &rows.routines {
        match objects::decode_routine(database, row) {
            Ok(routine) => found.push(routine),
            // A signature longer than a path segment may be: left out, the scan goes on.
            Err(catalog::AssembleError::Path(error)) => {
                tracing::warn!(%error, "a routine was left out")
            }
            Err(error) => return Err(error),
        }
    }
    for row in &rows.sequences {
        found.push(objects::decode_sequence(database, row)?);
    }
    Ok(found)
}

fn path<const N: usize>(segments: [&str; N]) -> Result<AssetPath, DiscoveryError> {
    AssetPath::new(segments).map_err(unsupported)
}

fn unsupported(error: domain::discovery::AssetPathError) -> DiscoveryError {
    DiscoveryError::Unsupported(format!("catalog name is not a valid asset path: {error}"))
}
