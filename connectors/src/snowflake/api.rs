//! [`Api`]: one statement at a time over the Snowflake SQL API v2, as documented:
//!
//! 1. `POST {base}/api/v2/statements?requestId=<uuid>` with `{"statement", "timeout",
//!    "database", "schema", "warehouse", "role", "bindings"}` and the headers `Authorization:
//!    Bearer <token>`, `X-Snowflake-Authorization-Token-Type`, `Accept: application/json`,
//!    `User-Agent`. Values always travel as `?` bindings; only identifiers are written into the
//!    statement text (quoted, see [`quote_ident`]).
//! 2. `200` is a `ResultSet` (`resultSetMetaData{numRows, rowType, partitionInfo}`, `data` as
//!    arrays of strings and nulls, code `090001`); `202` a `QueryStatus` whose statement is still
//!    running: `GET /api/v2/statements/{handle}` is polled (50 ms doubling to 1 s) until it
//!    answers `200`. If the operation's deadline passes first, the statement is cancelled.
//! 3. Results larger than one partition: partitions `1..` are read with
//!    `GET /api/v2/statements/{handle}?partition=N`, in order.
//! 4. `429` and `500`/`502`/`503`/`504`, and requests that lost their connection midway, are
//!    resubmitted with the same `requestId` and `retry=true` (so Snowflake does not run the
//!    statement twice) up to [`MAX_RETRIES`] times, 100 ms doubling in between. `401`/`403` are
//!    authentication failures, `408` a statement timeout, `422` a failed statement.
//!
//! Every request is counted (`requests`, `retries`, `errors`) for the discovery's metrics. No
//! request, response body or bound value is logged; a span per statement names its purpose.

use super::auth::Credentials;
use super::connect::transport_failure;
use super::options::SnowflakeTarget;
use crate::probe::{ConnectionFailure, DiscoveryError};
use domain::datasource::FailureCategory;
use futures::TryFutureExt;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use tracing::Instrument;

/// Resubmissions of one request after a retryable failure.
pub const MAX_RETRIES: u64 = 3;
/// The wait before the first resubmission; doubled for each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// First and longest wait between two polls of a running statement.
const FIRST_POLL: Duration = Duration::from_millis(50);
const MAX_POLL: Duration = Duration::from_secs(1);
/// How long asking Snowflake to cancel an abandoned statement may take.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(5);
/// How much longer than the server-side statement `timeout` the client waits (the server's
/// clock starts when the statement arrives; ours when it is sent).
const CLIENT_GRACE: Duration = Duration::from_millis(500);
/// Error messages from the server are cut to this many characters.
const MAX_MESSAGE_CHARS: usize = 500;

/// `name` as a quoted Snowflake identifier (`"` doubled), so catalog names with any character
/// and any case are written exactly.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One statement to run.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    pub sql: String,
    /// Bound to the `?` placeholders in order, as `TEXT`.
    pub bindings: Vec<String>,
    /// What the statement is for, for spans and messages (`"columns"`, `"sample"`).
    pub purpose: &'static str,
}

impl Statement {
    pub(crate) fn new(purpose: &'static str, sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            bindings: Vec::new(),
            purpose,
        }
    }

    pub(crate) fn bind(mut self, value: impl Into<String>) -> Self {
        self.bindings.push(value.into());
        self
    }
}

/// One column of a result, from `rowType`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ResultColumn {
    pub name: String,
    /// `fixed`, `text`, `date`, `timestamp_ntz`, … (see `values.rs`).
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// The rows of a finished statement, all partitions read.
#[derive(Clone, Default)]
pub(crate) struct ResultSet {
    pub columns: Vec<ResultColumn>,
    pub rows: Vec<Vec<Option<String>>>,
    /// Partitions the result came in.
    pub partitions: usize,
}

// Rows may be sampled data: never printed.
impl std::fmt::Debug for ResultSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultSet")
            .field("columns", &self.columns)
            .field("rows", &self.rows.len())
            .field("partitions", &self.partitions)
            .finish()
    }
}

impl ResultSet {
    /// The position of the column called `name` (case-insensitively: `SHOW` commands answer in
    /// lower case, `INFORMATION_SCHEMA` in upper case).
    pub(crate) fn position(&self, name: &str) -> Result<usize, ApiError> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| ApiError::Malformed(format!("the result has no column {name}")))
    }
}

/// Why a statement did not give its rows.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum ApiError {
    /// No answer at all (refused, DNS, TLS, reset).
    #[error("{message}")]
    Transport {
        category: FailureCategory,
        message: String,
        /// A connection lost midway, worth resubmitting (a refused one is not).
        retryable: bool,
    },
    /// The credential could not be put on the request.
    #[error("{0}")]
    Credential(String),
    /// `401` / `403`: the credential was refused.
    #[error("Snowflake refused the credentials (HTTP {status}{}): {message}", code_suffix(.code))]
    Rejected {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// No result within the operation's time (client side, or `408` from the server).
    #[error("no result within {waited_ms} ms")]
    Timeout { waited_ms: u64 },
    /// `422`: the statement ran and failed.
    #[error("statement failed{}: {message}", code_suffix(.code))]
    Statement {
        code: Option<String>,
        message: String,
    },
    /// Any other status, or a retryable one after the last retry.
    #[error("HTTP {status} from the SQL API{}: {message}", code_suffix(.code))]
    Status {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// An answer that is not the documented format.
    #[error("malformed SQL API response: {0}")]
    Malformed(String),
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_deref()
        .map(|code| format!(", code {code}"))
        .unwrap_or_default()
}

impl ApiError {
    /// The category a user acts on.
    pub(crate) fn category(&self) -> FailureCategory {
        match self {
            ApiError::Transport { category, .. } => *category,
            ApiError::Rejected { .. } | ApiError::Credential(_) => FailureCategory::Auth,
            ApiError::Timeout { .. } => FailureCategory::Timeout,
            // A failed `SELECT CURRENT_VERSION()` means an unknown warehouse, database or role
            // in the context; a non-Snowflake endpoint answers in another format.
            ApiError::Statement { .. } | ApiError::Malformed(_) => FailureCategory::Config,
            ApiError::Status { .. } => FailureCategory::Unreachable,
        }
    }

    fn retryable(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            ApiError::Transport { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// A connection test's failure; `scrub` is removed from the message.
    pub(crate) fn into_failure(self, scrub: Option<&str>) -> ConnectionFailure {
        ConnectionFailure::new(self.category(), self.to_string(), scrub)
    }

    /// A discovery's (or sampling's) failure: no connection or no credential is a
    /// [`DiscoveryError::Connection`], everything else a failed query.
    pub(crate) fn into_discovery(self, scrub: Option<&str>, retries: u64) -> DiscoveryError {
        match self {
            ApiError::Transport { .. } | ApiError::Rejected { .. } | ApiError::Credential(_) => {
                DiscoveryError::Connection(self.into_failure(scrub))
            }
            other => DiscoveryError::Query {
                message: other.into_failure(scrub).message,
                retries,
            },
        }
    }
}

/// Counters of every request an [`Api`] sent.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub errors: AtomicU64,
}

impl Counters {
    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The SQL API of one account, for one operation.
pub(crate) struct Api<'t> {
    http: reqwest::Client,
    target: &'t SnowflakeTarget,
    statements_url: String,
    credentials: Credentials,
    pub counters: Counters,
}

#[derive(Serialize)]
struct SubmitBody<'a> {
    statement: &'a str,
    timeout: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warehouse: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    bindings: BTreeMap<String, Binding<'a>>,
}

#[derive(Serialize)]
struct Binding<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    value: &'a str,
}

/// `ResultSet` and `QueryStatus` / `QueryFailureStatus` share these fields.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Answer {
    code: Option<String>,
    message: Option<String>,
    statement_handle: Option<String>,
    result_set_meta_data: Option<MetaData>,
    #[serde(default)]
    data: Vec<Vec<Option<String>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetaData {
    num_rows: Option<u64>,
    #[serde(default)]
    row_type: Vec<ResultColumn>,
    #[serde(default)]
    partition_info: Vec<serde_json::Value>,
}

/// The time one statement has: its deadline, and the timeout it came from (for messages).
#[derive(Clone, Copy)]
struct Budget {
    deadline: Instant,
    timeout: Duration,
}

impl Budget {
    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    fn timed_out(&self) -> ApiError {
        ApiError::Timeout {
            waited_ms: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// What one request got back.
enum Reply {
    /// `200`.
    Done(Answer),
    /// `202`: still running.
    Running(Answer),
}

impl<'t> Api<'t> {
    pub(crate) fn new(
        http: reqwest::Client,
        target: &'t SnowflakeTarget,
        credentials: Credentials,
    ) -> Self {
        Self {
            http,
            target,
            statements_url: target.statements_url(),
            credentials,
            counters: Counters::default(),
        }
    }

    /// The OAuth token, to scrub messages with.
    pub(crate) fn scrub(&self) -> Option<&str> {
        self.credentials.scrub()
    }

    /// Runs `statement` and reads every partition of its result, all within `timeout` (which is
    /// also the server-side statement timeout).
    pub(crate) async fn execute(
        &self,
        statement: &Statement,
        timeout: Duration,
    ) -> Result<ResultSet, ApiError> {
        let request_id = uuid::Uuid::new_v4();
        let span = tracing::debug_span!(
            "snowflake.statement",
            purpose = statement.purpose,
            %request_id,
            rows = tracing::field::Empty,
            partitions = tracing::field::Empty,
        );
        let started = std::time::Instant::now();
        let budget = Budget {
            deadline: Instant::now() + timeout + CLIENT_GRACE,
            timeout,
        };
        let outcome = self
            .run(statement, request_id, budget)
            .instrument(span.clone())
            .await;
        let _entered = span.enter();
        match &outcome {
            Ok(result) => {
                span.record("rows", result.rows.len());
                span.record("partitions", result.partitions);
                tracing::debug!(
                    took_ms = started.elapsed().as_millis() as u64,
                    "statement finished"
                );
            }
            // The category only: a failed statement's message can quote what it read.
            Err(error) => tracing::debug!(category = ?error.category(), "statement failed"),
        }
        outcome
    }

    async fn run(
        &self,
        statement: &Statement,
        request_id: uuid::Uuid,
        budget: Budget,
    ) -> Result<ResultSet, ApiError> {
        let bindings: BTreeMap<String, Binding<'_>> = statement
            .bindings
            .iter()
            .enumerate()
            .map(|(i, value)| {
                (
                    (i + 1).to_string(),
                    Binding {
                        kind: "TEXT",
                        value,
                    },
                )
            })
            .collect();
        let body = SubmitBody {
            statement: &statement.sql,
            // The API takes whole seconds; 0 would mean the account's default (two days).
            timeout: budget.timeout.as_secs().max(1),
            database: self.target.database.as_deref(),
            schema: self.target.schema.as_deref(),
            warehouse: self.target.warehouse.as_deref(),
            role: self.target.role.as_deref(),
            bindings,
        };
        let body = serde_json::to_vec(&body)
            .map_err(|_| ApiError::Malformed("cannot encode the request".to_owned()))?;
        let reply = self
            .with_retries(budget, |retry| {
                let mut query = vec![("requestId", request_id.to_string())];
                if retry {
                    query.push(("retry", "true".to_owned()));
                }
                self.http
                    .post(&self.statements_url)
                    .query(&query)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
            })
            .await?;
        let answer = match reply {
            Reply::Done(answer) => answer,
            Reply::Running(answer) => self.poll(answer, budget).await?,
        };
        self.collect(answer, budget).await
    }

    /// Polls a running statement until it finishes; cancels it when `deadline` passes first.
    async fn poll(&self, running: Answer, budget: Budget) -> Result<Answer, ApiError> {
        let handle = handle_of(running.statement_handle.as_deref())?;
        let url = format!("{}/{}", self.statements_url, handle);
        let mut wait = FIRST_POLL;
        loop {
            let polled = if wait >= budget.remaining() {
                Err(budget.timed_out())
            } else {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_POLL);
                self.with_retries(budget, |_| self.http.get(&url)).await
            };
            match polled {
                Ok(Reply::Done(answer)) => return Ok(answer),
                Ok(Reply::Running(_)) => {}
                Err(error) => {
                    if matches!(error, ApiError::Timeout { .. }) {
                        // The statement should not run on for nobody.
                        self.cancel(&handle).await;
                    }
                    return Err(error);
                }
            }
        }
    }

    /// The rows of `first` and of every further partition.
    async fn collect(&self, first: Answer, budget: Budget) -> Result<ResultSet, ApiError> {
        let meta = first.result_set_meta_data.as_ref().ok_or_else(|| {
            ApiError::Malformed("a finished statement without resultSetMetaData".to_owned())
        })?;
        let columns = meta.row_type.clone();
        let announced = meta.num_rows;
        let partitions = meta.partition_info.len().max(1);
        let mut rows = first.data;
        if partitions > 1 {
            let handle = handle_of(first.statement_handle.as_deref())?;
            let url = format!("{}/{}", self.statements_url, handle);
            for partition in 1..partitions {
                let reply = self
                    .with_retries(budget, |_| {
                        self.http
                            .get(&url)
                            .query(&[("partition", partition.to_string())])
                    })
                    .await?;
                match reply {
                    Reply::Done(answer) => rows.extend(answer.data),
                    Reply::Running(_) => {
                        return Err(ApiError::Malformed(format!(
                            "partition {partition} of a finished statement is not ready"
                        )))
                    }
                }
            }
        }
        if let Some(announced) = announced.filter(|n| *n != rows.len() as u64) {
            return Err(ApiError::Malformed(format!(
                "{} rows read of the {announced} announced",
                rows.len()
            )));
        }
        if let Some(row) = rows.iter().find(|row| row.len() != columns.len()) {
            return Err(ApiError::Malformed(format!(
                "a row of {} values for {} columns",
                row.len(),
                columns.len()
            )));
        }
        Ok(ResultSet {
            columns,
            rows,
            partitions,
        })
    }

    /// Sends the request `build` makes (told whether it is a resubmission), resubmitting it on a
    /// retryable failure while attempts and time are left.
    async fn with_retries(
        &self,
        budget: Budget,
        build: impl Fn(bool) -> reqwest::RequestBuilder,
    ) -> Result<Reply, ApiError> {
        let mut attempt = 0;
        loop {
            let outcome = self.send(build(attempt > 0), budget).await;
            let Err(error) = outcome else {
                return outcome;
            };
            Counters::bump(&self.counters.errors);
            let backoff = FIRST_BACKOFF * 2u32.pow(attempt as u32);
            if !error.retryable() || attempt >= MAX_RETRIES || backoff >= budget.remaining() {
                return Err(error);
            }
            tracing::warn!(
                attempt,
                backoff_ms = backoff.as_millis() as u64,
                %error,
                "SQL API request failed, resubmitting"
            );
            Counters::bump(&self.counters.retries);
            attempt += 1;
            tokio::time::sleep(backoff).await;
        }
    }

    /// One request with the credential headers, bounded by `deadline`.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        budget: Budget,
    ) -> Result<Reply, ApiError> {
        let remaining = budget.remaining();
        if remaining.is_zero() {
            return Err(budget.timed_out());
        }
        let token = self
            .credentials
            .bearer()
            .map_err(|failure| ApiError::Credential(failure.message))?;
        Counters::bump(&self.counters.requests);
        let request = request
            .bearer_auth(token.expose())
            .header(
                "X-Snowflake-Authorization-Token-Type",
                self.credentials.token_type(),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(remaining);
        let response = request
            .send()
            .map_err(|error| transport(error, budget))
            .await?;
        let status = response.status();
        let bytes = response
            .bytes()
            .map_err(|error| transport(error, budget))
            .await?;
        match status {
            StatusCode::OK => Ok(Reply::Done(parse(&bytes)?)),
            StatusCode::ACCEPTED => Ok(Reply::Running(parse(&bytes)?)),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                let answer = parse(&bytes).unwrap_or_default();
                Err(ApiError::Rejected {
                    status: status.as_u16(),
                    code: answer.code,
                    message: message_of(answer.message, status),
                })
            }
            StatusCode::REQUEST_TIMEOUT => Err(budget.timed_out()),
            StatusCode::UNPROCESSABLE_ENTITY => {
                let answer = parse(&bytes).unwrap_or_default();
                Err(ApiError::Statement {
                    code: answer.code,
                    message: message_of(answer.message, status),
                })
            }
            _ => {
                let answer = parse(&bytes).unwrap_or_default();
                Err(ApiError::Status {
                    status: status.as_u16(),
                    code: answer.code,
                    message: message_of(answer.message, status),
                })
            }
        }
    }

    /// Asks Snowflake to stop `handle`; failures are only logged (the statement times out on
    /// the server anyway).
    async fn cancel(&self, handle: &str) {
        let url = format!("{}/{}/cancel", self.statements_url, handle);
        let budget = Budget {
            deadline: Instant::now() + CANCEL_TIMEOUT,
            timeout: CANCEL_TIMEOUT,
        };
        if let Err(error) = self.send(self.http.post(url), budget).await {
            tracing::warn!(%error, "could not cancel a statement past its deadline");
        }
    }
}

fn transport(error: reqwest::Error, budget: Budget) -> ApiError {
    let retryable = !error.is_connect();
    let (category, message) = transport_failure(&error.without_url());
    match category {
        FailureCategory::Timeout => budget.timed_out(),
        FailureCategory::Unreachable => ApiError::Transport {
            category,
            message,
            retryable,
        },
        _ => ApiError::Transport {
            category,
            message,
            retryable: false,
        },
    }
}

fn parse(bytes: &[u8]) -> Result<Answer, ApiError> {
    // serde_json can quote input in its messages (`invalid type: string "…"`), and a body may
    // hold sampled values: only the position is reported.
    serde_json::from_slice(bytes).map_err(|error| {
        ApiError::Malformed(format!(
            "not the documented JSON (line {}, column {})",
            error.line(),
            error.column()
        ))
    })
}

fn message_of(message: Option<String>, status: StatusCode) -> String {
    let message =
        message.unwrap_or_else(|| status.canonical_reason().unwrap_or("no message").to_owned());
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message,
    }
}

/// A statement handle, checked to be one path segment (it is put into URLs).
fn handle_of(handle: Option<&str>) -> Result<String, ApiError> {
    match handle {
        Some(handle)
            if !handle.is_empty()
                && handle
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(handle.to_owned())
        }
        _ => Err(ApiError::Malformed(
            "a statement without a valid statementHandle".to_owned(),
        )),
    }
}
