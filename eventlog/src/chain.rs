//! Tamper evidence: every event's `hash` is SHA-256 over its canonical JSON (keys sorted, no
//! insignificant whitespace, `hash` left out), and includes `prevhash`, the hash of the previous
//! event of the same aggregate. Changing, dropping or reordering any event breaks a link.

use crate::envelope::{CloudEvent, StoredEvent};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use uuid::Uuid;

/// `prevhash` of an aggregate's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Computes the hash an event must carry: SHA-256 over the event's canonical JSON without
/// `hash` (object keys sorted at every level, no whitespace), with every Fernet token in `data`
/// written as `fernet:***` (see [`crate::redact`]), so that redacted views verify.
pub fn compute_hash(event: &CloudEvent) -> String {
    if crate::redact::holds_fernet_token(&event.data) {
        let mut data = event.data.clone();
        crate::redact::redact_value(&mut data);
        let mut canonical = Vec::with_capacity(2048);
        write_canonical(
            &EnvelopeView {
                data: EventData::Value(&data),
                ..EnvelopeView::of(event)
            },
            &mut canonical,
        );
        return hash_of(&canonical);
    }
    raw_hash(event)
}

/// The hash over the event exactly as stored, Fernet tokens included: how events appended before
/// tokens were redacted for hashing were hashed.
fn raw_hash(event: &CloudEvent) -> String {
    let mut canonical = Vec::with_capacity(2048);
    write_canonical(&EnvelopeView::of(event), &mut canonical);
    hash_of(&canonical)
}

/// The hex SHA-256 of canonical bytes written by [`write_canonical`].
pub(crate) fn hash_of(canonical: &[u8]) -> String {
    let mut hex = [0u8; 64];
    hex::encode_to_slice(Sha256::digest(canonical), &mut hex).expect("64 hex digits hold 32 bytes");
    String::from_utf8_lossy(&hex).into_owned()
}

/// One event's members, borrowed: from a stored [`CloudEvent`] when verifying, or from the
/// commit being appended (which never builds a `CloudEvent`). Both are written by the one
/// [`write_canonical`], so an appended event's hash is by construction what verification
/// recomputes.
pub(crate) struct EnvelopeView<'a> {
    pub specversion: &'a str,
    pub id: Uuid,
    pub source: &'a str,
    pub event_type: &'a str,
    pub subject: &'a str,
    pub time: &'a DateTime<Utc>,
    pub datacontenttype: &'a str,
    pub data: EventData<'a>,
    pub tenant: &'a str,
    pub aggregatetype: &'a str,
    pub aggregateid: &'a str,
    pub aggregateversion: u64,
    pub actor: &'a str,
    pub commandid: &'a str,
    pub correlationid: &'a str,
    pub causationid: &'a str,
    pub traceparent: Option<&'a str>,
    pub prevhash: &'a str,
}

/// An event's `data`: a decoded value, or JSON already in canonical form.
pub(crate) enum EventData<'a> {
    Value(&'a Value),
    Canonical(&'a [u8]),
}

impl<'a> EnvelopeView<'a> {
    pub(crate) fn of(event: &'a CloudEvent) -> Self {
        Self {
            specversion: &event.specversion,
            id: event.id,
            source: &event.source,
            event_type: &event.event_type,
            subject: &event.subject,
            time: &event.time,
            datacontenttype: &event.datacontenttype,
            data: EventData::Value(&event.data),
            tenant: &event.tenant,
            aggregatetype: &event.aggregatetype,
            aggregateid: &event.aggregateid,
            aggregateversion: event.aggregateversion,
            actor: &event.actor,
            commandid: &event.commandid,
            correlationid: &event.correlationid,
            causationid: &event.causationid,
            traceparent: event.traceparent.as_deref(),
            prevhash: &event.prevhash,
        }
    }
}

/// Appends the event's canonical JSON without `hash` to `out`: members in sorted key order,
/// `data` canonicalised recursively. The append path reuses these bytes for the payload, so an
/// event is serialised once to be both hashed and stored.
pub(crate) fn write_canonical(event: &EnvelopeView<'_>, out: &mut Vec<u8>) {
    use erased::{Id, Text, Time};
    let members: [(&str, &dyn erased::Member); 16] = [
        ("actor", &Text(event.actor)),
        ("aggregateid", &Text(event.aggregateid)),
        ("aggregatetype", &Text(event.aggregatetype)),
        ("aggregateversion", &event.aggregateversion),
        ("causationid", &Text(event.causationid)),
        ("commandid", &Text(event.commandid)),
        ("correlationid", &Text(event.correlationid)),
        ("data", &event.data),
        ("datacontenttype", &Text(event.datacontenttype)),
        ("id", &Id(event.id)),
        ("prevhash", &Text(event.prevhash)),
        ("source", &Text(event.source)),
        ("specversion", &Text(event.specversion)),
        ("subject", &Text(event.subject)),
        ("tenant", &Text(event.tenant)),
        ("time", &Time(event.time)),
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
            if let Some(traceparent) = event.traceparent {
                out.push(b',');
                write_key(out, "traceparent");
                Text(traceparent).write_to(out);
            }
        }
    }
    out.push(b',');
    write_key(out, "type");
    Text(event.event_type).write_to(out);
    out.push(b'}');
}

/// Appends a JSON value with its object keys sorted at every level, whatever map type built it.
pub(crate) fn write_canonical_value(value: &Value, out: &mut Vec<u8>) {
    CanonicalValue(value).write_to(out);
}

/// Writes `"key":` for one of the envelope's own member names (plain ASCII, nothing to escape).
fn write_key(out: &mut Vec<u8>, key: &str) {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// A `serde_json::Value` written with its object keys sorted, whatever map type built it.
struct CanonicalValue<'a>(&'a Value);

mod erased {
    use super::{CanonicalValue, DateTime, EventData, Utc, Value};

    /// One envelope member that can write its canonical JSON.
    pub(super) trait Member {
        fn write_to(&self, out: &mut Vec<u8>);
    }

    impl<T: serde::Serialize + ?Sized> Member for T {
        fn write_to(&self, out: &mut Vec<u8>) {
            serde_json::to_writer(out, self).expect("writing into memory cannot fail");
        }
    }

    /// A string member, written as serde_json writes it.
    pub(super) struct Text<'a>(pub &'a str);

    impl Member for Text<'_> {
        fn write_to(&self, out: &mut Vec<u8>) {
            crate::canonical::write_string(out, self.0);
        }
    }

    /// A UUID member, in the hyphenated lowercase form its `Serialize` writes.
    pub(super) struct Id(pub uuid::Uuid);

    impl Member for Id {
        fn write_to(&self, out: &mut Vec<u8>) {
            let mut text = uuid::Uuid::encode_buffer();
            Text(self.0.hyphenated().encode_lower(&mut text)).write_to(out);
        }
    }

    /// The event time, as chrono's `Serialize` writes it (RFC 3339, `Z`, fraction of 0, 3, 6
    /// or 9 digits, whichever is exact). Written by hand for the years 0–9999, because
    /// chrono's formatting machinery was a noticeable share of an append; other years and leap
    /// seconds go through chrono itself.
    pub(super) struct Time<'a>(pub &'a DateTime<Utc>);

    impl Member for Time<'_> {
        fn write_to(&self, out: &mut Vec<u8>) {
            use chrono::{Datelike, Timelike};
            let time = self.0;
            let nano = time.nanosecond();
            if !(0..=9999).contains(&time.year()) || nano >= 1_000_000_000 {
                return time.write_to(out);
            }
            let digits = |out: &mut Vec<u8>, value: u32, width: u32| {
                for place in (0..width).rev() {
                    out.push(b'0' + (value / 10u32.pow(place) % 10) as u8);
                }
            };
            out.push(b'"');
            digits(out, time.year() as u32, 4);
            out.push(b'-');
            digits(out, time.month(), 2);
            out.push(b'-');
            digits(out, time.day(), 2);
            out.push(b'T');
            digits(out, time.hour(), 2);
            out.push(b':');
            digits(out, time.minute(), 2);
            out.push(b':');
            digits(out, time.second(), 2);
            if nano != 0 {
                out.push(b'.');
                if nano.is_multiple_of(1_000_000) {
                    digits(out, nano / 1_000_000, 3);
                } else if nano.is_multiple_of(1_000) {
                    digits(out, nano / 1_000, 6);
                } else {
                    digits(out, nano, 9);
                }
            }
            out.extend_from_slice(b"Z\"");
        }
    }

    impl Member for EventData<'_> {
        fn write_to(&self, out: &mut Vec<u8>) {
            match self {
                EventData::Value(value) => CanonicalValue(value).write_to(out),
                EventData::Canonical(json) => out.extend_from_slice(json),
            }
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
        // Events appended before Fernet tokens were redacted for hashing carry a hash over the
        // raw token. Only the live stream still holds the raw token, so only there can that
        // hash match; in a (redacted) export such an event is reported.
        let legacy =
            || crate::redact::holds_fernet_token(&event.data) && raw_hash(event) == event.hash;
        if recomputed != event.hash && !legacy() {
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
        // Strings that need escaping, and characters JSON leaves alone.
        e.actor = "al\"ice\\ \t\u{1}\u{7f}\u{2028} é".into();
        e.source = "/pursight/a\nb".into();
        assert_eq!(compute_hash(&e), reference_hash(&e));
    }

    #[test]
    fn event_times_are_written_exactly_as_chrono_serialises_them() {
        use chrono::TimeZone;
        let base = chrono::Utc.with_ymd_and_hms(2026, 11, 26, 3, 4, 5).unwrap();
        let mut times = vec![
            base,
            chrono::Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            chrono::Utc
                .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
                .unwrap(),
            chrono::Utc.with_ymd_and_hms(-44, 3, 15, 12, 0, 0).unwrap(),
            chrono::Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            chrono::DateTime::from_timestamp(1_483_228_799, 1_500_000_000).unwrap(),
        ];
        for nanos in [
            1,
            10,
            999,
            1_000,
            120_000,
            1_000_000,
            5_000_000,
            123_456_789,
            999_999_999,
        ] {
            times.push(base + chrono::Duration::nanoseconds(nanos));
        }
        times.push(chrono::Utc::now());
        for time in times {
            let mut ours = Vec::new();
            erased::Time(&time).write_to(&mut ours);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&time).unwrap()
            );
        }
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
    fn fernet_tokens_are_hashed_redacted_and_a_legacy_hash_over_the_token_still_verifies() {
        let data = serde_json::json!({"config": {"password_secret": "fernet:gAAAAABk"}});
        let current = event(1, GENESIS, data.clone());
        let mut shown = current.clone();
        shown.data = serde_json::json!({"config": {"password_secret": "fernet:***"}});
        assert_eq!(
            compute_hash(&shown),
            current.hash,
            "the view verifies as shown"
        );

        // Appended before redaction was part of hashing: the hash covers the raw token.
        let mut legacy = current.clone();
        legacy.hash = raw_hash(&legacy);
        assert_ne!(legacy.hash, current.hash);
        let mut verifier = ChainVerifier::new();
        verifier.check(&StoredEvent {
            sequence: 1,
            event: legacy.clone(),
        });
        assert!(
            verifier.violations().is_empty(),
            "{:?}",
            verifier.violations()
        );
        // ... but not once its token is redacted (as in an export) or changed.
        for token in ["fernet:***", "fernet:gAAAAABz"] {
            let mut changed = legacy.clone();
            changed.data = serde_json::json!({"config": {"password_secret": token}});
            let mut verifier = ChainVerifier::new();
            verifier.check(&StoredEvent {
                sequence: 1,
                event: changed,
            });
            assert_eq!(verifier.violations().len(), 1, "{token}");
        }
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
