//! The `information_schema` queries of a MySQL / MariaDB discovery, and their rows.
//!
//! Every per-table query takes a *batch* of tables of one schema
//! (`WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?, …)`), so a discovery runs a handful of queries
//! per batch, never one per table. `TABLE_SCHEMA = ?` is an equality on purpose: both servers
//! open only that schema's tables for `information_schema` look-ups keyed on a constant schema.
//!
//! Values are read with `try_get_unchecked`: MySQL 8 reports several `information_schema`
//! columns with binary collations (or as `BLOB`/`LONGTEXT`), which sqlx's type check refuses for
//! `String` although the bytes are UTF-8 text; integers come back in widths that differ between
//! servers and versions, which the unchecked decoders read whatever the width.

use domain::discovery::{AssetKind, ColumnSchema};
use sqlx::mysql::{MySqlPool, MySqlRow};
use sqlx::Row;

/// Schemas of the server itself, never governed data.
const SYSTEM_SCHEMAS: [&str; 4] = ["mysql", "information_schema", "performance_schema", "sys"];

/// One table or view as `information_schema.TABLES` lists it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TableEntry {
    pub schema: String,
    pub name: String,
    pub kind: AssetKind,
    pub comment: Option<String>,
    pub row_estimate: Option<i64>,
    /// `DATA_LENGTH + INDEX_LENGTH` of a table.
    pub size_bytes: Option<i64>,
}

/// One column of a table in a batch.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ColumnRow {
    pub table: String,
    /// `primary_key` is left false here: it comes from the key rows.
    pub column: ColumnSchema,
}

/// One column of a primary key or a foreign key.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct KeyRow {
    pub table: String,
    pub constraint: String,
    pub column: String,
    /// `(schema, table, column)` the column references; `None` for the primary key.
    pub referenced: Option<(String, String, String)>,
}

/// One column of an index, in key order.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct IndexRow {
    pub table: String,
    pub index: String,
    pub unique: bool,
    pub column: String,
    /// `INDEX_TYPE`: `BTREE`, `HASH`, `FULLTEXT`, `SPATIAL`.
    pub method: Option<String>,
}

/// The schemas to discover: every non-system schema, or only `database` when the source names
/// one.
pub(super) async fn list_schemas(
    pool: &MySqlPool,
    database: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    let mut sql = format!(
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ({})",
        placeholders(SYSTEM_SCHEMAS.len())
    );
    if database.is_some() {
        sql.push_str(" AND SCHEMA_NAME = ?");
    }
    sql.push_str(" ORDER BY SCHEMA_NAME");
    let mut query = sqlx::query(&sql);
    for schema in SYSTEM_SCHEMAS {
        query = query.bind(schema);
    }
    if let Some(database) = database {
        query = query.bind(database);
    }
    query
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| required_text(row, 0))
        .collect()
}

/// Every table and view of `schemas`, in one query. Sequences, temporary tables and system
/// views are left out: they hold no governed data.
pub(super) async fn list_tables(
    pool: &MySqlPool,
    schemas: &[String],
) -> Result<Vec<TableEntry>, sqlx::Error> {
    let sql = format!(
        "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_COMMENT, TABLE_ROWS, \
         CAST(DATA_LENGTH + INDEX_LENGTH AS UNSIGNED) \
         FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ({}) \
         ORDER BY TABLE_SCHEMA, TABLE_NAME",
        placeholders(schemas.len())
    );
    let mut query = sqlx::query(&sql);
    for schema in schemas {
        query = query.bind(schema);
    }
    let mut entries = Vec::new();
    for row in query.fetch_all(pool).await? {
        let kind = match text(&row, 2)?.as_deref() {
            Some("BASE TABLE" | "SYSTEM VERSIONED") => AssetKind::Table,
            Some("VIEW") => AssetKind::View,
            _ => continue,
        };
        let is_view = kind == AssetKind::View;
        entries.push(TableEntry {
            schema: required_text(&row, 0)?,
            name: required_text(&row, 1)?,
            kind,
            // Both servers put the word `VIEW` in a view's table comment.
            comment: if is_view {
                None
            } else {
                non_empty(text(&row, 3)?)
            },
            row_estimate: if is_view {
                None
            } else {
                unsigned(&row, 4)?.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
            },
            size_bytes: if is_view {
                None
            } else {
                unsigned(&row, 5)?.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
            },
        });
    }
    Ok(entries)
}

/// The columns of the tables `names` of `schema`.
pub(super) async fn columns(
    pool: &MySqlPool,
    schema: &str,
    names: &[String],
) -> Result<Vec<ColumnRow>, sqlx::Error> {
    // COLUMN_KEY is not read: it shows `PRI` for the first UNIQUE NOT NULL index of a table
    // without a primary key, so primary keys come from KEY_COLUMN_USAGE instead.
    let sql = format!(
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, \
         ORDINAL_POSITION, COLUMN_COMMENT \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ({}) \
         ORDER BY TABLE_NAME, ORDINAL_POSITION",
        placeholders(names.len())
    );
    let mut rows = Vec::new();
    for row in bind_batch(&sql, schema, names).fetch_all(pool).await? {
        let ordinal = unsigned(&row, 5)?.unwrap_or(0);
        rows.push(ColumnRow {
            table: required_text(&row, 0)?,
            column: ColumnSchema {
                name: required_text(&row, 1)?,
                data_type: required_text(&row, 2)?,
                nullable: text(&row, 3)?.as_deref() == Some("YES"),
                default: column_default(text(&row, 4)?),
                primary_key: false,
                ordinal: u32::try_from(ordinal).unwrap_or(u32::MAX),
                comment: non_empty(text(&row, 6)?),
                type_ref: None,
            },
        });
    }
    Ok(rows)
}

/// The primary-key and foreign-key columns of the tables `names` of `schema`, each constraint's
/// columns in key order.
pub(super) async fn key_columns(
    pool: &MySqlPool,
    schema: &str,
    names: &[String],
) -> Result<Vec<KeyRow>, sqlx::Error> {
    let sql = format!(
        "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, \
         REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME \
         FROM information_schema.KEY_COLUMN_USAGE \
         WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ({}) \
         AND (CONSTRAINT_NAME = 'PRIMARY' OR REFERENCED_TABLE_NAME IS NOT NULL) \
         ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
        placeholders(names.len())
    );
    let mut rows = Vec::new();
    for row in bind_batch(&sql, schema, names).fetch_all(pool).await? {
        let referenced = match (text(&row, 3)?, text(&row, 4)?, text(&row, 5)?) {
            (Some(schema), Some(table), Some(column)) => Some((schema, table, column)),
            _ => None,
        };
        rows.push(KeyRow {
            table: required_text(&row, 0)?,
            constraint: required_text(&row, 1)?,
            column: required_text(&row, 2)?,
            referenced,
        });
    }
    Ok(rows)
}

/// The index columns of the tables `names` of `schema`, each index's columns in key order.
pub(super) async fn index_columns(
    pool: &MySqlPool,
    schema: &str,
    names: &[String],
) -> Result<Vec<IndexRow>, sqlx::Error> {
    let sql = format!(
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, INDEX_TYPE \
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ({}) \
         ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        placeholders(names.len())
    );
    let mut rows = Vec::new();
    for row in bind_batch(&sql, schema, names).fetch_all(pool).await? {
        rows.push(IndexRow {
            table: required_text(&row, 0)?,
            index: required_text(&row, 1)?,
            unique: unsigned(&row, 2)? == Some(0),
            // MySQL 8 functional index parts have no column; they are shown as such.
            column: text(&row, 3)?.unwrap_or_else(|| "(expression)".to_owned()),
            method: non_empty(text(&row, 4)?),
        });
    }
    Ok(rows)
}

/// The SQL of the views `names` of `schema`, as the server stores it (empty when the user may
/// not see it, which becomes `None`).
pub(super) async fn view_definitions(
    pool: &MySqlPool,
    schema: &str,
    names: &[String],
) -> Result<Vec<(String, Option<String>)>, sqlx::Error> {
    let sql = format!(
        "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS \
         WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ({})",
        placeholders(names.len())
    );
    let mut rows = Vec::new();
    for row in bind_batch(&sql, schema, names).fetch_all(pool).await? {
        rows.push((required_text(&row, 0)?, non_empty(text(&row, 1)?)));
    }
    Ok(rows)
}

fn bind_batch<'q>(
    sql: &'q str,
    schema: &'q str,
    names: &'q [String],
) -> sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments> {
    let mut query = sqlx::query(sql).bind(schema);
    for name in names {
        query = query.bind(name.as_str());
    }
    query
}

/// `?, ?, …` — `n` bind markers (at least one, so an empty list stays valid SQL and matches
/// nothing).
fn placeholders(n: usize) -> String {
    vec!["?"; n.max(1)].join(", ")
}

/// MariaDB (10.2.7+) shows a column whose default is NULL as the unquoted word `NULL` and quotes
/// string literals; MySQL shows SQL NULL. Both mean "no default worth recording".
fn column_default(raw: Option<String>) -> Option<String> {
    raw.filter(|d| d != "NULL")
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

fn text(row: &MySqlRow, index: usize) -> Result<Option<String>, sqlx::Error> {
    row.try_get_unchecked::<Option<String>, _>(index)
}

fn required_text(row: &MySqlRow, index: usize) -> Result<String, sqlx::Error> {
    text(row, index)?.ok_or_else(|| sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: "unexpected NULL in information_schema".into(),
    })
}

fn unsigned(row: &MySqlRow, index: usize) -> Result<Option<u64>, sqlx::Error> {
    row.try_get_unchecked::<Option<u64>, _>(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_never_leave_an_empty_list() {
        assert_eq!(placeholders(3), "?, ?, ?");
        assert_eq!(placeholders(0), "?");
    }

    #[test]
    fn mariadb_null_defaults_are_no_default() {
        assert_eq!(column_default(Some("NULL".into())), None);
        assert_eq!(column_default(Some("'NULL'".into())), Some("'NULL'".into()));
        assert_eq!(column_default(Some("0".into())), Some("0".into()));
        assert_eq!(column_default(None), None);
    }
}
