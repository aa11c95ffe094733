//! [`ScanScope`]: which assets of a source a scan covers, as include and exclude patterns over
//! [`AssetPath`]s. A partial scan only records removals of assets inside its scope; assets outside
//! it are untouched.
//!
//! # Pattern syntax
//!
//! A [`ScopePattern`] is written like an asset path (segments joined by `.`, a segment with `.`,
//! `"` or a literal `*` in double quotes) and matches whole paths, from the first segment to the
//! last, case-sensitively:
//!
//! - `*` inside a segment matches any run of characters within that one segment (`cust*`, `*`);
//! - a segment that is exactly `**` matches zero or more whole segments;
//! - a quoted segment matches itself literally (`"a*b"` only matches the segment `a*b`).
//!
//! So `sales.public.*` matches the tables of schema `public` in database `sales` but not the schema
//! `sales.public` itself, `sales.public.**` matches the schema and everything in it, and
//! `*.*.customers` matches a `customers` table in any schema of any database.

use crate::discovery::{check_segments, split_dotted, AssetPath, AssetPathError};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// Why a scope was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("{list} pattern {pattern:?}: {source}")]
    Pattern {
        /// `include` or `exclude`.
        list: &'static str,
        pattern: String,
        source: AssetPathError,
    },
    #[error("at most {max} {list} patterns are allowed (got {got})")]
    TooManyPatterns {
        list: &'static str,
        max: usize,
        got: usize,
    },
}

/// One include or exclude pattern (see the module documentation for the syntax).
///
/// ```
/// use domain::discovery::AssetPath;
/// use domain::scan::ScopePattern;
///
/// let path = |p: &str| AssetPath::parse(p).unwrap();
/// let tables = ScopePattern::parse("sales.public.*").unwrap();
/// assert!(tables.matches(&path("sales.public.customers")));
/// assert!(!tables.matches(&path("sales.public")));
/// assert!(!tables.matches(&path("sales.public.customers.email")));
///
/// let subtree = ScopePattern::parse("sales.public.**").unwrap();
/// assert!(subtree.matches(&path("sales.public")));
/// assert!(subtree.matches(&path("sales.public.customers")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScopePattern {
    /// The canonical text (what `Display` shows and events store).
    text: String,
    segments: Vec<PatternSegment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum PatternSegment {
    /// `**`: zero or more segments.
    AnyDepth,
    /// A segment with `*` wildcards.
    Glob(String),
    /// A segment matched exactly.
    Literal(String),
}

impl ScopePattern {
    /// At most this many segments, `**` included.
    pub const MAX_SEGMENTS: usize = 2 * AssetPath::MAX_SEGMENTS;

    pub fn parse(raw: &str) -> Result<Self, AssetPathError> {
        let parsed = split_dotted(raw)?;
        let texts: Vec<String> = parsed.iter().map(|s| s.text.clone()).collect();
        check_segments(&texts, Self::MAX_SEGMENTS)?;
        if let Some(index) = texts.iter().position(|t| t.chars().any(char::is_control)) {
            return Err(AssetPathError::ControlCharacter { index });
        }
        let segments: Vec<PatternSegment> = parsed
            .into_iter()
            .map(|s| match s.text.as_str() {
                _ if s.quoted => PatternSegment::Literal(s.text),
                "**" => PatternSegment::AnyDepth,
                t if t.contains('*') => PatternSegment::Glob(s.text),
                _ => PatternSegment::Literal(s.text),
            })
            .collect();
        Ok(Self {
            text: render(&segments),
            segments,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `path` matches the whole pattern.
    pub fn matches(&self, path: &AssetPath) -> bool {
        match_from(&self.segments, path.segments(), false)
    }

    /// Whether `path` or some path below it could match (for pruning a traversal).
    pub fn may_match_below(&self, path: &AssetPath) -> bool {
        match_from(&self.segments, path.segments(), true)
    }

    /// Whether `path` and every path below it match (the pattern ends in `**`).
    pub fn matches_subtree(&self, path: &AssetPath) -> bool {
        matches!(self.segments.last(), Some(PatternSegment::AnyDepth)) && self.matches(path)
    }
}

fn render(segments: &[PatternSegment]) -> String {
    struct Render<'a>(&'a [PatternSegment]);
    impl fmt::Display for Render<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for (i, segment) in self.0.iter().enumerate() {
                if i > 0 {
                    f.write_str(".")?;
                }
                match segment {
                    PatternSegment::AnyDepth => f.write_str("**")?,
                    PatternSegment::Glob(glob) => f.write_str(glob)?,
                    PatternSegment::Literal(text) if text.contains('*') => {
                        write!(f, "\"{}\"", text.replace('"', "\"\""))?
                    }
                    PatternSegment::Literal(text) => crate::discovery::write_segment(f, text)?,
                }
            }
            Ok(())
        }
    }
    Render(segments).to_string()
}

/// Matches `pattern` against `path`. With `prefix`, running out of path before the pattern ends
/// counts as a match: some longer path could still match.
fn match_from(pattern: &[PatternSegment], path: &[String], prefix: bool) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((PatternSegment::AnyDepth, rest)) => {
            (0..=path.len()).any(|skip| match_from(rest, &path[skip..], prefix))
        }
        Some((segment, rest)) => match path.split_first() {
            None => prefix,
            Some((first, tail)) => {
                segment_matches(segment, first) && match_from(rest, tail, prefix)
            }
        },
    }
}

fn segment_matches(segment: &PatternSegment, text: &str) -> bool {
    match segment {
        PatternSegment::AnyDepth => true,
        PatternSegment::Literal(literal) => literal == text,
        PatternSegment::Glob(glob) => glob_matches(glob, text),
    }
}

/// `*` matches any run of characters (the classic greedy matcher with one backtrack point).
fn glob_matches(glob: &str, text: &str) -> bool {
    let glob: Vec<char> = glob.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut g, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if g < glob.len() && glob[g] == '*' {
            backtrack = Some((g, t));
            g += 1;
        } else if g < glob.len() && glob[g] == text[t] {
            g += 1;
            t += 1;
        } else if let Some((star, matched)) = backtrack {
            g = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    glob[g..].iter().all(|&c| c == '*')
}

impl fmt::Display for ScopePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for ScopePattern {
    type Err = AssetPathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ScopePattern {
    type Error = AssetPathError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ScopePattern> for String {
    fn from(value: ScopePattern) -> Self {
        value.text
    }
}

impl JsonSchema for ScopePattern {
    fn schema_name() -> Cow<'static, str> {
        "ScopePattern".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "Dotted asset path pattern: `*` matches within one segment, a `**` segment matches any number of segments, quoted segments are literal.",
            "minLength": 1
        })
    }
}

/// Which assets a scan covers: those matching any `include` pattern (every asset when `include`
/// is empty) and no `exclude` pattern. Excludes win over includes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScanScope {
    /// Patterns an asset must match one of; empty means every asset.
    pub include: Vec<ScopePattern>,
    /// Patterns that take an asset out of the scope, whatever `include` says.
    pub exclude: Vec<ScopePattern>,
}

impl ScanScope {
    /// At most this many patterns in each list (a scope travels in `ScanStarted`).
    pub const MAX_PATTERNS: usize = 64;

    /// The whole source (a full scan).
    pub fn everything() -> Self {
        Self::default()
    }

    /// Parses include and exclude patterns given as text.
    pub fn parse<I, J>(include: I, exclude: J) -> Result<Self, ScopeError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
        J: IntoIterator,
        J::Item: AsRef<str>,
    {
        let scope = Self {
            include: parse_list("include", include)?,
            exclude: parse_list("exclude", exclude)?,
        };
        scope.validate()?;
        Ok(scope)
    }

    /// Checks the number of patterns.
    pub fn validate(&self) -> Result<(), ScopeError> {
        for (list, patterns) in [("include", &self.include), ("exclude", &self.exclude)] {
            if patterns.len() > Self::MAX_PATTERNS {
                return Err(ScopeError::TooManyPatterns {
                    list,
                    max: Self::MAX_PATTERNS,
                    got: patterns.len(),
                });
            }
        }
        Ok(())
    }

    /// Whether this scope is the whole source: every asset not found by the scan is gone.
    pub fn is_everything(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether the asset at `path` is inside the scope.
    ///
    /// ```
    /// use domain::discovery::AssetPath;
    /// use domain::scan::ScanScope;
    ///
    /// let scope = ScanScope::parse(["sales.public.**"], ["sales.public.audit_*"]).unwrap();
    /// assert!(scope.matches(&AssetPath::parse("sales.public.orders").unwrap()));
    /// assert!(!scope.matches(&AssetPath::parse("sales.public.audit_log").unwrap()));
    /// assert!(!scope.matches(&AssetPath::parse("sales.hr.salaries").unwrap()));
    /// assert!(ScanScope::everything().matches(&AssetPath::parse("anything.at.all").unwrap()));
    /// ```
    pub fn matches(&self, path: &AssetPath) -> bool {
        let included = self.include.is_empty() || self.include.iter().any(|p| p.matches(path));
        included && !self.exclude.iter().any(|p| p.matches(path))
    }

    /// Whether `path` or anything below it may be inside the scope, so a connector can skip
    /// listing the contents of containers that cannot hold an asset in scope. Never `false` for a
    /// path that [`matches`](Self::matches) or has a descendant that does.
    pub fn may_contain(&self, path: &AssetPath) -> bool {
        let included =
            self.include.is_empty() || self.include.iter().any(|p| p.may_match_below(path));
        included && !self.exclude.iter().any(|p| p.matches_subtree(path))
    }
}

fn parse_list<I>(list: &'static str, patterns: I) -> Result<Vec<ScopePattern>, ScopeError>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    patterns
        .into_iter()
        .map(|raw| {
            let raw = raw.as_ref();
            ScopePattern::parse(raw).map_err(|source| ScopeError::Pattern {
                list,
                pattern: crate::datasource::values::clip(raw, 80),
                source,
            })
        })
        .collect()
}
