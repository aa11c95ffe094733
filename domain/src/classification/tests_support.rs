//! Helpers shared by the classification tests that build tables from columns of values and
//! read the verdicts.

use super::*;

pub(super) type Col<'a> = (&'a str, &'a str, Vec<String>);

pub(super) fn table(name: &str, cols: &[Col<'_>]) -> TableProfile {
    TableProfile {
        table: name.to_owned(),
        columns: cols
            .iter()
            .map(|(n, t, v)| {
                let values: Vec<Option<&str>> = v.iter().map(|s| Some(s.as_str())).collect();
                ColumnProfile::build(n, t, &values, &[])
            })
            .collect(),
        places: Vec::new(),
    }
}

pub(super) fn run(t: &TableProfile) -> Vec<ColumnVerdict> {
    classify_table(t, &ClassifierSettings::default(), &FeedbackModel::default())
}

pub(super) fn candidates<'a>(v: &'a [ColumnVerdict], column: &str) -> &'a [Candidate] {
    &v.iter()
        .find(|c| c.column == column)
        .expect("a verdict per column")
        .candidates
}

/// The applied label of a column, if any.
pub(super) fn applied(v: &[ColumnVerdict], column: &str) -> Option<String> {
    candidates(v, column)
        .first()
        .filter(|c| c.confidence >= ClassifierSettings::default().threshold)
        .map(|c| c.label.to_string())
}

/// Every label at or above the floor (applied or suggested).
pub(super) fn labels(v: &[ColumnVerdict], column: &str) -> Vec<String> {
    candidates(v, column)
        .iter()
        .map(|c| c.label.to_string())
        .collect()
}

pub(super) fn cycle(values: &[&str], n: usize) -> Vec<String> {
    (0..n)
        .map(|i| values[i % values.len()].to_owned())
        .collect()
}

pub(super) fn gen(n: usize, f: impl Fn(usize) -> String) -> Vec<String> {
    (0..n).map(f).collect()
}
