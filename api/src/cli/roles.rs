//! `pursight roles list|define|change|retire|grant|revoke`: a tenant's roles and grants from the
//! command line — the same commands the GraphQL mutations `defineRole`, `changeRole`,
//! `retireRole`, `grantRole` and `revokeRole` send (through the one command handler, validated
//! by the domain, refused before anything is written), and `list` as the `roles` query answers.
//!
//! Like `pursight tenant` and `pursight glossary`, it talks to the event store directly (no
//! server needed), as the operator holding its credentials: the operator acts as `admin`, the
//! one role that manages roles. Refusals are recorded in the audit trail like every CLI command
//! that changes a tenant's history (`cli roles <subcommand>`).

use super::source::Actor;
use crate::settings::StoreArgs;
use clap::{Args, Subcommand, ValueEnum};
use commands::access_policy::{AccessPolicyCommands, RoleListing};
use commands::{CommandContext, CommandError, CommandHandler, CommandOutcome};
use domain::access::Role;
use domain::access_policy::AssetCondition;
use domain::TenantId;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// List the tenant's roles: the built-in ones, then the custom ones by name, with their
    /// permissions, condition and the subjects they are granted to.
    List {
        /// `table` (default) or `json` (one array, as the `roles` query answers).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Define a custom role (records `RoleDefined`). A built-in role's name, a role already
    /// defined, a malformed name, an unknown or repeated permission, a bad description or a
    /// condition with write permissions are refused and nothing is recorded.
    Define(RoleArgs),
    /// Replace a custom role's permissions, description and condition (records `RoleChanged`,
    /// or nothing when all are unchanged).
    Change(RoleArgs),
    /// Retire a custom role (records `RoleRetired`); its grants end with it.
    Retire {
        /// The custom role's name.
        role: String,
    },
    /// Grant a built-in or custom role to a subject (a token's `sub`; records `RoleGranted`).
    Grant {
        /// The subject: 1 to 254 characters without whitespace, as the identity provider puts
        /// it in `sub` (case matters).
        subject: String,
        /// The role's name.
        role: String,
    },
    /// Revoke a subject's grant of a role (records `RoleRevoked`).
    Revoke {
        /// The subject the role is granted to.
        subject: String,
        /// The role's name.
        role: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// A custom role's definition, as `defineRole`/`changeRole` take it.
#[derive(Debug, Args)]
pub struct RoleArgs {
    /// The role's name: 3 to 40 characters of a-z, 0-9, `_` or `-`, starting with a letter;
    /// not a built-in role's name.
    pub role: String,
    /// A permission `resource:action` (repeat, or separate with commas): resources
    /// data_source, asset, classification, rule_set, compliance, audit, role, glossary; actions
    /// read, create, update, delete, review, accept_risk, export; or `asset:read_phi`. 1 to 64.
    #[arg(
        long = "permission",
        short = 'p',
        value_delimiter = ',',
        required = true
    )]
    pub permissions: Vec<String>,
    /// What the role is for (at most 500 characters).
    #[arg(long, default_value = "")]
    pub description: String,
    /// Condition: assets holding data more sensitive than this are out of reach (low, medium,
    /// high, critical; `high` is "everything but critical data").
    #[arg(long)]
    pub max_sensitivity: Option<String>,
    /// Condition: only assets carrying one of these tags (repeat or comma-separate; at most 32).
    #[arg(long = "tag-any", value_delimiter = ',')]
    pub tags_any: Vec<String>,
    /// Condition: no asset carrying any of these tags (at most 32).
    #[arg(long = "tag-none", value_delimiter = ',')]
    pub tags_none: Vec<String>,
    /// Condition: only assets of these data sources (their ids; at most 32).
    #[arg(long = "source", value_delimiter = ',')]
    pub sources: Vec<String>,
}

impl RoleArgs {
    /// The condition given (`None`: every asset); malformed sensitivities and ids are refused
    /// as the GraphQL input refuses them, the domain checks the rest.
    fn condition(&self) -> Result<Option<AssetCondition>, CommandError> {
        if self.max_sensitivity.is_none()
            && self.tags_any.is_empty()
            && self.tags_none.is_empty()
            && self.sources.is_empty()
        {
            return Ok(None);
        }
        AssetCondition::from_parts(
            self.max_sensitivity.as_deref(),
            self.tags_any.clone(),
            self.tags_none.clone(),
            &self.sources,
        )
        .map(Some)
        .map_err(|problems| CommandError::Validation(problems.join("; ")))
    }
}

pub async fn run(
    store: &StoreArgs,
    database: &crate::settings::DatabaseArgs,
    actor: &Actor,
    command: RolesCommand,
) -> anyhow::Result<ExitCode> {
    let tenant = TenantId::parse(&actor.tenant)?;
    // Input the CLI itself parses is checked before the store is contacted.
    let condition = match &command {
        RolesCommand::Define(args) | RolesCommand::Change(args) => args.condition()?,
        _ => None,
    };
    // Grant subjects and the actor are personal data: sealed with the key table, like every
    // other writer's.
    let store = super::sealing_store(store, database).await?;
    let roles = AccessPolicyCommands::new(CommandHandler::new(store));
    let user = std::env::var("USER").unwrap_or_else(|_| "local".into());
    let ctx = CommandContext::new(
        tenant.clone(),
        format!("cli:{user}"),
        vec![Role::Admin],
        None,
    );
    let (outcome, done) = match command {
        RolesCommand::List { format } => {
            let listing = roles.roles(&ctx).await?;
            match format {
                Format::Table => print_table(&listing),
                Format::Json => println!("{}", serde_json::to_string_pretty(&json(&listing))?),
            }
            return Ok(ExitCode::SUCCESS);
        }
        RolesCommand::Define(args) => (
            roles
                .define_role(
                    &ctx,
                    &args.role,
                    args.permissions.clone(),
                    &args.description,
                    condition,
                )
                .await?,
            format!("role {} defined", args.role),
        ),
        RolesCommand::Change(args) => (
            roles
                .change_role(
                    &ctx,
                    &args.role,
                    args.permissions.clone(),
                    &args.description,
                    condition,
                )
                .await?,
            format!("role {} changed", args.role),
        ),
        RolesCommand::Retire { role } => (
            roles.retire_role(&ctx, &role).await?,
            format!("role {role} retired"),
        ),
        RolesCommand::Grant { subject, role } => (
            roles.grant_role(&ctx, &subject, &role).await?,
            format!("role {role} granted to {subject}"),
        ),
        RolesCommand::Revoke { subject, role } => (
            roles.revoke_role(&ctx, &subject, &role).await?,
            format!("role {role} revoked from {subject}"),
        ),
    };
    report(&tenant, &done, &outcome);
    Ok(ExitCode::SUCCESS)
}

/// What a change recorded (or that it recorded nothing, for a change to the same state).
fn report(tenant: &TenantId, done: &str, outcome: &CommandOutcome) {
    let events = outcome.event_ids().len();
    if events == 0 {
        println!("{tenant}: nothing changed ({done} already)");
    } else {
        println!(
            "{tenant}: {done}: {events} event(s) recorded at stream sequence {}",
            outcome.sequence
        );
    }
}

/// The listing as the `roles` query answers it (camelCase fields).
fn json(listing: &[RoleListing]) -> serde_json::Value {
    serde_json::Value::Array(
        listing
            .iter()
            .map(|role| {
                serde_json::json!({
                    "name": role.name,
                    "builtIn": role.built_in,
                    "description": role.description,
                    "permissions": role.permissions,
                    "subjects": role.subjects,
                    "condition": role.condition.as_ref().map(|c| serde_json::json!({
                        "maxSensitivity": c.max_sensitivity.map(|s| s.as_str()),
                        "tagsAny": c.tags_any,
                        "tagsNone": c.tags_none,
                        "sources": c.sources,
                    })),
                })
            })
            .collect(),
    )
}

/// A condition in one line: `max_sensitivity=high tags_any=a,b sources=…`; `-` for none.
fn condition_text(condition: Option<&AssetCondition>) -> String {
    let Some(c) = condition else {
        return "-".into();
    };
    let mut parts = Vec::new();
    if let Some(s) = c.max_sensitivity {
        parts.push(format!("max_sensitivity={}", s.as_str()));
    }
    if !c.tags_any.is_empty() {
        parts.push(format!("tags_any={}", c.tags_any.join(",")));
    }
    if !c.tags_none.is_empty() {
        parts.push(format!("tags_none={}", c.tags_none.join(",")));
    }
    if !c.sources.is_empty() {
        let sources: Vec<String> = c.sources.iter().map(ToString::to_string).collect();
        parts.push(format!("sources={}", sources.join(",")));
    }
    parts.join(" ")
}

fn print_table(listing: &[RoleListing]) {
    let mut table = comfy_table::Table::new();
    table.set_header(vec![
        "role",
        "kind",
        "permissions",
        "condition",
        "granted to",
    ]);
    for role in listing {
        table.add_row(vec![
            role.name.clone(),
            if role.built_in { "built-in" } else { "custom" }.to_owned(),
            role.permissions.join(" "),
            condition_text(role.condition.as_ref()),
            role.subjects.join(" "),
        ]);
    }
    println!("{table}");
}
