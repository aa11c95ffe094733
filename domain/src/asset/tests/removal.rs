//! Recording that a scan covering the asset did not find it.

use super::*;
use crate::{Rejection, RejectionKind};

#[test]
fn a_present_asset_is_removed() {
    let state = given(vec![discovered()])
        .when(AssetCommand::RecordRemoval { scan_id: scan_2() })
        .then(vec![removed(scan_2())]);
    assert!(state.removed);
    assert!(state.exists());
    assert_eq!(state.schema, Some(orders()), "the last schema is kept");
    assert_eq!(state.last_scan, Some(scan_2()));
}

#[test]
fn removing_a_removed_asset_records_nothing() {
    given(vec![discovered(), removed(scan_1())])
        .when(AssetCommand::RecordRemoval { scan_id: scan_2() })
        .then_nothing();
}

#[test]
fn an_asset_never_discovered_cannot_be_removed() {
    let when = given(vec![]).when(AssetCommand::RecordRemoval { scan_id: scan_1() });
    assert_eq!(
        when.result().as_ref().unwrap_err().kind(),
        RejectionKind::NotFound
    );
    when.then_error(AssetError::NotFound);
}

#[test]
fn a_restored_asset_can_be_removed_again() {
    given(vec![discovered(), removed(scan_1()), restored(scan_2())])
        .when(AssetCommand::RecordRemoval { scan_id: scan_2() })
        .then(vec![removed(scan_2())]);
}
