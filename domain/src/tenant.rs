//! The Tenant aggregate: a platform operator creates a tenant, may suspend it (its tokens are
//! then refused) and reactivate it.
//!
//! | command | state | records |
//! |---|---|---|
//! | Create | never created | `TenantCreated` |
//! | Create | created | refused: already exists |
//! | Suspend | active | `TenantSuspended` |
//! | Suspend | suspended | refused: already suspended |
//! | Reactivate | suspended | `TenantReactivated` |
//! | Reactivate | active | refused: not suspended |
//! | Suspend, Reactivate | never created | refused: not found |
//!
//! Events carry no timestamps or actors: the envelope does (a suspension's "since" is its
//! envelope time). Tenants that were never created are not this aggregate's concern: the
//! service treats them as active (see the README's "Tenants" section).

use crate::aggregate::{decode_data, Aggregate, DomainEvent, EventDecodeError};
use crate::ids::TenantId;
use crate::text::{FreeText, Name};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A request to a Tenant aggregate. Text is parsed ([`Name`], [`FreeText`]) before a command
/// exists, so an unbounded or control-laden name or reason never reaches `decide`.
#[derive(Debug, Clone, PartialEq)]
pub enum TenantCommand {
    Create {
        tenant: TenantId,
        display_name: Name,
    },
    Suspend {
        reason: FreeText,
    },
    Reactivate,
}

/// A tenant was created by the platform operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TenantCreated {
    /// The tenant id (lowercase letters, digits, `-`, `_`; 1–64 characters).
    pub tenant: String,
    /// At most 256 characters on one line.
    pub display_name: String,
}

/// The tenant was suspended: its tokens are refused until it is reactivated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TenantSuspended {
    /// At most 4096 characters.
    pub reason: String,
}

/// The suspended tenant was reactivated: its tokens are accepted again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TenantReactivated {}

/// Every event of the Tenant aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum TenantEvent {
    TenantCreated(TenantCreated),
    TenantSuspended(TenantSuspended),
    TenantReactivated(TenantReactivated),
}

impl TenantEvent {
    /// Every `(event_type, version)` that [`DomainEvent::from_stored`] reads. Each has a schema
    /// file in `schemas/`.
    pub const READABLE: &'static [(&'static str, u32)] = &[
        ("TenantCreated", 1),
        ("TenantSuspended", 1),
        ("TenantReactivated", 1),
    ];
}

impl DomainEvent for TenantEvent {
    fn event_type(&self) -> &'static str {
        match self {
            TenantEvent::TenantCreated(_) => "TenantCreated",
            TenantEvent::TenantSuspended(_) => "TenantSuspended",
            TenantEvent::TenantReactivated(_) => "TenantReactivated",
        }
    }

    fn version(&self) -> u32 {
        1
    }

    fn serialize_data<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            TenantEvent::TenantCreated(e) => e.serialize(serializer),
            TenantEvent::TenantSuspended(e) => e.serialize(serializer),
            TenantEvent::TenantReactivated(e) => e.serialize(serializer),
        }
    }

    fn from_stored(event_type: &str, version: u32, data: &Value) -> Result<Self, EventDecodeError> {
        use TenantEvent as E;
        let t = event_type;
        Ok(match (event_type, version) {
            ("TenantCreated", 1) => E::TenantCreated(decode_data(t, version, data)?),
            ("TenantSuspended", 1) => E::TenantSuspended(decode_data(t, version, data)?),
            ("TenantReactivated", 1) => E::TenantReactivated(decode_data(t, version, data)?),
            _ => {
                return Err(EventDecodeError::Unknown {
                    event_type: event_type.to_owned(),
                    version,
                })
            }
        })
    }
}

/// Where a tenant stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    /// Never created (as every tenant was before tenants were recorded).
    #[default]
    Unknown,
    Active,
    Suspended,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Unknown => "unknown",
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
        }
    }
}

impl std::fmt::Display for TenantStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The folded history of one tenant. `Default` is a tenant never created.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TenantState {
    pub tenant: Option<String>,
    pub display_name: Option<String>,
    pub status: TenantStatus,
    /// Why it is suspended (while it is).
    pub suspension_reason: Option<String>,
    /// Number of events applied.
    pub version: u64,
}

/// Why the Tenant aggregate refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    #[error("the tenant was never created")]
    NotFound,
    #[error("the tenant already exists")]
    AlreadyExists,
    #[error("the tenant is already suspended")]
    AlreadySuspended,
    #[error("the tenant is not suspended")]
    NotSuspended,
}

impl crate::Rejection for TenantError {
    fn kind(&self) -> crate::RejectionKind {
        use crate::RejectionKind::*;
        match self {
            TenantError::NotFound => NotFound,
            TenantError::AlreadyExists
            | TenantError::AlreadySuspended
            | TenantError::NotSuspended => Refused,
        }
    }
}

/// The Tenant aggregate (a decider; all data is in [`TenantState`]).
pub struct Tenant;

impl Aggregate for Tenant {
    const NAME: &'static str = "tenant";
    type State = TenantState;
    type Command = TenantCommand;
    type Event = TenantEvent;
    type Error = TenantError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match (command, state.status) {
            (TenantCommand::Create { .. }, TenantStatus::Active | TenantStatus::Suspended) => {
                Err(TenantError::AlreadyExists)
            }
            (
                TenantCommand::Create {
                    tenant,
                    display_name,
                },
                TenantStatus::Unknown,
            ) => Ok(vec![TenantEvent::TenantCreated(TenantCreated {
                tenant: tenant.to_string(),
                display_name: display_name.as_str().to_owned(),
            })]),
            (TenantCommand::Suspend { .. } | TenantCommand::Reactivate, TenantStatus::Unknown) => {
                Err(TenantError::NotFound)
            }
            (TenantCommand::Suspend { reason }, TenantStatus::Active) => {
                Ok(vec![TenantEvent::TenantSuspended(TenantSuspended {
                    reason: reason.as_str().to_owned(),
                })])
            }
            (TenantCommand::Suspend { .. }, TenantStatus::Suspended) => {
                Err(TenantError::AlreadySuspended)
            }
            (TenantCommand::Reactivate, TenantStatus::Suspended) => {
                Ok(vec![TenantEvent::TenantReactivated(TenantReactivated {})])
            }
            (TenantCommand::Reactivate, TenantStatus::Active) => Err(TenantError::NotSuspended),
        }
    }

    fn evolve(mut state: Self::State, event: &Self::Event) -> Self::State {
        state.version += 1;
        match event {
            TenantEvent::TenantCreated(e) => {
                state.tenant = Some(e.tenant.clone());
                state.display_name = Some(e.display_name.clone());
                state.status = TenantStatus::Active;
            }
            TenantEvent::TenantSuspended(e) => {
                state.status = TenantStatus::Suspended;
                state.suspension_reason = Some(e.reason.clone());
            }
            TenantEvent::TenantReactivated(_) => {
                state.status = TenantStatus::Active;
                state.suspension_reason = None;
            }
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, Given};

    fn given(events: Vec<TenantEvent>) -> Given<Tenant> {
        testing::given(events)
    }

    fn acme() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    fn create() -> TenantCommand {
        TenantCommand::Create {
            tenant: acme(),
            display_name: Name::parse("Acme Corp").unwrap(),
        }
    }

    fn created() -> TenantEvent {
        TenantEvent::TenantCreated(TenantCreated {
            tenant: "acme".into(),
            display_name: "Acme Corp".into(),
        })
    }

    fn suspend(reason: &str) -> TenantCommand {
        TenantCommand::Suspend {
            reason: FreeText::parse(reason).unwrap(),
        }
    }

    fn suspended(reason: &str) -> TenantEvent {
        TenantEvent::TenantSuspended(TenantSuspended {
            reason: reason.into(),
        })
    }

    #[test]
    fn a_tenant_is_created_active() {
        let state = given(vec![]).when(create()).then(vec![created()]);
        assert_eq!(state.status, TenantStatus::Active);
        assert_eq!(state.display_name.as_deref(), Some("Acme Corp"));
    }

    #[test]
    fn a_tenant_is_created_once() {
        given(vec![created()])
            .when(create())
            .then_error(TenantError::AlreadyExists);
        given(vec![created(), suspended("unpaid")])
            .when(create())
            .then_error(TenantError::AlreadyExists);
    }

    #[test]
    fn an_active_tenant_is_suspended_with_its_reason() {
        let state = given(vec![created()])
            .when(suspend("unpaid invoice"))
            .then(vec![suspended("unpaid invoice")]);
        assert_eq!(state.status, TenantStatus::Suspended);
        assert_eq!(state.suspension_reason.as_deref(), Some("unpaid invoice"));
    }

    #[test]
    fn a_suspended_tenant_is_not_suspended_again() {
        given(vec![created(), suspended("unpaid")])
            .when(suspend("again"))
            .then_error(TenantError::AlreadySuspended);
    }

    #[test]
    fn a_suspended_tenant_is_reactivated_and_may_be_suspended_again() {
        let state = given(vec![created(), suspended("unpaid")])
            .when(TenantCommand::Reactivate)
            .then(vec![TenantEvent::TenantReactivated(TenantReactivated {})]);
        assert_eq!(state.status, TenantStatus::Active);
        assert_eq!(state.suspension_reason, None);
        given(vec![
            created(),
            suspended("unpaid"),
            TenantEvent::TenantReactivated(TenantReactivated {}),
        ])
        .when(suspend("abuse"))
        .then(vec![suspended("abuse")]);
    }

    #[test]
    fn an_active_tenant_is_not_reactivated() {
        given(vec![created()])
            .when(TenantCommand::Reactivate)
            .then_error(TenantError::NotSuspended);
    }

    #[test]
    fn a_tenant_never_created_is_neither_suspended_nor_reactivated() {
        for command in [suspend("x"), TenantCommand::Reactivate] {
            given(vec![])
                .when(command)
                .then_error(TenantError::NotFound);
        }
    }

    #[test]
    fn events_round_trip_through_their_stored_form() {
        for event in [
            created(),
            suspended("unpaid"),
            TenantEvent::TenantReactivated(TenantReactivated {}),
        ] {
            let back =
                TenantEvent::from_stored(event.event_type(), event.version(), &event.to_data())
                    .unwrap();
            assert_eq!(back, event);
            assert!(TenantEvent::READABLE.contains(&(event.event_type(), 1)));
        }
        assert!(matches!(
            TenantEvent::from_stored("TenantSuspended", 2, &Value::Null),
            Err(EventDecodeError::Unknown { .. })
        ));
    }
}
