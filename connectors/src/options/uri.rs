//! Percent-encoding and query building shared by the URI renderers of every engine.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986 unreserved characters: safe for user info, path segments and keys.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Query values may keep `/` (file paths stay readable).
const QUERY_VALUE: &AsciiSet = &COMPONENT.remove(b'/');

/// What a rendered URI puts where the password goes in `Display`.
pub(crate) const REDACTED: &str = "***";

pub(crate) fn encode(raw: &str) -> String {
    utf8_percent_encode(raw, COMPONENT).to_string()
}

/// `user:password@`, `user@`, `:password@` or nothing; `password` is already final text
/// (encoded, or [`REDACTED`]).
pub(crate) fn userinfo(user: Option<&str>, password: Option<&str>) -> String {
    match (user, password) {
        (None, None) => String::new(),
        (Some(user), None) => format!("{}@", encode(user)),
        (user, Some(password)) => format!("{}:{password}@", user.map(encode).unwrap_or_default()),
    }
}

/// An ordered query string.
#[derive(Default)]
pub(crate) struct Query(Vec<String>);

impl Query {
    pub(crate) fn push(&mut self, key: &str, value: impl AsRef<str>) -> &mut Self {
        self.0.push(format!(
            "{}={}",
            encode(key),
            utf8_percent_encode(value.as_ref(), QUERY_VALUE)
        ));
        self
    }

    pub(crate) fn push_opt(&mut self, key: &str, value: Option<impl AsRef<str>>) -> &mut Self {
        if let Some(value) = value {
            self.push(key, value);
        }
        self
    }

    /// `?a=1&b=2`, or nothing when empty.
    pub(crate) fn render(&self) -> String {
        if self.0.is_empty() {
            String::new()
        } else {
            format!("?{}", self.0.join("&"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_characters_are_encoded() {
        assert_eq!(encode("p@ss:w/rd"), "p%40ss%3Aw%2Frd");
        assert_eq!(encode("a b#?%"), "a%20b%23%3F%25");
        assert_eq!(encode("safe-._~"), "safe-._~");
    }

    #[test]
    fn queries_keep_paths_readable() {
        let mut query = Query::default();
        query
            .push("sslrootcert", "/etc/ssl/ca file.pem")
            .push_opt("absent", None::<&str>)
            .push("a&b", "c=d");
        assert_eq!(
            query.render(),
            "?sslrootcert=/etc/ssl/ca%20file.pem&a%26b=c%3Dd"
        );
        assert_eq!(Query::default().render(), "");
    }

    #[test]
    fn userinfo_forms() {
        assert_eq!(userinfo(Some("u@x"), Some("p")), "u%40x:p@");
        assert_eq!(userinfo(Some("u"), None), "u@");
        assert_eq!(userinfo(None, Some("p")), ":p@");
        assert_eq!(userinfo(None, None), "");
    }
}
