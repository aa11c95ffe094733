//! What a compliance rule is: its stable id and version, the framework and control it cites, its
//! severity and remediation, the level of subject it judges and its condition — as stored
//! ([`RuleDefinition`], in packs and events) and as checked ([`Rule`], condition parsed).

use super::condition::{Binding, Condition};
use crate::datasource::{FieldError, ValidationError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A compliance framework, by the id used everywhere (API, CLI, reports, packs).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum FrameworkId {
    #[serde(rename = "gdpr")]
    Gdpr,
    #[serde(rename = "pci-dss")]
    PciDss,
    #[serde(rename = "hipaa")]
    Hipaa,
    #[serde(rename = "soc2")]
    Soc2,
}

impl FrameworkId {
    pub const ALL: [FrameworkId; 4] = [
        FrameworkId::Gdpr,
        FrameworkId::PciDss,
        FrameworkId::Hipaa,
        FrameworkId::Soc2,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FrameworkId::Gdpr => "gdpr",
            FrameworkId::PciDss => "pci-dss",
            FrameworkId::Hipaa => "hipaa",
            FrameworkId::Soc2 => "soc2",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == raw.trim())
            .ok_or_else(|| {
                format!(
                    "unknown framework {:?}; expected one of gdpr, pci-dss, hipaa, soc2",
                    crate::datasource::values::clip(raw.trim(), 40)
                )
            })
    }
}

impl fmt::Display for FrameworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How serious an open violation is; weighs in the score.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw.trim())
            .ok_or_else(|| {
                format!(
                    "unknown severity {:?}; expected one of low, medium, high, critical",
                    crate::datasource::values::clip(raw.trim(), 40)
                )
            })
    }
}

/// What a rule judges: the whole source, one asset, or one column (evaluated per column).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SubjectLevel {
    Source,
    Asset,
    Column,
}

impl SubjectLevel {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "source" => Ok(SubjectLevel::Source),
            "asset" => Ok(SubjectLevel::Asset),
            "column" => Ok(SubjectLevel::Column),
            other => Err(format!(
                "unknown subject level {:?}; expected one of source, asset, column",
                crate::datasource::values::clip(other, 40)
            )),
        }
    }

    pub fn binding(self) -> Binding {
        match self {
            SubjectLevel::Column => Binding::Column,
            SubjectLevel::Source | SubjectLevel::Asset => Binding::Asset,
        }
    }
}

/// A rule as written in a pack or recorded for a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleDefinition {
    /// Stable id, e.g. `pci-dss-pan-without-verified-tls`: 3–80 of `a-z 0-9 - . _`.
    pub id: String,
    /// Raised whenever the rule's meaning changes; findings record the version they ran with.
    pub version: u32,
    pub title: String,
    pub framework: FrameworkId,
    /// The control cited, e.g. `PCI DSS v4.0 4.2.1`.
    pub control: String,
    pub severity: Severity,
    pub remediation: String,
    pub subject: SubjectLevel,
    /// In the condition language (`domain::compliance::condition`).
    pub condition: String,
}

/// A definition whose every field is valid and whose condition is parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub definition: RuleDefinition,
    pub condition: Condition,
}

const MAX_TITLE_CHARS: usize = 200;
const MAX_CONTROL_CHARS: usize = 100;
const MAX_REMEDIATION_CHARS: usize = 2000;

/// Whether `id` is a well-formed rule id.
pub fn valid_rule_id(id: &str) -> bool {
    (3..=80).contains(&id.len())
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_')
        })
        && id.as_bytes()[0].is_ascii_lowercase()
}

impl RuleDefinition {
    /// Checks every field and parses the condition; every problem names its field.
    pub fn check(&self) -> Result<Rule, ValidationError> {
        let mut errors = Vec::new();
        let mut error = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_owned(),
                message,
            })
        };
        if !valid_rule_id(&self.id) {
            error(
                "id",
                "must be 3 to 80 characters of a-z, 0-9, '-', '.' or '_', starting with a letter"
                    .into(),
            );
        }
        if self.version == 0 {
            error("version", "must be at least 1".into());
        }
        for (field, text, max) in [
            ("title", &self.title, MAX_TITLE_CHARS),
            ("control", &self.control, MAX_CONTROL_CHARS),
            ("remediation", &self.remediation, MAX_REMEDIATION_CHARS),
        ] {
            let blank = text.trim().is_empty();
            // Remediation is prose and may keep its line breaks; other control characters never.
            let bad_char = text
                .chars()
                .any(|c| c.is_control() && !(field == "remediation" && c == '\n'));
            if blank || bad_char || text.chars().count() > max {
                error(
                    field,
                    format!("must be 1 to {max} characters without control characters"),
                );
            }
        }
        // Line breaks and tabs lay a condition out; any other control character (a vertical tab,
        // an escape sequence, a NEL the lexer would take for a space) is refused, so the text a
        // rule is stored and shown with is what it looks like.
        let control = self
            .condition
            .chars()
            .enumerate()
            .find(|(_, c)| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
        let condition = match control {
            Some((at, c)) => {
                error(
                    "condition",
                    format!(
                        "at character {}: control character U+{:04X} is not allowed (only newline, carriage return and tab)",
                        at + 1,
                        u32::from(c)
                    ),
                );
                None
            }
            None => match Condition::parse(&self.condition, self.subject.binding()) {
                Ok(condition) => Some(condition),
                Err(problems) => {
                    for problem in problems {
                        error("condition", problem.to_string());
                    }
                    None
                }
            },
        };
        match condition {
            Some(condition) if errors.is_empty() => Ok(Rule {
                definition: self.clone(),
                condition,
            }),
            _ => Err(ValidationError { errors }),
        }
    }
}

/// A custom rule as a person writes it (a GraphQL input, a rule file): every field as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleInput {
    pub id: String,
    pub title: String,
    pub framework: String,
    pub control: String,
    pub severity: String,
    pub subject: String,
    pub remediation: String,
    pub condition: String,
}

/// The order problems are reported in: the order a rule is written in.
const FIELD_ORDER: [&str; 9] = [
    "id",
    "version",
    "title",
    "framework",
    "control",
    "severity",
    "subject",
    "remediation",
    "condition",
];

impl RuleInput {
    /// Checks the input as a tenant's custom rule and returns its definition (version 1; the
    /// policy numbers versions). Every problem is reported, each naming its field, in field order:
    /// an unknown framework, severity or subject level, a malformed or reserved id, a bad title,
    /// control or remediation, and the condition's syntax or type error with its position.
    pub fn check(&self) -> Result<RuleDefinition, ValidationError> {
        let mut errors = Vec::new();
        let framework = FrameworkId::parse(&self.framework)
            .map_err(|message| field_error(&mut errors, "framework", message))
            .ok();
        let severity = Severity::parse(&self.severity)
            .map_err(|message| field_error(&mut errors, "severity", message))
            .ok();
        let subject = SubjectLevel::parse(&self.subject)
            .map_err(|message| field_error(&mut errors, "subject", message))
            .ok();
        let id = self.id.trim();
        if valid_rule_id(id) && super::policy::is_reserved_rule_id(id) {
            field_error(
                &mut errors,
                "id",
                "is reserved for built-in rules (ids starting with gdpr-, pci-dss-, hipaa- or soc2-); choose another id".into(),
            );
        }
        let definition = RuleDefinition {
            id: id.to_owned(),
            version: 1,
            title: self.title.trim().to_owned(),
            // Stand-ins for fields already reported, so that the others are still checked: a
            // column binding knows every fact a source or asset rule does, so an unknown subject
            // level adds no second problem to the condition.
            framework: framework.unwrap_or(FrameworkId::Gdpr),
            control: self.control.trim().to_owned(),
            severity: severity.unwrap_or(Severity::Low),
            remediation: self.remediation.trim().to_owned(),
            subject: subject.unwrap_or(SubjectLevel::Column),
            condition: self.condition.clone(),
        };
        if let Err(e) = definition.check() {
            errors.extend(e.errors);
        }
        if errors.is_empty() {
            return Ok(definition);
        }
        errors.sort_by_key(|e| FIELD_ORDER.iter().position(|f| *f == e.field));
        Err(ValidationError { errors })
    }
}

fn field_error(errors: &mut Vec<FieldError>, field: &str, message: String) {
    errors.push(FieldError {
        field: field.to_owned(),
        message,
    });
}
