//! The Snowflake connector against a stand-in for the Snowflake SQL API v2.
//!
//! No Snowflake account can run on a build machine, so each test starts its own HTTP server
//! (axum, on `127.0.0.1:0`, stopped when dropped) that speaks the SQL API's documented
//! request/response format: `POST /api/v2/statements` with a JSON body, `ResultSet` answers with
//! `resultSetMetaData{numRows, rowType, partitionInfo}` and `data` as arrays of strings and
//! nulls in the `jsonv2` encoding (dates as epoch days, timestamps as epoch seconds), `202`
//! `QueryStatus` answers polled at `GET /api/v2/statements/{handle}`, partitions read with
//! `?partition=N`, cancellation at `POST …/{handle}/cancel`, and `401`/`422`/`503` failures with
//! `code` and `message`. It checks every request's bearer token (the key-pair JWT's RS256
//! signature against the user's public key and its `iss`/`sub` claims, or the OAuth token) and
//! answers statements from a small in-memory catalog: it reads the `SELECT` list, the
//! `INFORMATION_SCHEMA` view and the bound values of the statements the connector sends, so a
//! statement it does not understand is a failed test rather than a canned answer.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use connectors::options::{ConnectionTarget, SourceSecrets};
use connectors::probe::{DiscoveryError, DiscoveryOptions, DiscoveryProgress};
use connectors::secrets::SecretValue;
use connectors::snowflake::{discover, validate, SnowflakeTarget};
use domain::datasource::{CloudConfigInput, DataSourceConfigInput, FailureCategory};
use domain::discovery::{AssetKind, AssetPath, AssetSchema, ForeignKey, LineageEdge, LineageKind};
use domain::scan::{ScanScope, ScanStrategy};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

const ACCOUNT: &str = "xy12345.eu-west-1";
const USER: &str = "pursight_scanner";
/// What the JWT must name: the account locator without region, and the user, upper-cased.
const SUBJECT: &str = "XY12345.PURSIGHT_SCANNER";
const OAUTH_TOKEN: &str = "oauth-access-token-TOPSECRET-0042";
const VERSION: &str = "9.1.0";

// ---- keys ------------------------------------------------------------------------------------

struct KeyPair {
    private_pem: String,
    public_pem: String,
    /// `SHA256:<base64 of the DER public key>`, as Snowflake shows `RSA_PUBLIC_KEY_FP`.
    fingerprint: String,
}

fn key_pair() -> KeyPair {
    let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("an RSA key");
    let public = private.to_public_key();
    let der = public.to_public_key_der().unwrap();
    KeyPair {
        private_pem: private.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        public_pem: public.to_public_key_pem(LineEnding::LF).unwrap(),
        fingerprint: format!(
            "SHA256:{}",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(der.as_bytes()))
        ),
    }
}

/// The key registered for the user, and one that is not. Generated once per test binary.
static USER_KEY: LazyLock<KeyPair> = LazyLock::new(key_pair);
static OTHER_KEY: LazyLock<KeyPair> = LazyLock::new(key_pair);

// ---- the in-memory account --------------------------------------------------------------------

#[derive(Clone)]
struct Column {
    name: &'static str,
    /// `INFORMATION_SCHEMA.COLUMNS.DATA_TYPE`.
    data_type: &'static str,
    length: Option<u32>,
    precision_scale: Option<(u32, u32)>,
    nullable: bool,
    default: Option<&'static str>,
    comment: Option<&'static str>,
    /// Position in the primary key.
    key: Option<u32>,
    /// The `(schema, table, column)` this column references (a one-column foreign key).
    references: Option<(&'static str, &'static str, &'static str)>,
}

fn column(name: &'static str, data_type: &'static str) -> Column {
    Column {
        name,
        data_type,
        length: (data_type == "TEXT").then_some(16_777_216),
        precision_scale: (data_type == "NUMBER").then_some((38, 0)),
        nullable: true,
        default: None,
        comment: None,
        key: None,
        references: None,
    }
}

impl Column {
    fn key(mut self, position: u32) -> Self {
        self.key = Some(position);
        self.nullable = false;
        self
    }

    fn references(
        mut self,
        schema: &'static str,
        table: &'static str,
        column: &'static str,
    ) -> Self {
        self.references = Some((schema, table, column));
        self
    }

    fn length(mut self, length: u32) -> Self {
        self.length = Some(length);
        self
    }

    fn numeric(mut self, precision: u32, scale: u32) -> Self {
        self.precision_scale = Some((precision, scale));
        self
    }

    fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }

    fn default(mut self, default: &'static str) -> Self {
        self.default = Some(default);
        self
    }

    fn comment(mut self, comment: &'static str) -> Self {
        self.comment = Some(comment);
        self
    }

    /// The `rowType.type` of a result column of this type.
    fn row_type(&self) -> &'static str {
        match self.data_type {
            "NUMBER" => "fixed",
            "FLOAT" => "real",
            "TEXT" => "text",
            "DATE" => "date",
            "TIMESTAMP_NTZ" => "timestamp_ntz",
            "TIMESTAMP_TZ" => "timestamp_tz",
            "BOOLEAN" => "boolean",
            "VARIANT" => "variant",
            "BINARY" => "binary",
            other => panic!("no rowType for {other}"),
        }
    }
}

#[derive(Clone)]
struct Table {
    schema: &'static str,
    name: &'static str,
    view: Option<&'static str>,
    comment: Option<&'static str>,
    columns: Vec<Column>,
    /// Cells in the `jsonv2` encoding.
    rows: Vec<Vec<Option<String>>>,
}

fn table(schema: &'static str, name: &'static str, columns: Vec<Column>) -> Table {
    Table {
        schema,
        name,
        view: None,
        comment: None,
        columns,
        rows: Vec::new(),
    }
}

impl Table {
    fn rows(mut self, rows: Vec<Vec<Option<&str>>>) -> Self {
        self.rows = rows
            .into_iter()
            .map(|row| row.into_iter().map(|c| c.map(str::to_owned)).collect())
            .collect();
        self
    }

    fn comment(mut self, comment: &'static str) -> Self {
        self.comment = Some(comment);
        self
    }
}

fn view(
    schema: &'static str,
    name: &'static str,
    columns: Vec<Column>,
    sql: &'static str,
) -> Table {
    Table {
        view: Some(sql),
        ..table(schema, name, columns)
    }
}

#[derive(Clone)]
struct Database {
    name: &'static str,
    comment: Option<&'static str>,
    schemas: Vec<(&'static str, Option<&'static str>)>,
    tables: Vec<Table>,
}

/// Two databases of user data, and Snowflake's own.
fn account() -> Vec<Database> {
    let customers = table(
        "PUBLIC",
        "CUSTOMERS",
        vec![
            column("ID", "NUMBER").key(1),
            column("EMAIL", "TEXT")
                .length(255)
                .not_null()
                .comment("login"),
            column("BIRTH_DATE", "DATE"),
            column("CREATED_AT", "TIMESTAMP_NTZ").default("CURRENT_TIMESTAMP()"),
            column("PROFILE", "VARIANT"),
        ],
    )
    .comment("People who buy")
    .rows(vec![
        vec![
            Some("1"),
            Some("ada@example.com"),
            Some("-47482"),
            Some("1704112496.123000000"),
            Some("{\n  \"tier\": \"gold\"\n}"),
        ],
        vec![
            Some("2"),
            Some("alan@example.com"),
            None,
            Some("1704198896.000000000"),
            None,
        ],
    ]);
    let orders = table(
        "PUBLIC",
        "ORDERS",
        vec![
            column("ID", "NUMBER").key(1),
            column("CUSTOMER_ID", "NUMBER")
                .not_null()
                .references("PUBLIC", "CUSTOMERS", "ID"),
            column("TOTAL", "NUMBER").numeric(10, 2),
            column("PAID", "BOOLEAN").default("FALSE"),
        ],
    )
    .rows(vec![
        vec![Some("10"), Some("1"), Some("12.50"), Some("true")],
        vec![Some("11"), Some("1"), Some("99.00"), Some("false")],
        vec![Some("12"), Some("2"), Some("5.25"), None],
    ]);
    let customer_orders = view(
        "PUBLIC",
        "CUSTOMER_ORDERS",
        vec![
            column("EMAIL", "TEXT").length(255),
            column("TOTAL", "NUMBER").numeric(10, 2),
        ],
        "create or replace view SHOP.PUBLIC.CUSTOMER_ORDERS(EMAIL, TOTAL) as\n\
         select c.email, o.total\n  from customers c\n  join orders o on o.customer_id = c.id;",
    );
    let raw_events = table(
        "STAGING",
        "RAW_EVENTS",
        vec![column("SEQ", "NUMBER"), column("PAYLOAD", "TEXT")],
    )
    .rows(
        (1..=7)
            .map(|i| vec![Some(leak(i.to_string())), Some(leak(format!("event {i}")))])
            .collect(),
    );
    let audit = table(
        "STAGING",
        "AUDIT_LOG",
        vec![column("AT", "TIMESTAMP_TZ"), column("WHAT", "TEXT")],
    );
    let employees = table(
        "PEOPLE",
        "EMPLOYEES",
        vec![
            column("ID", "NUMBER").key(1),
            column("SALARY", "NUMBER").numeric(12, 2),
        ],
    );
    vec![
        Database {
            name: "SHOP",
            comment: Some("Web shop"),
            schemas: vec![("PUBLIC", Some("Live data")), ("STAGING", None)],
            tables: vec![customers, orders, customer_orders, raw_events, audit],
        },
        Database {
            name: "HR",
            comment: None,
            schemas: vec![("PEOPLE", None)],
            tables: vec![employees],
        },
        Database {
            name: "SNOWFLAKE",
            comment: Some("Snowflake's own"),
            schemas: vec![("ACCOUNT_USAGE", None)],
            tables: vec![table(
                "ACCOUNT_USAGE",
                "QUERY_HISTORY",
                vec![column("QUERY_ID", "TEXT")],
            )],
        },
    ]
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

// ---- the server -------------------------------------------------------------------------------

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: &'static str,
    path: String,
    query: HashMap<String, String>,
    statement: Option<String>,
    body: Value,
    headers: HeaderMap,
}

/// How the stand-in behaves beyond answering.
#[derive(Clone, Default)]
struct Behaviour {
    /// Statements containing this answer `202` and finish after two polls.
    asynchronous: Option<&'static str>,
    /// Statements containing this never finish (every poll answers `202`).
    never_finish: Option<&'static str>,
    /// The first statement containing this answers `503`.
    fail_once: Option<&'static str>,
    /// Results are cut into partitions of this many rows.
    partition_rows: Option<usize>,
}

struct Account {
    databases: Vec<Database>,
    /// `Some(public key PEM, fingerprint)` for key-pair auth; `None` accepts the OAuth token.
    user_key: Option<(String, String)>,
    behaviour: Behaviour,
    seen: Mutex<Vec<Seen>>,
    /// Results by handle.
    handles: Mutex<HashMap<String, Pending>>,
    failed_once: Mutex<bool>,
    next_handle: AtomicU64,
}

type Answer = (StatusCode, Json<Value>);
type Rows = Vec<Vec<Option<String>>>;

/// A statement's result, kept for polls and partition reads.
struct Pending {
    meta: Value,
    partitions: Vec<Rows>,
    /// Polls still answered `202`; `usize::MAX` never finishes.
    polls: usize,
}

fn error(status: StatusCode, code: &str, message: &str) -> Answer {
    (
        status,
        Json(json!({ "code": code, "message": message, "sqlState": "42000" })),
    )
}

impl Account {
    fn check_auth(&self, headers: &HeaderMap) -> Result<(), Answer> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        let token = header("authorization")
            .strip_prefix("Bearer ")
            .unwrap_or_default();
        let kind = header("x-snowflake-authorization-token-type");
        let refused = || {
            error(
                StatusCode::UNAUTHORIZED,
                "390144",
                "JWT token is invalid or the user has no such key.",
            )
        };
        match &self.user_key {
            None if kind == "OAUTH" && token == OAUTH_TOKEN => Ok(()),
            None => Err(error(
                StatusCode::UNAUTHORIZED,
                "390303",
                "Invalid OAuth access token.",
            )),
            Some((public_pem, fingerprint)) if kind == "KEYPAIR_JWT" => {
                let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
                validation.set_issuer(&[format!("{SUBJECT}.{fingerprint}")]);
                validation.sub = Some(SUBJECT.to_owned());
                validation.set_required_spec_claims(&["exp", "iss", "sub"]);
                let key = jsonwebtoken::DecodingKey::from_rsa_pem(public_pem.as_bytes()).unwrap();
                let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
                    .map_err(|_| refused())?
                    .claims;
                let (iat, exp) = (claims["iat"].as_u64(), claims["exp"].as_u64());
                match (iat, exp) {
                    (Some(iat), Some(exp)) if exp > iat && exp - iat <= 3600 => Ok(()),
                    _ => Err(refused()),
                }
            }
            Some(_) => Err(refused()),
        }
    }

    fn record(&self, seen: Seen) {
        self.seen.lock().unwrap().push(seen);
    }

    fn submit(&self, statement: &str, bindings: &[String]) -> Answer {
        let result = match answer(&self.databases, statement, bindings) {
            Ok(result) => result,
            Err(message) => return error(StatusCode::UNPROCESSABLE_ENTITY, "002003", &message),
        };
        if let Some(marker) = self.behaviour.fail_once {
            let mut failed = self.failed_once.lock().unwrap();
            if statement.contains(marker) && !*failed {
                *failed = true;
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "000000",
                    "Service Unavailable",
                );
            }
        }
        let handle = format!(
            "01b2c3d4-0000-{:04x}-0000-{:012x}",
            std::process::id() & 0xffff,
            self.next_handle.fetch_add(1, Ordering::Relaxed)
        );
        let (rows_type, rows) = result;
        let partitions: Vec<Rows> = match self.behaviour.partition_rows {
            Some(size) if rows.len() > size => rows.chunks(size).map(<[_]>::to_vec).collect(),
            _ => vec![rows.clone()],
        };
        let polls = if self
            .behaviour
            .never_finish
            .is_some_and(|m| statement.contains(m))
        {
            usize::MAX
        } else if self
            .behaviour
            .asynchronous
            .is_some_and(|m| statement.contains(m))
        {
            1
        } else {
            0
        };
        let meta = json!({
            "numRows": rows.len(),
            "format": "jsonv2",
            "rowType": rows_type,
            "partitionInfo": partitions
                .iter()
                .map(|p| json!({ "rowCount": p.len(), "uncompressedSize": 64 * p.len() }))
                .collect::<Vec<_>>(),
        });
        self.handles.lock().unwrap().insert(
            handle.clone(),
            Pending {
                meta,
                partitions,
                polls,
            },
        );
        if polls > 0 {
            return (StatusCode::ACCEPTED, Json(running(&handle)));
        }
        self.finished(&handle, 0)
    }

    fn finished(&self, handle: &str, partition: usize) -> Answer {
        let handles = self.handles.lock().unwrap();
        let Some(pending) = handles.get(handle) else {
            return error(StatusCode::NOT_FOUND, "000709", "Statement not found.");
        };
        let Some(data) = pending.partitions.get(partition) else {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "000000",
                "No such partition.",
            );
        };
        let mut body = json!({ "code": "090001", "data": data, "statementHandle": handle });
        // Partitions after the first carry only their data.
        if partition == 0 {
            body["resultSetMetaData"] = pending.meta.clone();
            body["sqlState"] = json!("00000");
            body["message"] = json!("Statement executed successfully.");
            body["statementStatusUrl"] = json!(format!("/api/v2/statements/{handle}"));
        }
        (StatusCode::OK, Json(body))
    }

    fn poll(&self, handle: &str, partition: Option<usize>) -> Answer {
        {
            let mut handles = self.handles.lock().unwrap();
            let Some(pending) = handles.get_mut(handle) else {
                return error(StatusCode::NOT_FOUND, "000709", "Statement not found.");
            };
            if pending.polls > 0 {
                if pending.polls != usize::MAX {
                    pending.polls -= 1;
                }
                return (StatusCode::ACCEPTED, Json(running(handle)));
            }
        }
        self.finished(handle, partition.unwrap_or(0))
    }
}

fn running(handle: &str) -> Value {
    json!({
        "code": "333334",
        "message": "Asynchronous execution in progress. Use provided query id to perform query \
                    monitoring and management.",
        "statementHandle": handle,
        "statementStatusUrl": format!("/api/v2/statements/{handle}"),
    })
}

/// `rowType` entries and rows for `statement`, or the compilation error Snowflake would give.
fn answer(
    databases: &[Database],
    statement: &str,
    bindings: &[String],
) -> Result<(Vec<Value>, Rows), String> {
    let text = |v: &str| Some(v.to_owned());
    let opt = |v: Option<&str>| v.map(str::to_owned);
    let row_type = |names: &[&str]| -> Vec<Value> {
        names
            .iter()
            .map(|n| json!({ "name": n, "type": "text", "nullable": true }))
            .collect()
    };
    if statement == "SELECT CURRENT_VERSION()" {
        return Ok((row_type(&["CURRENT_VERSION()"]), vec![vec![text(VERSION)]]));
    }
    if statement == "SHOW DATABASES" {
        let names = [
            "created_on",
            "name",
            "is_default",
            "is_current",
            "origin",
            "owner",
            "comment",
            "options",
            "retention_time",
            "kind",
        ];
        let rows = databases
            .iter()
            .map(|d| {
                vec![
                    text("1704067200.000000000"),
                    text(d.name),
                    text("N"),
                    text("N"),
                    text(""),
                    text("SYSADMIN"),
                    opt(d.comment),
                    text(""),
                    text("1"),
                    text("STANDARD"),
                ]
            })
            .collect();
        return Ok((row_type(&names), rows));
    }
    if let Some(rest) = statement.strip_prefix("SHOW PRIMARY KEYS IN DATABASE ") {
        let database = find_database(databases, &unquote(rest)?)?;
        let names = [
            "created_on",
            "database_name",
            "schema_name",
            "table_name",
            "column_name",
            "key_sequence",
            "constraint_name",
            "rely",
            "comment",
        ];
        let mut rows = Vec::new();
        for table in &database.tables {
            for column in &table.columns {
                if let Some(position) = column.key {
                    rows.push(vec![
                        text("1704067200.000000000"),
                        text(database.name),
                        text(table.schema),
                        text(table.name),
                        text(column.name),
                        Some(position.to_string()),
                        Some(format!("SYS_CONSTRAINT_{}", table.name)),
                        text("false"),
                        None,
                    ]);
                }
            }
        }
        return Ok((row_type(&names), rows));
    }
    if let Some(rest) = statement.strip_prefix("SHOW IMPORTED KEYS IN DATABASE ") {
        let database = find_database(databases, &unquote(rest)?)?;
        let names = [
            "created_on",
            "pk_database_name",
            "pk_schema_name",
            "pk_table_name",
            "pk_column_name",
            "fk_database_name",
            "fk_schema_name",
            "fk_table_name",
            "fk_column_name",
            "key_sequence",
            "update_rule",
            "delete_rule",
            "fk_name",
            "pk_name",
            "deferrability",
            "rely",
            "comment",
        ];
        let mut rows = Vec::new();
        for table in &database.tables {
            for column in &table.columns {
                if let Some((schema, referenced, referenced_column)) = column.references {
                    rows.push(vec![
                        text("1704067200.000000000"),
                        text(database.name),
                        text(schema),
                        text(referenced),
                        text(referenced_column),
                        text(database.name),
                        text(table.schema),
                        text(table.name),
                        text(column.name),
                        text("1"),
                        text("NO ACTION"),
                        text("NO ACTION"),
                        Some(format!("FK_{}_{}", table.name, column.name)),
                        Some(format!("SYS_CONSTRAINT_{referenced}")),
                        text("NOT DEFERRABLE"),
                        text("false"),
                        None,
                    ]);
                }
            }
        }
        return Ok((row_type(&names), rows));
    }
    if statement.contains(" SAMPLE (") {
        return sample(databases, statement);
    }
    information_schema(databases, statement, bindings)
}

/// `"NAME"` → `NAME` (with `""` → `"`).
fn unquote(quoted: &str) -> Result<String, String> {
    quoted
        .trim()
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .map(|q| q.replace("\"\"", "\""))
        .ok_or_else(|| format!("SQL compilation error: expected a quoted identifier: {quoted}"))
}

fn find_database<'d>(databases: &'d [Database], name: &str) -> Result<&'d Database, String> {
    databases
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| format!("Database '{name}' does not exist or not authorized."))
}

/// The `SELECT` list of a statement.
fn select_list(statement: &str) -> Result<Vec<String>, String> {
    let body = statement
        .strip_prefix("SELECT ")
        .and_then(|rest| rest.split_once(" FROM "))
        .map(|(list, _)| list)
        .ok_or_else(|| format!("SQL compilation error: cannot read {statement:?}"))?;
    Ok(body.split(", ").map(|c| c.trim().to_owned()).collect())
}

/// `SELECT <columns> FROM "DB".INFORMATION_SCHEMA.<VIEW> WHERE …`, over the catalog.
fn information_schema(
    databases: &[Database],
    statement: &str,
    bindings: &[String],
) -> Result<(Vec<Value>, Rows), String> {
    let unknown = || format!("SQL compilation error: unknown statement {statement:?}");
    let selected = select_list(statement)?;
    let (_, from) = statement.split_once(" FROM ").ok_or_else(unknown)?;
    let (database, rest) = from
        .split_once(".INFORMATION_SCHEMA.")
        .ok_or_else(unknown)?;
    let database = find_database(databases, &unquote(database)?)?;
    let view = rest.split_whitespace().next().ok_or_else(unknown)?;
    if !statement.contains("<> 'INFORMATION_SCHEMA'") && !statement.contains("TABLE_SCHEMA = ?") {
        return Err(format!(
            "the connector must leave INFORMATION_SCHEMA out: {statement}"
        ));
    }
    let placeholders = statement.matches('?').count();
    if placeholders != bindings.len() {
        return Err(format!(
            "{placeholders} placeholders but {} bindings",
            bindings.len()
        ));
    }
    let text = |v: &str| Some(v.to_owned());
    let mut records: Vec<BTreeMap<&str, Option<String>>> = Vec::new();
    match view {
        "SCHEMATA" => {
            for (name, comment) in &database.schemas {
                records.push(BTreeMap::from([
                    ("SCHEMA_NAME", text(name)),
                    ("COMMENT", comment.map(str::to_owned)),
                ]));
            }
        }
        "TABLES" => {
            for table in &database.tables {
                records.push(BTreeMap::from([
                    ("TABLE_SCHEMA", text(table.schema)),
                    ("TABLE_NAME", text(table.name)),
                    (
                        "TABLE_TYPE",
                        text(if table.view.is_some() {
                            "VIEW"
                        } else {
                            "BASE TABLE"
                        }),
                    ),
                    (
                        "ROW_COUNT",
                        table.view.is_none().then(|| table.rows.len().to_string()),
                    ),
                    ("COMMENT", table.comment.map(str::to_owned)),
                ]));
            }
        }
        "VIEWS" => {
            for table in database.tables.iter().filter(|t| t.view.is_some()) {
                records.push(BTreeMap::from([
                    ("TABLE_SCHEMA", text(table.schema)),
                    ("TABLE_NAME", text(table.name)),
                    ("VIEW_DEFINITION", table.view.map(str::to_owned)),
                ]));
            }
        }
        "COLUMNS" => {
            let schema = bindings
                .first()
                .filter(|_| statement.contains("WHERE TABLE_SCHEMA = ?"))
                .ok_or("COLUMNS must be read one schema at a time")?;
            let names: Option<&[String]> = statement
                .contains("AND TABLE_NAME IN (")
                .then(|| &bindings[1..]);
            for table in &database.tables {
                if table.schema != schema
                    || names.is_some_and(|names| !names.iter().any(|n| n == table.name))
                {
                    continue;
                }
                for (i, column) in table.columns.iter().enumerate() {
                    records.push(BTreeMap::from([
                        ("TABLE_SCHEMA", text(table.schema)),
                        ("TABLE_NAME", text(table.name)),
                        ("COLUMN_NAME", text(column.name)),
                        ("ORDINAL_POSITION", Some((i + 1).to_string())),
                        ("DATA_TYPE", text(column.data_type)),
                        (
                            "CHARACTER_MAXIMUM_LENGTH",
                            column.length.map(|l| l.to_string()),
                        ),
                        (
                            "NUMERIC_PRECISION",
                            column.precision_scale.map(|(p, _)| p.to_string()),
                        ),
                        (
                            "NUMERIC_SCALE",
                            column.precision_scale.map(|(_, s)| s.to_string()),
                        ),
                        (
                            "IS_NULLABLE",
                            text(if column.nullable { "YES" } else { "NO" }),
                        ),
                        ("COLUMN_DEFAULT", column.default.map(str::to_owned)),
                        ("IS_IDENTITY", text("NO")),
                        ("IDENTITY_START", None),
                        ("IDENTITY_INCREMENT", None),
                        ("COMMENT", column.comment.map(str::to_owned)),
                    ]));
                }
            }
        }
        other => return Err(format!("SQL compilation error: no view {other}")),
    }
    let mut rows = Vec::new();
    for record in records {
        let mut row = Vec::new();
        for name in &selected {
            let value = record
                .get(name.as_str())
                .ok_or_else(|| format!("SQL compilation error: invalid identifier '{name}'"))?;
            row.push(value.clone());
        }
        rows.push(row);
    }
    let types = selected
        .iter()
        .map(|name| json!({ "name": name, "type": "text", "nullable": true }))
        .collect();
    Ok((types, rows))
}

/// `SELECT "A", "B" FROM "DB"."SCHEMA"."T" SAMPLE (N ROWS)`: the first N rows.
fn sample(databases: &[Database], statement: &str) -> Result<(Vec<Value>, Rows), String> {
    let selected: Vec<String> = select_list(statement)?
        .iter()
        .map(|c| unquote(c))
        .collect::<Result<_, _>>()?;
    let (_, from) = statement.split_once(" FROM ").unwrap();
    let (relation, count) = from
        .split_once(" SAMPLE (")
        .ok_or("SQL compilation error: SAMPLE expected")?;
    let count: usize = count
        .strip_suffix(" ROWS)")
        .and_then(|n| n.parse().ok())
        .ok_or("SQL compilation error: SAMPLE (N ROWS) expected")?;
    let parts: Vec<String> = relation
        .split("\".\"")
        .map(|p| p.trim_matches('"').to_owned())
        .collect();
    let [database, schema, name] = parts.as_slice() else {
        return Err(format!(
            "SQL compilation error: {relation} is not DB.SCHEMA.NAME"
        ));
    };
    let database = find_database(databases, database)?;
    let table = database
        .tables
        .iter()
        .find(|t| t.schema == schema && t.name == name)
        .ok_or_else(|| format!("Object '{relation}' does not exist or not authorized."))?;
    let mut positions = Vec::new();
    let mut types = Vec::new();
    for name in &selected {
        let position = table
            .columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| format!("SQL compilation error: invalid identifier '{name}'"))?;
        let column = &table.columns[position];
        types.push(json!({ "name": name, "type": column.row_type(), "nullable": column.nullable }));
        positions.push(position);
    }
    let rows = table
        .rows
        .iter()
        .take(count)
        .map(|row| positions.iter().map(|&p| row[p].clone()).collect())
        .collect();
    Ok((types, rows))
}

async fn submit(
    State(account): State<Arc<Account>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let statement = body["statement"].as_str().map(str::to_owned);
    account.record(Seen {
        method: "POST",
        path: "/api/v2/statements".into(),
        query,
        statement: statement.clone(),
        body: body.clone(),
        headers: headers.clone(),
    });
    if let Err(refused) = account.check_auth(&headers) {
        return refused;
    }
    let Some(statement) = statement else {
        return error(StatusCode::BAD_REQUEST, "391902", "statement is required");
    };
    let mut bindings = Vec::new();
    if let Some(map) = body["bindings"].as_object() {
        for i in 1..=map.len() {
            let binding = &map[&i.to_string()];
            assert_eq!(binding["type"], "TEXT");
            bindings.push(binding["value"].as_str().unwrap().to_owned());
        }
    }
    account.submit(&statement, &bindings)
}

async fn status(
    State(account): State<Arc<Account>>,
    Path(handle): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Answer {
    let partition = query.get("partition").and_then(|p| p.parse().ok());
    account.record(Seen {
        method: "GET",
        path: format!("/api/v2/statements/{handle}"),
        query,
        statement: None,
        body: Value::Null,
        headers: headers.clone(),
    });
    if let Err(refused) = account.check_auth(&headers) {
        return refused;
    }
    account.poll(&handle, partition)
}

async fn cancel(
    State(account): State<Arc<Account>>,
    Path(handle): Path<String>,
    headers: HeaderMap,
) -> Answer {
    account.record(Seen {
        method: "POST",
        path: format!("/api/v2/statements/{handle}/cancel"),
        query: HashMap::new(),
        statement: None,
        body: Value::Null,
        headers: headers.clone(),
    });
    if let Err(refused) = account.check_auth(&headers) {
        return refused;
    }
    account.handles.lock().unwrap().remove(&handle);
    (
        StatusCode::OK,
        Json(
            json!({ "code": "000604", "message": "Statement canceled.", "statementHandle": handle }),
        ),
    )
}

/// A running stand-in; stops when dropped.
struct FakeSnowflake {
    base_url: String,
    account: Arc<Account>,
    task: JoinHandle<()>,
}

impl FakeSnowflake {
    async fn start(auth: Auth, behaviour: Behaviour) -> Self {
        let user_key = match auth {
            Auth::KeyPair => Some((USER_KEY.public_pem.clone(), USER_KEY.fingerprint.clone())),
            Auth::OAuth => None,
        };
        let account = Arc::new(Account {
            databases: account(),
            user_key,
            behaviour,
            seen: Mutex::new(Vec::new()),
            handles: Mutex::new(HashMap::new()),
            failed_once: Mutex::new(false),
            next_handle: AtomicU64::new(1),
        });
        let router = Router::new()
            .route("/api/v2/statements", post(submit))
            .route("/api/v2/statements/{handle}", get(status))
            .route("/api/v2/statements/{handle}/cancel", post(cancel))
            .with_state(Arc::clone(&account));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self {
            base_url,
            account,
            task,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.account.seen.lock().unwrap().clone()
    }

    /// The statements submitted, in order.
    fn statements(&self) -> Vec<String> {
        self.seen()
            .into_iter()
            .filter_map(|s| s.statement)
            .collect()
    }
}

impl Drop for FakeSnowflake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

enum Auth {
    KeyPair,
    OAuth,
}

// ---- helpers ----------------------------------------------------------------------------------

fn target(base_url: &str, database: Option<&str>, secret: &str) -> SnowflakeTarget {
    let input = DataSourceConfigInput {
        name: Some("Snowflake under test".into()),
        kind: Some("snowflake".into()),
        database: database.map(Into::into),
        username: Some(USER.into()),
        password_secret: Some("env:PURSIGHT_TEST_SNOWFLAKE_KEY".into()),
        cloud_config: Some(CloudConfigInput {
            account: Some(ACCOUNT.into()),
            endpoint_url: Some(base_url.into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let config = input.parse().unwrap_or_else(|e| panic!("test config: {e}"));
    let ConnectionTarget::Snowflake(target) =
        ConnectionTarget::from_config(&config, &SourceSecrets::password(SecretValue::new(secret)))
            .unwrap()
    else {
        panic!("a snowflake target");
    };
    target
}

fn key_target(server: &FakeSnowflake, database: Option<&str>) -> SnowflakeTarget {
    target(&server.base_url, database, &USER_KEY.private_pem)
}

fn options(scope: ScanScope, strategy: ScanStrategy) -> DiscoveryOptions {
    DiscoveryOptions {
        scope,
        strategy,
        query_timeout: Duration::from_secs(10),
    }
}

fn everything() -> DiscoveryOptions {
    options(ScanScope::everything(), ScanStrategy::Auto)
}

fn path(p: &str) -> AssetPath {
    AssetPath::parse(p).unwrap()
}

fn paths(assets: &[AssetSchema]) -> Vec<String> {
    assets.iter().map(|a| a.path.to_string()).collect()
}

fn asset<'a>(assets: &'a [AssetSchema], p: &str) -> &'a AssetSchema {
    assets
        .iter()
        .find(|a| a.path == path(p))
        .unwrap_or_else(|| panic!("no asset {p} in {:?}", paths(assets)))
}

/// `(name, type, nullable, default, primary key)` of each column in order.
fn columns(asset: &AssetSchema) -> Vec<(&str, &str, bool, Option<&str>, bool)> {
    asset
        .columns
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.data_type.as_str(),
                c.nullable,
                c.default.as_deref(),
                c.primary_key,
            )
        })
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Runs a discovery, collecting its progress reports.
async fn run(
    target: &SnowflakeTarget,
    options: &DiscoveryOptions,
) -> Result<(connectors::probe::Discovery, Vec<DiscoveryProgress>), DiscoveryError> {
    let reports = Mutex::new(Vec::new());
    let discovery = discover(target, options, &|p| reports.lock().unwrap().push(p)).await?;
    Ok((discovery, reports.into_inner().unwrap()))
}

fn assert_hidden(secret: &str, texts: &[String]) {
    for text in texts {
        assert!(!text.contains(secret), "a secret leaked into: {text}");
    }
}

/// A port nothing listens on.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

// ---- validation -------------------------------------------------------------------------------

#[tokio::test]
async fn validate_signs_a_jwt_and_reports_latency_and_version() {
    let server = FakeSnowflake::start(Auth::KeyPair, Behaviour::default()).await;
    let target = key_target(
        &server,
        Some("SHOP/PUBLIC?warehouse=SCAN_WH&role=GOVERNANCE"),
    );
    let info = validate(&target, Duration::from_secs(5)).await.unwrap();
    assert_eq!(info.server_version.as_deref(), Some(VERSION));
    assert!(info.latency_ms < 5000);

    let seen = server.seen();
    assert_eq!(seen.len(), 1, "one statement, no retries");
    let request = &seen[0];
    assert_eq!(
        request.statement.as_deref(),
        Some("SELECT CURRENT_VERSION()")
    );
    assert_eq!(request.body["database"], "SHOP");
    assert_eq!(request.body["schema"], "PUBLIC");
    assert_eq!(request.body["warehouse"], "SCAN_WH");
    assert_eq!(request.body["role"], "GOVERNANCE");
    assert_eq!(request.body["timeout"], 5);
    assert!(request.query.contains_key("requestId"));
    let header = |name: &str| request.headers[name].to_str().unwrap().to_owned();
    assert_eq!(
        header("x-snowflake-authorization-token-type"),
        "KEYPAIR_JWT"
    );
    assert_eq!(header("accept"), "application/json");
    assert!(header("user-agent").starts_with("pursight/"));
    assert_hidden(
        "PRIVATE KEY",
        &[
            format!("{target:?}"),
            target.to_string(),
            format!("{info:?}"),
        ],
    );
}

#[tokio::test]
async fn a_key_the_user_does_not_have_is_an_auth_failure() {
    let server = FakeSnowflake::start(Auth::KeyPair, Behaviour::default()).await;
    let target = target(&server.base_url, None, &OTHER_KEY.private_pem);
    let failure = validate(&target, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Auth, "{failure}");
    assert!(failure.message.contains("401"), "{}", failure.message);

    let error = discover(&target, &everything(), &|_| {}).await.unwrap_err();
    let DiscoveryError::Connection(failure) = &error else {
        panic!("expected a connection failure, got {error:?}");
    };
    assert_eq!(failure.category, FailureCategory::Auth);

    // Text that is no key at all is refused before any request, without being quoted.
    let garbage = "-----BEGIN PRIVATE KEY-----\nnot-a-key-TOPSECRET\n-----END PRIVATE KEY-----";
    let before = server.seen().len();
    let failure = validate(
        &self::target(&server.base_url, None, garbage),
        Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Auth);
    assert_eq!(server.seen().len(), before);
    let private_body = OTHER_KEY.private_pem.lines().nth(1).unwrap().to_owned();
    assert_hidden("TOPSECRET", &[failure.to_string(), format!("{failure:?}")]);
    assert_hidden(&private_body, &[error.to_string(), format!("{error:?}")]);
}

#[tokio::test]
async fn oauth_tokens_are_sent_as_they_are_and_never_shown() {
    let server = FakeSnowflake::start(Auth::OAuth, Behaviour::default()).await;
    let oauth = |token: &str| target(&server.base_url, Some("SHOP?authenticator=oauth"), token);
    let info = validate(&oauth(OAUTH_TOKEN), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(info.server_version.as_deref(), Some(VERSION));
    let seen = server.seen();
    assert_eq!(
        seen[0].headers["x-snowflake-authorization-token-type"],
        "OAUTH"
    );

    let wrong = oauth("expired-token-TOPSECRET");
    let failure = validate(&wrong, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Auth);
    assert_hidden(
        "TOPSECRET",
        &[
            failure.to_string(),
            format!("{failure:?}"),
            format!("{wrong:?}"),
            wrong.to_string(),
        ],
    );
}

#[tokio::test]
async fn an_account_nobody_answers_for_is_unreachable() {
    let base_url = format!("http://127.0.0.1:{}", closed_port().await);
    let target = target(&base_url, None, &USER_KEY.private_pem);
    let failure = validate(&target, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(failure.category, FailureCategory::Unreachable, "{failure}");

    let error = discover(&target, &everything(), &|_| {}).await.unwrap_err();
    match error {
        DiscoveryError::Connection(failure) => {
            assert_eq!(failure.category, FailureCategory::Unreachable)
        }
        other => panic!("expected a connection failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_statement_that_never_finishes_times_out_and_is_cancelled() {
    let behaviour = Behaviour {
        never_finish: Some("CURRENT_VERSION"),
        ..Behaviour::default()
    };
    let server = FakeSnowflake::start(Auth::KeyPair, behaviour).await;
    let failure = validate(&key_target(&server, None), Duration::from_secs(1))
        .await
        .unwrap_err();
    assert_eq!(failure.category, FailureCategory::Timeout, "{failure}");
    let seen = server.seen();
    assert!(
        seen.iter().any(|s| s.method == "GET"),
        "the running statement was polled"
    );
    assert!(
        seen.iter().any(|s| s.path.ends_with("/cancel")),
        "the abandoned statement was cancelled"
    );
}

// ---- discovery --------------------------------------------------------------------------------

#[tokio::test]
async fn discovery_reads_tables_views_columns_keys_and_view_lineage() {
    // `SHOW DATABASES` runs asynchronously: answered 202, then polled.
    let behaviour = Behaviour {
        asynchronous: Some("SHOW DATABASES"),
        ..Behaviour::default()
    };
    let server = FakeSnowflake::start(Auth::KeyPair, behaviour).await;
    let (discovery, reports) = run(&key_target(&server, Some("SHOP")), &everything())
        .await
        .unwrap();
    let assets = &discovery.assets;
    assert_eq!(
        paths(assets),
        [
            "SHOP",
            "SHOP.PUBLIC",
            "SHOP.PUBLIC.CUSTOMERS",
            "SHOP.PUBLIC.CUSTOMER_ORDERS",
            "SHOP.PUBLIC.ORDERS",
            "SHOP.STAGING",
            "SHOP.STAGING.AUDIT_LOG",
            "SHOP.STAGING.RAW_EVENTS",
        ]
    );
    assert_eq!(asset(assets, "SHOP").kind, AssetKind::Database);
    assert_eq!(asset(assets, "SHOP").comment.as_deref(), Some("Web shop"));
    assert_eq!(asset(assets, "SHOP.PUBLIC").kind, AssetKind::Schema);
    assert_eq!(
        asset(assets, "SHOP.PUBLIC").comment.as_deref(),
        Some("Live data")
    );

    let customers = asset(assets, "SHOP.PUBLIC.CUSTOMERS");
    assert_eq!(customers.kind, AssetKind::Table);
    assert_eq!(customers.comment.as_deref(), Some("People who buy"));
    assert_eq!(customers.row_estimate, Some(2));
    assert_eq!(
        columns(customers),
        [
            ("ID", "NUMBER(38,0)", false, None, true),
            ("EMAIL", "VARCHAR(255)", false, None, false),
            ("BIRTH_DATE", "DATE", true, None, false),
            (
                "CREATED_AT",
                "TIMESTAMP_NTZ",
                true,
                Some("CURRENT_TIMESTAMP()"),
                false
            ),
            ("PROFILE", "VARIANT", true, None, false),
        ]
    );
    assert_eq!(customers.columns[1].comment.as_deref(), Some("login"));
    assert_eq!(customers.columns[4].ordinal, 5);
    assert!(customers.indexes.is_empty() && customers.view_definition.is_none());

    let orders = asset(assets, "SHOP.PUBLIC.ORDERS");
    assert_eq!(
        columns(orders),
        [
            ("ID", "NUMBER(38,0)", false, None, true),
            ("CUSTOMER_ID", "NUMBER(38,0)", false, None, false),
            ("TOTAL", "NUMBER(10,2)", true, None, false),
            ("PAID", "BOOLEAN", true, Some("FALSE"), false),
        ]
    );

    let view = asset(assets, "SHOP.PUBLIC.CUSTOMER_ORDERS");
    assert_eq!(view.kind, AssetKind::View);
    assert_eq!(view.row_estimate, None);
    assert!(view
        .view_definition
        .as_deref()
        .unwrap()
        .starts_with("create or replace view SHOP.PUBLIC.CUSTOMER_ORDERS"));
    assert_eq!(
        orders.foreign_keys,
        [ForeignKey {
            name: "FK_ORDERS_CUSTOMER_ID".into(),
            columns: strings(&["CUSTOMER_ID"]),
            referenced: path("SHOP.PUBLIC.CUSTOMERS"),
            referenced_columns: strings(&["ID"]),
        }]
    );
    assert_eq!(
        discovery.lineage,
        vec![
            LineageEdge {
                from: path("SHOP.PUBLIC.CUSTOMERS"),
                from_columns: strings(&["EMAIL"]),
                to: path("SHOP.PUBLIC.CUSTOMER_ORDERS"),
                to_columns: strings(&["EMAIL"]),
                kind: LineageKind::View,
            },
            LineageEdge {
                from: path("SHOP.PUBLIC.CUSTOMERS"),
                from_columns: strings(&["ID"]),
                to: path("SHOP.PUBLIC.ORDERS"),
                to_columns: strings(&["CUSTOMER_ID"]),
                kind: LineageKind::ForeignKey,
            },
            LineageEdge {
                from: path("SHOP.PUBLIC.ORDERS"),
                from_columns: strings(&["TOTAL"]),
                to: path("SHOP.PUBLIC.CUSTOMER_ORDERS"),
                to_columns: strings(&["TOTAL"]),
                kind: LineageKind::View,
            },
        ]
    );

    // Catalog statements are per database and per schema, never per table.
    let statements = server.statements();
    let columns_statements: Vec<&String> = statements
        .iter()
        .filter(|s| s.contains("INFORMATION_SCHEMA.COLUMNS"))
        .collect();
    assert_eq!(
        columns_statements.len(),
        2,
        "one per schema: {columns_statements:?}"
    );
    assert!(columns_statements
        .iter()
        .all(|s| !s.contains("TABLE_NAME IN")));
    assert_eq!(statements.len(), 8, "{statements:?}");
    assert!(statements.contains(&"SHOW PRIMARY KEYS IN DATABASE \"SHOP\"".to_owned()));
    assert!(statements.contains(&"SHOW IMPORTED KEYS IN DATABASE \"SHOP\"".to_owned()));
    let polls = server.seen().iter().filter(|s| s.method == "GET").count();
    assert_eq!(
        polls, 2,
        "the asynchronous SHOW DATABASES was polled until done"
    );

    let metrics = &discovery.metrics;
    assert_eq!((metrics.schemas, metrics.tables, metrics.views), (2, 4, 1));
    assert_eq!(metrics.columns, 5 + 4 + 2 + 2 + 2);
    assert_eq!(metrics.queries_executed, 10, "8 statements and 2 polls");
    assert_eq!((metrics.retries, metrics.errors), (0, 0));
    let last = reports.last().unwrap();
    assert_eq!(last.assets_done, 8);
    assert_eq!(last.assets_total, Some(8));
}

#[tokio::test]
async fn without_a_database_every_database_but_snowflakes_own_is_discovered() {
    let server = FakeSnowflake::start(Auth::KeyPair, Behaviour::default()).await;
    let (discovery, _) = run(&key_target(&server, None), &everything())
        .await
        .unwrap();
    let found = paths(&discovery.assets);
    assert!(
        found.contains(&"HR.PEOPLE.EMPLOYEES".to_owned()),
        "{found:?}"
    );
    assert!(
        found.contains(&"SHOP.PUBLIC.ORDERS".to_owned()),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|p| p.starts_with("SNOWFLAKE")),
        "{found:?}"
    );
    let employees = asset(&discovery.assets, "HR.PEOPLE.EMPLOYEES");
    assert!(employees.columns[0].primary_key);

    // A configured name written unquoted finds the upper-case database.
    let (discovery, _) = run(&key_target(&server, Some("hr")), &everything())
        .await
        .unwrap();
    assert_eq!(
        paths(&discovery.assets),
        ["HR", "HR.PEOPLE", "HR.PEOPLE.EMPLOYEES"]
    );
    let error = run(&key_target(&server, Some("NOPE")), &everything())
        .await
        .unwrap_err();
    assert!(matches!(error, DiscoveryError::Query { .. }), "{error:?}");
}

#[tokio::test]
async fn the_scope_limits_what_is_discovered_and_read() {
    let server = FakeSnowflake::start(Auth::KeyPair, Behaviour::default()).await;
    let target = key_target(&server, None);

    let scope = ScanScope::parse(["SHOP.PUBLIC.CUSTOMER*"], Vec::<&str>::new()).unwrap();
    let (discovery, _) = run(&target, &options(scope, ScanStrategy::Conservative))
        .await
        .unwrap();
    assert_eq!(
        paths(&discovery.assets),
        [
            "SHOP",
            "SHOP.PUBLIC",
            "SHOP.PUBLIC.CUSTOMERS",
            "SHOP.PUBLIC.CUSTOMER_ORDERS"
        ]
    );
    // The view reads ORDERS, out of scope but known: its lineage is still there.
    assert!(discovery
        .lineage
        .iter()
        .any(|e| e.from == path("SHOP.PUBLIC.ORDERS")));
    let statements = server.statements();
    assert!(
        !statements.iter().any(|s| s.contains("\"HR\"")),
        "nothing is read from a database out of scope: {statements:?}"
    );
    let columns: Vec<&String> = statements
        .iter()
        .filter(|s| s.contains("INFORMATION_SCHEMA.COLUMNS"))
        .collect();
    assert_eq!(columns.len(), 1);
    assert!(
        columns[0].contains("AND TABLE_NAME IN (?, ?)"),
        "{}",
        columns[0]
    );

    // Excludes win over includes.
    let scope = ScanScope::parse(["SHOP.**"], ["SHOP.STAGING.**", "SHOP.PUBLIC.ORDERS"]).unwrap();
    let (discovery, _) = run(&target, &options(scope, ScanStrategy::Aggressive))
        .await
        .unwrap();
    assert_eq!(
        paths(&discovery.assets),
        [
            "SHOP",
            "SHOP.PUBLIC",
            "SHOP.PUBLIC.CUSTOMERS",
            "SHOP.PUBLIC.CUSTOMER_ORDERS"
        ]
    );

    let elsewhere = ScanScope::parse(["OTHER.**"], Vec::<&str>::new()).unwrap();
    let (discovery, _) = run(&target, &options(elsewhere, ScanStrategy::Auto))
        .await
        .unwrap();
    assert!(discovery.assets.is_empty() && discovery.lineage.is_empty());
}

#[tokio::test]
async fn large_results_are_read_partition_by_partition() {
    let whole = FakeSnowflake::start(Auth::KeyPair, Behaviour::default()).await;
    let (expected, _) = run(&key_target(&whole, Some("SHOP")), &everything())
        .await
        .unwrap();

    let behaviour = Behaviour {
        partition_rows: Some(2),
        ..Behaviour::default()
    };
    let server = FakeSnowflake::start(Auth::KeyPair, behaviour).await;
    let target = key_target(&server, Some("SHOP"));
    let (discovery, _) = run(&target, &everything()).await.unwrap();
    assert_eq!(discovery.assets, expected.assets);
    assert_eq!(discovery.lineage, expected.lineage);
    let partition_reads = server
        .seen()
        .iter()
        .filter(|s| s.query.contains_key("partition"))
        .count();
    // The 5 + 4 + 2 columns of PUBLIC's relations come in one COLUMNS result: 6 partitions.
    assert!(partition_reads >= 5, "{partition_reads} partition reads");

    let raw_events = asset(&discovery.assets, "SHOP.STAGING.RAW_EVENTS");
    let sample = connectors::live::sample(
        &ConnectionTarget::Snowflake(target),
        raw_events,
        100,
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(sample.rows, 7);
    let seqs: Vec<String> = sample.columns[0]
        .values
        .iter()
        .map(|v| v.clone().unwrap())
        .collect();
    assert_eq!(seqs, strings(&["1", "2", "3", "4", "5", "6", "7"]));
    let partitions: Vec<String> = server
        .seen()
        .iter()
        .filter_map(|s| s.query.get("partition").cloned())
        .collect();
    assert!(
        partitions.ends_with(&strings(&["1", "2", "3"])),
        "{partitions:?}"
    );
}

#[tokio::test]
async fn an_unavailable_service_is_asked_again_with_the_same_request_id() {
    let behaviour = Behaviour {
        fail_once: Some("INFORMATION_SCHEMA.TABLES"),
        ..Behaviour::default()
    };
    let server = FakeSnowflake::start(Auth::KeyPair, behaviour).await;
    let (discovery, reports) = run(&key_target(&server, Some("SHOP")), &everything())
        .await
        .unwrap();
    assert_eq!(discovery.metrics.tables, 4);
    assert_eq!(discovery.metrics.retries, 1);
    assert_eq!(discovery.metrics.errors, 1);
    let tables: Vec<Seen> = server
        .seen()
        .into_iter()
        .filter(|s| {
            s.statement
                .as_deref()
                .is_some_and(|s| s.contains("INFORMATION_SCHEMA.TABLES"))
        })
        .collect();
    assert_eq!(tables.len(), 2);
    assert_eq!(tables[0].query["requestId"], tables[1].query["requestId"]);
    assert_eq!(
        tables[1].query.get("retry").map(String::as_str),
        Some("true")
    );
    // `auto` slowed down after the trouble.
    assert_eq!(
        reports.last().unwrap().current_strategy,
        ScanStrategy::Conservative
    );
}

// ---- sampling ---------------------------------------------------------------------------------

#[tokio::test]
async fn sampling_returns_every_column_rendered_as_text() {
    let server = FakeSnowflake::start(Auth::KeyPair, Behaviour::default()).await;
    let target = ConnectionTarget::Snowflake(key_target(&server, Some("SHOP")));
    let discovery = connectors::live::discover(&target, &everything(), &|_| {})
        .await
        .unwrap();
    let customers = asset(&discovery.assets, "SHOP.PUBLIC.CUSTOMERS");
    let sample = connectors::live::sample(&target, customers, 10, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(sample.rows, 2);
    let by_column: BTreeMap<&str, Vec<Option<&str>>> = sample
        .columns
        .iter()
        .map(|c| {
            (
                c.column.as_str(),
                c.values.iter().map(Option::as_deref).collect(),
            )
        })
        .collect();
    assert_eq!(
        sample
            .columns
            .iter()
            .map(|c| c.column.as_str())
            .collect::<Vec<_>>(),
        ["ID", "EMAIL", "BIRTH_DATE", "CREATED_AT", "PROFILE"]
    );
    assert_eq!(by_column["ID"], [Some("1"), Some("2")]);
    assert_eq!(
        by_column["EMAIL"],
        [Some("ada@example.com"), Some("alan@example.com")]
    );
    assert_eq!(by_column["BIRTH_DATE"], [Some("1840-01-01"), None]);
    assert_eq!(
        by_column["CREATED_AT"],
        [Some("2024-01-01T12:34:56.123"), Some("2024-01-02T12:34:56")]
    );
    assert_eq!(by_column["PROFILE"], [Some(r#"{"tier":"gold"}"#), None]);
    let statement = server.statements().pop().unwrap();
    assert_eq!(
        statement,
        "SELECT \"ID\", \"EMAIL\", \"BIRTH_DATE\", \"CREATED_AT\", \"PROFILE\" \
         FROM \"SHOP\".\"PUBLIC\".\"CUSTOMERS\" SAMPLE (10 ROWS)"
    );

    let orders = asset(&discovery.assets, "SHOP.PUBLIC.ORDERS");
    let one = connectors::live::sample(&target, orders, 1, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(one.rows, 1);
    assert!(one.columns.iter().all(|c| c.values.len() == 1));
    assert_eq!(one.columns[3].values, [Some("true".to_owned())]);

    // Sampling a container is not possible.
    let schema = asset(&discovery.assets, "SHOP.PUBLIC");
    let error = connectors::live::sample(&target, schema, 10, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(error, DiscoveryError::Unsupported(_)), "{error:?}");
}
