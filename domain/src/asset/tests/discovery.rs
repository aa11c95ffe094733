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
    // Neither a row estimate within the threshold nor another listing order is a change.
    let mut same = orders();
    same.row_estimate = Some(1_090);
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
            statistics_threshold: StatisticsThreshold::DEFAULT,
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
        statistics_threshold: StatisticsThreshold::DEFAULT,
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
        statistics_threshold: StatisticsThreshold::DEFAULT,
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

// ---- statistics -----------------------------------------------------------------------------

fn with_statistics(row_estimate: Option<i64>, size_bytes: Option<i64>) -> AssetSchema {
    let mut schema = orders();
    schema.row_estimate = row_estimate;
    schema.size_bytes = size_bytes;
    schema
}

fn statistics_changed(row_estimate: Option<i64>, size_bytes: Option<i64>) -> AssetEvent {
    AssetEvent::StatisticsChanged(StatisticsChanged {
        asset_id: asset_id(),
        scan_id: scan_2(),
        row_estimate,
        size_bytes,
        last_analyzed: None,
    })
}

#[test]
fn statistics_that_moved_beyond_the_threshold_are_recorded_alone() {
    // orders() was recorded with 1 000 rows; 1 200 is 20 % more.
    let state = given(vec![discovered()])
        .when(discover(scan_2(), with_statistics(Some(1_200), None)))
        .then(vec![statistics_changed(Some(1_200), None)]);
    assert_eq!(state.schema.as_ref().unwrap().row_estimate, Some(1_200));
    assert_eq!(state.fingerprint, Some(orders().fingerprint()));
    // The new figures are the baseline: 1 250 is within 10 % of 1 200.
    given(vec![discovered(), statistics_changed(Some(1_200), None)])
        .when(discover(scan_2(), with_statistics(Some(1_250), None)))
        .then_nothing();
}

#[test]
fn a_first_estimate_after_analyze_is_recorded() {
    let mut never_analyzed = orders();
    never_analyzed.row_estimate = None;
    let first = AssetEvent::SchemaDiscovered(SchemaDiscovered {
        asset_id: asset_id(),
        source_id: source_id(),
        scan_id: scan_1(),
        fingerprint: never_analyzed.fingerprint(),
        schema: never_analyzed,
    });
    let analyzed = chrono::DateTime::parse_from_rfc3339("2026-12-06T17:00:00Z")
        .unwrap()
        .to_utc();
    let mut schema = with_statistics(Some(40), Some(8_192));
    schema.last_analyzed = Some(analyzed);
    let state = given(vec![first])
        .when(discover(scan_2(), schema))
        .then(vec![AssetEvent::StatisticsChanged(StatisticsChanged {
            asset_id: asset_id(),
            scan_id: scan_2(),
            row_estimate: Some(40),
            size_bytes: Some(8_192),
            last_analyzed: Some(analyzed),
        })]);
    assert_eq!(state.schema.unwrap().last_analyzed, Some(analyzed));
}

#[test]
fn a_new_analysis_time_or_a_small_move_alone_records_nothing() {
    let mut schema = with_statistics(Some(1_050), None);
    schema.last_analyzed = Some(chrono::Utc::now());
    given(vec![discovered()])
        .when(discover(scan_2(), schema))
        .then_nothing();
}

#[test]
fn the_threshold_is_the_commands() {
    let every_change = AssetCommand::RecordDiscovery {
        asset_id: asset_id(),
        source_id: source_id(),
        scan_id: scan_2(),
        schema: with_statistics(Some(1_001), None),
        statistics_threshold: StatisticsThreshold::from_percent(0.0).unwrap(),
    };
    given(vec![discovered()])
        .when(every_change)
        .then(vec![statistics_changed(Some(1_001), None)]);
    assert!(StatisticsThreshold::from_percent(-1.0).is_err());
    assert!(StatisticsThreshold::from_percent(f64::NAN).is_err());
}

#[test]
fn a_size_that_doubled_is_a_statistics_change() {
    let before = with_statistics(Some(1_000), Some(16_384));
    let first = AssetEvent::SchemaDiscovered(SchemaDiscovered {
        asset_id: asset_id(),
        source_id: source_id(),
        scan_id: scan_1(),
        fingerprint: before.fingerprint(),
        schema: before,
    });
    given(vec![first])
        .when(discover(
            scan_2(),
            with_statistics(Some(1_000), Some(32_768)),
        ))
        .then(vec![statistics_changed(Some(1_000), Some(32_768))]);
}

#[test]
fn a_refreshed_materialized_view_is_a_change_of_details() {
    let mut unpopulated = orders();
    unpopulated.kind = AssetKind::MaterializedView;
    unpopulated.populated = Some(false);
    let mut populated = unpopulated.clone();
    populated.populated = Some(true);
    let first = AssetEvent::SchemaDiscovered(SchemaDiscovered {
        asset_id: asset_id(),
        source_id: source_id(),
        scan_id: scan_1(),
        fingerprint: unpopulated.fingerprint(),
        schema: unpopulated.clone(),
    });
    let state = given(vec![first])
        .when(discover(scan_2(), populated.clone()))
        .then(vec![changed(scan_2(), unpopulated, populated)]);
    assert_eq!(state.schema.unwrap().populated, Some(true));
}
