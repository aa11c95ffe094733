//! Custom roles and grants: the commands behind the GraphQL mutations `defineRole`,
//! `changeRole`, `retireRole`, `grantRole`, `revokeRole` and the `roles` query.
//!
//! Every change goes through the one command handler and needs [`Permission::ManageRoles`]
//! (admins only). The domain (`domain::access_policy`) validates names, permissions,
//! descriptions, conditions and subjects and refuses before anything is written. Grants are
//! recorded; the compliance facts read them (who reads an asset) and the API authorises requests
//! by them through the `access` read model.

use crate::{CommandContext, CommandError, CommandHandler, CommandOutcome};
use domain::access::{Permission, Role};
use domain::access_policy::{
    access_policy_id, builtin_permissions, AccessPolicy, AccessPolicyCommand, AccessPolicyState,
    AssetCondition,
};

/// One role as the tenant's policy has it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleListing {
    pub name: String,
    /// A built-in role (fixed permissions; grantable, not redefinable).
    pub built_in: bool,
    pub description: String,
    /// `resource:action` strings, sorted.
    pub permissions: Vec<String>,
    /// The subjects it is granted to, sorted.
    pub subjects: Vec<String>,
    /// The assets a custom role reaches; `None`: every asset.
    pub condition: Option<AssetCondition>,
}

/// Defines, changes and retires custom roles; grants and revokes roles.
#[derive(Clone)]
pub struct AccessPolicyCommands {
    handler: CommandHandler,
}

impl AccessPolicyCommands {
    pub fn new(handler: CommandHandler) -> Self {
        Self { handler }
    }

    /// The built-in roles (fixed order) and then the tenant's custom roles (by name), each with
    /// its permissions and grants. Needs [`Permission::ManageRoles`]: grants name people.
    pub async fn roles(&self, ctx: &CommandContext) -> Result<Vec<RoleListing>, CommandError> {
        let state = self
            .handler
            .state::<AccessPolicy>(ctx, Permission::ManageRoles, access_policy_id(&ctx.tenant))
            .await?;
        Ok(listing(&state))
    }

    /// Defines a custom role.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant))]
    pub async fn define_role(
        &self,
        ctx: &CommandContext,
        role: &str,
        permissions: Vec<String>,
        description: &str,
        condition: Option<AssetCondition>,
    ) -> Result<CommandOutcome, CommandError> {
        self.change(
            ctx,
            AccessPolicyCommand::DefineRole {
                role: role.to_owned(),
                permissions,
                description: description.to_owned(),
                condition,
            },
        )
        .await
    }

    /// Replaces a custom role's permissions, description and condition.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant))]
    pub async fn change_role(
        &self,
        ctx: &CommandContext,
        role: &str,
        permissions: Vec<String>,
        description: &str,
        condition: Option<AssetCondition>,
    ) -> Result<CommandOutcome, CommandError> {
        self.change(
            ctx,
            AccessPolicyCommand::ChangeRole {
                role: role.to_owned(),
                permissions,
                description: description.to_owned(),
                condition,
            },
        )
        .await
    }

    /// Retires a custom role and ends its grants.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant))]
    pub async fn retire_role(
        &self,
        ctx: &CommandContext,
        role: &str,
    ) -> Result<CommandOutcome, CommandError> {
        self.change(
            ctx,
            AccessPolicyCommand::RetireRole {
                role: role.to_owned(),
            },
        )
        .await
    }

    /// Grants a built-in or custom role to a subject (a token's `sub`).
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant))]
    pub async fn grant_role(
        &self,
        ctx: &CommandContext,
        subject: &str,
        role: &str,
    ) -> Result<CommandOutcome, CommandError> {
        self.change(
            ctx,
            AccessPolicyCommand::GrantRole {
                subject: subject.to_owned(),
                role: role.to_owned(),
            },
        )
        .await
    }

    /// Revokes a subject's grant of a role.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant))]
    pub async fn revoke_role(
        &self,
        ctx: &CommandContext,
        subject: &str,
        role: &str,
    ) -> Result<CommandOutcome, CommandError> {
        self.change(
            ctx,
            AccessPolicyCommand::RevokeRole {
                subject: subject.to_owned(),
                role: role.to_owned(),
            },
        )
        .await
    }

    async fn change(
        &self,
        ctx: &CommandContext,
        command: AccessPolicyCommand,
    ) -> Result<CommandOutcome, CommandError> {
        self.handler
            .execute::<AccessPolicy>(
                ctx,
                Permission::ManageRoles,
                access_policy_id(&ctx.tenant),
                command,
            )
            .await
    }
}

/// The roles of `state`: built-in first (in [`Role::ALL`] order), then custom ones by name.
pub fn listing(state: &AccessPolicyState) -> Vec<RoleListing> {
    let subjects = |role: &str| -> Vec<String> {
        state
            .grants
            .get(role)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    };
    let builtin = Role::ALL.into_iter().map(|role| RoleListing {
        name: role.as_str().to_owned(),
        built_in: true,
        description: builtin_description(role).to_owned(),
        permissions: builtin_permissions(role).into_iter().collect(),
        subjects: subjects(role.as_str()),
        condition: None,
    });
    let custom = state.roles.iter().map(|(name, role)| RoleListing {
        name: name.clone(),
        built_in: false,
        description: role.description.clone(),
        permissions: role.permissions.iter().cloned().collect(),
        subjects: subjects(name),
        condition: role.condition.clone(),
    });
    builtin.chain(custom).collect()
}

fn builtin_description(role: Role) -> &'static str {
    match role {
        Role::Admin => "Everything, including roles, grants and reading PHI.",
        Role::DataSteward => "Registers and curates data sources, assets and classifications.",
        Role::Viewer => "Reads the catalog.",
        Role::Auditor => "Reads the catalog and the audit trail; changes nothing.",
        Role::ComplianceOfficer => {
            "Reads the catalog and audit trail, changes the compliance policy, accepts risk."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::access_policy::{AccessPolicyEvent, RoleDefined, RoleGranted};
    use domain::Aggregate;

    #[test]
    fn the_listing_shows_built_in_roles_first_then_custom_roles_with_their_grants() {
        let state = AccessPolicy::replay(&[
            AccessPolicyEvent::RoleDefined(RoleDefined {
                role: "analyst".into(),
                permissions: vec!["asset:read".into()],
                description: "Analysts".into(),
                condition: None,
            }),
            AccessPolicyEvent::RoleGranted(RoleGranted {
                subject: "kim@clinic.test".into(),
                role: "analyst".into(),
            }),
        ]);
        let roles = listing(&state);
        let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "admin",
                "data_steward",
                "viewer",
                "auditor",
                "compliance_officer",
                "analyst"
            ]
        );
        let analyst = roles.last().unwrap();
        assert!(!analyst.built_in);
        assert_eq!(analyst.subjects, ["kim@clinic.test"]);
        assert_eq!(analyst.permissions, ["asset:read"]);
        assert!(roles[0].permissions.contains(&"asset:read_phi".to_owned()));
    }
}
