//! Tier 2, model: a small multinomial naive-Bayes classifier over column-name features (tokens and
//! character 3- and 4-grams of the squashed name) and value-shape features (which detectors
//! accept most sampled values).
//!
//! It is trained at first use from `training.csv`, shipped in the repository: `column_name,label`
//! rows of real-world schema names in several languages, optionally with a third field naming the
//! detectors that typical values of that column pass (`|`-separated). Training is a single counting
//! pass, deterministic and fast; the model generalises the name dictionary to names it has no
//! pattern for (`telefono_cellulare`, `mobilnummer_privat`).
//!
//! It also learns the column names of the labeled corpora ([`super::corpus`]). To measure the
//! engine on one corpus, [`NameModel::without_corpus`] trains the same model with that corpus
//! left out, so the figure says how the engine does on a schema it has not learned from.

use super::corpus;
use super::names::NameTokens;
use super::profile::ColumnProfile;
use super::types::ClassificationType;
use foldhash::{HashMap, HashMapExt};
use std::sync::LazyLock;

const TRAINING: &str = include_str!("training.csv");

/// Laplace smoothing of feature counts.
const ALPHA: f64 = 0.3;

/// Classes: the built-in types, then `NONE`.
const N_CLASSES: usize = ClassificationType::ALL.len() + 1;
const NONE: usize = N_CLASSES - 1;

/// The trained model.
#[derive(Debug)]
pub struct NameModel {
    /// Per feature, the log-likelihood under each class.
    features: HashMap<String, [f32; N_CLASSES]>,
    log_prior: [f64; N_CLASSES],
    /// Training rows, for reports.
    pub examples: usize,
}

/// A model prediction for one column.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Posterior per built-in type (same order as [`ClassificationType::ALL`]).
    pub probabilities: Vec<f64>,
    pub none: f64,
    /// Whether value-shape features took part.
    pub used_values: bool,
}

impl Prediction {
    pub fn of(&self, label: ClassificationType) -> f64 {
        ClassificationType::ALL
            .iter()
            .position(|t| *t == label)
            .map_or(0.0, |i| self.probabilities[i])
    }
}

fn class_index(label: &str) -> Option<usize> {
    if label == "NONE" {
        return Some(NONE);
    }
    let t = ClassificationType::parse(label)?;
    ClassificationType::ALL.iter().position(|x| *x == t)
}

/// Name features: every token, and the character 3- and 4-grams of the squashed name with
/// boundary marks.
pub fn name_features(name: &NameTokens, out: &mut Vec<String>) {
    for t in name.words() {
        out.push(format!("t:{t}"));
    }
    let padded: Vec<char> = format!("^{}$", name.squashed).chars().collect();
    for n in [3usize, 4] {
        if padded.len() >= n {
            for w in padded.windows(n) {
                out.push(format!("c{n}:{}", w.iter().collect::<String>()));
            }
        }
    }
}

/// Value features: the detectors that accept at least half of the sampled non-null values.
fn value_features(profile: &ColumnProfile, out: &mut Vec<String>) -> bool {
    let mut any = false;
    for (id, &n) in &profile.detector_hits {
        if profile.non_null() > 0 && f64::from(n) / f64::from(profile.non_null()) >= 0.5 {
            out.push(format!("d:{id}"));
            any = true;
        }
    }
    any
}

impl NameModel {
    /// Trains from `column_name,label[,detector|detector…]` rows (a header row and `#` comments
    /// are skipped).
    pub fn train(csv: &str) -> Self {
        Self::train_with(csv, std::iter::empty())
    }

    /// The model of `training.csv` alone, without any corpus.
    pub fn base() -> Self {
        Self::train(TRAINING)
    }

    /// The shipped model: `training.csv` and every corpus.
    pub fn shipped() -> Self {
        Self::train_with(TRAINING, corpus::training_examples(None))
    }

    /// The shipped model without one corpus: what the engine knows when that corpus is a
    /// schema it has never seen.
    pub fn without_corpus(held_out: &str) -> Self {
        Self::train_with(TRAINING, corpus::training_examples(Some(held_out)))
    }

    /// Trains from `csv` rows and from corpus examples (names and labels, no value features).
    pub fn train_with<'a>(csv: &str, examples: impl Iterator<Item = corpus::Example<'a>>) -> Self {
        let mut counts: HashMap<String, [u32; N_CLASSES]> = HashMap::new();
        let mut totals = [0u64; N_CLASSES];
        let mut docs = [0u32; N_CLASSES];
        let mut n = 0;
        let mut feats = Vec::new();
        let mut learn = |class: usize, feats: &[String]| {
            for f in feats {
                counts.entry(f.clone()).or_insert([0; N_CLASSES])[class] += 1;
                totals[class] += 1;
            }
            docs[class] += 1;
            n += 1;
        };
        for line in csv.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') || line.starts_with("column_name,") {
                continue;
            }
            let mut fields = line.split(',');
            let (Some(name), Some(label)) = (fields.next(), fields.next()) else {
                continue;
            };
            let Some(class) = class_index(label.trim()) else {
                continue;
            };
            feats.clear();
            name_features(&NameTokens::new(name.trim()), &mut feats);
            if let Some(detectors) = fields.next() {
                for d in detectors
                    .split('|')
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                {
                    feats.push(format!("d:{d}"));
                }
            }
            learn(class, &feats);
        }
        for example in examples {
            let Some(class) = class_index(example.label) else {
                continue;
            };
            feats.clear();
            name_features(&NameTokens::new(example.column), &mut feats);
            learn(class, &feats);
        }
        let examples = n;
        let vocab = counts.len() as f64;
        let denom: [f64; N_CLASSES] = std::array::from_fn(|c| totals[c] as f64 + ALPHA * vocab);
        let features = counts
            .into_iter()
            .map(|(f, c)| {
                let ll: [f32; N_CLASSES] =
                    std::array::from_fn(|k| ((f64::from(c[k]) + ALPHA) / denom[k]).ln() as f32);
                (f, ll)
            })
            .collect();
        // Priors are flattened (square root of the class frequency): the training file's class
        // balance is the author's, not the world's.
        let total_docs: f64 = docs.iter().map(|&d| f64::from(d).sqrt()).sum();
        let log_prior = std::array::from_fn(|k| {
            ((f64::from(docs[k]).sqrt() + 1.0) / (total_docs + N_CLASSES as f64)).ln()
        });
        Self {
            features,
            log_prior,
            examples,
        }
    }

    /// Whether a feature (`t:token`, `c3:abc`, `d:detector`) was seen in training.
    pub fn knows(&self, feature: &str) -> bool {
        self.features.contains_key(feature)
    }

    /// Posterior over the types for a column.
    pub fn predict(&self, name: &NameTokens, profile: Option<&ColumnProfile>) -> Prediction {
        let mut feats = Vec::with_capacity(32);
        name_features(name, &mut feats);
        let used_values = profile.is_some_and(|p| value_features(p, &mut feats));
        // Features never seen in training carry no evidence and are skipped.
        let known: Vec<&[f32; N_CLASSES]> =
            feats.iter().filter_map(|f| self.features.get(f)).collect();
        let mut scores = self.log_prior;
        if !known.is_empty() {
            // Tempering: n-grams of one name are far from independent, so their evidence is
            // shrunk towards one "effective" observation per few features.
            let temper = (known.len() as f64 / 3.0).max(1.0);
            for (k, score) in scores.iter_mut().enumerate() {
                let sum: f64 = known.iter().map(|ll| f64::from(ll[k])).sum();
                *score += sum / temper;
            }
        }
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let z: f64 = exp.iter().sum();
        let probs: Vec<f64> = exp.iter().map(|e| e / z).collect();
        Prediction {
            probabilities: probs[..NONE].to_vec(),
            none: probs[NONE],
            used_values,
        }
    }
}

/// The model trained from the shipped examples and corpora, at first use.
pub static MODEL: LazyLock<NameModel> = LazyLock::new(NameModel::shipped);

#[cfg(test)]
mod tests {
    use super::*;
    use ClassificationType as T;

    fn p(name: &str, label: T) -> f64 {
        MODEL.predict(&NameTokens::new(name), None).of(label)
    }

    #[test]
    fn trains_quickly_and_deterministically() {
        let start = std::time::Instant::now();
        let a = NameModel::train(TRAINING);
        let elapsed = start.elapsed();
        let b = NameModel::train(TRAINING);
        assert!(a.examples >= 300, "only {} training rows", a.examples);
        let name = NameTokens::new("mobile_phone_no");
        assert_eq!(a.predict(&name, None), b.predict(&name, None));
        // Generous bound so a loaded CI machine does not flake; the real cost is a few ms.
        assert!(elapsed.as_millis() < 2000, "training took {elapsed:?}");
    }

    #[test]
    fn generalises_to_unseen_names() {
        assert!(p("telefono_cellulare_privato", T::PhoneNumber) > 0.5);
        assert!(p("customer_mailaddr", T::EmailAddress) > 0.5);
        assert!(p("geburts_datum_kunde", T::DateOfBirth) > 0.5);
        assert!(p("quantity_on_hand", T::PhoneNumber) < 0.2);
    }

    #[test]
    fn a_held_out_corpus_teaches_the_model_nothing() {
        use std::collections::BTreeSet;
        let shipped = NameModel::shipped();
        let words = |text: &str| -> BTreeSet<String> {
            NameTokens::new(text).words().map(str::to_owned).collect()
        };
        let base: BTreeSet<String> = TRAINING
            .lines()
            .filter_map(|l| l.split(',').next())
            .flat_map(words)
            .collect();
        for held in corpus::corpora() {
            let others: BTreeSet<String> = corpus::corpora()
                .iter()
                .filter(|c| c.name != held.name)
                .flat_map(|c| c.columns.iter().flat_map(|col| words(&col.column)))
                .collect();
            // Words only this corpus uses: the shipped model knows them, the held-out one not.
            let own: Vec<String> = held
                .columns
                .iter()
                .flat_map(|c| words(&c.column))
                .filter(|w| !others.contains(w) && !base.contains(w))
                .collect();
            assert!(!own.is_empty(), "{} has no word of its own", held.name);
            let model = NameModel::without_corpus(&held.name);
            assert_eq!(
                model.examples + held.columns.len(),
                shipped.examples,
                "{}",
                held.name
            );
            for w in &own {
                let feature = format!("t:{w}");
                assert!(shipped.knows(&feature), "{feature}");
                assert!(!model.knows(&feature), "{} leaked {feature}", held.name);
            }
        }
    }
}
