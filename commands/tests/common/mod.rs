//! What the command-layer tests share: where NATS is, and the removal of a test's scratch event
//! store (and scratch database) when it is dropped.

pub fn nats_url() -> String {
    std::env::var("PURSIGHT_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// Deletes the scratch stream (and snapshot bucket) of `prefix` and, when given, drops `database`
/// on the machine's PostgreSQL; usable from `Drop` (see [`testkit::block_on_thread`]). Failures
/// are ignored: there is nothing a dropped test could do about them.
pub fn remove_scratch(prefix: String, database: Option<String>) {
    let _ = testkit::block_on_thread(move || async move {
        let _ = testkit::delete_event_store(&nats_url(), &prefix).await;
        if let Some(database) = database {
            let _ = testkit::drop_postgres_database(&database).await;
        }
    });
}
