//! Leave-one-corpus-out scores for `pursight bench classify`: the engine measured on each labeled
//! corpus (`domain/src/classification/corpora`) with a model that learned from every source
//! except that corpus, so each figure is one for a schema the engine has not learned from.
//!
//! Values come from our own generator ([`super::corpus_values`]), are profiled with
//! [`ColumnProfile::build`] exactly as sampled values are, and the tables are classified
//! in-process by the engine (no database: the rules, model and context tiers are the same; the
//! workflow only adds propagation to views, which these corpora do not have). A label at or
//! above the threshold is applied, one between floor and threshold suggested.

use super::classify::{score, Expected, Predicted, Score};
use super::corpus_values;
use domain::classification::corpus::{self, Corpus};
use domain::classification::model::NameModel;
use domain::classification::{
    classify_table_with, ClassifierSettings, ColumnProfile, FeedbackModel, TableProfile,
};
use std::collections::BTreeMap;

/// Rows generated per table.
const ROWS: u64 = 120;

/// One corpus's scores.
#[derive(Debug, Clone)]
pub struct CorpusScore {
    pub name: String,
    pub columns: usize,
    pub applied: Score,
    pub suggested: Score,
    /// Wrong applied labels and missed sensitive columns, for `--errors`.
    pub errors: Vec<String>,
    /// Every applied or suggested label: its confidence and whether it was right.
    pub outcomes: Vec<(f64, bool)>,
}

/// Expected calibration error over labels given: the gap between confidence and the share
/// right, averaged over ten confidence bins weighted by how many labels fall in each. A
/// well-calibrated engine's 0.9 labels are right nine times in ten.
pub fn calibration_error(outcomes: &[(f64, bool)]) -> f64 {
    if outcomes.is_empty() {
        return 0.0;
    }
    let mut bins = [(0usize, 0.0f64, 0usize); 10];
    for &(confidence, right) in outcomes {
        let b = ((confidence * 10.0) as usize).min(9);
        bins[b].0 += 1;
        bins[b].1 += confidence;
        bins[b].2 += usize::from(right);
    }
    let total = outcomes.len() as f64;
    bins.iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|&(n, sum, right)| {
            let n_f = n as f64;
            (n_f / total) * (sum / n_f - right as f64 / n_f).abs()
        })
        .sum()
}

/// The model the engine uses when measured on `corpus`: trained without it.
pub fn model_for(corpus: &Corpus) -> NameModel {
    NameModel::without_corpus(&corpus.name)
}

/// The expected labels of a corpus in the bench's form.
fn expected(corpus: &Corpus) -> BTreeMap<(String, String), Expected> {
    corpus
        .columns
        .iter()
        .map(|c| {
            (
                (c.table.clone(), c.column.clone()),
                Expected {
                    label: c.label_name().to_owned(),
                    alternates: c.alternates.iter().map(|a| a.as_str().to_owned()).collect(),
                },
            )
        })
        .collect()
}

/// Classifies a corpus with `model` and returns every applied or suggested label. `neutral`
/// renames every table and column (`t3`, `col7`) and the database, so only the values (and
/// their neighbours) speak.
pub fn predict(corpus: &Corpus, model: &NameModel, neutral: bool) -> Vec<Predicted> {
    predict_with(
        corpus,
        model,
        &ClassifierSettings::default(),
        neutral,
        &mut |_, _| {},
    )
}

/// Prints the candidates (down to confidence 0.05) and their signals of one corpus column,
/// `table.column`, as the held-out model sees it (with every table and column renamed if
/// `neutral`). The lowered floor also lets weak verdicts of the neighbouring columns into the
/// table context, so a signal may differ from the real run's.
pub fn explain(corpus: &Corpus, column: &str, neutral: bool) {
    let settings = ClassifierSettings {
        floor: 0.05,
        ..ClassifierSettings::default()
    };
    predict_with(
        corpus,
        &model_for(corpus),
        &settings,
        neutral,
        &mut |table, verdict| {
            let wanted = if neutral {
                // Under neutral names a verdict is for `colN`, N the column's place in its table.
                corpus
                    .columns
                    .iter()
                    .filter(|c| c.table == table)
                    .position(|c| format!("{table}.{}", c.column) == column)
                    .is_some_and(|i| verdict.column == format!("col{}", i + 1))
            } else {
                format!("{table}.{}", verdict.column) == column
            };
            if !wanted {
                return;
            }
            println!("{}: {column}", corpus.name);
            for c in &verdict.candidates {
                println!("  {} {:.3}", c.label, c.confidence);
                for s in &c.signals {
                    println!("    {:+.2} {:?} {}", s.weight, s.tier, s.detail);
                }
            }
        },
    );
}

fn predict_with(
    corpus: &Corpus,
    model: &NameModel,
    settings: &ClassifierSettings,
    neutral: bool,
    on_verdict: &mut dyn FnMut(&str, &domain::classification::ColumnVerdict),
) -> Vec<Predicted> {
    let threshold = ClassifierSettings::default().threshold;
    let feedback = FeedbackModel::default();
    // Per table: its profiles, and the corpus column each profile stands for.
    let mut tables: BTreeMap<&str, Vec<(&str, ColumnProfile)>> = BTreeMap::new();
    for c in &corpus.columns {
        let seed = format!("{}.{}.{}", corpus.name, c.table, c.column);
        let values = corpus_values::column_values(&c.kind, &seed, ROWS)
            .unwrap_or_else(|| panic!("no generator for kind `{}`", c.kind));
        let values: Vec<Option<&str>> = values.iter().map(Option::as_deref).collect();
        let columns = tables.entry(&c.table).or_default();
        let shown = if neutral {
            format!("col{}", columns.len() + 1)
        } else {
            c.column.clone()
        };
        let profile = ColumnProfile::build(&shown, &c.data_type, &values, &[]);
        columns.push((&c.column, profile));
    }
    let mut predictions = Vec::new();
    for (n, (table, columns)) in tables.into_iter().enumerate() {
        let (shown_table, database) = if neutral {
            (format!("t{}", n + 1), "db".to_owned())
        } else {
            (table.to_owned(), corpus.name.clone())
        };
        let profile = TableProfile {
            table: shown_table,
            columns: columns.iter().map(|(_, p)| p.clone()).collect(),
            places: vec![("database".to_owned(), database)],
        };
        for verdict in classify_table_with(&profile, settings, &feedback, model) {
            on_verdict(table, &verdict);
            let Some((column, _)) = columns.iter().find(|(_, p)| p.column == verdict.column) else {
                continue;
            };
            for candidate in verdict.candidates {
                predictions.push(Predicted {
                    table: table.to_owned(),
                    column: (*column).to_owned(),
                    label: candidate.label.as_str().to_owned(),
                    applied: candidate.confidence >= threshold,
                    confidence: candidate.confidence,
                });
            }
        }
    }
    predictions
}

/// Scores one corpus with the model trained without it (with neutral names if `neutral`).
pub fn evaluate(corpus: &Corpus, neutral: bool) -> CorpusScore {
    let model = model_for(corpus);
    let predictions = predict(corpus, &model, neutral);
    let expected = expected(corpus);
    let (applied, _) = score(&expected, &predictions, false);
    let (suggested, _) = score(&expected, &predictions, true);
    let outcomes = predictions
        .iter()
        .filter_map(|p| {
            let e = expected.get(&(p.table.clone(), p.column.clone()))?;
            Some((p.confidence, e.accepts(&p.label)))
        })
        .collect();
    let mut errors = Vec::new();
    for ((table, column), e) in &expected {
        let mine: Vec<&Predicted> = predictions
            .iter()
            .filter(|p| &p.table == table && &p.column == column)
            .collect();
        let applied_label = mine.iter().find(|p| p.applied);
        match applied_label {
            Some(p) if !e.accepts(&p.label) => errors.push(format!(
                "{}: {table}.{column} applied {} ({:.2}), expected {}",
                corpus.name, p.label, p.confidence, e.label
            )),
            None if e.sensitive() => {
                let suggested: Vec<String> = mine
                    .iter()
                    .map(|p| format!("{} {:.2}", p.label, p.confidence))
                    .collect();
                errors.push(format!(
                    "{}: {table}.{column} missed {} (suggested: {})",
                    corpus.name,
                    e.label,
                    if suggested.is_empty() {
                        "nothing".to_owned()
                    } else {
                        suggested.join(", ")
                    }
                ));
            }
            _ => {}
        }
    }
    CorpusScore {
        name: corpus.name.clone(),
        columns: corpus.columns.len(),
        applied,
        suggested,
        errors,
        outcomes,
    }
}

fn add(a: Score, b: Score) -> Score {
    Score {
        true_positives: a.true_positives + b.true_positives,
        predicted: a.predicted + b.predicted,
        expected: a.expected + b.expected,
        recalled: a.recalled + b.recalled,
    }
}

/// Runs leave-one-out over every corpus (or those named in `only`), prints the table and the
/// totals, and returns the totals (applied, applied + suggested).
pub fn run(only: &[String], show_errors: bool, neutral: bool) -> (Score, Score, f64) {
    let selected: Vec<&Corpus> = corpus::corpora()
        .iter()
        .filter(|c| only.is_empty() || only.contains(&c.name))
        .collect();
    println!(
        "leave-one-corpus-out ({} corpora; each measured with a model trained without it{}):",
        selected.len(),
        if neutral {
            "; every table and column renamed"
        } else {
            ""
        }
    );
    println!(
        "{:<20} {:>5} {:>5} | {:>6} {:>6} | {:>6} {:>6}",
        "corpus", "cols", "sens", "P", "R", "P+s", "R+s"
    );
    let (mut applied, mut suggested) = (Score::default(), Score::default());
    let mut outcomes = Vec::new();
    for c in selected {
        let s = evaluate(c, neutral);
        println!(
            "{:<20} {:>5} {:>5} | {:>6.3} {:>6.3} | {:>6.3} {:>6.3}",
            s.name,
            s.columns,
            s.applied.expected,
            s.applied.precision(),
            s.applied.recall(),
            s.suggested.precision(),
            s.suggested.recall()
        );
        if show_errors {
            for e in &s.errors {
                println!("    {e}");
            }
        }
        applied = add(applied, s.applied);
        suggested = add(suggested, s.suggested);
        outcomes.extend(s.outcomes);
    }
    println!(
        "{:<20} {:>5} {:>5} | {:>6.3} {:>6.3} | {:>6.3} {:>6.3}",
        "total",
        "",
        applied.expected,
        applied.precision(),
        applied.recall(),
        suggested.precision(),
        suggested.recall()
    );
    let ece = calibration_error(&outcomes);
    println!(
        "calibration: expected calibration error {ece:.3} over {} labels given (applied and suggested)",
        outcomes.len()
    );
    (applied, suggested, ece)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::classification::names::NameTokens;

    #[test]
    fn the_measured_corpus_is_never_in_the_model_it_is_measured_with() {
        let shipped = NameModel::shipped();
        let base = NameModel::base();
        for held in corpus::corpora() {
            let model = model_for(held);
            // A word only this corpus's column names use (if any) must be unknown to the model;
            // and the model holds exactly the other corpora's examples.
            let others: std::collections::BTreeSet<String> = corpus::corpora()
                .iter()
                .filter(|c| c.name != held.name)
                .flat_map(|c| c.columns.iter())
                .flat_map(|c| {
                    NameTokens::new(&c.column)
                        .words()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect();
            assert_eq!(model.examples + held.columns.len(), shipped.examples);
            let mut own = 0;
            for col in &held.columns {
                for w in NameTokens::new(&col.column).words() {
                    let feature = format!("t:{w}");
                    if !others.contains(w) && !base.knows(&feature) {
                        assert!(shipped.knows(&feature), "{feature}");
                        assert!(!model.knows(&feature), "{} leaked {feature}", held.name);
                        own += 1;
                    }
                }
            }
            assert!(own > 0, "{} has no word of its own to check", held.name);
        }
    }

    #[test]
    fn calibration_error_is_the_weighted_gap_between_confidence_and_accuracy() {
        assert_eq!(calibration_error(&[]), 0.0);
        // Ten labels at 0.9, nine right: calibrated.
        let calibrated: Vec<(f64, bool)> = (0..10).map(|i| (0.9, i < 9)).collect();
        assert!(calibration_error(&calibrated) < 1e-9);
        // Ten labels at 0.95, half right: off by 0.45.
        let over: Vec<(f64, bool)> = (0..10).map(|i| (0.95, i < 5)).collect();
        assert!((calibration_error(&over) - 0.45).abs() < 1e-9);
    }

    #[test]
    fn a_corpus_is_scored_against_its_own_labels() {
        let c = corpus::corpora()
            .iter()
            .find(|c| c.name == "chinook")
            .expect("chinook corpus");
        let s = evaluate(c, false);
        let sensitive = c.columns.iter().filter(|c| c.label.is_some()).count() as u64;
        assert_eq!(s.applied.expected, sensitive);
        assert!(s.applied.predicted > 0 && s.suggested.predicted >= s.applied.predicted);
        // Deterministic: the same corpus scores the same twice.
        let again = evaluate(c, false);
        assert_eq!(
            (s.applied.true_positives, s.applied.recalled),
            (again.applied.true_positives, again.applied.recalled)
        );
        // With neutral names the same columns are scored, by their values alone.
        let neutral = evaluate(c, true);
        assert_eq!(neutral.applied.expected, sensitive);
        assert!(neutral.applied.recalled <= s.applied.recalled);
    }
}
