//! The CloudEvents 1.0 envelope and the commit that carries a command's events.
//!
//! One command decides events for one aggregate; they travel as one JetStream message whose
//! payload is an `application/cloudevents-batch+json` array, so they land atomically.

use crate::error::DecodeError;
use chrono::{DateTime, Utc};
use domain::{AggregateId, TenantId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

pub const SPEC_VERSION: &str = "1.0";
pub const BATCH_CONTENT_TYPE: &str = "application/cloudevents-batch+json";
/// The header a commit's content type travels in. Built once: a header name given as a `&str`
/// is copied into a new allocation on every publish.
pub const CONTENT_TYPE_HEADER: async_nats::HeaderName =
    async_nats::HeaderName::from_static("Content-Type");
pub const DATA_CONTENT_TYPE: &str = "application/json";

/// One event as stored: a structured-mode CloudEvent with PurSight's extensions. `D` is how
/// `data` is held: a JSON value, or [`serde::de::IgnoredAny`] for readers that need only the
/// envelope (its members are still checked to be well-formed JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudEvent<D = Value> {
    pub specversion: String,
    /// UUIDv7, unique per event.
    pub id: Uuid,
    /// `/pursight/<tenant>`.
    pub source: String,
    /// `io.pursight.<EventName>.v<N>`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The aggregate id.
    pub subject: String,
    pub time: DateTime<Utc>,
    pub datacontenttype: String,
    pub data: D,
    pub tenant: String,
    pub aggregatetype: String,
    pub aggregateid: String,
    /// 1-based position of this event in its aggregate's history.
    pub aggregateversion: u64,
    pub actor: String,
    /// The command that decided this event (also the commit's `Nats-Msg-Id`).
    pub commandid: String,
    pub correlationid: String,
    pub causationid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// Hash of the aggregate's previous event ([`crate::chain::GENESIS`] for the first).
    pub prevhash: String,
    /// SHA-256 over the canonical event without `hash`.
    pub hash: String,
}

impl<D> CloudEvent<D> {
    /// The short name and schema version of `type`, e.g. `("SourceRegistered", 2)`.
    pub fn name_and_version(&self) -> Option<(&str, u32)> {
        parse_wire_type(&self.event_type)
    }

    /// The same event with its data replaced by `f(data)`.
    pub fn map_data<E>(self, f: impl FnOnce(D) -> E) -> CloudEvent<E> {
        CloudEvent {
            specversion: self.specversion,
            id: self.id,
            source: self.source,
            event_type: self.event_type,
            subject: self.subject,
            time: self.time,
            datacontenttype: self.datacontenttype,
            data: f(self.data),
            tenant: self.tenant,
            aggregatetype: self.aggregatetype,
            aggregateid: self.aggregateid,
            aggregateversion: self.aggregateversion,
            actor: self.actor,
            commandid: self.commandid,
            correlationid: self.correlationid,
            causationid: self.causationid,
            traceparent: self.traceparent,
            prevhash: self.prevhash,
            hash: self.hash,
        }
    }
}

pub use domain::{parse_wire_type, wire_type};

/// A stored event with the stream sequence of the commit it arrived in.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub sequence: u64,
    pub event: CloudEvent,
}

/// One JetStream message: the events of one command.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCommit {
    pub sequence: u64,
    pub subject: String,
    pub events: Vec<CloudEvent>,
}

impl StoredCommit {
    /// Decodes a message payload; anything that is not a non-empty CloudEvents batch is an error.
    pub fn decode(sequence: u64, subject: &str, payload: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            sequence,
            subject: subject.to_owned(),
            events: decode_batch::<Value>(sequence, payload)?,
        })
    }

    /// Like [`decode`](Self::decode), for readers that need only the envelopes: every event's
    /// `data` is checked to be well-formed JSON but not kept (it is `null`), which spares
    /// building the largest part of each event.
    pub fn decode_envelopes(
        sequence: u64,
        subject: &str,
        payload: &[u8],
    ) -> Result<Self, DecodeError> {
        Ok(Self {
            sequence,
            subject: subject.to_owned(),
            events: decode_batch::<serde::de::IgnoredAny>(sequence, payload)?
                .into_iter()
                .map(|event| event.map_data(|_| Value::Null))
                .collect(),
        })
    }

    pub fn into_stored_events(self) -> impl Iterator<Item = StoredEvent> {
        let sequence = self.sequence;
        self.events
            .into_iter()
            .map(move |event| StoredEvent { sequence, event })
    }
}

fn decode_batch<D: serde::de::DeserializeOwned>(
    sequence: u64,
    payload: &[u8],
) -> Result<Vec<CloudEvent<D>>, DecodeError> {
    let events: Vec<CloudEvent<D>> =
        serde_json::from_slice(payload).map_err(|err| DecodeError {
            sequence,
            reason: format!("not a CloudEvents batch: {err}"),
        })?;
    if events.is_empty() {
        return Err(DecodeError {
            sequence,
            reason: "empty batch".into(),
        });
    }
    if let Some(bad) = events.iter().find(|e| e.specversion != SPEC_VERSION) {
        return Err(DecodeError {
            sequence,
            reason: format!("event {} has specversion {:?}", bad.id, bad.specversion),
        });
    }
    Ok(events)
}

/// An event decided by a command, before it is enveloped: its type, schema version and `data`
/// already in canonical JSON (written once, then hashed and stored as it is).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub name: &'static str,
    pub version: u32,
    canonical_data: Vec<u8>,
}

impl NewEvent {
    /// A domain event, serialised straight into canonical JSON (no intermediate `Value`).
    pub fn from_domain<E: domain::DomainEvent>(event: &E) -> Self {
        /// The event's `data` as a `Serialize` value.
        struct Data<'a, E>(&'a E);
        impl<E: domain::DomainEvent> serde::Serialize for Data<'_, E> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.serialize_data(serializer)
            }
        }
        let mut canonical_data = Vec::with_capacity(1024);
        if crate::canonical::write_canonical_json(&Data(event), &mut canonical_data).is_err() {
            // Only data the direct writer cannot reproduce exactly gets here; the `Value` is
            // the definition the hash chain is specified by.
            crate::chain::write_canonical_value(&event.to_data(), &mut canonical_data);
        }
        Self {
            name: event.event_type(),
            version: event.version(),
            canonical_data,
        }
    }

    /// An event whose `data` is given as a JSON value (tests, tools).
    pub fn from_value(name: &'static str, version: u32, data: &Value) -> Self {
        let mut canonical_data = Vec::new();
        crate::chain::write_canonical_value(data, &mut canonical_data);
        Self {
            name,
            version,
            canonical_data,
        }
    }

    /// `data` in canonical JSON.
    pub fn canonical_data(&self) -> &[u8] {
        &self.canonical_data
    }
}

/// What the command side needs of one appended event; the full CloudEvent is decoded from the
/// commit only when asked for ([`CommittedEvents::cloud_events`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendedEvent {
    pub id: Uuid,
    /// 1-based position in the aggregate's history.
    pub aggregate_version: u64,
    pub hash: String,
}

/// The events of one commit, as a command's outcome carries them: a slice of
/// [`AppendedEvent`]s (it derefs to one), and the full CloudEvents on demand.
#[derive(Debug, Clone, Default)]
pub struct CommittedEvents {
    summary: Vec<AppendedEvent>,
    full: FullEvents,
}

#[derive(Debug, Clone, Default)]
enum FullEvents {
    #[default]
    None,
    /// The commit's payload as published, decoded on demand.
    Payload {
        sequence: u64,
        payload: bytes::Bytes,
    },
    Decoded(Vec<CloudEvent>),
}

impl CommittedEvents {
    /// Events just appended in `payload` (the commit at `sequence`).
    pub(crate) fn appended(
        summary: Vec<AppendedEvent>,
        sequence: u64,
        payload: bytes::Bytes,
    ) -> Self {
        Self {
            summary,
            full: FullEvents::Payload { sequence, payload },
        }
    }

    /// Events already decoded (read back from the stream).
    pub fn from_cloud_events(events: Vec<CloudEvent>) -> Self {
        Self {
            summary: events
                .iter()
                .map(|e| AppendedEvent {
                    id: e.id,
                    aggregate_version: e.aggregateversion,
                    hash: e.hash.clone(),
                })
                .collect(),
            full: FullEvents::Decoded(events),
        }
    }

    pub fn ids(&self) -> Vec<Uuid> {
        self.summary.iter().map(|e| e.id).collect()
    }

    /// The size in bytes of the commit's payload as this process published it; `None` for
    /// events read back from the stream (a duplicate's original commit, a history).
    pub fn published_size(&self) -> Option<usize> {
        match &self.full {
            FullEvents::Payload { payload, .. } => Some(payload.len()),
            FullEvents::None | FullEvents::Decoded(_) => None,
        }
    }

    /// The events as stored, with their data.
    pub fn cloud_events(&self) -> Result<Vec<CloudEvent>, DecodeError> {
        match &self.full {
            FullEvents::None => Ok(Vec::new()),
            FullEvents::Payload { sequence, payload } => decode_batch(*sequence, payload),
            FullEvents::Decoded(events) => Ok(events.clone()),
        }
    }
}

impl std::ops::Deref for CommittedEvents {
    type Target = [AppendedEvent];

    fn deref(&self) -> &[AppendedEvent] {
        &self.summary
    }
}

/// Who did it and why: recorded on every event of a commit.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitMetadata {
    pub tenant: TenantId,
    pub actor: String,
    pub command_id: Uuid,
    pub correlation_id: Uuid,
    pub causation_id: Uuid,
    pub traceparent: Option<String>,
}

/// What a command handler asks the store to append.
#[derive(Debug, Clone)]
pub struct NewCommit {
    pub aggregate_type: &'static str,
    pub aggregate_id: AggregateId,
    /// Stream sequence of the aggregate's last commit, 0 for a new aggregate.
    pub expected_sequence: u64,
    /// Number of events the aggregate already has.
    pub expected_version: u64,
    /// Hash of the aggregate's last event ([`crate::chain::GENESIS`] for a new aggregate).
    pub previous_hash: String,
    pub metadata: CommitMetadata,
    pub events: Vec<NewEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_events_are_written_in_exactly_the_canonical_form_of_their_value() {
        use domain::datasource::{
            DataSource, DataSourceCommand, DataSourceConfigInput, PoolSettingsInput,
        };
        use domain::{Aggregate, DomainEvent};
        let id = AggregateId::from_uuid(Uuid::now_v7());
        let config = DataSourceConfigInput {
            name: Some("Orders \"EU\" – primary".into()),
            kind: Some("postgresql".into()),
            host: Some("db.internal".into()),
            port: Some(5433),
            database: Some("orders".into()),
            username: Some("reader".into()),
            password_secret: Some("env:ORDERS_PASSWORD".into()),
            pool: Some(PoolSettingsInput {
                pool_size: Some(12),
                ..Default::default()
            }),
            owner: Some("data-platform".into()),
            description: Some("line\nbreak and tab\t".into()),
            tags: Some(vec!["pii".into(), "eu".into()]),
            ..Default::default()
        }
        .parse()
        .unwrap();
        let decided = DataSource::decide(
            &Default::default(),
            &DataSourceCommand::Register { id, config },
        )
        .unwrap();
        assert!(!decided.is_empty());
        for event in &decided {
            let direct = NewEvent::from_domain(event);
            let through_value =
                NewEvent::from_value(event.event_type(), event.version(), &event.to_data());
            assert_eq!(
                String::from_utf8_lossy(direct.canonical_data()),
                String::from_utf8_lossy(through_value.canonical_data())
            );
            assert_eq!(direct, through_value);
        }
    }

    #[test]
    fn garbage_payloads_are_decode_errors_with_their_sequence() {
        let err = StoredCommit::decode(42, "s", b"{not json").unwrap_err();
        assert_eq!(err.sequence, 42);
        assert!(StoredCommit::decode(7, "s", b"[]").is_err());
    }

    #[test]
    fn envelope_only_decoding_keeps_the_envelope_and_still_rejects_malformed_data() {
        let batch = br#"[{"specversion":"1.0","id":"0190a1b2-0000-7000-8000-000000000001",
            "source":"/pursight/acme","type":"io.pursight.SourceArchived.v1","subject":"a",
            "time":"2026-01-01T00:00:00Z","datacontenttype":"application/json",
            "data":{"reason":"gone","nested":[1,{"x":null}]},"tenant":"acme",
            "aggregatetype":"data_source","aggregateid":"a","aggregateversion":3,"actor":"alice",
            "commandid":"c","correlationid":"c","causationid":"c","prevhash":"p","hash":"h"}]"#;
        let full = StoredCommit::decode(9, "s", batch).unwrap();
        let envelopes = StoredCommit::decode_envelopes(9, "s", batch).unwrap();
        assert_eq!(envelopes.events[0].data, Value::Null);
        assert_eq!(
            envelopes.events[0],
            full.events[0].clone().map_data(|_| Value::Null)
        );
        let broken = String::from_utf8(batch.to_vec())
            .unwrap()
            .replace(r#""x":null"#, r#""x":nul"#);
        let err = StoredCommit::decode_envelopes(9, "s", broken.as_bytes()).unwrap_err();
        assert_eq!(err.sequence, 9);
    }
}
