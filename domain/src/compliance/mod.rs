//! Compliance: framework packs of rules over the catalog's facts, their evaluation, and the two
//! aggregates that record what was decided.
//!
//! Contracts, before any code:
//! - [`facts`] is plain data the read side builds (a source's posture, one asset with its columns,
//!   labels and readers); every fact carries the [`Evidence`] (event id, stream sequence, hash)
//!   it rests on.
//! - A rule's condition is text in a small declarative language ([`condition`]) that is parsed
//!   and type-checked once, when a pack or a custom rule is loaded; evaluation is pure, total and
//!   allocation-free per column.
//! - [`packs`] are data embedded in the binary (one TOML file per framework: `gdpr`, `pci-dss`,
//!   `hipaa`, `soc2`), validated at load with errors naming the pack, the rule and the field.
//! - [`engine::evaluate`] turns one asset's facts and the enabled rules into findings in a
//!   deterministic order, each citing exactly the facts (and their events) that made it fire;
//!   [`engine::framework_score`] condenses open findings into a 0–100 score.
//! - [`policy`] (`CompliancePolicy`, one per tenant) and [`violation`] (`Violation`, one per
//!   tenant, rule and subject) are deciders like every other aggregate; nothing here performs I/O.

pub mod condition;
pub mod engine;
pub mod facts;
pub mod packs;
pub mod policy;
pub mod region;
pub mod rules;
pub mod violation;

pub use condition::{Binding, CitedFact, Condition, ConditionError, Env};
pub use engine::{
    changed_facts, evaluate, evaluate_columns, evaluate_source, framework_score, recheck,
    ActiveRule, Finding,
};
pub use facts::{
    AssetFacts, ColumnFacts, Evidence, LabelFacts, RoleFacts, SourceFacts, PHI_PERMISSION,
};
pub use packs::{builtin_packs, builtin_rules, load_pack, load_rule_file, Pack, PackError};
pub use policy::{
    is_reserved_rule_id, policy_id, CompliancePolicy, CompliancePolicyCommand,
    CompliancePolicyError, CompliancePolicyEvent, CompliancePolicyState,
};
pub use rules::{FrameworkId, Rule, RuleDefinition, RuleInput, Severity, SubjectLevel};
pub use violation::{
    violation_id, Subject, Violation, ViolationCommand, ViolationError, ViolationEvent,
    ViolationState, ViolationStatus,
};

#[cfg(test)]
mod tests;
