//! The stored form of asset events: type names, versions, round trips and decode errors.

use super::*;
use crate::aggregate::{DomainEvent, EventDecodeError};
use crate::classification::{ClassificationType, ColumnProfile, Label, Signal, Tier};
use serde_json::json;

fn one_of_each() -> Vec<AssetEvent> {
    vec![
        discovered(),
        changed(scan_2(), orders(), orders_v2()),
        restored(scan_2()),
        removed(scan_2()),
        lineage_recorded(vec![fk_edge(), view_edge()]),
        lineage_retracted(vec![view_edge()]),
        profiled(),
        classified(),
        AssetEvent::ClassificationSuggested(ClassificationSuggested {
            asset_id: asset_id(),
            column: "total".into(),
            label: Label::Custom("INTERNAL_PRICE".into()),
            confidence: 0.6,
            signals: vec![],
            evidence_key: evidence_key(&[]),
            origin: LabelOrigin::Classifier,
            rule_set: None,
        }),
        AssetEvent::ClassificationConfirmed(ClassificationConfirmed {
            asset_id: asset_id(),
            column: "total".into(),
            label: Label::Custom("INTERNAL_PRICE".into()),
            note: Some("yes".into()),
        }),
        AssetEvent::ClassificationRejected(ClassificationRejected {
            asset_id: asset_id(),
            column: "total".into(),
            label: Label::BuiltIn(ClassificationType::PhoneNumber),
            evidence_key: "00ff".into(),
            reason: None,
        }),
        AssetEvent::ClassificationRevoked(ClassificationRevoked {
            asset_id: asset_id(),
            column: "total".into(),
            label: Label::BuiltIn(ClassificationType::PhoneNumber),
            reason: "origin rejected".into(),
        }),
        AssetEvent::AssetMetadataChanged(AssetMetadataChanged {
            asset_id: asset_id(),
            owner: Some(crate::owner::Owner {
                name: "billing-team".into(),
                kind: crate::owner::OwnerKind::Team,
                owner_type: crate::owner::OwnerType::Business,
            }),
            tags: vec!["purpose:invoicing".into()],
            description: None,
        }),
        AssetEvent::StatisticsChanged(StatisticsChanged {
            asset_id: asset_id(),
            scan_id: scan_2(),
            row_estimate: Some(52_000),
            size_bytes: Some(7_340_032),
            last_analyzed: Some(
                chrono::DateTime::parse_from_rfc3339("2026-12-06T17:00:00Z")
                    .unwrap()
                    .to_utc(),
            ),
        }),
    ]
}

fn profiled() -> AssetEvent {
    AssetEvent::ColumnsProfiled(ColumnsProfiled {
        asset_id: asset_id(),
        rows: 3,
        profiles: vec![ColumnProfile::build(
            "total",
            "numeric",
            &[Some("12.50"), None, Some("7.00")],
            &[],
        )],
    })
}

fn classified() -> AssetEvent {
    AssetEvent::AssetClassified(AssetClassified {
        asset_id: asset_id(),
        column: "total".into(),
        label: Label::BuiltIn(ClassificationType::CreditCardNumber),
        confidence: 0.93,
        signals: vec![Signal {
            tier: Tier::Rule,
            detail: "95 of 100 sampled non-null values pass Luhn".into(),
            weight: 0.7,
        }],
        evidence_key: "abc".into(),
        origin: LabelOrigin::Propagated {
            from_asset: source_id(),
            from_path: "sales.public.cards".into(),
            from_column: "pan".into(),
        },
        rule_set: Some(RuleSetRef {
            id: source_id(),
            version: 3,
        }),
    })
}

#[test]
fn labels_are_stored_with_their_origin_and_names() {
    let data = classified().to_data();
    assert_eq!(data["label"], "CREDIT_CARD_NUMBER");
    assert_eq!(data["origin"]["kind"], "propagated");
    assert_eq!(data["origin"]["from_column"], "pan");
    assert_eq!(data["signals"][0]["tier"], "rule");
    assert_eq!(data["rule_set"]["version"], 3);
}

#[test]
fn every_event_round_trips_through_its_stored_form() {
    let events = one_of_each();
    for event in &events {
        let (event_type, version) = (event.event_type(), event.version());
        let newest = if event_type == "AssetMetadataChanged" {
            2
        } else {
            1
        };
        assert_eq!(version, newest);
        assert!(
            AssetEvent::READABLE.contains(&(event_type, version)),
            "{event_type} v{version} has no schema"
        );
        let decoded = AssetEvent::from_stored(event_type, version, &event.to_data()).unwrap();
        assert_eq!(&decoded, event);
        assert!(format!("{event:?}").starts_with(&format!("{event_type}({event_type}")));
    }
    assert_eq!(
        events.len() + 1,
        AssetEvent::READABLE.len(),
        "one sample per variant (AssetMetadataChanged is readable at v1 and v2)"
    );
}

#[test]
fn a_version_one_metadata_change_with_a_plain_owner_is_upcast_to_a_typed_owner() {
    let stored = serde_json::json!({
        "asset_id": asset_id(),
        "owner": "billing-team",
        "tags": ["purpose:invoicing"],
        "description": null
    });
    let decoded = AssetEvent::from_stored("AssetMetadataChanged", 1, &stored).unwrap();
    let AssetEvent::AssetMetadataChanged(changed) = &decoded else {
        panic!("{decoded:?}");
    };
    assert_eq!(
        changed.owner,
        Some(crate::owner::Owner::untyped("billing-team"))
    );
    assert_eq!(decoded.version(), 2);
    assert_eq!(
        decoded.to_data()["owner"],
        serde_json::json!({ "name": "billing-team", "kind": "person", "type": "technical" })
    );
    let untouched = AssetEvent::from_stored(
        "AssetMetadataChanged",
        1,
        &serde_json::json!({ "asset_id": asset_id(), "owner": null, "tags": [], "description": null }),
    )
    .unwrap();
    assert!(matches!(
        untouched,
        AssetEvent::AssetMetadataChanged(AssetMetadataChanged { owner: None, .. })
    ));
}

#[test]
fn schema_discovered_is_stored_in_plain_json() {
    let data = discovered().to_data();
    assert_eq!(data["asset_id"], json!(asset_id()));
    assert_eq!(data["schema"]["kind"], "table");
    assert_eq!(data["schema"]["path"], json!(["sales", "public", "orders"]));
    assert_eq!(data["schema"]["columns"][0]["name"], "id");
    assert_eq!(data["schema"]["row_estimate"], 1_000);
    assert_eq!(data["fingerprint"], orders().fingerprint().as_str());
    let data = changed(scan_2(), orders(), orders_v2()).to_data();
    assert_eq!(data["diff"]["added_columns"][0]["name"], "note");
    assert_eq!(data["diff"]["comment_changed"], false);
    let data = lineage_recorded(vec![fk_edge()]).to_data();
    assert_eq!(data["edges"][0]["kind"], "foreign_key");
    assert_eq!(
        data["edges"][0]["from"],
        json!(["sales", "public", "customers"])
    );
}

#[test]
fn unknown_and_malformed_events_are_reported() {
    assert_eq!(
        AssetEvent::from_stored("SchemaDiscovered", 2, &json!({})).unwrap_err(),
        EventDecodeError::Unknown {
            event_type: "SchemaDiscovered".into(),
            version: 2
        }
    );
    let mut data = discovered().to_data();
    data["fingerprint"] = json!("not-a-fingerprint");
    let error = AssetEvent::from_stored("SchemaDiscovered", 1, &data).unwrap_err();
    assert!(
        matches!(error, EventDecodeError::Malformed { ref event_type, version: 1, .. } if event_type == "SchemaDiscovered"),
        "{error}"
    );
    let mut data = discovered().to_data();
    data["schema"]["kind"] = json!("spreadsheet");
    assert!(matches!(
        AssetEvent::from_stored("SchemaDiscovered", 1, &data).unwrap_err(),
        EventDecodeError::Malformed { .. }
    ));
}
