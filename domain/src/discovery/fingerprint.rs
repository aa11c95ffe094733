//! [`Fingerprint`]: the content hash that makes rescans incremental. An asset whose fingerprint did
//! not change since the last scan records nothing.
//!
//! # Definition (version 1)
//!
//! `fingerprint = lowercase hex of SHA-256( "pursight.asset-schema.v1\n" ‖ canonical JSON )`, where
//! the canonical JSON is the [normalized](AssetSchema::normalized) schema without `row_estimate`,
//! serialized with object keys sorted by code point, no insignificant whitespace, strings escaped
//! as `serde_json` escapes them and `null` for absent optional values.
//!
//! So: the order in which a connector lists columns, foreign keys or indexes does not matter (the
//! columns' `ordinal`s do: moving a column changes the fingerprint); the row estimate does not
//! matter; any change of kind, path, a column's name, type, nullability, default, key flag,
//! ordinal or comment, of a foreign key, an index, the comment or the view definition does.
//!
//! Changing this definition changes every fingerprint, so the first scan after such a change
//! records every asset as changed (`SchemaChanged` with an empty diff where nothing real changed).
//! Bump the prefix's version when you do, so the cause is visible.

use super::asset_schema::AssetSchema;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt::{self, Write as _};

const DOMAIN_PREFIX: &str = "pursight.asset-schema.v1\n";

/// A SHA-256 content hash of an [`AssetSchema`] as 64 lowercase hex digits (see the module
/// documentation for exactly what it covers).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of `schema`.
    pub fn of(schema: &AssetSchema) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(DOMAIN_PREFIX.as_bytes());
        hasher.update(canonical_json(schema).as_bytes());
        let mut hex = String::with_capacity(64);
        for byte in hasher.finalize() {
            write!(hex, "{byte:02x}").expect("writing to a String cannot fail");
        }
        Self(hex)
    }

    /// Parses a stored fingerprint: exactly 64 lowercase hex digits.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = raw.len() == 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "a fingerprint is 64 lowercase hex digits (got {:?})",
                crate::datasource::values::clip(raw, 80)
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Fingerprint> for String {
    fn from(value: Fingerprint) -> Self {
        value.0
    }
}

impl JsonSchema for Fingerprint {
    fn schema_name() -> Cow<'static, str> {
        "Fingerprint".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "SHA-256 content hash of the asset schema (row estimate excluded), lowercase hex.",
            "pattern": "^[0-9a-f]{64}$"
        })
    }
}

/// The canonical text the fingerprint hashes.
fn canonical_json(schema: &AssetSchema) -> String {
    let mut normalized = schema.clone().normalized();
    normalized.row_estimate = None;
    let mut value = serde_json::to_value(&normalized).expect("an asset schema always serializes");
    if let Some(object) = value.as_object_mut() {
        object.remove("row_estimate");
    }
    let mut out = String::new();
    write_canonical(&value, &mut out);
    out
}

/// Writes `value` with object keys sorted, whatever map implementation `serde_json` was built
/// with (the `preserve_order` feature would otherwise keep insertion order).
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(object) => {
            let mut keys: Vec<&String> = object.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&object[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
pub(super) fn canonical_json_for_tests(schema: &AssetSchema) -> String {
    canonical_json(schema)
}
