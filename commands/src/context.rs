//! Who issues a command and how it relates to others.

use domain::access::{roles_allow, Permission, Role};
use domain::{AggregateId, TenantId};
use uuid::Uuid;

/// The caller and the ids that tie a command to its events.
#[derive(Debug, Clone)]
pub struct CommandContext {
    pub tenant: TenantId,
    /// The authenticated subject (`sub` claim).
    pub actor: String,
    pub roles: Vec<Role>,
    /// What custom roles granted to the caller add to `roles` (see
    /// [`domain::access::permissions_given_by`]); empty for workers and the CLI.
    pub granted: Vec<Permission>,
    /// Idempotency key: the same id twice yields one commit.
    pub command_id: Uuid,
    /// Ties together everything one user action caused.
    pub correlation_id: Uuid,
    /// The message that caused this command (the command itself for user actions).
    pub causation_id: Uuid,
    pub traceparent: Option<String>,
}

impl CommandContext {
    /// A user-initiated command: correlation and causation are the command itself.
    pub fn new(
        tenant: TenantId,
        actor: impl Into<String>,
        roles: Vec<Role>,
        command_id: Option<Uuid>,
    ) -> Self {
        let command_id = command_id.unwrap_or_else(Uuid::now_v7);
        Self {
            tenant,
            actor: actor.into(),
            roles,
            granted: Vec::new(),
            command_id,
            correlation_id: command_id,
            causation_id: command_id,
            traceparent: None,
        }
    }

    /// The same caller with what their custom roles give added.
    pub fn with_granted(mut self, granted: Vec<Permission>) -> Self {
        self.granted = granted;
        self
    }

    /// Whether the caller's built-in roles or custom grants allow `permission`.
    pub fn allows(&self, permission: Permission) -> bool {
        roles_allow(&self.roles, permission) || self.granted.contains(&permission)
    }

    /// A command this one caused (a workflow step): same caller and correlation, a new command
    /// id, caused by this command.
    pub fn follow_up(&self) -> Self {
        Self {
            command_id: Uuid::now_v7(),
            causation_id: self.command_id,
            ..self.clone()
        }
    }

    /// The id of an aggregate this command creates under an id the server chooses (`kind` names
    /// what is created, e.g. `scan_rule_set`). Derived from tenant, kind and command id, so a
    /// retry with the same command id addresses the aggregate the first attempt created, also
    /// after the stream's duplicate window (the handler then finds the command in its history).
    pub fn created_id(&self, kind: &str) -> AggregateId {
        eventlog::idempotency::derived_aggregate_id(&self.tenant, kind, &self.command_id)
    }

    /// Like [`follow_up`](Self::follow_up) with a command id derived from this command's and
    /// `step`, for a step that a retried command must not carry out twice.
    pub fn keyed_follow_up(&self, step: &str) -> Self {
        Self {
            command_id: eventlog::idempotency::derived_command_id(
                &self.tenant,
                &self.command_id,
                step,
            ),
            causation_id: self.command_id,
            ..self.clone()
        }
    }
}
