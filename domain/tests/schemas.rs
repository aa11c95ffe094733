//! The checked-in `schemas/` directory must be exactly what the event types generate: a changed
//! event shape without a deliberate schema update (and, if incompatible, a new version) fails here.
//!
//! `UPDATE_SCHEMAS=1 cargo test -p domain --test schemas` rewrites the directory instead.

use domain::schema::event_schemas;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

const HOW_TO_FIX: &str =
    "run UPDATE_SCHEMAS=1 cargo test -p domain --test schemas and commit schemas/";

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

fn schema_files_on_disk(dir: &Path) -> BTreeSet<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries
        .map(|entry| {
            entry
                .expect("readable schemas/ entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json"))
        .collect()
}

#[test]
fn checked_in_schemas_match_the_event_types() {
    let dir = schemas_dir();
    let update = std::env::var("UPDATE_SCHEMAS").is_ok_and(|v| v == "1");
    let schemas = event_schemas();
    let generated: BTreeSet<String> = schemas.iter().map(|s| s.file_name()).collect();
    assert_eq!(
        generated.len(),
        schemas.len(),
        "two schemas share a file name"
    );

    if update {
        fs::create_dir_all(&dir).expect("create schemas/");
    }
    let mut problems = Vec::new();
    for schema in &schemas {
        let path = dir.join(schema.file_name());
        let expected = schema.to_file_contents();
        if update {
            fs::write(&path, &expected).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            continue;
        }
        match fs::read_to_string(&path) {
            Ok(actual) if actual == expected => {}
            Ok(_) => problems.push(format!(
                "schemas/{} differs from the event type",
                schema.file_name()
            )),
            Err(_) => problems.push(format!("schemas/{} is missing", schema.file_name())),
        }
    }
    for stale in schema_files_on_disk(&dir).difference(&generated) {
        if update {
            fs::remove_file(dir.join(stale))
                .unwrap_or_else(|e| panic!("remove schemas/{stale}: {e}"));
        } else {
            problems.push(format!(
                "schemas/{stale} belongs to no event that is still written or read"
            ));
        }
    }
    assert!(problems.is_empty(), "{}\n{HOW_TO_FIX}", problems.join("\n"));
}
