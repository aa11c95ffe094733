//! [`discover`]: the prefixes of an S3 source with the record schemas of their objects.
//!
//! 1. The buckets: the source's own, or every bucket `ListBuckets` shows when it names none,
//!    less those the scope cannot reach.
//! 2. `ListObjectsV2` pages of the source's prefix, narrowed to the literal prefixes of the scope's
//!    include patterns (`layout.rs`). Keys are placed in their asset prefix, partition folders
//!    folded in; assets outside the scope are dropped here, before anything is read. At most
//!    [`MAX_LISTED_KEYS`] keys are listed per bucket; past that the listing stops and says so in
//!    the log (row estimates then cover what was listed).
//! 3. Per prefix, the objects of its most common format are spread-sampled in key order (first,
//!    last and evenly between: 2 / 3 / 5 objects by strategy, the same ones on a rescan of
//!    unchanged data): the head of CSV and JSON objects (64 KiB / 256 KiB / 1 MiB; of a
//!    gzip-compressed one, as much text as its first bytes of that size decompress to, up to the
//!    same size), the footer of Parquet objects. Prefixes are sampled concurrently (1 / 4 / 8 at
//!    a time, at most the pool size). Values are typed and dropped (`shape.rs`); only names and
//!    types are kept.
//!
//! Assets: each bucket `[bucket]` (kind `database`, comment `S3 bucket`) and each prefix
//! `[bucket, "events/"]` (kind `s3_prefix`; the bucket root is `[bucket, "/"]`). A prefix's comment
//! names its formats; a prefix without records (images, PDFs, recordings, …) has one column,
//! [`CONTENT_COLUMN`] of type `binary`, which sampling fills with the objects' first bytes; its `row_estimate` is the records counted in the bytes read, scaled to the
//! bytes of all its objects of that format (exact for Parquet footers and small objects read
//! whole; for a compressed object read in part, the compressed bytes its records came from are
//! taken in proportion to the text they cover). Object sizes have no field in the schema and are
//! not reported.
//!
//! Metrics: `schemas` counts buckets, `collections` prefixes, `queries_executed` every request,
//! `retries` the retried ones, `errors` failed requests and unreadable objects. A request that
//! fails for a connection reason (after retries) fails the discovery; an object that cannot be
//! read (denied, gone, malformed) is skipped and counted. `auto` starts balanced and steps down to
//! conservative when a listing page takes more than a quarter of the query timeout.

use super::connect::{Failed, Session, Tally};
use super::layout::{asset_path, listing_prefixes, Format};
use super::objects::{self, list_page, Limits, Object, ReadError};
use super::options::S3Target;
use super::shape::{Shape, Typing};
use crate::probe::{Discovery, DiscoveryError, DiscoveryOptions, DiscoveryProgress};
use domain::datasource::FailureCategory;
use domain::discovery::{AssetKind, AssetPath, AssetSchema};
use domain::scan::{ScanMetrics, ScanScope, ScanStrategy};
use futures::StreamExt;
use object_store::aws::AmazonS3;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// The most keys one discovery lists per bucket.
pub const MAX_LISTED_KEYS: usize = 100_000;

/// The column of a prefix whose objects are not records (no CSV, JSON or Parquet among them):
/// the objects' content, which sampling types by its first bytes.
pub const CONTENT_COLUMN: &str = "content";

const CONTENT_COMMENT: &str =
    "the objects' content: sampled as the first bytes of a few objects, typed by their magic number";

/// What a concrete strategy means here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tuning {
    strategy: ScanStrategy,
    /// Objects sampled per prefix.
    objects: usize,
    /// Bytes read from the head of a text object.
    head_bytes: u64,
    /// Records read per object.
    records: usize,
    /// Prefixes sampled at once.
    concurrency: usize,
    /// Retries of a transient request failure.
    retries: u32,
}

impl Tuning {
    fn of(strategy: ScanStrategy) -> Self {
        let strategy = strategy.initial();
        let (objects, head_kib, records, concurrency, retries) = match strategy {
            ScanStrategy::Conservative => (2, 64, 100, 1, 3),
            ScanStrategy::Aggressive => (5, 1024, 500, 8, 1),
            ScanStrategy::Balanced | ScanStrategy::Auto => (3, 256, 200, 4, 2),
        };
        Self {
            strategy,
            objects,
            head_bytes: head_kib * 1024,
            records,
            concurrency,
            retries,
        }
    }
}

/// Discovers the buckets and prefixes of `target` that `options.scope` covers, each prefix with
/// the record schema its objects show.
///
/// `progress` is called after every listing page (`assets_done` = prefixes found so far, total
/// unknown), after every prefix sampled (total known) and once at the end.
///
/// ```no_run
/// # async fn example(target: connectors::s3::S3Target) {
/// use connectors::probe::DiscoveryOptions;
///
/// let discovery = connectors::s3::discover(&target, &DiscoveryOptions::default(), &|p| {
///     println!("{} prefixes so far", p.assets_done)
/// })
/// .await
/// .unwrap();
/// for asset in &discovery.assets {
///     println!("{} ({:?} records)", asset.path, asset.row_estimate);
/// }
/// # }
/// ```
pub async fn discover(
    target: &S3Target,
    options: &DiscoveryOptions,
    progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
) -> Result<Discovery, DiscoveryError> {
    let started = Instant::now();
    let span = tracing::info_span!(
        "s3.discover",
        target = %target,
        strategy = options.strategy.as_str(),
    );
    let run = async {
        let tuning = Tuning::of(options.strategy);
        let session = Session::open(target, options.query_timeout, tuning.retries).await?;
        let mut run = Run {
            tuning,
            adaptive: options.strategy == ScanStrategy::Auto,
            slow: options.query_timeout / 4,
            metrics: ScanMetrics::default(),
            unreadable: 0,
        };
        let outcome = run.discover(&session, &options.scope, progress).await;
        let tally = &session.tally;
        run.metrics.queries_executed = Tally::read(&tally.queries);
        run.metrics.retries = Tally::read(&tally.retries);
        run.metrics.errors = Tally::read(&tally.errors) + run.unreadable;
        // Dropping the session drops its clients, which closes their connections.
        drop(session);
        tracing::debug!(
            queries = run.metrics.queries_executed,
            retries = run.metrics.retries,
            errors = run.metrics.errors,
            "S3 discovery finished"
        );
        outcome.map(|assets| Discovery {
            assets,
            lineage: Vec::new(),
            metrics: run.metrics,
        })
    };
    let mut discovery = run.instrument(span).await?;
    discovery.metrics.duration_ms =
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(discovery)
}

/// A discovery's tuning and counters.
struct Run {
    tuning: Tuning,
    adaptive: bool,
    /// A listing page slower than this steps an `auto` scan down.
    slow: Duration,
    metrics: ScanMetrics,
    /// Objects skipped because they could not be read.
    unreadable: u64,
}

/// The data objects of one prefix.
struct Group {
    bucket: String,
    prefix: String,
    path: AssetPath,
    objects: Vec<Object>,
}

impl Run {
    async fn discover(
        &mut self,
        session: &Session,
        scope: &ScanScope,
        progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
    ) -> Result<Vec<AssetSchema>, DiscoveryError> {
        let target = session.target();
        let buckets = match &target.bucket {
            Some(bucket) => vec![bucket.clone()],
            None => session.list_buckets().await.map_err(into_discovery_error)?,
        };
        let mut assets = Vec::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut stores: BTreeMap<String, AmazonS3> = BTreeMap::new();
        for bucket in buckets {
            let Ok(bucket_path) = AssetPath::new([bucket.as_str()]) else {
                continue;
            };
            if !scope.may_contain(&bucket_path) {
                continue;
            }
            let store = session.store(&bucket)?;
            let listing = listing_prefixes(&bucket, target.prefix.as_deref(), scope);
            let whole_bucket = listing == [""] && scope.is_everything();
            let (found, capped) = self
                .list(
                    session,
                    &store,
                    &bucket,
                    &listing,
                    scope,
                    groups.len(),
                    progress,
                )
                .await?;
            if scope.matches(&bucket_path) {
                let mut asset = AssetSchema::new(AssetKind::Database, bucket_path);
                asset.comment = Some("S3 bucket".to_owned());
                if whole_bucket && !capped {
                    asset.row_estimate =
                        Some(found.iter().map(|g| g.objects.len() as i64).sum::<i64>());
                }
                self.metrics.schemas += 1;
                assets.push(asset);
            }
            groups.extend(found);
            stores.insert(bucket, store);
        }

        let total = (assets.len() + groups.len()) as u64;
        let buckets_done = assets.len() as u64;
        let tuning = self.tuning;
        let concurrency = match target.pool.max_connections {
            0 => tuning.concurrency,
            max => tuning.concurrency.min(max as usize).max(1),
        };
        let mut inferred = futures::stream::iter(groups.into_iter().map(|group| {
            let store = stores.get(&group.bucket).cloned();
            async move {
                match store {
                    Some(store) => infer(session, &store, group, tuning).await,
                    None => Err(DiscoveryError::Unsupported(format!(
                        "no client for bucket {}",
                        group.bucket
                    ))),
                }
            }
        }))
        .buffered(concurrency);
        let mut done = buckets_done;
        while let Some(outcome) = inferred.next().await {
            let (asset, unreadable) = outcome?;
            self.unreadable += unreadable;
            self.metrics.collections += 1;
            self.metrics.columns += asset.columns.len() as u64;
            assets.push(asset);
            done += 1;
            progress(DiscoveryProgress {
                assets_done: done,
                assets_total: Some(total),
                current_strategy: self.tuning.strategy,
            });
        }
        progress(DiscoveryProgress {
            assets_done: assets.len() as u64,
            assets_total: Some(assets.len() as u64),
            current_strategy: self.tuning.strategy,
        });
        Ok(assets)
    }

    /// Lists `prefixes` of `bucket`: the in-scope prefixes with their objects, in prefix order,
    /// and whether the listing stopped at [`MAX_LISTED_KEYS`].
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &mut self,
        session: &Session,
        store: &AmazonS3,
        bucket: &str,
        prefixes: &[String],
        scope: &ScanScope,
        found_before: usize,
        progress: &(dyn Fn(DiscoveryProgress) + Send + Sync),
    ) -> Result<(Vec<Group>, bool), DiscoveryError> {
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        let mut listed = 0usize;
        for prefix in prefixes {
            let mut token = None;
            loop {
                let asked = Instant::now();
                let page = list_page(session, store, bucket, prefix, false, token)
                    .await
                    .map_err(into_discovery_error)?;
                self.adapt(asked.elapsed());
                listed += page.keys;
                for object in page.objects {
                    let prefix = object.placement.prefix.clone();
                    if let Some(group) = groups.get_mut(&prefix) {
                        group.objects.push(object);
                        continue;
                    }
                    let Some(path) = asset_path(bucket, &prefix) else {
                        tracing::warn!(
                            bucket,
                            prefix_chars = prefix.chars().count(),
                            "S3 prefix longer than an asset path segment; skipped"
                        );
                        continue;
                    };
                    if scope.matches(&path) {
                        groups.insert(
                            prefix.clone(),
                            Group {
                                bucket: bucket.to_owned(),
                                prefix,
                                path,
                                objects: vec![object],
                            },
                        );
                    }
                }
                progress(DiscoveryProgress {
                    assets_done: (found_before + groups.len()) as u64,
                    assets_total: None,
                    current_strategy: self.tuning.strategy,
                });
                token = page.next;
                if token.is_none() {
                    break;
                }
                if listed >= MAX_LISTED_KEYS {
                    tracing::warn!(
                        bucket,
                        listed,
                        limit = MAX_LISTED_KEYS,
                        "S3 listing capped: prefixes and row estimates cover the keys listed"
                    );
                    return Ok((groups.into_values().collect(), true));
                }
            }
        }
        Ok((groups.into_values().collect(), false))
    }

    /// Steps an `auto` scan down to conservative after a slow listing page.
    fn adapt(&mut self, took: Duration) {
        if self.adaptive && took > self.slow && self.tuning.strategy != ScanStrategy::Conservative {
            tracing::info!(
                took_ms = took.as_millis() as u64,
                "S3 discovery slows down to the conservative strategy"
            );
            let retries = self.tuning.retries;
            self.tuning = Tuning {
                retries,
                ..Tuning::of(ScanStrategy::Conservative)
            };
        }
    }
}

/// The asset of one prefix, and how many of its objects could not be read.
async fn infer(
    session: &Session,
    store: &AmazonS3,
    group: Group,
    tuning: Tuning,
) -> Result<(AssetSchema, u64), DiscoveryError> {
    let Group {
        bucket,
        prefix,
        path,
        mut objects,
    } = group;
    objects.sort_by(|a, b| a.key().cmp(b.key()));
    let mut formats: BTreeMap<Option<Format>, (usize, u64)> = BTreeMap::new();
    for object in &objects {
        let entry = formats.entry(object.format).or_default();
        entry.0 += 1;
        entry.1 += object.size;
    }
    // The most common readable format; ties go to the first in format order.
    let dominant = formats
        .iter()
        .filter_map(|(format, (count, _))| format.map(|f| (f, *count)))
        .fold(
            None,
            |best: Option<(Format, usize)>, (format, count)| match best {
                Some((_, best_count)) if best_count >= count => best,
                _ => Some((format, count)),
            },
        )
        .map(|(format, _)| format);

    let mut asset = AssetSchema::new(AssetKind::S3Prefix, path);
    let names: Vec<&str> = formats
        .keys()
        .map(|f| f.map_or("other", |f| f.name()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    asset.comment = Some(match names.as_slice() {
        ["other"] => "format: unknown".to_owned(),
        [one] => format!("format: {one}"),
        many => format!("formats: {}", many.join(", ")),
    });

    let mut shape = Shape::default();
    let mut unreadable = 0u64;
    if let Some(format) = dominant {
        let candidates: Vec<&Object> = objects
            .iter()
            .filter(|o| o.format == Some(format))
            .collect();
        let typing = match format {
            Format::Csv { .. } => Typing::Widened,
            Format::Json { .. } | Format::Parquet => Typing::Union,
        };
        let limits = Limits {
            head_bytes: tuning.head_bytes,
            keep: tuning.records,
            parquet_rows: false,
            max_row_group_bytes: 0,
        };
        let (mut counted, mut covered) = (0u64, 0u64);
        for index in spread(candidates.len(), tuning.objects) {
            let object = candidates[index];
            match objects::read(session, store, object, format, limits).await {
                Ok(read) => {
                    if let Some(schema) = &read.schema {
                        shape.add_schema(schema);
                    }
                    for record in &read.records {
                        shape.add_record(record, typing);
                    }
                    counted += read.counted;
                    covered += read.covered_bytes;
                }
                Err(ReadError::Request(failed)) if is_systemic(&failed) => {
                    return Err(into_discovery_error(failed));
                }
                Err(error) => {
                    unreadable += u64::from(matches!(error, ReadError::Malformed(_)));
                    let reason = match &error {
                        ReadError::Request(failed) => failed.failure.message.clone(),
                        ReadError::Malformed(why) => why.clone(),
                    };
                    tracing::warn!(bucket, prefix, %reason, "S3 object skipped");
                }
            }
        }
        if covered > 0 {
            let bytes = formats.get(&Some(format)).map_or(0, |(_, bytes)| *bytes);
            let estimate = counted as f64 * bytes as f64 / covered as f64;
            asset.row_estimate = Some(estimate.round() as i64);
        }
    }
    let mut partitions: Vec<(String, Vec<Option<String>>)> = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        for (key, value) in &object.placement.partitions {
            let position = match partitions.iter().position(|(k, _)| k == key) {
                Some(position) => position,
                None => {
                    partitions.push((key.clone(), vec![None; objects.len()]));
                    partitions.len() - 1
                }
            };
            let value = (value != "__HIVE_DEFAULT_PARTITION__").then(|| value.clone());
            partitions[position].1[index] = value;
        }
    }
    if !shape.is_empty() || !partitions.is_empty() {
        asset.columns = shape.columns(&partitions);
    }
    if dominant.is_none() && !objects.is_empty() {
        // Objects that are not records (photos, scans, recordings, anything else): one column
        // for what they are, which sampling types by their first bytes. Nothing is read here.
        let mut content = domain::discovery::ColumnSchema::new(CONTENT_COLUMN, "binary", 1);
        content.nullable = false;
        content.comment = Some(CONTENT_COMMENT.to_owned());
        for column in &mut asset.columns {
            column.ordinal += 1;
        }
        asset.columns.insert(0, content);
    }
    Ok((asset, unreadable))
}

/// `n` indices spread over `0..len`: first, last and evenly between.
pub(super) fn spread(len: usize, n: usize) -> Vec<usize> {
    if len <= n {
        return (0..len).collect();
    }
    if n <= 1 {
        return vec![len - 1];
    }
    let mut picks: Vec<usize> = (0..n).map(|i| i * (len - 1) / (n - 1)).collect();
    picks.dedup();
    picks
}

/// Whether a failed read means the store itself is gone (the discovery cannot go on) rather than
/// that one object is unreadable.
fn is_systemic(failed: &Failed) -> bool {
    matches!(
        failed.failure.category,
        FailureCategory::Unreachable | FailureCategory::Timeout | FailureCategory::Tls
    )
}

pub(super) fn into_discovery_error(failed: Failed) -> DiscoveryError {
    match failed.failure.category {
        FailureCategory::Config => DiscoveryError::Query {
            message: failed.failure.message,
            retries: failed.retries,
        },
        _ => DiscoveryError::Connection(failed.failure),
    }
}

impl Run {
    #[cfg(test)]
    fn for_tests(strategy: ScanStrategy) -> Self {
        Run {
            tuning: Tuning::of(strategy),
            adaptive: strategy == ScanStrategy::Auto,
            slow: Duration::from_millis(10),
            metrics: ScanMetrics::default(),
            unreadable: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_set_the_sample() {
        assert_eq!(Tuning::of(ScanStrategy::Conservative).objects, 2);
        assert_eq!(Tuning::of(ScanStrategy::Balanced).concurrency, 4);
        assert_eq!(Tuning::of(ScanStrategy::Aggressive).head_bytes, 1024 * 1024);
        assert_eq!(
            Tuning::of(ScanStrategy::Auto).strategy,
            ScanStrategy::Balanced
        );
    }

    #[test]
    fn samples_spread_over_the_objects() {
        assert_eq!(spread(2, 3), [0, 1]);
        assert_eq!(spread(10, 3), [0, 4, 9]);
        assert_eq!(spread(10, 2), [0, 9]);
        assert_eq!(spread(5, 1), [4]);
        assert!(spread(0, 3).is_empty());
    }

    #[test]
    fn a_slow_page_steps_auto_down() {
        let mut run = Run::for_tests(ScanStrategy::Auto);
        run.adapt(Duration::from_millis(1));
        assert_eq!(run.tuning.strategy, ScanStrategy::Balanced);
        run.adapt(Duration::from_millis(50));
        assert_eq!(run.tuning.strategy, ScanStrategy::Conservative);
        let mut fixed = Run::for_tests(ScanStrategy::Aggressive);
        fixed.adapt(Duration::from_millis(50));
        assert_eq!(fixed.tuning.strategy, ScanStrategy::Aggressive);
    }
}
