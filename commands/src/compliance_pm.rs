//! The compliance process manager: the evaluation loop that keeps every tenant's violations in
//! step with the catalogue's facts, without anyone running `pursight compliance evaluate`.
//!
//! **Input.** A durable JetStream pull consumer ([`NAME`]) over every tenant's events. Each
//! commit is one trigger; [`touched`] maps its events to what they touch (one mapping function,
//! to be extended when new fact events appear):
//!
//! | events | touched | evaluation |
//! |---|---|---|
//! | label events (`AssetClassified`, `ClassificationSuggested/Confirmed/Rejected/Revoked`) | those columns of the asset | incremental |
//! | `SchemaDiscovered`, `SchemaChanged`, `AssetRemoved`, `AssetRestored`, `AssetMetadataChanged`, `StatisticsChanged` | the whole asset | incremental |
//! | `SourceConfigured`, `MonitoringStarted`, `MonitoringStopped`, `HealthAssessed`, scan and classification completed or failed | the source | full pass (lifecycle) |
//! | `SourceArchived` | the source | its open violations resolved |
//! | `CompliancePolicy` events, `AccessPolicy` events (roles, grants) | every source of the tenant | full pass each |
//!
//! **Incremental evaluation** ([`plan`], [`decide`]): for one column's label, the column rules run
//! on that column only (they still see the whole asset), the asset rules on its asset and the
//! source rules on that asset. The violations the touched subjects may have are found without
//! an index: their ids are derived from (tenant, rule, subject) (`violation_id`), so every
//! candidate is loaded directly, side by side. The trade-off: a schema change costs one load per
//! column rule and column the asset ever had; in exchange nothing else (no read model that may
//! lag, no scan of the tenant's violations) is needed. A source rule whose open violation rests
//! on the touched asset and no longer fires there is checked again over all the source's assets.
//!
//! **Deferral.** While a source scans or classifies, and when its history already holds a later
//! event that runs a full pass (scan or classification completed or failed, a configuration
//! change), a trigger is skipped: that later pass covers it. So a scan of 10 000 tables costs
//! one pass, not 10 000 incremental evaluations. The pass after a classification drives the
//! lifecycle `Classified → Validating → Validated` with `ComplianceCheckCompleted`'s counts.
//!
//! **Exactly once.** Every command id derives from the trigger's first event id and the step
//! (`detect:<violation>`, `resolve:<violation>`, `pass:<source>`), so a redelivered trigger
//! appends nothing; the Violation decider records nothing for an unchanged finding either. The
//! full pass keys its commands by the violation and the finding's evidence (see
//! `crate::compliance`), which is as idempotent.
//!
//! **Progress.** The checkpoint is the durable consumer's ack floor: a trigger is acknowledged
//! only after all its commands are appended, so a crash loses nothing (the trigger is
//! redelivered, and appends nothing twice). Messages are acknowledged one by one (explicit acks);
//! the one in progress is kept alive with progress acks during a long pass.
//!
//! **Poison triggers.** A failure of NATS or of a dependency (store, append, conflict, read
//! model unavailable) is retried with backoff for as long as it lasts, and counted in
//! [`ProcessStats::failing`]. A trigger that fails for what it holds (an undecodable commit or
//! history, a command the domain refuses) is tried [`ProcessSettings::poison_attempts`] times,
//! then *parked* through [`TriggerParking`] (the service writes it to `projection_parked` under
//! the name [`NAME`], so `pursight projections parked` and `/metrics` show it), logged as an
//! error, and acknowledged: one bad trigger never stalls the loop. After the fix,
//! `pursight compliance evaluate SOURCE` is the repair (a full pass).
//!
//! **Acceptance expiry.** The same worker keeps an index of accepted violations (filled from the
//! stream's Violation events at start, then from the events it consumes) and, every
//! [`ProcessSettings::expiry_interval`], sends `ExpireAcceptance { now }` to those whose
//! `expires_at` has passed on its [`Clock`] (which tests set). The command id derives from the
//! violation and the expiry, so two workers record one `AcceptanceExpired`.

use crate::compliance::{decode_with_evidence, ComplianceWorkflow, LoadedAsset, SourceScope};
use crate::workflows::KnownAssets;
use crate::{CommandContext, CommandError, CommandHandler};
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::AckKind;
use chrono::{DateTime, Utc};
use domain::access::{Permission, Role};
use domain::access_policy::AccessPolicy;
use domain::asset::{Asset, AssetEvent};
use domain::compliance::engine::{evaluate_columns, evaluate_source};
use domain::compliance::violation::ViolationDetected;
use domain::compliance::{
    violation_id, ActiveRule, AssetFacts, CompliancePolicy, Evidence, Finding, SourceFacts,
    Subject, SubjectLevel, Violation, ViolationCommand, ViolationEvent, ViolationState,
    ViolationStatus,
};
use domain::datasource::{DataSource, DataSourceEvent, LifecycleState};
use domain::{Aggregate, AggregateId, DomainEvent, TenantId};
use eventlog::{CloudEvent, DeliverFrom, StoredCommit};
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tracing::Instrument;
use uuid::Uuid;

/// The durable consumer's name, and the `projection` of the triggers it parks.
pub const NAME: &str = "compliance_pm";
/// The actor its commands are recorded with.
pub const ACTOR: &str = "pursight-compliance";

/// How many violation states and commands are in flight at once for one trigger.
const CONCURRENCY: usize = 16;

// ---------------------------------------------------------------------------------------------
// Clock

/// Where the worker reads "now" for acceptance expiry.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock tests set by hand; it counts its reads (one per expiry round), so a test can wait
/// for a round to have run.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
    reads: Arc<AtomicU64>,
}

impl ManualClock {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(now)),
            reads: Arc::default(),
        }
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    /// The time it shows, without counting a read.
    pub fn now_peek(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many times the clock was read.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::SeqCst)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

// ---------------------------------------------------------------------------------------------
// Trigger mapping

/// What one commit's events touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    /// Labels of these columns of one asset.
    Columns {
        asset: AggregateId,
        columns: BTreeSet<String>,
    },
    /// One asset: its schema, presence or metadata.
    Asset { asset: AggregateId },
    /// Everything of one source: its configuration, monitoring, health, or a finished scan or
    /// classification.
    Source { source: AggregateId },
    /// The source was archived: its open violations are resolved.
    Archived { source: AggregateId },
    /// Every source of the tenant (its compliance policy changed).
    Tenant,
}

impl Touched {
    /// The wider of two touches of one commit (a commit holds one aggregate's events).
    fn merge(self, other: Touched) -> Touched {
        use Touched as T;
        match (self, other) {
            (T::Columns { asset, mut columns }, T::Columns { columns: more, .. }) => {
                columns.extend(more);
                T::Columns { asset, columns }
            }
            (T::Columns { asset, .. }, T::Asset { .. })
            | (T::Asset { asset }, T::Columns { .. } | T::Asset { .. }) => T::Asset { asset },
            (T::Archived { source }, _) | (_, T::Archived { source }) => T::Archived { source },
            (T::Tenant, _) | (_, T::Tenant) => T::Tenant,
            (first, _) => first,
        }
    }
}

/// The label events: each names the one column it is about in `data.column`.
const LABEL_EVENTS: &[&str] = &[
    "AssetClassified",
    "ClassificationSuggested",
    "ClassificationConfirmed",
    "ClassificationRejected",
    "ClassificationRevoked",
];

/// Asset events that change facts of the whole asset. `AssetMetadataChanged` (owner, tags,
/// description) is listed ahead of its arrival; add new asset fact events here.
const ASSET_EVENTS: &[&str] = &[
    "SchemaDiscovered",
    "SchemaChanged",
    "AssetRemoved",
    "AssetRestored",
    "AssetMetadataChanged",
    // The row estimate (`asset.row_estimate`).
    "StatisticsChanged",
];

/// Data source events after which the whole source is evaluated again. `SourceRegistered` is
/// not one: a new source has no assets yet.
const SOURCE_EVENTS: &[&str] = &[
    "SourceConfigured",
    "MonitoringStarted",
    "MonitoringStopped",
    "HealthAssessed",
    "SourceScanCompleted",
    "SourceScanFailed",
    "ClassificationCompleted",
    "ClassificationFailed",
];

/// What one stored event touches, if anything (the mapping every trigger goes through).
pub fn touched(
    aggregate_type: &str,
    aggregate: AggregateId,
    event_name: &str,
    data: &Value,
) -> Option<Touched> {
    if aggregate_type == Asset::NAME {
        if LABEL_EVENTS.contains(&event_name) {
            return Some(match data.get("column").and_then(Value::as_str) {
                Some(column) => Touched::Columns {
                    asset: aggregate,
                    columns: BTreeSet::from([column.to_owned()]),
                },
                None => Touched::Asset { asset: aggregate },
            });
        }
        return ASSET_EVENTS
            .contains(&event_name)
            .then_some(Touched::Asset { asset: aggregate });
    }
    if aggregate_type == DataSource::NAME {
        if event_name == "SourceArchived" {
            return Some(Touched::Archived { source: aggregate });
        }
        return SOURCE_EVENTS
            .contains(&event_name)
            .then_some(Touched::Source { source: aggregate });
    }
    // Roles and grants change who reads every asset of the tenant.
    if aggregate_type == CompliancePolicy::NAME || aggregate_type == AccessPolicy::NAME {
        return Some(Touched::Tenant);
    }
    None
}

/// What a commit touches: the merge of its events' touches.
pub fn touched_by_commit(commit: &StoredCommit) -> Option<Touched> {
    commit
        .events
        .iter()
        .filter_map(|event| {
            let (name, _) = event.name_and_version()?;
            let id = event.aggregateid.parse::<Uuid>().ok()?;
            touched(
                &event.aggregatetype,
                AggregateId::from_uuid(id),
                name,
                &event.data,
            )
        })
        .reduce(Touched::merge)
}

// ---------------------------------------------------------------------------------------------
// The pure incremental core (also what `pursight bench compliance` measures)

/// The columns a trigger touches in one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnScope {
    /// Only these (a label change).
    Only(BTreeSet<String>),
    /// Every column the asset has or ever had (a schema change, removal, metadata change).
    All(BTreeSet<String>),
}

/// A violation a touched subject may have.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub violation_id: AggregateId,
    pub rule_id: String,
    pub level: SubjectLevel,
}

/// The findings on the touched subjects and the violations they may already have.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub findings: Vec<Finding>,
    pub candidates: Vec<Candidate>,
    /// Column subjects evaluated (1 for one column's label).
    pub columns_evaluated: u64,
    /// Rule evaluations made: column rules × columns, plus asset and source rules once.
    pub rule_checks: u64,
}

/// Evaluates the subjects of `asset` that `scope` touches (the asset's own and its source's
/// rules on it, the column rules on the scoped columns), and lists the violations they may have.
/// `asset` is `None` when it is removed: every candidate then resolves.
pub fn plan(
    tenant: &TenantId,
    rules: &[ActiveRule],
    source: &SourceFacts,
    asset_id: Uuid,
    asset: Option<&AssetFacts>,
    scope: &ColumnScope,
) -> Plan {
    let columns: BTreeSet<&str> = match scope {
        ColumnScope::Only(columns) => columns.iter().map(String::as_str).collect(),
        ColumnScope::All(ever) => ever
            .iter()
            .map(String::as_str)
            .chain(
                asset
                    .into_iter()
                    .flat_map(|a| a.columns.iter().map(|c| c.name.as_str())),
            )
            .collect(),
    };
    let findings = asset.map_or_else(Vec::new, |asset| {
        evaluate_columns(rules, source, asset, |c| columns.contains(c))
    });
    let present = |c: &str| asset.is_some_and(|a| a.columns.iter().any(|col| col.name == c));
    let columns_evaluated = columns.iter().filter(|c| present(c)).count() as u64;
    let path = asset.map_or_else(String::new, |a| a.path.clone());
    let mut candidates = Vec::new();
    let mut rule_checks = 0;
    for active in rules {
        let definition = &active.rule.definition;
        let candidate = |subject: &Subject| Candidate {
            violation_id: violation_id(tenant, &definition.id, subject),
            rule_id: definition.id.clone(),
            level: definition.subject,
        };
        match definition.subject {
            SubjectLevel::Source => {
                rule_checks += 1;
                candidates.push(candidate(&Subject::Source {
                    source_id: source.source_id,
                }));
            }
            SubjectLevel::Asset => {
                rule_checks += 1;
                candidates.push(candidate(&Subject::Asset {
                    source_id: source.source_id,
                    asset_id,
                    path: path.clone(),
                }));
            }
            SubjectLevel::Column => {
                rule_checks += columns_evaluated;
                for column in &columns {
                    candidates.push(candidate(&Subject::Column {
                        source_id: source.source_id,
                        asset_id,
                        path: path.clone(),
                        column: (*column).to_owned(),
                    }));
                }
            }
        }
    }
    Plan {
        findings,
        candidates,
        columns_evaluated,
        rule_checks,
    }
}

/// What to do about one violation.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A new or changed finding.
    Detect {
        violation_id: AggregateId,
        finding: Box<Finding>,
    },
    /// An open (or accepted) violation that no longer fires.
    Resolve {
        violation_id: AggregateId,
        detected: Box<ViolationDetected>,
    },
    /// An open source violation resting on the touched asset that no longer fires there: the
    /// rule is checked again over all the source's assets.
    RecheckSource {
        violation_id: AggregateId,
        rule_id: String,
        detected: Box<ViolationDetected>,
    },
}

/// The actions that bring the candidates' violations in line with the plan's findings.
/// `state` gives each candidate's current state (`None`: never detected); `asset_events` are the
/// ids of the touched asset's events (what a source violation resting on it cites).
pub fn decide<'s>(
    tenant: &TenantId,
    plan: &Plan,
    state: impl Fn(&AggregateId) -> Option<&'s ViolationState>,
    asset_events: &HashSet<Uuid>,
) -> Vec<Action> {
    let never = ViolationState::default();
    let mut firing = HashSet::new();
    let mut actions = Vec::new();
    for finding in &plan.findings {
        let id = violation_id(tenant, &finding.rule_id, &finding.subject);
        firing.insert(id);
        let current = state(&id).unwrap_or(&never);
        let open = is_open(current);
        // A source rule fires on some asset; while it is open, the asset it rests on (not
        // necessarily this one) still holds.
        if open && matches!(finding.subject, Subject::Source { .. }) {
            continue;
        }
        let command = ViolationCommand::Detect {
            tenant: tenant.clone(),
            finding: finding.clone(),
        };
        if Violation::decide(current, &command).is_ok_and(|events| events.is_empty()) {
            continue;
        }
        actions.push(Action::Detect {
            violation_id: id,
            finding: Box::new(finding.clone()),
        });
    }
    for candidate in &plan.candidates {
        if firing.contains(&candidate.violation_id) {
            continue;
        }
        let Some(current) = state(&candidate.violation_id) else {
            continue;
        };
        let (true, Some(detected)) = (is_open(current), &current.detected) else {
            continue;
        };
        let detected = Box::new(detected.clone());
        if candidate.level == SubjectLevel::Source {
            if detected
                .evidence
                .iter()
                .any(|e| asset_events.contains(&e.event_id))
            {
                actions.push(Action::RecheckSource {
                    violation_id: candidate.violation_id,
                    rule_id: candidate.rule_id.clone(),
                    detected,
                });
            }
            continue;
        }
        actions.push(Action::Resolve {
            violation_id: candidate.violation_id,
            detected,
        });
    }
    actions
}

fn is_open(state: &ViolationState) -> bool {
    matches!(
        state.status,
        Some(ViolationStatus::Open | ViolationStatus::Accepted { .. })
    )
}

// ---------------------------------------------------------------------------------------------
// The worker

/// Where triggers that cannot be handled are set aside (the service writes them to
/// `projection_parked`).
pub trait TriggerParking: Send + Sync {
    fn park<'a>(&'a self, trigger: &'a ParkedTrigger) -> BoxFuture<'a, Result<(), String>>;
}

/// A trigger set aside, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ParkedTrigger {
    pub sequence: u64,
    /// The first event of the commit, when it could be decoded.
    pub event: Option<CloudEvent>,
    /// From the commit's subject when it could not be decoded.
    pub tenant: String,
    pub aggregate_type: Option<String>,
    pub aggregate_id: Option<String>,
    pub error: String,
}

/// The worker's settings.
#[derive(Debug, Clone)]
pub struct ProcessSettings {
    /// How often a trigger that fails for what it holds is tried before it is parked.
    pub poison_attempts: u32,
    /// The wait after a failure, doubled after each further one, at most 30 s.
    pub retry_backoff: Duration,
    /// How often due acceptances are expired.
    pub expiry_interval: Duration,
}

impl Default for ProcessSettings {
    fn default() -> Self {
        Self {
            poison_attempts: 3,
            retry_backoff: Duration::from_millis(250),
            expiry_interval: Duration::from_secs(60),
        }
    }
}

/// Counters of the worker (exported as metrics).
#[derive(Debug, Default)]
pub struct ProcessStats {
    /// The stream sequence of the last trigger acknowledged.
    pub sequence: AtomicU64,
    /// Commits that touched something and were evaluated (deferred ones included).
    pub triggers: AtomicU64,
    pub detected: AtomicU64,
    pub resolved: AtomicU64,
    pub expired: AtomicU64,
    pub parked: AtomicU64,
    /// Failures in a row of the trigger in progress (0 when healthy).
    pub failing: AtomicU64,
}

/// What one trigger did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerOutcome {
    /// Skipped: a later full pass covers it.
    pub deferred: bool,
    /// Column subjects evaluated incrementally (0 for full passes).
    pub columns_evaluated: u64,
    pub full_passes: u64,
    pub detected: u64,
    pub resolved: u64,
}

/// The compliance process manager.
#[derive(Clone)]
pub struct ComplianceProcess {
    inner: Arc<Inner>,
}

struct Inner {
    workflow: ComplianceWorkflow,
    known: Arc<dyn KnownAssets>,
    parking: Arc<dyn TriggerParking>,
    clock: Arc<dyn Clock>,
    settings: ProcessSettings,
    stats: Arc<ProcessStats>,
    /// Accepted violations: (tenant, violation) → expires_at.
    accepted: Mutex<BTreeMap<(String, AggregateId), DateTime<Utc>>>,
}

/// One trigger: the commit, its tenant and the id its commands derive from.
struct Trigger<'a> {
    commit: &'a StoredCommit,
    first: &'a CloudEvent,
}

impl ComplianceProcess {
    pub fn new(
        handler: CommandHandler,
        known: Arc<dyn KnownAssets>,
        parking: Arc<dyn TriggerParking>,
        clock: Arc<dyn Clock>,
        settings: ProcessSettings,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                workflow: ComplianceWorkflow::new(handler),
                known,
                parking,
                clock,
                settings,
                stats: Arc::default(),
                accepted: Mutex::default(),
            }),
        }
    }

    pub fn stats(&self) -> Arc<ProcessStats> {
        self.inner.stats.clone()
    }

    fn handler(&self) -> &CommandHandler {
        self.inner.workflow.handler()
    }

    /// Runs until `shutdown` turns true.
    pub fn spawn(self, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move { self.run(shutdown).await })
    }

    /// The loop: (re)connects the consumer, handles triggers one by one, expires acceptances
    /// on every tick; failures of NATS are retried with backoff.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = self.inner.settings.retry_backoff;
        let mut indexed = false;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let result = async {
                if !indexed {
                    self.index_acceptances().await?;
                    indexed = true;
                }
                self.consume(&mut shutdown).await
            }
            .await;
            match result {
                Ok(()) => return,
                Err(err) => {
                    tracing::warn!(error = %err, retry_in = ?backoff, "compliance worker interrupted; resuming from its consumer");
                    self.inner.stats.failing.fetch_add(1, Ordering::Relaxed);
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.changed() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }

    async fn consumer(&self) -> Result<pull::Stream, CommandError> {
        let store = self.handler().store();
        let stream = store
            .jetstream()
            .get_stream(store.names().stream())
            .await
            .map_err(unavailable)?;
        let consumer = stream
            .get_or_create_consumer(
                NAME,
                pull::Config {
                    durable_name: Some(NAME.to_owned()),
                    description: Some("PurSight compliance process manager".into()),
                    filter_subject: store.names().all_events(),
                    ack_policy: AckPolicy::Explicit,
                    // A full pass over a large source takes a while; progress acks keep the
                    // trigger in progress alive, this bounds a crashed worker's hold.
                    ack_wait: Duration::from_secs(300),
                    deliver_policy: DeliverPolicy::All,
                    max_ack_pending: 1_000,
                    ..Default::default()
                },
            )
            .await
            .map_err(unavailable)?;
        // Where it resumes: what the lag is measured from until the next acknowledgement.
        let floor = consumer.cached_info().ack_floor.stream_sequence;
        self.inner
            .stats
            .sequence
            .fetch_max(floor, Ordering::Relaxed);
        consumer
            .stream()
            .max_messages_per_batch(16)
            .heartbeat(Duration::from_secs(15))
            .messages()
            .await
            .map_err(unavailable)
    }

    async fn consume(&self, shutdown: &mut watch::Receiver<bool>) -> Result<(), CommandError> {
        let mut incoming = self.consumer().await?;
        let mut ticks = tokio::time::interval(self.inner.settings.expiry_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let message = tokio::select! {
                message = incoming.next() => message,
                _ = ticks.tick() => {
                    if let Err(err) = self.expire_due().await {
                        tracing::warn!(error = %err, "cannot expire acceptances; trying again next round");
                    }
                    continue;
                }
                _ = shutdown.changed() => return Ok(()),
            };
            let message = message
                .ok_or_else(|| unavailable("the consumer's message stream ended"))?
                .map_err(unavailable)?;
            let sequence = message.info().map_err(unavailable)?.stream_sequence;
            let done = {
                let work = self.deliver(sequence, &message.subject, &message.payload, shutdown);
                tokio::pin!(work);
                let mut progress = tokio::time::interval(Duration::from_secs(30));
                progress.tick().await;
                loop {
                    tokio::select! {
                        done = &mut work => break done,
                        _ = progress.tick() => {
                            let _ = message.ack_with(AckKind::Progress).await;
                        }
                    }
                }
            };
            if !done {
                return Ok(()); // shut down mid-trigger: it is redelivered to the next run
            }
            message.ack().await.map_err(unavailable)?;
            self.inner.stats.sequence.store(sequence, Ordering::Relaxed);
        }
    }

    /// Handles one delivered commit until it is done or parked; `false` on shutdown.
    async fn deliver(
        &self,
        sequence: u64,
        subject: &str,
        payload: &[u8],
        shutdown: &mut watch::Receiver<bool>,
    ) -> bool {
        let commit = match StoredCommit::decode(sequence, subject, payload) {
            Ok(commit) => commit,
            Err(err) => {
                let (tenant, aggregate_type, aggregate_id) = self.subject_parts(subject);
                let parked = ParkedTrigger {
                    sequence,
                    event: None,
                    tenant,
                    aggregate_type,
                    aggregate_id,
                    error: err.to_string(),
                };
                return self.park(parked, shutdown).await;
            }
        };
        self.observe(&commit);
        let mut backoff = self.inner.settings.retry_backoff;
        let mut poisoned = 0;
        loop {
            let err = match self.handle(&commit).await {
                Ok(_) => {
                    self.inner.stats.failing.store(0, Ordering::Relaxed);
                    return true;
                }
                Err(err) => err,
            };
            self.inner.stats.failing.fetch_add(1, Ordering::Relaxed);
            if !transient(&err) {
                poisoned += 1;
                if poisoned >= self.inner.settings.poison_attempts {
                    let first = &commit.events[0];
                    let parked = ParkedTrigger {
                        sequence,
                        event: Some(first.clone()),
                        tenant: first.tenant.clone(),
                        aggregate_type: Some(first.aggregatetype.clone()),
                        aggregate_id: Some(first.aggregateid.clone()),
                        error: err.to_string(),
                    };
                    return self.park(parked, shutdown).await;
                }
            }
            tracing::warn!(sequence, error = %err, retry_in = ?backoff, "compliance trigger failed; retrying");
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.changed() => return false,
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }

    /// Parks a trigger, retrying while the parking place is unreachable; `false` on shutdown.
    async fn park(&self, parked: ParkedTrigger, shutdown: &mut watch::Receiver<bool>) -> bool {
        let mut backoff = self.inner.settings.retry_backoff;
        loop {
            match self.inner.parking.park(&parked).await {
                Ok(()) => {
                    tracing::error!(sequence = parked.sequence, tenant = %parked.tenant,
                        aggregate_type = ?parked.aggregate_type, aggregate_id = ?parked.aggregate_id,
                        error = %parked.error, "compliance trigger cannot be handled; parked");
                    self.inner.stats.parked.fetch_add(1, Ordering::Relaxed);
                    self.inner.stats.failing.store(0, Ordering::Relaxed);
                    return true;
                }
                Err(err) => {
                    tracing::warn!(sequence = parked.sequence, error = %err, "cannot park a compliance trigger; retrying");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.changed() => return false,
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }

    /// Tenant, aggregate type and id of `<prefix>.events.<tenant>.<type>.<id>`.
    fn subject_parts(&self, subject: &str) -> (String, Option<String>, Option<String>) {
        let names = self.handler().store().names();
        let events = names.all_events();
        let prefix = events.trim_end_matches('>');
        let parts: Vec<&str> = subject
            .strip_prefix(prefix)
            .map(|rest| rest.split('.').collect())
            .unwrap_or_default();
        match parts.as_slice() {
            [tenant, kind, id] => (
                (*tenant).to_owned(),
                Some((*kind).to_owned()),
                Some((*id).to_owned()),
            ),
            _ => (subject.to_owned(), None, None),
        }
    }

    /// Evaluates what one commit touches and records the outcome. Safe to call again for the
    /// same commit (a redelivery): it appends nothing new.
    pub async fn handle(&self, commit: &StoredCommit) -> Result<TriggerOutcome, CommandError> {
        let Some(touched) = touched_by_commit(commit) else {
            return Ok(TriggerOutcome::default());
        };
        let first = &commit.events[0];
        let span = tracing::info_span!("compliance_trigger", sequence = commit.sequence,
            tenant = %first.tenant, event_type = %first.event_type, aggregate = %first.aggregateid);
        self.inner.stats.triggers.fetch_add(1, Ordering::Relaxed);
        let trigger = Trigger { commit, first };
        let outcome = self
            .handle_touched(&trigger, touched)
            .instrument(span)
            .await?;
        self.inner
            .stats
            .detected
            .fetch_add(outcome.detected, Ordering::Relaxed);
        self.inner
            .stats
            .resolved
            .fetch_add(outcome.resolved, Ordering::Relaxed);
        Ok(outcome)
    }

    async fn handle_touched(
        &self,
        trigger: &Trigger<'_>,
        touched: Touched,
    ) -> Result<TriggerOutcome, CommandError> {
        let tenant = TenantId::parse(&trigger.first.tenant).map_err(|err| {
            CommandError::Validation(format!("the trigger's tenant is not valid: {err}"))
        })?;
        let ctx = self.context(tenant, trigger, "trigger");
        match touched {
            Touched::Columns { asset, columns } => {
                self.evaluate_asset(&ctx, trigger, asset, Some(columns))
                    .await
            }
            Touched::Asset { asset } => self.evaluate_asset(&ctx, trigger, asset, None).await,
            Touched::Source { source } => self.full_pass(&ctx, trigger, source, true).await,
            Touched::Archived { source } => self.resolve_archived(&ctx, trigger, source).await,
            Touched::Tenant => {
                let mut outcome = TriggerOutcome::default();
                for source in tenant_sources(self.handler(), &ctx.tenant).await? {
                    let one = self.full_pass(&ctx, trigger, source, false).await?;
                    outcome.full_passes += one.full_passes;
                    outcome.detected += one.detected;
                    outcome.resolved += one.resolved;
                }
                Ok(outcome)
            }
        }
    }

    /// The worker's context for `tenant`, its command id derived from the trigger and `step`.
    fn context(&self, tenant: TenantId, trigger: &Trigger<'_>, step: &str) -> CommandContext {
        let command_id =
            eventlog::idempotency::derived_command_id(&tenant, &trigger.first.id, step);
        CommandContext {
            tenant,
            actor: ACTOR.to_owned(),
            roles: vec![Role::Admin],
            granted: Vec::new(),
            command_id,
            correlation_id: trigger
                .first
                .correlationid
                .parse()
                .unwrap_or(trigger.first.id),
            causation_id: trigger.first.id,
            traceparent: trigger.first.traceparent.clone(),
        }
    }

    /// Whether a later full pass covers this trigger: the source is scanning or classifying
    /// (its completion runs one), or its history already holds a later source-wide trigger.
    fn deferred(scope: &SourceScope, sequence: u64) -> bool {
        matches!(
            scope.lifecycle,
            LifecycleState::Scanning | LifecycleState::Classifying
        ) || scope
            .events
            .iter()
            .any(|(event, evidence)| evidence.sequence > sequence && source_wide(event))
    }

    async fn full_pass(
        &self,
        ctx: &CommandContext,
        trigger: &Trigger<'_>,
        source: AggregateId,
        check_deferral: bool,
    ) -> Result<TriggerOutcome, CommandError> {
        if check_deferral {
            let Some(scope) = self.inner.workflow.source_scope(ctx, source).await? else {
                return Ok(TriggerOutcome::default());
            };
            if Self::deferred(&scope, trigger.commit.sequence) {
                return Ok(TriggerOutcome {
                    deferred: true,
                    ..Default::default()
                });
            }
        }
        let ctx = self.context(ctx.tenant.clone(), trigger, &format!("pass:{source}"));
        match self
            .inner
            .workflow
            .evaluate_source(&ctx, source, self.inner.known.as_ref())
            .await
        {
            Ok(report) => Ok(TriggerOutcome {
                full_passes: 1,
                detected: report.detected,
                resolved: report.resolved,
                ..Default::default()
            }),
            // Archived (resolved by its own trigger) or gone: nothing to evaluate.
            Err(CommandError::Rejected(_) | CommandError::NotFound(_)) => {
                Ok(TriggerOutcome::default())
            }
            Err(err) => Err(err),
        }
    }

    /// An archived source is no longer evaluated: its open violations are resolved, citing
    /// the archive event.
    async fn resolve_archived(
        &self,
        ctx: &CommandContext,
        trigger: &Trigger<'_>,
        source: AggregateId,
    ) -> Result<TriggerOutcome, CommandError> {
        let evidence = evidence_of(trigger.commit.sequence, trigger.first);
        let open: Vec<AggregateId> = self
            .inner
            .workflow
            .violations_of_source(ctx, source)
            .await?
            .into_iter()
            .filter(|(_, state)| is_open(state))
            .map(|(id, _)| id)
            .collect();
        let mut outcome = TriggerOutcome::default();
        for id in open {
            let command = ViolationCommand::Resolve {
                change: "source.archived".into(),
                evidence: vec![evidence.clone()],
            };
            outcome.resolved += self.record(ctx, trigger, "resolve", id, command).await?.1;
        }
        Ok(outcome)
    }

    /// The incremental evaluation of one asset's touched subjects.
    async fn evaluate_asset(
        &self,
        ctx: &CommandContext,
        trigger: &Trigger<'_>,
        asset: AggregateId,
        columns: Option<BTreeSet<String>>,
    ) -> Result<TriggerOutcome, CommandError> {
        let handler = self.handler();
        let history = handler
            .store()
            .load(&ctx.tenant, Asset::NAME, &asset)
            .await?;
        let events = decode_with_evidence::<Asset>(&history, asset)?;
        let Some(source) = events.iter().find_map(|(event, _)| match event {
            AssetEvent::SchemaDiscovered(e) => Some(e.source_id),
            _ => None,
        }) else {
            return Ok(TriggerOutcome::default());
        };
        let Some(scope) = self.inner.workflow.source_scope(ctx, source).await? else {
            return Ok(TriggerOutcome::default());
        };
        if scope.lifecycle == LifecycleState::Archived {
            return Ok(TriggerOutcome::default());
        }
        if Self::deferred(&scope, trigger.commit.sequence) {
            return Ok(TriggerOutcome {
                deferred: true,
                ..Default::default()
            });
        }
        let loaded = ComplianceWorkflow::asset_in_scope(asset, &events, &scope);
        let scope_columns = match columns {
            Some(columns) => ColumnScope::Only(columns),
            None => ColumnScope::All(columns_ever(&events)),
        };
        let plan = plan(
            &ctx.tenant,
            &scope.rules,
            &scope.facts,
            asset.as_uuid(),
            loaded.present(),
            &scope_columns,
        );
        let mut loads = Vec::with_capacity(plan.candidates.len());
        for candidate in &plan.candidates {
            loads.push(self.violation(ctx, candidate.violation_id));
        }
        let states: HashMap<AggregateId, ViolationState> = futures::stream::iter(loads)
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        let asset_events: HashSet<Uuid> = events.iter().map(|(_, e)| e.event_id).collect();
        let actions = decide(&ctx.tenant, &plan, |id| states.get(id), &asset_events);
        let mut outcome = TriggerOutcome {
            columns_evaluated: plan.columns_evaluated,
            ..Default::default()
        };
        let mut all_assets: Option<Vec<LoadedAsset>> = None;
        let mut rechecks = Vec::new();
        let mut commands = Vec::new();
        for action in actions {
            match action {
                Action::Detect {
                    violation_id,
                    finding,
                } => commands.push((
                    "detect",
                    violation_id,
                    ViolationCommand::Detect {
                        tenant: ctx.tenant.clone(),
                        finding: *finding,
                    },
                )),
                Action::Resolve {
                    violation_id,
                    detected,
                } => {
                    let (change, evidence) = ComplianceWorkflow::resolution_in_scope(
                        &detected,
                        &scope,
                        std::slice::from_ref(&loaded),
                    );
                    commands.push((
                        "resolve",
                        violation_id,
                        ViolationCommand::Resolve { change, evidence },
                    ));
                }
                Action::RecheckSource {
                    violation_id,
                    rule_id,
                    detected,
                } => rechecks.push((violation_id, rule_id, detected)),
            }
        }
        for (violation_id, rule_id, detected) in rechecks {
            if all_assets.is_none() {
                all_assets = Some(
                    self.inner
                        .workflow
                        .assets_in_scope(ctx, &scope, self.inner.known.as_ref())
                        .await?,
                );
            }
            let assets = all_assets.as_deref().unwrap_or_default();
            let present: Vec<AssetFacts> =
                assets.iter().filter_map(|a| a.present().cloned()).collect();
            let rules: Vec<ActiveRule> = scope
                .rules
                .iter()
                .filter(|r| r.rule.definition.id == rule_id)
                .cloned()
                .collect();
            let finding = evaluate_source(&rules, &scope.facts, &present)
                .into_iter()
                .find(|f| matches!(f.subject, Subject::Source { .. }));
            let command = match finding {
                Some(finding) => ViolationCommand::Detect {
                    tenant: ctx.tenant.clone(),
                    finding,
                },
                None => {
                    let (change, evidence) =
                        ComplianceWorkflow::resolution_in_scope(&detected, &scope, assets);
                    ViolationCommand::Resolve { change, evidence }
                }
            };
            let step = match command {
                ViolationCommand::Detect { .. } => "detect",
                _ => "resolve",
            };
            commands.push((step, violation_id, command));
        }
        let mut records = Vec::with_capacity(commands.len());
        for (step, id, command) in commands {
            records.push(self.record(ctx, trigger, step, id, command));
        }
        let recorded: Vec<(bool, u64)> = futures::stream::iter(records)
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        for (detect, n) in recorded {
            if detect {
                outcome.detected += n;
            } else {
                outcome.resolved += n;
            }
        }
        tracing::debug!(
            columns = outcome.columns_evaluated,
            detected = outcome.detected,
            resolved = outcome.resolved,
            "incremental compliance evaluation"
        );
        Ok(outcome)
    }

    /// Executes one Violation command under an id derived from the trigger, `step` and the
    /// violation; returns whether it was a detection and the events it appended (0 for a
    /// redelivered trigger).
    fn record<'a>(
        &'a self,
        ctx: &'a CommandContext,
        trigger: &'a Trigger<'a>,
        step: &'static str,
        id: AggregateId,
        command: ViolationCommand,
    ) -> BoxFuture<'a, Result<(bool, u64), CommandError>> {
        Box::pin(async move {
            let detect = matches!(command, ViolationCommand::Detect { .. });
            let ctx = self.context(ctx.tenant.clone(), trigger, &format!("{step}:{id}"));
            let outcome = self
                .handler()
                .execute::<Violation>(&ctx, Permission::ManageDataSources, id, command)
                .await?;
            let appended = if outcome.duplicate {
                0
            } else {
                outcome.events.len() as u64
            };
            Ok((detect, appended))
        })
    }

    /// One violation's current state.
    fn violation<'a>(
        &'a self,
        ctx: &'a CommandContext,
        id: AggregateId,
    ) -> BoxFuture<'a, Result<(AggregateId, ViolationState), CommandError>> {
        Box::pin(async move {
            let state = self
                .handler()
                .state::<Violation>(ctx, Permission::ReadCatalog, id)
                .await?;
            Ok((id, state))
        })
    }

    // -----------------------------------------------------------------------------------------
    // Acceptance expiry

    /// Fills the index of accepted violations from the stream (once per start).
    async fn index_acceptances(&self) -> Result<(), CommandError> {
        let store = self.handler().store();
        let filter = format!("{}.events.*.{}.*", store.names().prefix(), Violation::NAME);
        let mut commits = store.read_to_end(&filter, DeliverFrom::Start).await?;
        while let Some(commit) = commits.try_next().await? {
            self.observe(&commit);
        }
        Ok(())
    }

    /// Keeps the index of accepted violations up to date with one commit.
    fn observe(&self, commit: &StoredCommit) {
        let mut accepted = self
            .inner
            .accepted
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for event in &commit.events {
            if event.aggregatetype != Violation::NAME {
                continue;
            }
            let (Some((name, version)), Ok(id)) =
                (event.name_and_version(), event.aggregateid.parse::<Uuid>())
            else {
                continue;
            };
            let key = (event.tenant.clone(), AggregateId::from_uuid(id));
            match ViolationEvent::from_stored(name, version, &event.data) {
                Ok(ViolationEvent::ViolationAccepted(e)) => {
                    accepted.insert(key, e.expires_at);
                }
                Ok(ViolationEvent::ViolationResolved(_) | ViolationEvent::AcceptanceExpired(_)) => {
                    accepted.remove(&key);
                }
                _ => {}
            }
        }
    }

    /// Expires every acceptance due at the clock's `now`; returns the `AcceptanceExpired`
    /// events recorded.
    pub async fn expire_due(&self) -> Result<u64, CommandError> {
        let now = self.inner.clock.now();
        let due: Vec<((String, AggregateId), DateTime<Utc>)> = self
            .inner
            .accepted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, expires_at)| **expires_at <= now)
            .map(|(key, expires_at)| (key.clone(), *expires_at))
            .collect();
        let mut expired = 0;
        for ((tenant, id), expires_at) in due {
            let Ok(tenant_id) = TenantId::parse(&tenant) else {
                continue;
            };
            let step = format!("expire:{}", expires_at.to_rfc3339());
            let command_id =
                eventlog::idempotency::derived_command_id(&tenant_id, &id.as_uuid(), &step);
            let ctx = CommandContext {
                causation_id: command_id,
                ..CommandContext::new(tenant_id, ACTOR, vec![Role::Admin], Some(command_id))
            };
            let span = tracing::info_span!("expire_acceptance", %tenant, violation = %id);
            let outcome = self
                .handler()
                .execute::<Violation>(
                    &ctx,
                    Permission::ManageDataSources,
                    id,
                    ViolationCommand::ExpireAcceptance { now },
                )
                .instrument(span)
                .await?;
            if !outcome.duplicate {
                expired += outcome.events.len() as u64;
            }
            let mut accepted = self
                .inner
                .accepted
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if accepted.get(&(tenant.clone(), id)) == Some(&expires_at) {
                accepted.remove(&(tenant, id));
            }
        }
        self.inner
            .stats
            .expired
            .fetch_add(expired, Ordering::Relaxed);
        Ok(expired)
    }
}

/// Every source of `tenant`, from the stream's subjects (no read model that may lag).
pub async fn tenant_sources(
    handler: &CommandHandler,
    tenant: &TenantId,
) -> Result<Vec<AggregateId>, CommandError> {
    let store = handler.store();
    let filter = format!(
        "{}.events.{}.{}.*",
        store.names().prefix(),
        tenant,
        DataSource::NAME
    );
    let stream = store
        .jetstream()
        .get_stream_no_info(store.names().stream())
        .await
        .map_err(unavailable)?;
    let subjects: Vec<(String, usize)> = stream
        .info_with_subjects(&filter)
        .await
        .map_err(unavailable)?
        .try_collect()
        .await
        .map_err(unavailable)?;
    let mut sources: Vec<AggregateId> = subjects
        .into_iter()
        .filter_map(|(subject, _)| {
            let id = subject.rsplit('.').next()?;
            id.parse::<Uuid>().ok().map(AggregateId::from_uuid)
        })
        .collect();
    sources.sort();
    Ok(sources)
}

/// Whether a data source event runs a full pass when it is handled.
fn source_wide(event: &DataSourceEvent) -> bool {
    let name = event.event_type();
    SOURCE_EVENTS.contains(&name) || name == "SourceArchived"
}

/// Every column the asset has had, from its schemas and labels.
fn columns_ever(events: &[(AssetEvent, Evidence)]) -> BTreeSet<String> {
    let mut columns = BTreeSet::new();
    for (event, _) in events {
        match event {
            AssetEvent::SchemaDiscovered(e) => {
                columns.extend(e.schema.columns.iter().map(|c| c.name.clone()))
            }
            AssetEvent::SchemaChanged(e) => {
                columns.extend(e.schema.columns.iter().map(|c| c.name.clone()))
            }
            AssetEvent::AssetClassified(e) => {
                columns.insert(e.column.clone());
            }
            _ => {}
        }
    }
    columns
}

fn evidence_of(sequence: u64, event: &CloudEvent) -> Evidence {
    Evidence {
        event_id: event.id,
        sequence,
        hash: event.hash.clone(),
    }
}

/// Failures of NATS or a dependency: retried for as long as they last, never parked.
fn transient(err: &CommandError) -> bool {
    matches!(
        err,
        CommandError::Store(_)
            | CommandError::Unavailable(_)
            | CommandError::Conflict { .. }
            | CommandError::Append(
                eventlog::AppendError::Conflict { .. } | eventlog::AppendError::Store(_)
            )
    )
}

fn unavailable(err: impl std::fmt::Display) -> CommandError {
    CommandError::Unavailable(format!("NATS: {err}"))
}

#[cfg(test)]
mod tests;
