//! Changing a tenant's compliance policy and accepting risk: the commands behind the GraphQL
//! mutations and `pursight compliance enable|disable|tune|define|retire|accept|rules`.
//!
//! Every change goes through the one command handler: changing the policy needs
//! [`Permission::ManageCompliance`], accepting a violation's risk [`Permission::AcceptRisk`]
//! (compliance officers and admins; not data stewards). Identifiers are bounded here before any
//! history is loaded; the domain checks everything again and refuses before anything is
//! written. Nothing here evaluates: the next compliance pass applies the new policy.

use crate::{CommandContext, CommandError, CommandHandler, CommandOutcome};
use chrono::{DateTime, Utc};
use domain::access::Permission;
use domain::compliance::rules::valid_rule_id;
use domain::compliance::{
    builtin_rules, policy_id, CompliancePolicy, CompliancePolicyCommand, CompliancePolicyState,
    FrameworkId, RuleDefinition, Severity, SubjectLevel, Violation, ViolationCommand,
};
use domain::AggregateId;

/// What a tuning does to a rule's severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeverityChange {
    /// Keep the current tuning's severity.
    Keep,
    /// Back to the rule's own severity.
    Own,
    /// This severity.
    Set(Severity),
}

impl SeverityChange {
    /// `default` restores the rule's own severity; otherwise a severity name.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "default" => Ok(SeverityChange::Own),
            other => Severity::parse(other)
                .map(SeverityChange::Set)
                .map_err(|e| format!("{e}, or default (the rule's own)")),
        }
    }
}

/// One rule as the tenant's policy runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleListing {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub framework: FrameworkId,
    pub control: String,
    pub subject: SubjectLevel,
    /// The rule's own severity.
    pub own_severity: Severity,
    /// The severity findings get (tuned or own).
    pub severity: Severity,
    /// Whether the rule itself is enabled (tuning).
    pub rule_enabled: bool,
    /// Whether its framework is enabled.
    pub framework_enabled: bool,
    /// A tenant's custom rule (not from a built-in pack).
    pub custom: bool,
    pub remediation: String,
    pub condition: String,
}

impl RuleListing {
    /// Whether the next compliance pass evaluates it.
    pub fn enabled(&self) -> bool {
        self.rule_enabled && self.framework_enabled
    }
}

/// Changes a tenant's compliance policy and accepts violations' risk.
#[derive(Clone)]
pub struct CompliancePolicyCommands {
    handler: CommandHandler,
}

impl CompliancePolicyCommands {
    pub fn new(handler: CommandHandler) -> Self {
        Self { handler }
    }

    /// The tenant's policy as it stands (needs permission to read the catalog).
    pub async fn policy(
        &self,
        ctx: &CommandContext,
    ) -> Result<CompliancePolicyState, CommandError> {
        self.handler
            .state::<CompliancePolicy>(ctx, Permission::ReadCatalog, policy_id(&ctx.tenant))
            .await
    }

    /// Every built-in rule (pack order) and custom rule (by id) with how the policy runs it,
    /// optionally of one framework only.
    pub async fn rules(
        &self,
        ctx: &CommandContext,
        framework: Option<FrameworkId>,
    ) -> Result<Vec<RuleListing>, CommandError> {
        let policy = self.policy(ctx).await?;
        Ok(listing(&policy, framework))
    }

    /// Evaluates the framework's rules again from the next pass on.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant, %framework))]
    pub async fn enable_framework(
        &self,
        ctx: &CommandContext,
        framework: FrameworkId,
    ) -> Result<CommandOutcome, CommandError> {
        self.change(ctx, CompliancePolicyCommand::EnableFramework { framework })
            .await
    }

    /// Stops evaluating the framework's rules (the next pass resolves their open violations).
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant, %framework))]
    pub async fn disable_framework(
        &self,
        ctx: &CommandContext,
        framework: FrameworkId,
    ) -> Result<CommandOutcome, CommandError> {
        self.change(ctx, CompliancePolicyCommand::DisableFramework { framework })
            .await
    }

    /// Tunes a built-in or custom rule: `severity` and `enabled` (`None`: as it is now).
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant, rule = %rule_id))]
    pub async fn tune_rule(
        &self,
        ctx: &CommandContext,
        rule_id: &str,
        severity: SeverityChange,
        enabled: Option<bool>,
    ) -> Result<CommandOutcome, CommandError> {
        let rule_id = rule_id_of(rule_id)?;
        // The current tuning fills what the caller left out; the handler's permission check on
        // the command itself comes after this read, so it is checked here first.
        let current = self
            .handler
            .state::<CompliancePolicy>(ctx, Permission::ManageCompliance, policy_id(&ctx.tenant))
            .await?
            .tuning
            .get(&rule_id)
            .copied();
        let severity = match severity {
            SeverityChange::Keep => current.and_then(|t| t.severity),
            SeverityChange::Own => None,
            SeverityChange::Set(severity) => Some(severity),
        };
        let enabled = enabled.unwrap_or_else(|| current.is_none_or(|t| t.enabled));
        self.change(
            ctx,
            CompliancePolicyCommand::TuneRule {
                rule_id,
                severity,
                enabled,
            },
        )
        .await
    }

    /// Defines (or redefines, as the next version) a custom rule. Check the input with
    /// [`domain::compliance::RuleInput::check`] first to report every problem; the domain checks
    /// it again.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant, rule = %definition.id))]
    pub async fn define_rule(
        &self,
        ctx: &CommandContext,
        definition: RuleDefinition,
    ) -> Result<CommandOutcome, CommandError> {
        self.change(
            ctx,
            CompliancePolicyCommand::DefineCustomRule { definition },
        )
        .await
    }

    /// Retires an active custom rule (the next pass resolves its open violations).
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant, rule = %rule_id))]
    pub async fn retire_rule(
        &self,
        ctx: &CommandContext,
        rule_id: &str,
    ) -> Result<CommandOutcome, CommandError> {
        let rule_id = rule_id_of(rule_id)?;
        self.change(ctx, CompliancePolicyCommand::RetireCustomRule { rule_id })
            .await
    }

    /// Accepts the risk of an open (or already accepted) violation until `expires_at`, which must
    /// lie after `now` and at most [`domain::compliance::violation::MAX_ACCEPTANCE_DAYS`] days
    /// ahead; `reason` is 1 to 2000 characters (line breaks allowed, no other control
    /// character). Recorded as `ViolationAccepted` by the caller.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant, %violation))]
    pub async fn accept_violation(
        &self,
        ctx: &CommandContext,
        violation: AggregateId,
        reason: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<CommandOutcome, CommandError> {
        self.handler
            .execute::<Violation>(
                ctx,
                Permission::AcceptRisk,
                violation,
                ViolationCommand::Accept {
                    by: ctx.actor.clone(),
                    reason: reason.to_owned(),
                    expires_at,
                    now,
                },
            )
            .await
    }

    async fn change(
        &self,
        ctx: &CommandContext,
        command: CompliancePolicyCommand,
    ) -> Result<CommandOutcome, CommandError> {
        self.handler
            .execute::<CompliancePolicy>(
                ctx,
                Permission::ManageCompliance,
                policy_id(&ctx.tenant),
                command,
            )
            .await
    }
}

/// A rule id as a caller names it, bounded before any history is read.
fn rule_id_of(raw: &str) -> Result<String, CommandError> {
    let id = raw.trim();
    if valid_rule_id(id) {
        Ok(id.to_owned())
    } else {
        Err(CommandError::Validation(
            "rule id must be 3 to 80 characters of a-z, 0-9, '-', '.' or '_', starting with a letter"
                .into(),
        ))
    }
}

/// The rules of `policy`, built-in first (pack order), then custom ones (by id).
pub fn listing(policy: &CompliancePolicyState, framework: Option<FrameworkId>) -> Vec<RuleListing> {
    let builtin = builtin_rules().map(|r| (&r.definition, false));
    let custom = policy.custom.values().map(|d| (d, true));
    builtin
        .chain(custom)
        .filter(|(d, _)| framework.is_none_or(|f| f == d.framework))
        .map(|(d, custom)| {
            let tuning = policy.tuning.get(&d.id);
            RuleListing {
                id: d.id.clone(),
                version: d.version,
                title: d.title.clone(),
                framework: d.framework,
                control: d.control.clone(),
                subject: d.subject,
                own_severity: d.severity,
                severity: tuning.and_then(|t| t.severity).unwrap_or(d.severity),
                rule_enabled: tuning.is_none_or(|t| t.enabled),
                framework_enabled: policy.enabled(d.framework),
                custom,
                remediation: d.remediation.clone(),
                condition: d.condition.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::compliance::policy::Tuning;

    #[test]
    fn severity_changes_parse_with_default_restoring_the_rules_own() {
        assert_eq!(SeverityChange::parse("default"), Ok(SeverityChange::Own));
        assert_eq!(
            SeverityChange::parse(" low "),
            Ok(SeverityChange::Set(Severity::Low))
        );
        let err = SeverityChange::parse("urgent").unwrap_err();
        assert!(err.contains("or default"), "{err}");
    }

    #[test]
    fn the_listing_shows_tuning_and_framework_state_per_rule() {
        let mut policy = CompliancePolicyState::default();
        policy.disabled.insert(FrameworkId::Hipaa);
        let rule = builtin_rules()
            .find(|r| r.definition.framework == FrameworkId::PciDss)
            .unwrap();
        policy.tuning.insert(
            rule.definition.id.clone(),
            Tuning {
                severity: Some(Severity::Low),
                enabled: true,
            },
        );
        let all = listing(&policy, None);
        assert_eq!(all.len(), builtin_rules().count());
        let tuned = all.iter().find(|r| r.id == rule.definition.id).unwrap();
        assert_eq!(tuned.severity, Severity::Low);
        assert_eq!(tuned.own_severity, rule.definition.severity);
        assert!(tuned.enabled());
        let hipaa = listing(&policy, Some(FrameworkId::Hipaa));
        assert!(!hipaa.is_empty());
        assert!(hipaa.iter().all(|r| !r.enabled() && r.rule_enabled));
    }

    #[test]
    fn malformed_rule_ids_are_refused_before_any_read() {
        assert!(rule_id_of("acme-rule").is_ok());
        for bad in ["", "a\u{1b}b", "UPPER", &"x".repeat(81)] {
            assert!(matches!(rule_id_of(bad), Err(CommandError::Validation(_))));
        }
    }
}
