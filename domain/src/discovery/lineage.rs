//! [`LineageEdge`]: data flowing from one asset to another, as far as schemas tell: foreign keys
//! and view definitions. Edges point downstream: `from` is where the data comes from, `to` where
//! it ends up.
//!
//! - A foreign key of table `orders` referencing `customers` is the edge `customers → orders`
//!   (the referencing rows take their key values from the referenced table), column level:
//!   `customers.id → orders.customer_id`. [`AssetSchema::foreign_key_lineage`] derives these.
//! - A view reading `orders` is the edge `orders → view`; column level where the view's SQL says
//!   which source columns feed which view columns (parsing SQL is the connectors' job).
//! - A SQL-language routine whose body reads `orders` is the edge `orders → routine`.

use super::asset_schema::{AssetSchema, ForeignKey};
use super::path::AssetPath;
use crate::datasource::values::keyword_enum;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

keyword_enum! {
    /// Where a lineage edge was learned from.
    pub enum LineageKind ("lineage kind") {
        ForeignKey = "foreign_key",
        View = "view",
        /// A SQL-language routine reads `from` (the edge ends at the routine).
        Routine = "routine",
    }
}

/// One lineage edge between two assets of the same source. Table level when both column lists
/// are empty; otherwise `from_columns` of `from` feed `to_columns` of `to` (for a foreign key
/// pairwise; for a view, all of `from_columns` feed all of `to_columns`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct LineageEdge {
    pub from: AssetPath,
    pub from_columns: Vec<String>,
    pub to: AssetPath,
    pub to_columns: Vec<String>,
    pub kind: LineageKind,
}

impl LineageEdge {
    /// A table-level edge.
    pub fn table_level(from: AssetPath, to: AssetPath, kind: LineageKind) -> Self {
        Self {
            from,
            from_columns: Vec::new(),
            to,
            to_columns: Vec::new(),
            kind,
        }
    }

    /// The edge a foreign key of the table at `table` declares: referenced → referencing,
    /// column level.
    pub fn from_foreign_key(table: &AssetPath, foreign_key: &ForeignKey) -> Self {
        Self {
            from: foreign_key.referenced.clone(),
            from_columns: foreign_key.referenced_columns.clone(),
            to: table.clone(),
            to_columns: foreign_key.columns.clone(),
            kind: LineageKind::ForeignKey,
        }
    }

    /// Whether the edge names columns.
    pub fn is_column_level(&self) -> bool {
        !self.from_columns.is_empty() || !self.to_columns.is_empty()
    }

    /// Whether the edge starts or ends at `path`.
    pub fn touches(&self, path: &AssetPath) -> bool {
        &self.from == path || &self.to == path
    }
}

impl AssetSchema {
    /// The lineage edges this asset's foreign keys declare, one per foreign key, deduplicated.
    ///
    /// ```
    /// use domain::discovery::*;
    ///
    /// let customers = AssetPath::parse("shop.public.customers").unwrap();
    /// let mut orders = AssetSchema::new(AssetKind::Table, AssetPath::parse("shop.public.orders").unwrap());
    /// orders.foreign_keys.push(ForeignKey {
    ///     name: "orders_customer_id_fkey".into(),
    ///     columns: vec!["customer_id".into()],
    ///     referenced: customers.clone(),
    ///     referenced_columns: vec!["id".into()],
    /// });
    /// let edges = orders.foreign_key_lineage();
    /// assert_eq!(edges[0].from, customers);
    /// assert_eq!(edges[0].to_columns, vec!["customer_id".to_string()]);
    /// ```
    pub fn foreign_key_lineage(&self) -> Vec<LineageEdge> {
        let mut edges: Vec<LineageEdge> = Vec::new();
        for foreign_key in &self.foreign_keys {
            let edge = LineageEdge::from_foreign_key(&self.path, foreign_key);
            if !edges.contains(&edge) {
                edges.push(edge);
            }
        }
        edges
    }
}
