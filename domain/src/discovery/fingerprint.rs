//! [`Fingerprint`]: the content hash that makes rescans incremental. An asset whose fingerprint did
//! not change since the last scan records nothing.
//!
//! # Definition (version 1)
//!
//! `fingerprint = lowercase hex of SHA-256( "pursight.asset-schema.v1\n" ‖ canonical JSON )`, where
//! the canonical JSON is the [normalized](AssetSchema::normalized) schema without its statistics
//! (`row_estimate`, `size_bytes`, `last_analyzed`),
//! serialized with object keys sorted by code point, no insignificant whitespace, strings escaped
//! as `serde_json` escapes them and `null` for absent optional values.
//!
//! So: the order in which a connector lists columns, foreign keys or indexes does not matter (the
//! columns' `ordinal`s do: moving a column changes the fingerprint); the statistics do not
//! matter; any change of kind, path, a column's name, type, nullability, default, key flag,
//! ordinal or comment, of a foreign key, an index, the comment or the view definition does.
//!
//! Optional parts added later (index method, partitioning, triggers, a column's type reference,
//! a materialized view's populated state, types, routines, sequences) are left out of the JSON
//! when absent, so assets without them keep the fingerprint they had; an asset that gains one
//! (a PostgreSQL index now shows its method) records one `SchemaChanged` naming it.
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
use std::io;

const DOMAIN_PREFIX: &str = "pursight.asset-schema.v1\n";

/// A SHA-256 content hash of an [`AssetSchema`] as 64 lowercase hex digits (see the module
/// documentation for exactly what it covers).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of `schema`.
    pub fn of(schema: &AssetSchema) -> Self {
        let mut hasher = HashWriter(Sha256::new());
        hasher.0.update(DOMAIN_PREFIX.as_bytes());
        write_canonical_schema(schema, &mut hasher);
        let mut hex = String::with_capacity(64);
        for byte in hasher.0.finalize() {
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

/// Writes the canonical text the fingerprint hashes into `out`. Schemas are fingerprinted on
/// every discovery, mostly already normalized: those are not copied to be normalized again.
fn write_canonical_schema(schema: &AssetSchema, out: &mut impl io::Write) {
    let normalized;
    let schema = if schema.is_normalized() {
        schema
    } else {
        normalized = schema.clone().normalized();
        &normalized
    };
    let mut value = serde_json::to_value(schema).expect("an asset schema always serializes");
    if let Some(object) = value.as_object_mut() {
        for statistic in ["row_estimate", "size_bytes", "last_analyzed"] {
            object.remove(statistic);
        }
    }
    write_canonical(&value, out);
}

/// Writes `value` with object keys sorted, whatever map implementation `serde_json` was built
/// with (the `preserve_order` feature would otherwise keep insertion order). Keys and scalars
/// are written by `serde_json` itself, so escaping is exactly its own.
fn write_canonical(value: &Value, out: &mut impl io::Write) {
    match value {
        Value::Object(object) => {
            let mut keys: Vec<&String> = object.keys().collect();
            keys.sort();
            put(out, b"{");
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    put(out, b",");
                }
                write_scalar(key, out);
                put(out, b":");
                write_canonical(&object[key], out);
            }
            put(out, b"}");
        }
        Value::Array(items) => {
            put(out, b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    put(out, b",");
                }
                write_canonical(item, out);
            }
            put(out, b"]");
        }
        scalar => write_scalar(scalar, out),
    }
}

fn put(out: &mut impl io::Write, bytes: &[u8]) {
    out.write_all(bytes)
        .expect("the canonical form is written to memory or a hasher");
}

fn write_scalar<T: Serialize + ?Sized>(scalar: &T, out: &mut impl io::Write) {
    serde_json::to_writer(out, scalar).expect("strings, numbers and literals always serialize");
}

/// Feeds everything written into the hasher, so the canonical text is never held in memory.
struct HashWriter(Sha256);

impl io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
pub(super) fn canonical_json_for_tests(schema: &AssetSchema) -> String {
    let mut out = Vec::new();
    write_canonical_schema(schema, &mut out);
    String::from_utf8(out).expect("serde_json writes UTF-8")
}
