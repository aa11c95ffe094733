//! `pursight serve` and `pursight token`.

use crate::app::{AppConfig, Application};
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
    /// Comma-separated roles: admin, data_steward, viewer, auditor.
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
    let config = AppConfig {
        health_interval: health_interval(args.health_interval_secs),
        ..app_config(
            store,
            database,
            &args.listen,
            secret,
            args.jwt_public_key.as_deref(),
        )?
    };
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
