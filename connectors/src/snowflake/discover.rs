//! [`discover`]: the tables and views of a Snowflake account (the configured database, or every
//! database `SHOW DATABASES` lists) in scope, with columns, primary keys, comments, row counts
//! and view definitions, and the lineage the view definitions declare.
//!
//! How it runs:
//!
//! 1. One HTTP client for the whole discovery, dropped (closing its connections) before
//!    `discover` returns. The credential is read first: a bad key fails at once as `Auth`.
//! 2. `SHOW DATABASES`, then for each database that may hold something in scope one statement
//!    each for schemas, tables, views, primary keys and foreign keys
//!    ([`catalog`](super::catalog)). Databases and schemas are reported (kinds `database` and
//!    `schema`) when the scope may contain them.
//! 3. The columns of the relations in scope: one `INFORMATION_SCHEMA.COLUMNS` statement per
//!    schema, or per batch of its relations when the scope takes only some, several statements
//!    in flight. [`Tuning`] sets how many (conservative 1, balanced 2, aggressive 4, never more
//!    than the pool's `max_connections`) and the batch size (50 / 200 / 500); `auto` starts
//!    balanced and steps down to conservative for the rest of the scan when a statement is
//!    slower than [`Tuning::SLOW_STATEMENT`] or had to be resubmitted.
//! 4. Lineage: each view's definition (`CREATE VIEW … AS …`) parsed in the Snowflake dialect by
//!    `crate::view_sql`, unquoted names folded to upper case, resolved within its database. A
//!    definition that does not parse is counted in `metrics.errors` and logged; the scan goes on.
//!    Each declared foreign key is a column-level edge, referenced → referencing, as for the
//!    other SQL engines (Snowflake does not enforce them; they still say how tables join).
//!
//! The SQL API resubmits failed requests itself (see `api.rs`); a statement that still fails
//! fails the discovery, except `SHOW PRIMARY KEYS` and `SHOW IMPORTED KEYS`, which roles without
//! the privilege may not run: keys are then missing, and the failure is counted and logged.

use super::api::{Api, ApiError, Counters, ResultSet, Statement};
use super::auth::Credentials;
use super::catalog::{self, Database, Relation};
use super::connect::http_client;
use super::options::SnowflakeTarget;
use crate::probe::{Discovery, DiscoveryError, DiscoveryOptions, DiscoveryProgress};
use crate::view_sql::{view_lineage, RelationIndex, UnquotedCase};
use domain::discovery::{AssetKind, AssetPath, AssetSchema, ColumnSchema, ForeignKey, LineageEdge};
use domain::scan::{ScanMetrics, ScanStrategy};
use futures::stream::{FuturesUnordered, StreamExt};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Snowflake's own database (account usage views): not user data, left out unless configured.
const SYSTEM_DATABASE: &str = "SNOWFLAKE";

/// What a concrete strategy means here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tuning {
    pub strategy: ScanStrategy,
    /// `COLUMNS` statements in flight at once.
    pub statements: usize,
    /// Relations named in one `COLUMNS` statement of a partly scoped schema.
    pub batch_size: usize,
}

impl Tuning {
    /// A statement slower than this makes `auto` step down: `INFORMATION_SCHEMA` answers in
    /// about a second on a healthy account, so several mean a busy warehouse or cloud services.
    pub(crate) const SLOW_STATEMENT: Duration = Duration::from_secs(10);

    pub(crate) fn of(strategy: ScanStrategy) -> Self {
        let strategy = strategy.initial();
        let (statements, batch_size) = match strategy {
            ScanStrategy::Conservative => (1, 50),
            ScanStrategy::Aggressive => (4, 500),
            ScanStrategy::Balanced | ScanStrategy::Auto => (2, 200),
        };
        Self {
            strategy,
            statements,
            batch_size,
        }
    }
}

/// Discovers what `options.scope` covers in `target`'s account.
///
/// `progress` is called once the relations are listed (with the total) and after each `COLUMNS`
/// statement. Assets come sorted by path and [normalized](AssetSchema::normalized), lineage
/// sorted too. Fails with [`DiscoveryError::Connection`] when the account cannot be reached or
/// refuses the credential, and with [`DiscoveryError::Query`] when a catalog statement fails
/// (after the API client's retries).
#[tracing::instrument(
    name = "snowflake.discover",
    skip_all,
    fields(
        account = %target.account,
        base_url = %target.base_url,
        database = ?target.database,
        strategy = %options.strategy,
    )
)]
pub async fn discover(
    target: &SnowflakeTarget,
    options: &DiscoveryOptions,
    progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
) -> Result<Discovery, DiscoveryError> {
    let started = Instant::now();
    let credentials = Credentials::of(target)?;
    let tuning = Tuning::of(options.strategy);
    let most = tuning
        .statements
        .min(target.pool.max_connections.max(1) as usize);
    let connect_timeout = target.request_timeout.min(options.query_timeout);
    let http = http_client(target, connect_timeout, most).await?;
    let api = Api::new(http, target, credentials);
    let run = Run {
        api: &api,
        target,
        options,
        progress,
        requested: options.strategy,
        tuning: Mutex::new(tuning),
        most,
        errors: AtomicU64::new(0),
        assets_done: AtomicU64::new(0),
        assets_total: AtomicU64::new(0),
    };
    let outcome = run.discover().await;
    let errors = run.errors.load(Ordering::Relaxed);
    let mut metrics = ScanMetrics {
        queries_executed: Counters::get(&api.counters.requests),
        retries: Counters::get(&api.counters.retries),
        errors: Counters::get(&api.counters.errors) + errors,
        ..ScanMetrics::default()
    };
    let scrub = api.scrub().map(str::to_owned);
    // Closes the client's connections.
    drop(api);
    let (assets, lineage) = outcome.map_err(|error| match error {
        Failed::Api(error) => error.into_discovery(scrub.as_deref(), metrics.retries),
        Failed::Other(error) => error,
    })?;
    for asset in &assets {
        match asset.kind {
            AssetKind::Schema => metrics.schemas += 1,
            AssetKind::Table => metrics.tables += 1,
            AssetKind::View => metrics.views += 1,
            _ => {}
        }
        metrics.columns += asset.columns.len() as u64;
    }
    metrics.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(
        assets = assets.len(),
        lineage = lineage.len(),
        queries = metrics.queries_executed,
        retries = metrics.retries,
        errors = metrics.errors,
        duration_ms = metrics.duration_ms,
        "discovery finished"
    );
    Ok(Discovery {
        assets,
        lineage,
        metrics,
    })
}

/// Why a discovery stopped.
enum Failed {
    Api(ApiError),
    Other(DiscoveryError),
}

impl From<ApiError> for Failed {
    fn from(error: ApiError) -> Self {
        Failed::Api(error)
    }
}

impl From<domain::discovery::AssetPathError> for Failed {
    fn from(error: domain::discovery::AssetPathError) -> Self {
        Failed::Other(DiscoveryError::Unsupported(format!(
            "catalog name is not a valid asset path: {error}"
        )))
    }
}

/// Something per table, keyed by `(schema, table)`.
type ByTable<T> = HashMap<(String, String), T>;

/// One database's catalog, listed.
struct Listed {
    database: Database,
    relations: Vec<Relation>,
    views: HashMap<(String, String), String>,
    primary_keys: ByTable<Vec<String>>,
    foreign_keys: ByTable<Vec<ForeignKey>>,
}

/// One `COLUMNS` statement's worth of relations.
struct Unit<'l> {
    listed: &'l Listed,
    schema: String,
    /// The relations whose columns the statement reads.
    relations: Vec<&'l Relation>,
    /// Whether they are all of the schema's relations (the statement then names none).
    whole_schema: bool,
}

struct Run<'a> {
    api: &'a Api<'a>,
    target: &'a SnowflakeTarget,
    options: &'a DiscoveryOptions,
    progress: &'a (dyn Fn(DiscoveryProgress) + Send + Sync),
    requested: ScanStrategy,
    tuning: Mutex<Tuning>,
    /// Statements in flight never exceed this.
    most: usize,
    /// Failures that did not stop the scan (views without lineage, missing keys).
    errors: AtomicU64,
    assets_done: AtomicU64,
    assets_total: AtomicU64,
}

impl Run<'_> {
    async fn discover(&self) -> Result<(Vec<AssetSchema>, Vec<LineageEdge>), Failed> {
        let scope = &self.options.scope;
        let databases = self.databases().await?;
        let mut assets: Vec<AssetSchema> = Vec::new();
        let mut listed: Vec<Listed> = Vec::new();
        for database in databases {
            let path = AssetPath::new([database.name.as_str()])?;
            if !scope.may_contain(&path) {
                continue;
            }
            let mut asset = AssetSchema::new(AssetKind::Database, path);
            asset.comment = database.comment.clone();
            assets.push(asset);
            let schemas =
                catalog::decode_schemata(&self.execute(catalog::schemata(&database.name)).await?)?;
            let mut schemas_in_scope: HashSet<String> = HashSet::new();
            for schema in schemas {
                let path = AssetPath::new([database.name.as_str(), schema.name.as_str()])?;
                if scope.may_contain(&path) {
                    let mut asset = AssetSchema::new(AssetKind::Schema, path);
                    asset.comment = schema.comment;
                    assets.push(asset);
                    schemas_in_scope.insert(schema.name);
                }
            }
            let relations = if schemas_in_scope.is_empty() {
                Vec::new()
            } else {
                catalog::decode_tables(&self.execute(catalog::tables(&database.name)).await?)?
            };
            let mut in_scope = 0;
            for relation in &relations {
                if schemas_in_scope.contains(&relation.schema)
                    && scope.matches(&relation.path(&database.name)?)
                {
                    in_scope += 1;
                }
            }
            let views = if relations
                .iter()
                .any(|r| r.kind == AssetKind::View && schemas_in_scope.contains(&r.schema))
            {
                catalog::decode_views(&self.execute(catalog::views(&database.name)).await?)?
            } else {
                HashMap::new()
            };
            let (primary_keys, foreign_keys) = if in_scope > 0 {
                (
                    self.keys(
                        &database.name,
                        catalog::primary_keys,
                        catalog::decode_primary_keys,
                    )
                    .await?,
                    self.keys(
                        &database.name,
                        catalog::imported_keys,
                        catalog::decode_imported_keys,
                    )
                    .await?,
                )
            } else {
                (HashMap::new(), HashMap::new())
            };
            // Relations of schemas out of scope stay listed: views in scope may read them.
            listed.push(Listed {
                database,
                relations,
                views,
                primary_keys,
                foreign_keys,
            });
        }

        let units = self.units(&listed)?;
        let total: usize = units.iter().map(|u| u.relations.len()).sum();
        self.assets_total
            .store((assets.len() + total) as u64, Ordering::Relaxed);
        self.assets_done
            .store(assets.len() as u64, Ordering::Relaxed);
        self.report();

        assets.extend(self.columns(units).await?);
        assets.sort_by(|a, b| a.path.cmp(&b.path));
        let lineage = self.lineage(&listed, &assets);
        Ok((assets, lineage))
    }

    /// The databases to look into: the configured one (as `SHOW DATABASES` spells it), or all
    /// but Snowflake's own.
    async fn databases(&self) -> Result<Vec<Database>, Failed> {
        let all = catalog::decode_databases(&self.execute(catalog::show_databases()).await?)?;
        let Some(configured) = self.target.database.as_deref() else {
            return Ok(all
                .into_iter()
                .filter(|d| d.name != SYSTEM_DATABASE)
                .collect());
        };
        // An unquoted identifier names the upper-cased database, as in the request context.
        let found = all
            .iter()
            .find(|d| d.name == configured)
            .or_else(|| all.iter().find(|d| d.name == configured.to_uppercase()));
        match found {
            Some(database) => Ok(vec![database.clone()]),
            None => Err(Failed::Other(DiscoveryError::Query {
                message: format!(
                    "database {configured} does not exist or is not visible to the role"
                ),
                retries: 0,
            })),
        }
    }

    /// `SHOW PRIMARY KEYS` or `SHOW IMPORTED KEYS IN DATABASE`, per table; a refused statement
    /// leaves those keys out.
    async fn keys<K>(
        &self,
        database: &str,
        statement: fn(&str) -> Statement,
        decode: fn(&ResultSet) -> Result<ByTable<K>, ApiError>,
    ) -> Result<ByTable<K>, Failed> {
        let statement = statement(database);
        let what = statement.purpose;
        match self.execute(statement).await {
            Ok(result) => Ok(decode(&result)?),
            Err(error @ ApiError::Statement { .. }) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(database, keys = what, %error, "no keys of this kind for this database");
                Ok(HashMap::new())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The `COLUMNS` statements to run: per schema, its relations in scope, whole or in batches.
    fn units<'l>(&self, listed: &'l [Listed]) -> Result<Vec<Unit<'l>>, Failed> {
        let scope = &self.options.scope;
        let batch_size = self.tuning().batch_size;
        let mut units = Vec::new();
        for database in listed {
            let mut by_schema: BTreeMap<&str, (usize, Vec<&Relation>)> = BTreeMap::new();
            for relation in &database.relations {
                let entry = by_schema.entry(relation.schema.as_str()).or_default();
                entry.0 += 1;
                if scope.may_contain(&AssetPath::new([
                    database.database.name.as_str(),
                    relation.schema.as_str(),
                ])?) && scope.matches(&relation.path(&database.database.name)?)
                {
                    entry.1.push(relation);
                }
            }
            for (schema, (count, relations)) in by_schema {
                if relations.is_empty() {
                    continue;
                }
                if relations.len() == count {
                    units.push(Unit {
                        listed: database,
                        schema: schema.to_owned(),
                        relations,
                        whole_schema: true,
                    });
                    continue;
                }
                for batch in relations.chunks(batch_size) {
                    units.push(Unit {
                        listed: database,
                        schema: schema.to_owned(),
                        relations: batch.to_vec(),
                        whole_schema: false,
                    });
                }
            }
        }
        Ok(units)
    }

    /// Runs the units, at most the tuning's number at once, and assembles their relations.
    async fn columns(&self, units: Vec<Unit<'_>>) -> Result<Vec<AssetSchema>, Failed> {
        let mut queue = units.into_iter();
        let mut in_flight = FuturesUnordered::new();
        let mut assets = Vec::new();
        loop {
            // Re-read every round: an `auto` scan that stepped down starts fewer from here on.
            let limit = self.tuning().statements.min(self.most);
            while in_flight.len() < limit {
                let Some(unit) = queue.next() else {
                    break;
                };
                in_flight.push(self.unit(unit));
            }
            let Some(done) = in_flight.next().await else {
                break;
            };
            // A failure ends the scan; dropping the other futures abandons their requests,
            // which holds nothing on the server (each statement is its own request).
            let batch = done?;
            self.assets_done
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            assets.extend(batch);
            self.report();
        }
        Ok(assets)
    }

    async fn unit(&self, unit: Unit<'_>) -> Result<Vec<AssetSchema>, Failed> {
        let database = unit.listed.database.name.as_str();
        let names: Vec<String> = unit.relations.iter().map(|r| r.name.clone()).collect();
        let statement = catalog::columns(
            database,
            &unit.schema,
            (!unit.whole_schema).then_some(names.as_slice()),
        );
        let mut columns = catalog::decode_columns(&self.execute(statement).await?)?;
        let mut assets = Vec::with_capacity(unit.relations.len());
        for relation in unit.relations {
            let key = (relation.schema.clone(), relation.name.clone());
            let found: Vec<ColumnSchema> = columns.remove(&relation.name).unwrap_or_default();
            assets.push(catalog::assemble(
                database,
                relation,
                found,
                (
                    unit.listed.primary_keys.get(&key),
                    unit.listed.foreign_keys.get(&key),
                ),
                unit.listed.views.get(&key).cloned(),
            )?);
        }
        Ok(assets)
    }

    /// Foreign-key edges of every discovered table and view edges of every discovered view,
    /// deduplicated and sorted.
    fn lineage(&self, listed: &[Listed], assets: &[AssetSchema]) -> Vec<LineageEdge> {
        let discovered: HashMap<&AssetPath, &AssetSchema> =
            assets.iter().map(|a| (&a.path, a)).collect();
        let mut edges: Vec<LineageEdge> = assets
            .iter()
            .flat_map(AssetSchema::foreign_key_lineage)
            .collect();
        for database in listed {
            let name = database.database.name.as_str();
            let mut index = RelationIndex::new(name, None).with_unquoted_case(UnquotedCase::Upper);
            for relation in &database.relations {
                let Ok(path) = relation.path(name) else {
                    continue;
                };
                let columns = discovered
                    .get(&path)
                    .map(|a| a.columns.iter().map(|c| c.name.clone()).collect());
                index.insert(&relation.schema, &relation.name, path, columns);
            }
            for relation in &database.relations {
                let Ok(path) = relation.path(name) else {
                    continue;
                };
                let Some(asset) = discovered.get(&path) else {
                    continue;
                };
                let Some(sql) = &asset.view_definition else {
                    continue;
                };
                let columns: Vec<String> = asset.columns.iter().map(|c| c.name.clone()).collect();
                match view_lineage(
                    &path,
                    &relation.schema,
                    &columns,
                    sql,
                    &index,
                    &sqlparser::dialect::SnowflakeDialect {},
                ) {
                    Ok(found) => edges.extend(found),
                    Err(error) => {
                        self.errors.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(view = %path, %error, "no lineage for this view");
                    }
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

    /// One catalog statement, bounded by the query timeout; feeds `auto`.
    async fn execute(&self, statement: Statement) -> Result<ResultSet, ApiError> {
        let retries_before = Counters::get(&self.api.counters.retries);
        let started = Instant::now();
        let outcome = self
            .api
            .execute(&statement, self.options.query_timeout)
            .await;
        let resubmitted = Counters::get(&self.api.counters.retries) > retries_before;
        self.observe(started.elapsed(), outcome.is_err() || resubmitted);
        outcome
    }

    fn tuning(&self) -> Tuning {
        *self.tuning.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Steps an `auto` scan down to conservative after a slow or troubled statement.
    fn observe(&self, took: Duration, troubled: bool) {
        if self.requested != ScanStrategy::Auto {
            return;
        }
        let stepped = {
            let mut tuning = self.tuning.lock().unwrap_or_else(|p| p.into_inner());
            let struggling = troubled || took > Tuning::SLOW_STATEMENT;
            if struggling && tuning.strategy != ScanStrategy::Conservative {
                *tuning = Tuning::of(ScanStrategy::Conservative);
                true
            } else {
                false
            }
        };
        if stepped {
            tracing::warn!(
                took_ms = took.as_millis() as u64,
                troubled,
                "Snowflake discovery slows down to the conservative strategy"
            );
            self.report();
        }
    }

    fn report(&self) {
        (self.progress)(DiscoveryProgress {
            assets_done: self.assets_done.load(Ordering::Relaxed),
            assets_total: Some(self.assets_total.load(Ordering::Relaxed)),
            current_strategy: self.tuning().strategy,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_set_concurrency_and_batches() {
        assert_eq!(Tuning::of(ScanStrategy::Conservative).statements, 1);
        assert_eq!(Tuning::of(ScanStrategy::Aggressive).batch_size, 500);
        let auto = Tuning::of(ScanStrategy::Auto);
        assert_eq!(auto.strategy, ScanStrategy::Balanced);
        assert_eq!(auto.statements, 2);
    }
}
