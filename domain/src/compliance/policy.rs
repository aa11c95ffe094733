//! The CompliancePolicy aggregate: one per tenant, saying which frameworks are evaluated, how
//! built-in rules are tuned, and which custom rules the tenant defined (in the same condition
//! language as the packs).
//!
//! | command | state | records |
//! |---|---|---|
//! | EnableFramework | framework disabled | `FrameworkEnabled` |
//! | EnableFramework | framework enabled | nothing |
//! | DisableFramework | framework enabled | `FrameworkDisabled` |
//! | DisableFramework | framework disabled | nothing |
//! | TuneRule | a built-in or active custom rule, other tuning | `RuleTuned` |
//! | TuneRule | same tuning | nothing |
//! | TuneRule | unknown rule | [`CompliancePolicyError::UnknownRule`] |
//! | DefineCustomRule | valid, other definition than the active one | `CustomRuleDefined` (version = last + 1) |
//! | DefineCustomRule | same definition as the active one | nothing |
//! | DefineCustomRule | invalid field or condition, or an id reserved for built-in rules | refused, nothing recorded |
//! | RetireCustomRule | active custom rule | `CustomRuleRetired` |
//! | RetireCustomRule | no such active rule | [`CompliancePolicyError::UnknownRule`] |
//!
//! A tenant that never changed its policy evaluates every framework with the built-in severities:
//! frameworks are enabled until disabled. A redefined custom rule gets the next version (also
//! after a retirement), so findings name the version they ran with.

use super::engine::ActiveRule;
use super::packs::builtin_rules;
use super::rules::{FrameworkId, RuleDefinition, Severity};
use crate::aggregate::{decode_data, Aggregate, DomainEvent, EventDecodeError};
use crate::datasource::ValidationError;
use crate::ids::{AggregateId, TenantId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// The aggregate id of `tenant`'s policy: `SHA-256("pursight.compliance-policy-id.v1\n" ‖
/// tenant)`, first 16 bytes as a UUIDv8 (as `AssetId::for_path`). Never change this.
pub fn policy_id(tenant: &TenantId) -> AggregateId {
    let digest = Sha256::new()
        .chain_update(b"pursight.compliance-policy-id.v1\n")
        .chain_update(tenant.as_str().as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    AggregateId::from_uuid(Uuid::from_bytes(bytes))
}

/// Whether `id` may not name a custom rule: it is a built-in rule's, or starts with a framework
/// prefix (`gdpr-`, `pci-dss-`, `hipaa-`, `soc2-`). The prefixes are reserved so that a rule
/// added to a pack later can never take over the violations of a tenant's custom rule.
pub fn is_reserved_rule_id(id: &str) -> bool {
    let id = id.trim();
    FrameworkId::ALL.iter().any(|f| {
        id.strip_prefix(f.as_str())
            .is_some_and(|rest| rest.starts_with('-'))
    }) || builtin_rules().any(|r| r.definition.id == id)
}

/// A request to a tenant's CompliancePolicy.
#[derive(Debug, Clone, PartialEq)]
pub enum CompliancePolicyCommand {
    EnableFramework {
        framework: FrameworkId,
    },
    DisableFramework {
        framework: FrameworkId,
    },
    /// `severity: None` restores the rule's own severity.
    TuneRule {
        rule_id: String,
        severity: Option<Severity>,
        enabled: bool,
    },
    /// The definition's `version` is ignored: the aggregate numbers versions.
    DefineCustomRule {
        definition: RuleDefinition,
    },
    RetireCustomRule {
        rule_id: String,
    },
}

/// A framework is evaluated again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FrameworkEnabled {
    pub framework: FrameworkId,
}

/// A framework is no longer evaluated (its open violations are resolved by the evaluator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FrameworkDisabled {
    pub framework: FrameworkId,
}

/// A rule's severity or enablement was changed for this tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleTuned {
    pub rule_id: String,
    /// `None`: the rule's own severity.
    pub severity: Option<Severity>,
    pub enabled: bool,
}

/// A custom rule was defined (or redefined, with the next version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CustomRuleDefined {
    pub rule: RuleDefinition,
}

/// A custom rule was retired at `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CustomRuleRetired {
    pub rule_id: String,
    pub version: u32,
}

/// Every event of the CompliancePolicy aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum CompliancePolicyEvent {
    FrameworkEnabled(FrameworkEnabled),
    FrameworkDisabled(FrameworkDisabled),
    RuleTuned(RuleTuned),
    CustomRuleDefined(CustomRuleDefined),
    CustomRuleRetired(CustomRuleRetired),
}

impl CompliancePolicyEvent {
    pub const READABLE: &'static [(&'static str, u32)] = &[
        ("FrameworkEnabled", 1),
        ("FrameworkDisabled", 1),
        ("RuleTuned", 1),
        ("CustomRuleDefined", 1),
        ("CustomRuleRetired", 1),
    ];
}

impl DomainEvent for CompliancePolicyEvent {
    fn event_type(&self) -> &'static str {
        match self {
            CompliancePolicyEvent::FrameworkEnabled(_) => "FrameworkEnabled",
            CompliancePolicyEvent::FrameworkDisabled(_) => "FrameworkDisabled",
            CompliancePolicyEvent::RuleTuned(_) => "RuleTuned",
            CompliancePolicyEvent::CustomRuleDefined(_) => "CustomRuleDefined",
            CompliancePolicyEvent::CustomRuleRetired(_) => "CustomRuleRetired",
        }
    }

    fn version(&self) -> u32 {
        1
    }

    fn serialize_data<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            CompliancePolicyEvent::FrameworkEnabled(e) => e.serialize(serializer),
            CompliancePolicyEvent::FrameworkDisabled(e) => e.serialize(serializer),
            CompliancePolicyEvent::RuleTuned(e) => e.serialize(serializer),
            CompliancePolicyEvent::CustomRuleDefined(e) => e.serialize(serializer),
            CompliancePolicyEvent::CustomRuleRetired(e) => e.serialize(serializer),
        }
    }

    fn from_stored(event_type: &str, version: u32, data: &Value) -> Result<Self, EventDecodeError> {
        use CompliancePolicyEvent as E;
        let t = event_type;
        Ok(match (event_type, version) {
            ("FrameworkEnabled", 1) => E::FrameworkEnabled(decode_data(t, version, data)?),
            ("FrameworkDisabled", 1) => E::FrameworkDisabled(decode_data(t, version, data)?),
            ("RuleTuned", 1) => E::RuleTuned(decode_data(t, version, data)?),
            ("CustomRuleDefined", 1) => E::CustomRuleDefined(decode_data(t, version, data)?),
            ("CustomRuleRetired", 1) => E::CustomRuleRetired(decode_data(t, version, data)?),
            _ => {
                return Err(EventDecodeError::Unknown {
                    event_type: event_type.to_owned(),
                    version,
                })
            }
        })
    }
}

/// How a tenant tuned one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tuning {
    pub severity: Option<Severity>,
    pub enabled: bool,
}

/// The folded history of one tenant's policy. `Default` is the untouched policy: every
/// framework enabled, no tuning, no custom rules. Serialisable for the command handler's
/// snapshots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompliancePolicyState {
    pub disabled: BTreeSet<FrameworkId>,
    pub tuning: BTreeMap<String, Tuning>,
    /// Active custom rules by id.
    pub custom: BTreeMap<String, RuleDefinition>,
    /// The last version of every custom rule ever defined (active or retired).
    pub custom_versions: BTreeMap<String, u32>,
    /// Number of events applied.
    pub version: u64,
}

impl CompliancePolicyState {
    pub fn enabled(&self, framework: FrameworkId) -> bool {
        !self.disabled.contains(&framework)
    }

    /// The rules to evaluate: built-in rules of enabled frameworks, then the tenant's custom
    /// rules of enabled frameworks (by id), each with its tuned severity, without disabled ones.
    ///
    /// A custom rule whose condition no longer checks (the language grew stricter) is returned
    /// in the second list with its error instead of being silently skipped.
    pub fn active_rules(&self) -> (Vec<ActiveRule>, Vec<(String, ValidationError)>) {
        let mut rules = Vec::new();
        let mut broken = Vec::new();
        let tuned = |id: &str, own: Severity| match self.tuning.get(id) {
            Some(t) if !t.enabled => None,
            Some(t) => Some(t.severity.unwrap_or(own)),
            None => Some(own),
        };
        for rule in builtin_rules() {
            let d = &rule.definition;
            if let (true, Some(severity)) = (self.enabled(d.framework), tuned(&d.id, d.severity)) {
                rules.push(ActiveRule {
                    rule: rule.clone(),
                    severity,
                });
            }
        }
        for definition in self.custom.values() {
            let Some(severity) = tuned(&definition.id, definition.severity) else {
                continue;
            };
            if !self.enabled(definition.framework) {
                continue;
            }
            match definition.check() {
                Ok(rule) => rules.push(ActiveRule { rule, severity }),
                Err(e) => broken.push((definition.id.clone(), e)),
            }
        }
        (rules, broken)
    }
}

/// Why the CompliancePolicy aggregate refused a command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompliancePolicyError {
    #[error("no compliance rule {0}")]
    UnknownRule(String),
    #[error("{0} is reserved for built-in rules (ids starting with gdpr-, pci-dss-, hipaa- or soc2-); choose another id for a custom rule")]
    ReservedRuleId(String),
    #[error("invalid compliance rule: {0}")]
    Validation(#[from] ValidationError),
}

impl crate::Rejection for CompliancePolicyError {
    fn kind(&self) -> crate::RejectionKind {
        use crate::RejectionKind::*;
        match self {
            CompliancePolicyError::UnknownRule(_) => NotFound,
            CompliancePolicyError::ReservedRuleId(_) | CompliancePolicyError::Validation(_) => {
                Invalid
            }
        }
    }
}

/// The CompliancePolicy aggregate (a decider; all data is in [`CompliancePolicyState`]).
pub struct CompliancePolicy;

impl Aggregate for CompliancePolicy {
    const NAME: &'static str = "compliance_policy";
    type State = CompliancePolicyState;
    type Command = CompliancePolicyCommand;
    type Event = CompliancePolicyEvent;
    type Error = CompliancePolicyError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        use CompliancePolicyCommand as C;
        use CompliancePolicyEvent as E;
        Ok(match command {
            C::EnableFramework { framework } if !state.enabled(*framework) => {
                vec![E::FrameworkEnabled(FrameworkEnabled {
                    framework: *framework,
                })]
            }
            C::DisableFramework { framework } if state.enabled(*framework) => {
                vec![E::FrameworkDisabled(FrameworkDisabled {
                    framework: *framework,
                })]
            }
            C::EnableFramework { .. } | C::DisableFramework { .. } => Vec::new(),
            C::TuneRule {
                rule_id,
                severity,
                enabled,
            } => {
                let known = builtin_rules().any(|r| &r.definition.id == rule_id)
                    || state.custom.contains_key(rule_id);
                if !known {
                    return Err(CompliancePolicyError::UnknownRule(
                        crate::datasource::values::clip(rule_id, 80),
                    ));
                }
                let tuning = Tuning {
                    severity: *severity,
                    enabled: *enabled,
                };
                let current = state.tuning.get(rule_id).copied().unwrap_or(Tuning {
                    severity: None,
                    enabled: true,
                });
                if current == tuning {
                    return Ok(Vec::new());
                }
                vec![E::RuleTuned(RuleTuned {
                    rule_id: rule_id.clone(),
                    severity: *severity,
                    enabled: *enabled,
                })]
            }
            C::DefineCustomRule { definition } => {
                let id = definition.id.trim();
                if is_reserved_rule_id(id) {
                    return Err(CompliancePolicyError::ReservedRuleId(
                        crate::datasource::values::clip(id, 80),
                    ));
                }
                let version = state.custom_versions.get(id).copied().unwrap_or(0) + 1;
                let rule = RuleDefinition {
                    id: id.to_owned(),
                    version,
                    title: definition.title.trim().to_owned(),
                    control: definition.control.trim().to_owned(),
                    remediation: definition.remediation.trim().to_owned(),
                    ..definition.clone()
                };
                rule.check()?;
                if let Some(active) = state.custom.get(id) {
                    let unchanged = RuleDefinition {
                        version: active.version,
                        ..rule.clone()
                    } == *active;
                    if unchanged {
                        return Ok(Vec::new());
                    }
                }
                vec![E::CustomRuleDefined(CustomRuleDefined { rule })]
            }
            C::RetireCustomRule { rule_id } => match state.custom.get(rule_id) {
                Some(active) => vec![E::CustomRuleRetired(CustomRuleRetired {
                    rule_id: rule_id.clone(),
                    version: active.version,
                })],
                None => {
                    return Err(CompliancePolicyError::UnknownRule(
                        crate::datasource::values::clip(rule_id, 80),
                    ))
                }
            },
        })
    }

    fn evolve(mut state: Self::State, event: &Self::Event) -> Self::State {
        state.version += 1;
        match event {
            CompliancePolicyEvent::FrameworkEnabled(e) => {
                state.disabled.remove(&e.framework);
            }
            CompliancePolicyEvent::FrameworkDisabled(e) => {
                state.disabled.insert(e.framework);
            }
            CompliancePolicyEvent::RuleTuned(e) => {
                state.tuning.insert(
                    e.rule_id.clone(),
                    Tuning {
                        severity: e.severity,
                        enabled: e.enabled,
                    },
                );
            }
            CompliancePolicyEvent::CustomRuleDefined(e) => {
                state
                    .custom_versions
                    .insert(e.rule.id.clone(), e.rule.version);
                state.custom.insert(e.rule.id.clone(), e.rule.clone());
            }
            CompliancePolicyEvent::CustomRuleRetired(e) => {
                state.custom.remove(&e.rule_id);
            }
        }
        state
    }
}

#[cfg(test)]
mod tests;
