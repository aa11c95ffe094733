//! What the command-layer tests share: where NATS is, and the removal of a test's scratch event
//! store (and scratch database) when it is dropped.

use eventlog::{EventStore, EventStoreConfig, StreamNames};
use sqlx::{Connection, Executor, PgConnection};

pub fn nats_url() -> String {
    std::env::var("PURSIGHT_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// Deletes the scratch stream (and snapshot bucket) of `prefix` and, when given, drops `database`
/// on the machine's PostgreSQL. For `Drop`: that runs outside any runtime we could block on (and
/// also when a test panicked), so the work gets a thread and a small runtime of its own.
/// Failures are ignored: there is nothing a dropped test could do about them.
pub fn remove_scratch(prefix: String, database: Option<String>) {
    let _ = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let config = EventStoreConfig {
                    nats_url: nats_url(),
                    names: StreamNames::new(&prefix, None).unwrap(),
                };
                if let Ok(store) = EventStore::connect(&config).await {
                    let _ = store.delete_scratch_store().await;
                }
                let Some(database) = database else {
                    return;
                };
                if let Ok(mut admin) =
                    PgConnection::connect("postgres://postgres@127.0.0.1:5432/postgres").await
                {
                    let drop = format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
                    let _ = admin.execute(drop.as_str()).await;
                }
            })
    })
    .join();
}
