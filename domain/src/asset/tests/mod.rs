//! Tests of the asset aggregate, written as stories: given these events happened, when this
//! command arrives, then these events (or this error) follow.
//!
//! - `discovery.rs`: first discovery, no-change rescans, changes, restores and refusals.
//! - `removal.rs`: removals.
//! - `lineage.rs`: recording and replacing lineage edges.
//! - `labels.rs`: classification labels, review, propagation.
//! - `events.rs`: stored form and decoding of events.
//! - `metadata.rs`: the asset's own owner, tags and description.

mod discovery;
mod events;
mod labels;
mod lineage;
mod metadata;
mod removal;

use super::*;
use crate::discovery::*;
use crate::ids::AggregateId;
use crate::testing::{self, Given};

pub(super) fn given(events: Vec<AssetEvent>) -> Given<Asset> {
    testing::given(events)
}

// ---- fixtures -----------------------------------------------------------------------------

pub(super) fn source_id() -> AggregateId {
    AggregateId::parse("0192f0c4-1111-7000-8000-000000000001").unwrap()
}

pub(super) fn scan_1() -> AggregateId {
    AggregateId::parse("0192f0c4-2222-7000-8000-000000000001").unwrap()
}

pub(super) fn scan_2() -> AggregateId {
    AggregateId::parse("0192f0c4-2222-7000-8000-000000000002").unwrap()
}

pub(super) fn path(raw: &str) -> AssetPath {
    AssetPath::parse(raw).unwrap()
}

pub(super) fn orders_path() -> AssetPath {
    path("sales.public.orders")
}

pub(super) fn asset_id() -> AggregateId {
    AssetId::for_path(source_id(), &orders_path())
}

/// The orders table as the first scan reports it (normalized order).
pub(super) fn orders() -> AssetSchema {
    AssetSchema {
        columns: vec![
            ColumnSchema {
                nullable: false,
                primary_key: true,
                ..ColumnSchema::new("id", "bigint", 1)
            },
            ColumnSchema::new("customer_id", "bigint", 2),
            ColumnSchema::new("total", "numeric(12,2)", 3),
        ],
        foreign_keys: vec![ForeignKey {
            name: "orders_customer_id_fkey".into(),
            columns: vec!["customer_id".into()],
            referenced: path("sales.public.customers"),
            referenced_columns: vec!["id".into()],
        }],
        indexes: vec![IndexSchema {
            name: "orders_pkey".into(),
            columns: vec!["id".into()],
            unique: true,
            primary: true,
            method: None,
        }],
        row_estimate: Some(1_000),
        ..AssetSchema::new(AssetKind::Table, orders_path())
    }
}

/// The orders table after `total` became wider and `note` was added.
pub(super) fn orders_v2() -> AssetSchema {
    let mut schema = orders();
    schema.columns[2].data_type = "numeric(14,2)".into();
    schema.columns.push(ColumnSchema::new("note", "text", 4));
    schema
}

pub(super) fn discover(scan_id: AggregateId, schema: AssetSchema) -> AssetCommand {
    AssetCommand::RecordDiscovery {
        asset_id: asset_id(),
        source_id: source_id(),
        scan_id,
        schema,
        statistics_threshold: StatisticsThreshold::DEFAULT,
    }
}

pub(super) fn discovered() -> AssetEvent {
    AssetEvent::SchemaDiscovered(SchemaDiscovered {
        asset_id: asset_id(),
        source_id: source_id(),
        scan_id: scan_1(),
        schema: orders(),
        fingerprint: orders().fingerprint(),
    })
}

pub(super) fn changed(scan_id: AggregateId, from: AssetSchema, to: AssetSchema) -> AssetEvent {
    AssetEvent::SchemaChanged(SchemaChanged {
        asset_id: asset_id(),
        scan_id,
        diff: Box::new(SchemaDiff::between(&from, &to)),
        fingerprint: to.fingerprint(),
        schema: to,
    })
}

pub(super) fn removed(scan_id: AggregateId) -> AssetEvent {
    AssetEvent::AssetRemoved(AssetRemoved {
        asset_id: asset_id(),
        scan_id,
    })
}

pub(super) fn restored(scan_id: AggregateId) -> AssetEvent {
    AssetEvent::AssetRestored(AssetRestored {
        asset_id: asset_id(),
        scan_id,
    })
}

/// `customers.id → orders.customer_id`, as the foreign key declares it.
pub(super) fn fk_edge() -> LineageEdge {
    orders().foreign_key_lineage().remove(0)
}

/// `orders → order_totals` (table level, recorded on the view's side but touching orders).
pub(super) fn view_edge() -> LineageEdge {
    LineageEdge::table_level(
        orders_path(),
        path("sales.public.order_totals"),
        LineageKind::View,
    )
}

pub(super) fn lineage_recorded(edges: Vec<LineageEdge>) -> AssetEvent {
    AssetEvent::LineageRecorded(LineageRecorded {
        asset_id: asset_id(),
        edges,
    })
}

pub(super) fn lineage_retracted(edges: Vec<LineageEdge>) -> AssetEvent {
    AssetEvent::LineageRetracted(LineageRetracted {
        asset_id: asset_id(),
        edges,
    })
}
