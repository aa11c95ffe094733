//! The business glossary over GraphQL: the queries `glossaryTerms` and `glossaryTerm`, the
//! field `Asset.terms` (resolved here for `catalog`), and the mutations
//! `defineGlossaryTerm`, `changeGlossaryTerm`, `approveGlossaryTerm`, `deprecateGlossaryTerm`,
//! `linkGlossaryTerm` and `unlinkGlossaryTerm`.
//!
//! Reading needs the read-catalog permission (viewers read); curating the manage-glossary one
//! and approving the approve-glossary one (data stewards and admins). Links to assets outside
//! the caller's asset scope (a custom role's condition) are absent. Invalid input is refused whole (VALIDATION) before anything is recorded.

use super::errors::{command_error, internal};
use super::mutation::{policy_context, wait_for_projection};
use super::owner_types::{owner_view, OwnerGql, OwnerInput};
use super::query::parse_id;
use super::{api_error, authorize, Services};
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use commands::glossary::GlossaryCommands;
use commands::CommandOutcome;
use domain::access::Permission;
use domain::glossary::{term_id, TermInput};
use domain::owner::Owner;
use projections::glossary::{self, AssetTermRow, LinkRow, TermFilter, TermRow};
use uuid::Uuid;

/// The longest `search` text.
const MAX_SEARCH_CHARS: usize = 200;

/// A term's content.
#[derive(InputObject)]
pub struct GlossaryTermInput {
    /// What the term means: 1 to 4000 characters; newline and tab are the only control
    /// characters allowed; not starting with `=`, `+`, `-` or `@`.
    pub definition: String,
    /// Other names for it: at most 20, each 1 to 100 characters on one line.
    #[graphql(default)]
    pub synonyms: Vec<String>,
    /// Names of other terms of the glossary (they must exist): at most 20.
    #[graphql(default)]
    pub related: Vec<String>,
    /// Who answers for the term: at most 10.
    #[graphql(default)]
    pub owners: Vec<OwnerInput>,
}

impl From<GlossaryTermInput> for TermInput {
    fn from(input: GlossaryTermInput) -> Self {
        TermInput {
            definition: input.definition,
            synonyms: input.synonyms,
            related: input.related,
            owners: input.owners.into_iter().map(Owner::from).collect(),
        }
    }
}

/// Where a term is in its lifecycle.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum GlossaryTermStatus {
    /// Defined, not yet approved.
    Draft,
    /// Approved by a data steward.
    Approved,
    /// No longer to be used; kept readable, its name stays taken.
    Deprecated,
}

impl GlossaryTermStatus {
    fn as_str(self) -> &'static str {
        match self {
            GlossaryTermStatus::Draft => "draft",
            GlossaryTermStatus::Approved => "approved",
            GlossaryTermStatus::Deprecated => "deprecated",
        }
    }

    fn of(raw: &str) -> Self {
        match raw {
            "approved" => GlossaryTermStatus::Approved,
            "deprecated" => GlossaryTermStatus::Deprecated,
            _ => GlossaryTermStatus::Draft,
        }
    }
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// A business term of your tenant's glossary.
pub struct GlossaryTerm(TermRow);

#[Object]
impl GlossaryTerm {
    /// Stable id (derived from the name, which never changes).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The term's name, unique in your glossary (case-insensitively).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What it means.
    async fn definition(&self) -> &str {
        &self.0.definition
    }
    /// Other names for it, sorted.
    async fn synonyms(&self) -> Vec<String> {
        strings(&self.0.synonyms)
    }
    /// Names of related terms, sorted.
    async fn related_terms(&self) -> Vec<String> {
        strings(&self.0.related)
    }
    /// Who answers for it.
    async fn owners(&self) -> Vec<OwnerGql> {
        let owners: Vec<Owner> = serde_json::from_value(self.0.owners.clone()).unwrap_or_default();
        owners.into_iter().map(owner_view).collect()
    }
    /// draft, approved (by a data steward) or deprecated.
    async fn status(&self) -> GlossaryTermStatus {
        GlossaryTermStatus::of(&self.0.status)
    }
    /// Why it was deprecated, when a reason was given.
    async fn deprecation_reason(&self) -> Option<&str> {
        self.0.deprecation_reason.as_deref()
    }
    /// When it was defined.
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
    /// When its content or status last changed.
    async fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.updated_at
    }
    /// Who made that change (a token's `sub`).
    async fn updated_by(&self) -> &str {
        &self.0.updated_by
    }
    /// The assets and columns it is linked to, by path. Only assets your roles reach are listed.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn links(&self, ctx: &Context<'_>) -> Result<Vec<TermLink>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let scope = super::visibility::scope(caller);
        let rows = glossary::term_links(
            &services.pool,
            caller.tenant.as_str(),
            self.0.id,
            scope.as_ref(),
        )
        .await
        .map_err(|err| internal(&err))?;
        Ok(rows.into_iter().map(TermLink::from).collect())
    }
}

/// A term's link to an asset, or to one column of it.
#[derive(SimpleObject)]
pub struct TermLink {
    /// The asset.
    pub asset_id: ID,
    /// Its path, e.g. `shop.public.customers`.
    pub asset_path: String,
    /// The column; null: the asset as a whole.
    pub column: Option<String>,
    /// When the link was made.
    pub linked_at: chrono::DateTime<chrono::Utc>,
}

impl From<LinkRow> for TermLink {
    fn from(r: LinkRow) -> Self {
        TermLink {
            asset_id: ID(r.asset_id.to_string()),
            asset_path: r.asset_path,
            column: r.column_name,
            linked_at: r.linked_at,
        }
    }
}

/// A glossary term linked to an asset or one of its columns.
#[derive(SimpleObject)]
pub struct AssetTerm {
    /// The term.
    pub term_id: ID,
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: GlossaryTermStatus,
    /// The column it is linked to; null: the asset as a whole.
    pub column: Option<String>,
}

impl From<AssetTermRow> for AssetTerm {
    fn from(r: AssetTermRow) -> Self {
        AssetTerm {
            term_id: ID(r.term_id.to_string()),
            name: r.term_name,
            status: GlossaryTermStatus::of(&r.status),
            column: r.column_name,
        }
    }
}

/// The terms linked to an asset (for `Asset.terms`); the asset is already in the caller's reach.
pub(crate) async fn asset_terms(ctx: &Context<'_>, asset: Uuid) -> Result<Vec<AssetTerm>> {
    let caller = authorize(ctx, Permission::ReadCatalog)?;
    let services = ctx.data_unchecked::<Services>();
    let rows = glossary::asset_terms(&services.pool, caller.tenant.as_str(), asset)
        .await
        .map_err(|err| internal(&err))?;
    Ok(rows.into_iter().map(AssetTerm::from).collect())
}

/// What a glossary mutation did: the term it addressed and the command's outcome.
#[derive(SimpleObject)]
pub struct GlossaryCommandResult {
    /// The term.
    pub term_id: ID,
    /// The tenant's glossary (the aggregate the command addressed).
    pub aggregate_id: ID,
    /// The glossary's version after the command.
    pub version: i64,
    /// Stream sequence of the commit.
    pub sequence: i64,
    /// Ids of the events appended (empty when the command changed nothing).
    pub event_ids: Vec<ID>,
    /// The command id had already been handled; nothing new was written.
    pub duplicate: bool,
    /// With `waitForProjection`: whether the read models had caught up before returning.
    pub projected: bool,
}

#[derive(Default)]
pub struct GlossaryQuery;

#[Object]
impl GlossaryQuery {
    /// Your tenant's glossary terms ordered by name, optionally only those whose name, a synonym
    /// or the definition contains `search` (case-insensitive) or of one status.
    #[graphql(complexity = "crate::graphql::limits::list_cost(first, 500, child_complexity)")]
    async fn glossary_terms(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Case-insensitive text to find in a name, synonym or definition; at most 200 characters."
        )]
        search: Option<String>,
        #[graphql(desc = "Only terms of this status.")] status: Option<GlossaryTermStatus>,
        #[graphql(
            default = 100,
            desc = "Page size, 1 to 500; more is a VALIDATION error."
        )]
        first: i32,
        #[graphql(desc = "The name of the last term of the previous page.")] after: Option<String>,
    ) -> Result<Vec<GlossaryTerm>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let limit = crate::graphql::limits::page_size("first", first, 500)?;
        let bounded = |field: &str, text: Option<String>| -> Result<Option<String>> {
            match text {
                Some(t) if t.chars().count() > MAX_SEARCH_CHARS || t.contains('\0') => {
                    Err(api_error(
                        "VALIDATION",
                        format!("{field}: at most {MAX_SEARCH_CHARS} characters, no NUL"),
                    ))
                }
                Some(t) if t.trim().is_empty() => Ok(None),
                other => Ok(other.map(|t| t.trim().to_owned())),
            }
        };
        let filter = TermFilter {
            search: bounded("search", search)?,
            status: status.map(|s| s.as_str().to_owned()),
            after: bounded("after", after)?,
            limit,
        };
        let rows = glossary::terms(&services.pool, caller.tenant.as_str(), &filter)
            .await
            .map_err(|err| internal(&err))?;
        Ok(rows.into_iter().map(GlossaryTerm).collect())
    }

    /// One glossary term of your tenant; null when there is none.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn glossary_term(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The term's id.")] id: ID,
    ) -> Result<Option<GlossaryTerm>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let id = parse_id(&id)?;
        Ok(
            glossary::term(&services.pool, caller.tenant.as_str(), id.as_uuid())
                .await
                .map_err(|err| internal(&err))?
                .map(GlossaryTerm),
        )
    }
}

#[derive(Default)]
pub struct GlossaryMutation;

fn commands(ctx: &Context<'_>) -> GlossaryCommands {
    GlossaryCommands::new(ctx.data_unchecked::<Services>().handler.clone())
}

fn term(id: &ID) -> Result<Uuid> {
    Ok(parse_id(id)?.as_uuid())
}

/// Maps a glossary command's outcome, waiting for the read models when asked.
async fn finish(
    ctx: &Context<'_>,
    term_id: Uuid,
    outcome: std::result::Result<CommandOutcome, commands::CommandError>,
    wait: bool,
) -> Result<GlossaryCommandResult> {
    let outcome = outcome.map_err(command_error)?;
    let services = ctx.data_unchecked::<Services>();
    let projected = wait && wait_for_projection(services, outcome.sequence).await;
    let result = super::mutation::result(outcome, projected);
    Ok(GlossaryCommandResult {
        term_id: ID(term_id.to_string()),
        aggregate_id: result.aggregate_id,
        version: result.version,
        sequence: result.sequence,
        event_ids: result.event_ids,
        duplicate: result.duplicate,
        projected: result.projected,
    })
}

#[Object]
impl GlossaryMutation {
    /// Defines a draft term. Records `TermDefined`. A name already taken (whatever its case or
    /// status), a related term that does not exist or any invalid field is refused and nothing
    /// is recorded. Needs the manage-glossary permission (data stewards, admins).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn define_glossary_term(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The term's name: 1 to 100 characters on one line, no `;`, not starting with `=`, `+`, `-` or `@`; it never changes."
        )]
        name: String,
        #[graphql(desc = "Its definition, synonyms, related terms and owners.")]
        input: GlossaryTermInput,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<GlossaryCommandResult> {
        let context = policy_context(ctx, Permission::ManageGlossary, command_id.as_ref())?;
        let id = term_id(&name);
        let outcome = commands(ctx).define(&context, &name, input.into()).await;
        finish(ctx, id, outcome, wait_for_projection).await
    }

    /// Replaces a term's definition, synonyms, related terms and owners; its status stays.
    /// Records `TermChanged`, or nothing when all are unchanged. A deprecated term is refused
    /// (CONFLICT), an unknown one is NOT_FOUND.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn change_glossary_term(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The term's id.")] id: ID,
        #[graphql(desc = "The new content, replacing the old.")] input: GlossaryTermInput,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<GlossaryCommandResult> {
        let context = policy_context(ctx, Permission::ManageGlossary, command_id.as_ref())?;
        let id = term(&id)?;
        let outcome = commands(ctx).change(&context, id, input.into()).await;
        finish(ctx, id, outcome, wait_for_projection).await
    }

    /// Approves a draft term. Records `TermApproved`; a term that is not a draft is refused
    /// (CONFLICT). Needs the approve-glossary permission (data stewards, admins).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn approve_glossary_term(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The term's id.")] id: ID,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<GlossaryCommandResult> {
        let context = policy_context(ctx, Permission::ApproveGlossary, command_id.as_ref())?;
        let id = term(&id)?;
        let outcome = commands(ctx).approve(&context, id).await;
        finish(ctx, id, outcome, wait_for_projection).await
    }

    /// Deprecates a draft or approved term: it stays readable and linked, but no longer
    /// changes or links, and its name stays taken. Records `TermDeprecated`.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn deprecate_glossary_term(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The term's id.")] id: ID,
        #[graphql(
            desc = "Why (for example what replaces it): at most 500 characters; newline and tab are the only control characters allowed."
        )]
        reason: Option<String>,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<GlossaryCommandResult> {
        let context = policy_context(ctx, Permission::ManageGlossary, command_id.as_ref())?;
        let id = term(&id)?;
        let outcome = commands(ctx).deprecate(&context, id, reason).await;
        finish(ctx, id, outcome, wait_for_projection).await
    }

    /// Links a term to an asset of your tenant, or to one of its columns. Records `TermLinked`,
    /// or nothing when the link exists. An unknown asset or column is NOT_FOUND; a deprecated
    /// term is refused (CONFLICT).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn link_glossary_term(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The term's id.")] term_id: ID,
        #[graphql(desc = "The asset's id.")] asset_id: ID,
        #[graphql(desc = "A column of the asset (omit to link the asset as a whole).")]
        column: Option<String>,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<GlossaryCommandResult> {
        let context = policy_context(ctx, Permission::ManageGlossary, command_id.as_ref())?;
        let id = term(&term_id)?;
        let asset = parse_id(&asset_id)?;
        let outcome = commands(ctx)
            .link(&context, id, asset, column.as_deref())
            .await;
        finish(ctx, id, outcome, wait_for_projection).await
    }

    /// Removes a term's link to an asset or column. Records `TermUnlinked`; a link that does
    /// not exist is NOT_FOUND.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn unlink_glossary_term(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The term's id.")] term_id: ID,
        #[graphql(desc = "The asset's id.")] asset_id: ID,
        #[graphql(desc = "The column (omit for the link to the asset as a whole).")] column: Option<
            String,
        >,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<GlossaryCommandResult> {
        let context = policy_context(ctx, Permission::ManageGlossary, command_id.as_ref())?;
        let id = term(&term_id)?;
        let asset = parse_id(&asset_id)?;
        let outcome = commands(ctx)
            .unlink(&context, id, asset, column.as_deref())
            .await;
        finish(ctx, id, outcome, wait_for_projection).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_from_the_read_model() {
        for status in [
            GlossaryTermStatus::Draft,
            GlossaryTermStatus::Approved,
            GlossaryTermStatus::Deprecated,
        ] {
            assert!(GlossaryTermStatus::of(status.as_str()) == status);
        }
    }
}
