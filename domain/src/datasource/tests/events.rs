//! The stored form of events: type names, versions, round trips, decode errors and the
//! `SourceRegistered` v1 → v2 upcast.

use super::*;
use crate::aggregate::{wire_type, DomainEvent, EventDecodeError};
use serde_json::json;

fn one_of_each() -> Vec<DataSourceEvent> {
    vec![
        registered(),
        DataSourceEvent::SourceConfigured(SourceConfigured {
            config: config(),
            connection_changed: true,
            requires_revalidation: false,
        }),
        configuration_started(),
        connection_validated(),
        connection_failed(),
        scan_started(),
        scan_completed(),
        scan_failed(),
        classification_started(),
        classification_completed(),
        compliance_check_started(),
        compliance_check_completed(),
        cataloged(),
        monitoring_started(),
        DataSourceEvent::SourceArchived(SourceArchived {
            reason: Some("retired".into()),
        }),
        DataSourceEvent::HealthAssessed(HealthAssessed {
            assessment: super::health::healthy(),
        }),
    ]
}

#[test]
fn every_event_round_trips_through_its_stored_form() {
    let events = one_of_each();
    for event in &events {
        let (event_type, version) = (event.event_type(), event.version());
        assert!(
            DataSourceEvent::READABLE.contains(&(event_type, version)),
            "{event_type} v{version} has no schema"
        );
        let decoded = DataSourceEvent::from_stored(event_type, version, &event.to_data()).unwrap();
        assert_eq!(&decoded, event);
        // The type name is the variant name, which is the struct name.
        assert!(format!("{event:?}").starts_with(&format!("{event_type}({event_type}")));
    }
    let mut types: Vec<&str> = events.iter().map(DomainEvent::event_type).collect();
    types.dedup();
    assert_eq!(types.len(), 16, "one sample per variant");
}

#[test]
fn source_registered_is_at_version_three_two_more_at_two_and_the_rest_at_one() {
    for event in one_of_each() {
        let expected = match event.event_type() {
            "SourceRegistered" => 3,
            "SourceConfigured" | "ComplianceCheckCompleted" => 2,
            _ => 1,
        };
        assert_eq!(event.version(), expected, "{}", event.event_type());
    }
    assert_eq!(
        wire_type(registered().event_type(), registered().version()),
        "io.pursight.SourceRegistered.v3"
    );
}

#[test]
fn a_version_two_registration_and_a_version_one_configuration_read_their_plain_owner_as_untyped() {
    let mut data = registered().to_data();
    data["config"]["owner"] = json!("sales-ops");
    let DataSourceEvent::SourceRegistered(registered) =
        DataSourceEvent::from_stored("SourceRegistered", 2, &data).unwrap()
    else {
        panic!("not a registration");
    };
    assert_eq!(
        registered.config.owner,
        Some(crate::owner::Owner::untyped("sales-ops"))
    );
    let configured = json!({
        "config": data["config"].clone(),
        "connection_changed": false,
        "requires_revalidation": false
    });
    let DataSourceEvent::SourceConfigured(configured) =
        DataSourceEvent::from_stored("SourceConfigured", 1, &configured).unwrap()
    else {
        panic!("not a configuration");
    };
    assert_eq!(configured.config.owner.unwrap().name, "sales-ops");
    // The typed owner is written as an object.
    let mut typed = config();
    typed.owner = Some(crate::owner::Owner {
        name: "Sales".into(),
        kind: crate::owner::OwnerKind::Team,
        owner_type: crate::owner::OwnerType::Business,
    });
    let event = DataSourceEvent::SourceConfigured(SourceConfigured {
        config: typed,
        connection_changed: false,
        requires_revalidation: false,
    });
    assert_eq!(
        event.to_data()["config"]["owner"],
        json!({ "name": "Sales", "kind": "team", "type": "business" })
    );
    assert_eq!(
        DataSourceEvent::from_stored("SourceConfigured", 2, &event.to_data()).unwrap(),
        event
    );
}

#[test]
fn a_version_one_compliance_check_completed_reads_as_version_two_without_counts() {
    let v1 = DataSourceEvent::from_stored("ComplianceCheckCompleted", 1, &serde_json::json!({}))
        .unwrap();
    assert_eq!(
        v1,
        DataSourceEvent::ComplianceCheckCompleted(ComplianceCheckCompleted { counts: None })
    );
    let counts = ComplianceCounts {
        subjects: 12,
        open_critical: 1,
        open_high: 2,
        open_medium: 0,
        open_low: 3,
        accepted: 1,
    };
    let v2 = DataSourceEvent::ComplianceCheckCompleted(ComplianceCheckCompleted {
        counts: Some(counts),
    });
    let data = v2.to_data();
    assert_eq!(data["counts"]["open_critical"], 1);
    assert_eq!(
        DataSourceEvent::from_stored("ComplianceCheckCompleted", 2, &data).unwrap(),
        v2
    );
}

#[test]
fn events_keep_the_full_secret_reference() {
    let data = registered().to_data();
    assert_eq!(
        data["config"]["password_secret"],
        "env:PURSIGHT_SOURCE_SECRET_SALES_PG"
    );
    assert_eq!(data["id"], "0192f0c4-1111-7000-8000-000000000001");
    assert_eq!(data["config"]["kind"], "postgresql");
    assert_eq!(data["config"]["location"], "on_prem");
}

#[test]
fn a_version_one_registration_is_upcast_to_version_two() {
    let stored = json!({
        "id": "0192f0c4-1111-7000-8000-000000000009",
        "config": {
            "name": "Legacy CRM",
            "kind": "mysql",
            "host": "crm.internal",
            "port": 3307,
            "database": "crm",
            "username": "reader",
            "password_secret": "vault:secret/crm#password",
            "cloud_provider": null,
            "location": "on_prem",
            "pool_size": 12,
            "owner": "sales-ops",
            "description": null,
            "environment": "production",
            "tags": "pii, finance,,PII"
        }
    });
    let decoded = DataSourceEvent::from_stored("SourceRegistered", 1, &stored).unwrap();
    let expected = DataSourceEvent::SourceRegistered(SourceRegistered {
        id: AggregateId::parse("0192f0c4-1111-7000-8000-000000000009").unwrap(),
        config: DataSourceConfig {
            name: SourceName::parse("Legacy CRM").unwrap(),
            kind: DataSourceKind::Mysql,
            host: Some(Host::parse("crm.internal").unwrap()),
            port: 3307,
            database: Some("crm".into()),
            username: Some("reader".into()),
            password_secret: Some(SecretRef::parse("vault:secret/crm#password").unwrap()),
            cloud_provider: None,
            location: Location::OnPrem,
            cloud_config: None,
            replica_config: None,
            ssl_config: None,
            pool: PoolSettings {
                pool_size: 12,
                max_overflow: 10,
                pool_timeout_secs: 30,
                pool_recycle_secs: 3600,
            },
            use_encryption: false,
            owner: Some(crate::owner::Owner::untyped("sales-ops")),
            description: None,
            environment: Some(Environment::Production),
            tags: vec![Tag::parse("pii").unwrap(), Tag::parse("finance").unwrap()],
        },
    });
    assert_eq!(decoded, expected);
    // Written back, it is a v3 event.
    assert_eq!(decoded.version(), 3);
    assert_eq!(
        decoded.to_data()["config"]["tags"],
        json!(["pii", "finance"])
    );
    assert_eq!(decoded.to_data()["config"]["pool"]["pool_size"], 12);
}

#[test]
fn a_version_one_registration_that_cannot_be_upcast_is_malformed() {
    let stored = json!({
        "id": "0192f0c4-1111-7000-8000-000000000009",
        "config": { "name": "Legacy", "kind": "mysql", "host": "crm.internal", "password_secret": "hunter2", "tags": "" }
    });
    let error = DataSourceEvent::from_stored("SourceRegistered", 1, &stored).unwrap_err();
    let EventDecodeError::Malformed { reason, .. } = &error else {
        panic!("{error}")
    };
    assert!(
        reason.starts_with("cannot upcast to v2: password_secret"),
        "{reason}"
    );
    assert!(!reason.contains("hunter2"));
}

#[test]
fn unknown_types_and_versions_are_reported_as_unknown() {
    for (event_type, version) in [
        ("SourceRegistered", 4),
        ("SourceConfigured", 3),
        ("SourceExploded", 1),
    ] {
        assert_eq!(
            DataSourceEvent::from_stored(event_type, version, &json!({})).unwrap_err(),
            EventDecodeError::Unknown {
                event_type: event_type.into(),
                version,
            }
        );
    }
}

#[test]
fn bad_data_is_reported_as_malformed() {
    let error = DataSourceEvent::from_stored("SourceScanStarted", 1, &json!({ "scan_id": "nope" }))
        .unwrap_err();
    assert!(
        matches!(error, EventDecodeError::Malformed { ref event_type, version: 1, .. } if event_type == "SourceScanStarted")
    );
    let error = DataSourceEvent::from_stored(
        "SourceRegistered",
        2,
        &json!({ "id": source_id(), "config": { "name": "x" } }),
    )
    .unwrap_err();
    assert!(
        matches!(error, EventDecodeError::Malformed { .. }),
        "{error}"
    );
}
