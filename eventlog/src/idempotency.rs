//! Idempotency keys: what makes a retried command land once, and only for its own tenant and
//! aggregate.
//!
//! A command id is chosen by the client, so it is not unique across tenants (two clients may
//! pick the same UUID, or one may reuse another's on purpose). Everything derived from it is
//! therefore scoped: the commit's `Nats-Msg-Id` ([`message_id`]) hashes the tenant, the
//! aggregate's type and id and the command id, and the id of an aggregate a command creates
//! under a server-chosen id ([`derived_aggregate_id`]) hashes the tenant, the kind of creation
//! and the command id. The second makes a retry find the aggregate it created even after the
//! stream's duplicate window, because the handler then finds the command in that aggregate's
//! history.

use domain::{AggregateId, TenantId};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The `Nats-Msg-Id` of a commit: hex SHA-256 over tenant, aggregate type, aggregate id and
/// command id. Members are separated by a NUL byte, which none of them can contain, so two
/// different tuples never hash the same input.
pub fn message_id(
    tenant: &TenantId,
    aggregate_type: &str,
    aggregate_id: &AggregateId,
    command_id: &Uuid,
) -> String {
    let mut hasher = Sha256::new();
    for part in [
        b"pursight-commit-v1".as_slice(),
        tenant.as_str().as_bytes(),
        aggregate_type.as_bytes(),
        aggregate_id.as_uuid().as_bytes(),
        command_id.as_bytes(),
    ] {
        hasher.update(part);
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// The id of an aggregate that a command creates under an id the server chooses (a scan rule
/// set, a scan): the same tenant, `kind` and command id always give the same id, so a retried
/// creation addresses the aggregate the first attempt created. A UUID of version 8 (custom)
/// built from the first 16 bytes of a SHA-256.
pub fn derived_aggregate_id(tenant: &TenantId, kind: &str, command_id: &Uuid) -> AggregateId {
    let mut hasher = Sha256::new();
    for part in [
        b"pursight-created-id-v1".as_slice(),
        tenant.as_str().as_bytes(),
        kind.as_bytes(),
        command_id.as_bytes(),
    ] {
        hasher.update(part);
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    AggregateId::from_uuid(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

/// A command id derived from another for a follow-up step that must itself be idempotent (the
/// same parent command and `step` always give the same id).
pub fn derived_command_id(tenant: &TenantId, parent: &Uuid, step: &str) -> Uuid {
    derived_aggregate_id(tenant, &["command:", step].concat(), parent).as_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_tenant_aggregate_and_command_and_are_stable() {
        let acme = TenantId::parse("acme").unwrap();
        let globex = TenantId::parse("globex").unwrap();
        let aggregate = AggregateId::from_uuid(Uuid::from_u128(7));
        let other = AggregateId::from_uuid(Uuid::from_u128(8));
        let command = Uuid::from_u128(42);
        let key = message_id(&acme, "scan", &aggregate, &command);
        assert_eq!(key, message_id(&acme, "scan", &aggregate, &command));
        assert_eq!(key.len(), 64);
        for different in [
            message_id(&globex, "scan", &aggregate, &command),
            message_id(&acme, "asset", &aggregate, &command),
            message_id(&acme, "scan", &other, &command),
            message_id(&acme, "scan", &aggregate, &Uuid::from_u128(43)),
        ] {
            assert_ne!(key, different);
        }
        let id = derived_aggregate_id(&acme, "scan", &command);
        assert_eq!(id, derived_aggregate_id(&acme, "scan", &command));
        assert_ne!(id, derived_aggregate_id(&globex, "scan", &command));
        assert_ne!(id, derived_aggregate_id(&acme, "scan_rule_set", &command));
        assert_eq!(id.as_uuid().get_version_num(), 8);
        assert_ne!(
            derived_command_id(&acme, &command, "a"),
            derived_command_id(&acme, &command, "b")
        );
    }
}
