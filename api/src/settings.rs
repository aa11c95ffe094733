//! Configuration shared by every subcommand: flags with environment fallbacks and defaults that
//! work on a developer machine (SPEC §6).

use clap::Args;

pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/pursight";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Where the event store lives.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// NATS server with JetStream.
    #[arg(long, env = "PURSIGHT_NATS_URL", default_value = DEFAULT_NATS_URL, global = true)]
    pub nats_url: String,
    /// Subject prefix: events live on `<prefix>.events.>`; several instances can share a server.
    #[arg(
        long,
        env = "PURSIGHT_STREAM_PREFIX",
        default_value = "pursight",
        global = true
    )]
    pub stream_prefix: String,
    /// Stream name (default `<PREFIX>_EVENTS`).
    #[arg(long = "stream", env = "PURSIGHT_STREAM", global = true)]
    pub stream: Option<String>,
}

impl StoreArgs {
    pub fn names(&self) -> Result<eventlog::StreamNames, eventlog::EventStoreError> {
        eventlog::StreamNames::new(&self.stream_prefix, self.stream.as_deref())
    }

    pub fn config(&self) -> Result<eventlog::EventStoreConfig, eventlog::EventStoreError> {
        Ok(eventlog::EventStoreConfig {
            nats_url: self.nats_url.clone(),
            names: self.names()?,
        })
    }
}

/// Where the read models live.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL database for the read models (created if missing).
    #[arg(long, env = "PURSIGHT_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
}
