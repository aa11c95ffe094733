//! The stored form of scan events: type names, versions, round trips and decode errors.

use super::*;
use crate::aggregate::{DomainEvent, EventDecodeError};
use serde_json::json;

fn one_of_each() -> Vec<ScanEvent> {
    vec![
        started(ScanStrategy::Auto),
        progressed(3, None, ScanStrategy::Conservative),
        completed(),
        failed(),
    ]
}

#[test]
fn every_event_round_trips_through_its_stored_form() {
    let events = one_of_each();
    for event in &events {
        let (event_type, version) = (event.event_type(), event.version());
        assert_eq!(version, 1);
        assert!(
            ScanEvent::READABLE.contains(&(event_type, version)),
            "{event_type} v{version} has no schema"
        );
        let decoded = ScanEvent::from_stored(event_type, version, &event.to_data()).unwrap();
        assert_eq!(&decoded, event);
        assert!(format!("{event:?}").starts_with(&format!("{event_type}({event_type}")));
    }
    assert_eq!(
        events.len(),
        ScanEvent::READABLE.len(),
        "one sample per variant"
    );
}

#[test]
fn scan_started_is_stored_in_plain_json() {
    assert_eq!(
        started(ScanStrategy::Auto).to_data(),
        json!({
            "scan_id": "0192f0c4-2222-7000-8000-000000000001",
            "source_id": "0192f0c4-1111-7000-8000-000000000001",
            "strategy": "auto",
            "scope": { "include": ["sales.public.**"], "exclude": ["sales.public.tmp_*"] }
        })
    );
    assert_eq!(completed().to_data()["metrics"]["cache_hits"], 7);
}

#[test]
fn unknown_and_malformed_events_are_reported() {
    assert_eq!(
        ScanEvent::from_stored("ScanStarted", 2, &json!({})).unwrap_err(),
        EventDecodeError::Unknown {
            event_type: "ScanStarted".into(),
            version: 2
        }
    );
    let mut data = started(ScanStrategy::Auto).to_data();
    data["scope"]["include"] = json!(["a..b"]);
    let error = ScanEvent::from_stored("ScanStarted", 1, &data).unwrap_err();
    assert!(
        matches!(error, EventDecodeError::Malformed { ref event_type, version: 1, .. } if event_type == "ScanStarted"),
        "{error}"
    );
    let error =
        ScanEvent::from_stored("ScanProgressed", 1, &json!({ "assets_done": -1 })).unwrap_err();
    assert!(matches!(error, EventDecodeError::Malformed { .. }));
}
