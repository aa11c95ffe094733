//! The `compliance` read model: every violation as it stands (open, accepted or resolved) with
//! its rule, control, subject, facts and evidence; the history of each violation; the open and
//! accepted counts per framework, per source and for the whole tenant (from which the score is
//! computed); and a daily trend of those figures. Fed by the `Violation` events and, for the
//! titles and remediation of custom rules, the tenant's `CompliancePolicy` events.
//!
//! The counts are never recounted: each event moves them by exactly the change of its
//! violation's row (status and severity before and after), so they always equal what a count
//! over `violations` would give, at the cost of a few small statements per event.

use crate::error::{DbContext, ProjectionError};
use crate::projection::{aggregate_uuid, decode, Projection};
use chrono::{DateTime, NaiveDate, Utc};
use domain::compliance::engine::severity_weight;
use domain::compliance::policy::CompliancePolicyEvent;
use domain::compliance::{
    builtin_rules, CitedFact, CompliancePolicy, Evidence, Severity, Subject, Violation,
    ViolationEvent,
};
use domain::{Aggregate, DomainEvent as _};
use eventlog::StoredEvent;
use futures::future::BoxFuture;
use serde::Serialize;
use sqlx::PgConnection;
use std::collections::HashMap;
use std::sync::OnceLock;
use uuid::Uuid;

pub const NAME: &str = "compliance";

/// The `source_id` under which `scores` and `daily_scores` keep the whole tenant's figures.
pub const TENANT_WIDE: Uuid = Uuid::nil();

/// The compliance projection.
pub struct Compliance;

const EVENTS: &[&str] = &[
    "ViolationDetected",
    "ViolationResolved",
    "ViolationAccepted",
    "AcceptanceExpired",
    "CustomRuleDefined",
    "CustomRuleRetired",
];

impl Projection for Compliance {
    fn name(&self) -> &'static str {
        NAME
    }

    fn ddl(&self) -> &'static str {
        include_str!("compliance.sql")
    }

    fn aggregate_types(&self) -> Option<&'static [&'static str]> {
        Some(&[Violation::NAME, CompliancePolicy::NAME])
    }

    fn event_names(&self) -> Option<&'static [&'static str]> {
        Some(EVENTS)
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        stored: &'a StoredEvent,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let event = &stored.event;
            let relevant = event
                .name_and_version()
                .is_some_and(|(name, _)| EVENTS.contains(&name));
            if !relevant {
                return Ok(());
            }
            match event.aggregatetype.as_str() {
                Violation::NAME => apply_violation(conn, stored, decode(NAME, stored)?).await,
                CompliancePolicy::NAME => apply_policy(conn, stored, decode(NAME, stored)?).await,
                _ => Ok(()),
            }
        })
    }
}

/// Evidence as the read model and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceJson {
    pub event_id: Uuid,
    pub sequence: u64,
    pub hash: String,
}

impl From<&Evidence> for EvidenceJson {
    fn from(e: &Evidence) -> Self {
        Self {
            event_id: e.event_id,
            sequence: e.sequence,
            hash: e.hash.clone(),
        }
    }
}

/// A cited fact as the read model and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FactJson {
    pub fact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub value: String,
    pub evidence: EvidenceJson,
}

impl From<&CitedFact> for FactJson {
    fn from(f: &CitedFact) -> Self {
        Self {
            fact: f.fact.clone(),
            column: f.column.clone(),
            label: f.label.clone(),
            role: f.role.clone(),
            value: f.value.clone(),
            evidence: (&f.evidence).into(),
        }
    }
}

pub(crate) fn evidence_json(evidence: &[Evidence]) -> serde_json::Value {
    serde_json::to_value(evidence.iter().map(EvidenceJson::from).collect::<Vec<_>>())
        .unwrap_or_default()
}

/// 1 (low) to 4 (critical), for ordering.
pub fn severity_rank(severity: Severity) -> i16 {
    match severity {
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

/// The built-in rules' titles and remediation by id.
fn builtin_texts() -> &'static HashMap<&'static str, (&'static str, &'static str)> {
    static TEXTS: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> = OnceLock::new();
    TEXTS.get_or_init(|| {
        builtin_rules()
            .map(|r| {
                let d = &r.definition;
                (d.id.as_str(), (d.title.as_str(), d.remediation.as_str()))
            })
            .collect()
    })
}

/// A violation's status and severity before an event; what the counts hold for it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Standing {
    status: String,
    severity: String,
    framework: String,
    source_id: Uuid,
    detected_at: DateTime<Utc>,
}

async fn apply_violation(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    event: ViolationEvent,
) -> Result<(), ProjectionError> {
    let e = &stored.event;
    let id = aggregate_uuid(NAME, stored)?;
    let before: Option<Standing> = sqlx::query_as(
        "SELECT status, severity, framework, source_id, detected_at FROM violations
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&e.tenant)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .in_projection(NAME)?;
    let bad = |reason: &str| ProjectionError::BadEvent {
        projection: NAME,
        sequence: stored.sequence,
        reason: format!("event {} of violation {id}: {reason}", e.id),
    };
    let version = e.aggregateversion as i64;
    let sequence = stored.sequence as i64;
    let history = History {
        status: "",
        severity: String::new(),
        rule_version: None,
        change: None,
        reason: None,
        expires_at: None,
        evidence: serde_json::Value::Array(Vec::new()),
    };
    let (after, history) = match &event {
        ViolationEvent::ViolationDetected(d) => {
            // An accepted risk stays accepted when the finding is recorded again (as the
            // aggregate folds it); anything else is open.
            let status = match &before {
                Some(b) if b.status == "accepted" => "accepted",
                _ => "open",
            };
            let detected_at = match &before {
                Some(b) if b.status != "resolved" => b.detected_at,
                _ => e.time,
            };
            let (title, remediation) =
                rule_texts(conn, &e.tenant, &d.rule_id, d.rule_version).await?;
            let (asset_id, asset_path, column) = match &d.subject {
                Subject::Source { .. } => (None, None, None),
                Subject::Asset { asset_id, path, .. } => (Some(*asset_id), Some(path), None),
                Subject::Column {
                    asset_id,
                    path,
                    column,
                    ..
                } => (Some(*asset_id), Some(path), Some(column)),
            };
            let level = match d.subject {
                Subject::Source { .. } => "source",
                Subject::Asset { .. } => "asset",
                Subject::Column { .. } => "column",
            };
            let facts =
                serde_json::to_value(d.facts.iter().map(FactJson::from).collect::<Vec<_>>())
                    .unwrap_or_default();
            let evidence = evidence_json(&d.evidence);
            // The row proposed for insertion is checked against the table's constraints even
            // when it conflicts, and it has no acceptance: it is `open` there, and a finding
            // recorded again for an accepted risk keeps `accepted` through the update (the
            // acceptance columns it leaves alone). Proposing `accepted` broke
            // `(status = 'accepted') = (accepted_until IS NOT NULL)` and parked the event.
            sqlx::query(
                "INSERT INTO violations (tenant_id, id, rule_id, rule_version, framework, control,
                     title, remediation, severity, severity_rank, status, subject_level, source_id,
                     asset_id, asset_path, column_name, facts, evidence, detected_at,
                     last_detected_at, version, sequence, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                     CASE WHEN $11 = 'accepted' THEN 'open' ELSE $11 END, $12, $13, $14, $15, $16,
                     $17, $18, $19, $20, $21, $22, $20)
                 ON CONFLICT (tenant_id, id) DO UPDATE SET
                     rule_id = EXCLUDED.rule_id, rule_version = EXCLUDED.rule_version,
                     framework = EXCLUDED.framework, control = EXCLUDED.control,
                     title = EXCLUDED.title, remediation = EXCLUDED.remediation,
                     severity = EXCLUDED.severity, severity_rank = EXCLUDED.severity_rank,
                     status = $11, subject_level = EXCLUDED.subject_level,
                     source_id = EXCLUDED.source_id, asset_id = EXCLUDED.asset_id,
                     asset_path = EXCLUDED.asset_path, column_name = EXCLUDED.column_name,
                     facts = EXCLUDED.facts, evidence = EXCLUDED.evidence,
                     detected_at = EXCLUDED.detected_at, last_detected_at = EXCLUDED.last_detected_at,
                     resolved_at = CASE WHEN $11 = 'open' THEN NULL ELSE violations.resolved_at END,
                     resolution_change = CASE WHEN $11 = 'open' THEN NULL ELSE violations.resolution_change END,
                     resolution_evidence = CASE WHEN $11 = 'open' THEN NULL ELSE violations.resolution_evidence END,
                     version = EXCLUDED.version, sequence = EXCLUDED.sequence,
                     updated_at = EXCLUDED.updated_at",
            )
            .bind(&e.tenant)
            .bind(id)
            .bind(&d.rule_id)
            .bind(d.rule_version as i32)
            .bind(d.framework.as_str())
            .bind(&d.control)
            .bind(title)
            .bind(remediation)
            .bind(d.severity.as_str())
            .bind(severity_rank(d.severity))
            .bind(status)
            .bind(level)
            .bind(d.subject.source_id())
            .bind(asset_id)
            .bind(asset_path)
            .bind(column)
            .bind(facts)
            .bind(evidence.clone())
            .bind(detected_at)
            .bind(e.time)
            .bind(version)
            .bind(sequence)
            .execute(&mut *conn)
            .await
            .in_projection(NAME)?;
            let after = Standing {
                status: status.to_owned(),
                severity: d.severity.as_str().to_owned(),
                framework: d.framework.as_str().to_owned(),
                source_id: d.subject.source_id(),
                detected_at,
            };
            let history = History {
                status,
                severity: d.severity.as_str().to_owned(),
                rule_version: Some(d.rule_version as i32),
                evidence,
                ..history
            };
            (after, history)
        }
        other => {
            let before = before
                .clone()
                .ok_or_else(|| bad("no detection of this violation came before it"))?;
            let (status, history, query) = match other {
                ViolationEvent::ViolationResolved(r) => {
                    let evidence = evidence_json(&r.evidence);
                    let query = sqlx::query(
                        "UPDATE violations SET status = 'resolved', resolved_at = $3,
                             resolution_change = $4, resolution_evidence = $5,
                             accepted_by = NULL, accepted_reason = NULL, accepted_at = NULL,
                             accepted_until = NULL, version = $6, sequence = $7, updated_at = $3
                         WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(&e.tenant)
                    .bind(id)
                    .bind(e.time)
                    .bind(r.change.clone())
                    .bind(evidence.clone())
                    .bind(version)
                    .bind(sequence);
                    let history = History {
                        status: "resolved",
                        change: Some(r.change.clone()),
                        evidence,
                        ..history
                    };
                    ("resolved", history, query)
                }
                ViolationEvent::ViolationAccepted(a) => {
                    let query = sqlx::query(
                        "UPDATE violations SET status = 'accepted', accepted_by = $3,
                             accepted_reason = $4, accepted_at = $5, accepted_until = $6,
                             version = $7, sequence = $8, updated_at = $5
                         WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(&e.tenant)
                    .bind(id)
                    .bind(a.by.clone())
                    .bind(a.reason.clone())
                    .bind(e.time)
                    .bind(a.expires_at)
                    .bind(version)
                    .bind(sequence);
                    let history = History {
                        status: "accepted",
                        reason: Some(a.reason.clone()),
                        expires_at: Some(a.expires_at),
                        ..history
                    };
                    ("accepted", history, query)
                }
                ViolationEvent::AcceptanceExpired(x) => {
                    let query = sqlx::query(
                        "UPDATE violations SET status = 'open', accepted_by = NULL,
                             accepted_reason = NULL, accepted_at = NULL, accepted_until = NULL,
                             version = $3, sequence = $4, updated_at = $5
                         WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(&e.tenant)
                    .bind(id)
                    .bind(version)
                    .bind(sequence)
                    .bind(e.time);
                    let history = History {
                        status: "open",
                        expires_at: Some(x.expired_at),
                        ..history
                    };
                    ("open", history, query)
                }
                ViolationEvent::ViolationDetected(_) => unreachable!("handled above"),
            };
            query.execute(&mut *conn).await.in_projection(NAME)?;
            let after = Standing {
                status: status.to_owned(),
                ..before.clone()
            };
            let history = History {
                severity: before.severity.clone(),
                ..history
            };
            (after, history)
        }
    };
    sqlx::query(
        "INSERT INTO violation_history (tenant_id, violation_id, version, sequence, event_id,
             event_hash, event_type, status, severity, actor, at, rule_version, change, reason,
             expires_at, evidence)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (tenant_id, violation_id, version) DO NOTHING",
    )
    .bind(&e.tenant)
    .bind(id)
    .bind(version)
    .bind(sequence)
    .bind(e.id)
    .bind(&e.hash)
    .bind(event.event_type())
    .bind(history.status)
    .bind(&history.severity)
    .bind(&e.actor)
    .bind(e.time)
    .bind(history.rule_version)
    .bind(history.change)
    .bind(history.reason)
    .bind(history.expires_at)
    .bind(history.evidence)
    .execute(&mut *conn)
    .await
    .in_projection(NAME)?;
    move_counts(conn, stored, before.as_ref(), &after).await
}

/// What one history row says beyond the envelope.
struct History {
    status: &'static str,
    severity: String,
    rule_version: Option<i32>,
    change: Option<String>,
    reason: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    evidence: serde_json::Value,
}

/// The title and remediation of `rule_id` at `version`: a built-in rule's from its pack, a
/// custom rule's from the tenant's definition (the rule id when that is unknown).
async fn rule_texts(
    conn: &mut PgConnection,
    tenant: &str,
    rule_id: &str,
    version: u32,
) -> Result<(String, String), ProjectionError> {
    if let Some((title, remediation)) = builtin_texts().get(rule_id) {
        return Ok(((*title).to_owned(), (*remediation).to_owned()));
    }
    let custom: Option<(String, String)> = sqlx::query_as(
        "SELECT title, remediation FROM custom_rules
         WHERE tenant_id = $1 AND rule_id = $2 AND version = $3",
    )
    .bind(tenant)
    .bind(rule_id)
    .bind(version as i32)
    .fetch_optional(&mut *conn)
    .await
    .in_projection(NAME)?;
    Ok(custom.unwrap_or_else(|| (rule_id.to_owned(), String::new())))
}

/// The count column a violation in `status` with `severity` adds to, if it counts.
fn count_column(status: &str, severity: &str) -> Option<String> {
    let severity = Severity::parse(severity).ok()?;
    match status {
        "open" | "accepted" => Some(format!("{status}_{}", severity.as_str())),
        _ => None,
    }
}

const COUNT_COLUMNS: [&str; 8] = [
    "open_low",
    "open_medium",
    "open_high",
    "open_critical",
    "accepted_low",
    "accepted_medium",
    "accepted_high",
    "accepted_critical",
];

/// One row of `scores`.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ScoreRow {
    pub source_id: Uuid,
    pub framework: String,
    pub open_low: i64,
    pub open_medium: i64,
    pub open_high: i64,
    pub open_critical: i64,
    pub accepted_low: i64,
    pub accepted_medium: i64,
    pub accepted_high: i64,
    pub accepted_critical: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

impl ScoreRow {
    /// `max(0, 100 − Σ severity weight of the open violations)`, as
    /// [`domain::compliance::framework_score`] defines it.
    pub fn score(&self) -> u8 {
        score_of([
            (Severity::Low, self.open_low),
            (Severity::Medium, self.open_medium),
            (Severity::High, self.open_high),
            (Severity::Critical, self.open_critical),
        ])
    }

    pub fn open(&self) -> i64 {
        self.open_low + self.open_medium + self.open_high + self.open_critical
    }

    pub fn accepted(&self) -> i64 {
        self.accepted_low + self.accepted_medium + self.accepted_high + self.accepted_critical
    }
}

/// The score of open violations given as counts per severity (the counts can be large, so the
/// weights are multiplied rather than summed one violation at a time).
pub fn score_of(open: [(Severity, i64); 4]) -> u8 {
    let penalty = open.iter().fold(0u64, |sum, (severity, count)| {
        let count = u64::try_from(*count).unwrap_or(0);
        sum.saturating_add(count.saturating_mul(u64::from(severity_weight(*severity))))
    });
    100u64.saturating_sub(penalty) as u8
}

/// Moves the counts of the violation's source and of the whole tenant by the change of its row,
/// then records the day's figures for both.
async fn move_counts(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    before: Option<&Standing>,
    after: &Standing,
) -> Result<(), ProjectionError> {
    let e = &stored.event;
    let old = before.and_then(|b| count_column(&b.status, &b.severity).map(|c| (b, c)));
    let new = count_column(&after.status, &after.severity).map(|c| (after, c));
    let unchanged = match (&old, &new) {
        (Some((b, c)), Some((a, d))) => {
            c == d && b.framework == a.framework && b.source_id == a.source_id
        }
        (None, None) => true,
        _ => false,
    };
    if unchanged {
        return Ok(());
    }
    // (source, framework) → delta per count column.
    let mut deltas: Vec<((Uuid, String), [i64; 8])> = Vec::new();
    let mut add = |source: Uuid, framework: &str, column: &str, delta: i64| {
        let key = (source, framework.to_owned());
        let index = COUNT_COLUMNS.iter().position(|c| *c == column).unwrap_or(0);
        match deltas.iter_mut().find(|(k, _)| *k == key) {
            Some((_, d)) => d[index] += delta,
            None => {
                let mut d = [0i64; 8];
                d[index] = delta;
                deltas.push((key, d));
            }
        }
    };
    for (standing, column, delta) in old
        .iter()
        .map(|(s, c)| (*s, c, -1))
        .chain(new.iter().map(|(s, c)| (*s, c, 1)))
    {
        add(standing.source_id, &standing.framework, column, delta);
        add(TENANT_WIDE, &standing.framework, column, delta);
    }
    let day = e.time.date_naive();
    for ((source, framework), delta) in deltas {
        let row: ScoreRow = sqlx::query_as(&format!(
            "INSERT INTO scores (tenant_id, source_id, framework, {columns}, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (tenant_id, source_id, framework) DO UPDATE SET {sums},
                 updated_at = EXCLUDED.updated_at
             RETURNING source_id, framework, {columns}, updated_at",
            columns = COUNT_COLUMNS.join(", "),
            sums = COUNT_COLUMNS
                .iter()
                .map(|c| format!("{c} = scores.{c} + EXCLUDED.{c}"))
                .collect::<Vec<_>>()
                .join(", "),
        ))
        .bind(&e.tenant)
        .bind(source)
        .bind(&framework)
        .bind(delta[0])
        .bind(delta[1])
        .bind(delta[2])
        .bind(delta[3])
        .bind(delta[4])
        .bind(delta[5])
        .bind(delta[6])
        .bind(delta[7])
        .bind(e.time)
        .fetch_one(&mut *conn)
        .await
        .in_projection(NAME)?;
        sqlx::query(
            "INSERT INTO daily_scores (tenant_id, source_id, framework, day, score, open_low,
                 open_medium, open_high, open_critical, accepted)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (tenant_id, source_id, framework, day) DO UPDATE SET
                 score = EXCLUDED.score, open_low = EXCLUDED.open_low,
                 open_medium = EXCLUDED.open_medium, open_high = EXCLUDED.open_high,
                 open_critical = EXCLUDED.open_critical, accepted = EXCLUDED.accepted",
        )
        .bind(&e.tenant)
        .bind(source)
        .bind(&framework)
        .bind(day)
        .bind(i16::from(row.score()))
        .bind(row.open_low)
        .bind(row.open_medium)
        .bind(row.open_high)
        .bind(row.open_critical)
        .bind(row.accepted())
        .execute(&mut *conn)
        .await
        .in_projection(NAME)?;
    }
    Ok(())
}

async fn apply_policy(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    event: CompliancePolicyEvent,
) -> Result<(), ProjectionError> {
    let e = &stored.event;
    let query = match &event {
        CompliancePolicyEvent::CustomRuleDefined(d) => {
            let r = &d.rule;
            let subject = serde_json::to_value(r.subject)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            sqlx::query(
                "INSERT INTO custom_rules (tenant_id, rule_id, version, framework, title, control,
                     severity, subject, remediation, condition, defined_at, defined_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (tenant_id, rule_id, version) DO NOTHING",
            )
            .bind(&e.tenant)
            .bind(r.id.clone())
            .bind(r.version as i32)
            .bind(r.framework.as_str())
            .bind(r.title.clone())
            .bind(r.control.clone())
            .bind(r.severity.as_str())
            .bind(subject)
            .bind(r.remediation.clone())
            .bind(r.condition.clone())
            .bind(e.time)
            .bind(e.actor.clone())
        }
        CompliancePolicyEvent::CustomRuleRetired(r) => sqlx::query(
            "UPDATE custom_rules SET retired_at = $4
             WHERE tenant_id = $1 AND rule_id = $2 AND version = $3",
        )
        .bind(&e.tenant)
        .bind(r.rule_id.clone())
        .bind(r.version as i32)
        .bind(e.time),
        // Which frameworks and rules are enabled is read from the policy itself.
        _ => return Ok(()),
    };
    query.execute(&mut *conn).await.in_projection(NAME)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Queries

/// One violation row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ViolationRow {
    pub id: Uuid,
    pub rule_id: String,
    pub rule_version: i32,
    pub framework: String,
    pub control: String,
    pub title: String,
    pub remediation: String,
    pub severity: String,
    pub severity_rank: i16,
    pub status: String,
    pub subject_level: String,
    pub source_id: Uuid,
    pub asset_id: Option<Uuid>,
    pub asset_path: Option<String>,
    pub column_name: Option<String>,
    pub facts: serde_json::Value,
    pub evidence: serde_json::Value,
    pub detected_at: DateTime<Utc>,
    pub last_detected_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_change: Option<String>,
    pub resolution_evidence: Option<serde_json::Value>,
    pub accepted_by: Option<String>,
    pub accepted_reason: Option<String>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub accepted_until: Option<DateTime<Utc>>,
    pub version: i64,
    pub sequence: i64,
    pub updated_at: DateTime<Utc>,
    /// Set when the row is the violation as it stood at this time (folded from its events by
    /// `as_of_read::violation_at`): its history then ends there too.
    #[sqlx(skip)]
    pub as_of: Option<DateTime<Utc>>,
}

impl ViolationRow {
    /// The cited events.
    pub fn evidence(&self) -> Vec<EvidenceJson> {
        serde_json::from_value(self.evidence.clone()).unwrap_or_default()
    }

    /// The facts the rule read.
    pub fn facts(&self) -> Vec<FactJson> {
        serde_json::from_value(self.facts.clone()).unwrap_or_default()
    }

    /// The events the latest resolution cites.
    pub fn resolution_evidence(&self) -> Vec<EvidenceJson> {
        self.resolution_evidence
            .clone()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    }
}

const VIOLATION_COLUMNS: &str = "id, rule_id, rule_version, framework, control, title,
    remediation, severity, severity_rank, status, subject_level, source_id, asset_id, asset_path,
    column_name, facts, evidence, detected_at, last_detected_at, resolved_at, resolution_change,
    resolution_evidence, accepted_by, accepted_reason, accepted_at, accepted_until, version,
    sequence, updated_at";

/// Filters for [`violations`]; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct ViolationFilter {
    pub framework: Option<String>,
    pub severity: Option<String>,
    /// open, accepted or resolved; empty means every status.
    pub statuses: Vec<String>,
    pub source_id: Option<Uuid>,
    /// Keyset cursor: (severity rank, id) of the last violation of the previous page.
    pub after: Option<(i16, Uuid)>,
    pub limit: i64,
    /// Only violations about a whole source or an asset in this scope
    /// ([`crate::visibility::scope_param`]); `None`: all.
    pub scope: Option<serde_json::Value>,
}

/// The filter's condition; the scope is parameter `$6`.
fn filter_sql(scope: Option<&serde_json::Value>) -> String {
    let in_scope = crate::visibility::when_scoped(6, scope, || {
        format!(
            "(asset_id IS NULL OR EXISTS (
                SELECT 1 FROM rm_catalog.assets av
                WHERE av.tenant_id = violations.tenant_id AND av.id = violations.asset_id AND {}))",
            crate::visibility::asset_visible("av", 6)
        )
    });
    format!(
        "tenant_id = $1
    AND ($2::text IS NULL OR framework = $2)
    AND ($3::text IS NULL OR severity = $3)
    AND (cardinality($4::text[]) = 0 OR status = ANY($4))
    AND ($5::uuid IS NULL OR source_id = $5)
    AND {in_scope}"
    )
}

/// A tenant's violations, most severe first, then by id.
pub async fn violations(
    pool: &sqlx::PgPool,
    tenant: &str,
    filter: &ViolationFilter,
) -> Result<Vec<ViolationRow>, sqlx::Error> {
    let (rank, after) = filter.after.unzip();
    sqlx::query_as(&format!(
        "SELECT {VIOLATION_COLUMNS} FROM rm_{NAME}.violations
         WHERE {filter}
           AND ($7::smallint IS NULL OR severity_rank < $7
                OR (severity_rank = $7 AND id > $8::uuid))
         ORDER BY severity_rank DESC, id LIMIT $9",
        filter = filter_sql(filter.scope.as_ref())
    ))
    .bind(tenant)
    .bind(filter.framework.as_deref())
    .bind(filter.severity.as_deref())
    .bind(&filter.statuses)
    .bind(filter.source_id)
    .bind(filter.scope.as_ref())
    .bind(rank)
    .bind(after)
    .bind(filter.limit)
    .fetch_all(pool)
    .await
}

/// How many violations [`violations`] would list without a cursor or limit.
pub async fn count_violations(
    pool: &sqlx::PgPool,
    tenant: &str,
    filter: &ViolationFilter,
) -> Result<i64, sqlx::Error> {
    let (count,): (i64,) = sqlx::query_as(&format!(
        "SELECT count(*) FROM rm_{NAME}.violations WHERE {filter}",
        filter = filter_sql(filter.scope.as_ref())
    ))
    .bind(tenant)
    .bind(filter.framework.as_deref())
    .bind(filter.severity.as_deref())
    .bind(&filter.statuses)
    .bind(filter.source_id)
    .bind(filter.scope.as_ref())
    .fetch_one(pool)
    .await?;
    Ok(count)
}

/// One violation of a tenant.
pub async fn violation(
    pool: &sqlx::PgPool,
    tenant: &str,
    id: Uuid,
) -> Result<Option<ViolationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {VIOLATION_COLUMNS} FROM rm_{NAME}.violations WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// One event of a violation's history.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HistoryRow {
    pub version: i64,
    pub sequence: i64,
    pub event_id: Uuid,
    pub event_hash: String,
    pub event_type: String,
    pub status: String,
    pub severity: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub rule_version: Option<i32>,
    pub change: Option<String>,
    pub reason: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub evidence: serde_json::Value,
}

/// The last `last` events of a violation, oldest first.
pub async fn history(
    pool: &sqlx::PgPool,
    tenant: &str,
    id: Uuid,
    last: i64,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    history_until(pool, tenant, id, None, last).await
}

/// The last `last` entries of a violation's history up to its version `until` (every version
/// when `None`): the history of the violation as it stood at a past time.
pub async fn history_until(
    pool: &sqlx::PgPool,
    tenant: &str,
    id: Uuid,
    until: Option<i64>,
    last: i64,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    let mut rows: Vec<HistoryRow> = sqlx::query_as(&format!(
        "SELECT version, sequence, event_id, event_hash, event_type, status, severity, actor, at,
                rule_version, change, reason, expires_at, evidence
         FROM rm_{NAME}.violation_history WHERE tenant_id = $1 AND violation_id = $2
           AND ($4::bigint IS NULL OR version <= $4)
         ORDER BY version DESC LIMIT $3"
    ))
    .bind(tenant)
    .bind(id)
    .bind(last)
    .bind(until)
    .fetch_all(pool)
    .await?;
    rows.reverse();
    Ok(rows)
}

/// The current counts per framework of one source, or of the whole tenant (`source: None`).
/// Frameworks that never had a violation have no row.
pub async fn scores(
    pool: &sqlx::PgPool,
    tenant: &str,
    source: Option<Uuid>,
) -> Result<Vec<ScoreRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT source_id, framework, {columns}, updated_at FROM rm_{NAME}.scores
         WHERE tenant_id = $1 AND source_id = $2 ORDER BY framework",
        columns = COUNT_COLUMNS.join(", ")
    ))
    .bind(tenant)
    .bind(source.unwrap_or(TENANT_WIDE))
    .fetch_all(pool)
    .await
}

/// The scores of one source (or the whole tenant) counted over the violations a caller with
/// `scope` may read (see [`crate::visibility`]): what [`scores`] holds, for a caller whose roles
/// reach assets only under conditions, counted from the violations themselves so that no
/// violation about an asset out of reach moves a figure. `updated_at` is the latest change of a
/// counted violation.
pub async fn scores_in_scope(
    pool: &sqlx::PgPool,
    tenant: &str,
    source: Option<Uuid>,
    scope: &serde_json::Value,
) -> Result<Vec<ScoreRow>, sqlx::Error> {
    let counts: Vec<String> = COUNT_COLUMNS
        .iter()
        .map(|column| {
            let (status, severity) = column.split_once('_').unwrap_or_default();
            format!(
                "count(*) FILTER (WHERE status = '{status}' AND severity = '{severity}') AS {column}"
            )
        })
        .collect();
    sqlx::query_as(&format!(
        "SELECT $4::uuid AS source_id, framework, {counts}, max(updated_at) AS updated_at
         FROM rm_{NAME}.violations
         WHERE tenant_id = $1 AND ($2::uuid IS NULL OR source_id = $2)
           AND (asset_id IS NULL OR EXISTS (
                SELECT 1 FROM rm_catalog.assets av
                WHERE av.tenant_id = violations.tenant_id AND av.id = violations.asset_id
                  AND {visible}))
         GROUP BY framework ORDER BY framework",
        counts = counts.join(", "),
        visible = crate::visibility::asset_visible("av", 3),
    ))
    .bind(tenant)
    .bind(source)
    .bind(scope)
    .bind(source.unwrap_or(TENANT_WIDE))
    .fetch_all(pool)
    .await
}

/// One day of the trend.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DailyRow {
    pub framework: String,
    pub day: NaiveDate,
    pub score: i16,
    pub open_low: i64,
    pub open_medium: i64,
    pub open_high: i64,
    pub open_critical: i64,
    pub accepted: i64,
}

/// The days `from..=to` of `framework`'s trend for one source or the whole tenant, one entry
/// per day: a day without a change keeps the figures of the last day before it that had one, a
/// day before any violation scores 100 with nothing open.
pub async fn trend(
    pool: &sqlx::PgPool,
    tenant: &str,
    source: Option<Uuid>,
    framework: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DailyRow>, sqlx::Error> {
    let rows: Vec<DailyRow> = sqlx::query_as(&format!(
        "(SELECT framework, day, score, open_low, open_medium, open_high, open_critical, accepted
          FROM rm_{NAME}.daily_scores
          WHERE tenant_id = $1 AND source_id = $2 AND framework = $3 AND day < $4
          ORDER BY day DESC LIMIT 1)
         UNION ALL
         (SELECT framework, day, score, open_low, open_medium, open_high, open_critical, accepted
          FROM rm_{NAME}.daily_scores
          WHERE tenant_id = $1 AND source_id = $2 AND framework = $3 AND day BETWEEN $4 AND $5)
         ORDER BY day"
    ))
    .bind(tenant)
    .bind(source.unwrap_or(TENANT_WIDE))
    .bind(framework)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    Ok(fill_days(framework, &rows, from, to))
}

/// One entry per day `from..=to`, carrying the last known figures forward.
pub fn fill_days(
    framework: &str,
    rows: &[DailyRow],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<DailyRow> {
    let mut current = DailyRow {
        framework: framework.to_owned(),
        day: from,
        score: 100,
        open_low: 0,
        open_medium: 0,
        open_high: 0,
        open_critical: 0,
        accepted: 0,
    };
    let mut rows = rows.iter().peekable();
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        while let Some(row) = rows.next_if(|r| r.day <= day) {
            current = row.clone();
        }
        out.push(DailyRow {
            day,
            ..current.clone()
        });
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    out
}

/// Every open and accepted violation of a tenant's framework (of one source, or all), most
/// severe first, then by asset path, column and rule: what a compliance report lists.
pub async fn standing(
    pool: &sqlx::PgPool,
    tenant: &str,
    framework: &str,
    source: Option<Uuid>,
) -> Result<Vec<ViolationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {VIOLATION_COLUMNS} FROM rm_{NAME}.violations
         WHERE tenant_id = $1 AND framework = $2 AND status IN ('open', 'accepted')
           AND ($3::uuid IS NULL OR source_id = $3)
         ORDER BY severity_rank DESC, status DESC, asset_path NULLS FIRST, column_name NULLS FIRST,
                  rule_id, id"
    ))
    .bind(tenant)
    .bind(framework)
    .bind(source)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::compliance::framework_score;

    #[test]
    fn the_score_from_counts_is_the_engines_score() {
        for counts in [
            [0, 0, 0, 0],
            [1, 0, 0, 0],
            [3, 2, 1, 0],
            [0, 0, 0, 1],
            [5, 5, 5, 5],
            [0, 0, 11, 0],
        ] {
            let open: Vec<Severity> = Severity::ALL
                .iter()
                .zip(counts)
                .flat_map(|(s, n)| std::iter::repeat_n(*s, n))
                .collect();
            let by_count = score_of([
                (Severity::Low, counts[0] as i64),
                (Severity::Medium, counts[1] as i64),
                (Severity::High, counts[2] as i64),
                (Severity::Critical, counts[3] as i64),
            ]);
            assert_eq!(by_count, framework_score(open), "{counts:?}");
        }
        // Far more violations than the score can take still floors at 0 without overflow.
        assert_eq!(score_of([(Severity::Critical, i64::MAX); 4]), 0);
    }

    #[test]
    fn days_without_a_change_keep_the_previous_days_figures() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        let row = |d: u32, score: i16, high: i64| DailyRow {
            framework: "gdpr".into(),
            day: day(d),
            score,
            open_low: 0,
            open_medium: 0,
            open_high: high,
            open_critical: 0,
            accepted: 0,
        };
        // The row of the 1st comes from before the range; the 4th changed.
        let rows = [row(1, 90, 1), row(4, 80, 2)];
        let filled = fill_days("gdpr", &rows, day(2), day(5));
        let scores: Vec<(NaiveDate, i16)> = filled.iter().map(|r| (r.day, r.score)).collect();
        assert_eq!(
            scores,
            vec![(day(2), 90), (day(3), 90), (day(4), 80), (day(5), 80)]
        );
        // Before any violation: 100, nothing open.
        let empty = fill_days("gdpr", &[], day(2), day(3));
        assert!(empty.iter().all(|r| r.score == 100 && r.open_high == 0));
    }
}
