//! The compliance policy and risk acceptance part of the API: enabling and disabling frameworks,
//! tuning rules, defining and retiring custom rules (mutations that need the `ManageCompliance`
//! permission: compliance officers and admins), accepting a violation's risk (`AcceptRisk`: the
//! same roles, never a data steward), and the `complianceRules` query listing how the policy runs
//! every rule.
//!
//! Like every mutation they take an optional `commandId` (idempotency key) and
//! `waitForProjection`, and return the aggregate's id and version, the commit's sequence and the
//! event ids. A custom rule is checked whole before anything is loaded: every problem is one line
//! of the `VALIDATION` error's message and one entry of `extensions.problems`, and nothing is
//! recorded.

use super::errors::{command_error, validation_problems};
use super::mutation::{finish, policy_context};
use super::query::parse_id;
use super::types::CommandResult;
use super::{api_error, authorize, Services};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use commands::compliance_policy::{CompliancePolicyCommands, RuleListing, SeverityChange};
use domain::access::Permission;
use domain::compliance::{FrameworkId, RuleInput};

/// A custom compliance rule, in the same terms as a rule of a built-in pack.
#[derive(InputObject)]
pub struct ComplianceRuleInput {
    /// Stable id: 3 to 80 characters of a-z, 0-9, `-`, `.` or `_`, starting with a letter; ids
    /// starting with `gdpr-`, `pci-dss-`, `hipaa-` or `soc2-` are reserved for built-in rules.
    /// Defining an id again records the next version of that rule.
    pub id: String,
    /// What the rule finds, e.g. "Card numbers outside production": 1 to 200 characters, no
    /// control characters.
    pub title: String,
    /// The framework it belongs to: gdpr, pci-dss, hipaa or soc2.
    pub framework: String,
    /// The control it cites, e.g. "PCI DSS v4.0 6.5.5": 1 to 100 characters, no control
    /// characters.
    pub control: String,
    /// low, medium, high or critical.
    pub severity: String,
    /// What it judges: source, asset or column (column rules run once per column).
    pub subject: String,
    /// What to do about a violation: 1 to 2000 characters; newline is the only control
    /// character allowed.
    pub remediation: String,
    /// The condition, in the rule language (see the README, "Compliance"): at most 4000
    /// characters and 32 levels of nesting; newline, carriage return and tab are the only control
    /// characters allowed.
    pub condition: String,
}

impl From<ComplianceRuleInput> for RuleInput {
    fn from(input: ComplianceRuleInput) -> Self {
        RuleInput {
            id: input.id,
            title: input.title,
            framework: input.framework,
            control: input.control,
            severity: input.severity,
            subject: input.subject,
            remediation: input.remediation,
            condition: input.condition,
        }
    }
}

/// A rule as the tenant's compliance policy runs it.
#[derive(SimpleObject)]
pub struct CompliancePolicyRule {
    /// Stable id, e.g. `pci-dss-pan-without-verified-tls`.
    pub id: String,
    /// The rule's version (a custom rule's grows with each definition).
    pub version: i64,
    /// What the rule finds.
    pub title: String,
    /// gdpr, pci-dss, hipaa or soc2.
    pub framework: String,
    /// The control cited.
    pub control: String,
    /// source, asset or column.
    pub subject: String,
    /// The severity its findings get: the tuned one, else its own.
    pub severity: String,
    /// The rule's own severity.
    pub own_severity: String,
    /// Whether the next compliance pass evaluates it (the rule and its framework are enabled).
    pub enabled: bool,
    /// Whether the rule itself is enabled (tuning).
    pub rule_enabled: bool,
    /// Whether its framework is enabled.
    pub framework_enabled: bool,
    /// A custom rule of your tenant (not from a built-in pack).
    pub custom: bool,
    /// What to do about a violation.
    pub remediation: String,
    /// The condition, in the rule language.
    pub condition: String,
}

impl From<RuleListing> for CompliancePolicyRule {
    fn from(r: RuleListing) -> Self {
        Self {
            enabled: r.enabled(),
            id: r.id,
            version: i64::from(r.version),
            title: r.title,
            framework: r.framework.as_str().to_owned(),
            control: r.control,
            subject: subject_name(r.subject).to_owned(),
            severity: r.severity.as_str().to_owned(),
            own_severity: r.own_severity.as_str().to_owned(),
            rule_enabled: r.rule_enabled,
            framework_enabled: r.framework_enabled,
            custom: r.custom,
            remediation: r.remediation,
            condition: r.condition,
        }
    }
}

fn subject_name(level: domain::compliance::SubjectLevel) -> &'static str {
    use domain::compliance::SubjectLevel as S;
    match level {
        S::Source => "source",
        S::Asset => "asset",
        S::Column => "column",
    }
}

fn framework_of(raw: &str) -> Result<FrameworkId> {
    FrameworkId::parse(raw).map_err(|e| api_error("VALIDATION", format!("framework: {e}")))
}

#[derive(Default)]
pub struct CompliancePolicyQuery;

#[Object]
impl CompliancePolicyQuery {
    /// Every compliance rule of your tenant's policy — the built-in packs' rules in pack order,
    /// then your custom rules by id — with the severity and enablement the next compliance pass
    /// uses.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn compliance_rules(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this framework's rules: gdpr, pci-dss, hipaa or soc2.")]
        framework: Option<String>,
    ) -> Result<Vec<CompliancePolicyRule>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let framework = framework.as_deref().map(framework_of).transpose()?;
        let services = ctx.data_unchecked::<Services>();
        let context = caller.command_context(None);
        let rules = CompliancePolicyCommands::new(services.handler.clone())
            .rules(&context, framework)
            .await
            .map_err(command_error)?;
        Ok(rules.into_iter().map(CompliancePolicyRule::from).collect())
    }
}

#[derive(Default)]
pub struct ComplianceMutation;

/// The caller as a command's context, if they hold `permission`.
fn commands(ctx: &Context<'_>) -> CompliancePolicyCommands {
    CompliancePolicyCommands::new(ctx.data_unchecked::<Services>().handler.clone())
}

#[Object]
impl ComplianceMutation {
    /// Accepts the risk of an open (or already accepted) violation until `expiresAt`: the
    /// violation stops counting in the scores and reopens by itself when the acceptance expires.
    /// Records `ViolationAccepted` with you as the one who accepted. Compliance officers and
    /// admins only. A resolved violation cannot be accepted (CONFLICT).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn accept_violation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The violation's id (the `violationId` of its `ViolationDetected`).")]
        id: ID,
        #[graphql(
            desc = "Why the risk is acceptable: 1 to 2000 characters; newline is the only control character allowed."
        )]
        reason: String,
        #[graphql(
            desc = "When the acceptance ends (RFC 3339): after now and at most 366 days ahead; accept again to extend."
        )]
        expires_at: DateTime<Utc>,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<CommandResult> {
        let context = policy_context(ctx, Permission::AcceptRisk, command_id.as_ref())?;
        let violation = parse_id(&id)?;
        let outcome = commands(ctx)
            .accept_violation(&context, violation, &reason, expires_at, Utc::now())
            .await;
        finish(ctx, outcome, wait_for_projection).await
    }

    /// Evaluates a framework's rules again from the next compliance pass on (every framework is
    /// enabled until disabled). Records `FrameworkEnabled`, or nothing when it is enabled.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn enable_framework(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "gdpr, pci-dss, hipaa or soc2.")] framework: String,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<CommandResult> {
        let context = policy_context(ctx, Permission::ManageCompliance, command_id.as_ref())?;
        let framework = framework_of(&framework)?;
        let outcome = commands(ctx).enable_framework(&context, framework).await;
        finish(ctx, outcome, wait_for_projection).await
    }

    /// Stops evaluating a framework's rules: the next compliance pass resolves their open
    /// violations. Records `FrameworkDisabled`, or nothing when it is disabled.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn disable_framework(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "gdpr, pci-dss, hipaa or soc2.")] framework: String,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<CommandResult> {
        let context = policy_context(ctx, Permission::ManageCompliance, command_id.as_ref())?;
        let framework = framework_of(&framework)?;
        let outcome = commands(ctx).disable_framework(&context, framework).await;
        finish(ctx, outcome, wait_for_projection).await
    }

    /// Changes a built-in or custom rule's severity and/or switches it on or off for your tenant
    /// (what is left out stays as it is). Records `RuleTuned`, or nothing when nothing changes;
    /// an unknown rule is NOT_FOUND. Takes effect at the next compliance pass.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn tune_compliance_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule's id, e.g. `pci-dss-pan-without-verified-tls`.")]
        rule_id: String,
        #[graphql(
            desc = "low, medium, high or critical; `default` restores the rule's own severity; omitted: unchanged."
        )]
        severity: Option<String>,
        #[graphql(desc = "Whether the rule is evaluated; omitted: unchanged.")] enabled: Option<
            bool,
        >,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<CommandResult> {
        let context = policy_context(ctx, Permission::ManageCompliance, command_id.as_ref())?;
        let severity = match severity.as_deref() {
            None => SeverityChange::Keep,
            Some(raw) => SeverityChange::parse(raw)
                .map_err(|e| api_error("VALIDATION", format!("severity: {e}")))?,
        };
        let outcome = commands(ctx)
            .tune_rule(&context, &rule_id, severity, enabled)
            .await;
        finish(ctx, outcome, wait_for_projection).await
    }

    /// Defines a custom rule for your tenant, or the next version of one (an identical definition
    /// records nothing). The rule is checked whole first: every problem — unknown framework,
    /// severity or subject, a reserved or malformed id, a bad title, control or remediation, and
    /// the condition's syntax, unknown fact or type error with its character position — is one
    /// part of the VALIDATION error (`extensions.problems` lists them as `{field, message}`),
    /// and nothing is recorded. Takes effect at the next compliance pass.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn define_compliance_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule.")] input: ComplianceRuleInput,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<CommandResult> {
        let context = policy_context(ctx, Permission::ManageCompliance, command_id.as_ref())?;
        let definition = RuleInput::from(input)
            .check()
            .map_err(|e| validation_problems(&e))?;
        let outcome = commands(ctx).define_rule(&context, definition).await;
        finish(ctx, outcome, wait_for_projection).await
    }

    /// Retires a custom rule: the next compliance pass resolves its open violations. Its id may
    /// be defined again later (as the next version). Records `CustomRuleRetired`; a rule that is
    /// not an active custom rule is NOT_FOUND.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn retire_compliance_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The custom rule's id.")] rule_id: String,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<CommandResult> {
        let context = policy_context(ctx, Permission::ManageCompliance, command_id.as_ref())?;
        let outcome = commands(ctx).retire_rule(&context, &rule_id).await;
        finish(ctx, outcome, wait_for_projection).await
    }
}
