//! [`discover`]: the databases, collections and views of a MongoDB deployment, each collection's
//! fields inferred from sampled documents.
//!
//! How it runs:
//!
//! 1. One client (see `connect.rs`), read preference `primaryPreferred`. A `ping` comes first so
//!    that an unreachable server, a wrong password or a TLS problem is reported as such. The
//!    client is shut down — on failure too — before `discover` returns, which closes every
//!    connection it opened.
//! 2. The configured database only, or every database `listDatabases` shows except `admin`,
//!    `config` and `local`; those the scope cannot reach are not read at all. A database in scope
//!    is an asset itself (kind `database`).
//! 3. Per database, `listCollections`: every collection, time-series collection and view in
//!    scope (`system.*` collections aside). For a collection: `listIndexes`, the
//!    `estimatedDocumentCount` as row estimate, and its fields from sampled documents (see
//!    `fields.rs`). For a view: its fields the same way, its pipeline as view definition, and
//!    lineage from the collections it reads (`viewOn`, `$lookup`, `$graphLookup`, `$unionWith`).
//! 4. Sampling reads the first and the last documents by `_id` (half each; the strategy sets how
//!    many: conservative 20, balanced 100, aggressive 500), not `$sample`: the same documents
//!    give the same schema, so a rescan of unchanged data has the same fingerprints.
//!
//! Every read is bounded by the query timeout (server side with `maxTimeMS` where the command
//! takes it, and client side a little later). A read that fails on the network or times out is
//! retried up to [`MAX_RETRIES`] times with exponential backoff; a collection dropped meanwhile
//! is skipped. `auto` starts balanced and steps down to conservative for the rest of the scan
//! after a slow or retried sampling read. Metrics: `schemas` counts databases, `collections`
//! the collections, `views` the views, `queries_executed` every command sent.

use super::connect::{self, classified, client, close, hosts, read_error, Connected};
use super::fields::{self, Shape};
use super::options::MongoTarget;
use crate::probe::{Discovery, DiscoveryError, DiscoveryOptions, DiscoveryProgress};
use domain::discovery::{AssetKind, AssetPath, AssetSchema, IndexSchema, LineageEdge, LineageKind};
use domain::scan::{ScanMetrics, ScanScope, ScanStrategy};
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::error::Error;
use mongodb::Client;
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// Retries of one failed read before the discovery gives up.
pub const MAX_RETRIES: u64 = 2;
/// The wait before the first retry; doubled for each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// How much longer than the server's `maxTimeMS` the client waits for an answer.
const CLIENT_GRACE: Duration = Duration::from_millis(500);
/// Databases that hold the server's own state, never user data.
const SYSTEM_DATABASES: [&str; 3] = ["admin", "config", "local"];

/// What a concrete strategy means here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tuning {
    strategy: ScanStrategy,
    /// Documents sampled per collection.
    documents: usize,
}

impl Tuning {
    fn of(strategy: ScanStrategy) -> Self {
        let strategy = strategy.initial();
        let documents = match strategy {
            ScanStrategy::Conservative => 20,
            ScanStrategy::Aggressive => 500,
            ScanStrategy::Balanced | ScanStrategy::Auto => 100,
        };
        Self {
            strategy,
            documents,
        }
    }
}

/// Discovers the databases, collections and views of `target` that `options.scope` covers, each
/// collection and view with the fields its documents show.
///
/// `progress` is called once the collections are listed (`assets_total` known from then on) and
/// after every collection. Assets come sorted by path and [normalized](AssetSchema::normalized).
///
/// ```no_run
/// # async fn example(target: connectors::mongodb::MongoTarget) {
/// use connectors::probe::DiscoveryOptions;
///
/// let discovery = connectors::mongodb::discover(&target, &DiscoveryOptions::default(), &|p| {
///     println!("{}/{:?} assets", p.assets_done, p.assets_total)
/// })
/// .await
/// .unwrap();
/// for asset in &discovery.assets {
///     println!("{} ({:?} documents)", asset.path, asset.row_estimate);
/// }
/// # }
/// ```
#[tracing::instrument(
    name = "mongodb.discover",
    skip_all,
    fields(
        hosts = %hosts(target),
        replica_set = ?target.replica_set,
        database = ?target.database,
        strategy = %options.strategy,
    )
)]
pub async fn discover(
    target: &MongoTarget,
    options: &DiscoveryOptions,
    progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
) -> Result<Discovery, DiscoveryError> {
    let started = Instant::now();
    if let Some(database) = &target.database {
        let path = AssetPath::new([database.as_str()])
            .map_err(|error| DiscoveryError::Unsupported(error.to_string()))?;
        if !options.scope.may_contain(&path) {
            // Nothing the scope covers can be here: no connection at all.
            return Ok(finish(Discovery::default(), started));
        }
    }
    let timeout = if target.pool.acquire_timeout.is_zero() {
        options.query_timeout
    } else {
        target.pool.acquire_timeout
    };
    let Connected { client, criteria } = client(target, timeout, timeout).await?;
    let mut run = Run {
        client: client.clone(),
        criteria,
        target,
        query_timeout: options.query_timeout,
        tuning: Tuning::of(options.strategy),
        adaptive: options.strategy == ScanStrategy::Auto,
        slow: options.query_timeout / 4,
        metrics: ScanMetrics::default(),
    };
    let outcome = run.discover(&options.scope, progress).await;
    let metrics = run.metrics;
    drop(run);
    close(client).await;
    let discovery = outcome?;
    tracing::info!(
        assets = discovery.assets.len(),
        queries = metrics.queries_executed,
        retries = metrics.retries,
        errors = metrics.errors,
        "MongoDB discovery finished"
    );
    Ok(finish(discovery, started))
}

fn finish(mut discovery: Discovery, started: Instant) -> Discovery {
    discovery.metrics.duration_ms =
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    discovery
}

/// One try of a read, owning what it needs (the driver's handles are cheap clones).
type Attempt<T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send>>;

/// A collection or view as `listCollections` describes it.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    view: bool,
    /// For a view: the collection it reads, and its pipeline.
    view_on: Option<String>,
    pipeline: Vec<Document>,
}

impl Entry {
    /// The entry of one `listCollections` document; `None` for a document without a name.
    fn parse(document: &Document) -> Option<Entry> {
        let name = document.get_str("name").ok()?.to_owned();
        let options = document.get_document("options").ok();
        let pipeline = options
            .and_then(|o| o.get_array("pipeline").ok())
            .map(|stages| {
                stages
                    .iter()
                    .filter_map(|stage| stage.as_document().cloned())
                    .collect()
            })
            .unwrap_or_default();
        Some(Entry {
            name,
            view: document.get_str("type").is_ok_and(|kind| kind == "view"),
            view_on: options
                .and_then(|o| o.get_str("viewOn").ok())
                .map(str::to_owned),
            pipeline,
        })
    }
}

/// One discovery's client, tuning and counters.
struct Run<'a> {
    client: Client,
    criteria: mongodb::options::SelectionCriteria,
    target: &'a MongoTarget,
    query_timeout: Duration,
    tuning: Tuning,
    adaptive: bool,
    /// A sampling read slower than this steps an `auto` scan down.
    slow: Duration,
    metrics: ScanMetrics,
}

impl Run<'_> {
    async fn discover(
        &mut self,
        scope: &ScanScope,
        progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
    ) -> Result<Discovery, DiscoveryError> {
        self.ping().await?;
        let mut assets = Vec::new();
        let mut lineage = Vec::new();
        let mut pending: Vec<(String, Entry, Vec<String>)> = Vec::new();
        for database in self.databases().await? {
            let Ok(path) = AssetPath::new([database.as_str()]) else {
                continue;
            };
            if !scope.may_contain(&path) {
                continue;
            }
            if scope.matches(&path) {
                assets.push(AssetSchema::new(AssetKind::Database, path.clone()));
                self.metrics.schemas += 1;
            }
            let entries = self.collections(&database).await?;
            let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
            for entry in entries {
                if entry.name.starts_with("system.") {
                    continue;
                }
                let in_scope = path
                    .child(entry.name.as_str())
                    .is_ok_and(|child| scope.matches(&child));
                if in_scope {
                    pending.push((database.clone(), entry, names.clone()));
                }
            }
        }
        let total = (assets.len() + pending.len()) as u64;
        self.report(progress, assets.len() as u64, total);
        for (database, entry, names) in pending {
            if let Some(asset) = self.describe(&database, &entry).await? {
                if entry.view {
                    lineage.extend(view_lineage(&asset.path, &entry, &names));
                }
                assets.push(asset);
            }
            self.report(progress, assets.len() as u64, total);
        }
        assets.sort_by(|a, b| a.path.cmp(&b.path));
        lineage.sort_by(|a: &LineageEdge, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        lineage.dedup();
        Ok(Discovery {
            assets: assets.into_iter().map(AssetSchema::normalized).collect(),
            lineage,
            metrics: self.metrics,
        })
    }

    fn report(&self, progress: &(dyn Fn(DiscoveryProgress) + Send + Sync), done: u64, total: u64) {
        progress(DiscoveryProgress {
            assets_done: done,
            assets_total: Some(total),
            current_strategy: self.tuning.strategy,
        });
    }

    /// Checks the connection once, so that a server out of reach fails as a connection problem.
    async fn ping(&mut self) -> Result<(), DiscoveryError> {
        self.metrics.queries_executed += 1;
        let admin = self.client.database("admin");
        let ping = admin
            .run_command(doc! { "ping": 1 })
            .selection_criteria(self.criteria.clone());
        match tokio::time::timeout(self.query_timeout + CLIENT_GRACE, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => {
                self.metrics.errors += 1;
                Err(DiscoveryError::Connection(classified(self.target, &error)))
            }
            Err(_) => {
                self.metrics.errors += 1;
                Err(DiscoveryError::Connection(connect::timed_out(
                    self.target,
                    self.query_timeout + CLIENT_GRACE,
                )))
            }
        }
    }

    /// The configured database, or every user database the server lists, sorted.
    async fn databases(&mut self) -> Result<Vec<String>, DiscoveryError> {
        if let Some(database) = &self.target.database {
            return Ok(vec![database.clone()]);
        }
        let admin = self.client.database("admin");
        let criteria = self.criteria.clone();
        let reply = self
            .read("listDatabases", || {
                let admin = admin.clone();
                let criteria = criteria.clone();
                Box::pin(async move {
                    admin
                        .run_command(doc! {
                            "listDatabases": 1,
                            "nameOnly": true,
                            "authorizedDatabases": true,
                        })
                        .selection_criteria(criteria)
                        .await
                })
            })
            .await?
            .unwrap_or_default();
        let mut names: Vec<String> = reply
            .get_array("databases")
            .map(|list| {
                list.iter()
                    .filter_map(|d| d.as_document()?.get_str("name").ok())
                    .filter(|name| !SYSTEM_DATABASES.contains(name))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// The collections and views of `database`, sorted by name.
    async fn collections(&mut self, database: &str) -> Result<Vec<Entry>, DiscoveryError> {
        let db = self.client.database(database);
        let criteria = self.criteria.clone();
        let documents = self
            .read("listCollections", || {
                let db = db.clone();
                let criteria = criteria.clone();
                Box::pin(async move {
                    db.run_cursor_command(doc! {
                        "listCollections": 1,
                        "nameOnly": false,
                        "authorizedCollections": true,
                    })
                    .selection_criteria(criteria)
                    .await?
                    .try_collect::<Vec<Document>>()
                    .await
                })
            })
            .await?
            .unwrap_or_default();
        let mut entries: Vec<Entry> = documents.iter().filter_map(Entry::parse).collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// The asset of one collection or view; `None` when it was dropped meanwhile.
    async fn describe(
        &mut self,
        database: &str,
        entry: &Entry,
    ) -> Result<Option<AssetSchema>, DiscoveryError> {
        let Ok(path) = AssetPath::new([database, entry.name.as_str()]) else {
            return Ok(None);
        };
        let kind = if entry.view {
            AssetKind::View
        } else {
            AssetKind::Collection
        };
        let mut asset = AssetSchema::new(kind, path);
        let collection = self
            .client
            .database(database)
            .collection::<Document>(&entry.name);
        if entry.view {
            asset.view_definition = Some(pipeline_json(&entry.pipeline));
            asset.comment = entry.view_on.as_ref().map(|on| format!("view on {on}"));
        } else {
            let Some(indexes) = self.indexes(database, &entry.name).await? else {
                return Ok(None);
            };
            asset.indexes = indexes;
            asset.row_estimate = self.count(&collection).await;
        }
        let Some(shape) = self.sample(&collection).await? else {
            return Ok(None);
        };
        if shape.dropped() > 0 {
            tracing::warn!(
                path = %asset.path,
                limit = fields::MAX_FIELDS,
                "collection has more distinct fields than a schema keeps; the rest are left out"
            );
        }
        asset.columns = shape.columns();
        if entry.view {
            self.metrics.views += 1;
        } else {
            self.metrics.collections += 1;
        }
        self.metrics.columns += asset.columns.len() as u64;
        Ok(Some(asset))
    }

    /// The indexes of a collection (`_id_` is the primary one); `None` when it is gone.
    async fn indexes(
        &mut self,
        database: &str,
        collection: &str,
    ) -> Result<Option<Vec<IndexSchema>>, DiscoveryError> {
        let db = self.client.database(database);
        let criteria = self.criteria.clone();
        let name = collection.to_owned();
        let documents = self
            .read("listIndexes", || {
                let db = db.clone();
                let criteria = criteria.clone();
                let name = name.clone();
                Box::pin(async move {
                    db.run_cursor_command(doc! { "listIndexes": name })
                        .selection_criteria(criteria)
                        .await?
                        .try_collect::<Vec<Document>>()
                        .await
                })
            })
            .await?;
        Ok(documents.map(|documents| documents.iter().filter_map(index).collect()))
    }

    /// `estimatedDocumentCount`, or `None` when the server cannot tell (the discovery goes on).
    async fn count(&mut self, collection: &mongodb::Collection<Document>) -> Option<i64> {
        let max_time = self.query_timeout;
        let criteria = self.criteria.clone();
        let counted = self
            .read("estimatedDocumentCount", || {
                let collection = collection.clone();
                let criteria = criteria.clone();
                Box::pin(async move {
                    collection
                        .estimated_document_count()
                        .max_time(max_time)
                        .selection_criteria(criteria)
                        .await
                })
            })
            .await;
        match counted {
            Ok(count) => count.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
            Err(error) => {
                tracing::warn!(error = %error, "no document count estimate");
                None
            }
        }
    }

    /// The shape of the first and last documents by `_id`; `None` when the collection is gone.
    async fn sample(
        &mut self,
        collection: &mongodb::Collection<Document>,
    ) -> Result<Option<Shape>, DiscoveryError> {
        let wanted = self.tuning.documents;
        let first_half = wanted.div_ceil(2);
        let started = Instant::now();
        let retries_before = self.metrics.retries;
        let Some(first) = self.first_documents(collection, 1, first_half).await? else {
            return Ok(None);
        };
        let mut documents = first;
        if documents.len() == first_half {
            // More may follow: the newest documents too, without those already read.
            let Some(last) = self
                .first_documents(collection, -1, wanted - first_half)
                .await?
            else {
                return Ok(None);
            };
            let ids: Vec<Option<Bson>> = documents.iter().map(|d| d.get("_id").cloned()).collect();
            for document in last {
                let id = document.get("_id").cloned();
                if id.is_none() || !ids.contains(&id) {
                    documents.push(document);
                }
            }
        }
        self.adapt(started.elapsed(), self.metrics.retries > retries_before);
        let mut shape = Shape::default();
        for document in &documents {
            shape.add(document);
        }
        debug_assert_eq!(shape.documents(), documents.len());
        Ok(Some(shape))
    }

    /// Up to `limit` documents in `_id` order (`direction` 1 ascending, -1 descending).
    async fn first_documents(
        &mut self,
        collection: &mongodb::Collection<Document>,
        direction: i32,
        limit: usize,
    ) -> Result<Option<Vec<Document>>, DiscoveryError> {
        if limit == 0 {
            return Ok(Some(Vec::new()));
        }
        let max_time = self.query_timeout;
        let criteria = self.criteria.clone();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read("find", || {
            let collection = collection.clone();
            let criteria = criteria.clone();
            Box::pin(async move {
                collection
                    .find(doc! {})
                    .sort(doc! { "_id": direction })
                    .limit(limit)
                    .batch_size(u32::try_from(limit).unwrap_or(u32::MAX))
                    .max_time(max_time)
                    .selection_criteria(criteria)
                    .await?
                    .try_collect::<Vec<Document>>()
                    .await
            })
        })
        .await
    }

    /// Runs one read under the query timeout, retrying network failures and timeouts with
    /// exponential backoff, and counts queries, retries and errors. `Ok(None)` when the
    /// collection read does not exist (any more).
    async fn read<T>(
        &mut self,
        what: &str,
        mut attempt: impl FnMut() -> Attempt<T> + Send,
    ) -> Result<Option<T>, DiscoveryError> {
        let deadline = self.query_timeout + CLIENT_GRACE;
        let mut backoff = FIRST_BACKOFF;
        let mut retries = 0;
        loop {
            self.metrics.queries_executed += 1;
            let (error, transient) = match tokio::time::timeout(deadline, attempt()).await {
                Ok(Ok(value)) => return Ok(Some(value)),
                Ok(Err(error)) if connect::code(&error) == Some(connect::NAMESPACE_NOT_FOUND) => {
                    tracing::debug!(what, "namespace gone during discovery");
                    return Ok(None);
                }
                Ok(Err(error)) => {
                    let transient = connect::is_connection_problem(&error);
                    (Some(error), transient)
                }
                Err(_) => (None, true),
            };
            self.metrics.errors += 1;
            if !transient || retries >= MAX_RETRIES {
                let failure = match error {
                    Some(error) => read_error(self.target, what, &error, retries),
                    None => DiscoveryError::Query {
                        message: format!("{what}: no answer within {} ms", deadline.as_millis()),
                        retries,
                    },
                };
                tracing::error!(what, retries, error = %failure, "MongoDB read failed");
                return Err(failure);
            }
            tracing::debug!(what, retries, "retrying a MongoDB read");
            retries += 1;
            self.metrics.retries += 1;
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }

    /// Steps an `auto` scan down after a slow or retried sampling read.
    fn adapt(&mut self, took: Duration, retried: bool) {
        if self.adaptive
            && (took > self.slow || retried)
            && self.tuning.strategy != ScanStrategy::Conservative
        {
            tracing::info!(
                took_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
                retried,
                "MongoDB discovery slows down to the conservative strategy"
            );
            self.tuning = Tuning::of(ScanStrategy::Conservative);
        }
    }
}

/// One `listIndexes` document as an index: its key fields in key order.
fn index(document: &Document) -> Option<IndexSchema> {
    let name = document.get_str("name").ok()?.to_owned();
    let columns = document.get_document("key").ok()?.keys().cloned().collect();
    let primary = name == "_id_";
    Some(IndexSchema {
        unique: primary || document.get_bool("unique").unwrap_or(false),
        primary,
        name,
        columns,
        method: None,
    })
}

/// A view's pipeline as compact JSON.
fn pipeline_json(pipeline: &[Document]) -> String {
    let stages = pipeline
        .iter()
        .map(|stage| fields::render(&Bson::Document(stage.clone())).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(",");
    format!("[{stages}]")
}

/// The edges from the collections a view reads (`viewOn` and the collections its pipeline
/// joins), among `known` collections of its database, to the view.
fn view_lineage(view: &AssetPath, entry: &Entry, known: &[String]) -> Vec<LineageEdge> {
    let mut sources = BTreeSet::new();
    sources.extend(entry.view_on.clone());
    pipeline_sources(&entry.pipeline, &mut sources);
    let Some(database) = view.parent() else {
        return Vec::new();
    };
    sources
        .into_iter()
        .filter(|source| known.contains(source) && source != view.name())
        .filter_map(|source| database.child(source).ok())
        .map(|from| LineageEdge::table_level(from, view.clone(), LineageKind::View))
        .collect()
}

/// Collections named by `$lookup`, `$graphLookup` and `$unionWith` stages, nested pipelines
/// included.
fn pipeline_sources(pipeline: &[Document], sources: &mut BTreeSet<String>) {
    for stage in pipeline {
        for (operator, argument) in stage {
            match (operator.as_str(), argument) {
                ("$unionWith", Bson::String(name)) => {
                    sources.insert(name.clone());
                }
                ("$lookup" | "$graphLookup" | "$unionWith", Bson::Document(spec)) => {
                    let name = spec.get_str("from").or_else(|_| spec.get_str("coll"));
                    if let Ok(name) = name {
                        sources.insert(name.to_owned());
                    }
                    if let Ok(inner) = spec.get_array("pipeline") {
                        let inner: Vec<Document> = inner
                            .iter()
                            .filter_map(|s| s.as_document().cloned())
                            .collect();
                        pipeline_sources(&inner, sources);
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_set_the_sample_size() {
        assert_eq!(Tuning::of(ScanStrategy::Conservative).documents, 20);
        assert_eq!(Tuning::of(ScanStrategy::Auto).documents, 100);
        assert_eq!(
            Tuning::of(ScanStrategy::Auto).strategy,
            ScanStrategy::Balanced
        );
        assert_eq!(Tuning::of(ScanStrategy::Aggressive).documents, 500);
    }

    #[test]
    fn indexes_keep_their_key_order() {
        let unique =
            doc! { "v": 2, "key": { "email": 1, "created": -1 }, "name": "e_c", "unique": true };
        let index = index(&unique).unwrap();
        assert_eq!(index.columns, ["email", "created"]);
        assert!(index.unique && !index.primary);
        let id = super::index(&doc! { "v": 2, "key": { "_id": 1 }, "name": "_id_" }).unwrap();
        assert!(id.unique && id.primary);
    }

    #[test]
    fn views_read_from_their_source_and_joined_collections() {
        let entry = Entry::parse(&doc! {
            "name": "v",
            "type": "view",
            "options": {
                "viewOn": "orders",
                "pipeline": [
                    { "$lookup": { "from": "customers", "localField": "c", "foreignField": "_id", "as": "c" } },
                    { "$unionWith": { "coll": "archive", "pipeline": [ { "$lookup": { "from": "regions", "as": "r", "pipeline": [] } } ] } },
                    { "$unionWith": "missing" },
                ],
            },
        })
        .unwrap();
        assert!(entry.view);
        let view = AssetPath::new(["shop", "v"]).unwrap();
        let known: Vec<String> = ["orders", "customers", "archive", "regions", "v"]
            .map(String::from)
            .to_vec();
        let froms: Vec<String> = view_lineage(&view, &entry, &known)
            .into_iter()
            .map(|edge| edge.from.to_string())
            .collect();
        assert_eq!(
            froms,
            [
                "shop.archive",
                "shop.customers",
                "shop.orders",
                "shop.regions"
            ]
        );
        assert!(pipeline_json(&entry.pipeline).starts_with(r#"[{"$lookup":{"from":"customers""#));
    }
}
