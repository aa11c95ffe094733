//! Parquet objects read by byte ranges: the footer (schema, row counts) and, for samples, the
//! first row group — never the whole object.
//!
//! [`Ranges`] holds the ranges fetched and serves them to the `parquet` crate's reader; a read
//! outside them is an error, so a reader that wanted more than was fetched fails instead of
//! fetching behind our back. Schemas are rendered as columns: structs flatten into dotted paths
//! (`address.city`), lists and maps are one column (`array<string>`, `map<string, int64>`).

use super::records::{Field as RecordField, Record};
use bytes::{Buf, Bytes};
use parquet::basic::{ConvertedType, LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::errors::ParquetError;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::reader::{ChunkReader, FileReader, Length, SerializedFileReader};
use parquet::record::Field;
use parquet::schema::types::Type;

/// Bytes fetched from the end of an object first; footers are usually smaller.
pub(super) const FOOTER_GUESS: u64 = 64 * 1024;
/// The largest footer read.
pub(super) const MAX_FOOTER: u64 = 16 * 1024 * 1024;

/// Some byte ranges of one Parquet object of `len` bytes.
#[derive(Clone)]
pub(super) struct Ranges {
    len: u64,
    parts: Vec<(u64, Bytes)>,
}

impl Ranges {
    pub(super) fn new(len: u64) -> Self {
        Self {
            len,
            parts: Vec::new(),
        }
    }

    /// Adds the bytes read at `start`.
    pub(super) fn add(&mut self, start: u64, bytes: Bytes) {
        self.parts.push((start, bytes));
    }

    fn slice(&self, start: u64, length: u64) -> parquet::errors::Result<Bytes> {
        for (at, bytes) in &self.parts {
            let end = at + bytes.len() as u64;
            if *at <= start && start + length <= end {
                let from = (start - at) as usize;
                return Ok(bytes.slice(from..from + length as usize));
            }
        }
        Err(ParquetError::General(format!(
            "bytes {start}..{} of the object were not fetched",
            start + length
        )))
    }
}

impl Length for Ranges {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for Ranges {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let part = self
            .parts
            .iter()
            .find(|(at, bytes)| *at <= start && start < at + bytes.len() as u64)
            .ok_or_else(|| {
                ParquetError::General(format!("byte {start} of the object was not fetched"))
            })?;
        Ok(part.1.slice((start - part.0) as usize..).reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.slice(start, length as u64)
    }
}

/// The footer length from the last 8 bytes of an object (`PAR1` magic checked).
pub(super) fn footer_len(tail: &[u8]) -> Result<u64, String> {
    let Some(trailer) = tail.len().checked_sub(8).map(|at| &tail[at..]) else {
        return Err("too short for a Parquet file".to_owned());
    };
    if &trailer[4..] != b"PAR1" {
        return Err("not a Parquet file (no PAR1 trailer)".to_owned());
    }
    let metadata = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    Ok(u64::from(metadata) + 8)
}

/// A reader over the fetched ranges (the footer at least).
pub(super) fn open(ranges: Ranges) -> parquet::errors::Result<SerializedFileReader<Ranges>> {
    SerializedFileReader::new(ranges)
}

/// The bytes `start..end` of the first row group, if the file has one.
pub(super) fn first_row_group(metadata: &ParquetMetaData) -> Option<(u64, u64)> {
    let group = metadata.row_groups().first()?;
    let ranges = group.columns().iter().map(|c| c.byte_range());
    let start = ranges.clone().map(|(start, _)| start).min()?;
    let end = ranges.map(|(start, len)| start + len).max()?;
    Some((start, end))
}

/// The columns of a Parquet schema: `(dotted name, type, nullable)`.
pub(super) fn columns(metadata: &ParquetMetaData) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for field in metadata.file_metadata().schema().get_fields() {
        walk("", field, false, &mut out);
    }
    out
}

fn walk(prefix: &str, field: &Type, parent_nullable: bool, out: &mut Vec<(String, String, bool)>) {
    let info = field.get_basic_info();
    let name = if prefix.is_empty() {
        field.name().to_owned()
    } else {
        format!("{prefix}.{}", field.name())
    };
    let nullable =
        parent_nullable || (info.has_repetition() && info.repetition() == Repetition::OPTIONAL);
    if field.is_group() && !is_list(field) && !is_map(field) && !is_repeated(field) {
        for child in field.get_fields() {
            walk(&name, child, nullable, out);
        }
    } else {
        out.push((name, type_name(field), nullable));
    }
}

fn is_repeated(field: &Type) -> bool {
    let info = field.get_basic_info();
    info.has_repetition() && info.repetition() == Repetition::REPEATED
}

fn is_list(field: &Type) -> bool {
    let info = field.get_basic_info();
    matches!(info.logical_type_ref(), Some(LogicalType::List))
        || info.converted_type() == ConvertedType::LIST
}

fn is_map(field: &Type) -> bool {
    let info = field.get_basic_info();
    matches!(info.logical_type_ref(), Some(LogicalType::Map))
        || matches!(
            info.converted_type(),
            ConvertedType::MAP | ConvertedType::MAP_KEY_VALUE
        )
}

/// The type of one schema node as a column type.
fn type_name(field: &Type) -> String {
    if is_list(field) {
        // LIST → repeated group (or repeated element) → element.
        let element = field
            .get_fields()
            .first()
            .map(|repeated| match repeated.get_fields() {
                [single] if repeated.is_group() => type_name(single),
                _ => element_type(repeated),
            })
            .unwrap_or_else(|| "unknown".to_owned());
        return format!("array<{element}>");
    }
    if is_map(field) {
        let (key, value) = match field.get_fields().first().map(|kv| kv.get_fields()) {
            Some([key, value]) => (type_name(key), type_name(value)),
            Some([key]) => (type_name(key), "unknown".to_owned()),
            _ => ("unknown".to_owned(), "unknown".to_owned()),
        };
        return format!("map<{key}, {value}>");
    }
    if is_repeated(field) {
        return format!("array<{}>", element_type(field));
    }
    if field.is_group() {
        return "struct".to_owned();
    }
    primitive_type(field)
}

/// The type of a repeated node's values.
fn element_type(field: &Type) -> String {
    if field.is_group() {
        "struct".to_owned()
    } else {
        primitive_type(field)
    }
}

fn primitive_type(field: &Type) -> String {
    let info = field.get_basic_info();
    let unit = |unit: &TimeUnit| match unit {
        TimeUnit::MILLIS => "ms",
        TimeUnit::MICROS => "us",
        TimeUnit::NANOS => "ns",
    };
    if let Some(logical) = info.logical_type_ref() {
        let named = match logical {
            LogicalType::String => Some("string".to_owned()),
            LogicalType::Enum => Some("enum".to_owned()),
            LogicalType::Json => Some("json".to_owned()),
            LogicalType::Bson => Some("bson".to_owned()),
            LogicalType::Uuid => Some("uuid".to_owned()),
            LogicalType::Date => Some("date".to_owned()),
            LogicalType::Float16 => Some("float16".to_owned()),
            LogicalType::Decimal(decimal) => {
                Some(format!("decimal({},{})", decimal.precision, decimal.scale))
            }
            LogicalType::Integer(int) => Some(format!(
                "{}int{}",
                if int.is_signed { "" } else { "u" },
                int.bit_width
            )),
            LogicalType::Time(time) => Some(format!(
                "time({}{})",
                unit(&time.unit),
                if time.is_adjusted_to_u_t_c {
                    ", utc"
                } else {
                    ""
                }
            )),
            LogicalType::Timestamp(time) => Some(format!(
                "timestamp({}{})",
                unit(&time.unit),
                if time.is_adjusted_to_u_t_c {
                    ", utc"
                } else {
                    ""
                }
            )),
            _ => None,
        };
        if let Some(named) = named {
            return named;
        }
    }
    let converted = match info.converted_type() {
        ConvertedType::UTF8 => Some("string"),
        ConvertedType::ENUM => Some("enum"),
        ConvertedType::JSON => Some("json"),
        ConvertedType::BSON => Some("bson"),
        ConvertedType::DATE => Some("date"),
        ConvertedType::TIME_MILLIS => Some("time(ms)"),
        ConvertedType::TIME_MICROS => Some("time(us)"),
        ConvertedType::TIMESTAMP_MILLIS => Some("timestamp(ms)"),
        ConvertedType::TIMESTAMP_MICROS => Some("timestamp(us)"),
        ConvertedType::INT_8 => Some("int8"),
        ConvertedType::INT_16 => Some("int16"),
        ConvertedType::INT_32 => Some("int32"),
        ConvertedType::INT_64 => Some("int64"),
        ConvertedType::UINT_8 => Some("uint8"),
        ConvertedType::UINT_16 => Some("uint16"),
        ConvertedType::UINT_32 => Some("uint32"),
        ConvertedType::UINT_64 => Some("uint64"),
        ConvertedType::INTERVAL => Some("interval"),
        ConvertedType::DECIMAL => {
            return format!("decimal({},{})", field.get_precision(), field.get_scale())
        }
        _ => None,
    };
    if let Some(converted) = converted {
        return converted.to_owned();
    }
    match field.get_physical_type() {
        Physical::BOOLEAN => "boolean".to_owned(),
        Physical::INT32 => "int32".to_owned(),
        Physical::INT64 => "int64".to_owned(),
        Physical::INT96 => "int96".to_owned(),
        Physical::FLOAT => "float".to_owned(),
        Physical::DOUBLE => "double".to_owned(),
        Physical::BYTE_ARRAY => "binary".to_owned(),
        Physical::FIXED_LEN_BYTE_ARRAY => {
            if let Type::PrimitiveType { type_length, .. } = field {
                format!("fixed({type_length})")
            } else {
                "fixed".to_owned()
            }
        }
    }
}

/// The first `keep` rows of the first row group, flattened like the schema's columns. Needs the
/// row group's bytes in `reader`'s ranges.
pub(super) fn rows(
    reader: &SerializedFileReader<Ranges>,
    keep: usize,
) -> parquet::errors::Result<Vec<Record>> {
    if reader.metadata().num_row_groups() == 0 || keep == 0 {
        return Ok(Vec::new());
    }
    let group = reader.get_row_group(0)?;
    let mut out = Vec::new();
    for row in group.get_row_iter(None)?.take(keep) {
        let row = row?;
        let mut record = Vec::new();
        flatten("", &row, &mut record);
        out.push(record);
    }
    Ok(out)
}

fn flatten(prefix: &str, row: &parquet::record::Row, out: &mut Record) {
    for (name, field) in row.get_column_iter() {
        let name = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match field {
            Field::Group(inner) => flatten(&name, inner, out),
            leaf => out.push(RecordField {
                name,
                kind: "parquet",
                text: text(leaf),
            }),
        }
    }
}

/// A Parquet value as sampled text: dates and times ISO 8601, binary as lowercase hex, nested
/// values as compact JSON.
fn text(field: &Field) -> Option<String> {
    match field {
        Field::Null => None,
        Field::Str(text) => Some(text.clone()),
        Field::Bytes(bytes) => Some(hex::encode(bytes.data())),
        Field::Group(_) | Field::ListInternal(_) | Field::MapInternal(_) => {
            Some(json(field).to_string())
        }
        other => Some(match json(other) {
            serde_json::Value::String(text) => text,
            value => value.to_string(),
        }),
    }
}

fn json(field: &Field) -> serde_json::Value {
    use serde_json::Value;
    let number = |n: f64| {
        serde_json::Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(n.to_string()))
    };
    match field {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(*b),
        Field::Byte(n) => Value::from(*n),
        Field::Short(n) => Value::from(*n),
        Field::Int(n) => Value::from(*n),
        Field::Long(n) => Value::from(*n),
        Field::UByte(n) => Value::from(*n),
        Field::UShort(n) => Value::from(*n),
        Field::UInt(n) => Value::from(*n),
        Field::ULong(n) => Value::from(*n),
        Field::Float16(n) => number(f64::from(*n)),
        Field::Float(n) => number(f64::from(*n)),
        Field::Double(n) => number(*n),
        Field::Decimal(_) => Value::String(field.to_string()),
        Field::Str(text) => Value::String(text.clone()),
        Field::Bytes(bytes) => Value::String(hex::encode(bytes.data())),
        Field::Date(days) => Value::String(
            chrono::DateTime::from_timestamp(i64::from(*days) * 86_400, 0)
                .map(|t| t.date_naive().to_string())
                .unwrap_or_else(|| days.to_string()),
        ),
        Field::TimeMillis(ms) => Value::String(time_of_day(i64::from(*ms) * 1_000)),
        Field::TimeMicros(us) => Value::String(time_of_day(*us)),
        Field::TimestampMillis(ms) => Value::String(
            chrono::DateTime::from_timestamp_millis(*ms)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                .unwrap_or_else(|| ms.to_string()),
        ),
        Field::TimestampMicros(us) => Value::String(
            chrono::DateTime::from_timestamp_micros(*us)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                .unwrap_or_else(|| us.to_string()),
        ),
        Field::Group(row) => Value::Object(
            row.get_column_iter()
                .map(|(name, field)| (name.clone(), json(field)))
                .collect(),
        ),
        Field::ListInternal(list) => Value::Array(list.elements().iter().map(json).collect()),
        Field::MapInternal(map) => Value::Object(
            map.entries()
                .iter()
                .map(|(key, value)| {
                    let key = match json(key) {
                        Value::String(text) => text,
                        other => other.to_string(),
                    };
                    (key, json(value))
                })
                .collect(),
        ),
    }
}

fn time_of_day(micros: i64) -> String {
    chrono::NaiveTime::from_num_seconds_from_midnight_opt(
        (micros / 1_000_000) as u32,
        ((micros % 1_000_000) * 1_000) as u32,
    )
    .map(|t| t.to_string())
    .unwrap_or_else(|| micros.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trailer_gives_the_footer_length() {
        let mut tail = vec![0u8; 4];
        tail.extend_from_slice(&300u32.to_le_bytes());
        tail.extend_from_slice(b"PAR1");
        assert_eq!(footer_len(&tail), Ok(308));
        assert!(footer_len(b"PAR1").is_err());
        assert!(footer_len(b"0123456789").is_err());
    }

    #[test]
    fn reads_outside_the_fetched_ranges_fail() {
        let mut ranges = Ranges::new(100);
        ranges.add(90, Bytes::from_static(b"0123456789"));
        assert_eq!(&ranges.get_bytes(92, 3).unwrap()[..], b"234");
        assert!(ranges.get_bytes(85, 10).is_err());
        assert!(ranges.get_read(10).is_err());
    }

    #[test]
    fn values_render_as_text() {
        assert_eq!(text(&Field::Null), None);
        assert_eq!(text(&Field::Double(1.5)).as_deref(), Some("1.5"));
        assert_eq!(text(&Field::Date(19_782)).as_deref(), Some("2024-02-29"));
        assert_eq!(
            text(&Field::TimestampMillis(1_709_203_872_000)).as_deref(),
            Some("2024-02-29T10:51:12Z")
        );
        assert_eq!(
            text(&Field::TimeMillis(3_723_000)).as_deref(),
            Some("01:02:03")
        );
    }
}
