//! [`AssetPath`]: the stable, human-readable locator of an asset inside its source, and the dotted
//! text syntax it shares with scan scope patterns.
//!
//! A path is a list of segments from the outermost container inwards: `["orders_db", "public",
//! "customers"]` for a PostgreSQL table, `["shop", "orders"]` for a MongoDB collection,
//! `["raw-bucket", "events/2024/"]` for an S3 prefix, `["session:*"]` for a Redis key pattern.
//! Segments keep the engine's spelling exactly (case included). As text, segments are joined with
//! `.`; a segment containing `.` or `"` is written in double quotes with `"` doubled, SQL style, so
//! `["db", "my.table"]` reads `db."my.table"` and parses back to the same path.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// Why a path (or a scope pattern) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssetPathError {
    #[error("a path must have at least one segment")]
    Empty,
    #[error("a path has at most {max} segments (got {got})")]
    TooManySegments { max: usize, got: usize },
    #[error("segment {index} of the path is empty")]
    EmptySegment { index: usize },
    #[error("segment {index} of the path is longer than {max} characters")]
    SegmentTooLong { index: usize, max: usize },
    #[error("segment {index} of the path has an unterminated quote")]
    UnterminatedQuote { index: usize },
    #[error("segment {index} of the path has a quote in the middle; quote the whole segment and double inner quotes")]
    StrayQuote { index: usize },
    /// Only patterns refuse these: discovered names hold their control characters escaped
    /// (`\u{a}`), and a pattern names them that way.
    #[error("segment {index} of the pattern has a control character; write it as the catalog shows it, e.g. \\u{{a}} for a newline")]
    ControlCharacter { index: usize },
}

/// Where an asset lives inside its source: 1 to [`AssetPath::MAX_SEGMENTS`] non-empty segments of
/// at most [`AssetPath::MAX_SEGMENT_CHARS`] characters each.
///
/// Stored as a JSON array of strings; shown as dotted text.
///
/// ```
/// use domain::discovery::AssetPath;
///
/// let path = AssetPath::new(["orders_db", "public", "customers"]).unwrap();
/// assert_eq!(path.to_string(), "orders_db.public.customers");
/// assert_eq!(AssetPath::parse("orders_db.public.customers").unwrap(), path);
/// assert_eq!(path.name(), "customers");
/// assert_eq!(path.parent().unwrap().to_string(), "orders_db.public");
///
/// let dotted = AssetPath::new(["db", "my.table"]).unwrap();
/// assert_eq!(dotted.to_string(), r#"db."my.table""#);
/// assert_eq!(AssetPath::parse(r#"db."my.table""#).unwrap(), dotted);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct AssetPath(Vec<String>);

impl AssetPath {
    /// The deepest path: source → database → schema → table leaves room for engines with more
    /// levels (Snowflake account → database → schema → table) and nested prefixes.
    pub const MAX_SEGMENTS: usize = 8;
    /// The longest segment, in characters (well above any engine's identifier limit).
    pub const MAX_SEGMENT_CHARS: usize = 256;

    /// A path from its segments, validated.
    pub fn new<I, S>(segments: I) -> Result<Self, AssetPathError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let segments: Vec<String> = segments.into_iter().map(Into::into).collect();
        check_segments(&segments, Self::MAX_SEGMENTS)?;
        Ok(Self(segments))
    }

    /// Parses the dotted text form (see the module documentation).
    pub fn parse(raw: &str) -> Result<Self, AssetPathError> {
        let segments = split_dotted(raw)?
            .into_iter()
            .map(|s| s.text)
            .collect::<Vec<_>>();
        Self::new(segments)
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// Number of segments (at least 1).
    pub fn depth(&self) -> usize {
        self.0.len()
    }

    /// The last segment: the asset's own name.
    pub fn name(&self) -> &str {
        self.0.last().expect("a path has at least one segment")
    }

    /// The enclosing container's path; `None` for a top-level asset.
    pub fn parent(&self) -> Option<AssetPath> {
        (self.0.len() > 1).then(|| Self(self.0[..self.0.len() - 1].to_vec()))
    }

    /// This path with one more segment.
    pub fn child(&self, segment: impl Into<String>) -> Result<AssetPath, AssetPathError> {
        let mut segments = self.0.clone();
        segments.push(segment.into());
        Self::new(segments)
    }

    /// Whether `prefix` is this path or one of its ancestors.
    pub fn starts_with(&self, prefix: &AssetPath) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

impl fmt::Display for AssetPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write_segment(f, segment)?;
        }
        Ok(())
    }
}

impl FromStr for AssetPath {
    type Err = AssetPathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<Vec<String>> for AssetPath {
    type Error = AssetPathError;
    fn try_from(value: Vec<String>) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<AssetPath> for Vec<String> {
    fn from(value: AssetPath) -> Self {
        value.0
    }
}

impl JsonSchema for AssetPath {
    fn schema_name() -> Cow<'static, str> {
        "AssetPath".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "array",
            "description": "Where an asset lives inside its source, outermost container first, e.g. [\"orders_db\", \"public\", \"customers\"].",
            "items": { "type": "string", "minLength": 1, "maxLength": 256 },
            "minItems": 1,
            "maxItems": 8
        })
    }
}

/// Writes one segment of the dotted form, quoted when it would not read back as itself.
pub(crate) fn write_segment(f: &mut fmt::Formatter<'_>, segment: &str) -> fmt::Result {
    if segment.contains(['.', '"']) {
        write!(f, "\"{}\"", segment.replace('"', "\"\""))
    } else {
        f.write_str(segment)
    }
}

/// One segment of dotted text, and whether it was quoted (a quoted scope pattern segment is
/// literal: its `*` are not wildcards).
pub(crate) struct Segment {
    pub(crate) text: String,
    pub(crate) quoted: bool,
}

/// Splits dotted text into segments, unquoting quoted ones. Checks syntax and that no segment is
/// empty or too long; the caller checks the number of segments.
pub(crate) fn split_dotted(raw: &str) -> Result<Vec<Segment>, AssetPathError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AssetPathError::Empty);
    }
    let mut segments = Vec::new();
    let mut chars = raw.chars().peekable();
    loop {
        let index = segments.len();
        let mut text = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err(AssetPathError::UnterminatedQuote { index }),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        text.push('"');
                    }
                    Some('"') => break,
                    Some(c) => text.push(c),
                }
            }
            match chars.peek() {
                None | Some('.') => {}
                Some(_) => return Err(AssetPathError::StrayQuote { index }),
            }
        } else {
            while let Some(&c) = chars.peek() {
                match c {
                    '.' => break,
                    '"' => return Err(AssetPathError::StrayQuote { index }),
                    _ => {
                        text.push(c);
                        chars.next();
                    }
                }
            }
        }
        check_segment(index, &text)?;
        segments.push(Segment { text, quoted });
        match chars.next() {
            None => return Ok(segments),
            Some(_dot) => {
                // A trailing dot leaves an empty last segment.
                if chars.peek().is_none() {
                    return Err(AssetPathError::EmptySegment { index: index + 1 });
                }
            }
        }
    }
}

pub(crate) fn check_segments(segments: &[String], max: usize) -> Result<(), AssetPathError> {
    if segments.is_empty() {
        return Err(AssetPathError::Empty);
    }
    if segments.len() > max {
        return Err(AssetPathError::TooManySegments {
            max,
            got: segments.len(),
        });
    }
    for (index, segment) in segments.iter().enumerate() {
        check_segment(index, segment)?;
    }
    Ok(())
}

fn check_segment(index: usize, segment: &str) -> Result<(), AssetPathError> {
    if segment.is_empty() {
        return Err(AssetPathError::EmptySegment { index });
    }
    if segment.chars().count() > AssetPath::MAX_SEGMENT_CHARS {
        return Err(AssetPathError::SegmentTooLong {
            index,
            max: AssetPath::MAX_SEGMENT_CHARS,
        });
    }
    Ok(())
}
