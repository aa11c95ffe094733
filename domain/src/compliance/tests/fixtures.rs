//! Facts for tests: a production PostgreSQL source in AWS eu-west-1 with verified TLS, monitored,
//! and one `shop.public.customers` table with an owner and purpose/retention tags. Each test
//! changes only what it is about.

use crate::asset::LabelStatus;
use crate::classification::{ClassificationType, Label};
use crate::compliance::facts::*;
use crate::datasource::{
    CloudProvider, DataSourceKind, Environment, HealthStatus, Location, SslMode,
};
use crate::discovery::AssetKind;
use uuid::Uuid;

/// Evidence number `n`: event id `…n`, sequence `n`, hash `h<n>`.
pub(crate) fn ev(n: u64) -> Evidence {
    Evidence {
        event_id: Uuid::from_u128(0x0192_f0c4_0000_7000_8000_0000_0000_0000 | u128::from(n)),
        sequence: n,
        hash: format!("h{n}"),
    }
}

pub(crate) const CONFIG: u64 = 1;
pub(crate) const MONITORING: u64 = 2;
pub(crate) const HEALTH: u64 = 3;
pub(crate) const SCHEMA: u64 = 10;
pub(crate) const METADATA: u64 = 11;

pub(crate) fn source() -> SourceFacts {
    SourceFacts {
        source_id: Uuid::from_u128(1),
        name: "shop".into(),
        kind: DataSourceKind::Postgresql,
        tls_mode: SslMode::VerifyFull,
        location: Location::Cloud,
        cloud_provider: Some(CloudProvider::Aws),
        region: Some("eu-west-1".into()),
        environment: Some(Environment::Production),
        has_replica: false,
        credentials_encrypted: true,
        config_evidence: ev(CONFIG),
        monitoring: true,
        monitoring_evidence: ev(MONITORING),
        health: Some((HealthStatus::Healthy, ev(HEALTH))),
    }
}

pub(crate) fn asset(columns: Vec<ColumnFacts>) -> AssetFacts {
    AssetFacts {
        asset_id: Uuid::from_u128(2),
        path: "shop.public.customers".into(),
        kind: AssetKind::Table,
        schema_evidence: ev(SCHEMA),
        tags: ["purpose:billing", "retention:2y"].map(String::from).into(),
        owner: Some("dpo@example.com".into()),
        description: None,
        metadata_evidence: ev(METADATA),
        row_estimate: Some((1000, ev(SCHEMA))),
        columns,
        readers: vec![role("analyst", &["read"], 30)],
    }
}

pub(crate) fn column(name: &str, labels: Vec<LabelFacts>) -> ColumnFacts {
    ColumnFacts {
        name: name.into(),
        data_type: "text".into(),
        labels,
    }
}

/// A built-in label with its type's sensitivity and frameworks, resting on evidence `n`.
pub(crate) fn label(t: ClassificationType, status: LabelStatus, n: u64) -> LabelFacts {
    LabelFacts {
        label: Label::BuiltIn(t),
        status,
        sensitivity: t.sensitivity(),
        frameworks: t.frameworks().to_vec(),
        confidence: 0.95,
        hashed: false,
        evidence: ev(n),
    }
}

pub(crate) fn role(name: &str, permissions: &[&str], n: u64) -> RoleFacts {
    RoleFacts {
        role: name.into(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        evidence: ev(n),
    }
}
