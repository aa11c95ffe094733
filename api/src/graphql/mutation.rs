//! Mutations: each one command through the command handler. Every mutation accepts an optional
//! `commandId` (idempotency key: the same id twice appends once) and `waitForProjection`
//! (return only once the read models reflect the change, for read-your-writes).

use super::errors::command_error;
use super::inputs::DataSourceInput;
use super::query::parse_id;
use super::types::CommandResult;
use super::{api_error, authorize, Services};
use async_graphql::{Context, Object, Result, ID};
use commands::{CommandContext, CommandOutcome};
use domain::access::Permission;
use domain::datasource::{DataSource, DataSourceCommand, DataSourceConfigInput};
use domain::AggregateId;
use std::time::Duration;
use uuid::Uuid;

#[derive(Default)]
pub struct MutationRoot;

#[Object]
impl MutationRoot {
    /// Registers a data source. `name` and `kind` are required; the password is given as a
    /// secret reference, never as a value. With a `commandId`, the new source's id is that id,
    /// so a retried registration is recognised even after the stream's duplicate window.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn register_data_source(
        &self,
        ctx: &Context<'_>,
        input: DataSourceInput,
        command_id: Option<ID>,
        #[graphql(default = false)] wait_for_projection: bool,
    ) -> Result<CommandResult> {
        // A caller without the permission learns nothing, not even what is wrong with the input.
        authorize(ctx, Permission::ManageDataSources)?;
        let command_id = parse_command_id(command_id.as_ref())?;
        let config = DataSourceConfigInput::from(input)
            .parse()
            .map_err(|err| api_error("VALIDATION", err.to_string()))?;
        let id = AggregateId::from_uuid(command_id);
        let command = DataSourceCommand::Register { id, config };
        execute(ctx, id, command, command_id, wait_for_projection).await
    }

    /// Changes a data source's configuration: only the fields given change (nested objects are
    /// replaced whole). Connection changes send a connected source back to `configuring` for
    /// re-validation; metadata changes (name, owner, description, environment, tags) do not.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn update_data_source_config(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: DataSourceInput,
        command_id: Option<ID>,
        #[graphql(default = false)] wait_for_projection: bool,
    ) -> Result<CommandResult> {
        let command = DataSourceCommand::PatchConfig {
            patch: DataSourceConfigInput::from(input),
        };
        execute_on(ctx, &id, command_id.as_ref(), command, wait_for_projection).await
    }

    /// Starts configuring the connection (registered or failed → configuring).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn configure_data_source(
        &self,
        ctx: &Context<'_>,
        id: ID,
        command_id: Option<ID>,
        #[graphql(default = false)] wait_for_projection: bool,
    ) -> Result<CommandResult> {
        execute_on(
            ctx,
            &id,
            command_id.as_ref(),
            DataSourceCommand::BeginConfiguration,
            wait_for_projection,
        )
        .await
    }

    /// Adds a validated source to the catalog (validated → cataloged).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn catalog_data_source(
        &self,
        ctx: &Context<'_>,
        id: ID,
        command_id: Option<ID>,
        #[graphql(default = false)] wait_for_projection: bool,
    ) -> Result<CommandResult> {
        execute_on(
            ctx,
            &id,
            command_id.as_ref(),
            DataSourceCommand::AddToCatalog,
            wait_for_projection,
        )
        .await
    }

    /// Starts monitoring a cataloged source (cataloged → monitoring).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn start_monitoring_data_source(
        &self,
        ctx: &Context<'_>,
        id: ID,
        command_id: Option<ID>,
        #[graphql(default = false)] wait_for_projection: bool,
    ) -> Result<CommandResult> {
        execute_on(
            ctx,
            &id,
            command_id.as_ref(),
            DataSourceCommand::StartMonitoring,
            wait_for_projection,
        )
        .await
    }

    /// Archives a data source. Its history stays; it leaves the default catalog views.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn archive_data_source(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(
            desc = "Why: at most 2000 characters; newline, carriage return and tab are the only control characters allowed."
        )]
        reason: Option<String>,
        command_id: Option<ID>,
        #[graphql(default = false)] wait_for_projection: bool,
    ) -> Result<CommandResult> {
        let reason = domain::text::FreeText::parse_optional(reason.as_deref())
            .map_err(|err| api_error("VALIDATION", format!("reason {err}")))?;
        let command = DataSourceCommand::Archive { reason };
        execute_on(ctx, &id, command_id.as_ref(), command, wait_for_projection).await
    }
}

/// Parses the ids of a mutation on an existing source, then executes it.
async fn execute_on(
    ctx: &Context<'_>,
    id: &ID,
    command_id: Option<&ID>,
    command: DataSourceCommand,
    wait: bool,
) -> Result<CommandResult> {
    let id = parse_id(id)?;
    let command_id = parse_command_id(command_id)?;
    execute(ctx, id, command, command_id, wait).await
}

pub(super) fn parse_command_id(id: Option<&ID>) -> Result<Uuid> {
    match id {
        None => Ok(Uuid::now_v7()),
        Some(id) => Uuid::parse_str(id.as_str())
            .map_err(|_| api_error("VALIDATION", "commandId must be a UUID")),
    }
}

async fn execute(
    ctx: &Context<'_>,
    id: AggregateId,
    command: DataSourceCommand,
    command_id: Uuid,
    wait: bool,
) -> Result<CommandResult> {
    let caller = authorize(ctx, Permission::ManageDataSources)?;
    let services = ctx.data_unchecked::<Services>();
    let context = caller.command_context(Some(command_id));
    let outcome = services
        .handler
        .execute::<DataSource>(&context, Permission::ManageDataSources, id, command)
        .await;
    finish(ctx, outcome, wait).await
}

/// The command context of a policy mutation: the caller must hold `permission`; the command id
/// is the caller's or a new one.
pub(super) fn policy_context(
    ctx: &Context<'_>,
    permission: Permission,
    command_id: Option<&ID>,
) -> Result<CommandContext> {
    let caller = authorize(ctx, permission)?;
    Ok(caller.command_context(Some(parse_command_id(command_id)?)))
}

/// Maps a command's outcome like every other mutation, waiting for the read models when asked.
pub(super) async fn finish(
    ctx: &Context<'_>,
    outcome: std::result::Result<CommandOutcome, commands::CommandError>,
    wait: bool,
) -> Result<CommandResult> {
    let outcome = outcome.map_err(command_error)?;
    let services = ctx.data_unchecked::<Services>();
    let projected = wait && wait_for_projection(services, outcome.sequence).await;
    Ok(result(outcome, projected))
}

pub(super) fn result(outcome: CommandOutcome, projected: bool) -> CommandResult {
    CommandResult {
        aggregate_id: ID(outcome.aggregate_id.to_string()),
        version: outcome.version as i64,
        sequence: outcome.sequence as i64,
        event_ids: outcome
            .event_ids()
            .into_iter()
            .map(|id| ID(id.to_string()))
            .collect(),
        duplicate: outcome.duplicate,
        projected,
    }
}

/// Waits (up to 10 s) until every projection has applied `sequence`.
pub(super) async fn wait_for_projection(services: &Services, sequence: u64) -> bool {
    projections::checkpoint::wait_for(
        &services.pool,
        &projections::ALL,
        sequence,
        Duration::from_secs(10),
    )
    .await
    .unwrap_or(false)
}
