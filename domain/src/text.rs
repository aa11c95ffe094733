//! Text that crosses a trust boundary: refused at the edge, or made visible.
//!
//! A name or message that came from a tenant or from a governed system may hold control
//! characters. Written as they are, a newline forges a log line, a NUL is refused by
//! PostgreSQL's `TEXT` and `JSONB` (and stalls whatever writes it), an escape sequence repaints
//! a terminal. Two answers, one for each direction:
//!
//! - What a person types into a command is parsed into [`Name`] (one line: source, tag, label
//!   and rule names; no control character at all, at most 256 characters) or [`FreeText`]
//!   (notes and reasons: newline, carriage return and tab allowed, no other control character,
//!   at most 4096 characters) or [`Description`] (the same, at most 16 384 characters). A
//!   command carries the parsed type, so GraphQL and the CLI refuse bad text before any event
//!   is written.
//! - What a governed system or an error message hands us must be kept, so it goes through
//!   [`escape_controls`]: each control character becomes the visible text `\u{..}` of its code
//!   point, everything else is kept as it is (discovered names, logged values, recorded errors).

use std::borrow::Cow;

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters (got {got})")]
    TooLong { max: usize, got: usize },
    #[error("must not contain control characters (found U+{0:04X}){1}")]
    Control(u32, &'static str),
}

/// Checks `text` against a length bound and the control characters it may hold.
fn check(text: &str, max: usize, multiline: bool) -> Result<(), TextError> {
    let got = text.chars().count();
    if got > max {
        return Err(TextError::TooLong { max, got });
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if let Some(c) = text.chars().find(|&c| c.is_control() && !allowed(c)) {
        let hint = if multiline {
            "; only newline, carriage return and tab are allowed"
        } else {
            ""
        };
        return Err(TextError::Control(u32::from(c), hint));
    }
    Ok(())
}

/// A name a person gives something (a rule, a label, a tag…): trimmed, 1 to
/// [`Name::MAX_CHARS`] characters, on one line, without any control character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: usize = 256;

    /// ```
    /// use domain::text::Name;
    /// assert_eq!(Name::parse("  Orders  ").unwrap().as_str(), "Orders");
    /// assert!(Name::parse("two\nlines").is_err());
    /// ```
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(TextError::Empty);
        }
        check(name, Self::MAX_CHARS, false)?;
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

macro_rules! prose {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            /// Trimmed; empty text is refused (see [`parse_optional`](Self::parse_optional)).
            pub fn parse(raw: &str) -> Result<Self, TextError> {
                let text = raw.trim();
                if text.is_empty() {
                    return Err(TextError::Empty);
                }
                check(text, Self::MAX_CHARS, true)?;
                Ok(Self(text.to_owned()))
            }

            /// An optional text: absent or blank is `None`.
            pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, TextError> {
                match raw.map(str::trim).filter(|text| !text.is_empty()) {
                    Some(text) => Self::parse(text).map(Some),
                    None => Ok(None),
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }
    };
}

prose!(
    /// A note or a reason a person writes (reviews, archiving): trimmed, 1 to
    /// [`FreeText::MAX_CHARS`] characters; newline, carriage return and tab are its only
    /// control characters.
    ///
    /// ```
    /// use domain::text::FreeText;
    /// assert!(FreeText::parse("checked with\nthe DPO").is_ok());
    /// assert!(FreeText::parse("nul\0byte").is_err());
    /// ```
    FreeText,
    4096
);

prose!(
    /// A description (of a rule set, a term…): as [`FreeText`], at most
    /// [`Description::MAX_CHARS`] characters.
    Description,
    16_384
);

/// `text` with every control character (Unicode category Cc: U+0000–U+001F, U+007F–U+009F)
/// replaced by `\u{XX}`, its code point in hexadecimal; borrowed when there is none.
///
/// ```
/// use domain::text::escape_controls;
/// assert_eq!(escape_controls("email\naddress"), "email\\u{a}address");
/// assert_eq!(escape_controls("plain name"), "plain name");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            escaped.push_str(&c.escape_unicode().to_string());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_line_without_any_control_character() {
        assert_eq!(Name::parse(" pii ").unwrap().as_str(), "pii");
        assert_eq!(Name::parse("   "), Err(TextError::Empty));
        for bad in ["a\0b", "a\nb", "a\tb", "a\u{1b}[31mb", "a\u{85}b"] {
            assert!(
                matches!(Name::parse(bad), Err(TextError::Control(..))),
                "{bad:?}"
            );
        }
        assert!(Name::parse(&"n".repeat(256)).is_ok());
        assert_eq!(
            Name::parse(&"n".repeat(257)),
            Err(TextError::TooLong { max: 256, got: 257 })
        );
    }

    #[test]
    fn free_text_keeps_lines_and_tabs_and_refuses_every_other_control_character() {
        let note = FreeText::parse("line one\r\nline\ttwo\n").unwrap();
        assert_eq!(note.as_str(), "line one\r\nline\ttwo");
        let err = FreeText::parse("nul\0").unwrap_err();
        assert_eq!(
            err.to_string(),
            "must not contain control characters (found U+0000); only newline, carriage return and tab are allowed"
        );
        assert!(FreeText::parse("bell\u{7}").is_err());
        assert!(FreeText::parse(&"x".repeat(4096)).is_ok());
        assert!(matches!(
            FreeText::parse(&"x".repeat(4097)),
            Err(TextError::TooLong { max: 4096, .. })
        ));
        // A megabyte of text is refused without being kept.
        assert!(FreeText::parse(&"x".repeat(1 << 20)).is_err());
        assert_eq!(FreeText::parse_optional(Some("  ")), Ok(None));
        assert_eq!(FreeText::parse_optional(None), Ok(None));
        assert!(Description::parse(&"x".repeat(16_384)).is_ok());
        assert!(Description::parse(&"x".repeat(16_385)).is_err());
    }

    #[test]
    fn every_control_character_becomes_visible_and_nothing_else_changes() {
        assert_eq!(escape_controls("a\0b"), "a\\u{0}b");
        assert_eq!(
            escape_controls("x\r\ny\t\u{1b}[2J\u{7f}\u{85}"),
            "x\\u{d}\\u{a}y\\u{9}\\u{1b}[2J\\u{7f}\\u{85}"
        );
        assert_eq!(escape_controls("Straße – 名前 ✓"), "Straße – 名前 ✓");
        assert!(matches!(escape_controls("ok"), Cow::Borrowed(_)));
        // The escaped text holds no control character, so escaping it again changes nothing.
        let once = escape_controls("a\nb").into_owned();
        assert_eq!(escape_controls(&once), once);
    }
}
