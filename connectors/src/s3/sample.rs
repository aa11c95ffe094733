//! [`sample`]: records of one discovered prefix, for classification. The prefix's objects are
//! listed (the bucket root's without descending into folders), those of its most common format
//! read in key order — the head of CSV and JSON objects, the first row group of Parquet objects —
//! until enough records are in hand. A prefix without records (photos, scans, recordings) is
//! sampled as the first bytes of at most [`MAX_CONTENT_OBJECTS`] of its objects, spread over
//! them in key order, one ranged GET of at most
//! [`SNIFF_BYTES`](domain::classification::content::SNIFF_BYTES) bytes each, as hex: one value of
//! its [`CONTENT_COLUMN`] per object. Values are returned as text and never logged.

use super::connect::Session;
use super::discover::{into_discovery_error, spread, CONTENT_COLUMN};
use super::layout::{prefix_of, Format};
use super::objects::{self, list_page, Limits, Object, ReadError};
use super::options::S3Target;
use super::records::Record;
use crate::probe::{AssetSample, ColumnSample, ConnectionFailure, DiscoveryError};
use domain::datasource::FailureCategory;
use domain::discovery::{AssetKind, AssetSchema};
use std::collections::BTreeMap;
use std::time::Duration;
use tracing::Instrument;

/// Listing pages read to find a prefix's objects.
const MAX_PAGES: usize = 20;
/// Bytes read from the head of one text object.
const HEAD_BYTES: u64 = 1024 * 1024;
/// The largest Parquet row group read.
const MAX_ROW_GROUP_BYTES: u64 = 64 * 1024 * 1024;
/// The most objects of a prefix without records whose first bytes are read: enough for the
/// classifier's ratios (a label wants most sampled values to agree), few enough that a prefix of
/// a million photos costs 20 small requests.
pub const MAX_CONTENT_OBJECTS: usize = 20;

/// Samples up to `rows` records of the prefix `asset` (an `s3_prefix` asset of this source),
/// all within `timeout`. One [`ColumnSample`] per column of `asset`, in order, each with exactly
/// `rows` values of the sample (`None` for null or absent; partition columns from the keys).
pub async fn sample(
    target: &S3Target,
    asset: &AssetSchema,
    rows: u32,
    timeout: Duration,
) -> Result<AssetSample, DiscoveryError> {
    let (bucket, prefix) = match (asset.kind, asset.path.segments()) {
        (AssetKind::S3Prefix, [bucket, segment]) => (bucket.as_str(), prefix_of(segment)),
        _ => {
            return Err(DiscoveryError::Unsupported(format!(
                "{} is not an S3 prefix asset",
                asset.path
            )))
        }
    };
    if target.bucket.as_deref().is_some_and(|own| own != bucket) {
        return Err(DiscoveryError::Unsupported(format!(
            "{} is not in the bucket of {target}",
            asset.path
        )));
    }
    let span = tracing::info_span!("s3.sample", target = %target, asset = %asset.path, rows);
    let work = async {
        let session = Session::open(target, timeout, 1).await?;
        let content = asset.column(CONTENT_COLUMN).is_some();
        let records = read_records(&session, bucket, prefix, rows as usize, content).await;
        drop(session);
        records
    };
    let records = match tokio::time::timeout(timeout, work.instrument(span)).await {
        Ok(records) => records?,
        Err(_) => {
            return Err(DiscoveryError::Connection(ConnectionFailure::new(
                FailureCategory::Timeout,
                format!(
                    "sampling {} took more than {} ms",
                    asset.path,
                    timeout.as_millis()
                ),
                None,
            )))
        }
    };
    let columns = asset
        .columns
        .iter()
        .map(|column| ColumnSample {
            column: column.name.clone(),
            values: records
                .iter()
                .map(|(record, partitions)| {
                    // A field of the objects in an array is named once per element: the
                    // first element's value that is not null.
                    let mut named = record
                        .iter()
                        .filter(|field| field.name == column.name)
                        .peekable();
                    match named.peek() {
                        Some(_) => named.find_map(|field| field.text.clone()),
                        None => partitions.get(&column.name).cloned().flatten(),
                    }
                })
                .collect(),
        })
        .collect();
    Ok(AssetSample {
        rows: records.len() as u32,
        columns,
    })
}

type Partitions = BTreeMap<String, Option<String>>;

/// Up to `rows` records of the objects of `prefix`, each with its object's partition values.
/// Where no object is of a record format and the asset has a `content` column, one record per
/// object whose first bytes were read.
async fn read_records(
    session: &Session,
    bucket: &str,
    prefix: &str,
    rows: usize,
    content: bool,
) -> Result<Vec<(Record, Partitions)>, DiscoveryError> {
    if rows == 0 {
        return Ok(Vec::new());
    }
    let store = session.store(bucket)?;
    let mut objects: Vec<Object> = Vec::new();
    let mut token = None;
    for _ in 0..MAX_PAGES {
        let page = list_page(session, &store, bucket, prefix, prefix.is_empty(), token)
            .await
            .map_err(into_discovery_error)?;
        objects.extend(
            page.objects
                .into_iter()
                .filter(|o| o.placement.prefix == prefix),
        );
        token = page.next;
        if token.is_none() {
            break;
        }
    }
    objects.sort_by(|a, b| a.key().cmp(b.key()));
    let mut counts: BTreeMap<Format, usize> = BTreeMap::new();
    for format in objects.iter().filter_map(|o| o.format) {
        *counts.entry(format).or_default() += 1;
    }
    let Some(format) = counts
        .iter()
        .fold(
            None,
            |best: Option<(Format, usize)>, (format, count)| match best {
                Some((_, best_count)) if best_count >= *count => best,
                _ => Some((*format, *count)),
            },
        )
        .map(|(format, _)| format)
    else {
        return match content {
            true => read_contents(session, &store, bucket, prefix, &objects, rows).await,
            false => Ok(Vec::new()),
        };
    };
    let mut records = Vec::new();
    for object in objects.iter().filter(|o| o.format == Some(format)) {
        let limits = Limits {
            head_bytes: HEAD_BYTES,
            keep: rows - records.len(),
            parquet_rows: true,
            max_row_group_bytes: MAX_ROW_GROUP_BYTES,
        };
        match objects::read(session, &store, object, format, limits).await {
            Ok(read) => {
                let partitions = partitions_of(object);
                records.extend(read.records.into_iter().map(|r| (r, partitions.clone())));
            }
            Err(ReadError::Request(failed))
                if failed.failure.category != FailureCategory::Config =>
            {
                return Err(into_discovery_error(failed));
            }
            Err(error) => {
                let reason = match &error {
                    ReadError::Request(failed) => failed.failure.message.clone(),
                    ReadError::Malformed(why) => why.clone(),
                };
                tracing::warn!(bucket, prefix, %reason, "S3 object skipped while sampling");
            }
        }
        if records.len() >= rows {
            break;
        }
    }
    records.truncate(rows);
    Ok(records)
}

/// The partition values in `object`'s key.
fn partitions_of(object: &Object) -> Partitions {
    object
        .placement
        .partitions
        .iter()
        .map(|(k, v)| {
            let value = (v != "__HIVE_DEFAULT_PARTITION__").then(|| v.clone());
            (k.clone(), value)
        })
        .collect()
}

/// The first bytes (as hex) of at most `rows` and [`MAX_CONTENT_OBJECTS`] of `objects` (in key
/// order), spread over them: one record of the [`CONTENT_COLUMN`] per object read.
async fn read_contents(
    session: &Session,
    store: &object_store::aws::AmazonS3,
    bucket: &str,
    prefix: &str,
    objects: &[Object],
    rows: usize,
) -> Result<Vec<(Record, Partitions)>, DiscoveryError> {
    let mut records = Vec::new();
    for index in spread(objects.len(), rows.min(MAX_CONTENT_OBJECTS)) {
        let object = &objects[index];
        match objects::first_bytes_hex(session, store, object).await {
            Ok(hex) => {
                let field = super::records::Field {
                    name: CONTENT_COLUMN.to_owned(),
                    kind: "binary",
                    text: Some(hex),
                };
                records.push((vec![field], partitions_of(object)));
            }
            Err(failed) if failed.failure.category != FailureCategory::Config => {
                return Err(into_discovery_error(failed));
            }
            Err(failed) => {
                let reason = failed.failure.message;
                tracing::warn!(bucket, prefix, %reason, "S3 object skipped while sampling");
            }
        }
    }
    Ok(records)
}
