//! The classifier: combines the rule, model and context tiers (and per-tenant feedback) into one
//! calibrated confidence per (column, label), each with the signals that produced it.

use super::context::{self, ColumnSummary, TableContext};
use super::feedback::FeedbackModel;
use super::model::{NameModel, Prediction, MODEL};
use super::names::{self, NameHit, NameTokens};
use super::phi;
use super::profile::{compiled_name, ColumnProfile, CustomRule, DEFAULT_MIN_MATCH_RATIO};
use super::rules::{self, Evidence, NameSupport};
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
    /// The names around the table, each with what it is (`("database", "clinic")`,
    /// `("schema", "intake")`): they decide, with the table and its columns, whether HIPAA
    /// applies to its identifiers ([`phi`](super::phi)).
    pub places: Vec<(String, String)>,
}

impl TableProfile {
    /// The places of an asset at `segments` (its path): `database` and `schema` for a
    /// three-part path, `database` for two parts, `namespace` beyond.
    pub fn places_of(segments: &[String]) -> Vec<(String, String)> {
        let parents = &segments[..segments.len().saturating_sub(1)];
        parents
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let what = match (parents.len(), i) {
                    (1 | 2, 0) => "database",
                    (2, 1) => "schema",
                    _ => "namespace",
                };
                (what.to_owned(), name.clone())
            })
            .collect()
    }
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

/// The evidence for a label in one line: the supporting signals (positive weight), joined.
pub fn explanation(signals: &[Signal]) -> String {
    signals
        .iter()
        .filter(|s| s.weight > 0.0)
        .map(|s| s.detail.as_str())
        .collect::<Vec<_>>()
        .join("; ")
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

/// Log-odds every built-in type starts from: a column is rarely any one type.
pub const PRIOR: f64 = -4.0;

/// Classifies every column of a table.
pub fn classify_table(
    table: &TableProfile,
    settings: &ClassifierSettings,
    feedback: &FeedbackModel,
) -> Vec<ColumnVerdict> {
    classify_table_with(table, settings, feedback, &MODEL)
}

/// [`classify_table`] with a given model tier, e.g. one trained without the corpus being
/// measured ([`NameModel::without_corpus`]).
pub fn classify_table_with(
    table: &TableProfile,
    settings: &ClassifierSettings,
    feedback: &FeedbackModel,
    model: &NameModel,
) -> Vec<ColumnVerdict> {
    let labels: Vec<ClassificationType> = ClassificationType::ALL
        .iter()
        .copied()
        .filter(|t| {
            settings
                .enabled_types
                .as_ref()
                .is_none_or(|set| set.contains(t))
        })
        .collect();

    // Pass one: rules and model, column by column.
    let mut columns: Vec<ColumnWork<'_>> = table
        .columns
        .iter()
        .map(|profile| {
            let name = NameTokens::new(&profile.column);
            let hits = names::match_name(&name);
            let prediction = model.predict(&name, Some(profile));
            let per_label = labels
                .iter()
                .filter_map(|&label| {
                    let mut ev = Evidence {
                        logit: PRIOR,
                        ..Evidence::default()
                    };
                    let support = rules::evaluate(label, profile, &name, &hits, &mut ev);
                    if ev.vetoed {
                        return None;
                    }
                    model_evidence(label, &prediction, support, &mut ev);
                    Some((label, ev, support))
                })
                .collect();
            ColumnWork {
                profile,
                name,
                hits,
                per_label,
            }
        })
        .collect();

    // Pass two: context from the table and the other columns' pass-one verdicts.
    let ctx = TableContext {
        table: &table.table,
        table_tokens: NameTokens::new(&table.table),
        columns: columns
            .iter()
            .map(|c| ColumnSummary {
                name: &c.profile.column,
                profile: c.profile,
                best: c
                    .per_label
                    .iter()
                    .filter(|(_, ev, _)| sigmoid(ev.logit) >= settings.floor)
                    .max_by(|a, b| a.1.logit.total_cmp(&b.1.logit))
                    .map(|(t, _, _)| *t),
                hits: c.hits.clone(),
            })
            .collect(),
    };
    // Where HIPAA applies to identifiers: decided once for the table, said on each label.
    let mut places: Vec<(&str, &str)> = table
        .places
        .iter()
        .map(|(what, name)| (what.as_str(), name.as_str()))
        .collect();
    places.push(("table", &table.table));
    let siblings: Vec<(&str, Option<ClassificationType>)> =
        ctx.columns.iter().map(|c| (c.name, c.best)).collect();
    let health = phi::health_context(&places, &siblings);
    for (i, col) in columns.iter_mut().enumerate() {
        for (label, ev, support) in &mut col.per_label {
            context::apply(*label, i, &ctx, col.profile, &col.name, *support, ev);
            if let Some(reason) = health
                .as_deref()
                .filter(|_| phi::is_hipaa_identifier(*label))
            {
                ev.signals.push(phi::hipaa_signal(reason));
            }
            feedback.evidence(
                &table.table,
                col.profile,
                &col.name,
                &Label::BuiltIn(*label),
                ev,
            );
        }
    }

    columns
        .into_iter()
        .map(|col| {
            let mut candidates: Vec<Candidate> = col
                .per_label
                .into_iter()
                .map(|(label, ev, _)| candidate(Label::BuiltIn(label), ev))
                .collect();
            for rule in &settings.custom_rules {
                if let Some(c) =
                    custom_candidate(rule, &table.table, col.profile, &col.name, feedback)
                {
                    candidates.push(c);
                }
            }
            ColumnVerdict {
                column: col.profile.column.clone(),
                candidates: select(candidates, settings),
            }
        })
        .collect()
}

/// One column on its way through the tiers.
struct ColumnWork<'a> {
    profile: &'a ColumnProfile,
    name: NameTokens,
    hits: Vec<NameHit>,
    per_label: Vec<(ClassificationType, Evidence, NameSupport)>,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The model tier: the naive-Bayes posterior for the type, worth up to +3 log-odds; when the
/// name dictionary already matched, the model (which reads the same name) adds at most +1 so the
/// name is not counted twice.
fn model_evidence(
    label: ClassificationType,
    prediction: &Prediction,
    support: NameSupport,
    ev: &mut Evidence,
) {
    let p = prediction.of(label);
    // Whether a text mentions people is a fact about its values, not its name: a `notes`
    // column is as often free of personal data as not.
    if p < 0.35 || label == ClassificationType::FreeTextPii {
        return;
    }
    let mut w = 3.0 * (p - 0.35) / 0.65;
    match support {
        NameSupport::Positive(_) => w = w.min(1.0),
        NameSupport::Negated => return,
        NameSupport::None => {}
    }
    let what = if prediction.used_values {
        "name and value shape resemble"
    } else {
        "name resembles"
    };
    ev.add(Tier::Model, w, format!("model: {what} {label} (p={p:.2})"));
}

fn candidate(label: Label, mut ev: Evidence) -> Candidate {
    ev.signals
        .sort_by(|a, b| b.weight.abs().total_cmp(&a.weight.abs()));
    Candidate {
        label,
        confidence: (sigmoid(ev.logit) * 1000.0).round() / 1000.0,
        signals: ev.signals,
    }
}

/// A custom rule's candidate: a name match and a value match together reach the threshold, one
/// alone makes a suggestion.
fn custom_candidate(
    rule: &CustomRule,
    table: &str,
    profile: &ColumnProfile,
    name: &NameTokens,
    feedback: &FeedbackModel,
) -> Option<Candidate> {
    if rule.label.trim().is_empty() || ClassificationType::parse(rule.label.trim()).is_some() {
        return None;
    }
    let min_ratio = if rule.min_match_ratio > 0.0 && rule.min_match_ratio <= 1.0 {
        rule.min_match_ratio
    } else {
        DEFAULT_MIN_MATCH_RATIO
    };
    let mut ev = Evidence::default();
    let name_match = match rule.name_pattern.as_deref() {
        Some(pattern) => {
            let matched = compiled_name(pattern).is_some_and(|re| re.is_match(&profile.column));
            if matched {
                ev.add(
                    Tier::Rule,
                    0.0,
                    format!(
                        "column name `{}` matches the rule's name pattern",
                        profile.column
                    ),
                );
            }
            Some(matched)
        }
        None => None,
    };
    let value_match = match rule.value_pattern.as_deref() {
        Some(_) => {
            let n = profile.non_null();
            let k = profile.custom_hits.get(&rule.label).copied().unwrap_or(0);
            let ratio = if n == 0 {
                0.0
            } else {
                f64::from(k) / f64::from(n)
            };
            let validated = rule
                .validator
                .as_deref()
                .map_or(String::new(), |v| format!(" and pass the `{v}` validator"));
            let matched = n > 0 && ratio >= min_ratio;
            ev.add(
                Tier::Rule,
                0.0,
                format!("{k} of {n} sampled non-null values match the rule's value pattern{validated} (needs {:.0}%)", min_ratio * 100.0),
            );
            Some((matched, ratio))
        }
        None => None,
    };
    let confidence: f64 = match (name_match, value_match) {
        (Some(true), Some((true, _))) => 0.92,
        (Some(true), Some((false, _))) => 0.55,
        (Some(false), Some((true, _))) | (None, Some((true, _))) => {
            if rule.validator.is_some() && value_match.is_some_and(|(_, r)| r >= 0.8) {
                0.85
            } else {
                0.7
            }
        }
        (Some(true), None) => 0.7,
        _ => return None,
    };
    ev.logit = (confidence / (1.0 - confidence)).ln();
    let base = ev.logit;
    let label = Label::Custom(rule.label.trim().to_owned());
    feedback.evidence(table, profile, name, &label, &mut ev);
    for s in ev.signals.iter_mut().filter(|s| s.tier == Tier::Rule) {
        s.weight = (base / 2.0 * 100.0).round() / 100.0;
    }
    Some(candidate(label, ev))
}

/// Keeps candidates at or above the floor, most confident first, with at most one at or above the
/// threshold: the others are held just below it as suggestions.
fn select(mut candidates: Vec<Candidate>, settings: &ClassifierSettings) -> Vec<Candidate> {
    candidates.retain(|c| c.confidence >= settings.floor);
    candidates.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then_with(|| a.label.cmp(&b.label))
    });
    if let Some(best) = candidates
        .first()
        .filter(|c| c.confidence >= settings.threshold)
        .map(|c| c.label.clone())
    {
        let below = ((settings.threshold - 0.001) * 1000.0).floor() / 1000.0;
        for c in candidates.iter_mut().skip(1) {
            if c.confidence >= settings.threshold {
                c.confidence = below.max(settings.floor);
                c.signals.push(Signal {
                    tier: Tier::Rule,
                    detail: format!(
                        "held below the threshold: {best} scored higher on this column"
                    ),
                    weight: 0.0,
                });
            }
        }
    }
    candidates
}
