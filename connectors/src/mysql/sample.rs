//! Sampling a MySQL/MariaDB table or view for classification: one connection (to the replica
//! when there is one, falling back to the primary), one `SELECT` of the first rows with every
//! column rendered as text (binary columns as hex). The engines have no `TABLESAMPLE`.

use super::connect::{classify, connect_options, secret};
use super::options::MysqlTarget;
use crate::options::ReadRouting;
use crate::probe::{AssetSample, ConnectionFailure, DiscoveryError};
use crate::sampling::{
    assemble, sample_query, SampleDialect, MAX_SAMPLED_CHARS, SAMPLED_BINARY_BYTES,
};
use domain::datasource::FailureCategory;
use domain::discovery::AssetSchema;
use sqlx::{Connection, MySqlConnection, Row};
use std::time::Duration;

const DIALECT: SampleDialect = SampleDialect {
    quote: |name| format!("`{}`", name.replace('`', "``")),
    // Every value is cut on the server; binary values are sent as the hex of their first bytes
    // (what their magic number needs), not whole.
    as_text: |column, data_type| {
        let data_type = data_type.to_ascii_lowercase();
        if data_type.contains("binary") || data_type.contains("blob") {
            format!("LOWER(HEX(LEFT({column}, {SAMPLED_BINARY_BYTES})))")
        } else {
            format!("LEFT(CAST({column} AS CHAR), {MAX_SAMPLED_CHARS})")
        }
    },
    tablesample: None,
};

/// Reads up to `rows` rows of `asset` (path `database.table`) as text.
#[tracing::instrument(name = "mysql.sample", skip_all, fields(asset = %asset.path, rows))]
pub async fn sample(
    target: &MysqlTarget,
    asset: &AssetSchema,
    rows: u32,
    timeout: Duration,
) -> Result<AssetSample, DiscoveryError> {
    if asset.columns.is_empty() {
        return Ok(AssetSample::default());
    }
    let [database, table] = asset.path.segments() else {
        return Err(DiscoveryError::Unsupported(format!(
            "`{}` is not a MySQL table path (database.table)",
            asset.path
        )));
    };
    let (sql, _) = sample_query(&DIALECT, asset, &[database, table], rows);
    let replica = target.route(ReadRouting::ReplicaAllowed);
    match sample_from(&replica, asset, &sql, timeout).await {
        Err(error) if replica != *target => {
            tracing::warn!(%error, "sampling from the replica failed; using the primary");
            sample_from(target, asset, &sql, timeout).await
        }
        outcome => outcome,
    }
}

async fn sample_from(
    target: &MysqlTarget,
    asset: &AssetSchema,
    sql: &str,
    timeout: Duration,
) -> Result<AssetSample, DiscoveryError> {
    let options = connect_options(target)?;
    let attempt = async {
        let mut connection = MySqlConnection::connect_with(&options).await?;
        let fetched = sqlx::query(sql).fetch_all(&mut connection).await;
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
        Ok(Err(error)) => Err(DiscoveryError::Connection(classify(&error, secret(target)))),
        Err(_) => Err(DiscoveryError::Connection(ConnectionFailure::new(
            FailureCategory::Timeout,
            format!("no answer within {} ms", timeout.as_millis()),
            secret(target),
        ))),
    }
}
