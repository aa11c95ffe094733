//! An asset's own catalog metadata: an owner, `key:value` tags (`purpose:billing`,
//! `retention:7y`, `residency:eu`) and a description. Each field left unset is inherited from the
//! asset's data source wherever the effective value is shown (GraphQL, compliance facts); the
//! asset records only what was set on it.
//!
//! Input is parsed here ([`MetadataPatch::parse`]), every problem reported at once, so that a
//! command carries only bounded, valid values and nothing is recorded for a bad one.

use crate::datasource::{FieldError, Tag, ValidationError};
use crate::owner::{Owner, OwnerKind, OwnerType};
use crate::text::{Description, Name};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The most tags one asset carries.
pub const MAX_ASSET_TAGS: usize = 50;

/// A tag on an asset: `key:value`, lowercase, at most 64 characters of `a-z 0-9 _ - .` with one
/// `:` between a non-empty key and a non-empty value (the value may hold further `:`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssetTag(String);

impl AssetTag {
    /// ```
    /// use domain::asset::AssetTag;
    /// assert_eq!(AssetTag::parse(" Purpose:Billing ").unwrap().as_str(), "purpose:billing");
    /// assert!(AssetTag::parse("billing").is_err());
    /// assert!(AssetTag::parse("purpose:").is_err());
    /// ```
    pub fn parse(raw: &str) -> Result<Self, String> {
        let tag = Tag::parse(raw)?;
        match tag.as_str().split_once(':') {
            Some((key, value)) if !key.is_empty() && !value.is_empty() => {
                Ok(Self(tag.as_str().to_owned()))
            }
            _ => Err(format!(
                "{:?} must be key:value with a non-empty key and value, e.g. purpose:billing",
                tag.as_str()
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an asset itself says about its owner, tags and description (`Default`: nothing, all
/// inherited from its source).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AssetMetadata {
    /// Who answers for the asset (a person or team, and what for); none: the source's owner.
    pub owner: Option<Owner>,
    /// Its own tags, sorted and unique; none: the source's tags.
    pub tags: Vec<String>,
    /// What it holds and why; none: the source's description.
    pub description: Option<String>,
}

/// A change of an asset's metadata: each field given replaces the asset's own value, a field
/// left out keeps it. `Some(None)` (and `Some(vec![])` for tags) clears it, so the source's
/// value is inherited again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataPatch {
    pub owner: Option<Option<Owner>>,
    pub tags: Option<Vec<AssetTag>>,
    pub description: Option<Option<Description>>,
}

impl MetadataPatch {
    /// Parses raw input: `owner` and `description` blank clear the field, `tags` empty clears
    /// them; absent fields stay as they are. Reports every invalid field, at least one field must
    /// be given.
    ///
    /// ```
    /// use domain::asset::MetadataPatch;
    /// let tags = vec!["purpose:billing".to_owned(), "retention".to_owned()];
    /// let error = MetadataPatch::parse(Some("  "), Some(&tags), None).unwrap_err();
    /// assert!(error.to_string().starts_with("tags[1]: \"retention\" must be key:value"));
    /// ```
    pub fn parse(
        owner: Option<&str>,
        tags: Option<&[String]>,
        description: Option<&str>,
    ) -> Result<Self, ValidationError> {
        Self::parse_typed(owner, None, None, tags, description)
    }

    /// Like [`parse`](Self::parse), with the owner's kind and type (default: a technical owner
    /// who is a person). A kind or type without an owner name is refused: an owner is replaced
    /// whole.
    ///
    /// ```
    /// use domain::asset::MetadataPatch;
    /// use domain::owner::{OwnerKind, OwnerType};
    /// let patch = MetadataPatch::parse_typed(Some("Billing"), Some(OwnerKind::Team), Some(OwnerType::Business), None, None).unwrap();
    /// assert_eq!(patch.owner.unwrap().unwrap().kind, OwnerKind::Team);
    /// assert!(MetadataPatch::parse_typed(None, Some(OwnerKind::Team), None, None, None).is_err());
    /// ```
    pub fn parse_typed(
        owner: Option<&str>,
        kind: Option<OwnerKind>,
        owner_type: Option<OwnerType>,
        tags: Option<&[String]>,
        description: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let mut errors = Vec::new();
        let mut fail = |field: String, message: String| errors.push(FieldError { field, message });
        if owner.is_none() && tags.is_none() && description.is_none() {
            fail(
                "metadata".into(),
                "give at least one of owner, tags or description".into(),
            );
        }
        if (kind.is_some() || owner_type.is_some()) && owner.is_none_or(|o| o.trim().is_empty()) {
            fail(
                "owner".into(),
                "an owner kind or type needs the owner's name".into(),
            );
        }
        let owner = owner.map(|raw| {
            if raw.trim().is_empty() {
                return None;
            }
            Name::parse(raw)
                .map_err(|e| fail("owner".into(), e.to_string()))
                .ok()
                .map(|name| Owner {
                    name: name.into_string(),
                    kind: kind.unwrap_or(OwnerKind::Person),
                    owner_type: owner_type.unwrap_or(OwnerType::Technical),
                })
        });
        let description = description.map(|raw| {
            Description::parse_optional(Some(raw))
                .map_err(|e| fail("description".into(), e.to_string()))
                .ok()
                .flatten()
        });
        let tags = tags.map(|raw| {
            if raw.len() > MAX_ASSET_TAGS {
                fail(
                    "tags".into(),
                    format!("must be at most {MAX_ASSET_TAGS} tags (got {})", raw.len()),
                );
                return Vec::new();
            }
            let mut tags: Vec<AssetTag> = raw
                .iter()
                .enumerate()
                .filter_map(|(i, raw)| {
                    AssetTag::parse(raw)
                        .map_err(|message| fail(format!("tags[{i}]"), message))
                        .ok()
                })
                .collect();
            tags.sort();
            tags.dedup();
            tags
        });
        if !errors.is_empty() {
            return Err(ValidationError { errors });
        }
        Ok(Self {
            owner,
            tags,
            description,
        })
    }

    /// The metadata after this change.
    pub fn apply(&self, current: &AssetMetadata) -> AssetMetadata {
        AssetMetadata {
            owner: match &self.owner {
                Some(owner) => owner.clone(),
                None => current.owner.clone(),
            },
            tags: match &self.tags {
                Some(tags) => tags.iter().map(|t| t.as_str().to_owned()).collect(),
                None => current.tags.clone(),
            },
            description: match &self.description {
                Some(description) => description.as_ref().map(|d| d.as_str().to_owned()),
                None => current.description.clone(),
            },
        }
    }
}

/// The metadata an asset shows: its own value of each field, else its source's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EffectiveMetadata {
    pub owner: Option<Owner>,
    pub owner_inherited: bool,
    pub tags: Vec<String>,
    pub tags_inherited: bool,
    pub description: Option<String>,
    pub description_inherited: bool,
}

impl EffectiveMetadata {
    /// Each field of `own` that is set wins; an unset one (no owner, no tags, no description)
    /// takes the source's value and is marked inherited (when the source has one).
    ///
    /// ```
    /// use domain::asset::{AssetMetadata, EffectiveMetadata};
    /// use domain::owner::Owner;
    /// let own = AssetMetadata { owner: Some(Owner::untyped("billing-team")), ..Default::default() };
    /// let source = AssetMetadata { owner: Some(Owner::untyped("dba")), tags: vec!["residency:eu".into()], description: None };
    /// let shown = EffectiveMetadata::of(&own, &source);
    /// assert_eq!((shown.owner.map(|o| o.name), shown.owner_inherited), (Some("billing-team".into()), false));
    /// assert_eq!((shown.tags, shown.tags_inherited), (vec!["residency:eu".to_owned()], true));
    /// ```
    pub fn of(own: &AssetMetadata, source: &AssetMetadata) -> Self {
        let (owner, owner_inherited) = match &own.owner {
            Some(owner) => (Some(owner.clone()), false),
            None => (source.owner.clone(), source.owner.is_some()),
        };
        let (tags, tags_inherited) = if own.tags.is_empty() {
            (source.tags.clone(), !source.tags.is_empty())
        } else {
            (own.tags.clone(), false)
        };
        let (description, description_inherited) = match &own.description {
            Some(description) => (Some(description.clone()), false),
            None => (source.description.clone(), source.description.is_some()),
        };
        Self {
            owner,
            owner_inherited,
            tags,
            tags_inherited,
            description,
            description_inherited,
        }
    }
}
