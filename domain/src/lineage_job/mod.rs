//! The LineageJob aggregate: a job that reports its runs through OpenLineage (`POST
//! /api/v1/lineage`), and the dataset-to-dataset and column-to-column edges each run reported.
//!
//! One aggregate per job (OpenLineage's job identity is its namespace and name, so the id is
//! derived from them, [`job_id`]); every accepted RunEvent is one `RunObserved` event carrying
//! what was read from it, already validated ([`openlineage::parse_run_event`]) and with each
//! dataset matched to a discovered asset or marked external by the API (matching needs the read
//! models, and `decide` does no I/O).
//!
//! | command | state | records |
//! |---|---|---|
//! | ObserveRun | the run has not ended | `RunObserved` |
//! | ObserveRun (START, RUNNING, OTHER) | the run ended | `RunObserved` (late deliveries are normal) |
//! | ObserveRun (COMPLETE, FAIL, ABORT) | the run ended the same way | nothing (a redelivery) |
//! | ObserveRun (COMPLETE, FAIL, ABORT) | the run ended another way | refused: already ended |
//! | ObserveRun | job namespace/name differ from the aggregate's | refused: another job |

pub mod openlineage;

use crate::aggregate::{decode_data, Aggregate, DomainEvent, EventDecodeError};
use crate::ids::AggregateId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use uuid::Uuid;

pub use openlineage::{parse_run_event, DatasetRef, RunEventError, RunEventType, RunReport};

/// The aggregate id of the job `namespace`/`name`: SHA-256 over a fixed prefix and the
/// length-prefixed parts (as [`crate::discovery::AssetId`]), as a UUIDv8. Never change this: ids
/// are stored in events.
pub fn job_id(namespace: &str, name: &str) -> AggregateId {
    AggregateId::from_uuid(digest_uuid("pursight.lineage-job.v1\n", &[namespace, name]))
}

/// The id an external dataset (one matched to no discovered asset) has in the lineage graph,
/// derived like [`job_id`] so that every run naming it reaches the same node.
pub fn external_dataset_id(namespace: &str, name: &str) -> Uuid {
    digest_uuid("pursight.openlineage-dataset.v1\n", &[namespace, name])
}

fn digest_uuid(prefix: &str, parts: &[&str]) -> Uuid {
    let mut hasher = Sha256::new();
    hasher.update(prefix.as_bytes());
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant RFC 9562
    Uuid::from_bytes(bytes)
}

/// One end of an observed edge: an OpenLineage dataset and what it was matched to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct ObservedDataset {
    /// The OpenLineage dataset namespace, e.g. `postgres://db.example:5432` (at most 512
    /// characters, no control characters).
    pub namespace: String,
    /// The OpenLineage dataset name, e.g. `shop.public.orders` (at most 1024 characters).
    pub name: String,
    /// The discovered asset it was matched to (of the caller's tenant); `None`: an external
    /// dataset, not (yet) discovered.
    pub asset_id: Option<Uuid>,
    /// The matched asset's path, when matched.
    pub asset_path: Option<String>,
}

impl ObservedDataset {
    /// The node of the lineage graph: the asset, or the external dataset's derived id.
    pub fn node_id(&self) -> Uuid {
        self.asset_id
            .unwrap_or_else(|| external_dataset_id(&self.namespace, &self.name))
    }

    /// How the node is shown: the asset's path, or `namespace/name` for an external dataset.
    pub fn display_path(&self) -> String {
        match &self.asset_path {
            Some(path) => path.clone(),
            None => format!("{}/{}", self.namespace, self.name),
        }
    }
}

/// Data flowed from `from` to `to` in a run: dataset level when both column lists are empty,
/// else from the `from_columns` of `from` into the `to_columns` of `to` (the column-lineage facet).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct ObservedEdge {
    pub from: ObservedDataset,
    pub from_columns: Vec<String>,
    pub to: ObservedDataset,
    pub to_columns: Vec<String>,
}

/// A run of the job reported an OpenLineage RunEvent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunObserved {
    /// The OpenLineage job namespace.
    pub job_namespace: String,
    /// The OpenLineage job name.
    pub job_name: String,
    /// `run.runId`.
    pub run_id: Uuid,
    /// START, RUNNING, COMPLETE, ABORT, FAIL or OTHER.
    pub event_type: RunEventType,
    /// The producer's `eventTime` (first and last seen of edges are measured in it).
    pub event_time: chrono::DateTime<chrono::Utc>,
    /// The edges the event reported (none for FAIL, ABORT and OTHER: a run that failed wrote
    /// nothing it should be credited with).
    pub edges: Vec<ObservedEdge>,
    /// The run facet `errorMessage.message` when the event carried one (a FAIL usually does):
    /// at most [`openlineage::MAX_ERROR_CHARS`] characters, control characters other than line
    /// breaks and tabs replaced, credentials in URLs and `password=`-like pairs masked. Absent
    /// from events recorded before it was read (and from events without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// Every event of the LineageJob aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum LineageJobEvent {
    RunObserved(RunObserved),
}

impl LineageJobEvent {
    /// Every `(event_type, version)` that [`DomainEvent::from_stored`] reads.
    pub const READABLE: &'static [(&'static str, u32)] = &[("RunObserved", 1)];
}

impl DomainEvent for LineageJobEvent {
    fn event_type(&self) -> &'static str {
        match self {
            LineageJobEvent::RunObserved(_) => "RunObserved",
        }
    }

    fn version(&self) -> u32 {
        1
    }

    fn serialize_data<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            LineageJobEvent::RunObserved(e) => e.serialize(serializer),
        }
    }

    fn from_stored(event_type: &str, version: u32, data: &Value) -> Result<Self, EventDecodeError> {
        match (event_type, version) {
            ("RunObserved", 1) => Ok(LineageJobEvent::RunObserved(decode_data(
                event_type, version, data,
            )?)),
            _ => Err(EventDecodeError::Unknown {
                event_type: event_type.to_owned(),
                version,
            }),
        }
    }
}

/// A request to a LineageJob: record one validated, matched RunEvent.
#[derive(Debug, Clone, PartialEq)]
pub struct ObserveRun(pub RunObserved);

/// How many ended runs a job remembers (to recognise a redelivered or contradicting terminal
/// event): bounded so that a job with millions of runs keeps a small state.
pub const REMEMBERED_RUNS: usize = 256;

/// The folded history of one job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LineageJobState {
    /// `(namespace, name)` once a run was observed.
    pub job: Option<(String, String)>,
    /// Runs that ended, most recent last, with how they ended.
    pub ended: VecDeque<(Uuid, RunEventType)>,
    /// Number of events applied.
    pub version: u64,
}

/// Why a LineageJob refused a RunEvent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineageJobError {
    #[error("run {run_id} already ended as {ended}; it cannot end again as {now}")]
    RunAlreadyEnded {
        run_id: Uuid,
        ended: RunEventType,
        now: RunEventType,
    },
    #[error("the event names another job than this aggregate's")]
    OtherJob,
}

impl crate::Rejection for LineageJobError {
    fn kind(&self) -> crate::RejectionKind {
        match self {
            LineageJobError::RunAlreadyEnded { .. } => crate::RejectionKind::Refused,
            LineageJobError::OtherJob => crate::RejectionKind::Invalid,
        }
    }
}

/// The LineageJob aggregate (a decider; all data is in [`LineageJobState`]).
pub struct LineageJob;

impl Aggregate for LineageJob {
    const NAME: &'static str = "lineage_job";
    type State = LineageJobState;
    type Command = ObserveRun;
    type Event = LineageJobEvent;
    type Error = LineageJobError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        let run = &command.0;
        if let Some((namespace, name)) = &state.job {
            if *namespace != run.job_namespace || *name != run.job_name {
                return Err(LineageJobError::OtherJob);
            }
        }
        if run.event_type.is_terminal() {
            if let Some((_, ended)) = state.ended.iter().find(|(id, _)| *id == run.run_id) {
                if *ended == run.event_type {
                    return Ok(Vec::new());
                }
                return Err(LineageJobError::RunAlreadyEnded {
                    run_id: run.run_id,
                    ended: *ended,
                    now: run.event_type,
                });
            }
        }
        Ok(vec![LineageJobEvent::RunObserved(run.clone())])
    }

    fn evolve(mut state: Self::State, event: &Self::Event) -> Self::State {
        state.version += 1;
        match event {
            LineageJobEvent::RunObserved(run) => {
                state.job = Some((run.job_namespace.clone(), run.job_name.clone()));
                if run.event_type.is_terminal()
                    && !state.ended.iter().any(|(id, _)| *id == run.run_id)
                {
                    state.ended.push_back((run.run_id, run.event_type));
                    while state.ended.len() > REMEMBERED_RUNS {
                        state.ended.pop_front();
                    }
                }
            }
        }
        state
    }
}

#[cfg(test)]
mod tests;
