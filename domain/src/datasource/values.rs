//! The small value types a data source configuration is made of: its name, kind, hosts, tags and
//! the keyword enums (provider, location, environment, TLS mode).
//!
//! Each has one `parse` that normalises and checks raw edge input and returns a message without a
//! field name (the caller knows the field and adds the path). Serde goes through the same `parse`,
//! so a value read back from an event is as valid as one typed by a user. Tightening a rule here
//! therefore needs a new event version with an upcaster, or old events stop decoding.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

/// Generates a closed set of snake_case keywords with `as_str`, `ALL`, `Display` and a forgiving
/// `parse` (trimmed, case-insensitive, `-` accepted for `_`, plus listed aliases).
macro_rules! keyword_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses edge input; the error lists the accepted values.
            pub fn parse(raw: &str) -> Result<Self, String> {
                let normalised = raw.trim().to_ascii_lowercase().replace('-', "_");
                match normalised.as_str() {
                    $( $text $(| $alias)* => Ok($name::$variant), )+
                    _ => Err(format!(
                        "unknown {} {:?}; expected one of {}",
                        $what,
                        crate::datasource::values::clip(raw.trim(), 40),
                        [$($text),+].join(", "),
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use keyword_enum;

/// Cuts echoed input so a pasted blob does not flood an error message.
pub(crate) fn clip(raw: &str, max_chars: usize) -> String {
    match raw.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &raw[..end]),
        None => raw.to_owned(),
    }
}

keyword_enum! {
    /// The kind of system a data source is; decides the connector and the default port.
    pub enum DataSourceKind ("kind") {
        Postgresql = "postgresql" | "postgres",
        Mysql = "mysql",
        Mongodb = "mongodb",
        Redis = "redis",
        S3 = "s3",
        Snowflake = "snowflake",
    }
}

impl DataSourceKind {
    /// The port used when the configuration does not name one.
    pub fn default_port(&self) -> u16 {
        match self {
            DataSourceKind::Postgresql => 5432,
            DataSourceKind::Mysql => 3306,
            DataSourceKind::Mongodb => 27017,
            DataSourceKind::Redis => 6379,
            DataSourceKind::S3 | DataSourceKind::Snowflake => 443,
        }
    }

    /// Whether `host` must be given. S3 defaults to the provider's endpoint and Snowflake can be
    /// addressed by its account identifier instead.
    pub fn requires_host(&self) -> bool {
        !matches!(self, DataSourceKind::S3 | DataSourceKind::Snowflake)
    }
}

keyword_enum! {
    /// The cloud a source runs in (when its location is `cloud` or `hybrid`).
    pub enum CloudProvider ("cloud provider") {
        Aws = "aws",
        Azure = "azure",
        Gcp = "gcp",
    }
}

keyword_enum! {
    /// Where a source runs; switches TLS and replica routing in the connectors.
    #[derive(Default)]
    pub enum Location ("location") {
        #[default]
        OnPrem = "on_prem" | "onprem",
        Cloud = "cloud",
        Hybrid = "hybrid",
    }
}

keyword_enum! {
    /// The deployment stage a source belongs to; a closed set so that filters and compliance
    /// rules can rely on it.
    pub enum Environment ("environment") {
        Development = "development" | "dev",
        Staging = "staging" | "stage",
        Production = "production" | "prod",
        Test = "test",
    }
}

keyword_enum! {
    /// How strictly the connection is encrypted, in PostgreSQL's terms (the connectors map it to
    /// each engine's options).
    pub enum SslMode ("ssl mode") {
        Disable = "disable",
        Require = "require",
        VerifyCa = "verify_ca",
        VerifyFull = "verify_full",
    }
}

impl SslMode {
    /// Whether the server certificate is checked against `ssl_ca`.
    pub fn verifies_server(&self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

/// Implements the string plumbing of a validated newtype: serde through `parse`, `Display`,
/// `as_str` and a JSON Schema.
macro_rules! string_value {
    ($name:ident, $schema:tt) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        // Written from the borrowed text: `#[serde(into = "String")]` would clone the value on
        // every serialisation, and every appended event serialises these.
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

/// The display name of a data source: trimmed, 1 to 128 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct SourceName(String);

impl SourceName {
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("must not be empty".to_owned());
        }
        let chars = name.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(format!(
                "must be at most {} characters (got {chars})",
                Self::MAX_CHARS
            ));
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters".to_owned());
        }
        Ok(Self(name.to_owned()))
    }
}

string_value!(SourceName, {
    "type": "string",
    "description": "Display name of the data source, 1 to 128 characters.",
    "minLength": 1,
    "maxLength": 128
});

/// A label on a data source: 1 to 64 characters of `a-z 0-9 _ : - .`, stored lowercase so that
/// `PII` and `pii` are one tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct Tag(String);

impl Tag {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let tag = raw.trim().to_lowercase();
        if tag.is_empty() {
            return Err("must not be empty".to_owned());
        }
        if tag.chars().count() > Self::MAX_CHARS {
            return Err(format!(
                "{:?} is longer than {} characters",
                clip(&tag, 40),
                Self::MAX_CHARS
            ));
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_:-.".contains(c);
        if !tag.chars().all(allowed) {
            return Err(format!(
                "{:?} may only contain lowercase letters, digits, '_', ':', '-' and '.'",
                clip(&tag, 40)
            ));
        }
        Ok(Self(tag))
    }
}

string_value!(Tag, {
    "type": "string",
    "description": "A lowercase label of letters, digits, '_', ':', '-' and '.'.",
    "pattern": "^[a-z0-9_:.-]{1,64}$"
});

/// A DNS name or an IP address (IPv6 without brackets). DNS names are stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Host(String);

impl Host {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("must not be empty".to_owned());
        }
        let unbracketed = trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .unwrap_or(trimmed);
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            return Ok(Self(ip.to_string()));
        }
        let name = trimmed
            .strip_suffix('.')
            .unwrap_or(trimmed)
            .to_ascii_lowercase();
        let label_ok = |label: &str| {
            (1..=63).contains(&label.len())
                // `_` is not RFC 1123, but Docker and Kubernetes service names use it and every
                // resolver accepts it.
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        if name.len() <= 253 && name.split('.').all(label_ok) {
            Ok(Self(name))
        } else {
            Err(format!(
                "must be a hostname or IP address without scheme, port or path (got {:?})",
                clip(trimmed, 80)
            ))
        }
    }

    /// The host as it goes into a URI: IPv6 addresses in brackets.
    pub fn to_uri_host(&self) -> Cow<'_, str> {
        if self.0.contains(':') {
            Cow::Owned(format!("[{}]", self.0))
        } else {
            Cow::Borrowed(&self.0)
        }
    }
}

string_value!(Host, {
    "type": "string",
    "description": "A DNS name or an IP address.",
    "minLength": 1,
    "maxLength": 253
});

/// A port number in `1..=65535` from edge input, which arrives as a wide integer.
pub fn parse_port(raw: i64) -> Result<u16, String> {
    match u16::try_from(raw) {
        Ok(port) if port >= 1 => Ok(port),
        _ => Err(format!("must be between 1 and 65535 (got {raw})")),
    }
}

/// One member of a replica set: `host:port`, `[v6]:port` or a bare host (the kind's default port).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HostPort {
    pub host: Host,
    pub port: u16,
}

impl HostPort {
    /// Parses `host[:port]`, using `default_port` when the port is left out.
    pub fn parse_with_default(raw: &str, default_port: u16) -> Result<Self, String> {
        let raw = raw.trim();
        let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
            match rest.split_once(']') {
                Some((host, "")) => (host, None),
                Some((host, port)) => match port.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None => return Err(format!("{:?} is not host:port", clip(raw, 80))),
                },
                None => return Err(format!("{:?} is not host:port", clip(raw, 80))),
            }
        } else {
            match raw.split_once(':') {
                // More than one colon without brackets: a bare IPv6 address.
                Some((_, rest)) if rest.contains(':') => (raw, None),
                Some((host, port)) => (host, Some(port)),
                None => (raw, None),
            }
        };
        let port = match port {
            None => default_port,
            Some(port) => port
                .parse::<i64>()
                .map_err(|_| format!("{:?} has a port that is not a number", clip(raw, 80)))
                .and_then(parse_port)?,
        };
        Ok(Self {
            host: Host::parse(host)?,
            port,
        })
    }

    /// Parses `host:port` with the port required (how it is stored).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let parsed = Self::parse_with_default(raw, 0)?;
        if parsed.port == 0 {
            return Err(format!("{:?} needs a port", clip(raw, 80)));
        }
        Ok(parsed)
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host.to_uri_host(), self.port)
    }
}

impl TryFrom<String> for HostPort {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<HostPort> for String {
    fn from(value: HostPort) -> Self {
        value.to_string()
    }
}

impl JsonSchema for HostPort {
    fn schema_name() -> Cow<'static, str> {
        "HostPort".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "host:port, with IPv6 addresses in brackets.",
            "pattern": "^.+:[0-9]{1,5}$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_forgivingly_and_refuse_unknown_ones_by_name() {
        assert_eq!(
            DataSourceKind::parse(" PostgreSQL "),
            Ok(DataSourceKind::Postgresql)
        );
        assert_eq!(
            DataSourceKind::parse("postgres"),
            Ok(DataSourceKind::Postgresql)
        );
        assert_eq!(
            DataSourceKind::parse("oracle").unwrap_err(),
            "unknown kind \"oracle\"; expected one of postgresql, mysql, mongodb, redis, s3, snowflake"
        );
        let ports: Vec<u16> = DataSourceKind::ALL
            .iter()
            .map(|k| k.default_port())
            .collect();
        assert_eq!(ports, [5432, 3306, 27017, 6379, 443, 443]);
    }

    #[test]
    fn keywords_serialize_in_their_wire_spelling() {
        assert_eq!(serde_json::to_value(Location::OnPrem).unwrap(), "on_prem");
        assert_eq!(
            serde_json::to_value(SslMode::VerifyFull).unwrap(),
            "verify_full"
        );
        assert_eq!(serde_json::to_value(DataSourceKind::S3).unwrap(), "s3");
        assert_eq!(SslMode::parse("verify-ca"), Ok(SslMode::VerifyCa));
        assert_eq!(Environment::parse("prod"), Ok(Environment::Production));
    }

    #[test]
    fn hosts_are_dns_names_or_ip_addresses() {
        assert_eq!(
            Host::parse("DB.Example.COM.").unwrap().as_str(),
            "db.example.com"
        );
        assert_eq!(Host::parse("10.0.0.7").unwrap().as_str(), "10.0.0.7");
        assert_eq!(
            Host::parse("pursight_db_1").unwrap().as_str(),
            "pursight_db_1"
        );
        assert_eq!(Host::parse("[::1]").unwrap().to_uri_host(), "[::1]");
        for bad in [
            "",
            "http://db",
            "db:5432",
            "db/x",
            "-db",
            "a..b",
            "d b",
            &"a".repeat(64),
        ] {
            assert!(Host::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn host_port_pairs_default_and_check_the_port() {
        let member = HostPort::parse_with_default("mongo-1:27018", 27017).unwrap();
        assert_eq!(member.to_string(), "mongo-1:27018");
        assert_eq!(
            HostPort::parse_with_default("mongo-2", 27017).unwrap().port,
            27017
        );
        assert_eq!(
            HostPort::parse_with_default("[::1]:1", 27017)
                .unwrap()
                .to_string(),
            "[::1]:1"
        );
        assert!(HostPort::parse_with_default("mongo:0", 27017).is_err());
        assert!(HostPort::parse_with_default("mongo:x", 27017).is_err());
        assert!(HostPort::parse("mongo-1").is_err());
    }

    #[test]
    fn ports_outside_the_range_say_what_they_got() {
        assert_eq!(
            parse_port(70000).unwrap_err(),
            "must be between 1 and 65535 (got 70000)"
        );
        assert!(parse_port(0).is_err());
        assert!(parse_port(-1).is_err());
        assert_eq!(parse_port(65535), Ok(65535));
    }

    #[test]
    fn tags_are_lowercased_and_restricted() {
        assert_eq!(Tag::parse(" PII ").unwrap().as_str(), "pii");
        assert_eq!(
            Tag::parse("gdpr:art-9.x_y").unwrap().as_str(),
            "gdpr:art-9.x_y"
        );
        assert!(Tag::parse("has space")
            .unwrap_err()
            .contains("may only contain"));
        assert!(Tag::parse(&"a".repeat(65)).is_err());
        assert!(Tag::parse("").is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            SourceName::parse("  Sales DB ").unwrap().as_str(),
            "Sales DB"
        );
        assert_eq!(SourceName::parse("   ").unwrap_err(), "must not be empty");
        assert!(SourceName::parse(&"n".repeat(128)).is_ok());
        assert!(SourceName::parse(&"n".repeat(129)).is_err());
    }
}
