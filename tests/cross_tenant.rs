//! The tenant boundary and the built-in roles, tried on the whole GraphQL API as the schema itself
//! describes it. The schema is read by introspection; every query field, every mutation and the
//! subscription is called with arguments generated from its signature and selections generated
//! from its return type, so the suite grows with the API without edits.
//!
//! Tenant `acme` builds a catalogue (a scanned and classified PostgreSQL source, violations, a
//! custom rule, a custom role and a grant, all named with a marker). Everything `acme` can read is
//! collected: its ids, hashes and marked names. Then, with an admin token of tenant `globex`:
//! - every query field, called with each kind of `acme` id in every ID argument (and in every ID
//!   field of its input objects), answers without a trace of `acme` in its data;
//! - every mutation, called the same way, writes nothing to `acme`'s history, shows nothing of
//!   `acme`, and is refused with a client error code (never `INTERNAL`, never a 5xx);
//! - the `events` subscription, with the same arguments, delivers nothing of `acme`.
//!
//! Within `acme`, every mutation is refused with `FORBIDDEN` and writes nothing for a viewer and an
//! auditor, and the compliance-policy and role mutations for a data steward.

mod support;

use domain::access::{role_allows, Permission, Role};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;
use support::ws::{self, Socket};
use support::*;

/// Every name `acme` gives contains this, so a leak of any of them is found by one substring.
const MARK: &str = "acmemark";
const SECRET_VALUE: &str = "cross-tenant-secret-7c21";

const INTROSPECTION: &str = r#"
query {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types {
      kind name
      fields(includeDeprecated: true) { name args { name type { ...T } defaultValue } type { ...T } }
      inputFields { name type { ...T } defaultValue }
      enumValues(includeDeprecated: true) { name }
    }
  }
}
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
"#;

/// The schema as introspection describes it.
struct Schema {
    types: HashMap<String, Value>,
    query: String,
    mutation: String,
    subscription: Option<String>,
}

/// A type reference with its wrappers taken off.
struct TypeRef<'a> {
    name: &'a str,
    kind: &'a str,
    required: bool,
    list: bool,
}

fn unwrap(mut t: &Value) -> TypeRef<'_> {
    let required = t["kind"] == "NON_NULL";
    let mut list = false;
    while t["name"].is_null() {
        list |= t["kind"] == "LIST";
        t = &t["ofType"];
    }
    TypeRef {
        name: t["name"].as_str().unwrap(),
        kind: t["kind"].as_str().unwrap(),
        required,
        list,
    }
}

impl Schema {
    async fn read(app: &TestApp, token: &str) -> Self {
        let response = app.gql(Some(token), INTROSPECTION, json!({})).await;
        let schema = &response["data"]["__schema"];
        assert!(schema.is_object(), "introspection failed: {response}");
        let types = schema["types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone()))
            .collect();
        Self {
            types,
            query: schema["queryType"]["name"].as_str().unwrap().to_owned(),
            mutation: schema["mutationType"]["name"].as_str().unwrap().to_owned(),
            subscription: schema["subscriptionType"]["name"]
                .as_str()
                .map(str::to_owned),
        }
    }

    fn fields(&self, type_name: &str) -> Vec<Value> {
        self.types[type_name]["fields"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// An argument value of type `t`: `id` in every ID position (also the optional ones: that
    /// is where another tenant's id is tried), something valid-looking in required positions,
    /// nothing (`None`) in optional non-ID positions.
    fn value(&self, t: &Value, id: Option<&str>, depth: usize) -> Option<Value> {
        let r = unwrap(t);
        let one = match (r.kind, r.name) {
            ("SCALAR", "ID") => match id {
                Some(id) => json!(id),
                None if r.required => json!("00000000-0000-0000-0000-000000000000"),
                None => return None,
            },
            _ if !r.required && (depth > 3 || !self.holds_id(r.name, 0)) => return None,
            ("SCALAR", "String") => json!("probe"),
            ("SCALAR", "Int") => json!(1),
            ("SCALAR", "Float") => json!(1.0),
            ("SCALAR", "Boolean") => json!(false),
            ("SCALAR", "DateTime") => json!("2030-01-01T00:00:00Z"),
            ("SCALAR", _) => json!("probe"),
            ("ENUM", name) => json!(self.types[name]["enumValues"][0]["name"]),
            ("INPUT_OBJECT", name) => {
                let mut object = Map::new();
                for field in self.types[name]["inputFields"].as_array().unwrap() {
                    if let Some(v) = self.value(&field["type"], id, depth + 1) {
                        object.insert(field["name"].as_str().unwrap().to_owned(), v);
                    }
                }
                Value::Object(object)
            }
            // A kind the generator cannot fill: null makes the document invalid, and an invalid
            // document fails the suite unless the field is in `UNCALLABLE`.
            _ => Value::Null,
        };
        Some(if r.list { json!([one]) } else { one })
    }

    /// Whether an input type has an ID somewhere inside.
    fn holds_id(&self, name: &str, depth: usize) -> bool {
        if name == "ID" {
            return true;
        }
        depth < 3
            && self.types[name]["inputFields"]
                .as_array()
                .is_some_and(|fields| {
                    fields
                        .iter()
                        .any(|f| self.holds_id(unwrap(&f["type"]).name, depth + 1))
                })
    }

    /// The arguments of `field` as (declarations, uses, variables).
    fn arguments(&self, field: &Value, id: Option<&str>) -> (String, String, Value) {
        let mut declarations = Vec::new();
        let mut uses = Vec::new();
        let mut variables = Map::new();
        for (i, arg) in field["args"].as_array().unwrap().iter().enumerate() {
            let Some(value) = self.value(&arg["type"], id, 0) else {
                continue;
            };
            let name = arg["name"].as_str().unwrap();
            declarations.push(format!("$a{i}: {}", type_text(&arg["type"])));
            uses.push(format!("{name}: $a{i}"));
            variables.insert(format!("a{i}"), value);
        }
        let declarations = if declarations.is_empty() {
            String::new()
        } else {
            format!("({})", declarations.join(", "))
        };
        let uses = if uses.is_empty() {
            String::new()
        } else {
            format!("({})", uses.join(", "))
        };
        (declarations, uses, Value::Object(variables))
    }

    /// A selection of every field of `type_name` down to `depth` levels (fields that need
    /// arguments get generated ones, without ids), each object type once per path.
    fn selection(&self, type_name: &str, depth: usize, path: &mut Vec<String>) -> String {
        let t = &self.types[type_name];
        match t["kind"].as_str().unwrap() {
            "SCALAR" | "ENUM" => return String::new(),
            "UNION" | "INTERFACE" => return "{ __typename }".into(),
            _ => {}
        }
        let mut parts = vec!["__typename".to_owned()];
        if depth > 0 && !path.iter().any(|p| p == type_name) {
            path.push(type_name.to_owned());
            for field in self.fields(type_name) {
                let r = unwrap(&field["type"]);
                let args = field["args"].as_array().unwrap();
                let mut uses = Vec::new();
                let mut complete = true;
                for arg in args {
                    let a = unwrap(&arg["type"]);
                    if !a.required {
                        continue;
                    }
                    match self.value(&arg["type"], None, 0) {
                        Some(v) if a.name != "ID" => uses.push(format!(
                            "{}: {}",
                            arg["name"].as_str().unwrap(),
                            literal(&v)
                        )),
                        _ => complete = false,
                    }
                }
                if !complete {
                    continue;
                }
                let args = if uses.is_empty() {
                    String::new()
                } else {
                    format!("({})", uses.join(", "))
                };
                let name = field["name"].as_str().unwrap();
                match r.kind {
                    "SCALAR" | "ENUM" => parts.push(format!("{name}{args}")),
                    _ if depth > 1 => {
                        let inner = self.selection(r.name, depth - 1, path);
                        parts.push(format!("{name}{args} {inner}"));
                    }
                    _ => parts.push(format!("{name}{args} {{ __typename }}")),
                }
            }
            path.pop();
        }
        format!("{{ {} }}", parts.join(" "))
    }

    /// The document calling `field` of the root `root` (`query`, `mutation`, `subscription`).
    fn document(
        &self,
        root: &str,
        field: &Value,
        id: Option<&str>,
        depth: usize,
    ) -> (String, Value) {
        let (declarations, uses, variables) = self.arguments(field, id);
        let r = unwrap(&field["type"]);
        let selection = self.selection(r.name, depth, &mut Vec::new());
        let name = field["name"].as_str().unwrap();
        (
            format!("{root}{declarations} {{ {name}{uses} {selection} }}"),
            variables,
        )
    }
}

/// The GraphQL text of a type reference, e.g. `[ID!]!`.
fn type_text(t: &Value) -> String {
    match t["kind"].as_str().unwrap() {
        "NON_NULL" => format!("{}!", type_text(&t["ofType"])),
        "LIST" => format!("[{}]", type_text(&t["ofType"])),
        _ => t["name"].as_str().unwrap().to_owned(),
    }
}

/// A value as a GraphQL literal (enums unquoted are not needed: generated literals are scalars).
fn literal(v: &Value) -> String {
    match v {
        Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| format!("{k}: {}", literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// Fields the generator cannot call with a document the server accepts, each with the reason.
/// Every other field whose generated document is refused whole (an error without a path: a
/// parse or validation error, so no resolver ran) fails the suite, and so does an entry here
/// that is no longer needed or no longer in the schema: a new field is covered without edits,
/// and one the generator cannot reach is a decision written down here, not a silent gap.
/// Entries are `"query.field"`, `"mutation.field"` or `"subscription.field"`.
const UNCALLABLE: &[(&str, &str)] = &[
    // (none today: every field of the schema takes arguments the generator fills)
];

/// The fields whose generated documents were refused whole, by every test of this file (the
/// same for all: the documents do not depend on who sends them).
static REFUSED: std::sync::Mutex<BTreeSet<String>> = std::sync::Mutex::new(BTreeSet::new());

/// Whether `body` is a refusal of the whole document (no resolver ran).
fn refused_whole(body: &Value) -> bool {
    body["errors"]
        .as_array()
        .is_some_and(|errors| errors.iter().any(|e| !e["path"].is_array()))
}

/// Runs a document; a 5xx or an `INTERNAL` error fails the test on the spot, and so does a
/// document refused whole (see [`UNCALLABLE`]) unless `field` is allow-listed there.
async fn call(app: &TestApp, token: &str, query: &str, variables: &Value) -> Value {
    let body = call_raw(app, token, query, variables).await;
    let field = field_of(query);
    if refused_whole(&body) {
        REFUSED.lock().unwrap().insert(field.clone());
    }
    let allowed = UNCALLABLE.iter().any(|(name, _)| *name == field);
    assert!(
        allowed || !refused_whole(&body),
        "the generated document is refused (add {field} to UNCALLABLE with the reason, or teach \
         the generator its arguments): {query} {variables}: {body}"
    );
    body
}

/// `root.field` of a generated document (`query($a0: ID!) { asset(id: $a0) { … } }`).
fn field_of(query: &str) -> String {
    let root = query
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or_default();
    let body = &query[query.find('{').map_or(0, |i| i + 1)..];
    let name: String = body
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    format!("{root}.{name}")
}

/// Runs a document without judging whether it validated.
async fn call_raw(app: &TestApp, token: &str, query: &str, variables: &Value) -> Value {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(
        !status.is_server_error(),
        "{status} for {query} {variables}: {body}"
    );
    for error in body["errors"].as_array().into_iter().flatten() {
        assert_ne!(
            error["extensions"]["code"], "INTERNAL",
            "{query} {variables}: {body}"
        );
    }
    body
}

/// The error codes of a response with where they arose, sorted: what an answer says about the
/// ids it was given, whatever the data.
fn codes(body: &Value) -> Vec<String> {
    let mut codes: Vec<String> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            format!(
                "{} at {}",
                e["extensions"]["code"].as_str().unwrap_or("?"),
                e["path"]
            )
        })
        .collect();
    codes.sort();
    codes
}

/// Checks at the end of a suite that every allow-listed field still exists and still needs its
/// entry (its document is refused whole), so the list cannot rot.
fn allow_list_holds(queries: &[Value], mutations: &[Value], subscriptions: &[Value]) {
    let refused = REFUSED.lock().unwrap().clone();
    let names: BTreeSet<String> = [
        ("query", queries),
        ("mutation", mutations),
        ("subscription", subscriptions),
    ]
    .into_iter()
    .flat_map(|(root, fields)| {
        fields
            .iter()
            .map(move |f| format!("{root}.{}", f["name"].as_str().unwrap()))
    })
    .collect();
    for (field, reason) in UNCALLABLE {
        assert!(
            names.contains(*field),
            "UNCALLABLE lists {field} ({reason}), which the schema no longer has"
        );
        assert!(
            refused.contains(*field),
            "UNCALLABLE lists {field} ({reason}), but the generator calls it now: remove the entry"
        );
    }
}

/// Every string inside `value`, with where it was found: `Type.field` of the nearest object
/// (every generated selection asks for `__typename`).
fn strings<'a>(value: &'a Value, at: &str, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::String(s) => out.push((at.to_owned(), s)),
        Value::Array(items) => items.iter().for_each(|v| strings(v, at, out)),
        Value::Object(map) => {
            let typename = map.get("__typename").and_then(Value::as_str).unwrap_or("?");
            for (k, v) in map {
                strings(v, &format!("{typename}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// `data` without the target ids of refused requests in audit entries: a tenant's refusals
/// record the ids *it* sent (acme's, in this suite's probes), which is its own input echoed in
/// its own trail, not acme's data. Everything else of such an entry is still checked.
fn without_own_refusal_targets(data: &Value) -> Value {
    match data {
        Value::Array(items) => {
            Value::Array(items.iter().map(without_own_refusal_targets).collect())
        }
        Value::Object(map) => {
            let refusal = map.get("__typename").and_then(Value::as_str) == Some("AuditEntry")
                && map.get("outcome").is_some_and(|o| o != "ACCEPTED");
            Value::Object(
                map.iter()
                    .filter(|(k, _)| !(refusal && k.as_str() == "aggregateId"))
                    .map(|(k, v)| (k.clone(), without_own_refusal_targets(v)))
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What `acme` can read: every id and hash (and marked text) its data holds, and one id of each
/// kind (by the field it was found under) to try in other tenants' arguments.
#[derive(Default)]
struct Footprint {
    secrets: BTreeSet<String>,
    ids: BTreeMap<String, String>,
}

impl Footprint {
    fn add(&mut self, data: &Value) {
        let mut found = Vec::new();
        strings(data, "", &mut found);
        for (at, s) in found {
            if is_uuid(s) && !s.starts_with("00000000-0000-0000-0000") {
                self.secrets.insert(s.to_owned());
                self.ids.entry(at).or_insert_with(|| s.to_owned());
            } else if (is_hash(s) && s.bytes().any(|b| b != b'0')) || s.contains(MARK) {
                // (The all-zero hash is every chain's start, common to all tenants.)
                self.secrets.insert(s.to_owned());
            }
        }
    }

    /// The `acme` values inside `data` (none, unless something leaks). The id the caller sent
    /// may come back (an echo tells nothing); anything else of acme's may not.
    fn leaks(&self, data: &Value, sent: Option<&str>) -> Vec<String> {
        let data = without_own_refusal_targets(data);
        let mut found = Vec::new();
        strings(&data, "", &mut found);
        found
            .into_iter()
            .filter(|(_, s)| Some(*s) != sent)
            .filter(|(_, s)| s.contains(MARK) || self.secrets.contains(*s))
            .map(|(path, s)| format!("{path} = {s}"))
            .collect()
    }
}

async fn acme_events(app: &TestApp) -> usize {
    app.events()
        .await
        .iter()
        .filter(|e| e.tenant == "acme")
        .count()
}

/// `acme`'s catalogue: a scanned, classified and evaluated source with violations, a custom
/// compliance rule, an accepted violation, a custom role and a grant — every name marked.
async fn build_acme(app: &TestApp, admin: &str) -> (SourceDb, String) {
    let db = SourceDb::create(
        &CARD_SHOP.replace("billing.customers", &format!("billing.{MARK}_customers")),
        SECRET_VALUE,
    )
    .await;
    let mut input = db.input();
    input["name"] = json!(format!("{MARK} shop"));
    let source = register_and_scan(app, admin, input).await;
    let rule = app
        .gql(
            Some(admin),
            "mutation($input: ComplianceRuleInput!) { defineComplianceRule(input: $input) { __typename } }",
            json!({ "input": {
                "id": format!("{MARK}-cards"),
                "title": format!("{MARK} cards"),
                "framework": "pci-dss",
                "control": "PCI DSS v4.0 12.5.2",
                "severity": "low",
                "subject": "column",
                "remediation": format!("{MARK} remediation"),
                "condition": r#"any label (label.type == "CREDIT_CARD_NUMBER")"#,
            }}),
        )
        .await;
    assert!(rule["errors"].is_null(), "{rule}");
    compliance_evaluate(app, &source);
    let role = app
        .gql(
            Some(admin),
            r#"mutation($name: String!, $subject: String!) {
                 defineRole(role: $name, permissions: ["asset:read"]) { __typename }
                 grantRole(subject: $subject, role: $name) { __typename }
               }"#,
            json!({ "name": format!("{MARK}-readers"), "subject": format!("{MARK}@acme.example") }),
        )
        .await;
    assert!(role["errors"].is_null(), "{role}");
    wait_projected(app, admin).await;
    let open = app
        .gql(
            Some(admin),
            "{ violations(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let violation = open["data"]["violations"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{open}"))
        .to_owned();
    let accepted = app
        .gql(
            Some(admin),
            "mutation($id: ID!, $reason: String!, $until: DateTime!) { acceptViolation(id: $id, reason: $reason, expiresAt: $until) { __typename } }",
            json!({
                "id": violation,
                "reason": format!("{MARK} reason"),
                "until": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
            }),
        )
        .await;
    assert!(accepted["errors"].is_null(), "{accepted}");
    wait_projected(app, admin).await;
    (db, source)
}

#[tokio::test(flavor = "multi_thread")]
async fn no_query_mutation_or_subscription_of_another_tenant_reaches_acme() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let globex = TestApp::token("globex", &[Role::Admin]);
    let (db, source) = build_acme(&app, &admin).await;
    let schema = Schema::read(&app, &admin).await;
    let queries = schema.fields(&schema.query);
    let mutations = schema.fields(&schema.mutation);
    assert!(
        queries.len() >= 20 && mutations.len() >= 20,
        "the schema lists the API"
    );

    // What acme can read, through the same generated queries.
    let mut acme = Footprint::default();
    for field in &queries {
        for id in [None, Some(source.as_str())] {
            let (query, variables) = schema.document("query", field, id, 4);
            acme.add(&call(&app, &admin, &query, &variables).await["data"]);
        }
    }
    for id in acme.ids.values().cloned().collect::<Vec<_>>() {
        for field in &queries {
            if field["args"].as_array().unwrap().is_empty() {
                continue;
            }
            let (query, variables) = schema.document("query", field, Some(&id), 4);
            acme.add(&call(&app, &admin, &query, &variables).await["data"]);
        }
    }
    assert!(acme.secrets.contains(&source));
    assert!(acme.secrets.iter().any(|s| s == &format!("{MARK} shop")));
    assert!(acme.ids.len() >= 5, "ids of several kinds: {:?}", acme.ids);
    let asset = acme.ids.get("Asset.id").cloned().expect("an asset id");
    let probes: Vec<Option<String>> = std::iter::once(None)
        .chain(
            acme.ids
                .values()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(Some),
        )
        .collect();

    // Queries of globex: nothing of acme, whatever id they name.
    let mut tried = 0;
    for field in &queries {
        let takes_id = schema
            .arguments(field, Some("x"))
            .2
            .as_object()
            .is_some_and(|v| !v.is_empty());
        for id in probes.iter().take(if takes_id { probes.len() } else { 1 }) {
            let (query, variables) = schema.document("query", field, id.as_deref(), 4);
            let response = call(&app, &globex, &query, &variables).await;
            let leaks = acme.leaks(&response["data"], id.as_deref());
            assert!(
                leaks.is_empty(),
                "{query} {variables} shows acme's {leaks:?}"
            );
            same_as_unknown(
                &app,
                &globex,
                &schema,
                ("query", 4),
                field,
                id.as_deref(),
                &response,
            )
            .await;
            tried += 1;
        }
    }

    // Mutations of globex: nothing written to acme, nothing of acme shown.
    let before = acme_events(&app).await;
    for field in &mutations {
        for id in &probes {
            let (query, variables) = schema.document("mutation", field, id.as_deref(), 2);
            let response = call(&app, &globex, &query, &variables).await;
            let leaks = acme.leaks(&response, id.as_deref());
            assert!(
                leaks.is_empty(),
                "{query} {variables} shows acme's {leaks:?}"
            );
            // A refused mutation wrote nothing, so the same call with an unknown id meets the
            // same state; one that went through changed globex's and is compared no further.
            if response["errors"].is_array() {
                same_as_unknown(
                    &app,
                    &globex,
                    &schema,
                    ("mutation", 2),
                    field,
                    id.as_deref(),
                    &response,
                )
                .await;
            }
            tried += 1;
        }
    }
    assert_eq!(acme_events(&app).await, before, "globex wrote to acme");

    // The subscription, with every argument naming acme's ids: acme's next events never reach
    // globex. Globex's own event afterwards is the fence: it arrives after anything of acme would.
    if let Some(root) = &schema.subscription {
        for field in schema.fields(root) {
            for id in &probes {
                let (query, variables) = schema.document("subscription", &field, id.as_deref(), 2);
                let mut socket = ws::subscribe(&app, &globex, &query, variables.clone()).await;
                let touched = app
                    .gql(
                        Some(&admin),
                        "mutation($id: ID!, $d: String!) { updateAssetMetadata(assetId: $id, description: $d) { __typename } }",
                        json!({ "id": asset, "d": format!("{MARK} {}", uuid::Uuid::new_v4()) }),
                    )
                    .await;
                assert!(touched["errors"].is_null(), "{touched}");
                let fence = format!("globex fence {}", uuid::Uuid::new_v4());
                let registered = app
                    .gql(
                        Some(&globex),
                        "mutation($input: DataSourceInput!) { registerDataSource(input: $input) { aggregateId } }",
                        json!({ "input": postgres_source(&fence) }),
                    )
                    .await;
                assert!(registered["errors"].is_null(), "{registered}");
                while let Some(message) = next_message(&mut socket).await {
                    let leaks = acme.leaks(&message, id.as_deref());
                    assert!(leaks.is_empty(), "{query} delivered acme's {leaks:?}");
                    assert!(
                        !message.to_string().contains("\"acme\""),
                        "{query} delivered an acme event: {message}"
                    );
                    if message.to_string().contains(&fence) || message["type"] != "next" {
                        break;
                    }
                }
                tried += 1;
            }
        }
    }
    assert!(tried > 100, "{tried} calls");
    allow_list_holds(
        &queries,
        &mutations,
        &schema
            .subscription
            .as_ref()
            .map(|r| schema.fields(r))
            .unwrap_or_default(),
    );
    app.stop().await;
    db.remove().await;
}

/// Another tenant's object is answered exactly as an id that exists nowhere: the same error
/// codes at the same places (`NOT_FOUND` where the API says so, an empty or null answer where it
/// says that), and never `FORBIDDEN` — `globex`'s admin may do everything in `globex`, and being
/// told "forbidden" would confirm that the object exists elsewhere.
async fn same_as_unknown(
    app: &TestApp,
    token: &str,
    schema: &Schema,
    (root, depth): (&str, usize),
    field: &Value,
    id: Option<&str>,
    response: &Value,
) {
    let Some(id) = id else {
        return;
    };
    let (query, _) = schema.document(root, field, Some(id), 0);
    let unknown = uuid::Uuid::now_v7().to_string();
    let (unknown_query, variables) = schema.document(root, field, Some(&unknown), depth);
    let other = call(app, token, &unknown_query, &variables).await;
    assert_eq!(
        codes(response),
        codes(&other),
        "{query}: acme's {id} is answered unlike an unknown id: {response} vs {other}"
    );
    assert!(
        !codes(response).iter().any(|c| c.starts_with("FORBIDDEN")),
        "{query} with acme's {id}: {response}"
    );
}

/// The permission a field needs. Mutations: from the resource the audit trail files their
/// refusals under (`refusals::resource_of`, which a unit test keeps complete), so a new mutation
/// is judged without edits here. Queries read the catalog unless listed; the subscription needs
/// `SubscribeEvents`. A field that needs something else and is not listed fails the suite for the
/// roles that get `FORBIDDEN` where this says they may — the place to declare it is here.
fn required(root: &str, name: &str) -> Permission {
    match root {
        "mutation" => match api::graphql::refusals::resource_of(name) {
            "data_source" | "scan" | "asset" | "scan_rule_set" => Permission::ManageDataSources,
            "violation" => Permission::AcceptRisk,
            "compliance_policy" => Permission::ManageCompliance,
            "access_policy" => Permission::ManageRoles,
            // Approving a term needs `ApproveGlossary`, the rest `ManageGlossary`: the built-in
            // roles hold both or neither, so one stands for both here.
            "glossary" => Permission::ManageGlossary,
            other => panic!("mutation {name} acts on {other:?}: say here what it needs"),
        },
        "subscription" => Permission::SubscribeEvents,
        _ => match name {
            "auditTrail" | "history" => Permission::ReadAudit,
            // Grants name people: for those who manage roles.
            "roles" => Permission::ManageRoles,
            // Runs a rule set over stored profiles: a steward's tool, not a read.
            "previewScanRuleSet" => Permission::ManageDataSources,
            _ => Permission::ReadCatalog,
        },
    }
}

/// Whether a response refuses `field` (its own error, at its own path) with `FORBIDDEN`, and
/// answers nothing for it.
fn forbidden(response: &Value, field: &str) -> bool {
    let errors = response["errors"].as_array().cloned().unwrap_or_default();
    errors.len() == 1
        && errors[0]["extensions"]["code"] == "FORBIDDEN"
        // (A subscription refused at its start may come as an `error` message, without a path.)
        && (errors[0]["path"] == json!([field]) || errors[0]["path"].is_null())
        && response["data"][field].is_null()
}

/// Every built-in role, on every query field, mutation and the subscription of the schema, gets
/// exactly what the permission table gives it: `FORBIDDEN` (with nothing answered) where its role
/// lacks the field's permission — and nothing written to the stream by any such call — and never
/// `FORBIDDEN` where it has it.
#[tokio::test(flavor = "multi_thread")]
async fn every_built_in_role_gets_exactly_its_permissions_on_every_field() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let (db, source) = build_acme(&app, &admin).await;
    let schema = Schema::read(&app, &admin).await;
    let queries = schema.fields(&schema.query);
    let mutations = schema.fields(&schema.mutation);
    let subscriptions = schema
        .subscription
        .as_ref()
        .map(|r| schema.fields(r))
        .unwrap_or_default();
    let mut acme = Footprint::default();
    for field in &queries {
        let (query, variables) = schema.document("query", field, Some(&source), 3);
        acme.add(&call(&app, &admin, &query, &variables).await["data"]);
    }
    let probes: Vec<Option<String>> = std::iter::once(None)
        .chain(
            acme.ids
                .values()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(Some),
        )
        .collect();
    let roots = [
        ("query", &queries),
        ("mutation", &mutations),
        ("subscription", &subscriptions),
    ];

    // First every call a role may not make: all refused, nothing written.
    app.wait_compliance().await;
    let before = acme_events(&app).await;
    let mut refused = BTreeMap::<&str, usize>::new();
    for role in Role::ALL {
        let token = TestApp::token("acme", &[role]);
        for (root, fields) in roots {
            for field in fields.iter() {
                let name = field["name"].as_str().unwrap();
                if role_allows(role, required(root, name)) {
                    continue;
                }
                for id in &probes {
                    let (query, variables) = schema.document(root, field, id.as_deref(), 1);
                    let response = if root == "subscription" {
                        first_subscription_answer(&app, &token, &query, &variables).await
                    } else {
                        call(&app, &token, &query, &variables).await
                    };
                    assert!(
                        forbidden(&response, name),
                        "{role:?} may not {root} {name}, so FORBIDDEN: {query} {variables}: {response}"
                    );
                    *refused.entry(role.as_str()).or_default() += 1;
                }
            }
        }
    }
    assert_eq!(acme_events(&app).await, before, "a refused role wrote");
    for role in [
        Role::DataSteward,
        Role::Viewer,
        Role::Auditor,
        Role::ComplianceOfficer,
    ] {
        assert!(
            refused.get(role.as_str()) > Some(&0),
            "{role:?}: {refused:?}"
        );
    }

    // Then every call a role may make: never FORBIDDEN (these may write: they come last, the
    // administrator's last of all).
    let mut roles = Role::ALL.to_vec();
    roles.sort_by_key(|r| *r == Role::Admin);
    for role in roles {
        let token = TestApp::token("acme", &[role]);
        for (root, fields) in roots {
            for field in fields.iter() {
                let name = field["name"].as_str().unwrap();
                if !role_allows(role, required(root, name)) {
                    continue;
                }
                if root == "subscription" {
                    // Without ids (with one, no event may match): the next change is delivered.
                    let (query, variables) = schema.document(root, field, None, 1);
                    let mut socket = ws::subscribe(&app, &token, &query, variables).await;
                    // The subscribe message may still be on its way when the first event is
                    // appended: events go on until one is delivered (or five went unanswered).
                    let mut message = None;
                    for _ in 0..5 {
                        let marker = format!("role fence {}", uuid::Uuid::new_v4());
                        let registered = app
                            .gql(
                                Some(&admin),
                                "mutation($input: DataSourceInput!) { registerDataSource(input: $input) { aggregateId } }",
                                json!({ "input": postgres_source(&marker) }),
                            )
                            .await;
                        assert!(registered["errors"].is_null(), "{registered}");
                        message = next_message(&mut socket).await;
                        if message.is_some() {
                            break;
                        }
                    }
                    let message = message.unwrap_or_default();
                    assert_eq!(message["type"], "next", "{role:?} {query}: {message}");
                    assert!(
                        message["payload"]["errors"].is_null(),
                        "{role:?} {query}: {message}"
                    );
                    continue;
                }
                for id in &probes {
                    let (query, variables) = schema.document(root, field, id.as_deref(), 1);
                    let response = call(&app, &token, &query, &variables).await;
                    assert!(
                        !codes(&response).iter().any(|c| c.starts_with("FORBIDDEN")),
                        "{role:?} may {root} {name}: {query} {variables}: {response}"
                    );
                }
            }
        }
    }
    allow_list_holds(&queries, &mutations, &subscriptions);
    app.stop().await;
    db.remove().await;
}

/// What a subscription answers first, as a GraphQL response: the errors of an `error` message,
/// or the payload of a `next` (a subscription that is refused answers at once).
async fn first_subscription_answer(
    app: &TestApp,
    token: &str,
    query: &str,
    variables: &Value,
) -> Value {
    let mut socket = ws::subscribe(app, token, query, variables.clone()).await;
    let message = next_message(&mut socket)
        .await
        .unwrap_or_else(|| panic!("{query}: no answer"));
    match message["type"].as_str() {
        Some("error") => json!({ "data": null, "errors": message["payload"] }),
        Some("next") => message["payload"].clone(),
        _ => panic!("{query}: {message}"),
    }
}

/// The next protocol message, or None after 5 s of silence or at a close.
async fn next_message(socket: &mut Socket) -> Option<Value> {
    ws::next_json(socket, Duration::from_secs(5)).await
}
