//! Sampling a PostgreSQL table or view for classification: one connection, one `SELECT` with
//! every column cast to text (arrays as JSON, whose elements the classifier profiles one by
//! one), `TABLESAMPLE SYSTEM` on large tables.
//!
//! A sample may be slightly stale, so it may come from the replica: it goes where the target's
//! [`ReadHealth`](crate::failover::ReadHealth) says (see `reads.rs`). The `SELECT` goes over the
//! simple query protocol: it has no parameters, and it leaves no prepared statement behind on a
//! server connection a transaction-pooling PgBouncer hands to someone else next. Each asset is
//! read in a read-only transaction.

use super::connect::{connect_options, failure, secret_of, timed_out};
use super::options::PostgresTarget;
use super::reads::replica_eligible;
use crate::probe::{AssetSample, DiscoveryError};
use crate::sampling::{
    assemble, sample_query, SampleDialect, MAX_SAMPLED_CHARS, SAMPLED_BINARY_BYTES,
};
use domain::discovery::{AssetKind, AssetSchema};
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Executor, Row};
use std::time::Duration;

const DIALECT: SampleDialect = SampleDialect {
    quote: |name| format!("\"{}\"", name.replace('"', "\"\"")),
    // `{a,"b c"}` is PostgreSQL's own array syntax; JSON is what the profiler reads elements from.
    // Every value is cut on the server (a sample must not carry a table's documents over the
    // wire); binary values are sent as the hex of their first bytes, which is all their magic
    // number needs. An array keeps its first 100 elements, so its JSON stays whole.
    as_text: |column, data_type| {
        if data_type.ends_with("[]") {
            format!("left(to_json(({column})[1:100])::text, {MAX_SAMPLED_CHARS})")
        } else if data_type == "bytea" {
            format!("encode(substring({column} from 1 for {SAMPLED_BINARY_BYTES}), 'hex')")
        } else {
            format!("left({column}::text, {MAX_SAMPLED_CHARS})")
        }
    },
    tablesample: Some(|percent| format!("TABLESAMPLE SYSTEM ({percent})")),
};

/// The same dialect with page sampling off, for the fallback read.
const PLAIN: SampleDialect = SampleDialect {
    tablesample: None,
    ..DIALECT
};

/// A materialized view that was never refreshed (or was emptied with `WITH NO DATA`) cannot be
/// read: that is its state, not a failure of the connection.
fn not_populated(asset: &AssetSchema) -> DiscoveryError {
    DiscoveryError::Unsupported(format!(
        "materialized view {} is not populated (REFRESH MATERIALIZED VIEW fills it); nothing to sample",
        asset.path
    ))
}

/// `object_not_in_prerequisite_state` on a materialized view: "has not been populated".
fn is_not_populated(asset: &AssetSchema, error: &sqlx::Error) -> bool {
    asset.kind == AssetKind::MaterializedView
        && matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("55000"))
}

/// Reads up to `rows` rows of `asset` (path `database.schema.table`) as text, from the primary
/// or, when the primary is over its latency or error thresholds, from the replica.
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
    if asset.populated == Some(false) {
        return Err(not_populated(asset));
    }
    let [_, schema, table] = asset.path.segments() else {
        return Err(DiscoveryError::Unsupported(format!(
            "`{}` is not a PostgreSQL table path (database.schema.table)",
            asset.path
        )));
    };
    replica_eligible(target, |server| async move {
        sample_from(&server, asset, [schema, table], rows, timeout).await
    })
    .await
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
    let attempt = async {
        let mut connection = PgConnection::connect_with(&options).await?;
        let fetched = fetch(&mut connection, asset, name, rows).await;
        let closed = connection.close().await;
        let fetched = fetched?;
        closed?;
        Ok::<_, sqlx::Error>(fetched)
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(rows)) => Ok(assemble(asset, rows)),
        Ok(Err(error)) if is_not_populated(asset, &error) => Err(not_populated(asset)),
        Ok(Err(error)) => Err(DiscoveryError::Connection(failure(&error, secret))),
        Err(_) => Err(DiscoveryError::Connection(timed_out(timeout, secret))),
    }
}

/// Reads the sample rows of one asset on an open connection, in a read-only transaction of its
/// own like discovery's: sampling a view runs whatever functions the view calls, and none of them
/// may write through PurSight's connection, whatever the role it logs in with may do.
async fn fetch(
    connection: &mut PgConnection,
    asset: &AssetSchema,
    name: [&String; 2],
    rows: u32,
) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
    let (sql, page_sampled) = sample_query(&DIALECT, asset, &[name[0], name[1]], rows);
    let mut tx = connection.begin_with("BEGIN READ ONLY").await?;
    let mut fetched = (&mut *tx).fetch_all(sql.as_str()).await;
    if page_sampled && matches!(&fetched, Ok(r) if r.len() < rows as usize) {
        // Page sampling came up short (few, uneven pages): read the first rows instead.
        let (plain, _) = sample_query(&PLAIN, asset, &[name[0], name[1]], rows);
        fetched = (&mut *tx).fetch_all(plain.as_str()).await;
    }
    // Nothing to keep: a read-only transaction ends the same either way. A failed one is rolled
    // back when dropped, before the connection's next statement.
    if fetched.is_ok() {
        tx.rollback().await?;
    }
    let width = asset.columns.len();
    fetched?
        .iter()
        .map(|row| {
            (0..width)
                .map(|i| row.try_get::<Option<String>, _>(i))
                .collect()
        })
        .collect()
}

/// [`sample`] for several assets over one connection (one TLS handshake and authentication for
/// the batch instead of one per asset), each read within `timeout`. The outer error is a failure
/// of the connection, for the whole batch; an asset the server cannot read (dropped meanwhile,
/// no privilege) fails alone.
#[tracing::instrument(name = "postgres.sample_many", skip_all, fields(assets = assets.len(), rows))]
pub async fn sample_many(
    target: &PostgresTarget,
    assets: &[&AssetSchema],
    rows: u32,
    timeout: Duration,
) -> Result<Vec<Result<AssetSample, DiscoveryError>>, DiscoveryError> {
    replica_eligible(target, |server| async move {
        sample_batch_from(&server, assets, rows, timeout).await
    })
    .await
}

async fn sample_batch_from(
    target: &PostgresTarget,
    assets: &[&AssetSchema],
    rows: u32,
    timeout: Duration,
) -> Result<Vec<Result<AssetSample, DiscoveryError>>, DiscoveryError> {
    let secret = secret_of(target);
    let options = connect_options(target)?;
    let mut connection =
        match tokio::time::timeout(timeout, PgConnection::connect_with(&options)).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => return Err(DiscoveryError::Connection(failure(&error, secret))),
            Err(_) => return Err(DiscoveryError::Connection(timed_out(timeout, secret))),
        };
    let mut samples = Vec::with_capacity(assets.len());
    for asset in assets {
        let sample = match asset.path.segments() {
            _ if asset.columns.is_empty() => Ok(AssetSample::default()),
            _ if asset.populated == Some(false) => Err(not_populated(asset)),
            [_, schema, table] => {
                match tokio::time::timeout(
                    timeout,
                    fetch(&mut connection, asset, [schema, table], rows),
                )
                .await
                {
                    Ok(Ok(rows)) => Ok(assemble(asset, rows)),
                    Ok(Err(error)) if is_not_populated(asset, &error) => Err(not_populated(asset)),
                    // The server answered: this asset only.
                    Ok(Err(error @ sqlx::Error::Database(_))) => {
                        Err(DiscoveryError::Connection(failure(&error, secret)))
                    }
                    Ok(Err(error)) => {
                        return Err(DiscoveryError::Connection(failure(&error, secret)))
                    }
                    Err(_) => return Err(DiscoveryError::Connection(timed_out(timeout, secret))),
                }
            }
            _ => Err(DiscoveryError::Unsupported(format!(
                "`{}` is not a PostgreSQL table path (database.schema.table)",
                asset.path
            ))),
        };
        samples.push(sample);
    }
    let _ = connection.close().await;
    Ok(samples)
}
