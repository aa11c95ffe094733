//! The PostgreSQL objects discovery records besides relations: user-defined types (enums,
//! domains, composite types), routines (functions and procedures) and sequences — the queries
//! that list them and how their rows become [`AssetSchema`]s.
//!
//! Each is read by one query per discovery (like the relations), under the same session settings
//! (`search_path` pinned to `pg_catalog`, so type names in signatures carry their schema).
//! Objects that belong to an extension (`pg_depend.deptype = 'e'`) are left out: they are the
//! extension's, not the database's design, and `pgcrypto` alone brings dozens of functions.
//! Composite types' attributes come from the batched `COLUMNS` query over their `typrelid`.

use super::catalog::AssembleError;
use domain::discovery::{
    AssetKind, AssetPath, AssetPathError, AssetSchema, ColumnSchema, Routine, SequenceSchema,
    UserType, UserTypeKind,
};
use sqlx::postgres::types::Oid;
use sqlx::postgres::PgRow;
use sqlx::Row;

/// Enums, domains and standalone composite types (not the row types of tables).
pub(crate) const TYPES: &str = concat!(
    "SELECT t.oid, n.nspname::text AS schema, t.typname::text AS name, t.typtype::text AS kind, ",
    "(SELECT d.description FROM pg_description d ",
    "WHERE d.objoid = t.oid AND d.classoid = 'pg_type'::regclass AND d.objsubid = 0) AS comment, ",
    "ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS enum_values, ",
    "CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type, ",
    "t.typnotnull AS not_null, ",
    "CASE WHEN t.typtype = 'd' THEN t.typdefault END AS default_expr, ",
    "ARRAY(SELECT c.conname::text || ': ' || pg_get_constraintdef(c.oid, true) FROM pg_constraint c ",
    "WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname) AS checks, ",
    "CASE WHEN t.typtype = 'c' THEN t.typrelid END AS relid ",
    "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace ",
    "LEFT JOIN pg_class tc ON tc.oid = t.typrelid ",
    "WHERE (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND tc.relkind = 'c')) AND ",
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)' ",
    "AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = 'pg_type'::regclass ",
    "AND dep.objid = t.oid AND dep.deptype = 'e') ",
    "ORDER BY n.nspname, t.typname"
);

/// Functions and procedures with their signature, language and — for SQL-language ones — body.
pub(crate) const ROUTINES: &str = concat!(
    "SELECT p.oid, n.nspname::text AS schema, p.proname::text AS name, p.prokind::text AS kind, ",
    "(SELECT d.description FROM pg_description d ",
    "WHERE d.objoid = p.oid AND d.classoid = 'pg_proc'::regclass AND d.objsubid = 0) AS comment, ",
    "pg_get_function_identity_arguments(p.oid) AS identity, ",
    "pg_get_function_arguments(p.oid) AS arguments, ",
    "CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END AS return_type, ",
    "l.lanname::text AS language, ",
    "CASE WHEN l.lanname = 'sql' THEN nullif(p.prosrc, '') END AS body ",
    "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace ",
    "JOIN pg_language l ON l.oid = p.prolang ",
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)' ",
    "AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = 'pg_proc'::regclass ",
    "AND dep.objid = p.oid AND dep.deptype = 'e') ",
    "ORDER BY n.nspname, p.proname, identity"
);

/// Sequences with their settings and the column that owns them (`OWNED BY`, serial, identity).
pub(crate) const SEQUENCES: &str = concat!(
    "SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name, ",
    "(SELECT d.description FROM pg_description d ",
    "WHERE d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0) AS comment, ",
    "format_type(s.seqtypid, NULL) AS data_type, s.seqstart AS start_value, ",
    "s.seqincrement AS increment, s.seqmin AS min_value, s.seqmax AS max_value, s.seqcycle AS cycle, ",
    "(SELECT ARRAY[own_n.nspname::text, own_c.relname::text, own_a.attname::text] ",
    " FROM pg_depend dep JOIN pg_class own_c ON own_c.oid = dep.refobjid ",
    " JOIN pg_namespace own_n ON own_n.oid = own_c.relnamespace ",
    " JOIN pg_attribute own_a ON own_a.attrelid = dep.refobjid AND own_a.attnum = dep.refobjsubid ",
    " WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid ",
    " AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i') AND dep.refobjsubid > 0 ",
    " LIMIT 1) AS owned_by ",
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace ",
    "JOIN pg_sequence s ON s.seqrelid = c.oid ",
    "WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ",
    "AND n.nspname !~ '^pg_(toast|temp_)' ",
    "AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = 'pg_class'::regclass ",
    "AND dep.objid = c.oid AND dep.deptype = 'e') ",
    "ORDER BY n.nspname, c.relname"
);

/// The path of a routine: its schema, then its name with its argument types, e.g.
/// `shop.public."order_total(bigint)"`, so overloads are distinct assets.
pub(crate) fn routine_path(
    database: &str,
    schema: &str,
    name: &str,
    identity_arguments: &str,
) -> Result<AssetPath, AssetPathError> {
    AssetPath::new([database, schema, &format!("{name}({identity_arguments})")])
}

/// One object of [`TYPES`], [`ROUTINES`] or [`SEQUENCES`], before scope filtering.
#[derive(Debug, Clone)]
pub(crate) struct Object {
    pub schema: String,
    pub asset: AssetSchema,
    /// Of a composite type: the `pg_class` row holding its attributes.
    pub attributes_of: Option<Oid>,
}

pub(crate) fn decode_type(database: &str, row: &PgRow) -> Result<Option<Object>, AssembleError> {
    let kind: String = row.try_get("kind")?;
    let kind = match kind.as_str() {
        "e" => UserTypeKind::Enum,
        "d" => UserTypeKind::Domain,
        "c" => UserTypeKind::Composite,
        _ => return Ok(None),
    };
    let schema: String = row.try_get("schema")?;
    let name: String = row.try_get("name")?;
    let mut asset = AssetSchema::new(AssetKind::Type, AssetPath::new([database, &schema, &name])?);
    asset.comment = row.try_get("comment")?;
    let mut definition = UserType::new(kind);
    definition.values = row.try_get("enum_values")?;
    definition.base_type = row.try_get("base_type")?;
    definition.not_null = kind == UserTypeKind::Domain && row.try_get::<bool, _>("not_null")?;
    definition.default = row.try_get("default_expr")?;
    definition.checks = row.try_get("checks")?;
    asset.user_type = Some(Box::new(definition));
    Ok(Some(Object {
        schema,
        asset,
        attributes_of: row.try_get("relid")?,
    }))
}

pub(crate) fn decode_routine(database: &str, row: &PgRow) -> Result<Object, AssembleError> {
    let schema: String = row.try_get("schema")?;
    let name: String = row.try_get("name")?;
    let identity: String = row.try_get("identity")?;
    let kind: String = row.try_get("kind")?;
    let mut asset = AssetSchema::new(
        AssetKind::Routine,
        routine_path(database, &schema, &name, &identity)?,
    );
    asset.comment = row.try_get("comment")?;
    asset.routine = Some(Box::new(Routine {
        kind: match kind.as_str() {
            "p" => "procedure",
            "a" => "aggregate",
            "w" => "window",
            _ => "function",
        }
        .to_owned(),
        name,
        arguments: row.try_get("arguments")?,
        return_type: row.try_get("return_type")?,
        language: row.try_get("language")?,
        definition: row.try_get("body")?,
    }));
    Ok(Object {
        schema,
        asset,
        attributes_of: None,
    })
}

pub(crate) fn decode_sequence(database: &str, row: &PgRow) -> Result<Object, AssembleError> {
    let schema: String = row.try_get("schema")?;
    let name: String = row.try_get("name")?;
    let mut asset = AssetSchema::new(
        AssetKind::Sequence,
        AssetPath::new([database, &schema, &name])?,
    );
    asset.comment = row.try_get("comment")?;
    let owned_by: Option<Vec<String>> = row.try_get("owned_by")?;
    let (owned_by_table, owned_by_column) = match owned_by.as_deref() {
        Some([schema, table, column]) => (
            Some(AssetPath::new([database, schema.as_str(), table.as_str()])?),
            Some(column.clone()),
        ),
        _ => (None, None),
    };
    asset.sequence = Some(Box::new(SequenceSchema {
        data_type: row.try_get("data_type")?,
        start: row.try_get("start_value")?,
        increment: row.try_get("increment")?,
        min_value: row.try_get("min_value")?,
        max_value: row.try_get("max_value")?,
        cycle: row.try_get("cycle")?,
        owned_by_table,
        owned_by_column,
    }));
    Ok(Object {
        schema,
        asset,
        attributes_of: None,
    })
}

/// Gives each composite type its attributes, from `COLUMNS` rows over the types' `typrelid`s.
pub(crate) fn attach_attributes(
    database: &str,
    objects: &mut [Object],
    rows: &[PgRow],
) -> Result<(), AssembleError> {
    for row in rows {
        let relid: Oid = row.try_get("oid")?;
        let attribute: ColumnSchema = super::catalog::column(database, row)?;
        if let Some(object) = objects
            .iter_mut()
            .find(|object| object.attributes_of == Some(relid))
        {
            if let Some(definition) = &mut object.asset.user_type {
                definition.attributes.push(attribute);
            }
        }
    }
    for object in objects {
        if let Some(definition) = &mut object.asset.user_type {
            definition.attributes.sort_by_key(|a| a.ordinal);
        }
    }
    Ok(())
}
