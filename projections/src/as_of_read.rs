//! As-of reads of one asset, one data source or one violation: its row as the live read model held it at a
//! time `T`, folded from that aggregate's own events in the stream up to `T`.
//!
//! Why from the stream and per aggregate: an auditor asks "what did this asset look like on the
//! day of the incident?". The answer must come from the immutable history, not from a read model
//! that has moved on, and it must stay fast however long the stream grows. The event store loads
//! one aggregate's history with direct gets along its own commits (see
//! `eventlog::EventStore::load`), so the cost follows the asset's own history, not the stream's
//! length. Whole-catalogue questions (every read model at `T`) are `replay --as-of --into`.
//!
//! The folds below produce exactly the rows the catalog and data-sources projections write for
//! the same events (the same fields from the same event parts); a test compares an as-of read at
//! "now" with the live read model, so the two cannot drift apart unnoticed. Lifecycle states are
//! not re-implemented: a source's row is folded with the domain's own `evolve`, like its
//! projection does.

use crate::catalog::AssetRow;
use crate::compliance::ViolationRow;
use crate::data_sources::DataSourceRow;
use crate::labels::LabelRow;
use crate::projection::decode;
use crate::ProjectionError;
use chrono::{DateTime, SubsecRound, Utc};
use domain::access::AssetScope;
use domain::access_policy::AssetCondition;
use domain::asset::AssetEvent;
use domain::classification::{Label, Sensitivity};
use domain::compliance::{Subject, Violation, ViolationEvent};
use domain::datasource::{DataSource, DataSourceEvent, DataSourceState, LifecycleState};
use domain::{Aggregate, AggregateId, TenantId};
use eventlog::{EventStore, StoredEvent};
use serde_json::{json, Value};

const NAME: &str = "as_of";

/// An event's time as the read models hold it: PostgreSQL keeps microseconds (and the driver
/// truncates), so a time read back from any read model (an `updatedAt`, a history entry's `at`)
/// used as `asOf` includes the event it came from.
fn time_of(stored: &StoredEvent) -> DateTime<Utc> {
    stored.event.time.trunc_subsecs(6)
}

/// An asset as it stood at a time: its catalog row and its column labels (revoked ones gone,
/// in the live read model's order: column, then confidence descending, then label).
#[derive(Debug, Clone)]
pub struct AssetAsOf {
    pub at: DateTime<Utc>,
    pub row: AssetRow,
    pub labels: Vec<LabelRow>,
}

/// Folds an asset's events recorded at or before `at` into its row and labels; `None` when the
/// asset had not been discovered by then. `source` is its source's row at the same time (for the
/// metadata the asset inherits). Events after `at` are ignored even when a clock stepped back,
/// so the answer is the history as it had been recorded by then.
pub fn fold_asset(
    events: &[StoredEvent],
    source: Option<&DataSourceRow>,
    at: DateTime<Utc>,
) -> Result<Option<AssetAsOf>, ProjectionError> {
    let mut row: Option<AssetRow> = None;
    let mut labels: Vec<LabelRow> = Vec::new();
    for stored in events.iter().filter(|s| time_of(s) <= at) {
        let e = &stored.event;
        let event: AssetEvent = decode(NAME, stored)?;
        if let AssetEvent::SchemaDiscovered(d) = &event {
            if row.is_none() {
                let id = uuid::Uuid::parse_str(&e.aggregateid).map_err(|_| {
                    ProjectionError::BadEvent {
                        projection: NAME,
                        sequence: stored.sequence,
                        reason: format!("aggregate id {:?} is not a UUID", e.aggregateid),
                    }
                })?;
                row = Some(AssetRow {
                    id,
                    source_id: d.source_id.as_uuid(),
                    path: d.schema.path.to_string(),
                    kind: String::new(),
                    name: d.schema.path.name().to_owned(),
                    schema: Value::Null,
                    column_count: 0,
                    fingerprint: String::new(),
                    row_estimate: None,
                    removed: false,
                    version: 0,
                    first_seen_at: time_of(stored),
                    updated_at: time_of(stored),
                    owner: None,
                    owner_kind: None,
                    owner_type: None,
                    tags: json!([]),
                    description: None,
                    source_owner: None,
                    source_owner_kind: None,
                    source_owner_type: None,
                    source_tags: None,
                    source_description: None,
                    as_of: None,
                });
            }
        }
        // Events before a discovery cannot happen; if one did, the live projection would have no
        // row to update either.
        let Some(asset) = row.as_mut() else {
            continue;
        };
        let version = e.aggregateversion as i64;
        match &event {
            AssetEvent::SchemaDiscovered(d) => {
                set_schema(asset, &d.schema, d.fingerprint.as_str());
                asset.removed = false;
                asset.updated_at = time_of(stored);
            }
            AssetEvent::SchemaChanged(c) => {
                set_schema(asset, &c.schema, c.fingerprint.as_str());
                asset.updated_at = time_of(stored);
            }
            AssetEvent::StatisticsChanged(st) => {
                asset.row_estimate = st.row_estimate;
                if let Value::Object(schema) = &mut asset.schema {
                    for key in ["row_estimate", "size_bytes", "last_analyzed"] {
                        schema.remove(key);
                    }
                    let figures = json!({
                        "row_estimate": st.row_estimate,
                        "size_bytes": st.size_bytes,
                        "last_analyzed": st.last_analyzed,
                    });
                    if let Value::Object(figures) = figures {
                        schema.extend(figures.into_iter().filter(|(_, v)| !v.is_null()));
                    }
                }
                asset.updated_at = time_of(stored);
            }
            AssetEvent::AssetRemoved(_) => {
                asset.removed = true;
                asset.updated_at = time_of(stored);
            }
            AssetEvent::AssetRestored(_) => {
                asset.removed = false;
                asset.updated_at = time_of(stored);
            }
            AssetEvent::AssetMetadataChanged(m) => {
                asset.owner = m.owner.as_ref().map(|o| o.name.clone());
                asset.owner_kind = m.owner.as_ref().map(|o| o.kind.as_str().to_owned());
                asset.owner_type = m.owner.as_ref().map(|o| o.owner_type.as_str().to_owned());
                asset.tags = serde_json::to_value(&m.tags).unwrap_or_else(|_| json!([]));
                asset.description = m.description.clone();
                asset.updated_at = time_of(stored);
            }
            AssetEvent::AssetClassified(l) => upsert_label(
                &mut labels,
                asset,
                stored,
                &l.column,
                &l.label,
                "applied",
                l.confidence,
                [json_of(&l.signals), json_of(&l.origin)],
                l.rule_set.as_ref().map(json_of),
            ),
            AssetEvent::ClassificationSuggested(l) => upsert_label(
                &mut labels,
                asset,
                stored,
                &l.column,
                &l.label,
                "suggested",
                l.confidence,
                [json_of(&l.signals), json_of(&l.origin)],
                l.rule_set.as_ref().map(json_of),
            ),
            AssetEvent::ClassificationConfirmed(r) => review(
                &mut labels,
                stored,
                &r.column,
                &r.label,
                "confirmed",
                &r.note,
            ),
            AssetEvent::ClassificationRejected(r) => review(
                &mut labels,
                stored,
                &r.column,
                &r.label,
                "rejected",
                &r.reason,
            ),
            AssetEvent::ClassificationRevoked(r) => {
                labels.retain(|l| !(l.column_name == r.column && l.label == r.label.as_str()))
            }
            AssetEvent::ColumnsProfiled(_)
            | AssetEvent::LineageRecorded(_)
            | AssetEvent::LineageRetracted(_) => {}
        }
        asset.version = version;
    }
    let Some(mut row) = row else {
        return Ok(None);
    };
    if let Some(source) = source {
        // As the live query reads it: a typed owner (`{name, kind, type}`), or a name alone as
        // recorded before owners were typed.
        let owner = &source.config["owner"];
        row.source_owner = owner["name"].as_str().or(owner.as_str()).map(str::to_owned);
        row.source_owner_kind = owner["kind"].as_str().map(str::to_owned);
        row.source_owner_type = owner["type"].as_str().map(str::to_owned);
        row.source_tags = source.config.get("tags").cloned();
        row.source_description = source.config["description"].as_str().map(str::to_owned);
    }
    labels.sort_by(|a, b| {
        a.column_name
            .cmp(&b.column_name)
            .then(b.confidence.total_cmp(&a.confidence))
            .then(a.label.cmp(&b.label))
    });
    Ok(Some(AssetAsOf { at, row, labels }))
}

fn set_schema(asset: &mut AssetRow, schema: &domain::discovery::AssetSchema, fingerprint: &str) {
    asset.schema = json_of(schema);
    asset.column_count = schema.columns.len() as i32;
    asset.fingerprint = fingerprint.to_owned();
    asset.row_estimate = schema.row_estimate;
    asset.kind = json_of(&schema.kind)
        .as_str()
        .unwrap_or_default()
        .to_owned();
}

fn json_of<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// A label recorded (applied or suggested): a new row, or the row replaced with its review
/// cleared, as the live projection's upsert does.
#[allow(clippy::too_many_arguments)]
fn upsert_label(
    labels: &mut Vec<LabelRow>,
    asset: &AssetRow,
    stored: &StoredEvent,
    column: &str,
    label: &Label,
    status: &str,
    confidence: f64,
    [signals, origin]: [Value; 2],
    rule_set: Option<Value>,
) {
    let e = &stored.event;
    let row = LabelRow {
        asset_id: asset.id,
        source_id: asset.source_id,
        asset_path: asset.path.clone(),
        column_name: column.to_owned(),
        label: label.as_str().to_owned(),
        status: status.to_owned(),
        confidence,
        signals,
        origin,
        rule_set,
        labelled_at: time_of(stored),
        labelled_by: e.actor.clone(),
        reviewed_at: None,
        reviewed_by: None,
        review_note: None,
    };
    match labels
        .iter_mut()
        .find(|l| l.column_name == column && l.label == label.as_str())
    {
        Some(known) => *known = row,
        None => labels.push(row),
    }
}

fn review(
    labels: &mut [LabelRow],
    stored: &StoredEvent,
    column: &str,
    label: &Label,
    status: &str,
    note: &Option<String>,
) {
    if let Some(known) = labels
        .iter_mut()
        .find(|l| l.column_name == column && l.label == label.as_str())
    {
        known.status = status.to_owned();
        known.reviewed_at = Some(time_of(stored));
        known.reviewed_by = Some(stored.event.actor.clone());
        known.review_note = note.clone();
    }
}

/// A data source of `tenant` as it stood at `at`, loaded from the stream: what the `asOf:`
/// arguments and `pursight bench as-of` call.
pub async fn source_at(
    store: &EventStore,
    tenant: &TenantId,
    id: uuid::Uuid,
    at: DateTime<Utc>,
) -> Result<Option<DataSourceRow>, ProjectionError> {
    let history = store
        .load(tenant, DataSource::NAME, &AggregateId::from_uuid(id))
        .await?;
    fold_source(&opened(store, history.events).await?, at)
}

/// An asset of `tenant` as it stood at `at` (with its source as it stood then), loaded from the
/// stream; `source_id` is the asset's source (assets never move between sources).
pub async fn asset_at(
    store: &EventStore,
    tenant: &TenantId,
    id: uuid::Uuid,
    source_id: uuid::Uuid,
    at: DateTime<Utc>,
) -> Result<Option<AssetAsOf>, ProjectionError> {
    let history = store
        .load(
            tenant,
            domain::asset::Asset::NAME,
            &AggregateId::from_uuid(id),
        )
        .await?;
    let source = source_at(store, tenant, source_id, at).await?;
    fold_asset(&opened(store, history.events).await?, source.as_ref(), at)
}

/// The events with their sealed personal values opened (or `[erased]`), as the projections
/// read them, so a past state shows what the live read models show.
async fn opened(
    store: &EventStore,
    events: Vec<StoredEvent>,
) -> Result<Vec<StoredEvent>, ProjectionError> {
    let (sequences, mut cloud): (Vec<u64>, Vec<_>) =
        events.into_iter().map(|e| (e.sequence, e.event)).unzip();
    store
        .opener()
        .open(&mut cloud)
        .await
        .map_err(eventlog::EventStoreError::from)?;
    Ok(sequences
        .into_iter()
        .zip(cloud)
        .map(|(sequence, event)| StoredEvent { sequence, event })
        .collect())
}

/// Folds a data source's events recorded at or before `at` into its read-model row; `None`
/// when it had not been registered by then.
pub fn fold_source(
    events: &[StoredEvent],
    at: DateTime<Utc>,
) -> Result<Option<DataSourceRow>, ProjectionError> {
    let mut state = DataSourceState::default();
    let mut first: Option<&StoredEvent> = None;
    let mut last: Option<&StoredEvent> = None;
    let mut archived_at = None;
    for stored in events.iter().filter(|s| time_of(s) <= at) {
        let event: DataSourceEvent = decode(NAME, stored)?;
        state = DataSource::evolve(state, &event);
        first.get_or_insert(stored);
        last = Some(stored);
        if state.lifecycle == LifecycleState::Archived && archived_at.is_none() {
            archived_at = Some(time_of(stored));
        }
    }
    let (Some(first), Some(last), Some(config)) = (first, last, state.config.as_ref()) else {
        return Ok(None);
    };
    let config = config.redacted();
    let text = |field: &str| config[field].as_str().unwrap_or_default().to_owned();
    Ok(Some(DataSourceRow {
        id: uuid::Uuid::parse_str(&first.event.aggregateid).map_err(|_| {
            ProjectionError::BadEvent {
                projection: NAME,
                sequence: first.sequence,
                reason: format!("aggregate id {:?} is not a UUID", first.event.aggregateid),
            }
        })?,
        name: text("name"),
        kind: text("kind"),
        lifecycle_state: state.lifecycle.as_str().to_owned(),
        version: last.event.aggregateversion as i64,
        registered_at: time_of(first),
        registered_by: first.event.actor.clone(),
        updated_at: time_of(last),
        updated_by: last.event.actor.clone(),
        archived_at,
        last_sequence: last.sequence as i64,
        config,
    }))
}

/// A violation of `tenant` as it stood at `at`, loaded from the stream: `live` is its row in the
/// compliance read model (nothing ever leaves it, so every violation recorded by `at` has one),
/// which gives the rule's title and remediation (as they read now) and the row's shape; `None`
/// when it had not been detected by then.
pub async fn violation_at(
    store: &EventStore,
    tenant: &TenantId,
    live: &ViolationRow,
    at: DateTime<Utc>,
) -> Result<Option<ViolationRow>, ProjectionError> {
    let history = store
        .load(tenant, Violation::NAME, &AggregateId::from_uuid(live.id))
        .await?;
    fold_violation(&opened(store, history.events).await?, live, at)
}

/// Folds a violation's events recorded at or before `at` into the row the compliance
/// projection writes for them (the same fields from the same event parts, see
/// `compliance::apply_violation`); `None` when it had not been detected by then. A risk
/// acceptance whose `expires_at` had passed by `at` counts as expired then (status `open`),
/// whether or not the worker had recorded `AcceptanceExpired` yet: at `at` it no longer held.
pub fn fold_violation(
    events: &[StoredEvent],
    live: &ViolationRow,
    at: DateTime<Utc>,
) -> Result<Option<ViolationRow>, ProjectionError> {
    let mut row: Option<ViolationRow> = None;
    for stored in events.iter().filter(|s| time_of(s) <= at) {
        let event: ViolationEvent = decode(NAME, stored)?;
        let time = time_of(stored);
        let version = stored.event.aggregateversion as i64;
        let sequence = stored.sequence as i64;
        if let ViolationEvent::ViolationDetected(d) = &event {
            let before = row.take();
            // As the projection: an accepted risk stays accepted when the finding is recorded
            // again; a resolved one opens again with a new detection time.
            let status = match &before {
                Some(b) if b.status == "accepted" => "accepted",
                _ => "open",
            };
            let detected_at = match &before {
                Some(b) if b.status != "resolved" => b.detected_at,
                _ => time,
            };
            let mut next = before.unwrap_or_else(|| ViolationRow {
                resolved_at: None,
                resolution_change: None,
                resolution_evidence: None,
                accepted_by: None,
                accepted_reason: None,
                accepted_at: None,
                accepted_until: None,
                ..live.clone()
            });
            let (asset_id, asset_path, column_name, level) = match &d.subject {
                Subject::Source { .. } => (None, None, None, "source"),
                Subject::Asset { asset_id, path, .. } => {
                    (Some(*asset_id), Some(path.clone()), None, "asset")
                }
                Subject::Column {
                    asset_id,
                    path,
                    column,
                    ..
                } => (
                    Some(*asset_id),
                    Some(path.clone()),
                    Some(column.clone()),
                    "column",
                ),
            };
            next.rule_id = d.rule_id.clone();
            next.rule_version = d.rule_version as i32;
            next.framework = d.framework.as_str().to_owned();
            next.control = d.control.clone();
            next.severity = d.severity.as_str().to_owned();
            next.severity_rank = crate::compliance::severity_rank(d.severity);
            next.status = status.to_owned();
            next.subject_level = level.to_owned();
            next.source_id = d.subject.source_id();
            next.asset_id = asset_id;
            next.asset_path = asset_path;
            next.column_name = column_name;
            next.facts = serde_json::to_value(
                d.facts
                    .iter()
                    .map(crate::compliance::FactJson::from)
                    .collect::<Vec<_>>(),
            )
            .unwrap_or_default();
            next.evidence = crate::compliance::evidence_json(&d.evidence);
            next.detected_at = detected_at;
            next.last_detected_at = time;
            if status == "open" {
                next.resolved_at = None;
                next.resolution_change = None;
                next.resolution_evidence = None;
            }
            next.version = version;
            next.sequence = sequence;
            next.updated_at = time;
            row = Some(next);
            continue;
        }
        let Some(known) = row.as_mut() else {
            return Err(ProjectionError::BadEvent {
                projection: NAME,
                sequence: stored.sequence,
                reason: format!(
                    "event {} of violation {}: no detection of this violation came before it",
                    stored.event.id, live.id
                ),
            });
        };
        match event {
            ViolationEvent::ViolationResolved(r) => {
                known.status = "resolved".into();
                known.resolved_at = Some(time);
                known.resolution_change = Some(r.change.clone());
                known.resolution_evidence = Some(crate::compliance::evidence_json(&r.evidence));
                clear_acceptance(known);
            }
            ViolationEvent::ViolationAccepted(a) => {
                known.status = "accepted".into();
                known.accepted_by = Some(a.by.clone());
                known.accepted_reason = Some(a.reason.clone());
                known.accepted_at = Some(time);
                // As PostgreSQL keeps it (microseconds), like every time of the read models.
                known.accepted_until = Some(a.expires_at.trunc_subsecs(6));
            }
            ViolationEvent::AcceptanceExpired(_) => {
                known.status = "open".into();
                clear_acceptance(known);
            }
            ViolationEvent::ViolationDetected(_) => unreachable!("handled above"),
        }
        known.version = version;
        known.sequence = sequence;
        known.updated_at = time;
    }
    Ok(row.map(|mut row| {
        if row.status == "accepted" && row.accepted_until.is_some_and(|until| until <= at) {
            row.status = "open".into();
            clear_acceptance(&mut row);
        }
        row.as_of = Some(at);
        row
    }))
}

fn clear_acceptance(row: &mut ViolationRow) {
    row.accepted_by = None;
    row.accepted_reason = None;
    row.accepted_at = None;
    row.accepted_until = None;
}

/// Whether `scope` admits the asset as it stood (the rule of
/// [`visibility::asset_visible`](crate::visibility::asset_visible), on the folded row and labels
/// instead of the live tables): a caller whose roles reach an asset only under conditions must
/// not read a past state that the conditions exclude, such as labels since revoked.
pub fn admits(scope: &AssetScope, asset: &AssetAsOf) -> bool {
    let AssetScope::Only(conditions) = scope else {
        return true;
    };
    let strings = |value: Option<&Value>| -> Vec<String> {
        value
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let own = strings(Some(&asset.row.tags));
    let tags = if own.is_empty() {
        strings(asset.row.source_tags.as_ref())
    } else {
        own
    };
    let sensitivities: Vec<Sensitivity> = asset
        .labels
        .iter()
        .filter(|l| l.status != "rejected")
        .map(|l| AssetCondition::sensitivity_of(&l.label))
        .collect();
    conditions
        .iter()
        .any(|c| c.admits(asset.row.source_id, &tags, sensitivities.iter().copied()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const VIOLATION: &str = "4b4e52f3-d936-8be2-b771-2c98441dcd29";
    const SOURCE: &str = "01a24d92-e431-7208-abdb-3413076c9d88";

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, minute, 0).unwrap()
    }

    fn stored(version: u64, minute: u32, name: &str, data: Value) -> StoredEvent {
        StoredEvent {
            sequence: version * 10,
            event: eventlog::CloudEvent {
                specversion: "1.0".into(),
                id: uuid::Uuid::from_u128(version as u128),
                source: "/pursight/acme".into(),
                event_type: format!("io.pursight.{name}.v1"),
                subject: VIOLATION.into(),
                time: at(minute),
                datacontenttype: "application/json".into(),
                data,
                tenant: "acme".into(),
                aggregatetype: "violation".into(),
                aggregateid: VIOLATION.into(),
                aggregateversion: version,
                actor: "compliance".into(),
                commandid: "c".into(),
                correlationid: "c".into(),
                causationid: "c".into(),
                traceparent: None,
                prevhash: String::new(),
                hash: String::new(),
            },
        }
    }

    fn detected(version: u64, minute: u32, severity: &str) -> StoredEvent {
        stored(
            version,
            minute,
            "ViolationDetected",
            json!({
                "violation_id": VIOLATION, "rule_id": "gdpr-x", "rule_version": 1,
                "framework": "gdpr", "control": "GDPR Art. 32", "severity": severity,
                "subject": { "level": "source", "source_id": SOURCE },
                "facts": [], "evidence": [],
            }),
        )
    }

    fn accepted(version: u64, minute: u32, until: u32) -> StoredEvent {
        stored(
            version,
            minute,
            "ViolationAccepted",
            json!({ "violation_id": VIOLATION, "by": "ana", "reason": "control",
                    "expires_at": at(until) }),
        )
    }

    fn resolved(version: u64, minute: u32) -> StoredEvent {
        stored(
            version,
            minute,
            "ViolationResolved",
            json!({ "violation_id": VIOLATION, "change": "label.status", "evidence": [] }),
        )
    }

    /// The live row the fold starts from: only its rule texts and shape are used.
    fn live() -> ViolationRow {
        ViolationRow {
            id: uuid::Uuid::parse_str(VIOLATION).unwrap(),
            rule_id: "gdpr-x".into(),
            rule_version: 1,
            framework: "gdpr".into(),
            control: "GDPR Art. 32".into(),
            title: "Title".into(),
            remediation: "Remediation".into(),
            severity: "low".into(),
            severity_rank: 1,
            status: "resolved".into(),
            subject_level: "source".into(),
            source_id: uuid::Uuid::parse_str(SOURCE).unwrap(),
            asset_id: None,
            asset_path: None,
            column_name: None,
            facts: json!([]),
            evidence: json!([]),
            detected_at: at(0),
            last_detected_at: at(0),
            resolved_at: Some(at(50)),
            resolution_change: Some("x".into()),
            resolution_evidence: Some(json!([])),
            accepted_by: None,
            accepted_reason: None,
            accepted_at: None,
            accepted_until: None,
            version: 9,
            sequence: 90,
            updated_at: at(50),
            as_of: None,
        }
    }

    fn status(events: &[StoredEvent], minute: u32) -> Option<String> {
        fold_violation(events, &live(), at(minute))
            .unwrap()
            .map(|row| row.status)
    }

    #[test]
    fn a_violation_is_folded_to_each_state_it_held() {
        let events = [
            detected(1, 10, "high"),
            accepted(2, 20, 40),
            detected(3, 25, "critical"),
            resolved(4, 30),
        ];
        assert_eq!(status(&events, 5), None, "not detected yet");
        let open = fold_violation(&events, &live(), at(15)).unwrap().unwrap();
        assert_eq!(
            (open.status.as_str(), open.severity.as_str(), open.version),
            ("open", "high", 1)
        );
        assert_eq!((open.resolved_at, open.detected_at), (None, at(10)));
        assert_eq!(open.as_of, Some(at(15)));
        // Recorded again while accepted: still accepted, with the new finding, first detection
        // kept.
        let again = fold_violation(&events, &live(), at(27)).unwrap().unwrap();
        assert_eq!(again.status, "accepted");
        assert_eq!(again.severity, "critical");
        assert_eq!(again.detected_at, at(10));
        assert_eq!(again.accepted_until, Some(at(40)));
        let done = fold_violation(&events, &live(), at(35)).unwrap().unwrap();
        assert_eq!(done.status, "resolved");
        assert_eq!(done.resolved_at, Some(at(30)));
        assert_eq!(
            done.accepted_until, None,
            "a resolution ends the acceptance"
        );
        assert_eq!((done.version, done.sequence), (4, 40));
    }

    #[test]
    fn an_acceptance_past_its_expiry_counts_as_expired_whether_or_not_it_was_recorded() {
        let events = [detected(1, 10, "high"), accepted(2, 20, 40)];
        assert_eq!(status(&events, 39).as_deref(), Some("accepted"));
        let expired = fold_violation(&events, &live(), at(41)).unwrap().unwrap();
        assert_eq!(expired.status, "open");
        assert_eq!((expired.accepted_by, expired.accepted_until), (None, None));
        let recorded = [
            detected(1, 10, "high"),
            accepted(2, 20, 40),
            stored(
                3,
                42,
                "AcceptanceExpired",
                json!({ "violation_id": VIOLATION, "expired_at": at(42) }),
            ),
        ];
        assert_eq!(status(&recorded, 45).as_deref(), Some("open"));
        // After a resolution, a new detection opens it again with a new detection time.
        let reopened = [
            detected(1, 10, "high"),
            resolved(2, 20),
            detected(3, 30, "high"),
        ];
        let row = fold_violation(&reopened, &live(), at(35)).unwrap().unwrap();
        assert_eq!((row.status.as_str(), row.detected_at), ("open", at(30)));
        assert_eq!(row.resolved_at, None);
    }

    #[test]
    fn an_event_before_any_detection_is_refused() {
        let events = [accepted(1, 20, 40)];
        assert!(fold_violation(&events, &live(), at(30)).is_err());
    }
}
