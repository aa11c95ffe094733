//! [`sample`]: keys of one discovered key pattern, for classification.
//!
//! The keys are found with `SCAN … MATCH` in the pattern's logical database, on the replica when
//! there is one (a sample may be slightly stale), falling back to the primary. The glob is the
//! pattern itself — its `*` kept, Redis' other glob characters escaped — and, since `user:*` as a
//! glob also matches `user:1:cart`, every key found is checked to belong to the pattern. A
//! pattern without a wildcard names its only key, which is read without scanning.
//!
//! Only keys of the pattern's main type, the one its columns describe, are sampled; keys of
//! another type, or deleted meanwhile, are passed over. For each page of keys, one pipeline asks
//! every key's `TYPE` and its value:
//!
//! | type | read | columns |
//! |---|---|---|
//! | string | `STRLEN`, `GETRANGE` of the first 64 KiB | `value`: the text; JSON fields: the object's top-level field |
//! | hash | `HMGET` of the column names | one per field, `None` where the hash lacks it |
//! | list | `LINDEX 0` | `element`: the first element |
//! | set | `SRANDMEMBER` | `element`: a random member |
//! | zset | `ZRANGE 0 0 WITHSCORES` | `element` and `score` of the lowest-scored member |
//!
//! Values are returned as text: bytes that are not UTF-8 as lowercase hex, JSON strings
//! unquoted, JSON objects and arrays as compact JSON, JSON `null` as `None`. A string longer than
//! 64 KiB is read as its first 64 KiB, and is then no JSON object. Values go to the caller only:
//! nothing here logs them.

use super::connect::timed_out;
use super::discover::{pattern_path, primary_type, MAX_VALUE_BYTES};
use super::options::RedisTarget;
use super::session::Session;
use crate::options::ReadRouting;
use crate::probe::{AssetSample, DiscoveryError};
use crate::sampling::{assemble, json_text};
use domain::discovery::{AssetKind, AssetPath, AssetSchema, ColumnSchema};
use redis::{FromRedisValue, Value};
use std::collections::HashSet;
use std::time::Duration;

/// `SCAN … COUNT` while looking for a pattern's keys.
const SCAN_COUNT: usize = 1000;
/// `SCAN` pages read at most (some 100 000 keys looked at): a pattern with fewer keys than rows
/// wanted in a large database is sampled from what this finds rather than scanned to the end.
const MAX_SCAN_PAGES: usize = 100;
/// Keys read in one pipeline.
const KEYS_PER_PIPELINE: usize = 100;
/// The types whose values are read, as `TYPE` names them.
const READ_TYPES: [&str; 5] = ["string", "hash", "list", "set", "zset"];

/// One value per column, in the asset's column order.
type Row = Vec<Option<String>>;

/// Reads up to `rows` keys of the key pattern `asset` (a `redis_key_pattern` asset at
/// `db<n>.<pattern>`) within `timeout`, and returns one [`ColumnSample`](crate::probe::ColumnSample)
/// per column of `asset.columns`, in that order, each with one value per key read.
///
/// A pattern whose keys hold a type this does not read (a stream, a module type) gets no rows.
///
/// ```no_run
/// # async fn example(target: connectors::redis::RedisTarget, asset: domain::discovery::AssetSchema) {
/// use std::time::Duration;
///
/// let sample = connectors::redis::sample(&target, &asset, 100, Duration::from_secs(10))
///     .await
///     .unwrap();
/// assert_eq!(sample.columns.len(), asset.columns.len());
/// # }
/// ```
#[tracing::instrument(name = "redis.sample", skip_all, fields(asset = %asset.path, rows))]
pub async fn sample(
    target: &RedisTarget,
    asset: &AssetSchema,
    rows: u32,
    timeout: Duration,
) -> Result<AssetSample, DiscoveryError> {
    let (database, db, pattern) = match (asset.kind, asset.path.segments()) {
        (AssetKind::RedisKeyPattern, [database, pattern]) => {
            match database
                .strip_prefix("db")
                .and_then(|n| n.parse::<u32>().ok())
            {
                Some(db) => (database, db, pattern.as_str()),
                None => return Err(not_a_pattern(asset)),
            }
        }
        _ => return Err(not_a_pattern(asset)),
    };
    let Some(kind) = primary_type(asset) else {
        return Err(DiscoveryError::Unsupported(format!(
            "`{}` does not say the Redis type of its keys; discover the source again",
            asset.path
        )));
    };
    if !READ_TYPES.contains(&kind) {
        tracing::debug!(kind, "values of this Redis type are not sampled");
        return Ok(assemble(asset, Vec::new()));
    }
    if rows == 0 || asset.columns.is_empty() {
        return Ok(assemble(asset, Vec::new()));
    }
    let read = Read {
        asset,
        database: AssetPath::new([database.as_str()])
            .map_err(|error| DiscoveryError::Unsupported(error.to_string()))?,
        pattern,
        kind,
        rows: usize::try_from(rows).unwrap_or(usize::MAX),
    };
    // The pattern's own database, whatever the target names.
    let primary = RedisTarget {
        db,
        ..target.clone()
    };
    let replica = primary.route(ReadRouting::ReplicaAllowed);
    match sample_from(&replica, &read, timeout).await {
        Err(error) if replica != primary => {
            tracing::warn!(%error, "sampling from the replica failed; using the primary");
            sample_from(&primary, &read, timeout).await
        }
        outcome => outcome,
    }
}

fn not_a_pattern(asset: &AssetSchema) -> DiscoveryError {
    DiscoveryError::Unsupported(format!(
        "`{}` is not a Redis key pattern (db<n>.<pattern>)",
        asset.path
    ))
}

/// One connection's sample, all within `timeout`; the connection is closed before it returns.
async fn sample_from(
    target: &RedisTarget,
    read: &Read<'_>,
    timeout: Duration,
) -> Result<AssetSample, DiscoveryError> {
    let connect_timeout = if target.connect_timeout.is_zero() {
        timeout
    } else {
        target.connect_timeout.min(timeout)
    };
    let attempt = async {
        let mut session = Session::open(target, connect_timeout, timeout).await?;
        let rows = read.rows(&mut session).await;
        // Dropping the session closes its socket.
        drop(session);
        rows
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(rows)) => {
            tracing::debug!(keys = rows.len(), "keys sampled");
            Ok(assemble(read.asset, rows))
        }
        Ok(Err(error)) => Err(error),
        Err(_) => Err(DiscoveryError::Connection(timed_out(target, timeout))),
    }
}

/// What to read: the keys of one pattern, of one type.
struct Read<'a> {
    asset: &'a AssetSchema,
    /// `[db<n>]`, the parent of the pattern's path.
    database: AssetPath,
    pattern: &'a str,
    /// The Redis type sampled (one of [`READ_TYPES`]).
    kind: &'a str,
    /// Keys wanted.
    rows: usize,
}

impl Read<'_> {
    /// Up to `rows` rows: one per key of the pattern and type read.
    async fn rows(&self, session: &mut Session<'_>) -> Result<Vec<Row>, DiscoveryError> {
        if let Some(key) = only_key(self.pattern) {
            return self.read(session, &[key.as_bytes().to_vec()]).await;
        }
        let glob = glob(self.pattern);
        let mut rows = Vec::new();
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut cursor: u64 = 0;
        for _ in 0..MAX_SCAN_PAGES {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(&glob)
                .arg("COUNT")
                .arg(SCAN_COUNT);
            let (next, keys): (u64, Vec<Vec<u8>>) = session.query(&scan).await?;
            let keys: Vec<Vec<u8>> = keys
                .into_iter()
                .filter(|key| pattern_path(&self.database, key).as_ref() == Some(&self.asset.path))
                // SCAN may return a key twice (when the table is resized between pages).
                .filter(|key| seen.insert(key.clone()))
                .collect();
            // Only as many keys as rows still wanted, then more of the page for those passed
            // over (of another type, or gone).
            let mut rest = keys.as_slice();
            while !rest.is_empty() && rows.len() < self.rows {
                let take = rest
                    .len()
                    .min(self.rows - rows.len())
                    .min(KEYS_PER_PIPELINE);
                let (batch, after) = rest.split_at(take);
                rows.extend(self.read(session, batch).await?);
                rest = after;
            }
            if rows.len() >= self.rows || next == 0 {
                return Ok(rows);
            }
            cursor = next;
        }
        tracing::debug!(
            pages = MAX_SCAN_PAGES,
            keys = rows.len(),
            "stopped looking for more keys of the pattern"
        );
        Ok(rows)
    }

    /// The rows of `keys` that are still of the type read, from one pipeline.
    async fn read(
        &self,
        session: &mut Session<'_>,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Row>, DiscoveryError> {
        let mut pipe = redis::pipe();
        // A key that changed type meanwhile answers WRONGTYPE: that key is passed over, the
        // others are still read.
        pipe.ignore_errors();
        for key in keys {
            pipe.cmd("TYPE").arg(key);
            match self.kind {
                "string" => {
                    pipe.cmd("STRLEN").arg(key);
                    pipe.cmd("GETRANGE")
                        .arg(key)
                        .arg(0)
                        .arg(MAX_VALUE_BYTES - 1);
                }
                "hash" => {
                    let fields: Vec<&str> =
                        self.asset.columns.iter().map(|c| c.name.as_str()).collect();
                    pipe.cmd("HMGET").arg(key).arg(fields);
                }
                "list" => {
                    pipe.cmd("LINDEX").arg(key).arg(0);
                }
                "set" => {
                    pipe.cmd("SRANDMEMBER").arg(key);
                }
                _ => {
                    pipe.cmd("ZRANGE").arg(key).arg(0).arg(0).arg("WITHSCORES");
                }
            }
        }
        let replies: Vec<Value> = session.query_pipe(&pipe).await?;
        let per_key = if self.kind == "string" { 3 } else { 2 };
        let mut replies = replies.into_iter();
        let mut rows = Vec::with_capacity(keys.len());
        for _ in keys {
            let key_replies: Vec<Value> = replies.by_ref().take(per_key).collect();
            if let Some(row) = self.row(key_replies) {
                rows.push(row);
            }
        }
        Ok(rows)
    }

    /// The row of one key from its replies (`TYPE`, then the reads), `None` when the key is gone
    /// or of another type.
    fn row(&self, replies: Vec<Value>) -> Option<Row> {
        let mut replies = replies.into_iter();
        if String::from_redis_value(replies.next()?).ok()? != self.kind {
            return None;
        }
        let columns = &self.asset.columns;
        match self.kind {
            "string" => {
                let length = i64::from_redis_value(replies.next()?).ok()?;
                let value = Vec::<u8>::from_redis_value(replies.next()?).ok()?;
                let whole = usize::try_from(length).is_ok_and(|l| l <= MAX_VALUE_BYTES);
                Some(string_row(columns, value, whole))
            }
            "hash" => {
                let values = Vec::<Option<Vec<u8>>>::from_redis_value(replies.next()?).ok()?;
                (values.len() == columns.len())
                    .then(|| values.into_iter().map(|v| v.map(text)).collect())
            }
            "list" | "set" => {
                let element = Option::<Vec<u8>>::from_redis_value(replies.next()?).ok()??;
                Some(element_row(columns, Some(text(element)), None))
            }
            _ => {
                let (element, score) = first_scored(replies.next()?)?;
                Some(element_row(columns, Some(text(element)), Some(score)))
            }
        }
    }
}

/// The key a pattern stands for when it has no wildcard: then no segment of the key was an
/// identifier, and the key is the pattern. (A key that was not UTF-8, or too long, has a pattern
/// with a replacement character or a trailing `*`.)
fn only_key(pattern: &str) -> Option<&str> {
    (!pattern.contains(['*', char::REPLACEMENT_CHARACTER])).then_some(pattern)
}

/// The `SCAN MATCH` glob of a pattern: `*` kept (an identifier, or a `*` in the key itself,
/// which `*` matches too), `?`, `[`, `]` and `\` escaped, a replacement character (bytes that
/// were not UTF-8) as `*`.
fn glob(pattern: &str) -> String {
    let mut glob = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '?' | '[' | ']' | '\\' => {
                glob.push('\\');
                glob.push(c);
            }
            char::REPLACEMENT_CHARACTER => glob.push('*'),
            c => glob.push(c),
        }
    }
    glob
}

/// A string key's row: its JSON object's top-level fields when it holds one, its text in the
/// single `value` column of a plain string pattern.
fn string_row(columns: &[ColumnSchema], value: Vec<u8>, whole: bool) -> Row {
    let object = whole
        .then(|| serde_json::from_slice::<serde_json::Value>(&value).ok())
        .flatten()
        .and_then(|json| match json {
            serde_json::Value::Object(object) => Some(object),
            _ => None,
        });
    let plain = matches!(columns, [only] if only.name == "value");
    let mut value = Some(value);
    columns
        .iter()
        .map(
            |column| match object.as_ref().and_then(|o| o.get(&column.name)) {
                Some(field) => json_text(field),
                // A plain string pattern: the whole value (only one column, so taken once).
                None if plain => value.take().map(|bytes| truncated_text(bytes, whole)),
                None => None,
            },
        )
        .collect()
}

/// A list, set or sorted set key's row: `element` and `score` where the columns name them.
fn element_row(columns: &[ColumnSchema], element: Option<String>, score: Option<String>) -> Row {
    columns
        .iter()
        .map(|column| match column.name.as_str() {
            "element" => element.clone(),
            "score" => score.clone(),
            _ => None,
        })
        .collect()
}

/// The member and score of a `ZRANGE … WITHSCORES` reply of one member: `[member, score]` in
/// RESP2, `[[member, score]]` in RESP3.
fn first_scored(reply: Value) -> Option<(Vec<u8>, String)> {
    let mut items = Vec::<Value>::from_redis_value(reply).ok()?;
    if let [Value::Array(_)] = items.as_slice() {
        items = Vec::<Value>::from_redis_value(items.pop()?).ok()?;
    }
    let mut items = items.into_iter();
    let member = Vec::<u8>::from_redis_value(items.next()?).ok()?;
    let score = String::from_redis_value(items.next()?).ok()?;
    Some((member, score))
}

/// Bytes as text: UTF-8 as it is, anything else as lowercase hex.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|error| hex::encode(error.into_bytes()))
}

/// [`text`] of a value that may have been cut short: a character cut in two at the end is left
/// out rather than turning the whole value into hex.
fn truncated_text(mut bytes: Vec<u8>, whole: bool) -> String {
    if !whole {
        if let Err(error) = std::str::from_utf8(&bytes) {
            if error.error_len().is_none() {
                bytes.truncate(error.valid_up_to());
            }
        }
    }
    text(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str]) -> Vec<ColumnSchema> {
        names
            .iter()
            .zip(1..)
            .map(|(name, ordinal)| ColumnSchema::new(*name, "string", ordinal))
            .collect()
    }

    #[test]
    fn patterns_become_escaped_globs_and_literal_patterns_name_their_key() {
        assert_eq!(glob("user:*:cart"), "user:*:cart");
        assert_eq!(glob(r"a?[b]\c"), r"a\?\[b\]\\c");
        assert_eq!(glob("bin:\u{FFFD}:x"), "bin:*:x");
        assert_eq!(only_key("config:main"), Some("config:main"));
        assert_eq!(only_key("user:*"), None);
        assert_eq!(only_key("bin:\u{FFFD}"), None);
    }

    #[test]
    fn strings_fill_json_fields_or_the_value_column() {
        let json = columns(&["city", "geo", "phone", "zip"]);
        let value = br#"{"city":"Lyon","zip":69001,"phone":null,"geo":{"lat":45.7}}"#.to_vec();
        assert_eq!(
            string_row(&json, value, true),
            vec![
                Some("Lyon".into()),
                Some(r#"{"lat":45.7}"#.into()),
                None,
                Some("69001".into())
            ]
        );
        assert_eq!(string_row(&json, b"not json".to_vec(), true), vec![None; 4]);
        let plain = columns(&["value"]);
        assert_eq!(
            string_row(&plain, b"hello".to_vec(), true),
            vec![Some("hello".into())]
        );
        assert_eq!(
            string_row(&plain, br#"{"value":7}"#.to_vec(), true),
            vec![Some("7".into())],
            "a JSON field named value"
        );
        assert_eq!(
            string_row(&plain, br#"{"other":7}"#.to_vec(), true),
            vec![Some(r#"{"other":7}"#.into())]
        );
        assert_eq!(
            string_row(&plain, vec![0xff, 0x00, 0x1a], true),
            vec![Some("ff001a".into())]
        );
        // "é" cut after its first byte.
        assert_eq!(
            string_row(&plain, vec![b'a', 0xc3], false),
            vec![Some("a".into())]
        );
        assert_eq!(
            string_row(&json, br#"{"city":"Lyo"#.to_vec(), false),
            vec![None; 4]
        );
    }

    #[test]
    fn sorted_set_replies_of_both_protocols() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let resp2 = Value::Array(vec![bulk("x"), bulk("1.5")]);
        assert_eq!(first_scored(resp2), Some((b"x".to_vec(), "1.5".into())));
        let resp3 = Value::Array(vec![Value::Array(vec![bulk("y"), Value::Double(2.0)])]);
        let (member, score) = first_scored(resp3).unwrap();
        assert_eq!(member, b"y");
        assert_eq!(score.parse::<f64>().unwrap(), 2.0);
        assert_eq!(first_scored(Value::Array(Vec::new())), None);
        assert_eq!(
            element_row(
                &columns(&["element", "score"]),
                Some("x".into()),
                Some("1".into())
            ),
            vec![Some("x".into()), Some("1".into())]
        );
    }
}
