//! [`AssetSchema`]: what discovery found out about one asset — its kind, path, columns (or, for
//! document stores and object stores, inferred fields), foreign keys, indexes and comments.
//!
//! Connectors fill these plain structs; the Asset aggregate stores them
//! [normalized](AssetSchema::normalized) and compares them by [`Fingerprint`].

use super::fingerprint::Fingerprint;
use super::objects::{Partitioning, Routine, SequenceSchema, TriggerSchema, UserType};
use super::path::AssetPath;
use crate::datasource::values::keyword_enum;
use crate::datasource::ValidationError;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;

keyword_enum! {
    /// What kind of thing an asset is.
    pub enum AssetKind ("asset kind") {
        Database = "database",
        Schema = "schema",
        Table = "table",
        /// A table whose rows live in partitions (listed on it, not assets of their own).
        PartitionedTable = "partitioned_table",
        View = "view",
        /// A view whose result is stored; it may be unpopulated (never refreshed).
        MaterializedView = "materialized_view",
        /// A MongoDB collection (fields inferred by sampling documents).
        Collection = "collection",
        /// A family of Redis keys sharing a pattern, e.g. `session:*`.
        RedisKeyPattern = "redis_key_pattern",
        /// An S3 prefix holding CSV/JSON/Parquet objects (record schema inferred by sampling).
        S3Prefix = "s3_prefix",
        /// A user-defined type: enum, domain or composite type.
        Type = "type",
        /// A function or procedure.
        Routine = "routine",
        Sequence = "sequence",
    }
}

impl AssetKind {
    /// Containers hold other assets and have no columns of their own.
    pub fn is_container(&self) -> bool {
        matches!(self, AssetKind::Database | AssetKind::Schema)
    }

    /// Whether the asset holds rows (or documents, keys, objects) that can be sampled:
    /// containers, types, routines and sequences do not.
    pub fn holds_data(&self) -> bool {
        !self.is_container()
            && !matches!(
                self,
                AssetKind::Type | AssetKind::Routine | AssetKind::Sequence
            )
    }

    /// Tables and views of any flavour (what SQL lineage and foreign keys connect).
    pub fn is_relation(&self) -> bool {
        matches!(
            self,
            AssetKind::Table
                | AssetKind::PartitionedTable
                | AssetKind::View
                | AssetKind::MaterializedView
        )
    }
}

/// One column of a table or view, or one inferred field of a collection or object prefix.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct ColumnSchema {
    /// The column name; for inferred fields the dotted field path, e.g. `address.city`.
    pub name: String,
    /// The type as the engine spells it (`character varying(255)`, `bigint`); for inferred fields
    /// the observed types joined by `|`, e.g. `string|null`.
    pub data_type: String,
    pub nullable: bool,
    /// The default expression as the engine shows it, e.g. `nextval('orders_id_seq'::regclass)`.
    pub default: Option<String>,
    pub primary_key: bool,
    /// 1-based position in the table (for inferred fields, the order first seen).
    pub ordinal: u32,
    pub comment: Option<String>,
    /// The user-defined type (enum, domain, composite; path of its `type` asset) the column is
    /// of, also through an array of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_ref: Option<AssetPath>,
}

impl ColumnSchema {
    /// A nullable column without default, key or comment.
    pub fn new(name: impl Into<String>, data_type: impl Into<String>, ordinal: u32) -> Self {
        Self {
            name: name.into(),
            data_type: data_type.into(),
            nullable: true,
            default: None,
            primary_key: false,
            ordinal,
            comment: None,
            type_ref: None,
        }
    }
}

/// A foreign key: `columns` of this asset reference `referenced_columns` of `referenced`
/// (pairwise, in order).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct ForeignKey {
    /// The constraint name.
    pub name: String,
    pub columns: Vec<String>,
    /// The referenced table's full path in the same source.
    pub referenced: AssetPath,
    pub referenced_columns: Vec<String>,
}

/// An index (column order is significant: it is the index's key order).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct IndexSchema {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    /// Whether this index backs the primary key.
    pub primary: bool,
    /// The access method: `btree`, `hash`, `gist`, `gin`, `brin`, `spgist` (PostgreSQL),
    /// `BTREE`, `HASH`, `FULLTEXT`, `SPATIAL` (MySQL); none where the engine does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// Everything discovery records about one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AssetSchema {
    pub kind: AssetKind,
    pub path: AssetPath,
    /// Columns or inferred fields; empty for containers and Redis key patterns without a
    /// structured value.
    pub columns: Vec<ColumnSchema>,
    pub foreign_keys: Vec<ForeignKey>,
    pub indexes: Vec<IndexSchema>,
    pub comment: Option<String>,
    /// The engine's row (document, key, object) count estimate. Not part of the fingerprint: it
    /// changes all the time.
    pub row_estimate: Option<i64>,
    /// The SQL of a view, as the engine returns it.
    pub view_definition: Option<String>,
    /// The size on disk in bytes, indexes and TOAST included, as the engine last counted it.
    /// Not part of the fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    /// When the engine last gathered the statistics (`ANALYZE`). Not part of the fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_analyzed: Option<DateTime<Utc>>,
    /// Of a materialized view: whether it holds data (false until first refreshed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub populated: Option<bool>,
    /// Of a partitioned table: its strategy, key and partitions. (This and the other kind-specific
    /// parts are boxed: most assets have none, and commands and events carry schemas by value.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitioning: Option<Box<Partitioning>>,
    /// The triggers on a table or view, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<TriggerSchema>,
    /// Of a `type` asset: what the type is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<Box<UserType>>,
    /// Of a `routine` asset: its signature, language and (SQL) body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routine: Option<Box<Routine>>,
    /// Of a `sequence` asset: its type, range, step and owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<Box<SequenceSchema>>,
}

impl AssetSchema {
    /// An asset with no columns, keys, indexes, comment, estimate or view definition.
    pub fn new(kind: AssetKind, path: AssetPath) -> Self {
        Self {
            kind,
            path,
            columns: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            comment: None,
            row_estimate: None,
            view_definition: None,
            size_bytes: None,
            last_analyzed: None,
            populated: None,
            partitioning: None,
            triggers: Vec::new(),
            user_type: None,
            routine: None,
            sequence: None,
        }
    }

    /// The content hash of this schema (see [`Fingerprint`]).
    ///
    /// ```
    /// use domain::discovery::{AssetKind, AssetPath, AssetSchema, ColumnSchema};
    ///
    /// let mut schema = AssetSchema::new(AssetKind::Table, AssetPath::parse("shop.public.orders").unwrap());
    /// schema.columns.push(ColumnSchema { primary_key: true, nullable: false, ..ColumnSchema::new("id", "bigint", 1) });
    /// schema.row_estimate = Some(1_200);
    /// let before = schema.fingerprint();
    /// schema.row_estimate = Some(1_250);
    /// assert_eq!(schema.fingerprint(), before, "row estimates do not change the fingerprint");
    /// ```
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(self)
    }

    /// The same schema in its canonical order: columns by ordinal (then name), foreign keys and
    /// indexes by name (then content). Two schemas that differ only in the order connectors listed
    /// things are equal once normalized; events store normalized schemas.
    pub fn normalized(mut self) -> Self {
        self.columns
            .sort_by(|a, b| a.ordinal.cmp(&b.ordinal).then_with(|| a.cmp(b)));
        self.foreign_keys.sort();
        self.indexes.sort();
        self.triggers.sort();
        if let Some(partitioning) = &mut self.partitioning {
            partitioning.partitions.sort();
        }
        self
    }

    /// Whether the schema is already in the order [`normalized`](Self::normalized) puts it in
    /// (a cheap check that spares a copy).
    pub fn is_normalized(&self) -> bool {
        self.columns.windows(2).all(|pair| {
            pair[0]
                .ordinal
                .cmp(&pair[1].ordinal)
                .then_with(|| pair[0].cmp(&pair[1]))
                .is_le()
        }) && self.foreign_keys.is_sorted()
            && self.indexes.is_sorted()
            && self.triggers.is_sorted()
            && self
                .partitioning
                .as_ref()
                .is_none_or(|p| p.partitions.is_sorted())
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnSchema> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Checks what the diff and the catalog rely on: column names are non-empty and unique, and
    /// every foreign key names as many columns as it references (at least one).
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut errors = Vec::new();
        let mut seen = HashSet::new();
        for (i, column) in self.columns.iter().enumerate() {
            if column.name.is_empty() {
                errors.push((format!("columns[{i}].name"), "must not be empty".to_owned()));
            } else if !seen.insert(column.name.as_str()) {
                errors.push((
                    format!("columns[{i}].name"),
                    format!("duplicate column {:?}", column.name),
                ));
            }
        }
        for (i, fk) in self.foreign_keys.iter().enumerate() {
            if fk.columns.is_empty() || fk.columns.len() != fk.referenced_columns.len() {
                errors.push((
                    format!("foreign_keys[{i}]"),
                    format!(
                        "{:?} must pair at least one column with one referenced column (got {} and {})",
                        fk.name,
                        fk.columns.len(),
                        fk.referenced_columns.len()
                    ),
                ));
            }
        }
        if errors.is_empty() {
            return Ok(());
        }
        Err(ValidationError {
            errors: errors
                .into_iter()
                .map(|(field, message)| crate::datasource::FieldError { field, message })
                .collect(),
        })
    }
}
