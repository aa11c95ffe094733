//! Tamper evidence: every event's `hash` is SHA-256 over its canonical JSON (keys sorted, no
//! insignificant whitespace, `hash` left out), and includes `prevhash`, the hash of the previous
//! event of the same aggregate. Changing, dropping or reordering any event breaks a link.

use crate::envelope::{CloudEvent, StoredEvent};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// `prevhash` of an aggregate's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Computes the hash an event must carry.
pub fn compute_hash(event: &CloudEvent) -> String {
    let mut value = serde_json::to_value(event).expect("a CloudEvent always serialises");
    if let Value::Object(map) = &mut value {
        map.remove("hash");
    }
    let mut canonical = String::new();
    write_canonical(&value, &mut canonical);
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// Writes JSON with object keys sorted, independent of how the map was built.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

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
