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
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::DataSteward, Role::Viewer, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::DataSteward => "data_steward",
            Role::Viewer => "viewer",
            Role::Auditor => "auditor",
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
                format!("unknown role {s:?}; expected one of admin, data_steward, viewer, auditor")
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
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ManageDataSources => "manage data sources",
            Permission::ReadCatalog => "read the catalog",
            Permission::ReadAudit => "read the audit trail and event history",
            Permission::SubscribeEvents => "subscribe to events",
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
            ManageDataSources | ReadCatalog | SubscribeEvents
        ),
        Role::Viewer => matches!(permission, ReadCatalog),
        Role::Auditor => matches!(permission, ReadCatalog | ReadAudit | SubscribeEvents),
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
    fn only_auditors_and_admins_read_the_audit_trail() {
        let readers: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| role_allows(*role, Permission::ReadAudit))
            .collect();
        assert_eq!(readers, vec![Role::Admin, Role::Auditor]);
    }

    #[test]
    fn roles_parse_from_their_token_names() {
        assert_eq!("data_steward".parse::<Role>().unwrap(), Role::DataSteward);
        assert!("root".parse::<Role>().is_err());
    }
}
