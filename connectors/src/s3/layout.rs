//! How object keys become assets: every key is placed in the "folder" prefix it belongs to, with
//! Hive-style partition folders folded into their table's prefix, and its format is read from its
//! extension. Also the S3 listing prefixes a scan scope allows, so a scoped discovery lists only
//! what can be in scope.
//!
//! | key | prefix (asset) | partitions |
//! |---|---|---|
//! | `customers/2024.csv` | `customers/` | |
//! | `events/date=2024-01-01/part-0.json` | `events/` | `date=2024-01-01` |
//! | `logs/2024/05/17/app.jsonl` | `logs/` | (unnamed: date folders) |
//! | `readme.csv` | the bucket root, segment `/` | |
//! | `events/_SUCCESS`, `.tmp/x.csv`, `t/_temporary/0/x.csv` | not data: skipped | |
//!
//! A folder is a partition when it is `key=value`, all digits, or a `YYYY-MM-DD` date, and every
//! folder after it is one too; so `events/date=2024-01-01/raw/x.json` stays its own prefix.

use domain::discovery::AssetPath;
use domain::scan::ScanScope;

/// The asset path segment of the bucket root (an S3 key prefix cannot start with `/`).
pub(super) const ROOT_SEGMENT: &str = "/";

/// The formats whose records PurSight reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Format {
    /// CSV (`.csv`) or TSV (`.tsv`): the delimiter, and whether the object is gzip-compressed
    /// (`.csv.gz`, `.tsv.gz`).
    Csv {
        delimiter: u8,
        gzip: bool,
    },
    /// JSON lines, concatenated JSON documents or one JSON array (`.json`, `.jsonl`, `.ndjson`),
    /// gzip-compressed or not (`.jsonl.gz`).
    Json {
        gzip: bool,
    },
    Parquet,
}

impl Format {
    /// The format of `key`, from its extension; `None` for anything else (images, archives,
    /// text compressed other than with gzip: counted, not read). A gzip-compressed Parquet
    /// object is not read either: Parquet compresses its pages itself, and its footer must be
    /// reachable by range.
    pub(super) fn of(key: &str) -> Option<Format> {
        let name = key.rsplit('/').next().unwrap_or(key);
        let (stem, extension) = name.rsplit_once('.')?;
        let gzip = extension.eq_ignore_ascii_case("gz");
        let extension = if gzip {
            stem.rsplit_once('.')?.1
        } else {
            extension
        };
        match extension.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv {
                delimiter: b',',
                gzip,
            }),
            "tsv" => Some(Format::Csv {
                delimiter: b'\t',
                gzip,
            }),
            "json" | "jsonl" | "ndjson" => Some(Format::Json { gzip }),
            "parquet" | "pq" if !gzip => Some(Format::Parquet),
            _ => None,
        }
    }

    /// Whether objects of this format are gzip-compressed text.
    pub(super) fn gzip(&self) -> bool {
        match self {
            Format::Csv { gzip, .. } | Format::Json { gzip } => *gzip,
            Format::Parquet => false,
        }
    }

    pub(super) fn name(&self) -> &'static str {
        match self {
            Format::Csv {
                delimiter: b'\t',
                gzip,
            } => {
                if *gzip {
                    "tsv.gz"
                } else {
                    "tsv"
                }
            }
            Format::Csv { gzip, .. } => {
                if *gzip {
                    "csv.gz"
                } else {
                    "csv"
                }
            }
            Format::Json { gzip } => {
                if *gzip {
                    "json.gz"
                } else {
                    "json"
                }
            }
            Format::Parquet => "parquet",
        }
    }
}

/// Where one object belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Placement {
    /// The key prefix of its asset: `""` for the bucket root, else ending in `/`.
    pub(super) prefix: String,
    /// The `key=value` partition folders between the prefix and the object, in order.
    pub(super) partitions: Vec<(String, String)>,
}

/// The placement of `key`, `None` when the key is not data (hidden or bookkeeping files and
/// folders such as `_SUCCESS`, `_temporary/`, `.crc`, and folder markers ending in `/`).
pub(super) fn place(key: &str) -> Option<Placement> {
    let segments: Vec<&str> = key.split('/').collect();
    let (name, folders) = segments.split_last()?;
    if name.is_empty()
        || segments
            .iter()
            .any(|s| s.is_empty() || s.starts_with('_') || s.starts_with('.'))
    {
        return None;
    }
    let first_partition = (0..=folders.len())
        .find(|&i| folders[i..].iter().all(|f| is_partition(f)))
        .unwrap_or(folders.len());
    let prefix: String = folders[..first_partition]
        .iter()
        .map(|f| format!("{f}/"))
        .collect();
    let partitions = folders[first_partition..]
        .iter()
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Some(Placement { prefix, partitions })
}

fn is_partition(folder: &str) -> bool {
    if let Some((key, _)) = folder.split_once('=') {
        return !key.is_empty();
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(folder)
        || (folder.len() == 10
            && folder.split('-').map(str::len).eq([4, 2, 2])
            && folder.split('-').all(digits))
}

/// The asset path segment of a prefix.
pub(super) fn segment_of(prefix: &str) -> &str {
    if prefix.is_empty() {
        ROOT_SEGMENT
    } else {
        prefix
    }
}

/// The prefix an asset path segment stands for.
pub(super) fn prefix_of(segment: &str) -> &str {
    if segment == ROOT_SEGMENT {
        ""
    } else {
        segment
    }
}

/// The path of the asset of `prefix` in `bucket`; `None` when the prefix is longer than a path
/// segment may be.
pub(super) fn asset_path(bucket: &str, prefix: &str) -> Option<AssetPath> {
    AssetPath::new([bucket, segment_of(prefix)]).ok()
}

/// The key prefixes to list in `bucket` so that every object of every asset in `scope` is seen,
/// within the source's own `base` prefix (`None`: the whole bucket). Empty when nothing below the
/// bucket can be in scope. `""` lists the whole bucket.
///
/// An asset `[bucket, P]` holds only keys starting with `P`, so an include pattern whose prefix
/// segment starts with literal text `L` (up to its first `*`) needs only keys starting with `L`.
pub(super) fn listing_prefixes(bucket: &str, base: Option<&str>, scope: &ScanScope) -> Vec<String> {
    let base = base
        .map(|b| format!("{}/", b.trim_matches('/')))
        .unwrap_or_default();
    let mut wanted: Vec<String> = Vec::new();
    if scope.include.is_empty() {
        wanted.push(String::new());
    }
    let bucket_path = match AssetPath::new([bucket]) {
        Ok(path) => path,
        Err(_) => return Vec::new(),
    };
    for pattern in &scope.include {
        let alone = ScanScope {
            include: vec![pattern.clone()],
            exclude: Vec::new(),
        };
        if !alone.may_contain(&bucket_path) {
            continue;
        }
        let Ok(parsed) = AssetPath::parse(pattern.as_str()) else {
            wanted.push(String::new());
            continue;
        };
        let segments = parsed.segments();
        match segments {
            [first, ..] if first == "**" => wanted.push(String::new()),
            [_] => {}
            [_, second, ..] => {
                let literal = second.split('*').next().unwrap_or_default();
                // The root's segment `/` matches no key's leading text.
                wanted.push(if literal.starts_with('/') {
                    String::new()
                } else {
                    literal.to_owned()
                });
            }
            [] => {}
        }
    }
    let mut prefixes: Vec<String> = wanted
        .into_iter()
        .filter_map(|literal| {
            if literal.starts_with(&base) {
                Some(literal)
            } else if base.starts_with(&literal) {
                Some(base.clone())
            } else {
                None
            }
        })
        .collect();
    prefixes.sort();
    prefixes.dedup();
    let mut kept: Vec<String> = Vec::new();
    for prefix in prefixes {
        if !kept.iter().any(|k| prefix.starts_with(k.as_str())) {
            kept.push(prefix);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(key: &str) -> Option<(String, Vec<(String, String)>)> {
        place(key).map(|p| (p.prefix, p.partitions))
    }

    #[test]
    fn keys_are_placed_in_their_folder() {
        assert_eq!(
            placed("customers/a.csv"),
            Some(("customers/".into(), vec![]))
        );
        assert_eq!(placed("a.csv"), Some((String::new(), vec![])));
        assert_eq!(placed("x/y/z.json"), Some(("x/y/".into(), vec![])));
    }

    #[test]
    fn partition_folders_fold_into_their_table() {
        assert_eq!(
            placed("events/date=2024-01-01/hour=03/part-0.json"),
            Some((
                "events/".into(),
                vec![
                    ("date".into(), "2024-01-01".into()),
                    ("hour".into(), "03".into())
                ]
            ))
        );
        assert_eq!(
            placed("logs/2024/05/17/app.jsonl"),
            Some(("logs/".into(), vec![]))
        );
        assert_eq!(
            placed("logs/2024-05-17/a.csv"),
            Some(("logs/".into(), vec![]))
        );
        // A plain folder after a partition folder is a prefix of its own.
        assert_eq!(
            placed("events/date=2024-01-01/raw/x.json"),
            Some(("events/date=2024-01-01/raw/".into(), vec![]))
        );
        assert_eq!(placed("=x/a.csv"), Some(("=x/".into(), vec![])));
    }

    #[test]
    fn bookkeeping_files_are_not_data() {
        for key in [
            "events/_SUCCESS",
            "t/_temporary/0/part.csv",
            ".hidden/a.csv",
            "a/.part.crc",
            "folder/",
            "a//b.csv",
        ] {
            assert_eq!(place(key), None, "{key}");
        }
    }

    #[test]
    fn formats_come_from_extensions() {
        let csv = |gzip| Format::Csv {
            delimiter: b',',
            gzip,
        };
        assert_eq!(Format::of("a/b.CSV"), Some(csv(false)));
        assert_eq!(
            Format::of("a/b.tsv"),
            Some(Format::Csv {
                delimiter: b'\t',
                gzip: false
            })
        );
        assert_eq!(Format::of("a/b.ndjson"), Some(Format::Json { gzip: false }));
        assert_eq!(Format::of("a/b.parquet"), Some(Format::Parquet));
        assert_eq!(Format::of("a/b.csv.gz"), Some(csv(true)));
        assert_eq!(Format::of("a/part-0.CSV.GZ"), Some(csv(true)));
        assert_eq!(
            Format::of("a/b.jsonl.gz"),
            Some(Format::Json { gzip: true })
        );
        assert_eq!(Format::of("a/b.parquet.gz"), None);
        assert_eq!(Format::of("a/b.tar.gz"), None);
        assert_eq!(Format::of("a/b.gz"), None);
        assert_eq!(Format::of("a/b.csv.zst"), None);
        assert_eq!(Format::of("a.b/noext"), None);
        let names = [
            csv(false),
            csv(true),
            Format::Json { gzip: true },
            Format::Parquet,
        ]
        .map(|format| format.name());
        assert_eq!(names, ["csv", "csv.gz", "json.gz", "parquet"]);
    }

    #[test]
    fn scopes_narrow_the_listing() {
        let scope = |include: &[&str]| ScanScope::parse(include, Vec::<String>::new()).unwrap();
        assert_eq!(listing_prefixes("lake", None, &scope(&[])), [""]);
        assert_eq!(
            listing_prefixes("lake", None, &scope(&["lake.events/*", "lake.events/x/"])),
            ["events/"]
        );
        assert_eq!(
            listing_prefixes("lake", None, &scope(&["lake.cust*", "lake.orders/"])),
            ["cust", "orders/"]
        );
        assert!(listing_prefixes("lake", None, &scope(&["other.events/"])).is_empty());
        assert!(listing_prefixes("lake", None, &scope(&["lake"])).is_empty());
        assert_eq!(listing_prefixes("lake", None, &scope(&["**.x"])), [""]);
        assert_eq!(listing_prefixes("lake", None, &scope(&["lake./"])), [""]);
        assert_eq!(
            listing_prefixes("lake", Some("landing"), &scope(&[])),
            ["landing/"]
        );
        assert_eq!(
            listing_prefixes("lake", Some("landing"), &scope(&["lake.landing/a*"])),
            ["landing/a"]
        );
        assert!(listing_prefixes("lake", Some("landing"), &scope(&["lake.raw/*"])).is_empty());
        assert_eq!(
            listing_prefixes("lake", Some("landing"), &scope(&["lake.*"])),
            ["landing/"]
        );
    }
}
