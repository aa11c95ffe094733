//! Custom roles and grants (the tenant's `AccessPolicy`): the mutations `defineRole`,
//! `changeRole`, `retireRole`, `grantRole` and `revokeRole`, and the `roles` query. All need the
//! `ManageRoles` permission (admins only); the query too, because grants name people.
//!
//! Like every mutation they take an optional `commandId` (idempotency key) and
//! `waitForProjection`, and return the aggregate's id and version, the commit's sequence and the
//! event ids. Invalid input is refused whole (VALIDATION, one part of the message per problem)
//! before anything is recorded. Grants authorise requests (see [`crate::grants`]: a request may
//! do what its token's roles and the roles granted to its subject allow) and feed the
//! compliance facts (who reads an asset).

use super::errors::command_error;
use super::mutation::{finish, policy_context};
use super::types::CommandResult;
use super::Services;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use commands::access_policy::{AccessPolicyCommands, RoleListing};
use commands::CommandContext;
use domain::access::Permission;
use domain::access_policy::AssetCondition;

/// Which assets a custom role reaches: every part given must hold. At least one part.
#[derive(InputObject, Default)]
pub struct AssetConditionInput {
    /// Assets holding data more sensitive than this are out of reach: `low`, `medium`, `high`
    /// or `critical` (`high`: everything but critical data). An asset's sensitivity is that of
    /// its most sensitive column label that is not rejected.
    pub max_sensitivity: Option<String>,
    /// Only assets carrying at least one of these tags (the asset's own tags, else its
    /// source's); at most 32.
    #[graphql(default)]
    pub tags_any: Vec<String>,
    /// No asset carrying any of these tags; at most 32.
    #[graphql(default)]
    pub tags_none: Vec<String>,
    /// Only assets of these data sources; at most 32.
    #[graphql(default)]
    pub sources: Vec<ID>,
}

impl AssetConditionInput {
    /// The domain's condition; malformed sensitivities and ids are VALIDATION errors (the
    /// domain checks the rest).
    fn parse(self) -> Result<AssetCondition> {
        let sources: Vec<String> = self.sources.iter().map(|id| id.to_string()).collect();
        AssetCondition::from_parts(
            self.max_sensitivity.as_deref(),
            self.tags_any,
            self.tags_none,
            &sources,
        )
        .map_err(|problems| crate::graphql::api_error("VALIDATION", problems.join("; ")))
    }
}

/// Which assets a custom role reaches.
#[derive(SimpleObject)]
pub struct AssetConditionView {
    /// The most sensitive data an asset in reach may hold (`low` … `critical`); null: any.
    pub max_sensitivity: Option<String>,
    /// An asset in reach carries one of these tags (empty: any tags).
    pub tags_any: Vec<String>,
    /// An asset in reach carries none of these tags.
    pub tags_none: Vec<String>,
    /// The data sources whose assets are in reach (empty: every source).
    pub sources: Vec<ID>,
}

impl From<AssetCondition> for AssetConditionView {
    fn from(c: AssetCondition) -> Self {
        AssetConditionView {
            max_sensitivity: c.max_sensitivity.map(|s| s.as_str().to_owned()),
            tags_any: c.tags_any,
            tags_none: c.tags_none,
            sources: c.sources.iter().map(|s| ID(s.to_string())).collect(),
        }
    }
}

/// A role of your tenant: built-in or custom, with its permissions and who holds it.
#[derive(SimpleObject)]
pub struct AccessRole {
    /// The role's name (a built-in name, or a custom role's).
    pub name: String,
    /// Whether it is built in: its permissions are fixed; it can be granted, not redefined.
    pub built_in: bool,
    /// What the role is for.
    pub description: String,
    /// Its permissions as `resource:action` strings (e.g. `asset:read`, `asset:read_phi`),
    /// sorted.
    pub permissions: Vec<String>,
    /// The subjects (tokens' `sub`) it is granted to, sorted.
    pub subjects: Vec<String>,
    /// The assets a custom role's permissions reach; null: every asset of your tenant.
    pub condition: Option<AssetConditionView>,
}

impl From<RoleListing> for AccessRole {
    fn from(role: RoleListing) -> Self {
        AccessRole {
            name: role.name,
            built_in: role.built_in,
            description: role.description,
            permissions: role.permissions,
            subjects: role.subjects,
            condition: role.condition.map(AssetConditionView::from),
        }
    }
}

#[derive(Default)]
pub struct AccessQuery;

#[Object]
impl AccessQuery {
    /// Every role of your tenant — the built-in roles first, then your custom roles by name —
    /// with its permissions and the subjects it is granted to. Admins only.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn roles(&self, ctx: &Context<'_>) -> Result<Vec<AccessRole>> {
        let context = context(ctx, None)?;
        let roles = commands(ctx).roles(&context).await.map_err(command_error)?;
        Ok(roles.into_iter().map(AccessRole::from).collect())
    }
}

#[derive(Default)]
pub struct AccessMutation;

/// The caller as a command's context, if they may manage roles.
/// Roles and grants are for those who manage roles.
fn context(ctx: &Context<'_>, command_id: Option<&ID>) -> Result<CommandContext> {
    policy_context(ctx, Permission::ManageRoles, command_id)
}

fn commands(ctx: &Context<'_>) -> AccessPolicyCommands {
    AccessPolicyCommands::new(ctx.data_unchecked::<Services>().handler.clone())
}

#[Object]
impl AccessMutation {
    /// Defines a custom role for your tenant. Records `RoleDefined`. A built-in role's name, an
    /// already defined role (use `changeRole`), a malformed name, an unknown or repeated
    /// permission or a bad description are refused and nothing is recorded. A role reads assets
    /// (for the compliance facts) only once it is granted to someone.
    // GraphQL arguments, one per input of the mutation.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn define_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The role's name: 3 to 40 characters of a-z, 0-9, `_` or `-`, starting with a letter; not a built-in role's name."
        )]
        role: String,
        #[graphql(
            desc = "1 to 64 distinct permissions `resource:action`: resources data_source, asset, classification, rule_set, compliance, audit, role, glossary; actions read, create, update, delete, review, accept_risk, export; or `asset:read_phi` (may read protected health information)."
        )]
        permissions: Vec<String>,
        #[graphql(
            default,
            desc = "What the role is for: at most 500 characters; line breaks and tabs are the only control characters allowed."
        )]
        description: String,
        #[graphql(
            desc = "The assets the role's permissions reach (omit for every asset). A role with a condition may hold only reading permissions (`…:read`, `…:export`, `asset:read_phi`)."
        )]
        condition: Option<AssetConditionInput>,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<CommandResult> {
        let context = context(ctx, command_id.as_ref())?;
        let condition = condition.map(AssetConditionInput::parse).transpose()?;
        let outcome = commands(ctx)
            .define_role(&context, &role, permissions, &description, condition)
            .await;
        finish(ctx, outcome, wait_for_projection).await
    }

    /// Replaces a custom role's permissions, description and condition. Records `RoleChanged`,
    /// or nothing when all are unchanged; an unknown role is NOT_FOUND, a built-in one VALIDATION. The
    /// compliance worker re-evaluates the tenant's sources.
    // GraphQL arguments, one per input of the mutation.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn change_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The custom role's name.")] role: String,
        #[graphql(
            desc = "The new permissions, replacing the old ones (same vocabulary as `defineRole`)."
        )]
        permissions: Vec<String>,
        #[graphql(
            default,
            desc = "The new description: at most 500 characters (empty clears it)."
        )]
        description: String,
        #[graphql(desc = "The new condition, replacing the old one (omit: every asset).")]
        condition: Option<AssetConditionInput>,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<CommandResult> {
        let context = context(ctx, command_id.as_ref())?;
        let condition = condition.map(AssetConditionInput::parse).transpose()?;
        let outcome = commands(ctx)
            .change_role(&context, &role, permissions, &description, condition)
            .await;
        finish(ctx, outcome, wait_for_projection).await
    }

    /// Retires a custom role: its grants end with it and its name may be defined again.
    /// Records `RoleRetired`; an unknown role is NOT_FOUND, a built-in one VALIDATION.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn retire_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The custom role's name.")] role: String,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<CommandResult> {
        let context = context(ctx, command_id.as_ref())?;
        let outcome = commands(ctx).retire_role(&context, &role).await;
        finish(ctx, outcome, wait_for_projection).await
    }

    /// Grants a built-in or custom role to a subject. Records `RoleGranted`, or nothing when the
    /// subject already holds it; an unknown role is NOT_FOUND. From the moment the `access` read
    /// model has the grant (at once with `waitForProjection`), the subject's requests may do
    /// what the role allows, in addition to their token's roles.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn grant_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Who receives the role: a token's `sub`, 1 to 254 characters without whitespace or control characters."
        )]
        subject: String,
        #[graphql(desc = "The role's name (built-in or custom).")] role: String,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<CommandResult> {
        let context = context(ctx, command_id.as_ref())?;
        let outcome = commands(ctx).grant_role(&context, &subject, &role).await;
        finish(ctx, outcome, wait_for_projection).await
    }

    /// Revokes a subject's grant of a role. Records `RoleRevoked`; a grant the subject does not
    /// hold is NOT_FOUND. Requests that start once the `access` read model has the revocation
    /// (at once with `waitForProjection`) no longer have the role.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn revoke_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The subject (a token's `sub`).")] subject: String,
        #[graphql(desc = "The role's name.")] role: String,
        #[graphql(desc = "Idempotency key (a UUID): the same id twice records once.")]
        command_id: Option<ID>,
        #[graphql(
            default = false,
            desc = "Return only once the read models reflect the change."
        )]
        wait_for_projection: bool,
    ) -> Result<CommandResult> {
        let context = context(ctx, command_id.as_ref())?;
        let outcome = commands(ctx).revoke_role(&context, &subject, &role).await;
        finish(ctx, outcome, wait_for_projection).await
    }
}
