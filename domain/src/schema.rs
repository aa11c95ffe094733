//! JSON Schemas of every stored event shape, generated from the Rust types.
//!
//! `schemas/<EventType>.v<N>.json` at the repository root is the checked-in copy of
//! [`event_schemas`]; `domain/tests/schemas.rs` fails when they drift, so changing an event's
//! shape without deciding on a new version is caught in review. Old versions that are still read
//! (and upcast) keep their schema.

use crate::aggregate::wire_type;
use crate::compliance::{policy, violation};
use crate::datasource::{self, v1, v2};
use crate::{access_policy, asset, glossary, personal_data, rule_set, scan, tenant};
use schemars::{schema_for, JsonSchema};
use serde_json::{Map, Value};

/// The schema of one `(event type, version)`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSchema {
    pub event_type: &'static str,
    pub version: u32,
    pub schema: Value,
}

impl EventSchema {
    /// `<EventType>.v<N>.json`.
    pub fn file_name(&self) -> String {
        format!("{}.v{}.json", self.event_type, self.version)
    }

    /// The file content: pretty JSON with keys sorted (stable whatever serde_json's map
    /// features are in a given build) and a trailing newline.
    pub fn to_file_contents(&self) -> String {
        let mut text = serde_json::to_string_pretty(&sorted(&self.schema))
            .expect("a JSON value always serializes");
        text.push('\n');
        text
    }
}

/// Every readable event of every aggregate, old versions included, in a stable order.
pub fn event_schemas() -> Vec<EventSchema> {
    vec![
        of::<v1::SourceRegisteredV1>("SourceRegistered", 1),
        of::<v2::SourceRegisteredV2>("SourceRegistered", 2),
        of::<datasource::SourceRegistered>("SourceRegistered", 3),
        of::<v2::SourceConfiguredV1>("SourceConfigured", 1),
        of::<datasource::SourceConfigured>("SourceConfigured", 2),
        of::<datasource::ConfigurationStarted>("ConfigurationStarted", 1),
        of::<datasource::ConnectionValidated>("ConnectionValidated", 1),
        of::<datasource::ConnectionFailed>("ConnectionFailed", 1),
        of::<datasource::SourceScanStarted>("SourceScanStarted", 1),
        of::<datasource::SourceScanCompleted>("SourceScanCompleted", 1),
        of::<datasource::SourceScanFailed>("SourceScanFailed", 1),
        of::<datasource::ClassificationStarted>("ClassificationStarted", 1),
        of::<datasource::ClassificationCompleted>("ClassificationCompleted", 1),
        of::<datasource::ClassificationFailed>("ClassificationFailed", 1),
        of::<datasource::ScanRuleSetAttached>("ScanRuleSetAttached", 1),
        of::<datasource::ComplianceCheckStarted>("ComplianceCheckStarted", 1),
        of::<v1::ComplianceCheckCompletedV1>("ComplianceCheckCompleted", 1),
        of::<datasource::ComplianceCheckCompleted>("ComplianceCheckCompleted", 2),
        of::<datasource::SourceCataloged>("SourceCataloged", 1),
        of::<datasource::MonitoringStarted>("MonitoringStarted", 1),
        of::<datasource::SourceArchived>("SourceArchived", 1),
        of::<datasource::HealthAssessed>("HealthAssessed", 1),
        of::<scan::ScanStarted>("ScanStarted", 1),
        of::<scan::ScanProgressed>("ScanProgressed", 1),
        of::<scan::ScanCompleted>("ScanCompleted", 1),
        of::<scan::ScanFailed>("ScanFailed", 1),
        of::<asset::SchemaDiscovered>("SchemaDiscovered", 1),
        of::<asset::SchemaChanged>("SchemaChanged", 1),
        of::<asset::AssetRestored>("AssetRestored", 1),
        of::<asset::AssetRemoved>("AssetRemoved", 1),
        of::<asset::LineageRecorded>("LineageRecorded", 1),
        of::<asset::LineageRetracted>("LineageRetracted", 1),
        of::<asset::ColumnsProfiled>("ColumnsProfiled", 1),
        of::<asset::AssetClassified>("AssetClassified", 1),
        of::<asset::ClassificationSuggested>("ClassificationSuggested", 1),
        of::<asset::ClassificationConfirmed>("ClassificationConfirmed", 1),
        of::<asset::ClassificationRejected>("ClassificationRejected", 1),
        of::<asset::ClassificationRevoked>("ClassificationRevoked", 1),
        of::<asset::v1::AssetMetadataChangedV1>("AssetMetadataChanged", 1),
        of::<asset::AssetMetadataChanged>("AssetMetadataChanged", 2),
        of::<asset::StatisticsChanged>("StatisticsChanged", 1),
        of::<rule_set::ScanRuleSetCreated>("ScanRuleSetCreated", 1),
        of::<rule_set::ScanRuleSetUpdated>("ScanRuleSetUpdated", 1),
        of::<rule_set::ScanRuleSetArchived>("ScanRuleSetArchived", 1),
        of::<policy::FrameworkEnabled>("FrameworkEnabled", 1),
        of::<policy::FrameworkDisabled>("FrameworkDisabled", 1),
        of::<policy::RuleTuned>("RuleTuned", 1),
        of::<policy::CustomRuleDefined>("CustomRuleDefined", 1),
        of::<policy::CustomRuleRetired>("CustomRuleRetired", 1),
        of::<violation::ViolationDetected>("ViolationDetected", 1),
        of::<violation::ViolationResolved>("ViolationResolved", 1),
        of::<violation::ViolationAccepted>("ViolationAccepted", 1),
        of::<violation::AcceptanceExpired>("AcceptanceExpired", 1),
        of::<tenant::TenantCreated>("TenantCreated", 1),
        of::<tenant::TenantSuspended>("TenantSuspended", 1),
        of::<tenant::TenantReactivated>("TenantReactivated", 1),
        of::<access_policy::RoleDefined>("RoleDefined", 1),
        of::<access_policy::RoleChanged>("RoleChanged", 1),
        of::<access_policy::RoleRetired>("RoleRetired", 1),
        of::<access_policy::RoleGranted>("RoleGranted", 1),
        of::<access_policy::RoleRevoked>("RoleRevoked", 1),
        of::<glossary::TermDefined>("TermDefined", 1),
        of::<glossary::TermChanged>("TermChanged", 1),
        of::<glossary::TermApproved>("TermApproved", 1),
        of::<glossary::TermDeprecated>("TermDeprecated", 1),
        of::<glossary::TermLinked>("TermLinked", 1),
        of::<glossary::TermUnlinked>("TermUnlinked", 1),
        of::<crate::lineage_job::RunObserved>("RunObserved", 1),
        of::<personal_data::PersonalDataErased>("PersonalDataErased", 1),
    ]
}

fn of<T: JsonSchema>(event_type: &'static str, version: u32) -> EventSchema {
    let mut schema = schema_for!(T).to_value();
    if let Some(object) = schema.as_object_mut() {
        // The Rust type name (`SourceRegisteredV1`) means nothing to a consumer; the wire type does.
        object.insert(
            "title".into(),
            Value::String(wire_type(event_type, version)),
        );
    }
    EventSchema {
        event_type,
        version,
        schema,
    }
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut keys: Vec<&String> = object.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for key in keys {
                out.insert(key.clone(), sorted(&object[key]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{DomainEvent, EventDecodeError};
    use crate::asset::AssetEvent;
    use crate::datasource::DataSourceEvent;
    use crate::scan::ScanEvent;

    /// Every aggregate's readable events, in the order `event_schemas` lists them.
    fn all_readable() -> Vec<(&'static str, u32)> {
        [
            DataSourceEvent::READABLE,
            ScanEvent::READABLE,
            AssetEvent::READABLE,
            crate::rule_set::ScanRuleSetEvent::READABLE,
            crate::compliance::CompliancePolicyEvent::READABLE,
            crate::compliance::ViolationEvent::READABLE,
            crate::tenant::TenantEvent::READABLE,
            crate::access_policy::AccessPolicyEvent::READABLE,
            crate::glossary::GlossaryEvent::READABLE,
            crate::lineage_job::LineageJobEvent::READABLE,
            crate::personal_data::PersonalDataEvent::READABLE,
        ]
        .concat()
    }

    #[test]
    fn there_is_a_schema_for_exactly_the_readable_events() {
        let generated: Vec<(&str, u32)> = event_schemas()
            .iter()
            .map(|s| (s.event_type, s.version))
            .collect();
        assert_eq!(generated, all_readable());
    }

    #[test]
    fn event_type_names_are_unique_across_aggregates() {
        let mut owners = std::collections::BTreeMap::new();
        for (aggregate, readable) in [
            ("data_source", DataSourceEvent::READABLE),
            ("scan", ScanEvent::READABLE),
            ("asset", AssetEvent::READABLE),
            ("scan_rule_set", crate::rule_set::ScanRuleSetEvent::READABLE),
            (
                "compliance_policy",
                crate::compliance::CompliancePolicyEvent::READABLE,
            ),
            ("violation", crate::compliance::ViolationEvent::READABLE),
            ("tenant", crate::tenant::TenantEvent::READABLE),
            (
                "access_policy",
                crate::access_policy::AccessPolicyEvent::READABLE,
            ),
            ("glossary", crate::glossary::GlossaryEvent::READABLE),
            ("lineage_job", crate::lineage_job::LineageJobEvent::READABLE),
            (
                "personal_data",
                crate::personal_data::PersonalDataEvent::READABLE,
            ),
        ] {
            for (event_type, _) in readable {
                let owner = owners.entry(*event_type).or_insert(aggregate);
                assert_eq!(*owner, aggregate, "{event_type} is used by two aggregates");
            }
        }
    }

    #[test]
    fn every_readable_event_is_known_to_the_decoder() {
        fn check<E: DomainEvent>(readable: &[(&str, u32)]) {
            for (event_type, version) in readable {
                let error = E::from_stored(event_type, *version, &Value::Null).unwrap_err();
                assert!(
                    matches!(error, EventDecodeError::Malformed { .. }),
                    "{event_type} v{version}: {error}"
                );
            }
        }
        check::<DataSourceEvent>(DataSourceEvent::READABLE);
        check::<ScanEvent>(ScanEvent::READABLE);
        check::<AssetEvent>(AssetEvent::READABLE);
        check::<crate::compliance::CompliancePolicyEvent>(
            crate::compliance::CompliancePolicyEvent::READABLE,
        );
        check::<crate::compliance::ViolationEvent>(crate::compliance::ViolationEvent::READABLE);
        check::<crate::tenant::TenantEvent>(crate::tenant::TenantEvent::READABLE);
        check::<crate::access_policy::AccessPolicyEvent>(
            crate::access_policy::AccessPolicyEvent::READABLE,
        );
        check::<crate::glossary::GlossaryEvent>(crate::glossary::GlossaryEvent::READABLE);
        check::<crate::lineage_job::LineageJobEvent>(crate::lineage_job::LineageJobEvent::READABLE);
        check::<crate::personal_data::PersonalDataEvent>(
            crate::personal_data::PersonalDataEvent::READABLE,
        );
    }

    #[test]
    fn schema_files_are_titled_with_the_wire_type() {
        let schemas = event_schemas();
        assert_eq!(schemas[0].file_name(), "SourceRegistered.v1.json");
        assert_eq!(
            schemas[0].schema["title"],
            "io.pursight.SourceRegistered.v1"
        );
        assert!(schemas[0].to_file_contents().ends_with("}\n"));
    }
}
