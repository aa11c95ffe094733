//! The business glossary and ownership against the real services: a shop database is scanned,
//! a data steward defines and approves terms (a viewer may read but not approve), links them to
//! a table and a column, and the terms show on the asset; `ownedBy` finds assets by their own
//! owner or the one they inherit from their source; another tenant sees nothing, and a custom
//! role whose condition hides an asset hides its links and ownership too. The CSV import refuses
//! a file with bad rows whole (every line reported, nothing recorded) and a good file
//! round-trips through the export.

mod support;

use domain::access::Role;
use domain::TenantId;
use serde_json::{json, Value};
use support::{
    error_code, pursight, register_and_scan, replayed, text, wait_projected, SourceDb, TestApp,
    SECRET,
};

const SHOP: &str = r#"
CREATE SCHEMA shop;
CREATE TABLE shop.customers (
    id            serial PRIMARY KEY,
    contact_email text NOT NULL,
    loyalty_tier  text NOT NULL
);
INSERT INTO shop.customers (contact_email, loyalty_tier)
SELECT 'member' || g || '@example.test', (ARRAY['gold', 'silver', 'bronze'])[1 + g % 3]
FROM generate_series(1, 30) AS g;
CREATE TABLE shop.orders (
    id          serial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES shop.customers (id),
    total_cents integer NOT NULL
);
CREATE TABLE shop.invoices (
    id       serial PRIMARY KEY,
    order_id integer NOT NULL REFERENCES shop.orders (id)
);
"#;

const DEFINE: &str = "mutation($n: String!, $i: GlossaryTermInput!) { defineGlossaryTerm(name: $n, input: $i, waitForProjection: true) { termId aggregateId projected eventIds } }";
const APPROVE: &str = "mutation($id: ID!) { approveGlossaryTerm(id: $id, waitForProjection: true) { termId projected } }";
const LINK: &str = "mutation($t: ID!, $a: ID!, $c: String) { linkGlossaryTerm(termId: $t, assetId: $a, column: $c, waitForProjection: true) { projected eventIds } }";
const TERM: &str = "query($id: ID!) { glossaryTerm(id: $id) { name status synonyms relatedTerms owners { name kind type } links { assetPath column } } }";
const OWNED_BY: &str = "query($o: String!, $k: OwnerKind, $t: OwnerType) { ownedBy(owner: $o, kind: $k, type: $t) { path owner ownerInherited ownerDetails { name kind type } } }";

fn token_of(tenant: &str, subject: &str, roles: &[Role]) -> String {
    api::auth::issue_token(
        SECRET,
        subject,
        &TenantId::parse(tenant).unwrap(),
        roles,
        3600,
    )
}

async fn gql_ok(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let response = app.gql(Some(token), query, variables).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"].clone()
}

/// The id of the asset of `source` whose path ends with `suffix`.
async fn asset_id(app: &TestApp, token: &str, source: &str, suffix: &str) -> String {
    let assets = gql_ok(
        app,
        token,
        "query($s: ID!) { assets(sourceId: $s, first: 1000) { id path } }",
        json!({ "s": source }),
    )
    .await;
    assets["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no asset {suffix} in {assets}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The paths' last two segments (`shop.orders`), sorted.
fn tables(assets: &Value) -> Vec<String> {
    let mut names: Vec<String> = assets
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let path = a["path"].as_str().unwrap();
            let parts: Vec<&str> = path.split('.').collect();
            parts[parts.len().saturating_sub(2)..].join(".")
        })
        .collect();
    names.sort();
    names
}

fn glossary_events(app: &TestApp, tenant: &str) -> usize {
    replayed(app, tenant)
        .iter()
        .filter(|e| e["aggregatetype"] == "glossary")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn terms_are_approved_by_stewards_linked_to_assets_and_read_within_tenant_and_scope() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(SHOP, "shop-secret-51d2").await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let steward = token_of("acme", "sam@acme.test", &[Role::DataSteward]);
    let viewer = token_of("acme", "vic@acme.test", &[Role::Viewer]);
    let globex = TestApp::token("globex", &[Role::Admin]);
    let mut input = db.input();
    input["owner"] = json!("Data Platform");
    input["ownerKind"] = json!("TEAM");
    let source = register_and_scan(&app, &admin, input).await;
    wait_projected(&app, &admin).await;
    let customers = asset_id(&app, &admin, &source, ".shop.customers").await;
    let orders = asset_id(&app, &admin, &source, ".shop.orders").await;
    let invoices = asset_id(&app, &admin, &source, ".shop.invoices").await;

    // A steward defines two terms; a viewer may not.
    let customer_input = json!({
        "definition": "A person or company that has bought from us.",
        "synonyms": ["Client", "Buyer"],
        "owners": [
            { "name": "Sales", "kind": "TEAM", "type": "BUSINESS" },
            { "name": "sam@acme.test", "kind": "PERSON", "type": "STEWARD" }
        ]
    });
    let refused = app
        .gql(
            Some(&viewer),
            DEFINE,
            json!({ "n": "Customer", "i": customer_input }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    let defined = gql_ok(
        &app,
        &steward,
        DEFINE,
        json!({ "n": "Customer", "i": customer_input }),
    )
    .await;
    let customer = defined["defineGlossaryTerm"]["termId"]
        .as_str()
        .unwrap()
        .to_owned();
    let glossary = defined["defineGlossaryTerm"]["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(defined["defineGlossaryTerm"]["projected"], true);
    let email = gql_ok(
        &app,
        &steward,
        DEFINE,
        json!({ "n": "Contact email", "i": {
            "definition": "The address we write to about orders.",
            "related": ["customer"]
        } }),
    )
    .await["defineGlossaryTerm"]["termId"]
        .as_str()
        .unwrap()
        .to_owned();

    // Hostile input is refused whole, before anything is recorded.
    let before = glossary_events(&app, "acme");
    let long = "n".repeat(101);
    for (name, definition) in [
        ("=HYPERLINK(\"http://x\")", "fine"),
        ("Nul", "bad\u{0}byte"),
        (long.as_str(), "fine"),
        ("Spoof\u{202E}gpj", "fine"),
    ] {
        let bad = app
            .gql(
                Some(&steward),
                DEFINE,
                json!({ "n": name, "i": { "definition": definition } }),
            )
            .await;
        assert_eq!(error_code(&bad), Some("VALIDATION"), "{bad}");
    }
    let taken = app
        .gql(
            Some(&steward),
            DEFINE,
            json!({ "n": "CUSTOMER", "i": { "definition": "again" } }),
        )
        .await;
    assert_eq!(error_code(&taken), Some("CONFLICT"), "{taken}");
    assert_eq!(glossary_events(&app, "acme"), before);

    // Approval: a viewer is refused, a steward approves, a second approval is refused.
    let refused = app
        .gql(Some(&viewer), APPROVE, json!({ "id": customer }))
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    gql_ok(&app, &steward, APPROVE, json!({ "id": customer })).await;
    let again = app
        .gql(Some(&steward), APPROVE, json!({ "id": customer }))
        .await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "{again}");

    // Curating and approving are separate duties: a custom role that may curate the glossary
    // (`glossary:update`) defines terms but does not approve them.
    gql_ok(
        &app,
        &admin,
        "mutation { defineRole(role: \"glossary_editor\", permissions: [\"asset:read\", \"glossary:update\"], waitForProjection: true) { projected } }",
        json!({}),
    )
    .await;
    gql_ok(
        &app,
        &admin,
        "mutation { grantRole(subject: \"eda@acme.test\", role: \"glossary_editor\", waitForProjection: true) { projected } }",
        json!({}),
    )
    .await;
    let editor = token_of("acme", "eda@acme.test", &[]);
    let drafted = gql_ok(
        &app,
        &editor,
        DEFINE,
        json!({ "n": "Basket", "i": { "definition": "Items chosen before an order." } }),
    )
    .await["defineGlossaryTerm"]["termId"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = app
        .gql(Some(&editor), APPROVE, json!({ "id": drafted }))
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");

    // Links to a table and to a column; a column the asset lacks, or another tenant's asset,
    // is not found.
    gql_ok(
        &app,
        &steward,
        LINK,
        json!({ "t": customer, "a": customers }),
    )
    .await;
    gql_ok(
        &app,
        &steward,
        LINK,
        json!({ "t": customer, "a": orders, "c": "customer_id" }),
    )
    .await;
    gql_ok(
        &app,
        &steward,
        LINK,
        json!({ "t": email, "a": customers, "c": "contact_email" }),
    )
    .await;
    let missing = app
        .gql(
            Some(&steward),
            LINK,
            json!({ "t": email, "a": customers, "c": "no_such_column" }),
        )
        .await;
    assert_eq!(error_code(&missing), Some("NOT_FOUND"), "{missing}");
    let foreign = app
        .gql(
            Some(&globex),
            LINK,
            json!({ "t": customer, "a": customers }),
        )
        .await;
    assert_eq!(error_code(&foreign), Some("NOT_FOUND"), "{foreign}");

    // A viewer reads the terms, on the asset and by search (a synonym matches).
    let shown = gql_ok(
        &app,
        &viewer,
        "query($a: ID!) { asset(id: $a) { terms { name status column } } }",
        json!({ "a": customers }),
    )
    .await;
    assert_eq!(
        shown["asset"]["terms"],
        json!([
            { "name": "Customer", "status": "APPROVED", "column": null },
            { "name": "Contact email", "status": "DRAFT", "column": "contact_email" }
        ])
    );
    let term = gql_ok(&app, &viewer, TERM, json!({ "id": customer })).await;
    assert_eq!(term["glossaryTerm"]["status"], "APPROVED");
    assert_eq!(term["glossaryTerm"]["synonyms"], json!(["Buyer", "Client"]));
    assert_eq!(
        term["glossaryTerm"]["owners"],
        json!([
            { "name": "Sales", "kind": "TEAM", "type": "BUSINESS" },
            { "name": "sam@acme.test", "kind": "PERSON", "type": "STEWARD" }
        ])
    );
    let links: Vec<(String, Value)> = term["glossaryTerm"]["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let path = l["assetPath"].as_str().unwrap();
            (
                path[path.find(".shop.").unwrap() + 1..].to_owned(),
                l["column"].clone(),
            )
        })
        .collect();
    assert_eq!(
        links,
        vec![
            ("shop.customers".to_owned(), Value::Null),
            ("shop.orders".to_owned(), json!("customer_id"))
        ]
    );
    let found = gql_ok(
        &app,
        &viewer,
        "{ glossaryTerms(search: \"client\") { name } }",
        json!({}),
    )
    .await;
    assert_eq!(found["glossaryTerms"], json!([{ "name": "Customer" }]));
    let wildcard = gql_ok(
        &app,
        &viewer,
        "{ glossaryTerms(search: \"%\") { name } }",
        json!({}),
    )
    .await;
    assert_eq!(wildcard["glossaryTerms"], json!([]));
    let approved = gql_ok(
        &app,
        &viewer,
        "{ glossaryTerms(status: APPROVED) { name relatedTerms } }",
        json!({}),
    )
    .await;
    assert_eq!(
        approved["glossaryTerms"],
        json!([{ "name": "Customer", "relatedTerms": [] }])
    );

    // Ownership: orders gets its own (typed) owner; the other tables inherit the source's.
    gql_ok(
        &app,
        &admin,
        "mutation($a: ID!) { updateAssetMetadata(assetId: $a, owner: \"Billing team\", ownerKind: TEAM, ownerType: BUSINESS, waitForProjection: true) { projected } }",
        json!({ "a": orders }),
    )
    .await;
    let refused = app
        .gql(
            Some(&admin),
            "mutation($a: ID!) { updateAssetMetadata(assetId: $a, ownerType: STEWARD) { version } }",
            json!({ "a": orders }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("VALIDATION"), "{refused}");
    let platform = gql_ok(&app, &viewer, OWNED_BY, json!({ "o": "data platform" })).await;
    let platform_tables = tables(&platform["ownedBy"]);
    assert!(
        platform_tables.contains(&"shop.customers".to_owned()),
        "{platform}"
    );
    assert!(
        platform_tables.contains(&"shop.invoices".to_owned()),
        "{platform}"
    );
    assert!(
        !platform_tables.contains(&"shop.orders".to_owned()),
        "{platform}"
    );
    assert!(platform["ownedBy"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["ownerInherited"] == true
            && a["owner"] == "Data Platform"
            && a["ownerDetails"]
                == json!({ "name": "Data Platform", "kind": "TEAM", "type": "TECHNICAL" })));
    let billing = gql_ok(&app, &viewer, OWNED_BY, json!({ "o": "Billing Team" })).await;
    assert_eq!(tables(&billing["ownedBy"]), ["shop.orders"]);
    assert_eq!(billing["ownedBy"][0]["ownerInherited"], false);
    assert_eq!(
        billing["ownedBy"][0]["ownerDetails"],
        json!({ "name": "Billing team", "kind": "TEAM", "type": "BUSINESS" })
    );
    let typed = gql_ok(
        &app,
        &viewer,
        OWNED_BY,
        json!({ "o": "Billing team", "k": "TEAM", "t": "BUSINESS" }),
    )
    .await;
    assert_eq!(tables(&typed["ownedBy"]), ["shop.orders"]);
    for (kind, owner_type) in [("PERSON", "BUSINESS"), ("TEAM", "STEWARD")] {
        let none = gql_ok(
            &app,
            &viewer,
            OWNED_BY,
            json!({ "o": "Billing team", "k": kind, "t": owner_type }),
        )
        .await;
        assert_eq!(none["ownedBy"], json!([]), "{kind} {owner_type}");
    }
    let source_owner = gql_ok(
        &app,
        &viewer,
        "query($s: ID!) { dataSource(id: $s) { owner ownerDetails { name kind type } } }",
        json!({ "s": source }),
    )
    .await;
    assert_eq!(
        source_owner["dataSource"],
        json!({ "owner": "Data Platform", "ownerDetails": { "name": "Data Platform", "kind": "TEAM", "type": "TECHNICAL" } })
    );

    // Another tenant sees none of it.
    let elsewhere = gql_ok(
        &app,
        &globex,
        "query($id: ID!, $a: ID!) { glossaryTerms { name } glossaryTerm(id: $id) { name } ownedBy(owner: \"Data Platform\") { path } asset(id: $a) { id } }",
        json!({ "id": customer, "a": customers }),
    )
    .await;
    assert_eq!(
        elsewhere,
        json!({ "glossaryTerms": [], "glossaryTerm": null, "ownedBy": [], "asset": null })
    );

    // A custom role that reaches only assets tagged residency:eu: the term's link to the
    // customers table and that table's ownership are absent for its holder.
    for (asset, tag) in [(&orders, "residency:eu"), (&invoices, "residency:eu")] {
        gql_ok(
            &app,
            &admin,
            "mutation($a: ID!, $t: [String!]) { updateAssetMetadata(assetId: $a, tags: $t, waitForProjection: true) { projected } }",
            json!({ "a": asset, "t": [tag] }),
        )
        .await;
    }
    gql_ok(
        &app,
        &admin,
        "mutation { defineRole(role: \"eu_reader\", permissions: [\"asset:read\", \"audit:read\"], condition: { tagsAny: [\"residency:eu\"] }, waitForProjection: true) { projected } }",
        json!({}),
    )
    .await;
    gql_ok(
        &app,
        &admin,
        "mutation { grantRole(subject: \"kim@acme.test\", role: \"eu_reader\", waitForProjection: true) { projected } }",
        json!({}),
    )
    .await;
    let kim = token_of("acme", "kim@acme.test", &[]);
    let term = gql_ok(&app, &kim, TERM, json!({ "id": customer })).await;
    let paths: Vec<&str> = term["glossaryTerm"]["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["assetPath"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 1, "{term}");
    assert!(paths[0].ends_with(".shop.orders"), "{term}");
    let platform = gql_ok(&app, &kim, OWNED_BY, json!({ "o": "Data Platform" })).await;
    assert_eq!(tables(&platform["ownedBy"]), ["shop.invoices"]);
    let hidden = gql_ok(
        &app,
        &kim,
        "query($a: ID!) { asset(id: $a) { terms { name } } }",
        json!({ "a": customers }),
    )
    .await;
    assert_eq!(hidden["asset"], Value::Null);
    // The glossary's history keeps its terms but not the links to assets out of reach.
    let history = |token: String| {
        let app = &app;
        let glossary = glossary.clone();
        async move {
            let events = gql_ok(
                app,
                &token,
                "query($id: ID!) { history(aggregateId: $id) { type data } }",
                json!({ "id": glossary }),
            )
            .await;
            events["history"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["type"] == "io.pursight.TermLinked.v1")
                .map(|e| e["data"]["asset_id"].as_str().unwrap().to_owned())
                .collect::<Vec<String>>()
        }
    };
    assert_eq!(history(kim.clone()).await, vec![orders.clone()]);
    assert_eq!(
        history(admin.clone()).await,
        [customers.clone(), orders.clone(), customers.clone()]
    );

    // Unlinking removes the link from the asset.
    gql_ok(
        &app,
        &steward,
        "mutation($t: ID!, $a: ID!) { unlinkGlossaryTerm(termId: $t, assetId: $a, column: \"contact_email\", waitForProjection: true) { projected } }",
        json!({ "t": email, "a": customers }),
    )
    .await;
    let shown = gql_ok(
        &app,
        &viewer,
        "query($a: ID!) { asset(id: $a) { terms { name } } }",
        json!({ "a": customers }),
    )
    .await;
    assert_eq!(shown["asset"]["terms"], json!([{ "name": "Customer" }]));

    db.remove().await;
    app.stop().await;
}

const GOOD: &str = "name,definition,synonyms,related,owners,status\r\n\
Customer,\"A person or company that has bought from us; see \"\"Order\"\".\",Client;Buyer,Order,team:business:Sales;person:steward:ana@acme.test,approved\r\n\
Order,\"A purchase,\nwith its lines.\",,Customer,,draft\r\n\
Legacy account,Replaced by Customer.,,,,deprecated\r\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_import_with_bad_rows_records_nothing_and_a_good_file_round_trips_through_export() {
    let app = TestApp::spawn().await;
    let dir = std::env::temp_dir().join(format!("pursight-glossary-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "name,definition,synonyms,related,owners,status\n\
Customer,Fine.,,,,approved\n\
=cmd|' /C calc'!A0,Formula name.,,,,\n\
customer,Same name again.,,,,\n\
Refund,Points nowhere.,,Invoice,robot:business:X,retired\n",
    )
    .unwrap();
    let output = pursight(
        &app,
        &[
            "glossary",
            "import",
            bad.to_str().unwrap(),
            "--tenant",
            "acme",
        ],
    );
    let out = text(&output);
    assert!(!output.status.success(), "{out}");
    for expected in [
        "line 3: name: must not start with",
        "line 4: name: \"customer\" is also on line 2",
        "line 5: owners[0]",
        "line 5: status",
        "line 5: related: no term named \"Invoice\"",
        "nothing was recorded",
    ] {
        assert!(out.contains(expected), "{expected:?} missing from {out}");
    }
    assert_eq!(glossary_events(&app, "acme"), 0, "{out}");
    // A file of the wrong shape is refused before the store is contacted.
    let ragged = dir.join("ragged.csv");
    std::fs::write(
        &ragged,
        "name,definition,synonyms,related,owners,status\nA,b\n",
    )
    .unwrap();
    let output = pursight(
        &app,
        &[
            "glossary",
            "import",
            ragged.to_str().unwrap(),
            "--tenant",
            "acme",
        ],
    );
    assert!(!output.status.success());
    assert!(
        text(&output).contains("line 2: expected 6 fields, found 2"),
        "{}",
        text(&output)
    );

    let good = dir.join("good.csv");
    std::fs::write(&good, GOOD).unwrap();
    let output = pursight(
        &app,
        &[
            "glossary",
            "import",
            good.to_str().unwrap(),
            "--tenant",
            "acme",
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let exported = dir.join("export.csv");
    let output = pursight(
        &app,
        &[
            "glossary",
            "export",
            "--tenant",
            "acme",
            "--output",
            exported.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let csv = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(
        csv,
        "name,definition,synonyms,related,owners,status\r\n\
Customer,\"A person or company that has bought from us; see \"\"Order\"\".\",Buyer;Client,Order,team:business:Sales;person:steward:ana@acme.test,approved\r\n\
Legacy account,Replaced by Customer.,,,,deprecated\r\n\
Order,\"A purchase,\nwith its lines.\",,Customer,,draft\r\n"
    );
    // Importing the export again changes nothing.
    let events = glossary_events(&app, "acme");
    let output = pursight(
        &app,
        &[
            "glossary",
            "import",
            exported.to_str().unwrap(),
            "--tenant",
            "acme",
        ],
    );
    assert!(
        text(&output).contains("nothing changed"),
        "{}",
        text(&output)
    );
    assert_eq!(glossary_events(&app, "acme"), events);
    // The terms are in the read model for GraphQL, and only for their tenant.
    let viewer = TestApp::token("acme", &[Role::Viewer]);
    wait_projected(&app, &viewer).await;
    let terms = gql_ok(
        &app,
        &viewer,
        "{ glossaryTerms { name status } }",
        json!({}),
    )
    .await;
    assert_eq!(
        terms["glossaryTerms"],
        json!([
            { "name": "Customer", "status": "APPROVED" },
            { "name": "Legacy account", "status": "DEPRECATED" },
            { "name": "Order", "status": "DRAFT" }
        ])
    );
    let output = pursight(&app, &["glossary", "export", "--tenant", "globex"]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "name,definition,synonyms,related,owners,status\r\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    app.stop().await;
}
