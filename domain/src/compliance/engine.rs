//! Evaluation: the enabled rules over one asset's facts (and its source's), producing findings,
//! and the per-framework score.
//!
//! - Source and asset rules are evaluated once per asset, column rules once per column. A source
//!   rule may look at the asset and its columns (e.g. "production source with personal data");
//!   [`evaluate_source`] evaluates every asset of a source and keeps one finding per source rule:
//!   the one of the first asset, by path, on which it fires.
//! - Findings come in a deterministic order: framework, rule id, subject (column findings in the
//!   asset's column order).
//! - Each finding cites exactly the facts its condition read to fire (see
//!   [`Condition::explain`](super::condition::Condition::explain)) and the evidence of exactly
//!   those facts, sorted by stream sequence and deduplicated.
//! - [`recheck`] and [`changed_facts`] tell, for an open violation, whether its rule still fires
//!   on its subject and which cited facts changed (the content of `ViolationResolved`).

use super::condition::{CitedFact, Env};
use super::facts::{AssetFacts, Evidence, SourceFacts};
use super::rules::{FrameworkId, Rule, Severity, SubjectLevel};
use super::violation::Subject;
use serde::{Deserialize, Serialize};
use std::cell::Cell;

/// A rule as a tenant runs it: the rule with its (possibly tuned) severity.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveRule {
    pub rule: Rule,
    pub severity: Severity,
}

/// One rule firing on one subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub rule_version: u32,
    pub framework: FrameworkId,
    pub control: String,
    pub severity: Severity,
    pub subject: Subject,
    pub facts: Vec<CitedFact>,
    pub evidence: Vec<Evidence>,
}

/// Evaluates `rules` over one asset of `source`.
pub fn evaluate(rules: &[ActiveRule], source: &SourceFacts, asset: &AssetFacts) -> Vec<Finding> {
    evaluate_columns(rules, source, asset, |_| true)
}

/// [`evaluate`] with column rules run only on the columns `include` accepts (source and asset
/// rules run as in `evaluate`): the incremental evaluation after a change to some columns'
/// labels. A column rule still sees the whole asset (its quantifiers over other columns), so a
/// finding on an accepted column is exactly the one `evaluate` gives for it.
pub fn evaluate_columns(
    rules: &[ActiveRule],
    source: &SourceFacts,
    asset: &AssetFacts,
    include: impl Fn(&str) -> bool,
) -> Vec<Finding> {
    let env = Env::asset(source, asset);
    let mut findings = Vec::new();
    for active in rules {
        let rule = &active.rule;
        match rule.definition.subject {
            SubjectLevel::Source | SubjectLevel::Asset => {
                if rule.condition.evaluate(&env) {
                    let subject = if rule.definition.subject == SubjectLevel::Source {
                        Subject::Source {
                            source_id: source.source_id,
                        }
                    } else {
                        Subject::Asset {
                            source_id: source.source_id,
                            asset_id: asset.asset_id,
                            path: asset.path.clone(),
                        }
                    };
                    findings.push(finding(active, subject, &env));
                }
            }
            SubjectLevel::Column => {
                let memo = vec![Cell::new(0u8); rule.condition.memo_slots()];
                let env = env.with_memo(&memo);
                for column in asset.columns.iter().filter(|c| include(&c.name)) {
                    let env = env.with_column(column);
                    if rule.condition.evaluate(&env) {
                        let subject = Subject::Column {
                            source_id: source.source_id,
                            asset_id: asset.asset_id,
                            path: asset.path.clone(),
                            column: column.name.clone(),
                        };
                        findings.push(finding(active, subject, &env));
                    }
                }
            }
        }
    }
    // Stable sort: column findings keep the asset's column order within one rule.
    findings.sort_by(|a, b| (a.framework, &a.rule_id).cmp(&(b.framework, &b.rule_id)));
    findings
}

/// Evaluates `rules` over every asset of `source` (in path order), keeping one finding per
/// source-level rule.
pub fn evaluate_source(
    rules: &[ActiveRule],
    source: &SourceFacts,
    assets: &[AssetFacts],
) -> Vec<Finding> {
    let mut ordered: Vec<&AssetFacts> = assets.iter().collect();
    ordered.sort_by(|a, b| a.path.cmp(&b.path).then(a.asset_id.cmp(&b.asset_id)));
    let mut findings = Vec::new();
    let mut source_rules_fired = std::collections::BTreeSet::new();
    for asset in ordered {
        for finding in evaluate(rules, source, asset) {
            if matches!(finding.subject, Subject::Source { .. })
                && !source_rules_fired.insert(finding.rule_id.clone())
            {
                continue;
            }
            findings.push(finding);
        }
    }
    findings.sort_by(|a, b| {
        (a.framework, &a.rule_id, a.subject.level_rank()).cmp(&(
            b.framework,
            &b.rule_id,
            b.subject.level_rank(),
        ))
    });
    findings
}

fn finding(active: &ActiveRule, subject: Subject, env: &Env<'_>) -> Finding {
    let rule = &active.rule.definition;
    let (_, facts) = active.rule.condition.explain(env);
    let mut evidence: Vec<Evidence> = facts.iter().map(|f| f.evidence.clone()).collect();
    evidence.sort_by_key(|e| (e.sequence, e.event_id));
    evidence.dedup();
    Finding {
        rule_id: rule.id.clone(),
        rule_version: rule.version,
        framework: rule.framework,
        control: rule.control.clone(),
        severity: active.severity,
        subject,
        facts,
        evidence,
    }
}

/// Evaluates one rule again for one subject of `asset` (the evaluator does this for an open
/// violation when a fact it cites changed), returning whether it still fires and the facts the
/// answer rests on. `None` when the subject is not in `asset` (its column is gone, or the
/// subject is another asset's); the caller then resolves with the removal event as evidence.
pub fn recheck(
    rule: &Rule,
    subject: &Subject,
    source: &SourceFacts,
    asset: &AssetFacts,
) -> Option<(bool, Vec<CitedFact>)> {
    let env = Env::asset(source, asset);
    match subject {
        Subject::Source { source_id } if *source_id == source.source_id => {
            Some(rule.condition.explain(&env))
        }
        Subject::Asset { asset_id, .. } if *asset_id == asset.asset_id => {
            Some(rule.condition.explain(&env))
        }
        Subject::Column {
            asset_id, column, ..
        } if *asset_id == asset.asset_id => {
            let column = asset.columns.iter().find(|c| &c.name == column)?;
            Some(rule.condition.explain(&env.with_column(column)))
        }
        _ => None,
    }
}

/// The facts of `current` that a detection citing `previous` did not see as they are now: the
/// same fact (path, column, label, role) with another value or resting on another event, in
/// `current`'s order. For `ViolationResolved`: their paths are the change, their evidence the
/// proof.
pub fn changed_facts(previous: &[CitedFact], current: &[CitedFact]) -> Vec<CitedFact> {
    current
        .iter()
        .filter(|now| {
            previous.iter().any(|before| {
                before.fact == now.fact
                    && before.column == now.column
                    && before.label == now.label
                    && before.role == now.role
                    && (before.value != now.value || before.evidence != now.evidence)
            })
        })
        .cloned()
        .collect()
}

/// The points one open violation takes off its framework's score.
///
/// | severity | points |
/// |---|---|
/// | critical | 25 |
/// | high | 10 |
/// | medium | 4 |
/// | low | 1 |
pub fn severity_weight(severity: Severity) -> u32 {
    match severity {
        Severity::Critical => 25,
        Severity::High => 10,
        Severity::Medium => 4,
        Severity::Low => 1,
    }
}

/// A framework's score: `max(0, 100 − Σ severity_weight(open violation))`.
///
/// 100 means nothing is open; accepted and resolved violations do not count (pass only the open
/// ones). Four critical violations, or ten high ones, bring a framework to 0. The score does not
/// shrink with the size of the catalog on purpose: one stored card security code is as serious in
/// a source of ten tables as in one of ten thousand.
pub fn framework_score(open: impl IntoIterator<Item = Severity>) -> u8 {
    let penalty: u32 = open
        .into_iter()
        .map(severity_weight)
        .fold(0u32, u32::saturating_add);
    100u32.saturating_sub(penalty) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_is_100_minus_the_severity_weights_of_open_violations_floored_at_0() {
        assert_eq!(framework_score([]), 100);
        assert_eq!(framework_score([Severity::Critical]), 75);
        assert_eq!(
            framework_score([Severity::High, Severity::Medium, Severity::Low]),
            85
        );
        assert_eq!(framework_score([Severity::Critical; 5]), 0);
    }
}
