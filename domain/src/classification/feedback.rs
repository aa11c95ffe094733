//! Learning from human review: confirmations and rejections of one tenant, kept as examples that
//! move the confidence of similar columns elsewhere.

use super::profile::ColumnProfile;
use super::types::Label;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a reviewer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackVerdict {
    Confirmed,
    Rejected,
}

/// One reviewed (column, label).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FeedbackExample {
    /// The table (asset name) the column belongs to.
    pub table: String,
    pub column: String,
    pub label: Label,
    pub verdict: FeedbackVerdict,
    /// The column's profile when it was reviewed, if one was recorded.
    pub profile: Option<ColumnProfile>,
}

/// The feedback of one tenant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedbackModel {
    pub examples: Vec<FeedbackExample>,
}
