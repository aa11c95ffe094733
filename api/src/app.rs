//! The service: [`Application::build`] connects the event store and the read-model database,
//! starts the projection runners (and the periodic health checks, when configured) and binds
//! the listener (port 0 in tests); [`Application::run_until_stopped`] serves until the shutdown
//! signal.

use crate::auth::Authenticator;
use crate::graphql::{build_schema, PursightSchema, SchemaLimits};
use crate::http;
use commands::health::HealthMonitor;
use commands::workflows::SourceWorkflows;
use commands::CommandHandler;
use domain::datasource::SourcePolicy;
use eventlog::{EventStore, EventStoreConfig};
use projections::projection::schema_of;
use projections::{
    audit_log::AuditLog, catalog::Catalog, compliance::Compliance, data_sources::DataSources,
    health::Health, lineage::Lineage, ProjectionRunner, StatusBoard,
};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Everything the service needs to start.
#[derive(Clone)]
pub struct AppConfig {
    pub store: EventStoreConfig,
    pub database_url: String,
    pub listen: String,
    pub jwt_secret: String,
    pub jwt_public_key_pem: Option<Vec<u8>>,
    /// How often a conflicting command is decided again before CONFLICT.
    pub command_attempts: u32,
    /// How often every non-archived source's health is checked; `None` turns the periodic
    /// checks off (checks on request still work).
    pub health_interval: Option<Duration>,
    /// Where tenants' secret references and hosts may point (`settings::source_policy_from_env`).
    pub source_policy: SourcePolicy,
    /// Required `iss` claim, when set.
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim (one of the token's audiences), when set.
    pub jwt_audience: Option<String>,
    /// OIDC: the provider's JWKS, claim names and clock leeway.
    pub oidc: crate::auth::OidcSettings,
    /// What the HTTP server accepts and exposes.
    pub http: HttpSettings,
    /// Runs the compliance process manager (violations follow the facts, acceptances expire);
    /// `None` turns it off (one-off CLI commands).
    pub compliance: Option<crate::compliance_worker::ComplianceWorkerSettings>,
    /// How far an asset's row estimate or size must move before a scan records it again
    /// (`PURSIGHT_STATISTICS_CHANGE_PERCENT`, default 10 %).
    pub statistics_threshold: domain::discovery::StatisticsThreshold,
}

/// What the HTTP server accepts and exposes.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest request body (and WebSocket message); a larger one is answered 413 unread.
    pub max_body_bytes: usize,
    /// Depth, complexity and time limits of one GraphQL request; `introspection` follows
    /// `graphiql`.
    pub limits: SchemaLimits,
    /// Serve GraphiQL on `GET /graphql` and answer introspection queries.
    pub graphiql: bool,
    /// When set, `/metrics` and the detailed `/readyz` body need `Authorization: Bearer` with it.
    pub metrics_token: Option<String>,
    /// Refuse tokens of tenants never created with `pursight tenant create` (off: such tenants
    /// work as before tenants were recorded).
    pub require_tenants: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            limits: SchemaLimits::default(),
            graphiql: true,
            metrics_token: None,
            require_tenants: false,
        }
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] eventlog::EventStoreError),
    #[error(transparent)]
    Database(#[from] projections::database::DatabaseError),
    #[error("cannot listen on {addr}: {reason}. Is another pursight running? Choose another address with --listen or PURSIGHT_LISTEN")]
    Listen { addr: String, reason: String },
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    #[error("secret resolver: {0}")]
    Secrets(String),
    #[error("personal data keys: {0}")]
    PersonalData(String),
    #[error("cannot prepare the read models: {0}")]
    Projection(String),
}

/// State shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub schema: PursightSchema,
    pub auth: Arc<Authenticator>,
    pub handler: CommandHandler,
    pub store: EventStore,
    pub pool: PgPool,
    pub status: StatusBoard,
    pub workflows: SourceWorkflows,
    pub health: HealthMonitor,
    pub http: Arc<HttpSettings>,
    /// The compliance worker's counters, when it runs in this process.
    pub compliance: Option<Arc<commands::compliance_pm::ProcessStats>>,
    /// Which tenants are suspended, kept current from the stream (see [`crate::tenants`]).
    pub tenants: crate::tenants::TenantRegistry,
}

/// A built, not yet serving, service.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    shutdown: watch::Sender<bool>,
    runners: Vec<JoinHandle<()>>,
}

/// Stops a running [`Application`].
#[derive(Clone)]
pub struct ShutdownHandle(watch::Sender<bool>);

impl ShutdownHandle {
    pub fn shutdown(&self) {
        let _ = self.0.send(true);
    }
}

/// Destroys again the keys of every erasure recorded on the stream, before anything reads: a
/// restored backup of `personal_keys` would otherwise bring erased data back.
async fn reapply_erasures(store: &EventStore, pool: &PgPool) -> Result<(), StartError> {
    use projections::personal_keys::{MasterKey, PgKeyring};
    let (master, _) = MasterKey::from_env().map_err(StartError::PersonalData)?;
    let keyring = PgKeyring::new(pool.clone(), master);
    let report = projections::personal_keys::reapply_erasures(store, &keyring)
        .await
        .map_err(|err| StartError::PersonalData(format!("re-applying erasures: {err}")))?;
    if report.destroyed > 0 || report.refusals > 0 {
        store.purge_snapshots(None).await?;
        tracing::warn!(
            erasures = report.erasures,
            destroyed = report.destroyed,
            refusals = report.refusals,
            "data keys (or refused-command rows) of recorded erasures were back (a restored backup?) and are erased again; read models restored with them still show the data until `pursight rebuild NAME`"
        );
    } else {
        tracing::info!(
            erasures = report.erasures,
            "recorded erasures re-applied to the key table"
        );
    }
    Ok(())
}

impl Application {
    pub async fn build(config: AppConfig) -> Result<Self, StartError> {
        let store = EventStore::connect(&config.store).await?;
        let pool = projections::database::connect(&config.database_url).await?;
        let store =
            crate::settings::with_personal_keys(store, &pool).map_err(StartError::PersonalData)?;
        reapply_erasures(&store, &pool).await?;
        let auth = Arc::new(
            Authenticator::new(&config.jwt_secret, config.jwt_public_key_pem.as_deref())?
                .with_issuer(config.jwt_issuer.clone())
                .with_audience(config.jwt_audience.clone())
                .with_oidc(config.oidc.clone())
                .await?,
        );
        let handler = CommandHandler::new(store.clone())
            .with_max_attempts(config.command_attempts)
            .with_policy(config.source_policy.clone());
        let status = StatusBoard::default();
        let (shutdown, shutdown_rx) = watch::channel(false);

        // Read-model tables exist before the first request, whatever the runners are doing.
        let projections = Projections {
            store: &store,
            pool: &pool,
            status: &status,
            shutdown: &shutdown_rx,
        };
        let mut runners = vec![
            projections.start(DataSources).await?,
            projections.start(AuditLog).await?,
            projections.start(Catalog).await?,
            projections.start(Lineage).await?,
            projections.start(Health).await?,
            projections.start(Compliance).await?,
            projections.start(projections::access::Access).await?,
            projections
                .start(projections::glossary::GlossaryProjection)
                .await?,
        ];
        let secrets = connectors::secrets::SecretResolver::new(
            connectors::secrets::SecretResolverConfig::from_env()
                .with_policy(config.source_policy.secrets.clone()),
        )
        .map_err(|err| StartError::Secrets(err.to_string()))?;
        let workflows = SourceWorkflows::new(handler.clone(), Arc::new(secrets))
            .with_statistics_threshold(config.statistics_threshold);
        let health = HealthMonitor::new(workflows.clone());
        if let Some(interval) = config.health_interval.filter(|i| !i.is_zero()) {
            tracing::info!(
                interval_secs = interval.as_secs(),
                "periodic health checks on"
            );
            runners.push(crate::monitor::spawn(
                health.clone(),
                pool.clone(),
                interval,
                shutdown_rx.clone(),
            ));
        }
        // Loaded before the listener exists, so no request of a suspended tenant is served
        // from a registry that has not read the stream yet.
        let (tenants, tenants_read) = crate::tenants::TenantRegistry::load(&store).await?;
        runners.push(tenants.follow(store.clone(), tenants_read, shutdown_rx.clone()));
        let mut compliance = None;
        if let Some(settings) = &config.compliance {
            let (task, stats) = crate::compliance_worker::spawn(
                handler.clone(),
                pool.clone(),
                settings,
                shutdown_rx.clone(),
            );
            runners.push(task);
            compliance = Some(stats);
        }
        let schema = build_schema(
            store.clone(),
            pool.clone(),
            handler.clone(),
            workflows.clone(),
            health.clone(),
            shutdown_rx,
            &SchemaLimits {
                introspection: config.http.graphiql,
                ..config.http.limits.clone()
            },
        );
        let listener =
            TcpListener::bind(&config.listen)
                .await
                .map_err(|err| StartError::Listen {
                    addr: config.listen.clone(),
                    reason: err.to_string(),
                })?;
        Ok(Self {
            listener,
            state: AppState {
                schema,
                auth,
                handler,
                store,
                pool,
                status,
                workflows,
                health,
                http: Arc::new(config.http.clone()),
                compliance,
                tenants,
            },
            shutdown,
            runners,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown.clone())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Fails the scans and classifications a previous run of the service left running (they can
    /// never finish), so their sources are not stuck in `scanning` or `classifying`. Call it once
    /// at start-up, before serving, in the one process that runs scans. Returns how many were
    /// ended.
    pub async fn recover_interrupted_work(&self) -> Result<usize, StartError> {
        let state = &self.state;
        let failed = |err: &dyn std::fmt::Display| StartError::Projection(err.to_string());
        let target = state.store.last_sequence().await?;
        projections::checkpoint::wait_for(
            &state.pool,
            &[projections::catalog::NAME],
            target,
            Duration::from_secs(60),
        )
        .await
        .map_err(|err| failed(&err))?;
        let running = projections::catalog::running_scans(&state.pool)
            .await
            .map_err(|err| failed(&err))?;
        let mut ended = 0;
        for (tenant, scan_id, source_id) in running {
            let Ok(tenant) = domain::TenantId::parse(&tenant) else {
                continue;
            };
            let ctx = commands::CommandContext::new(
                tenant,
                "pursight-recovery",
                vec![domain::access::Role::Admin],
                None,
            );
            let reason = "interrupted: the service stopped while the scan ran; start a new scan";
            match state
                .workflows
                .fail_interrupted_scan(
                    &ctx,
                    domain::AggregateId::from_uuid(source_id),
                    domain::AggregateId::from_uuid(scan_id),
                    reason,
                )
                .await
            {
                Ok(()) => ended += 1,
                Err(err) => {
                    tracing::warn!(%scan_id, error = %err, "could not end an interrupted scan")
                }
            }
        }
        if ended > 0 {
            tracing::info!(ended, "ended scans interrupted by an earlier stop");
        }
        // The same for classifications: the source goes back to Scanned and keeps every label
        // recorded so far (each asset's labels were recorded in one commit).
        projections::checkpoint::wait_for(
            &state.pool,
            &[projections::data_sources::NAME],
            target,
            Duration::from_secs(60),
        )
        .await
        .map_err(|err| failed(&err))?;
        let classifying = projections::data_sources::in_state(&state.pool, "classifying")
            .await
            .map_err(|err| failed(&err))?;
        for (tenant, source_id) in classifying {
            let Ok(tenant) = domain::TenantId::parse(&tenant) else {
                continue;
            };
            let ctx = commands::CommandContext::new(
                tenant,
                "pursight-recovery",
                vec![domain::access::Role::Admin],
                None,
            );
            let outcome = state
                .handler
                .execute::<domain::datasource::DataSource>(
                    &ctx,
                    domain::access::Permission::ManageDataSources,
                    domain::AggregateId::from_uuid(source_id),
                    domain::datasource::DataSourceCommand::FailClassification {
                        reason: "interrupted: the service stopped while classifying; run it again"
                            .to_owned(),
                    },
                )
                .await;
            match outcome {
                Ok(_) => ended += 1,
                Err(err) => {
                    tracing::warn!(%source_id, error = %err, "could not end an interrupted classification")
                }
            }
        }
        Ok(ended)
    }

    /// Serves until the shutdown handle fires (or Ctrl-C when `ctrl_c` is set), then lets the
    /// projection runners finish their current batch.
    pub async fn run_until_stopped(self, ctrl_c: bool) -> std::io::Result<()> {
        let mut stop = self.shutdown.subscribe();
        let shutdown = self.shutdown.clone();
        if ctrl_c {
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    tracing::info!("Ctrl-C received, shutting down");
                    let _ = shutdown.send(true);
                }
            });
        }
        let router = http::router(self.state.clone());
        let served = axum::serve(self.listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            })
            .await;
        let _ = self.shutdown.send(true);
        for runner in self.runners {
            let _ = tokio::time::timeout(Duration::from_secs(10), runner).await;
        }
        served
    }
}

/// What every projection runner of the service shares.
struct Projections<'a> {
    store: &'a EventStore,
    pool: &'a PgPool,
    status: &'a StatusBoard,
    shutdown: &'a watch::Receiver<bool>,
}

impl Projections<'_> {
    /// Creates `projection`'s tables, then starts its runner.
    async fn start<P: projections::Projection>(
        &self,
        projection: P,
    ) -> Result<JoinHandle<()>, StartError> {
        projections::runner::prepare_schema(self.pool, &projection, &schema_of(projection.name()))
            .await
            .map_err(|error| StartError::Projection(error.to_string()))?;
        let runner = ProjectionRunner::new(
            projection,
            self.store.clone(),
            self.pool.clone(),
            self.status.clone(),
        );
        let shutdown = self.shutdown.clone();
        Ok(tokio::spawn(async move {
            // The error is logged and shown in /readyz by the runner itself.
            let _ = runner.run(shutdown).await;
        }))
    }
}
