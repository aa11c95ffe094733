//! Discovered names made harmless: the one place control characters in what a governed system
//! reports (schema, table, column, collection, key-pattern and object names, comments, view
//! definitions, and the parts of partitions, triggers, types, routines and sequences) are
//! neutralised before anything is recorded.
//!
//! A source's owner chooses its names, and PostgreSQL, MySQL, MongoDB, Redis and S3 all allow
//! control characters in some of them (PostgreSQL identifiers anything but NUL; MongoDB field
//! names and Redis keys even NUL). Recorded as they are, a newline forges log lines, an escape
//! sequence repaints a terminal, and a NUL is refused by the read models' PostgreSQL (it used to
//! stall a projection for every tenant). Each control character of a name is therefore
//! replaced by the visible text of its code point, `\u{a}` for a newline
//! ([`domain::text::escape_controls`]); comments and view definitions, which are prose and SQL,
//! keep their newlines, carriage returns and tabs.
//!
//! **The recorded name then differs from the source's**: `line\u{a}break` in the catalog is the
//! column the source calls "line⏎break". Such a column cannot be sampled under its recorded
//! name (classification skips it), and a name that already spelled `\u{a}` literally would look
//! the same as one that held the character; both are rare enough to accept for names that are
//! safe everywhere.

use crate::probe::Discovery;
use domain::discovery::{AssetPath, AssetSchema, ColumnSchema, ForeignKey, LineageEdge};
use domain::text::escape_controls;
use std::borrow::Cow;

/// `name` with every control character replaced by its visible escape.
pub fn neutralise(name: &str) -> Cow<'_, str> {
    escape_controls(name)
}

/// Whether `name` is one [`neutralise`] changed (it spells a control character's escape), so it
/// is not the source's own name and cannot be read back from the source under it.
pub fn was_neutralised(name: &str) -> bool {
    name.contains("\\u{")
}

/// `asset` as it can be read from its source: without the columns whose names were
/// neutralised; `None` when its own path was (the source knows it under another name).
pub fn readable(asset: &AssetSchema) -> Option<Cow<'_, AssetSchema>> {
    if asset.path.segments().iter().any(|s| was_neutralised(s)) {
        return None;
    }
    if !asset.columns.iter().any(|c| was_neutralised(&c.name)) {
        return Some(Cow::Borrowed(asset));
    }
    let mut readable = asset.clone();
    readable.columns.retain(|c| !was_neutralised(&c.name));
    Some(Cow::Owned(readable))
}

/// Prose (a comment, a view definition): control characters escaped except newline, carriage
/// return and tab.
fn neutralise_prose(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => c.to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Neutralises every name of a discovery in place.
pub fn neutralise_discovery(discovery: &mut Discovery) {
    for asset in &mut discovery.assets {
        neutralise_asset(asset);
    }
    for edge in &mut discovery.lineage {
        neutralise_edge(edge);
    }
}

fn neutralise_asset(asset: &mut AssetSchema) {
    path(&mut asset.path);
    asset.columns.iter_mut().for_each(neutralise_column);
    for key in &mut asset.foreign_keys {
        foreign_key(key);
    }
    for index in &mut asset.indexes {
        name(&mut index.name);
        index.columns.iter_mut().for_each(name);
        index.method.iter_mut().for_each(name);
    }
    if let Some(comment) = &mut asset.comment {
        prose(comment);
    }
    if let Some(definition) = &mut asset.view_definition {
        prose(definition);
    }
    neutralise_objects(asset);
}

fn neutralise_column(column: &mut ColumnSchema) {
    name(&mut column.name);
    name(&mut column.data_type);
    if let Some(default) = &mut column.default {
        prose(default);
    }
    if let Some(comment) = &mut column.comment {
        prose(comment);
    }
    column.type_ref.iter_mut().for_each(path);
}

/// The parts of partitioned tables, triggers, types, routines and sequences: their names (enum
/// labels are names a source's owner chose too) and their SQL as prose.
fn neutralise_objects(asset: &mut AssetSchema) {
    if let Some(partitioning) = &mut asset.partitioning {
        name(&mut partitioning.strategy);
        prose(&mut partitioning.key);
        for partition in &mut partitioning.partitions {
            path(&mut partition.path);
            prose(&mut partition.bound);
            partition.parent.iter_mut().for_each(path);
        }
    }
    for trigger in &mut asset.triggers {
        name(&mut trigger.name);
        name(&mut trigger.timing);
        name(&mut trigger.level);
        trigger.events.iter_mut().for_each(name);
        trigger.function.iter_mut().for_each(path);
        prose(&mut trigger.definition);
    }
    if let Some(user_type) = &mut asset.user_type {
        user_type.values.iter_mut().for_each(name);
        user_type.base_type.iter_mut().for_each(name);
        user_type.default.iter_mut().for_each(prose);
        user_type.checks.iter_mut().for_each(prose);
        user_type.attributes.iter_mut().for_each(neutralise_column);
    }
    if let Some(routine) = &mut asset.routine {
        name(&mut routine.kind);
        name(&mut routine.name);
        prose(&mut routine.arguments);
        routine.return_type.iter_mut().for_each(prose);
        name(&mut routine.language);
        routine.definition.iter_mut().for_each(prose);
    }
    if let Some(sequence) = &mut asset.sequence {
        name(&mut sequence.data_type);
        sequence.owned_by_table.iter_mut().for_each(path);
        sequence.owned_by_column.iter_mut().for_each(name);
    }
}

fn foreign_key(key: &mut ForeignKey) {
    name(&mut key.name);
    key.columns.iter_mut().for_each(name);
    path(&mut key.referenced);
    key.referenced_columns.iter_mut().for_each(name);
}

fn neutralise_edge(edge: &mut LineageEdge) {
    path(&mut edge.from);
    path(&mut edge.to);
    edge.from_columns.iter_mut().for_each(name);
    edge.to_columns.iter_mut().for_each(name);
}

fn name(text: &mut String) {
    if let Cow::Owned(escaped) = neutralise(text) {
        *text = escaped;
    }
}

fn prose(text: &mut String) {
    if let Cow::Owned(escaped) = neutralise_prose(text) {
        *text = escaped;
    }
}

/// A path's segments neutralised; a segment that its escapes make longer than a segment may be
/// is cut at the limit (the path stays valid).
fn path(path: &mut AssetPath) {
    if !path
        .segments()
        .iter()
        .any(|s| s.chars().any(char::is_control))
    {
        return;
    }
    let segments = path.segments().iter().map(|segment| {
        neutralise(segment)
            .chars()
            .take(AssetPath::MAX_SEGMENT_CHARS)
            .collect::<String>()
    });
    if let Ok(neutral) = AssetPath::new(segments) {
        *path = neutral;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::discovery::{AssetKind, ColumnSchema};

    fn column(name: &str) -> ColumnSchema {
        ColumnSchema {
            name: name.into(),
            data_type: "text".into(),
            nullable: true,
            default: None,
            primary_key: false,
            ordinal: 1,
            comment: Some("first line\nsecond\u{7}".into()),
            type_ref: None,
        }
    }

    #[test]
    fn every_name_of_a_discovery_loses_its_control_characters_and_prose_keeps_its_lines() {
        let table = AssetPath::new(["shop", "pub\u{1b}[2Jlic", "or\0ders"]).unwrap();
        let mut asset = AssetSchema::new(AssetKind::Table, table.clone());
        asset.columns = vec![column("e\nmail"), column("plain")];
        asset.view_definition = Some("SELECT 1\n  FROM x\u{0}".into());
        let mut discovery = Discovery {
            assets: vec![asset],
            lineage: vec![LineageEdge {
                from: table.clone(),
                from_columns: vec!["e\nmail".into()],
                to: AssetPath::new(["shop", "public", "t"]).unwrap(),
                to_columns: vec!["x".into()],
                kind: domain::discovery::LineageKind::ForeignKey,
            }],
            metrics: Default::default(),
        };
        neutralise_discovery(&mut discovery);
        let asset = &discovery.assets[0];
        assert_eq!(
            asset.path.segments(),
            ["shop", "pub\\u{1b}[2Jlic", "or\\u{0}ders"]
        );
        assert_eq!(asset.columns[0].name, "e\\u{a}mail");
        assert!(was_neutralised(&asset.columns[0].name));
        assert_eq!(asset.columns[1].name, "plain");
        assert!(!was_neutralised("plain"));
        assert_eq!(
            asset.columns[0].comment.as_deref(),
            Some("first line\nsecond\\u{7}")
        );
        assert_eq!(
            asset.view_definition.as_deref(),
            Some("SELECT 1\n  FROM x\\u{0}")
        );
        assert_eq!(discovery.lineage[0].from, asset.path);
        assert_eq!(discovery.lineage[0].from_columns, ["e\\u{a}mail"]);
    }

    #[test]
    fn enum_labels_routine_bodies_triggers_and_partitions_are_neutralised_too() {
        use domain::discovery::{
            Partition, Partitioning, Routine, TriggerSchema, UserType, UserTypeKind,
        };
        let mut mood = AssetSchema::new(
            AssetKind::Type,
            AssetPath::new(["shop", "public", "mood"]).unwrap(),
        );
        let mut definition = UserType::new(UserTypeKind::Enum);
        definition.values = vec!["ok\u{1b}]0;pwned\u{7}".into()];
        definition.attributes = vec![column("a\rb")];
        mood.user_type = Some(Box::new(definition));
        let mut routine = AssetSchema::new(
            AssetKind::Routine,
            AssetPath::new(["shop", "public", "f\n()"]).unwrap(),
        );
        routine.routine = Some(Box::new(Routine {
            kind: "function".into(),
            name: "f\n".into(),
            arguments: String::new(),
            return_type: Some("integer".into()),
            language: "sql".into(),
            definition: Some("SELECT 1\n\u{0}".into()),
        }));
        let mut table = AssetSchema::new(
            AssetKind::PartitionedTable,
            AssetPath::new(["shop", "public", "t"]).unwrap(),
        );
        table.columns = vec![ColumnSchema {
            type_ref: Some(AssetPath::new(["shop", "public", "m\u{8}ood"]).unwrap()),
            ..column("c")
        }];
        table.partitioning = Some(Box::new(Partitioning {
            strategy: "list".into(),
            key: "(c)".into(),
            partitions: vec![Partition {
                path: AssetPath::new(["shop", "public", "t\u{0}1"]).unwrap(),
                bound: "FOR VALUES IN ('\u{1b}')".into(),
                parent: None,
            }],
        }));
        table.triggers = vec![TriggerSchema {
            name: "tr\u{0}".into(),
            timing: "BEFORE".into(),
            events: vec!["INSERT".into()],
            level: "ROW".into(),
            function: Some(routine.path.clone()),
            enabled: true,
            definition: "CREATE TRIGGER …\u{7}".into(),
        }];
        let mut discovery = Discovery {
            assets: vec![mood, routine, table],
            lineage: Vec::new(),
            metrics: Default::default(),
        };
        neutralise_discovery(&mut discovery);
        let text = serde_json::to_string(&discovery.assets).unwrap();
        for control in ["\\u001b", "\\u0007", "\\u0000", "\\u0008", "\\r"] {
            assert!(!text.contains(control), "{control} left in {text}");
        }
        let user_type = discovery.assets[0].user_type.as_ref().unwrap();
        assert_eq!(user_type.values, ["ok\\u{1b}]0;pwned\\u{7}"]);
        assert_eq!(discovery.assets[1].path.name(), "f\\u{a}()");
        assert_eq!(
            discovery.assets[2].triggers[0].function,
            Some(discovery.assets[1].path.clone())
        );
        assert_eq!(
            discovery.assets[1]
                .routine
                .as_ref()
                .unwrap()
                .definition
                .as_deref(),
            Some("SELECT 1\n\\u{0}"),
            "SQL keeps its newlines"
        );
    }
}
