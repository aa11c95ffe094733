//! Classification labels on an asset's columns: where a label came from, its review status, and
//! the decider for the label commands.
//!
//! | command | column has | records |
//! |---|---|---|
//! | RecordClassification with new profiles | other profiles (or none) | `ColumnsProfiled`, then the label events below |
//! | RecordClassification, applied outcome | nothing, or a suggestion | `AssetClassified` |
//! | RecordClassification, suggested outcome | nothing, or a classifier-applied label | `ClassificationSuggested` |
//! | RecordClassification, any outcome | a rejection with the same evidence | nothing |
//! | RecordClassification, any outcome | a rejection with other evidence | `ClassificationSuggested` (never applied again without a person) |
//! | RecordClassification, no outcome | a classifier label (applied or suggested) | `ClassificationRevoked` |
//! | RecordClassification | a confirmed, manual or propagated label | nothing |
//! | ConfirmClassification | an applied or suggested label | `ClassificationConfirmed` |
//! | RejectClassification | an applied, suggested or confirmed label | `ClassificationRejected` |
//! | ClassifyManually | anything but the same confirmed/manual label | `AssetClassified` (manual) |
//! | PropagateClassification | nothing for that label, or a classifier suggestion | `AssetClassified` (propagated) |
//! | RevokeClassification | a label that is not rejected | `ClassificationRevoked` |

use super::error::AssetError;
use super::events::*;
use super::state::AssetState;
use crate::classification::{Candidate, ColumnProfile, Label, Signal, Tier};
use crate::ids::AggregateId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A scan rule set at one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RuleSetRef {
    pub id: AggregateId,
    pub version: u64,
}

/// Where a label came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LabelOrigin {
    /// The three-tier classifier.
    Classifier,
    /// A person labelled the column by hand.
    Manual,
    /// Copied along column-level lineage from another column's label.
    Propagated {
        from_asset: AggregateId,
        /// The origin asset's path, e.g. `shop.public.customers`.
        from_path: String,
        from_column: String,
    },
}

/// A label's review status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LabelStatus {
    Applied,
    Suggested,
    Confirmed,
    Rejected,
}

/// One label of one column as the asset knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnLabel {
    pub column: String,
    pub label: Label,
    pub status: LabelStatus,
    pub confidence: f64,
    pub signals: Vec<Signal>,
    pub evidence_key: String,
    pub origin: LabelOrigin,
    pub rule_set: Option<RuleSetRef>,
}

/// What the classifier concluded for one (column, label).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierOutcome {
    pub column: String,
    pub candidate: Candidate,
    /// At or above the threshold (applied) rather than between floor and threshold (suggested).
    pub applied: bool,
}

/// The kind of evidence behind a label: its signals with every number removed, hashed. A new
/// sample changes counts ("142 of 150") but not the kind of evidence; a new signal changes it.
/// Feedback signals are left out: a review is a verdict on the evidence, not new evidence, so the
/// review itself never makes a rejected label come back.
pub fn evidence_key(signals: &[Signal]) -> String {
    let mut kinds: Vec<String> = signals
        .iter()
        // Where a label matters (the HIPAA context) is not evidence that it is right.
        .filter(|s| {
            s.tier != Tier::Feedback
                && !s
                    .detail
                    .starts_with(crate::classification::phi::HIPAA_SIGNAL)
        })
        .map(|s| {
            let detail: String = s
                .detail
                .chars()
                .filter(|c| !c.is_ascii_digit() && *c != '.' && *c != ',')
                .collect();
            format!("{:?}:{}:{}", s.tier, s.weight >= 0.0, detail)
        })
        .collect();
    kinds.sort();
    kinds.dedup();
    let mut hasher = Sha256::new();
    for kind in &kinds {
        hasher.update(kind.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn record_profiles(
    state: &AssetState,
    asset_id: AggregateId,
    rows: u32,
    profiles: &[ColumnProfile],
) -> Vec<AssetEvent> {
    if state.profiles.as_slice() == profiles {
        return Vec::new();
    }
    vec![AssetEvent::ColumnsProfiled(ColumnsProfiled {
        asset_id,
        rows,
        profiles: profiles.to_vec(),
    })]
}

pub(super) fn record_classification(
    state: &AssetState,
    asset_id: AggregateId,
    columns: &[String],
    outcomes: &[ClassifierOutcome],
    rule_set: Option<RuleSetRef>,
) -> Vec<AssetEvent> {
    let mut events = Vec::new();
    for outcome in outcomes {
        let label = &outcome.candidate.label;
        let signals = &outcome.candidate.signals;
        let evidence_key = evidence_key(signals);
        let suggested = || {
            AssetEvent::ClassificationSuggested(ClassificationSuggested {
                asset_id,
                column: outcome.column.clone(),
                label: label.clone(),
                confidence: outcome.candidate.confidence,
                signals: signals.clone(),
                evidence_key: evidence_key.clone(),
                origin: LabelOrigin::Classifier,
                rule_set,
            })
        };
        let applied = || {
            AssetEvent::AssetClassified(AssetClassified {
                asset_id,
                column: outcome.column.clone(),
                label: label.clone(),
                confidence: outcome.candidate.confidence,
                signals: signals.clone(),
                evidence_key: evidence_key.clone(),
                origin: LabelOrigin::Classifier,
                rule_set,
            })
        };
        match state.label(&outcome.column, label) {
            None if outcome.applied => events.push(applied()),
            None => events.push(suggested()),
            Some(known) => match known.status {
                LabelStatus::Rejected if known.evidence_key == evidence_key => {}
                LabelStatus::Rejected => events.push(suggested()),
                _ if known.origin != LabelOrigin::Classifier => {}
                LabelStatus::Confirmed => {}
                LabelStatus::Suggested if outcome.applied => events.push(applied()),
                LabelStatus::Applied if !outcome.applied => events.push(suggested()),
                LabelStatus::Suggested | LabelStatus::Applied => {}
            },
        }
    }
    for known in &state.labels {
        let evaluated = columns.contains(&known.column);
        let classifier_label = known.origin == LabelOrigin::Classifier
            && matches!(known.status, LabelStatus::Applied | LabelStatus::Suggested);
        let still_found = outcomes
            .iter()
            .any(|o| o.column == known.column && o.candidate.label == known.label);
        if evaluated && classifier_label && !still_found {
            events.push(AssetEvent::ClassificationRevoked(ClassificationRevoked {
                asset_id,
                column: known.column.clone(),
                label: known.label.clone(),
                reason: "the classifier no longer finds it".to_owned(),
            }));
        }
    }
    events
}

pub(super) fn confirm(
    state: &AssetState,
    asset_id: AggregateId,
    column: &str,
    label: &Label,
    note: &Option<String>,
) -> Result<Vec<AssetEvent>, AssetError> {
    let known = labelled(state, column, label)?;
    match known.status {
        LabelStatus::Confirmed => Ok(Vec::new()),
        LabelStatus::Rejected => Err(AssetError::LabelRejected {
            column: column.to_owned(),
            label: label.clone(),
        }),
        LabelStatus::Applied | LabelStatus::Suggested => {
            Ok(vec![AssetEvent::ClassificationConfirmed(
                ClassificationConfirmed {
                    asset_id,
                    column: column.to_owned(),
                    label: label.clone(),
                    note: note.clone(),
                },
            )])
        }
    }
}

pub(super) fn reject(
    state: &AssetState,
    asset_id: AggregateId,
    column: &str,
    label: &Label,
    reason: &Option<String>,
) -> Result<Vec<AssetEvent>, AssetError> {
    let known = labelled(state, column, label)?;
    if known.status == LabelStatus::Rejected {
        return Ok(Vec::new());
    }
    Ok(vec![AssetEvent::ClassificationRejected(
        ClassificationRejected {
            asset_id,
            column: column.to_owned(),
            label: label.clone(),
            evidence_key: known.evidence_key.clone(),
            reason: reason.clone(),
        },
    )])
}

pub(super) fn classify_manually(
    state: &AssetState,
    asset_id: AggregateId,
    column: &str,
    label: &Label,
    note: &Option<String>,
) -> Result<Vec<AssetEvent>, AssetError> {
    has_column(state, column)?;
    if let Some(known) = state.label(column, label) {
        if known.origin == LabelOrigin::Manual || known.status == LabelStatus::Confirmed {
            return Ok(Vec::new());
        }
    }
    let detail = match note {
        Some(note) => format!("labelled by hand: {note}"),
        None => "labelled by hand".to_owned(),
    };
    let signals = vec![Signal {
        tier: Tier::Manual,
        detail,
        weight: 1.0,
    }];
    Ok(vec![AssetEvent::AssetClassified(AssetClassified {
        asset_id,
        column: column.to_owned(),
        label: label.clone(),
        confidence: 1.0,
        evidence_key: evidence_key(&signals),
        signals,
        origin: LabelOrigin::Manual,
        rule_set: None,
    })])
}

pub(super) fn propagate(
    state: &AssetState,
    asset_id: AggregateId,
    column: &str,
    candidate: &Candidate,
    origin: &LabelOrigin,
) -> Result<Vec<AssetEvent>, AssetError> {
    has_column(state, column)?;
    if let Some(known) = state.label(column, &candidate.label) {
        // A classifier's suggestion gives way to a label the data demonstrably came with;
        // anything else (applied, confirmed, rejected, manual, propagated) stands.
        if !is_classifier_suggestion(known) {
            return Ok(Vec::new());
        }
    }
    Ok(vec![AssetEvent::AssetClassified(AssetClassified {
        asset_id,
        column: column.to_owned(),
        label: candidate.label.clone(),
        confidence: candidate.confidence,
        evidence_key: evidence_key(&candidate.signals),
        signals: candidate.signals.clone(),
        origin: origin.clone(),
        rule_set: None,
    })])
}

pub(super) fn revoke(
    state: &AssetState,
    asset_id: AggregateId,
    column: &str,
    label: &Label,
    reason: &str,
) -> Result<Vec<AssetEvent>, AssetError> {
    let known = labelled(state, column, label)?;
    if known.status == LabelStatus::Rejected {
        return Ok(Vec::new());
    }
    Ok(vec![AssetEvent::ClassificationRevoked(
        ClassificationRevoked {
            asset_id,
            column: column.to_owned(),
            label: label.clone(),
            reason: reason.to_owned(),
        },
    )])
}

/// A label only the classifier proposed and nobody reviewed yet.
pub fn is_classifier_suggestion(label: &ColumnLabel) -> bool {
    label.status == LabelStatus::Suggested && label.origin == LabelOrigin::Classifier
}

fn labelled<'s>(
    state: &'s AssetState,
    column: &str,
    label: &Label,
) -> Result<&'s ColumnLabel, AssetError> {
    state
        .label(column, label)
        .ok_or_else(|| AssetError::LabelNotFound {
            column: column.to_owned(),
            label: label.clone(),
        })
}

fn has_column(state: &AssetState, column: &str) -> Result<(), AssetError> {
    let known = state
        .schema
        .as_ref()
        .is_some_and(|schema| schema.columns.iter().any(|c| c.name == column));
    if known {
        Ok(())
    } else {
        Err(AssetError::UnknownColumn {
            column: column.to_owned(),
        })
    }
}
