//! The catalog statements discovery sends, and how their rows become asset schemas.
//!
//! Per account: `SHOW DATABASES` (names and comments). Per database, through its
//! `INFORMATION_SCHEMA`: `SCHEMATA`, `TABLES` (kind, `ROW_COUNT`, comment), `VIEWS` (the
//! definitions, for lineage), `SHOW PRIMARY KEYS IN DATABASE` and `SHOW IMPORTED KEYS IN
//! DATABASE` (foreign keys, for lineage) — one statement each, however many tables there are.
//! Columns come from `INFORMATION_SCHEMA.COLUMNS` one statement per schema (or per batch of a
//! schema's tables when the scope takes only some of them), never one per table. `INFORMATION_SCHEMA` itself is left out; Snowflake has no indexes to report.

use super::api::{quote_ident, ApiError, ResultSet, Statement};
use domain::discovery::{
    AssetKind, AssetPath, AssetPathError, AssetSchema, ColumnSchema, ForeignKey,
};
use std::collections::{BTreeMap, HashMap};

pub(crate) fn show_databases() -> Statement {
    Statement::new("databases", "SHOW DATABASES")
}

pub(crate) fn schemata(database: &str) -> Statement {
    Statement::new(
        "schemata",
        format!(
            "SELECT SCHEMA_NAME, COMMENT FROM {}.INFORMATION_SCHEMA.SCHEMATA \
             WHERE SCHEMA_NAME <> 'INFORMATION_SCHEMA' ORDER BY SCHEMA_NAME",
            quote_ident(database)
        ),
    )
}

pub(crate) fn tables(database: &str) -> Statement {
    Statement::new(
        "tables",
        format!(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ROW_COUNT, COMMENT \
             FROM {}.INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA <> 'INFORMATION_SCHEMA' \
             ORDER BY TABLE_SCHEMA, TABLE_NAME",
            quote_ident(database)
        ),
    )
}

pub(crate) fn views(database: &str) -> Statement {
    Statement::new(
        "views",
        format!(
            "SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION \
             FROM {}.INFORMATION_SCHEMA.VIEWS WHERE TABLE_SCHEMA <> 'INFORMATION_SCHEMA' \
             ORDER BY TABLE_SCHEMA, TABLE_NAME",
            quote_ident(database)
        ),
    )
}

pub(crate) fn primary_keys(database: &str) -> Statement {
    Statement::new(
        "primary_keys",
        format!("SHOW PRIMARY KEYS IN DATABASE {}", quote_ident(database)),
    )
}

/// The foreign keys of a database's tables. Snowflake does not enforce them, but models declare
/// them, and they are the joins the data was designed for.
pub(crate) fn imported_keys(database: &str) -> Statement {
    Statement::new(
        "imported_keys",
        format!("SHOW IMPORTED KEYS IN DATABASE {}", quote_ident(database)),
    )
}

/// The columns of `schema`'s tables: all of them when `tables` is `None`, else those named.
pub(crate) fn columns(database: &str, schema: &str, tables: Option<&[String]>) -> Statement {
    let mut sql = format!(
        "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, \
         NUMERIC_PRECISION, NUMERIC_SCALE, IS_NULLABLE, COLUMN_DEFAULT, IS_IDENTITY, \
         IDENTITY_START, IDENTITY_INCREMENT, COMMENT \
         FROM {}.INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ?",
        quote_ident(database)
    );
    if let Some(tables) = tables {
        let placeholders = vec!["?"; tables.len()].join(", ");
        sql.push_str(&format!(" AND TABLE_NAME IN ({placeholders})"));
    }
    sql.push_str(" ORDER BY TABLE_NAME, ORDINAL_POSITION");
    let mut statement = Statement::new("columns", sql).bind(schema);
    for table in tables.unwrap_or_default() {
        statement = statement.bind(table.as_str());
    }
    statement
}

/// A database of `SHOW DATABASES`.
#[derive(Debug, Clone)]
pub(crate) struct Database {
    pub name: String,
    pub comment: Option<String>,
}

/// A schema of `SCHEMATA`.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub name: String,
    pub comment: Option<String>,
}

/// A table or view of `TABLES`.
#[derive(Debug, Clone)]
pub(crate) struct Relation {
    pub schema: String,
    pub name: String,
    pub kind: AssetKind,
    pub comment: Option<String>,
    /// `ROW_COUNT`; none for views.
    pub row_estimate: Option<i64>,
}

impl Relation {
    pub(crate) fn path(&self, database: &str) -> Result<AssetPath, AssetPathError> {
        AssetPath::new([database, self.schema.as_str(), self.name.as_str()])
    }
}

/// Reads named columns of a result's rows.
struct Rows<'r> {
    result: &'r ResultSet,
}

impl<'r> Rows<'r> {
    /// The positions of `names` in the result.
    fn positions<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N], ApiError> {
        let mut positions = [0; N];
        for (slot, name) in positions.iter_mut().zip(names) {
            *slot = self.result.position(name)?;
        }
        Ok(positions)
    }
}

fn required(row: &[Option<String>], at: usize, what: &str) -> Result<String, ApiError> {
    row.get(at)
        .cloned()
        .flatten()
        .ok_or_else(|| ApiError::Malformed(format!("a catalog row without {what}")))
}

fn optional(row: &[Option<String>], at: usize) -> Option<String> {
    row.get(at).cloned().flatten().filter(|v| !v.is_empty())
}

pub(crate) fn decode_databases(result: &ResultSet) -> Result<Vec<Database>, ApiError> {
    let [name, comment] = Rows { result }.positions(["name", "comment"])?;
    result
        .rows
        .iter()
        .map(|row| {
            Ok(Database {
                name: required(row, name, "a database name")?,
                comment: optional(row, comment),
            })
        })
        .collect()
}

pub(crate) fn decode_schemata(result: &ResultSet) -> Result<Vec<Schema>, ApiError> {
    let [name, comment] = Rows { result }.positions(["SCHEMA_NAME", "COMMENT"])?;
    result
        .rows
        .iter()
        .map(|row| {
            Ok(Schema {
                name: required(row, name, "SCHEMA_NAME")?,
                comment: optional(row, comment),
            })
        })
        .collect()
}

pub(crate) fn decode_tables(result: &ResultSet) -> Result<Vec<Relation>, ApiError> {
    let [schema, name, kind, rows, comment] = Rows { result }.positions([
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "TABLE_TYPE",
        "ROW_COUNT",
        "COMMENT",
    ])?;
    result
        .rows
        .iter()
        .map(|row| {
            let table_type = required(row, kind, "TABLE_TYPE")?;
            // `VIEW` and `MATERIALIZED VIEW` are views; base, external, dynamic, event, hybrid
            // and temporary tables hold rows of their own.
            let kind = if table_type.to_ascii_uppercase().ends_with("VIEW") {
                AssetKind::View
            } else {
                AssetKind::Table
            };
            Ok(Relation {
                schema: required(row, schema, "TABLE_SCHEMA")?,
                name: required(row, name, "TABLE_NAME")?,
                kind,
                comment: optional(row, comment),
                row_estimate: optional(row, rows).and_then(|r| r.parse::<i64>().ok()),
            })
        })
        .collect()
}

/// `(schema, view) → definition`; secure views show no definition to roles that do not own
/// them.
pub(crate) fn decode_views(
    result: &ResultSet,
) -> Result<HashMap<(String, String), String>, ApiError> {
    let [schema, name, definition] =
        Rows { result }.positions(["TABLE_SCHEMA", "TABLE_NAME", "VIEW_DEFINITION"])?;
    let mut views = HashMap::new();
    for row in &result.rows {
        if let Some(sql) = optional(row, definition) {
            views.insert(
                (
                    required(row, schema, "TABLE_SCHEMA")?,
                    required(row, name, "TABLE_NAME")?,
                ),
                sql,
            );
        }
    }
    Ok(views)
}

/// `(schema, table) → primary key columns` in key order.
pub(crate) fn decode_primary_keys(
    result: &ResultSet,
) -> Result<HashMap<(String, String), Vec<String>>, ApiError> {
    let [schema, table, column, sequence] =
        Rows { result }.positions(["schema_name", "table_name", "column_name", "key_sequence"])?;
    let mut keyed: HashMap<(String, String), Vec<(u32, String)>> = HashMap::new();
    for row in &result.rows {
        let position = optional(row, sequence)
            .and_then(|s| s.parse().ok())
            .unwrap_or(u32::MAX);
        keyed
            .entry((
                required(row, schema, "schema_name")?,
                required(row, table, "table_name")?,
            ))
            .or_default()
            .push((position, required(row, column, "column_name")?));
    }
    Ok(keyed
        .into_iter()
        .map(|(key, mut columns)| {
            columns.sort();
            (key, columns.into_iter().map(|(_, name)| name).collect())
        })
        .collect())
}

/// `(schema, table) → foreign keys` of `SHOW IMPORTED KEYS`, sorted by name, each key's
/// columns in key order; a referenced table may be in another database of the account.
pub(crate) fn decode_imported_keys(
    result: &ResultSet,
) -> Result<HashMap<(String, String), Vec<ForeignKey>>, ApiError> {
    let [pk_database, pk_schema, pk_table, pk_column, fk_schema, fk_table, fk_column, sequence, name] =
        Rows { result }.positions([
            "pk_database_name",
            "pk_schema_name",
            "pk_table_name",
            "pk_column_name",
            "fk_schema_name",
            "fk_table_name",
            "fk_column_name",
            "key_sequence",
            "fk_name",
        ])?;
    type Pairs = Vec<(u32, String, String)>;
    let mut keys: BTreeMap<(String, String, String), (AssetPath, Pairs)> = BTreeMap::new();
    for row in &result.rows {
        let position = optional(row, sequence)
            .and_then(|s| s.parse().ok())
            .unwrap_or(u32::MAX);
        let referenced = [
            required(row, pk_database, "pk_database_name")?,
            required(row, pk_schema, "pk_schema_name")?,
            required(row, pk_table, "pk_table_name")?,
        ];
        let referenced = AssetPath::new(referenced.iter().map(String::as_str)).map_err(|err| {
            ApiError::Malformed(format!("a foreign key referencing {referenced:?}: {err}"))
        })?;
        keys.entry((
            required(row, fk_schema, "fk_schema_name")?,
            required(row, fk_table, "fk_table_name")?,
            required(row, name, "fk_name")?,
        ))
        .or_insert_with(|| (referenced, Vec::new()))
        .1
        .push((
            position,
            required(row, fk_column, "fk_column_name")?,
            required(row, pk_column, "pk_column_name")?,
        ));
    }
    let mut by_table: HashMap<(String, String), Vec<ForeignKey>> = HashMap::new();
    for ((schema, table, name), (referenced, mut pairs)) in keys {
        pairs.sort();
        let (columns, referenced_columns) = pairs.into_iter().map(|(_, c, r)| (c, r)).unzip();
        by_table
            .entry((schema, table))
            .or_default()
            .push(ForeignKey {
                name,
                columns,
                referenced,
                referenced_columns,
            });
    }
    Ok(by_table)
}

/// `table → columns` (in ordinal order) of one `COLUMNS` statement.
pub(crate) fn decode_columns(
    result: &ResultSet,
) -> Result<HashMap<String, Vec<ColumnSchema>>, ApiError> {
    let [table, name, ordinal, data_type, length, precision, scale, nullable, default] =
        Rows { result }.positions([
            "TABLE_NAME",
            "COLUMN_NAME",
            "ORDINAL_POSITION",
            "DATA_TYPE",
            "CHARACTER_MAXIMUM_LENGTH",
            "NUMERIC_PRECISION",
            "NUMERIC_SCALE",
            "IS_NULLABLE",
            "COLUMN_DEFAULT",
        ])?;
    let [identity, start, increment, comment] = Rows { result }.positions([
        "IS_IDENTITY",
        "IDENTITY_START",
        "IDENTITY_INCREMENT",
        "COMMENT",
    ])?;
    let mut columns: HashMap<String, Vec<ColumnSchema>> = HashMap::new();
    for row in &result.rows {
        let default = if optional(row, identity).is_some_and(|i| i.eq_ignore_ascii_case("YES")) {
            Some(format!(
                "IDENTITY START {} INCREMENT {}",
                optional(row, start).unwrap_or_else(|| "1".to_owned()),
                optional(row, increment).unwrap_or_else(|| "1".to_owned())
            ))
        } else {
            optional(row, default)
        };
        let column = ColumnSchema {
            name: required(row, name, "COLUMN_NAME")?,
            data_type: type_name(
                &required(row, data_type, "DATA_TYPE")?,
                optional(row, length),
                optional(row, precision),
                optional(row, scale),
            ),
            nullable: optional(row, nullable).is_none_or(|n| n.eq_ignore_ascii_case("YES")),
            default,
            primary_key: false,
            ordinal: optional(row, ordinal)
                .and_then(|o| o.parse().ok())
                .unwrap_or(0),
            comment: optional(row, comment),
            type_ref: None,
        };
        columns
            .entry(required(row, table, "TABLE_NAME")?)
            .or_default()
            .push(column);
    }
    Ok(columns)
}

/// The type as Snowflake's DDL writes it: `NUMBER(38,0)`, `VARCHAR(255)`, `BINARY(16)`, the
/// bare name otherwise (`TEXT` is `VARCHAR` in `DESCRIBE` and `CREATE` statements).
fn type_name(
    data_type: &str,
    length: Option<String>,
    precision: Option<String>,
    scale: Option<String>,
) -> String {
    let upper = data_type.to_ascii_uppercase();
    match (upper.as_str(), length, precision) {
        ("TEXT", Some(length), _) => format!("VARCHAR({length})"),
        ("BINARY", Some(length), _) => format!("BINARY({length})"),
        ("NUMBER", _, Some(precision)) => {
            format!("NUMBER({precision},{})", scale.as_deref().unwrap_or("0"))
        }
        _ => upper,
    }
}

/// The schema of one relation from what the statements said about it, normalized.
pub(crate) fn assemble(
    database: &str,
    relation: &Relation,
    columns: Vec<ColumnSchema>,
    keys: (Option<&Vec<String>>, Option<&Vec<ForeignKey>>),
    view_definition: Option<String>,
) -> Result<AssetSchema, AssetPathError> {
    let (primary_key, foreign_keys) = keys;
    let mut asset = AssetSchema::new(relation.kind, relation.path(database)?);
    asset.columns = columns;
    if let Some(key) = primary_key {
        for column in &mut asset.columns {
            column.primary_key = key.contains(&column.name);
        }
    }
    asset.foreign_keys = foreign_keys.cloned().unwrap_or_default();
    asset.comment = relation.comment.clone();
    asset.row_estimate = relation.row_estimate;
    asset.view_definition = view_definition;
    Ok(asset.normalized())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imported_keys_group_by_constraint_in_key_order() {
        use super::super::api::ResultColumn;
        let names = [
            "fk_name",
            "pk_database_name",
            "pk_schema_name",
            "pk_table_name",
            "pk_column_name",
            "fk_schema_name",
            "fk_table_name",
            "fk_column_name",
            "key_sequence",
        ];
        let row = |cells: [&str; 9]| cells.map(|c| Some(c.to_owned())).to_vec();
        let result = ResultSet {
            columns: names
                .iter()
                .map(|name| ResultColumn {
                    name: (*name).to_owned(),
                    kind: "text".into(),
                })
                .collect(),
            rows: vec![
                // A two-column key, its second column first.
                row([
                    "FK_LINE_ORDER",
                    "SHOP",
                    "PUBLIC",
                    "ORDERS",
                    "LINE",
                    "PUBLIC",
                    "ITEMS",
                    "ORDER_LINE",
                    "2",
                ]),
                row([
                    "FK_LINE_ORDER",
                    "SHOP",
                    "PUBLIC",
                    "ORDERS",
                    "ID",
                    "PUBLIC",
                    "ITEMS",
                    "ORDER_ID",
                    "1",
                ]),
                // Another database of the account.
                row([
                    "FK_ITEM_SKU",
                    "CATALOG",
                    "CORE",
                    "SKUS",
                    "SKU",
                    "PUBLIC",
                    "ITEMS",
                    "SKU",
                    "1",
                ]),
            ],
            partitions: 1,
        };
        let keys = decode_imported_keys(&result).unwrap();
        let items = &keys[&("PUBLIC".to_owned(), "ITEMS".to_owned())];
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            items,
            &[
                ForeignKey {
                    name: "FK_ITEM_SKU".into(),
                    columns: strings(&["SKU"]),
                    referenced: AssetPath::parse("CATALOG.CORE.SKUS").unwrap(),
                    referenced_columns: strings(&["SKU"]),
                },
                ForeignKey {
                    name: "FK_LINE_ORDER".into(),
                    columns: strings(&["ORDER_ID", "ORDER_LINE"]),
                    referenced: AssetPath::parse("SHOP.PUBLIC.ORDERS").unwrap(),
                    referenced_columns: strings(&["ID", "LINE"]),
                },
            ]
        );
        let relation = Relation {
            schema: "PUBLIC".into(),
            name: "ITEMS".into(),
            kind: AssetKind::Table,
            comment: None,
            row_estimate: None,
        };
        let asset = assemble("SHOP", &relation, Vec::new(), (None, Some(items)), None).unwrap();
        let edges = asset.foreign_key_lineage();
        assert_eq!(edges.len(), 2);
        assert_eq!(edges[0].from.to_string(), "CATALOG.CORE.SKUS");
        assert_eq!(edges[1].to_columns, strings(&["ORDER_ID", "ORDER_LINE"]));
    }

    #[test]
    fn type_names_carry_their_parameters() {
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(type_name("NUMBER", None, s("38"), s("2")), "NUMBER(38,2)");
        assert_eq!(type_name("TEXT", s("255"), None, None), "VARCHAR(255)");
        assert_eq!(type_name("BINARY", s("16"), None, None), "BINARY(16)");
        assert_eq!(
            type_name("TIMESTAMP_NTZ", None, None, None),
            "TIMESTAMP_NTZ"
        );
        assert_eq!(type_name("variant", None, None, None), "VARIANT");
    }

    #[test]
    fn names_are_quoted_and_values_bound() {
        let statement = columns(
            "My \"DB\"",
            "PUBLIC",
            Some(&["A".to_owned(), "b'c".to_owned()]),
        );
        assert!(statement
            .sql
            .contains("FROM \"My \"\"DB\"\"\".INFORMATION_SCHEMA.COLUMNS"));
        assert!(statement
            .sql
            .contains("WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?, ?)"));
        assert_eq!(statement.bindings, ["PUBLIC", "A", "b'c"]);
    }
}
