//! The compliance pass over one source: the facts of the source and its assets are built from
//! their histories (every fact citing the stored event it rests on), the tenant's active rules
//! are evaluated by the pure engine (`domain::compliance::engine`), each finding is recorded on
//! its `Violation` aggregate and each open violation of the source that no longer fires is
//! resolved. The source moves Classified → Validating → Validated around the pass when its
//! lifecycle allows it.
//!
//! The pass is idempotent: the Violation decider records nothing for an unchanged finding or an
//! already resolved violation, and each command id is derived from the violation, its version
//! and the finding's evidence, so a retried pass (or two passes racing) records a change once.
//!
//! An asset's owner, tags and description are its own (`AssetMetadataChanged`), each field it
//! leaves unset inherited from its source's configuration. A label carries `hipaa_phi` only for
//! health data itself or in a health context (`domain::classification::phi`: the source, schema
//! or table names, or the columns beside it).
//!
//! **Readers** (`any role (...)` in a rule) come from the tenant's `AccessPolicy`
//! (`domain::access_policy`): a role reads every asset of the tenant when its permissions include
//! `asset:read` *and* it is held — granted to at least one subject. A role nobody holds reads
//! nothing, so a tenant resolves the HIPAA readers rule by giving its roles `asset:read_phi`,
//! retiring them, or revoking their grants. `admin` is always a reader (somebody administers
//! every tenant; it holds `asset:read_phi`) and keeps citing the source's configuration event;
//! every other role, built-in or custom, cites the later of the event that defined its current
//! permissions (`RoleDefined`/`RoleChanged`, custom roles only) and the `RoleGranted` that made it
//! held. Each reader's `role.permissions` are `read`, plus `read_phi` when it holds
//! `asset:read_phi`. A violation resolved because a role stopped reading (retired, revoked,
//! changed without `asset:read`) cites the AccessPolicy event that ended it.
//!
//! A role with a condition on assets reads only the assets it admits, judged as reads judge it
//! (`AssetCondition::admits`: the asset's source, effective tags and labels not rejected, custom
//! labels counting as medium), so it is a reader of those assets only.
//!
//! Known gaps of this increment, on purpose:
//! - Roles carried only in tokens are not recorded anywhere, so the facts cannot see them: a
//!   built-in role other than `admin` counts as a reader only once it is granted.
//! - Custom labels (from a scan rule set) carry no sensitivity or framework: `low`, none.
//! - The open violations of a source are found by reading the tenant's Violation events from the
//!   stream (there is no compliance read model yet).

use crate::workflows::KnownAssets;
use crate::{CommandContext, CommandError, CommandHandler};
use domain::access::{Permission, Role};
use domain::access_policy::{
    access_policy_id, builtin_permissions, reader_permission_names, AccessPolicy,
    AccessPolicyEvent, AccessPolicyState, AssetCondition,
};
use domain::asset::{Asset, AssetEvent, AssetMetadata, AssetState, EffectiveMetadata};
use domain::classification::phi;
use domain::compliance::engine::{changed_facts, evaluate_source, framework_score, recheck};
use domain::compliance::{
    policy_id, violation_id, ActiveRule, AssetFacts, CitedFact, ColumnFacts, CompliancePolicy,
    CompliancePolicyState, Evidence, FrameworkId, LabelFacts, RoleFacts, Severity, SourceFacts,
    Subject, Violation, ViolationCommand, ViolationState, ViolationStatus,
};
use domain::datasource::{
    ComplianceCounts, DataSource, DataSourceCommand, DataSourceConfig, DataSourceEvent,
    DataSourceState, LifecycleState, SslMode,
};
use domain::{Aggregate, AggregateId, DomainEvent};
use eventlog::{DeliverFrom, History};
use futures::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// How many asset histories are loaded at once.
const LOADING_CONCURRENCY: usize = 32;
/// How many Violation commands are in flight at once.
const RECORDING_CONCURRENCY: usize = 16;
/// The longest `change` a `ViolationResolved` may carry (the aggregate's bound).
const MAX_CHANGE_CHARS: usize = 200;

/// One violation of the source that is open (or accepted) after the pass.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenViolation {
    pub violation_id: AggregateId,
    pub rule_id: String,
    pub title: String,
    pub control: String,
    pub severity: Severity,
    pub subject: Subject,
    /// Accepted by a compliance officer (does not count in the score).
    pub accepted: bool,
}

/// One framework's standing for the source after the pass.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameworkSummary {
    pub framework: FrameworkId,
    /// `framework_score` of the open (not accepted) violations: 100 = nothing open.
    pub score: u8,
    /// Open and accepted violations, by rule id and subject.
    pub violations: Vec<OpenViolation>,
}

/// The outcome of a compliance pass over one source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComplianceReport {
    pub source_id: Option<AggregateId>,
    pub source_name: String,
    /// Subjects the rules looked at: the source, its assets and their columns.
    pub subjects: u64,
    pub findings: u64,
    /// `ViolationDetected` events recorded (new or changed findings).
    pub detected: u64,
    /// `ViolationResolved` events recorded.
    pub resolved: u64,
    /// The enabled frameworks, in id order.
    pub frameworks: Vec<FrameworkSummary>,
    /// Custom rules that no longer check and were not evaluated, with the reason.
    pub broken_rules: Vec<(String, String)>,
    /// The source's lifecycle state after the pass.
    pub lifecycle: Option<LifecycleState>,
}

/// Runs compliance passes.
#[derive(Clone)]
pub struct ComplianceWorkflow {
    handler: CommandHandler,
}

/// The source's catalog metadata: what each of its assets inherits for every field (owner, tags,
/// description) it has not set itself.
#[derive(Debug, Clone, Default, PartialEq)]
struct Metadata {
    source: AssetMetadata,
    /// Who reads every asset of the tenant (the same for all of them).
    readers: Readers,
}

/// The roles that read the tenant's assets, from its AccessPolicy (see the module
/// documentation), besides `admin`.
#[derive(Debug, Clone, Default, PartialEq)]
struct Readers {
    /// Held roles with `asset:read`: name, permission names for rules, evidence, and the
    /// condition that narrows the assets it reads (`None`: every asset).
    roles: Vec<(String, BTreeSet<String>, Evidence, Option<AssetCondition>)>,
    /// The last AccessPolicy event about each role ever named (what ended a former reader).
    last_event: BTreeMap<String, Evidence>,
}

impl Readers {
    /// Folds the tenant's AccessPolicy history.
    fn of(events: &[(AccessPolicyEvent, Evidence)]) -> Self {
        let mut state = AccessPolicyState::default();
        let mut defined: BTreeMap<String, Evidence> = BTreeMap::new();
        let mut held_since: BTreeMap<String, Evidence> = BTreeMap::new();
        let mut last_event = BTreeMap::new();
        for (event, evidence) in events {
            let role = event.role().to_owned();
            let was_held = state.held(&role);
            state = AccessPolicy::evolve(state, event);
            match event {
                AccessPolicyEvent::RoleDefined(_) | AccessPolicyEvent::RoleChanged(_) => {
                    defined.insert(role.clone(), evidence.clone());
                }
                AccessPolicyEvent::RoleRetired(_) => {
                    defined.remove(&role);
                }
                _ => {}
            }
            match (was_held, state.held(&role)) {
                (false, true) => {
                    held_since.insert(role.clone(), evidence.clone());
                }
                (true, false) => {
                    held_since.remove(&role);
                }
                _ => {}
            }
            last_event.insert(role, evidence.clone());
        }
        let roles = held_since
            .into_iter()
            .filter(|(role, _)| role != Role::Admin.as_str())
            .filter_map(|(role, granted)| {
                let names = reader_permission_names(&state.permissions_of(&role)?)?;
                let evidence = match defined.get(&role) {
                    Some(d) if d.sequence > granted.sequence => d.clone(),
                    _ => granted,
                };
                let condition = state.roles.get(&role).and_then(|r| r.condition.clone());
                Some((role, names, evidence, condition))
            })
            .collect();
        Self { roles, last_event }
    }

    /// Every reader of an asset of `source` whose effective tags are `tags` and whose labels
    /// that are not rejected have `sensitivities`: `admin` first, then the held roles by name
    /// whose condition (if any) admits the asset, as reads admit it.
    fn facts(
        &self,
        source: &SourceFacts,
        tags: &[String],
        sensitivities: &[domain::classification::Sensitivity],
    ) -> Vec<RoleFacts> {
        let admin = RoleFacts {
            role: Role::Admin.as_str().to_owned(),
            permissions: reader_permission_names(&builtin_permissions(Role::Admin))
                .unwrap_or_default(),
            // There is no grant event for the bootstrap role: the source's configuration stands
            // for it, as before roles were recorded.
            evidence: source.config_evidence.clone(),
        };
        std::iter::once(admin)
            .chain(
                self.roles
                    .iter()
                    .filter(|(_, _, _, condition)| {
                        condition.as_ref().is_none_or(|c| {
                            c.admits(source.source_id, tags, sensitivities.iter().copied())
                        })
                    })
                    .map(|(role, permissions, evidence, _)| RoleFacts {
                        role: role.clone(),
                        permissions: permissions.clone(),
                        evidence: evidence.clone(),
                    }),
            )
            .collect()
    }
}

impl Metadata {
    fn of(config: &DataSourceConfig, readers: Readers) -> Self {
        let mut tags: Vec<String> = config.tags.iter().map(|t| t.as_str().to_owned()).collect();
        tags.sort();
        tags.dedup();
        Self {
            source: AssetMetadata {
                owner: config.owner.clone(),
                tags,
                description: config.description.clone(),
            },
            readers,
        }
    }

    /// The asset's effective metadata and the event it rests on: the asset's metadata event when
    /// every field is its own, the source's configuration event when it never set any, else the
    /// later of the two (either may be what last changed a fact).
    fn effective(
        &self,
        own: &AssetMetadata,
        own_evidence: Option<&Evidence>,
        source_evidence: &Evidence,
    ) -> (EffectiveMetadata, Evidence) {
        let shown = EffectiveMetadata::of(own, &self.source);
        let all_own = own.owner.is_some() && !own.tags.is_empty() && own.description.is_some();
        let evidence = match own_evidence {
            None => source_evidence,
            Some(own) if all_own => own,
            Some(own) if own.sequence > source_evidence.sequence => own,
            Some(_) => source_evidence,
        };
        (shown, evidence.clone())
    }
}

/// An asset as the pass sees it: its facts (when it is present) and the events that cite it.
pub(crate) struct LoadedAsset {
    id: AggregateId,
    /// `None` when removed or never discovered.
    facts: Option<AssetFacts>,
    /// The removal event of a removed asset (the evidence of a violation resolved by it).
    removal: Option<Evidence>,
}

impl ComplianceWorkflow {
    pub fn new(handler: CommandHandler) -> Self {
        Self { handler }
    }

    /// A full, idempotent compliance pass over `source` (see the module documentation).
    pub fn evaluate_source<'a>(
        &'a self,
        ctx: &'a CommandContext,
        source: AggregateId,
        known: &'a dyn KnownAssets,
    ) -> futures::future::BoxFuture<'a, Result<ComplianceReport, CommandError>> {
        let span = tracing::info_span!("evaluate_compliance", tenant = %ctx.tenant, %source);
        Box::pin(tracing::Instrument::instrument(
            self.run(ctx, source, known),
            span,
        ))
    }

    async fn run(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
        known: &dyn KnownAssets,
    ) -> Result<ComplianceReport, CommandError> {
        // The pass reads histories directly (for their event ids and hashes), so it checks the
        // permission itself; recording violations and moving the lifecycle need this one.
        let permission = Permission::ManageDataSources;
        if !ctx.allows(permission) {
            return Err(CommandError::Forbidden(permission));
        }
        let store = self.handler.store();
        let history = store.load(&ctx.tenant, DataSource::NAME, &source).await?;
        let events = decode::<DataSource>(&history, source)?;
        let (facts, config, state) = source_facts(source, &events)
            .ok_or_else(|| CommandError::NotFound(format!("no data source {source}")))?;
        if state.lifecycle == LifecycleState::Archived {
            return Err(CommandError::Rejected(
                "the data source is archived; it is no longer evaluated".into(),
            ));
        }
        let mut lifecycle = state.lifecycle;
        if lifecycle == LifecycleState::Classified {
            lifecycle = match self
                .handler
                .execute::<DataSource>(
                    &ctx.keyed_follow_up("compliance:start"),
                    permission,
                    source,
                    DataSourceCommand::StartComplianceCheck,
                )
                .await
            {
                Ok(_) => LifecycleState::Validating,
                // Another pass (the process manager's, or a user's) moved it first: go on with
                // the lifecycle it is in now.
                Err(CommandError::Rejected(_)) => self.lifecycle_of(ctx, source).await?,
                Err(err) => return Err(err),
            };
        }

        let policy_history = store
            .load(&ctx.tenant, CompliancePolicy::NAME, &policy_id(&ctx.tenant))
            .await?;
        let policy_events = decode::<CompliancePolicy>(&policy_history, policy_id(&ctx.tenant))?;
        let policy_evidence = policy_events.last().map(|(_, e)| e.clone());
        let policy = policy_events
            .into_iter()
            .fold(CompliancePolicyState::default(), |s, (e, _)| {
                CompliancePolicy::evolve(s, &e)
            });
        let (rules, broken) = policy.active_rules();

        let metadata = Metadata::of(&config, self.readers(ctx).await?);
        let list = known
            .known_assets(&ctx.tenant, source)
            .await
            .map_err(|e| CommandError::Unavailable(format!("cannot list known assets: {e}")))?;
        let loaded: Vec<LoadedAsset> = futures::stream::iter(list.into_iter().map(|(id, _)| id))
            .map(|id| self.load_asset(ctx, id, &facts, &metadata))
            .buffer_unordered(LOADING_CONCURRENCY)
            .try_collect()
            .await?;
        let present: Vec<AssetFacts> = loaded.iter().filter_map(|a| a.facts.clone()).collect();

        let findings = evaluate_source(&rules, &facts, &present);
        let mut report = ComplianceReport {
            source_id: Some(source),
            source_name: facts.name.clone(),
            subjects: 1 + present
                .iter()
                .map(|a| 1 + a.columns.len() as u64)
                .sum::<u64>(),
            findings: findings.len() as u64,
            broken_rules: broken
                .into_iter()
                .map(|(id, e)| (id, e.to_string()))
                .collect(),
            ..Default::default()
        };

        let mut violations = self.source_violations(ctx, source).await?;
        let mut firing = BTreeSet::new();
        let mut to_record = Vec::new();
        for finding in findings {
            let id = violation_id(&ctx.tenant, &finding.rule_id, &finding.subject);
            firing.insert(id);
            let before = violations.get(&id);
            let version = before.map_or(0, |v| v.version);
            // The violation's version and the finding's evidence: a retried pass over the same
            // facts reuses the id (one commit), a later change of the facts gets a new one.
            let mut step = format!(
                "compliance:detect:{version}:{}:{}",
                finding.rule_version,
                finding.severity.as_str()
            );
            for evidence in &finding.evidence {
                step.push(':');
                step.push_str(&evidence.event_id.to_string());
            }
            let command = ViolationCommand::Detect {
                tenant: ctx.tenant.clone(),
                finding,
            };
            // Decided here first only to skip a load and a request for the common case, an
            // unchanged finding; the handler decides again on the stored history.
            let unchanged = before.is_some_and(|before| {
                Violation::decide(before, &command).is_ok_and(|events| events.is_empty())
            });
            if unchanged {
                continue;
            }
            to_record.push((id, derived(ctx, id, &step), command));
        }
        // Different violations are different aggregates: their commands run side by side.
        let recorded: Vec<Result<(AggregateId, u64, ViolationState), CommandError>> =
            futures::stream::iter(to_record)
                .map(|(id, command_ctx, command)| async move {
                    let outcome = self
                        .handler
                        .execute::<Violation>(&command_ctx, permission, id, command)
                        .await?;
                    let new = if outcome.duplicate {
                        0
                    } else {
                        outcome.events.len() as u64
                    };
                    let after = self
                        .handler
                        .state::<Violation>(ctx, Permission::ReadCatalog, id)
                        .await?;
                    Ok((id, new, after))
                })
                .buffer_unordered(RECORDING_CONCURRENCY)
                .collect()
                .await;
        for result in recorded {
            let (id, new, after) = result?;
            report.detected += new;
            violations.insert(id, after);
        }

        let stale: Vec<(AggregateId, ViolationState)> = violations
            .iter()
            .filter(|(id, v)| {
                !firing.contains(id)
                    && matches!(
                        v.status,
                        Some(ViolationStatus::Open | ViolationStatus::Accepted { .. })
                    )
            })
            .map(|(id, v)| (*id, v.clone()))
            .collect();
        for (id, state) in stale {
            let Some(detected) = &state.detected else {
                continue;
            };
            let (change, evidence) = resolution(
                detected,
                &rules,
                &facts,
                &loaded,
                policy_evidence.as_ref(),
                &metadata.readers,
            );
            let step = format!("compliance:resolve:{}", state.version);
            let outcome = self
                .handler
                .execute::<Violation>(
                    &derived(ctx, id, &step),
                    permission,
                    id,
                    ViolationCommand::Resolve { change, evidence },
                )
                .await?;
            if !outcome.duplicate {
                report.resolved += outcome.events.len() as u64;
            }
            if let Some(v) = violations.get_mut(&id) {
                v.status = Some(ViolationStatus::Resolved);
            }
        }

        report.frameworks = summarise(&violations, &rules, &policy);

        if lifecycle == LifecycleState::Validating {
            lifecycle = match self
                .handler
                .execute::<DataSource>(
                    &ctx.keyed_follow_up("compliance:complete"),
                    permission,
                    source,
                    DataSourceCommand::CompleteComplianceCheck {
                        counts: report.counts(),
                    },
                )
                .await
            {
                Ok(_) => LifecycleState::Validated,
                Err(CommandError::Rejected(_)) => self.lifecycle_of(ctx, source).await?,
                Err(err) => return Err(err),
            };
        }
        report.lifecycle = Some(lifecycle);
        tracing::info!(
            subjects = report.subjects,
            findings = report.findings,
            detected = report.detected,
            resolved = report.resolved,
            "compliance pass finished"
        );
        Ok(report)
    }

    /// The readers of the tenant's assets, from its AccessPolicy history.
    async fn readers(&self, ctx: &CommandContext) -> Result<Readers, CommandError> {
        let id = access_policy_id(&ctx.tenant);
        // Opened: a grant and its revocation name the subject in tokens that differ, and only
        // the opened subjects pair them up (an erased subject holds nothing).
        let (history, _) = self
            .handler
            .store()
            .load_opened(&ctx.tenant, AccessPolicy::NAME, &id)
            .await?;
        Ok(Readers::of(&decode::<AccessPolicy>(&history, id)?))
    }

    /// The asset's facts from its full history.
    async fn load_asset(
        &self,
        ctx: &CommandContext,
        id: AggregateId,
        source: &SourceFacts,
        metadata: &Metadata,
    ) -> Result<LoadedAsset, CommandError> {
        let history = self
            .handler
            .store()
            .load(&ctx.tenant, Asset::NAME, &id)
            .await?;
        let events = decode::<Asset>(&history, id)?;
        Ok(asset_facts(id, &events, source, metadata))
    }

    /// Every violation of the tenant on a subject of `source`, folded from the stream.
    async fn source_violations(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
    ) -> Result<BTreeMap<AggregateId, ViolationState>, CommandError> {
        let store = self.handler.store();
        let filter = format!(
            "{}.events.{}.{}.*",
            store.names().prefix(),
            ctx.tenant,
            Violation::NAME
        );
        let commits: Vec<_> = store
            .read_to_end(&filter, DeliverFrom::Start)
            .await?
            .try_collect()
            .await?;
        let mut states: BTreeMap<AggregateId, ViolationState> = BTreeMap::new();
        for commit in commits {
            for event in commit.events {
                let Ok(id) = event
                    .aggregateid
                    .parse::<Uuid>()
                    .map(AggregateId::from_uuid)
                else {
                    continue;
                };
                let decoded = event
                    .name_and_version()
                    .and_then(|(name, version)| {
                        domain::compliance::ViolationEvent::from_stored(name, version, &event.data)
                            .ok()
                    })
                    .ok_or_else(|| CommandError::CorruptHistory {
                        aggregate: format!("{} {id}", Violation::NAME),
                        reason: format!("event {} cannot be read", event.id),
                    })?;
                let state = states.remove(&id).unwrap_or_default();
                states.insert(id, Violation::evolve(state, &decoded));
            }
        }
        states.retain(|_, state| {
            state
                .detected
                .as_ref()
                .is_some_and(|d| d.subject.source_id() == source.as_uuid())
        });
        Ok(states)
    }
}

/// A command of the pass with an id derived from the violation and `step`.
fn derived(ctx: &CommandContext, violation: AggregateId, step: &str) -> CommandContext {
    CommandContext {
        command_id: eventlog::idempotency::derived_command_id(
            &ctx.tenant,
            &violation.as_uuid(),
            step,
        ),
        causation_id: ctx.command_id,
        ..ctx.clone()
    }
}

/// Decodes a full history, each event with the evidence that cites it.
fn decode<A: Aggregate>(
    history: &History,
    id: AggregateId,
) -> Result<Vec<(A::Event, Evidence)>, CommandError> {
    history
        .events
        .iter()
        .map(|stored| {
            let corrupt = |reason: String| CommandError::CorruptHistory {
                aggregate: format!("{} {id}", A::NAME),
                reason,
            };
            let (name, version) = stored.event.name_and_version().ok_or_else(|| {
                corrupt(format!(
                    "event {} has type {:?}",
                    stored.event.id, stored.event.event_type
                ))
            })?;
            let event = A::Event::from_stored(name, version, &stored.event.data)
                .map_err(|err| corrupt(format!("event {}: {err}", stored.event.id)))?;
            Ok((event, evidence_of(stored)))
        })
        .collect()
}

fn evidence_of(stored: &eventlog::StoredEvent) -> Evidence {
    Evidence {
        event_id: stored.event.id,
        sequence: stored.sequence,
        hash: stored.event.hash.clone(),
    }
}

/// The source's posture from its history, with its configuration and state.
fn source_facts(
    source: AggregateId,
    events: &[(DataSourceEvent, Evidence)],
) -> Option<(SourceFacts, DataSourceConfig, DataSourceState)> {
    let mut state = DataSourceState::default();
    let mut config_evidence = None;
    let mut monitoring: Option<Evidence> = None;
    let mut health = None;
    for (event, evidence) in events {
        match event {
            DataSourceEvent::SourceRegistered(_) | DataSourceEvent::SourceConfigured(_) => {
                config_evidence = Some(evidence.clone())
            }
            DataSourceEvent::MonitoringStarted(_) => monitoring = Some(evidence.clone()),
            DataSourceEvent::SourceArchived(_) => monitoring = None,
            DataSourceEvent::HealthAssessed(e) => {
                health = Some((e.assessment.status, evidence.clone()))
            }
            _ => {}
        }
        state = DataSource::evolve(state, event);
    }
    let config = state.config.clone()?;
    let config_evidence = config_evidence?;
    let facts = SourceFacts {
        source_id: source.as_uuid(),
        name: config.name.as_str().to_owned(),
        kind: config.kind,
        tls_mode: config
            .ssl_config
            .as_ref()
            .map_or(SslMode::Disable, |ssl| ssl.mode),
        location: config.location,
        cloud_provider: config.cloud_provider,
        region: config.cloud_config.as_ref().and_then(|c| c.region.clone()),
        environment: config.environment,
        has_replica: config
            .replica_config
            .as_ref()
            .is_some_and(|r| r.replica_host.is_some()),
        credentials_encrypted: config.use_encryption,
        monitoring: monitoring.is_some(),
        monitoring_evidence: monitoring.unwrap_or_else(|| config_evidence.clone()),
        config_evidence,
        health,
    };
    Some((facts, config, state))
}

/// One asset's facts from its history; `facts` is `None` for a removed asset.
fn asset_facts(
    id: AggregateId,
    events: &[(AssetEvent, Evidence)],
    source: &SourceFacts,
    metadata: &Metadata,
) -> LoadedAsset {
    let mut state = AssetState::default();
    let mut schema_evidence = None;
    // The row estimate is also refreshed on its own (`StatisticsChanged`).
    let mut statistics_evidence = None;
    let mut removal = None;
    let mut label_evidence: BTreeMap<(String, String), Evidence> = BTreeMap::new();
    let mut metadata_evidence = None;
    for (event, evidence) in events {
        match event {
            AssetEvent::AssetMetadataChanged(_) => metadata_evidence = Some(evidence.clone()),
            AssetEvent::SchemaDiscovered(_)
            | AssetEvent::SchemaChanged(_)
            | AssetEvent::AssetRestored(_) => {
                schema_evidence = Some(evidence.clone());
                statistics_evidence = Some(evidence.clone());
                removal = None;
            }
            AssetEvent::StatisticsChanged(_) => statistics_evidence = Some(evidence.clone()),
            AssetEvent::AssetRemoved(_) => removal = Some(evidence.clone()),
            AssetEvent::AssetClassified(e) => {
                label_evidence.insert((e.column.clone(), e.label.to_string()), evidence.clone());
            }
            AssetEvent::ClassificationSuggested(e) => {
                label_evidence.insert((e.column.clone(), e.label.to_string()), evidence.clone());
            }
            AssetEvent::ClassificationConfirmed(e) => {
                label_evidence.insert((e.column.clone(), e.label.to_string()), evidence.clone());
            }
            AssetEvent::ClassificationRejected(e) => {
                label_evidence.insert((e.column.clone(), e.label.to_string()), evidence.clone());
            }
            AssetEvent::ClassificationRevoked(e) => {
                label_evidence.remove(&(e.column.clone(), e.label.to_string()));
            }
            _ => {}
        }
        state = Asset::evolve(state, event);
    }
    let (Some(schema), Some(schema_evidence), false) =
        (&state.schema, schema_evidence, state.removed)
    else {
        return LoadedAsset {
            id,
            facts: None,
            removal,
        };
    };
    // Whether HIPAA applies to the asset's identifiers: its source, schema and table names and
    // its columns (with the labels not rejected) decide; a classifier's own finding counts too.
    let mut places = vec![("source".to_owned(), source.name.clone())];
    places.extend(domain::classification::TableProfile::places_of(
        schema.path.segments(),
    ));
    places.push(("table".to_owned(), schema.path.name().to_owned()));
    let places: Vec<(&str, &str)> = places
        .iter()
        .map(|(what, name)| (what.as_str(), name.as_str()))
        .collect();
    let mut siblings: Vec<(&str, Option<domain::classification::ClassificationType>)> = schema
        .columns
        .iter()
        .map(|c| (c.name.as_str(), None))
        .collect();
    siblings.extend(
        state
            .labels
            .iter()
            .filter(|l| l.status != domain::asset::LabelStatus::Rejected)
            .filter_map(|l| Some((l.column.as_str(), Some(l.label.built_in()?)))),
    );
    let health = phi::health_context(&places, &siblings).is_some();
    let mut columns: Vec<ColumnFacts> = schema
        .columns
        .iter()
        .map(|column| ColumnFacts {
            name: column.name.clone(),
            data_type: column.data_type.clone(),
            labels: state
                .labels
                .iter()
                .filter(|l| l.column == column.name)
                .map(|l| {
                    let built_in = l.label.built_in();
                    LabelFacts {
                        label: l.label.clone(),
                        status: l.status,
                        sensitivity: built_in
                            .map_or(domain::classification::Sensitivity::Low, |t| {
                                t.sensitivity()
                            }),
                        frameworks: built_in.map_or_else(Vec::new, |t| {
                            phi::label_frameworks(t, &l.signals, health)
                        }),
                        confidence: l.confidence,
                        hashed: domain::classification::stored::stored_hashed(&l.signals),
                        evidence: label_evidence
                            .get(&(l.column.clone(), l.label.to_string()))
                            .cloned()
                            .unwrap_or_else(|| schema_evidence.clone()),
                    }
                })
                .collect(),
        })
        .collect();
    columns.sort_by(|a, b| a.name.cmp(&b.name));
    let (shown, metadata_evidence) = metadata.effective(
        &state.metadata,
        metadata_evidence.as_ref(),
        &source.config_evidence,
    );
    // Sensitivity as reads judge it.
    let sensitivities: Vec<domain::classification::Sensitivity> = state
        .labels
        .iter()
        .filter(|l| l.status != domain::asset::LabelStatus::Rejected)
        .map(|l| AssetCondition::sensitivity_of(l.label.as_str()))
        .collect();
    let readers = metadata.readers.facts(source, &shown.tags, &sensitivities);
    let facts = AssetFacts {
        asset_id: id.as_uuid(),
        path: schema.path.to_string(),
        kind: schema.kind,
        row_estimate: schema
            .row_estimate
            .and_then(|rows| u64::try_from(rows).ok())
            .map(|rows| {
                let evidence = statistics_evidence.unwrap_or_else(|| schema_evidence.clone());
                (rows, evidence)
            }),
        schema_evidence,
        tags: shown.tags.into_iter().collect(),
        // The compliance condition language compares the owner's name.
        owner: shown.owner.map(|o| o.name),
        description: shown.description,
        metadata_evidence,
        columns,
        readers,
    };
    LoadedAsset {
        id,
        facts: Some(facts),
        removal: None,
    }
}

/// Why an open violation no longer fires (`change`) and the events that show it.
fn resolution(
    detected: &domain::compliance::violation::ViolationDetected,
    rules: &[ActiveRule],
    source: &SourceFacts,
    assets: &[LoadedAsset],
    policy_evidence: Option<&Evidence>,
    readers: &Readers,
) -> (String, Vec<Evidence>) {
    let Some(rule) = rules
        .iter()
        .find(|r| r.rule.definition.id == detected.rule_id)
    else {
        // The framework was disabled, the rule tuned off or retired.
        return (
            "policy.rule_not_evaluated".into(),
            policy_evidence.cloned().into_iter().collect(),
        );
    };
    let asset = match &detected.subject {
        Subject::Source { .. } => {
            let mut present: Vec<&AssetFacts> =
                assets.iter().filter_map(|a| a.facts.as_ref()).collect();
            present.sort_by(|a, b| a.path.cmp(&b.path));
            present.first().copied()
        }
        Subject::Asset { asset_id, .. } | Subject::Column { asset_id, .. } => {
            let loaded = assets.iter().find(|a| a.id.as_uuid() == *asset_id);
            match loaded.and_then(|a| a.facts.as_ref()) {
                Some(facts) => Some(facts),
                None => {
                    return (
                        "asset.removed".into(),
                        loaded.and_then(|a| a.removal.clone()).into_iter().collect(),
                    )
                }
            }
        }
    };
    let Some(asset) = asset else {
        return ("source.assets".into(), vec![source.config_evidence.clone()]);
    };
    match recheck(&rule.rule, &detected.subject, source, asset) {
        None => ("column.removed".into(), vec![asset.schema_evidence.clone()]),
        Some((_, facts)) => {
            let changed = changed_facts(&detected.facts, &facts);
            // A role the finding cited that reads the asset no longer (retired, revoked,
            // changed without `asset:read`) has no fact left to show it: the AccessPolicy event
            // that ended it is the proof.
            let now: BTreeSet<&str> = asset.readers.iter().map(|r| r.role.as_str()).collect();
            let gone: Vec<Evidence> = detected
                .facts
                .iter()
                .filter_map(|f| f.role.as_deref())
                .filter(|role| !now.contains(role))
                .filter_map(|role| readers.last_event.get(role).cloned())
                .collect();
            let cited: &[CitedFact] = match (changed.is_empty(), gone.is_empty()) {
                (true, false) => &[],
                (true, true) => &facts,
                (false, _) => &changed,
            };
            let mut paths: Vec<String> = cited.iter().map(|f| f.fact.to_string()).collect();
            if !gone.is_empty() {
                paths.push("asset.readers".into());
            }
            paths.sort();
            paths.dedup();
            let mut change = paths.join(", ");
            if change.is_empty() {
                change = "facts".into();
            }
            if change.chars().count() > MAX_CHANGE_CHARS {
                change = change
                    .chars()
                    .take(MAX_CHANGE_CHARS - 1)
                    .collect::<String>()
                    + "…";
            }
            let mut evidence: Vec<Evidence> = cited.iter().map(|f| f.evidence.clone()).collect();
            evidence.extend(gone);
            evidence.sort_by_key(|e| (e.sequence, e.event_id));
            evidence.dedup();
            (change, evidence)
        }
    }
}

/// Per enabled framework: the score and the open and accepted violations.
fn summarise(
    violations: &BTreeMap<AggregateId, ViolationState>,
    rules: &[ActiveRule],
    policy: &CompliancePolicyState,
) -> Vec<FrameworkSummary> {
    FrameworkId::ALL
        .into_iter()
        .filter(|f| policy.enabled(*f))
        .map(|framework| {
            let mut open: Vec<OpenViolation> = violations
                .iter()
                .filter_map(|(id, v)| {
                    let d = v.detected.as_ref()?;
                    let accepted = match v.status? {
                        ViolationStatus::Open => false,
                        ViolationStatus::Accepted { .. } => true,
                        ViolationStatus::Resolved => return None,
                    };
                    (d.framework == framework).then(|| OpenViolation {
                        violation_id: *id,
                        rule_id: d.rule_id.clone(),
                        title: rules
                            .iter()
                            .find(|r| r.rule.definition.id == d.rule_id)
                            .map_or_else(String::new, |r| r.rule.definition.title.clone()),
                        control: d.control.clone(),
                        severity: d.severity,
                        subject: d.subject.clone(),
                        accepted,
                    })
                })
                .collect();
            open.sort_by(|a, b| {
                (b.severity, &a.rule_id, subject_text(&a.subject)).cmp(&(
                    a.severity,
                    &b.rule_id,
                    subject_text(&b.subject),
                ))
            });
            FrameworkSummary {
                framework,
                score: framework_score(open.iter().filter(|v| !v.accepted).map(|v| v.severity)),
                violations: open,
            }
        })
        .collect()
}

/// A subject for people: `source`, `db.schema.table` or `db.schema.table.column`.
pub fn subject_text(subject: &Subject) -> String {
    match subject {
        Subject::Source { .. } => "(the source)".into(),
        Subject::Asset { path, .. } => path.clone(),
        Subject::Column { path, column, .. } => format!("{path}.{column}"),
    }
}

impl ComplianceReport {
    /// What `ComplianceCheckCompleted` records: the subjects looked at and the source's
    /// violations open (by severity) and accepted after the pass.
    pub fn counts(&self) -> ComplianceCounts {
        let mut counts = ComplianceCounts {
            subjects: self.subjects,
            ..ComplianceCounts::default()
        };
        for violation in self.frameworks.iter().flat_map(|f| &f.violations) {
            let slot = match (violation.accepted, violation.severity) {
                (true, _) => &mut counts.accepted,
                (false, Severity::Critical) => &mut counts.open_critical,
                (false, Severity::High) => &mut counts.open_high,
                (false, Severity::Medium) => &mut counts.open_medium,
                (false, Severity::Low) => &mut counts.open_low,
            };
            *slot += 1;
        }
        counts
    }
}

/// A source's facts and the tenant's active rules, as the compliance process manager
/// (`crate::compliance_pm`) evaluates a few subjects of it.
pub(crate) struct SourceScope {
    pub(crate) id: AggregateId,
    pub(crate) facts: SourceFacts,
    pub(crate) lifecycle: LifecycleState,
    /// The source's events, each with the evidence (and stream sequence) that cites it.
    pub(crate) events: Vec<(DataSourceEvent, Evidence)>,
    pub(crate) rules: Vec<ActiveRule>,
    /// The latest policy event (the evidence of a resolution by a disabled rule).
    pub(crate) policy_evidence: Option<Evidence>,
    metadata: Metadata,
}

/// The pieces of the pass the process manager reuses, so that an incremental evaluation builds
/// facts and resolutions exactly as the full pass does.
impl ComplianceWorkflow {
    pub(crate) fn handler(&self) -> &CommandHandler {
        &self.handler
    }

    /// The source's lifecycle state now.
    async fn lifecycle_of(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
    ) -> Result<LifecycleState, CommandError> {
        Ok(self
            .handler
            .state::<DataSource>(ctx, Permission::ReadCatalog, source)
            .await?
            .lifecycle)
    }

    /// The source's facts and the tenant's rules; `None` when the source does not exist.
    pub(crate) async fn source_scope(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
    ) -> Result<Option<SourceScope>, CommandError> {
        let store = self.handler.store();
        let history = store.load(&ctx.tenant, DataSource::NAME, &source).await?;
        let events = decode::<DataSource>(&history, source)?;
        let Some((facts, config, state)) = source_facts(source, &events) else {
            return Ok(None);
        };
        let policy_history = store
            .load(&ctx.tenant, CompliancePolicy::NAME, &policy_id(&ctx.tenant))
            .await?;
        let policy_events = decode::<CompliancePolicy>(&policy_history, policy_id(&ctx.tenant))?;
        let policy_evidence = policy_events.last().map(|(_, e)| e.clone());
        let policy = policy_events
            .into_iter()
            .fold(CompliancePolicyState::default(), |s, (e, _)| {
                CompliancePolicy::evolve(s, &e)
            });
        let (rules, _broken) = policy.active_rules();
        Ok(Some(SourceScope {
            id: source,
            facts,
            lifecycle: state.lifecycle,
            events,
            rules,
            policy_evidence,
            metadata: Metadata::of(&config, self.readers(ctx).await?),
        }))
    }

    /// One asset of `scope` from its decoded history.
    pub(crate) fn asset_in_scope(
        id: AggregateId,
        events: &[(AssetEvent, Evidence)],
        scope: &SourceScope,
    ) -> LoadedAsset {
        asset_facts(id, events, &scope.facts, &scope.metadata)
    }

    /// Every asset the catalog knows for the source of `scope`, loaded.
    pub(crate) async fn assets_in_scope(
        &self,
        ctx: &CommandContext,
        scope: &SourceScope,
        known: &dyn KnownAssets,
    ) -> Result<Vec<LoadedAsset>, CommandError> {
        let list = known
            .known_assets(&ctx.tenant, scope.id)
            .await
            .map_err(|e| CommandError::Unavailable(format!("cannot list known assets: {e}")))?;
        futures::stream::iter(list.into_iter().map(|(id, _)| id))
            .map(|id| self.load_asset(ctx, id, &scope.facts, &scope.metadata))
            .buffer_unordered(LOADING_CONCURRENCY)
            .try_collect()
            .await
    }

    /// Why `detected` no longer fires, as the full pass says it.
    pub(crate) fn resolution_in_scope(
        detected: &domain::compliance::violation::ViolationDetected,
        scope: &SourceScope,
        assets: &[LoadedAsset],
    ) -> (String, Vec<Evidence>) {
        resolution(
            detected,
            &scope.rules,
            &scope.facts,
            assets,
            scope.policy_evidence.as_ref(),
            &scope.metadata.readers,
        )
    }

    /// Every violation of the tenant on a subject of `source`.
    pub(crate) async fn violations_of_source(
        &self,
        ctx: &CommandContext,
        source: AggregateId,
    ) -> Result<BTreeMap<AggregateId, ViolationState>, CommandError> {
        self.source_violations(ctx, source).await
    }
}

impl LoadedAsset {
    pub(crate) fn present(&self) -> Option<&AssetFacts> {
        self.facts.as_ref()
    }
}

/// Decodes a full history, each event with the evidence that cites it.
pub(crate) fn decode_with_evidence<A: Aggregate>(
    history: &History,
    id: AggregateId,
) -> Result<Vec<(A::Event, Evidence)>, CommandError> {
    decode::<A>(history, id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::asset::{
        AssetClassified, AssetRemoved, ClassificationRejected, LabelOrigin, LabelStatus,
        SchemaDiscovered,
    };
    use domain::classification::{ClassificationType, Label};
    use domain::datasource::{DataSourceKind, Location};
    use domain::discovery::{AssetKind, AssetPath, AssetSchema, ColumnSchema, Fingerprint};

    #[test]
    fn readers_are_held_roles_that_read_assets_citing_what_made_them_readers() {
        use domain::access_policy::{RoleChanged, RoleDefined, RoleGranted, RoleRetired};
        let defined = AccessPolicyEvent::RoleDefined(RoleDefined {
            role: "analyst".into(),
            permissions: vec!["asset:read".into()],
            description: String::new(),
            condition: None,
        });
        let granted = |role: &str| {
            AccessPolicyEvent::RoleGranted(RoleGranted {
                subject: "kim@clinic.test".into(),
                role: role.into(),
            })
        };
        // Defined but held by nobody: reads nothing.
        let readers = Readers::of(&[(defined.clone(), ev(10))]);
        assert!(readers.roles.is_empty());
        let mut history = vec![
            (defined, ev(10)),
            (granted("analyst"), ev(11)),
            (granted("viewer"), ev(12)),
        ];
        let readers = Readers::of(&history);
        let read = BTreeSet::from(["read".to_owned()]);
        assert_eq!(
            readers.roles,
            vec![
                ("analyst".to_owned(), read.clone(), ev(11), None),
                ("viewer".to_owned(), read, ev(12), None),
            ]
        );
        history.push((
            AccessPolicyEvent::RoleChanged(RoleChanged {
                role: "analyst".into(),
                permissions: vec!["asset:read".into(), "asset:read_phi".into()],
                description: String::new(),
                condition: None,
            }),
            ev(13),
        ));
        let readers = Readers::of(&history);
        assert_eq!(
            readers.roles[0],
            (
                "analyst".to_owned(),
                BTreeSet::from(["read".to_owned(), "read_phi".to_owned()]),
                ev(13),
                None
            )
        );
        history.push((
            AccessPolicyEvent::RoleRetired(RoleRetired {
                role: "analyst".into(),
            }),
            ev(14),
        ));
        let readers = Readers::of(&history);
        assert_eq!(readers.roles.len(), 1);
        assert_eq!(readers.last_event["analyst"], ev(14));
    }

    fn ev(n: u64) -> Evidence {
        Evidence {
            event_id: Uuid::from_u128(u128::from(n)),
            sequence: n,
            hash: format!("h{n}"),
        }
    }

    fn source() -> SourceFacts {
        SourceFacts {
            source_id: Uuid::from_u128(100),
            name: "shop".into(),
            kind: DataSourceKind::Postgresql,
            tls_mode: SslMode::Disable,
            location: Location::OnPrem,
            cloud_provider: None,
            region: None,
            environment: None,
            has_replica: false,
            credentials_encrypted: false,
            config_evidence: ev(1),
            monitoring: false,
            monitoring_evidence: ev(1),
            health: None,
        }
    }

    #[test]
    fn a_label_cites_the_event_that_gave_it_its_status_and_a_removed_asset_only_its_removal() {
        let asset = AggregateId::from_uuid(Uuid::from_u128(7));
        let scan = AggregateId::from_uuid(Uuid::from_u128(8));
        let mut schema = AssetSchema::new(
            AssetKind::Table,
            AssetPath::new(["shop", "public", "cards"]).unwrap(),
        );
        schema.columns.push(ColumnSchema::new("pan", "text", 1));
        let card = Label::BuiltIn(ClassificationType::CreditCardNumber);
        let mut events = vec![
            (
                AssetEvent::SchemaDiscovered(SchemaDiscovered {
                    asset_id: asset,
                    source_id: AggregateId::from_uuid(Uuid::from_u128(100)),
                    scan_id: scan,
                    fingerprint: Fingerprint::of(&schema),
                    schema,
                }),
                ev(2),
            ),
            (
                AssetEvent::AssetClassified(AssetClassified {
                    asset_id: asset,
                    column: "pan".into(),
                    label: card.clone(),
                    confidence: 0.97,
                    signals: Vec::new(),
                    evidence_key: "k".into(),
                    origin: LabelOrigin::Classifier,
                    rule_set: None,
                }),
                ev(3),
            ),
        ];
        let metadata = Metadata {
            source: AssetMetadata {
                owner: Some(domain::owner::Owner::untyped("payments")),
                ..Default::default()
            },
            ..Default::default()
        };
        let facts = asset_facts(asset, &events, &source(), &metadata)
            .facts
            .unwrap();
        assert_eq!(facts.path, "shop.public.cards");
        assert_eq!(facts.schema_evidence, ev(2));
        assert_eq!(facts.owner.as_deref(), Some("payments"));
        let label = &facts.columns[0].labels[0];
        assert_eq!(
            (label.status, &label.evidence),
            (LabelStatus::Applied, &ev(3))
        );
        // Without grants only admin reads, and admin may read PHI.
        assert_eq!(facts.readers.len(), 1);
        assert_eq!(facts.readers[0].role, "admin");
        assert!(facts.readers[0]
            .permissions
            .contains(domain::compliance::PHI_PERMISSION));

        events.push((
            AssetEvent::ClassificationRejected(ClassificationRejected {
                asset_id: asset,
                column: "pan".into(),
                label: card,
                evidence_key: "k".into(),
                reason: None,
            }),
            ev(4),
        ));
        let facts = asset_facts(asset, &events, &source(), &metadata)
            .facts
            .unwrap();
        let label = &facts.columns[0].labels[0];
        assert_eq!(
            (label.status, &label.evidence),
            (LabelStatus::Rejected, &ev(4))
        );

        events.push((
            AssetEvent::AssetRemoved(AssetRemoved {
                asset_id: asset,
                scan_id: scan,
            }),
            ev(5),
        ));
        let removed = asset_facts(asset, &events, &source(), &metadata);
        assert!(removed.facts.is_none());
        assert_eq!(removed.removal, Some(ev(5)));
    }

    #[test]
    fn a_role_whose_condition_excludes_an_asset_is_not_one_of_its_readers() {
        use domain::access_policy::{RoleDefined, RoleGranted};
        let analyst = AccessPolicyEvent::RoleDefined(RoleDefined {
            role: "analyst".into(),
            permissions: vec!["asset:read".into()],
            description: String::new(),
            condition: Some(AssetCondition {
                max_sensitivity: Some(domain::classification::Sensitivity::High),
                ..AssetCondition::default()
            }),
        });
        let granted = AccessPolicyEvent::RoleGranted(RoleGranted {
            subject: "kim@clinic.test".into(),
            role: "analyst".into(),
        });
        let metadata = Metadata {
            readers: Readers::of(&[(analyst, ev(10)), (granted, ev(11))]),
            ..Default::default()
        };
        let (asset, mut events) = table(["shop", "public", "cards"], &["pan"]);
        let roles = |events: &[(AssetEvent, Evidence)]| -> Vec<String> {
            asset_facts(asset, events, &source(), &metadata)
                .facts
                .unwrap()
                .readers
                .into_iter()
                .map(|r| r.role)
                .collect()
        };
        // Nothing critical yet: the analyst reads it, as `assets` would list it to them.
        assert_eq!(roles(&events), ["admin", "analyst"]);
        let card = Label::BuiltIn(ClassificationType::CreditCardNumber);
        events.push((
            AssetEvent::AssetClassified(AssetClassified {
                asset_id: asset,
                column: "pan".into(),
                label: card.clone(),
                confidence: 0.97,
                signals: Vec::new(),
                evidence_key: "k".into(),
                origin: LabelOrigin::Classifier,
                rule_set: None,
            }),
            ev(3),
        ));
        // Card numbers are critical: out of the analyst's reach, so not among its readers.
        assert_eq!(roles(&events), ["admin"]);
        events.push((
            AssetEvent::ClassificationRejected(ClassificationRejected {
                asset_id: asset,
                column: "pan".into(),
                label: card,
                evidence_key: "k".into(),
                reason: None,
            }),
            ev(4),
        ));
        assert_eq!(roles(&events), ["admin", "analyst"]);
    }

    fn table(path: [&str; 3], columns: &[&str]) -> (AggregateId, Vec<(AssetEvent, Evidence)>) {
        let asset = AggregateId::from_uuid(Uuid::from_u128(70));
        let mut schema = AssetSchema::new(AssetKind::Table, AssetPath::new(path).unwrap());
        for (i, name) in columns.iter().enumerate() {
            schema
                .columns
                .push(ColumnSchema::new(*name, "text", i as u32 + 1));
        }
        let discovered = AssetEvent::SchemaDiscovered(SchemaDiscovered {
            asset_id: asset,
            source_id: AggregateId::from_uuid(Uuid::from_u128(100)),
            scan_id: AggregateId::from_uuid(Uuid::from_u128(8)),
            fingerprint: Fingerprint::of(&schema),
            schema,
        });
        (asset, vec![(discovered, ev(2))])
    }

    fn labelled(
        asset: AggregateId,
        column: &str,
        t: ClassificationType,
        n: u64,
    ) -> (AssetEvent, Evidence) {
        (
            AssetEvent::AssetClassified(AssetClassified {
                asset_id: asset,
                column: column.into(),
                label: Label::BuiltIn(t),
                confidence: 0.9,
                signals: Vec::new(),
                evidence_key: "k".into(),
                origin: LabelOrigin::Classifier,
                rule_set: None,
            }),
            ev(n),
        )
    }

    #[test]
    fn an_asset_shows_its_own_metadata_and_inherits_each_unset_field_from_its_source() {
        let (asset, mut events) = table(["ledger", "public", "invoices"], &["payer"]);
        let metadata = Metadata {
            source: AssetMetadata {
                owner: Some(domain::owner::Owner::untyped("platform-dba")),
                tags: vec!["residency:eu".into()],
                description: Some("Finance".into()),
            },
            ..Default::default()
        };
        // Nothing of its own: the source's metadata, resting on its configuration event.
        let facts = asset_facts(asset, &events, &source(), &metadata)
            .facts
            .unwrap();
        assert_eq!(facts.owner.as_deref(), Some("platform-dba"));
        assert!(facts.tags.contains("residency:eu"));
        assert_eq!(facts.metadata_evidence, ev(1));

        events.push((
            AssetEvent::AssetMetadataChanged(domain::asset::AssetMetadataChanged {
                asset_id: asset,
                owner: Some(domain::owner::Owner::untyped("billing-team")),
                tags: vec!["purpose:invoicing".into(), "retention:7y".into()],
                description: None,
            }),
            ev(6),
        ));
        let facts = asset_facts(asset, &events, &source(), &metadata)
            .facts
            .unwrap();
        assert_eq!(facts.owner.as_deref(), Some("billing-team"));
        assert_eq!(
            facts.tags.iter().map(String::as_str).collect::<Vec<_>>(),
            ["purpose:invoicing", "retention:7y"],
            "its own tags replace the source's"
        );
        assert_eq!(facts.description.as_deref(), Some("Finance"), "inherited");
        // The metadata event is the later of the two it rests on.
        assert_eq!(facts.metadata_evidence, ev(6));
    }

    #[test]
    fn hipaa_applies_to_a_name_only_in_a_health_context() {
        let hipaa = |facts: &AssetFacts, column: &str| {
            facts
                .columns
                .iter()
                .find(|c| c.name == column)
                .unwrap()
                .labels
                .iter()
                .any(|l| {
                    l.frameworks
                        .contains(&domain::classification::Framework::HipaaPhi)
                })
        };
        let (asset, mut events) = table(["reels", "store", "memberships"], &["holder", "notes"]);
        events.push(labelled(asset, "holder", ClassificationType::PersonName, 3));
        let facts = asset_facts(asset, &events, &source(), &Metadata::default())
            .facts
            .unwrap();
        assert!(
            !hipaa(&facts, "holder"),
            "a member of a film club is no patient"
        );
        assert_eq!(
            facts.columns[0].labels[0].frameworks,
            [domain::classification::Framework::GdprPersonal]
        );

        // A diagnosis beside it makes the name PHI.
        events.push(labelled(
            asset,
            "notes",
            ClassificationType::HealthDiagnosis,
            4,
        ));
        let facts = asset_facts(asset, &events, &source(), &Metadata::default())
            .facts
            .unwrap();
        assert!(hipaa(&facts, "holder"));
        assert!(hipaa(&facts, "notes"));

        // So does a source named after a hospital.
        let (asset, mut events) = table(["reels", "store", "memberships"], &["holder"]);
        events.push(labelled(asset, "holder", ClassificationType::PersonName, 3));
        let mut hospital = source();
        hospital.name = "Northgate Hospital".into();
        let facts = asset_facts(asset, &events, &hospital, &Metadata::default())
            .facts
            .unwrap();
        assert!(hipaa(&facts, "holder"));
    }
}
