//! Recording and replacing the lineage edges an asset's schema declares.

use super::*;
use crate::datasource::ValidationError;
use crate::{Rejection, RejectionKind};

#[test]
fn new_edges_are_recorded() {
    let state = given(vec![discovered()])
        .when(AssetCommand::RecordLineage {
            edges: vec![fk_edge(), view_edge(), fk_edge()],
        })
        .then(vec![lineage_recorded(vec![fk_edge(), view_edge()])]);
    assert_eq!(state.lineage, vec![fk_edge(), view_edge()]);
}

#[test]
fn only_edges_not_yet_recorded_are_recorded() {
    given(vec![discovered(), lineage_recorded(vec![fk_edge()])])
        .when(AssetCommand::RecordLineage {
            edges: vec![fk_edge(), view_edge()],
        })
        .then(vec![lineage_recorded(vec![view_edge()])]);
    given(vec![discovered(), lineage_recorded(vec![fk_edge()])])
        .when(AssetCommand::RecordLineage {
            edges: vec![fk_edge()],
        })
        .then_nothing();
    given(vec![discovered()])
        .when(AssetCommand::RecordLineage { edges: vec![] })
        .then_nothing();
}

#[test]
fn replacing_lineage_retracts_stale_edges_and_records_new_ones() {
    let mut column_level = view_edge();
    column_level.from_columns = vec!["total".into()];
    column_level.to_columns = vec!["sum_total".into()];
    let state = given(vec![
        discovered(),
        lineage_recorded(vec![fk_edge(), view_edge()]),
    ])
    .when(AssetCommand::ReplaceLineage {
        edges: vec![fk_edge(), column_level.clone()],
    })
    .then(vec![
        lineage_retracted(vec![view_edge()]),
        lineage_recorded(vec![column_level.clone()]),
    ]);
    assert_eq!(state.lineage, vec![fk_edge(), column_level]);

    given(vec![discovered(), lineage_recorded(vec![fk_edge()])])
        .when(AssetCommand::ReplaceLineage {
            edges: vec![fk_edge()],
        })
        .then_nothing();
    let state = given(vec![discovered(), lineage_recorded(vec![fk_edge()])])
        .when(AssetCommand::ReplaceLineage { edges: vec![] })
        .then(vec![lineage_retracted(vec![fk_edge()])]);
    assert!(state.lineage.is_empty());
}

#[test]
fn edges_must_touch_the_asset_and_name_no_empty_column() {
    let mut elsewhere = fk_edge();
    elsewhere.to = path("sales.public.invoices");
    let mut empty_column = fk_edge();
    empty_column.to_columns = vec![String::new()];
    for command in [
        AssetCommand::RecordLineage {
            edges: vec![fk_edge(), elsewhere.clone(), empty_column.clone()],
        },
        AssetCommand::ReplaceLineage {
            edges: vec![fk_edge(), elsewhere.clone(), empty_column.clone()],
        },
    ] {
        let when = given(vec![discovered()]).when(command);
        let error = when.result().clone().unwrap_err();
        assert_eq!(error.kind(), RejectionKind::Invalid);
        let AssetError::Validation(ValidationError { errors }) = &error else {
            panic!("{error}")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["edges[1]", "edges[2].to_columns[0]"]);
        assert!(
            errors[0]
                .message
                .contains("sales.public.customers → sales.public.invoices"),
            "{}",
            errors[0].message
        );
    }
}

#[test]
fn lineage_needs_a_present_asset() {
    for command in [
        AssetCommand::RecordLineage {
            edges: vec![fk_edge()],
        },
        AssetCommand::ReplaceLineage {
            edges: vec![fk_edge()],
        },
    ] {
        let when = given(vec![]).when(command.clone());
        assert_eq!(
            when.result().as_ref().unwrap_err().kind(),
            RejectionKind::NotFound
        );
        when.then_error(AssetError::NotFound);

        let when = given(vec![discovered(), removed(scan_2())]).when(command);
        assert_eq!(
            when.result().as_ref().unwrap_err().kind(),
            RejectionKind::Refused
        );
        when.then_error(AssetError::Removed {
            path: orders_path(),
        });
    }
}

#[test]
fn lineage_survives_schema_changes_until_replaced() {
    let g = given(vec![
        discovered(),
        lineage_recorded(vec![fk_edge()]),
        changed(scan_2(), orders(), orders_v2()),
    ]);
    assert_eq!(g.state().lineage, vec![fk_edge()]);
    assert_eq!(g.state().version, 3);
}
