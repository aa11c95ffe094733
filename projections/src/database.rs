//! Connecting to the read-model database: created if missing, migrated, ready.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use std::str::FromStr;
use std::time::Duration;

/// Why the read-model database cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("cannot reach PostgreSQL at {target}: {reason}. Start it (e.g. `pg_ctlcluster 15 main start` or `docker compose up -d postgres`) or point PURSIGHT_DATABASE_URL / --database-url at a running server")]
    Unreachable { target: String, reason: String },
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// Connects to `url`, creating the database when it does not exist yet, and runs migrations.
pub async fn connect(url: &str) -> Result<PgPool, DatabaseError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|err| DatabaseError::InvalidUrl(err.to_string()))?
        .application_name("pursight");
    let database = options.get_database().unwrap_or("postgres").to_owned();
    let target = format!("{}:{}", options.get_host(), options.get_port());
    create_if_missing(&options, &database, &target).await?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(|err| DatabaseError::Unreachable {
            target: target.clone(),
            reason: err.to_string(),
        })?;
    migrate(&pool).await?;
    Ok(pool)
}

/// Applies the shared migrations (`migrations/`).
pub async fn migrate(pool: &PgPool) -> Result<(), DatabaseError> {
    sqlx::migrate!("../migrations")
        .run(pool)
        .await
        .map_err(|err| DatabaseError::Migration(err.to_string()))
}

async fn create_if_missing(
    options: &PgConnectOptions,
    database: &str,
    target: &str,
) -> Result<(), DatabaseError> {
    let maintenance = options.clone().database("postgres");
    let mut conn = tokio::time::timeout(Duration::from_secs(5), maintenance.connect())
        .await
        .map_err(|_| DatabaseError::Unreachable {
            target: target.to_owned(),
            reason: "no answer within 5 s".into(),
        })?
        .map_err(|err| DatabaseError::Unreachable {
            target: target.to_owned(),
            reason: err.to_string(),
        })?;
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(database)
        .fetch_optional(&mut conn)
        .await?;
    if exists.is_none() {
        let quoted = format!("\"{}\"", database.replace('"', "\"\""));
        match sqlx::query(&format!("CREATE DATABASE {quoted}"))
            .execute(&mut conn)
            .await
        {
            Ok(_) => tracing::info!(database, "created read-model database"),
            // Another process created it first.
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P04") => {}
            Err(err) => return Err(err.into()),
        }
    }
    conn.close().await.ok();
    Ok(())
}
