//! What the connectors share for sampling rows to classify: the `SELECT` of a sample with every
//! column rendered as text (SQL engines), and turning fetched rows into an [`AssetSample`].
//!
//! Values pass through here on their way to the classifier's profiler and are dropped there; this
//! module never logs them.

use crate::probe::{AssetSample, ColumnSample};
use domain::discovery::{AssetKind, AssetSchema};

/// How one SQL dialect quotes names, renders a column as text and samples a table.
pub(crate) struct SampleDialect {
    /// Quotes one identifier.
    pub quote: fn(&str) -> String,
    /// Renders a (quoted) column of the given engine type as text.
    pub as_text: fn(quoted: &str, data_type: &str) -> String,
    /// `TABLESAMPLE` clause for a percentage of the table's pages, if the engine has one.
    pub tablesample: Option<fn(percent: f64) -> String>,
}

/// The most characters of one value a sample keeps (and the SQL engines send): a notes column's
/// first few paragraphs say what it holds; a multi-megabyte document in a text column must not
/// fill the service's memory (the sample is 100 rows of every column of a table).
pub(crate) const MAX_SAMPLED_CHARS: usize = 4096;

/// How many leading bytes of a binary value are read: what its magic number needs
/// ([`domain::classification::content::SNIFF_BYTES`]), sent as hex.
pub(crate) const SAMPLED_BINARY_BYTES: usize = domain::classification::content::SNIFF_BYTES;

/// Rows to read before sampling by pages is worth it: below this, the first `rows` rows are read.
const TABLESAMPLE_MIN_ESTIMATE_FACTOR: i64 = 20;

/// The `SELECT` reading up to `rows` rows of `asset` with its columns as text. Large tables
/// (row estimate well above `rows`) are sampled by pages where the engine can, so the sample is
/// spread over the table instead of being its first rows; `page_sampled` says whether it was.
pub(crate) fn sample_query(
    dialect: &SampleDialect,
    asset: &AssetSchema,
    qualified_name: &[&str],
    rows: u32,
) -> (String, bool) {
    let columns: Vec<String> = asset
        .columns
        .iter()
        .map(|c| (dialect.as_text)(&(dialect.quote)(&c.name), &c.data_type))
        .collect();
    let from: Vec<String> = qualified_name.iter().map(|s| (dialect.quote)(s)).collect();
    let mut sql = format!("SELECT {} FROM {}", columns.join(", "), from.join("."));
    let mut page_sampled = false;
    if let (Some(tablesample), Some(estimate)) = (dialect.tablesample, asset.row_estimate) {
        if matches!(asset.kind, AssetKind::Table | AssetKind::MaterializedView)
            && estimate > i64::from(rows) * TABLESAMPLE_MIN_ESTIMATE_FACTOR
        {
            // Ask for ~4x the rows wanted: page sampling returns an uneven number of rows.
            let percent = (400.0 * f64::from(rows) / estimate as f64).clamp(0.0001, 100.0);
            sql.push(' ');
            sql.push_str(&tablesample(percent));
            page_sampled = true;
        }
    }
    sql.push_str(&format!(" LIMIT {rows}"));
    (sql, page_sampled)
}

/// The sample of `asset` from fetched rows (each row holds one value per column, in order).
pub(crate) fn assemble(asset: &AssetSchema, rows: Vec<Vec<Option<String>>>) -> AssetSample {
    let mut columns: Vec<ColumnSample> = asset
        .columns
        .iter()
        .map(|c| ColumnSample {
            column: c.name.clone(),
            values: Vec::with_capacity(rows.len()),
        })
        .collect();
    let count = rows.len();
    for row in rows {
        for (column, value) in columns.iter_mut().zip(row) {
            column.values.push(value.map(clip));
        }
    }
    AssetSample {
        rows: u32::try_from(count).unwrap_or(u32::MAX),
        columns,
    }
}

/// A sampled value cut to [`MAX_SAMPLED_CHARS`] (on a character boundary): engines without a
/// server-side cut, and documents, are bounded here.
pub(crate) fn clip(mut value: String) -> String {
    if let Some((at, _)) = value.char_indices().nth(MAX_SAMPLED_CHARS) {
        value.truncate(at);
    }
    value
}

/// A JSON value as sampled text (documents, JSON strings and records): strings as they are,
/// other values as their JSON, `null` as no value.
pub(crate) fn json_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::discovery::{AssetPath, ColumnSchema};

    fn dialect() -> SampleDialect {
        SampleDialect {
            quote: |s| format!("\"{}\"", s.replace('"', "\"\"")),
            as_text: |q, _| format!("{q}::text"),
            tablesample: Some(|p| format!("TABLESAMPLE SYSTEM ({p})")),
        }
    }

    fn table(estimate: Option<i64>) -> AssetSchema {
        let mut asset = AssetSchema::new(AssetKind::Table, AssetPath::parse("db.s.t").unwrap());
        asset.columns.push(ColumnSchema::new("id", "bigint", 1));
        asset.columns.push(ColumnSchema::new("we\"ird", "text", 2));
        asset.row_estimate = estimate;
        asset
    }

    #[test]
    fn small_tables_are_read_from_the_start_and_names_are_quoted() {
        let (sql, sampled) = sample_query(&dialect(), &table(Some(500)), &["s", "t"], 100);
        assert_eq!(
            sql,
            "SELECT \"id\"::text, \"we\"\"ird\"::text FROM \"s\".\"t\" LIMIT 100"
        );
        assert!(!sampled);
    }

    #[test]
    fn large_tables_are_sampled_by_pages() {
        let (sql, sampled) = sample_query(&dialect(), &table(Some(1_000_000)), &["s", "t"], 100);
        assert!(sampled);
        assert!(
            sql.ends_with("TABLESAMPLE SYSTEM (0.04) LIMIT 100"),
            "{sql}"
        );
    }

    #[test]
    fn long_values_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_SAMPLED_CHARS + 10);
        let cut = clip(long);
        assert_eq!(cut.chars().count(), MAX_SAMPLED_CHARS);
        assert_eq!(clip("short".to_owned()), "short");
    }

    #[test]
    fn rows_are_turned_into_columns() {
        let sample = assemble(
            &table(None),
            vec![
                vec![Some("1".into()), None],
                vec![Some("2".into()), Some("x".into())],
            ],
        );
        assert_eq!(sample.rows, 2);
        assert_eq!(sample.columns[1].column, "we\"ird");
        assert_eq!(sample.columns[1].values, vec![None, Some("x".into())]);
    }
}
