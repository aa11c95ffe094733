//! NDJSON export: one CloudEvent per line, with the commit's stream sequence as the extra member
//! `streamsequence` (not covered by the hash; the chain itself proves order within an aggregate),
//! and a final trailer line that makes the export's completeness checkable.
//!
//! Events are written as every view shows them, Fernet tokens redacted (see [`crate::redact`]);
//! their hashes cover that form, so the chains verify offline. Sealed personal values (see
//! [`crate::personal`]) are written opened (or `[erased]`), and the member `sealed` keeps each
//! one's token and salt: verification checks the shown value against the token and hashes the
//! token, so an export verifies without any key, also after an erasure.
//!
//! The hash chains alone cannot show that lines are missing at the end of an aggregate's history,
//! nor an empty file. The trailer ([`Trailer`]) records which stream, subject filter and sequence
//! range the export covers, how many commits and events it holds, and the SHA-256 over every
//! event line (each with its `\n`). [`verify_export`] rejects a file without a trailer, with lines
//! after it, with counts or digest that do not match, with a line that carries members outside the
//! hashed event, and (for an export of every event) with a sequence missing from the range. The
//! digest is not keyed: it proves an export whole, not who wrote it; compare its trailer with the
//! live stream (`pursight verify`) to tie it to the source.

use crate::chain::{ChainVerifier, ChainViolation};
use crate::envelope::{CloudEvent, StoredEvent};
use crate::error::EventStoreError;
use crate::personal::SealedValues;
use crate::store::{DeliverFrom, EventStore};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{BufRead, Write};

/// The version of the export format this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The last line of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trailer {
    /// [`FORMAT_VERSION`]; its presence marks the line as the trailer.
    pub pursightexport: u32,
    /// The stream exported.
    pub stream: String,
    /// The subject filter exported (every event, or one tenant's).
    pub filter: String,
    /// Whether the filter captures every commit of the stream, so that every sequence from
    /// `firstsequence` to `lastsequence` must be present.
    pub everysequence: bool,
    /// The first stream sequence the export covers.
    pub firstsequence: u64,
    /// The last stream sequence the export covers (0 for an empty stream).
    pub lastsequence: u64,
    /// Commits (distinct stream sequences) exported.
    pub commits: u64,
    /// Events (lines before the trailer) exported.
    pub events: u64,
    /// Hex SHA-256 over every event line, each followed by `\n`, in file order.
    pub sha256: String,
}

/// Renders one stored event as an export line (without the newline), Fernet tokens redacted.
pub fn to_line(stored: &StoredEvent) -> String {
    to_shown_line(stored, &SealedValues::new())
}

/// Renders an event whose sealed values were opened ([`crate::personal::Opener`]) as an export
/// line: `sealed` records the tokens they were opened from, so the line still verifies.
pub fn to_shown_line(stored: &StoredEvent, sealed: &SealedValues) -> String {
    let event = crate::redact::redact_event(stored.event.clone());
    let mut value = serde_json::to_value(&event).expect("a CloudEvent always serialises");
    if let Value::Object(map) = &mut value {
        map.insert("streamsequence".into(), stored.sequence.into());
        if !sealed.is_empty() {
            map.insert(
                "sealed".into(),
                serde_json::to_value(sealed).expect("sealed values always serialise"),
            );
        }
    }
    value.to_string()
}

/// Writes an export: event lines in stream order, then [`finish`](Self::finish) writes the
/// trailer.
pub struct ExportWriter<W: Write> {
    out: W,
    digest: Sha256,
    trailer: Trailer,
    last_commit: Option<u64>,
}

impl<W: Write> ExportWriter<W> {
    /// An export of `filter` on `stream` covering sequences `first..=last`.
    pub fn new(
        out: W,
        stream: &str,
        filter: &str,
        everysequence: bool,
        first: u64,
        last: u64,
    ) -> Self {
        Self {
            out,
            digest: Sha256::new(),
            trailer: Trailer {
                pursightexport: FORMAT_VERSION,
                stream: stream.to_owned(),
                filter: filter.to_owned(),
                everysequence,
                firstsequence: first,
                lastsequence: last,
                commits: 0,
                events: 0,
                sha256: String::new(),
            },
            last_commit: None,
        }
    }

    /// Writes the next event (in stream order).
    pub fn write(&mut self, stored: &StoredEvent) -> std::io::Result<()> {
        self.write_shown(stored, &SealedValues::new())
    }

    /// Writes the next event, its sealed values opened (see [`to_shown_line`]).
    pub fn write_shown(
        &mut self,
        stored: &StoredEvent,
        sealed: &SealedValues,
    ) -> std::io::Result<()> {
        let mut line = to_shown_line(stored, sealed);
        line.push('\n');
        self.out.write_all(line.as_bytes())?;
        self.digest.update(line.as_bytes());
        self.trailer.events += 1;
        if self.last_commit != Some(stored.sequence) {
            self.trailer.commits += 1;
            self.last_commit = Some(stored.sequence);
        }
        Ok(())
    }

    /// Writes the trailer, flushes, and returns the trailer.
    pub fn finish(mut self) -> std::io::Result<Trailer> {
        self.trailer.sha256 = hex::encode(self.digest.finalize());
        let line = serde_json::to_string(&self.trailer).expect("a trailer always serialises");
        writeln!(self.out, "{line}")?;
        self.out.flush()?;
        Ok(self.trailer)
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] EventStoreError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

/// Exports every commit on `filter` up to the stream's last sequence as it is when the export
/// starts, trailer included. A read that ends early is an error, and then no trailer is written,
/// so the partial file does not verify.
pub async fn export(
    store: &EventStore,
    filter: &str,
    out: impl Write,
) -> Result<Trailer, ExportError> {
    let range = store.bounds().await?;
    let mut writer = ExportWriter::new(
        out,
        store.names().stream(),
        filter,
        filter == store.names().all_events(),
        range.first,
        range.last,
    );
    let mut commits = Box::pin(
        store
            .read_range(filter, DeliverFrom::Start, range.last)
            .await?,
    );
    // One opener for the whole export: each key is fetched once.
    let mut opener = store.opener();
    while let Some(commit) = commits.next().await {
        let mut commit = commit?;
        let sealed = opener
            .open(&mut commit.events)
            .await
            .map_err(EventStoreError::from)?;
        for (stored, sealed) in commit.into_stored_events().zip(sealed) {
            writer.write_shown(&stored, &sealed)?;
        }
    }
    Ok(writer.finish()?)
}

/// Parses one export line. Members other than the event's own, `streamsequence` and `sealed`
/// are refused: they are not covered by the hash, so an export must not carry them. The values
/// `sealed` names are checked against their tokens and replaced by them (the stored form).
pub fn from_line(line: &str) -> Result<StoredEvent, String> {
    let mut value: Value = serde_json::from_str(line).map_err(|err| err.to_string())?;
    let map = value.as_object_mut().ok_or("not a JSON object")?;
    let sequence = map
        .remove("streamsequence")
        .and_then(|seq| seq.as_u64())
        .ok_or("missing streamsequence")?;
    if let Some(sealed) = map.remove("sealed") {
        let sealed: SealedValues =
            serde_json::from_value(sealed).map_err(|err| format!("sealed: {err}"))?;
        crate::personal::restore_sealed(&mut value, &sealed)?;
    }
    let map = value.as_object_mut().ok_or("not a JSON object")?;
    let members: Vec<String> = map.keys().cloned().collect();
    let event: CloudEvent = serde_json::from_value(value).map_err(|err| err.to_string())?;
    let written = serde_json::to_value(&event).map_err(|err| err.to_string())?;
    let known = written.as_object().ok_or("not a JSON object")?;
    if let Some(extra) = members.iter().find(|member| !known.contains_key(*member)) {
        return Err(format!("member {extra:?} is not part of the hashed event"));
    }
    Ok(StoredEvent { sequence, event })
}

/// What [`verify_export`] found.
#[derive(Debug, Default)]
pub struct ExportVerification {
    /// The hash chains of the events read.
    pub chains: ChainVerifier,
    /// The trailer, when the file has a readable one.
    pub trailer: Option<Trailer>,
    /// Commits (distinct stream sequences) read.
    pub commits: u64,
    /// Problems with the export as a whole (trailer, counts, digest, order, missing sequences).
    pub problems: Vec<String>,
}

impl ExportVerification {
    /// Whether the export is complete and every chain intact.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty() && self.chains.violations().is_empty()
    }
}

/// Verifies an export read from `reader`: its trailer, and every event's hash chain.
/// Unreadable lines are violations too.
pub fn verify_export(reader: impl BufRead) -> std::io::Result<ExportVerification> {
    let mut result = ExportVerification::default();
    let mut digest = Sha256::new();
    let mut events = 0u64;
    let mut trailer_line = None;
    let mut last_commit: Option<u64> = None;
    // Sequences seen, as (first, last) of the commits read, and the first gap in them.
    let mut first_commit = None;
    let mut first_gap = None;
    let mut lines = 0usize;
    for (index, line) in reader.lines().enumerate() {
        let line = line?;
        let number = index + 1;
        lines = number;
        if let Some(trailer_at) = trailer_line {
            result.problems.push(format!(
                "line {number} follows the trailer (line {trailer_at}): the export has been appended to"
            ));
            continue;
        }
        if line.trim().is_empty() {
            result
                .problems
                .push(format!("line {number} is empty: an export has none"));
            continue;
        }
        if is_trailer(&line) {
            trailer_line = Some(number);
            match serde_json::from_str::<Trailer>(&line) {
                Ok(trailer) => result.trailer = Some(trailer),
                Err(err) => result
                    .problems
                    .push(format!("the trailer (line {number}) is unreadable: {err}")),
            }
            continue;
        }
        digest.update(line.as_bytes());
        digest.update(b"\n");
        events += 1;
        match from_line(&line) {
            Ok(stored) => {
                match last_commit {
                    Some(last) if stored.sequence < last => result.problems.push(format!(
                        "line {number}: sequence {} comes after {last}: lines are out of order",
                        stored.sequence
                    )),
                    Some(last) if stored.sequence > last + 1 && first_gap.is_none() => {
                        first_gap = Some((last, stored.sequence));
                    }
                    _ => {}
                }
                if last_commit != Some(stored.sequence) {
                    result.commits += 1;
                    first_commit.get_or_insert(stored.sequence);
                    last_commit = Some(stored.sequence);
                }
                result.chains.check(&stored);
            }
            Err(reason) => result.chains.record(ChainViolation {
                sequence: lenient_number(&line, "\"streamsequence\":").unwrap_or(0),
                event_id: lenient_string(&line, "\"id\":\"").unwrap_or_else(|| "?".into()),
                aggregate: lenient_string(&line, "\"aggregateid\":\"")
                    .unwrap_or_else(|| "?".into()),
                reason: format!("line {number} is not a valid event: {reason}"),
            }),
        }
    }
    let Some(trailer) = result.trailer.clone() else {
        if trailer_line.is_none() {
            result.problems.push(if lines == 0 {
                "the file is empty: an export always ends with a trailer line".to_owned()
            } else {
                "there is no trailer line: the export is truncated or not a PurSight export"
                    .to_owned()
            });
        }
        return Ok(result);
    };
    if trailer.pursightexport != FORMAT_VERSION {
        result.problems.push(format!(
            "export format {} is not the one this version reads ({FORMAT_VERSION})",
            trailer.pursightexport
        ));
    }
    if trailer.events != events {
        result.problems.push(format!(
            "the trailer records {} events, the file holds {events}: lines were removed or added",
            trailer.events
        ));
    }
    if trailer.commits != result.commits {
        result.problems.push(format!(
            "the trailer records {} commits, the file holds {}",
            trailer.commits, result.commits
        ));
    }
    let computed = hex::encode(digest.finalize());
    if trailer.sha256 != computed {
        result.problems.push(format!(
            "the event lines do not match the trailer's digest (recorded {}, computed {}): lines were changed, removed, added or reordered",
            short(&trailer.sha256),
            short(&computed)
        ));
    }
    if let (Some(first), Some(last)) = (first_commit, last_commit) {
        if first < trailer.firstsequence || last > trailer.lastsequence {
            result.problems.push(format!(
                "sequences {first}..{last} lie outside the range {}..{} the trailer records",
                trailer.firstsequence, trailer.lastsequence
            ));
        }
    }
    if trailer.everysequence && trailer.lastsequence > 0 {
        let wanted = trailer.lastsequence + 1 - trailer.firstsequence.max(1);
        if result.commits != wanted {
            let detail = match first_gap {
                Some((before, after)) => format!(" (nothing between {before} and {after})"),
                None => String::new(),
            };
            result.problems.push(format!(
                "the export of every event must hold all {wanted} sequences {}..{}, it holds {}{detail}",
                trailer.firstsequence, trailer.lastsequence, result.commits
            ));
        }
    }
    Ok(result)
}

/// Whether a line is meant as the trailer (even an unreadable one).
pub fn is_trailer(line: &str) -> bool {
    serde_json::from_str::<Value>(line)
        .ok()
        .is_some_and(|value| value.get("pursightexport").is_some())
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// Best-effort extraction from a damaged line, so the report still names the event.
fn lenient_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(key)? + key.len();
    let end = line[start..].find('"')?;
    Some(line[start..start + end].to_owned())
}

fn lenient_number(line: &str, key: &str) -> Option<u64> {
    let start = line.find(key)? + key.len();
    let digits: String = line[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}
