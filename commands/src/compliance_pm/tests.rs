//! The trigger mapping and the incremental core, without I/O: what each event touches, and that
//! one column's label change evaluates that column alone and resolves exactly its violation.

use super::*;
use domain::asset::LabelStatus;
use domain::classification::{ClassificationType, Label};
use domain::compliance::{
    policy::CompliancePolicyState, ColumnFacts, LabelFacts, RoleFacts, ViolationEvent,
};
use domain::datasource::{DataSourceKind, Location, SslMode};
use domain::discovery::AssetKind;
use serde_json::json;

fn ev(n: u64) -> Evidence {
    Evidence {
        event_id: Uuid::from_u128(u128::from(n)),
        sequence: n,
        hash: format!("h{n}"),
    }
}

fn id(n: u128) -> AggregateId {
    AggregateId::from_uuid(Uuid::from_u128(n))
}

fn tenant() -> TenantId {
    TenantId::parse("acme").unwrap()
}

/// A source reached without TLS.
fn source() -> SourceFacts {
    SourceFacts {
        source_id: Uuid::from_u128(100),
        name: "shop".into(),
        kind: DataSourceKind::Postgresql,
        tls_mode: SslMode::Disable,
        location: Location::OnPrem,
        cloud_provider: None,
        region: None,
        environment: None,
        has_replica: false,
        credentials_encrypted: false,
        config_evidence: ev(1),
        monitoring: false,
        monitoring_evidence: ev(1),
        health: None,
    }
}

fn card(status: LabelStatus, n: u64) -> LabelFacts {
    let t = ClassificationType::CreditCardNumber;
    LabelFacts {
        label: Label::BuiltIn(t),
        status,
        sensitivity: t.sensitivity(),
        frameworks: t.frameworks().to_vec(),
        confidence: 0.97,
        hashed: false,
        evidence: ev(n),
    }
}

/// `billing.cards` with a labelled `pan` and nine unlabelled columns.
fn asset(pan: LabelFacts) -> AssetFacts {
    let mut columns = vec![ColumnFacts {
        name: "pan".into(),
        data_type: "text".into(),
        labels: vec![pan],
    }];
    columns.extend((0..9).map(|i| ColumnFacts {
        name: format!("c{i}"),
        data_type: "int".into(),
        labels: Vec::new(),
    }));
    AssetFacts {
        asset_id: Uuid::from_u128(7),
        path: "shop.billing.cards".into(),
        kind: AssetKind::Table,
        schema_evidence: ev(2),
        tags: BTreeSet::new(),
        owner: Some("payments".into()),
        description: None,
        metadata_evidence: ev(1),
        row_estimate: None,
        columns,
        readers: vec![RoleFacts {
            role: "viewer".into(),
            permissions: BTreeSet::from(["read".to_owned()]),
            evidence: ev(1),
        }],
    }
}

/// Violation states after recording `findings`, as the aggregates fold them.
fn recorded(findings: &[Finding]) -> HashMap<AggregateId, ViolationState> {
    findings
        .iter()
        .map(|finding| {
            let id = violation_id(&tenant(), &finding.rule_id, &finding.subject);
            let events = Violation::decide(
                &ViolationState::default(),
                &ViolationCommand::Detect {
                    tenant: tenant(),
                    finding: finding.clone(),
                },
            )
            .unwrap();
            let state = events
                .iter()
                .fold(ViolationState::default(), |s, e: &ViolationEvent| {
                    Violation::evolve(s, e)
                });
            (id, state)
        })
        .collect()
}

#[test]
fn each_fact_event_touches_what_it_changes_and_nothing_else_triggers() {
    let a = id(7);
    assert_eq!(
        touched(
            "asset",
            a,
            "ClassificationRejected",
            &json!({ "column": "pan" })
        ),
        Some(Touched::Columns {
            asset: a,
            columns: BTreeSet::from(["pan".to_owned()])
        })
    );
    for name in [
        "SchemaDiscovered",
        "SchemaChanged",
        "AssetRemoved",
        "AssetMetadataChanged",
        "StatisticsChanged",
    ] {
        assert_eq!(
            touched("asset", a, name, &json!({})),
            Some(Touched::Asset { asset: a }),
            "{name}"
        );
    }
    for name in [
        "SourceConfigured",
        "HealthAssessed",
        "MonitoringStarted",
        "ClassificationCompleted",
    ] {
        assert_eq!(
            touched("data_source", a, name, &json!({})),
            Some(Touched::Source { source: a }),
            "{name}"
        );
    }
    assert_eq!(
        touched("data_source", a, "SourceArchived", &json!({})),
        Some(Touched::Archived { source: a })
    );
    assert_eq!(
        touched("compliance_policy", a, "RuleTuned", &json!({})),
        Some(Touched::Tenant)
    );
    // Roles and grants change who reads every asset of the tenant.
    for name in [
        "RoleDefined",
        "RoleChanged",
        "RoleRetired",
        "RoleGranted",
        "RoleRevoked",
    ] {
        assert_eq!(
            touched("access_policy", a, name, &json!({})),
            Some(Touched::Tenant),
            "{name}"
        );
    }
    // The worker's own output and events that change no fact trigger nothing.
    for (kind, name) in [
        ("violation", "ViolationDetected"),
        ("data_source", "ComplianceCheckCompleted"),
        ("data_source", "SourceRegistered"),
        ("asset", "LineageRecorded"),
        ("scan", "ScanProgressed"),
    ] {
        assert_eq!(touched(kind, a, name, &json!({})), None, "{name}");
    }
    // Several labels of one asset in one commit: one evaluation of those columns.
    assert_eq!(
        Touched::Columns {
            asset: a,
            columns: BTreeSet::from(["x".to_owned()])
        }
        .merge(Touched::Columns {
            asset: a,
            columns: BTreeSet::from(["y".to_owned()])
        }),
        Touched::Columns {
            asset: a,
            columns: BTreeSet::from(["x".to_owned(), "y".to_owned()])
        }
    );
}

#[test]
fn one_rejected_label_evaluates_its_column_alone_and_resolves_only_its_violations() {
    let (rules, _) = CompliancePolicyState::default().active_rules();
    let before = asset(card(LabelStatus::Applied, 3));
    let findings = evaluate_source(&rules, &source(), std::slice::from_ref(&before));
    let pan_findings: Vec<&Finding> = findings
        .iter()
        .filter(|f| matches!(&f.subject, Subject::Column { column, .. } if column == "pan"))
        .collect();
    assert!(
        pan_findings
            .iter()
            .any(|f| f.rule_id == "pci-dss-pan-without-verified-tls"),
        "{findings:?}"
    );
    let states = recorded(&findings);
    let no_events = HashSet::new();

    // Over unchanged facts the plan finds nothing to do (a redelivered trigger records nothing).
    let only_pan = ColumnScope::Only(BTreeSet::from(["pan".to_owned()]));
    let unchanged = plan(
        &tenant(),
        &rules,
        &source(),
        before.asset_id,
        Some(&before),
        &only_pan,
    );
    assert_eq!(unchanged.columns_evaluated, 1);
    assert!(decide(&tenant(), &unchanged, |id| states.get(id), &no_events).is_empty());

    // A steward rejects the label: every violation of that column resolves, nothing else moves.
    let after = asset(card(LabelStatus::Rejected, 4));
    let changed = plan(
        &tenant(),
        &rules,
        &source(),
        after.asset_id,
        Some(&after),
        &only_pan,
    );
    assert_eq!(changed.columns_evaluated, 1);
    let actions = decide(&tenant(), &changed, |id| states.get(id), &no_events);
    let resolved: BTreeSet<String> = actions
        .iter()
        .map(|action| match action {
            Action::Resolve { detected, .. } => detected.rule_id.clone(),
            other => panic!("only resolutions expected: {other:?}"),
        })
        .collect();
    // Exactly what a full evaluation after the change no longer finds (column and asset rules;
    // the source rules here rest on the source's own posture and still fire).
    let still = evaluate_source(&rules, &source(), std::slice::from_ref(&after));
    let expected: BTreeSet<String> = findings
        .iter()
        .filter(|f| {
            !still
                .iter()
                .any(|s| s.rule_id == f.rule_id && s.subject == f.subject)
        })
        .map(|f| f.rule_id.clone())
        .collect();
    assert!(expected.contains("pci-dss-pan-without-verified-tls"));
    assert_eq!(resolved, expected);
}

#[test]
fn a_removed_asset_resolves_the_violations_of_every_column_it_had() {
    let (rules, _) = CompliancePolicyState::default().active_rules();
    let before = asset(card(LabelStatus::Applied, 3));
    let findings = evaluate_source(&rules, &source(), std::slice::from_ref(&before));
    let states = recorded(&findings);
    let ever: BTreeSet<String> = before.columns.iter().map(|c| c.name.clone()).collect();
    let removed = plan(
        &tenant(),
        &rules,
        &source(),
        before.asset_id,
        None,
        &ColumnScope::All(ever),
    );
    let asset_events: HashSet<Uuid> = [2u128, 3].map(Uuid::from_u128).into();
    let actions = decide(&tenant(), &removed, |id| states.get(id), &asset_events);
    let non_source = findings
        .iter()
        .filter(|f| !matches!(f.subject, Subject::Source { .. }))
        .count();
    let resolves = actions
        .iter()
        .filter(|a| matches!(a, Action::Resolve { .. }))
        .count();
    assert_eq!(resolves, non_source, "{actions:?}");
    // A source rule resting on this asset is checked again over the other assets.
    for action in &actions {
        if let Action::RecheckSource { detected, .. } = action {
            assert!(matches!(detected.subject, Subject::Source { .. }));
        }
    }
}
