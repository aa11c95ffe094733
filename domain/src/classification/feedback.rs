//! Learning from human review: confirmations and rejections of one tenant, kept as examples that
//! move the confidence of similar columns elsewhere.

use super::engine::Tier;
use super::names::NameTokens;
use super::profile::ColumnProfile;
use super::rules::Evidence;
use super::types::Label;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

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

/// How much a reviewed example counts at full similarity (log-odds).
const FEEDBACK_WEIGHT: f64 = 4.0;
/// Below this similarity an example says nothing about a column.
const MIN_SIMILARITY: f64 = 0.5;

impl FeedbackModel {
    /// Feedback-tier evidence for one (column, label): every reviewed example of that label whose
    /// column is alike in name and values moves the score, rejected down and confirmed up.
    pub(crate) fn evidence(
        &self,
        table: &str,
        profile: &ColumnProfile,
        name: &NameTokens,
        label: &Label,
        ev: &mut Evidence,
    ) {
        let mut total = 0.0;
        let mut best: Option<(f64, &FeedbackExample, Similarity)> = None;
        for ex in self.examples.iter().filter(|e| &e.label == label) {
            let sim = similarity(table, profile, name, ex);
            if sim.score < MIN_SIMILARITY {
                continue;
            }
            let sign = match ex.verdict {
                FeedbackVerdict::Confirmed => 1.0,
                FeedbackVerdict::Rejected => -1.0,
            };
            let w = sign * FEEDBACK_WEIGHT * sim.score;
            total += w;
            if best.as_ref().is_none_or(|(bw, _, _)| w.abs() > bw.abs()) {
                best = Some((w, ex, sim));
            }
        }
        let Some((_, ex, sim)) = best else {
            return;
        };
        let total = total.clamp(-1.5 * FEEDBACK_WEIGHT, FEEDBACK_WEIGHT);
        let verb = match ex.verdict {
            FeedbackVerdict::Confirmed => "confirmed",
            FeedbackVerdict::Rejected => "rejected",
        };
        let detail = if sim.same_column {
            format!(
                "a reviewer {verb} {label} on this column (`{}.{}`)",
                ex.table, ex.column
            )
        } else {
            let values = match sim.values {
                Some(v) => format!(", values {:.0}% alike", v * 100.0),
                None => String::new(),
            };
            format!(
                "a reviewer {verb} {label} on `{}.{}`, a similar column (name {:.0}% alike{values})",
                ex.table,
                ex.column,
                sim.name * 100.0
            )
        };
        ev.add(Tier::Feedback, total, detail);
    }
}

/// How alike a column is to a reviewed example.
#[derive(Debug, Clone, Copy)]
struct Similarity {
    score: f64,
    name: f64,
    values: Option<f64>,
    same_column: bool,
}

fn similarity(
    table: &str,
    profile: &ColumnProfile,
    name: &NameTokens,
    ex: &FeedbackExample,
) -> Similarity {
    if ex.table == table && ex.column == profile.column {
        return Similarity {
            score: 1.0,
            name: 1.0,
            values: None,
            same_column: true,
        };
    }
    let other = NameTokens::new(&ex.column);
    let name_sim = name_similarity(name, &other);
    let values = ex.profile.as_ref().map(|p| value_similarity(profile, p));
    let score = match values {
        // Both must be alike: a `ref_no` of digits is not a `ref_no` of words.
        Some(v) => 0.5 * name_sim + 0.5 * v,
        None => 0.85 * name_sim,
    };
    Similarity {
        score,
        name: name_sim,
        values,
        same_column: false,
    }
}

/// The larger of token overlap (Jaccard) and character-trigram overlap (Dice) of two names.
pub(crate) fn name_similarity(a: &NameTokens, b: &NameTokens) -> f64 {
    let ta: BTreeSet<&str> = a.words().collect();
    let tb: BTreeSet<&str> = b.words().collect();
    let jaccard = if ta.is_empty() && tb.is_empty() {
        0.0
    } else {
        ta.intersection(&tb).count() as f64 / ta.union(&tb).count() as f64
    };
    let grams = |s: &str| -> BTreeSet<String> {
        let chars: Vec<char> = format!("^{s}$").chars().collect();
        chars.windows(3).map(|w| w.iter().collect()).collect()
    };
    let (ga, gb) = (grams(&a.squashed), grams(&b.squashed));
    let dice = if ga.is_empty() || gb.is_empty() {
        0.0
    } else {
        2.0 * ga.intersection(&gb).count() as f64 / (ga.len() + gb.len()) as f64
    };
    jaccard.max(dice)
}

/// How alike two columns' values are: the overlap of their masked-shape distributions, or of the
/// share of values each detector accepted, whichever is larger.
pub(crate) fn value_similarity(a: &ColumnProfile, b: &ColumnProfile) -> f64 {
    let (na, nb) = (f64::from(a.non_null()), f64::from(b.non_null()));
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    let shapes: f64 = a
        .shapes
        .iter()
        .filter_map(|sa| {
            b.shapes
                .iter()
                .find(|sb| sb.shape == sa.shape)
                .map(|sb| (f64::from(sa.count) / na).min(f64::from(sb.count) / nb))
        })
        .sum();
    let ids: BTreeSet<&String> = a
        .detector_hits
        .keys()
        .chain(b.detector_hits.keys())
        .collect();
    let detectors = if ids.is_empty() {
        0.0
    } else {
        let diff: f64 = ids
            .iter()
            .map(|id| (a.hit_ratio(id) - b.hit_ratio(id)).abs())
            .sum::<f64>();
        let weight: f64 = ids
            .iter()
            .map(|id| a.hit_ratio(id).max(b.hit_ratio(id)))
            .sum();
        if weight == 0.0 {
            0.0
        } else {
            (1.0 - diff / weight).max(0.0)
        }
    };
    shapes.max(detectors)
}
