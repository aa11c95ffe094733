//! The facts a compliance condition is evaluated over: plain data about one source, one of its
//! assets, the asset's columns and labels, and the roles that may read it.
//!
//! The read side builds these from the catalog (the engine never loads anything). Every group of
//! facts carries the [`Evidence`] it rests on — the event that established it, with its stream
//! sequence and hash — so that a finding can cite exactly the events that prove it, and anyone
//! holding an export can check them with `pursight verify`.

use crate::asset::LabelStatus;
use crate::classification::{Framework, Label, Sensitivity};
use crate::datasource::{
    CloudProvider, DataSourceKind, Environment, HealthStatus, Location, SslMode,
};
use crate::discovery::AssetKind;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

/// The stored event a fact rests on.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct Evidence {
    /// The CloudEvent id.
    pub event_id: Uuid,
    /// The event's stream sequence (of its commit).
    pub sequence: u64,
    /// The event's chain hash (hex SHA-256).
    pub hash: String,
}

/// How a source is set up and how it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFacts {
    pub source_id: Uuid,
    pub name: String,
    pub kind: DataSourceKind,
    /// `ssl_config.mode`; `disable` when the configuration has no TLS section.
    pub tls_mode: SslMode,
    pub location: Location,
    pub cloud_provider: Option<CloudProvider>,
    /// `cloud_config.region`, e.g. `eu-west-1`.
    pub region: Option<String>,
    pub environment: Option<Environment>,
    pub has_replica: bool,
    /// Whether stored credentials are Fernet-encrypted (`use_encryption`).
    pub credentials_encrypted: bool,
    /// The registration or latest configuration event the fields above come from.
    pub config_evidence: Evidence,
    /// Whether health monitoring runs (`MonitoringStarted` and not archived).
    pub monitoring: bool,
    /// The event that started monitoring (or, when off, the configuration event).
    pub monitoring_evidence: Evidence,
    /// The latest health assessment, if any.
    pub health: Option<(HealthStatus, Evidence)>,
}

/// One asset (table, collection, key pattern, prefix) and its catalog metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetFacts {
    pub asset_id: Uuid,
    /// e.g. `shop.public.customers`.
    pub path: String,
    pub kind: AssetKind,
    /// The discovery event that established path and kind.
    pub schema_evidence: Evidence,
    /// Lowercase tags such as `purpose:billing`, `retention:7y`, `residency:eu`.
    pub tags: BTreeSet<String>,
    pub owner: Option<String>,
    pub description: Option<String>,
    /// The event that last set tags, owner or description (discovery when never edited).
    pub metadata_evidence: Evidence,
    pub row_estimate: Option<(u64, Evidence)>,
    /// In a stable order (the read side sorts by name; the engine keeps it).
    pub columns: Vec<ColumnFacts>,
    /// Roles that hold the read permission on this asset.
    pub readers: Vec<RoleFacts>,
}

/// One column and its labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnFacts {
    pub name: String,
    /// The source's type name, e.g. `varchar(64)`.
    pub data_type: String,
    pub labels: Vec<LabelFacts>,
}

/// One label of one column, as reviewed so far.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelFacts {
    pub label: Label,
    pub status: LabelStatus,
    pub sensitivity: Sensitivity,
    pub frameworks: Vec<Framework>,
    pub confidence: f64,
    /// Whether the column's sampled values are (nearly all) password hashes, as the classifier
    /// found them ([`crate::classification::stored`]); false when that cannot be shown.
    pub hashed: bool,
    /// The classification or review event that gave the label this status.
    pub evidence: Evidence,
}

/// A role that may read the asset, with the permissions it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleFacts {
    pub role: String,
    /// e.g. `read`, `read_phi`.
    pub permissions: BTreeSet<String>,
    /// The grant event.
    pub evidence: Evidence,
}

/// The permission that lets a role read protected health information.
pub const PHI_PERMISSION: &str = "read_phi";

/// The wire name of a label status (as serialised).
pub fn label_status_str(status: LabelStatus) -> &'static str {
    match status {
        LabelStatus::Applied => "applied",
        LabelStatus::Suggested => "suggested",
        LabelStatus::Confirmed => "confirmed",
        LabelStatus::Rejected => "rejected",
    }
}
