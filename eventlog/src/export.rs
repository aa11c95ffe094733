//! NDJSON export: one CloudEvent per line, with the commit's stream sequence as the extra member
//! `streamsequence` (not covered by the hash; the chain itself proves order within an aggregate).
//! Reading an export back feeds [`crate::chain::ChainVerifier`], so `pursight verify --file`
//! checks an export offline exactly like the live stream.

use crate::chain::{ChainVerifier, ChainViolation};
use crate::envelope::{CloudEvent, StoredEvent};
use serde_json::Value;
use std::io::BufRead;

/// Renders one stored event as an export line (without the newline).
pub fn to_line(stored: &StoredEvent) -> String {
    let mut value = serde_json::to_value(&stored.event).expect("a CloudEvent always serialises");
    if let Value::Object(map) = &mut value {
        map.insert("streamsequence".into(), stored.sequence.into());
    }
    value.to_string()
}

/// Parses one export line.
pub fn from_line(line: &str) -> Result<StoredEvent, String> {
    let mut value: Value = serde_json::from_str(line).map_err(|err| err.to_string())?;
    let sequence = value
        .as_object_mut()
        .and_then(|map| map.remove("streamsequence"))
        .and_then(|seq| seq.as_u64())
        .ok_or("missing streamsequence")?;
    let event: CloudEvent = serde_json::from_value(value).map_err(|err| err.to_string())?;
    Ok(StoredEvent { sequence, event })
}

/// Verifies an export read from `reader`; unreadable lines are violations too.
pub fn verify_export(reader: impl BufRead) -> std::io::Result<ChainVerifier> {
    let mut verifier = ChainVerifier::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match from_line(&line) {
            Ok(stored) => verifier.check(&stored),
            Err(reason) => verifier.record(ChainViolation {
                sequence: lenient_number(&line, "\"streamsequence\":").unwrap_or(0),
                event_id: lenient_string(&line, "\"id\":\"").unwrap_or_else(|| "?".into()),
                aggregate: lenient_string(&line, "\"aggregateid\":\"")
                    .unwrap_or_else(|| "?".into()),
                reason: format!("line {} is not a valid event: {reason}", index + 1),
            }),
        }
    }
    Ok(verifier)
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
