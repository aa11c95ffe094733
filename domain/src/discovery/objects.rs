//! The database objects discovery records beyond columns, keys and indexes: how a partitioned
//! table is partitioned and what its partitions are, user-defined types (enums, domains,
//! composite types), routines (functions and procedures), sequences and the triggers of a table.
//!
//! Each is an optional part of an [`AssetSchema`](super::AssetSchema), present only on the kind
//! of asset it describes and left out of the stored form when absent, so schemas recorded before
//! these existed read (and fingerprint) exactly as they did.

use super::asset_schema::ColumnSchema;
use super::path::AssetPath;
use crate::datasource::values::keyword_enum;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a partitioned table splits its rows, and the partitions it has.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct Partitioning {
    /// `range`, `list` or `hash`.
    pub strategy: String,
    /// The partition key as the engine shows it, e.g. `(sold_on)` or `(lower(region))`.
    pub key: String,
    /// Every partition below the table (sub-partitions included), by path. Partitions are not
    /// assets of their own: the partitioned table is what users govern.
    pub partitions: Vec<Partition>,
}

/// One partition of a partitioned table.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct Partition {
    pub path: AssetPath,
    /// Its bound as the engine shows it: `FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`,
    /// `DEFAULT`.
    pub bound: String,
    /// The partition it is a sub-partition of; none when it is directly under the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<AssetPath>,
}

keyword_enum! {
    /// What a user-defined type is.
    pub enum UserTypeKind ("user type kind") {
        /// A fixed list of labels.
        Enum = "enum",
        /// A base type with constraints (`CREATE DOMAIN`).
        Domain = "domain",
        /// A record of named attributes (`CREATE TYPE … AS (…)`).
        Composite = "composite",
    }
}

/// A user-defined type (the asset kind `type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UserType {
    pub kind: UserTypeKind,
    /// An enum's labels, in their sort order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// A domain's base type, e.g. `character varying(254)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_type: Option<String>,
    /// A domain that refuses NULL.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_null: bool,
    /// A domain's default expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// A domain's check constraints, each as `name: CHECK (…)`, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
    /// A composite type's attributes, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<ColumnSchema>,
}

impl UserType {
    /// A type of this kind with nothing else known yet.
    pub fn new(kind: UserTypeKind) -> Self {
        Self {
            kind,
            values: Vec::new(),
            base_type: None,
            not_null: false,
            default: None,
            checks: Vec::new(),
            attributes: Vec::new(),
        }
    }
}

/// A function or procedure (the asset kind `routine`). Its path's last segment is its name with
/// its argument types, e.g. `order_total(bigint)`, so overloads are distinct assets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Routine {
    /// `function`, `procedure`, `aggregate` or `window`.
    pub kind: String,
    /// The routine's own name (without arguments).
    pub name: String,
    /// The arguments as declared, e.g. `customer bigint, since date DEFAULT NULL`.
    pub arguments: String,
    /// The result type (`integer`, `SETOF public.orders`, `TABLE(id bigint, …)`); none for a
    /// procedure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_type: Option<String>,
    /// `sql`, `plpgsql`, `c`, `internal`, …
    pub language: String,
    /// The body of a SQL-language routine (the source of its lineage); other languages' bodies
    /// are not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
}

/// A sequence (the asset kind `sequence`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SequenceSchema {
    /// `smallint`, `integer` or `bigint`.
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min_value: i64,
    pub max_value: i64,
    pub cycle: bool,
    /// The table whose column owns it (`OWNED BY`, serial and identity columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by_table: Option<AssetPath>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by_column: Option<String>,
}

/// A trigger on a table or view.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct TriggerSchema {
    pub name: String,
    /// `BEFORE`, `AFTER` or `INSTEAD OF`.
    pub timing: String,
    /// `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`.
    pub events: Vec<String>,
    /// `ROW` or `STATEMENT`.
    pub level: String,
    /// The routine it runs (path of that `routine` asset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<AssetPath>,
    /// Disabled triggers are kept, with this false.
    pub enabled: bool,
    /// The whole `CREATE TRIGGER` statement as the engine shows it.
    pub definition: String,
}
