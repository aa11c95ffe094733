//! The `catalog` read model: every discovered asset with its current schema and the history of
//! its changes, the labels of its columns (with status, confidence and explanation) and the
//! statistics of its last sample, and every scan with its progress and metrics.
//!
//! It also reads the glossary's term and link events, keeping what search needs of them
//! (`search_terms`, `search_term_links`) in its own schema, so that the search documents list
//! the terms linked to each asset and a rebuild of the catalog does not depend on how far the
//! `glossary` read model has got.

use crate::error::{DbContext, ProjectionError};
use crate::projection::{aggregate_uuid, decode, Projection};
use domain::asset::{Asset, AssetEvent};
use domain::discovery::AssetSchema;
use domain::glossary::{Glossary, GlossaryEvent};
use domain::rule_set::{ScanRuleSet, ScanRuleSetEvent};
use domain::scan::{Scan, ScanEvent};
use domain::Aggregate;
use eventlog::StoredEvent;
use futures::future::BoxFuture;
use sqlx::PgConnection;

pub const NAME: &str = "catalog";

/// The catalog projection.
pub struct Catalog;

impl Projection for Catalog {
    fn name(&self) -> &'static str {
        NAME
    }

    fn ddl(&self) -> &'static str {
        include_str!("catalog.sql")
    }

    fn aggregate_types(&self) -> Option<&'static [&'static str]> {
        Some(&[Asset::NAME, Scan::NAME, ScanRuleSet::NAME, Glossary::NAME])
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        stored: &'a StoredEvent,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let mut touched = Touched::default();
            apply_event(conn, stored, &mut touched).await?;
            touched.note(stored);
            touched.refresh(conn).await
        })
    }

    /// Every event as [`apply`](Projection::apply) does, then one rewrite of the search documents
    /// of the assets the batch touched (a scan labels many columns of one asset).
    fn apply_all<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let mut touched = Touched::default();
            for stored in events {
                apply_event(conn, stored, &mut touched).await?;
                touched.note(stored);
            }
            touched.refresh(conn).await
        })
    }
}

async fn apply_event(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    touched: &mut Touched,
) -> Result<(), ProjectionError> {
    // Queued labels are written before any other event applies, so that events keep their order.
    let queued_label = |event: &AssetEvent| {
        matches!(
            event,
            AssetEvent::AssetClassified(_) | AssetEvent::ClassificationSuggested(_)
        )
    };
    if stored.event.aggregatetype != Asset::NAME {
        touched.flush_labels(conn).await?;
    }
    match stored.event.aggregatetype.as_str() {
        Asset::NAME => {
            let event = decode(NAME, stored)?;
            if !queued_label(&event) {
                touched.flush_labels(conn).await?;
            }
            apply_asset(conn, stored, event, touched).await
        }
        Scan::NAME => apply_scan(conn, stored, decode(NAME, stored)?).await,
        ScanRuleSet::NAME => apply_rule_set(conn, stored, decode(NAME, stored)?).await,
        Glossary::NAME => apply_glossary(conn, stored, decode(NAME, stored)?, touched).await,
        _ => Ok(()),
    }
}

/// Glossary events as search needs them: each term's name and synonyms, and which assets (or
/// their columns) it is linked to. A link or unlink rewrites that asset's document; a change of
/// a term's synonyms rewrites the documents of every asset it is linked to. (A term's name never
/// changes: its id is derived from it.)
async fn apply_glossary(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    event: GlossaryEvent,
    touched: &mut Touched,
) -> Result<(), ProjectionError> {
    let tenant = &stored.event.tenant;
    match event {
        GlossaryEvent::TermDefined(e) => {
            sqlx::query(
                "INSERT INTO search_terms (tenant_id, term_id, name, synonyms) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant_id, term_id) DO UPDATE SET name = EXCLUDED.name, synonyms = EXCLUDED.synonyms",
            )
            .bind(tenant)
            .bind(e.term_id)
            .bind(&e.name)
            .bind(&e.content.synonyms)
            .execute(&mut *conn)
            .await
            .in_projection(NAME)?;
        }
        GlossaryEvent::TermChanged(e) => {
            let changed: Option<(Vec<String>,)> = sqlx::query_as(
                "UPDATE search_terms SET synonyms = $3
                 WHERE tenant_id = $1 AND term_id = $2 AND synonyms IS DISTINCT FROM $3
                 RETURNING synonyms",
            )
            .bind(tenant)
            .bind(e.term_id)
            .bind(&e.content.synonyms)
            .fetch_optional(&mut *conn)
            .await
            .in_projection(NAME)?;
            if changed.is_some() {
                let linked: Vec<(uuid::Uuid,)> = sqlx::query_as(
                    "SELECT DISTINCT asset_id FROM search_term_links WHERE tenant_id = $1 AND term_id = $2",
                )
                .bind(tenant)
                .bind(e.term_id)
                .fetch_all(&mut *conn)
                .await
                .in_projection(NAME)?;
                for (asset,) in linked {
                    touched.add(tenant, asset);
                }
            }
        }
        GlossaryEvent::TermApproved(_) | GlossaryEvent::TermDeprecated(_) => {}
        GlossaryEvent::TermLinked(e) => {
            sqlx::query(
                "INSERT INTO search_term_links (tenant_id, asset_id, column_key, term_id)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(e.asset_id.as_uuid())
            .bind(e.column.as_deref().unwrap_or(""))
            .bind(e.term_id)
            .execute(&mut *conn)
            .await
            .in_projection(NAME)?;
            touched.add(tenant, e.asset_id.as_uuid());
        }
        GlossaryEvent::TermUnlinked(e) => {
            sqlx::query(
                "DELETE FROM search_term_links
                 WHERE tenant_id = $1 AND asset_id = $2 AND column_key = $3 AND term_id = $4",
            )
            .bind(tenant)
            .bind(e.asset_id.as_uuid())
            .bind(e.column.as_deref().unwrap_or(""))
            .bind(e.term_id)
            .execute(&mut *conn)
            .await
            .in_projection(NAME)?;
            touched.add(tenant, e.asset_id.as_uuid());
        }
    }
    Ok(())
}

/// Asset events that change nothing a search document holds.
const NOT_SEARCHED: [&str; 4] = [
    "LineageRecorded",
    "LineageRetracted",
    "StatisticsChanged",
    "ColumnsProfiled",
];

/// What a batch leaves to do once all its events are applied: the assets (by tenant) whose
/// search documents it must rewrite, and the versions label and lineage events moved assets to
/// (one update per batch, not one per event: a classification records a dozen labels at once).
#[derive(Default)]
struct Touched {
    search: std::collections::BTreeMap<String, Vec<uuid::Uuid>>,
    versions: std::collections::BTreeMap<String, std::collections::BTreeMap<uuid::Uuid, i64>>,
    /// Applied and suggested labels not yet written: a run of them (one classification commit
    /// holds one per label found) is written by one statement ([`flush_labels`]).
    labels: Vec<LabelRow>,
    /// The keys (tenant, asset, column, label) of `labels`.
    queued: std::collections::HashSet<(String, uuid::Uuid, String, String)>,
}

/// One `column_labels` row an `AssetClassified` or `ClassificationSuggested` event writes.
struct LabelRow {
    tenant: String,
    asset: uuid::Uuid,
    column: String,
    label: String,
    status: &'static str,
    confidence: f64,
    signals: serde_json::Value,
    origin: serde_json::Value,
    rule_set: Option<serde_json::Value>,
    at: chrono::DateTime<chrono::Utc>,
    by: String,
}

impl Touched {
    fn note(&mut self, stored: &StoredEvent) {
        let e = &stored.event;
        if e.aggregatetype != Asset::NAME
            || e.name_and_version()
                .is_some_and(|(name, _)| NOT_SEARCHED.contains(&name))
        {
            return;
        }
        if let Ok(id) = uuid::Uuid::parse_str(&e.aggregateid) {
            self.add(&e.tenant, id);
        }
    }

    fn add(&mut self, tenant: &str, id: uuid::Uuid) {
        let ids = self.search.entry(tenant.to_owned()).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    /// The asset reached `stored`'s version (written by [`refresh`](Self::refresh)).
    fn version(&mut self, stored: &StoredEvent, id: uuid::Uuid) {
        let version = stored.event.aggregateversion as i64;
        let slot = self
            .versions
            .entry(stored.event.tenant.clone())
            .or_default()
            .entry(id)
            .or_insert(version);
        *slot = (*slot).max(version);
    }

    /// Queues a label row; a row for a key already queued first writes the queue (one
    /// statement may not upsert a row twice).
    async fn label(
        &mut self,
        conn: &mut PgConnection,
        row: LabelRow,
    ) -> Result<(), ProjectionError> {
        let key = (
            row.tenant.clone(),
            row.asset,
            row.column.clone(),
            row.label.clone(),
        );
        if self.queued.contains(&key) {
            self.flush_labels(conn).await?;
        }
        self.queued.insert(key);
        self.labels.push(row);
        Ok(())
    }

    /// Writes the queued label rows, in one statement.
    async fn flush_labels(&mut self, conn: &mut PgConnection) -> Result<(), ProjectionError> {
        if self.labels.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.labels);
        self.queued.clear();
        let mut tenants = Vec::with_capacity(rows.len());
        let mut assets = Vec::with_capacity(rows.len());
        let mut columns = Vec::with_capacity(rows.len());
        let mut labels = Vec::with_capacity(rows.len());
        let mut statuses = Vec::with_capacity(rows.len());
        let mut confidences = Vec::with_capacity(rows.len());
        let mut signals = Vec::with_capacity(rows.len());
        let mut origins = Vec::with_capacity(rows.len());
        let mut rule_sets = Vec::with_capacity(rows.len());
        let mut ats = Vec::with_capacity(rows.len());
        let mut bys = Vec::with_capacity(rows.len());
        for row in rows {
            tenants.push(row.tenant);
            assets.push(row.asset);
            columns.push(row.column);
            labels.push(row.label);
            statuses.push(row.status);
            confidences.push(row.confidence);
            signals.push(row.signals);
            origins.push(row.origin);
            rule_sets.push(row.rule_set);
            ats.push(row.at);
            bys.push(row.by);
        }
        sqlx::query(
            "INSERT INTO column_labels (tenant_id, asset_id, column_name, label, status, confidence, signals, origin,
                 rule_set, labelled_at, labelled_by)
             SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::float8[],
                 $7::jsonb[], $8::jsonb[], $9::jsonb[], $10::timestamptz[], $11::text[])
             ON CONFLICT (tenant_id, asset_id, column_name, label) DO UPDATE
                 SET status = EXCLUDED.status, confidence = EXCLUDED.confidence, signals = EXCLUDED.signals,
                     origin = EXCLUDED.origin, rule_set = EXCLUDED.rule_set, labelled_at = EXCLUDED.labelled_at,
                     labelled_by = EXCLUDED.labelled_by, reviewed_at = NULL, reviewed_by = NULL, review_note = NULL",
        )
        .bind(&tenants)
        .bind(&assets)
        .bind(&columns)
        .bind(&labels)
        .bind(&statuses)
        .bind(&confidences)
        .bind(&signals)
        .bind(&origins)
        .bind(&rule_sets)
        .bind(&ats)
        .bind(&bys)
        .execute(&mut *conn)
        .await
        .in_projection(NAME)?;
        Ok(())
    }

    async fn refresh(mut self, conn: &mut PgConnection) -> Result<(), ProjectionError> {
        self.flush_labels(conn).await?;
        // Never backwards: an event applied earlier in the batch (a metadata change) may have
        // set a later version already.
        for (tenant, versions) in self.versions {
            let (ids, versions): (Vec<uuid::Uuid>, Vec<i64>) = versions.into_iter().unzip();
            sqlx::query(
                "UPDATE assets a SET version = GREATEST(a.version, v.version)
                 FROM unnest($2::uuid[], $3::bigint[]) AS v(id, version)
                 WHERE a.tenant_id = $1 AND a.id = v.id",
            )
            .bind(&tenant)
            .bind(&ids)
            .bind(&versions)
            .execute(&mut *conn)
            .await
            .in_projection(NAME)?;
        }
        for (tenant, ids) in self.search {
            crate::search::refresh(conn, &tenant, &ids)
                .await
                .in_projection(NAME)?;
        }
        Ok(())
    }
}

async fn apply_asset(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    event: AssetEvent,
    touched: &mut Touched,
) -> Result<(), ProjectionError> {
    let e = &stored.event;
    let id = aggregate_uuid(NAME, stored)?;
    let version = e.aggregateversion as i64;
    let (change, scan_id, fingerprint, diff) = match &event {
        AssetEvent::SchemaDiscovered(d) => {
            upsert_schema(
                conn,
                stored,
                id,
                Some(d.source_id.as_uuid()),
                &d.schema,
                d.fingerprint.as_str(),
                d.scan_id.as_uuid(),
            )
            .await?;
            (
                "discovered",
                Some(d.scan_id.as_uuid()),
                Some(d.fingerprint.as_str().to_owned()),
                None,
            )
        }
        AssetEvent::SchemaChanged(c) => {
            upsert_schema(
                conn,
                stored,
                id,
                None,
                &c.schema,
                c.fingerprint.as_str(),
                c.scan_id.as_uuid(),
            )
            .await?;
            let diff = serde_json::to_value(&c.diff).unwrap_or_default();
            (
                "changed",
                Some(c.scan_id.as_uuid()),
                Some(c.fingerprint.as_str().to_owned()),
                Some(diff),
            )
        }
        AssetEvent::StatisticsChanged(st) => {
            // The schema document keeps the figures too, as a discovery leaves them there.
            let figures = serde_json::json!({
                "row_estimate": st.row_estimate,
                "size_bytes": st.size_bytes,
                "last_analyzed": st.last_analyzed,
            });
            sqlx::query(
                "UPDATE assets SET row_estimate = $3,
                     schema = (schema - 'row_estimate' - 'size_bytes' - 'last_analyzed') || jsonb_strip_nulls($4),
                     version = $5, updated_at = $6, last_scan_id = $7
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(&e.tenant)
            .bind(id)
            .bind(st.row_estimate)
            .bind(&figures)
            .bind(version)
            .bind(e.time)
            .bind(st.scan_id.as_uuid())
            .execute(&mut *conn)
            .await
            .in_projection(NAME)?;
            (
                "statistics",
                Some(st.scan_id.as_uuid()),
                None,
                Some(figures),
            )
        }
        AssetEvent::AssetRemoved(r) => {
            set_removed(conn, stored, id, true, r.scan_id.as_uuid()).await?;
            ("removed", Some(r.scan_id.as_uuid()), None, None)
        }
        AssetEvent::AssetRestored(r) => {
            set_removed(conn, stored, id, false, r.scan_id.as_uuid()).await?;
            ("restored", Some(r.scan_id.as_uuid()), None, None)
        }
        AssetEvent::AssetMetadataChanged(m) => {
            sqlx::query(
                "UPDATE assets SET owner = $3, tags = $4, description = $5, version = $6, updated_at = $7,
                     owner_kind = $8, owner_type = $9
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(&e.tenant)
            .bind(id)
            .bind(m.owner.as_ref().map(|o| o.name.as_str()))
            .bind(json(&m.tags))
            .bind(m.description.as_deref())
            .bind(version)
            .bind(e.time)
            .bind(m.owner.as_ref().map(|o| o.kind.as_str()))
            .bind(m.owner.as_ref().map(|o| o.owner_type.as_str()))
            .execute(&mut *conn)
            .await
            .in_projection(NAME)?;
            return Ok(());
        }
        // Lineage has its own read model; the asset's version still moves.
        AssetEvent::LineageRecorded(_) | AssetEvent::LineageRetracted(_) => {
            touched.version(stored, id);
            return Ok(());
        }
        other => {
            apply_label(conn, stored, id, other, touched).await?;
            touched.version(stored, id);
            return Ok(());
        }
    };
    sqlx::query(
        "INSERT INTO asset_changes (tenant_id, asset_id, version, sequence, scan_id, change, fingerprint, diff, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&e.tenant)
    .bind(id)
    .bind(version)
    .bind(stored.sequence as i64)
    .bind(scan_id)
    .bind(change)
    .bind(fingerprint)
    .bind(diff)
    .bind(e.time)
    .execute(&mut *conn)
    .await
    .in_projection(NAME)?;
    Ok(())
}

/// Profiles and label events: one row per (column, label), revoked labels deleted.
async fn apply_label(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    id: uuid::Uuid,
    event: &AssetEvent,
    touched: &mut Touched,
) -> Result<(), ProjectionError> {
    let e = &stored.event;
    // The two events that apply a label carry the same fields.
    macro_rules! label_row {
        ($l:expr, $status:expr) => {
            LabelRow {
                tenant: e.tenant.clone(),
                asset: id,
                column: $l.column.clone(),
                label: $l.label.as_str().to_owned(),
                status: $status,
                confidence: $l.confidence,
                signals: json(&$l.signals),
                origin: json(&$l.origin),
                rule_set: $l.rule_set.as_ref().map(json),
                at: e.time,
                by: e.actor.clone(),
            }
        };
    }
    let query = match event {
        AssetEvent::ColumnsProfiled(p) => sqlx::query(
            "INSERT INTO column_profiles (tenant_id, asset_id, rows, profiles, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id, asset_id) DO UPDATE
                 SET rows = EXCLUDED.rows, profiles = EXCLUDED.profiles, updated_at = EXCLUDED.updated_at",
        )
        .bind(e.tenant.clone())
        .bind(id)
        .bind(p.rows as i32)
        .bind(json(&p.profiles))
        .bind(e.time),
        AssetEvent::AssetClassified(l) => {
            return touched.label(conn, label_row!(l, "applied")).await;
        }
        AssetEvent::ClassificationSuggested(l) => {
            return touched.label(conn, label_row!(l, "suggested")).await;
        }
        AssetEvent::ClassificationConfirmed(r) => review(stored, id, &r.column, r.label.as_str(), "confirmed", r.note.as_deref()),
        AssetEvent::ClassificationRejected(r) => review(stored, id, &r.column, r.label.as_str(), "rejected", r.reason.as_deref()),
        AssetEvent::ClassificationRevoked(r) => sqlx::query(
            "DELETE FROM column_labels WHERE tenant_id = $1 AND asset_id = $2 AND column_name = $3 AND label = $4",
        )
        .bind(e.tenant.clone())
        .bind(id)
        .bind(r.column.clone())
        .bind(r.label.as_str().to_owned()),
        _ => return Ok(()),
    };
    query.execute(&mut *conn).await.in_projection(NAME)?;
    Ok(())
}

type PgQuery = sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments>;

fn review(
    stored: &StoredEvent,
    id: uuid::Uuid,
    column: &str,
    label: &str,
    status: &'static str,
    note: Option<&str>,
) -> PgQuery {
    let e = &stored.event;
    sqlx::query(
        "UPDATE column_labels SET status = $5, reviewed_at = $6, reviewed_by = $7, review_note = $8
         WHERE tenant_id = $1 AND asset_id = $2 AND column_name = $3 AND label = $4",
    )
    .bind(e.tenant.clone())
    .bind(id)
    .bind(column.to_owned())
    .bind(label.to_owned())
    .bind(status)
    .bind(e.time)
    .bind(e.actor.clone())
    .bind(note.map(str::to_owned))
}

/// An event part as JSON for a JSONB column (event parts always serialize).
fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
async fn upsert_schema(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    id: uuid::Uuid,
    source_id: Option<uuid::Uuid>,
    schema: &AssetSchema,
    fingerprint: &str,
    scan_id: uuid::Uuid,
) -> Result<(), ProjectionError> {
    let e = &stored.event;
    let schema_json = serde_json::to_value(schema).unwrap_or_default();
    let segments = serde_json::to_value(schema.path.segments()).unwrap_or_default();
    let kind = serde_json::to_value(schema.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    match source_id {
        Some(source_id) => sqlx::query(
            "INSERT INTO assets (tenant_id, id, source_id, path, path_segments, kind, name, schema, column_count,
                 fingerprint, row_estimate, removed, version, first_seen_at, updated_at, last_scan_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, false, $12, $13, $13, $14)",
        )
        .bind(&e.tenant)
        .bind(id)
        .bind(source_id)
        .bind(schema.path.to_string())
        .bind(segments)
        .bind(kind)
        .bind(schema.path.name())
        .bind(schema_json)
        .bind(schema.columns.len() as i32)
        .bind(fingerprint)
        .bind(schema.row_estimate)
        .bind(e.aggregateversion as i64)
        .bind(e.time)
        .bind(scan_id)
        .execute(&mut *conn)
        .await
        .in_projection(NAME)?,
        None => sqlx::query(
            "UPDATE assets SET schema = $3, column_count = $4, fingerprint = $5, row_estimate = $6, kind = $7,
                 version = $8, updated_at = $9, last_scan_id = $10
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&e.tenant)
        .bind(id)
        .bind(schema_json)
        .bind(schema.columns.len() as i32)
        .bind(fingerprint)
        .bind(schema.row_estimate)
        .bind(kind)
        .bind(e.aggregateversion as i64)
        .bind(e.time)
        .bind(scan_id)
        .execute(&mut *conn)
        .await
        .in_projection(NAME)?,
    };
    Ok(())
}

async fn set_removed(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    id: uuid::Uuid,
    removed: bool,
    scan_id: uuid::Uuid,
) -> Result<(), ProjectionError> {
    let e = &stored.event;
    sqlx::query(
        "UPDATE assets SET removed = $3, version = $4, updated_at = $5, last_scan_id = $6 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&e.tenant)
    .bind(id)
    .bind(removed)
    .bind(e.aggregateversion as i64)
    .bind(e.time)
    .bind(scan_id)
    .execute(&mut *conn)
    .await
    .in_projection(NAME)?;
    Ok(())
}

fn text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn apply_scan(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    event: ScanEvent,
) -> Result<(), ProjectionError> {
    let e = &stored.event;
    let id = aggregate_uuid(NAME, stored)?;
    let query = match &event {
        ScanEvent::ScanStarted(s) => sqlx::query(
            "INSERT INTO scans (tenant_id, id, source_id, status, strategy, current_strategy, scope, started_at, updated_at)
             VALUES ($1, $2, $3, 'running', $4, $5, $6, $7, $7)",
        )
        .bind(&e.tenant)
        .bind(id)
        .bind(s.source_id.as_uuid())
        .bind(text(&s.strategy))
        .bind(text(&s.strategy.initial()))
        .bind(serde_json::to_value(&s.scope).unwrap_or_default())
        .bind(e.time),
        ScanEvent::ScanProgressed(p) => sqlx::query(
            "UPDATE scans SET assets_done = $3, assets_total = $4, current_strategy = $5, updated_at = $6
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&e.tenant)
        .bind(id)
        .bind(p.assets_done as i64)
        .bind(p.assets_total.map(|t| t as i64))
        .bind(text(&p.current_strategy))
        .bind(e.time),
        ScanEvent::ScanCompleted(c) => sqlx::query(
            "UPDATE scans SET status = 'completed', metrics = $3, finished_at = $4, updated_at = $4
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&e.tenant)
        .bind(id)
        .bind(serde_json::to_value(c.metrics).unwrap_or_default())
        .bind(e.time),
        ScanEvent::ScanFailed(f) => sqlx::query(
            "UPDATE scans SET status = 'failed', metrics = $3, failure = $4, finished_at = $5, updated_at = $5
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&e.tenant)
        .bind(id)
        .bind(serde_json::to_value(f.metrics).unwrap_or_default())
        .bind(f.reason.clone())
        .bind(e.time),
    };
    query.execute(&mut *conn).await.in_projection(NAME)?;
    Ok(())
}

async fn apply_rule_set(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    event: ScanRuleSetEvent,
) -> Result<(), ProjectionError> {
    let e = &stored.event;
    let id = aggregate_uuid(NAME, stored)?;
    let (version, definition) = match &event {
        ScanRuleSetEvent::ScanRuleSetCreated(c) => (1, &c.definition),
        ScanRuleSetEvent::ScanRuleSetUpdated(u) => (u.version as i64, &u.definition),
        ScanRuleSetEvent::ScanRuleSetArchived(_) => {
            sqlx::query(
                "UPDATE scan_rule_sets SET archived = true, updated_at = $3, updated_by = $4
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(&e.tenant)
            .bind(id)
            .bind(e.time)
            .bind(&e.actor)
            .execute(&mut *conn)
            .await
            .in_projection(NAME)?;
            return Ok(());
        }
    };
    sqlx::query(
        "INSERT INTO scan_rule_sets (tenant_id, id, name, version, definition, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tenant_id, id) DO UPDATE SET name = EXCLUDED.name, version = EXCLUDED.version,
             definition = EXCLUDED.definition, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by",
    )
    .bind(&e.tenant)
    .bind(id)
    .bind(&definition.name)
    .bind(version)
    .bind(json(definition))
    .bind(e.time)
    .bind(&e.actor)
    .execute(&mut *conn)
    .await
    .in_projection(NAME)?;
    Ok(())
}

/// One asset row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssetRow {
    pub id: uuid::Uuid,
    pub source_id: uuid::Uuid,
    pub path: String,
    pub kind: String,
    pub name: String,
    pub schema: serde_json::Value,
    pub column_count: i32,
    pub fingerprint: String,
    pub row_estimate: Option<i64>,
    pub removed: bool,
    pub version: i64,
    pub first_seen_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// The asset's own owner (its name, kind and type), tags and description (unset: none, `[]`).
    pub owner: Option<String>,
    pub owner_kind: Option<String>,
    pub owner_type: Option<String>,
    pub tags: serde_json::Value,
    pub description: Option<String>,
    /// Its source's owner, tags and description (from the `data_sources` read model), which the
    /// asset inherits where it has none of its own; none when that read model has no row.
    pub source_owner: Option<String>,
    /// Its source's owner's kind and type; none for an owner recorded before owners were typed
    /// (until the `data_sources` read model is rebuilt).
    pub source_owner_kind: Option<String>,
    pub source_owner_type: Option<String>,
    pub source_tags: Option<serde_json::Value>,
    pub source_description: Option<String>,
    /// Set on a row folded from the stream as it stood at a past time (see
    /// [`as_of_read`](crate::as_of_read)): that time and the labels the asset had then. Fields
    /// that read other tables answer as of that time too.
    #[sqlx(skip)]
    pub as_of: Option<AsOf>,
}

/// A past state's time and the labels the asset had then.
#[derive(Debug, Clone)]
pub struct AsOf {
    pub at: chrono::DateTime<chrono::Utc>,
    pub labels: std::sync::Arc<[crate::labels::LabelRow]>,
}

/// The asset's columns and its source's metadata, read beside it from the `data_sources` read
/// model (`s`).
pub(crate) const ASSET_COLUMNS: &str =
    "a.id, a.source_id, a.path, a.kind, a.name, a.schema, a.column_count, a.fingerprint, a.row_estimate,
    a.removed, a.version, a.first_seen_at, a.updated_at, a.owner, a.owner_kind, a.owner_type,
    a.tags, a.description,
    COALESCE(s.config->'owner'->>'name', s.config->>'owner') AS source_owner,
    s.config->'owner'->>'kind' AS source_owner_kind, s.config->'owner'->>'type' AS source_owner_type,
    s.config->'tags' AS source_tags,
    s.config->>'description' AS source_description";

/// The assets table with each asset's source beside it.
pub(crate) const ASSETS_WITH_SOURCE: &str =
    "rm_catalog.assets a LEFT JOIN rm_data_sources.data_sources s
    ON s.tenant_id = a.tenant_id AND s.id = a.source_id";

/// Filters for [`assets`].
#[derive(Debug, Clone, Default)]
pub struct AssetFilter {
    pub source_id: Option<uuid::Uuid>,
    /// Case-insensitive part of the path.
    pub search: Option<String>,
    pub include_removed: bool,
    /// Keyset cursor: the path of the last asset of the previous page.
    pub after: Option<String>,
    pub limit: i64,
    /// Only assets in this scope ([`crate::visibility::scope_param`]); `None`: every asset.
    pub scope: Option<serde_json::Value>,
}

/// A tenant's assets ordered by path.
pub async fn assets(
    pool: &sqlx::PgPool,
    tenant: &str,
    filter: &AssetFilter,
) -> Result<Vec<AssetRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {ASSET_COLUMNS} FROM {ASSETS_WITH_SOURCE}
         WHERE a.tenant_id = $1
           AND ($2::uuid IS NULL OR a.source_id = $2)
           AND ($3::text IS NULL OR a.path ILIKE '%' || $3 || '%')
           AND ($4 OR NOT a.removed)
           AND ($5::text IS NULL OR a.path > $5)
           AND {visible}
         ORDER BY a.path LIMIT $6",
        visible = crate::visibility::when_scoped(7, filter.scope.as_ref(), || {
            crate::visibility::asset_visible("a", 7)
        })
    ))
    .bind(tenant)
    .bind(filter.source_id)
    .bind(filter.search.as_deref())
    .bind(filter.include_removed)
    .bind(filter.after.as_deref())
    .bind(filter.limit)
    .bind(filter.scope.as_ref())
    .fetch_all(pool)
    .await
}

/// One asset, if it is in `scope` ([`crate::visibility::scope_param`]; `None`: every asset).
pub async fn asset(
    pool: &sqlx::PgPool,
    tenant: &str,
    id: uuid::Uuid,
    scope: Option<&serde_json::Value>,
) -> Result<Option<AssetRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {ASSET_COLUMNS} FROM {ASSETS_WITH_SOURCE} WHERE a.tenant_id = $1 AND a.id = $2
           AND {visible}",
        visible =
            crate::visibility::when_scoped(3, scope, || crate::visibility::asset_visible("a", 3))
    ))
    .bind(tenant)
    .bind(id)
    .bind(scope)
    .fetch_optional(pool)
    .await
}

/// The assets of `tenant` among `ids`, in no particular order (the caller has already judged
/// which it may read, e.g. a search that filtered by scope).
pub async fn assets_by_ids(
    pool: &sqlx::PgPool,
    tenant: &str,
    ids: &[uuid::Uuid],
) -> Result<Vec<AssetRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {ASSET_COLUMNS} FROM {ASSETS_WITH_SOURCE} WHERE a.tenant_id = $1 AND a.id = ANY($2)"
    ))
    .bind(tenant)
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// Every asset id and path of a source (removed ones included), for removal detection.
pub async fn source_asset_paths(
    pool: &sqlx::PgPool,
    tenant: &str,
    source: uuid::Uuid,
) -> Result<Vec<(uuid::Uuid, serde_json::Value)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT id, path_segments FROM rm_{NAME}.assets WHERE tenant_id = $1 AND source_id = $2"
    ))
    .bind(tenant)
    .bind(source)
    .fetch_all(pool)
    .await
}

/// One change of an asset's schema.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssetChangeRow {
    pub version: i64,
    pub sequence: i64,
    pub scan_id: Option<uuid::Uuid>,
    pub change: String,
    pub fingerprint: Option<String>,
    pub diff: Option<serde_json::Value>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// An asset's schema history, oldest first.
pub async fn asset_changes(
    pool: &sqlx::PgPool,
    tenant: &str,
    id: uuid::Uuid,
) -> Result<Vec<AssetChangeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT version, sequence, scan_id, change, fingerprint, diff, at FROM rm_{NAME}.asset_changes
         WHERE tenant_id = $1 AND asset_id = $2 ORDER BY version"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_all(pool)
    .await
}

/// One scan row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScanRow {
    pub id: uuid::Uuid,
    pub source_id: uuid::Uuid,
    pub status: String,
    pub strategy: String,
    pub current_strategy: String,
    pub scope: serde_json::Value,
    pub assets_done: i64,
    pub assets_total: Option<i64>,
    pub metrics: Option<serde_json::Value>,
    pub failure: Option<String>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A source's scans, newest first (all sources when `source` is None).
pub async fn scans(
    pool: &sqlx::PgPool,
    tenant: &str,
    source: Option<uuid::Uuid>,
    limit: i64,
) -> Result<Vec<ScanRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT id, source_id, status, strategy, current_strategy, scope, assets_done, assets_total, metrics,
                failure, started_at, finished_at
         FROM rm_{NAME}.scans WHERE tenant_id = $1 AND ($2::uuid IS NULL OR source_id = $2)
         ORDER BY started_at DESC, id DESC LIMIT $3"
    ))
    .bind(tenant)
    .bind(source)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Every scan still marked running, across tenants: `(tenant, scan id, source id)`.
pub async fn running_scans(
    pool: &sqlx::PgPool,
) -> Result<Vec<(String, uuid::Uuid, uuid::Uuid)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT tenant_id, id, source_id FROM rm_{NAME}.scans WHERE status = 'running' ORDER BY started_at"
    ))
    .fetch_all(pool)
    .await
}
