//! `pursight tenant create|suspend|reactivate|list`: the platform operator's tenant commands.
//!
//! They talk to NATS directly, as the operator does; no API route issues them, so a tenant's
//! token can neither suspend another tenant nor reactivate its own (see [`crate::tenants`]).
//! They also reach the read-model database, for its key table: the operator (the actor) and a
//! suspension's reason are personal data, sealed like every other actor and reason, and erased
//! with `pursight erase --subject OPERATOR --tenant T`.

use crate::settings::{DatabaseArgs, StoreArgs};
use crate::tenants::{aggregate_id, TenantRegistry};
use clap::Subcommand;
use comfy_table::{presets::UTF8_HORIZONTAL_ONLY, Table};
use commands::{CommandContext, CommandError, CommandHandler};
use domain::access::{Permission, Role};
use domain::tenant::{Tenant, TenantCommand, TenantStatus};
use domain::text::{escape_controls, FreeText, Name};
use domain::TenantId;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum TenantCommandArgs {
    /// Record a tenant (active). Tenants never created keep working as before; creating one
    /// lets the operator suspend it.
    Create {
        /// The tenant id, as in its tokens (lowercase letters, digits, `-`, `_`; 1–64 characters).
        tenant: String,
        /// Display name (one line, at most 256 characters; default: the tenant id).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        operator: OperatorArg,
    },
    /// Suspend a tenant: its tokens are refused with TENANT_SUSPENDED (running servers within
    /// seconds) and its open subscriptions are closed, until it is reactivated.
    Suspend {
        /// The tenant id.
        tenant: String,
        /// Why (shown to the tenant in the refusal; at most 4096 characters).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        operator: OperatorArg,
    },
    /// Reactivate a suspended tenant: its tokens are accepted again.
    Reactivate {
        /// The tenant id.
        tenant: String,
        #[command(flatten)]
        operator: OperatorArg,
    },
    /// List the recorded tenants: tenant, name, status, since (last change), reason.
    List,
}

/// Who acts.
#[derive(Debug, Clone, clap::Args)]
pub struct OperatorArg {
    /// Who acts, recorded (sealed) as the commit's actor (default `operator:cli:$USER`). At most
    /// 512 bytes, no control characters.
    #[arg(long, env = "PURSIGHT_OPERATOR")]
    operator: Option<String>,
}

impl OperatorArg {
    fn actor(&self) -> anyhow::Result<String> {
        let actor = match &self.operator {
            Some(operator) => operator.clone(),
            None => format!(
                "operator:cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "local".into())
            ),
        };
        projections::personal_keys::validate_subject(&actor)
            .map_err(|err| anyhow::anyhow!("--operator: {err}"))?;
        Ok(actor)
    }
}

pub async fn run(
    store: &StoreArgs,
    database: &DatabaseArgs,
    command: TenantCommandArgs,
) -> anyhow::Result<ExitCode> {
    // Every input is checked before the store is even contacted.
    let (tenant, tenant_command, actor) = match &command {
        TenantCommandArgs::List => return list(store, database).await,
        TenantCommandArgs::Create {
            tenant,
            name,
            operator,
        } => {
            let tenant = parse_tenant(tenant)?;
            let display_name = Name::parse(name.as_deref().unwrap_or(tenant.as_str()))
                .map_err(|err| anyhow::anyhow!("--name {err}"))?;
            let command = TenantCommand::Create {
                tenant: tenant.clone(),
                display_name,
            };
            (tenant, command, operator.actor()?)
        }
        TenantCommandArgs::Suspend {
            tenant,
            reason,
            operator,
        } => {
            let tenant = parse_tenant(tenant)?;
            let reason =
                FreeText::parse(reason).map_err(|err| anyhow::anyhow!("--reason {err}"))?;
            (tenant, TenantCommand::Suspend { reason }, operator.actor()?)
        }
        TenantCommandArgs::Reactivate { tenant, operator } => (
            parse_tenant(tenant)?,
            TenantCommand::Reactivate,
            operator.actor()?,
        ),
    };
    let store = super::sealing_store(store, database).await?;
    let handler = CommandHandler::new(store);
    // The operator acts in the tenant's own subject space. The role check is passed with the
    // operator's admin context, under the admin-only permission (no custom role can hold it);
    // the boundary that matters is that only this command line (which holds the NATS
    // credentials) issues tenant commands: no API route reaches the Tenant aggregate.
    let ctx = CommandContext::new(tenant.clone(), actor, vec![Role::Admin], None);
    let outcome = handler
        .execute::<Tenant>(
            &ctx,
            Permission::ManageRoles,
            aggregate_id(&tenant),
            tenant_command.clone(),
        )
        .await;
    match outcome {
        Ok(_) => {}
        Err(CommandError::NotFound(_)) => anyhow::bail!(
            "tenant {tenant} was never created; create it first with `pursight tenant create {tenant}`"
        ),
        Err(CommandError::Rejected(reason)) => anyhow::bail!("tenant {tenant}: {reason}"),
        Err(err) => return Err(err.into()),
    }
    match tenant_command {
        TenantCommand::Create { display_name, .. } => {
            println!("tenant {tenant} created ({})", display_name.as_str())
        }
        TenantCommand::Suspend { reason } => println!(
            "tenant {tenant} suspended: {}\nits tokens are refused from now on (running servers within seconds)",
            escape_controls(reason.as_str())
        ),
        TenantCommand::Reactivate => {
            println!("tenant {tenant} reactivated: its tokens are accepted again")
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_tenant(raw: &str) -> anyhow::Result<TenantId> {
    Ok(TenantId::parse(raw)?)
}

async fn list(store: &StoreArgs, database: &DatabaseArgs) -> anyhow::Result<ExitCode> {
    let store = super::sealing_store(store, database).await?;
    let (registry, _) = TenantRegistry::load(&store).await?;
    let records = registry.list();
    let mut table = Table::new();
    table
        .load_preset(UTF8_HORIZONTAL_ONLY)
        .set_header(["tenant", "name", "status", "since", "reason"]);
    for record in &records {
        let state = &record.state;
        let reason = match state.status {
            TenantStatus::Suspended => state.suspension_reason.as_deref().unwrap_or("-"),
            _ => "-",
        };
        table.add_row([
            record.tenant.clone(),
            escape_controls(state.display_name.as_deref().unwrap_or("-")).into_owned(),
            state.status.to_string(),
            record
                .since
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            escape_controls(reason).into_owned(),
        ]);
    }
    println!("{table}\n{} tenants", records.len());
    Ok(ExitCode::SUCCESS)
}
