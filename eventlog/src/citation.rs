//! Checking what a document cites against the events themselves.
//!
//! A compliance report (and anything else that rests on the history) cites events by id, stream
//! sequence and chain hash. Verifying the stream or an export proves each event's hash matches
//! its content and links to the one before; this module then proves the citations point at
//! those very events: every cited id is found, at the cited sequence, with the cited hash. A
//! citation that names a missing event, another sequence or another hash is reported — a report
//! edited after the fact, or one written from another stream, does not pass.

use crate::envelope::StoredEvent;
use std::collections::BTreeMap;
use uuid::Uuid;

/// One cited event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    pub event_id: Uuid,
    pub sequence: u64,
    pub hash: String,
}

/// The citations of one document, checked against events as they are read (in any order).
#[derive(Debug, Default)]
pub struct CitationCheck {
    /// Each cited event id with every (sequence, hash) the document gives it; a document may
    /// cite one event many times, and each citation must be right.
    cited: BTreeMap<Uuid, Vec<(u64, String)>>,
    /// What the events say, for the cited ids seen so far.
    seen: BTreeMap<Uuid, (u64, String)>,
}

impl CitationCheck {
    pub fn new(citations: impl IntoIterator<Item = Citation>) -> Self {
        let mut cited: BTreeMap<Uuid, Vec<(u64, String)>> = BTreeMap::new();
        for c in citations {
            let given = cited.entry(c.event_id).or_default();
            if !given.contains(&(c.sequence, c.hash.clone())) {
                given.push((c.sequence, c.hash));
            }
        }
        Self {
            cited,
            seen: BTreeMap::new(),
        }
    }

    /// The distinct events cited.
    pub fn len(&self) -> usize {
        self.cited.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cited.is_empty()
    }

    /// The stream sequences the citations name (where to look for the events).
    pub fn sequences(&self) -> Vec<u64> {
        let mut sequences: Vec<u64> = self
            .cited
            .values()
            .flatten()
            .map(|(sequence, _)| *sequence)
            .collect();
        sequences.sort_unstable();
        sequences.dedup();
        sequences
    }

    /// Notes an event read from the stream or an export.
    pub fn observe(&mut self, stored: &StoredEvent) {
        if self.cited.contains_key(&stored.event.id) {
            self.seen.insert(
                stored.event.id,
                (stored.sequence, stored.event.hash.clone()),
            );
        }
    }

    /// Every citation that does not match the events read, worded for the person checking; empty
    /// when each cited event was found at its sequence with its hash.
    pub fn problems(&self, where_: &str) -> Vec<String> {
        let mut problems = Vec::new();
        for (id, given) in &self.cited {
            let Some((sequence, hash)) = self.seen.get(id) else {
                let (cited_sequence, _) = &given[0];
                problems.push(format!(
                    "cited event {id} (sequence {cited_sequence}) is not in {where_}"
                ));
                continue;
            };
            for (cited_sequence, cited_hash) in given {
                if cited_sequence != sequence {
                    problems.push(format!(
                        "cited event {id} is cited at sequence {cited_sequence} but stands at sequence {sequence} in {where_}"
                    ));
                }
                if cited_hash != hash {
                    problems.push(format!(
                        "cited event {id} is cited with hash {cited_hash} but its hash is {hash} in {where_}"
                    ));
                }
            }
        }
        problems
    }
}

/// Every citation in a JSON document: each object anywhere in it with an `eventId` (a UUID), a
/// `sequence` (a number) and a `hash` (a string), as compliance reports and the API write
/// evidence. Objects that look like evidence but are malformed are returned as problems.
pub fn citations_in(document: &serde_json::Value) -> (Vec<Citation>, Vec<String>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut stack = vec![document];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(id) = map.get("eventId") {
                    let event_id = id.as_str().and_then(|s| Uuid::parse_str(s).ok());
                    let sequence = map.get("sequence").and_then(serde_json::Value::as_u64);
                    let hash = map.get("hash").and_then(serde_json::Value::as_str);
                    match (event_id, sequence, hash) {
                        (Some(event_id), Some(sequence), Some(hash)) => found.push(Citation {
                            event_id,
                            sequence,
                            hash: hash.to_owned(),
                        }),
                        _ => problems.push(format!(
                            "a citation is malformed (it needs a UUID eventId, a numeric sequence and a hash): {}",
                            clip(&value.to_string())
                        )),
                    }
                }
                stack.extend(map.values());
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    (found, problems)
}

/// At most 120 characters of a quoted document fragment: enough to find it, never a flood.
fn clip(text: &str) -> String {
    match text.char_indices().nth(120) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::CloudEvent;

    fn stored(id: Uuid, sequence: u64, hash: &str) -> StoredEvent {
        let event: CloudEvent = serde_json::from_value(serde_json::json!({
            "specversion": "1.0", "id": id, "source": "/pursight/t", "type": "io.pursight.T.v1",
            "subject": "x", "time": "2026-01-01T00:00:00Z", "datacontenttype": "application/json",
            "data": {}, "tenant": "t", "aggregatetype": "a", "aggregateid": "x",
            "aggregateversion": 1, "actor": "someone", "commandid": "c", "correlationid": "c",
            "causationid": "c", "prevhash": "0", "hash": hash
        }))
        .expect("an event");
        StoredEvent { sequence, event }
    }

    #[test]
    fn matching_citations_pass_and_every_kind_of_mismatch_is_named() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let document = serde_json::json!({
            "violations": [
                { "evidence": [ { "eventId": a, "sequence": 4, "hash": "aa" } ] },
                { "facts": [ { "evidence": { "eventId": a, "sequence": 4, "hash": "aa" } } ],
                  "evidence": [ { "eventId": b, "sequence": 7, "hash": "bb" },
                                { "eventId": c, "sequence": 9, "hash": "cc" } ] }
            ]
        });
        let (citations, malformed) = citations_in(&document);
        assert!(malformed.is_empty());
        let mut check = CitationCheck::new(citations);
        assert_eq!(check.len(), 3);
        assert_eq!(check.sequences(), [4, 7, 9]);
        check.observe(&stored(a, 4, "aa"));
        check.observe(&stored(b, 8, "bx"));
        let problems = check.problems("the export");
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains(&format!(
            "{b} is cited at sequence 7 but stands at sequence 8"
        ))));
        assert!(problems
            .iter()
            .any(|p| p.contains(&format!("{b} is cited with hash bb but its hash is bx"))));
        assert!(problems
            .iter()
            .any(|p| p.contains(&format!("{c} (sequence 9) is not in the export"))));

        let mut good = CitationCheck::new(citations_in(&document).0);
        for (id, sequence, hash) in [(a, 4, "aa"), (b, 7, "bb"), (c, 9, "cc")] {
            good.observe(&stored(id, sequence, hash));
        }
        assert!(good.problems("the export").is_empty());
    }

    #[test]
    fn a_malformed_citation_is_a_problem_not_a_pass() {
        let document = serde_json::json!({ "evidence": [ { "eventId": "not-a-uuid", "sequence": 1, "hash": "h" } ] });
        let (citations, malformed) = citations_in(&document);
        assert!(citations.is_empty());
        assert_eq!(malformed.len(), 1);
    }
}
