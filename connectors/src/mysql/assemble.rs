//! Turning the catalog rows of one batch into [`AssetSchema`]s: columns, primary-key flags,
//! foreign keys and indexes grouped per table, view definitions attached to their views. Pure,
//! so the grouping is tested without a server.

use super::catalog::{ColumnRow, IndexRow, KeyRow, TableEntry};
use domain::discovery::{AssetPath, AssetSchema, ForeignKey, IndexSchema};
use std::collections::{BTreeMap, HashMap};

/// The catalog rows fetched for one batch of tables and views of one schema.
#[derive(Debug, Default)]
pub(super) struct BatchRows {
    pub columns: Vec<ColumnRow>,
    pub keys: Vec<KeyRow>,
    pub indexes: Vec<IndexRow>,
    pub views: Vec<(String, Option<String>)>,
}

/// The asset path of `[schema]` or `[schema, table]`; `None` (and a warning) when the server
/// gave a name no asset path can hold (empty, or longer than any real identifier).
pub(super) fn asset_path(segments: &[&str]) -> Option<AssetPath> {
    match AssetPath::new(segments.iter().copied()) {
        Ok(path) => Some(path),
        Err(error) => {
            tracing::warn!(?segments, %error, "skipping an object whose name is not a valid asset path");
            None
        }
    }
}

/// The assets of `entries` (all of schema `schema`) with their rows applied, normalized.
pub(super) fn assets(schema: &str, entries: Vec<TableEntry>, rows: BatchRows) -> Vec<AssetSchema> {
    let mut by_name: BTreeMap<String, AssetSchema> = BTreeMap::new();
    for entry in entries {
        let Some(path) = asset_path(&[schema, &entry.name]) else {
            continue;
        };
        let mut asset = AssetSchema::new(entry.kind, path);
        asset.comment = entry.comment;
        asset.row_estimate = entry.row_estimate;
        asset.size_bytes = entry.size_bytes;
        by_name.insert(entry.name, asset);
    }

    for row in rows.columns {
        if let Some(asset) = by_name.get_mut(&row.table) {
            asset.columns.push(row.column);
        }
    }

    // Constraint columns arrive in key order; grouping keeps that order.
    let mut foreign_keys: BTreeMap<(String, String), ForeignKey> = BTreeMap::new();
    for row in rows.keys {
        let Some(asset) = by_name.get_mut(&row.table) else {
            continue;
        };
        match row.referenced {
            None => {
                if let Some(column) = asset.columns.iter_mut().find(|c| c.name == row.column) {
                    column.primary_key = true;
                }
            }
            Some((ref_schema, ref_table, ref_column)) => {
                let key = (row.table.clone(), row.constraint.clone());
                if !foreign_keys.contains_key(&key) {
                    let Some(referenced) = asset_path(&[&ref_schema, &ref_table]) else {
                        continue;
                    };
                    foreign_keys.insert(
                        key.clone(),
                        ForeignKey {
                            name: row.constraint,
                            columns: Vec::new(),
                            referenced,
                            referenced_columns: Vec::new(),
                        },
                    );
                }
                let foreign_key = foreign_keys.get_mut(&key).expect("inserted above");
                foreign_key.columns.push(row.column);
                foreign_key.referenced_columns.push(ref_column);
            }
        }
    }
    for ((table, _), foreign_key) in foreign_keys {
        if let Some(asset) = by_name.get_mut(&table) {
            asset.foreign_keys.push(foreign_key);
        }
    }

    let mut indexes: BTreeMap<(String, String), IndexSchema> = BTreeMap::new();
    for row in rows.indexes {
        indexes
            .entry((row.table, row.index.clone()))
            .or_insert_with(|| IndexSchema {
                primary: row.index == "PRIMARY",
                name: row.index,
                columns: Vec::new(),
                unique: row.unique,
                method: row.method.clone(),
            })
            .columns
            .push(row.column);
    }
    for ((table, _), index) in indexes {
        if let Some(asset) = by_name.get_mut(&table) {
            asset.indexes.push(index);
        }
    }

    let definitions: HashMap<String, Option<String>> = rows.views.into_iter().collect();
    for (name, asset) in by_name.iter_mut() {
        if let Some(definition) = definitions.get(name) {
            asset.view_definition = definition.clone();
        }
    }

    by_name.into_values().map(AssetSchema::normalized).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::discovery::{AssetKind, ColumnSchema};

    fn entry(name: &str, kind: AssetKind) -> TableEntry {
        TableEntry {
            schema: "shop".into(),
            name: name.into(),
            kind,
            comment: None,
            row_estimate: Some(3),
            size_bytes: Some(16_384),
        }
    }

    fn column(table: &str, name: &str, ordinal: u32) -> ColumnRow {
        ColumnRow {
            table: table.into(),
            column: ColumnSchema::new(name, "int(11)", ordinal),
        }
    }

    #[test]
    fn rows_are_grouped_per_table_in_key_order() {
        let key = |constraint: &str, column: &str, referenced: Option<(&str, &str)>| KeyRow {
            table: "lines".into(),
            constraint: constraint.into(),
            column: column.into(),
            referenced: referenced.map(|(t, c)| ("shop".into(), t.into(), c.into())),
        };
        let rows = BatchRows {
            columns: vec![
                column("lines", "order_id", 1),
                column("lines", "line_no", 2),
                column("lines", "sku", 3),
                column("v", "order_id", 1),
            ],
            keys: vec![
                key("PRIMARY", "order_id", None),
                key("PRIMARY", "line_no", None),
                key("fk_order", "order_id", Some(("orders", "id"))),
                key("fk_stock", "sku", Some(("stock", "sku"))),
                key("fk_stock", "order_id", Some(("stock", "order_id"))),
            ],
            indexes: vec![
                IndexRow {
                    table: "lines".into(),
                    index: "PRIMARY".into(),
                    unique: true,
                    column: "order_id".into(),
                    method: Some("BTREE".into()),
                },
                IndexRow {
                    table: "lines".into(),
                    index: "PRIMARY".into(),
                    unique: true,
                    column: "line_no".into(),
                    method: Some("BTREE".into()),
                },
            ],
            views: vec![("v".into(), Some("select 1".into()))],
        };
        let assets = assets(
            "shop",
            vec![
                entry("lines", AssetKind::Table),
                entry("v", AssetKind::View),
            ],
            rows,
        );
        let lines = &assets[0];
        assert_eq!(lines.path.to_string(), "shop.lines");
        let pk: Vec<&str> = lines
            .columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(pk, ["order_id", "line_no"]);
        assert_eq!(lines.foreign_keys.len(), 2);
        let stock = &lines.foreign_keys[1];
        assert_eq!(stock.columns, ["sku", "order_id"]);
        assert_eq!(stock.referenced_columns, ["sku", "order_id"]);
        assert_eq!(stock.referenced.to_string(), "shop.stock");
        assert_eq!(lines.indexes[0].columns, ["order_id", "line_no"]);
        assert!(lines.indexes[0].primary && lines.indexes[0].unique);
        let view = &assets[1];
        assert_eq!(view.kind, AssetKind::View);
        assert_eq!(view.view_definition.as_deref(), Some("select 1"));
        assert_eq!(view.columns.len(), 1);
        assert!(lines.validate().is_ok() && view.validate().is_ok());
    }
}
