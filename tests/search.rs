//! Search (issue 17) on a real source scanned and classified through GraphQL: ranking of clear
//! cases, typo tolerance, highlights, facet counts, cursor paging, tags and owners set through
//! `updateAssetMetadata` (and inherited from the source), glossary terms linked to assets and
//! columns; another tenant finds nothing; a role that may not read critical data
//! neither finds nor counts the card table; hostile query strings and cursors are answered
//! without a server error.

mod support;

use domain::access::Role;
use domain::TenantId;
use serde_json::{json, Value};
use support::{register_and_scan, wait_projected, SourceDb, TestApp, CARD_SHOP, SECRET};

/// A harbour's tables (invented), beside the card shop's `billing.customers`.
const HARBOR: &str = r#"
CREATE SCHEMA harbor;
CREATE TABLE harbor.shipment_manifests (
    manifest_id  serial PRIMARY KEY,
    vessel_code  text NOT NULL,
    port_of_call text NOT NULL,
    departed_at  date NOT NULL
);
COMMENT ON TABLE harbor.shipment_manifests IS 'Cargo manifests per sailing';
CREATE TABLE harbor.shipment_manifest_archive (
    manifest_id  integer NOT NULL,
    archived_at  date NOT NULL
);
CREATE TABLE harbor.vessel_positions (
    vessel_code text NOT NULL,
    latitude    numeric NOT NULL,
    longitude   numeric NOT NULL
);
CREATE TABLE harbor.greenhouse_sensor_readings (
    sensor_id        integer NOT NULL,
    humidity         numeric NOT NULL,
    soil_temperature numeric NOT NULL
);
"#;

const SEARCH: &str = r#"query($q: String!, $f: SearchFiltersInput, $n: Int, $a: String) {
  search(query: $q, filters: $f, first: $n, after: $a) {
    hits { score asset { id path name } highlights { field fragments { text matched } } }
    nextCursor
    facets { total exact estimatedTotal facets { name values { value count } } }
  }
}"#;

fn token_of(tenant: &str, subject: &str, roles: &[Role]) -> String {
    api::auth::issue_token(
        SECRET,
        subject,
        &TenantId::parse(tenant).unwrap(),
        roles,
        3600,
    )
}

async fn search(app: &TestApp, token: &str, query: &str, filters: Value) -> Value {
    let response = app
        .gql(
            Some(token),
            SEARCH,
            json!({ "q": query, "f": filters, "n": 20 }),
        )
        .await;
    assert!(response["errors"].is_null(), "{query:?}: {response}");
    response["data"]["search"].clone()
}

fn names(result: &Value) -> Vec<String> {
    result["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["asset"]["name"].as_str().unwrap().to_owned())
        .collect()
}

/// `facet`'s values with their counts.
fn facet(result: &Value, facet: &str) -> Vec<(String, i64)> {
    result["facets"]["facets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == facet)
        .unwrap_or_else(|| panic!("no facet {facet}: {result}"))["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap().to_owned(),
                v["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn id_of(result: &Value, name: &str) -> String {
    result["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["asset"]["name"] == name)
        .unwrap_or_else(|| panic!("no hit {name}: {result}"))["asset"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn search_ranks_tolerates_typos_highlights_counts_and_stays_within_tenant_and_role() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(&format!("{CARD_SHOP}{HARBOR}"), "harbor-secret-5e1b").await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    // The source has an owner and tags its assets inherit unless they have their own.
    let mut input = db.input();
    input["owner"] = json!("harbour-office");
    input["tags"] = json!(["residency:eu"]);
    let source = register_and_scan(&app, &admin, input).await;
    wait_projected(&app, &admin).await;

    // Clear cases: the table named by the words first, its archive after; a column name finds
    // its table; a table comment is searched too.
    let manifests = search(
        &app,
        &admin,
        "shipment manifests",
        json!({ "kinds": ["table"] }),
    )
    .await;
    assert_eq!(
        names(&manifests)[..2],
        ["shipment_manifests", "shipment_manifest_archive"],
        "{manifests}"
    );
    assert_eq!(
        names(&search(&app, &admin, "humidity", json!(null)).await),
        ["greenhouse_sensor_readings"]
    );
    assert_eq!(
        names(&search(&app, &admin, "cargo sailing", json!(null)).await),
        ["shipment_manifests"]
    );
    let vessel = search(&app, &admin, "vessel", json!(null)).await;
    assert_eq!(names(&vessel)[0], "vessel_positions", "{vessel}");
    assert!(names(&vessel).contains(&"shipment_manifests".to_owned()));

    // Typos: a letter missing or swapped still finds the table.
    assert_eq!(
        names(&search(&app, &admin, "grenhouse", json!(null)).await),
        ["greenhouse_sensor_readings"]
    );
    assert_eq!(
        names(&search(&app, &admin, "vesel positons", json!(null)).await)[0],
        "vessel_positions"
    );

    // Highlights: the matched words of the name, marked, the rest as it is stored.
    let hit = &manifests["hits"][0];
    let name_highlight = hit["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["field"] == "name")
        .unwrap_or_else(|| panic!("{hit}"));
    assert_eq!(
        name_highlight["fragments"],
        json!([
            { "text": "shipment", "matched": true },
            { "text": "_", "matched": false },
            { "text": "manifests", "matched": true },
        ])
    );

    // Labels are searched and counted: the customers' card numbers and emails.
    let customers = search(&app, &admin, "customers", json!(null)).await;
    id_of(&customers, "customers");
    let labels = facet(&customers, "label");
    assert!(
        labels.contains(&("CREDIT_CARD_NUMBER".to_owned(), 1)),
        "{labels:?}"
    );
    assert!(facet(&customers, "sensitivity").contains(&("critical".to_owned(), 1)));
    assert_eq!(
        names(&search(&app, &admin, "credit card", json!(null)).await),
        ["customers"]
    );

    // Tags and owners set through the API are searched, filtered and counted.
    let manifests_id = id_of(&manifests, "shipment_manifests");
    let archive_id = id_of(&manifests, "shipment_manifest_archive");
    for (id, tags) in [
        (&manifests_id, json!(["team:ops", "quality:certified"])),
        (&archive_id, json!(["team:ops"])),
    ] {
        let done = app
            .gql(
                Some(&admin),
                "mutation($a: ID!, $t: [String!]) { updateAssetMetadata(assetId: $a, tags: $t, owner: \"harbour-desk\", waitForProjection: true) { projected } }",
                json!({ "a": id, "t": tags }),
            )
            .await;
        assert_eq!(
            done["data"]["updateAssetMetadata"]["projected"], true,
            "{done}"
        );
    }
    let all = search(&app, &admin, "", json!(null)).await;
    let total = all["facets"]["total"].as_i64().unwrap();
    assert!(total >= 5, "{all}");
    // Far below the bound: every match is counted (and ranked).
    assert_eq!(all["facets"]["exact"], true, "{all}");
    assert_eq!(
        all["facets"]["estimatedTotal"], total,
        "exact: the total itself"
    );
    // Tag and owner facets count what each asset shows: its own, else the source's.
    assert_eq!(
        facet(&all, "tag"),
        [
            ("residency:eu".to_owned(), total - 2),
            ("team:ops".to_owned(), 2),
            ("quality:certified".to_owned(), 1)
        ]
    );
    assert_eq!(
        facet(&all, "owner"),
        [
            ("harbour-office".to_owned(), total - 2),
            ("harbour-desk".to_owned(), 2)
        ]
    );
    let inherited = search(
        &app,
        &admin,
        "",
        json!({ "owners": ["harbour-office"], "tags": ["residency:eu"] }),
    )
    .await;
    assert_eq!(inherited["facets"]["total"], total - 2, "{inherited}");
    assert!(!names(&inherited).contains(&"shipment_manifests".to_owned()));
    assert_eq!(facet(&all, "source"), [(source.clone(), total)]);
    let kinds: i64 = facet(&all, "kind").iter().map(|(_, n)| n).sum();
    assert_eq!(kinds, total);
    let desk = search(&app, &admin, "harbour desk", json!(null)).await;
    let mut desk_names = names(&desk);
    desk_names.sort();
    assert_eq!(
        desk_names,
        ["shipment_manifest_archive", "shipment_manifests"]
    );
    let certified = search(&app, &admin, "", json!({ "tags": ["quality:certified"] })).await;
    assert_eq!(names(&certified), ["shipment_manifests"]);
    assert_eq!(certified["facets"]["total"], 1);
    let critical = search(&app, &admin, "", json!({ "sensitivities": ["critical"] })).await;
    assert_eq!(names(&critical), ["customers"]);

    // Glossary terms linked to an asset or to one of its columns are searched (name and
    // synonyms), filtered and counted; changing the synonyms or unlinking rewrites the documents.
    const DEFINE_TERM: &str = "mutation($n: String!, $i: GlossaryTermInput!) { defineGlossaryTerm(name: $n, input: $i, waitForProjection: true) { termId projected } }";
    const CHANGE: &str = "mutation($id: ID!, $i: GlossaryTermInput!) { changeGlossaryTerm(id: $id, input: $i, waitForProjection: true) { projected } }";
    const LINK: &str = "mutation($t: ID!, $a: ID!, $c: String) { linkGlossaryTerm(termId: $t, assetId: $a, column: $c, waitForProjection: true) { projected } }";
    const UNLINK: &str = "mutation($t: ID!, $a: ID!, $c: String) { unlinkGlossaryTerm(termId: $t, assetId: $a, column: $c, waitForProjection: true) { projected } }";
    let defined = app
        .gql(
            Some(&admin),
            DEFINE_TERM,
            json!({ "n": "Maritime Freight", "i": { "definition": "Goods moved by sea.", "synonyms": ["ocean haulage"] } }),
        )
        .await;
    let term = defined["data"]["defineGlossaryTerm"]["termId"]
        .as_str()
        .unwrap_or_else(|| panic!("{defined}"))
        .to_owned();
    let positions_id = id_of(&vessel, "vessel_positions");
    for (mutation, asset, column) in [
        (LINK, &manifests_id, None),
        (LINK, &positions_id, Some("vessel_code")),
    ] {
        let done = app
            .gql(
                Some(&admin),
                mutation,
                json!({ "t": term, "a": asset, "c": column }),
            )
            .await;
        assert!(done["errors"].is_null(), "{done}");
    }
    let mut found = names(&search(&app, &admin, "maritime freight", json!(null)).await);
    found.sort();
    assert_eq!(found, ["shipment_manifests", "vessel_positions"]);
    let mut found = names(&search(&app, &admin, "haulage", json!(null)).await);
    found.sort();
    assert_eq!(found, ["shipment_manifests", "vessel_positions"]);
    let all = search(&app, &admin, "", json!(null)).await;
    assert_eq!(facet(&all, "term"), [("Maritime Freight".to_owned(), 2)]);
    let by_term = search(&app, &admin, "", json!({ "terms": ["Maritime Freight"] })).await;
    assert_eq!(by_term["facets"]["total"], 2, "{by_term}");
    let highlighted = search(&app, &admin, "maritime", json!(null)).await;
    assert!(
        highlighted["hits"][0]["highlights"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["field"] == "term"),
        "{highlighted}"
    );
    let changed = app
        .gql(
            Some(&admin),
            CHANGE,
            json!({ "id": term, "i": { "definition": "Goods moved by sea.", "synonyms": ["seaborne logistics"] } }),
        )
        .await;
    assert!(changed["errors"].is_null(), "{changed}");
    assert!(names(&search(&app, &admin, "haulage", json!(null)).await).is_empty());
    assert_eq!(
        names(&search(&app, &admin, "seaborne", json!(null)).await).len(),
        2
    );
    let unlinked = app
        .gql(
            Some(&admin),
            UNLINK,
            json!({ "t": term, "a": positions_id, "c": "vessel_code" }),
        )
        .await;
    assert!(unlinked["errors"].is_null(), "{unlinked}");
    assert_eq!(
        names(&search(&app, &admin, "maritime", json!(null)).await),
        ["shipment_manifests"]
    );
    let all = search(&app, &admin, "", json!(null)).await;
    assert_eq!(facet(&all, "term"), [("Maritime Freight".to_owned(), 1)]);

    // Cursor paging: pages of one, in score order, with nothing repeated or lost.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app
            .gql(Some(&admin), SEARCH, json!({ "q": "", "n": 1, "a": after }))
            .await;
        assert!(page["errors"].is_null(), "{page}");
        let page = &page["data"]["search"];
        seen.extend(names(page));
        match page["nextCursor"].as_str() {
            Some(cursor) => after = Some(cursor.to_owned()),
            None => break,
        }
        assert!(seen.len() <= 100, "paging does not end");
    }
    assert_eq!(seen.len() as i64, total);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "{seen:?}");

    // Another tenant finds and counts nothing, whatever it asks (even with acme's cursor).
    let globex = TestApp::token("globex", &[Role::Admin]);
    for query in ["", "customers", "shipment", "custmers"] {
        let other = search(&app, &globex, query, json!(null)).await;
        assert_eq!(other["hits"], json!([]), "{other}");
        assert_eq!(other["facets"]["total"], 0);
    }
    let first = app
        .gql(Some(&admin), SEARCH, json!({ "q": "", "n": 1 }))
        .await;
    let cursor = first["data"]["search"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let replayed = app
        .gql(
            Some(&globex),
            SEARCH,
            json!({ "q": "", "n": 1, "a": cursor }),
        )
        .await;
    assert_eq!(replayed["data"]["search"]["hits"], json!([]), "{replayed}");

    // A role that may not read critical data neither finds nor counts the card table.
    const DEFINE: &str = "mutation($r: String!, $p: [String!]!, $c: AssetConditionInput) { defineRole(role: $r, permissions: $p, condition: $c, waitForProjection: true) { projected } }";
    const GRANT: &str = "mutation($s: String!, $r: String!) { grantRole(subject: $s, role: $r, waitForProjection: true) { projected } }";
    let defined = app
        .gql(
            Some(&admin),
            DEFINE,
            json!({ "r": "analyst", "p": ["asset:read"], "c": { "maxSensitivity": "high" } }),
        )
        .await;
    assert_eq!(
        defined["data"]["defineRole"]["projected"], true,
        "{defined}"
    );
    let granted = app
        .gql(
            Some(&admin),
            GRANT,
            json!({ "s": "kim@acme.test", "r": "analyst" }),
        )
        .await;
    assert_eq!(granted["data"]["grantRole"]["projected"], true, "{granted}");
    let kim = token_of("acme", "kim@acme.test", &[]);
    let critical_count = facet(&all, "sensitivity")
        .into_iter()
        .find(|(s, _)| s == "critical")
        .map(|(_, n)| n)
        .unwrap_or_default();
    assert!(critical_count >= 1, "{all}");
    let kim_customers = search(&app, &kim, "customers", json!(null)).await;
    assert!(
        !names(&kim_customers).contains(&"customers".to_owned()),
        "{kim_customers}"
    );
    let kim_all = search(&app, &kim, "", json!(null)).await;
    assert_eq!(
        kim_all["facets"]["total"].as_i64().unwrap(),
        total - critical_count
    );
    assert!(facet(&kim_all, "sensitivity")
        .iter()
        .all(|(s, _)| s != "critical"));
    assert!(facet(&kim_all, "label")
        .iter()
        .all(|(l, _)| l != "CREDIT_CARD_NUMBER"));
    assert!(!names(&kim_all).iter().any(|n| n == "customers"));
    // Hostile text: operators, quotes, backslashes, NUL, long or empty — never a server error.
    let long = "ship".repeat(128);
    let hostile = [
        "",
        "   ",
        "'",
        "\"",
        "\\",
        "\\'; DROP TABLE assets; --",
        "&|!():*",
        "ship & | ! ( ) : * <-> <2>",
        "'shipment':* & !vessel",
        "\u{0}",
        "ü²³ 𝔰𝔥𝔦𝔭",
        long.as_str(),
        "a b c d e f g h i j k l m n o p",
    ];
    for query in hostile {
        let response = app
            .gql(Some(&admin), SEARCH, json!({ "q": query, "n": 5 }))
            .await;
        assert!(response["errors"].is_null(), "{query:?}: {response}");
    }
    let too_long = app
        .gql(Some(&admin), SEARCH, json!({ "q": "x".repeat(513) }))
        .await;
    assert_eq!(
        support::error_code(&too_long),
        Some("VALIDATION"),
        "{too_long}"
    );
    let long_cursor = "A".repeat(4000);
    for cursor in ["nope", "czE6ZmZmZmZmZmY6eA", "", long_cursor.as_str()] {
        let response = app
            .gql(Some(&admin), SEARCH, json!({ "q": "ship", "a": cursor }))
            .await;
        assert_eq!(
            support::error_code(&response),
            Some("VALIDATION"),
            "{response}"
        );
    }
    let too_many = app
        .gql(
            Some(&admin),
            SEARCH,
            json!({ "q": "ship", "f": { "tags": vec!["t"; 51] } }),
        )
        .await;
    assert_eq!(
        support::error_code(&too_many),
        Some("VALIDATION"),
        "{too_many}"
    );
    let bad_page = app
        .gql(Some(&admin), SEARCH, json!({ "q": "ship", "n": 101 }))
        .await;
    assert_eq!(
        support::error_code(&bad_page),
        Some("VALIDATION"),
        "{bad_page}"
    );

    db.remove().await;
    app.stop().await;
}
