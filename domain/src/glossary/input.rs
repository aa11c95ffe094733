//! The checked content of a glossary term (definition, synonyms, related terms, owners) and the
//! rows of a CSV import. Everything here is tenant input: each field is bounded, control and
//! bidirectional characters and spreadsheet formulas are refused ([`check_text`]), and every
//! problem is reported at once, so a command carries only valid content and nothing is recorded
//! for a bad one.

use crate::owner::{check_text, Owner};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The longest term name.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest definition.
pub const MAX_DEFINITION_CHARS: usize = 4000;
/// The most synonyms or related terms of one term.
pub const MAX_LIST_ITEMS: usize = 20;
/// The most owners of one term.
pub const MAX_OWNERS: usize = 10;
/// The longest deprecation reason.
pub const MAX_REASON_CHARS: usize = 500;
/// The longest column name a link names.
pub const MAX_COLUMN_CHARS: usize = 256;
/// The most rows one import holds.
pub const MAX_IMPORT_ROWS: usize = 500;
/// The most characters one import holds in all: keeps its one commit (every row's events land
/// together) well inside the event store's 1 MiB.
pub const MAX_IMPORT_CHARS: usize = 256 * 1024;

/// A term's content as a person gives it (unchecked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TermInput {
    pub definition: String,
    pub synonyms: Vec<String>,
    /// Names of other terms of the glossary.
    pub related: Vec<String>,
    pub owners: Vec<Owner>,
}

/// A term's checked content: trimmed, bounded; synonyms and related names distinct
/// (case-insensitively) and sorted; owners distinct and sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TermContent {
    #[schemars(length(min = 1, max = 4000))]
    pub definition: String,
    #[schemars(length(max = 20))]
    pub synonyms: Vec<String>,
    /// Names of other terms.
    #[schemars(length(max = 20))]
    pub related: Vec<String>,
    #[schemars(length(max = 10))]
    pub owners: Vec<Owner>,
}

/// Checks a term name: 1 to 100 characters on one line, no `;` (it separates names in CSV).
pub fn check_name(field: &str, raw: &str) -> Result<String, String> {
    let name = check_text(field, raw, MAX_NAME_CHARS, false)?;
    if name.contains(';') {
        return Err(format!(
            "{field}: must not contain ';' (it separates names)"
        ));
    }
    Ok(name)
}

/// The key a name is unique by: case-insensitive.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn names(field: &str, raw: &[String], problems: &mut Vec<String>) -> Vec<String> {
    if raw.len() > MAX_LIST_ITEMS {
        problems.push(format!("{field}: at most {MAX_LIST_ITEMS} items"));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, item) in raw.iter().take(MAX_LIST_ITEMS).enumerate() {
        match check_name(&format!("{field}[{i}]"), item) {
            Ok(name) => {
                if seen.insert(name_key(&name)) {
                    out.push(name);
                }
            }
            Err(e) => problems.push(e),
        }
    }
    out.sort_by_key(|n| name_key(n));
    out
}

impl TermInput {
    /// The checked content, or one message per problem. `name` is the term's own name: a term is
    /// not its own synonym or related term.
    pub fn check(&self, name: &str) -> Result<TermContent, Vec<String>> {
        let mut problems = Vec::new();
        let definition = check_text("definition", &self.definition, MAX_DEFINITION_CHARS, true)
            .map_err(|e| problems.push(e))
            .unwrap_or_default();
        let mut synonyms = names("synonyms", &self.synonyms, &mut problems);
        let mut related = names("related", &self.related, &mut problems);
        let own = name_key(name);
        synonyms.retain(|s| name_key(s) != own);
        if related.iter().any(|r| name_key(r) == own) {
            problems.push("related: a term is not related to itself".into());
            related.retain(|r| name_key(r) != own);
        }
        if self.owners.len() > MAX_OWNERS {
            problems.push(format!("owners: at most {MAX_OWNERS} owners"));
        }
        let mut owners = Vec::new();
        for (i, owner) in self.owners.iter().take(MAX_OWNERS).enumerate() {
            match Owner::parse(&owner.name, owner.kind, owner.owner_type) {
                Ok(owner) => owners.push(owner),
                Err(e) => problems.push(format!("owners[{i}]: {e}")),
            }
        }
        owners.sort();
        owners.dedup();
        if problems.is_empty() {
            Ok(TermContent {
                definition,
                synonyms,
                related,
                owners,
            })
        } else {
            Err(problems)
        }
    }
}

/// One row of a CSV import, as the file holds it (lists already split on `;`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportRow {
    /// The row's line in the file, for messages.
    pub line: u64,
    pub name: String,
    pub definition: String,
    pub synonyms: Vec<String>,
    pub related: Vec<String>,
    /// `kind:type:name` each.
    pub owners: Vec<String>,
    /// `draft`, `approved` or `deprecated`; empty reads as draft.
    pub status: String,
}

impl ImportRow {
    /// The row's chars, for the import's size bound.
    pub(super) fn chars(&self) -> usize {
        let list = |items: &[String]| items.iter().map(|s| s.chars().count() + 1).sum::<usize>();
        self.name.chars().count()
            + self.definition.chars().count()
            + list(&self.synonyms)
            + list(&self.related)
            + list(&self.owners)
            + self.status.chars().count()
    }
}

/// Checks a deprecation reason (optional; at most 500 characters, line breaks allowed).
pub fn check_reason(raw: Option<&str>) -> Result<Option<String>, String> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(reason) => check_text("reason", reason, MAX_REASON_CHARS, true).map(Some),
    }
}

/// Checks a column name a link names (one line, at most 256 characters, no control character).
pub fn check_column(raw: &str) -> Result<String, String> {
    let column = raw.trim();
    if column.is_empty() || column.chars().count() > MAX_COLUMN_CHARS {
        return Err(format!("column: 1 to {MAX_COLUMN_CHARS} characters"));
    }
    if column.chars().any(char::is_control) {
        return Err("column: must not contain control characters".into());
    }
    Ok(column.to_owned())
}
