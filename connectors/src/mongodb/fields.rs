//! Documents seen as columns: the dotted field paths of a document, the field schema inferred
//! from sampled documents, and a field's value rendered as text for classification.
//!
//! - Every field is a column named by its dotted path (`address.city`); an embedded document is
//!   a column too (type `object`) and its fields follow it, down to [`MAX_DEPTH`] levels.
//! - An array is a column (type `array`). The fields of the documents it holds are columns
//!   too, named as MongoDB's dot notation reaches them (`contacts.email` for
//!   `contacts: [{email: …}, …]`): personal data often sits in such lists. A field's types are
//!   those of all elements; its sampled value is that of the first element holding one. Scalar
//!   elements, and arrays inside arrays, are not columns of their own.
//! - A column's type is the set of BSON types seen (MongoDB's `$type` aliases: `string`, `int`,
//!   `long`, `double`, `decimal`, `bool`, `date`, `objectId`, `binData`, `object`, `array`,
//!   `null`, …) sorted and joined by `|`, e.g. `null|string`.
//! - A column is nullable when some sampled document lacks it or holds `null` there. `_id` is the
//!   primary key.
//! - Columns come in the order first seen, so the same documents in the same order always give
//!   the same schema.
//!
//! Values pass through here and are dropped: only names and type names leave [`Shape`];
//! [`render`]ed text goes to the sampler's caller only.

use domain::discovery::ColumnSchema;
use mongodb::bson::{Bson, Document};
use std::collections::{BTreeSet, HashMap};

/// Embedded documents deeper than this are one `object` column.
pub const MAX_DEPTH: usize = 16;
/// The most columns one collection gets; fields first seen after that are left out (and logged).
pub const MAX_FIELDS: usize = 1000;

/// MongoDB's `$type` alias of `value`.
pub(super) fn type_name(value: &Bson) -> &'static str {
    match value {
        Bson::Double(_) => "double",
        Bson::String(_) => "string",
        Bson::Array(_) => "array",
        Bson::Document(_) => "object",
        Bson::Boolean(_) => "bool",
        Bson::Null => "null",
        Bson::RegularExpression(_) => "regex",
        Bson::JavaScriptCode(_) => "javascript",
        Bson::JavaScriptCodeWithScope(_) => "javascriptWithScope",
        Bson::Int32(_) => "int",
        Bson::Int64(_) => "long",
        Bson::Timestamp(_) => "timestamp",
        Bson::Binary(_) => "binData",
        Bson::ObjectId(_) => "objectId",
        Bson::DateTime(_) => "date",
        Bson::Symbol(_) => "symbol",
        Bson::Decimal128(_) => "decimal",
        Bson::Undefined => "undefined",
        Bson::MaxKey => "maxKey",
        Bson::MinKey => "minKey",
        Bson::DbPointer(_) => "dbPointer",
    }
}

/// Calls `visit` with every field of `document` (embedded documents' fields too, and those of
/// documents in arrays) and its dotted path, parents before their children. A path inside an
/// array is visited once for each element that holds it.
pub(super) fn walk<'a>(document: &'a Document, visit: &mut impl FnMut(&str, &'a Bson)) {
    fn descend<'a>(
        document: &'a Document,
        prefix: &mut String,
        depth: usize,
        visit: &mut impl FnMut(&str, &'a Bson),
    ) {
        for (key, value) in document {
            let mark = prefix.len();
            if mark > 0 {
                prefix.push('.');
            }
            prefix.push_str(key);
            visit(prefix, value);
            if depth + 1 < MAX_DEPTH {
                match value {
                    Bson::Document(inner) => descend(inner, prefix, depth + 1, visit),
                    Bson::Array(items) => {
                        for item in items {
                            if let Bson::Document(inner) = item {
                                descend(inner, prefix, depth + 1, visit);
                            }
                        }
                    }
                    _ => {}
                }
            }
            prefix.truncate(mark);
        }
    }
    descend(document, &mut String::new(), 0, visit);
}

/// The fields of `document` by dotted path; a path inside an array holds the first element's
/// value that is not null (or null when none has one).
pub(super) fn flatten(document: &Document) -> HashMap<String, &Bson> {
    let mut fields: HashMap<String, &Bson> = HashMap::new();
    walk(document, &mut |path, value| match fields.get_mut(path) {
        Some(held) if is_null(held) => *held = value,
        Some(_) => {}
        None => {
            fields.insert(path.to_owned(), value);
        }
    });
    fields
}

fn is_null(value: &Bson) -> bool {
    matches!(value, Bson::Null | Bson::Undefined)
}

/// Field paths and types collected over sampled documents.
#[derive(Debug, Default)]
pub(super) struct Shape {
    documents: usize,
    order: Vec<String>,
    seen: HashMap<String, Seen>,
    /// Fields left out past [`MAX_FIELDS`].
    dropped: usize,
}

/// What the sampled documents showed of one path.
#[derive(Debug, Default)]
struct Seen {
    /// Documents holding it (once each, however many of its array elements do).
    documents: usize,
    /// The number of the last document that held it (documents count from 1).
    last_document: usize,
    types: BTreeSet<&'static str>,
}

impl Shape {
    /// Adds one sampled document.
    pub(super) fn add(&mut self, document: &Document) {
        self.documents += 1;
        let Shape {
            documents: current,
            order,
            seen,
            dropped,
        } = self;
        walk(document, &mut |path, value| {
            let entry = match seen.get_mut(path) {
                Some(entry) => entry,
                None if order.len() >= MAX_FIELDS => {
                    *dropped += 1;
                    return;
                }
                None => {
                    order.push(path.to_owned());
                    seen.entry(path.to_owned()).or_default()
                }
            };
            if entry.last_document != *current {
                entry.last_document = *current;
                entry.documents += 1;
            }
            entry.types.insert(type_name(value));
        });
    }

    /// Documents added so far.
    pub(super) fn documents(&self) -> usize {
        self.documents
    }

    /// Field occurrences left out because the collection has more than [`MAX_FIELDS`] paths.
    pub(super) fn dropped(&self) -> usize {
        self.dropped
    }

    /// The columns, in the order first seen.
    pub(super) fn columns(mut self) -> Vec<ColumnSchema> {
        let documents = self.documents;
        self.order
            .into_iter()
            .zip(1u32..)
            .map(|(path, ordinal)| {
                let Seen {
                    documents: count,
                    types,
                    ..
                } = self.seen.remove(&path).unwrap_or_default();
                let data_type = types.iter().copied().collect::<Vec<_>>().join("|");
                let mut column = ColumnSchema::new(path, data_type, ordinal);
                column.nullable =
                    count < documents || types.contains("null") || types.contains("undefined");
                column.primary_key = column.name == "_id";
                column
            })
            .collect()
    }
}

/// `value` as text: strings as they are, numbers as written, dates in ISO 8601 (RFC 3339, UTC),
/// object ids and binary data as lowercase hex, embedded documents and arrays as compact JSON
/// (with the same renderings inside); `None` for `null` and `undefined`.
pub(super) fn render(value: &Bson) -> Option<String> {
    Some(match value {
        Bson::Null | Bson::Undefined => return None,
        Bson::String(text) | Bson::Symbol(text) | Bson::JavaScriptCode(text) => text.clone(),
        Bson::JavaScriptCodeWithScope(code) => code.code.clone(),
        Bson::Boolean(flag) => flag.to_string(),
        Bson::Int32(number) => number.to_string(),
        Bson::Int64(number) => number.to_string(),
        Bson::Double(number) => number.to_string(),
        Bson::Decimal128(number) => number.to_string(),
        Bson::DateTime(date) => date
            .try_to_rfc3339_string()
            .unwrap_or_else(|_| date.timestamp_millis().to_string()),
        Bson::ObjectId(id) => id.to_hex(),
        // The first bytes only: what the classifier's magic numbers need, never a whole file.
        Bson::Binary(binary) => hex::encode(
            &binary.bytes[..binary
                .bytes
                .len()
                .min(crate::sampling::SAMPLED_BINARY_BYTES)],
        ),
        Bson::Timestamp(timestamp) => format!("{}:{}", timestamp.time, timestamp.increment),
        Bson::RegularExpression(regex) => {
            format!("/{}/{}", regex.pattern.as_str(), regex.options.as_str())
        }
        Bson::Document(_) | Bson::Array(_) => to_json(value),
        Bson::MaxKey => "MaxKey".to_owned(),
        Bson::MinKey => "MinKey".to_owned(),
        Bson::DbPointer(_) => value.to_string(),
    })
}

/// `value` as compact JSON, keys in document order, scalars rendered as [`render`] does
/// (numbers and booleans stay bare). Written by hand: `serde_json`'s maps would sort the keys,
/// and key order matters in MongoDB documents (a `$sort` stage, a compound key).
fn to_json(value: &Bson) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &Bson, out: &mut String) {
    match value {
        Bson::Null | Bson::Undefined => out.push_str("null"),
        Bson::Boolean(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Bson::Int32(number) => out.push_str(&number.to_string()),
        Bson::Int64(number) => out.push_str(&number.to_string()),
        Bson::Double(number) if number.is_finite() => out.push_str(&number.to_string()),
        Bson::Document(document) => {
            out.push('{');
            for (i, (key, value)) in document.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::from(key.as_str()).to_string());
                out.push(':');
                write_json(value, out);
            }
            out.push('}');
        }
        Bson::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        other => match render(other) {
            Some(text) => out.push_str(&serde_json::Value::from(text).to_string()),
            None => out.push_str("null"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::{doc, oid::ObjectId, spec::BinarySubtype, Binary, DateTime};

    fn shape(documents: &[Document]) -> Vec<(String, String, bool, bool)> {
        let mut shape = Shape::default();
        for document in documents {
            shape.add(document);
        }
        shape
            .columns()
            .into_iter()
            .map(|c| (c.name, c.data_type, c.nullable, c.primary_key))
            .collect()
    }

    fn col(name: &str, data_type: &str, nullable: bool) -> (String, String, bool, bool) {
        (name.into(), data_type.into(), nullable, name == "_id")
    }

    #[test]
    fn nested_missing_and_mixed_fields() {
        let documents = [
            doc! { "_id": 1, "name": "Ann", "address": { "city": "Lyon", "geo": { "lat": 45.7 } }, "tags": ["a"] },
            doc! { "_id": 2, "name": null, "address": { "city": "Nice" }, "age": 31_i64 },
            doc! { "_id": 3, "name": "Bo", "address": "unknown", "tags": [] },
        ];
        assert_eq!(
            shape(&documents),
            vec![
                col("_id", "int", false),
                col("name", "null|string", true),
                col("address", "object|string", false),
                col("address.city", "string", true),
                col("address.geo", "object", true),
                col("address.geo.lat", "double", true),
                col("tags", "array", true),
                col("age", "long", true),
            ]
        );
    }

    #[test]
    fn the_documents_of_an_array_give_their_fields_as_columns() {
        let documents = [
            doc! { "_id": 1, "contacts": [
                { "kind": "work", "email": "ann@corp.example" },
                { "kind": "home", "phone": "+33 1 23 45 67 89" },
                "a scalar element",
                [{ "nested": "arrays are not descended" }],
            ] },
            doc! { "_id": 2, "contacts": [] },
            doc! { "_id": 3, "contacts": [{ "kind": "home", "email": null }, { "email": "cy@home.example" }] },
        ];
        assert_eq!(
            shape(&documents),
            vec![
                col("_id", "int", false),
                col("contacts", "array", false),
                col("contacts.kind", "string", true),
                col("contacts.email", "null|string", true),
                col("contacts.phone", "string", true),
            ]
        );
        // Documents holding a path are counted once, however many elements hold it: one of
        // two documents lacks `c.k`, which two elements of the other hold.
        let mut twice = Shape::default();
        twice.add(&doc! { "c": [{ "k": 1 }, { "k": 2 }] });
        twice.add(&doc! { "other": 1 });
        let columns = twice.columns();
        assert_eq!(columns[1].name, "c.k");
        assert!(columns[1].nullable, "{columns:?}");

        let first = flatten(&documents[0]);
        assert_eq!(render(first["contacts.kind"]).as_deref(), Some("work"));
        assert_eq!(
            render(first["contacts.phone"]).as_deref(),
            Some("+33 1 23 45 67 89")
        );
        assert!(!first.contains_key("contacts.nested"));
        // The first element with a value, not the first element.
        let third = flatten(&documents[2]);
        assert_eq!(
            render(third["contacts.email"]).as_deref(),
            Some("cy@home.example")
        );
        assert!(!flatten(&documents[1]).contains_key("contacts.email"));
    }

    #[test]
    fn no_documents_no_columns() {
        assert!(shape(&[]).is_empty());
    }

    #[test]
    fn fields_past_the_limit_are_dropped() {
        let mut wide = Document::new();
        for i in 0..MAX_FIELDS + 5 {
            wide.insert(format!("f{i}"), 1);
        }
        let mut shape = Shape::default();
        shape.add(&wide);
        assert_eq!(shape.dropped(), 5);
        assert_eq!(shape.columns().len(), MAX_FIELDS);
    }

    #[test]
    fn deep_documents_stop_at_the_depth_limit() {
        let mut deep = doc! { "leaf": 1 };
        for _ in 0..MAX_DEPTH + 3 {
            deep = doc! { "n": deep };
        }
        let columns = shape(&[deep]);
        assert_eq!(columns.len(), MAX_DEPTH);
        assert!(columns.iter().all(|c| c.1 == "object"));
    }

    #[test]
    fn values_render_as_text() {
        let id = ObjectId::parse_str("65a1b2c3d4e5f60718293a4b").unwrap();
        let date = DateTime::from_millis(1_704_164_645_000);
        assert_eq!(
            render(&Bson::ObjectId(id)).unwrap(),
            "65a1b2c3d4e5f60718293a4b"
        );
        assert_eq!(
            render(&Bson::DateTime(date)).unwrap(),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(render(&Bson::Int64(7)).unwrap(), "7");
        assert_eq!(render(&Bson::Double(2.5)).unwrap(), "2.5");
        assert_eq!(render(&Bson::Null), None);
        let binary = Binary {
            subtype: BinarySubtype::Generic,
            bytes: vec![0x01, 0xff],
        };
        assert_eq!(render(&Bson::Binary(binary)).unwrap(), "01ff");
        let nested = Bson::Document(doc! { "z": "q\"", "d": date, "n": [1, 2.5, true, null] });
        assert_eq!(
            render(&nested).unwrap(),
            r#"{"z":"q\"","d":"2024-01-02T03:04:05Z","n":[1,2.5,true,null]}"#
        );
    }

    #[test]
    fn flatten_names_values_by_path() {
        let document = doc! { "a": { "b": 1 }, "c": "x" };
        let fields = flatten(&document);
        assert_eq!(fields.get("a.b"), Some(&&Bson::Int32(1)));
        assert_eq!(
            fields.get("c").and_then(|v| render(v)).as_deref(),
            Some("x")
        );
        assert!(fields.contains_key("a"));
        assert!(!fields.contains_key("b"));
    }
}
