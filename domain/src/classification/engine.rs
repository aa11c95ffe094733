//! The classifier: combines the rule, model and context tiers (and per-tenant feedback) into one
//! calibrated confidence per (column, label), each with the signals that produced it.

use super::feedback::FeedbackModel;
use super::profile::{ColumnProfile, CustomRule};
use super::types::{ClassificationType, Label};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The profiles of one table's (or view's, collection's, prefix's) sampled columns.
#[derive(Debug, Clone, PartialEq)]
pub struct TableProfile {
    /// The asset's own name, e.g. `customers` (not the full path).
    pub table: String,
    pub columns: Vec<ColumnProfile>,
}

/// What a scan rule set asks of the classifier.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierSettings {
    /// At or above: the label is applied (default 0.8).
    pub threshold: f64,
    /// At or above (and below the threshold): suggested for review (default 0.5).
    pub floor: f64,
    /// The built-in types to look for; `None` means all.
    pub enabled_types: Option<BTreeSet<ClassificationType>>,
    pub custom_rules: Vec<CustomRule>,
}

impl Default for ClassifierSettings {
    fn default() -> Self {
        Self {
            threshold: 0.8,
            floor: 0.5,
            enabled_types: None,
            custom_rules: Vec::new(),
        }
    }
}

/// Which tier a signal comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Rule,
    Model,
    Context,
    Feedback,
    Propagation,
    Manual,
}

/// One piece of evidence, worded for a person: "142 of 150 sampled non-null values pass Luhn
/// with a Visa/Mastercard prefix", "column name matches `card_no`".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Signal {
    pub tier: Tier,
    pub detail: String,
    /// Signed contribution to the score (negative for evidence against).
    pub weight: f64,
}

/// A label the classifier proposes for a column, with confidence 0..1 and its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Candidate {
    pub label: Label,
    pub confidence: f64,
    pub signals: Vec<Signal>,
}

/// The candidates for one column at or above the floor, most confident first. At most one
/// candidate per column is at or above the threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnVerdict {
    pub column: String,
    pub candidates: Vec<Candidate>,
}

/// Classifies every column of a table.
pub fn classify_table(
    table: &TableProfile,
    settings: &ClassifierSettings,
    feedback: &FeedbackModel,
) -> Vec<ColumnVerdict> {
    let _ = (settings, feedback);
    table
        .columns
        .iter()
        .map(|c| ColumnVerdict {
            column: c.column.clone(),
            candidates: Vec::new(),
        })
        .collect()
}
