//! Text that crosses a trust boundary: control characters made visible.
//!
//! A name or message that came from a tenant or from a governed system may hold control
//! characters. Written as they are, a newline forges a log line, a NUL is refused by
//! PostgreSQL's `TEXT` and `JSONB` (and stalls whatever writes it), an escape sequence repaints
//! a terminal. [`escape_controls`] is the one way this project makes such text harmless where it
//! must be kept (discovered names, logged values, recorded errors): each control character
//! becomes the visible text `\u{..}` of its code point, everything else is kept as it is.

use std::borrow::Cow;

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
