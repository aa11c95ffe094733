//! Sampling a PostgreSQL table or view for classification: one connection (to the replica when
//! there is one — a sample may be slightly stale — falling back to the primary), one `SELECT` with
//! every column cast to text, `TABLESAMPLE SYSTEM` on large tables.

use super::connect::{connect_options, failure, secret_of, timed_out};
use super::options::PostgresTarget;
use crate::options::ReadRouting;
use crate::probe::{AssetSample, DiscoveryError};
use crate::sampling::{assemble, sample_query, SampleDialect};
use domain::discovery::AssetSchema;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};
use std::time::Duration;

const DIALECT: SampleDialect = SampleDialect {
    quote: |name| format!("\"{}\"", name.replace('"', "\"\"")),
    as_text: |column, _| format!("{column}::text"),
    tablesample: Some(|percent| format!("TABLESAMPLE SYSTEM ({percent})")),
};

/// The same dialect with page sampling off, for the fallback read.
const PLAIN: SampleDialect = SampleDialect {
    tablesample: None,
    ..DIALECT
};

/// Reads up to `rows` rows of `asset` (path `database.schema.table`) as text.
#[tracing::instrument(name = "postgres.sample", skip_all, fields(asset = %asset.path, rows))]
pub async fn sample(
    target: &PostgresTarget,
    asset: &AssetSchema,
    rows: u32,
    timeout: Duration,
) -> Result<AssetSample, DiscoveryError> {
    if asset.columns.is_empty() {
        return Ok(AssetSample::default());
    }
    let [_, schema, table] = asset.path.segments() else {
        return Err(DiscoveryError::Unsupported(format!(
            "`{}` is not a PostgreSQL table path (database.schema.table)",
            asset.path
        )));
    };
    let replica = target.route(ReadRouting::ReplicaAllowed);
    match sample_from(&replica, asset, [schema, table], rows, timeout).await {
        Err(error) if replica != *target => {
            tracing::warn!(%error, "sampling from the replica failed; using the primary");
            sample_from(target, asset, [schema, table], rows, timeout).await
        }
        outcome => outcome,
    }
}

async fn sample_from(
    target: &PostgresTarget,
    asset: &AssetSchema,
    name: [&String; 2],
    rows: u32,
    timeout: Duration,
) -> Result<AssetSample, DiscoveryError> {
    let secret = secret_of(target);
    let options = connect_options(target)?;
    let (sql, page_sampled) = sample_query(&DIALECT, asset, &[name[0], name[1]], rows);
    let attempt = async {
        let mut connection = PgConnection::connect_with(&options).await?;
        let mut fetched = sqlx::query(&sql).fetch_all(&mut connection).await;
        if page_sampled && matches!(&fetched, Ok(r) if r.len() < rows as usize) {
            // Page sampling came up short (few, uneven pages): read the first rows instead.
            let (plain, _) = sample_query(&PLAIN, asset, &[name[0], name[1]], rows);
            fetched = sqlx::query(&plain).fetch_all(&mut connection).await;
        }
        let closed = connection.close().await;
        let fetched = fetched?;
        closed?;
        let width = asset.columns.len();
        fetched
            .iter()
            .map(|row| {
                (0..width)
                    .map(|i| row.try_get::<Option<String>, _>(i))
                    .collect()
            })
            .collect::<Result<Vec<Vec<Option<String>>>, _>>()
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(rows)) => Ok(assemble(asset, rows)),
        Ok(Err(error)) => Err(DiscoveryError::Connection(failure(&error, secret))),
        Err(_) => Err(DiscoveryError::Connection(timed_out(timeout, secret))),
    }
}
