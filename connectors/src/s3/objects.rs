//! Listing a bucket into [`Object`]s and reading one object by byte ranges: the head of a CSV or
//! JSON object, the footer (and, for samples, the first row group) of a Parquet object. Shared by
//! discovery and sampling; what is read is bounded by [`Limits`], never the whole object unless
//! it is small.

use super::connect::{Failed, Session};
use super::footer::{self, Ranges, FOOTER_GUESS, MAX_FOOTER};
use super::layout::{place, Format, Placement};
use super::records::{self, Record};
use bytes::Bytes;
use object_store::aws::AmazonS3;
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::Path;
use object_store::ObjectStore;
use parquet::file::reader::FileReader;

/// One data object of a listing.
#[derive(Debug, Clone)]
pub(super) struct Object {
    pub(super) location: Path,
    pub(super) size: u64,
    pub(super) format: Option<Format>,
    pub(super) placement: Placement,
}

impl Object {
    pub(super) fn key(&self) -> &str {
        self.location.as_ref()
    }
}

/// One page of a listing.
pub(super) struct Page {
    /// Data objects (bookkeeping files and empty objects left out).
    pub(super) objects: Vec<Object>,
    /// Every key the page held.
    pub(super) keys: usize,
    pub(super) next: Option<String>,
}

/// Lists one page of the keys starting with `prefix` (the whole bucket for `""`); with
/// `shallow`, only keys without a further `/` (the bucket root's objects).
pub(super) async fn list_page(
    session: &Session,
    store: &AmazonS3,
    bucket: &str,
    prefix: &str,
    shallow: bool,
    token: Option<String>,
) -> Result<Page, Failed> {
    let what = format!("listing s3://{bucket}/{prefix}");
    let result = session
        .call(&what, || {
            store.list_paginated(
                (!prefix.is_empty()).then_some(prefix),
                PaginatedListOptions {
                    page_token: token.clone(),
                    delimiter: shallow.then_some("/".into()),
                    ..PaginatedListOptions::default()
                },
            )
        })
        .await?;
    let keys = result.result.objects.len();
    let objects = result
        .result
        .objects
        .into_iter()
        .filter(|meta| meta.size > 0)
        .filter_map(|meta| {
            let placement = place(meta.location.as_ref())?;
            Some(Object {
                format: Format::of(meta.location.as_ref()),
                size: meta.size,
                location: meta.location,
                placement,
            })
        })
        .collect();
    Ok(Page {
        objects,
        keys,
        next: result.page_token,
    })
}

/// How much of one object is read.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Bytes read from the start of a CSV or JSON object.
    pub(super) head_bytes: u64,
    /// Records kept.
    pub(super) keep: usize,
    /// Whether Parquet rows are read (else only the footer).
    pub(super) parquet_rows: bool,
    /// The largest first row group read for rows.
    pub(super) max_row_group_bytes: u64,
}

/// What one object held.
#[derive(Debug, Default)]
pub(super) struct Read {
    /// The first records (CSV, JSON; Parquet rows when asked for).
    pub(super) records: Vec<Record>,
    /// Parquet: the footer's columns `(name, type, nullable)`.
    pub(super) schema: Option<Vec<(String, String, bool)>>,
    /// Records counted in the bytes read (Parquet: the footer's row count).
    pub(super) counted: u64,
    /// Bytes of the object those records span.
    pub(super) covered_bytes: u64,
}

/// Why an object could not be read.
#[derive(Debug)]
pub(super) enum ReadError {
    Request(Failed),
    /// The content is not what its extension says.
    Malformed(String),
}

impl From<Failed> for ReadError {
    fn from(failed: Failed) -> Self {
        ReadError::Request(failed)
    }
}

/// Reads `object` (of a known `format`) within `limits`.
pub(super) async fn read(
    session: &Session,
    store: &AmazonS3,
    object: &Object,
    format: Format,
    limits: Limits,
) -> Result<Read, ReadError> {
    if format == Format::Parquet {
        return read_parquet(session, store, object, limits).await;
    }
    let head = object.size.min(limits.head_bytes);
    let bytes = get(session, store, object, 0, head).await?;
    let whole = head == object.size;
    let parsed = records::parse(format, &bytes, whole, limits.keep);
    Ok(Read {
        records: parsed.records,
        schema: None,
        counted: parsed.counted,
        // Read whole, the count is exact: trailing blank lines must not scale it.
        covered_bytes: if whole && parsed.counted > 0 {
            object.size
        } else {
            parsed.covered_bytes
        },
    })
}

async fn read_parquet(
    session: &Session,
    store: &AmazonS3,
    object: &Object,
    limits: Limits,
) -> Result<Read, ReadError> {
    let size = object.size;
    let malformed = |why: String| ReadError::Malformed(format!("{}: {why}", object.key()));
    let guess = size.min(FOOTER_GUESS);
    let mut tail = get(session, store, object, size - guess, size).await?;
    let footer = footer::footer_len(&tail).map_err(malformed)?;
    if footer > size || footer > MAX_FOOTER {
        return Err(malformed(format!(
            "a footer of {footer} bytes cannot be read"
        )));
    }
    if footer > guess {
        tail = get(session, store, object, size - footer, size).await?;
    }
    let mut ranges = Ranges::new(size);
    ranges.add(size - tail.len() as u64, tail);
    let reader = footer::open(ranges.clone()).map_err(|e| malformed(e.to_string()))?;
    let metadata = reader.metadata();
    let mut read = Read {
        records: Vec::new(),
        schema: Some(footer::columns(metadata)),
        counted: u64::try_from(metadata.file_metadata().num_rows()).unwrap_or(0),
        covered_bytes: size,
    };
    let group = footer::first_row_group(metadata);
    drop(reader);
    if let (true, Some((start, end))) = (limits.parquet_rows && limits.keep > 0, group) {
        if end > start && end - start <= limits.max_row_group_bytes && end <= size {
            ranges.add(start, get(session, store, object, start, end).await?);
            let reader = footer::open(ranges).map_err(|e| malformed(e.to_string()))?;
            read.records =
                footer::rows(&reader, limits.keep).map_err(|e| malformed(e.to_string()))?;
        } else {
            tracing::debug!(
                key = object.key(),
                bytes = end.saturating_sub(start),
                "first Parquet row group too large to sample"
            );
        }
    }
    Ok(read)
}

/// The bytes `start..end` of `object`.
async fn get(
    session: &Session,
    store: &AmazonS3,
    object: &Object,
    start: u64,
    end: u64,
) -> Result<Bytes, Failed> {
    if start >= end {
        return Ok(Bytes::new());
    }
    let what = format!("reading {}", object.key());
    session
        .call(&what, || store.get_range(&object.location, start..end))
        .await
}
