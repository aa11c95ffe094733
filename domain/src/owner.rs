//! Owners: the people and teams who answer for a glossary term (and, through the catalog, for
//! assets and sources). An owner is a name with a kind (a person or a team) and a type of
//! responsibility (technical, business or steward), as catalogs such as Purview and
//! OpenMetadata model them.
//!
//! Owner names are tenant input: [`Owner::parse`] trims them and refuses empty, over-long,
//! control-character and spreadsheet-formula names (see [`check_text`]) before any command
//! carries them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The longest owner name (a person's name or e-mail, a team's name).
pub const MAX_OWNER_NAME_CHARS: usize = 120;

/// Whether an owner is one person or a team.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OwnerKind {
    Person,
    Team,
}

/// What an owner answers for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OwnerType {
    /// Runs the system: schemas, pipelines, access.
    Technical,
    /// Answers for the meaning and use of the data.
    Business,
    /// Curates the data's quality, classification and glossary.
    Steward,
}

impl OwnerKind {
    pub const ALL: [OwnerKind; 2] = [OwnerKind::Person, OwnerKind::Team];
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::Person => "person",
            OwnerKind::Team => "team",
        }
    }
}

impl OwnerType {
    pub const ALL: [OwnerType; 3] = [
        OwnerType::Technical,
        OwnerType::Business,
        OwnerType::Steward,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerType::Technical => "technical",
            OwnerType::Business => "business",
            OwnerType::Steward => "steward",
        }
    }
}

impl fmt::Display for OwnerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for OwnerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OwnerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        OwnerKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| "owner kind: expected person or team".to_owned())
    }
}

impl FromStr for OwnerType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        OwnerType::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| "owner type: expected technical, business or steward".to_owned())
    }
}

/// One owner: who, whether a person or a team, and what they answer for.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct Owner {
    /// One line: at most 120 characters and no `;` for glossary owners; an asset's or source's
    /// owner keeps its own, older bound.
    #[schemars(length(min = 1, max = 256))]
    pub name: String,
    pub kind: OwnerKind,
    #[serde(rename = "type")]
    pub owner_type: OwnerType,
}

impl Owner {
    /// A checked owner.
    ///
    /// ```
    /// use domain::owner::{Owner, OwnerKind, OwnerType};
    /// let o = Owner::parse(" Billing team ", OwnerKind::Team, OwnerType::Business).unwrap();
    /// assert_eq!(o.name, "Billing team");
    /// assert!(Owner::parse("=HYPERLINK(1)", OwnerKind::Person, OwnerType::Steward).is_err());
    /// ```
    pub fn parse(name: &str, kind: OwnerKind, owner_type: OwnerType) -> Result<Owner, String> {
        let name = check_text("owner", name, MAX_OWNER_NAME_CHARS, false)?;
        if name.contains(';') {
            return Err("owner: a name may not contain ';' (it separates owners)".into());
        }
        Ok(Owner {
            name,
            kind,
            owner_type,
        })
    }

    /// An owner recorded before owners were typed (a plain name, as `AssetMetadataChanged` v1
    /// and `SourceRegistered` v1/v2 carry it): read as a technical owner who is a person — the
    /// catalog's usual default owner. The name is kept as it was recorded.
    pub fn untyped(name: impl Into<String>) -> Owner {
        Owner {
            name: name.into(),
            kind: OwnerKind::Person,
            owner_type: OwnerType::Technical,
        }
    }

    /// Parses the CSV form `kind:type:name` (`team:business:Billing`).
    ///
    /// ```
    /// use domain::owner::Owner;
    /// let o = Owner::parse_compact("person:steward:ana@example.test").unwrap();
    /// assert_eq!(o.to_compact(), "person:steward:ana@example.test");
    /// assert!(Owner::parse_compact("ana").is_err());
    /// ```
    pub fn parse_compact(raw: &str) -> Result<Owner, String> {
        let mut parts = raw.trim().splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(kind), Some(owner_type), Some(name)) => {
                Owner::parse(name, kind.parse()?, owner_type.parse()?)
            }
            _ => Err(format!(
                "owner {:?}: expected kind:type:name, e.g. team:business:Billing",
                crate::datasource::values::clip(raw, 40)
            )),
        }
    }

    /// The CSV form `kind:type:name`.
    pub fn to_compact(&self) -> String {
        format!("{}:{}:{}", self.kind, self.owner_type, self.name)
    }
}

/// Bidirectional-text controls: invisible, and able to make a name read as another one.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Checks one text field of tenant input: trimmed, 1 to `max` characters, no control character
/// (newline and tab allowed when `multiline`), no bidirectional control, and not starting with a
/// spreadsheet formula character (`=`, `+`, `-`, `@`) — exported CSV is opened in spreadsheets,
/// and refusing such text keeps the export a faithful round trip. Errors start with `field`.
pub fn check_text(field: &str, raw: &str, max: usize, multiline: bool) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(format!("{field}: must not be empty"));
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(format!("{field}: at most {max} characters (got {chars})"));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\t');
    if let Some(c) = text
        .chars()
        .find(|&c| (c.is_control() && !allowed(c)) || is_bidi_control(c))
    {
        return Err(format!(
            "{field}: must not contain control characters (found U+{:04X})",
            u32::from(c)
        ));
    }
    if text.starts_with(['=', '+', '-', '@']) {
        return Err(format!(
            "{field}: must not start with =, +, - or @ (a spreadsheet would run it as a formula)"
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_owner_names_are_refused() {
        let person = |name: &str| Owner::parse(name, OwnerKind::Person, OwnerType::Technical);
        assert!(person("").is_err());
        assert!(person(&"a".repeat(121)).is_err());
        assert!(person("two\nlines").is_err());
        assert!(person("evil\u{202E}txt").is_err());
        assert!(person("a;b").is_err());
        assert!(person("@cmd").is_err());
        assert_eq!(person(" Kim ").unwrap().name, "Kim");
    }

    #[test]
    fn the_compact_form_round_trips_and_names_may_hold_colons() {
        let o = Owner::parse_compact("team:technical:ops:east").unwrap();
        assert_eq!(
            (o.kind, o.owner_type),
            (OwnerKind::Team, OwnerType::Technical)
        );
        assert_eq!(o.name, "ops:east");
        assert_eq!(Owner::parse_compact(&o.to_compact()).unwrap(), o);
        assert!(Owner::parse_compact("robot:technical:x").is_err());
        assert!(Owner::parse_compact("team:chief:x").is_err());
    }
}
