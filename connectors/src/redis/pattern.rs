//! Keys grouped into key patterns, and the `SCAN MATCH` pre-filter a scan scope allows.
//!
//! A key is split on `:`; every segment that looks like an identifier — all digits, a UUID, a
//! hex string of 8 or more characters, a ULID — becomes `*`. So `session:42:cart` and
//! `session:43:cart` are both `session:*:cart`, one asset.

use domain::scan::ScanScope;

/// The pattern `key` belongs to.
///
/// ```
/// use connectors::redis::key_pattern;
///
/// assert_eq!(key_pattern("session:42:cart"), "session:*:cart");
/// assert_eq!(key_pattern("user:0b3f9a2c-1d4e-4f5a-8b6c-7d8e9f0a1b2c"), "user:*");
/// assert_eq!(key_pattern("config"), "config");
/// ```
pub fn key_pattern(key: &str) -> String {
    key.split(':')
        .map(|segment| if looks_like_id(segment) { "*" } else { segment })
        .collect::<Vec<_>>()
        .join(":")
}

fn looks_like_id(segment: &str) -> bool {
    let all = |test: fn(char) -> bool| segment.chars().all(test);
    if segment.is_empty() {
        return false;
    }
    all(|c| c.is_ascii_digit())
        || is_uuid(segment)
        || (segment.len() >= 8 && all(|c| c.is_ascii_hexdigit()))
        || is_ulid(segment)
}

fn is_uuid(segment: &str) -> bool {
    let groups: Vec<&str> = segment.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

/// 26 characters of Crockford base32 (no I, L, O, U), the first at most `7`, with at least one
/// digit so that a long plain word is not taken for one.
fn is_ulid(segment: &str) -> bool {
    segment.len() == 26
        && segment.starts_with(|c: char| ('0'..='7').contains(&c))
        && segment.chars().any(|c| c.is_ascii_digit())
        && segment.chars().all(|c| {
            let c = c.to_ascii_uppercase();
            c.is_ascii_digit() || (c.is_ascii_uppercase() && !matches!(c, 'I' | 'L' | 'O' | 'U'))
        })
}

/// The `SCAN MATCH` glob that can stand in for `scope` in database `db`, when there is one: a
/// scope with a single include pattern `db<n>.<glob>` (unquoted, two segments). Any key whose
/// pattern matches `<glob>` also matches it as a Redis glob (an identifier replaced by `*` can
/// only be matched by a `*` of the scope glob), so the filter never loses a key in scope; the
/// scope itself is still applied to every pattern afterwards.
pub(super) fn match_glob(scope: &ScanScope, db: u32) -> Option<String> {
    let [include] = scope.include.as_slice() else {
        return None;
    };
    let text = include.as_str();
    if text.contains('"') {
        return None;
    }
    let (database, glob) = text.split_once('.')?;
    if glob.contains('.') || glob == "**" || (database != format!("db{db}") && database != "*") {
        return None;
    }
    let mut escaped = String::with_capacity(glob.len());
    for c in glob.chars() {
        if matches!(c, '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    Some(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_become_wildcards() {
        assert_eq!(key_pattern("session:42:cart"), "session:*:cart");
        assert_eq!(key_pattern("order:deadbeef01:items"), "order:*:items");
        assert_eq!(key_pattern("evt:01ARZ3NDEKTSV4RRFFQ69G5FAV"), "evt:*");
        assert_eq!(
            key_pattern("u:0b3f9a2c-1d4e-4f5a-8b6c-7d8e9f0a1b2c:p"),
            "u:*:p"
        );
        // Short hex words and plain words stay.
        assert_eq!(key_pattern("cafe:beef:users"), "cafe:beef:users");
        assert_eq!(key_pattern("a::b"), "a::b");
    }

    #[test]
    fn a_single_prefix_scope_becomes_a_match_glob() {
        let scope = ScanScope::parse(["db0.app_x*"], Vec::<String>::new()).unwrap();
        assert_eq!(match_glob(&scope, 0).as_deref(), Some("app_x*"));
        assert_eq!(match_glob(&scope, 1), None);
        let odd = ScanScope::parse(["db0.a?[b]*"], Vec::<String>::new()).unwrap();
        assert_eq!(match_glob(&odd, 0).as_deref(), Some("a\\?\\[b\\]*"));
        assert_eq!(match_glob(&ScanScope::everything(), 0), None);
        let subtree = ScanScope::parse(["db0.**"], Vec::<String>::new()).unwrap();
        assert_eq!(match_glob(&subtree, 0), None);
    }
}
