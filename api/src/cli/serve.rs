//! `pursight serve` and `pursight token`.

use crate::app::{AppConfig, Application, HttpSettings};
use crate::graphql::SchemaLimits;
use crate::settings::{DatabaseArgs, StoreArgs, DEFAULT_LISTEN};
use anyhow::Context;
use clap::Args;
use domain::access::Role;
use domain::TenantId;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PURSIGHT_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: String,
    /// HS256 secret that signs bearer tokens (required).
    #[arg(long, env = "PURSIGHT_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM file with an RSA public key to also accept RS256 tokens.
    #[arg(long, env = "PURSIGHT_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<std::path::PathBuf>,
    /// Seconds between health checks of every non-archived source; 0 turns them off.
    #[arg(long, env = "PURSIGHT_HEALTH_INTERVAL_SECS", default_value_t = 60)]
    pub health_interval_secs: u64,
    #[command(flatten)]
    pub compliance: ComplianceArgs,
    #[command(flatten)]
    pub http: HttpArgs,
}

/// The compliance worker: violations follow the facts, risk acceptances expire.
#[derive(Debug, Clone, Args)]
pub struct ComplianceArgs {
    /// Run the compliance process manager (re-evaluates what each label, schema, configuration,
    /// health or policy event touches, and expires risk acceptances); `false` turns it off.
    #[arg(long, env = "PURSIGHT_COMPLIANCE_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub compliance_worker: bool,
    /// Seconds between two checks for risk acceptances whose expiry has passed.
    #[arg(
        long,
        env = "PURSIGHT_COMPLIANCE_EXPIRY_INTERVAL_SECS",
        default_value_t = 60
    )]
    pub compliance_expiry_interval_secs: u64,
    /// How often a trigger that fails for what it holds (an unreadable history, a refused
    /// command) is tried before it is parked (`pursight projections parked` lists it).
    #[arg(long, env = "PURSIGHT_COMPLIANCE_POISON_ATTEMPTS", default_value_t = 3)]
    pub compliance_poison_attempts: u32,
}

impl ComplianceArgs {
    /// The worker's settings, `None` when it is turned off.
    pub(crate) fn settings(
        &self,
    ) -> anyhow::Result<Option<crate::compliance_worker::ComplianceWorkerSettings>> {
        anyhow::ensure!(
            self.compliance_expiry_interval_secs > 0,
            "PURSIGHT_COMPLIANCE_EXPIRY_INTERVAL_SECS must be at least 1"
        );
        anyhow::ensure!(
            self.compliance_poison_attempts > 0,
            "PURSIGHT_COMPLIANCE_POISON_ATTEMPTS must be at least 1"
        );
        Ok(self
            .compliance_worker
            .then(|| crate::compliance_worker::ComplianceWorkerSettings {
                poison_attempts: self.compliance_poison_attempts,
                expiry_interval: Duration::from_secs(self.compliance_expiry_interval_secs),
                ..Default::default()
            }))
    }
}

/// Token checks, request limits and what the HTTP server exposes.
#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// Required `iss` claim of bearer tokens (not checked when unset).
    #[arg(long, env = "PURSIGHT_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Required audience: tokens must name it in `aud` (not checked when unset).
    #[arg(long, env = "PURSIGHT_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// OIDC: the identity provider's JWKS URL; RS256 and ES256 tokens naming one of its keys
    /// (`kid`) are accepted. Keys are cached and fetched again when a token names an unknown one.
    #[arg(long, env = "PURSIGHT_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// Shortest time in seconds between two JWKS fetches caused by unknown key ids.
    #[arg(long, env = "PURSIGHT_JWKS_MIN_REFRESH_SECS", default_value_t = 30)]
    pub jwks_min_refresh_secs: u64,
    /// The claim naming the caller's tenant; a dotted path reads a nested claim.
    #[arg(long, env = "PURSIGHT_JWT_TENANT_CLAIM", default_value = "tenant")]
    pub jwt_tenant_claim: String,
    /// The claim listing the caller's roles (a list or a space-separated string), e.g.
    /// `realm_access.roles`; roles PurSight does not know are ignored in provider tokens.
    #[arg(long, env = "PURSIGHT_JWT_ROLES_CLAIM", default_value = "roles")]
    pub jwt_roles_claim: String,
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    #[arg(long, env = "PURSIGHT_JWT_LEEWAY_SECS", default_value_t = 60)]
    pub jwt_leeway_secs: u64,
    /// Largest request body in bytes; larger ones are answered 413 without being read.
    #[arg(long, env = "PURSIGHT_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Seconds one GraphQL query or mutation may run before it is stopped with a TIMEOUT error.
    #[arg(long, env = "PURSIGHT_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Most complexity of one GraphQL request (a field costs 1, a list its page size times its
    /// selection, a database read 50 more).
    #[arg(long, env = "PURSIGHT_MAX_COMPLEXITY", default_value_t = 25_000)]
    pub max_complexity: usize,
    /// Serve GraphiQL on GET /graphql and answer introspection queries; `false` turns off both.
    #[arg(long, env = "PURSIGHT_GRAPHIQL", default_value_t = true, action = clap::ArgAction::Set)]
    pub graphiql: bool,
    /// Refuse tokens of tenants never created with `pursight tenant create` (code
    /// TENANT_UNKNOWN); off, such tenants work as before tenants were recorded.
    #[arg(long, env = "PURSIGHT_REQUIRE_TENANTS", default_value_t = false, action = clap::ArgAction::Set)]
    pub require_tenants: bool,
    /// When set, /metrics and the detailed /readyz body need `Authorization: Bearer <token>`.
    #[arg(long, env = "PURSIGHT_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

impl HttpArgs {
    /// `config` with these settings.
    pub(crate) fn apply(&self, config: AppConfig) -> anyhow::Result<AppConfig> {
        anyhow::ensure!(
            self.max_body_bytes >= 1024,
            "PURSIGHT_MAX_BODY_BYTES must be at least 1024"
        );
        anyhow::ensure!(
            self.request_timeout_secs > 0,
            "PURSIGHT_REQUEST_TIMEOUT_SECS must be at least 1"
        );
        Ok(AppConfig {
            jwt_issuer: self.jwt_issuer.clone().filter(|v| !v.is_empty()),
            jwt_audience: self.jwt_audience.clone().filter(|v| !v.is_empty()),
            oidc: crate::auth::OidcSettings {
                jwks_url: self.jwks_url.clone().filter(|v| !v.is_empty()),
                min_refresh: Duration::from_secs(self.jwks_min_refresh_secs),
                tenant_claim: self.jwt_tenant_claim.clone(),
                roles_claim: self.jwt_roles_claim.clone(),
                leeway_secs: self.jwt_leeway_secs,
            },
            http: HttpSettings {
                max_body_bytes: self.max_body_bytes,
                limits: SchemaLimits {
                    max_complexity: self.max_complexity,
                    timeout: Duration::from_secs(self.request_timeout_secs),
                    ..SchemaLimits::default()
                },
                graphiql: self.graphiql,
                metrics_token: self.metrics_token.clone().filter(|v| !v.is_empty()),
                require_tenants: self.require_tenants,
            },
            ..config
        })
    }
}

/// `PURSIGHT_HEALTH_INTERVAL_SECS` as an interval; 0 turns the periodic checks off.
pub(crate) fn health_interval(seconds: u64) -> Option<Duration> {
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Tenant the token is for.
    #[arg(long, default_value = "demo")]
    pub tenant: String,
    /// Comma-separated roles: admin, data_steward, viewer, auditor, compliance_officer.
    #[arg(long, value_delimiter = ',', default_value = "admin")]
    pub roles: Vec<String>,
    /// The `sub` claim.
    #[arg(long, default_value = "local-admin")]
    pub subject: String,
    /// Validity in hours.
    #[arg(long, default_value_t = 24)]
    pub hours: u64,
    /// HS256 secret (the same as the server's).
    #[arg(long, env = "PURSIGHT_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
}

pub(crate) fn app_config(
    store: &StoreArgs,
    database: &DatabaseArgs,
    listen: &str,
    jwt_secret: String,
    jwt_public_key: Option<&std::path::Path>,
) -> anyhow::Result<AppConfig> {
    let jwt_public_key_pem = jwt_public_key
        .map(|path| {
            std::fs::read(path)
                .with_context(|| format!("cannot read the JWT public key {}", path.display()))
        })
        .transpose()?;
    Ok(AppConfig {
        store: store.config()?,
        database_url: database.database_url.clone(),
        listen: listen.to_owned(),
        jwt_secret,
        jwt_public_key_pem,
        command_attempts: 5,
        // Off unless the command turns it on: one-off CLI commands must not probe every source.
        health_interval: None,
        source_policy: crate::settings::source_policy_from_env().map_err(anyhow::Error::msg)?,
        jwt_issuer: None,
        jwt_audience: None,
        oidc: Default::default(),
        http: HttpSettings::default(),
        // Off unless the command turns it on, like the health checks.
        compliance: None,
        statistics_threshold: crate::settings::statistics_threshold_from_env()
            .map_err(anyhow::Error::msg)?,
    })
}

pub async fn serve(
    store: &StoreArgs,
    database: &DatabaseArgs,
    args: ServeArgs,
) -> anyhow::Result<ExitCode> {
    let secret = args.jwt_secret.filter(|s| !s.is_empty()).context(
        "PURSIGHT_JWT_SECRET is not set: export a long random secret (e.g. `export PURSIGHT_JWT_SECRET=$(openssl rand -hex 32)`) or pass --jwt-secret",
    )?;
    // Before connecting anywhere: a short secret is a configuration error, said at once.
    crate::auth::check_secret(&secret)?;
    let config = args.http.apply(AppConfig {
        health_interval: health_interval(args.health_interval_secs),
        compliance: args.compliance.settings()?,
        ..app_config(
            store,
            database,
            &args.listen,
            secret,
            args.jwt_public_key.as_deref(),
        )?
    })?;
    let app = Application::build(config).await?;
    app.recover_interrupted_work().await?;
    let addr = app.local_addr();
    tracing::info!(%addr, "serving GraphQL on http://{addr}/graphql");
    app.run_until_stopped(true).await?;
    Ok(ExitCode::SUCCESS)
}

pub fn token(args: TokenArgs) -> anyhow::Result<ExitCode> {
    let secret = args
        .jwt_secret
        .filter(|s| !s.is_empty())
        .context("PURSIGHT_JWT_SECRET is not set: use the secret the server runs with (or pass --jwt-secret)")?;
    crate::auth::check_secret(&secret)?;
    let tenant = TenantId::parse(&args.tenant)?;
    let roles = args
        .roles
        .iter()
        .map(|r| r.trim().parse::<Role>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    println!(
        "{}",
        crate::auth::issue_token(&secret, &args.subject, &tenant, &roles, args.hours * 3600)
    );
    Ok(ExitCode::SUCCESS)
}
