//! The ScanRuleSet aggregate: a versioned definition of what a classification looks at and how —
//! include/exclude patterns over asset paths, rows sampled per table, the built-in types enabled,
//! the confidence threshold (applied) and floor (suggested), custom classification rules, and
//! how far an asset's statistics must move before a scan of the source records them again.
//! A data source is attached to one rule set; classification records the rule set's id and the
//! version it ran with on every label.
//!
//! | command | state | records |
//! |---|---|---|
//! | Create | never created | `ScanRuleSetCreated` (version 1) |
//! | Update | active, other definition | `ScanRuleSetUpdated` (version + 1) |
//! | Update | active, same definition | nothing |
//! | Archive | active | `ScanRuleSetArchived` |
//!
//! A definition is validated as a whole before anything is recorded; every problem names its field.

#[cfg(test)]
mod tests;

use crate::aggregate::{decode_data, Aggregate, DomainEvent, EventDecodeError};
use crate::classification::{ClassificationType, ClassifierSettings, CustomRule};
use crate::datasource::{FieldError, ValidationError};
use crate::ids::AggregateId;
use crate::scan::ScanScope;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a classification looks at and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleSetDefinition {
    pub name: String,
    pub description: Option<String>,
    /// Which assets are classified (include/exclude patterns over asset paths).
    pub scope: ScanScope,
    /// Rows sampled per table (1..=10000).
    pub sample_size: u32,
    /// Built-in types looked for; `None` means all.
    pub enabled_types: Option<Vec<ClassificationType>>,
    /// Confidence at or above which a label is applied.
    pub threshold: f64,
    /// Confidence at or above which (and below the threshold) a label is suggested for review.
    pub floor: f64,
    pub custom_rules: Vec<CustomRule>,
    /// The fraction (0 to 1) of its last recorded value by which an asset's row estimate or
    /// size must move before a scan of an attached source records it again (`StatisticsChanged`);
    /// 0 records every move. `None`: the service's setting (`PURSIGHT_STATISTICS_CHANGE_PERCENT`,
    /// default 0.10). Absent from definitions recorded before it existed, which read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics_change: Option<f64>,
}

impl RuleSetDefinition {
    pub const DEFAULT_SAMPLE_SIZE: u32 = 100;
    pub const MAX_SAMPLE_SIZE: u32 = 10_000;

    /// The built-in defaults: everything in scope, 100 rows, every type, threshold 0.8, floor 0.5.
    pub fn defaults(name: impl Into<String>) -> Self {
        let settings = ClassifierSettings::default();
        Self {
            name: name.into(),
            description: None,
            scope: ScanScope::everything(),
            sample_size: Self::DEFAULT_SAMPLE_SIZE,
            enabled_types: None,
            threshold: settings.threshold,
            floor: settings.floor,
            custom_rules: Vec::new(),
            statistics_change: None,
        }
    }

    /// The statistics threshold a scan of an attached source uses: this definition's, else
    /// `service` (the deployment's setting).
    pub fn statistics_threshold(
        &self,
        service: crate::discovery::StatisticsThreshold,
    ) -> crate::discovery::StatisticsThreshold {
        self.statistics_change
            .and_then(|f| crate::discovery::StatisticsThreshold::from_fraction(f).ok())
            .unwrap_or(service)
    }

    /// What the classifier is asked to do under this definition.
    pub fn settings(&self) -> ClassifierSettings {
        ClassifierSettings {
            threshold: self.threshold,
            floor: self.floor,
            enabled_types: self
                .enabled_types
                .as_ref()
                .map(|types| types.iter().copied().collect()),
            custom_rules: self.custom_rules.clone(),
        }
    }

    /// Every problem of the definition, each naming its field.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut errors = Vec::new();
        let mut error = |field: String, message: String| errors.push(FieldError { field, message });
        // Names and descriptions obey the same text rules as every other text a person
        // types (`crate::text`); they stay `String`s here because the definition is stored in
        // events as it is.
        if let Err(e) = crate::text::Name::parse(&self.name) {
            error("name".into(), e.to_string());
        }
        if let Err(e) = crate::text::Description::parse_optional(self.description.as_deref()) {
            error("description".into(), e.to_string());
        }
        if let Err(e) = self.scope.validate() {
            error("scope".into(), e.to_string());
        }
        if self.sample_size == 0 || self.sample_size > Self::MAX_SAMPLE_SIZE {
            error(
                "sample_size".into(),
                format!("must be between 1 and {}", Self::MAX_SAMPLE_SIZE),
            );
        }
        for (field, value) in [("threshold", self.threshold), ("floor", self.floor)] {
            if !(0.0..=1.0).contains(&value) {
                error(field.into(), "must be between 0 and 1".into());
            }
        }
        if let Some(fraction) = self.statistics_change {
            if crate::discovery::StatisticsThreshold::from_fraction(fraction).is_err() {
                error(
                    "statistics_change".into(),
                    "must be a fraction between 0 and 1 (0.10 for 10 %)".into(),
                );
            }
        }
        if self.floor > self.threshold {
            error("floor".into(), "must not be above the threshold".into());
        }
        if matches!(&self.enabled_types, Some(types) if types.is_empty()) {
            error(
                "enabled_types".into(),
                "must name at least one type (leave it out for all)".into(),
            );
        }
        let mut seen = Vec::new();
        for (i, rule) in self.custom_rules.iter().enumerate() {
            let field = |name: &str| format!("custom_rules[{i}].{name}");
            let label = rule.label.trim();
            if let Err(e) = crate::text::Name::parse(label) {
                error(field("label"), e.to_string());
            } else if ClassificationType::parse(label).is_some() {
                error(
                    field("label"),
                    format!("{label} is a built-in type; choose another name"),
                );
            } else if seen.contains(&label) {
                error(field("label"), format!("{label} is defined twice"));
            }
            seen.push(label);
            if rule.name_pattern.is_none() && rule.value_pattern.is_none() {
                error(
                    field("name_pattern"),
                    "a rule needs a name pattern, a value pattern or both".into(),
                );
            }
            for (name, pattern) in [
                ("name_pattern", &rule.name_pattern),
                ("value_pattern", &rule.value_pattern),
            ] {
                if let Some(pattern) = pattern {
                    // A control character is written as an escape (`\t`, `\x00`) in a pattern;
                    // raw, a NUL would be refused by the read models' JSONB.
                    if pattern.chars().any(char::is_control) || pattern.chars().count() > 1024 {
                        error(
                            field(name),
                            "must be at most 1024 characters without control characters (write them as escapes such as \\t)".into(),
                        );
                    } else if let Err(e) = regex::Regex::new(pattern) {
                        error(
                            field(name),
                            format!("is not a valid regular expression: {e}"),
                        );
                    }
                }
            }
            if let Some(validator) = &rule.validator {
                if crate::classification::validators::by_id(validator).is_none() {
                    error(
                        field("validator"),
                        format!("unknown validator `{validator}`"),
                    );
                }
            }
            if !(rule.min_match_ratio > 0.0 && rule.min_match_ratio <= 1.0) {
                error(
                    field("min_match_ratio"),
                    "must be above 0 and at most 1".into(),
                );
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationError { errors })
        }
    }
}

/// A request to a ScanRuleSet aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanRuleSetCommand {
    Create {
        id: AggregateId,
        definition: RuleSetDefinition,
    },
    Update {
        definition: RuleSetDefinition,
    },
    Archive,
}

/// A rule set was created at version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScanRuleSetCreated {
    pub rule_set_id: AggregateId,
    pub definition: RuleSetDefinition,
}

/// A rule set got a new definition (and version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScanRuleSetUpdated {
    pub rule_set_id: AggregateId,
    pub version: u64,
    pub definition: RuleSetDefinition,
}

/// A rule set was retired; sources attached to it fall back to the built-in defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScanRuleSetArchived {
    pub rule_set_id: AggregateId,
}

/// Every event of the ScanRuleSet aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanRuleSetEvent {
    ScanRuleSetCreated(ScanRuleSetCreated),
    ScanRuleSetUpdated(ScanRuleSetUpdated),
    ScanRuleSetArchived(ScanRuleSetArchived),
}

impl ScanRuleSetEvent {
    pub const READABLE: &'static [(&'static str, u32)] = &[
        ("ScanRuleSetCreated", 1),
        ("ScanRuleSetUpdated", 1),
        ("ScanRuleSetArchived", 1),
    ];
}

impl DomainEvent for ScanRuleSetEvent {
    fn event_type(&self) -> &'static str {
        match self {
            ScanRuleSetEvent::ScanRuleSetCreated(_) => "ScanRuleSetCreated",
            ScanRuleSetEvent::ScanRuleSetUpdated(_) => "ScanRuleSetUpdated",
            ScanRuleSetEvent::ScanRuleSetArchived(_) => "ScanRuleSetArchived",
        }
    }

    fn version(&self) -> u32 {
        1
    }

    fn serialize_data<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ScanRuleSetEvent::ScanRuleSetCreated(e) => e.serialize(serializer),
            ScanRuleSetEvent::ScanRuleSetUpdated(e) => e.serialize(serializer),
            ScanRuleSetEvent::ScanRuleSetArchived(e) => e.serialize(serializer),
        }
    }

    fn from_stored(event_type: &str, version: u32, data: &Value) -> Result<Self, EventDecodeError> {
        use ScanRuleSetEvent as E;
        let t = event_type;
        Ok(match (event_type, version) {
            ("ScanRuleSetCreated", 1) => E::ScanRuleSetCreated(decode_data(t, version, data)?),
            ("ScanRuleSetUpdated", 1) => E::ScanRuleSetUpdated(decode_data(t, version, data)?),
            ("ScanRuleSetArchived", 1) => E::ScanRuleSetArchived(decode_data(t, version, data)?),
            _ => {
                return Err(EventDecodeError::Unknown {
                    event_type: event_type.to_owned(),
                    version,
                })
            }
        })
    }
}

/// The folded history of one rule set. `Default` is a rule set never created.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanRuleSetState {
    pub id: Option<AggregateId>,
    pub definition: Option<RuleSetDefinition>,
    /// The definition's version: 1 when created, + 1 per update.
    pub rule_set_version: u64,
    pub archived: bool,
    /// Number of events applied.
    pub version: u64,
}

/// Why the ScanRuleSet aggregate refused a command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScanRuleSetError {
    #[error("scan rule set not found")]
    NotFound,
    #[error("the scan rule set already exists")]
    AlreadyExists,
    #[error("the scan rule set is archived")]
    Archived,
    #[error("invalid scan rule set: {0}")]
    Validation(#[from] ValidationError),
}

impl crate::Rejection for ScanRuleSetError {
    fn kind(&self) -> crate::RejectionKind {
        use crate::RejectionKind::*;
        match self {
            ScanRuleSetError::NotFound => NotFound,
            ScanRuleSetError::AlreadyExists | ScanRuleSetError::Archived => Refused,
            ScanRuleSetError::Validation(_) => Invalid,
        }
    }
}

/// The ScanRuleSet aggregate (a decider; all data is in [`ScanRuleSetState`]).
pub struct ScanRuleSet;

impl Aggregate for ScanRuleSet {
    const NAME: &'static str = "scan_rule_set";
    type State = ScanRuleSetState;
    type Command = ScanRuleSetCommand;
    type Event = ScanRuleSetEvent;
    type Error = ScanRuleSetError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match command {
            ScanRuleSetCommand::Create { id, definition } => {
                if state.id.is_some() {
                    return Err(ScanRuleSetError::AlreadyExists);
                }
                definition.validate()?;
                Ok(vec![ScanRuleSetEvent::ScanRuleSetCreated(
                    ScanRuleSetCreated {
                        rule_set_id: *id,
                        definition: definition.clone(),
                    },
                )])
            }
            ScanRuleSetCommand::Update { definition } => {
                let id = active(state)?;
                definition.validate()?;
                if state.definition.as_ref() == Some(definition) {
                    return Ok(Vec::new());
                }
                Ok(vec![ScanRuleSetEvent::ScanRuleSetUpdated(
                    ScanRuleSetUpdated {
                        rule_set_id: id,
                        version: state.rule_set_version + 1,
                        definition: definition.clone(),
                    },
                )])
            }
            ScanRuleSetCommand::Archive => {
                let id = active(state)?;
                Ok(vec![ScanRuleSetEvent::ScanRuleSetArchived(
                    ScanRuleSetArchived { rule_set_id: id },
                )])
            }
        }
    }

    fn evolve(mut state: Self::State, event: &Self::Event) -> Self::State {
        state.version += 1;
        match event {
            ScanRuleSetEvent::ScanRuleSetCreated(e) => {
                state.id = Some(e.rule_set_id);
                state.definition = Some(e.definition.clone());
                state.rule_set_version = 1;
            }
            ScanRuleSetEvent::ScanRuleSetUpdated(e) => {
                state.definition = Some(e.definition.clone());
                state.rule_set_version = e.version;
            }
            ScanRuleSetEvent::ScanRuleSetArchived(_) => state.archived = true,
        }
        state
    }
}

fn active(state: &ScanRuleSetState) -> Result<AggregateId, ScanRuleSetError> {
    match state.id {
        None => Err(ScanRuleSetError::NotFound),
        Some(_) if state.archived => Err(ScanRuleSetError::Archived),
        Some(id) => Ok(id),
    }
}
