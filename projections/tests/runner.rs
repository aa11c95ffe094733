//! The projection runner against the machine's real PostgreSQL and NATS. Each test has its own
//! stream prefix and its own database, both removed at the end.

use domain::datasource::{DataSource, DataSourceCommand, DataSourceConfigInput};
use domain::{Aggregate, AggregateId, TenantId};
use eventlog::{
    CommitMetadata, EventStore, EventStoreConfig, NewCommit, NewEvent, StoredCommit, StoredEvent,
    StreamNames,
};
use projections::data_sources::{self, DataSources};
use projections::runner::{apply_commits, prepare_schema};
use projections::{
    Projection, ProjectionError, ProjectionRunner, ProjectionState, RunnerOptions, StatusBoard,
};
use sqlx::{PgConnection, PgPool};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

struct Env {
    store: EventStore,
    pool: PgPool,
    database: String,
    tenant: TenantId,
}

impl Env {
    async fn new() -> Self {
        let suffix = Uuid::new_v4().simple().to_string()[..12].to_owned();
        let names = StreamNames::new(&format!("t{suffix}"), None).unwrap();
        let nats_url =
            std::env::var("PURSIGHT_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
        let store = EventStore::connect(&EventStoreConfig { nats_url, names })
            .await
            .unwrap();
        let database = format!("pursight_test_{suffix}");
        let pool = projections::database::connect(&format!(
            "postgres://postgres@127.0.0.1:5432/{database}"
        ))
        .await
        .unwrap();
        Self {
            store,
            pool,
            database,
            tenant: TenantId::parse("acme").unwrap(),
        }
    }

    async fn cleanup(self) {
        self.pool.close().await;
        self.store.delete_scratch_store().await.unwrap();
        testkit::drop_postgres_database(&self.database)
            .await
            .unwrap();
    }

    /// Decides `command` against the aggregate's history and appends the result.
    async fn run(&self, id: AggregateId, command: DataSourceCommand) -> u64 {
        self.run_for(&self.tenant.clone(), id, command, |_| {})
            .await
    }

    /// [`run`](Self::run) for `tenant`, with `tamper` applied to each decided event's data
    /// before it is appended (what a bug or a bypassed validation would let through).
    async fn run_for(
        &self,
        tenant: &TenantId,
        id: AggregateId,
        command: DataSourceCommand,
        tamper: impl Fn(&mut serde_json::Value),
    ) -> u64 {
        let history = self
            .store
            .load(tenant, DataSource::NAME, &id)
            .await
            .unwrap();
        let events: Vec<_> = history
            .events
            .iter()
            .map(|e| {
                let (name, version) = e.event.name_and_version().unwrap();
                <domain::datasource::DataSourceEvent as domain::DomainEvent>::from_stored(
                    name,
                    version,
                    &e.event.data,
                )
                .unwrap()
            })
            .collect();
        let state = DataSource::replay(events.iter());
        let decided = DataSource::decide(&state, &command).unwrap();
        let command_id = Uuid::now_v7();
        self.store
            .append(NewCommit {
                aggregate_type: DataSource::NAME,
                aggregate_id: id,
                expected_sequence: history.last_sequence,
                expected_version: history.version(),
                previous_hash: history.last_hash(),
                metadata: CommitMetadata {
                    tenant: tenant.clone(),
                    actor: "alice".into(),
                    command_id,
                    correlation_id: command_id,
                    causation_id: command_id,
                    traceparent: None,
                },
                events: decided
                    .iter()
                    .map(|event| {
                        let mut data = domain::DomainEvent::to_data(event);
                        tamper(&mut data);
                        NewEvent::from_value(
                            domain::DomainEvent::event_type(event),
                            domain::DomainEvent::version(event),
                            &data,
                        )
                    })
                    .collect(),
            })
            .await
            .unwrap()
            .sequence
    }

    async fn register(&self, name: &str) -> (AggregateId, u64) {
        self.register_for(&self.tenant.clone(), name, |_| {}).await
    }

    /// Registers a source for `tenant`, its event's data passed through `tamper`.
    async fn register_for(
        &self,
        tenant: &TenantId,
        name: &str,
        tamper: impl Fn(&mut serde_json::Value),
    ) -> (AggregateId, u64) {
        let id = AggregateId::from_uuid(Uuid::now_v7());
        let config = DataSourceConfigInput {
            name: Some(name.into()),
            kind: Some("postgresql".into()),
            host: Some("db.internal".into()),
            password_secret: Some("fernet:gAAAAABsecretciphertext".into()),
            ..Default::default()
        }
        .parse()
        .unwrap();
        let sequence = self
            .run_for(
                tenant,
                id,
                DataSourceCommand::Register { id, config },
                tamper,
            )
            .await;
        (id, sequence)
    }

    async fn checkpoint(&self, name: &str) -> u64 {
        let mut conn = self.pool.acquire().await.unwrap();
        projections::checkpoint::read(&mut conn, name)
            .await
            .unwrap()
    }

    async fn wait_for_checkpoint(&self, name: &str, sequence: u64) {
        for _ in 0..500 {
            if self.checkpoint(name).await >= sequence {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("projection {name} did not reach sequence {sequence}");
    }

    fn spawn<P: Projection>(
        &self,
        projection: P,
        status: &StatusBoard,
    ) -> (
        watch::Sender<bool>,
        tokio::task::JoinHandle<Result<(), ProjectionError>>,
    ) {
        let (stop, stopped) = watch::channel(false);
        // Short waits between attempts: the tests wait for what the runner does, not for time.
        let options = RunnerOptions {
            retry_backoff: Duration::from_millis(10),
            ..RunnerOptions::default()
        };
        let runner = ProjectionRunner::new(
            projection,
            self.store.clone(),
            self.pool.clone(),
            status.clone(),
        )
        .with_options(options);
        (stop, tokio::spawn(runner.run(stopped)))
    }
}

#[tokio::test]
async fn the_runner_projects_sources_without_secrets_and_moves_its_checkpoint() {
    let env = Env::new().await;
    let status = StatusBoard::default();
    let (stop, handle) = env.spawn(DataSources, &status);
    let (id, _) = env.register("Orders").await;
    let last = env.run(id, DataSourceCommand::BeginConfiguration).await;
    env.wait_for_checkpoint(data_sources::NAME, last).await;

    let row = data_sources::get(&env.pool, "acme", id.as_uuid())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.name, "Orders");
    assert_eq!(row.kind, "postgresql");
    assert_eq!(row.lifecycle_state, "configuring");
    assert_eq!(row.version, 2);
    assert_eq!(row.config["password_secret"], "fernet:***");
    assert!(!row.config.to_string().contains("secretciphertext"));
    assert!(
        data_sources::get(&env.pool, "globex", id.as_uuid())
            .await
            .unwrap()
            .is_none(),
        "rows are per tenant"
    );
    assert_eq!(
        status.snapshot()[data_sources::NAME].state,
        ProjectionState::Running
    );

    stop.send(true).unwrap();
    handle.await.unwrap().unwrap();
    env.cleanup().await;
}

/// Inserts one row per applied event with no uniqueness, so a double application shows; the
/// event's data goes into a JSONB column, which refuses a string holding U+0000 as the real read
/// models do.
struct Counting {
    fail_once_at: Option<u64>,
    failed: Arc<AtomicBool>,
}

impl Counting {
    fn new() -> Self {
        Self {
            fail_once_at: None,
            failed: Arc::default(),
        }
    }
}

impl Projection for Counting {
    fn name(&self) -> &'static str {
        "counting"
    }

    fn ddl(&self) -> &'static str {
        "CREATE TABLE IF NOT EXISTS applied (sequence BIGINT NOT NULL, event_id UUID NOT NULL, data JSONB)"
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a StoredEvent,
    ) -> futures::future::BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            sqlx::query("INSERT INTO applied (sequence, event_id, data) VALUES ($1, $2, $3)")
                .bind(event.sequence as i64)
                .bind(event.event.id)
                .bind(&event.event.data)
                .execute(&mut *conn)
                .await
                .map_err(|source| ProjectionError::Database {
                    projection: "counting",
                    source,
                })?;
            if Some(event.sequence) == self.fail_once_at
                && !self.failed.swap(true, Ordering::SeqCst)
            {
                // The batch fails after writing this row, before it commits.
                return Err(ProjectionError::BadEvent {
                    projection: "counting",
                    sequence: event.sequence,
                    reason: "simulated crash".into(),
                });
            }
            Ok(())
        })
    }
}

async fn applied_counts(pool: &PgPool) -> (i64, i64) {
    sqlx::query_as("SELECT count(*), count(DISTINCT event_id) FROM rm_counting.applied")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn waiting_on_a_projection_that_has_seen_no_event_yet() {
    // A service starting on an empty stream waits for its projections to reach sequence 0;
    // before any event they have no checkpoint row, and that must not read as "behind".
    let env = Env::new().await;
    let reached = |sequence, timeout| {
        projections::checkpoint::wait_for(&env.pool, &[data_sources::NAME], sequence, timeout)
    };
    assert!(
        reached(0, Duration::from_secs(2)).await.unwrap(),
        "a projection with no checkpoint is at sequence 0"
    );
    // Anything beyond what was applied is still waited for, and reported as not reached.
    assert!(!reached(1, Duration::from_millis(100)).await.unwrap());
    env.cleanup().await;
}

#[tokio::test]
async fn a_failed_batch_is_rolled_back_and_applied_once_when_tried_again() {
    let env = Env::new().await;
    let mut last = 0;
    for i in 0..6 {
        last = env.register(&format!("source {i}")).await.1;
    }
    let failed = Arc::new(AtomicBool::new(false));
    let status = StatusBoard::default();
    let (stop, handle) = env.spawn(
        Counting {
            fail_once_at: Some(last - 2),
            failed: failed.clone(),
        },
        &status,
    );
    env.wait_for_checkpoint("counting", last).await;
    assert!(failed.load(Ordering::SeqCst), "the batch failed once");
    // The failed attempt's rows were rolled back; the next attempt applied each event once,
    // and nothing was parked for a failure that went away.
    assert_eq!(applied_counts(&env.pool).await, (6, 6));
    assert!(projections::parked::list(&env.pool, None, None)
        .await
        .unwrap()
        .is_empty());
    stop.send(true).unwrap();
    handle.await.unwrap().unwrap();
    env.cleanup().await;
}

#[tokio::test]
async fn a_crash_after_commit_but_before_ack_applies_nothing_twice() {
    let env = Env::new().await;
    // A first runner created its durable consumer on the empty stream, then stopped.
    let status = StatusBoard::default();
    let (stop, handle) = env.spawn(
        Counting {
            fail_once_at: None,
            failed: Arc::default(),
        },
        &status,
    );
    for _ in 0..500 {
        if status
            .snapshot()
            .get("counting")
            .is_some_and(|s| s.state == ProjectionState::Running)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    handle.await.unwrap().unwrap();
    let mut last = 0;
    for i in 0..4 {
        last = env.register(&format!("source {i}")).await.1;
    }
    // Another worker applied and committed the first three commits, then died before acking.
    let projection = Counting {
        fail_once_at: None,
        failed: Arc::default(),
    };
    let mut commits: Vec<StoredCommit> = Vec::new();
    for sequence in 1..=last {
        commits.push(env.store.commit_at(sequence).await.unwrap());
    }
    let mut tx = env.pool.begin().await.unwrap();
    apply_commits(
        &mut tx,
        &projection,
        "rm_counting",
        "counting",
        commits[..3].to_vec(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // The consumer redelivers everything from the start; only the rest is applied.
    let (stop, handle) = env.spawn(projection, &status);
    env.wait_for_checkpoint("counting", last).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(applied_counts(&env.pool).await, (4, 4));
    stop.send(true).unwrap();
    handle.await.unwrap().unwrap();
    env.cleanup().await;
}

/// `Counting` behind the runner's filters: the aggregate types and event names it reads.
struct Filtered {
    inner: Counting,
    aggregate_types: Option<&'static [&'static str]>,
    event_names: Option<&'static [&'static str]>,
}

impl Filtered {
    fn new(
        aggregate_types: Option<&'static [&'static str]>,
        event_names: Option<&'static [&'static str]>,
    ) -> Self {
        Self {
            inner: Counting {
                fail_once_at: None,
                failed: Arc::default(),
            },
            aggregate_types,
            event_names,
        }
    }
}

impl Projection for Filtered {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn ddl(&self) -> &'static str {
        self.inner.ddl()
    }

    fn aggregate_types(&self) -> Option<&'static [&'static str]> {
        self.aggregate_types
    }

    fn event_names(&self) -> Option<&'static [&'static str]> {
        self.event_names
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a StoredEvent,
    ) -> futures::future::BoxFuture<'a, Result<(), ProjectionError>> {
        self.inner.apply(conn, event)
    }
}

#[tokio::test]
async fn a_projection_reads_only_its_aggregate_types_and_moves_its_checkpoint_past_the_rest() {
    let env = Env::new().await;
    let (id, first) = env.register("Orders").await;
    // Commits of another type, not even CloudEvents batches: they are never decoded, so they
    // cannot stop a projection that does not read them.
    for payload in ["{\"oops\":1}", "[]"] {
        let other = AggregateId::from_uuid(Uuid::now_v7());
        env.store
            .jetstream()
            .publish(
                env.store.names().aggregate(&env.tenant, "asset", &other),
                payload.into(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let last = env.run(id, DataSourceCommand::BeginConfiguration).await;
    assert_eq!(last, first + 3);

    let status = StatusBoard::default();
    let (stop, handle) = env.spawn(Filtered::new(Some(&[DataSource::NAME]), None), &status);
    env.wait_for_checkpoint("counting", last).await;
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT sequence FROM rm_counting.applied ORDER BY sequence")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    assert_eq!(applied, [first as i64, last as i64]);
    stop.send(true).unwrap();
    handle.await.unwrap().unwrap();
    env.cleanup().await;
}

#[tokio::test]
async fn a_malformed_commit_is_parked_and_the_projection_goes_on() {
    let env = Env::new().await;
    let (id, _) = env.register("Orders").await;
    env.store
        .jetstream()
        .publish(
            env.store.names().aggregate(&env.tenant, "data_source", &id),
            "{\"oops\":1}".into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let (after, last) = env.register("Invoices").await;
    let status = StatusBoard::default();
    let (stop, handle) = env.spawn(DataSources, &status);
    env.wait_for_checkpoint(data_sources::NAME, last).await;
    assert!(data_sources::get(&env.pool, "acme", after.as_uuid())
        .await
        .unwrap()
        .is_some());
    let parked = projections::parked::list(&env.pool, Some(data_sources::NAME), None)
        .await
        .unwrap();
    assert_eq!(parked.len(), 1, "{parked:?}");
    let row = &parked[0];
    assert_eq!(
        (row.sequence, row.tenant_id.as_str(), row.event_id),
        (2, "acme", None)
    );
    assert_eq!(row.aggregate_type.as_deref(), Some("data_source"));
    assert_eq!(row.aggregate_id, Some(id.as_uuid().to_string()));
    assert!(row.error.contains("sequence 2"), "{}", row.error);
    assert_eq!(
        status.snapshot()[data_sources::NAME].state,
        ProjectionState::Running
    );
    stop.send(true).unwrap();
    handle.await.unwrap().unwrap();
    env.cleanup().await;
}

/// Rows of tenant `tenant` in the data-sources read model, by name.
async fn source_names(pool: &PgPool, tenant: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT name FROM rm_data_sources.data_sources WHERE tenant_id = $1 ORDER BY name",
    )
    .bind(tenant)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Puts U+0000 into a registration's description, which PostgreSQL refuses in `JSONB` (as in
/// `TEXT`).
fn nul_in_description(data: &mut serde_json::Value) {
    data["config"]["description"] = "evil\u{0}description".into();
}

#[tokio::test]
async fn an_event_postgresql_refuses_is_parked_and_other_tenants_events_are_projected() {
    let env = Env::new().await;
    let (a, b) = (
        TenantId::parse("tenant-a").unwrap(),
        TenantId::parse("tenant-b").unwrap(),
    );
    env.register_for(&a, "A first", |_| {}).await;
    // Written straight into the event store, past every validation.
    let (poisoned, poison) = env.register_for(&a, "ignored", nul_in_description).await;
    env.register_for(&b, "B first", |_| {}).await;
    let (_, mut last) = env.register_for(&b, "B second", |_| {}).await;

    let status = StatusBoard::default();
    let (stop, handle) = env.spawn(DataSources, &status);
    env.wait_for_checkpoint(data_sources::NAME, last).await;
    assert_eq!(
        source_names(&env.pool, "tenant-b").await,
        ["B first", "B second"]
    );
    assert_eq!(source_names(&env.pool, "tenant-a").await, ["A first"]);
    let parked = projections::parked::list(&env.pool, Some(data_sources::NAME), None)
        .await
        .unwrap();
    assert_eq!(parked.len(), 1, "{parked:?}");
    let row = &parked[0];
    assert_eq!(row.sequence as u64, poison);
    assert_eq!(row.tenant_id, "tenant-a");
    assert_eq!(row.aggregate_id, Some(poisoned.as_uuid().to_string()));
    assert_eq!(
        row.event_type.as_deref(),
        Some("io.pursight.SourceRegistered.v3")
    );
    assert!(
        row.error.contains("\\u0000 cannot be converted to text"),
        "PostgreSQL's reason: {}",
        row.error
    );
    assert_eq!(row.attempts, 1);
    assert_eq!(
        status.snapshot()[data_sources::NAME].state,
        ProjectionState::Running
    );
    // Only tenant A's count holds it.
    assert_eq!(
        projections::parked::counts(&env.pool, Some("tenant-b"))
            .await
            .unwrap(),
        []
    );

    // A restart moves on from the checkpoint: the parked event is neither tried nor parked
    // again, and what came after it is applied.
    stop.send(true).unwrap();
    handle.await.unwrap().unwrap();
    let (stop, handle) = env.spawn(DataSources, &status);
    last = env.register_for(&b, "B third", |_| {}).await.1;
    env.wait_for_checkpoint(data_sources::NAME, last).await;
    assert_eq!(source_names(&env.pool, "tenant-b").await.len(), 3);
    assert_eq!(
        projections::parked::list(&env.pool, None, None)
            .await
            .unwrap(),
        parked
    );

    // Retrying without a fix fails again (the stream is immutable): the row stays, with the
    // new attempt counted.
    let report = projections::parked::retry(&DataSources, &env.store, &env.pool, None)
        .await
        .unwrap();
    assert!(report.applied.is_empty());
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].attempts, 2);
    assert!(report.failed[0].retried_at.is_some());
    assert_eq!(source_names(&env.pool, "tenant-a").await, ["A first"]);

    // A rebuild goes past it too, and parks it afresh in place of the old row.
    let rebuilt = projections::rebuild::rebuild_by_name(
        data_sources::NAME,
        &env.store,
        &env.pool,
        &|_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(rebuilt.last_sequence, last);
    assert_eq!(source_names(&env.pool, "tenant-b").await.len(), 3);
    let after = projections::parked::list(&env.pool, None, None)
        .await
        .unwrap();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(
        (
            after[0].projection.as_str(),
            after[0].sequence as u64,
            after[0].attempts
        ),
        (data_sources::NAME, poison, 1)
    );
    stop.send(true).unwrap();
    handle.await.unwrap().unwrap();
    env.cleanup().await;
}

/// `Counting`, with a switch standing for a bug in the projection: while `broken`, every event
/// of tenant `tenant-a` fails with an SQLSTATE of class `class` (`22`: the event's fault, so
/// it is parked; `40`: the database's, so the runner retries and parks nothing).
struct Switchable {
    inner: Counting,
    broken: Arc<AtomicBool>,
    class: &'static str,
}

impl Projection for Switchable {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn ddl(&self) -> &'static str {
        self.inner.ddl()
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a StoredEvent,
    ) -> futures::future::BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            if self.broken.load(Ordering::SeqCst) && event.event.tenant == "tenant-a" {
                let raise = format!(
                    "DO $$ BEGIN RAISE EXCEPTION 'broken' USING ERRCODE = '{}000'; END $$",
                    self.class
                );
                sqlx::query(&raise)
                    .execute(&mut *conn)
                    .await
                    .map_err(|source| ProjectionError::Database {
                        projection: "counting",
                        source,
                    })?;
            }
            self.inner.apply(conn, event).await
        })
    }
}

#[tokio::test]
async fn a_parked_event_is_applied_once_by_retry_after_the_fix() {
    let env = Env::new().await;
    let (a, b) = (
        TenantId::parse("tenant-a").unwrap(),
        TenantId::parse("tenant-b").unwrap(),
    );
    let (_, parked_at) = env.register_for(&a, "A", |_| {}).await;
    env.register_for(&b, "B1", |_| {}).await;
    let (_, last) = env.register_for(&b, "B2", |_| {}).await;
    let broken = Arc::new(AtomicBool::new(true));
    let projection = || Switchable {
        inner: Counting::new(),
        broken: broken.clone(),
        class: "22",
    };
    let status = StatusBoard::default();
    let (stop, handle) = env.spawn(projection(), &status);
    env.wait_for_checkpoint("counting", last).await;
    assert_eq!(applied_counts(&env.pool).await, (2, 2), "B's two events");
    let parked = projections::parked::list(&env.pool, Some("counting"), None)
        .await
        .unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].sequence as u64, parked_at);
    assert!(parked[0].error.contains("broken"), "{}", parked[0].error);

    // The fix: the retry applies the event once and removes its row.
    broken.store(false, Ordering::SeqCst);
    let report = projections::parked::retry(&projection(), &env.store, &env.pool, None)
        .await
        .unwrap();
    assert_eq!(report.applied.len(), 1);
    assert!(report.failed.is_empty());
    assert!(projections::parked::list(&env.pool, None, None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(applied_counts(&env.pool).await, (3, 3));
    // A second retry has nothing to do, and a restarted runner applies nothing again.
    let again = projections::parked::retry(&projection(), &env.store, &env.pool, None)
        .await
        .unwrap();
    assert_eq!(again, Default::default());
    stop.send(true).unwrap();
    handle.await.unwrap().unwrap();
    let (stop, handle) = env.spawn(projection(), &status);
    let (_, last) = env.register_for(&b, "B3", |_| {}).await;
    env.wait_for_checkpoint("counting", last).await;
    assert_eq!(applied_counts(&env.pool).await, (4, 4));
    stop.send(true).unwrap();
    handle.await.unwrap().unwrap();
    env.cleanup().await;
}

#[tokio::test]
async fn a_database_failure_parks_nothing_and_the_projection_reports_itself_retrying() {
    let env = Env::new().await;
    let a = TenantId::parse("tenant-a").unwrap();
    let (_, first) = env.register_for(&a, "A", |_| {}).await;
    let broken = Arc::new(AtomicBool::new(true));
    let status = StatusBoard::default();
    let (stop, handle) = env.spawn(
        Switchable {
            inner: Counting::new(),
            broken: broken.clone(),
            // 40000: transaction rollback, the database's trouble.
            class: "40",
        },
        &status,
    );
    // Stuck: the runner keeps retrying (not ready, down in /metrics) past the batch's own
    // attempts, and parks nothing.
    let mut attempts_seen = 0;
    for _ in 0..500 {
        if let Some(ProjectionState::Retrying { attempt, error }) =
            status.snapshot().get("counting").map(|s| s.state.clone())
        {
            assert!(error.contains("broken"), "{error}");
            // Past the batch's own two retries, the run loop's count: the batch could be
            // neither applied nor parked, and the runner started over from its checkpoint.
            attempts_seen = attempt;
            if attempt >= 3 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(attempts_seen >= 3, "the runner reported itself retrying");
    assert_eq!(env.checkpoint("counting").await, 0);
    assert!(projections::parked::list(&env.pool, None, None)
        .await
        .unwrap()
        .is_empty());

    // The database recovers: the same event is applied, once, and the runner runs again.
    broken.store(false, Ordering::SeqCst);
    env.wait_for_checkpoint("counting", first).await;
    assert_eq!(applied_counts(&env.pool).await, (1, 1));
    for _ in 0..500 {
        if status.snapshot()["counting"].state == ProjectionState::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        status.snapshot()["counting"].state,
        ProjectionState::Running
    );
    stop.send(true).unwrap();
    handle.await.unwrap().unwrap();
    env.cleanup().await;
}

#[tokio::test]
async fn rebuild_restores_a_damaged_read_model_and_swaps_it_in_while_queries_run() {
    let env = Env::new().await;
    let status = StatusBoard::default();
    let (stop, handle) = env.spawn(DataSources, &status);
    let mut ids = Vec::new();
    let mut last = 0;
    for i in 0..20 {
        let (id, seq) = env.register(&format!("source {i:02}")).await;
        ids.push(id);
        last = seq;
    }
    last = last.max(env.run(ids[0], DataSourceCommand::BeginConfiguration).await);
    env.wait_for_checkpoint(data_sources::NAME, last).await;
    // Damage the read model behind the projection's back.
    sqlx::query("UPDATE rm_data_sources.data_sources SET name = 'garbage'")
        .execute(&env.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM rm_data_sources.data_sources WHERE id = $1")
        .bind(ids[5].as_uuid())
        .execute(&env.pool)
        .await
        .unwrap();

    let reader_pool = env.pool.clone();
    let (reading, mut keep_reading) = watch::channel(true);
    let reader = tokio::spawn(async move {
        let mut queries = 0;
        while *keep_reading.borrow_and_update() {
            let filter = data_sources::ListFilter {
                include_archived: true,
                limit: 100,
                ..Default::default()
            };
            data_sources::list(&reader_pool, "acme", &filter)
                .await
                .expect("queries keep working during a rebuild");
            queries += 1;
        }
        queries
    });
    let report = projections::rebuild::rebuild_by_name(
        data_sources::NAME,
        &env.store,
        &env.pool,
        &|_, _| {},
    )
    .await
    .unwrap();
    reading.send(false).unwrap();
    assert!(reader.await.unwrap() > 0);
    assert_eq!(report.last_sequence, last);

    let filter = data_sources::ListFilter {
        include_archived: true,
        limit: 100,
        ..Default::default()
    };
    let rows = data_sources::list(&env.pool, "acme", &filter)
        .await
        .unwrap();
    assert_eq!(rows.len(), 20);
    assert!(rows.iter().all(|r| r.name.starts_with("source ")));
    assert_eq!(rows[0].lifecycle_state, "configuring");
    assert_eq!(env.checkpoint(data_sources::NAME).await, last);

    // The live runner carries on in the swapped-in tables.
    let (late, seq) = env.register("late").await;
    env.wait_for_checkpoint(data_sources::NAME, seq).await;
    assert!(data_sources::get(&env.pool, "acme", late.as_uuid())
        .await
        .unwrap()
        .is_some());
    stop.send(true).unwrap();
    handle.await.unwrap().unwrap();
    let _ = prepare_schema::<DataSources>;
    env.cleanup().await;
}

#[tokio::test]
async fn a_version_one_registration_in_the_stream_is_upcast_when_projected() {
    let env = Env::new().await;
    let id = AggregateId::from_uuid(Uuid::now_v7());
    let command_id = Uuid::now_v7();
    // Written by an earlier PurSight: tags as one comma-separated string, a flat pool size.
    let v1 = serde_json::json!({
        "id": id.to_string(),
        "config": {
            "name": "Legacy warehouse", "kind": "mysql", "host": "legacy.internal", "port": 3306,
            "database": null, "username": "etl", "password_secret": "env:LEGACY_PWD",
            "cloud_provider": null, "location": "on_prem", "pool_size": 12, "use_encryption": false,
            "owner": null, "description": null, "environment": null, "tags": "finance, pii,finance"
        }
    });
    let appended = env
        .store
        .append(NewCommit {
            aggregate_type: DataSource::NAME,
            aggregate_id: id,
            expected_sequence: 0,
            expected_version: 0,
            previous_hash: eventlog::chain::GENESIS.into(),
            metadata: CommitMetadata {
                tenant: env.tenant.clone(),
                actor: "legacy-importer".into(),
                command_id,
                correlation_id: command_id,
                causation_id: command_id,
                traceparent: None,
            },
            events: vec![NewEvent::from_value("SourceRegistered", 1, &v1)],
        })
        .await
        .unwrap();
    assert_eq!(
        appended.events.cloud_events().unwrap()[0].event_type,
        "io.pursight.SourceRegistered.v1",
        "stored as written, never rewritten"
    );
    let status = StatusBoard::default();
    let (stop, handle) = env.spawn(DataSources, &status);
    // The decider reads the old version too: configuring a v1-registered source works.
    let last = env.run(id, DataSourceCommand::BeginConfiguration).await;
    env.wait_for_checkpoint(data_sources::NAME, last).await;
    let row = data_sources::get(&env.pool, "acme", id.as_uuid())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.config["tags"], serde_json::json!(["finance", "pii"]));
    assert_eq!(row.config["pool"]["pool_size"], 12);
    assert_eq!(row.lifecycle_state, "configuring");
    stop.send(true).unwrap();
    handle.await.unwrap().unwrap();
    env.cleanup().await;
}

#[tokio::test]
async fn two_runners_of_one_projection_never_project_at_the_same_time() {
    let env = Env::new().await;
    let (first_status, second_status) = (StatusBoard::default(), StatusBoard::default());
    let (stop_first, first) = env.spawn(
        Counting {
            fail_once_at: None,
            failed: Arc::default(),
        },
        &first_status,
    );
    let (stop_second, second) = env.spawn(
        Counting {
            fail_once_at: None,
            failed: Arc::default(),
        },
        &second_status,
    );
    let mut last = 0;
    for i in 0..30 {
        last = env.register(&format!("source {i}")).await.1;
    }
    env.wait_for_checkpoint("counting", last).await;
    let states = [
        first_status.snapshot()["counting"].state.clone(),
        second_status.snapshot()["counting"].state.clone(),
    ];
    assert!(
        states.contains(&ProjectionState::Running) && states.contains(&ProjectionState::Standby),
        "{states:?}"
    );
    assert_eq!(applied_counts(&env.pool).await, (30, 30));

    // The standby takes over when the leader stops, and nothing is lost or repeated.
    let (stop_leader, leader, stop_standby, standby, standby_status) =
        if states[0] == ProjectionState::Running {
            (stop_first, first, stop_second, second, second_status)
        } else {
            (stop_second, second, stop_first, first, first_status)
        };
    stop_leader.send(true).unwrap();
    leader.await.unwrap().unwrap();
    for i in 0..10 {
        last = env.register(&format!("late source {i}")).await.1;
    }
    env.wait_for_checkpoint("counting", last).await;
    assert_eq!(
        standby_status.snapshot()["counting"].state,
        ProjectionState::Running
    );
    assert_eq!(applied_counts(&env.pool).await, (40, 40));
    stop_standby.send(true).unwrap();
    standby.await.unwrap().unwrap();
    env.cleanup().await;
}

#[tokio::test]
async fn a_projection_decodes_only_commits_naming_its_events_but_still_parks_malformed_ones() {
    let env = Env::new().await;
    let (kept, _) = env.register("Orders").await;
    let (archived, _) = env.register("Legacy").await;
    env.run(kept, DataSourceCommand::BeginConfiguration).await;
    let archive = env
        .run(archived, DataSourceCommand::Archive { reason: None })
        .await;
    let status = StatusBoard::default();
    let (stop, handle) = env.spawn(Filtered::new(None, Some(&["SourceArchived"])), &status);
    env.wait_for_checkpoint("counting", archive).await;
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT sequence FROM rm_counting.applied ORDER BY sequence")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    assert_eq!(
        applied,
        [archive as i64],
        "only the archive commit is applied"
    );

    // A payload that spells a name in JSON escapes is decoded all the same: here it is not a
    // CloudEvents batch, so the projection parks it rather than skipping it unseen.
    let escaped = "[{\"type\":\"io.pursight.\\u0053ourceArchived.v1\"}]";
    let bad = env
        .store
        .jetstream()
        .publish(
            env.store
                .names()
                .aggregate(&env.tenant, DataSource::NAME, &kept),
            escaped.into(),
        )
        .await
        .unwrap()
        .await
        .unwrap()
        .sequence;
    env.wait_for_checkpoint("counting", bad).await;
    let parked = projections::parked::list(&env.pool, Some("counting"), None)
        .await
        .unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].sequence as u64, bad);
    stop.send(true).unwrap();
    handle.await.unwrap().unwrap();
    env.cleanup().await;
}

/// Every row of `table`, whole, as JSON text, in `order` (columns that make the order total).
async fn rows_of(pool: &PgPool, table: &str, order: &str) -> Vec<String> {
    sqlx::query_scalar(&format!(
        "SELECT row_to_json(t)::text FROM {table} t ORDER BY {order}"
    ))
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn batched_read_models_equal_the_same_events_applied_one_at_a_time() {
    let env = Env::new().await;
    let (orders, _) = env.register("Orders").await;
    let (legacy, _) = env.register("Legacy").await;
    let patch = |description: &str, name: Option<&str>| DataSourceCommand::PatchConfig {
        patch: DataSourceConfigInput {
            description: Some(description.into()),
            name: name.map(str::to_owned),
            ..Default::default()
        },
    };
    env.run(orders, patch("orders of the shop", None)).await;
    env.run(orders, DataSourceCommand::BeginConfiguration).await;
    env.run(
        legacy,
        DataSourceCommand::AttachScanRuleSet {
            rule_set_id: Some(AggregateId::from_uuid(Uuid::now_v7())),
        },
    )
    .await;
    env.run(legacy, patch("the old ERP", Some("Legacy ERP")))
        .await;
    env.run(orders, DataSourceCommand::Archive { reason: None })
        .await;
    let last = env.run(legacy, DataSourceCommand::BeginConfiguration).await;
    let mut commits: Vec<StoredCommit> = Vec::new();
    for sequence in 1..=last {
        commits.push(env.store.commit_at(sequence).await.unwrap());
    }

    let audit = projections::audit_log::AuditLog;
    for (schema, batches) in [
        ("rm_one_by_one", commits.chunks(1).collect::<Vec<_>>()),
        // Two batches: rows created in the first are updated in the second.
        ("rm_batched", vec![&commits[..4], &commits[4..]]),
    ] {
        prepare_schema(&env.pool, &DataSources, schema)
            .await
            .unwrap();
        prepare_schema(&env.pool, &audit, schema).await.unwrap();
        for batch in batches {
            let mut tx = env.pool.begin().await.unwrap();
            let checkpoint = format!("{schema}_sources");
            apply_commits(&mut tx, &DataSources, schema, &checkpoint, batch.to_vec())
                .await
                .unwrap();
            let checkpoint = format!("{schema}_audit");
            apply_commits(&mut tx, &audit, schema, &checkpoint, batch.to_vec())
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    }

    let order = "tenant_id, id";
    let batched = rows_of(&env.pool, "rm_batched.data_sources", order).await;
    assert_eq!(
        batched,
        rows_of(&env.pool, "rm_one_by_one.data_sources", order).await
    );
    let rows: Vec<serde_json::Value> = batched
        .iter()
        .map(|row| serde_json::from_str(row).unwrap())
        .collect();
    let row_of = |id: AggregateId| {
        rows.iter()
            .find(|row| row["id"] == id.as_uuid().to_string())
            .unwrap()
    };
    let (orders_row, legacy_row) = (row_of(orders), row_of(legacy));
    assert_eq!(orders_row["lifecycle_state"], "archived");
    assert!(orders_row["archived_at"].is_string());
    assert_eq!(orders_row["config"]["description"], "orders of the shop");
    assert_eq!(orders_row["version"], 4);
    assert_eq!(legacy_row["name"], "Legacy ERP");
    assert_eq!(legacy_row["lifecycle_state"], "configuring");
    assert!(legacy_row["rule_set_id"].is_string());
    assert!(legacy_row["archived_at"].is_null());
    assert_eq!(legacy_row["last_sequence"], last);

    let order = "sequence, aggregate_version";
    let batched_audit = rows_of(&env.pool, "rm_batched.audit_log", order).await;
    assert_eq!(batched_audit.len() as u64, last);
    assert_eq!(
        batched_audit,
        rows_of(&env.pool, "rm_one_by_one.audit_log", order).await
    );
    env.cleanup().await;
}
