//! Tamper evidence: every event's `hash` is SHA-256 over its canonical JSON (keys sorted, no
//! insignificant whitespace, `hash` left out), and includes `prevhash`, the hash of the previous
//! event of the same aggregate. Changing, dropping or reordering any event breaks a link.

use crate::envelope::{CloudEvent, StoredEvent};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// `prevhash` of an aggregate's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Computes the hash an event must carry: SHA-256 over the event's canonical JSON without
/// `hash` (object keys sorted at every level, no whitespace).
pub fn compute_hash(event: &CloudEvent) -> String {
    let mut canonical = Vec::with_capacity(2048);
    write_canonical(event, &mut canonical);
    hash_of(&canonical)
}

/// The hex SHA-256 of canonical bytes written by [`write_canonical`].
pub(crate) fn hash_of(canonical: &[u8]) -> String {
    hex::encode(Sha256::digest(canonical))
}

/// Appends the event's canonical JSON without `hash` to `out`: members in sorted key order,
/// `data` canonicalised recursively. The append path reuses these bytes for the payload, so an
/// event is serialised once to be both hashed and stored.
pub(crate) fn write_canonical(event: &CloudEvent, out: &mut Vec<u8>) {
    let members: [(&str, &dyn erased::Member); 16] = [
        ("actor", &event.actor),
        ("aggregateid", &event.aggregateid),
        ("aggregatetype", &event.aggregatetype),
        ("aggregateversion", &event.aggregateversion),
        ("causationid", &event.causationid),
        ("commandid", &event.commandid),
        ("correlationid", &event.correlationid),
        ("data", &CanonicalValue(&event.data)),
        ("datacontenttype", &event.datacontenttype),
        ("id", &event.id),
        ("prevhash", &event.prevhash),
        ("source", &event.source),
        ("specversion", &event.specversion),
        ("subject", &event.subject),
        ("tenant", &event.tenant),
        ("time", &event.time),
    ];
    out.push(b'{');
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_key(out, key);
        value.write_to(out);
        // `traceparent` sorts between `time` and `type` and is present only when set.
        if *key == "time" {
            if let Some(traceparent) = &event.traceparent {
                out.push(b',');
                write_key(out, "traceparent");
                traceparent.write_to(out);
            }
        }
    }
    out.push(b',');
    write_key(out, "type");
    event.event_type.write_to(out);
    out.push(b'}');
}

fn write_key(out: &mut Vec<u8>, key: &str) {
    key.write_to(out);
    out.push(b':');
}

/// A `serde_json::Value` written with its object keys sorted, whatever map type built it.
struct CanonicalValue<'a>(&'a Value);

mod erased {
    use super::{CanonicalValue, Value};

    /// One envelope member that can write its canonical JSON.
    pub(super) trait Member {
        fn write_to(&self, out: &mut Vec<u8>);
    }

    impl<T: serde::Serialize> Member for T {
        fn write_to(&self, out: &mut Vec<u8>) {
            serde_json::to_writer(out, self).expect("writing into memory cannot fail");
        }
    }

    /// `"key":value` pairs, comma-separated, values canonicalised.
    fn write_members<'v>(
        out: &mut Vec<u8>,
        members: impl Iterator<Item = (&'v String, &'v Value)>,
    ) {
        for (i, (key, value)) in members.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            key.write_to(out);
            out.push(b':');
            CanonicalValue(value).write_to(out);
        }
    }

    impl Member for CanonicalValue<'_> {
        fn write_to(&self, out: &mut Vec<u8>) {
            match self.0 {
                Value::Object(map) => {
                    out.push(b'{');
                    // serde_json's map iterates in key order unless its insertion-order feature
                    // is on (another crate may switch it on); only then are the keys sorted here.
                    if map.keys().is_sorted() {
                        write_members(out, map.iter());
                    } else {
                        let mut members: Vec<_> = map.iter().collect();
                        members.sort_by(|a, b| a.0.cmp(b.0));
                        write_members(out, members.into_iter());
                    }
                    out.push(b'}');
                }
                Value::Array(items) => {
                    out.push(b'[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        CanonicalValue(item).write_to(out);
                    }
                    out.push(b']');
                }
                scalar => scalar.write_to(out),
            }
        }
    }
}

use erased::Member as _;

/// One broken link found by [`ChainVerifier`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainViolation {
    pub sequence: u64,
    pub event_id: String,
    pub aggregate: String,
    pub reason: String,
}

impl std::fmt::Display for ChainViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sequence {} event {} ({}): {}",
            self.sequence, self.event_id, self.aggregate, self.reason
        )
    }
}

/// Walks events in stream order and checks every aggregate's chain.
#[derive(Debug, Default)]
pub struct ChainVerifier {
    heads: HashMap<String, (u64, String)>,
    checked: u64,
    violations: Vec<ChainViolation>,
}

impl ChainVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next event in stream order.
    pub fn check(&mut self, stored: &StoredEvent) {
        let event = &stored.event;
        let aggregate = format!(
            "{}/{}/{}",
            event.tenant, event.aggregatetype, event.aggregateid
        );
        self.checked += 1;
        let violation = |reason: String| ChainViolation {
            sequence: stored.sequence,
            event_id: event.id.to_string(),
            aggregate: aggregate.clone(),
            reason,
        };
        let recomputed = compute_hash(event);
        if recomputed != event.hash {
            self.violations.push(violation(format!(
                "content does not match its hash (stored {}, recomputed {})",
                short(&event.hash),
                short(&recomputed)
            )));
        }
        let (expected_version, expected_prev) = self
            .heads
            .get(&aggregate)
            .map(|(version, hash)| (version + 1, hash.clone()))
            .unwrap_or((1, GENESIS.to_owned()));
        if event.prevhash != expected_prev {
            self.violations.push(violation(format!(
                "prevhash {} does not link to the previous event's hash {}",
                short(&event.prevhash),
                short(&expected_prev)
            )));
        }
        if event.aggregateversion != expected_version {
            self.violations.push(violation(format!(
                "aggregate version {} where {} was expected (missing or reordered event)",
                event.aggregateversion, expected_version
            )));
        }
        self.heads
            .insert(aggregate, (event.aggregateversion, event.hash.clone()));
    }

    /// Records a problem found outside the chain itself (e.g. an unreadable line).
    pub fn record(&mut self, violation: ChainViolation) {
        self.violations.push(violation);
    }

    pub fn events_checked(&self) -> u64 {
        self.checked
    }

    pub fn aggregates_checked(&self) -> usize {
        self.heads.len()
    }

    pub fn violations(&self) -> &[ChainViolation] {
        &self.violations
    }
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(version: u64, prevhash: &str, data: Value) -> CloudEvent {
        let mut event = CloudEvent {
            specversion: "1.0".into(),
            id: uuid::Uuid::from_u128(version as u128),
            source: "/pursight/acme".into(),
            event_type: "io.pursight.SourceRegistered.v2".into(),
            subject: "a".into(),
            time: chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            datacontenttype: "application/json".into(),
            data,
            tenant: "acme".into(),
            aggregatetype: "data_source".into(),
            aggregateid: "a".into(),
            aggregateversion: version,
            actor: "alice".into(),
            commandid: "c".into(),
            correlationid: "c".into(),
            causationid: "c".into(),
            traceparent: None,
            prevhash: prevhash.into(),
            hash: String::new(),
        };
        event.hash = compute_hash(&event);
        event
    }

    /// The straightforward definition: serialise, drop `hash`, sort every object's keys.
    fn reference_hash(event: &CloudEvent) -> String {
        fn sorted(value: &Value) -> String {
            match value {
                Value::Object(map) => {
                    let mut keys: Vec<&String> = map.keys().collect();
                    keys.sort();
                    let members: Vec<String> = keys
                        .into_iter()
                        .map(|k| format!("{}:{}", Value::String(k.clone()), sorted(&map[k])))
                        .collect();
                    format!("{{{}}}", members.join(","))
                }
                Value::Array(items) => {
                    format!(
                        "[{}]",
                        items.iter().map(sorted).collect::<Vec<_>>().join(",")
                    )
                }
                scalar => scalar.to_string(),
            }
        }
        let mut value = serde_json::to_value(event).unwrap();
        value.as_object_mut().unwrap().remove("hash");
        hex::encode(Sha256::digest(sorted(&value).as_bytes()))
    }

    #[test]
    fn the_streamed_hash_is_the_hash_of_the_canonical_json() {
        let mut e = event(
            3,
            GENESIS,
            serde_json::json!({"z": [1, {"b": "é\"q", "a": null}], "a": 1.5}),
        );
        assert_eq!(compute_hash(&e), reference_hash(&e));
        e.traceparent = Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into());
        assert_eq!(compute_hash(&e), reference_hash(&e));
    }

    #[test]
    fn hash_ignores_key_order_but_not_content() {
        let a = event(
            1,
            GENESIS,
            serde_json::json!({"b": 1, "a": [1, {"y": 2, "x": 1}]}),
        );
        let b = event(
            1,
            GENESIS,
            serde_json::json!({"a": [1, {"x": 1, "y": 2}], "b": 1}),
        );
        assert_eq!(a.hash, b.hash);
        let c = event(
            1,
            GENESIS,
            serde_json::json!({"a": [1, {"x": 1, "y": 3}], "b": 1}),
        );
        assert_ne!(a.hash, c.hash);
    }

    #[test]
    fn verifier_names_the_changed_event_and_the_broken_link() {
        let first = event(1, GENESIS, serde_json::json!({"n": 1}));
        let second = event(2, &first.hash, serde_json::json!({"n": 2}));
        let mut verifier = ChainVerifier::new();
        for (seq, e) in [(1, first.clone()), (2, second.clone())] {
            verifier.check(&StoredEvent {
                sequence: seq,
                event: e,
            });
        }
        assert!(verifier.violations().is_empty());

        let mut tampered = first.clone();
        tampered.data = serde_json::json!({"n": 9});
        let mut verifier = ChainVerifier::new();
        verifier.check(&StoredEvent {
            sequence: 1,
            event: tampered,
        });
        verifier.check(&StoredEvent {
            sequence: 2,
            event: second.clone(),
        });
        assert_eq!(verifier.violations().len(), 1);
        assert_eq!(verifier.violations()[0].sequence, 1);
        assert_eq!(verifier.violations()[0].event_id, first.id.to_string());

        let mut verifier = ChainVerifier::new();
        verifier.check(&StoredEvent {
            sequence: 2,
            event: second,
        });
        assert!(verifier
            .violations()
            .iter()
            .any(|v| v.reason.contains("missing or reordered")));
    }
}
