//! `pursight bench compliance`: the compliance engine over a synthetic catalogue of N classified
//! columns, through the same path the compliance worker takes — the full pass
//! (`evaluate_source`, then the Violation decider for every finding) and the incremental
//! evaluation of one label change (`compliance_pm::plan` and `decide`) — in memory, so that the
//! engine is measured rather than NATS. The baseline, measured in the same run, is what a worker
//! without incremental evaluation would do after the same change: a full pass again.

use clap::Args;
use commands::compliance_pm::{decide, plan, Action, ColumnScope};
use domain::asset::LabelStatus;
use domain::classification::{ClassificationType, Label};
use domain::compliance::{
    evaluate_source, violation_id, AssetFacts, ColumnFacts, CompliancePolicyState, Evidence,
    Finding, LabelFacts, RoleFacts, SourceFacts, Violation, ViolationCommand, ViolationState,
};
use domain::datasource::{DataSourceKind, Environment, Location, SslMode};
use domain::discovery::AssetKind;
use domain::{Aggregate, AggregateId, TenantId};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::process::ExitCode;
use std::time::Instant;
use uuid::Uuid;

#[derive(Debug, Args)]
pub struct ComplianceArgs {
    /// Classified columns in the synthetic catalogue.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=5_000_000))]
    pub columns: u64,
    /// Columns per table.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub columns_per_table: u64,
}

/// Labels the synthetic columns cycle through: card data, credentials, identifiers, health
/// data, special categories and plain contact data, so that every pack has rules that fire.
const TYPES: &[ClassificationType] = &[
    ClassificationType::EmailAddress,
    ClassificationType::CreditCardNumber,
    ClassificationType::PersonName,
    ClassificationType::Password,
    ClassificationType::HealthDiagnosis,
    ClassificationType::PhoneNumber,
    ClassificationType::Religion,
    ClassificationType::SecretKey,
    ClassificationType::IpAddress,
    ClassificationType::CardSecurityCode,
];

fn evidence(n: u64) -> Evidence {
    Evidence {
        event_id: Uuid::from_u128(u128::from(n) + 1),
        sequence: n + 1,
        hash: format!("{n:064x}"),
    }
}

/// A production source without TLS or monitoring, in a region outside the EEA.
fn source() -> SourceFacts {
    SourceFacts {
        source_id: Uuid::from_u128(1),
        name: "bench".into(),
        kind: DataSourceKind::Postgresql,
        tls_mode: SslMode::Disable,
        location: Location::OnPrem,
        cloud_provider: None,
        region: None,
        environment: Some(Environment::Production),
        has_replica: false,
        credentials_encrypted: false,
        config_evidence: evidence(0),
        monitoring: false,
        monitoring_evidence: evidence(0),
        health: None,
    }
}

fn label(t: ClassificationType, status: LabelStatus, n: u64) -> LabelFacts {
    LabelFacts {
        label: Label::BuiltIn(t),
        status,
        sensitivity: t.sensitivity(),
        frameworks: t.frameworks().to_vec(),
        confidence: 0.95,
        hashed: false,
        evidence: evidence(n),
    }
}

/// `columns` classified columns in tables of `per_table`.
fn catalogue(columns: u64, per_table: u64) -> Vec<AssetFacts> {
    let tables = columns.div_ceil(per_table);
    let mut next = 0u64;
    (0..tables)
        .map(|t| {
            let first = t * per_table;
            let count = per_table.min(columns - first);
            let schema_evidence = evidence(1_000_000_000 + t);
            AssetFacts {
                asset_id: Uuid::from_u128(1_000 + u128::from(t)),
                path: format!("bench.public.t{t:06}"),
                kind: AssetKind::Table,
                schema_evidence: schema_evidence.clone(),
                tags: BTreeSet::new(),
                owner: (t % 2 == 0).then(|| "data-platform".to_owned()),
                description: None,
                metadata_evidence: schema_evidence.clone(),
                row_estimate: Some((10_000, schema_evidence)),
                columns: (0..count)
                    .map(|c| {
                        next += 1;
                        let t = TYPES[((first + c) % TYPES.len() as u64) as usize];
                        ColumnFacts {
                            name: format!("c{c:04}"),
                            data_type: "text".into(),
                            labels: vec![label(t, LabelStatus::Applied, next)],
                        }
                    })
                    .collect(),
                readers: vec![RoleFacts {
                    role: "viewer".into(),
                    permissions: BTreeSet::from(["read".to_owned()]),
                    evidence: evidence(0),
                }],
            }
        })
        .collect()
}

/// The violations the findings leave open, as their aggregates fold them.
fn record(
    tenant: &TenantId,
    findings: Vec<Finding>,
    states: &mut HashMap<AggregateId, ViolationState>,
) -> u64 {
    let mut recorded = 0;
    for finding in findings {
        let id = violation_id(tenant, &finding.rule_id, &finding.subject);
        let state = states.remove(&id).unwrap_or_default();
        // Moved, as the worker does (`ComplianceEvaluator::evaluate`).
        let command = ViolationCommand::Detect {
            tenant: tenant.clone(),
            finding,
        };
        let events = Violation::decide(&state, &command).unwrap_or_default();
        recorded += events.len() as u64;
        let state = events.iter().fold(state, Violation::evolve);
        states.insert(id, state);
    }
    recorded
}

pub fn run(args: ComplianceArgs) -> anyhow::Result<ExitCode> {
    let tenant = TenantId::parse("bench")?;
    let (rules, _) = CompliancePolicyState::default().active_rules();
    let source = source();
    let mut assets = catalogue(args.columns, args.columns_per_table);
    println!(
        "bench compliance: {} classified columns in {} tables, {} rules (gdpr, pci-dss, hipaa, soc2)",
        args.columns,
        assets.len(),
        rules.len()
    );

    // Full pass: every rule over every asset, then the decider for every finding.
    let started = Instant::now();
    let findings = evaluate_source(&rules, &source, &assets);
    let evaluated = started.elapsed();
    let mut states = HashMap::new();
    let found = findings.len();
    let recorded = record(&tenant, findings, &mut states);
    let full = started.elapsed();
    println!(
        "full pass: {:.0} ms ({:.0} ms evaluating), {} findings, {} ViolationDetected",
        full.as_secs_f64() * 1e3,
        evaluated.as_secs_f64() * 1e3,
        found,
        recorded
    );

    // One label change: the card number column of the middle table is rejected by a steward.
    let middle = assets.len() / 2;
    let asset = &mut assets[middle];
    let index = asset
        .columns
        .iter()
        .position(|c| {
            c.labels
                .iter()
                .any(|l| l.label == Label::BuiltIn(ClassificationType::CreditCardNumber))
        })
        .unwrap_or(0);
    let Some(column) = asset.columns.get_mut(index) else {
        anyhow::bail!("the synthetic catalogue has no column to change");
    };
    let changed = column.name.clone();
    let t = match &column.labels[0].label {
        Label::BuiltIn(t) => *t,
        _ => ClassificationType::EmailAddress,
    };
    column.labels[0] = label(t, LabelStatus::Rejected, 2_000_000_000);
    let asset = &assets[middle];
    let asset_events: HashSet<Uuid> = asset
        .columns
        .iter()
        .flat_map(|c| c.labels.iter().map(|l| l.evidence.event_id))
        .chain([asset.schema_evidence.event_id])
        .collect();

    let started = Instant::now();
    let incremental = plan(
        &tenant,
        &rules,
        &source,
        asset.asset_id,
        Some(asset),
        &ColumnScope::Only(BTreeSet::from([changed.clone()])),
    );
    let actions = decide(&tenant, &incremental, |id| states.get(id), &asset_events);
    let incremental_time = started.elapsed();
    let resolves = actions
        .iter()
        .filter(|a| matches!(a, Action::Resolve { .. }))
        .count();
    let detects = actions
        .iter()
        .filter(|a| matches!(a, Action::Detect { .. }))
        .count();

    // Baseline: the same change handled by a full pass.
    let started = Instant::now();
    let again = evaluate_source(&rules, &source, &assets);
    let firing: HashSet<AggregateId> = again
        .iter()
        .map(|f| violation_id(&tenant, &f.rule_id, &f.subject))
        .collect();
    let mut baseline_states = states.clone();
    let baseline_detects = record(&tenant, again, &mut baseline_states);
    let baseline_resolves = states.keys().filter(|id| !firing.contains(id)).count();
    let baseline = started.elapsed();

    println!(
        "one label change ({}.{changed} rejected): incremental {resolves} resolved, {detects} detected (changed findings); full pass {baseline_resolves} resolved, {baseline_detects} detected",
        asset.path
    );
    println!(
        "incremental_rule_checks: {} (the column's rules, and the asset's and source's rules on its table)",
        incremental.rule_checks
    );
    println!("baseline_full_ms: {:.1}", baseline.as_secs_f64() * 1e3);
    println!(
        "columns_per_s: {:.0}",
        args.columns as f64 / full.as_secs_f64().max(1e-9)
    );
    println!("incremental_subjects: {}", incremental.columns_evaluated);
    println!(
        "incremental_ms: {:.3}",
        incremental_time.as_secs_f64() * 1e3
    );
    Ok(ExitCode::SUCCESS)
}
