//! What the command handler's test binaries share: an event store on a stream of its own, and a
//! harmless command.

use domain::datasource::{DataSourceCommand, DataSourceConfigInput};
use eventlog::{EventStore, EventStoreConfig, StreamNames};
use uuid::Uuid;

/// An event store on a fresh stream (random prefix); the test deletes it when done.
pub async fn store() -> EventStore {
    let prefix = format!("t{}", &Uuid::new_v4().simple().to_string()[..12]);
    let nats_url =
        std::env::var("PURSIGHT_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    EventStore::connect(&EventStoreConfig {
        nats_url,
        names: StreamNames::new(&prefix, None).unwrap(),
    })
    .await
    .unwrap()
}

/// Sets a source's description.
pub fn describe(text: String) -> DataSourceCommand {
    DataSourceCommand::PatchConfig {
        patch: DataSourceConfigInput {
            description: Some(text),
            ..Default::default()
        },
    }
}
