//! [`ColumnProfile`]: the statistics kept from a sample of one column's values. Building a profile
//! runs every value detector over the sample and keeps only counts, masked shapes and lengths;
//! the values themselves are dropped, so a profile may be stored in events and read models.

use super::detectors::{self, Facts};
use super::validators::{self, Validator};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use regex::{Regex, RegexBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex};

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
    /// Minimum share of sampled non-null values that must match, 0..1 (default 0.6; a value
    /// outside (0, 1] means the default).
    #[serde(default = "default_min_match_ratio")]
    pub min_match_ratio: f64,
}

/// The share of values a custom rule's value pattern must match unless the rule says otherwise.
pub const DEFAULT_MIN_MATCH_RATIO: f64 = 0.6;

fn default_min_match_ratio() -> f64 {
    DEFAULT_MIN_MATCH_RATIO
}

/// Statistics of one sampled column. Holds no sampled value: shapes are masked (every letter
/// becomes `a`/`A`, every digit `9`) and truncated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ColumnProfile {
    /// The column (or dotted field) name.
    pub column: String,
    /// The type as the engine spells it.
    pub data_type: String,
    /// Values sampled: one per row, or in a column that may hold arrays one per element of the
    /// arrays it held.
    pub sampled: u32,
    /// Sampled values that were NULL (or absent; an empty array counts as one).
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
    ///
    /// In a column that may hold arrays (see [`may_hold_arrays`]; samples render arrays as
    /// JSON), each element of an array of scalars is a value of its own: a list of e-mail
    /// addresses is then seen as e-mail addresses, not as JSON text.
    pub fn build(
        column: &str,
        data_type: &str,
        values: &[Option<&str>],
        custom_rules: &[CustomRule],
    ) -> Self {
        if may_hold_arrays(data_type) {
            let elements = array_elements(values);
            let elements: Vec<Option<&str>> = elements.iter().map(Option::as_deref).collect();
            return Self::build_values(column, data_type, &elements, custom_rules);
        }
        Self::build_values(column, data_type, values, custom_rules)
    }

    fn build_values(
        column: &str,
        data_type: &str,
        values: &[Option<&str>],
        custom_rules: &[CustomRule],
    ) -> Self {
        let mut hits = [0u32; detectors::N];
        let mut shapes: HashMap<ShapeKey, u32> = HashMap::new();
        // foldhash, seeded per process: fast, and a sample crafted to collide cannot make counting
        // quadratic.
        let mut distinct: HashSet<&str> = HashSet::with_capacity(values.len());
        let mut nulls = 0u32;
        let (mut min_len, mut max_len, mut total_len) = (u32::MAX, 0u32, 0u64);
        // A custom rule's value pattern (and validator) is compiled once per build, not per value.
        let custom: Vec<CompiledRule<'_>> = custom_rules
            .iter()
            .filter(|r| r.value_pattern.is_some())
            .map(|r| {
                let pattern = r
                    .value_pattern
                    .as_deref()
                    .and_then(|p| compiled(&format!("^(?:{p})$")));
                let validator = r.validator.as_deref().and_then(validators::by_id);
                (r.label.as_str(), pattern, validator)
            })
            .collect();
        let mut custom_counts = vec![0u32; custom.len()];

        // Each distinct value is profiled once and counted as often as it occurs: categorical
        // columns (statuses, countries, given names) repeat a few values across the whole
        // sample, and running every detector over each repetition was most of the work.
        let mut occurrences: HashMap<&str, u32> = HashMap::with_capacity(values.len());
        for value in values {
            match value {
                Some(raw) => *occurrences.entry(raw).or_insert(0) += 1,
                None => nulls += 1,
            }
        }
        let mut once = [0u32; detectors::N];
        for (raw, n) in occurrences {
            let facts = Facts::of(raw);
            let len = facts.chars as u32;
            min_len = min_len.min(len);
            max_len = max_len.max(len);
            total_len += u64::from(len) * u64::from(n);
            distinct.insert(facts.s);
            *shapes.entry(ShapeKey::of(facts.s)).or_insert(0) += n;
            if n == 1 {
                detectors::detect(&facts, &mut hits);
            } else {
                once.fill(0);
                detectors::detect(&facts, &mut once);
                for (total, hit) in hits.iter_mut().zip(once) {
                    *total += hit * n;
                }
            }
            for (i, (_, pattern, validator)) in custom.iter().enumerate() {
                let Some(pattern) = pattern else { continue };
                if pattern.is_match(facts.s) && validator.is_none_or(|v| v(facts.s)) {
                    custom_counts[i] += n;
                }
            }
        }

        let non_null = values.len() as u32 - nulls;
        let mut shapes: Vec<(ShapeKey, u32)> = shapes.into_iter().collect();
        // Most frequent first; ties by shape so a profile is deterministic.
        shapes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let detector_hits = detectors::DETECTORS
            .iter()
            .zip(hits)
            .filter(|(_, n)| *n > 0)
            .map(|(id, n)| ((*id).to_owned(), n))
            .collect();
        let mut custom_hits = BTreeMap::new();
        for ((label, _, _), n) in custom.iter().zip(custom_counts) {
            *custom_hits.entry((*label).to_owned()).or_insert(0) += n;
        }
        Self {
            column: column.to_owned(),
            data_type: data_type.to_owned(),
            sampled: values.len() as u32,
            nulls,
            distinct: distinct.len() as u32,
            detector_hits,
            custom_hits,
            shapes: shapes
                .into_iter()
                .take(8)
                .map(|(key, count)| ShapeCount {
                    shape: key.as_str().to_owned(),
                    count,
                })
                .collect(),
            min_len: if non_null == 0 { 0 } else { min_len },
            max_len,
            mean_len: if non_null == 0 {
                0.0
            } else {
                total_len as f64 / f64::from(non_null)
            },
        }
    }

    /// Hits of a detector (0 when it accepted nothing).
    pub fn hits(&self, detector: &str) -> u32 {
        self.detector_hits.get(detector).copied().unwrap_or(0)
    }
}

/// Whether a column of `data_type` may hold arrays rendered as JSON: `array` (MongoDB, JSON
/// records; Snowflake's `ARRAY`), alone or among other types (`array|null`), a PostgreSQL array
/// type (`text[]`, sampled as JSON), or a JSON document type (`json`, `jsonb`, Snowflake's
/// `VARIANT`), whose values that are arrays are lists like any other.
pub fn may_hold_arrays(data_type: &str) -> bool {
    data_type.split('|').any(|t| {
        let t = t.trim();
        ["array", "json", "jsonb", "variant"]
            .iter()
            .any(|name| t.eq_ignore_ascii_case(name))
            || t.ends_with("[]")
    })
}

/// The values of an array column with each JSON array of scalars replaced by its elements
/// (strings unquoted, numbers and booleans as written, `null` as NULL; an empty array is one
/// NULL). Any other value (an array holding documents or arrays, text that is not a JSON array)
/// stays as it is.
fn array_elements(values: &[Option<&str>]) -> Vec<Option<String>> {
    use serde_json::Value;
    let mut elements = Vec::with_capacity(values.len());
    for value in values {
        let parsed = value
            .filter(|text| text.trim_start().starts_with('['))
            .and_then(|text| serde_json::from_str::<Vec<Value>>(text).ok())
            .filter(|items| {
                items
                    .iter()
                    .all(|item| !matches!(item, Value::Array(_) | Value::Object(_)))
            });
        match parsed {
            Some(items) if items.is_empty() => elements.push(None),
            Some(items) => elements.extend(items.into_iter().map(|item| match item {
                Value::Null => None,
                Value::String(text) => Some(text),
                scalar => Some(scalar.to_string()),
            })),
            None => elements.push(value.map(str::to_owned)),
        }
    }
    elements
}

/// A custom rule's label, compiled value pattern and validator.
type CompiledRule<'a> = (&'a str, Option<Arc<Regex>>, Option<Validator>);

/// How many characters of a value its shape keeps.
pub const SHAPE_LEN: usize = 24;

/// A masked shape, kept inline so counting shapes allocates nothing per value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct ShapeKey {
    bytes: [u8; SHAPE_LEN],
    len: u8,
}

impl ShapeKey {
    /// Letters become `a`/`A`, digits `9`; ASCII punctuation and spaces stay, other characters
    /// become `*`; at most [`SHAPE_LEN`] characters are kept.
    fn of(value: &str) -> Self {
        let mut key = ShapeKey {
            bytes: [0; SHAPE_LEN],
            len: 0,
        };
        for c in value.chars().take(SHAPE_LEN) {
            let m = if c.is_ascii_digit() || c.is_numeric() {
                b'9'
            } else if c.is_alphabetic() {
                if c.is_uppercase() {
                    b'A'
                } else {
                    b'a'
                }
            } else if c.is_ascii() && !c.is_ascii_control() {
                c as u8
            } else if c.is_whitespace() {
                b' '
            } else {
                b'*'
            };
            key.bytes[key.len as usize] = m;
            key.len += 1;
        }
        key
    }

    fn as_str(&self) -> &str {
        // Every byte written is ASCII.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

/// Masks a value the way profiles do (for callers that need one shape, e.g. tests).
pub fn mask(value: &str) -> String {
    ShapeKey::of(value.trim()).as_str().to_owned()
}

/// Compiles a custom-rule regex once per process: rule sets are few, columns many.
pub(crate) fn compiled(pattern: &str) -> Option<Arc<Regex>> {
    static CACHE: LazyLock<Mutex<std::collections::HashMap<String, Option<Arc<Regex>>>>> =
        LazyLock::new(|| Mutex::new(std::collections::HashMap::new()));
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(found) = cache.get(pattern) {
        return found.clone();
    }
    let built = RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .ok()
        .map(Arc::new);
    if cache.len() > 1024 {
        cache.clear();
    }
    cache.insert(pattern.to_owned(), built.clone());
    built
}

/// Compiles a case-insensitive column-name pattern of a custom rule (cached like [`compiled`]).
pub(crate) fn compiled_name(pattern: &str) -> Option<Arc<Regex>> {
    compiled(&format!("(?i){pattern}"))
}
