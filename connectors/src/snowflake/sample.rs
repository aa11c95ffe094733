//! [`sample`]: up to N rows of one discovered table or view, for classification —
//! `SELECT "C1", "C2", … FROM "DB"."SCHEMA"."T" SAMPLE (N ROWS)`, Snowflake's fixed-size row
//! sampling, so the rows are spread over the table rather than its first micro-partitions.
//!
//! Values are rendered as text by `values.rs` and handed to the caller; they are never logged,
//! and no error quotes one.

use super::api::{quote_ident, Api, Statement};
use super::auth::Credentials;
use super::connect::http_client;
use super::options::SnowflakeTarget;
use super::values;
use crate::probe::{AssetSample, ColumnSample, DiscoveryError};
use domain::discovery::{AssetKind, AssetSchema};
use std::time::Duration;

/// The most rows one sample reads (Snowflake's own limit for `SAMPLE (N ROWS)` is 1,000,000).
pub const MAX_SAMPLE_ROWS: u32 = 10_000;

/// Samples up to `rows` rows (at most [`MAX_SAMPLE_ROWS`]) of `asset`, a table or view found by
/// [`discover`](super::discover) (path `DATABASE.SCHEMA.NAME`), within `timeout`.
///
/// The sample has one [`ColumnSample`] per column of `asset.columns`, in order, each with exactly
/// `rows` values (`None` for NULL), where `rows` is the number of rows Snowflake returned.
#[tracing::instrument(
    name = "snowflake.sample",
    skip_all,
    fields(account = %target.account, asset = %asset.path, rows)
)]
pub async fn sample(
    target: &SnowflakeTarget,
    asset: &AssetSchema,
    rows: u32,
    timeout: Duration,
) -> Result<AssetSample, DiscoveryError> {
    let statement = statement(asset, rows)?;
    if rows == 0 || asset.columns.is_empty() {
        return Ok(empty(asset));
    }
    let credentials = Credentials::of(target)?;
    let http = http_client(target, timeout, 1).await?;
    let api = Api::new(http, target, credentials);
    let outcome = api.execute(&statement, timeout).await;
    let scrub = api.scrub().map(str::to_owned);
    let retries = api
        .counters
        .retries
        .load(std::sync::atomic::Ordering::Relaxed);
    // Closes the client's connection.
    drop(api);
    let result = outcome.map_err(|error| error.into_discovery(scrub.as_deref(), retries))?;
    if result.columns.len() != asset.columns.len() {
        return Err(DiscoveryError::Query {
            message: format!(
                "the sample of {} has {} columns, its schema {}",
                asset.path,
                result.columns.len(),
                asset.columns.len()
            ),
            retries,
        });
    }
    let count = result.rows.len();
    let mut columns: Vec<ColumnSample> = asset
        .columns
        .iter()
        .map(|column| ColumnSample {
            column: column.name.clone(),
            values: Vec::with_capacity(count),
        })
        .collect();
    for row in result.rows {
        for ((value, column), kind) in row
            .into_iter()
            .zip(columns.iter_mut())
            .zip(result.columns.iter())
        {
            column
                .values
                .push(value.map(|value| values::render(&kind.kind, value)));
        }
    }
    tracing::Span::current().record("rows", count);
    Ok(AssetSample {
        rows: u32::try_from(count).unwrap_or(u32::MAX),
        columns,
    })
}

fn empty(asset: &AssetSchema) -> AssetSample {
    AssetSample {
        rows: 0,
        columns: asset
            .columns
            .iter()
            .map(|column| ColumnSample {
                column: column.name.clone(),
                values: Vec::new(),
            })
            .collect(),
    }
}

/// The sampling statement of `asset`; only tables and views at `DATABASE.SCHEMA.NAME` have one.
fn statement(asset: &AssetSchema, rows: u32) -> Result<Statement, DiscoveryError> {
    let segments = asset.path.segments();
    if !matches!(asset.kind, AssetKind::Table | AssetKind::View) || segments.len() != 3 {
        return Err(DiscoveryError::Unsupported(format!(
            "only Snowflake tables and views (DATABASE.SCHEMA.NAME) can be sampled, not the {} \
             {}",
            asset.kind.as_str(),
            asset.path
        )));
    }
    let columns: Vec<String> = asset.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let relation: Vec<String> = segments.iter().map(|s| quote_ident(s)).collect();
    Ok(Statement::new(
        "sample",
        format!(
            "SELECT {} FROM {} SAMPLE ({} ROWS)",
            columns.join(", "),
            relation.join("."),
            rows.min(MAX_SAMPLE_ROWS)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::discovery::{AssetPath, ColumnSchema};

    #[test]
    fn the_statement_quotes_every_name() {
        let mut asset = AssetSchema::new(
            AssetKind::Table,
            AssetPath::new(["SHOP", "PUBLIC", "Mixed \"Case\""]).unwrap(),
        );
        asset.columns = vec![
            ColumnSchema::new("ID", "NUMBER(38,0)", 1),
            ColumnSchema::new("e-mail", "VARCHAR(255)", 2),
        ];
        assert_eq!(
            statement(&asset, 50_000).unwrap().sql,
            "SELECT \"ID\", \"e-mail\" FROM \"SHOP\".\"PUBLIC\".\"Mixed \"\"Case\"\"\" \
             SAMPLE (10000 ROWS)"
        );
        let schema = AssetSchema::new(
            AssetKind::Schema,
            AssetPath::new(["SHOP", "PUBLIC"]).unwrap(),
        );
        assert!(matches!(
            statement(&schema, 10),
            Err(DiscoveryError::Unsupported(_))
        ));
    }
}
