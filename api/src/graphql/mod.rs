//! The GraphQL API: queries read the read models (and, for auditors, the event store itself),
//! mutations go through the one command handler, subscriptions stream the caller's tenant's
//! CloudEvents. Every resolver first establishes the caller and checks one permission; every
//! error carries `extensions.code` (VALIDATION, CONFLICT, NOT_FOUND, FORBIDDEN, UNAUTHENTICATED,
//! TIMEOUT, INTERNAL) and never internal details or secrets. Every request is bounded first
//! ([`limits`]): text nesting and fragment expansion, then depth and complexity, then time.

mod access;
mod as_of;
mod asset_details;
mod asset_metadata;
pub mod catalog;
mod classification;
pub(crate) mod compliance;
mod compliance_mutation;
mod errors;
mod fresh_grants;
mod glossary;
mod health;
mod impact;
mod inputs;
pub mod limits;
mod lineage_jobs;
mod mutation;
mod owner_types;
mod ownership;
mod query;
pub mod refusals;
pub(crate) mod search;
mod subscription;
mod types;
mod visibility;

pub use errors::AuthFailure;
pub(crate) use errors::{api_error, authorize};

use async_graphql::dataloader::DataLoader;
use async_graphql::Schema;
use commands::health::HealthMonitor;
use commands::workflows::SourceWorkflows;
use commands::CommandHandler;
use eventlog::EventStore;
use sqlx::PgPool;
use tokio::sync::watch;

/// All queries: data sources, audit, history, consistency, the catalog, health, compliance,
/// roles, the glossary and ownership, and search.
#[derive(async_graphql::MergedObject, Default)]
pub struct Query(
    query::QueryRoot,
    catalog::CatalogQuery,
    classification::ClassificationQuery,
    health::HealthQuery,
    compliance::ComplianceQuery,
    compliance_mutation::CompliancePolicyQuery,
    access::AccessQuery,
    impact::ImpactQuery,
    lineage_jobs::LineageJobQuery,
    glossary::GlossaryQuery,
    ownership::OwnershipQuery,
    search::SearchQuery,
);

/// All mutations: data-source commands, catalog workflows, health checks, the compliance
/// policy, roles and grants, and the glossary.
#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(
    mutation::MutationRoot,
    catalog::CatalogMutation,
    classification::ClassificationMutation,
    health::HealthMutation,
    compliance_mutation::ComplianceMutation,
    asset_metadata::AssetMetadataMutation,
    access::AccessMutation,
    glossary::GlossaryMutation,
);

pub type PursightSchema = Schema<Query, Mutation, subscription::SubscriptionRoot>;

/// What resolvers reach through the context.
#[derive(Clone)]
pub(crate) struct Services {
    pub store: EventStore,
    pub pool: PgPool,
    pub handler: CommandHandler,
    pub workflows: SourceWorkflows,
    pub health: HealthMonitor,
    pub shutdown: watch::Receiver<bool>,
}

/// What the schema allows one request; see [`limits`].
#[derive(Debug, Clone)]
pub struct SchemaLimits {
    /// Most nested selection levels.
    pub max_depth: usize,
    /// Most complexity: every field costs 1, a list field its page size times its children,
    /// a field that reads the database [`limits::DB_COST`] more.
    pub max_complexity: usize,
    /// Longest a query or mutation may run.
    pub timeout: std::time::Duration,
    /// Whether clients may introspect the schema (off together with GraphiQL).
    pub introspection: bool,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        Self {
            max_depth: 16,
            max_complexity: 25_000,
            timeout: std::time::Duration::from_secs(30),
            introspection: true,
        }
    }
}

pub fn build_schema(
    store: EventStore,
    pool: PgPool,
    handler: CommandHandler,
    workflows: SourceWorkflows,
    health: HealthMonitor,
    shutdown: watch::Receiver<bool>,
    limits: &SchemaLimits,
) -> PursightSchema {
    let builder = Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::SubscriptionRoot,
    )
    .data(DataLoader::new(
        catalog::ColumnLabelsLoader { pool: pool.clone() },
        tokio::spawn,
    ))
    .data(Services {
        store,
        pool,
        handler,
        workflows,
        health,
        shutdown,
    })
    .extension(limits::RequestLimits::new(limits.timeout))
    .extension(refusals::RecordRefusals)
    // After the limits: an operation refused for its size reads no grants.
    .extension(fresh_grants::FreshGrants)
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_directives(8);
    if limits.introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

/// The SDL, for documentation and clients.
pub fn sdl() -> String {
    Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::SubscriptionRoot,
    )
    .finish()
    .sdl()
}
