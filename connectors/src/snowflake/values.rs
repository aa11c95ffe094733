//! Cells of the SQL API's `jsonv2` result format rendered as the text sampling hands on
//! ([`ColumnSample`](crate::probe::ColumnSample): dates ISO 8601, numbers as written, binary as
//! lowercase hex, JSON compact).
//!
//! Every non-null cell arrives as a JSON string whose meaning depends on the column's `rowType`:
//! `DATE` is days since the epoch, `TIME` seconds since midnight, `TIMESTAMP_NTZ`/`_LTZ` epoch
//! seconds with nine decimals, `TIMESTAMP_TZ` the same followed by the offset in minutes plus
//! 1440, `BINARY` hex, `VARIANT`/`OBJECT`/`ARRAY` (pretty-printed) JSON. A cell that does not read
//! as its type is passed on as written: sampling never fails on one odd value, and the value is
//! never logged.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, SecondsFormat, Utc};

/// `value` of a column whose `rowType.type` is `kind`, as text.
pub(crate) fn render(kind: &str, value: String) -> String {
    let kind = kind.to_ascii_lowercase();
    let rendered = match kind.as_str() {
        "date" => date(&value),
        "time" => time(&value),
        "timestamp_ntz" => {
            epoch(&value).map(|t| t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f").to_string())
        }
        "timestamp_ltz" => epoch(&value).map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        "timestamp_tz" => timestamp_tz(&value),
        "binary" => Some(value.to_ascii_lowercase()),
        "variant" | "object" | "array" => serde_json::from_str::<serde_json::Value>(&value)
            .ok()
            .map(|json| json.to_string()),
        _ => None,
    };
    rendered.unwrap_or(value)
}

fn date(value: &str) -> Option<String> {
    let days: i64 = value.trim().parse().ok()?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    let date = epoch.checked_add_signed(chrono::TimeDelta::try_days(days)?)?;
    Some(date.format("%Y-%m-%d").to_string())
}

fn time(value: &str) -> Option<String> {
    let nanos = nanos(value)?;
    let seconds = u32::try_from(nanos / 1_000_000_000).ok()?;
    let fraction = u32::try_from(nanos % 1_000_000_000).ok()?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds, fraction)?;
    Some(time.format("%H:%M:%S%.f").to_string())
}

fn timestamp_tz(value: &str) -> Option<String> {
    let (instant, offset) = value.trim().split_once(' ')?;
    let minutes: i32 = offset.parse::<i32>().ok()? - 1440;
    let offset = FixedOffset::east_opt(minutes.checked_mul(60)?)?;
    let instant = epoch(instant)?.with_timezone(&offset);
    Some(instant.to_rfc3339_opts(SecondsFormat::AutoSi, false))
}

/// An instant from epoch seconds with a decimal fraction (`-1.500000000` is half a second
/// before `-1`).
fn epoch(value: &str) -> Option<DateTime<Utc>> {
    let nanos = nanos(value)?;
    let seconds = i64::try_from(nanos.div_euclid(1_000_000_000)).ok()?;
    let fraction = u32::try_from(nanos.rem_euclid(1_000_000_000)).ok()?;
    DateTime::from_timestamp(seconds, fraction)
}

/// `[-]seconds[.fraction]` as nanoseconds.
fn nanos(value: &str) -> Option<i128> {
    let value = value.trim();
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || fraction.len() > 9 {
        return None;
    }
    if !whole
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i128 = whole.parse().ok()?;
    let fraction: i128 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().ok()?
    };
    let total = whole.checked_mul(1_000_000_000)?.checked_add(fraction)?;
    Some(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn temporal_values_become_iso_8601() {
        assert_eq!(render("date", "19723".into()), "2024-01-01");
        assert_eq!(render("DATE", "-1".into()), "1969-12-31");
        assert_eq!(render("time", "45296.500000000".into()), "12:34:56.500");
        assert_eq!(
            render("timestamp_ntz", "1704112496.123000000".into()),
            "2024-01-01T12:34:56.123"
        );
        assert_eq!(
            render("timestamp_ltz", "1704112496.000000000".into()),
            "2024-01-01T12:34:56Z"
        );
        assert_eq!(
            render("timestamp_tz", "1704112496.000000000 1560".into()),
            "2024-01-01T14:34:56+02:00"
        );
        assert_eq!(
            render("timestamp_ntz", "-1.500000000".into()),
            "1969-12-31T23:59:58.500"
        );
    }

    #[test]
    fn binary_json_and_the_rest() {
        assert_eq!(render("binary", "DEADBEEF".into()), "deadbeef");
        assert_eq!(
            render("variant", "{\n  \"a\": [\n    1,\n    2\n  ]\n}".into()),
            r#"{"a":[1,2]}"#
        );
        assert_eq!(render("fixed", "12.50".into()), "12.50");
        assert_eq!(render("text", "héllo".into()), "héllo");
        // Values that do not read as their type pass through.
        assert_eq!(render("date", "not a date".into()), "not a date");
    }
}
