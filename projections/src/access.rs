//! The `access` read model: each tenant's custom roles (permissions and asset condition) and
//! who holds which role, from the `AccessPolicy` events. The API reads it on every request to
//! add the caller's granted roles to their token's ([`grants_of`]), so a grant or revocation
//! counts from the first request after this projection has applied it. Grants whose subject
//! was erased (it reads `[erased]`) name nobody and are not kept.

use crate::error::{DbContext, ProjectionError};
use crate::projection::{decode, Projection};
use domain::access_policy::{names_nobody, AccessPolicy, AccessPolicyEvent};
use domain::Aggregate;
use eventlog::StoredEvent;
use futures::future::BoxFuture;
use sqlx::PgConnection;

pub const NAME: &str = "access";

/// The access projection.
pub struct Access;

impl Projection for Access {
    fn name(&self) -> &'static str {
        NAME
    }

    fn ddl(&self) -> &'static str {
        include_str!("access.sql")
    }

    fn aggregate_types(&self) -> Option<&'static [&'static str]> {
        Some(&[AccessPolicy::NAME])
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        stored: &'a StoredEvent,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            if stored.event.aggregatetype != AccessPolicy::NAME {
                return Ok(());
            }
            let tenant = &stored.event.tenant;
            let sequence = stored.sequence as i64;
            let bad = |err: serde_json::Error| ProjectionError::BadEvent {
                projection: NAME,
                sequence: stored.sequence,
                reason: format!("event {}: {err}", stored.event.id),
            };
            match decode::<AccessPolicyEvent>(NAME, stored)? {
                AccessPolicyEvent::RoleDefined(domain::access_policy::RoleDefined {
                    role,
                    permissions,
                    description,
                    condition,
                })
                | AccessPolicyEvent::RoleChanged(domain::access_policy::RoleChanged {
                    role,
                    permissions,
                    description,
                    condition,
                }) => {
                    let condition = condition
                        .map(|c| serde_json::to_value(c).map_err(bad))
                        .transpose()?;
                    sqlx::query(
                        "INSERT INTO roles (tenant_id, role, permissions, description, condition, sequence)
                         VALUES ($1, $2, $3, $4, $5, $6)
                         ON CONFLICT (tenant_id, role) DO UPDATE SET permissions = EXCLUDED.permissions,
                             description = EXCLUDED.description, condition = EXCLUDED.condition,
                             sequence = EXCLUDED.sequence",
                    )
                    .bind(tenant)
                    .bind(&role)
                    .bind(serde_json::json!(permissions))
                    .bind(&description)
                    .bind(condition)
                    .bind(sequence)
                    .execute(&mut *conn)
                    .await
                    .in_projection(NAME)?;
                }
                AccessPolicyEvent::RoleRetired(retired) => {
                    // Its grants end with it, as in the aggregate.
                    for table in ["roles", "grants"] {
                        sqlx::query(&format!(
                            "DELETE FROM {table} WHERE tenant_id = $1 AND role = $2"
                        ))
                        .bind(tenant)
                        .bind(&retired.role)
                        .execute(&mut *conn)
                        .await
                        .in_projection(NAME)?;
                    }
                }
                // An erased (or unreadable) subject names nobody: no row, so it authorises no
                // one, whatever a token's `sub` reads (see `access_policy::names_nobody`).
                AccessPolicyEvent::RoleGranted(granted) if names_nobody(&granted.subject) => {}
                AccessPolicyEvent::RoleRevoked(revoked) if names_nobody(&revoked.subject) => {}
                AccessPolicyEvent::RoleGranted(granted) => {
                    sqlx::query(
                        "INSERT INTO grants (tenant_id, subject, role, sequence) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (tenant_id, subject, role) DO NOTHING",
                    )
                    .bind(tenant)
                    .bind(&granted.subject)
                    .bind(&granted.role)
                    .bind(sequence)
                    .execute(&mut *conn)
                    .await
                    .in_projection(NAME)?;
                }
                AccessPolicyEvent::RoleRevoked(revoked) => {
                    sqlx::query(
                        "DELETE FROM grants WHERE tenant_id = $1 AND subject = $2 AND role = $3",
                    )
                    .bind(tenant)
                    .bind(&revoked.subject)
                    .bind(&revoked.role)
                    .execute(&mut *conn)
                    .await
                    .in_projection(NAME)?;
                }
            }
            Ok(())
        })
    }
}

/// One role granted to a subject: a built-in role (no `permissions`) or a custom one with its
/// permissions and condition.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GrantRow {
    pub role: String,
    /// The custom role's `resource:action` strings; `None` for a built-in role.
    pub permissions: Option<serde_json::Value>,
    /// The custom role's `AssetCondition`; `None`: every asset.
    pub condition: Option<serde_json::Value>,
}

/// The roles granted to `subject` in `tenant`, by name. A grant of a custom role that no longer
/// exists cannot be (retiring deletes its grants) and would come back without permissions.
pub async fn grants_of(
    pool: &sqlx::PgPool,
    tenant: &str,
    subject: &str,
) -> Result<Vec<GrantRow>, sqlx::Error> {
    if names_nobody(subject) {
        return Ok(Vec::new());
    }
    sqlx::query_as(&format!(
        "SELECT g.role, r.permissions, r.condition
         FROM rm_{NAME}.grants g
         LEFT JOIN rm_{NAME}.roles r ON r.tenant_id = g.tenant_id AND r.role = g.role
         WHERE g.tenant_id = $1 AND g.subject = $2
         ORDER BY g.role"
    ))
    .bind(tenant)
    .bind(subject)
    .fetch_all(pool)
    .await
}
