//! The classification part of the API: labels on columns with their explanations, the review
//! queue and review mutations, on-demand classification, and scan rule sets (create, update —
//! which re-evaluates the attached sources from stored profiles —, attach, preview).

use super::catalog::{caller_context, CatalogAssets, CatalogFeedback};
use super::errors::{command_error, internal};
use super::query::parse_id;
use super::{api_error, authorize, Services};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use commands::classify::{ClassificationOptions, ClassificationReport, LabelOutcome};
use commands::CommandContext;
use domain::access::Permission;
use domain::asset::{Asset, AssetCommand};
use domain::classification::{explanation, phi, ClassificationType, CustomRule, Label, Signal};
use domain::datasource::{DataSource, DataSourceCommand};
use domain::rule_set::{RuleSetDefinition, ScanRuleSet, ScanRuleSetCommand};
use domain::scan::ScanScope;
use domain::text::FreeText;
use domain::AggregateId;
use projections::labels::{self, LabelFilter, LabelRow, RuleSetRow};
use serde_json::Value;

/// One piece of evidence behind a label.
#[derive(SimpleObject, Clone)]
pub struct LabelSignal {
    /// rule, model, context, feedback, propagation or manual.
    pub tier: String,
    /// The evidence in words, e.g. "142 of 150 sampled non-null values pass Luhn". Never a
    /// sampled value.
    pub detail: String,
    /// Signed contribution to the confidence (negative: evidence against).
    pub weight: f64,
}

impl From<&Signal> for LabelSignal {
    fn from(s: &Signal) -> Self {
        Self {
            tier: serde_json::to_value(s.tier)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            detail: s.detail.clone(),
            weight: s.weight,
        }
    }
}

/// The signals of a label as the read model stores them (the events' JSON).
fn stored_signals(value: &Value) -> Vec<Signal> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// How sensitive a label is: low, medium, high or critical (custom labels: medium).
pub(super) fn sensitivity_of(label: &str) -> &'static str {
    ClassificationType::parse(label)
        .map_or(domain::classification::Sensitivity::Medium, |t| {
            t.sensitivity()
        })
        .as_str()
}

/// The frameworks of a label on a column of the asset at `asset_path`: `hipaa_phi` only for
/// health data or in a health context, which the classifier's signal names or the asset's
/// database, schema or table name shows (see `domain::classification::phi`).
fn frameworks_of(label: &str, signals: &[Signal], asset_path: &str) -> Vec<String> {
    let Some(t) = ClassificationType::parse(label) else {
        return Vec::new();
    };
    let health_place = domain::discovery::AssetPath::parse(asset_path).is_ok_and(|path| {
        let mut places = domain::classification::TableProfile::places_of(path.segments());
        places.push(("table".to_owned(), path.name().to_owned()));
        let places: Vec<(&str, &str)> = places
            .iter()
            .map(|(what, name)| (what.as_str(), name.as_str()))
            .collect();
        phi::health_context(&places, &[]).is_some()
    });
    phi::label_frameworks(t, signals, health_place)
        .iter()
        .map(|f| f.as_str().to_owned())
        .collect()
}

/// A label on a column, with its status and the evidence behind it.
pub struct ColumnLabelGql(pub LabelRow);

#[Object(name = "ColumnLabel")]
impl ColumnLabelGql {
    /// The asset the column belongs to.
    async fn asset_id(&self) -> ID {
        ID(self.0.asset_id.to_string())
    }
    /// The asset's path, e.g. `shop.public.customers`.
    async fn asset_path(&self) -> &str {
        &self.0.asset_path
    }
    /// The asset's data source.
    async fn source_id(&self) -> ID {
        ID(self.0.source_id.to_string())
    }
    /// The column (or field) name.
    async fn column(&self) -> &str {
        &self.0.column_name
    }
    /// The classification, e.g. `EMAIL_ADDRESS`, or a custom rule's label.
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// low, medium, high or critical.
    async fn sensitivity(&self) -> &'static str {
        sensitivity_of(&self.0.label)
    }
    /// Frameworks the label matters to: gdpr_personal, gdpr_special_category, hipaa_phi,
    /// pci_cardholder, soc2_credentials. `hipaa_phi` only for health data (a medical record
    /// number, a diagnosis) or for an identifier in a health context (a signal `HIPAA applies:`
    /// says why, or the asset's database, schema or table is named after health care).
    async fn frameworks(&self) -> Vec<String> {
        frameworks_of(
            &self.0.label,
            &stored_signals(&self.0.signals),
            &self.0.asset_path,
        )
    }
    /// applied (at or above the threshold), suggested (awaiting review), confirmed or rejected.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// Calibrated confidence 0..1.
    async fn confidence(&self) -> f64 {
        self.0.confidence
    }
    /// The evidence: which signals fired and how strongly.
    async fn signals(&self) -> Vec<LabelSignal> {
        stored_signals(&self.0.signals)
            .iter()
            .map(LabelSignal::from)
            .collect()
    }
    /// The supporting evidence in one sentence.
    async fn explanation(&self) -> String {
        explanation(&stored_signals(&self.0.signals))
    }
    /// classifier, manual or propagated.
    async fn origin(&self) -> &str {
        self.0.origin["kind"].as_str().unwrap_or_default()
    }
    /// For a propagated label: the column it came from, as `path.column`.
    async fn propagated_from(&self) -> Option<String> {
        let path = self.0.origin["from_path"].as_str()?;
        let column = self.0.origin["from_column"].as_str()?;
        Some(format!("{path}.{column}"))
    }
    /// The scan rule set the classifier used, if not the built-in defaults.
    async fn rule_set_id(&self) -> Option<ID> {
        self.0.rule_set.as_ref()?["id"]
            .as_str()
            .map(|id| ID(id.to_owned()))
    }
    /// That rule set's version.
    async fn rule_set_version(&self) -> Option<i64> {
        self.0.rule_set.as_ref()?["version"].as_i64()
    }
    /// When the label was applied or suggested.
    async fn labelled_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.labelled_at
    }
    /// Who ran the classification (or labelled by hand).
    async fn labelled_by(&self) -> &str {
        &self.0.labelled_by
    }
    /// When a reviewer confirmed or rejected it.
    async fn reviewed_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.reviewed_at
    }
    /// The reviewer.
    async fn reviewed_by(&self) -> Option<&str> {
        self.0.reviewed_by.as_deref()
    }
    /// The reviewer's note or reason.
    async fn review_note(&self) -> Option<&str> {
        self.0.review_note.as_deref()
    }
}

/// What the classifier would conclude (previews) or concluded (runs) for one column label.
#[derive(SimpleObject)]
pub struct LabelOutcomeGql {
    /// The asset's path.
    pub asset_path: String,
    /// The column.
    pub column: String,
    /// The label.
    pub label: String,
    /// applied or suggested.
    pub state: String,
    /// Calibrated confidence 0..1.
    pub confidence: f64,
    /// The supporting evidence in one sentence.
    pub explanation: String,
    /// Every signal, for and against.
    pub signals: Vec<LabelSignal>,
}

impl From<&LabelOutcome> for LabelOutcomeGql {
    fn from(o: &LabelOutcome) -> Self {
        Self {
            asset_path: o.asset_path.clone(),
            column: o.column.clone(),
            label: o.candidate.label.to_string(),
            state: if o.applied { "applied" } else { "suggested" }.to_owned(),
            confidence: o.candidate.confidence,
            explanation: explanation(&o.candidate.signals),
            signals: o.candidate.signals.iter().map(LabelSignal::from).collect(),
        }
    }
}

/// The outcome of a classification run.
#[derive(SimpleObject)]
pub struct ClassificationRun {
    /// Assets classified.
    pub assets: i64,
    /// Columns profiled.
    pub columns: i64,
    /// Rows read from the source (0 when re-evaluated from stored profiles).
    pub rows_sampled: i64,
    /// Labels at or above the threshold.
    pub applied: i64,
    /// Labels between the floor and the threshold, awaiting review.
    pub suggested: i64,
    /// Label events recorded (labels that changed).
    pub labels_recorded: i64,
    /// Labels copied along lineage.
    pub propagated: i64,
    /// Propagated labels revoked because their origin lost the label.
    pub revoked_by_lineage: i64,
    /// Assets that could not be sampled, as `path: reason` (they keep their labels).
    pub failures: Vec<String>,
    /// Wall time in milliseconds.
    pub duration_ms: i64,
    /// Every label concluded, applied and suggested (for a caller whose roles reach assets
    /// only under conditions, those of assets in reach; `applied` and `suggested` count those).
    pub outcomes: Vec<LabelOutcomeGql>,
}

impl From<ClassificationReport> for ClassificationRun {
    fn from(r: ClassificationReport) -> Self {
        let applied = r.outcomes.iter().filter(|o| o.applied).count() as i64;
        Self {
            assets: r.assets as i64,
            columns: r.columns as i64,
            rows_sampled: r.rows_sampled as i64,
            applied,
            suggested: r.outcomes.len() as i64 - applied,
            labels_recorded: r.labels_recorded as i64,
            propagated: r.propagated as i64,
            revoked_by_lineage: r.revoked_by_lineage as i64,
            failures: r
                .failures
                .iter()
                .map(|(path, reason)| format!("{path}: {reason}"))
                .collect(),
            duration_ms: r.duration_ms as i64,
            outcomes: r.outcomes.iter().map(LabelOutcomeGql::from).collect(),
        }
    }
}

/// What a review or manual label did.
#[derive(SimpleObject)]
pub struct LabelChange {
    /// Whether anything was recorded (false when the label already had that status).
    pub recorded: bool,
    /// The asset's version afterwards.
    pub version: i64,
    /// Propagated labels revoked or added downstream because of the change.
    pub lineage_changes: i64,
}

/// A custom classification rule: the column name and/or sampled values must match.
#[derive(InputObject)]
pub struct CustomRuleInput {
    /// The label it applies, e.g. `EMPLOYEE_ID` (not a built-in name): 1 to 256 characters, no
    /// control characters.
    pub label: String,
    /// Regular expression the column name must match (at most 1024 characters; control
    /// characters written as escapes such as `\t`).
    pub name_pattern: Option<String>,
    /// Regular expression a sampled value must match in full (at most 1024 characters; control
    /// characters written as escapes).
    pub value_pattern: Option<String>,
    /// A built-in validator matching values must also pass: luhn, iban, us_ssn, vin, …
    pub validator: Option<String>,
    /// Minimum share 0..1 of sampled non-null values that must match.
    #[graphql(default = 0.6)]
    pub min_match_ratio: f64,
}

/// A scan rule set definition.
#[derive(InputObject)]
pub struct ScanRuleSetInput {
    /// Display name: 1 to 256 characters, no control characters.
    pub name: String,
    /// What it is for: at most 16 384 characters; newline, carriage return and tab are the only
    /// control characters allowed.
    pub description: Option<String>,
    /// Asset path patterns to classify (`*` within a segment, `**` across); none means all.
    #[graphql(default)]
    pub include: Vec<String>,
    /// Asset path patterns to leave out; they win over includes.
    #[graphql(default)]
    pub exclude: Vec<String>,
    /// Rows sampled per table (1..10000).
    #[graphql(default = 100)]
    pub sample_size: i32,
    /// Built-in types to look for (e.g. `EMAIL_ADDRESS`); omit for all.
    pub enabled_types: Option<Vec<String>>,
    /// Confidence at or above which a label is applied.
    #[graphql(default = 0.8)]
    pub threshold: f64,
    /// Confidence at or above which (below the threshold) a label is suggested for review.
    #[graphql(default = 0.5)]
    pub floor: f64,
    /// Custom classification rules.
    #[graphql(default)]
    pub custom_rules: Vec<CustomRuleInput>,
    /// How far (a fraction from 0 to 1; 0.10 is 10 %) an asset's row estimate or size must move
    /// since last recorded before a scan of an attached source records it again; 0 records every
    /// move. Omitted: the service's setting (`PURSIGHT_STATISTICS_CHANGE_PERCENT`, default 0.10).
    pub statistics_change_threshold: Option<f64>,
}

impl ScanRuleSetInput {
    fn into_definition(self) -> Result<RuleSetDefinition> {
        let scope = ScanScope::parse(&self.include, &self.exclude)
            .map_err(|e| api_error("VALIDATION", format!("scope: {e}")))?;
        let enabled_types = self
            .enabled_types
            .map(|names| {
                names
                    .iter()
                    .map(|name| {
                        ClassificationType::parse(name.trim()).ok_or_else(|| {
                            api_error(
                                "VALIDATION",
                                format!("enabledTypes: unknown classification type {name:?}"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?;
        let definition = RuleSetDefinition {
            name: self.name,
            description: self.description,
            scope,
            sample_size: u32::try_from(self.sample_size).unwrap_or(0),
            enabled_types,
            threshold: self.threshold,
            floor: self.floor,
            custom_rules: self
                .custom_rules
                .into_iter()
                .map(|r| CustomRule {
                    label: r.label,
                    name_pattern: r.name_pattern,
                    value_pattern: r.value_pattern,
                    validator: r.validator,
                    min_match_ratio: r.min_match_ratio,
                })
                .collect(),
            statistics_change: self.statistics_change_threshold,
        };
        definition
            .validate()
            .map_err(|e| api_error("VALIDATION", e.to_string()))?;
        Ok(definition)
    }
}

/// A scan rule set.
pub struct ScanRuleSetGql(pub RuleSetRow);

#[Object(name = "ScanRuleSet")]
impl ScanRuleSetGql {
    /// Rule set id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// 1 when created, +1 per change.
    async fn version(&self) -> i64 {
        self.0.version
    }
    /// The definition: scope, sample_size, enabled_types, threshold, floor, custom_rules and,
    /// when set, statistics_change.
    async fn definition(&self) -> async_graphql::Json<Value> {
        async_graphql::Json(self.0.definition.clone())
    }
    /// The fraction an asset's row estimate or size must move before a scan of an attached
    /// source records it again; null when the rule set leaves it to the service's setting
    /// (`PURSIGHT_STATISTICS_CHANGE_PERCENT`, default 0.10).
    async fn statistics_change_threshold(&self) -> Option<f64> {
        self.0.definition["statistics_change"].as_f64()
    }
    /// Archived rule sets no longer apply.
    async fn archived(&self) -> bool {
        self.0.archived
    }
    /// Last change.
    async fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.updated_at
    }
    /// Who changed it last.
    async fn updated_by(&self) -> &str {
        &self.0.updated_by
    }
}

/// What `updateScanRuleSet` did.
#[derive(SimpleObject)]
pub struct ScanRuleSetUpdate {
    /// The rule set's version afterwards.
    pub version: i64,
    /// Sources attached to it that were re-evaluated from their stored profiles.
    pub reevaluated_sources: i64,
    /// Label events the re-evaluation recorded (only labels that changed).
    pub labels_changed: i64,
}

/// A label as a person names it: one line, 1 to 256 characters, no control character.
fn label_of(name: &str) -> Result<Label> {
    let name = domain::text::Name::parse(name)
        .map_err(|err| api_error("VALIDATION", format!("label {err}")))?;
    Label::parse(name.as_str()).ok_or_else(|| api_error("VALIDATION", "label must not be empty"))
}

/// The column a review names, bounded before it reaches the domain (whose refusal of an unknown
/// column repeats it): 1 to 1024 characters without control characters, which discovered names
/// never hold (connectors write them escaped).
fn column_of(column: String) -> Result<String> {
    let length = column.chars().count();
    if (1..=MAX_COLUMN_CHARS).contains(&length) && !column.chars().any(char::is_control) {
        Ok(column)
    } else {
        Err(api_error(
            "VALIDATION",
            format!("column must name a column of the asset: 1 to {MAX_COLUMN_CHARS} characters without control characters"),
        ))
    }
}

const MAX_COLUMN_CHARS: usize = 1024;

/// A review note or reason: see [`domain::text::FreeText`].
fn note_of(field: &str, note: Option<String>) -> Result<Option<FreeText>> {
    FreeText::parse_optional(note.as_deref())
        .map_err(|err| api_error("VALIDATION", format!("{field} {err}")))
}

#[derive(Default)]
pub struct ClassificationQuery;

#[Object]
impl ClassificationQuery {
    /// Suggested labels awaiting review, most confident first (of assets your roles reach).
    #[graphql(complexity = "crate::graphql::limits::list_cost(first, 1000, child_complexity)")]
    async fn review_queue(
        &self,
        ctx: &Context<'_>,
        source_id: Option<ID>,
        #[graphql(
            default = 100,
            desc = "How many, 1 to 1000; more is a VALIDATION error."
        )]
        first: i32,
    ) -> Result<Vec<ColumnLabelGql>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let source = source_id.as_ref().map(parse_id).transpose()?;
        let rows = labels::review_queue(
            &services.pool,
            caller.tenant.as_str(),
            source.map(|s| s.as_uuid()),
            crate::graphql::limits::page_size("first", first, 1000)?,
            super::visibility::scope(caller).as_ref(),
        )
        .await
        .map_err(|e| internal(&e))?;
        Ok(rows.into_iter().map(ColumnLabelGql).collect())
    }

    /// Labels of columns, by source and/or asset, optionally only some statuses (applied,
    /// suggested, confirmed, rejected). Only labels of assets your roles reach.
    #[graphql(complexity = "crate::graphql::limits::list_cost(first, 1000, child_complexity)")]
    async fn column_labels(
        &self,
        ctx: &Context<'_>,
        source_id: Option<ID>,
        asset_id: Option<ID>,
        #[graphql(default, desc = "At most 4 statuses; more is a VALIDATION error.")] statuses: Vec<
            String,
        >,
        #[graphql(
            default = 500,
            desc = "How many, 1 to 1000; more is a VALIDATION error."
        )]
        first: i32,
        #[graphql(
            desc = "Answer as the labels stood at this time (RFC 3339), folded from the asset's own events up to then. Needs `assetId` (for a whole catalogue at a time, `pursight replay --as-of T --into SCHEMA`)."
        )]
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<ColumnLabelGql>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        if statuses.len() > 4 {
            return Err(api_error(
                "VALIDATION",
                format!("statuses takes at most 4 values (got {})", statuses.len()),
            ));
        }
        let filter = LabelFilter {
            source_id: source_id
                .as_ref()
                .map(parse_id)
                .transpose()?
                .map(|s| s.as_uuid()),
            asset_id: asset_id
                .as_ref()
                .map(parse_id)
                .transpose()?
                .map(|s| s.as_uuid()),
            statuses,
            limit: crate::graphql::limits::page_size("first", first, 1000)?,
            scope: super::visibility::scope(caller),
        };
        if let Some(at) = as_of {
            let Some(asset) = filter.asset_id else {
                return Err(api_error(
                    "VALIDATION",
                    "asOf needs assetId: labels are folded per asset (for a whole catalogue at a time, `pursight replay --as-of T --into SCHEMA`)",
                ));
            };
            let Some(row) = super::as_of::asset_by_id(services, caller, asset, at).await? else {
                return Ok(Vec::new());
            };
            if filter.source_id.is_some_and(|s| s != row.source_id) {
                return Ok(Vec::new());
            }
            let labels = row.as_of.map(|a| a.labels).unwrap_or_default();
            return Ok(labels
                .iter()
                .filter(|l| filter.statuses.is_empty() || filter.statuses.contains(&l.status))
                .take(filter.limit as usize)
                .cloned()
                .map(ColumnLabelGql)
                .collect());
        }
        let rows = labels::labels(&services.pool, caller.tenant.as_str(), &filter)
            .await
            .map_err(|e| internal(&e))?;
        Ok(rows.into_iter().map(ColumnLabelGql).collect())
    }

    /// Your tenant's scan rule sets.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn scan_rule_sets(&self, ctx: &Context<'_>) -> Result<Vec<ScanRuleSetGql>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let rows = labels::rule_sets(&services.pool, caller.tenant.as_str(), None)
            .await
            .map_err(|e| internal(&e))?;
        Ok(rows.into_iter().map(ScanRuleSetGql).collect())
    }

    /// What a rule set would label on a source, without recording anything: re-evaluates the
    /// stored column profiles (assets never profiled are sampled).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn preview_scan_rule_set(
        &self,
        ctx: &Context<'_>,
        source_id: ID,
        rule_set: ScanRuleSetInput,
    ) -> Result<Vec<LabelOutcomeGql>> {
        let context = caller_context(ctx, None)?;
        let services = ctx.data_unchecked::<Services>();
        let source = parse_id(&source_id)?;
        let definition = rule_set.into_definition()?;
        let mut report = run_classification(
            services,
            &context,
            source,
            ClassificationOptions {
                rule_set: Some(definition),
                dry_run: true,
                from_profiles: true,
            },
        )
        .await?;
        let caller = authorize(ctx, Permission::ManageDataSources)?;
        answer_in_reach(services, caller, source, &mut report).await?;
        Ok(report.outcomes.iter().map(LabelOutcomeGql::from).collect())
    }
}

/// What a classification's answer may name to `caller`: for a caller whose roles reach assets
/// only under conditions (one may hold an unconditional role that runs classifications beside a
/// conditional reader), the outcomes and failures of assets out of its reach are left out, as
/// every read leaves them out. Judged after the run, on the labels it recorded.
async fn answer_in_reach(
    services: &Services,
    caller: &crate::auth::Caller,
    source: AggregateId,
    report: &mut ClassificationReport,
) -> Result<()> {
    let Some(scope) = super::visibility::scope(caller) else {
        return Ok(());
    };
    let visible = projections::visibility::visible_paths(
        &services.pool,
        caller.tenant.as_str(),
        source.as_uuid(),
        &scope,
    )
    .await
    .map_err(|err| internal(&err))?;
    report.outcomes.retain(|o| visible.contains(&o.asset_path));
    report.failures.retain(|(path, _)| visible.contains(path));
    Ok(())
}

async fn run_classification(
    services: &Services,
    context: &CommandContext,
    source: AggregateId,
    options: ClassificationOptions,
) -> Result<ClassificationReport> {
    let known = CatalogAssets::new(&services.store, &services.pool);
    let feedback = CatalogFeedback::new(&services.pool);
    services
        .workflows
        .classify_source(context, source, &known, &feedback, options, &|_| {})
        .await
        .map_err(command_error)
}

#[derive(Default)]
pub struct ClassificationMutation;

impl ClassificationMutation {
    /// Runs a review command on an asset and carries its effect along lineage.
    async fn review(
        ctx: &Context<'_>,
        asset_id: &ID,
        command_id: Option<&ID>,
        command: AssetCommand,
    ) -> Result<LabelChange> {
        let context = caller_context(ctx, command_id)?;
        let services = ctx.data_unchecked::<Services>();
        let asset = parse_id(asset_id)?;
        let outcome = services
            .handler
            .execute::<Asset>(&context, Permission::ManageDataSources, asset, command)
            .await
            .map_err(command_error)?;
        let mut lineage_changes = 0;
        if !outcome.events.is_empty() {
            let state = services
                .handler
                .state::<Asset>(&context, Permission::ReadCatalog, asset)
                .await
                .map_err(command_error)?;
            if let Some(source) = state.source_id {
                let known = CatalogAssets::new(&services.store, &services.pool);
                let (added, revoked) = services
                    .workflows
                    .propagate_labels(&context.follow_up(), source, &known)
                    .await
                    .map_err(command_error)?;
                lineage_changes = (added + revoked) as i64;
            }
        }
        Ok(LabelChange {
            recorded: !outcome.events.is_empty(),
            version: outcome.version as i64,
            lineage_changes,
        })
    }
}

#[Object]
impl ClassificationMutation {
    /// Classifies a source's assets now (the source must be scanned). With `fromProfiles`, the
    /// stored column statistics are re-evaluated instead of sampling the source again.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn start_classification(
        &self,
        ctx: &Context<'_>,
        source_id: ID,
        #[graphql(default = false)] from_profiles: bool,
        command_id: Option<ID>,
    ) -> Result<ClassificationRun> {
        let context = caller_context(ctx, command_id.as_ref())?;
        let services = ctx.data_unchecked::<Services>().clone();
        let source = parse_id(&source_id)?;
        // In a task of its own: a request stopped by its timeout must not stop the
        // classification half-way (the source would stay `classifying`).
        let run = tokio::spawn(async move {
            run_classification(
                &services,
                &context,
                source,
                ClassificationOptions {
                    from_profiles,
                    ..Default::default()
                },
            )
            .await
        });
        let mut report = run.await.map_err(|err| internal(&err))??;
        let caller = authorize(ctx, Permission::ManageDataSources)?;
        answer_in_reach(
            ctx.data_unchecked::<Services>(),
            caller,
            source,
            &mut report,
        )
        .await?;
        Ok(report.into())
    }

    /// Confirms an applied or suggested label.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn confirm_classification(
        &self,
        ctx: &Context<'_>,
        asset_id: ID,
        #[graphql(desc = "The column's name as the catalog shows it: at most 1024 characters.")]
        column: String,
        label: String,
        #[graphql(
            desc = "Why, in your words: at most 4096 characters; newline, carriage return and tab are the only control characters allowed."
        )]
        note: Option<String>,
        command_id: Option<ID>,
    ) -> Result<LabelChange> {
        let label = label_of(&label)?;
        Self::review(
            ctx,
            &asset_id,
            command_id.as_ref(),
            AssetCommand::ConfirmClassification {
                column: column_of(column)?,
                label,
                note: note_of("note", note)?,
            },
        )
        .await
    }

    /// Rejects a label: it is not proposed again for this column until its evidence changes,
    /// labels propagated from it are revoked, and similar columns elsewhere lose confidence.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn reject_classification(
        &self,
        ctx: &Context<'_>,
        asset_id: ID,
        #[graphql(desc = "The column's name as the catalog shows it: at most 1024 characters.")]
        column: String,
        label: String,
        #[graphql(
            desc = "Why, in your words: at most 4096 characters; newline, carriage return and tab are the only control characters allowed."
        )]
        reason: Option<String>,
        command_id: Option<ID>,
    ) -> Result<LabelChange> {
        let label = label_of(&label)?;
        Self::review(
            ctx,
            &asset_id,
            command_id.as_ref(),
            AssetCommand::RejectClassification {
                column: column_of(column)?,
                label,
                reason: note_of("reason", reason)?,
            },
        )
        .await
    }

    /// Labels a column by hand (a built-in type or any custom label).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn classify_manually(
        &self,
        ctx: &Context<'_>,
        asset_id: ID,
        #[graphql(desc = "The column's name as the catalog shows it: at most 1024 characters.")]
        column: String,
        label: String,
        #[graphql(
            desc = "Why, in your words: at most 4096 characters; newline, carriage return and tab are the only control characters allowed."
        )]
        note: Option<String>,
        command_id: Option<ID>,
    ) -> Result<LabelChange> {
        let label = label_of(&label)?;
        Self::review(
            ctx,
            &asset_id,
            command_id.as_ref(),
            AssetCommand::ClassifyManually {
                column: column_of(column)?,
                label,
                note: note_of("note", note)?,
            },
        )
        .await
    }

    /// Creates a scan rule set (version 1).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn create_scan_rule_set(
        &self,
        ctx: &Context<'_>,
        input: ScanRuleSetInput,
        command_id: Option<ID>,
    ) -> Result<ID> {
        let context = caller_context(ctx, command_id.as_ref())?;
        let services = ctx.data_unchecked::<Services>();
        let definition = input.into_definition()?;
        // Derived from the command id: a retry creates nothing new and returns the same id.
        let id = context.created_id("scan_rule_set");
        let created = services
            .handler
            .execute_new::<ScanRuleSet>(
                &context,
                Permission::ManageDataSources,
                id,
                ScanRuleSetCommand::Create { id, definition },
            )
            .await;
        if let Err(err) = created {
            // A rule set under this id was created by an earlier attempt of this very command
            // (the id derives from it), however much it changed since: after the duplicate
            // window a snapshot may hide the command from the loaded history.
            let earlier = services
                .handler
                .state::<ScanRuleSet>(&context, Permission::ManageDataSources, id)
                .await
                .map_err(command_error)?;
            if earlier.id.is_none() {
                return Err(command_error(err));
            }
        }
        Ok(ID(id.to_string()))
    }

    /// Changes a scan rule set (a new version) and re-evaluates every source attached to it
    /// from stored profiles, recording only the labels that change.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn update_scan_rule_set(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ScanRuleSetInput,
        command_id: Option<ID>,
    ) -> Result<ScanRuleSetUpdate> {
        let context = caller_context(ctx, command_id.as_ref())?;
        let services = ctx.data_unchecked::<Services>();
        let rule_set = parse_id(&id)?;
        let definition = input.into_definition()?;
        let outcome = services
            .handler
            .execute::<ScanRuleSet>(
                &context,
                Permission::ManageDataSources,
                rule_set,
                ScanRuleSetCommand::Update { definition },
            )
            .await
            .map_err(command_error)?;
        let mut update = ScanRuleSetUpdate {
            version: 0,
            reevaluated_sources: 0,
            labels_changed: 0,
        };
        let state = services
            .handler
            .state::<ScanRuleSet>(&context, Permission::ReadCatalog, rule_set)
            .await
            .map_err(command_error)?;
        update.version = state.rule_set_version as i64;
        if outcome.events.is_empty() {
            return Ok(update);
        }
        let target = services
            .store
            .last_sequence()
            .await
            .map_err(|e| internal(&e))?;
        projections::checkpoint::wait_for(
            &services.pool,
            &[projections::data_sources::NAME],
            target,
            std::time::Duration::from_secs(30),
        )
        .await
        .map_err(|e| internal(&e))?;
        let sources = projections::data_sources::sources_with_rule_set(
            &services.pool,
            context.tenant.as_str(),
            rule_set.as_uuid(),
        )
        .await
        .map_err(|e| internal(&e))?;
        for source in sources {
            let report = run_classification(
                services,
                &context.follow_up(),
                AggregateId::from_uuid(source),
                ClassificationOptions {
                    from_profiles: true,
                    ..Default::default()
                },
            )
            .await;
            match report {
                Ok(report) => {
                    update.reevaluated_sources += 1;
                    update.labels_changed += report.labels_recorded as i64;
                }
                // A source that is busy or not yet scanned is classified by its next run.
                Err(error) => tracing::info!(%source, ?error, "source not re-evaluated now"),
            }
        }
        Ok(update)
    }

    /// Makes a source's classification follow a scan rule set (`ruleSetId` null: the built-in
    /// defaults). Takes effect at the next classification.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn attach_scan_rule_set(
        &self,
        ctx: &Context<'_>,
        source_id: ID,
        rule_set_id: Option<ID>,
        command_id: Option<ID>,
    ) -> Result<bool> {
        let context = caller_context(ctx, command_id.as_ref())?;
        let services = ctx.data_unchecked::<Services>();
        let source = parse_id(&source_id)?;
        let rule_set = rule_set_id.as_ref().map(parse_id).transpose()?;
        if let Some(rule_set) = rule_set {
            let state = services
                .handler
                .state::<ScanRuleSet>(&context, Permission::ReadCatalog, rule_set)
                .await
                .map_err(command_error)?;
            if state.definition.is_none() || state.archived {
                return Err(api_error(
                    "NOT_FOUND",
                    format!("no active scan rule set {rule_set}"),
                ));
            }
        }
        let outcome = services
            .handler
            .execute::<DataSource>(
                &context,
                Permission::ManageDataSources,
                source,
                DataSourceCommand::AttachScanRuleSet {
                    rule_set_id: rule_set,
                },
            )
            .await
            .map_err(command_error)?;
        Ok(!outcome.events.is_empty())
    }
}
