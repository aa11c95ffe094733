//! The Violation aggregate: one rule's verdict on one subject (a source, an asset or a column) of
//! one tenant, from detection through resolution or a compliance officer's risk acceptance.
//!
//! | command | state | records | state after |
//! |---|---|---|---|
//! | Detect | never detected, Resolved | `ViolationDetected` | Open |
//! | Detect | Open, Accepted — same rule version, severity and facts | nothing | (unchanged) |
//! | Detect | Open, Accepted — the finding changed | `ViolationDetected` | (unchanged) |
//! | Resolve | Open, Accepted | `ViolationResolved` | Resolved |
//! | Resolve | Resolved | nothing | Resolved |
//! | Accept | Open, Accepted (a renewal) | `ViolationAccepted` | Accepted |
//! | ExpireAcceptance | Accepted, `now` ≥ expires_at | `AcceptanceExpired` | Open |
//! | ExpireAcceptance | Accepted not yet due, Open, Resolved | nothing | (unchanged) |
//!
//! Anything else is a [`ViolationError`]. Detect, Resolve and ExpireAcceptance record nothing when
//! there is nothing new, so the evaluation loop can repeat them after a redelivery: a second
//! evaluation records nothing. The id of the aggregate is derived from (tenant, rule, subject)
//! ([`violation_id`]), so the evaluator finds the same violation without a lookup.

use super::condition::CitedFact;
use super::engine::Finding;
use super::facts::Evidence;
use super::rules::{FrameworkId, Severity};
use crate::aggregate::{decode_data, Aggregate, DomainEvent, EventDecodeError};
use crate::ids::{AggregateId, TenantId};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What a violation is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "level", rename_all = "snake_case")]
pub enum Subject {
    Source {
        source_id: Uuid,
    },
    Asset {
        source_id: Uuid,
        asset_id: Uuid,
        /// e.g. `shop.public.customers`.
        path: String,
    },
    Column {
        source_id: Uuid,
        asset_id: Uuid,
        path: String,
        column: String,
    },
}

impl Subject {
    pub fn source_id(&self) -> Uuid {
        match self {
            Subject::Source { source_id }
            | Subject::Asset { source_id, .. }
            | Subject::Column { source_id, .. } => *source_id,
        }
    }

    pub(crate) fn level_rank(&self) -> u8 {
        match self {
            Subject::Source { .. } => 0,
            Subject::Asset { .. } => 1,
            Subject::Column { .. } => 2,
        }
    }
}

const ID_PREFIX: &str = "pursight.violation-id.v1\n";

/// The aggregate id of the violation of `rule_id` on `subject` for `tenant`.
///
/// `digest = SHA-256("pursight.violation-id.v1\n" ‖ for each part: its UTF-8 length as 4
/// big-endian bytes ‖ its bytes)` over the parts tenant, rule id, level, source id, and for asset
/// and column subjects the asset id, and for columns the column name. The id is the first 16
/// bytes with the version nibble 8 and the RFC 9562 variant (as `AssetId::for_path`). Never
/// change this: ids are stored in events.
pub fn violation_id(tenant: &TenantId, rule_id: &str, subject: &Subject) -> AggregateId {
    let mut hasher = Sha256::new();
    hasher.update(ID_PREFIX.as_bytes());
    let mut part = |bytes: &[u8]| {
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        hasher.update(len.to_be_bytes());
        hasher.update(bytes);
    };
    part(tenant.as_str().as_bytes());
    part(rule_id.as_bytes());
    match subject {
        Subject::Source { source_id } => {
            part(b"source");
            part(source_id.as_bytes());
        }
        Subject::Asset {
            source_id,
            asset_id,
            ..
        } => {
            part(b"asset");
            part(source_id.as_bytes());
            part(asset_id.as_bytes());
        }
        Subject::Column {
            source_id,
            asset_id,
            column,
            ..
        } => {
            part(b"column");
            part(source_id.as_bytes());
            part(asset_id.as_bytes());
            part(column.as_bytes());
        }
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant RFC 9562
    AggregateId::from_uuid(Uuid::from_bytes(bytes))
}

/// A request to a Violation aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum ViolationCommand {
    /// The engine found the rule firing on the subject.
    Detect { tenant: TenantId, finding: Finding },
    /// The rule no longer fires; `change` says which fact changed (e.g. `label.status`), and
    /// `evidence` the events that changed it.
    Resolve {
        change: String,
        evidence: Vec<Evidence>,
    },
    /// A compliance officer accepts the risk until `expires_at`. `now` is the command's clock.
    Accept {
        by: String,
        reason: String,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    /// The expiry check at `now`.
    ExpireAcceptance { now: DateTime<Utc> },
}

/// A rule fired on a subject (first detection, re-detection after resolution, or a changed
/// finding).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ViolationDetected {
    pub violation_id: AggregateId,
    pub rule_id: String,
    pub rule_version: u32,
    pub framework: FrameworkId,
    pub control: String,
    pub severity: Severity,
    pub subject: Subject,
    /// The facts the rule's condition read to fire.
    pub facts: Vec<CitedFact>,
    /// The events those facts rest on, by stream sequence.
    pub evidence: Vec<Evidence>,
}

/// The rule stopped firing on the subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ViolationResolved {
    pub violation_id: AggregateId,
    /// The fact change that resolved it, e.g. `label.status` or `source.tls_mode`.
    pub change: String,
    pub evidence: Vec<Evidence>,
}

/// A compliance officer accepted the risk until `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ViolationAccepted {
    pub violation_id: AggregateId,
    /// Who accepted (the actor's subject).
    pub by: String,
    pub reason: String,
    pub expires_at: DateTime<Utc>,
}

/// An acceptance ran out; the violation is open again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AcceptanceExpired {
    pub violation_id: AggregateId,
    pub expired_at: DateTime<Utc>,
}

/// Every event of the Violation aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum ViolationEvent {
    ViolationDetected(ViolationDetected),
    ViolationResolved(ViolationResolved),
    ViolationAccepted(ViolationAccepted),
    AcceptanceExpired(AcceptanceExpired),
}

impl ViolationEvent {
    pub const READABLE: &'static [(&'static str, u32)] = &[
        ("ViolationDetected", 1),
        ("ViolationResolved", 1),
        ("ViolationAccepted", 1),
        ("AcceptanceExpired", 1),
    ];
}

impl DomainEvent for ViolationEvent {
    fn event_type(&self) -> &'static str {
        match self {
            ViolationEvent::ViolationDetected(_) => "ViolationDetected",
            ViolationEvent::ViolationResolved(_) => "ViolationResolved",
            ViolationEvent::ViolationAccepted(_) => "ViolationAccepted",
            ViolationEvent::AcceptanceExpired(_) => "AcceptanceExpired",
        }
    }

    fn version(&self) -> u32 {
        1
    }

    fn serialize_data<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ViolationEvent::ViolationDetected(e) => e.serialize(serializer),
            ViolationEvent::ViolationResolved(e) => e.serialize(serializer),
            ViolationEvent::ViolationAccepted(e) => e.serialize(serializer),
            ViolationEvent::AcceptanceExpired(e) => e.serialize(serializer),
        }
    }

    fn from_stored(event_type: &str, version: u32, data: &Value) -> Result<Self, EventDecodeError> {
        use ViolationEvent as E;
        let t = event_type;
        Ok(match (event_type, version) {
            ("ViolationDetected", 1) => E::ViolationDetected(decode_data(t, version, data)?),
            ("ViolationResolved", 1) => E::ViolationResolved(decode_data(t, version, data)?),
            ("ViolationAccepted", 1) => E::ViolationAccepted(decode_data(t, version, data)?),
            ("AcceptanceExpired", 1) => E::AcceptanceExpired(decode_data(t, version, data)?),
            _ => {
                return Err(EventDecodeError::Unknown {
                    event_type: event_type.to_owned(),
                    version,
                })
            }
        })
    }
}

impl ViolationDetected {
    /// Whether this detection records exactly `finding` (the violation id follows from the
    /// finding's rule and subject, so it is not compared).
    fn states(&self, finding: &Finding) -> bool {
        self.rule_id == finding.rule_id
            && self.rule_version == finding.rule_version
            && self.framework == finding.framework
            && self.control == finding.control
            && self.severity == finding.severity
            && self.subject == finding.subject
            && self.facts == finding.facts
            && self.evidence == finding.evidence
    }
}

/// Where a violation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationStatus {
    Open,
    Accepted { expires_at: DateTime<Utc> },
    Resolved,
}

/// The folded history of one violation. `Default` is a violation never detected. Serialisable
/// for the command handler's snapshots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ViolationState {
    pub id: Option<AggregateId>,
    pub status: Option<ViolationStatus>,
    /// The latest detection.
    pub detected: Option<ViolationDetected>,
    /// Number of events applied.
    pub version: u64,
}

/// Why the Violation aggregate refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViolationError {
    #[error("violation not found")]
    NotFound,
    #[error("this violation belongs to another tenant, rule or subject (id {expected}, aggregate {actual})")]
    WrongAggregate {
        expected: AggregateId,
        actual: AggregateId,
    },
    #[error("the violation is resolved; only an open violation can be accepted")]
    Resolved,
    #[error("invalid {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl crate::Rejection for ViolationError {
    fn kind(&self) -> crate::RejectionKind {
        use crate::RejectionKind::*;
        match self {
            ViolationError::NotFound => NotFound,
            ViolationError::WrongAggregate { .. } | ViolationError::Resolved => Refused,
            ViolationError::Invalid { .. } => Invalid,
        }
    }
}

const MAX_REASON_CHARS: usize = 2000;
const MAX_ACTOR_CHARS: usize = 200;
/// The longest a risk may be accepted for at once; it must be looked at again at least yearly.
pub const MAX_ACCEPTANCE_DAYS: i64 = 366;

/// The Violation aggregate (a decider; all data is in [`ViolationState`]).
pub struct Violation;

impl Aggregate for Violation {
    const NAME: &'static str = "violation";
    type State = ViolationState;
    type Command = ViolationCommand;
    type Event = ViolationEvent;
    type Error = ViolationError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        use ViolationEvent as E;
        match command {
            ViolationCommand::Detect { tenant, finding } => {
                let id = violation_id(tenant, &finding.rule_id, &finding.subject);
                if let Some(actual) = state.id {
                    if actual != id {
                        return Err(ViolationError::WrongAggregate {
                            expected: id,
                            actual,
                        });
                    }
                }
                let still_open = matches!(
                    state.status,
                    Some(ViolationStatus::Open | ViolationStatus::Accepted { .. })
                );
                // Compared before anything is copied: most re-evaluations find what is recorded.
                if still_open && state.detected.as_ref().is_some_and(|d| d.states(finding)) {
                    return Ok(Vec::new());
                }
                Ok(vec![E::ViolationDetected(ViolationDetected {
                    violation_id: id,
                    rule_id: finding.rule_id.clone(),
                    rule_version: finding.rule_version,
                    framework: finding.framework,
                    control: finding.control.clone(),
                    severity: finding.severity,
                    subject: finding.subject.clone(),
                    facts: finding.facts.clone(),
                    evidence: finding.evidence.clone(),
                })])
            }
            ViolationCommand::Resolve { change, evidence } => {
                let id = state.id.ok_or(ViolationError::NotFound)?;
                if state.status == Some(ViolationStatus::Resolved) {
                    return Ok(Vec::new());
                }
                let change = bounded("change", change, MAX_ACTOR_CHARS)?;
                Ok(vec![E::ViolationResolved(ViolationResolved {
                    violation_id: id,
                    change,
                    evidence: evidence.clone(),
                })])
            }
            ViolationCommand::Accept {
                by,
                reason,
                expires_at,
                now,
            } => {
                let id = state.id.ok_or(ViolationError::NotFound)?;
                if state.status == Some(ViolationStatus::Resolved) {
                    return Err(ViolationError::Resolved);
                }
                let by = bounded("by", by, MAX_ACTOR_CHARS)?;
                let reason = bounded("reason", reason, MAX_REASON_CHARS)?;
                if expires_at <= now {
                    return Err(ViolationError::Invalid {
                        field: "expires_at",
                        message: "must be in the future".into(),
                    });
                }
                if *expires_at - *now > chrono::Duration::days(MAX_ACCEPTANCE_DAYS) {
                    return Err(ViolationError::Invalid {
                        field: "expires_at",
                        message: format!(
                            "must be at most {MAX_ACCEPTANCE_DAYS} days ahead; accept again to extend"
                        ),
                    });
                }
                Ok(vec![E::ViolationAccepted(ViolationAccepted {
                    violation_id: id,
                    by,
                    reason,
                    expires_at: *expires_at,
                })])
            }
            ViolationCommand::ExpireAcceptance { now } => {
                let id = state.id.ok_or(ViolationError::NotFound)?;
                match state.status {
                    Some(ViolationStatus::Accepted { expires_at }) if *now >= expires_at => {
                        Ok(vec![E::AcceptanceExpired(AcceptanceExpired {
                            violation_id: id,
                            expired_at: expires_at,
                        })])
                    }
                    _ => Ok(Vec::new()),
                }
            }
        }
    }

    fn evolve(mut state: Self::State, event: &Self::Event) -> Self::State {
        state.version += 1;
        match event {
            ViolationEvent::ViolationDetected(e) => {
                state.id = Some(e.violation_id);
                state.status = match state.status {
                    Some(accepted @ ViolationStatus::Accepted { .. }) => Some(accepted),
                    _ => Some(ViolationStatus::Open),
                };
                state.detected = Some(e.clone());
            }
            ViolationEvent::ViolationResolved(_) => state.status = Some(ViolationStatus::Resolved),
            ViolationEvent::ViolationAccepted(e) => {
                state.status = Some(ViolationStatus::Accepted {
                    expires_at: e.expires_at,
                })
            }
            ViolationEvent::AcceptanceExpired(_) => state.status = Some(ViolationStatus::Open),
        }
        state
    }
}

/// Trims `text` and checks it is 1..=`max` characters without control characters (line breaks
/// are allowed in a reason).
fn bounded(field: &'static str, text: &str, max: usize) -> Result<String, ViolationError> {
    let text = text.trim();
    let bad = text
        .chars()
        .any(|c| c.is_control() && !(field == "reason" && c == '\n'));
    if text.is_empty() || bad || text.chars().count() > max {
        return Err(ViolationError::Invalid {
            field,
            message: format!("must be 1 to {max} characters without control characters"),
        });
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests;
