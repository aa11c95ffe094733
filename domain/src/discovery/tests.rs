//! Tests of the discovery model: paths, fingerprints, diffs, asset ids and foreign-key lineage.

use super::fingerprint::canonical_json_for_tests;
use super::*;
use crate::ids::AggregateId;
use serde_json::json;

fn path(raw: &str) -> AssetPath {
    AssetPath::parse(raw).unwrap()
}

fn source() -> AggregateId {
    AggregateId::parse("0192f0c4-1111-7000-8000-000000000001").unwrap()
}

/// `shop.public.orders`: three columns, a foreign key, two indexes, a comment.
fn orders() -> AssetSchema {
    AssetSchema {
        kind: AssetKind::Table,
        path: path("shop.public.orders"),
        columns: vec![
            ColumnSchema {
                nullable: false,
                primary_key: true,
                default: Some("nextval('orders_id_seq'::regclass)".into()),
                ..ColumnSchema::new("id", "bigint", 1)
            },
            ColumnSchema {
                nullable: false,
                ..ColumnSchema::new("customer_id", "bigint", 2)
            },
            ColumnSchema {
                comment: Some("gross, in EUR".into()),
                ..ColumnSchema::new("total", "numeric(12,2)", 3)
            },
        ],
        foreign_keys: vec![ForeignKey {
            name: "orders_customer_id_fkey".into(),
            columns: vec!["customer_id".into()],
            referenced: path("shop.public.customers"),
            referenced_columns: vec!["id".into()],
        }],
        indexes: vec![
            IndexSchema {
                name: "orders_pkey".into(),
                columns: vec!["id".into()],
                unique: true,
                primary: true,
                method: None,
            },
            IndexSchema {
                name: "orders_customer_idx".into(),
                columns: vec!["customer_id".into(), "total".into()],
                unique: false,
                primary: false,
                method: None,
            },
        ],
        comment: Some("one row per order".into()),
        row_estimate: Some(120_000),
        view_definition: None,
        ..AssetSchema::new(AssetKind::Table, path("shop.public.orders"))
    }
}

// ---- paths --------------------------------------------------------------------------------

#[test]
fn paths_display_dotted_and_parse_back() {
    let p = AssetPath::new(["orders_db", "public", "customers"]).unwrap();
    assert_eq!(p.to_string(), "orders_db.public.customers");
    assert_eq!(path("orders_db.public.customers"), p);
    assert_eq!(p.depth(), 3);
    assert_eq!(p.name(), "customers");
    assert_eq!(p.parent(), Some(path("orders_db.public")));
    assert_eq!(path("orders_db").parent(), None);
    assert!(p.starts_with(&path("orders_db.public")));
    assert!(p.starts_with(&p));
    assert!(!path("orders_db.pub").starts_with(&path("orders_db.public")));
    assert_eq!(path("orders_db.public").child("customers").unwrap(), p);
    assert_eq!(
        "orders_db.public.customers".parse::<AssetPath>().unwrap(),
        p
    );
}

#[test]
fn segments_with_dots_or_quotes_are_quoted() {
    for segments in [
        vec!["db", "my.table"],
        vec!["say \"hi\"", "x"],
        vec!["raw-bucket", "events/2024/01/"],
        vec!["session:*"],
        vec!["a b", "ünïcode"],
    ] {
        let p = AssetPath::new(segments.clone()).unwrap();
        let text = p.to_string();
        assert_eq!(AssetPath::parse(&text).unwrap(), p, "{text}");
    }
    assert_eq!(
        AssetPath::new(["db", "my.table"]).unwrap().to_string(),
        r#"db."my.table""#
    );
    assert_eq!(
        AssetPath::new(["say \"hi\""]).unwrap().to_string(),
        r#""say ""hi""""#
    );
    // ["a.b"] and ["a", "b"] are different paths with different text.
    assert_ne!(path(r#""a.b""#), path("a.b"));
}

#[test]
fn invalid_paths_are_refused() {
    use AssetPathError as E;
    let cases: Vec<(&str, AssetPathError)> = vec![
        ("", E::Empty),
        ("   ", E::Empty),
        (".a", E::EmptySegment { index: 0 }),
        ("a..b", E::EmptySegment { index: 1 }),
        ("a.", E::EmptySegment { index: 1 }),
        (r#"a."""#, E::EmptySegment { index: 1 }),
        (r#"a."b"#, E::UnterminatedQuote { index: 1 }),
        (r#"a"b".c"#, E::StrayQuote { index: 0 }),
        (r#""a"b.c"#, E::StrayQuote { index: 0 }),
        ("a.b.c.d.e.f.g.h.i", E::TooManySegments { max: 8, got: 9 }),
    ];
    for (raw, expected) in cases {
        assert_eq!(AssetPath::parse(raw).unwrap_err(), expected, "{raw:?}");
    }
    let long = "x".repeat(257);
    assert_eq!(
        AssetPath::new(["db", long.as_str()]).unwrap_err(),
        E::SegmentTooLong { index: 1, max: 256 }
    );
    assert!(AssetPath::new(["db", &"é".repeat(256)]).is_ok());
    assert_eq!(AssetPath::new(Vec::<String>::new()).unwrap_err(), E::Empty);
    assert_eq!(
        AssetPath::new(["db", ""]).unwrap_err(),
        E::EmptySegment { index: 1 }
    );
}

#[test]
fn paths_are_stored_as_arrays_and_checked_when_read() {
    let p = path("orders_db.public.customers");
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!(["orders_db", "public", "customers"])
    );
    assert_eq!(
        serde_json::from_value::<AssetPath>(json!(["orders_db", "public", "customers"])).unwrap(),
        p
    );
    assert!(serde_json::from_value::<AssetPath>(json!([])).is_err());
    assert!(serde_json::from_value::<AssetPath>(json!(["a", ""])).is_err());
    assert!(serde_json::from_value::<AssetPath>(json!("a.b")).is_err());
}

// ---- fingerprints -------------------------------------------------------------------------

#[test]
fn fingerprints_are_sha256_hex_and_stable() {
    let fingerprint = orders().fingerprint();
    assert_eq!(fingerprint.as_str().len(), 64);
    assert_eq!(
        Fingerprint::parse(fingerprint.as_str()).unwrap(),
        fingerprint
    );
    assert_eq!(orders().fingerprint(), fingerprint);
    // Pinned: the definition is part of the stored data. If this changes, every asset is
    // recorded as changed on the next scan (see fingerprint.rs before updating it).
    assert_eq!(
        fingerprint.as_str(),
        "a7ca3f6e333a2dd2b708b2315670b1e137008559f387c4d4e4f6e2ad466aa6b7",
        "canonical form: {}",
        canonical_json_for_tests(&orders())
    );
}

#[test]
fn the_canonical_form_sorts_keys_and_leaves_out_the_row_estimate() {
    let canonical = canonical_json_for_tests(&orders());
    assert!(canonical.starts_with(r#"{"columns":[{"comment":null,"data_type":"bigint","#));
    assert!(!canonical.contains("row_estimate"));
    let reparsed: serde_json::Value = serde_json::from_str(&canonical).unwrap();
    assert!(reparsed.get("row_estimate").is_none());
}

/// The canonical form by its definition, built the slow and obvious way.
fn reference_canonical(schema: &AssetSchema) -> String {
    fn sorted(value: &serde_json::Value) -> String {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let members: Vec<String> = keys
                    .into_iter()
                    .map(|k| format!("{}:{}", json!(k), sorted(&map[k])))
                    .collect();
                format!("{{{}}}", members.join(","))
            }
            serde_json::Value::Array(items) => {
                let items: Vec<String> = items.iter().map(sorted).collect();
                format!("[{}]", items.join(","))
            }
            scalar => scalar.to_string(),
        }
    }
    let mut value = serde_json::to_value(schema.clone().normalized()).unwrap();
    value.as_object_mut().unwrap().remove("row_estimate");
    sorted(&value)
}

#[test]
fn the_canonical_form_is_the_definition_whether_or_not_the_schema_was_normalized() {
    let mut tricky = orders();
    tricky.comment = Some("quote \" backslash \\ newline \n tab \t bell \u{7} é 🦀".into());
    tricky.view_definition = Some("SELECT '</script>' AS \"x\"".into());
    tricky.columns[0].default = Some(String::new());
    assert!(
        !tricky.is_normalized(),
        "orders() lists its indexes out of order"
    );
    let normalized = tricky.clone().normalized();
    assert!(normalized.is_normalized());
    assert_eq!(
        canonical_json_for_tests(&tricky),
        reference_canonical(&tricky)
    );
    assert_eq!(
        canonical_json_for_tests(&normalized),
        reference_canonical(&tricky)
    );
    assert_eq!(normalized.fingerprint(), tricky.fingerprint());
}

#[test]
fn the_row_estimate_does_not_change_the_fingerprint() {
    let mut other = orders();
    other.row_estimate = Some(3);
    assert_eq!(other.fingerprint(), orders().fingerprint());
    other.row_estimate = None;
    assert_eq!(other.fingerprint(), orders().fingerprint());
}

#[test]
fn the_order_connectors_list_things_in_does_not_change_the_fingerprint() {
    let mut other = orders();
    other.columns.reverse();
    other.indexes.reverse();
    other.foreign_keys.push(ForeignKey {
        name: "orders_a_fkey".into(),
        columns: vec!["id".into()],
        referenced: path("shop.public.ids"),
        referenced_columns: vec!["id".into()],
    });
    let mut same = other.clone();
    same.foreign_keys.reverse();
    assert_eq!(other.fingerprint(), same.fingerprint());
    assert_eq!(
        AssetSchema {
            columns: orders().columns.into_iter().rev().collect(),
            indexes: orders().indexes.into_iter().rev().collect(),
            ..orders()
        }
        .fingerprint(),
        orders().fingerprint()
    );
    // Normalizing puts columns in ordinal order and sorts keys and indexes by name.
    let normalized = AssetSchema {
        columns: orders().columns.into_iter().rev().collect(),
        ..orders()
    }
    .normalized();
    let names: Vec<&str> = normalized.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "customer_id", "total"]);
    let indexes: Vec<&str> = normalized.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(indexes, ["orders_customer_idx", "orders_pkey"]);
}

#[test]
fn every_real_change_changes_the_fingerprint() {
    type Change = fn(&mut AssetSchema);
    let changes: Vec<(&str, Change)> = vec![
        ("column name", |s| s.columns[2].name = "amount".into()),
        ("column type", |s| {
            s.columns[2].data_type = "numeric(14,2)".into()
        }),
        ("nullability", |s| s.columns[2].nullable = false),
        ("default", |s| s.columns[2].default = Some("0".into())),
        ("primary key", |s| s.columns[1].primary_key = true),
        ("ordinal", |s| s.columns[2].ordinal = 4),
        ("column moved", |s| {
            s.columns[1].ordinal = 3;
            s.columns[2].ordinal = 2;
        }),
        ("column comment", |s| s.columns[2].comment = None),
        ("column added", |s| {
            s.columns.push(ColumnSchema::new("note", "text", 4))
        }),
        ("column dropped", |s| {
            s.columns.pop();
        }),
        ("foreign key target", |s| {
            s.foreign_keys[0].referenced = AssetPath::parse("shop.crm.customers").unwrap()
        }),
        ("foreign key dropped", |s| s.foreign_keys.clear()),
        ("index columns order", |s| s.indexes[1].columns.reverse()),
        ("index unique", |s| s.indexes[1].unique = true),
        ("index renamed", |s| {
            s.indexes[1].name = "orders_by_customer".into()
        }),
        ("comment", |s| s.comment = Some("orders".into())),
        ("view definition", |s| {
            s.view_definition = Some("SELECT 1".into())
        }),
        ("kind", |s| s.kind = AssetKind::View),
    ];
    let base = orders().fingerprint();
    for (what, change) in changes {
        let mut changed = orders();
        change(&mut changed);
        assert_ne!(
            changed.fingerprint(),
            base,
            "{what} did not change the fingerprint"
        );
    }
}

#[test]
fn fingerprints_are_parsed_when_read() {
    for bad in ["", "abc", &"A".repeat(64), &"g".repeat(64), &"0".repeat(65)] {
        assert!(Fingerprint::parse(bad).is_err(), "{bad:?} accepted");
        assert!(serde_json::from_value::<Fingerprint>(json!(bad)).is_err());
    }
    assert!(Fingerprint::parse(&"0a".repeat(32)).is_ok());
}

// ---- diffs --------------------------------------------------------------------------------

#[test]
fn the_diff_of_identical_schemas_is_empty() {
    let mut other = orders();
    other.row_estimate = Some(1);
    other.columns.reverse();
    assert!(SchemaDiff::between(&orders(), &other).is_empty());
}

#[test]
fn the_diff_names_added_removed_and_changed_columns() {
    let mut new = orders();
    new.columns.retain(|c| c.name != "customer_id");
    new.columns[1].data_type = "numeric(14,2)".into(); // total
    new.columns.push(ColumnSchema::new("note", "text", 4));
    new.columns.push(ColumnSchema::new("channel", "text", 5));

    let diff = SchemaDiff::between(&orders(), &new);
    assert_eq!(
        diff.added_columns,
        vec![
            ColumnSchema::new("note", "text", 4),
            ColumnSchema::new("channel", "text", 5)
        ]
    );
    assert_eq!(diff.removed_columns, vec![orders().columns[1].clone()]);
    assert_eq!(
        diff.changed_columns,
        vec![ColumnChange {
            name: "total".into(),
            before: orders().columns[2].clone(),
            after: new.columns[1].clone(),
        }]
    );
    assert!(diff.added_foreign_keys.is_empty() && diff.removed_foreign_keys.is_empty());
    assert!(diff.added_indexes.is_empty() && diff.removed_indexes.is_empty());
    assert!(!diff.comment_changed && !diff.view_definition_changed && !diff.kind_changed);
    assert!(!diff.is_empty());
}

#[test]
fn the_diff_names_keys_indexes_comment_view_and_kind_changes() {
    let mut new = orders();
    let old_fk = new.foreign_keys.remove(0);
    let new_fk = ForeignKey {
        referenced: path("shop.crm.customers"),
        ..old_fk.clone()
    };
    new.foreign_keys.push(new_fk.clone());
    let old_index = new.indexes.remove(1);
    let new_index = IndexSchema {
        unique: true,
        ..old_index.clone()
    };
    new.indexes.push(new_index.clone());
    new.comment = None;
    new.view_definition = Some("SELECT * FROM shop.public.orders_2024".into());
    new.kind = AssetKind::View;

    let diff = SchemaDiff::between(&orders(), &new);
    assert_eq!(
        diff,
        SchemaDiff {
            added_foreign_keys: vec![new_fk],
            removed_foreign_keys: vec![old_fk],
            added_indexes: vec![new_index],
            removed_indexes: vec![old_index],
            comment_changed: true,
            view_definition_changed: true,
            kind_changed: true,
            ..SchemaDiff::default()
        }
    );
}

#[test]
fn a_reordered_column_is_a_changed_ordinal() {
    let mut new = orders();
    new.columns[1].ordinal = 3;
    new.columns[2].ordinal = 2;
    let diff = SchemaDiff::between(&orders(), &new);
    let changed: Vec<(&str, u32, u32)> = diff
        .changed_columns
        .iter()
        .map(|c| (c.name.as_str(), c.before.ordinal, c.after.ordinal))
        .collect();
    assert_eq!(changed, [("total", 3, 2), ("customer_id", 2, 3)]);
}

// ---- asset ids ----------------------------------------------------------------------------

#[test]
fn asset_ids_are_deterministic_version_8_uuids() {
    let p = path("orders_db.public.customers");
    let id = AssetId::for_path(source(), &p);
    assert_eq!(id, AssetId::for_path(source(), &p));
    let uuid = id.as_uuid();
    assert_eq!(uuid.get_version_num(), 8);
    assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
    // Pinned: ids are stored in events and must never change.
    assert_eq!(id.to_string(), "a4a64db1-175c-87db-b70c-04c3c9851954");
}

#[test]
fn asset_ids_differ_by_source_and_path() {
    let other_source = AggregateId::parse("0192f0c4-1111-7000-8000-000000000002").unwrap();
    let ids = [
        AssetId::for_path(source(), &path("orders_db.public.customers")),
        AssetId::for_path(other_source, &path("orders_db.public.customers")),
        AssetId::for_path(source(), &path("orders_db.public.Customers")),
        AssetId::for_path(source(), &path("orders_db.public")),
        AssetId::for_path(source(), &path("a.b")),
        AssetId::for_path(source(), &path(r#""a.b""#)),
        AssetId::for_path(source(), &path("ab")),
    ];
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

// ---- validation and lineage ---------------------------------------------------------------

#[test]
fn schemas_with_duplicate_or_empty_column_names_are_invalid() {
    assert!(orders().validate().is_ok());
    let mut bad = orders();
    bad.columns.push(ColumnSchema::new("total", "text", 9));
    bad.columns.push(ColumnSchema::new("", "text", 10));
    bad.foreign_keys[0].referenced_columns.clear();
    let error = bad.validate().unwrap_err();
    assert_eq!(
        error.fields().collect::<Vec<_>>(),
        ["columns[3].name", "columns[4].name", "foreign_keys[0]"]
    );
    assert_eq!(
        error.message_for("columns[3].name"),
        Some("duplicate column \"total\"")
    );
}

#[test]
fn foreign_keys_become_column_level_lineage_from_the_referenced_table() {
    let edges = orders().foreign_key_lineage();
    assert_eq!(
        edges,
        vec![LineageEdge {
            from: path("shop.public.customers"),
            from_columns: vec!["id".into()],
            to: path("shop.public.orders"),
            to_columns: vec!["customer_id".into()],
            kind: LineageKind::ForeignKey,
        }]
    );
    assert!(edges[0].is_column_level());
    assert!(edges[0].touches(&path("shop.public.orders")));
    let table = LineageEdge::table_level(
        path("shop.public.orders"),
        path("shop.public.order_totals"),
        LineageKind::View,
    );
    assert!(!table.is_column_level());
    assert_eq!(
        serde_json::to_value(&table).unwrap(),
        json!({
            "from": ["shop", "public", "orders"],
            "from_columns": [],
            "to": ["shop", "public", "order_totals"],
            "to_columns": [],
            "kind": "view"
        })
    );
}

#[test]
fn asset_kinds_are_snake_case() {
    let kinds: Vec<String> = AssetKind::ALL
        .iter()
        .map(|k| {
            serde_json::to_value(k)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "database",
            "schema",
            "table",
            "partitioned_table",
            "view",
            "materialized_view",
            "collection",
            "redis_key_pattern",
            "s3_prefix",
            "type",
            "routine",
            "sequence",
        ]
    );
    assert_eq!(AssetKind::parse("S3-Prefix"), Ok(AssetKind::S3Prefix));
    assert!(AssetKind::Schema.is_container() && !AssetKind::Table.is_container());
}

// ---- objects beyond tables ------------------------------------------------------------------

fn partitioned(partitions: &[&str]) -> AssetSchema {
    let mut schema = orders();
    schema.kind = AssetKind::PartitionedTable;
    schema.partitioning = Some(Box::new(Partitioning {
        strategy: "range".into(),
        key: "(sold_on)".into(),
        partitions: partitions
            .iter()
            .map(|name| Partition {
                path: path(&format!("shop.public.{name}")),
                bound: format!("FOR VALUES IN ('{name}')"),
                parent: None,
            })
            .collect(),
    }));
    schema
}

#[test]
fn statistics_are_not_part_of_the_fingerprint() {
    let mut moved = orders();
    moved.row_estimate = Some(1);
    moved.size_bytes = Some(1 << 30);
    moved.last_analyzed = Some(chrono::Utc::now());
    assert_eq!(moved.fingerprint(), orders().fingerprint());
    let canonical = canonical_json_for_tests(&moved);
    assert!(!canonical.contains("size_bytes") && !canonical.contains("last_analyzed"));
}

#[test]
fn a_new_partition_is_a_change_listed_in_the_diff() {
    let old = partitioned(&["orders_2024", "orders_2025"]);
    let new = partitioned(&["orders_2026", "orders_2024", "orders_2025"]);
    assert_ne!(old.fingerprint(), new.fingerprint());
    // Listing order does not matter.
    assert_eq!(
        new.fingerprint(),
        partitioned(&["orders_2024", "orders_2025", "orders_2026"]).fingerprint()
    );
    let diff = SchemaDiff::between(&old, &new);
    assert_eq!(diff.added_partitions, vec![path("shop.public.orders_2026")]);
    assert!(diff.removed_partitions.is_empty());
    assert!(!diff.details_changed);

    let mut rekeyed = old.clone();
    rekeyed.partitioning.as_mut().unwrap().key = "(region)".into();
    assert!(SchemaDiff::between(&old, &rekeyed).details_changed);
}

#[test]
fn details_of_types_routines_sequences_and_triggers_are_changes() {
    let mut with_trigger = orders();
    with_trigger.triggers.push(TriggerSchema {
        name: "orders_touch".into(),
        timing: "BEFORE".into(),
        events: vec!["UPDATE".into()],
        level: "ROW".into(),
        function: Some(path("shop.public.touch()")),
        enabled: true,
        definition: "CREATE TRIGGER orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.touch()".into(),
    });
    let diff = SchemaDiff::between(&orders(), &with_trigger);
    assert!(diff.details_changed && !diff.is_empty());

    let mut mood = AssetSchema::new(AssetKind::Type, path("shop.public.mood"));
    let mut definition = UserType::new(UserTypeKind::Enum);
    definition.values = vec!["sad".into(), "ok".into()];
    mood.user_type = Some(Box::new(definition));
    let mut happier = mood.clone();
    happier
        .user_type
        .as_mut()
        .unwrap()
        .values
        .push("happy".into());
    assert_ne!(mood.fingerprint(), happier.fingerprint());
    assert!(SchemaDiff::between(&mood, &happier).details_changed);

    let mut indexed = orders();
    indexed.indexes[0].method = Some("btree".into());
    let diff = SchemaDiff::between(&orders(), &indexed);
    assert_eq!(diff.added_indexes.len(), 1);
    assert_eq!(diff.added_indexes[0].method.as_deref(), Some("btree"));
}

#[test]
fn parts_left_out_are_not_in_the_stored_form() {
    // Schemas recorded before these parts existed read and fingerprint as they did.
    let value = serde_json::to_value(orders()).unwrap();
    for absent in [
        "size_bytes",
        "last_analyzed",
        "populated",
        "partitioning",
        "triggers",
        "user_type",
        "routine",
        "sequence",
    ] {
        assert!(value.get(absent).is_none(), "{absent}");
    }
    assert!(value["indexes"][0].get("method").is_none());
    assert!(value["columns"][0].get("type_ref").is_none());
    let read: AssetSchema = serde_json::from_value(value).unwrap();
    assert_eq!(read, orders());
}

#[test]
fn kinds_that_hold_data() {
    for kind in [
        AssetKind::Table,
        AssetKind::PartitionedTable,
        AssetKind::MaterializedView,
        AssetKind::Collection,
    ] {
        assert!(kind.holds_data(), "{kind}");
    }
    for kind in [
        AssetKind::Schema,
        AssetKind::Type,
        AssetKind::Routine,
        AssetKind::Sequence,
    ] {
        assert!(!kind.holds_data(), "{kind}");
    }
}
