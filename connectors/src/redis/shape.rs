//! The value shape of a key pattern, as columns, inferred from the values of a few sample keys.
//!
//! | Redis type | columns |
//! |---|---|
//! | string | `value: string`, or — when every sampled value is a JSON object — one column per top-level field, typed by what the samples hold (`string|number|null`) |
//! | hash | one column per field seen, typed `number` or `string` by its values |
//! | list, set | `element`, typed by the elements seen |
//! | zset | `element`, and `score: number` |
//! | anything else | `value`, typed by the Redis type name (`stream`, `ReJSON-RL`, …) |
//!
//! JSON fields come in name order (each object's keys sorted), hash fields in the order the
//! samples show them. A column is nullable when some sample lacks the field or holds `null`. Values are parsed here
//! and dropped: only names and type names leave this module.

use domain::discovery::ColumnSchema;
use std::collections::{BTreeSet, HashMap};

/// The type name of one JSON value.
fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// `number` when the bytes read as a finite number, `string` otherwise.
fn scalar_type(bytes: &[u8]) -> &'static str {
    let number = std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .is_some_and(f64::is_finite);
    if number {
        "number"
    } else {
        "string"
    }
}

/// Field names and types collected over samples, in the order first seen.
#[derive(Default)]
struct Fields {
    samples: usize,
    order: Vec<String>,
    seen: HashMap<String, (usize, BTreeSet<&'static str>)>,
}

impl Fields {
    /// Adds one sample's fields.
    fn add(&mut self, fields: impl IntoIterator<Item = (String, &'static str)>) {
        self.samples += 1;
        let mut in_this: BTreeSet<String> = BTreeSet::new();
        for (name, kind) in fields {
            let entry = self.seen.entry(name.clone()).or_insert_with(|| {
                self.order.push(name.clone());
                (0, BTreeSet::new())
            });
            if in_this.insert(name) {
                entry.0 += 1;
            }
            entry.1.insert(kind);
        }
    }

    fn columns(self) -> Vec<ColumnSchema> {
        let Fields {
            samples,
            order,
            mut seen,
        } = self;
        order
            .into_iter()
            .zip(1u32..)
            .map(|(name, ordinal)| {
                let (count, types) = seen.remove(&name).unwrap_or_default();
                column(name, &types, count < samples, ordinal)
            })
            .collect()
    }
}

fn column(
    name: impl Into<String>,
    types: &BTreeSet<&'static str>,
    missing: bool,
    ordinal: u32,
) -> ColumnSchema {
    let mut column = ColumnSchema::new(
        name,
        types.iter().copied().collect::<Vec<_>>().join("|"),
        ordinal,
    );
    column.nullable = missing || types.contains("null");
    column
}

/// Columns of string values.
pub(super) fn string_columns(values: &[Vec<u8>]) -> Vec<ColumnSchema> {
    let objects: Option<Vec<serde_json::Map<String, serde_json::Value>>> = values
        .iter()
        .map(|value| match serde_json::from_slice(value) {
            Ok(serde_json::Value::Object(object)) => Some(object),
            _ => None,
        })
        .collect();
    match objects {
        Some(objects) if !objects.is_empty() => {
            let mut fields = Fields::default();
            for object in &objects {
                fields.add(object.iter().map(|(k, v)| (k.clone(), json_type(v))));
            }
            fields.columns()
        }
        _ => vec![plain("value", "string", values.is_empty())],
    }
}

/// Columns of hashes, from the field/value pairs of each sampled hash.
pub(super) fn hash_columns(hashes: &[Vec<(Vec<u8>, Vec<u8>)>]) -> Vec<ColumnSchema> {
    let mut fields = Fields::default();
    for hash in hashes {
        fields.add(hash.iter().map(|(field, value)| {
            (
                String::from_utf8_lossy(field).into_owned(),
                scalar_type(value),
            )
        }));
    }
    fields.columns()
}

/// The `element` column of lists, sets and sorted sets (with `score` for sorted sets).
pub(super) fn element_columns(elements: &[Vec<u8>], scored: bool) -> Vec<ColumnSchema> {
    let types: BTreeSet<&'static str> = elements.iter().map(|e| scalar_type(e)).collect();
    let mut columns = if types.is_empty() {
        vec![plain("element", "string", true)]
    } else {
        vec![column("element", &types, false, 1)]
    };
    if scored {
        columns.push(plain("score", "number", false));
        columns[1].ordinal = 2;
    }
    columns
}

/// The single `value` column of a type this module does not look into.
pub(super) fn opaque_columns(redis_type: &str) -> Vec<ColumnSchema> {
    vec![plain("value", redis_type, false)]
}

fn plain(name: &str, data_type: &str, nullable: bool) -> ColumnSchema {
    let mut column = ColumnSchema::new(name, data_type, 1);
    column.nullable = nullable;
    column
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(columns: &[ColumnSchema]) -> Vec<(String, String, bool)> {
        columns
            .iter()
            .map(|c| (c.name.clone(), c.data_type.clone(), c.nullable))
            .collect()
    }

    #[test]
    fn json_objects_become_fields() {
        let values = vec![
            br#"{"email":"a@b.c","age":3}"#.to_vec(),
            br#"{"email":null,"age":4,"vip":true}"#.to_vec(),
        ];
        assert_eq!(
            types(&string_columns(&values)),
            vec![
                ("age".into(), "number".into(), false),
                ("email".into(), "null|string".into(), true),
                ("vip".into(), "boolean".into(), true),
            ]
        );
        let mixed = vec![br#"{"a":1}"#.to_vec(), b"plain".to_vec()];
        assert_eq!(
            types(&string_columns(&mixed)),
            vec![("value".into(), "string".into(), false)]
        );
    }

    #[test]
    fn hashes_and_collections() {
        let hashes = vec![
            vec![
                (b"name".to_vec(), b"Ann".to_vec()),
                (b"age".to_vec(), b"31".to_vec()),
            ],
            vec![(b"name".to_vec(), b"Bo".to_vec())],
        ];
        assert_eq!(
            types(&hash_columns(&hashes)),
            vec![
                ("name".into(), "string".into(), false),
                ("age".into(), "number".into(), true),
            ]
        );
        let zset = element_columns(&[b"x".to_vec(), b"2".to_vec()], true);
        assert_eq!(
            types(&zset),
            vec![
                ("element".into(), "number|string".into(), false),
                ("score".into(), "number".into(), false),
            ]
        );
        assert_eq!(zset[1].ordinal, 2);
    }
}
