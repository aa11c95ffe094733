//! The kind-specific parts of an `Asset` in GraphQL: a partitioned table's partitioning, a
//! materialized view's populated state (a plain field of `Asset`), the triggers of a table, and
//! what a user-defined type, a routine or a sequence is. They are read from the discovered schema
//! the catalog read model stores; paths that name another asset of the same source (a
//! partition's parent, a trigger's function, a sequence's table, a column's type) come with that
//! asset's id, so clients can follow them with `asset(id)`.

use async_graphql::{SimpleObject, ID};
use domain::discovery::{
    AssetId, AssetPath, Partitioning, Routine, SequenceSchema, TriggerSchema, UserType,
};
use domain::AggregateId;

/// The id of the asset at `path` in the source `source`.
pub(super) fn asset_id(source: uuid::Uuid, path: &AssetPath) -> ID {
    ID(AssetId::for_path(AggregateId::from_uuid(source), path).to_string())
}

/// How a partitioned table splits its rows.
#[derive(SimpleObject)]
#[graphql(name = "Partitioning")]
pub struct PartitioningGql {
    /// `range`, `list` or `hash`.
    pub strategy: String,
    /// The partition key as the engine shows it, e.g. `(sold_on)`.
    pub key: String,
    /// Every partition (sub-partitions included), by path. Partitions are listed here, not as
    /// assets of their own.
    pub partitions: Vec<PartitionGql>,
}

/// One partition of a partitioned table.
#[derive(SimpleObject)]
#[graphql(name = "Partition")]
pub struct PartitionGql {
    /// e.g. `shop.sales.sales_2025`.
    pub path: String,
    /// Its bound, e.g. `FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')` or `DEFAULT`.
    pub bound: String,
    /// The partition it is a sub-partition of; null when directly under the table.
    pub parent: Option<String>,
}

impl From<Partitioning> for PartitioningGql {
    fn from(p: Partitioning) -> Self {
        Self {
            strategy: p.strategy,
            key: p.key,
            partitions: p
                .partitions
                .into_iter()
                .map(|partition| PartitionGql {
                    path: partition.path.to_string(),
                    bound: partition.bound,
                    parent: partition.parent.map(|p| p.to_string()),
                })
                .collect(),
        }
    }
}

/// A trigger on a table or view.
#[derive(SimpleObject)]
#[graphql(name = "Trigger")]
pub struct TriggerGql {
    /// The trigger's name.
    pub name: String,
    /// `BEFORE`, `AFTER` or `INSTEAD OF`.
    pub timing: String,
    /// `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`.
    pub events: Vec<String>,
    /// `ROW` or `STATEMENT`.
    pub level: String,
    /// Path of the routine it runs.
    pub function: Option<String>,
    /// Id of that routine's asset.
    pub function_asset_id: Option<ID>,
    /// Whether it fires (disabled triggers are listed too).
    pub enabled: bool,
    /// The `CREATE TRIGGER` statement.
    pub definition: String,
}

impl TriggerGql {
    pub(super) fn of(source: uuid::Uuid, trigger: TriggerSchema) -> Self {
        Self {
            function_asset_id: trigger.function.as_ref().map(|p| asset_id(source, p)),
            function: trigger.function.map(|p| p.to_string()),
            name: trigger.name,
            timing: trigger.timing,
            events: trigger.events,
            level: trigger.level,
            enabled: trigger.enabled,
            definition: trigger.definition,
        }
    }
}

/// What a user-defined type (asset kind `type`) is.
#[derive(SimpleObject)]
#[graphql(name = "UserType")]
pub struct UserTypeGql {
    /// `enum`, `domain` or `composite`.
    pub kind: String,
    /// An enum's labels in their sort order.
    pub values: Vec<String>,
    /// A domain's base type, e.g. `character varying(254)`.
    pub base_type: Option<String>,
    /// A domain that refuses NULL.
    pub not_null: bool,
    /// A domain's default expression.
    pub default: Option<String>,
    /// A domain's check constraints, each `name: CHECK (…)`.
    pub checks: Vec<String>,
    /// A composite type's attributes, in order.
    pub attributes: Vec<TypeAttributeGql>,
}

/// One attribute of a composite type.
#[derive(SimpleObject)]
#[graphql(name = "TypeAttribute")]
pub struct TypeAttributeGql {
    /// The attribute's name.
    pub name: String,
    /// The engine's type of the attribute.
    pub data_type: String,
    /// 1-based position.
    pub ordinal: i64,
    /// The user-defined type the attribute is of, if any (path).
    pub type_ref: Option<String>,
}

impl From<UserType> for UserTypeGql {
    fn from(t: UserType) -> Self {
        Self {
            kind: t.kind.as_str().to_owned(),
            values: t.values,
            base_type: t.base_type,
            not_null: t.not_null,
            default: t.default,
            checks: t.checks,
            attributes: t
                .attributes
                .into_iter()
                .map(|a| TypeAttributeGql {
                    name: a.name,
                    data_type: a.data_type,
                    ordinal: i64::from(a.ordinal),
                    type_ref: a.type_ref.map(|p| p.to_string()),
                })
                .collect(),
        }
    }
}

/// A function or procedure (asset kind `routine`).
#[derive(SimpleObject)]
#[graphql(name = "Routine")]
pub struct RoutineGql {
    /// `function`, `procedure`, `aggregate` or `window`.
    pub kind: String,
    /// Its name without arguments (the asset's name carries the argument types).
    pub name: String,
    /// The arguments as declared, e.g. `customer bigint, since date DEFAULT NULL`.
    pub arguments: String,
    /// The result type; null for a procedure.
    pub return_type: Option<String>,
    /// `sql`, `plpgsql`, `c`, `internal`, …
    pub language: String,
    /// The body of a SQL-language routine (where its lineage comes from).
    pub definition: Option<String>,
}

impl From<Routine> for RoutineGql {
    fn from(r: Routine) -> Self {
        Self {
            kind: r.kind,
            name: r.name,
            arguments: r.arguments,
            return_type: r.return_type,
            language: r.language,
            definition: r.definition,
        }
    }
}

/// A sequence (asset kind `sequence`). Bounds are strings: a `bigint` sequence's maximum does
/// not fit GraphQL's 32-bit `Int`.
#[derive(SimpleObject)]
#[graphql(name = "Sequence")]
pub struct SequenceGql {
    /// `smallint`, `integer` or `bigint`.
    pub data_type: String,
    /// The first value.
    pub start: String,
    /// The step between values (negative for a descending sequence).
    pub increment: String,
    /// The lowest value.
    pub min_value: String,
    /// The highest value.
    pub max_value: String,
    /// Whether it wraps around at its bound.
    pub cycle: bool,
    /// The table whose column owns it (serial, identity, `OWNED BY`), by path.
    pub owned_by_table: Option<String>,
    /// Id of that table's asset.
    pub owned_by_asset_id: Option<ID>,
    /// The owning column.
    pub owned_by_column: Option<String>,
}

impl SequenceGql {
    pub(super) fn of(source: uuid::Uuid, s: SequenceSchema) -> Self {
        Self {
            data_type: s.data_type,
            start: s.start.to_string(),
            increment: s.increment.to_string(),
            min_value: s.min_value.to_string(),
            max_value: s.max_value.to_string(),
            cycle: s.cycle,
            owned_by_asset_id: s.owned_by_table.as_ref().map(|p| asset_id(source, p)),
            owned_by_table: s.owned_by_table.map(|p| p.to_string()),
            owned_by_column: s.owned_by_column,
        }
    }
}

/// One part of the discovered schema a read-model row holds, typed; `None` when the schema has
/// no such part (or it does not read, which only a hand-edited read model would cause). Only
/// that part is decoded, not the whole schema.
pub(super) fn part<T: serde::de::DeserializeOwned>(
    schema: &serde_json::Value,
    key: &str,
) -> Option<T> {
    let value = schema.get(key)?;
    serde_json::from_value(value.clone()).ok()
}
