//! What one GraphQL request may cost, checked before async-graphql does any work whose cost
//! grows faster than the document.
//!
//! async-graphql's own checks (recursion depth, directives, the validation rules, depth and
//! complexity) walk every fragment spread afresh, so a document whose fragments each spread the
//! next one twice costs 2^levels steps before it is called too complex (minutes of CPU at 29
//! levels, for a few hundred bytes and no token). [`RequestLimits`] is a schema extension whose
//! `prepare_request` runs first: it bounds bracket nesting in the raw text (the parser recurses
//! per level), parses the document once (async-graphql reuses the parse) and counts the fields of
//! every operation with each fragment expanded — memoised per fragment, so linear in the document
//! — refusing it above a bound. Its `request` hook bounds the whole request in time and gives
//! every error async-graphql raises itself (syntax, unknown fields, limits) the code VALIDATION.

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextRequest,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Request, Response, ServerError, ServerResult};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Deepest bracket nesting (`{`, `(`, `[`) accepted in a document's text.
pub const MAX_NESTING: usize = 64;
/// Most fields one document may select once every fragment is expanded.
pub const MAX_EXPANDED_FIELDS: usize = 10_000;
/// Deepest chain of selection sets and fragment spreads followed while counting.
const MAX_EXPANSION_DEPTH: usize = 64;

/// Extra complexity of a field that reads the database or the event store: many cheap fields
/// are cheap, many database reads are not (500 aliases of one list field each took a pooled
/// connection at once).
pub const DB_COST: usize = 50;

/// Complexity of a list field that reads the database and returns up to `first` items (at most
/// `max`; a larger `first` is refused by the resolver) whose selections cost `child` each.
pub fn list_cost(first: i32, max: i32, child: usize) -> usize {
    let items = usize::try_from(first.clamp(1, max)).unwrap_or(1);
    DB_COST.saturating_add(items.saturating_mul(child.max(1)))
}

/// `first` (or `last`) as a page size if it lies in `1..=max`, else a VALIDATION error naming
/// the argument and its bounds.
pub(crate) fn page_size(argument: &str, value: i32, max: i32) -> async_graphql::Result<i64> {
    if !(1..=max).contains(&value) {
        return Err(super::api_error(
            "VALIDATION",
            format!("{argument} must be between 1 and {max} (got {value})"),
        ));
    }
    Ok(i64::from(value))
}

/// The schema extension; see the module documentation.
#[derive(Debug, Clone)]
pub struct RequestLimits {
    pub max_nesting: usize,
    pub max_expanded_fields: usize,
    pub timeout: Duration,
}

impl RequestLimits {
    pub fn new(timeout: Duration) -> Self {
        Self {
            max_nesting: MAX_NESTING,
            max_expanded_fields: MAX_EXPANDED_FIELDS,
            timeout,
        }
    }
}

impl ExtensionFactory for RequestLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestLimits {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = match tokio::time::timeout(self.timeout, next.run(ctx)).await {
            Ok(response) => response,
            Err(_) => Response::from_errors(vec![coded(
                ServerError::new(
                    format!(
                        "the request took longer than {} s and was stopped: ask for less (a smaller `first`, fewer fields); a mutation may have been applied, so retry it with the same commandId",
                        self.timeout.as_secs_f64()
                    ),
                    None,
                ),
                "TIMEOUT",
            )]),
        };
        // The resolvers give every error a code; errors without one come from async-graphql
        // refusing the request itself.
        response.errors = std::mem::take(&mut response.errors)
            .into_iter()
            .map(|err| coded(err, "VALIDATION"))
            .collect();
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        check_nesting(&request.query, self.max_nesting).map_err(refused)?;
        let document = request.parsed_query()?;
        check_expansion(document, self.max_expanded_fields).map_err(refused)?;
        next.run(ctx, request).await
    }
}

fn refused(message: String) -> ServerError {
    coded(ServerError::new(message, None), "VALIDATION")
}

/// `err` with `extensions.code` set to `code` unless it has one.
fn coded(mut err: ServerError, code: &str) -> ServerError {
    let extensions = err.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    err
}

/// Refuses text whose brackets nest deeper than `max`, skipping strings, block strings and
/// comments. A cheap scan before the recursive parser sees the text.
pub fn check_nesting(query: &str, max: usize) -> Result<(), String> {
    let bytes = query.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped delimiter inside a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'(' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(format!(
                        "the document nests deeper than {max} levels of brackets"
                    ));
                }
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Refuses a document that selects more than `max` fields once its fragments are expanded, or
/// whose fragments spread each other in a cycle. Each fragment is counted once (memoised), so
/// the check is linear in the document however the fragments multiply.
pub fn check_expansion(document: &ExecutableDocument, max: usize) -> Result<(), String> {
    let mut counter = Counter {
        document,
        fragments: HashMap::new(),
    };
    let mut total = 0usize;
    for (_, operation) in document.operations.iter() {
        total = total.saturating_add(counter.selection_set(&operation.node.selection_set.node, 0)?);
    }
    if total > max {
        return Err(format!(
            "the document selects {} fields once its fragments are expanded; at most {max} are allowed",
            if total == usize::MAX {
                "too many".to_owned()
            } else {
                total.to_string()
            }
        ));
    }
    Ok(())
}

struct Counter<'a> {
    document: &'a ExecutableDocument,
    /// Fields per fragment; `None` while the fragment is being counted (a cycle if met again).
    fragments: HashMap<&'a str, Option<usize>>,
}

impl<'a> Counter<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet, depth: usize) -> Result<usize, String> {
        if depth > MAX_EXPANSION_DEPTH {
            return Err(format!(
                "the document nests selections and fragment spreads deeper than {MAX_EXPANSION_DEPTH} levels"
            ));
        }
        let mut count = 0usize;
        for selection in &set.items {
            let fields = match &selection.node {
                Selection::Field(field) => 1usize
                    .saturating_add(self.selection_set(&field.node.selection_set.node, depth + 1)?),
                Selection::InlineFragment(fragment) => {
                    self.selection_set(&fragment.node.selection_set.node, depth + 1)?
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str(), depth + 1)?
                }
            };
            count = count.saturating_add(fields);
        }
        Ok(count)
    }

    fn fragment(&mut self, name: &'a str, depth: usize) -> Result<usize, String> {
        match self.fragments.get(name) {
            Some(Some(count)) => return Ok(*count),
            Some(None) => return Err(format!("fragment {name} spreads itself (a cycle)")),
            None => {}
        }
        // An unknown fragment counts nothing here; validation names it.
        let Some(definition) = self.document.fragments.get(name) else {
            return Ok(0);
        };
        self.fragments.insert(name, None);
        let count = self.selection_set(&definition.node.selection_set.node, depth)?;
        self.fragments.insert(name, Some(count));
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    /// Fragments F0..Fn where each spreads the next twice (under two aliases).
    fn doubling(levels: usize) -> String {
        let mut doc = String::from("query { ...F0 }\n");
        for level in 0..levels {
            doc.push_str(&format!(
                "fragment F{level} on Query {{ a: consistency {{ ...F{next} }} b: consistency {{ ...F{next} }} }}\n",
                next = level + 1
            ));
        }
        doc.push_str(&format!(
            "fragment F{levels} on Query {{ consistency {{ streamSequence }} }}\n"
        ));
        doc
    }

    #[test]
    fn doubling_fragments_are_counted_in_linear_time_and_refused() {
        // 2^29 fields: counting them one by one takes minutes.
        let doc = parse_query(doubling(29)).unwrap();
        let err = check_expansion(&doc, MAX_EXPANDED_FIELDS).unwrap_err();
        assert!(err.contains("at most 10000"), "{err}");
        let small = parse_query(doubling(3)).unwrap();
        assert!(check_expansion(&small, MAX_EXPANDED_FIELDS).is_ok());
    }

    #[test]
    fn fragment_cycles_and_long_chains_are_refused() {
        let cycle =
            parse_query("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
                .unwrap();
        assert!(check_expansion(&cycle, MAX_EXPANDED_FIELDS)
            .unwrap_err()
            .contains("cycle"));
        let mut chain = String::from("query { ...F0 }\n");
        for level in 0..200 {
            chain.push_str(&format!(
                "fragment F{level} on Query {{ ...F{} }}\n",
                level + 1
            ));
        }
        chain.push_str("fragment F200 on Query { __typename }\n");
        let chain = parse_query(chain).unwrap();
        assert!(check_expansion(&chain, MAX_EXPANDED_FIELDS)
            .unwrap_err()
            .contains("deeper than"));
    }

    #[test]
    fn nesting_ignores_brackets_in_strings_and_comments() {
        let deep = format!("{}{}", "{a".repeat(65), "}".repeat(65));
        assert!(check_nesting(&deep, MAX_NESTING).is_err());
        let shallow = format!("{}{}", "{a".repeat(64), "}".repeat(64));
        assert!(check_nesting(&shallow, MAX_NESTING).is_ok());
        let quoted = format!(
            "{{ a(s: \"{0}\", t: \"\"\"{0} \\\"\"\" {0}\"\"\") # {0}\n }}",
            "{[(".repeat(100)
        );
        assert!(check_nesting(&quoted, MAX_NESTING).is_ok(), "{quoted}");
    }
}
