//! The Glossary aggregate: one per tenant, holding the tenant's business terms — each with a
//! definition, synonyms, related terms, owners and a status — and the terms' links to assets
//! and columns.
//!
//! | command | state | records |
//! |---|---|---|
//! | DefineTerm | valid, no term of that name (case-insensitive) | `TermDefined` (draft) |
//! | DefineTerm | a term of that name, any status | [`GlossaryError::NameTaken`] |
//! | ChangeTerm | draft or approved, other content | `TermChanged` (status kept) |
//! | ChangeTerm | same content | nothing |
//! | ApproveTerm | draft | `TermApproved` |
//! | ApproveTerm | approved or deprecated | [`GlossaryError::Transition`] |
//! | DeprecateTerm | draft or approved | `TermDeprecated` |
//! | ChangeTerm / DeprecateTerm / LinkTerm | deprecated | [`GlossaryError::Transition`] |
//! | LinkTerm | not yet linked to that asset (and column) | `TermLinked` |
//! | LinkTerm | already linked | nothing |
//! | UnlinkTerm | linked (any status) | `TermUnlinked` |
//! | UnlinkTerm | not linked | [`GlossaryError::NotLinked`] |
//! | ImportTerms | every row valid | per row: `TermDefined` or `TermChanged`, then the status moves |
//! | ImportTerms | any row invalid | [`GlossaryError::Invalid`], every row's problems with its line |
//!
//! Our additions to the usual draft → approved → deprecated lifecycle: a term's name is its
//! identity (its id is derived from it, [`term_id`]) and never changes, so CSV files and links
//! find the same term again; a deprecated term keeps its name (defining it again is refused) so
//! that old links and exports stay unambiguous. Approval is a separate permission
//! (`Permission::ApproveGlossary`, data stewards and admins), checked by the command handler;
//! this decider only knows states. Related terms must name terms of the glossary (or of the
//! same import).
//!
//! Whether a linked asset and column exist is checked against the Asset aggregate by the
//! command layer before [`GlossaryCommand::LinkTerm`] is decided; the decider is pure.

mod events;
mod input;

#[cfg(test)]
mod tests;

pub use events::*;
pub use input::*;

use crate::aggregate::Aggregate;
use crate::ids::{AggregateId, TenantId};
use crate::owner::Owner;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Where a term is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermStatus {
    Draft,
    Approved,
    Deprecated,
}

impl TermStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TermStatus::Draft => "draft",
            TermStatus::Approved => "approved",
            TermStatus::Deprecated => "deprecated",
        }
    }

    /// Parses `draft`, `approved` or `deprecated` (case-insensitive).
    pub fn parse(raw: &str) -> Result<TermStatus, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "draft" => Ok(TermStatus::Draft),
            "approved" => Ok(TermStatus::Approved),
            "deprecated" => Ok(TermStatus::Deprecated),
            _ => Err("status: expected draft, approved or deprecated".into()),
        }
    }
}

/// The aggregate id of `tenant`'s glossary: `SHA-256("pursight.glossary-id.v1\n" ‖ tenant)`,
/// first 16 bytes as a UUIDv8. Never change this.
pub fn glossary_id(tenant: &TenantId) -> AggregateId {
    AggregateId::from_uuid(derived_uuid(&[
        b"pursight.glossary-id.v1\n",
        tenant.as_str().as_bytes(),
    ]))
}

/// A term's id: `SHA-256("pursight.glossary-term-id.v1\n" ‖ lowercase name)` as a UUIDv8. Ids
/// are only ever looked up within one tenant's glossary. Never change this.
pub fn term_id(name: &str) -> Uuid {
    derived_uuid(&[b"pursight.glossary-term-id.v1\n", name_key(name).as_bytes()])
}

fn derived_uuid(parts: &[&[u8]]) -> Uuid {
    let mut digest = Sha256::new();
    for part in parts {
        digest.update(part);
    }
    let digest = digest.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

/// A request to a tenant's glossary.
#[derive(Debug, Clone, PartialEq)]
pub enum GlossaryCommand {
    DefineTerm {
        name: String,
        content: TermInput,
    },
    /// Replaces the term's content.
    ChangeTerm {
        term_id: Uuid,
        content: TermInput,
    },
    ApproveTerm {
        term_id: Uuid,
    },
    DeprecateTerm {
        term_id: Uuid,
        reason: Option<String>,
    },
    /// Links a term to an asset the command layer found in the tenant's catalog (and whose
    /// schema has `column`, when one is named).
    LinkTerm {
        term_id: Uuid,
        asset_id: AggregateId,
        column: Option<String>,
    },
    UnlinkTerm {
        term_id: Uuid,
        asset_id: AggregateId,
        column: Option<String>,
    },
    /// Defines or changes every row's term and moves its status, all or nothing.
    ImportTerms {
        rows: Vec<ImportRow>,
    },
}

/// One term as the glossary holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    pub name: String,
    pub content: TermContent,
    pub status: TermStatus,
    pub deprecation_reason: Option<String>,
    /// `(asset, column)` links; column `None` is the asset as a whole.
    pub links: BTreeSet<(AggregateId, Option<String>)>,
}

/// The folded history of one tenant's glossary. `Default`: no term.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GlossaryState {
    pub terms: BTreeMap<Uuid, Term>,
    /// Number of events applied.
    pub version: u64,
}

impl GlossaryState {
    /// The term named `name` (case-insensitive).
    pub fn by_name(&self, name: &str) -> Option<(&Uuid, &Term)> {
        let id = term_id(name);
        self.terms.get_key_value(&id)
    }

    /// Terms sorted by name (case-insensitive), for listings and exports.
    pub fn sorted(&self) -> Vec<(&Uuid, &Term)> {
        let mut terms: Vec<_> = self.terms.iter().collect();
        terms.sort_by_key(|(_, t)| name_key(&t.name));
        terms
    }
}

/// Why the glossary refused a command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GlossaryError {
    /// Every problem with the input, one message each (import: prefixed with `line N:`).
    #[error("invalid glossary input: {}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error("a term named {0:?} exists already; change it with changeGlossaryTerm")]
    NameTaken(String),
    #[error("no glossary term {0}")]
    UnknownTerm(Uuid),
    #[error("term {name:?} is {status}: it cannot be {action}")]
    Transition {
        name: String,
        status: &'static str,
        action: &'static str,
    },
    #[error("term {name:?} is not linked to that asset or column")]
    NotLinked { name: String },
}

impl crate::Rejection for GlossaryError {
    fn kind(&self) -> crate::RejectionKind {
        use crate::RejectionKind::*;
        match self {
            GlossaryError::Invalid(_) => Invalid,
            GlossaryError::NameTaken(_) | GlossaryError::Transition { .. } => Refused,
            GlossaryError::UnknownTerm(_) | GlossaryError::NotLinked { .. } => NotFound,
        }
    }
}

/// The Glossary aggregate (a decider; all data is in [`GlossaryState`]).
pub struct Glossary;

fn refuse(term: &Term, action: &'static str) -> GlossaryError {
    GlossaryError::Transition {
        name: term.name.clone(),
        status: term.status.as_str(),
        action,
    }
}

/// Related names that are neither in the glossary nor in `also` (the names an import adds).
fn unknown_related(
    state: &GlossaryState,
    content: &TermContent,
    also: &BTreeSet<String>,
) -> Vec<String> {
    content
        .related
        .iter()
        .filter(|r| state.by_name(r).is_none() && !also.contains(&name_key(r)))
        .map(|r| format!("related: no term named {r:?}"))
        .collect()
}

impl Glossary {
    fn term<'a>(state: &'a GlossaryState, id: &Uuid) -> Result<&'a Term, GlossaryError> {
        state.terms.get(id).ok_or(GlossaryError::UnknownTerm(*id))
    }

    fn define(
        state: &GlossaryState,
        name: &str,
        input: &TermInput,
    ) -> Result<Vec<GlossaryEvent>, GlossaryError> {
        let mut problems = Vec::new();
        let name = check_name("name", name).map_err(|e| problems.push(e)).ok();
        let content = input
            .check(name.as_deref().unwrap_or_default())
            .map_err(|p| problems.extend(p))
            .ok();
        if let Some(content) = &content {
            problems.extend(unknown_related(state, content, &BTreeSet::new()));
        }
        let (Some(name), Some(content), true) = (name, content, problems.is_empty()) else {
            return Err(GlossaryError::Invalid(problems));
        };
        if let Some((_, existing)) = state.by_name(&name) {
            return Err(GlossaryError::NameTaken(existing.name.clone()));
        }
        Ok(vec![GlossaryEvent::TermDefined(TermDefined {
            term_id: term_id(&name),
            name,
            content,
        })])
    }

    fn change(
        state: &GlossaryState,
        id: &Uuid,
        input: &TermInput,
    ) -> Result<Vec<GlossaryEvent>, GlossaryError> {
        let term = Self::term(state, id)?;
        let content = input.check(&term.name).map_err(GlossaryError::Invalid)?;
        let unknown = unknown_related(state, &content, &BTreeSet::new());
        if !unknown.is_empty() {
            return Err(GlossaryError::Invalid(unknown));
        }
        if term.status == TermStatus::Deprecated {
            return Err(refuse(term, "changed"));
        }
        if term.content == content {
            return Ok(Vec::new());
        }
        Ok(vec![GlossaryEvent::TermChanged(TermChanged {
            term_id: *id,
            content,
        })])
    }

    /// An import: every row checked against the glossary and the other rows, every problem
    /// reported with its line; nothing is decided unless every row is valid.
    fn import(
        state: &GlossaryState,
        rows: &[ImportRow],
    ) -> Result<Vec<GlossaryEvent>, GlossaryError> {
        let mut problems = Vec::new();
        if rows.is_empty() {
            return Err(GlossaryError::Invalid(vec![
                "the file holds no term (expected a header line and at least one row)".into(),
            ]));
        }
        if rows.len() > MAX_IMPORT_ROWS {
            return Err(GlossaryError::Invalid(vec![format!(
                "at most {MAX_IMPORT_ROWS} rows per import (got {}); split the file",
                rows.len()
            )]));
        }
        let chars: usize = rows.iter().map(ImportRow::chars).sum();
        if chars > MAX_IMPORT_CHARS {
            return Err(GlossaryError::Invalid(vec![format!(
                "at most {MAX_IMPORT_CHARS} characters per import (got {chars}); split the file"
            )]));
        }
        let file_names: BTreeSet<String> = rows.iter().map(|r| name_key(&r.name)).collect();
        let mut seen: BTreeMap<String, u64> = BTreeMap::new();
        let mut events = Vec::new();
        for row in rows {
            let mut row_problems = Vec::new();
            let name = check_name("name", &row.name)
                .map_err(|e| row_problems.push(e))
                .ok();
            if let Some(name) = &name {
                if let Some(first) = seen.insert(name_key(name), row.line) {
                    row_problems.push(format!("name: {name:?} is also on line {first}"));
                }
            }
            let mut owners = Vec::new();
            for (i, raw) in row.owners.iter().enumerate() {
                match Owner::parse_compact(raw) {
                    Ok(owner) => owners.push(owner),
                    Err(e) => row_problems.push(format!("owners[{i}]: {e}")),
                }
            }
            let status = (if row.status.trim().is_empty() {
                Ok(TermStatus::Draft)
            } else {
                TermStatus::parse(&row.status)
            })
            .map_err(|e| row_problems.push(e))
            .ok();
            let input = TermInput {
                definition: row.definition.clone(),
                synonyms: row.synonyms.clone(),
                related: row.related.clone(),
                owners,
            };
            let content = input
                .check(name.as_deref().unwrap_or_default())
                .map_err(|p| row_problems.extend(p))
                .ok();
            if let Some(content) = &content {
                row_problems.extend(unknown_related(state, content, &file_names));
            }
            if let (Some(name), Some(content), Some(status), true) =
                (name, content, status, row_problems.is_empty())
            {
                match Self::import_row(state, name, content, status) {
                    Ok(row_events) => events.extend(row_events),
                    Err(problem) => row_problems.push(problem),
                }
            }
            problems.extend(
                row_problems
                    .into_iter()
                    .map(|p| format!("line {}: {p}", row.line)),
            );
        }
        if problems.is_empty() {
            Ok(events)
        } else {
            Err(GlossaryError::Invalid(problems))
        }
    }

    /// The events of one valid import row: define or change the term, then move its status.
    fn import_row(
        state: &GlossaryState,
        name: String,
        content: TermContent,
        status: TermStatus,
    ) -> Result<Vec<GlossaryEvent>, String> {
        let id = term_id(&name);
        let mut events = Vec::new();
        let current = match state.terms.get(&id) {
            None => {
                events.push(GlossaryEvent::TermDefined(TermDefined {
                    term_id: id,
                    name,
                    content,
                }));
                TermStatus::Draft
            }
            Some(term) => {
                if term.content != content {
                    if term.status == TermStatus::Deprecated {
                        return Err(format!(
                            "term {:?} is deprecated: its content cannot change",
                            term.name
                        ));
                    }
                    events.push(GlossaryEvent::TermChanged(TermChanged {
                        term_id: id,
                        content,
                    }));
                }
                term.status
            }
        };
        use TermStatus::*;
        match (current, status) {
            (a, b) if a == b => {}
            (Draft, Approved) => {
                events.push(GlossaryEvent::TermApproved(TermApproved { term_id: id }))
            }
            (Draft | Approved, Deprecated) => {
                events.push(GlossaryEvent::TermDeprecated(TermDeprecated {
                    term_id: id,
                    reason: None,
                }))
            }
            (from, to) => {
                return Err(format!(
                    "status: a term cannot go from {} back to {}",
                    from.as_str(),
                    to.as_str()
                ))
            }
        }
        Ok(events)
    }
}

impl Aggregate for Glossary {
    const NAME: &'static str = "glossary";
    type State = GlossaryState;
    type Command = GlossaryCommand;
    type Event = GlossaryEvent;
    type Error = GlossaryError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        use GlossaryCommand as C;
        use GlossaryEvent as E;
        Ok(match command {
            C::DefineTerm { name, content } => Self::define(state, name, content)?,
            C::ChangeTerm { term_id, content } => Self::change(state, term_id, content)?,
            C::ApproveTerm { term_id } => {
                let term = Self::term(state, term_id)?;
                if term.status != TermStatus::Draft {
                    return Err(refuse(term, "approved"));
                }
                vec![E::TermApproved(TermApproved { term_id: *term_id })]
            }
            C::DeprecateTerm { term_id, reason } => {
                let reason =
                    check_reason(reason.as_deref()).map_err(|e| GlossaryError::Invalid(vec![e]))?;
                let term = Self::term(state, term_id)?;
                if term.status == TermStatus::Deprecated {
                    return Err(refuse(term, "deprecated again"));
                }
                vec![E::TermDeprecated(TermDeprecated {
                    term_id: *term_id,
                    reason,
                })]
            }
            C::LinkTerm {
                term_id,
                asset_id,
                column,
            } => {
                let column = column
                    .as_deref()
                    .map(check_column)
                    .transpose()
                    .map_err(|e| GlossaryError::Invalid(vec![e]))?;
                let term = Self::term(state, term_id)?;
                if term.status == TermStatus::Deprecated {
                    return Err(refuse(term, "linked"));
                }
                if term.links.contains(&(*asset_id, column.clone())) {
                    return Ok(Vec::new());
                }
                vec![E::TermLinked(TermLinked {
                    term_id: *term_id,
                    asset_id: *asset_id,
                    column,
                })]
            }
            C::UnlinkTerm {
                term_id,
                asset_id,
                column,
            } => {
                let column = column.as_deref().map(str::trim).map(str::to_owned);
                let term = Self::term(state, term_id)?;
                if !term.links.contains(&(*asset_id, column.clone())) {
                    return Err(GlossaryError::NotLinked {
                        name: term.name.clone(),
                    });
                }
                vec![E::TermUnlinked(TermUnlinked {
                    term_id: *term_id,
                    asset_id: *asset_id,
                    column,
                })]
            }
            C::ImportTerms { rows } => Self::import(state, rows)?,
        })
    }

    fn evolve(mut state: Self::State, event: &Self::Event) -> Self::State {
        state.version += 1;
        match event {
            GlossaryEvent::TermDefined(e) => {
                state.terms.insert(
                    e.term_id,
                    Term {
                        name: e.name.clone(),
                        content: e.content.clone(),
                        status: TermStatus::Draft,
                        deprecation_reason: None,
                        links: BTreeSet::new(),
                    },
                );
            }
            GlossaryEvent::TermChanged(e) => {
                if let Some(term) = state.terms.get_mut(&e.term_id) {
                    term.content = e.content.clone();
                }
            }
            GlossaryEvent::TermApproved(e) => {
                if let Some(term) = state.terms.get_mut(&e.term_id) {
                    term.status = TermStatus::Approved;
                }
            }
            GlossaryEvent::TermDeprecated(e) => {
                if let Some(term) = state.terms.get_mut(&e.term_id) {
                    term.status = TermStatus::Deprecated;
                    term.deprecation_reason = e.reason.clone();
                }
            }
            GlossaryEvent::TermLinked(e) => {
                if let Some(term) = state.terms.get_mut(&e.term_id) {
                    term.links.insert((e.asset_id, e.column.clone()));
                }
            }
            GlossaryEvent::TermUnlinked(e) => {
                if let Some(term) = state.terms.get_mut(&e.term_id) {
                    term.links.remove(&(e.asset_id, e.column.clone()));
                }
            }
        }
        state
    }
}
