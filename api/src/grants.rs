//! Grants authorise requests: a caller may do what the built-in roles of their token allow,
//! plus what the roles granted to their subject in their tenant allow (the tenant's
//! `AccessPolicy`, read from the `access` read model on every request).
//!
//! - A granted built-in role joins the token's roles.
//! - A granted custom role adds the coarse permissions its `resource:action` set gives
//!   ([`domain::access::permissions_given_by`]) and, when it reads assets, its condition to the
//!   caller's [`AssetScope`]: every asset once any built-in role or any unconditional custom
//!   role reads them, else only the assets one of the conditions admits.
//! - Consistency: the grants are looked up when a request starts, so a grant or revocation
//!   counts from the first request that starts after the `access` projection applied it (a
//!   mutation with `waitForProjection` returns after that). A subscription looks them up again
//!   for every commit it delivers.
//! - If the read model cannot be read, the caller keeps their token's roles only (grants only
//!   ever add) and the failure is logged.

use crate::auth::Caller;
use domain::access::{permissions_given_by, AssetScope, Role};
use domain::access_policy::{AssetCondition, ASSET_READ};
use projections::access::GrantRow;
use sqlx::PgPool;

/// `caller` (as their token makes them) with the roles granted to their subject in their
/// tenant added.
pub async fn with_grants(pool: &PgPool, caller: Caller) -> Caller {
    let caller = caller.token_only();
    match projections::access::grants_of(pool, caller.tenant.as_str(), &caller.subject).await {
        Ok(rows) => add(caller, rows),
        Err(err) => {
            tracing::warn!(tenant = %caller.tenant, error = %err, "the granted roles cannot be read; the token's roles alone apply");
            caller
        }
    }
}

/// Adds the granted roles `rows` to `caller`, who holds only their token's roles.
pub fn add(mut caller: Caller, rows: Vec<GrantRow>) -> Caller {
    let mut every_asset = !caller.roles.is_empty();
    let mut conditions: Vec<AssetCondition> = Vec::new();
    for row in rows {
        if let Ok(role) = row.role.parse::<Role>() {
            if !caller.roles.contains(&role) {
                caller.roles.push(role);
            }
            every_asset = true;
            continue;
        }
        let Some(permissions) = row
            .permissions
            .and_then(|p| serde_json::from_value::<Vec<String>>(p).ok())
        else {
            tracing::warn!(role = %row.role, "a granted custom role has no readable permissions; ignored");
            continue;
        };
        // A condition that cannot be read must not widen the role to every asset.
        let condition = match row.condition {
            None | Some(serde_json::Value::Null) => None,
            Some(value) => match serde_json::from_value::<AssetCondition>(value) {
                Ok(condition) => Some(condition),
                Err(err) => {
                    tracing::warn!(role = %row.role, error = %err, "a granted custom role's condition cannot be read; role ignored");
                    continue;
                }
            },
        };
        for permission in permissions_given_by(&permissions) {
            if !caller.granted.contains(&permission) {
                caller.granted.push(permission);
            }
        }
        if permissions.iter().any(|p| p == ASSET_READ) {
            match condition {
                None => every_asset = true,
                Some(condition) => conditions.push(condition),
            }
        }
        caller.custom_roles.push(row.role);
    }
    caller.assets = if every_asset {
        AssetScope::All
    } else {
        AssetScope::Only(conditions)
    };
    caller
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::access::Permission;
    use domain::classification::Sensitivity;
    use domain::TenantId;

    fn caller(roles: Vec<Role>) -> Caller {
        Caller {
            subject: "kim@clinic.test".into(),
            tenant: TenantId::parse("acme").unwrap(),
            assets: if roles.is_empty() {
                AssetScope::Only(Vec::new())
            } else {
                AssetScope::All
            },
            token_roles: roles.clone(),
            roles,
            custom_roles: Vec::new(),
            granted: Vec::new(),
            expires_at: 0,
        }
    }

    fn custom(role: &str, permissions: &[&str], condition: Option<AssetCondition>) -> GrantRow {
        GrantRow {
            role: role.into(),
            permissions: Some(serde_json::json!(permissions)),
            condition: condition.map(|c| serde_json::to_value(c).unwrap()),
        }
    }

    fn not_critical() -> AssetCondition {
        AssetCondition {
            max_sensitivity: Some(Sensitivity::High),
            ..Default::default()
        }
    }

    #[test]
    fn a_granted_built_in_role_joins_the_tokens_roles() {
        let granted = GrantRow {
            role: "auditor".into(),
            permissions: None,
            condition: None,
        };
        let caller = add(caller(vec![Role::Viewer]), vec![granted]);
        assert_eq!(caller.roles, vec![Role::Viewer, Role::Auditor]);
        assert!(caller.allows(Permission::ReadAudit));
        assert!(!caller.allows(Permission::ManageDataSources));
        assert_eq!(caller.assets, AssetScope::All);
    }

    #[test]
    fn a_custom_role_adds_what_its_permissions_give_and_narrows_nothing_it_does_not_read() {
        let caller = add(
            caller(vec![]),
            vec![custom(
                "analyst",
                &["asset:read", "audit:read"],
                Some(not_critical()),
            )],
        );
        assert!(caller.allows(Permission::ReadCatalog));
        assert!(caller.allows(Permission::ReadAudit));
        assert!(caller.allows(Permission::SubscribeEvents));
        assert!(!caller.allows(Permission::ManageDataSources));
        assert!(!caller.allows(Permission::ManageRoles));
        assert_eq!(caller.assets, AssetScope::Only(vec![not_critical()]));
        assert_eq!(caller.role_names(), ["analyst"]);
    }

    #[test]
    fn an_unconditional_reader_or_any_built_in_role_reaches_every_asset() {
        let both = add(
            caller(vec![]),
            vec![
                custom("analyst", &["asset:read"], Some(not_critical())),
                custom("reader", &["asset:read"], None),
            ],
        );
        assert_eq!(both.assets, AssetScope::All);
        let viewer = add(
            caller(vec![Role::Viewer]),
            vec![custom("analyst", &["asset:read"], Some(not_critical()))],
        );
        assert_eq!(viewer.assets, AssetScope::All);
    }

    #[test]
    fn no_grant_no_role_reaches_nothing() {
        let nobody = add(caller(vec![]), vec![]);
        assert_eq!(nobody.assets, AssetScope::Only(Vec::new()));
        assert!(!Permission::ALL.into_iter().any(|p| nobody.allows(p)));
    }

    #[test]
    fn an_unreadable_condition_drops_the_role_instead_of_widening_it() {
        let mut row = custom("analyst", &["asset:read"], None);
        row.condition = Some(serde_json::json!({"max_sensitivity": "extreme"}));
        let caller = add(caller(vec![]), vec![row]);
        assert!(!caller.allows(Permission::ReadCatalog));
        assert_eq!(caller.assets, AssetScope::Only(Vec::new()));
    }
}
