//! PurSight's outer layer: the GraphQL/HTTP service, authentication, metrics and the `pursight`
//! command line. Nothing depends on this crate.
#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod cli;
pub mod compliance_worker;
pub mod grants;
pub mod graphiql;
pub mod graphql;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod monitor;
pub mod openlineage;
pub mod settings;
pub mod tenants;

pub use app::{AppConfig, Application, HttpSettings, ShutdownHandle};
