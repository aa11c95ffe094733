//! The compliance read side of the API: the framework packs with the tenant's policy
//! (`complianceFrameworks`, from the `CompliancePolicy` aggregate itself), scores and their daily
//! trend (`complianceScores`), violations with their evidence (`violations`, `violation` with its
//! history) — all from the `compliance` read model — and the compliance summary of
//! `dataSourceStats`. Everything is scoped to the caller's tenant and needs `read_catalog`.

use super::catalog::DataSourceStats;
use super::errors::internal;
use super::query::parse_id;
use super::{api_error, authorize, Services};
use async_graphql::{ComplexObject, Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use domain::access::Permission;
use domain::compliance::packs::BUILTIN_PACK_FILES;
use domain::compliance::{
    builtin_packs, policy_id, CompliancePolicy, CompliancePolicyEvent, CompliancePolicyState,
    FrameworkId, RuleDefinition, Severity,
};
use domain::{Aggregate, DomainEvent, TenantId};
use eventlog::EventStore;
use projections::compliance::{
    self as rm, EvidenceJson, FactJson, HistoryRow, ScoreRow, ViolationFilter, ViolationRow,
};
use sha2::{Digest, Sha256};

/// Largest `violations` page.
pub const MAX_VIOLATIONS_PAGE: i32 = 500;
/// Most history entries one `Violation.history` returns.
pub const MAX_HISTORY: i32 = 500;
/// Longest trend, in days.
pub const MAX_TREND_DAYS: i32 = 366;

/// Why the tenant's policy could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PolicyLoadError {
    #[error(transparent)]
    Store(#[from] eventlog::EventStoreError),
    #[error("compliance policy event {event} cannot be read: {reason}")]
    Corrupt { event: uuid::Uuid, reason: String },
}

/// The tenant's compliance policy folded from its full history (the default policy — every
/// framework enabled, nothing tuned — when it never changed).
pub(crate) async fn load_policy(
    store: &EventStore,
    tenant: &TenantId,
) -> Result<CompliancePolicyState, PolicyLoadError> {
    let history = store
        .load(tenant, CompliancePolicy::NAME, &policy_id(tenant))
        .await?;
    let mut state = CompliancePolicyState::default();
    for stored in &history.events {
        let event = &stored.event;
        let corrupt = |reason: String| PolicyLoadError::Corrupt {
            event: event.id,
            reason,
        };
        let (name, version) = event
            .name_and_version()
            .ok_or_else(|| corrupt(format!("type {:?}", event.event_type)))?;
        let decoded = CompliancePolicyEvent::from_stored(name, version, &event.data)
            .map_err(|err| corrupt(err.to_string()))?;
        state = CompliancePolicy::evolve(state, &decoded);
    }
    Ok(state)
}

/// A pack's version: `sha256:` and the first 12 hex digits of the SHA-256 of its embedded file,
/// so a report names exactly the rules that judged (any edit of the pack changes it).
pub(crate) fn framework_version(framework: FrameworkId) -> String {
    let text = BUILTIN_PACK_FILES
        .iter()
        .find(|(name, _)| *name == framework.as_str())
        .map_or("", |(_, text)| text);
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The pack's title, e.g. `PCI DSS v4.0`.
pub(crate) fn framework_title(framework: FrameworkId) -> String {
    builtin_packs()
        .iter()
        .find(|p| p.framework == framework)
        .map_or_else(|| framework.as_str().to_owned(), |p| p.title.clone())
}

/// One compliance rule as the tenant runs it.
#[derive(SimpleObject, Clone)]
pub struct ComplianceRule {
    /// Stable rule id, e.g. `pci-dss-sad-stored`.
    pub id: String,
    /// Raised whenever the rule's meaning changes; violations name the version they ran with.
    pub version: i32,
    /// What the rule finds.
    pub title: String,
    /// gdpr, pci-dss, hipaa or soc2.
    pub framework: String,
    /// The control cited, e.g. `PCI DSS v4.0 3.3.1`.
    pub control: String,
    /// low, medium, high or critical: the tenant's tuned severity, else the rule's own.
    pub severity: String,
    /// The rule's own severity, before tuning.
    pub default_severity: String,
    /// source, asset or column: what one violation of the rule is about.
    pub subject: String,
    /// Whether the tenant evaluates the rule (not turned off by tuning). A rule of a disabled
    /// framework is not evaluated either; see `ComplianceFramework.enabled`.
    pub enabled: bool,
    /// Whether the rule comes with PurSight (else the tenant defined it).
    pub built_in: bool,
    /// What to do about a violation.
    pub remediation: String,
    /// The condition, in the rule language (see the README's Compliance section).
    pub condition: String,
}

impl ComplianceRule {
    fn new(definition: &RuleDefinition, state: &CompliancePolicyState, built_in: bool) -> Self {
        let tuning = state.tuning.get(&definition.id);
        let severity = tuning
            .and_then(|t| t.severity)
            .unwrap_or(definition.severity);
        let subject = serde_json::to_value(definition.subject)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Self {
            id: definition.id.clone(),
            version: i32::try_from(definition.version).unwrap_or(i32::MAX),
            title: definition.title.clone(),
            framework: definition.framework.as_str().to_owned(),
            control: definition.control.clone(),
            severity: severity.as_str().to_owned(),
            default_severity: definition.severity.as_str().to_owned(),
            subject,
            enabled: tuning.is_none_or(|t| t.enabled),
            built_in,
            remediation: definition.remediation.clone(),
            condition: definition.condition.trim().to_owned(),
        }
    }
}

/// A compliance framework and its rules, as the caller's tenant evaluates them.
#[derive(SimpleObject)]
pub struct ComplianceFramework {
    /// gdpr, pci-dss, hipaa or soc2.
    pub id: String,
    /// e.g. `PCI DSS v4.0`.
    pub title: String,
    /// The pack's version: `sha256:` and 12 hex digits of its file's digest.
    pub version: String,
    /// Whether your tenant evaluates this framework (frameworks are enabled until disabled).
    pub enabled: bool,
    /// The built-in rules in pack order, then your tenant's active custom rules by id.
    pub rules: Vec<ComplianceRule>,
}

/// Violations of one status by severity.
#[derive(SimpleObject, Clone, Copy, Default)]
pub struct SeverityCounts {
    /// Critical violations.
    pub critical: i64,
    /// High violations.
    pub high: i64,
    /// Medium violations.
    pub medium: i64,
    /// Low violations.
    pub low: i64,
    /// All four.
    pub total: i64,
}

impl SeverityCounts {
    fn new(low: i64, medium: i64, high: i64, critical: i64) -> Self {
        Self {
            critical,
            high,
            medium,
            low,
            total: low + medium + high + critical,
        }
    }

    fn add(self, other: Self) -> Self {
        Self::new(
            self.low + other.low,
            self.medium + other.medium,
            self.high + other.high,
            self.critical + other.critical,
        )
    }
}

/// One day of a framework's trend: the figures as they stood at the end of that (UTC) day.
#[derive(SimpleObject, Clone)]
pub struct ComplianceDay {
    /// The day (UTC).
    pub day: NaiveDate,
    /// The score at the end of the day.
    pub score: i32,
    /// Open violations by severity at the end of the day.
    pub open: SeverityCounts,
    /// Accepted violations at the end of the day.
    pub accepted: i64,
}

/// One framework's standing for a source or for the whole tenant.
pub struct FrameworkScore {
    tenant: String,
    source: Option<uuid::Uuid>,
    framework: FrameworkId,
    enabled: bool,
    row: ScoreRow,
    /// Counted for a caller whose roles reach assets only under conditions.
    scoped: bool,
}

#[Object]
impl FrameworkScore {
    /// gdpr, pci-dss, hipaa or soc2.
    async fn framework(&self) -> &str {
        self.framework.as_str()
    }

    /// The framework's title, e.g. `HIPAA Security Rule`.
    async fn title(&self) -> String {
        framework_title(self.framework)
    }

    /// Whether your tenant evaluates the framework. A disabled one is listed only while
    /// violations of it are still open or accepted.
    async fn enabled(&self) -> bool {
        self.enabled
    }

    /// `max(0, 100 − Σ weight of the open violations)`, weights critical 25, high 10, medium 4,
    /// low 1; 100 means nothing is open. Accepted and resolved violations do not count.
    async fn score(&self) -> i32 {
        i32::from(self.row.score())
    }

    /// Open violations by severity.
    async fn open(&self) -> SeverityCounts {
        open_counts(&self.row)
    }

    /// Violations whose risk a compliance officer accepted (until their expiry), by severity.
    async fn accepted(&self) -> SeverityCounts {
        accepted_counts(&self.row)
    }

    /// When a violation of the framework last changed; null when none ever did.
    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.row.updated_at
    }

    /// The last `days` days (1 to 366), oldest first, today (UTC) included: each day's figures
    /// at its end; a day without a change keeps the day before's. Empty for a caller whose
    /// roles reach assets only under conditions: the kept trend counts every asset.
    #[graphql(
        complexity = "crate::graphql::limits::list_cost(days, MAX_TREND_DAYS, child_complexity)"
    )]
    async fn trend(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default = 30,
            desc = "How many days, 1 to 366; more is a VALIDATION error."
        )]
        days: i32,
    ) -> Result<Vec<ComplianceDay>> {
        authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let days = crate::graphql::limits::page_size("days", days, MAX_TREND_DAYS)?;
        if self.scoped {
            // The kept trend counts every asset's violations; nothing is kept per condition.
            return Ok(Vec::new());
        }
        let to = Utc::now().date_naive();
        let from = to - chrono::Duration::days(days - 1);
        let rows = rm::trend(
            &services.pool,
            &self.tenant,
            self.source,
            self.framework.as_str(),
            from,
            to,
        )
        .await
        .map_err(|err| internal(&err))?;
        Ok(rows
            .into_iter()
            .map(|r| ComplianceDay {
                day: r.day,
                score: i32::from(r.score),
                open: SeverityCounts::new(r.open_low, r.open_medium, r.open_high, r.open_critical),
                accepted: r.accepted,
            })
            .collect())
    }
}

fn open_counts(row: &ScoreRow) -> SeverityCounts {
    SeverityCounts::new(
        row.open_low,
        row.open_medium,
        row.open_high,
        row.open_critical,
    )
}

fn accepted_counts(row: &ScoreRow) -> SeverityCounts {
    SeverityCounts::new(
        row.accepted_low,
        row.accepted_medium,
        row.accepted_high,
        row.accepted_critical,
    )
}

/// The standing of every framework of a source (or the tenant): the enabled ones, and disabled
/// ones that still have open or accepted violations, in framework order.
/// For a caller whose roles reach assets only under conditions (`scope`), the figures count only
/// the violations it may read, and no trend is kept for it (see [`FrameworkScore::trend`]).
pub(crate) async fn framework_scores(
    services: &Services,
    tenant: &TenantId,
    source: Option<uuid::Uuid>,
    scope: Option<&serde_json::Value>,
) -> Result<Vec<FrameworkScore>> {
    let policy = load_policy(&services.store, tenant)
        .await
        .map_err(|err| internal(&err))?;
    let rows = match scope {
        None => rm::scores(&services.pool, tenant.as_str(), source).await,
        Some(scope) => rm::scores_in_scope(&services.pool, tenant.as_str(), source, scope).await,
    }
    .map_err(|err| internal(&err))?;
    Ok(FrameworkId::ALL
        .into_iter()
        .filter_map(|framework| {
            let row = rows
                .iter()
                .find(|r| r.framework == framework.as_str())
                .cloned()
                .unwrap_or_default();
            let enabled = policy.enabled(framework);
            (enabled || row.open() + row.accepted() > 0).then(|| FrameworkScore {
                tenant: tenant.as_str().to_owned(),
                source,
                framework,
                enabled,
                row,
                scoped: scope.is_some(),
            })
        })
        .collect())
}

/// A source's compliance at a glance (part of `dataSourceStats`).
#[derive(SimpleObject)]
pub struct ComplianceSummary {
    /// The lowest score of the frameworks listed; 100 when nothing is open.
    pub lowest_score: i32,
    /// Open violations of every framework, by severity.
    pub open: SeverityCounts,
    /// Accepted violations of every framework, by severity.
    pub accepted: SeverityCounts,
    /// Each framework's standing.
    pub frameworks: Vec<FrameworkScore>,
}

#[ComplexObject]
impl DataSourceStats {
    /// The source's compliance: scores per framework and open and accepted violations (from the
    /// compliance read model; see `complianceScores` for the trend).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn compliance(&self, ctx: &Context<'_>) -> Result<ComplianceSummary> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let source = parse_id(&self.source_id)?.as_uuid();
        let scope = super::visibility::scope(caller);
        let frameworks =
            framework_scores(services, &caller.tenant, Some(source), scope.as_ref()).await?;
        let (open, accepted) = frameworks.iter().fold(
            (SeverityCounts::default(), SeverityCounts::default()),
            |(open, accepted), f| {
                (
                    open.add(open_counts(&f.row)),
                    accepted.add(accepted_counts(&f.row)),
                )
            },
        );
        Ok(ComplianceSummary {
            lowest_score: frameworks
                .iter()
                .map(|f| i32::from(f.row.score()))
                .min()
                .unwrap_or(100),
            open,
            accepted,
            frameworks,
        })
    }
}

/// An event cited as evidence: check it with `pursight verify` or against an export.
#[derive(SimpleObject, Clone)]
pub struct EvidenceRef {
    /// The CloudEvent id.
    pub event_id: ID,
    /// The stream sequence of the event's commit.
    pub sequence: i64,
    /// The event's chain hash (hex SHA-256).
    pub hash: String,
}

impl From<EvidenceJson> for EvidenceRef {
    fn from(e: EvidenceJson) -> Self {
        Self {
            event_id: ID(e.event_id.to_string()),
            sequence: i64::try_from(e.sequence).unwrap_or(i64::MAX),
            hash: e.hash,
        }
    }
}

fn evidence_refs(value: &serde_json::Value) -> Vec<EvidenceRef> {
    serde_json::from_value::<Vec<EvidenceJson>>(value.clone())
        .unwrap_or_default()
        .into_iter()
        .map(EvidenceRef::from)
        .collect()
}

/// A fact a rule read to fire.
#[derive(SimpleObject, Clone)]
pub struct ViolationFact {
    /// The fact path, e.g. `label.status` or `source.tls_mode`.
    pub fact: String,
    /// The column it is about, for column and label facts.
    pub column: Option<String>,
    /// The label it is about, for label facts.
    pub label: Option<String>,
    /// The role it is about, for reader facts.
    pub role: Option<String>,
    /// Its value as text (`(none)` when missing; sets comma-separated).
    pub value: String,
    /// The event it rests on.
    pub evidence: EvidenceRef,
}

impl From<FactJson> for ViolationFact {
    fn from(f: FactJson) -> Self {
        Self {
            fact: f.fact,
            column: f.column,
            label: f.label,
            role: f.role,
            value: f.value,
            evidence: f.evidence.into(),
        }
    }
}

/// A compliance officer's acceptance of a violation's risk.
#[derive(SimpleObject, Clone)]
pub struct ViolationAcceptance {
    /// Who accepted (the actor's subject).
    pub by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub accepted_at: DateTime<Utc>,
    /// Until when; the violation is open again afterwards.
    pub expires_at: DateTime<Utc>,
}

/// How a violation was resolved.
#[derive(SimpleObject, Clone)]
pub struct ViolationResolution {
    /// When.
    pub resolved_at: DateTime<Utc>,
    /// The fact change that resolved it, e.g. `label.status` or `source.tls_mode`.
    pub change: String,
    /// The events that changed it.
    pub evidence: Vec<EvidenceRef>,
}

/// One event of a violation's history.
#[derive(SimpleObject, Clone)]
pub struct ViolationHistoryEntry {
    /// ViolationDetected, ViolationResolved, ViolationAccepted or AcceptanceExpired.
    pub event_type: String,
    /// The violation event itself (id, stream sequence, chain hash).
    pub event: EvidenceRef,
    /// The violation's version after the event.
    pub version: i64,
    /// open, accepted or resolved after the event.
    pub status: String,
    /// The severity after the event.
    pub severity: String,
    /// Who recorded it (a user, or the evaluator's actor).
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Detections: the rule version that fired.
    pub rule_version: Option<i32>,
    /// Resolutions: the fact change that resolved it.
    pub change: Option<String>,
    /// Acceptances: the reason.
    pub reason: Option<String>,
    /// Acceptances: until when; expiries: when it ran out.
    pub expires_at: Option<DateTime<Utc>>,
    /// The events the detection or resolution cites.
    pub evidence: Vec<EvidenceRef>,
}

impl From<HistoryRow> for ViolationHistoryEntry {
    fn from(r: HistoryRow) -> Self {
        Self {
            event: EvidenceRef {
                event_id: ID(r.event_id.to_string()),
                sequence: r.sequence,
                hash: r.event_hash,
            },
            evidence: evidence_refs(&r.evidence),
            event_type: r.event_type,
            version: r.version,
            status: r.status,
            severity: r.severity,
            actor: r.actor,
            at: r.at,
            rule_version: r.rule_version,
            change: r.change,
            reason: r.reason,
            expires_at: r.expires_at,
        }
    }
}

/// One rule's verdict on one subject (a source, an asset or a column).
pub struct ViolationGql(pub ViolationRow);

#[Object(name = "Violation")]
impl ViolationGql {
    /// The violation's id (derived from tenant, rule and subject).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The rule's id, e.g. `pci-dss-pan-without-verified-tls`.
    async fn rule(&self) -> &str {
        &self.0.rule_id
    }
    /// The rule version that fired.
    async fn rule_version(&self) -> i32 {
        self.0.rule_version
    }
    /// The rule's title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// gdpr, pci-dss, hipaa or soc2.
    async fn framework(&self) -> &str {
        &self.0.framework
    }
    /// The control cited, e.g. `PCI DSS v4.0 4.2.1`.
    async fn control(&self) -> &str {
        &self.0.control
    }
    /// low, medium, high or critical (as tuned when detected).
    async fn severity(&self) -> &str {
        &self.0.severity
    }
    /// open, accepted or resolved.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// source, asset or column.
    async fn subject_level(&self) -> &str {
        &self.0.subject_level
    }
    /// The data source.
    async fn source_id(&self) -> ID {
        ID(self.0.source_id.to_string())
    }
    /// The asset, for asset and column violations.
    async fn asset_id(&self) -> Option<ID> {
        self.0.asset_id.map(|id| ID(id.to_string()))
    }
    /// The asset's path, e.g. `shop.billing.customers`.
    async fn asset_path(&self) -> Option<&str> {
        self.0.asset_path.as_deref()
    }
    /// The column, for column violations.
    async fn column(&self) -> Option<&str> {
        self.0.column_name.as_deref()
    }
    /// What to do about it.
    async fn remediation(&self) -> &str {
        &self.0.remediation
    }
    /// The facts the rule read to fire, each with the event it rests on.
    async fn facts(&self) -> Vec<ViolationFact> {
        self.0
            .facts()
            .into_iter()
            .map(ViolationFact::from)
            .collect()
    }
    /// The events the facts rest on, by stream sequence.
    async fn evidence(&self) -> Vec<EvidenceRef> {
        self.0
            .evidence()
            .into_iter()
            .map(EvidenceRef::from)
            .collect()
    }
    /// When the violation was (last) opened.
    async fn detected_at(&self) -> DateTime<Utc> {
        self.0.detected_at
    }
    /// When a finding was last recorded for it (a changed finding is recorded again).
    async fn last_detected_at(&self) -> DateTime<Utc> {
        self.0.last_detected_at
    }
    /// When it was resolved; null unless resolved.
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        (self.0.status == "resolved")
            .then_some(self.0.resolved_at)
            .flatten()
    }
    /// How it was resolved; null unless resolved.
    async fn resolution(&self) -> Option<ViolationResolution> {
        let row = &self.0;
        match (&row.status[..], row.resolved_at, &row.resolution_change) {
            ("resolved", Some(resolved_at), Some(change)) => Some(ViolationResolution {
                resolved_at,
                change: change.clone(),
                evidence: row
                    .resolution_evidence()
                    .into_iter()
                    .map(EvidenceRef::from)
                    .collect(),
            }),
            _ => None,
        }
    }
    /// The current risk acceptance; null unless accepted.
    async fn acceptance(&self) -> Option<ViolationAcceptance> {
        let row = &self.0;
        match (
            &row.accepted_by,
            &row.accepted_reason,
            row.accepted_at,
            row.accepted_until,
        ) {
            (Some(by), Some(reason), Some(accepted_at), Some(expires_at)) => {
                Some(ViolationAcceptance {
                    by: by.clone(),
                    reason: reason.clone(),
                    accepted_at,
                    expires_at,
                })
            }
            _ => None,
        }
    }
    /// The violation's version (events recorded).
    async fn version(&self) -> i64 {
        self.0.version
    }
    /// Stream sequence of its latest event.
    async fn sequence(&self) -> i64 {
        self.0.sequence
    }
    /// The last `last` events of the violation (1 to 500), oldest first.
    #[graphql(
        complexity = "crate::graphql::limits::list_cost(last, MAX_HISTORY, child_complexity)"
    )]
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default = 100,
            desc = "How many, 1 to 500; more is a VALIDATION error."
        )]
        last: i32,
    ) -> Result<Vec<ViolationHistoryEntry>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let last = crate::graphql::limits::page_size("last", last, MAX_HISTORY)?;
        // As of a time (see `violations(asOf:)`): the history up to the version it had then.
        let until = self.0.as_of.map(|_| self.0.version);
        let rows = rm::history_until(
            &services.pool,
            caller.tenant.as_str(),
            self.0.id,
            until,
            last,
        )
        .await
        .map_err(|err| internal(&err))?;
        Ok(rows.into_iter().map(ViolationHistoryEntry::from).collect())
    }
}

/// Which violations to list; every field is optional.
#[derive(InputObject, Default)]
#[graphql(name = "ViolationFilter")]
pub struct ViolationFilterInput {
    /// gdpr, pci-dss, hipaa or soc2.
    pub framework: Option<String>,
    /// low, medium, high or critical.
    pub severity: Option<String>,
    /// open, accepted or resolved.
    pub status: Option<String>,
    /// Only violations of this data source.
    pub source_id: Option<ID>,
}

/// A violation and its cursor.
#[derive(SimpleObject)]
pub struct ViolationEdge {
    /// Pass as `after` to continue after this violation.
    pub cursor: String,
    /// The violation.
    pub node: ViolationGql,
}

/// Where a page ends.
#[derive(SimpleObject)]
pub struct ViolationPageInfo {
    /// The cursor of the page's last violation; null on an empty page.
    pub end_cursor: Option<String>,
    /// Whether more violations follow.
    pub has_next_page: bool,
}

/// A page of violations, most severe first.
#[derive(SimpleObject)]
pub struct ViolationConnection {
    /// The violations with their cursors.
    pub edges: Vec<ViolationEdge>,
    /// Where the page ends.
    pub page_info: ViolationPageInfo,
    /// How many violations match the filter (all pages).
    pub total_count: i64,
}

fn cursor_of(row: &ViolationRow) -> String {
    format!("{}:{}", row.severity_rank, row.id)
}

fn parse_cursor(cursor: &str) -> Result<(i16, uuid::Uuid)> {
    cursor
        .split_once(':')
        .and_then(|(rank, id)| Some((rank.parse().ok()?, id.parse().ok()?)))
        .ok_or_else(|| api_error("VALIDATION", "after is not a cursor returned by violations"))
}

#[derive(Default)]
pub struct ComplianceQuery;

#[Object]
impl ComplianceQuery {
    /// The four framework packs (GDPR, PCI DSS, HIPAA, SOC 2) with their rules as your tenant
    /// runs them: whether each framework is enabled, each rule's tuned severity and whether it
    /// is enabled, and your custom rules. Read from your tenant's compliance policy itself.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn compliance_frameworks(&self, ctx: &Context<'_>) -> Result<Vec<ComplianceFramework>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let policy = load_policy(&services.store, &caller.tenant)
            .await
            .map_err(|err| internal(&err))?;
        Ok(builtin_packs()
            .iter()
            .map(|pack| {
                let mut rules: Vec<ComplianceRule> = pack
                    .rules
                    .iter()
                    .map(|r| ComplianceRule::new(&r.definition, &policy, true))
                    .collect();
                rules.extend(
                    policy
                        .custom
                        .values()
                        .filter(|d| d.framework == pack.framework)
                        .map(|d| ComplianceRule::new(d, &policy, false)),
                );
                ComplianceFramework {
                    id: pack.framework.as_str().to_owned(),
                    title: pack.title.clone(),
                    version: framework_version(pack.framework),
                    enabled: policy.enabled(pack.framework),
                    rules,
                }
            })
            .collect())
    }

    /// Each framework's score with its open and accepted violations by severity and its daily
    /// trend: of one source, or of your whole tenant when `sourceId` is omitted. Lists the
    /// enabled frameworks (and disabled ones whose violations are still open or accepted). A
    /// source of another tenant is NOT_FOUND.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity * 4")]
    async fn compliance_scores(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A data source of your tenant; omitted: the whole tenant.")]
        source_id: Option<ID>,
    ) -> Result<Vec<FrameworkScore>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let source = source_id
            .as_ref()
            .map(parse_id)
            .transpose()?
            .map(|id| id.as_uuid());
        if let Some(source) = source {
            // Another tenant's source is as unknown as one that never existed.
            projections::data_sources::get(&services.pool, caller.tenant.as_str(), source)
                .await
                .map_err(|err| internal(&err))?
                .ok_or_else(|| api_error("NOT_FOUND", format!("no data source {source}")))?;
        }
        let scope = super::visibility::scope(caller);
        framework_scores(services, &caller.tenant, source, scope.as_ref()).await
    }

    /// Your tenant's violations, most severe first (then by id), optionally filtered. `after` is
    /// the `endCursor` of the previous page.
    #[graphql(
        complexity = "crate::graphql::limits::list_cost(first, MAX_VIOLATIONS_PAGE, child_complexity)"
    )]
    async fn violations(
        &self,
        ctx: &Context<'_>,
        filter: Option<ViolationFilterInput>,
        #[graphql(
            default = 50,
            desc = "Page size, 1 to 500; more is a VALIDATION error."
        )]
        first: i32,
        #[graphql(desc = "`pageInfo.endCursor` of the previous page.")] after: Option<String>,
        #[graphql(
            desc = "Answer as the violations stood at this time (RFC 3339): each folded from its own events up to then (status open, accepted or resolved then; an acceptance past its expiry counts as expired), the filters judged on that state. Violations detected later are absent; `history` ends at that time. Looks at no more than 2,000 of today's violations."
        )]
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<ViolationConnection> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let limit = crate::graphql::limits::page_size("first", first, MAX_VIOLATIONS_PAGE)?;
        let filter = filter.unwrap_or_default();
        let validation = |e: String| api_error("VALIDATION", e);
        let status = filter
            .status
            .map(|s| match s.trim() {
                "open" | "accepted" | "resolved" => Ok(s.trim().to_owned()),
                other => Err(validation(format!(
                    "unknown status {:?}; expected one of open, accepted, resolved",
                    other.chars().take(40).collect::<String>()
                ))),
            })
            .transpose()?;
        let mut query = ViolationFilter {
            framework: filter
                .framework
                .map(|f| FrameworkId::parse(&f).map(|f| f.as_str().to_owned()))
                .transpose()
                .map_err(validation)?,
            severity: filter
                .severity
                .map(|s| Severity::parse(&s).map(|s| s.as_str().to_owned()))
                .transpose()
                .map_err(validation)?,
            statuses: status.into_iter().collect(),
            source_id: filter
                .source_id
                .as_ref()
                .map(parse_id)
                .transpose()?
                .map(|id| id.as_uuid()),
            after: None,
            limit: limit + 1,
            scope: super::visibility::scope(caller),
        };
        if let Some(at) = as_of {
            let after = after.as_deref().map(parse_cursor).transpose()?;
            let all = super::as_of::violations_at(services, caller, query, at).await?;
            let total_count = all.len() as i64;
            // Today's order: severity rank descending, then id.
            let mut rows: Vec<((i16, uuid::Uuid), ViolationRow)> = all
                .into_iter()
                .filter(|((rank, id), _)| {
                    after.is_none_or(|(r, i)| *rank < r || (*rank == r && *id > i))
                })
                .take(limit as usize + 1)
                .collect();
            let has_next_page = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let cursor = |(rank, id): &(i16, uuid::Uuid)| format!("{rank}:{id}");
            return Ok(ViolationConnection {
                page_info: ViolationPageInfo {
                    end_cursor: rows.last().map(|(key, _)| cursor(key)),
                    has_next_page,
                },
                edges: rows
                    .into_iter()
                    .map(|(key, row)| ViolationEdge {
                        cursor: cursor(&key),
                        node: ViolationGql(row),
                    })
                    .collect(),
                total_count,
            });
        }
        let tenant = caller.tenant.as_str();
        let total_count = rm::count_violations(&services.pool, tenant, &query)
            .await
            .map_err(|err| internal(&err))?;
        query.after = after.as_deref().map(parse_cursor).transpose()?;
        let mut rows = rm::violations(&services.pool, tenant, &query)
            .await
            .map_err(|err| internal(&err))?;
        let has_next_page = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let end_cursor = rows.last().map(cursor_of);
        Ok(ViolationConnection {
            edges: rows
                .into_iter()
                .map(|row| ViolationEdge {
                    cursor: cursor_of(&row),
                    node: ViolationGql(row),
                })
                .collect(),
            page_info: ViolationPageInfo {
                end_cursor,
                has_next_page,
            },
            total_count,
        })
    }

    /// One violation of your tenant, with its history.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn violation(&self, ctx: &Context<'_>, id: ID) -> Result<ViolationGql> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let id = parse_id(&id)?;
        let tenant = caller.tenant.as_str();
        let mut row = rm::violation(&services.pool, tenant, id.as_uuid())
            .await
            .map_err(|err| internal(&err))?;
        // About an asset out of the caller's reach: as if there were none.
        if let (Some(param), Some(asset)) = (
            super::visibility::scope(caller),
            row.as_ref().and_then(|r| r.asset_id),
        ) {
            let visible = projections::visibility::visible_assets(
                &services.pool,
                tenant,
                &[asset],
                Some(&param),
            )
            .await
            .map_err(|err| internal(&err))?;
            if visible.is_empty() {
                row = None;
            }
        }
        row.map(ViolationGql)
            .ok_or_else(|| api_error("NOT_FOUND", format!("no violation {id}")))
    }
}
