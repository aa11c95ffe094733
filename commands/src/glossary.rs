//! The business glossary: the commands behind the GraphQL mutations `defineGlossaryTerm`,
//! `changeGlossaryTerm`, `approveGlossaryTerm`, `deprecateGlossaryTerm`, `linkGlossaryTerm`,
//! `unlinkGlossaryTerm` and the CLI's `pursight glossary import|export`.
//!
//! Every change goes through the one command handler against the tenant's one `Glossary`
//! aggregate. Curating needs [`Permission::ManageGlossary`], approving
//! [`Permission::ApproveGlossary`] (data stewards and admins): a custom role may curate without
//! approving. The domain validates every field and refuses before anything is written. A link
//! names an asset that must exist in the caller's tenant (its `Asset` aggregate, not a read
//! model that may lag), and a column that its last recorded schema has.

use crate::{CommandContext, CommandError, CommandHandler, CommandOutcome};
use domain::access::Permission;
use domain::asset::Asset;
use domain::glossary::{
    check_column, glossary_id, Glossary, GlossaryCommand, GlossaryState, ImportRow, TermInput,
};
use domain::AggregateId;
use uuid::Uuid;

/// Defines, changes, approves, deprecates, links and imports glossary terms.
#[derive(Clone)]
pub struct GlossaryCommands {
    handler: CommandHandler,
}

impl GlossaryCommands {
    pub fn new(handler: CommandHandler) -> Self {
        Self { handler }
    }

    /// The tenant's glossary as recorded (for exports): needs [`Permission::ReadCatalog`].
    pub async fn state(&self, ctx: &CommandContext) -> Result<GlossaryState, CommandError> {
        self.handler
            .state::<Glossary>(ctx, Permission::ReadCatalog, glossary_id(&ctx.tenant))
            .await
    }

    /// Defines a draft term.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant))]
    pub async fn define(
        &self,
        ctx: &CommandContext,
        name: &str,
        content: TermInput,
    ) -> Result<CommandOutcome, CommandError> {
        let command = GlossaryCommand::DefineTerm {
            name: name.to_owned(),
            content,
        };
        self.run(ctx, Permission::ManageGlossary, command).await
    }

    /// Replaces a term's content.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant))]
    pub async fn change(
        &self,
        ctx: &CommandContext,
        term_id: Uuid,
        content: TermInput,
    ) -> Result<CommandOutcome, CommandError> {
        let command = GlossaryCommand::ChangeTerm { term_id, content };
        self.run(ctx, Permission::ManageGlossary, command).await
    }

    /// Approves a draft term: a data steward's (or admin's) call.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant))]
    pub async fn approve(
        &self,
        ctx: &CommandContext,
        term_id: Uuid,
    ) -> Result<CommandOutcome, CommandError> {
        let command = GlossaryCommand::ApproveTerm { term_id };
        self.run(ctx, Permission::ApproveGlossary, command).await
    }

    /// Deprecates a term.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant))]
    pub async fn deprecate(
        &self,
        ctx: &CommandContext,
        term_id: Uuid,
        reason: Option<String>,
    ) -> Result<CommandOutcome, CommandError> {
        let command = GlossaryCommand::DeprecateTerm { term_id, reason };
        self.run(ctx, Permission::ManageGlossary, command).await
    }

    /// Links a term to an asset of the tenant, or to one of its columns.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant))]
    pub async fn link(
        &self,
        ctx: &CommandContext,
        term_id: Uuid,
        asset_id: AggregateId,
        column: Option<&str>,
    ) -> Result<CommandOutcome, CommandError> {
        let column = column
            .map(check_column)
            .transpose()
            .map_err(CommandError::Validation)?;
        // Looked up in the caller's tenant only: another tenant's asset id finds nothing.
        let asset = self
            .handler
            .state::<Asset>(ctx, Permission::ManageGlossary, asset_id)
            .await?;
        if !asset.exists() || asset.removed {
            return Err(CommandError::NotFound(format!("no asset {asset_id}")));
        }
        if let Some(column) = &column {
            let known = asset
                .schema
                .as_ref()
                .is_some_and(|s| s.columns.iter().any(|c| &c.name == column));
            if !known {
                return Err(CommandError::NotFound(format!(
                    "asset {asset_id} has no column {:?}",
                    column.chars().take(60).collect::<String>()
                )));
            }
        }
        let command = GlossaryCommand::LinkTerm {
            term_id,
            asset_id,
            column,
        };
        self.run(ctx, Permission::ManageGlossary, command).await
    }

    /// Removes a term's link to an asset or column.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant))]
    pub async fn unlink(
        &self,
        ctx: &CommandContext,
        term_id: Uuid,
        asset_id: AggregateId,
        column: Option<&str>,
    ) -> Result<CommandOutcome, CommandError> {
        let command = GlossaryCommand::UnlinkTerm {
            term_id,
            asset_id,
            column: column.map(str::to_owned),
        };
        self.run(ctx, Permission::ManageGlossary, command).await
    }

    /// Imports rows, all or nothing. Rows that approve a term need
    /// [`Permission::ApproveGlossary`] as well.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant, rows = rows.len()))]
    pub async fn import(
        &self,
        ctx: &CommandContext,
        rows: Vec<ImportRow>,
    ) -> Result<CommandOutcome, CommandError> {
        let approves = rows
            .iter()
            .any(|r| r.status.trim().eq_ignore_ascii_case("approved"));
        if approves && !ctx.allows(Permission::ApproveGlossary) {
            return Err(CommandError::Forbidden(Permission::ApproveGlossary));
        }
        let command = GlossaryCommand::ImportTerms { rows };
        self.run(ctx, Permission::ManageGlossary, command).await
    }

    async fn run(
        &self,
        ctx: &CommandContext,
        permission: Permission,
        command: GlossaryCommand,
    ) -> Result<CommandOutcome, CommandError> {
        self.handler
            .execute::<Glossary>(ctx, permission, glossary_id(&ctx.tenant), command)
            .await
    }
}
