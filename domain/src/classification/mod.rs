//! Classification: finding sensitive data in discovered columns and saying why.
//!
//! The engine is pure. A connector samples a column's values; [`ColumnProfile::build`] turns them
//! into statistics (how many values pass each detector, masked value shapes, lengths) and the
//! values are dropped — no sampled value ever leaves this module. [`classify_table`] then combines
//! three tiers into one calibrated confidence per (column, label):
//!
//! 1. rules — column-name patterns in several languages, value detectors with real validators
//!    (Luhn, IBAN mod-97, SSN rules, VIN check digit, …) and data-type compatibility;
//! 2. model — a small statistical model over column-name n-grams and value-shape features,
//!    trained from examples shipped in the repository and adjusted by per-tenant feedback;
//! 3. context — the table and neighbouring columns, and hard negatives.
//!
//! Every candidate carries the [`Signal`]s that produced it, so a person can check the label.
//! Which frameworks a label matters to follows its context: HIPAA only for health data or in a
//! health context ([`phi`]).

pub mod content;
pub mod context;
pub mod corpus;
pub mod detectors;
pub mod engine;
pub mod feedback;
pub mod free_text;
pub mod model;
pub mod names;
pub mod national_ids;
pub mod phi;
pub mod profile;
pub mod rules;
pub mod stored;
pub mod types;
pub mod validators;
pub mod vocab;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_people;
#[cfg(test)]
mod tests_support;
#[cfg(test)]
mod tests_values;

pub use engine::{
    classify_table, classify_table_with, explanation, Candidate, ClassifierSettings, ColumnVerdict,
    Signal, TableProfile, Tier,
};
pub use feedback::{FeedbackExample, FeedbackModel, FeedbackVerdict};
pub use profile::{ColumnProfile, CustomRule};
pub use types::{ClassificationType, Framework, Label, Sensitivity};
