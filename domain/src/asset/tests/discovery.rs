//! Recording what a scan found: first discovery, silent no-change rescans, changes with their
//! diff, restores, and the refusals.

use super::*;
use crate::datasource::ValidationError;
use crate::{Rejection, RejectionKind};

#[test]
fn an_unknown_asset_is_discovered() {
    let state = given(vec![])
        .when(discover(scan_1(), orders()))
        .then(vec![discovered()]);
    assert_eq!(state.id, Some(asset_id()));
    assert_eq!(state.source_id, Some(source_id()));
    assert_eq!(state.path, Some(orders_path()));
    assert_eq!(state.kind, Some(AssetKind::Table));
    assert_eq!(state.schema, Some(orders()));
    assert_eq!(state.fingerprint, Some(orders().fingerprint()));
    assert!(!state.removed);
    assert_eq!(state.last_scan, Some(scan_1()));
    assert_eq!(state.version, 1);
}

#[test]
fn the_recorded_schema_is_normalized() {
    let mut shuffled = orders();
    shuffled.columns.reverse();
    given(vec![])
        .when(discover(scan_1(), shuffled))
        .then(vec![discovered()]);
}

#[test]
fn a_rescan_without_change_records_nothing() {
    given(vec![discovered()])
        .when(discover(scan_2(), orders()))
        .then_nothing();
    // Neither a new row estimate nor another listing order is a change.
    let mut same = orders();
    same.row_estimate = Some(1_234_567);
    same.columns.reverse();
    same.indexes.reverse();
    given(vec![discovered()])
        .when(discover(scan_2(), same))
        .then_nothing();
}

#[test]
fn a_changed_schema_is_recorded_with_its_diff() {
    let state = given(vec![discovered()])
        .when(discover(scan_2(), orders_v2()))
        .then(vec![changed(scan_2(), orders(), orders_v2())]);
    assert_eq!(state.schema, Some(orders_v2()));
    assert_eq!(state.fingerprint, Some(orders_v2().fingerprint()));
    assert_eq!(state.last_scan, Some(scan_2()));

    let AssetEvent::SchemaChanged(event) = changed(scan_2(), orders(), orders_v2()) else {
        unreachable!()
    };
    assert_eq!(
        event.diff.added_columns,
        vec![ColumnSchema::new("note", "text", 4)]
    );
    assert_eq!(event.diff.changed_columns.len(), 1);
    assert_eq!(event.diff.changed_columns[0].name, "total");
    assert_eq!(
        event.diff.changed_columns[0].before.data_type,
        "numeric(12,2)"
    );
    assert_eq!(
        event.diff.changed_columns[0].after.data_type,
        "numeric(14,2)"
    );

    // And the next rescan of the new schema is silent again.
    given(vec![discovered(), changed(scan_2(), orders(), orders_v2())])
        .when(discover(scan_2(), orders_v2()))
        .then_nothing();
}

#[test]
fn a_change_of_kind_is_a_schema_change() {
    let mut view = orders();
    view.kind = AssetKind::View;
    view.view_definition = Some("SELECT * FROM sales.public.orders_2024".into());
    let state = given(vec![discovered()])
        .when(discover(scan_2(), view.clone()))
        .then(vec![changed(scan_2(), orders(), view)]);
    assert_eq!(state.kind, Some(AssetKind::View));
}

#[test]
fn a_removed_asset_that_reappears_unchanged_is_restored() {
    let state = given(vec![discovered(), removed(scan_1())])
        .when(discover(scan_2(), orders()))
        .then(vec![restored(scan_2())]);
    assert!(!state.removed);
    assert_eq!(state.last_scan, Some(scan_2()));
}

#[test]
fn a_removed_asset_that_reappears_changed_is_restored_then_changed() {
    let state = given(vec![discovered(), removed(scan_1())])
        .when(discover(scan_2(), orders_v2()))
        .then(vec![
            restored(scan_2()),
            changed(scan_2(), orders(), orders_v2()),
        ]);
    assert!(!state.removed);
    assert_eq!(state.schema, Some(orders_v2()));
}

#[test]
fn the_asset_id_must_be_derived_from_source_and_path() {
    let wrong = AggregateId::parse("0192f0c4-9999-7000-8000-000000000001").unwrap();
    for history in [vec![], vec![discovered()]] {
        let when = given(history).when(AssetCommand::RecordDiscovery {
            asset_id: wrong,
            source_id: source_id(),
            scan_id: scan_1(),
            schema: orders(),
        });
        assert_eq!(
            when.result().as_ref().unwrap_err().kind(),
            RejectionKind::Invalid
        );
        when.then_error(AssetError::IdMismatch {
            expected: asset_id(),
            got: wrong,
        });
    }
}

#[test]
fn another_source_or_path_on_an_existing_asset_is_refused() {
    let other_source = AggregateId::parse("0192f0c4-1111-7000-8000-000000000002").unwrap();
    let when = given(vec![discovered()]).when(AssetCommand::RecordDiscovery {
        asset_id: AssetId::for_path(other_source, &orders_path()),
        source_id: other_source,
        scan_id: scan_2(),
        schema: orders(),
    });
    assert_eq!(
        when.result().as_ref().unwrap_err().kind(),
        RejectionKind::Refused
    );
    when.then_error(AssetError::SourceMismatch {
        expected: source_id(),
        got: other_source,
    });

    let customers = AssetSchema::new(AssetKind::Table, path("sales.public.customers"));
    let when = given(vec![discovered()]).when(AssetCommand::RecordDiscovery {
        asset_id: AssetId::for_path(source_id(), &customers.path),
        source_id: source_id(),
        scan_id: scan_2(),
        schema: customers,
    });
    assert_eq!(
        when.result().as_ref().unwrap_err().kind(),
        RejectionKind::Refused
    );
    when.then_error(AssetError::PathMismatch {
        expected: orders_path(),
        got: path("sales.public.customers"),
    });
}

#[test]
fn an_invalid_schema_is_refused() {
    let mut bad = orders();
    bad.columns.push(ColumnSchema::new("id", "text", 9));
    let when = given(vec![]).when(discover(scan_1(), bad));
    assert_eq!(
        when.result().as_ref().unwrap_err().kind(),
        RejectionKind::Invalid
    );
    when.then_error(AssetError::Validation(ValidationError::single(
        "columns[3].name",
        "duplicate column \"id\"",
    )));
}

#[test]
fn discovered_asset_ids_are_stable_across_scans() {
    // Two scans computing the id independently land on the same aggregate.
    let first = AssetId::for_path(
        source_id(),
        &AssetPath::parse("sales.public.orders").unwrap(),
    );
    let second = AssetId::for_path(
        source_id(),
        &AssetPath::new(["sales", "public", "orders"]).unwrap(),
    );
    assert_eq!(first, second);
    assert_eq!(first, asset_id());
}
