//! [`sample`]: documents of one discovered collection or view, for classification. `$sample`
//! picks them at random (MongoDB's equivalent of `TABLESAMPLE`), and every column of the asset's
//! schema — a dotted field path — gets the documents' values rendered as text (see
//! `fields::render`). Values go to the caller only: nothing here logs them.

use super::connect::{client, close, hosts, read_error, timed_out, Connected};
use super::fields::{flatten, render};
use super::options::MongoTarget;
use crate::probe::{AssetSample, ColumnSample, DiscoveryError};
use domain::discovery::{AssetKind, AssetSchema};
use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use std::time::Duration;

/// Reads up to `rows` random documents of `asset` (a collection or view at `database.collection`)
/// within `timeout`, and returns one [`ColumnSample`] per column of `asset.columns`, in that
/// order, each with one value per document read (`None` where the field is absent or `null`).
///
/// ```no_run
/// # async fn example(target: connectors::mongodb::MongoTarget, asset: domain::discovery::AssetSchema) {
/// use std::time::Duration;
///
/// let sample = connectors::mongodb::sample(&target, &asset, 100, Duration::from_secs(10))
///     .await
///     .unwrap();
/// assert_eq!(sample.columns.len(), asset.columns.len());
/// # }
/// ```
#[tracing::instrument(
    name = "mongodb.sample",
    skip_all,
    fields(hosts = %hosts(target), asset = %asset.path, rows)
)]
pub async fn sample(
    target: &MongoTarget,
    asset: &AssetSchema,
    rows: u32,
    timeout: Duration,
) -> Result<AssetSample, DiscoveryError> {
    let (database, collection) = match (asset.kind, asset.path.segments()) {
        (AssetKind::Collection | AssetKind::View, [database, collection]) => {
            (database.as_str(), collection.as_str())
        }
        _ => {
            return Err(DiscoveryError::Unsupported(format!(
                "{} is not a MongoDB collection or view",
                asset.path
            )))
        }
    };
    if rows == 0 || asset.columns.is_empty() {
        return Ok(assemble(asset, &[]));
    }
    // As in validation: the driver's deadlines come first, so its error says what went wrong.
    let driver_timeout = timeout.mul_f64(0.75);
    let Connected { client, criteria } = client(target, driver_timeout, driver_timeout).await?;
    let collection = client.database(database).collection::<Document>(collection);
    let read = async {
        collection
            .aggregate([doc! { "$sample": { "size": i64::from(rows) } }])
            .batch_size(rows)
            .max_time(driver_timeout)
            .selection_criteria(criteria)
            .await?
            .try_collect::<Vec<Document>>()
            .await
    };
    let outcome = tokio::time::timeout(timeout, read).await;
    drop(collection);
    close(client).await;
    let documents = match outcome {
        Ok(Ok(documents)) => documents,
        Ok(Err(error)) => return Err(read_error(target, "$sample", &error, 0)),
        Err(_) => return Err(DiscoveryError::Connection(timed_out(target, timeout))),
    };
    tracing::debug!(documents = documents.len(), "documents sampled");
    Ok(assemble(asset, &documents))
}

/// The columns of `asset` filled from `documents`.
fn assemble(asset: &AssetSchema, documents: &[Document]) -> AssetSample {
    let flattened: Vec<_> = documents.iter().map(flatten).collect();
    let columns = asset
        .columns
        .iter()
        .map(|column| ColumnSample {
            column: column.name.clone(),
            values: flattened
                .iter()
                .map(|fields| {
                    fields
                        .get(&column.name)
                        .and_then(|value| render(value))
                        .map(crate::sampling::clip)
                })
                .collect(),
        })
        .collect();
    AssetSample {
        rows: u32::try_from(documents.len()).unwrap_or(u32::MAX),
        columns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::discovery::{AssetPath, ColumnSchema};

    #[test]
    fn every_column_gets_one_value_per_document() {
        let mut asset = AssetSchema::new(
            AssetKind::Collection,
            AssetPath::new(["shop", "people"]).unwrap(),
        );
        asset.columns = vec![
            ColumnSchema::new("name", "string", 1),
            ColumnSchema::new("address.city", "string", 2),
            ColumnSchema::new("gone", "string", 3),
        ];
        let documents = [
            doc! { "name": "Ann", "address": { "city": "Lyon" } },
            doc! { "name": null },
        ];
        let sample = assemble(&asset, &documents);
        assert_eq!(sample.rows, 2);
        let values: Vec<(&str, Vec<Option<&str>>)> = sample
            .columns
            .iter()
            .map(|c| {
                (
                    c.column.as_str(),
                    c.values.iter().map(Option::as_deref).collect(),
                )
            })
            .collect();
        assert_eq!(
            values,
            vec![
                ("name", vec![Some("Ann"), None]),
                ("address.city", vec![Some("Lyon"), None]),
                ("gone", vec![None, None]),
            ]
        );
    }
}
