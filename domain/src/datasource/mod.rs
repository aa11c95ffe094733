//! The DataSource aggregate: a governed system (database or object store) that PurSight connects
//! to, scans, classifies, checks and catalogs, following the lifecycle of the seeds' §9.1.
//!
//! - `values.rs`, `secret.rs`: the value types of a configuration, parsed once at the edge.
//! - `policy.rs`: [`SourcePolicy`], where an operator lets tenants' secret references and hosts
//!   point, checked when a configuration is recorded and again when the connectors use it.
//! - `config.rs`: [`DataSourceConfig`], the validated configuration the events carry.
//! - `input.rs`: [`DataSourceConfigInput`], raw edge input, its parser and update overlay.
//! - `lifecycle.rs`, `state.rs`: the lifecycle states and the state folded from events.
//! - `commands.rs`, `decide.rs`, `events.rs`, `error.rs`: the decider and what it speaks.
//! - `health.rs`: the window of recent probe outcomes and the health assessment derived from it.
//!
//! ```
//! use domain::datasource::*;
//! use domain::{Aggregate, AggregateId};
//!
//! let config = DataSourceConfigInput {
//!     name: Some("Sales".into()),
//!     kind: Some("postgresql".into()),
//!     host: Some("db.internal".into()),
//!     password_secret: Some("env:PURSIGHT_SOURCE_SECRET_SALES_PG".into()),
//!     ..Default::default()
//! }
//! .parse()
//! .unwrap();
//! let id = AggregateId::parse("0192f0c4-1111-7000-8000-000000000001").unwrap();
//! let events = DataSource::decide(&DataSourceState::default(), &DataSourceCommand::Register { id, config }).unwrap();
//! let state = DataSource::replay(&events);
//! assert_eq!(state.lifecycle, LifecycleState::Registered);
//! assert_eq!(state.config.unwrap().port, 5432);
//! ```

mod commands;
mod config;
mod decide;
mod error;
mod events;
mod health;
mod input;
mod lifecycle;
mod policy;
mod secret;
mod state;
pub(crate) mod values;

#[cfg(test)]
mod tests;

pub use commands::DataSourceCommand;
pub use config::{CloudConfig, DataSourceConfig, PoolSettings, ReplicaConfig, SslConfig};
pub use error::{DataSourceError, FieldError, ValidationError};
pub use events::*;
pub use health::{
    assess, HealthAssessment, HealthStatus, HealthThresholds, HealthWindow, ProbeFailure,
    ProbeOutcome, Ratio, Recommendation, RecommendationCode, ServerFigures, Severity, Share,
};
pub use input::{
    CloudConfigInput, DataSourceConfigInput, PoolSettingsInput, ReplicaConfigInput, SslConfigInput,
};
pub use lifecycle::LifecycleState;
pub use policy::{
    HostPolicy, SecretPolicy, SourcePolicy, METADATA_ADDRESSES, METADATA_NAMES, SERVICE_SETTINGS,
};
pub use secret::{SecretLocation, SecretRef, SecretScheme, NOT_A_SECRET_REFERENCE};
pub use state::DataSourceState;
pub use values::{
    parse_port, CloudProvider, DataSourceKind, Environment, Host, HostPort, Location, SourceName,
    SslMode, Tag,
};

use crate::aggregate::Aggregate;

/// The data source aggregate (a decider; all data is in [`DataSourceState`]).
pub struct DataSource;

impl Aggregate for DataSource {
    const NAME: &'static str = "data_source";
    type State = DataSourceState;
    type Command = DataSourceCommand;
    type Event = DataSourceEvent;
    type Error = DataSourceError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        decide::decide(state, command)
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        state.evolve(event)
    }

    /// A configuration is recorded only when its secret references and hosts are inside what
    /// the operator allows this tenant: registration and every update, whichever edge they came
    /// through (a patch is merged in `decide`, so the complete result is what is checked).
    fn admit(
        policy: &SourcePolicy,
        tenant: &crate::TenantId,
        events: &[Self::Event],
    ) -> Result<(), Self::Error> {
        for event in events {
            let config = match event {
                DataSourceEvent::SourceRegistered(e) => &e.config,
                DataSourceEvent::SourceConfigured(e) => &e.config,
                _ => continue,
            };
            policy.check(tenant, config)?;
        }
        Ok(())
    }
}
