//! Reading an OpenLineage RunEvent (<https://openlineage.io/spec/2-0-2/OpenLineage.json>) sent by
//! a tenant: every field is hostile input, so the JSON is walked by hand, each value is bounded
//! and checked, and the first problem is reported with the JSON path where it is
//! (`$.run.runId: …`). Only what PurSight records is kept (job, run, event type and time, input
//! and output datasets, the column-lineage facet, and the `errorMessage` run facet's message,
//! bounded and with credentials masked); other facets are read past, never stored.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Longest job or dataset namespace, in characters.
pub const MAX_NAMESPACE_CHARS: usize = 512;
/// Longest job or dataset name, in characters.
pub const MAX_NAME_CHARS: usize = 1024;
/// Longest column (field) name, in characters.
pub const MAX_FIELD_CHARS: usize = 256;
/// Most input (and, separately, output) datasets of one event.
pub const MAX_DATASETS: usize = 100;
/// Most output fields of one dataset's column-lineage facet.
pub const MAX_FIELDS: usize = 1000;
/// Most input fields one output field is derived from.
pub const MAX_INPUT_FIELDS: usize = 100;
/// Most edges (dataset and column level together) one event may report.
pub const MAX_EDGES: usize = 10_000;
/// Most bytes of dataset names and columns the recorded edges may hold together: every input
/// is paired with every output, so a body within the size limit could otherwise become an event
/// many times its size.
pub const MAX_LINEAGE_BYTES: usize = 512 * 1024;
/// Longest failure message kept from the `errorMessage` run facet, in characters (the rest is
/// cut: a stack trace's first lines say what failed).
pub const MAX_ERROR_CHARS: usize = 2000;
/// How far in the future an `eventTime` may be (clock skew), in seconds.
pub const MAX_FUTURE_SECS: i64 = 24 * 3600;

/// The `eventType` of a RunEvent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum RunEventType {
    Start,
    Running,
    Complete,
    Abort,
    Fail,
    Other,
}

impl RunEventType {
    pub const ALL: [RunEventType; 6] = [
        RunEventType::Start,
        RunEventType::Running,
        RunEventType::Complete,
        RunEventType::Abort,
        RunEventType::Fail,
        RunEventType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunEventType::Start => "START",
            RunEventType::Running => "RUNNING",
            RunEventType::Complete => "COMPLETE",
            RunEventType::Abort => "ABORT",
            RunEventType::Fail => "FAIL",
            RunEventType::Other => "OTHER",
        }
    }

    /// Whether the run ends with this event.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunEventType::Complete | RunEventType::Abort | RunEventType::Fail
        )
    }

    /// Whether the event's inputs and outputs count as lineage: a run that started, runs or
    /// completed moves data; a failed or aborted run is not credited with what it meant to write.
    pub fn records_edges(self) -> bool {
        matches!(
            self,
            RunEventType::Start | RunEventType::Running | RunEventType::Complete
        )
    }
}

impl std::fmt::Display for RunEventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A dataset as the event names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatasetRef {
    pub namespace: String,
    pub name: String,
}

/// One column-lineage entry: `to_field` of output `to` is derived from `from_fields` of `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnFlow {
    pub from: DatasetRef,
    pub from_fields: Vec<String>,
    pub to: DatasetRef,
    pub to_field: String,
}

/// A validated RunEvent, before its datasets are matched to assets.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub job_namespace: String,
    pub job_name: String,
    pub run_id: Uuid,
    pub event_type: RunEventType,
    pub event_time: chrono::DateTime<chrono::Utc>,
    pub inputs: Vec<DatasetRef>,
    pub outputs: Vec<DatasetRef>,
    pub columns: Vec<ColumnFlow>,
    /// The `errorMessage` run facet's message, cleaned ([`clean_error_message`]).
    pub error_message: Option<String>,
}

impl RunReport {
    /// Every dataset the event names (inputs, outputs and column-lineage inputs), once each.
    pub fn datasets(&self) -> BTreeSet<DatasetRef> {
        self.inputs
            .iter()
            .chain(&self.outputs)
            .cloned()
            .chain(self.columns.iter().map(|c| c.from.clone()))
            .collect()
    }

    /// About how many bytes of names and columns the recorded edges hold (each end's namespace
    /// and name, the columns, and some room per edge for the rest).
    pub fn edge_bytes(&self) -> usize {
        let size = |d: &DatasetRef| d.namespace.len() + d.name.len() + 64;
        let inputs: usize = self.inputs.iter().map(size).sum();
        let outputs: usize = self.outputs.iter().map(size).sum();
        let pairs = inputs * self.outputs.len() + outputs * self.inputs.len();
        let columns: usize = self
            .columns
            .iter()
            .map(|c| {
                size(&c.from)
                    + size(&c.to)
                    + c.to_field.len()
                    + c.from_fields.iter().map(|f| f.len() + 4).sum::<usize>()
            })
            .sum();
        pairs + columns
    }

    /// The `RunObserved` event of this report, each dataset matched by `resolve`: dataset-level
    /// edges from every input to every output, and one column-level edge per output field and
    /// input dataset. No edges for an event type that records none.
    pub fn observe(
        self,
        resolve: impl Fn(&DatasetRef) -> super::ObservedDataset,
    ) -> super::RunObserved {
        let mut edges = Vec::new();
        if self.event_type.records_edges() {
            let mut seen = BTreeSet::new();
            for to in &self.outputs {
                for from in &self.inputs {
                    if from != to && seen.insert((from.clone(), to.clone())) {
                        edges.push(super::ObservedEdge {
                            from: resolve(from),
                            from_columns: Vec::new(),
                            to: resolve(to),
                            to_columns: Vec::new(),
                        });
                    }
                }
            }
            for flow in &self.columns {
                edges.push(super::ObservedEdge {
                    from: resolve(&flow.from),
                    from_columns: flow.from_fields.clone(),
                    to: resolve(&flow.to),
                    to_columns: vec![flow.to_field.clone()],
                });
            }
        }
        super::RunObserved {
            job_namespace: self.job_namespace,
            job_name: self.job_name,
            run_id: self.run_id,
            event_type: self.event_type,
            event_time: self.event_time,
            edges,
            error_message: self.error_message,
        }
    }
}

/// Why a RunEvent was refused: where (a JSON path such as `$.inputs[2].name`) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct RunEventError {
    pub path: String,
    pub problem: String,
}

fn refuse<T>(path: &str, problem: impl Into<String>) -> Result<T, RunEventError> {
    Err(RunEventError {
        path: path.to_owned(),
        problem: problem.into(),
    })
}

/// Reads and checks a RunEvent; `now` bounds how far in the future its `eventTime` may be.
pub fn parse_run_event(
    body: &Value,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<RunReport, RunEventError> {
    let event = object(body, "$")?;
    if !event.contains_key("run") && !event.contains_key("eventType") {
        return refuse(
            "$",
            "only RunEvents are accepted (a DatasetEvent or JobEvent has no run)",
        );
    }
    only_keys(
        event,
        "$",
        &[
            "eventType",
            "eventTime",
            "run",
            "job",
            "inputs",
            "outputs",
            "producer",
            "schemaURL",
        ],
    )?;
    let event_type = match event.get("eventType") {
        Some(Value::String(raw)) => RunEventType::ALL
            .into_iter()
            .find(|t| t.as_str() == raw)
            .map_or_else(
                || {
                    refuse(
                        "$.eventType",
                        "must be one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER",
                    )
                },
                Ok,
            )?,
        Some(_) => return refuse("$.eventType", "must be a string"),
        None => return refuse("$.eventType", "is required"),
    };
    let event_time = match event.get("eventTime") {
        Some(Value::String(raw)) if raw.len() <= 64 => {
            match chrono::DateTime::parse_from_rfc3339(raw) {
                Ok(time) => time.with_timezone(&chrono::Utc),
                Err(_) => {
                    return refuse(
                        "$.eventTime",
                        "must be an RFC 3339 date-time with a time zone",
                    )
                }
            }
        }
        Some(Value::String(_)) => return refuse("$.eventTime", "is too long"),
        Some(_) => return refuse("$.eventTime", "must be a string"),
        None => return refuse("$.eventTime", "is required"),
    };
    if (event_time - now).num_seconds() > MAX_FUTURE_SECS {
        return refuse("$.eventTime", "is more than a day in the future");
    }
    match event.get("producer") {
        Some(Value::String(p)) if !p.is_empty() && p.chars().count() <= 2048 => {}
        Some(_) => return refuse("$.producer", "must be a URI of 1 to 2048 characters"),
        None => return refuse("$.producer", "is required"),
    }
    match event.get("schemaURL") {
        None | Some(Value::String(_)) => {}
        Some(_) => return refuse("$.schemaURL", "must be a string"),
    }

    let run = object(required(event, "run", "$")?, "$.run")?;
    only_keys(run, "$.run", &["runId", "facets"])?;
    facets(run, "$.run")?;
    let run_id = match run.get("runId") {
        Some(Value::String(raw)) if raw.len() <= 36 => match Uuid::parse_str(raw) {
            Ok(id) => id,
            Err(_) => return refuse("$.run.runId", "must be a UUID"),
        },
        Some(_) => return refuse("$.run.runId", "must be a UUID string"),
        None => return refuse("$.run.runId", "is required"),
    };

    // The failure message is kept when it is a string; a facet of another shape is read past
    // like every facet we do not record.
    let error_message = run
        .get("facets")
        .and_then(|f| f.get("errorMessage"))
        .and_then(|f| f.get("message"))
        .and_then(Value::as_str)
        .map(clean_error_message)
        .filter(|m| !m.trim().is_empty());

    let job = object(required(event, "job", "$")?, "$.job")?;
    only_keys(job, "$.job", &["namespace", "name", "facets"])?;
    facets(job, "$.job")?;
    let job_namespace = text(job, "namespace", "$.job", MAX_NAMESPACE_CHARS)?;
    let job_name = text(job, "name", "$.job", MAX_NAME_CHARS)?;

    let inputs = datasets(event, "inputs", "inputFacets")?;
    let outputs = datasets(event, "outputs", "outputFacets")?;
    let mut columns = Vec::new();
    for (index, (output, value)) in outputs.iter().enumerate() {
        let path = format!("$.outputs[{index}].facets.columnLineage");
        let Some(facet) = value.get("facets").and_then(|f| f.get("columnLineage")) else {
            continue;
        };
        let facet = object(facet, &path)?;
        let Some(fields) = facet.get("fields") else {
            continue;
        };
        let fields = object(fields, &format!("{path}.fields"))?;
        if fields.len() > MAX_FIELDS {
            return refuse(
                &format!("{path}.fields"),
                format!("has more than {MAX_FIELDS} fields"),
            );
        }
        for (field, entry) in fields {
            let field_path = format!("{path}.fields[{}]", quoted(field));
            check_text(field, &field_path, MAX_FIELD_CHARS)?;
            let entry = object(entry, &field_path)?;
            let inputs_path = format!("{field_path}.inputFields");
            let input_fields = match entry.get("inputFields") {
                Some(Value::Array(items)) => items,
                Some(_) => return refuse(&inputs_path, "must be an array"),
                None => return refuse(&inputs_path, "is required"),
            };
            if input_fields.len() > MAX_INPUT_FIELDS {
                return refuse(
                    &inputs_path,
                    format!("has more than {MAX_INPUT_FIELDS} entries"),
                );
            }
            // One edge per input dataset, its fields in the order first named.
            let mut by_dataset: BTreeMap<DatasetRef, Vec<String>> = BTreeMap::new();
            for (i, input) in input_fields.iter().enumerate() {
                let at = format!("{inputs_path}[{i}]");
                let input = object(input, &at)?;
                let from = DatasetRef {
                    namespace: text(input, "namespace", &at, MAX_NAMESPACE_CHARS)?,
                    name: text(input, "name", &at, MAX_NAME_CHARS)?,
                };
                let from_field = text(input, "field", &at, MAX_FIELD_CHARS)?;
                let list = by_dataset.entry(from).or_default();
                if !list.contains(&from_field) {
                    list.push(from_field);
                }
            }
            for (from, from_fields) in by_dataset {
                columns.push(ColumnFlow {
                    from,
                    from_fields,
                    to: output.clone(),
                    to_field: field.clone(),
                });
            }
        }
    }
    let report = RunReport {
        job_namespace,
        job_name,
        run_id,
        event_type,
        event_time,
        inputs: inputs.into_iter().map(|(d, _)| d).collect(),
        outputs: outputs.into_iter().map(|(d, _)| d).collect(),
        columns,
        error_message,
    };
    let edges = report.inputs.len() * report.outputs.len() + report.columns.len();
    if edges > MAX_EDGES {
        return refuse(
            "$",
            format!("the event reports {edges} edges; at most {MAX_EDGES} are accepted"),
        );
    }
    if report.edge_bytes() > MAX_LINEAGE_BYTES {
        return refuse(
            "$",
            format!(
                "the event's edges would hold more than {MAX_LINEAGE_BYTES} bytes of names; send fewer inputs and outputs per event"
            ),
        );
    }
    Ok(report)
}

/// A producer's failure message as it may be stored and shown: cut to [`MAX_ERROR_CHARS`],
/// control characters other than line breaks and tabs (and bidirectional overrides) made spaces,
/// and what looks like a credential masked as `***` — the password of a URL's user info
/// (`postgres://etl:hunter2@db` → `postgres://etl:***@db`) and the value after `password`,
/// `passwd`, `pwd`, `secret`, `token`, `api_key`/`apikey` followed by `=` or `:`. A producer's
/// message is free text, so this masks the usual shapes; it cannot recognise every secret.
pub fn clean_error_message(raw: &str) -> String {
    let cut: String = raw
        .chars()
        .take(MAX_ERROR_CHARS)
        .map(|c| {
            let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            if (c.is_control() && c != '\n' && c != '\t') || bidi {
                ' '
            } else {
                c
            }
        })
        .collect();
    mask_credentials(&cut)
}

fn mask_credentials(text: &str) -> String {
    use std::sync::OnceLock;
    static URL: OnceLock<regex::Regex> = OnceLock::new();
    static PAIR: OnceLock<regex::Regex> = OnceLock::new();
    let url = URL.get_or_init(|| {
        regex::Regex::new(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]*@")
            .expect("valid regex")
    });
    let pair = PAIR.get_or_init(|| {
        regex::Regex::new(
            r#"(?i)(?P<key>\b(?:password|passwd|pwd|secret|token|api[_-]?key)\b["']?\s*[=:]\s*["']?)[^\s"',;&]+"#,
        )
        .expect("valid regex")
    });
    let masked = url.replace_all(text, "${head}***@");
    pair.replace_all(&masked, "${key}***").into_owned()
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, RunEventError> {
    value
        .as_object()
        .map_or_else(|| refuse(path, "must be an object"), Ok)
}

fn required<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a Value, RunEventError> {
    object
        .get(key)
        .map_or_else(|| refuse(&format!("{path}.{key}"), "is required"), Ok)
}

fn only_keys(object: &Map<String, Value>, path: &str, known: &[&str]) -> Result<(), RunEventError> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => refuse(
            &format!("{path}[{}]", quoted(key)),
            format!(
                "is not a field of an OpenLineage RunEvent here (expected one of {})",
                known.join(", ")
            ),
        ),
        None => Ok(()),
    }
}

/// `facets` (and the dataset-specific facet maps) must be objects; their content is not kept.
fn facets(object: &Map<String, Value>, path: &str) -> Result<(), RunEventError> {
    for key in ["facets", "inputFacets", "outputFacets"] {
        if let Some(value) = object.get(key) {
            self::object(value, &format!("{path}.{key}"))?;
        }
    }
    Ok(())
}

fn text(
    object: &Map<String, Value>,
    key: &str,
    path: &str,
    max: usize,
) -> Result<String, RunEventError> {
    let at = format!("{path}.{key}");
    match object.get(key) {
        Some(Value::String(value)) => {
            check_text(value, &at, max)?;
            Ok(value.clone())
        }
        Some(_) => refuse(&at, "must be a string"),
        None => refuse(&at, "is required"),
    }
}

fn check_text(value: &str, path: &str, max: usize) -> Result<(), RunEventError> {
    if value.is_empty() {
        return refuse(path, "must not be empty");
    }
    if value.chars().count() > max {
        return refuse(path, format!("is longer than {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return refuse(path, "must not contain control characters");
    }
    Ok(())
}

/// A key as shown in a JSON path: quoted, clipped, and without control characters (it comes
/// from the tenant and goes back into an error message).
fn quoted(key: &str) -> String {
    let clipped: String = key
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    format!("{clipped:?}")
}

type Datasets<'a> = Vec<(DatasetRef, &'a Map<String, Value>)>;

fn datasets<'a>(
    event: &'a Map<String, Value>,
    key: &str,
    own_facets: &str,
) -> Result<Datasets<'a>, RunEventError> {
    let path = format!("$.{key}");
    let items = match event.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return refuse(&path, "must be an array"),
    };
    if items.len() > MAX_DATASETS {
        return refuse(&path, format!("has more than {MAX_DATASETS} datasets"));
    }
    let mut out: Datasets<'a> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let at = format!("{path}[{index}]");
        let dataset = object(item, &at)?;
        only_keys(dataset, &at, &["namespace", "name", "facets", own_facets])?;
        facets(dataset, &at)?;
        let reference = DatasetRef {
            namespace: text(dataset, "namespace", &at, MAX_NAMESPACE_CHARS)?,
            name: text(dataset, "name", &at, MAX_NAME_CHARS)?,
        };
        if !out.iter().any(|(seen, _)| *seen == reference) {
            out.push((reference, dataset));
        }
    }
    Ok(out)
}
