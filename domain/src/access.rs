//! Roles and what each may do. One table, checked by every command and query.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A role carried in a caller's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including tenant-wide administration.
    Admin,
    /// Registers, configures and curates data sources and their classifications.
    DataSteward,
    /// Reads the catalog.
    Viewer,
    /// Reads the catalog, the audit trail and the raw event history; changes nothing.
    Auditor,
    /// Reads the catalog and the audit trail, subscribes, changes the tenant's compliance policy
    /// (frameworks, rule tuning, custom rules) and accepts compliance risk. Manages no source.
    ComplianceOfficer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::DataSteward,
        Role::Viewer,
        Role::Auditor,
        Role::ComplianceOfficer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::DataSteward => "data_steward",
            Role::Viewer => "viewer",
            Role::Auditor => "auditor",
            Role::ComplianceOfficer => "compliance_officer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!(
                    "unknown role {:?}; expected one of {}",
                    crate::datasource::values::clip(s, 40),
                    names.join(", ")
                )
            })
    }
}

/// Something a caller may want to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Register, configure, move through the lifecycle or archive a data source.
    ManageDataSources,
    /// Read data sources and the catalog.
    ReadCatalog,
    /// Read the audit trail and the raw event history.
    ReadAudit,
    /// Subscribe to the tenant's live events.
    SubscribeEvents,
    /// Change the tenant's compliance policy: enable or disable frameworks, tune rules, define
    /// and retire custom rules.
    ManageCompliance,
    /// Accept the risk of a compliance violation until a date (a risk acceptance).
    AcceptRisk,
    /// Define, change and retire the tenant's custom roles and grant or revoke roles
    /// (the `AccessPolicy` aggregate). Admins only.
    ManageRoles,
    /// Define, change and deprecate glossary terms, link them to assets and columns, import
    /// a glossary.
    ManageGlossary,
    /// Approve a draft glossary term (a data steward's call).
    ApproveGlossary,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 9] = [
        Permission::ManageDataSources,
        Permission::ReadCatalog,
        Permission::ReadAudit,
        Permission::SubscribeEvents,
        Permission::ManageCompliance,
        Permission::AcceptRisk,
        Permission::ManageRoles,
        Permission::ManageGlossary,
        Permission::ApproveGlossary,
    ];

    /// The `resource:action` permissions (the vocabulary of custom roles, see
    /// [`crate::access_policy`]) any one of which gives this permission to a custom role. Chosen
    /// so that each built-in role's own `resource:action` set gives exactly what the table above
    /// gives it (a unit test holds them together). Empty for [`Permission::ManageRoles`]: no
    /// custom role may hand out roles, since whoever grants roles can grant `admin`.
    pub fn granted_by(self) -> &'static [&'static str] {
        match self {
            Permission::ManageDataSources => &["data_source:update"],
            Permission::ReadCatalog => &["asset:read"],
            Permission::ReadAudit => &["audit:read"],
            // The live events are the audit trail as it happens, and what a steward watches.
            Permission::SubscribeEvents => &["audit:read", "data_source:update"],
            Permission::ManageCompliance => &["compliance:update"],
            Permission::AcceptRisk => &["compliance:accept_risk"],
            Permission::ManageRoles => &[],
            Permission::ManageGlossary => &["glossary:update"],
            Permission::ApproveGlossary => &["glossary:review"],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ManageDataSources => "manage data sources",
            Permission::ReadCatalog => "read the catalog",
            Permission::ReadAudit => "read the audit trail and event history",
            Permission::SubscribeEvents => "subscribe to events",
            Permission::ManageCompliance => "manage the compliance policy",
            Permission::AcceptRisk => "accept compliance risk",
            Permission::ManageRoles => "manage roles and grants",
            Permission::ManageGlossary => "manage the business glossary",
            Permission::ApproveGlossary => "approve glossary terms",
        }
    }
}

/// The permission table.
pub fn role_allows(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Admin => true,
        Role::DataSteward => matches!(
            permission,
            ManageDataSources | ReadCatalog | SubscribeEvents | ManageGlossary | ApproveGlossary
        ),
        Role::Viewer => matches!(permission, ReadCatalog),
        Role::Auditor => matches!(permission, ReadCatalog | ReadAudit | SubscribeEvents),
        // Accepting risk and tuning the policy are a separate duty from curating sources: the
        // steward who fixes a finding is not the one who may waive it.
        Role::ComplianceOfficer => matches!(
            permission,
            ReadCatalog | ReadAudit | SubscribeEvents | ManageCompliance | AcceptRisk
        ),
    }
}

/// The permissions a custom role holding the `resource:action` set `permissions` has.
pub fn permissions_given_by<'a>(
    permissions: impl IntoIterator<Item = &'a String> + Clone,
) -> Vec<Permission> {
    Permission::ALL
        .into_iter()
        .filter(|p| {
            permissions
                .clone()
                .into_iter()
                .any(|held| p.granted_by().contains(&held.as_str()))
        })
        .collect()
}

/// Which assets a caller's reads reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetScope {
    /// Every asset of the tenant: a built-in role, or a custom role reading assets without a
    /// condition.
    All,
    /// Only the assets one of these conditions admits (none: no asset). The conditions of the
    /// custom roles the caller holds that read assets (`asset:read`).
    Only(Vec<crate::access_policy::AssetCondition>),
}

impl AssetScope {
    /// Whether every asset is in reach.
    pub fn is_all(&self) -> bool {
        matches!(self, AssetScope::All)
    }
}

/// Whether any of the roles allows the permission.
pub fn roles_allow(roles: &[Role], permission: Permission) -> bool {
    roles.iter().any(|role| role_allows(*role, permission))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builtin_roles_resource_action_set_gives_what_the_table_gives_it() {
        for role in Role::ALL {
            let given = permissions_given_by(&crate::access_policy::builtin_permissions(role));
            let table: Vec<Permission> = Permission::ALL
                .into_iter()
                .filter(|p| role_allows(role, *p) && *p != Permission::ManageRoles)
                .collect();
            assert_eq!(given, table, "{role}");
        }
    }

    #[test]
    fn no_custom_role_manages_roles() {
        let everything = crate::access_policy::all_permissions();
        assert!(!permissions_given_by(&everything).contains(&Permission::ManageRoles));
    }

    #[test]
    fn viewers_and_auditors_cannot_mutate() {
        assert!(!role_allows(Role::Viewer, Permission::ManageDataSources));
        assert!(!role_allows(Role::Auditor, Permission::ManageDataSources));
        assert!(role_allows(
            Role::DataSteward,
            Permission::ManageDataSources
        ));
        assert!(role_allows(Role::Admin, Permission::ManageDataSources));
    }

    #[test]
    fn only_auditors_compliance_officers_and_admins_read_the_audit_trail() {
        let readers: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| role_allows(*role, Permission::ReadAudit))
            .collect();
        assert_eq!(
            readers,
            vec![Role::Admin, Role::Auditor, Role::ComplianceOfficer]
        );
    }

    #[test]
    fn only_stewards_and_admins_curate_and_approve_the_glossary() {
        for permission in [Permission::ManageGlossary, Permission::ApproveGlossary] {
            let holders: Vec<Role> = Role::ALL
                .into_iter()
                .filter(|role| role_allows(*role, permission))
                .collect();
            assert_eq!(
                holders,
                vec![Role::Admin, Role::DataSteward],
                "{permission:?}"
            );
        }
        assert!(role_allows(Role::Viewer, Permission::ReadCatalog));
    }

    #[test]
    fn roles_parse_from_their_token_names() {
        assert_eq!("data_steward".parse::<Role>().unwrap(), Role::DataSteward);
        assert_eq!(
            "compliance_officer".parse::<Role>().unwrap(),
            Role::ComplianceOfficer
        );
        let err = "root".parse::<Role>().unwrap_err();
        assert!(err.contains("compliance_officer"), "{err}");
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
    }

    #[test]
    fn only_compliance_officers_and_admins_change_compliance_policy_or_accept_risk() {
        for permission in [Permission::ManageCompliance, Permission::AcceptRisk] {
            let holders: Vec<Role> = Role::ALL
                .into_iter()
                .filter(|role| role_allows(*role, permission))
                .collect();
            assert_eq!(
                holders,
                vec![Role::Admin, Role::ComplianceOfficer],
                "{permission:?}"
            );
        }
    }

    #[test]
    fn compliance_officers_read_and_audit_but_manage_no_source() {
        let officer = Role::ComplianceOfficer;
        assert!(role_allows(officer, Permission::ReadCatalog));
        assert!(role_allows(officer, Permission::ReadAudit));
        assert!(role_allows(officer, Permission::SubscribeEvents));
        assert!(!role_allows(officer, Permission::ManageDataSources));
    }
}
