//! What a PostgreSQL discovery asks the system catalogs, and how the answers become
//! [`AssetSchema`]s.
//!
//! Two queries run once per discovery ([`OVERVIEW`]: the database and its schemas;
//! [`RELATIONS`]: every table, partitioned table, view and materialized view with its comment and
//! row estimate). Everything else is asked for a whole batch of relations at a time
//! (`WHERE … = ANY($1)` over their OIDs): [`COLUMNS`], [`CONSTRAINTS`] (primary and foreign keys),
//! [`INDEXES`] (with their access method), [`TRIGGERS`], [`VIEW_DEFINITIONS`] and, for
//! partitioned tables, [`PARTITIONS`] and [`PARTITION_FOREIGN_KEYS`]. The number of queries grows with the number of batches,
//! never with the number of tables.
//!
//! Every query runs after [`SESSION_SETTINGS`], which pins `search_path` to `pg_catalog` for the
//! transaction: `pg_get_viewdef`, `pg_get_expr` and `format_type` then qualify every user object
//! with its schema, so the text we record (and fingerprint) does not depend on the role's or the
//! database's `search_path`, and view SQL names its tables unambiguously for the lineage parser.
//!
//! Comments are read with a scalar subquery on `pg_description`, not with `col_description` or
//! `obj_description`: those are SQL functions, set up anew for every row, which made them the
//! most expensive part of reading a wide schema (a join instead leaves the plan to the statistics
//! of `pg_description`, often stale right after the DDL being discovered).
//!
//! Partitions (`relispartition`) are not assets of their own: the partitioned table is the asset
//! users govern, and listing thousands of partitions would drown the catalog. They are listed on
//! it ([`PARTITIONS`], with their bounds), their statistics add up to its own, and the foreign
//! keys declared on them are its foreign keys ([`PARTITION_FOREIGN_KEYS`]).
//!
//! User-defined types, routines and sequences are read once per discovery, like the relations;
//! their queries and assembly are in `objects.rs`.

use chrono::{DateTime, Utc};
use domain::discovery::{
    AssetKind, AssetPath, AssetPathError, AssetSchema, ColumnSchema, ForeignKey, IndexSchema,
    Partition, Partitioning, TriggerSchema,
};
use sqlx::postgres::types::Oid;
use sqlx::postgres::PgRow;
use sqlx::Row;
use std::collections::HashMap;

/// The schemas a discovery never reports: PostgreSQL's own and other sessions' temporary ones.
macro_rules! user_schemas {
    ($alias:literal) => {
        concat!(
            $alias,
            ".nspname NOT IN ('pg_catalog', 'information_schema') AND ",
            $alias,
            ".nspname !~ '^pg_(toast|temp_)'"
        )
    };
}

/// The size of the relation aliased `$alias` with its TOAST table and indexes, from the pages the
/// catalog counted at the last `VACUUM`, `ANALYZE` or index build (`relpages`). Not
/// `pg_total_relation_size`: that opens every relation, so one table locked by a long
/// `ALTER TABLE` would hold up the whole discovery; and like the row estimate, this figure
/// moves only when the engine refreshes its statistics.
macro_rules! size_of {
    ($alias:literal) => {
        concat!(
            "(",
            $alias,
            ".relpages::int8 + coalesce((SELECT t.relpages FROM pg_class t WHERE t.oid = ",
            $alias,
            ".reltoastrelid), 0) + coalesce((SELECT sum(ic.relpages) FROM pg_index i ",
            "JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = ",
            $alias,
            ".oid), 0))::int8 * current_setting('block_size')::int8"
        )
    };
}

/// The transaction every unit of catalog work runs in: one snapshot for all its queries, and
/// no way to write by mistake.
pub(crate) const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// Run (simple protocol, one round trip) at the start of every transaction; the statement timeout
/// is appended by the caller so the server stops a query the client gave up on.
pub(crate) const SESSION_SETTINGS: &str = "SET LOCAL search_path = pg_catalog";

pub(crate) const OVERVIEW: &str = concat!(
    "SELECT current_database()::text AS database, ",
    "shobj_description((SELECT d.oid FROM pg_database d WHERE d.datname = current_database()), 'pg_database') AS comment, ",
    "ARRAY(SELECT n.nspname::text FROM pg_namespace n WHERE ",
    user_schemas!("n"),
    " ORDER BY n.nspname) AS schemas, ",
    "ARRAY(SELECT obj_description(n.oid, 'pg_namespace') FROM pg_namespace n WHERE ",
    user_schemas!("n"),
    " ORDER BY n.nspname) AS schema_comments"
);

/// Every relation with its statistics: `reltuples` (-1 until the first `ANALYZE` or `VACUUM`;
/// the collector's live-row counts are not used: they arrive asynchronously, so two scans of an
/// unchanged table could disagree), the size with indexes and TOAST (`size_of!`), the later of the last manual and automatic analysis; and, for materialized views,
/// whether they are populated, for partitioned tables, their key (`RANGE (sold_on)`).
pub(crate) const RELATIONS: &str = concat!(
    "SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS kind, ",
    "(SELECT d.description FROM pg_description d ",
    "WHERE d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0) AS comment, ",
    "c.reltuples::float8 AS reltuples, ",
    "CASE WHEN c.relkind IN ('r', 'm') THEN ",
    size_of!("c"),
    " END AS size_bytes, ",
    "greatest(pg_stat_get_last_analyze_time(c.oid), pg_stat_get_last_autoanalyze_time(c.oid)) AS last_analyzed, ",
    "c.relispopulated AS populated, ",
    "CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key ",
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace ",
    "WHERE c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition AND ",
    user_schemas!("n"),
    " ORDER BY n.nspname, c.relname"
);

pub(crate) const COLUMNS: &str = "\
SELECT a.attrelid AS oid, a.attname::text AS name, \
       format_type(a.atttypid, a.atttypmod) AS data_type, \
       NOT a.attnotnull AS nullable, \
       CASE \
         WHEN a.attidentity = 'a' THEN 'GENERATED ALWAYS AS IDENTITY' \
         WHEN a.attidentity = 'd' THEN 'GENERATED BY DEFAULT AS IDENTITY' \
         WHEN a.attgenerated = 's' THEN 'GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED' \
         ELSE pg_get_expr(d.adbin, d.adrelid) \
       END AS default_expr, \
       a.attnum::int4 AS ordinal, \
       (SELECT ds.description FROM pg_description ds \
         WHERE ds.objoid = a.attrelid AND ds.classoid = 'pg_class'::regclass \
           AND ds.objsubid = a.attnum) AS comment, \
       udt.schema AS type_schema, udt.name AS type_name \
FROM pg_attribute a \
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
LEFT JOIN LATERAL ( \
  SELECT un.nspname::text AS schema, ut.typname::text AS name \
  FROM pg_type ct \
  JOIN pg_type ut ON ut.oid = CASE WHEN ct.typcategory = 'A' AND ct.typelem <> 0 THEN ct.typelem ELSE ct.oid END \
  JOIN pg_namespace un ON un.oid = ut.typnamespace \
  LEFT JOIN pg_class uc ON uc.oid = ut.typrelid \
  WHERE ct.oid = a.atttypid \
    AND (ut.typtype IN ('e', 'd') OR (ut.typtype = 'c' AND uc.relkind = 'c')) \
    AND un.nspname NOT IN ('pg_catalog', 'information_schema') \
) udt ON true \
WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped \
ORDER BY a.attrelid, a.attnum";

/// Primary and foreign keys. `conparentid = 0` leaves out the clones PostgreSQL adds for each
/// partition of a referenced partitioned table: the key as declared is the one users know. A key
/// referencing a partition names the partitioned table it belongs to (partitions are not assets).
pub(crate) const CONSTRAINTS: &str = "\
SELECT con.conrelid AS oid, con.conname::text AS name, con.contype::text AS kind, \
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
             ORDER BY k.ord) AS columns, \
       rn.nspname::text AS referenced_schema, rc.relname::text AS referenced_table, \
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum \
             ORDER BY k.ord) AS referenced_columns \
FROM pg_constraint con \
LEFT JOIN pg_class rc ON rc.oid = coalesce(pg_partition_root(con.confrelid)::oid, con.confrelid) \
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
WHERE con.conrelid = ANY($1) AND con.contype IN ('p', 'f') AND con.conparentid = 0 \
ORDER BY con.conrelid, con.conname";

/// The foreign keys declared on the partitions (at any depth) of the partitioned tables in `$1`,
/// as if declared on the partitioned table (`oid` is the partitioned table's): partitions are
/// not assets, and without this a fact table partitioned by month loses every link to its
/// dimensions. Same columns as [`CONSTRAINTS`]; the same key on several partitions is merged.
pub(crate) const PARTITION_FOREIGN_KEYS: &str = "\
SELECT t.root AS oid, con.conname::text AS name, con.contype::text AS kind, \
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
             ORDER BY k.ord) AS columns, \
       rn.nspname::text AS referenced_schema, rc.relname::text AS referenced_table, \
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum \
             ORDER BY k.ord) AS referenced_columns \
FROM unnest($1::oid[]) AS t(root) \
CROSS JOIN LATERAL pg_partition_tree(t.root) pt \
JOIN pg_constraint con ON con.conrelid = pt.relid AND con.contype = 'f' AND con.conparentid = 0 \
LEFT JOIN pg_class rc ON rc.oid = coalesce(pg_partition_root(con.confrelid)::oid, con.confrelid) \
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
WHERE pt.level > 0 \
ORDER BY t.root, con.conname";

/// Every partition (at any depth) of the partitioned tables in `$1`, with its bound, the
/// partition it sits in (when not directly under the table) and its statistics, which add up to
/// the partitioned table's (its own `pg_class` row holds none).
pub(crate) const PARTITIONS: &str = "\
SELECT t.root AS oid, pn.nspname::text AS schema, pc.relname::text AS name, \
       coalesce(pg_get_expr(pc.relpartbound, pc.oid), '') AS bound, \
       CASE WHEN pt.parentrelid <> t.root THEN ppn.nspname::text END AS parent_schema, \
       CASE WHEN pt.parentrelid <> t.root THEN ppc.relname::text END AS parent_name, \
       pt.isleaf AS is_leaf, \
       pc.reltuples::float8 AS reltuples, \
       CASE WHEN pt.isleaf THEN (pc.relpages::int8 \
         + coalesce((SELECT t.relpages FROM pg_class t WHERE t.oid = pc.reltoastrelid), 0) \
         + coalesce((SELECT sum(ic.relpages) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
                     WHERE i.indrelid = pc.oid), 0))::int8 * current_setting('block_size')::int8 \
       END AS size_bytes, \
       greatest(pg_stat_get_last_analyze_time(pc.oid), pg_stat_get_last_autoanalyze_time(pc.oid)) AS last_analyzed \
FROM unnest($1::oid[]) AS t(root) \
CROSS JOIN LATERAL pg_partition_tree(t.root) pt \
JOIN pg_class pc ON pc.oid = pt.relid \
JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
LEFT JOIN pg_class ppc ON ppc.oid = pt.parentrelid \
LEFT JOIN pg_namespace ppn ON ppn.oid = ppc.relnamespace \
WHERE pt.level > 0 \
ORDER BY t.root, pn.nspname, pc.relname";

/// User triggers of the tables and views in `$1` (not the internal ones that enforce foreign
/// keys); `tgtype` bits: 1 row, 2 before, 4 insert, 8 delete, 16 update, 32 truncate, 64
/// instead of.
pub(crate) const TRIGGERS: &str = "\
SELECT t.tgrelid AS oid, t.tgname::text AS name, pg_get_triggerdef(t.oid) AS definition, \
       t.tgenabled <> 'D' AS enabled, t.tgtype::int4 AS tgtype, \
       fn.nspname::text AS function_schema, p.proname::text AS function_name, \
       pg_get_function_identity_arguments(p.oid) AS function_arguments \
FROM pg_trigger t \
JOIN pg_proc p ON p.oid = t.tgfoid \
JOIN pg_namespace fn ON fn.oid = p.pronamespace \
WHERE t.tgrelid = ANY($1) AND NOT t.tgisinternal \
ORDER BY t.tgrelid, t.tgname";

/// Indexes with their key columns in key order (`INCLUDE` columns are not keys); an expression
/// key is shown as its expression.
pub(crate) const INDEXES: &str = "\
SELECT i.indrelid AS oid, ic.relname::text AS name, i.indisunique AS is_unique, \
       i.indisprimary AS is_primary, am.amname::text AS method, \
       ARRAY(SELECT CASE WHEN k.attnum = 0 THEN pg_get_indexdef(i.indexrelid, k.ord::int4, true) \
                         ELSE a.attname::text END \
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE k.ord <= i.indnkeyatts \
             ORDER BY k.ord) AS columns \
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
LEFT JOIN pg_am am ON am.oid = ic.relam \
WHERE i.indrelid = ANY($1) \
ORDER BY i.indrelid, ic.relname";

pub(crate) const VIEW_DEFINITIONS: &str = "\
SELECT c.oid, pg_get_viewdef(c.oid, true) AS definition \
FROM pg_class c \
WHERE c.oid = ANY($1) AND c.relkind IN ('v', 'm') \
ORDER BY c.oid";

/// The database and its (non-system) schemas.
#[derive(Debug, Clone)]
pub(crate) struct Overview {
    pub database: String,
    pub comment: Option<String>,
    /// `(name, comment)`, by name.
    pub schemas: Vec<(String, Option<String>)>,
}

impl Overview {
    pub(crate) fn decode(row: &PgRow) -> Result<Self, sqlx::Error> {
        let names: Vec<String> = row.try_get("schemas")?;
        let comments: Vec<Option<String>> = row.try_get("schema_comments")?;
        Ok(Self {
            database: row.try_get("database")?,
            comment: row.try_get("comment")?,
            schemas: names
                .into_iter()
                .zip(comments.into_iter().chain(std::iter::repeat(None)))
                .collect(),
        })
    }
}

/// `pg_class.relkind` of the relations discovery reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelationKind {
    Table,
    PartitionedTable,
    View,
    MaterializedView,
}

impl RelationKind {
    fn parse(relkind: &str) -> Option<Self> {
        match relkind {
            "r" => Some(Self::Table),
            "p" => Some(Self::PartitionedTable),
            "v" => Some(Self::View),
            "m" => Some(Self::MaterializedView),
            _ => None,
        }
    }

    pub(crate) fn asset_kind(self) -> AssetKind {
        match self {
            Self::Table => AssetKind::Table,
            Self::PartitionedTable => AssetKind::PartitionedTable,
            Self::View => AssetKind::View,
            Self::MaterializedView => AssetKind::MaterializedView,
        }
    }

    pub(crate) fn has_definition(self) -> bool {
        matches!(self, Self::View | Self::MaterializedView)
    }
}

/// One row of [`RELATIONS`].
#[derive(Debug, Clone)]
pub(crate) struct Relation {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    pub kind: RelationKind,
    pub comment: Option<String>,
    /// `reltuples`; `None` for plain views and for tables never analyzed or vacuumed (-1). Of a
    /// partitioned table: the sum over its partitions.
    pub row_estimate: Option<i64>,
    pub size_bytes: Option<i64>,
    pub last_analyzed: Option<DateTime<Utc>>,
    /// Of a materialized view: whether it was refreshed at least once.
    pub populated: Option<bool>,
    /// Of a partitioned table: `(strategy, key)`, e.g. `("range", "(sold_on)")`.
    pub partition_key: Option<(String, String)>,
}

impl Relation {
    /// `Ok(None)` for a relkind discovery does not report (the query filters them; this keeps
    /// an unexpected one from failing the scan).
    pub(crate) fn decode(row: &PgRow) -> Result<Option<Self>, sqlx::Error> {
        let kind: String = row.try_get("kind")?;
        let Some(kind) = RelationKind::parse(&kind) else {
            return Ok(None);
        };
        let row_estimate = match kind {
            RelationKind::View | RelationKind::PartitionedTable => None,
            _ => estimate(row.try_get("reltuples")?),
        };
        let populated: bool = row.try_get("populated")?;
        let partition_key: Option<String> = row.try_get("partition_key")?;
        Ok(Some(Self {
            oid: row.try_get("oid")?,
            schema: row.try_get("schema")?,
            name: row.try_get("name")?,
            kind,
            comment: row.try_get("comment")?,
            row_estimate,
            size_bytes: row.try_get("size_bytes")?,
            last_analyzed: row.try_get("last_analyzed")?,
            populated: (kind == RelationKind::MaterializedView).then_some(populated),
            partition_key: partition_key.as_deref().map(split_partition_key),
        }))
    }

    pub(crate) fn path(&self, database: &str) -> Result<AssetPath, AssetPathError> {
        AssetPath::new([database, self.schema.as_str(), self.name.as_str()])
    }
}

/// A `reltuples` as an estimate: `None` for -1 (never analyzed). Catalog estimates are far below
/// i64::MAX; `as` saturates anyway.
fn estimate(reltuples: f64) -> Option<i64> {
    (reltuples >= 0.0).then(|| reltuples.round() as i64)
}

/// `RANGE (sold_on)` → `("range", "(sold_on)")`.
fn split_partition_key(definition: &str) -> (String, String) {
    match definition.split_once(' ') {
        Some((strategy, key)) => (strategy.to_ascii_lowercase(), key.trim().to_owned()),
        None => (definition.to_ascii_lowercase(), String::new()),
    }
}

/// What the batched queries said about one batch of relations.
#[derive(Debug, Default)]
pub(crate) struct BatchRows {
    pub columns: Vec<PgRow>,
    pub constraints: Vec<PgRow>,
    pub indexes: Vec<PgRow>,
    pub view_definitions: Vec<PgRow>,
    /// [`PARTITIONS`] and [`PARTITION_FOREIGN_KEYS`] of the batch's partitioned tables.
    pub partitions: Vec<PgRow>,
    pub partition_foreign_keys: Vec<PgRow>,
    pub triggers: Vec<PgRow>,
}

/// The per-relation details of one batch, keyed by OID.
#[derive(Debug, Default)]
struct Details {
    columns: Vec<ColumnSchema>,
    primary_key: Vec<String>,
    foreign_keys: Vec<ForeignKey>,
    indexes: Vec<IndexSchema>,
    view_definition: Option<String>,
    partitions: Vec<Partition>,
    /// Over the leaf partitions: rows (none until one is analyzed), size, latest analysis.
    partition_rows: Option<i64>,
    partition_size: Option<i64>,
    partition_analyzed: Option<DateTime<Utc>>,
    triggers: Vec<TriggerSchema>,
}

/// Builds the schemas of `relations` (one batch) from the batch's rows, normalized.
pub(crate) fn assemble(
    database: &str,
    relations: &[&Relation],
    rows: &BatchRows,
) -> Result<Vec<AssetSchema>, AssembleError> {
    let mut details: HashMap<Oid, Details> = HashMap::new();
    for row in &rows.columns {
        details
            .entry(row.try_get("oid")?)
            .or_default()
            .columns
            .push(column(database, row)?);
    }
    for row in rows.constraints.iter().chain(&rows.partition_foreign_keys) {
        let entry = details.entry(row.try_get("oid")?).or_default();
        let kind: String = row.try_get("kind")?;
        let columns: Vec<String> = row.try_get("columns")?;
        if kind == "p" {
            entry.primary_key = columns;
            continue;
        }
        let schema: Option<String> = row.try_get("referenced_schema")?;
        let table: Option<String> = row.try_get("referenced_table")?;
        let (Some(schema), Some(table)) = (schema, table) else {
            continue;
        };
        let key = ForeignKey {
            name: row.try_get("name")?,
            columns,
            referenced: AssetPath::new([database, schema.as_str(), table.as_str()])?,
            referenced_columns: row.try_get("referenced_columns")?,
        };
        // The same key declared on every partition is one key of the partitioned table (under
        // the first of its names).
        let same = entry.foreign_keys.iter_mut().find(|known| {
            known.columns == key.columns
                && known.referenced == key.referenced
                && known.referenced_columns == key.referenced_columns
        });
        match same {
            Some(known) if key.name < known.name => known.name = key.name,
            Some(_) => {}
            None => entry.foreign_keys.push(key),
        }
    }
    for row in &rows.partitions {
        let entry = details.entry(row.try_get("oid")?).or_default();
        let schema: String = row.try_get("schema")?;
        let name: String = row.try_get("name")?;
        let parent_schema: Option<String> = row.try_get("parent_schema")?;
        let parent_name: Option<String> = row.try_get("parent_name")?;
        let parent = match (parent_schema, parent_name) {
            (Some(schema), Some(name)) => {
                Some(AssetPath::new([database, schema.as_str(), name.as_str()])?)
            }
            _ => None,
        };
        entry.partitions.push(Partition {
            path: AssetPath::new([database, schema.as_str(), name.as_str()])?,
            bound: row.try_get("bound")?,
            parent,
        });
        let is_leaf: bool = row.try_get("is_leaf")?;
        if is_leaf {
            if let Some(rows) = estimate(row.try_get("reltuples")?) {
                entry.partition_rows = Some(entry.partition_rows.unwrap_or(0).saturating_add(rows));
            }
            if let Some(size) = row.try_get::<Option<i64>, _>("size_bytes")? {
                entry.partition_size = Some(entry.partition_size.unwrap_or(0).saturating_add(size));
            }
            let analyzed: Option<DateTime<Utc>> = row.try_get("last_analyzed")?;
            entry.partition_analyzed = entry.partition_analyzed.max(analyzed);
        }
    }
    for row in &rows.triggers {
        let trigger = trigger(database, row)?;
        details
            .entry(row.try_get("oid")?)
            .or_default()
            .triggers
            .push(trigger);
    }
    for row in &rows.indexes {
        details
            .entry(row.try_get("oid")?)
            .or_default()
            .indexes
            .push(IndexSchema {
                name: row.try_get("name")?,
                columns: row.try_get("columns")?,
                unique: row.try_get("is_unique")?,
                primary: row.try_get("is_primary")?,
                method: row.try_get("method")?,
            });
    }
    for row in &rows.view_definitions {
        details
            .entry(row.try_get("oid")?)
            .or_default()
            .view_definition = row.try_get("definition")?;
    }

    let mut assets = Vec::with_capacity(relations.len());
    for relation in relations {
        let mut found = details.remove(&relation.oid).unwrap_or_default();
        for column in &mut found.columns {
            column.primary_key = found.primary_key.contains(&column.name);
        }
        let mut schema = AssetSchema::new(relation.kind.asset_kind(), relation.path(database)?);
        schema.columns = found.columns;
        schema.foreign_keys = found.foreign_keys;
        schema.indexes = found.indexes;
        schema.comment = relation.comment.clone();
        schema.row_estimate = relation.row_estimate;
        schema.size_bytes = relation.size_bytes;
        schema.last_analyzed = relation.last_analyzed;
        schema.view_definition = found.view_definition;
        schema.populated = relation.populated;
        schema.triggers = found.triggers;
        if let Some((strategy, key)) = &relation.partition_key {
            schema.partitioning = Some(Box::new(Partitioning {
                strategy: strategy.clone(),
                key: key.clone(),
                partitions: found.partitions,
            }));
            schema.row_estimate = found.partition_rows;
            schema.size_bytes = found.partition_size;
            schema.last_analyzed = found.partition_analyzed;
        }
        assets.push(schema.normalized());
    }
    Ok(assets)
}

/// One row of [`COLUMNS`] (also the attributes of composite types).
pub(crate) fn column(database: &str, row: &PgRow) -> Result<ColumnSchema, AssembleError> {
    let ordinal: i32 = row.try_get("ordinal")?;
    let type_schema: Option<String> = row.try_get("type_schema")?;
    let type_name: Option<String> = row.try_get("type_name")?;
    let type_ref = match (type_schema, type_name) {
        (Some(schema), Some(name)) => Some(AssetPath::new([database, &schema, &name])?),
        _ => None,
    };
    Ok(ColumnSchema {
        name: row.try_get("name")?,
        data_type: row.try_get("data_type")?,
        nullable: row.try_get("nullable")?,
        default: row.try_get("default_expr")?,
        primary_key: false,
        ordinal: u32::try_from(ordinal).unwrap_or(0),
        comment: row.try_get("comment")?,
        type_ref,
    })
}

/// One row of [`TRIGGERS`].
fn trigger(database: &str, row: &PgRow) -> Result<TriggerSchema, AssembleError> {
    let tgtype: i32 = row.try_get("tgtype")?;
    let timing = if tgtype & 64 != 0 {
        "INSTEAD OF"
    } else if tgtype & 2 != 0 {
        "BEFORE"
    } else {
        "AFTER"
    };
    let events = [
        (4, "INSERT"),
        (16, "UPDATE"),
        (8, "DELETE"),
        (32, "TRUNCATE"),
    ]
    .into_iter()
    .filter(|(bit, _)| tgtype & bit != 0)
    .map(|(_, event)| event.to_owned())
    .collect();
    let function_schema: String = row.try_get("function_schema")?;
    let function_name: String = row.try_get("function_name")?;
    let arguments: String = row.try_get("function_arguments")?;
    Ok(TriggerSchema {
        name: row.try_get("name")?,
        timing: timing.to_owned(),
        events,
        level: if tgtype & 1 != 0 { "ROW" } else { "STATEMENT" }.to_owned(),
        function: super::objects::routine_path(
            database,
            &function_schema,
            &function_name,
            &arguments,
        )
        .ok(),
        enabled: row.try_get("enabled")?,
        definition: row.try_get("definition")?,
    })
}

/// A catalog answer that does not fit the model.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AssembleError {
    #[error("unexpected catalog row: {0}")]
    Decode(#[from] sqlx::Error),
    #[error("catalog name is not a valid asset path: {0}")]
    Path(#[from] AssetPathError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_key_splits_into_strategy_and_key() {
        assert_eq!(
            split_partition_key("RANGE (sold_on)"),
            ("range".to_owned(), "(sold_on)".to_owned())
        );
        assert_eq!(
            split_partition_key("LIST (lower(region), kind)"),
            ("list".to_owned(), "(lower(region), kind)".to_owned())
        );
    }

    #[test]
    fn estimates_are_unknown_until_analyzed() {
        assert_eq!(estimate(-1.0), None);
        assert_eq!(estimate(0.0), Some(0));
        assert_eq!(estimate(5_000.4), Some(5_000));
    }
}
