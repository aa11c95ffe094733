//! The command handler's logs name the actor only by a pseudonym. A test binary of its own: it
//! captures logs with a thread-scoped subscriber, and tracing caches each log site's interest
//! globally; another test's thread hitting the same site first, with no subscriber, could make
//! it cache "never" (which made this test flaky beside the handler's other tests).

use commands::{CommandContext, CommandError, CommandHandler};
use domain::access::{Permission, Role};
use domain::datasource::DataSource;
use domain::{AggregateId, TenantId};
use uuid::Uuid;

mod support;
use support::{describe, store};

/// Log lines written into a shared buffer.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_name_the_actor_by_a_pseudonym_never_in_plain_text() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let store = store().await;
    let handler = CommandHandler::new(store.clone());
    let actor = "dana.logs@example.test";
    let ctx = CommandContext::new(
        TenantId::parse("acme").unwrap(),
        actor,
        vec![Role::Admin],
        None,
    );
    // A command on a source that does not exist: refused, and logged (span and line).
    let refused = handler
        .execute::<DataSource>(
            &ctx,
            Permission::ManageDataSources,
            AggregateId::from_uuid(Uuid::now_v7()),
            describe("nothing".into()),
        )
        .await;
    assert!(
        matches!(refused, Err(CommandError::NotFound(_))),
        "{refused:?}"
    );
    store.delete_scratch_store().await.unwrap();
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("command not carried out"), "{logs}");
    assert!(!logs.contains(actor) && !logs.contains("dana"), "{logs}");
    assert!(
        logs.contains(&eventlog::personal::pseudonym(actor)),
        "{logs}"
    );
}
