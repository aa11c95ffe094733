//! [`SchemaDiff`]: what changed between two schemas of the same asset, as `SchemaChanged` carries
//! it. Columns are matched by name (a renamed column is one removed and one added); foreign keys
//! and indexes by their whole content (a changed index is one removed and one added).

use super::asset_schema::{AssetSchema, ColumnSchema, ForeignKey, IndexSchema};
use super::path::AssetPath;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A column present before and after whose definition changed (type, nullability, default, key
/// flag, ordinal or comment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ColumnChange {
    pub name: String,
    pub before: ColumnSchema,
    pub after: ColumnSchema,
}

/// The difference between two schemas of one asset.
///
/// For two [valid](AssetSchema::validate) schemas of the same path without duplicate keys or
/// indexes, the diff is empty exactly when their fingerprints are equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SchemaDiff {
    /// Columns only in the new schema, in ordinal order.
    pub added_columns: Vec<ColumnSchema>,
    /// Columns only in the old schema, in ordinal order.
    pub removed_columns: Vec<ColumnSchema>,
    /// Columns in both whose definition changed, in the new ordinal order.
    pub changed_columns: Vec<ColumnChange>,
    pub added_foreign_keys: Vec<ForeignKey>,
    pub removed_foreign_keys: Vec<ForeignKey>,
    pub added_indexes: Vec<IndexSchema>,
    pub removed_indexes: Vec<IndexSchema>,
    pub comment_changed: bool,
    pub view_definition_changed: bool,
    /// The asset's kind changed (e.g. a table was replaced by a view of the same name).
    pub kind_changed: bool,
    /// Partitions a partitioned table gained (paths).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added_partitions: Vec<AssetPath>,
    /// Partitions it lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_partitions: Vec<AssetPath>,
    /// Anything else of the kind's own details changed: the partition key or a partition's
    /// bound, a materialized view's populated state, the triggers, a type's definition, a
    /// routine's signature or body, a sequence's settings.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub details_changed: bool,
}

impl SchemaDiff {
    /// What changed from `old` to `new` (both are compared in normalized order).
    ///
    /// ```
    /// use domain::discovery::{AssetKind, AssetPath, AssetSchema, ColumnSchema, SchemaDiff};
    ///
    /// let mut old = AssetSchema::new(AssetKind::Table, AssetPath::parse("shop.public.orders").unwrap());
    /// old.columns = vec![ColumnSchema::new("id", "bigint", 1), ColumnSchema::new("note", "text", 2)];
    /// let mut new = old.clone();
    /// new.columns[1].data_type = "varchar(200)".into();
    /// new.columns.push(ColumnSchema::new("total", "numeric", 3));
    ///
    /// let diff = SchemaDiff::between(&old, &new);
    /// assert_eq!(diff.added_columns, vec![ColumnSchema::new("total", "numeric", 3)]);
    /// assert_eq!(diff.changed_columns[0].name, "note");
    /// assert!(!diff.is_empty());
    /// assert!(SchemaDiff::between(&old, &old).is_empty());
    /// ```
    pub fn between(old: &AssetSchema, new: &AssetSchema) -> SchemaDiff {
        let old = old.clone().normalized();
        let new = new.clone().normalized();
        let old_columns: HashMap<&str, &ColumnSchema> =
            old.columns.iter().map(|c| (c.name.as_str(), c)).collect();
        let new_columns: HashMap<&str, &ColumnSchema> =
            new.columns.iter().map(|c| (c.name.as_str(), c)).collect();

        let mut diff = SchemaDiff::default();
        for after in &new.columns {
            match old_columns.get(after.name.as_str()) {
                None => diff.added_columns.push(after.clone()),
                Some(before) if *before != after => diff.changed_columns.push(ColumnChange {
                    name: after.name.clone(),
                    before: (*before).clone(),
                    after: after.clone(),
                }),
                Some(_) => {}
            }
        }
        diff.removed_columns = old
            .columns
            .iter()
            .filter(|c| !new_columns.contains_key(c.name.as_str()))
            .cloned()
            .collect();
        diff.added_foreign_keys = only_in(&new.foreign_keys, &old.foreign_keys);
        diff.removed_foreign_keys = only_in(&old.foreign_keys, &new.foreign_keys);
        diff.added_indexes = only_in(&new.indexes, &old.indexes);
        diff.removed_indexes = only_in(&old.indexes, &new.indexes);
        diff.comment_changed = old.comment != new.comment;
        diff.view_definition_changed = old.view_definition != new.view_definition;
        diff.kind_changed = old.kind != new.kind;
        let partitions = |schema: &AssetSchema| -> Vec<AssetPath> {
            schema
                .partitioning
                .iter()
                .flat_map(|p| p.partitions.iter().map(|p| p.path.clone()))
                .collect()
        };
        diff.added_partitions = only_in(&partitions(&new), &partitions(&old));
        diff.removed_partitions = only_in(&partitions(&old), &partitions(&new));
        diff.details_changed = old.populated != new.populated
            || old.triggers != new.triggers
            || old.user_type != new.user_type
            || old.routine != new.routine
            || old.sequence != new.sequence
            || partitioning_changed(&old, &new);
        diff
    }

    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self == &SchemaDiff::default()
    }
}

/// The partition key or strategy changed, partitioning began or ended, or a partition present
/// before and after has another bound or parent (gained and lost partitions are listed apart).
fn partitioning_changed(old: &AssetSchema, new: &AssetSchema) -> bool {
    match (&old.partitioning, &new.partitioning) {
        (Some(before), Some(after)) => {
            before.strategy != after.strategy
                || before.key != after.key
                || before
                    .partitions
                    .iter()
                    .any(|p| after.partitions.iter().any(|q| q.path == p.path && q != p))
        }
        (before, after) => before.is_some() != after.is_some(),
    }
}

fn only_in<T: PartialEq + Clone>(these: &[T], others: &[T]) -> Vec<T> {
    these
        .iter()
        .filter(|item| !others.contains(item))
        .cloned()
        .collect()
}
