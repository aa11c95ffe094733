//! Routines, triggers and sequences of a MySQL / MariaDB discovery: read once per discovery for
//! every schema in scope (a handful of queries, whatever the number of tables), like
//! `postgres/objects.rs` does for PostgreSQL.
//!
//! - **Routines** (`information_schema.ROUTINES`, arguments from `PARAMETERS`) become `routine`
//!   assets at `schema.name(argument types)`, the form PostgreSQL routines take, so a function
//!   and a procedure of the same name stay apart once their arguments differ. Their language is
//!   always `sql`; the body is recorded when the server shows it (`ROUTINE_DEFINITION` is NULL
//!   for a user without the privilege to see it) and gives lineage where the parser reads it.
//! - **Triggers** (`information_schema.TRIGGERS`) are listed on the table they fire on, with the
//!   whole statement rebuilt as `CREATE TRIGGER …` (the server keeps only the action). Every
//!   MySQL trigger is row-level and enabled.
//! - **Sequences** exist on MariaDB only (10.3+, `TABLE_TYPE = 'SEQUENCE'`); their settings are
//!   read from the sequence itself (`SELECT … FROM schema.seq` is how MariaDB shows them), one
//!   query per sequence with the names quoted, since they come from the server's catalog.
//!
//! All values are read with the unchecked decoders, for the reasons `catalog.rs` gives.

use super::assemble::asset_path;
use domain::discovery::{AssetKind, AssetSchema, Routine, SequenceSchema, TriggerSchema};
use sqlx::mysql::{MySqlPool, MySqlRow};
use sqlx::Row;
use std::collections::BTreeMap;

fn placeholders(n: usize) -> String {
    vec!["?"; n.max(1)].join(", ")
}

fn text(row: &MySqlRow, index: usize) -> Result<Option<String>, sqlx::Error> {
    row.try_get_unchecked::<Option<String>, _>(index)
}

fn required(row: &MySqlRow, index: usize) -> Result<String, sqlx::Error> {
    text(row, index)?.ok_or_else(|| sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: "unexpected NULL in information_schema".into(),
    })
}

fn bind_all<'q>(
    sql: &'q str,
    schemas: &'q [String],
) -> sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments> {
    schemas
        .iter()
        .fold(sqlx::query(sql), |query, schema| query.bind(schema))
}

/// One argument of a routine, in order.
struct Parameter {
    mode: Option<String>,
    name: Option<String>,
    data_type: String,
}

/// The routines of `schemas`, as `routine` assets (scope is applied by the caller).
pub(super) async fn routines(
    pool: &MySqlPool,
    schemas: &[String],
) -> Result<Vec<AssetSchema>, sqlx::Error> {
    if schemas.is_empty() {
        return Ok(Vec::new());
    }
    // ORDINAL_POSITION 0 is a function's result, which ROUTINES.DTD_IDENTIFIER gives as well.
    let sql = format!(
        "SELECT SPECIFIC_SCHEMA, SPECIFIC_NAME, ROUTINE_TYPE, PARAMETER_MODE, PARAMETER_NAME, \
         DTD_IDENTIFIER \
         FROM information_schema.PARAMETERS \
         WHERE SPECIFIC_SCHEMA IN ({}) AND ORDINAL_POSITION > 0 \
         ORDER BY SPECIFIC_SCHEMA, SPECIFIC_NAME, ROUTINE_TYPE, ORDINAL_POSITION",
        placeholders(schemas.len())
    );
    let mut parameters: BTreeMap<(String, String, String), Vec<Parameter>> = BTreeMap::new();
    for row in bind_all(&sql, schemas).fetch_all(pool).await? {
        parameters
            .entry((required(&row, 0)?, required(&row, 1)?, required(&row, 2)?))
            .or_default()
            .push(Parameter {
                mode: text(&row, 3)?,
                name: text(&row, 4)?,
                data_type: required(&row, 5)?,
            });
    }
    let sql = format!(
        "SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE, DTD_IDENTIFIER, ROUTINE_DEFINITION, \
         ROUTINE_COMMENT \
         FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN ({}) \
         ORDER BY ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE",
        placeholders(schemas.len())
    );
    let mut assets = Vec::new();
    for row in bind_all(&sql, schemas).fetch_all(pool).await? {
        let schema = required(&row, 0)?;
        let name = required(&row, 1)?;
        let routine_type = required(&row, 2)?;
        let arguments = parameters
            .remove(&(schema.clone(), name.clone(), routine_type.clone()))
            .unwrap_or_default();
        let identity: Vec<&str> = arguments.iter().map(|p| p.data_type.as_str()).collect();
        let Some(path) = asset_path(&[&schema, &format!("{name}({})", identity.join(", "))]) else {
            continue;
        };
        let is_procedure = routine_type.eq_ignore_ascii_case("PROCEDURE");
        let mut asset = AssetSchema::new(AssetKind::Routine, path);
        asset.comment = text(&row, 5)?.filter(|c| !c.is_empty());
        asset.routine = Some(Box::new(Routine {
            kind: if is_procedure {
                "procedure"
            } else {
                "function"
            }
            .to_owned(),
            name,
            arguments: arguments
                .iter()
                .map(|p| {
                    let mut shown = Vec::new();
                    // Only procedures have modes; `IN` is the default and shown as declared.
                    if is_procedure {
                        shown.extend(p.mode.as_deref());
                    }
                    shown.extend(p.name.as_deref());
                    shown.push(p.data_type.as_str());
                    shown.join(" ")
                })
                .collect::<Vec<_>>()
                .join(", "),
            return_type: if is_procedure { None } else { text(&row, 3)? },
            language: "sql".to_owned(),
            definition: text(&row, 4)?,
        }));
        assets.push(asset);
    }
    Ok(assets)
}

/// The triggers of the tables of `schemas`, by `(schema, table)`, in firing order.
pub(super) async fn triggers(
    pool: &MySqlPool,
    schemas: &[String],
) -> Result<BTreeMap<(String, String), Vec<TriggerSchema>>, sqlx::Error> {
    let mut found: BTreeMap<(String, String), Vec<TriggerSchema>> = BTreeMap::new();
    if schemas.is_empty() {
        return Ok(found);
    }
    let sql = format!(
        "SELECT EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, \
         EVENT_MANIPULATION, ACTION_ORIENTATION, ACTION_STATEMENT \
         FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA IN ({}) \
         ORDER BY EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, ACTION_ORDER, TRIGGER_NAME",
        placeholders(schemas.len())
    );
    for row in bind_all(&sql, schemas).fetch_all(pool).await? {
        let (schema, table, name) = (required(&row, 0)?, required(&row, 1)?, required(&row, 2)?);
        let timing = required(&row, 3)?.to_uppercase();
        let event = required(&row, 4)?.to_uppercase();
        let level = text(&row, 5)?
            .unwrap_or_else(|| "ROW".to_owned())
            .to_uppercase();
        let statement = text(&row, 6)?.unwrap_or_default();
        let definition = format!(
            "CREATE TRIGGER `{}` {timing} {event} ON `{}`.`{}` FOR EACH {level} {statement}",
            name.replace('`', "``"),
            schema.replace('`', "``"),
            table.replace('`', "``"),
        );
        found
            .entry((schema, table))
            .or_default()
            .push(TriggerSchema {
                name,
                timing,
                events: vec![event],
                level,
                function: None,
                enabled: true,
                definition,
            });
    }
    Ok(found)
}

/// The sequences of `schemas` (MariaDB), as `sequence` assets whose names `keep` admits.
pub(super) async fn sequences(
    pool: &MySqlPool,
    schemas: &[String],
    keep: &(dyn Fn(&domain::discovery::AssetPath) -> bool + Send + Sync),
) -> Result<Vec<AssetSchema>, sqlx::Error> {
    if schemas.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA IN ({}) AND TABLE_TYPE = 'SEQUENCE' \
         ORDER BY TABLE_SCHEMA, TABLE_NAME",
        placeholders(schemas.len())
    );
    let mut assets = Vec::new();
    for row in bind_all(&sql, schemas).fetch_all(pool).await? {
        let (schema, name) = (required(&row, 0)?, required(&row, 1)?);
        let Some(path) = asset_path(&[&schema, &name]) else {
            continue;
        };
        if !keep(&path) {
            continue;
        }
        // Identifiers from the catalog, quoted: a backtick inside a name is doubled.
        let settings = sqlx::query(&format!(
            "SELECT start_value, increment, minimum_value, maximum_value, cycle_option FROM `{}`.`{}`",
            schema.replace('`', "``"),
            name.replace('`', "``"),
        ))
        .fetch_one(pool)
        .await?;
        let number = |index: usize| settings.try_get_unchecked::<i64, _>(index);
        let mut asset = AssetSchema::new(AssetKind::Sequence, path);
        asset.comment = text(&row, 2)?.filter(|c| !c.is_empty());
        asset.sequence = Some(Box::new(SequenceSchema {
            data_type: "bigint".to_owned(),
            start: number(0)?,
            increment: number(1)?,
            min_value: number(2)?,
            max_value: number(3)?,
            cycle: settings.try_get_unchecked::<i64, _>(4)? != 0,
            owned_by_table: None,
            owned_by_column: None,
        }));
        assets.push(asset);
    }
    Ok(assets)
}
