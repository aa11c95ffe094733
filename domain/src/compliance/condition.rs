//! The condition language of compliance rules: a small, declarative boolean expression over the
//! [facts](super::facts) of one source, asset, column, label and role.
//!
//! Contracts:
//! - [`Condition::parse`] reads the text, resolves every fact path against a fixed schema
//!   ([`FACTS`]) and type-checks the whole expression. An unknown fact, a fact used outside its
//!   scope, a wrong type or an unknown keyword value each give **one** [`ConditionError`] with the
//!   1-based character position it refers to, and every such problem in the text is reported, so
//!   a rule author fixes them in one round. A syntax error ends the reading (what follows it
//!   cannot be read reliably) and is reported after the problems found before it. A condition
//!   that parses cannot fail at evaluation.
//! - [`Condition::evaluate`] is pure and allocation-free: no strings are built per column.
//!   [`Condition::explain`] evaluates again and records the facts the result rests on (only
//!   called for a rule that fired).
//!
//! # Syntax
//!
//! ```text
//! expr       := and ("or" and)*
//! and        := unary ("and" unary)*
//! unary      := "not" unary | primary
//! primary    := "(" expr ")"
//!             | ("any" | "all") ("column" | "columns" | "label" | "labels" | "role" | "roles") "(" expr ")"
//!             | "exists" "(" fact ")"              -- an optional fact has a value
//!             | "has_tag_prefix" "(" string ")"    -- some asset tag starts with the string
//!             | "true" | "false"
//!             | operand [op operand]               -- a lone operand must be a boolean fact
//!             | operand "in" "[" literal ("," literal)* "]"
//!             | string "in" set-fact               -- e.g. "read_phi" in role.permissions
//! op         := "==" | "!=" | "<" | "<=" | ">" | ">="
//! operand    := fact | string | number | "true" | "false"
//! ```
//!
//! `not` binds tighter than `and`, which binds tighter than `or`; a comparison binds tighter than
//! `not`, so `not source.tls_mode in ["verify_ca"]` is `not (source.tls_mode in ["verify_ca"])`.
//! Keywords are lowercase; strings are double-quoted with `\"` and `\\` as the only escapes.
//!
//! Facts are dotted paths (`source.tls_mode`, `label.status`; see [`FACTS`]). A comparison is
//! between a fact and a literal of the fact's type; ordering needs numbers. Keyword facts (TLS mode,
//! label status, frameworks, …) only accept their known values, so a typo is an error, not a rule
//! that silently never fires. A comparison with a **missing** optional fact is false (use
//! `exists(...)`). `column.*` is known in column rules and inside `any column (...)`, `label.*`
//! only inside `any label (...)`/`all labels (...)` (which need a column), `role.*` only inside
//! `any role (...)`/`all roles (...)` (the roles that may read the asset). In a column rule,
//! `any column (...)` ranges over all the asset's columns (the bound one included).
//!
//! ```text
//! any label (label.type == "CREDIT_CARD_NUMBER" and label.status in ["applied", "confirmed"])
//!   and not source.tls_mode in ["verify_ca", "verify_full"]
//! any column (any label ("gdpr_personal" in label.frameworks)) and not exists(asset.owner)
//! source.environment == "production" and not source.monitoring
//! ```

use super::facts::{
    label_status_str, AssetFacts, ColumnFacts, Evidence, LabelFacts, RoleFacts, SourceFacts,
};
use crate::classification::Framework;
use std::cell::Cell;
use std::collections::BTreeSet;
use std::fmt;

/// Longest condition text accepted.
pub const MAX_CONDITION_CHARS: usize = 4000;
/// Deepest nesting of parentheses, `not` and quantifiers accepted.
const MAX_DEPTH: usize = 32;
/// Most values in one `[...]` list.
const MAX_LIST: usize = 256;
/// Most elements one quantifier cites: a finding on a table of 2000 personal-data columns cites
/// the first 25, which is proof enough and keeps the `ViolationDetected` commit small.
pub const MAX_WITNESSES: usize = 25;
/// Most facts one finding cites, for the same reason (a `not any column (...)` that holds rests
/// on every column).
pub const MAX_CITED_FACTS: usize = 200;
/// Cited values are cut to this many characters (descriptions, long tag lists).
const MAX_CITED_VALUE_CHARS: usize = 200;

/// Why a condition was refused: one problem, at a 1-based character position of the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at character {position}: {message}")]
pub struct ConditionError {
    pub position: usize,
    pub message: String,
}

/// The type of a fact or literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactType {
    Text,
    Number,
    Boolean,
    /// A set of text values, tested with `"x" in fact`.
    TextSet,
}

impl FactType {
    fn describe(self) -> &'static str {
        match self {
            FactType::Text => "text",
            FactType::Number => "a number",
            FactType::Boolean => "a boolean",
            FactType::TextSet => "a set of text values",
        }
    }
}

/// What must be in scope for a fact to be known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Nothing,
    Column,
    Label,
    Role,
}

/// One known fact path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fact {
    SourceName,
    SourceKind,
    SourceTlsMode,
    SourceLocation,
    SourceCloudProvider,
    SourceRegion,
    SourceRegionEea,
    SourceEnvironment,
    SourceHasReplica,
    SourceCredentialsEncrypted,
    SourceMonitoring,
    SourceHealth,
    AssetPath,
    AssetKind,
    AssetTags,
    AssetOwner,
    AssetDescription,
    AssetRowEstimate,
    ColumnName,
    ColumnDataType,
    LabelType,
    LabelStatus,
    LabelSensitivity,
    LabelFrameworks,
    LabelConfidence,
    LabelHashed,
    RoleName,
    RolePermissions,
}

/// The schema entry of one fact.
#[derive(Debug, Clone, Copy)]
pub struct FactSpec {
    pub path: &'static str,
    pub fact: Fact,
    pub ty: FactType,
    /// May be missing (test with `exists`).
    pub optional: bool,
    /// The closed set of values a keyword fact takes; literals compared with it must be one.
    pub values: Option<&'static [&'static str]>,
    needs: Needs,
}

const fn spec(
    path: &'static str,
    fact: Fact,
    ty: FactType,
    optional: bool,
    values: Option<&'static [&'static str]>,
    needs: Needs,
) -> FactSpec {
    FactSpec {
        path,
        fact,
        ty,
        optional,
        values,
        needs,
    }
}

pub(crate) const KINDS: &[&str] = &["postgresql", "mysql", "mongodb", "redis", "s3", "snowflake"];
pub(crate) const TLS_MODES: &[&str] = &["disable", "require", "verify_ca", "verify_full"];
pub(crate) const LOCATIONS: &[&str] = &["on_prem", "cloud", "hybrid"];
pub(crate) const PROVIDERS: &[&str] = &["aws", "azure", "gcp"];
pub(crate) const ENVIRONMENTS: &[&str] = &["development", "staging", "production", "test"];
pub(crate) const HEALTH: &[&str] = &["healthy", "degraded", "unhealthy"];
pub(crate) const ASSET_KINDS: &[&str] = &[
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
];
pub(crate) const STATUSES: &[&str] = &["applied", "suggested", "confirmed", "rejected"];
pub(crate) const SENSITIVITIES: &[&str] = &["low", "medium", "high", "critical"];
pub(crate) const FRAMEWORKS: &[&str] = &[
    "gdpr_personal",
    "gdpr_special_category",
    "hipaa_phi",
    "pci_cardholder",
    "soc2_credentials",
];

/// Every fact a condition may name.
pub const FACTS: &[FactSpec] = {
    use FactType::*;
    use Needs::*;
    &[
        spec("source.name", Fact::SourceName, Text, false, None, Nothing),
        spec(
            "source.kind",
            Fact::SourceKind,
            Text,
            false,
            Some(KINDS),
            Nothing,
        ),
        spec(
            "source.tls_mode",
            Fact::SourceTlsMode,
            Text,
            false,
            Some(TLS_MODES),
            Nothing,
        ),
        spec(
            "source.location",
            Fact::SourceLocation,
            Text,
            false,
            Some(LOCATIONS),
            Nothing,
        ),
        spec(
            "source.cloud_provider",
            Fact::SourceCloudProvider,
            Text,
            true,
            Some(PROVIDERS),
            Nothing,
        ),
        spec(
            "source.region",
            Fact::SourceRegion,
            Text,
            true,
            None,
            Nothing,
        ),
        spec(
            "source.region_in_eea",
            Fact::SourceRegionEea,
            Boolean,
            true,
            None,
            Nothing,
        ),
        spec(
            "source.environment",
            Fact::SourceEnvironment,
            Text,
            true,
            Some(ENVIRONMENTS),
            Nothing,
        ),
        spec(
            "source.has_replica",
            Fact::SourceHasReplica,
            Boolean,
            false,
            None,
            Nothing,
        ),
        spec(
            "source.credentials_encrypted",
            Fact::SourceCredentialsEncrypted,
            Boolean,
            false,
            None,
            Nothing,
        ),
        spec(
            "source.monitoring",
            Fact::SourceMonitoring,
            Boolean,
            false,
            None,
            Nothing,
        ),
        spec(
            "source.health",
            Fact::SourceHealth,
            Text,
            true,
            Some(HEALTH),
            Nothing,
        ),
        spec("asset.path", Fact::AssetPath, Text, false, None, Nothing),
        spec(
            "asset.kind",
            Fact::AssetKind,
            Text,
            false,
            Some(ASSET_KINDS),
            Nothing,
        ),
        spec("asset.tags", Fact::AssetTags, TextSet, false, None, Nothing),
        spec("asset.owner", Fact::AssetOwner, Text, true, None, Nothing),
        spec(
            "asset.description",
            Fact::AssetDescription,
            Text,
            true,
            None,
            Nothing,
        ),
        spec(
            "asset.row_estimate",
            Fact::AssetRowEstimate,
            Number,
            true,
            None,
            Nothing,
        ),
        spec("column.name", Fact::ColumnName, Text, false, None, Column),
        spec(
            "column.data_type",
            Fact::ColumnDataType,
            Text,
            false,
            None,
            Column,
        ),
        spec("label.type", Fact::LabelType, Text, false, None, Label),
        spec(
            "label.status",
            Fact::LabelStatus,
            Text,
            false,
            Some(STATUSES),
            Label,
        ),
        spec(
            "label.sensitivity",
            Fact::LabelSensitivity,
            Text,
            false,
            Some(SENSITIVITIES),
            Label,
        ),
        spec(
            "label.frameworks",
            Fact::LabelFrameworks,
            TextSet,
            false,
            Some(FRAMEWORKS),
            Label,
        ),
        spec(
            "label.confidence",
            Fact::LabelConfidence,
            Number,
            false,
            None,
            Label,
        ),
        spec(
            "label.hashed",
            Fact::LabelHashed,
            Boolean,
            false,
            None,
            Label,
        ),
        spec("role.name", Fact::RoleName, Text, false, None, Role),
        spec(
            "role.permissions",
            Fact::RolePermissions,
            TextSet,
            false,
            None,
            Role,
        ),
    ]
};

impl Fact {
    pub fn spec(self) -> &'static FactSpec {
        FACTS
            .iter()
            .find(|s| s.fact == self)
            .expect("every fact has a schema entry")
    }

    pub fn path(self) -> &'static str {
        self.spec().path
    }
}

/// A literal value in a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Number(f64),
    Boolean(bool),
}

impl Literal {
    fn ty(&self) -> FactType {
        match self {
            Literal::Text(_) => FactType::Text,
            Literal::Number(_) => FactType::Number,
            Literal::Boolean(_) => FactType::Boolean,
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn flipped(self) -> Self {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }

    fn ordering(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
}

/// What a quantifier ranges over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// The asset's columns.
    Columns,
    /// The bound column's labels.
    Labels,
    /// The roles that may read the asset.
    Roles,
}

/// The checked syntax tree of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Const(bool),
    /// A boolean fact on its own.
    Flag(Fact),
    /// `fact op literal` (a literal on the left is flipped to the right).
    Compare {
        fact: Fact,
        op: CmpOp,
        value: Literal,
    },
    /// `fact in [literals]`.
    InList {
        fact: Fact,
        values: Vec<Literal>,
    },
    /// `"value" in set-fact`.
    Contains {
        fact: Fact,
        value: String,
    },
    Exists(Fact),
    HasTagPrefix(String),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Any(Range, Box<Expr>),
    All(Range, Box<Expr>),
    /// A column quantifier in a column rule, outside any role: its value is the same for every
    /// column of the asset, so the engine computes it once per asset (slot in the memo).
    Memo(usize, Box<Expr>),
}

/// A parsed and type-checked condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    expr: Expr,
    memo_slots: usize,
}

/// Whether a column is bound when a condition is evaluated: column rules run once per column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// Source and asset facts (source and asset rules).
    Asset,
    /// Source, asset and one column's facts (column rules).
    Column,
}

impl Condition {
    /// Parses and type-checks `text` for rules evaluated with `binding`; on refusal, every
    /// problem found, in the order of the text (never empty).
    pub fn parse(text: &str, binding: Binding) -> Result<Self, Vec<ConditionError>> {
        if text.chars().count() > MAX_CONDITION_CHARS {
            return Err(vec![ConditionError {
                position: MAX_CONDITION_CHARS + 1,
                message: format!("a condition is at most {MAX_CONDITION_CHARS} characters"),
            }]);
        }
        let tokens = lex(text).map_err(|e| vec![e])?;
        let mut parser = Parser {
            text,
            tokens,
            at: 0,
            depth: 0,
            scope: Scope {
                column: binding == Binding::Column,
                label: false,
                role: false,
            },
            column_rule: binding == Binding::Column,
            memo_slots: 0,
            problems: Vec::new(),
        };
        let parsed = parser.expr().and_then(|expr| match parser.peek() {
            Some(token) => Err(parser.error_at(
                token.start,
                format!(
                    "unexpected {} after a complete condition",
                    token.kind.describe()
                ),
            )),
            None => Ok(expr),
        });
        let mut problems = std::mem::take(&mut parser.problems);
        match parsed {
            Ok(expr) if problems.is_empty() => Ok(Self {
                expr,
                memo_slots: parser.memo_slots,
            }),
            Ok(_) => Err(problems),
            Err(syntax) => {
                problems.push(syntax);
                Err(problems)
            }
        }
    }

    /// How many memo slots [`Env::with_memo`] needs for this condition (0 for most).
    pub fn memo_slots(&self) -> usize {
        self.memo_slots
    }

    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Whether the condition holds for these facts (`column` set for column rules).
    pub fn evaluate(&self, env: &Env<'_>) -> bool {
        eval(&self.expr, env, &mut NoRecord)
    }

    /// Evaluates and returns the facts the result rests on, deduplicated, in reading order. In
    /// `any (...)` that holds only the elements that satisfy it are cited; in `all (...)` that
    /// fails only the elements that do not — at most [`MAX_WITNESSES`] of them (one for the
    /// column-independent context of a column rule, [`Expr::Memo`]), and at most
    /// [`MAX_CITED_FACTS`] facts in all.
    pub fn explain(&self, env: &Env<'_>) -> (bool, Vec<CitedFact>) {
        let mut record = Record(Vec::new(), MAX_WITNESSES);
        let result = eval(&self.expr, env, &mut record);
        // Reads are kept as references while evaluating (most are dropped with the elements of
        // a quantifier that decide nothing); only the cited ones are rendered into text.
        let mut seen = BTreeSet::new();
        let cited = record
            .0
            .iter()
            .filter(|read| seen.insert(read.key()))
            .take(MAX_CITED_FACTS)
            .map(FactRead::cite)
            .collect();
        (result, cited)
    }
}

/// The facts in scope during one evaluation.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    pub source: &'a SourceFacts,
    pub asset: &'a AssetFacts,
    pub column: Option<&'a ColumnFacts>,
    pub label: Option<&'a LabelFacts>,
    pub role: Option<&'a RoleFacts>,
    /// Values of [`Expr::Memo`] nodes already computed for this asset (0 unknown, 1 false,
    /// 2 true); `None` computes them every time.
    memo: Option<&'a [Cell<u8>]>,
}

impl<'a> Env<'a> {
    /// Source and asset facts, no column bound.
    pub fn asset(source: &'a SourceFacts, asset: &'a AssetFacts) -> Self {
        Self {
            source,
            asset,
            column: None,
            label: None,
            role: None,
            memo: None,
        }
    }

    /// With a memo for the column-independent parts of a column rule: one per rule and asset,
    /// `vec![Cell::new(0); condition.memo_slots()]`, so that a rule such as "PHI beside health
    /// data" does not scan every column again for each column (quadratic on wide tables).
    pub fn with_memo(self, memo: &'a [Cell<u8>]) -> Self {
        Self {
            memo: Some(memo),
            ..self
        }
    }

    /// With `column` bound (column rules).
    pub fn with_column(self, column: &'a ColumnFacts) -> Self {
        Self {
            column: Some(column),
            label: None,
            ..self
        }
    }
}

/// One fact a finding cites: its path, which column/label/role it belongs to, its value as
/// text, and the event it rests on.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub struct CitedFact {
    /// The fact path, e.g. `label.status`.
    pub fact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The value as text (`(none)` when missing; sets comma-separated).
    pub value: String,
    pub evidence: Evidence,
}

/// One fact read while explaining, as references into the facts until it is known to be cited.
#[derive(Clone, Copy)]
struct FactRead<'a> {
    fact: Fact,
    env: Env<'a>,
}

impl<'a> FactRead<'a> {
    /// What makes two reads the same citation: the fact, and the column, label and role it was
    /// read for.
    fn key(&self) -> (Fact, Option<&'a str>, Option<&'a str>, Option<&'a str>) {
        (
            self.fact,
            self.env.column.map(|c| c.name.as_str()),
            self.env.label.map(|l| l.label.as_str()),
            self.env.role.map(|r| r.role.as_str()),
        )
    }

    fn cite(&self) -> CitedFact {
        let env = &self.env;
        CitedFact {
            fact: self.fact.path().to_owned(),
            column: env.column.map(|c| c.name.clone()),
            label: env.label.map(|l| l.label.as_str().to_owned()),
            role: env.role.map(|r| r.role.clone()),
            value: render(read(self.fact, env)),
            evidence: evidence_of(self.fact, env).clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    Text(&'a str),
    Number(f64),
    Boolean(bool),
    Strings(&'a BTreeSet<String>),
    Frameworks(&'a [Framework]),
    Missing,
}

fn read<'a>(fact: Fact, env: &Env<'a>) -> Value<'a> {
    use Value::*;
    let s = env.source;
    let a = env.asset;
    match fact {
        Fact::SourceName => Text(&s.name),
        Fact::SourceKind => Text(s.kind.as_str()),
        Fact::SourceTlsMode => Text(s.tls_mode.as_str()),
        Fact::SourceLocation => Text(s.location.as_str()),
        Fact::SourceCloudProvider => s.cloud_provider.map_or(Missing, |p| Text(p.as_str())),
        Fact::SourceRegion => s.region.as_deref().map_or(Missing, Text),
        Fact::SourceRegionEea => s.region.as_deref().map_or(Missing, |r| {
            Boolean(super::region::is_eea(s.cloud_provider, r))
        }),
        Fact::SourceEnvironment => s.environment.map_or(Missing, |e| Text(e.as_str())),
        Fact::SourceHasReplica => Boolean(s.has_replica),
        Fact::SourceCredentialsEncrypted => Boolean(s.credentials_encrypted),
        Fact::SourceMonitoring => Boolean(s.monitoring),
        Fact::SourceHealth => s.health.as_ref().map_or(Missing, |(h, _)| Text(h.as_str())),
        Fact::AssetPath => Text(&a.path),
        Fact::AssetKind => Text(a.kind.as_str()),
        Fact::AssetTags => Strings(&a.tags),
        Fact::AssetOwner => a.owner.as_deref().map_or(Missing, Text),
        Fact::AssetDescription => a.description.as_deref().map_or(Missing, Text),
        // Row counts are far below 2^53; the conversion is exact for every real table.
        Fact::AssetRowEstimate => a
            .row_estimate
            .as_ref()
            .map_or(Missing, |(n, _)| Number(*n as f64)),
        Fact::ColumnName => env.column.map_or(Missing, |c| Text(&c.name)),
        Fact::ColumnDataType => env.column.map_or(Missing, |c| Text(&c.data_type)),
        Fact::LabelType => env.label.map_or(Missing, |l| Text(l.label.as_str())),
        Fact::LabelStatus => env
            .label
            .map_or(Missing, |l| Text(label_status_str(l.status))),
        Fact::LabelSensitivity => env.label.map_or(Missing, |l| Text(l.sensitivity.as_str())),
        Fact::LabelFrameworks => env.label.map_or(Missing, |l| Frameworks(&l.frameworks)),
        Fact::LabelConfidence => env.label.map_or(Missing, |l| Number(l.confidence)),
        Fact::LabelHashed => env.label.map_or(Missing, |l| Boolean(l.hashed)),
        Fact::RoleName => env.role.map_or(Missing, |r| Text(&r.role)),
        Fact::RolePermissions => env.role.map_or(Missing, |r| Strings(&r.permissions)),
    }
}

fn evidence_of<'a>(fact: Fact, env: &Env<'a>) -> &'a Evidence {
    let s = env.source;
    let a = env.asset;
    match fact {
        Fact::SourceMonitoring => &s.monitoring_evidence,
        Fact::SourceHealth => s.health.as_ref().map_or(&s.monitoring_evidence, |(_, e)| e),
        f if f.path().starts_with("source.") => &s.config_evidence,
        Fact::AssetPath | Fact::AssetKind | Fact::ColumnName | Fact::ColumnDataType => {
            &a.schema_evidence
        }
        Fact::AssetRowEstimate => a
            .row_estimate
            .as_ref()
            .map_or(&a.schema_evidence, |(_, e)| e),
        Fact::LabelType
        | Fact::LabelStatus
        | Fact::LabelSensitivity
        | Fact::LabelFrameworks
        | Fact::LabelConfidence
        | Fact::LabelHashed => env.label.map_or(&a.schema_evidence, |l| &l.evidence),
        Fact::RoleName | Fact::RolePermissions => {
            env.role.map_or(&a.metadata_evidence, |r| &r.evidence)
        }
        _ => &a.metadata_evidence,
    }
}

fn render(value: Value<'_>) -> String {
    match value {
        // A description can be long; a cited value only has to be recognisable.
        Value::Text(t) => clip_value(t),
        Value::Number(n) => n.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Strings(set) => {
            clip_value(&set.iter().map(String::as_str).collect::<Vec<_>>().join(","))
        }
        Value::Frameworks(fs) => fs.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(","),
        Value::Missing => "(none)".to_owned(),
    }
}

fn clip_value(text: &str) -> String {
    crate::datasource::values::clip(text, MAX_CITED_VALUE_CHARS)
}

/// Receives every fact read during an evaluation. `NoRecord` compiles to nothing.
trait Recorder<'a> {
    /// Whether quantifiers visit every element (to cite all witnesses) instead of stopping early.
    const EXHAUSTIVE: bool;
    fn read(&mut self, fact: Fact, env: &Env<'a>);
    fn mark(&self) -> usize;
    fn truncate(&mut self, to: usize);
    /// Moves the reads after `from` into a side buffer (to keep or drop per element).
    fn split_off(&mut self, from: usize) -> Vec<FactRead<'a>>;
    fn extend(&mut self, facts: Vec<FactRead<'a>>);
    /// How many deciding elements a quantifier cites now.
    fn witness_cap(&self) -> usize;
    fn set_witness_cap(&mut self, cap: usize);
}

struct NoRecord;

impl<'a> Recorder<'a> for NoRecord {
    const EXHAUSTIVE: bool = false;
    fn read(&mut self, _: Fact, _: &Env<'a>) {}
    fn mark(&self) -> usize {
        0
    }
    fn truncate(&mut self, _: usize) {}
    fn split_off(&mut self, _: usize) -> Vec<FactRead<'a>> {
        Vec::new()
    }
    fn extend(&mut self, _: Vec<FactRead<'a>>) {}
    fn witness_cap(&self) -> usize {
        1
    }
    fn set_witness_cap(&mut self, _: usize) {}
}

struct Record<'a>(Vec<FactRead<'a>>, usize);

impl<'a> Recorder<'a> for Record<'a> {
    const EXHAUSTIVE: bool = true;
    fn read(&mut self, fact: Fact, env: &Env<'a>) {
        self.0.push(FactRead { fact, env: *env });
    }
    fn mark(&self) -> usize {
        self.0.len()
    }
    fn truncate(&mut self, to: usize) {
        self.0.truncate(to);
    }
    fn split_off(&mut self, from: usize) -> Vec<FactRead<'a>> {
        self.0.split_off(from)
    }
    fn extend(&mut self, facts: Vec<FactRead<'a>>) {
        self.0.extend(facts);
    }
    fn witness_cap(&self) -> usize {
        self.1
    }
    fn set_witness_cap(&mut self, cap: usize) {
        self.1 = cap;
    }
}

fn eval<'a, R: Recorder<'a>>(expr: &Expr, env: &Env<'a>, rec: &mut R) -> bool {
    match expr {
        Expr::Const(b) => *b,
        Expr::Flag(fact) => {
            rec.read(*fact, env);
            matches!(read(*fact, env), Value::Boolean(true))
        }
        Expr::Compare { fact, op, value } => {
            rec.read(*fact, env);
            compare(read(*fact, env), *op, value)
        }
        Expr::InList { fact, values } => {
            rec.read(*fact, env);
            let found = read(*fact, env);
            values.iter().any(|v| compare(found, CmpOp::Eq, v))
        }
        Expr::Contains { fact, value } => {
            rec.read(*fact, env);
            match read(*fact, env) {
                Value::Strings(set) => set.contains(value),
                Value::Frameworks(fs) => fs.iter().any(|f| f.as_str() == value),
                _ => false,
            }
        }
        Expr::Exists(fact) => {
            rec.read(*fact, env);
            !matches!(read(*fact, env), Value::Missing)
        }
        Expr::HasTagPrefix(prefix) => {
            rec.read(Fact::AssetTags, env);
            env.asset
                .tags
                .iter()
                .any(|t| t.starts_with(prefix.as_str()))
        }
        Expr::Not(inner) => !eval(inner, env, rec),
        Expr::And(items) => items.iter().all(|e| eval(e, env, rec)),
        Expr::Or(items) => items.iter().any(|e| eval(e, env, rec)),
        Expr::Any(range, body) => quantify(*range, body, env, rec, true),
        Expr::All(range, body) => quantify(*range, body, env, rec, false),
        Expr::Memo(slot, inner) => {
            // Only plain evaluation uses the memo: explaining must read (and cite) the facts.
            if R::EXHAUSTIVE {
                // The same context for every column of the asset ("a diagnosis in this table"):
                // one witness proves it, and a finding per column stays small.
                let cap = rec.witness_cap();
                rec.set_witness_cap(1);
                let value = eval(inner, env, rec);
                rec.set_witness_cap(cap);
                return value;
            }
            let cell = env.memo.and_then(|m| m.get(*slot));
            match cell.map(Cell::get) {
                Some(1) => false,
                Some(2) => true,
                _ => {
                    let value = eval(inner, env, rec);
                    if let Some(cell) = cell {
                        cell.set(if value { 2 } else { 1 });
                    }
                    value
                }
            }
        }
    }
}

/// `any` (`existential`) or `all` over a range. With a recorder that cites, every element is
/// visited and only the deciding ones keep their reads: the witnesses of a true `any`, the
/// counterexamples of a false `all`, and every element otherwise.
fn quantify<'a, R: Recorder<'a>>(
    range: Range,
    body: &Expr,
    env: &Env<'a>,
    rec: &mut R,
    existential: bool,
) -> bool {
    let start = rec.mark();
    let mut deciding: Vec<FactRead<'a>> = Vec::new();
    let mut witnesses = 0;
    let cap = rec.witness_cap();
    let mut visit = |inner: Env<'a>, rec: &mut R| -> bool {
        let mark = rec.mark();
        let holds = eval(body, &inner, rec);
        let decides = holds == existential;
        if decides {
            witnesses += 1;
            if R::EXHAUSTIVE {
                deciding.extend(rec.split_off(mark));
            }
        }
        // Without citing, the first deciding element settles it; when citing, enough of them.
        decides && (!R::EXHAUSTIVE || witnesses >= cap)
    };
    match range {
        Range::Columns => {
            for column in &env.asset.columns {
                if visit(env.with_column(column), rec) {
                    break;
                }
            }
        }
        Range::Labels => {
            if let Some(column) = env.column {
                for label in &column.labels {
                    let inner = Env {
                        label: Some(label),
                        ..*env
                    };
                    if visit(inner, rec) {
                        break;
                    }
                }
            }
        }
        Range::Roles => {
            for role in &env.asset.readers {
                let inner = Env {
                    role: Some(role),
                    ..*env
                };
                if visit(inner, rec) {
                    break;
                }
            }
        }
    }
    let decided = witnesses > 0;
    if R::EXHAUSTIVE && decided {
        rec.truncate(start);
        rec.extend(deciding);
    }
    if existential {
        decided
    } else {
        !decided
    }
}

fn compare(found: Value<'_>, op: CmpOp, value: &Literal) -> bool {
    match (found, value) {
        (Value::Text(a), Literal::Text(b)) => match op {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            _ => false,
        },
        (Value::Boolean(a), Literal::Boolean(b)) => match op {
            CmpOp::Eq => a == *b,
            CmpOp::Ne => a != *b,
            _ => false,
        },
        (Value::Number(a), Literal::Number(b)) => match op {
            CmpOp::Eq => a == *b,
            CmpOp::Ne => a != *b,
            CmpOp::Lt => a < *b,
            CmpOp::Le => a <= *b,
            CmpOp::Gt => a > *b,
            CmpOp::Ge => a >= *b,
        },
        // A missing fact compares false whatever the operator (use `exists`).
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    Ident(String),
    Text(String),
    Number(f64),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Op(CmpOp),
}

impl TokenKind {
    fn describe(&self) -> String {
        match self {
            TokenKind::Ident(name) => format!("`{}`", clip(name)),
            TokenKind::Text(_) => "a string".into(),
            TokenKind::Number(_) => "a number".into(),
            TokenKind::LParen => "`(`".into(),
            TokenKind::RParen => "`)`".into(),
            TokenKind::LBracket => "`[`".into(),
            TokenKind::RBracket => "`]`".into(),
            TokenKind::Comma => "`,`".into(),
            TokenKind::Op(_) => "an operator".into(),
        }
    }
}

fn clip(text: &str) -> String {
    crate::datasource::values::clip(text, 40)
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    /// Byte offset in the text.
    start: usize,
}

fn position(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].chars().count() + 1
}

fn lex(text: &str) -> Result<Vec<Token>, ConditionError> {
    let error = |byte: usize, message: String| ConditionError {
        position: position(text, byte),
        message,
    };
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = text[i..].chars().next().expect("i is on a char boundary");
        let start = i;
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let kind = match c {
            '(' => TokenKind::LParen,
            ')' => TokenKind::RParen,
            '[' => TokenKind::LBracket,
            ']' => TokenKind::RBracket,
            ',' => TokenKind::Comma,
            '=' | '!' | '<' | '>' => {
                let next_eq = bytes.get(i + 1) == Some(&b'=');
                let op = match (c, next_eq) {
                    ('=', true) => CmpOp::Eq,
                    ('!', true) => CmpOp::Ne,
                    ('<', true) => CmpOp::Le,
                    ('>', true) => CmpOp::Ge,
                    ('<', false) => CmpOp::Lt,
                    ('>', false) => CmpOp::Gt,
                    ('=', false) => return Err(error(i, "`=` is written `==`".into())),
                    _ => return Err(error(i, "`!` is written `not` (or `!=`)".into())),
                };
                i += if next_eq { 2 } else { 1 };
                tokens.push(Token {
                    kind: TokenKind::Op(op),
                    start,
                });
                continue;
            }
            '"' => {
                let mut value = String::new();
                i += 1;
                loop {
                    let Some(c) = text[i..].chars().next() else {
                        return Err(error(start, "unterminated string".into()));
                    };
                    i += c.len_utf8();
                    match c {
                        '"' => break,
                        '\\' => match text[i..].chars().next() {
                            Some(e @ ('"' | '\\')) => {
                                value.push(e);
                                i += 1;
                            }
                            _ => {
                                return Err(error(
                                    i - 1,
                                    "only \\\" and \\\\ are escapes in a string".into(),
                                ))
                            }
                        },
                        c if c.is_control() => {
                            return Err(error(
                                i - c.len_utf8(),
                                "a string may not hold control characters".into(),
                            ))
                        }
                        c => value.push(c),
                    }
                }
                tokens.push(Token {
                    kind: TokenKind::Text(value),
                    start,
                });
                continue;
            }
            c if c.is_ascii_digit()
                || (c == '-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) =>
            {
                let mut end = i + 1;
                while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
                    end += 1;
                }
                let raw = &text[i..end];
                let number: f64 = raw
                    .parse()
                    .ok()
                    .filter(|n: &f64| n.is_finite())
                    .ok_or_else(|| error(i, format!("`{}` is not a number", clip(raw))))?;
                i = end;
                tokens.push(Token {
                    kind: TokenKind::Number(number),
                    start,
                });
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = i + 1;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric()
                        || bytes[end] == b'_'
                        || bytes[end] == b'.')
                {
                    end += 1;
                }
                let name = text[i..end].to_owned();
                i = end;
                tokens.push(Token {
                    kind: TokenKind::Ident(name),
                    start,
                });
                continue;
            }
            other => {
                return Err(error(
                    i,
                    format!(
                        "unexpected character {:?}",
                        other.escape_debug().to_string()
                    ),
                ))
            }
        };
        i += c.len_utf8();
        tokens.push(Token { kind, start });
    }
    Ok(tokens)
}

// ---------------------------------------------------------------------------------------------
// Parser

#[derive(Debug, Clone, Copy)]
struct Scope {
    column: bool,
    label: bool,
    role: bool,
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
    scope: Scope,
    column_rule: bool,
    memo_slots: usize,
    /// Problems of meaning (unknown facts, scopes, types, values) found so far. Reading goes on
    /// after one, with a stand-in that adds no problem of its own; only syntax errors stop it.
    problems: Vec<ConditionError>,
}

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "any",
    "all",
    "exists",
    "has_tag_prefix",
    "true",
    "false",
];

/// An operand before type checking.
enum Operand {
    Fact(&'static FactSpec),
    Lit(Literal),
    /// A fact already reported as unknown or out of scope: whatever it is used with adds no
    /// second problem.
    Reported,
}

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn error_at(&self, byte: usize, message: String) -> ConditionError {
        ConditionError {
            position: position(self.text, byte),
            message,
        }
    }

    /// Records a problem of meaning and goes on reading.
    fn problem(&mut self, byte: usize, message: String) {
        let problem = self.error_at(byte, message);
        self.problems.push(problem);
    }

    /// Where the next token starts (the end of the text when there is none).
    fn here(&self) -> usize {
        self.peek().map_or(self.text.len(), |t| t.start)
    }

    fn is_keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: TokenKind::Ident(name), .. }) if name == word)
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        let yes = self.is_keyword(word);
        if yes {
            self.at += 1;
        }
        yes
    }

    fn expect(&mut self, kind: TokenKind, what: &str) -> Result<(), ConditionError> {
        match self.peek() {
            Some(token) if token.kind == kind => {
                self.at += 1;
                Ok(())
            }
            Some(token) => Err(self.error_at(
                token.start,
                format!("expected {what}, found {}", token.kind.describe()),
            )),
            None => Err(self.error_at(self.text.len(), format!("expected {what}, found the end"))),
        }
    }

    fn deeper(&mut self) -> Result<(), ConditionError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(
                self.here(),
                format!("a condition nests at most {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, ConditionError> {
        self.deeper()?;
        let mut items = vec![self.and()?];
        while self.eat_keyword("or") {
            items.push(self.and()?);
        }
        self.depth -= 1;
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, ConditionError> {
        let mut items = vec![self.unary()?];
        while self.eat_keyword("and") {
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, ConditionError> {
        if self.eat_keyword("not") {
            self.deeper()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ConditionError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.error_at(
                self.text.len(),
                "expected a condition, found the end".into(),
            ));
        };
        match &token.kind {
            TokenKind::LParen => {
                self.at += 1;
                let inner = self.expr()?;
                self.expect(TokenKind::RParen, "`)`")?;
                Ok(inner)
            }
            TokenKind::Ident(word) if word == "any" || word == "all" => {
                self.at += 1;
                self.quantifier(word == "any")
            }
            TokenKind::Ident(word) if word == "exists" => {
                self.at += 1;
                self.expect(TokenKind::LParen, "`(` after exists")?;
                let start = self.here();
                let spec = match self.operand()? {
                    Operand::Fact(spec) => Some(spec),
                    Operand::Lit(_) => {
                        self.problem(start, "exists(...) takes a fact".into());
                        None
                    }
                    Operand::Reported => None,
                };
                if let Some(spec) = spec.filter(|spec| !spec.optional) {
                    self.problem(
                        start,
                        format!(
                            "`{}` is always present; exists(...) takes an optional fact",
                            spec.path
                        ),
                    );
                }
                self.expect(TokenKind::RParen, "`)`")?;
                Ok(spec.map_or(Expr::Const(false), |spec| Expr::Exists(spec.fact)))
            }
            TokenKind::Ident(word) if word == "has_tag_prefix" => {
                self.at += 1;
                self.expect(TokenKind::LParen, "`(` after has_tag_prefix")?;
                let prefix = match self.peek().cloned() {
                    Some(Token {
                        kind: TokenKind::Text(prefix),
                        ..
                    }) if !prefix.is_empty() => prefix,
                    _ => {
                        return Err(self.error_at(
                            self.here(),
                            "has_tag_prefix(...) takes a non-empty string, e.g. \"purpose:\""
                                .into(),
                        ))
                    }
                };
                self.at += 1;
                self.expect(TokenKind::RParen, "`)`")?;
                Ok(Expr::HasTagPrefix(prefix))
            }
            _ => self.comparison(),
        }
    }

    fn quantifier(&mut self, existential: bool) -> Result<Expr, ConditionError> {
        let start = self.here();
        let word = match self.peek() {
            Some(Token {
                kind: TokenKind::Ident(word),
                ..
            }) => word.clone(),
            _ => String::new(),
        };
        let range = match word.as_str() {
            "column" | "columns" => Range::Columns,
            "label" | "labels" => Range::Labels,
            "role" | "roles" => Range::Roles,
            _ => {
                return Err(self.error_at(
                    start,
                    "expected `column`, `label` or `role` after any/all".into(),
                ))
            }
        };
        self.at += 1;
        let outer = self.scope;
        let misplaced = match range {
            // In a column rule `any column (...)` looks at the asset's other columns too (e.g.
            // "a health label anywhere in this table"); inside a label it would be ambiguous.
            Range::Columns if outer.label => {
                Some("any column (...) cannot be used inside a label's scope")
            }
            Range::Labels if !outer.column => Some(
                "labels belong to a column: use this in a column rule or inside any column (...)",
            ),
            Range::Labels if outer.label => Some("a label is already in scope here"),
            Range::Roles if outer.role => Some("a role is already in scope here"),
            _ => None,
        };
        // The body is still read (in the scope it asked for) so that its own problems are found.
        if let Some(message) = misplaced {
            self.problem(start, message.into());
        }
        self.expect(TokenKind::LParen, "`(`")?;
        self.scope = match range {
            Range::Columns => Scope {
                column: true,
                label: false,
                role: outer.role,
            },
            Range::Labels => Scope {
                label: true,
                ..outer
            },
            Range::Roles => Scope {
                role: true,
                ..outer
            },
        };
        let body = self.expr();
        self.scope = outer;
        let body = Box::new(body?);
        self.expect(TokenKind::RParen, "`)`")?;
        let quantified = if existential {
            Expr::Any(range, body)
        } else {
            Expr::All(range, body)
        };
        // Column quantifiers rebind the column and clear the label, so outside a role they
        // depend on the source and asset only.
        if self.column_rule && range == Range::Columns && !outer.role {
            self.memo_slots += 1;
            return Ok(Expr::Memo(self.memo_slots - 1, Box::new(quantified)));
        }
        Ok(quantified)
    }

    fn operand(&mut self) -> Result<Operand, ConditionError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.error_at(
                self.text.len(),
                "expected a fact or a value, found the end".into(),
            ));
        };
        let operand = match token.kind {
            TokenKind::Text(text) => Operand::Lit(Literal::Text(text)),
            TokenKind::Number(n) => Operand::Lit(Literal::Number(n)),
            TokenKind::Ident(word) if word == "true" || word == "false" => {
                Operand::Lit(Literal::Boolean(word == "true"))
            }
            TokenKind::Ident(word) if KEYWORDS.contains(&word.as_str()) => {
                return Err(self.error_at(
                    token.start,
                    format!("expected a fact or a value, found the keyword `{word}`"),
                ))
            }
            TokenKind::Ident(path) => match self.resolve(&path, token.start) {
                Ok(spec) => Operand::Fact(spec),
                Err(problem) => {
                    self.problems.push(problem);
                    Operand::Reported
                }
            },
            other => {
                return Err(self.error_at(
                    token.start,
                    format!("expected a fact or a value, found {}", other.describe()),
                ))
            }
        };
        self.at += 1;
        Ok(operand)
    }

    fn resolve(&self, path: &str, start: usize) -> Result<&'static FactSpec, ConditionError> {
        let Some(spec) = FACTS.iter().find(|s| s.path == path) else {
            let group = path.split('.').next().unwrap_or_default();
            let known: Vec<&str> = FACTS
                .iter()
                .filter(|s| s.path.split('.').next() == Some(group))
                .map(|s| s.path)
                .collect();
            let hint = if known.is_empty() {
                "facts start with source., asset., column., label. or role.".to_owned()
            } else {
                format!("known: {}", known.join(", "))
            };
            return Err(self.error_at(start, format!("unknown fact `{}`; {hint}", clip(path))));
        };
        let problem = match spec.needs {
            Needs::Column if !self.scope.column => {
                Some("is only known in a column rule or inside any column (...)")
            }
            Needs::Label if !self.scope.label => {
                Some("is only known inside any label (...) or all labels (...)")
            }
            Needs::Role if !self.scope.role => {
                Some("is only known inside any role (...) or all roles (...)")
            }
            _ => None,
        };
        match problem {
            Some(problem) => Err(self.error_at(start, format!("`{path}` {problem}"))),
            None => Ok(spec),
        }
    }

    /// Whether `value` is of `spec`'s type and, for a keyword fact, one of its values; records
    /// the problem when not.
    fn check_value(&mut self, spec: &FactSpec, value: &Literal, start: usize) -> bool {
        let expected = match spec.ty {
            FactType::TextSet => FactType::Text,
            ty => ty,
        };
        if value.ty() != expected {
            self.problem(
                start,
                format!(
                    "`{}` is {}, compared with {}",
                    spec.path,
                    spec.ty.describe(),
                    value.ty().describe()
                ),
            );
            return false;
        }
        if let (Fact::LabelType, Literal::Text(text)) = (spec.fact, value) {
            // Custom label names are free, so label types are not a closed set; but a built-in
            // name in the wrong case would never match, silently.
            let near = crate::classification::ClassificationType::ALL
                .iter()
                .find(|t| t.as_str() != text && t.as_str().eq_ignore_ascii_case(text));
            if let Some(near) = near {
                self.problem(
                    start,
                    format!("label types are written as {near}, not {:?}", clip(text)),
                );
                return false;
            }
        }
        if let (Some(values), Literal::Text(text)) = (spec.values, value) {
            if !values.contains(&text.as_str()) {
                self.problem(
                    start,
                    format!(
                        "`{}` is never {:?}; its values are {}",
                        spec.path,
                        clip(text),
                        values.join(", ")
                    ),
                );
                return false;
            }
        }
        true
    }

    /// A comparison, a list or set membership, or a lone boolean. A problem of meaning yields
    /// `Expr::Const(false)` as a stand-in once it is recorded: the condition is refused anyway.
    fn comparison(&mut self) -> Result<Expr, ConditionError> {
        const REFUSED: Expr = Expr::Const(false);
        let left_start = self.here();
        let left = self.operand()?;
        let op_token = self.peek().cloned();
        match op_token.map(|t| (t.kind, t.start)) {
            Some((TokenKind::Op(op), op_start)) => {
                self.at += 1;
                let right_start = self.here();
                let right = self.operand()?;
                let (spec, op, value, value_start) = match (left, right) {
                    (Operand::Fact(spec), Operand::Lit(value)) => (spec, op, value, right_start),
                    (Operand::Lit(value), Operand::Fact(spec)) => {
                        (spec, op.flipped(), value, left_start)
                    }
                    (Operand::Reported, _) | (_, Operand::Reported) => return Ok(REFUSED),
                    _ => {
                        self.problem(
                            op_start,
                            "a comparison is between one fact and one value".into(),
                        );
                        return Ok(REFUSED);
                    }
                };
                if spec.ty == FactType::TextSet {
                    self.problem(
                        op_start,
                        format!(
                            "`{}` is a set; test it with \"value\" in {}",
                            spec.path, spec.path
                        ),
                    );
                    return Ok(REFUSED);
                }
                if !self.check_value(spec, &value, value_start) {
                    return Ok(REFUSED);
                }
                if op.ordering() && spec.ty != FactType::Number {
                    self.problem(
                        op_start,
                        format!(
                            "`{}` is {}; <, <=, > and >= need numbers",
                            spec.path,
                            spec.ty.describe()
                        ),
                    );
                    return Ok(REFUSED);
                }
                Ok(Expr::Compare {
                    fact: spec.fact,
                    op,
                    value,
                })
            }
            Some((TokenKind::Ident(word), in_start)) if word == "in" => {
                self.at += 1;
                if matches!(
                    self.peek(),
                    Some(Token {
                        kind: TokenKind::LBracket,
                        ..
                    })
                ) {
                    let spec = match left {
                        Operand::Fact(spec) if spec.ty != FactType::TextSet => Some(spec),
                        Operand::Fact(spec) => {
                            self.problem(
                                left_start,
                                format!(
                                    "`{}` is a set; test one value with \"value\" in {}",
                                    spec.path, spec.path
                                ),
                            );
                            None
                        }
                        Operand::Lit(_) => {
                            self.problem(left_start, "the left of `in [...]` is a fact".into());
                            None
                        }
                        Operand::Reported => None,
                    };
                    self.at += 1;
                    let mut values = Vec::new();
                    let mut valid = spec.is_some();
                    loop {
                        let start = self.here();
                        match self.operand()? {
                            Operand::Lit(value) => {
                                if let Some(spec) = spec {
                                    valid &= self.check_value(spec, &value, start);
                                }
                                values.push(value);
                            }
                            Operand::Fact(_) => {
                                self.problem(start, "a list holds values, not facts".into());
                                valid = false;
                            }
                            Operand::Reported => valid = false,
                        }
                        if values.len() == MAX_LIST + 1 {
                            self.problem(start, format!("a list holds at most {MAX_LIST} values"));
                            valid = false;
                        }
                        if matches!(
                            self.peek(),
                            Some(Token {
                                kind: TokenKind::Comma,
                                ..
                            })
                        ) {
                            self.at += 1;
                            continue;
                        }
                        self.expect(TokenKind::RBracket, "`,` or `]`")?;
                        break;
                    }
                    return Ok(match spec {
                        Some(spec) if valid => Expr::InList {
                            fact: spec.fact,
                            values,
                        },
                        _ => REFUSED,
                    });
                }
                let set_start = self.here();
                let set = match self.operand()? {
                    Operand::Fact(spec) if spec.ty == FactType::TextSet => spec,
                    Operand::Reported => return Ok(REFUSED),
                    _ => {
                        self.problem(
                            set_start,
                            "`in` is followed by a [list] or a set fact such as asset.tags".into(),
                        );
                        return Ok(REFUSED);
                    }
                };
                let value = match left {
                    Operand::Lit(value) => value,
                    Operand::Reported => return Ok(REFUSED),
                    Operand::Fact(_) => {
                        self.problem(
                            in_start,
                            format!("the left of `in {}` is a string value", set.path),
                        );
                        return Ok(REFUSED);
                    }
                };
                if !self.check_value(set, &value, left_start) {
                    return Ok(REFUSED);
                }
                let Literal::Text(value) = value else {
                    self.problem(left_start, format!("`{}` holds text values", set.path));
                    return Ok(REFUSED);
                };
                Ok(Expr::Contains {
                    fact: set.fact,
                    value,
                })
            }
            _ => match left {
                Operand::Fact(spec) if spec.ty == FactType::Boolean => Ok(Expr::Flag(spec.fact)),
                Operand::Lit(Literal::Boolean(b)) => Ok(Expr::Const(b)),
                Operand::Reported => Ok(REFUSED),
                Operand::Fact(spec) => {
                    self.problem(
                        left_start,
                        format!(
                            "`{}` is {}, not a condition; compare it (==, in [...]) or test exists(...)",
                            spec.path,
                            spec.ty.describe()
                        ),
                    );
                    Ok(REFUSED)
                }
                Operand::Lit(_) => {
                    self.problem(left_start, "a value alone is not a condition".into());
                    Ok(REFUSED)
                }
            },
        }
    }
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}
