//! [`discover`]: the key-pattern discovery of one Redis database.
//!
//! 1. One connection (no pool, see `session.rs`), opened with the target's connect timeout;
//!    every command bounded by the discovery's query timeout. It is dropped — on failure too —
//!    before `discover` returns, which closes its socket.
//! 2. Incremental `SCAN` with the strategy's `COUNT` (conservative 100, balanced 500, aggressive
//!    2000), narrowed by `MATCH` when the scope is a single `db<n>.<glob>` pattern. For each page,
//!    the keys whose pattern is in scope get their `TYPE` in one pipeline. At most
//!    [`MAX_SCANNED_KEYS`] keys are read per discovery; past that the scan stops and says so in
//!    the log (row estimates are then lower bounds).
//! 3. Per pattern, the keys of its most frequent type are sorted and the first few (3 / 5 / 10 by
//!    strategy) sampled, in pipelines of at most [`PIPELINE_COMMANDS`] commands: `STRLEN` and
//!    `GETRANGE` for strings, the first `HSCAN` page for hashes, `LRANGE` / `SSCAN` / `ZRANGE` of
//!    ten elements for lists, sets and sorted sets. Sorting makes the sample, and so the
//!    fingerprint, the same on a rescan of unchanged data whatever order `SCAN` returns keys in.
//!    Sampled values go to `shape.rs` and are dropped; only field names and types are kept.
//!
//! Assets: the database `[db<n>]` (kind `database`) and one `[db<n>, <pattern>]` per key pattern
//! (kind `redis_key_pattern`, `row_estimate` = keys of the pattern seen by the scan, comment
//! naming the Redis type(s)). Metrics: `schemas` counts the database asset, `collections` the
//! key patterns (as for MongoDB collections; `tables` stays 0), `queries_executed` every round
//! trip (a pipeline is one).
//!
//! A command that fails transiently — a broken connection (a new one is opened), no answer in
//! time, `BUSY` or `LOADING` — is sent again, at most twice, with exponential backoff (see
//! `session.rs`), and counted in `retries`; any other failure fails the discovery. `auto` starts
//! balanced and steps down to conservative when a `SCAN` page takes more than a quarter of the
//! query timeout or had to be retried.

use super::options::RedisTarget;
use super::pattern::{key_pattern, match_glob};
use super::session::Session;
use super::shape;
use crate::probe::{Discovery, DiscoveryError, DiscoveryOptions, DiscoveryProgress};
use domain::discovery::{AssetKind, AssetPath, AssetSchema, ColumnSchema};
use domain::scan::{ScanScope, ScanStrategy};
use redis::{FromRedisValue, Value};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

/// How a key pattern's comment starts; the Redis types of its keys follow, most frequent first.
const TYPE_COMMENT: &str = "redis type: ";

/// The most keys one discovery reads with `SCAN`.
pub const MAX_SCANNED_KEYS: usize = 10_000;
/// The most commands sent in one sampling pipeline.
const PIPELINE_COMMANDS: usize = 200;
/// String values longer than this are not read whole (discovery types them `string`).
pub(super) const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Elements read from one list, set or sorted set.
const SAMPLE_ELEMENTS: usize = 10;
/// Fields asked for from one hash (`HSCAN … COUNT`).
const SAMPLE_FIELDS: usize = 100;

/// What a concrete strategy means here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tuning {
    strategy: ScanStrategy,
    /// `SCAN … COUNT`.
    scan_count: usize,
    /// Keys sampled per pattern.
    samples: usize,
}

impl Tuning {
    fn of(strategy: ScanStrategy) -> Self {
        let strategy = strategy.initial();
        let (scan_count, samples) = match strategy {
            ScanStrategy::Conservative => (100, 3),
            ScanStrategy::Aggressive => (2000, 10),
            ScanStrategy::Balanced | ScanStrategy::Auto => (500, 5),
        };
        Self {
            strategy,
            scan_count,
            samples,
        }
    }
}

/// Discovers the key patterns of `target`'s database that `options.scope` covers, each with the
/// columns its values show.
///
/// `progress` is called after every `SCAN` page (`assets_done` = patterns found so far, total
/// unknown) and once at the end.
///
/// ```no_run
/// # async fn example(target: connectors::redis::RedisTarget) {
/// use connectors::probe::DiscoveryOptions;
///
/// let discovery = connectors::redis::discover(&target, &DiscoveryOptions::default(), &|p| {
///     println!("{} patterns so far", p.assets_done)
/// })
/// .await
/// .unwrap();
/// for asset in &discovery.assets {
///     println!("{} ({:?} keys)", asset.path, asset.row_estimate);
/// }
/// # }
/// ```
#[tracing::instrument(
    name = "redis.discover",
    skip_all,
    fields(endpoint = %target.endpoint, db = target.db)
)]
pub async fn discover(
    target: &RedisTarget,
    options: &DiscoveryOptions,
    progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
) -> Result<Discovery, DiscoveryError> {
    let started = Instant::now();
    let database = AssetPath::new([format!("db{}", target.db)])
        .map_err(|error| DiscoveryError::Unsupported(error.to_string()))?;
    let mut discovery = if options.scope.may_contain(&database) {
        let connect_timeout = if target.connect_timeout.is_zero() {
            options.query_timeout
        } else {
            target.connect_timeout
        };
        let session = Session::open(target, connect_timeout, options.query_timeout).await?;
        let mut run = Run {
            session,
            tuning: Tuning::of(options.strategy),
            adaptive: options.strategy == ScanStrategy::Auto,
            slow: options.query_timeout / 4,
        };
        let outcome = run
            .discover(target, &database, &options.scope, progress)
            .await;
        // Dropping the session closes its connection's socket.
        drop(run);
        outcome?
    } else {
        Discovery::default()
    };
    discovery.metrics.duration_ms =
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(discovery)
}

/// The keys of one pattern seen by the scan.
#[derive(Default)]
struct Group {
    /// Key and Redis type of every key seen.
    keys: Vec<(Vec<u8>, String)>,
}

impl Group {
    /// The Redis types of the pattern, most frequent first (ties by name).
    fn types(&self) -> Vec<String> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, kind) in &self.keys {
            *counts.entry(kind).or_default() += 1;
        }
        let mut types: Vec<(&str, usize)> = counts.into_iter().collect();
        types.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        types.into_iter().map(|(kind, _)| kind.to_owned()).collect()
    }

    /// The first `n` keys of type `kind`, sorted.
    fn sample(&self, kind: &str, n: usize) -> Vec<Vec<u8>> {
        let mut keys: Vec<Vec<u8>> = self
            .keys
            .iter()
            .filter(|(_, k)| k == kind)
            .map(|(key, _)| key.clone())
            .collect();
        keys.sort();
        keys.truncate(n);
        keys
    }
}

/// One key pattern ready for sampling.
struct Pattern {
    path: AssetPath,
    /// Keys of the pattern seen by the scan.
    keys: usize,
    /// Its Redis types, most frequent first (never empty).
    types: Vec<String>,
    /// The keys to sample, all of type `types[0]`.
    sample: Vec<Vec<u8>>,
}

/// One discovery's connection (with its counters) and tuning.
struct Run<'t> {
    session: Session<'t>,
    tuning: Tuning,
    adaptive: bool,
    /// A `SCAN` page slower than this steps an `auto` scan down.
    slow: Duration,
}

impl Run<'_> {
    async fn discover(
        &mut self,
        target: &RedisTarget,
        database: &AssetPath,
        scope: &ScanScope,
        progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
    ) -> Result<Discovery, DiscoveryError> {
        let groups = self.scan(target.db, database, scope, progress).await?;
        let mut assets = Vec::new();
        if scope.matches(database) {
            let mut asset = AssetSchema::new(AssetKind::Database, database.clone());
            asset.row_estimate = Some(groups.values().map(|g| g.keys.len() as i64).sum());
            assets.push(asset);
            self.session.metrics.schemas += 1;
        }
        let patterns: Vec<Pattern> = groups
            .into_iter()
            .map(|(path, group)| {
                let types = group.types();
                let sample = group.sample(&types[0], self.tuning.samples);
                Pattern {
                    path,
                    keys: group.keys.len(),
                    types,
                    sample,
                }
            })
            .collect();
        let mut requests: Vec<(usize, &str, &[u8])> = Vec::new();
        for (index, pattern) in patterns.iter().enumerate() {
            for key in &pattern.sample {
                requests.push((index, pattern.types[0].as_str(), key.as_slice()));
            }
        }
        let mut values: Vec<Vec<Sampled>> = patterns.iter().map(|_| Vec::new()).collect();
        for chunk in requests.chunks(PIPELINE_COMMANDS / 2) {
            for (index, sampled) in self.sample(chunk).await? {
                values[index].push(sampled);
            }
        }
        for (pattern, sampled) in patterns.into_iter().zip(values) {
            let mut asset = AssetSchema::new(AssetKind::RedisKeyPattern, pattern.path);
            asset.columns = columns(&pattern.types[0], sampled);
            asset.comment = Some(format!("{TYPE_COMMENT}{}", pattern.types.join(", ")));
            asset.row_estimate = Some(pattern.keys as i64);
            self.session.metrics.collections += 1;
            self.session.metrics.columns += asset.columns.len() as u64;
            assets.push(asset);
        }
        progress(DiscoveryProgress {
            assets_done: assets.len() as u64,
            assets_total: Some(assets.len() as u64),
            current_strategy: self.tuning.strategy,
        });
        Ok(Discovery {
            assets,
            lineage: Vec::new(),
            metrics: self.session.metrics,
        })
    }

    /// `SCAN`s the database: the keys in scope, grouped by pattern path, with their types.
    async fn scan(
        &mut self,
        db: u32,
        database: &AssetPath,
        scope: &ScanScope,
        progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
    ) -> Result<BTreeMap<AssetPath, Group>, DiscoveryError> {
        let glob = match_glob(scope, db);
        let mut groups: BTreeMap<AssetPath, Group> = BTreeMap::new();
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut cursor: u64 = 0;
        let mut scanned = 0usize;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor);
            if let Some(glob) = &glob {
                scan.arg("MATCH").arg(glob);
            }
            scan.arg("COUNT").arg(self.tuning.scan_count);
            let asked = Instant::now();
            let retries_before = self.session.metrics.retries;
            let (next, keys): (u64, Vec<Vec<u8>>) = self.session.query(&scan).await?;
            self.adapt(
                asked.elapsed(),
                self.session.metrics.retries > retries_before,
            );
            scanned += keys.len();

            let in_scope: Vec<(Vec<u8>, AssetPath)> = keys
                .into_iter()
                .filter(|key| !seen.contains(key))
                .filter_map(|key| {
                    let path = pattern_path(database, &key)?;
                    scope.matches(&path).then_some((key, path))
                })
                .collect();
            if !in_scope.is_empty() {
                let mut pipe = redis::pipe();
                for (key, _) in &in_scope {
                    pipe.cmd("TYPE").arg(key);
                }
                let types: Vec<String> = self.session.query_pipe(&pipe).await?;
                for ((key, path), kind) in in_scope.into_iter().zip(types) {
                    // A key deleted between SCAN and TYPE is gone.
                    if kind != "none" {
                        seen.insert(key.clone());
                        groups.entry(path).or_default().keys.push((key, kind));
                    }
                }
            }
            progress(DiscoveryProgress {
                assets_done: groups.len() as u64,
                assets_total: None,
                current_strategy: self.tuning.strategy,
            });
            if next == 0 {
                break;
            }
            if scanned >= MAX_SCANNED_KEYS {
                tracing::warn!(
                    db,
                    scanned,
                    limit = MAX_SCANNED_KEYS,
                    "Redis key scan capped: patterns and row estimates cover a sample of the keys"
                );
                break;
            }
            cursor = next;
        }
        Ok(groups)
    }

    /// Reads the samples of `requests` (pattern index, type, key) in one pipeline.
    async fn sample(
        &mut self,
        requests: &[(usize, &str, &[u8])],
    ) -> Result<Vec<(usize, Sampled)>, DiscoveryError> {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        let mut commands = Vec::new();
        for (index, kind, key) in requests {
            let replies = match *kind {
                "string" => {
                    pipe.cmd("STRLEN").arg(*key);
                    pipe.cmd("GETRANGE")
                        .arg(*key)
                        .arg(0)
                        .arg(MAX_VALUE_BYTES - 1);
                    2
                }
                "hash" => {
                    pipe.cmd("HSCAN")
                        .arg(*key)
                        .arg(0)
                        .arg("COUNT")
                        .arg(SAMPLE_FIELDS);
                    1
                }
                "list" => {
                    pipe.cmd("LRANGE").arg(*key).arg(0).arg(SAMPLE_ELEMENTS - 1);
                    1
                }
                "set" => {
                    pipe.cmd("SSCAN")
                        .arg(*key)
                        .arg(0)
                        .arg("COUNT")
                        .arg(SAMPLE_ELEMENTS);
                    1
                }
                "zset" => {
                    pipe.cmd("ZRANGE").arg(*key).arg(0).arg(SAMPLE_ELEMENTS - 1);
                    1
                }
                _ => 0,
            };
            commands.push((*index, *kind, replies));
        }
        if commands.iter().all(|(_, _, replies)| *replies == 0) {
            return Ok(Vec::new());
        }
        let replies: Vec<Value> = self.session.query_pipe(&pipe).await?;
        let mut replies = replies.into_iter();
        let mut out = Vec::new();
        for (index, kind, count) in commands {
            let reply: Vec<Value> = replies.by_ref().take(count).collect();
            if let Some(sampled) = Sampled::read(kind, reply) {
                out.push((index, sampled));
            }
        }
        Ok(out)
    }

    /// Steps an `auto` scan down to conservative after a slow or retried page.
    fn adapt(&mut self, took: Duration, retried: bool) {
        if self.adaptive
            && (took > self.slow || retried)
            && self.tuning.strategy != ScanStrategy::Conservative
        {
            tracing::info!(
                took_ms = took.as_millis() as u64,
                retried,
                "Redis discovery slows down to the conservative strategy"
            );
            self.tuning = Tuning::of(ScanStrategy::Conservative);
        }
    }
}

/// The Redis type of most keys of a key pattern discovered here (the type its columns describe),
/// read back from the asset's comment.
pub(super) fn primary_type(asset: &AssetSchema) -> Option<&str> {
    let types = asset.comment.as_deref()?.strip_prefix(TYPE_COMMENT)?;
    types.split(", ").next().filter(|kind| !kind.is_empty())
}

/// The path of the pattern of `key`, `None` for a key that cannot name an asset (empty).
pub(super) fn pattern_path(database: &AssetPath, key: &[u8]) -> Option<AssetPath> {
    let mut pattern = key_pattern(&String::from_utf8_lossy(key));
    if pattern.chars().count() > AssetPath::MAX_SEGMENT_CHARS {
        pattern = pattern
            .chars()
            .take(AssetPath::MAX_SEGMENT_CHARS - 1)
            .chain(['*'])
            .collect();
    }
    database.child(pattern).ok()
}

/// The sampled content of one key, only until its shape is inferred.
enum Sampled {
    /// A string value; `None` when it was too long to read.
    String(Option<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    Elements(Vec<Vec<u8>>),
}

impl Sampled {
    /// The sample of a key of type `kind` from its pipeline replies; `None` when a reply is an
    /// error (the key changed type or vanished meanwhile).
    fn read(kind: &str, replies: Vec<Value>) -> Option<Sampled> {
        let mut replies = replies.into_iter();
        match kind {
            "string" => {
                let length = i64::from_redis_value(replies.next()?).ok()?;
                let value = Vec::<u8>::from_redis_value(replies.next()?).ok()?;
                let whole = usize::try_from(length).is_ok_and(|l| l <= MAX_VALUE_BYTES);
                Some(Sampled::String(whole.then_some(value)))
            }
            "hash" => {
                let (_, flat) = <(u64, Vec<Vec<u8>>)>::from_redis_value(replies.next()?).ok()?;
                let mut pairs = Vec::with_capacity(flat.len() / 2);
                let mut flat = flat.into_iter();
                while let (Some(field), Some(value)) = (flat.next(), flat.next()) {
                    pairs.push((field, value));
                }
                Some(Sampled::Hash(pairs))
            }
            "set" => {
                let (_, members) = <(u64, Vec<Vec<u8>>)>::from_redis_value(replies.next()?).ok()?;
                Some(Sampled::Elements(members))
            }
            "list" | "zset" => Some(Sampled::Elements(
                Vec::<Vec<u8>>::from_redis_value(replies.next()?).ok()?,
            )),
            _ => None,
        }
    }
}

/// The columns of a pattern whose keys are of type `kind`, from the samples read.
fn columns(kind: &str, sampled: Vec<Sampled>) -> Vec<ColumnSchema> {
    match kind {
        "string" => {
            let mut values = Vec::new();
            for sample in sampled {
                if let Sampled::String(value) = sample {
                    // A value too long to read is not JSON as far as the shape goes.
                    values.push(value.unwrap_or_default());
                }
            }
            shape::string_columns(&values)
        }
        "hash" => {
            let hashes: Vec<_> = sampled
                .into_iter()
                .filter_map(|s| match s {
                    Sampled::Hash(pairs) => Some(pairs),
                    _ => None,
                })
                .collect();
            shape::hash_columns(&hashes)
        }
        "list" | "set" | "zset" => {
            let elements: Vec<Vec<u8>> = sampled
                .into_iter()
                .flat_map(|s| match s {
                    Sampled::Elements(elements) => elements,
                    _ => Vec::new(),
                })
                .collect();
            shape::element_columns(&elements, kind == "zset")
        }
        other => shape::opaque_columns(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_set_count_and_samples() {
        assert_eq!(Tuning::of(ScanStrategy::Conservative).scan_count, 100);
        assert_eq!(Tuning::of(ScanStrategy::Balanced).scan_count, 500);
        assert_eq!(Tuning::of(ScanStrategy::Aggressive).scan_count, 2000);
        assert_eq!(
            Tuning::of(ScanStrategy::Auto).strategy,
            ScanStrategy::Balanced
        );
    }

    #[test]
    fn the_main_type_is_read_back_from_the_comment() {
        let mut asset = AssetSchema::new(
            AssetKind::RedisKeyPattern,
            AssetPath::new(["db0", "user:*"]).unwrap(),
        );
        assert_eq!(primary_type(&asset), None);
        asset.comment = Some(format!("{TYPE_COMMENT}hash, string"));
        assert_eq!(primary_type(&asset), Some("hash"));
        asset.comment = Some(format!("{TYPE_COMMENT}zset"));
        assert_eq!(primary_type(&asset), Some("zset"));
        asset.comment = Some("a comment of someone else".into());
        assert_eq!(primary_type(&asset), None);
    }

    #[test]
    fn long_patterns_are_cut_to_one_segment() {
        let database = AssetPath::new(["db0"]).unwrap();
        let path = pattern_path(&database, "k".repeat(400).as_bytes()).unwrap();
        assert_eq!(path.name().chars().count(), AssetPath::MAX_SEGMENT_CHARS);
        assert!(pattern_path(&database, b"").is_none());
        assert_eq!(
            pattern_path(&database, b"a.b:42").unwrap().segments(),
            ["db0", "a.b:*"]
        );
    }
}
