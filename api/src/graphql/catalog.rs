//! The catalog part of the API: connection validation, scans, discovered assets, their schema
//! history and lineage.

use super::errors::{command_error, internal};
use super::query::parse_id;
use super::{api_error, authorize, Services};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Enum, InputObject, Json, Object, Result, SimpleObject, ID};
use commands::classify::FeedbackSource;
use commands::workflows::{AssetList, KnownAssets, ScanReport, ValidationReport};
use commands::CommandContext;
use domain::access::Permission;
use domain::asset::{AssetMetadata, EffectiveMetadata};
use domain::classification::FeedbackModel;
use domain::datasource::DataSourceCommand;
use domain::discovery::{
    AssetPath, Partitioning, Routine, SequenceSchema, TriggerSchema, UserType,
};
use domain::scan::{ScanScope, ScanStrategy};
use domain::{AggregateId, TenantId};
use projections::catalog::{self, AssetRow, ScanRow};
use projections::labels::LabelRow;
use projections::lineage::{self, Direction};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// The result of a connection test.
#[derive(SimpleObject)]
pub struct ConnectionCheck {
    /// Whether the connection and a trivial query succeeded.
    pub ok: bool,
    /// Round trip of the test query, in milliseconds, when it succeeded.
    pub latency_ms: Option<i64>,
    /// The server's version string, when the protocol tells it.
    pub server_version: Option<String>,
    /// unreachable, auth, tls, timeout or config — when it failed.
    pub category: Option<String>,
    /// What went wrong, without secrets.
    pub message: Option<String>,
    /// The source's lifecycle state afterwards.
    pub lifecycle_state: String,
    /// Whether the result moved the lifecycle (it does while the source is being configured).
    pub recorded: bool,
}

impl From<ValidationReport> for ConnectionCheck {
    fn from(report: ValidationReport) -> Self {
        let (ok, latency_ms, server_version, category, message) = match report.result {
            Ok(info) => (
                true,
                Some(info.latency_ms as i64),
                info.server_version,
                None,
                None,
            ),
            Err(failure) => (
                false,
                None,
                None,
                Some(failure.category.as_str().to_owned()),
                Some(failure.message),
            ),
        };
        Self {
            ok,
            latency_ms,
            server_version,
            category,
            message,
            lifecycle_state: report.lifecycle.as_str().to_owned(),
            recorded: report.recorded,
        }
    }
}

/// How aggressively a scan reads the source.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ScanStrategyGql {
    /// One connection, small batches: for fragile or busy production systems.
    Conservative,
    Balanced,
    /// More connections and bigger batches.
    Aggressive,
    /// Starts balanced and moves on measured latency and errors.
    Auto,
}

impl From<ScanStrategyGql> for ScanStrategy {
    fn from(value: ScanStrategyGql) -> Self {
        match value {
            ScanStrategyGql::Conservative => ScanStrategy::Conservative,
            ScanStrategyGql::Balanced => ScanStrategy::Balanced,
            ScanStrategyGql::Aggressive => ScanStrategy::Aggressive,
            ScanStrategyGql::Auto => ScanStrategy::Auto,
        }
    }
}

/// Which assets a scan covers: patterns over asset paths (`db.schema.table`); `*` matches within
/// one segment, `**` across segments; excludes win; no includes means everything.
#[derive(InputObject, Default)]
pub struct ScanScopeInput {
    #[graphql(default)]
    /// Include patterns; none means everything.
    pub include: Vec<String>,
    #[graphql(default)]
    /// Exclude patterns; they win over includes.
    pub exclude: Vec<String>,
}

/// A scan: progress while it runs, metrics when it ended.
pub struct ScanInfo(pub ScanRow);

#[Object]
impl ScanInfo {
    /// Scan id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The scanned source.
    async fn source_id(&self) -> ID {
        ID(self.0.source_id.to_string())
    }
    /// running, completed or failed.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// The strategy asked for.
    async fn strategy(&self) -> &str {
        &self.0.strategy
    }
    /// The strategy in use (may move under auto).
    async fn current_strategy(&self) -> &str {
        &self.0.current_strategy
    }
    /// The scan's scope (include/exclude patterns).
    async fn scope(&self) -> Json<Value> {
        Json(self.0.scope.clone())
    }
    /// Assets discovered so far.
    async fn assets_done(&self) -> i64 {
        self.0.assets_done
    }
    /// Assets to discover, once known.
    async fn assets_total(&self) -> Option<i64> {
        self.0.assets_total
    }
    /// duration_ms, schemas, tables, views, columns, assets_changed, assets_removed,
    /// queries_executed, retries, errors, cache_hits. Null for a caller whose roles reach
    /// assets only under conditions: they count every asset of the source (see `startScan`).
    async fn metrics(&self, ctx: &Context<'_>) -> Result<Option<Json<Value>>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        if super::visibility::scope(caller).is_some() {
            return Ok(None);
        }
        Ok(self.0.metrics.clone().map(Json))
    }
    /// Why it failed, if it did.
    async fn failure(&self) -> Option<&str> {
        self.0.failure.as_deref()
    }
    /// When it started.
    async fn started_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.started_at
    }
    /// When it ended.
    async fn finished_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.finished_at
    }
}

/// What `startScan` did.
#[derive(SimpleObject)]
pub struct ScanStart {
    /// The new scan's id (follow it with `scans`). A retry with the same `commandId` returns the
    /// same id and starts nothing.
    pub scan_id: ID,
    /// With `waitForCompletion`: the outcome.
    pub completed: bool,
    /// With `waitForCompletion`: why the scan failed, if it did.
    pub failure: Option<String>,
    /// With `waitForCompletion`: assets that were new, changed or restored.
    pub assets_changed: Option<i64>,
    /// With `waitForCompletion`: assets in scope that are gone.
    pub assets_removed: Option<i64>,
    /// With `waitForCompletion`: the scan's metrics (see `ScanInfo.metrics`).
    pub metrics: Option<Json<Value>>,
    /// With `waitForCompletion`: columns classified after the scan (every scan is followed by
    /// classification; see `columnLabels` and `reviewQueue`).
    pub classified_columns: Option<i64>,
    /// With `waitForCompletion`: why the classification after the scan failed, if it did (the
    /// scan's results stand; run `startClassification` again).
    pub classification_failure: Option<String>,
}

impl ScanStart {
    /// For a caller whose roles reach assets only under conditions (one may hold an
    /// unconditional role that runs scans beside a conditional reader): the counts and metrics
    /// cover every asset of the source, those out of its reach included, and a scan does not
    /// keep which assets it changed, so they cannot be narrowed to its reach — they are left
    /// out (null). `assets`, `scans` and `columnLabels` then answer within its reach.
    fn withhold_counts(&mut self) {
        self.assets_changed = None;
        self.assets_removed = None;
        self.metrics = None;
        self.classified_columns = None;
    }

    /// A scan that runs (or ran) without this request waiting for it.
    fn not_waited_for(scan_id: AggregateId) -> Self {
        Self {
            scan_id: ID(scan_id.to_string()),
            completed: false,
            failure: None,
            assets_changed: None,
            assets_removed: None,
            metrics: None,
            classified_columns: None,
            classification_failure: None,
        }
    }
}

/// A column (or inferred field) of an asset.
#[derive(SimpleObject)]
pub struct Column {
    /// Its labels (applied, suggested, confirmed, rejected) with their explanations.
    pub labels: Vec<super::classification::ColumnLabelGql>,
    /// Column or field name.
    pub name: String,
    /// The engine's type, e.g. `character varying(255)`; for inferred fields types joined with `|`.
    pub data_type: String,
    /// Whether it may be null (or missing, for inferred fields).
    pub nullable: bool,
    /// Default expression, if any.
    pub default: Option<String>,
    /// Part of the primary key.
    pub primary_key: bool,
    /// 1-based position.
    pub ordinal: i64,
    /// The column's comment in the source.
    pub comment: Option<String>,
    /// The user-defined type (enum, domain, composite) the column is of, also through an array
    /// of it: the path of that `type` asset.
    pub type_ref: Option<String>,
    /// Id of that `type` asset (`asset(id)` shows its values, base type and checks).
    pub type_asset_id: Option<ID>,
}

/// Loads the column labels of the assets whose `columns` are resolved at about the same time (a
/// request's list of assets, or concurrent requests) in one query instead of one per asset. Keys
/// carry the tenant and each label is matched on its own tenant, so requests of different
/// tenants may share a batch. Nothing is cached: each load reads the read model as it is.
pub(crate) struct ColumnLabelsLoader {
    pub pool: sqlx::PgPool,
}

impl Loader<(String, uuid::Uuid)> for ColumnLabelsLoader {
    type Value = Arc<[LabelRow]>;
    type Error = Arc<sqlx::Error>;

    async fn load(
        &self,
        keys: &[(String, uuid::Uuid)],
    ) -> Result<HashMap<(String, uuid::Uuid), Self::Value>, Self::Error> {
        let labels = projections::labels::labels_of_assets(&self.pool, keys)
            .await
            .map_err(Arc::new)?;
        Ok(labels
            .into_iter()
            .map(|(key, rows)| (key, rows.into()))
            .collect())
    }
}

/// A discovered asset: database, schema, table, view, collection, key pattern or prefix.
pub struct AssetGql(pub AssetRow);

#[Object(name = "Asset")]
impl AssetGql {
    /// Stable id: the same path in the same source always has the same id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The data source it belongs to.
    async fn source_id(&self) -> ID {
        ID(self.0.source_id.to_string())
    }
    /// e.g. `orders_db.public.customers`.
    async fn path(&self) -> &str {
        &self.0.path
    }
    /// database, schema, table, partitioned_table, view, materialized_view, collection,
    /// redis_key_pattern, s3_prefix, type (user-defined: enum, domain, composite), routine
    /// (function or procedure) or sequence.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// Last path segment.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Columns (or inferred fields), in order, each with its labels.
    async fn columns(&self, ctx: &Context<'_>) -> Result<Vec<Column>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let labels = match &self.0.as_of {
            Some(as_of) => as_of.labels.clone(),
            None => ctx
                .data_unchecked::<DataLoader<ColumnLabelsLoader>>()
                .load_one((caller.tenant.as_str().to_owned(), self.0.id))
                .await
                .map_err(|err| internal(&*err))?
                .unwrap_or_default(),
        };
        let mut by_column: HashMap<&str, Vec<super::classification::ColumnLabelGql>> =
            HashMap::new();
        for label in labels.iter() {
            by_column
                .entry(label.column_name.as_str())
                .or_default()
                .push(super::classification::ColumnLabelGql(label.clone()));
        }
        Ok(self.0.schema["columns"]
            .as_array()
            .map(|columns| {
                columns
                    .iter()
                    .map(|c| {
                        let name = c["name"].as_str().unwrap_or_default();
                        let type_ref: Option<AssetPath> =
                            serde_json::from_value(c["type_ref"].clone()).ok();
                        Column {
                            type_asset_id: type_ref
                                .as_ref()
                                .map(|p| super::asset_details::asset_id(self.0.source_id, p)),
                            type_ref: type_ref.map(|p| p.to_string()),
                            labels: by_column.remove(name).unwrap_or_default(),
                            name: name.to_owned(),
                            data_type: c["data_type"].as_str().unwrap_or_default().to_owned(),
                            nullable: c["nullable"].as_bool().unwrap_or(true),
                            default: c["default"].as_str().map(str::to_owned),
                            primary_key: c["primary_key"].as_bool().unwrap_or(false),
                            ordinal: c["ordinal"].as_i64().unwrap_or_default(),
                            comment: c["comment"].as_str().map(str::to_owned),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
    /// Number of columns.
    async fn column_count(&self) -> i32 {
        self.0.column_count
    }
    /// Foreign keys: name, columns, referenced path and columns.
    async fn foreign_keys(&self) -> Json<Value> {
        Json(self.0.schema["foreign_keys"].clone())
    }
    /// Indexes: name, columns (key order), unique, primary, and method (`btree`, `hash`,
    /// `gist`, `gin`, `brin`, `spgist` on PostgreSQL; `BTREE`, `HASH`, `FULLTEXT`, `SPATIAL` on
    /// MySQL; absent where the engine does not say).
    async fn indexes(&self) -> Json<Value> {
        Json(self.0.schema["indexes"].clone())
    }
    /// Size on disk in bytes as the engine last counted it: PostgreSQL the pages of the table,
    /// its TOAST table and indexes at the last `VACUUM`/`ANALYZE` (of a partitioned table: of all
    /// its partitions), MySQL `DATA_LENGTH + INDEX_LENGTH`. Refreshed by every scan; recorded
    /// when it moved by more than the statistics threshold (10 % by default).
    async fn size_bytes(&self) -> Option<i64> {
        self.0.schema["size_bytes"].as_i64()
    }
    /// When the engine last analyzed the table (`ANALYZE`, autovacuum); refreshed with the other
    /// statistics.
    async fn last_analyzed_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        serde_json::from_value(self.0.schema["last_analyzed"].clone()).ok()
    }
    /// Of a materialized view: whether it holds data. An unpopulated one (created `WITH NO
    /// DATA`, never refreshed) is not sampled for classification until a scan sees it populated.
    async fn populated(&self) -> Option<bool> {
        self.0.schema["populated"].as_bool()
    }
    /// Of a partitioned table: strategy, key and every partition with its bound.
    async fn partitioning(&self) -> Option<super::asset_details::PartitioningGql> {
        super::asset_details::part::<Partitioning>(&self.0.schema, "partitioning").map(Into::into)
    }
    /// The triggers on a table or view, by name.
    async fn triggers(&self) -> Vec<super::asset_details::TriggerGql> {
        super::asset_details::part::<Vec<TriggerSchema>>(&self.0.schema, "triggers")
            .unwrap_or_default()
            .into_iter()
            .map(|t| super::asset_details::TriggerGql::of(self.0.source_id, t))
            .collect()
    }
    /// Of a `type` asset: enum values, a domain's base type and checks, a composite type's
    /// attributes.
    async fn user_type(&self) -> Option<super::asset_details::UserTypeGql> {
        super::asset_details::part::<UserType>(&self.0.schema, "user_type").map(Into::into)
    }
    /// Of a `routine` asset: kind, arguments, return type, language and (SQL) body.
    async fn routine(&self) -> Option<super::asset_details::RoutineGql> {
        super::asset_details::part::<Routine>(&self.0.schema, "routine").map(Into::into)
    }
    /// Of a `sequence` asset: data type, start, increment, bounds, cycle and owning column.
    async fn sequence(&self) -> Option<super::asset_details::SequenceGql> {
        super::asset_details::part::<SequenceSchema>(&self.0.schema, "sequence")
            .map(|s| super::asset_details::SequenceGql::of(self.0.source_id, s))
    }
    /// The asset's comment in the source.
    async fn comment(&self) -> Option<String> {
        self.0.schema["comment"].as_str().map(str::to_owned)
    }
    /// The SQL of a view.
    async fn view_definition(&self) -> Option<String> {
        self.0.schema["view_definition"].as_str().map(str::to_owned)
    }
    /// The engine's estimate of the number of rows (PostgreSQL `reltuples`, known after the
    /// first `ANALYZE` or `VACUUM`; of a partitioned table, the sum over its partitions).
    /// Refreshed by every scan; recorded when it moved by more than the statistics threshold.
    async fn row_estimate(&self) -> Option<i64> {
        self.0.row_estimate
    }
    /// Content hash of the schema; changes exactly when the schema does.
    async fn fingerprint(&self) -> &str {
        &self.0.fingerprint
    }
    /// Gone from the source as of the last scan that covered it.
    async fn removed(&self) -> bool {
        self.0.removed
    }
    /// Number of events in its history.
    async fn version(&self) -> i64 {
        self.0.version
    }
    /// When a scan first found it.
    async fn first_seen_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.first_seen_at
    }
    /// Last change.
    async fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.updated_at
    }
    /// Who answers for the asset (the name): its own owner (`updateAssetMetadata`), else its
    /// source's.
    async fn owner(&self) -> Option<String> {
        self.metadata().owner.map(|o| o.name)
    }
    /// The same owner with its kind (person or team) and type (technical, business, steward);
    /// kind and type are null for a source owner recorded before owners were typed.
    async fn owner_details(&self) -> Option<super::owner_types::OwnerGql> {
        use super::owner_types::owner_from_columns;
        let r = &self.0;
        match &r.owner {
            Some(name) => {
                owner_from_columns(Some(name), r.owner_kind.as_deref(), r.owner_type.as_deref())
            }
            None => owner_from_columns(
                r.source_owner.as_deref(),
                r.source_owner_kind.as_deref(),
                r.source_owner_type.as_deref(),
            ),
        }
    }
    /// Whether `owner` is the source's (the asset has none of its own).
    async fn owner_inherited(&self) -> bool {
        self.metadata().owner_inherited
    }
    /// Its `key:value` tags (e.g. `purpose:billing`, `retention:7y`): its own, else its source's.
    async fn tags(&self) -> Vec<String> {
        self.metadata().tags
    }
    /// Whether `tags` are the source's (the asset has none of its own).
    async fn tags_inherited(&self) -> bool {
        self.metadata().tags_inherited
    }
    /// What it holds and why: its own description, else its source's.
    async fn description(&self) -> Option<String> {
        self.metadata().description
    }
    /// Whether `description` is the source's (the asset has none of its own).
    async fn description_inherited(&self) -> bool {
        self.metadata().description_inherited
    }
    /// The glossary terms linked to the asset or its columns (the asset's own first, then by
    /// column), by name.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn terms(&self, ctx: &Context<'_>) -> Result<Vec<super::glossary::AssetTerm>> {
        super::glossary::asset_terms(ctx, self.0.id).await
    }
    /// Every change of the schema, oldest first: discovered, changed (with the diff), removed,
    /// restored.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<AssetChange>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let rows = catalog::asset_changes(&services.pool, caller.tenant.as_str(), self.0.id)
            .await
            .map_err(|err| internal(&err))?;
        let until = self.0.as_of.as_ref().map(|a| a.at);
        Ok(rows
            .into_iter()
            .filter(|r| until.is_none_or(|at| r.at <= at))
            .map(|r| AssetChange {
                version: r.version,
                sequence: r.sequence,
                scan_id: r.scan_id.map(|id| ID(id.to_string())),
                change: r.change,
                fingerprint: r.fingerprint,
                diff: r.diff.map(Json),
                at: r.at,
            })
            .collect())
    }
}

impl AssetGql {
    /// The effective metadata: each field the asset's own, else its source's.
    fn metadata(&self) -> EffectiveMetadata {
        // Only the owner's name is read through here; `owner_details` reads its kind and type.
        let own = AssetMetadata {
            owner: self.0.owner.clone().map(domain::owner::Owner::untyped),
            tags: strings(&self.0.tags),
            description: self.0.description.clone(),
        };
        let source = AssetMetadata {
            owner: self
                .0
                .source_owner
                .clone()
                .map(domain::owner::Owner::untyped),
            tags: self.0.source_tags.as_ref().map(strings).unwrap_or_default(),
            description: self.0.source_description.clone(),
        };
        EffectiveMetadata::of(&own, &source)
    }
}

/// One change in an asset's history.
#[derive(SimpleObject)]
pub struct AssetChange {
    /// The asset's version after this change.
    pub version: i64,
    /// Stream sequence of the change.
    pub sequence: i64,
    /// The scan that saw it.
    pub scan_id: Option<ID>,
    /// discovered, changed, statistics (row estimate, size or analysis time moved beyond the
    /// threshold), removed or restored.
    pub change: String,
    /// The schema's fingerprint after the change.
    pub fingerprint: Option<String>,
    /// For `changed`: added/removed/changed columns, keys, indexes and partitions, and flags for
    /// the comment, view definition, kind and the kind's own details; for `statistics`:
    /// `row_estimate`, `size_bytes`, `last_analyzed`.
    pub diff: Option<Json<Value>>,
    /// When it was recorded.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Walk direction for lineage.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LineageDirection {
    Upstream,
    Downstream,
    Both,
}

/// One lineage edge: data flows from `from` to `to`.
#[derive(SimpleObject)]
#[graphql(name = "LineageEdge")]
pub struct LineageEdgeGql {
    /// The upstream asset.
    pub from_asset_id: ID,
    /// Path of the upstream asset.
    pub from_path: String,
    /// Empty for a table-level edge.
    pub from_columns: Vec<String>,
    /// The downstream asset.
    pub to_asset_id: ID,
    /// Path of the downstream asset.
    pub to_path: String,
    /// Downstream columns; empty for a table-level edge.
    pub to_columns: Vec<String>,
    /// foreign_key, view or routine (a SQL routine's body reads `from`), or openlineage (a run
    /// of `job` reported it through `POST /api/v1/lineage`).
    pub kind: String,
    /// OpenLineage edges: the namespace of the job whose runs reported it; null otherwise.
    pub job_namespace: Option<String>,
    /// OpenLineage edges: the name of the job whose runs reported it; null otherwise.
    pub job_name: Option<String>,
    /// OpenLineage edges: the earliest `eventTime` of a run that reported it; null otherwise.
    pub first_seen: Option<chrono::DateTime<chrono::Utc>>,
    /// OpenLineage edges: the latest `eventTime` of a run that reported it; null otherwise.
    pub last_seen: Option<chrono::DateTime<chrono::Utc>>,
    /// The upstream end is an external dataset: named by an OpenLineage event but matched to no
    /// discovered asset (`fromPath` is then `namespace/name`, `fromAssetId` a derived id).
    pub from_external: bool,
    /// The downstream end is an external dataset (see `fromExternal`).
    pub to_external: bool,
    /// OpenLineage edges: the job's latest COMPLETE run that reported lineage did not report this
    /// edge, nor did any event since — the job stopped reading or writing here (`lastSeen` says
    /// when it last did).
    pub stale: bool,
}

impl From<lineage::EdgeRow> for LineageEdgeGql {
    fn from(edge: lineage::EdgeRow) -> Self {
        lineage::LineageRow {
            edge,
            job_namespace: None,
            job_name: None,
            first_seen: None,
            last_seen: None,
            from_external: false,
            to_external: false,
            stale: false,
        }
        .into()
    }
}

impl From<lineage::LineageRow> for LineageEdgeGql {
    fn from(r: lineage::LineageRow) -> Self {
        Self {
            from_asset_id: ID(r.edge.from_asset.to_string()),
            from_path: r.edge.from_path,
            from_columns: strings(&r.edge.from_columns),
            to_asset_id: ID(r.edge.to_asset.to_string()),
            to_path: r.edge.to_path,
            to_columns: strings(&r.edge.to_columns),
            kind: r.edge.kind,
            job_namespace: r.job_namespace,
            job_name: r.job_name,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            from_external: r.from_external,
            to_external: r.to_external,
            stale: r.stale,
        }
    }
}

/// Asset figures of one source.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct DataSourceStats {
    /// The data source.
    pub source_id: ID,
    /// Assets present (not removed).
    pub assets: i64,
    /// Tables present (partitioned tables included).
    pub tables: i64,
    /// Views present (materialized views included).
    pub views: i64,
    /// Collections and key patterns present.
    pub collections: i64,
    /// Columns and fields over all present assets.
    pub columns: i64,
    /// Assets recorded as removed.
    pub removed_assets: i64,
    /// Sum of the engines' row estimates.
    pub row_estimate: i64,
    /// The most recent scan.
    pub last_scan: Option<ScanInfo>,
    /// Labelled columns per classification type and status.
    pub classification: Vec<LabelCount>,
    /// Labelled columns (applied or confirmed) per sensitivity level.
    pub sensitivity: Vec<SensitivityCount>,
}

/// How many columns of a source carry a label, by status.
#[derive(SimpleObject)]
pub struct LabelCount {
    /// The classification, e.g. `EMAIL_ADDRESS`.
    pub label: String,
    /// low, medium, high or critical.
    pub sensitivity: String,
    /// Columns where it is applied.
    pub applied: i64,
    /// Columns where a reviewer confirmed it.
    pub confirmed: i64,
    /// Columns where it awaits review.
    pub suggested: i64,
    /// Columns where a reviewer rejected it.
    pub rejected: i64,
}

/// How many columns of a source carry a label of one sensitivity (applied or confirmed).
#[derive(SimpleObject)]
pub struct SensitivityCount {
    /// low, medium, high or critical.
    pub sensitivity: String,
    /// Columns.
    pub columns: i64,
}

#[derive(Default)]
pub struct CatalogQuery;

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[Object]
impl CatalogQuery {
    /// Discovered assets of your tenant (optionally of one source), ordered by path. `after` is
    /// the path of the last asset of the previous page. Only assets your roles reach (a custom
    /// role's condition) are listed; pages are filled from those.
    #[graphql(complexity = "crate::graphql::limits::list_cost(first, 1000, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn assets(
        &self,
        ctx: &Context<'_>,
        source_id: Option<ID>,
        #[graphql(desc = "Case-insensitive part of the path.")] search: Option<String>,
        #[graphql(default = false)] include_removed: bool,
        #[graphql(
            default = 100,
            desc = "Page size, 1 to 1000; more is a VALIDATION error."
        )]
        first: i32,
        after: Option<String>,
        #[graphql(
            desc = "Answer as the catalogue stood at this time (RFC 3339): each asset as folded from its own events up to then; `includeRemoved` and role conditions are judged on that state. A page looks at no more than 2,000 assets of today's listing to fill itself."
        )]
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<AssetGql>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let limit = crate::graphql::limits::page_size("first", first, 1000)?;
        let filter = catalog::AssetFilter {
            source_id: source_id
                .as_ref()
                .map(parse_id)
                .transpose()?
                .map(|id| id.as_uuid()),
            search,
            include_removed,
            after,
            limit,
            scope: super::visibility::scope(caller),
        };
        let rows = match as_of {
            Some(at) => super::as_of::assets_at(services, caller, filter, at).await?,
            None => catalog::assets(&services.pool, caller.tenant.as_str(), &filter)
                .await
                .map_err(|err| internal(&err))?,
        };
        Ok(rows.into_iter().map(AssetGql).collect())
    }

    /// One asset, with its schema history; null when your tenant has no such asset or your
    /// roles do not reach it (the two are not told apart).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn asset(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(
            desc = "Answer as the asset stood at this time (RFC 3339), folded from its own events up to then: schema, metadata, labels (in `columns`) and `history` as recorded by then; null when it had not been discovered yet."
        )]
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Option<AssetGql>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let id = parse_id(&id)?;
        if let Some(at) = as_of {
            return Ok(
                super::as_of::asset_by_id(services, caller, id.as_uuid(), at)
                    .await?
                    .map(AssetGql),
            );
        }
        let scope = super::visibility::scope(caller);
        Ok(catalog::asset(
            &services.pool,
            caller.tenant.as_str(),
            id.as_uuid(),
            scope.as_ref(),
        )
        .await
        .map_err(|err| internal(&err))?
        .map(AssetGql))
    }

    /// Scans, newest first (of one source, or all).
    #[graphql(complexity = "crate::graphql::limits::list_cost(first, 500, child_complexity)")]
    async fn scans(
        &self,
        ctx: &Context<'_>,
        source_id: Option<ID>,
        #[graphql(default = 20, desc = "How many, 1 to 500; more is a VALIDATION error.")]
        first: i32,
    ) -> Result<Vec<ScanInfo>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let source = source_id
            .as_ref()
            .map(parse_id)
            .transpose()?
            .map(|id| id.as_uuid());
        let rows = catalog::scans(
            &services.pool,
            caller.tenant.as_str(),
            source,
            crate::graphql::limits::page_size("first", first, 500)?,
        )
        .await
        .map_err(|err| internal(&err))?;
        Ok(rows.into_iter().map(ScanInfo).collect())
    }

    /// Lineage around an asset: edges from foreign keys and view definitions and those OpenLineage
    /// runs reported (with their job and first/last seen), up to `depth` hops.
    /// Only assets your roles reach appear, and the walk does not pass through others (empty
    /// around an asset out of reach).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn lineage(
        &self,
        ctx: &Context<'_>,
        asset_id: ID,
        #[graphql(default_with = "LineageDirection::Both")] direction: LineageDirection,
        #[graphql(default = 3)] depth: i32,
    ) -> Result<Vec<LineageEdgeGql>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        if !(1..=10).contains(&depth) {
            return Err(api_error(
                "VALIDATION",
                format!("depth must be between 1 and 10 (got {depth})"),
            ));
        }
        let direction = match direction {
            LineageDirection::Upstream => Direction::Upstream,
            LineageDirection::Downstream => Direction::Downstream,
            LineageDirection::Both => Direction::Both,
        };
        let asset = parse_id(&asset_id)?.as_uuid();
        let tenant = caller.tenant.as_str();
        let scope = super::visibility::scope(caller);
        // Around an asset out of reach there is nothing to show; past one, nothing to walk to.
        if let Some(param) = &scope {
            let visible = projections::visibility::visible_assets(
                &services.pool,
                tenant,
                &[asset],
                Some(param),
            )
            .await
            .map_err(|err| internal(&err))?;
            if visible.is_empty() {
                return Ok(Vec::new());
            }
        }
        let rows = lineage::walk(
            &services.pool,
            tenant,
            asset,
            direction,
            depth as u32,
            scope.as_ref(),
        )
        .await
        .map_err(|err| internal(&err))?;
        Ok(rows.into_iter().map(LineageEdgeGql::from).collect())
    }

    /// Asset counts and sizes of a source, over the assets your roles reach.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn data_source_stats(&self, ctx: &Context<'_>, id: ID) -> Result<DataSourceStats> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let source = parse_id(&id)?.as_uuid();
        let tenant = caller.tenant.as_str();
        // Counted over the assets the caller's roles reach, like every list.
        let scope = super::visibility::scope(caller);
        let counts: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(&format!(
            "SELECT count(*) FILTER (WHERE NOT removed),
                    count(*) FILTER (WHERE NOT removed AND kind IN ('table', 'partitioned_table')),
                    count(*) FILTER (WHERE NOT removed AND kind IN ('view', 'materialized_view')),
                    count(*) FILTER (WHERE NOT removed AND kind = 'collection'),
                    coalesce(sum(column_count) FILTER (WHERE NOT removed), 0),
                    count(*) FILTER (WHERE removed),
                    coalesce(sum(greatest(row_estimate, 0)) FILTER (WHERE NOT removed), 0)::bigint
             FROM rm_catalog.assets a WHERE a.tenant_id = $1 AND a.source_id = $2 AND {}",
            projections::visibility::when_scoped(3, scope.as_ref(), || {
                projections::visibility::asset_visible("a", 3)
            })
        ))
        .bind(tenant)
        .bind(source)
        .bind(scope.as_ref())
        .fetch_one(&services.pool)
        .await
        .map_err(|err| internal(&err))?;
        let last_scan = catalog::scans(&services.pool, tenant, Some(source), 1)
            .await
            .map_err(|err| internal(&err))?
            .into_iter()
            .next()
            .map(ScanInfo);
        let mut classification: Vec<LabelCount> = Vec::new();
        for (label, status, count) in
            projections::labels::label_counts(&services.pool, tenant, source, scope.as_ref())
                .await
                .map_err(|err| internal(&err))?
        {
            let entry = match classification.iter_mut().find(|c| c.label == label) {
                Some(entry) => entry,
                None => {
                    classification.push(LabelCount {
                        sensitivity: super::classification::sensitivity_of(&label).to_owned(),
                        label,
                        applied: 0,
                        confirmed: 0,
                        suggested: 0,
                        rejected: 0,
                    });
                    classification.last_mut().expect("just pushed")
                }
            };
            match status.as_str() {
                "applied" => entry.applied += count,
                "confirmed" => entry.confirmed += count,
                "suggested" => entry.suggested += count,
                _ => entry.rejected += count,
            }
        }
        let mut sensitivity: Vec<SensitivityCount> = domain::classification::Sensitivity::ALL
            .iter()
            .rev()
            .map(|level| level.as_str())
            .map(|level| SensitivityCount {
                sensitivity: level.to_owned(),
                columns: classification
                    .iter()
                    .filter(|c| c.sensitivity == level)
                    .map(|c| c.applied + c.confirmed)
                    .sum(),
            })
            .collect();
        sensitivity.retain(|s| s.columns > 0);
        Ok(DataSourceStats {
            classification,
            sensitivity,
            source_id: id,
            assets: counts.0,
            tables: counts.1,
            views: counts.2,
            collections: counts.3,
            columns: counts.4,
            removed_assets: counts.5,
            row_estimate: counts.6,
            last_scan,
        })
    }
}

#[derive(Default)]
pub struct CatalogMutation;

pub(super) fn caller_context(ctx: &Context<'_>, command_id: Option<&ID>) -> Result<CommandContext> {
    let caller = authorize(ctx, Permission::ManageDataSources)?;
    let command_id = command_id
        .map(|id| {
            uuid::Uuid::parse_str(id.as_str())
                .map_err(|_| api_error("VALIDATION", "commandId must be a UUID"))
        })
        .transpose()?;
    Ok(caller.command_context(command_id))
}

#[Object]
impl CatalogMutation {
    /// Connects to the source with its current configuration and runs a trivial query. While the
    /// source is registered, failed or configuring, the outcome moves it to connected or failed
    /// (`ConnectionValidated` / `ConnectionFailed`).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn validate_connection(
        &self,
        ctx: &Context<'_>,
        id: ID,
        command_id: Option<ID>,
    ) -> Result<ConnectionCheck> {
        let context = caller_context(ctx, command_id.as_ref())?;
        let services = ctx.data_unchecked::<Services>();
        let report = services
            .workflows
            .validate_connection(&context, parse_id(&id)?)
            .await
            .map_err(command_error)?;
        Ok(report.into())
    }

    /// Points the source at another password reference, then validates the connection with it.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn rotate_credentials(
        &self,
        ctx: &Context<'_>,
        id: ID,
        password_secret: String,
        command_id: Option<ID>,
    ) -> Result<ConnectionCheck> {
        let context = caller_context(ctx, command_id.as_ref())?;
        let services = ctx.data_unchecked::<Services>();
        let source = parse_id(&id)?;
        let patch = domain::datasource::DataSourceConfigInput {
            password_secret: Some(password_secret),
            ..Default::default()
        };
        services
            .workflows
            .handler()
            .execute::<domain::datasource::DataSource>(
                &context,
                Permission::ManageDataSources,
                source,
                DataSourceCommand::PatchConfig { patch },
            )
            .await
            .map_err(command_error)?;
        let report = services
            .workflows
            .validate_connection(&context.follow_up(), source)
            .await
            .map_err(command_error)?;
        Ok(report.into())
    }

    /// Starts discovering the source's schemas, followed by classification of what it found.
    /// Both run in the background (follow them with `scans`, `dataSource` or the `events`
    /// subscription) unless `waitForCompletion` is set.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn start_scan(
        &self,
        ctx: &Context<'_>,
        source_id: ID,
        #[graphql(default_with = "ScanStrategyGql::Auto")] strategy: ScanStrategyGql,
        scope: Option<ScanScopeInput>,
        #[graphql(default = false)] wait_for_completion: bool,
        command_id: Option<ID>,
    ) -> Result<ScanStart> {
        let context = caller_context(ctx, command_id.as_ref())?;
        let services = ctx.data_unchecked::<Services>().clone();
        let source = parse_id(&source_id)?;
        let scope = scope.unwrap_or_default();
        let scope = ScanScope::parse(&scope.include, &scope.exclude)
            .map_err(|err| api_error("VALIDATION", format!("scope: {err}")))?;
        // Counted over every asset of the source: see `ScanStart::withhold_counts`.
        let scoped =
            super::visibility::scope(authorize(ctx, Permission::ManageDataSources)?).is_some();
        // In a task of its own: a request stopped by its timeout must not stop the scan between
        // its start and its end (it would stay `running` until the next start of the service).
        let mut answer = tokio::spawn(scan(
            services,
            context,
            source,
            strategy,
            scope,
            wait_for_completion,
        ))
        .await
        .map_err(|err| internal(&err))??;
        if scoped {
            answer.withhold_counts();
        }
        Ok(answer)
    }
}

/// Starts a scan and runs it (in the background unless `wait_for_completion`).
async fn scan(
    services: Services,
    context: CommandContext,
    source: AggregateId,
    strategy: ScanStrategyGql,
    scope: ScanScope,
    wait_for_completion: bool,
) -> Result<ScanStart> {
    let started = services
        .workflows
        .begin_scan(&context, source, strategy.into(), scope)
        .await
        .map_err(command_error)?;
    let scan_id = started.scan_id;
    if started.already_started {
        // A retry of a request that started this scan: it runs (or ran) already.
        return Ok(ScanStart::not_waited_for(scan_id));
    }
    let run = {
        let services = services.clone();
        let context = context.follow_up();
        async move {
            let known = CatalogAssets::new(&services.store, &services.pool);
            let feedback = CatalogFeedback::new(&services.pool);
            services
                .workflows
                .run_scan_and_classify(
                    &context,
                    source,
                    scan_id,
                    &known,
                    &feedback,
                    commands::classify::PipelineProgress::silent(),
                )
                .await
        }
    };
    if !wait_for_completion {
        tokio::spawn(async move {
            match run.await {
                Err(err) => tracing::error!(%scan_id, error = %err, "scan did not finish"),
                Ok(outcome) => {
                    if let Some(Err(reason)) = outcome.classification {
                        tracing::warn!(%scan_id, %reason, "classification after the scan failed");
                    }
                }
            }
        });
        return Ok(ScanStart::not_waited_for(scan_id));
    }
    let outcome = run.await.map_err(command_error)?;
    let report: ScanReport = outcome.scan;
    let (classified_columns, classification_failure) = match outcome.classification {
        Some(Ok(classification)) => (Some(classification.columns as i64), None),
        Some(Err(reason)) => (None, Some(reason)),
        None => (None, None),
    };
    Ok(ScanStart {
        scan_id: ID(scan_id.to_string()),
        completed: report.failure.is_none(),
        failure: report.failure,
        assets_changed: Some(report.assets_changed as i64),
        assets_removed: Some(report.assets_removed as i64),
        metrics: serde_json::to_value(report.metrics).ok().map(Json),
        classified_columns,
        classification_failure,
    })
}

/// The tenant's review feedback from the catalog read model.
pub struct CatalogFeedback {
    pool: sqlx::PgPool,
}

impl CatalogFeedback {
    pub fn new(pool: &sqlx::PgPool) -> Self {
        Self { pool: pool.clone() }
    }
}

impl FeedbackSource for CatalogFeedback {
    fn feedback<'a>(
        &'a self,
        tenant: &'a TenantId,
    ) -> Pin<Box<dyn Future<Output = Result<FeedbackModel, String>> + Send + 'a>> {
        Box::pin(async move {
            projections::labels::feedback(&self.pool, tenant.as_str())
                .await
                .map_err(|err| err.to_string())
        })
    }
}

/// Known assets of a source from the catalog read model, once it has caught up with the stream
/// (so the previous scan's discoveries are visible to removal detection).
pub struct CatalogAssets {
    store: eventlog::EventStore,
    pool: sqlx::PgPool,
}

impl CatalogAssets {
    pub fn new(store: &eventlog::EventStore, pool: &sqlx::PgPool) -> Self {
        Self {
            store: store.clone(),
            pool: pool.clone(),
        }
    }
}

impl KnownAssets for CatalogAssets {
    fn known_assets<'a>(
        &'a self,
        tenant: &'a TenantId,
        source: AggregateId,
    ) -> Pin<Box<dyn Future<Output = Result<AssetList, String>> + Send + 'a>> {
        Box::pin(async move {
            let target = self
                .store
                .last_sequence()
                .await
                .map_err(|err| err.to_string())?;
            let caught_up = projections::checkpoint::wait_for(
                &self.pool,
                &[catalog::NAME],
                target,
                Duration::from_secs(60),
            )
            .await
            .map_err(|err| err.to_string())?;
            if !caught_up {
                return Err("the catalog read model did not catch up within 60 s".into());
            }
            let rows = catalog::source_asset_paths(&self.pool, tenant.as_str(), source.as_uuid())
                .await
                .map_err(|err| err.to_string())?;
            rows.into_iter()
                .map(|(id, segments)| {
                    let segments: Vec<String> =
                        serde_json::from_value(segments).map_err(|err| err.to_string())?;
                    let path = AssetPath::new(segments).map_err(|err| err.to_string())?;
                    Ok((AggregateId::from_uuid(id), path))
                })
                .collect()
        })
    }
}
