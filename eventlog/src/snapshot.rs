//! Snapshots: an aggregate's folded state and the stream position it reflects, kept in a
//! JetStream key-value bucket (`<PREFIX>_SNAPSHOTS`) so that loading a long history reads only
//! the events after it.
//!
//! The bucket is created with the key-value layout (stream `KV_<bucket>`, subjects
//! `$KV.<bucket>.<key>`, one message per key) through plain stream calls, because the client's
//! key-value API expects responses of newer servers than the NATS 2.9 we support; `nats kv get`
//! reads it all the same.
//!
//! A snapshot is a cache, never a source of truth: it is checked against the stream's later
//! events (the first one must continue its version and hash chain), and anything unreadable,
//! stale or missing simply means a full load. Deleting the bucket at any time is safe.

use crate::envelope::StoredCommit;
use crate::error::EventStoreError;
use crate::store::{DeliverFrom, EventStore, History};
use crate::subject::StreamNames;
use async_nats::jetstream;
use domain::{AggregateId, TenantId};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

/// State of an aggregate up to and including `last_sequence`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The aggregate's state, as the aggregate serialises it.
    pub state: serde_json::Value,
    /// Events folded into `state`.
    pub version: u64,
    /// Stream sequence of the last commit folded into `state`.
    pub last_sequence: u64,
    /// Hash of the last event folded into `state`.
    pub last_hash: String,
}

fn key(tenant: &TenantId, aggregate_type: &str, id: &AggregateId) -> String {
    format!("{tenant}.{aggregate_type}.{id}")
}

fn subject(bucket: &str, key: &str) -> String {
    format!("$KV.{bucket}.{key}")
}

/// Creates the snapshot bucket when missing.
pub(crate) async fn ensure_bucket(
    jetstream: &jetstream::Context,
    names: &StreamNames,
) -> Result<jetstream::stream::Stream, EventStoreError> {
    let bucket = names.snapshot_bucket();
    jetstream
        .get_or_create_stream(jetstream::stream::Config {
            name: format!("KV_{bucket}"),
            description: Some("PurSight aggregate snapshots (a cache; safe to delete)".into()),
            subjects: vec![subject(&bucket, ">")],
            max_messages_per_subject: 1,
            storage: jetstream::stream::StorageType::File,
            discard: jetstream::stream::DiscardPolicy::New,
            allow_rollup: true,
            allow_direct: true,
            deny_delete: true,
            ..Default::default()
        })
        .await
        .map_err(|err| EventStoreError::jetstream("snapshot bucket", err))
}

impl EventStore {
    /// The latest snapshot of an aggregate, if a readable one exists.
    pub async fn load_snapshot(
        &self,
        tenant: &TenantId,
        aggregate_type: &str,
        id: &AggregateId,
    ) -> Option<Snapshot> {
        let subject = subject(
            &self.names().snapshot_bucket(),
            &key(tenant, aggregate_type, id),
        );
        let bytes = match self
            .snapshots()
            .get_last_raw_message_by_subject(&subject)
            .await
        {
            Ok(message) => message.payload,
            Err(err)
                if err.kind() == jetstream::stream::LastRawMessageErrorKind::NoMessageFound =>
            {
                return None;
            }
            Err(err) => {
                tracing::warn!(error = %err, "snapshot unavailable, loading the full history");
                return None;
            }
        };
        serde_json::from_slice(&bytes)
            .inspect_err(|err| tracing::warn!(error = %err, "unreadable snapshot ignored"))
            .ok()
    }

    /// Deletes the snapshots of `tenant`'s aggregates (of every tenant with `None`); returns how
    /// many. Snapshots hold aggregate states folded from opened personal values, so an erasure
    /// purges them like it rebuilds the read models; the next command on each aggregate loads its
    /// full history (which reads `[erased]`).
    pub async fn purge_snapshots(&self, tenant: Option<&TenantId>) -> Result<u64, EventStoreError> {
        let bucket = self.names().snapshot_bucket();
        let filter = match tenant {
            Some(tenant) => subject(&bucket, &format!("{tenant}.>")),
            None => subject(&bucket, ">"),
        };
        let purged = self
            .snapshots()
            .purge()
            .filter(filter)
            .await
            .map_err(|err| EventStoreError::jetstream("purge snapshots", err))?;
        Ok(purged.purged)
    }

    /// Stores a snapshot (best effort: a failure only costs a longer load later).
    pub async fn save_snapshot(
        &self,
        tenant: &TenantId,
        aggregate_type: &str,
        id: &AggregateId,
        snapshot: &Snapshot,
    ) {
        let bytes = serde_json::to_vec(snapshot).expect("a snapshot always serialises");
        let subject = subject(
            &self.names().snapshot_bucket(),
            &key(tenant, aggregate_type, id),
        );
        let acked = match self.jetstream().publish(subject, bytes.into()).await {
            Ok(ack) => ack.await.map(|_| ()).map_err(|err| err.to_string()),
            Err(err) => Err(err.to_string()),
        };
        if let Err(err) = acked {
            tracing::warn!(error = %err, "snapshot not saved");
        }
    }

    /// The events after a snapshot, verified to continue it. `Ok(None)` when the snapshot does not
    /// fit the stream (stale, from another stream, or tampered with): load the full history then.
    pub async fn load_after(
        &self,
        tenant: &TenantId,
        aggregate_type: &str,
        id: &AggregateId,
        snapshot: &Snapshot,
    ) -> Result<Option<History>, EventStoreError> {
        let subject = self.names().aggregate(tenant, aggregate_type, id);
        let Some(last_sequence) = self.last_sequence_of(&subject).await? else {
            return Ok(None);
        };
        let base = History {
            events: Vec::new(),
            last_sequence: snapshot.last_sequence,
            base_version: snapshot.version,
            base_hash: Some(snapshot.last_hash.clone()),
        };
        if last_sequence < snapshot.last_sequence {
            return Ok(None);
        }
        if last_sequence == snapshot.last_sequence {
            // Nothing after the snapshot; the stream's last commit must be the one it reflects.
            let commit = self.commit_at(last_sequence).await?;
            let fits = commit.events.last().is_some_and(|e| {
                e.aggregateversion == snapshot.version && e.hash == snapshot.last_hash
            });
            return Ok(fits.then_some(base));
        }
        let mut history = base;
        let mut commits = self
            .read(&subject, DeliverFrom::Sequence(snapshot.last_sequence + 1))
            .await?;
        while let Some(commit) = commits.next().await {
            let commit: StoredCommit = commit?;
            let done = commit.sequence >= last_sequence;
            history.events.extend(commit.into_stored_events());
            if done {
                break;
            }
        }
        let continues = history.events.first().is_some_and(|first| {
            first.event.aggregateversion == snapshot.version + 1
                && first.event.prevhash == snapshot.last_hash
        });
        history.last_sequence = last_sequence;
        Ok(continues.then_some(history))
    }
}
