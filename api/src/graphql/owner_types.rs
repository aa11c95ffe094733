//! GraphQL types shared by the glossary and ownership: owners with their kind (person or team)
//! and type (technical, business, steward), as inputs and as shown.

use async_graphql::{Enum, InputObject, SimpleObject};
use domain::owner::{Owner, OwnerKind, OwnerType};

/// Whether an owner is a person or a team.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "OwnerKind")]
pub enum OwnerKindGql {
    /// One person.
    Person,
    /// A team or group.
    Team,
}

/// What an owner answers for.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "OwnerType")]
pub enum OwnerTypeGql {
    /// Runs the system: schemas, pipelines, access.
    Technical,
    /// Answers for the meaning and use of the data.
    Business,
    /// Curates quality, classification and the glossary.
    Steward,
}

impl From<OwnerKindGql> for OwnerKind {
    fn from(kind: OwnerKindGql) -> Self {
        match kind {
            OwnerKindGql::Person => OwnerKind::Person,
            OwnerKindGql::Team => OwnerKind::Team,
        }
    }
}

impl From<OwnerKind> for OwnerKindGql {
    fn from(kind: OwnerKind) -> Self {
        match kind {
            OwnerKind::Person => OwnerKindGql::Person,
            OwnerKind::Team => OwnerKindGql::Team,
        }
    }
}

impl From<OwnerType> for OwnerTypeGql {
    fn from(t: OwnerType) -> Self {
        match t {
            OwnerType::Technical => OwnerTypeGql::Technical,
            OwnerType::Business => OwnerTypeGql::Business,
            OwnerType::Steward => OwnerTypeGql::Steward,
        }
    }
}

impl From<OwnerTypeGql> for OwnerType {
    fn from(t: OwnerTypeGql) -> Self {
        match t {
            OwnerTypeGql::Technical => OwnerType::Technical,
            OwnerTypeGql::Business => OwnerType::Business,
            OwnerTypeGql::Steward => OwnerType::Steward,
        }
    }
}

/// An owner: a person or team and what they answer for.
#[derive(InputObject)]
pub struct OwnerInput {
    /// 1 to 120 characters on one line; no `;`, not starting with `=`, `+`, `-` or `@`.
    pub name: String,
    /// A person or a team.
    pub kind: OwnerKindGql,
    /// Technical, business or steward.
    #[graphql(name = "type")]
    pub owner_type: OwnerTypeGql,
}

impl From<OwnerInput> for Owner {
    /// Unchecked: the domain checks the name.
    fn from(o: OwnerInput) -> Self {
        Owner {
            name: o.name,
            kind: o.kind.into(),
            owner_type: o.owner_type.into(),
        }
    }
}

/// An owner.
#[derive(SimpleObject)]
#[graphql(name = "Owner")]
pub struct OwnerGql {
    /// The person's or team's name.
    pub name: String,
    /// A person or a team; null for a source owner recorded before owners were typed.
    pub kind: Option<OwnerKindGql>,
    /// What they answer for; null for a source owner recorded before owners were typed.
    #[graphql(name = "type")]
    pub owner_type: Option<OwnerTypeGql>,
}

/// An owner as shown.
pub(crate) fn owner_view(owner: Owner) -> OwnerGql {
    OwnerGql {
        name: owner.name,
        kind: Some(owner.kind.into()),
        owner_type: Some(owner.owner_type.into()),
    }
}

/// An owner as a read model holds it: `{name, kind, type}`, or a plain name recorded before
/// owners were typed (kind and type then unknown).
pub(crate) fn owner_from_json(value: &serde_json::Value) -> Option<OwnerGql> {
    match value {
        serde_json::Value::String(name) => Some(OwnerGql {
            name: name.clone(),
            kind: None,
            owner_type: None,
        }),
        serde_json::Value::Object(_) => {
            let text = |key: &str| value.get(key).and_then(|v| v.as_str());
            Some(OwnerGql {
                name: text("name")?.to_owned(),
                kind: text("kind")
                    .and_then(|k| k.parse::<OwnerKind>().ok())
                    .map(Into::into),
                owner_type: text("type")
                    .and_then(|t| t.parse::<OwnerType>().ok())
                    .map(Into::into),
            })
        }
        _ => None,
    }
}

/// An owner from a read model's name, kind and type columns.
pub(crate) fn owner_from_columns(
    name: Option<&str>,
    kind: Option<&str>,
    owner_type: Option<&str>,
) -> Option<OwnerGql> {
    Some(OwnerGql {
        name: name?.to_owned(),
        kind: kind
            .and_then(|k| k.parse::<OwnerKind>().ok())
            .map(Into::into),
        owner_type: owner_type
            .and_then(|t| t.parse::<OwnerType>().ok())
            .map(Into::into),
    })
}
