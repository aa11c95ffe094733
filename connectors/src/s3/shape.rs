//! The record schema of one prefix, as columns, from what its sampled objects showed: the fields
//! of CSV and JSON records, the schemas in Parquet footers, and the partition folders of the keys.
//!
//! Columns come in the order first seen, data fields first, then partition keys. A column is
//! nullable when some record lacks it or holds null (for Parquet: when the schema says so or some
//! file lacks it). Types:
//!
//! - JSON: the observed JSON types joined by `|`, e.g. `null|string`;
//! - CSV: one type, widened over the rows (`integer` + `number` → `number`, `date` + `timestamp`
//!   → `timestamp`, any other mix → `string`); empty cells only make it nullable;
//! - Parquet: the footer's type (`int64`, `string`, `decimal(12,2)`, `timestamp(ms, utc)`,
//!   `array<string>`, …), different types across files joined by `|`;
//! - partition keys: the CSV inference over the values in the keys.

use super::records::{scalar_kind, Record};
use domain::discovery::ColumnSchema;
use std::collections::{BTreeSet, HashMap};

/// How observed types combine into a column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Typing {
    /// Every type seen, joined by `|`.
    Union,
    /// One type, widened (CSV cells, partition values).
    Widened,
}

/// Columns collected over records, in the order first seen.
#[derive(Debug, Default)]
pub(super) struct Shape {
    records: u64,
    order: Vec<String>,
    seen: HashMap<String, Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// Records (or files, for Parquet) holding the column.
    present: u64,
    types: BTreeSet<String>,
    nullable: bool,
    typing: Option<Typing>,
}

impl Shape {
    /// Adds one record of a text format.
    pub(super) fn add_record(&mut self, record: &Record, typing: Typing) {
        self.records += 1;
        let mut in_this: BTreeSet<&str> = BTreeSet::new();
        for field in record {
            let seen = self.entry(&field.name);
            seen.typing = Some(typing);
            if field.kind == "null" {
                seen.nullable = true;
                if typing == Typing::Union {
                    seen.types.insert("null".to_owned());
                }
            } else {
                seen.types.insert(field.kind.to_owned());
            }
            if in_this.insert(&field.name) {
                self.seen
                    .get_mut(&field.name)
                    .expect("entry was just made")
                    .present += 1;
            }
        }
    }

    /// Adds the columns of one Parquet file: `(name, type, nullable)`.
    pub(super) fn add_schema(&mut self, columns: &[(String, String, bool)]) {
        self.records += 1;
        for (name, data_type, nullable) in columns {
            let seen = self.entry(name);
            seen.typing = Some(Typing::Union);
            seen.types.insert(data_type.clone());
            seen.nullable |= *nullable;
            seen.present += 1;
        }
    }

    fn entry(&mut self, name: &str) -> &mut Seen {
        if !self.seen.contains_key(name) {
            self.order.push(name.to_owned());
        }
        self.seen.entry(name.to_owned()).or_default()
    }

    /// Whether nothing was added.
    pub(super) fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// The columns, ordinals from 1, followed by one `Widened` column per partition key not
    /// already a field (`partitions` holds each key's values over the objects of the prefix, one
    /// entry per object, `None` where the object lacks the key).
    pub(super) fn columns(self, partitions: &[(String, Vec<Option<String>>)]) -> Vec<ColumnSchema> {
        let Shape {
            records,
            order,
            mut seen,
        } = self;
        let mut columns: Vec<ColumnSchema> = Vec::new();
        for name in order {
            let Some(seen) = seen.remove(&name) else {
                continue;
            };
            let data_type = match seen.typing.unwrap_or(Typing::Union) {
                Typing::Union if seen.types.is_empty() => "null".to_owned(),
                Typing::Union => seen.types.iter().cloned().collect::<Vec<_>>().join("|"),
                Typing::Widened => widen(seen.types.iter().map(String::as_str)).to_owned(),
            };
            let mut column = ColumnSchema::new(name, data_type, columns.len() as u32 + 1);
            column.nullable = seen.nullable || seen.present < records;
            columns.push(column);
        }
        for (key, values) in partitions {
            if columns.iter().any(|c| &c.name == key) {
                continue;
            }
            let kinds = values.iter().flatten().map(|v| scalar_kind(v));
            let mut column = ColumnSchema::new(key.clone(), widen(kinds), columns.len() as u32 + 1);
            column.nullable = values.iter().any(Option::is_none);
            column.comment = Some("partition key".to_owned());
            columns.push(column);
        }
        columns
    }
}

/// The one type that holds every value of the kinds seen (`null` ignored).
fn widen<'a>(kinds: impl IntoIterator<Item = &'a str>) -> &'static str {
    let kinds: BTreeSet<&str> = kinds.into_iter().filter(|k| *k != "null").collect();
    let only = |allowed: &[&str]| kinds.iter().all(|k| allowed.contains(k));
    match kinds.len() {
        0 => "string",
        1 => match kinds.iter().next().copied().unwrap_or("string") {
            "integer" => "integer",
            "number" => "number",
            "boolean" => "boolean",
            "date" => "date",
            "timestamp" => "timestamp",
            _ => "string",
        },
        _ if only(&["integer", "number"]) => "number",
        _ if only(&["date", "timestamp"]) => "timestamp",
        _ => "string",
    }
}

#[cfg(test)]
mod tests {
    use super::super::records::Field;
    use super::*;

    fn field(name: &str, kind: &'static str) -> Field {
        Field {
            name: name.into(),
            kind,
            text: None,
        }
    }

    fn summary(columns: &[ColumnSchema]) -> Vec<(&str, &str, bool)> {
        columns
            .iter()
            .map(|c| (c.name.as_str(), c.data_type.as_str(), c.nullable))
            .collect()
    }

    #[test]
    fn json_types_are_joined_and_missing_fields_nullable() {
        let mut shape = Shape::default();
        shape.add_record(
            &vec![field("id", "number"), field("a.b", "string")],
            Typing::Union,
        );
        shape.add_record(
            &vec![field("id", "number"), field("a.b", "null")],
            Typing::Union,
        );
        shape.add_record(
            &vec![field("id", "string"), field("c", "boolean")],
            Typing::Union,
        );
        assert_eq!(
            summary(&shape.columns(&[])),
            [
                ("id", "number|string", false),
                ("a.b", "null|string", true),
                ("c", "boolean", true),
            ]
        );
    }

    #[test]
    fn csv_types_are_widened() {
        let mut shape = Shape::default();
        shape.add_record(
            &vec![
                field("n", "integer"),
                field("d", "date"),
                field("s", "integer"),
            ],
            Typing::Widened,
        );
        shape.add_record(
            &vec![
                field("n", "number"),
                field("d", "timestamp"),
                field("s", "null"),
            ],
            Typing::Widened,
        );
        shape.add_record(
            &vec![
                field("n", "integer"),
                field("d", "date"),
                field("s", "boolean"),
            ],
            Typing::Widened,
        );
        assert_eq!(
            summary(&shape.columns(&[])),
            [
                ("n", "number", false),
                ("d", "timestamp", false),
                ("s", "string", true),
            ]
        );
    }

    #[test]
    fn partition_keys_follow_the_fields() {
        let mut shape = Shape::default();
        shape.add_record(&vec![field("id", "number")], Typing::Union);
        let partitions = vec![
            (
                "date".to_owned(),
                vec![Some("2024-01-01".to_owned()), Some("2024-01-02".to_owned())],
            ),
            ("region".to_owned(), vec![Some("eu".to_owned()), None]),
            (
                "id".to_owned(),
                vec![Some("1".to_owned()), Some("2".to_owned())],
            ),
        ];
        let columns = shape.columns(&partitions);
        assert_eq!(
            summary(&columns),
            [
                ("id", "number", false),
                ("date", "date", false),
                ("region", "string", true),
            ]
        );
        assert_eq!(columns[1].ordinal, 2);
        assert_eq!(columns[1].comment.as_deref(), Some("partition key"));
    }

    #[test]
    fn parquet_schemas_merge_across_files() {
        let mut shape = Shape::default();
        shape.add_schema(&[
            ("id".into(), "int64".into(), false),
            ("email".into(), "string".into(), true),
        ]);
        shape.add_schema(&[
            ("id".into(), "int32".into(), false),
            ("score".into(), "double".into(), false),
        ]);
        assert_eq!(
            summary(&shape.columns(&[])),
            [
                ("id", "int32|int64", false),
                ("email", "string", true),
                ("score", "double", true),
            ]
        );
    }
}
