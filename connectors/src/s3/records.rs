//! Records read from the head of a CSV or JSON object, flattened to dotted field paths with a type
//! name and the value as text. Schema inference (`shape.rs`) keeps only names and types; sampling
//! keeps the texts of the rows asked for. Nothing here logs a value.
//!
//! - CSV/TSV: the first row is the header; a cell's type is inferred from its text (`integer`,
//!   `number`, `boolean`, `date`, `timestamp`, `string`; an empty cell is `null`).
//! - JSON: JSON lines, concatenated documents or one top-level array. Objects are flattened
//!   (`{"a": {"b": 1}}` → `a.b`); arrays, scalars and empty objects are leaves typed by their
//!   JSON type (`string`, `number`, `boolean`, `null`, `array`, `object`). The objects in an
//!   array are flattened under the array's name as well (`{"items": [{"sku": 1}]}` → `items`
//!   and `items.sku`), so the fields of listed records (addresses, contacts) are columns.
//!
//! Only the bytes read are parsed: when an object was read partly, the last, cut record is
//! dropped and the counts say how many bytes the complete records covered, for row estimates.

use super::layout::Format;
use crate::sampling::json_text;

/// One field of a record.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Field {
    /// The dotted field path.
    pub(super) name: String,
    /// The observed type name.
    pub(super) kind: &'static str,
    /// The value as text (numbers as written, arrays and objects as compact JSON); `None` for
    /// null or an empty CSV cell.
    pub(super) text: Option<String>,
}

/// One record: its fields in the order the object holds them.
pub(super) type Record = Vec<Field>;

/// What the bytes read from one object held.
#[derive(Debug, Default)]
pub(super) struct Parsed {
    /// The first records, at most the number asked for.
    pub(super) records: Vec<Record>,
    /// Records counted in the bytes read (all of them, not only those kept).
    pub(super) counted: u64,
    /// Bytes of the object the counted records span.
    pub(super) covered_bytes: u64,
}

/// Parses `bytes`, the (decompressed) head of an object of `format` (`whole` when it is the
/// entire object), keeping at most `keep` records. Parquet is read elsewhere: it yields nothing
/// here.
pub(super) fn parse(format: Format, bytes: &[u8], whole: bool, keep: usize) -> Parsed {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match format {
        Format::Csv { delimiter, .. } => parse_csv(bytes, whole, delimiter, keep),
        Format::Json { .. } => parse_json(bytes, keep),
        Format::Parquet => Parsed::default(),
    }
}

fn parse_csv(bytes: &[u8], whole: bool, delimiter: u8, keep: usize) -> Parsed {
    // A head cut inside a row would show a short last row: drop everything after the last line
    // break.
    let bytes = if whole {
        bytes
    } else {
        match bytes.iter().rposition(|&b| b == b'\n') {
            Some(end) => &bytes[..=end],
            None => return Parsed::default(),
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(bytes);
    let headers = match reader.headers() {
        Ok(headers) => header_names(headers),
        Err(_) => return Parsed::default(),
    };
    let mut parsed = Parsed::default();
    let mut row = csv::StringRecord::new();
    // A malformed row ends the read: what came before it still counts.
    while let Ok(true) = reader.read_record(&mut row) {
        parsed.counted += 1;
        parsed.covered_bytes = reader.position().byte();
        if parsed.records.len() < keep {
            let record = headers
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let cell = row.get(i).unwrap_or("");
                    Field {
                        name: name.clone(),
                        kind: scalar_kind(cell),
                        text: (!cell.is_empty()).then(|| cell.to_owned()),
                    }
                })
                .collect();
            parsed.records.push(record);
        }
    }
    parsed
}

/// Header names made usable as column names: blank ones become `column_<n>`, repeated ones get
/// `_<n>` (1-based position).
fn header_names(headers: &csv::StringRecord) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(headers.len());
    for (i, header) in headers.iter().enumerate() {
        let header = header.trim();
        let name = if header.is_empty() {
            format!("column_{}", i + 1)
        } else if names.iter().any(|n| n == header) {
            format!("{header}_{}", i + 1)
        } else {
            header.to_owned()
        };
        names.push(name);
    }
    names
}

/// The type of a CSV cell.
pub(super) fn scalar_kind(text: &str) -> &'static str {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return "null";
    }
    if trimmed.eq_ignore_ascii_case("true") || trimmed.eq_ignore_ascii_case("false") {
        return "boolean";
    }
    let digits = trimmed.strip_prefix('-').unwrap_or(trimmed);
    // Leading zeros (postal codes, account numbers) and a leading `+` (phone numbers) are text.
    let textual_number = trimmed.starts_with('+')
        || (digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0."));
    if !textual_number {
        if trimmed.parse::<i64>().is_ok() {
            return "integer";
        }
        if trimmed.parse::<f64>().is_ok_and(f64::is_finite)
            && trimmed.bytes().any(|b| b.is_ascii_digit())
        {
            return "number";
        }
    }
    if chrono::NaiveDate::parse_from_str(trimmed, "%Y-%m-%d").is_ok() {
        return "date";
    }
    let timestamp = chrono::DateTime::parse_from_rfc3339(trimmed).is_ok()
        || ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
            .iter()
            .any(|format| chrono::NaiveDateTime::parse_from_str(trimmed, format).is_ok());
    if timestamp {
        "timestamp"
    } else {
        "string"
    }
}

fn parse_json(bytes: &[u8], keep: usize) -> Parsed {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let mut parsed = Parsed::default();
    let take = |value: serde_json::Value, end: usize, parsed: &mut Parsed| {
        // Only objects are records; a bare scalar in a data file carries no field name.
        if let serde_json::Value::Object(object) = value {
            parsed.counted += 1;
            parsed.covered_bytes = end as u64;
            if parsed.records.len() < keep {
                let mut record = Vec::new();
                flatten("", &object, &mut record);
                parsed.records.push(record);
            }
        }
    };
    if bytes.get(start) == Some(&b'[') {
        // One array: read element by element so that a cut array still yields its first
        // elements.
        let mut at = start + 1;
        loop {
            at += skip(&bytes[at..], |b| b.is_ascii_whitespace() || b == b',');
            if at >= bytes.len() || bytes[at] == b']' {
                break;
            }
            let mut stream =
                serde_json::Deserializer::from_slice(&bytes[at..]).into_iter::<serde_json::Value>();
            match stream.next() {
                Some(Ok(value)) => {
                    at += stream.byte_offset();
                    take(value, at, &mut parsed);
                }
                _ => break,
            }
        }
    } else {
        let mut stream =
            serde_json::Deserializer::from_slice(&bytes[start..]).into_iter::<serde_json::Value>();
        while let Some(Ok(value)) = stream.next() {
            let end = start + stream.byte_offset();
            take(value, end, &mut parsed);
        }
    }
    parsed
}

fn skip(bytes: &[u8], what: impl Fn(u8) -> bool) -> usize {
    bytes.iter().position(|&b| !what(b)).unwrap_or(bytes.len())
}

/// Appends the leaves of `object` under `prefix` to `out`. An array is a leaf, and the objects
/// it holds add their leaves under its name too (`items.sku` for `items: [{"sku": …}, …]`), once
/// per element: a record may then hold a name several times.
fn flatten(prefix: &str, object: &serde_json::Map<String, serde_json::Value>, out: &mut Record) {
    for (key, value) in object {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            serde_json::Value::Object(inner) if !inner.is_empty() => flatten(&name, inner, out),
            serde_json::Value::Array(items) => {
                out.push(Field {
                    name: name.clone(),
                    kind: json_kind(value),
                    text: json_text(value),
                });
                for item in items {
                    if let serde_json::Value::Object(inner) = item {
                        flatten(&name, inner, out);
                    }
                }
            }
            leaf => out.push(Field {
                name,
                kind: json_kind(leaf),
                text: json_text(leaf),
            }),
        }
    }
}

/// The type name of one JSON value.
pub(super) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: Format = Format::Csv {
        delimiter: b',',
        gzip: false,
    };
    const JSON: Format = Format::Json { gzip: false };

    fn fields(record: &Record) -> Vec<(&str, &str, Option<&str>)> {
        record
            .iter()
            .map(|f| (f.name.as_str(), f.kind, f.text.as_deref()))
            .collect()
    }

    #[test]
    fn cells_are_typed_by_their_text() {
        let cases = [
            ("", "null"),
            ("42", "integer"),
            ("-7", "integer"),
            ("0", "integer"),
            ("3.25", "number"),
            ("0.5", "number"),
            ("1e3", "number"),
            ("02139", "string"),
            ("+14155550100", "string"),
            ("TRUE", "boolean"),
            ("2024-02-29", "date"),
            ("2024-02-29 10:11:12", "timestamp"),
            ("2024-02-29T10:11:12Z", "timestamp"),
            ("NaN", "string"),
            ("inf", "string"),
            ("alice@example.com", "string"),
        ];
        for (text, kind) in cases {
            assert_eq!(scalar_kind(text), kind, "{text:?}");
        }
    }

    #[test]
    fn csv_rows_follow_the_header() {
        let csv = b"\xef\xbb\xbfid,email,,id\n1,a@x.io,z,9\n2,,y\n";
        let parsed = parse(CSV, csv, true, 10);
        assert_eq!(parsed.counted, 2);
        assert_eq!(parsed.covered_bytes, csv.len() as u64 - 3);
        assert_eq!(
            fields(&parsed.records[1]),
            [
                ("id", "integer", Some("2")),
                ("email", "null", None),
                ("column_3", "string", Some("y")),
                ("id_4", "null", None),
            ]
        );
    }

    #[test]
    fn a_cut_csv_head_drops_its_last_row() {
        let parsed = parse(CSV, b"a,b\n1,2\n3,4\n5", false, 1);
        assert_eq!(parsed.counted, 2);
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.covered_bytes, 12);
    }

    #[test]
    fn json_lines_are_flattened() {
        let text = b"{\"id\":1,\"user\":{\"name\":\"A\",\"tags\":[\"x\"],\"meta\":{}}}\n{\"id\":2.5,\"user\":null}\n{\"id\":";
        let parsed = parse(JSON, text, false, 10);
        assert_eq!(parsed.counted, 2);
        assert_eq!(
            fields(&parsed.records[0]),
            [
                ("id", "number", Some("1")),
                ("user.meta", "object", Some("{}")),
                ("user.name", "string", Some("A")),
                ("user.tags", "array", Some("[\"x\"]")),
            ]
        );
        assert_eq!(
            fields(&parsed.records[1]),
            [("id", "number", Some("2.5")), ("user", "null", None)]
        );
    }

    #[test]
    fn objects_in_arrays_are_flattened_under_the_array() {
        let text = br#"{"id":1,"contacts":[{"email":null},{"email":"a@x.io","kind":"work"},"x",[{"deep":1}]]}"#;
        let parsed = parse(JSON, text, true, 10);
        assert_eq!(
            fields(&parsed.records[0]),
            [
                (
                    "contacts",
                    "array",
                    Some(r#"[{"email":null},{"email":"a@x.io","kind":"work"},"x",[{"deep":1}]]"#)
                ),
                ("contacts.email", "null", None),
                ("contacts.email", "string", Some("a@x.io")),
                ("contacts.kind", "string", Some("work")),
                ("id", "number", Some("1")),
            ]
        );
    }

    #[test]
    fn a_json_array_is_read_element_by_element() {
        let whole = br#" [ {"a": 1}, {"a": "x"} ] "#;
        let parsed = parse(JSON, whole, true, 10);
        assert_eq!(parsed.counted, 2);
        assert_eq!(parsed.records[1][0].kind, "string");
        let cut = br#"[{"a": 1}, {"a": "x"}, {"a": tr"#;
        let parsed = parse(JSON, cut, false, 10);
        assert_eq!(parsed.counted, 2);
        assert_eq!(parsed.covered_bytes, 21);
    }
}
