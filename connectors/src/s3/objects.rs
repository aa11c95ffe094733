//! Listing a bucket into [`Object`]s and reading one object by byte ranges: the head of a CSV or
//! JSON object (decompressed when it is gzip), the footer (and, for samples, the first row group)
//! of a Parquet object, the first bytes of any other object (its magic number). Shared by
//! discovery and sampling; what is read is bounded by [`Limits`], never the whole object unless it
//! is small, and what a compressed head decompresses to is bounded too (a small object may inflate
//! to gigabytes).

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
    /// Bytes read from the start of a CSV or JSON object; of a gzip-compressed one, also the
    /// most text its head is decompressed to.
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
    let read_whole = head == object.size;
    if !format.gzip() {
        let parsed = records::parse(format, &bytes, read_whole, limits.keep);
        return Ok(text_read(parsed, read_whole, object.size, |covered| {
            covered
        }));
    }
    let max_text = usize::try_from(limits.head_bytes).unwrap_or(usize::MAX);
    let text = gunzip_head(&bytes, read_whole, max_text)
        .map_err(|why| ReadError::Malformed(format!("{}: {why}", object.key())))?;
    let parsed = records::parse(format, &text.text, text.whole, limits.keep);
    // The records cover part of the text; they came from that part of the compressed bytes.
    let share = |covered: u64| {
        let text_len = text.text.len().max(1) as f64;
        (covered as f64 * text.consumed as f64 / text_len).round() as u64
    };
    Ok(text_read(parsed, text.whole, object.size, share))
}

/// What a CSV or JSON object's records say: when the records are the whole object, the count is
/// exact and covers all of it (trailing blank lines must not scale it); else they cover the
/// object bytes `stored_bytes` makes of the text they span.
fn text_read(
    parsed: records::Parsed,
    whole: bool,
    size: u64,
    stored_bytes: impl Fn(u64) -> u64,
) -> Read {
    Read {
        records: parsed.records,
        schema: None,
        counted: parsed.counted,
        covered_bytes: if whole && parsed.counted > 0 {
            size
        } else {
            stored_bytes(parsed.covered_bytes)
        },
    }
}

/// The text at the start of a gzip-compressed object.
#[derive(Debug)]
struct Gunzipped {
    text: Vec<u8>,
    /// Whether `text` is the object's entire content.
    whole: bool,
    /// The compressed bytes `text` was decompressed from.
    consumed: u64,
}

/// Decompresses `compressed`, the first bytes of a gzip object (all of them when `complete`), to
/// at most `max_text` bytes of text. Several gzip members one after another (as `cat a.gz b.gz`
/// or parallel compressors write them) are one text. A head that ends inside the stream is the
/// text decompressed so far; data that is not gzip, or a complete object whose stream is cut
/// short or fails its checksum, is an error.
fn gunzip_head(compressed: &[u8], complete: bool, max_text: usize) -> Result<Gunzipped, String> {
    use std::io::Read as _;
    let mut decoder = flate2::bufread::MultiGzDecoder::new(compressed);
    let mut text = Vec::with_capacity(max_text.min(4 * compressed.len()).min(1 << 20));
    let mut chunk = vec![0; 64 * 1024];
    let whole = loop {
        if text.len() >= max_text {
            break false;
        }
        let room = chunk.len().min(max_text - text.len());
        match decoder.read(&mut chunk[..room]) {
            Ok(0) => break complete,
            Ok(n) => text.extend_from_slice(&chunk[..n]),
            // The head stops where the range read stopped, inside a member or its trailer.
            Err(err) if !complete && err.kind() == std::io::ErrorKind::UnexpectedEof => {
                break false
            }
            Err(err) => return Err(format!("not readable as gzip ({err})")),
        }
    };
    let consumed = (compressed.len() - decoder.get_ref().len()) as u64;
    Ok(Gunzipped {
        text,
        whole,
        consumed,
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

/// The first [`SNIFF_BYTES`](domain::classification::content::SNIFF_BYTES) bytes of `object` (all
/// of it when smaller) as lowercase hex, the form binary values are sampled in: one ranged GET,
/// so what its magic number says is learnt without reading, or keeping, the object.
pub(super) async fn first_bytes_hex(
    session: &Session,
    store: &AmazonS3,
    object: &Object,
) -> Result<String, Failed> {
    let end = object
        .size
        .min(domain::classification::content::SNIFF_BYTES as u64);
    let bytes = get(session, store, object, 0, end).await?;
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes.iter() {
        use std::fmt::Write as _;
        let _ = write!(hex, "{byte:02x}");
    }
    Ok(hex)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    /// Lines that do not compress to nothing (each has its own numbers).
    fn lines(count: usize) -> Vec<u8> {
        (0..count)
            .map(|i| format!("{i},user{i}@example.com,{}\n", i * 7919 % 100_003))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn a_whole_object_decompresses_to_its_whole_text() {
        let text = lines(100);
        let compressed = gzip(&text);
        let read = gunzip_head(&compressed, true, 1 << 20).unwrap();
        assert_eq!(read.text, text);
        assert!(read.whole);
        assert_eq!(read.consumed, compressed.len() as u64);
    }

    #[test]
    fn members_one_after_another_are_one_text() {
        let mut compressed = gzip(b"a,b\n1,2\n");
        compressed.extend(gzip(b"3,4\n"));
        let read = gunzip_head(&compressed, true, 1 << 20).unwrap();
        assert_eq!(read.text, b"a,b\n1,2\n3,4\n");
        assert!(read.whole);
        // A head that ends where the first member ends is not the whole object.
        let first = gzip(b"a,b\n1,2\n").len();
        let read = gunzip_head(&compressed[..first], false, 1 << 20).unwrap();
        assert_eq!(read.text, b"a,b\n1,2\n");
        assert!(!read.whole);
    }

    #[test]
    fn a_head_cut_anywhere_yields_the_text_so_far() {
        let text = lines(5_000);
        let compressed = gzip(&text);
        for cut in [
            1,
            10,
            19,
            compressed.len() / 3,
            compressed.len() - 4,
            compressed.len() - 1,
        ] {
            let read = gunzip_head(&compressed[..cut], false, usize::MAX)
                .unwrap_or_else(|err| panic!("cut at {cut}: {err}"));
            assert!(!read.whole, "cut at {cut}");
            assert!(text.starts_with(&read.text), "cut at {cut}");
            assert!(read.consumed <= cut as u64);
        }
        let read = gunzip_head(&compressed[..compressed.len() / 3], false, usize::MAX).unwrap();
        assert!(!read.text.is_empty());
    }

    #[test]
    fn the_text_is_bounded_whatever_the_compression_ratio() {
        // 64 MiB of one byte compress to ~64 KiB; only the bound is decompressed.
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..64 {
            encoder.write_all(&vec![b'x'; 1 << 20]).unwrap();
        }
        let compressed = encoder.finish().unwrap();
        let read = gunzip_head(&compressed, true, 100_000).unwrap();
        assert_eq!(read.text.len(), 100_000);
        assert!(!read.whole);
        assert!(read.consumed < compressed.len() as u64);
    }

    #[test]
    fn data_that_is_not_gzip_or_a_complete_stream_cut_short_is_an_error() {
        let err = gunzip_head(b"id,name\n1,Ana\n", true, 1 << 20).unwrap_err();
        assert!(err.contains("not readable as gzip"), "{err}");
        let compressed = gzip(&lines(100));
        assert!(gunzip_head(&compressed[..compressed.len() - 4], true, 1 << 20).is_err());
        let mut corrupt = compressed.clone();
        let last = corrupt.len() - 5;
        corrupt[last] ^= 0xff; // the CRC of the text
        assert!(gunzip_head(&corrupt, true, 1 << 20).is_err());
    }

    #[test]
    fn compressed_records_cover_their_share_of_the_compressed_bytes() {
        let parsed = records::Parsed {
            records: Vec::new(),
            counted: 10,
            covered_bytes: 500,
        };
        let read = text_read(parsed, false, 10_000, |covered| covered / 4);
        assert_eq!((read.counted, read.covered_bytes), (10, 125));
        let parsed = records::Parsed {
            records: Vec::new(),
            counted: 10,
            covered_bytes: 500,
        };
        assert_eq!(text_read(parsed, true, 10_000, |c| c).covered_bytes, 10_000);
    }
}
