//! Discovery depth end to end, on a real PostgreSQL database made for it: a partitioned table
//! whose foreign keys are declared on its partitions, a populated and an unpopulated
//! materialized view, an enum, a domain with a check, a composite type, a SQL function, a
//! trigger and a sequence — every object and edge is found through GraphQL, a rescan without
//! change records nothing, a new partition is recorded, and statistics are refreshed without
//! flooding the history.

mod support;

use domain::access::Role;
use serde_json::{json, Value};
use support::{wait_projected, SourceDb, TestApp, REGISTER};

const SECRET_VALUE: &str = "depth-test-secret-5b1e";

/// A warehouse ledger: everything discovery should see beyond plain tables.
const DEPOT: &str = r#"
CREATE SCHEMA depot;
CREATE TYPE depot.mood AS ENUM ('calm', 'busy', 'closed');
CREATE DOMAIN depot.positive_qty AS integer NOT NULL CONSTRAINT qty_positive CHECK (VALUE > 0);
CREATE TYPE depot.dimensions AS (width_mm integer, height_mm integer, state depot.mood);
CREATE TABLE depot.warehouses (id integer PRIMARY KEY, name text NOT NULL, mood depot.mood, tags text[]);
CREATE UNIQUE INDEX warehouses_name_key ON depot.warehouses (name);
CREATE INDEX warehouses_tags_gin ON depot.warehouses USING gin (tags);
CREATE TABLE depot.items (id integer PRIMARY KEY, label text, size depot.dimensions);
CREATE INDEX items_label_hash ON depot.items USING hash (label);
CREATE SEQUENCE depot.movement_seq AS bigint INCREMENT BY 5 START 100;
CREATE TABLE depot.movements (
    id bigint NOT NULL DEFAULT nextval('depot.movement_seq'),
    moved_on date NOT NULL,
    warehouse_id integer NOT NULL,
    item_id integer NOT NULL,
    qty depot.positive_qty,
    moods depot.mood[]
) PARTITION BY RANGE (moved_on);
ALTER SEQUENCE depot.movement_seq OWNED BY depot.movements.id;
CREATE TABLE depot.movements_2025 PARTITION OF depot.movements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE depot.movements_2026 PARTITION OF depot.movements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TABLE depot.movements_2025 ADD CONSTRAINT movements_2025_warehouse_fk FOREIGN KEY (warehouse_id) REFERENCES depot.warehouses (id);
ALTER TABLE depot.movements_2026 ADD CONSTRAINT movements_2026_warehouse_fk FOREIGN KEY (warehouse_id) REFERENCES depot.warehouses (id);
ALTER TABLE depot.movements_2026 ADD CONSTRAINT movements_2026_item_fk FOREIGN KEY (item_id) REFERENCES depot.items (id);
CREATE MATERIALIZED VIEW depot.stock_by_warehouse AS
    SELECT w.name, sum(m.qty) AS qty FROM depot.movements m JOIN depot.warehouses w ON w.id = m.warehouse_id GROUP BY w.name;
CREATE MATERIALIZED VIEW depot.stock_pending AS
    SELECT item_id, count(*) AS moves FROM depot.movements GROUP BY item_id WITH NO DATA;
CREATE FUNCTION depot.item_count(wh integer) RETURNS bigint LANGUAGE sql STABLE
    AS $$ SELECT count(*) FROM depot.movements m WHERE m.warehouse_id = wh $$;
CREATE FUNCTION depot.trim_label() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN NEW.label := trim(NEW.label); RETURN NEW; END $$;
CREATE TRIGGER items_trim BEFORE INSERT OR UPDATE ON depot.items FOR EACH ROW EXECUTE FUNCTION depot.trim_label();
INSERT INTO depot.warehouses VALUES (1, 'north', 'calm', '{cold}'), (2, 'south', 'busy', '{}');
INSERT INTO depot.items VALUES (1, 'crate', ROW(400, 300, 'calm')), (2, 'pallet', ROW(1200, 800, 'busy'));
INSERT INTO depot.movements (moved_on, warehouse_id, item_id, qty) VALUES ('2025-03-01', 1, 1, 5), ('2026-02-01', 2, 2, 7);
REFRESH MATERIALIZED VIEW depot.stock_by_warehouse;
"#;

const VALIDATE: &str = "mutation($id: ID!) { validateConnection(id: $id) { ok } }";
const SCAN: &str = r#"mutation($id: ID!) {
  startScan(sourceId: $id, strategy: BALANCED, scope: { include: [], exclude: [] }, waitForCompletion: true) {
    scanId completed failure assetsChanged assetsRemoved metrics
  }
}"#;
const ASSETS: &str = r#"query($s: ID!) { assets(sourceId: $s, first: 60) {
  id path kind populated rowEstimate sizeBytes lastAnalyzedAt indexes foreignKeys
  columns { name dataType typeRef typeAssetId }
  partitioning { strategy key partitions { path bound parent } }
  triggers { name timing events level function functionAssetId enabled definition }
  userType { kind values baseType notNull checks attributes { name dataType typeRef } }
  routine { kind name arguments returnType language definition }
  sequence { dataType start increment minValue maxValue cycle ownedByTable ownedByAssetId ownedByColumn }
} }"#;

async fn register(app: &TestApp, token: &str, db: &SourceDb) -> String {
    let registered = app
        .gql(
            Some(token),
            REGISTER,
            json!({ "input": db.input(), "wait": true }),
        )
        .await;
    let id = registered["data"]["registerDataSource"]["aggregateId"]
        .as_str()
        .unwrap_or_else(|| panic!("{registered}"))
        .to_owned();
    let check = app.gql(Some(token), VALIDATE, json!({ "id": id })).await;
    assert_eq!(check["data"]["validateConnection"]["ok"], true, "{check}");
    id
}

async fn scan(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app.gql(Some(token), SCAN, json!({ "id": id })).await;
    assert!(response["errors"].is_null(), "{response}");
    let result = response["data"]["startScan"].clone();
    assert_eq!(result["completed"], true, "{result}");
    assert!(result["failure"].is_null(), "{result}");
    result
}

async fn assets(app: &TestApp, token: &str, source: &str) -> Vec<Value> {
    let response = app.gql(Some(token), ASSETS, json!({ "s": source })).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["assets"].as_array().unwrap().clone()
}

fn named<'a>(assets: &'a [Value], suffix: &str) -> &'a Value {
    assets
        .iter()
        .find(|a| a["path"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no asset ending in {suffix}: {assets:#?}"))
}

fn column<'a>(asset: &'a Value, name: &str) -> &'a Value {
    asset["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name}: {asset}"))
}

async fn lineage(app: &TestApp, token: &str, asset: &Value, direction: &str) -> Vec<Value> {
    let response = app
        .gql(
            Some(token),
            "query($a: ID!, $d: LineageDirection!) { lineage(assetId: $a, direction: $d, depth: 1) { fromPath toPath fromColumns toColumns kind } }",
            json!({ "a": asset["id"], "d": direction }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["lineage"].as_array().unwrap().clone()
}

fn has_edge(edges: &[Value], from: &str, to: &str, kind: &str) -> bool {
    edges.iter().any(|e| {
        e["fromPath"].as_str().unwrap().ends_with(from)
            && e["toPath"].as_str().unwrap().ends_with(to)
            && e["kind"] == kind
    })
}

/// Events of the asset aggregates that a rescan must not add when nothing changed.
async fn discovery_events(app: &TestApp) -> usize {
    const TYPES: [&str; 7] = [
        "SchemaDiscovered",
        "SchemaChanged",
        "StatisticsChanged",
        "AssetRemoved",
        "AssetRestored",
        "LineageRecorded",
        "LineageRetracted",
    ];
    app.events()
        .await
        .iter()
        .filter(|e| {
            TYPES
                .iter()
                .any(|t| e.event_type.contains(&format!(".{t}.")))
        })
        .count()
}

async fn count_of(app: &TestApp, event_type: &str) -> usize {
    app.events()
        .await
        .iter()
        .filter(|e| e.event_type.contains(&format!(".{event_type}.")))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn partitions_materialized_views_types_routines_triggers_and_sequences_are_catalogued() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(DEPOT, SECRET_VALUE).await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let source = register(&app, &admin, &db).await;
    let first = scan(&app, &admin, &source).await;
    assert_eq!(first["metrics"]["tables"], 3, "{first}");
    assert_eq!(first["metrics"]["views"], 2, "{first}");
    wait_projected(&app, &admin).await;
    let found = assets(&app, &admin, &source).await;

    // The partitioned table: its own kind, its key, its partitions listed on it (not assets).
    let movements = named(&found, "depot.movements");
    assert_eq!(movements["kind"], "partitioned_table");
    let partitioning = &movements["partitioning"];
    assert_eq!(partitioning["strategy"], "range", "{movements}");
    assert_eq!(partitioning["key"], "(moved_on)");
    let partitions = partitioning["partitions"].as_array().unwrap();
    assert_eq!(partitions.len(), 2, "{partitioning}");
    assert!(partitions[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("depot.movements_2025"));
    assert_eq!(
        partitions[0]["bound"],
        "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')"
    );
    assert!(found
        .iter()
        .all(|a| !a["path"].as_str().unwrap().contains("movements_20")));
    // The keys declared on the partitions are the table's: once per referenced table.
    let keys = movements["foreignKeys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys
        .iter()
        .any(|k| k["name"] == "movements_2025_warehouse_fk"
            && k["referenced"].to_string().contains("warehouses")));
    assert!(keys.iter().any(|k| k["name"] == "movements_2026_item_fk"));
    let warehouses = named(&found, "depot.warehouses");
    let downstream = lineage(&app, &admin, warehouses, "DOWNSTREAM").await;
    assert!(
        has_edge(
            &downstream,
            "depot.warehouses",
            "depot.movements",
            "foreign_key"
        ),
        "{downstream:?}"
    );
    let items = named(&found, "depot.items");
    assert!(has_edge(
        &lineage(&app, &admin, items, "DOWNSTREAM").await,
        "depot.items",
        "depot.movements",
        "foreign_key"
    ));

    // Materialized views: their own kind, populated or not.
    let stock = named(&found, "depot.stock_by_warehouse");
    assert_eq!(stock["kind"], "materialized_view");
    assert_eq!(stock["populated"], true);
    let pending = named(&found, "depot.stock_pending");
    assert_eq!(pending["kind"], "materialized_view");
    assert_eq!(pending["populated"], false);
    let upstream = lineage(&app, &admin, stock, "UPSTREAM").await;
    assert!(has_edge(
        &upstream,
        "depot.movements",
        "depot.stock_by_warehouse",
        "view"
    ));
    assert!(has_edge(
        &upstream,
        "depot.warehouses",
        "depot.stock_by_warehouse",
        "view"
    ));
    // The unpopulated one is not a failure of the classification (nor of the scan above).
    let classified = app
        .gql(
            Some(&admin),
            "mutation($s: ID!) { startClassification(sourceId: $s) { assets failures } }",
            json!({ "s": source }),
        )
        .await;
    assert!(classified["errors"].is_null(), "{classified}");
    assert_eq!(
        classified["data"]["startClassification"]["failures"],
        json!([]),
        "{classified}"
    );

    // Index methods and uniqueness.
    let index = |asset: &Value, name: &str| -> Value {
        asset["indexes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no index {name}: {asset}"))
    };
    assert_eq!(index(warehouses, "warehouses_tags_gin")["method"], "gin");
    let unique = index(warehouses, "warehouses_name_key");
    assert_eq!(
        (unique["method"].clone(), unique["unique"].clone()),
        (json!("btree"), json!(true))
    );
    assert_eq!(index(items, "items_label_hash")["method"], "hash");

    // User-defined types, and the columns that use them.
    let mood = named(&found, "depot.mood");
    assert_eq!(mood["kind"], "type");
    assert_eq!(mood["userType"]["kind"], "enum");
    assert_eq!(
        mood["userType"]["values"],
        json!(["calm", "busy", "closed"])
    );
    let qty = named(&found, "depot.positive_qty");
    assert_eq!(qty["userType"]["kind"], "domain");
    assert_eq!(qty["userType"]["baseType"], "integer");
    assert_eq!(qty["userType"]["notNull"], true);
    assert_eq!(
        qty["userType"]["checks"],
        json!(["qty_positive: CHECK (VALUE > 0)"])
    );
    let dimensions = named(&found, "depot.dimensions");
    assert_eq!(dimensions["userType"]["kind"], "composite");
    let attributes = dimensions["userType"]["attributes"].as_array().unwrap();
    let names: Vec<&str> = attributes
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["width_mm", "height_mm", "state"]);
    assert!(attributes[2]["typeRef"]
        .as_str()
        .unwrap()
        .ends_with("depot.mood"));
    let mood_column = column(warehouses, "mood");
    assert!(mood_column["typeRef"]
        .as_str()
        .unwrap()
        .ends_with("depot.mood"));
    assert_eq!(mood_column["typeAssetId"], mood["id"]);
    assert_eq!(
        column(movements, "moods")["typeAssetId"],
        mood["id"],
        "an array of the enum"
    );
    assert_eq!(column(movements, "qty")["typeAssetId"], qty["id"]);
    assert_eq!(column(items, "size")["typeAssetId"], dimensions["id"]);
    assert!(column(warehouses, "name")["typeRef"].is_null());

    // Routines, with lineage from a SQL body.
    let count = named(&found, "depot.item_count(wh integer)");
    assert_eq!(count["kind"], "routine");
    let routine = &count["routine"];
    assert_eq!(routine["kind"], "function");
    assert_eq!(routine["name"], "item_count");
    assert_eq!(routine["arguments"], "wh integer");
    assert_eq!(routine["returnType"], "bigint");
    assert_eq!(routine["language"], "sql");
    assert!(routine["definition"].as_str().unwrap().contains("count(*)"));
    assert!(has_edge(
        &lineage(&app, &admin, count, "UPSTREAM").await,
        "depot.movements",
        "depot.item_count(wh integer)",
        "routine"
    ));
    let trim = named(&found, "depot.trim_label()");
    assert_eq!(trim["routine"]["language"], "plpgsql");
    assert_eq!(trim["routine"]["returnType"], "trigger");
    assert!(
        trim["routine"]["definition"].is_null(),
        "only SQL bodies are kept"
    );

    // The trigger, on its table, naming its routine.
    let triggers = items["triggers"].as_array().unwrap();
    assert_eq!(triggers.len(), 1, "{items}");
    assert_eq!(triggers[0]["name"], "items_trim");
    assert_eq!(triggers[0]["timing"], "BEFORE");
    assert_eq!(triggers[0]["events"], json!(["INSERT", "UPDATE"]));
    assert_eq!(triggers[0]["level"], "ROW");
    assert_eq!(triggers[0]["enabled"], true);
    assert_eq!(triggers[0]["functionAssetId"], trim["id"]);

    // The sequence, with its owner.
    let sequence = named(&found, "depot.movement_seq");
    assert_eq!(sequence["kind"], "sequence");
    let settings = &sequence["sequence"];
    assert_eq!(settings["dataType"], "bigint");
    assert_eq!(settings["start"], "100");
    assert_eq!(settings["increment"], "5");
    assert_eq!(settings["maxValue"], "9223372036854775807");
    assert_eq!(settings["ownedByAssetId"], movements["id"]);
    assert_eq!(settings["ownedByColumn"], "id");

    // A rescan without change records nothing.
    let before = discovery_events(&app).await;
    let rescan = scan(&app, &admin, &source).await;
    assert_eq!(rescan["assetsChanged"], 0, "{rescan}");
    assert_eq!(rescan["assetsRemoved"], 0, "{rescan}");
    assert_eq!(discovery_events(&app).await, before);

    // A new partition (with its own key) is recorded on the partitioned table, and only there.
    db.execute(
        "CREATE TABLE depot.movements_2027 PARTITION OF depot.movements FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
         ALTER TABLE depot.movements_2027 ADD CONSTRAINT movements_2027_warehouse_fk FOREIGN KEY (warehouse_id) REFERENCES depot.warehouses (id);",
    )
    .await;
    let grown = scan(&app, &admin, &source).await;
    assert_eq!(
        grown["assetsChanged"], 1,
        "only the partitioned table: {grown}"
    );
    wait_projected(&app, &admin).await;
    let history = app
        .gql(
            Some(&admin),
            "query($a: ID!) { asset(id: $a) { history { change diff } partitioning { partitions { path } } } }",
            json!({ "a": movements["id"] }),
        )
        .await;
    let asset = &history["data"]["asset"];
    assert_eq!(
        asset["partitioning"]["partitions"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let last = asset["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["change"], "changed", "{history}");
    assert!(
        last["diff"]["added_partitions"]
            .to_string()
            .contains("movements_2027"),
        "{last}"
    );
    assert!(
        last["diff"]["added_foreign_keys"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "the same key on one more partition is no new key: {last}"
    );

    db.remove().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn statistics_are_refreshed_on_every_scan_without_flooding_the_history() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(
        "CREATE SCHEMA lab;
         CREATE TABLE lab.readings (id integer PRIMARY KEY, value integer) WITH (autovacuum_enabled = false);",
        SECRET_VALUE,
    )
    .await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let source = register(&app, &admin, &db).await;
    scan(&app, &admin, &source).await;
    wait_projected(&app, &admin).await;
    let readings = named(&assets(&app, &admin, &source).await, "lab.readings").clone();
    assert!(
        readings["rowEstimate"].is_null(),
        "never analyzed: {readings}"
    );
    assert!(readings["sizeBytes"].as_i64().is_some(), "{readings}");

    // Rows arrive and the table is analyzed: the next scan records the estimate on its own.
    db.execute("INSERT INTO lab.readings SELECT n, n % 97 FROM generate_series(1, 5000) n; ANALYZE lab.readings;")
        .await;
    let schema_changes = count_of(&app, "SchemaChanged").await;
    let rescan = scan(&app, &admin, &source).await;
    assert_eq!(
        rescan["assetsChanged"], 0,
        "the schema did not change: {rescan}"
    );
    assert_eq!(count_of(&app, "StatisticsChanged").await, 1);
    assert_eq!(count_of(&app, "SchemaChanged").await, schema_changes);
    wait_projected(&app, &admin).await;
    let analyzed = named(&assets(&app, &admin, &source).await, "lab.readings").clone();
    assert_eq!(analyzed["rowEstimate"], 5000, "{analyzed}");
    assert!(
        analyzed["sizeBytes"].as_i64().unwrap() > readings["sizeBytes"].as_i64().unwrap(),
        "{analyzed}"
    );
    assert!(analyzed["lastAnalyzedAt"].is_string(), "{analyzed}");
    let history = app
        .gql(
            Some(&admin),
            "query($a: ID!) { asset(id: $a) { history { change diff } } }",
            json!({ "a": analyzed["id"] }),
        )
        .await;
    let changes = history["data"]["asset"]["history"].as_array().unwrap();
    let last = changes.last().unwrap();
    assert_eq!(last["change"], "statistics", "{history}");
    assert_eq!(last["diff"]["row_estimate"], 5000, "{history}");

    // A move of 2 %, analyzed again: under the 10 % threshold, nothing is recorded.
    db.execute("INSERT INTO lab.readings SELECT n, n % 97 FROM generate_series(5001, 5100) n; ANALYZE lab.readings;")
        .await;
    let before = discovery_events(&app).await;
    scan(&app, &admin, &source).await;
    assert_eq!(discovery_events(&app).await, before);
    wait_projected(&app, &admin).await;
    let unchanged = named(&assets(&app, &admin, &source).await, "lab.readings").clone();
    assert_eq!(
        unchanged["rowEstimate"], 5000,
        "the last recorded figure stays"
    );

    // The threshold is the source's scan rule set's to set: out of 0..=1 it is refused, and at
    // 1 % the next 2 % move (5 100 to 5 202 rows) is recorded.
    const CREATE: &str = "mutation($i: ScanRuleSetInput!) { createScanRuleSet(input: $i) }";
    for bad in [1.5, -0.1] {
        let refused = app
            .gql(
                Some(&admin),
                CREATE,
                json!({ "i": { "name": "too loose", "statisticsChangeThreshold": bad } }),
            )
            .await;
        assert_eq!(
            support::error_code(&refused),
            Some("VALIDATION"),
            "{refused}"
        );
    }
    let created = app
        .gql(
            Some(&admin),
            CREATE,
            json!({ "i": { "name": "fine statistics", "statisticsChangeThreshold": 0.01 } }),
        )
        .await;
    let rule_set = created["data"]["createScanRuleSet"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    let attached = app
        .gql(
            Some(&admin),
            "mutation($s: ID!, $r: ID) { attachScanRuleSet(sourceId: $s, ruleSetId: $r) }",
            json!({ "s": source, "r": rule_set }),
        )
        .await;
    assert_eq!(attached["data"]["attachScanRuleSet"], true, "{attached}");
    db.execute("INSERT INTO lab.readings SELECT n, n % 97 FROM generate_series(5101, 5202) n; ANALYZE lab.readings;")
        .await;
    let statistics = count_of(&app, "StatisticsChanged").await;
    scan(&app, &admin, &source).await;
    assert_eq!(count_of(&app, "StatisticsChanged").await, statistics + 1);
    wait_projected(&app, &admin).await;
    let finer = named(&assets(&app, &admin, &source).await, "lab.readings").clone();
    assert_eq!(finer["rowEstimate"], 5202, "{finer}");
    let shown = app
        .gql(
            Some(&admin),
            "{ scanRuleSets { id statisticsChangeThreshold } }",
            json!({}),
        )
        .await;
    let listed = shown["data"]["scanRuleSets"]
        .as_array()
        .unwrap_or_else(|| panic!("{shown}"))
        .iter()
        .find(|r| r["id"] == rule_set.as_str())
        .unwrap_or_else(|| panic!("{shown}"));
    assert_eq!(listed["statisticsChangeThreshold"], 0.01, "{shown}");

    db.remove().await;
    app.stop().await;
}
