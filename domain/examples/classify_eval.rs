//! Evaluates the classification engine against a labelled sample set.
//!
//! ```text
//! cargo run --release -p domain --example classify_eval -- SAMPLES.json LABELS.csv [--neutral] [--explain TABLE.COLUMN]
//! ```
//!
//! `SAMPLES.json` is `[{"table": .., "columns": [{"name": .., "data_type": .., "values": [..|null]}]}]`;
//! `LABELS.csv` is `table,column,label,alternates` (alternates `|`-separated; `NONE` = not
//! sensitive). A prediction counts as correct when it equals the label or an alternate. Prints
//! precision, recall and F1 of applied labels and of applied+suggested ones, per-type counts, and
//! every error. `--neutral` renames every table and column (`t1`, `col1`, …) to check how much
//! the values alone carry; `--explain` prints the signals of one column.

use domain::classification::{
    classify_table, ClassifierSettings, ColumnProfile, FeedbackModel, TableProfile,
};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

#[derive(Deserialize)]
struct SampleTable {
    table: String,
    columns: Vec<SampleColumn>,
}

#[derive(Deserialize)]
struct SampleColumn {
    name: String,
    data_type: String,
    values: Vec<Option<String>>,
}

struct Expected {
    label: String,
    alternates: Vec<String>,
}

impl Expected {
    fn accepts(&self, predicted: &str) -> bool {
        predicted == self.label || self.alternates.iter().any(|a| a == predicted)
    }
    fn sensitive(&self) -> bool {
        self.label != "NONE"
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!(
            "usage: classify_eval SAMPLES.json LABELS.csv [--neutral] [--explain TABLE.COLUMN]"
        );
        std::process::exit(2);
    }
    let neutral = args.iter().any(|a| a == "--neutral");
    let explain: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0] == "--explain")
        .map(|w| w[1].as_str())
        .collect();
    let samples: Vec<SampleTable> =
        serde_json::from_str(&std::fs::read_to_string(&args[0]).expect("readable samples file"))
            .expect("samples JSON");
    let labels = read_labels(&std::fs::read_to_string(&args[1]).expect("readable labels file"));

    let settings = ClassifierSettings::default();
    let feedback = FeedbackModel::default();
    let start = Instant::now();
    let mut rows = Vec::new();
    for (ti, t) in samples.iter().enumerate() {
        let table_name = if neutral {
            format!("t{}", ti + 1)
        } else {
            t.table.clone()
        };
        let columns: Vec<ColumnProfile> = t
            .columns
            .iter()
            .enumerate()
            .map(|(ci, c)| {
                let values: Vec<Option<&str>> = c.values.iter().map(|v| v.as_deref()).collect();
                let name = if neutral {
                    format!("col{}", ci + 1)
                } else {
                    c.name.clone()
                };
                ColumnProfile::build(&name, &c.data_type, &values, &[])
            })
            .collect();
        let profile = TableProfile {
            table: table_name,
            columns,
            places: Vec::new(),
        };
        let verdicts = classify_table(&profile, &settings, &feedback);
        for ((c, p), v) in t.columns.iter().zip(&profile.columns).zip(verdicts) {
            let key = format!("{}.{}", t.table, c.name);
            if explain.contains(&key.as_str()) {
                println!("== {key}");
                let shapes: Vec<(&str, u32)> = p
                    .shapes
                    .iter()
                    .map(|s| (s.shape.as_str(), s.count))
                    .collect();
                println!(
                    "  profile: {}/{} non-null, {} distinct, len {}..{}, detectors {:?}, shapes {:?}",
                    p.non_null(),
                    p.sampled,
                    p.distinct,
                    p.min_len,
                    p.max_len,
                    p.detector_hits,
                    shapes
                );
                for cand in &v.candidates {
                    println!("  {} {:.3}", cand.label, cand.confidence);
                    for s in &cand.signals {
                        println!("     {:>6.2} {:?} {}", s.weight, s.tier, s.detail);
                    }
                }
            }
            let top = v
                .candidates
                .first()
                .map(|c| (c.label.to_string(), c.confidence));
            rows.push((t.table.clone(), c.name.clone(), top));
        }
    }
    let elapsed = start.elapsed();

    let mut applied = (0u32, 0u32); // (correct, total)
    let mut any = (0u32, 0u32);
    let mut sensitive = 0u32;
    let mut recalled_applied = 0u32;
    let mut recalled_any = 0u32;
    let mut per_type: BTreeMap<String, [u32; 4]> = BTreeMap::new(); // columns, applied, suggested, missed
    let mut errors: Vec<String> = Vec::new();
    let mut suggested: Vec<String> = Vec::new();
    let mut missing_labels = 0;
    for (table, column, top) in &rows {
        let Some(exp) = labels.get(&(table.clone(), column.clone())) else {
            missing_labels += 1;
            continue;
        };
        let entry = per_type.entry(exp.label.clone()).or_default();
        entry[0] += 1;
        if exp.sensitive() {
            sensitive += 1;
        }
        match top {
            Some((label, conf)) => {
                let ok = exp.accepts(label);
                let is_applied = *conf >= settings.threshold;
                any.1 += 1;
                if ok {
                    any.0 += 1;
                }
                if is_applied {
                    applied.1 += 1;
                    if ok {
                        applied.0 += 1;
                    }
                }
                if exp.sensitive() && ok {
                    recalled_any += 1;
                    if is_applied {
                        recalled_applied += 1;
                        entry[1] += 1;
                    } else {
                        entry[2] += 1;
                        suggested.push(format!("{table}.{column}: {label} {conf:.3}"));
                    }
                }
                if !ok {
                    if exp.sensitive() {
                        entry[3] += 1;
                    }
                    errors.push(format!(
                        "{} {table}.{column}: expected {}{} got {label} {conf:.3}",
                        if is_applied {
                            "WRONG-APPLIED  "
                        } else {
                            "wrong-suggested"
                        },
                        exp.label,
                        alt(exp)
                    ));
                }
            }
            None => {
                if exp.sensitive() {
                    entry[3] += 1;
                    errors.push(format!(
                        "missed          {table}.{column}: expected {}{}",
                        exp.label,
                        alt(exp)
                    ));
                }
            }
        }
    }
    let p = |c: u32, t: u32| {
        if t == 0 {
            0.0
        } else {
            f64::from(c) / f64::from(t)
        }
    };
    let f1 = |p: f64, r: f64| {
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    };
    let (pa, ra) = (p(applied.0, applied.1), p(recalled_applied, sensitive));
    let (ps, rs) = (p(any.0, any.1), p(recalled_any, sensitive));
    println!(
        "columns: {}  sensitive: {sensitive}  unlabelled: {missing_labels}  time: {elapsed:?}{}",
        rows.len(),
        if neutral { "  (neutral names)" } else { "" }
    );
    println!("applied:           precision {pa:.3} ({}/{})  recall {ra:.3} ({recalled_applied}/{sensitive})  F1 {:.3}", applied.0, applied.1, f1(pa, ra));
    println!("applied+suggested: precision {ps:.3} ({}/{})  recall {rs:.3} ({recalled_any}/{sensitive})  F1 {:.3}", any.0, any.1, f1(ps, rs));
    println!(
        "\n{:<24} {:>7} {:>7} {:>9} {:>6}",
        "type", "columns", "applied", "suggested", "missed"
    );
    for (label, [n, a, s, m]) in &per_type {
        println!("{label:<24} {n:>7} {a:>7} {s:>9} {m:>6}");
    }
    println!("\nsensitive columns only suggested ({}):", suggested.len());
    for s in &suggested {
        println!("  {s}");
    }
    println!("\nerrors ({}):", errors.len());
    errors.sort();
    for e in &errors {
        println!("  {e}");
    }
}

fn alt(exp: &Expected) -> String {
    if exp.alternates.is_empty() {
        String::new()
    } else {
        format!(" (or {})", exp.alternates.join("|"))
    }
}

fn read_labels(csv: &str) -> HashMap<(String, String), Expected> {
    csv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            if f.len() < 3 {
                return None;
            }
            let alternates = f
                .get(3)
                .map(|a| {
                    a.split('|')
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            Some((
                (f[0].trim().to_owned(), f[1].trim().to_owned()),
                Expected {
                    label: f[2].trim().to_owned(),
                    alternates,
                },
            ))
        })
        .collect()
}
