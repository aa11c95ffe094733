//! Framework packs: one TOML file per framework, embedded in the binary and validated at load.
//!
//! # Format
//!
//! ```toml
//! framework = "pci-dss"          # gdpr | pci-dss | hipaa | soc2 (must match the file)
//! title = "PCI DSS v4.0"
//!
//! [[rule]]
//! id = "pci-dss-sad-stored"      # stable: violations are keyed by it
//! version = 1                    # raised whenever the rule's meaning changes
//! title = "Card security codes are stored"
//! control = "PCI DSS v4.0 3.3.1"
//! severity = "critical"          # low | medium | high | critical
//! subject = "column"             # source | asset | column
//! remediation = "…"
//! condition = '''any label (label.type == "CARD_SECURITY_CODE")'''
//! # framework = "pci-dss"        # optional; when given it must be the pack's
//! ```
//!
//! Unknown keys are refused (a misspelt `severty` would otherwise silently drop the field).
//! Every problem is reported as a [`PackError`] naming the pack, the rule and the field.

use super::rules::{FrameworkId, Rule, RuleDefinition, RuleInput, Severity, SubjectLevel};
use crate::datasource::{FieldError, ValidationError};
use std::fmt;
use std::sync::OnceLock;
use toml_edit::{Item, Table};

/// A loaded pack: its framework, title and checked rules in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Pack {
    pub framework: FrameworkId,
    pub title: String,
    pub rules: Vec<Rule>,
}

/// One problem in a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackProblem {
    /// The rule's id, or `rule[i]` when it has none; `None` for the pack's own fields.
    pub rule: Option<String>,
    pub field: String,
    pub message: String,
}

/// Everything wrong with one pack; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PackError {
    pub pack: String,
    pub problems: Vec<PackProblem>,
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            match &p.rule {
                Some(rule) => write!(
                    f,
                    "pack {}, rule {}, {}: {}",
                    self.pack, rule, p.field, p.message
                )?,
                None => write!(f, "pack {}, {}: {}", self.pack, p.field, p.message)?,
            }
        }
        Ok(())
    }
}

/// The built-in pack files: (name, text).
pub const BUILTIN_PACK_FILES: [(&str, &str); 4] = [
    ("gdpr", include_str!("packs/gdpr.toml")),
    ("pci-dss", include_str!("packs/pci-dss.toml")),
    ("hipaa", include_str!("packs/hipaa.toml")),
    ("soc2", include_str!("packs/soc2.toml")),
];

/// The four built-in packs, loaded once. They are checked by the tests, so a broken pack never
/// ships; should one fail anyway, this panics at the first evaluation with the pack's error.
pub fn builtin_packs() -> &'static [Pack] {
    static PACKS: OnceLock<Vec<Pack>> = OnceLock::new();
    PACKS.get_or_init(|| {
        BUILTIN_PACK_FILES
            .iter()
            .map(|(name, text)| load_pack(name, text).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    })
}

/// Every built-in rule, in pack order.
pub fn builtin_rules() -> impl Iterator<Item = &'static Rule> {
    builtin_packs().iter().flat_map(|p| p.rules.iter())
}

const PACK_KEYS: &[&str] = &["framework", "title", "rule"];
const RULE_KEYS: &[&str] = &[
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

/// Parses and checks the pack `name` (its framework id) from `text`.
pub fn load_pack(name: &str, text: &str) -> Result<Pack, PackError> {
    let mut problems = Vec::new();
    let fail = |problems: Vec<PackProblem>| PackError {
        pack: name.to_owned(),
        problems,
    };
    let document = toml_edit::Document::parse(text).map_err(|e| {
        fail(vec![PackProblem {
            rule: None,
            field: "(file)".into(),
            message: format!("not valid TOML: {}", e.message()),
        }])
    })?;
    let Some(root) = document.as_item().as_table() else {
        return Err(fail(vec![PackProblem {
            rule: None,
            field: "(file)".into(),
            message: "must be a table".into(),
        }]));
    };
    let pack_problem = |problems: &mut Vec<PackProblem>, field: &str, message: String| {
        problems.push(PackProblem {
            rule: None,
            field: field.into(),
            message,
        })
    };
    for (key, _) in root.iter() {
        if !PACK_KEYS.contains(&key) {
            pack_problem(
                &mut problems,
                key,
                format!("unknown key; expected {}", PACK_KEYS.join(", ")),
            );
        }
    }
    let framework = match string(root, "framework").and_then(|raw| FrameworkId::parse(&raw)) {
        Ok(f) if f.as_str() == name => Some(f),
        Ok(f) => {
            pack_problem(
                &mut problems,
                "framework",
                format!("is {f}, but the pack is {name}"),
            );
            None
        }
        Err(e) => {
            pack_problem(&mut problems, "framework", e);
            None
        }
    };
    let title = string(root, "title").unwrap_or_else(|e| {
        pack_problem(&mut problems, "title", e);
        String::new()
    });
    let mut rules = Vec::new();
    match root.get("rule").map(|item| item.as_array_of_tables()) {
        Some(Some(tables)) => {
            let mut seen = std::collections::BTreeSet::new();
            for (i, table) in tables.iter().enumerate() {
                let label = string(table, "id").unwrap_or_else(|_| format!("rule[{i}]"));
                let mut rule_problem = |field: &str, message: String| {
                    problems.push(PackProblem {
                        rule: Some(label.clone()),
                        field: field.into(),
                        message,
                    })
                };
                if !seen.insert(label.clone()) {
                    rule_problem("id", "is used by another rule of the pack".into());
                }
                if let Some(rule) = read_rule(table, framework, &mut rule_problem) {
                    rules.push(rule);
                }
            }
            if tables.is_empty() {
                pack_problem(
                    &mut problems,
                    "rule",
                    "a pack needs at least one [[rule]]".into(),
                );
            }
        }
        Some(None) => pack_problem(
            &mut problems,
            "rule",
            "must be an array of tables ([[rule]])".into(),
        ),
        None => pack_problem(
            &mut problems,
            "rule",
            "a pack needs at least one [[rule]]".into(),
        ),
    }
    match framework {
        Some(framework) if problems.is_empty() => Ok(Pack {
            framework,
            title,
            rules,
        }),
        _ => Err(fail(problems)),
    }
}

fn read_rule(
    table: &Table,
    framework: Option<FrameworkId>,
    problem: &mut impl FnMut(&str, String),
) -> Option<Rule> {
    for (key, _) in table.iter() {
        if !RULE_KEYS.contains(&key) {
            problem(
                key,
                format!("unknown key; expected {}", RULE_KEYS.join(", ")),
            );
        }
    }
    let mut text = |field: &str| string(table, field).map_err(|e| problem(field, e)).ok();
    let id = text("id");
    let title = text("title");
    let control = text("control");
    let remediation = text("remediation");
    let condition = text("condition");
    let severity = text("severity");
    let subject = text("subject");
    let own_framework = table.get("framework").map(|_| text("framework"));
    let severity =
        severity.and_then(|s| Severity::parse(&s).map_err(|e| problem("severity", e)).ok());
    let subject = subject.and_then(|s| {
        SubjectLevel::parse(&s)
            .map_err(|e| problem("subject", e))
            .ok()
    });
    if let (Some(Some(own)), Some(framework)) = (&own_framework, framework) {
        if own.trim() != framework.as_str() {
            problem(
                "framework",
                format!("is {own}, but the pack is {framework}"),
            );
        }
    }
    let version = match table.get("version").map(|item| item.as_integer()) {
        Some(Some(v)) if (1..=i64::from(u32::MAX)).contains(&v) => Some(v as u32),
        Some(_) => {
            problem("version", "must be a whole number from 1".into());
            None
        }
        None => {
            problem("version", "is missing".into());
            None
        }
    };
    let definition = RuleDefinition {
        id: id?,
        version: version?,
        title: title?,
        framework: framework?,
        control: control?,
        severity: severity?,
        remediation: remediation?,
        subject: subject?,
        condition: condition?,
    };
    match definition.check() {
        Ok(rule) => Some(rule),
        Err(e) => {
            for error in e.errors {
                problem(&error.field, error.message);
            }
            None
        }
    }
}

/// The longest custom rule file read: a rule's fields together are well under this.
pub const MAX_RULE_FILE_BYTES: usize = 64 * 1024;

/// Parses a custom rule written as a pack rule: the keys of one `[[rule]]` table, either at the top
/// of the file or inside a single `[[rule]]` (so a rule can be copied out of a pack as it is).
/// `framework` is required; `version`, when given, must be a whole number from 1 and is otherwise
/// ignored (the tenant's policy numbers custom rule versions). Every problem is reported, each
/// naming its field; see [`RuleInput::check`](super::rules::RuleInput::check).
pub fn load_rule_file(text: &str) -> Result<RuleDefinition, ValidationError> {
    let single = |field: &str, message: String| ValidationError::single(field, message);
    if text.len() > MAX_RULE_FILE_BYTES {
        return Err(single(
            "(file)",
            format!("a rule file is at most {MAX_RULE_FILE_BYTES} bytes"),
        ));
    }
    let document = toml_edit::Document::parse(text)
        .map_err(|e| single("(file)", format!("not valid TOML: {}", e.message().trim())))?;
    let Some(root) = document.as_item().as_table() else {
        return Err(single("(file)", "must be a table".into()));
    };
    let table = match root.get("rule").map(Item::as_array_of_tables) {
        Some(Some(tables)) if tables.len() == 1 && root.len() == 1 => {
            tables.get(0).expect("one table")
        }
        Some(_) if root.len() == 1 => {
            return Err(single(
                "(file)",
                "holds one rule: its keys at the top, or a single [[rule]] table".into(),
            ))
        }
        _ => root,
    };
    let mut errors = Vec::new();
    for (key, _) in table.iter() {
        if !RULE_KEYS.contains(&key) {
            errors.push(FieldError {
                field: crate::datasource::values::clip(key, 40),
                message: format!("unknown key; expected {}", RULE_KEYS.join(", ")),
            });
        }
    }
    if let Some(item) = table.get("version") {
        if !item
            .as_integer()
            .is_some_and(|v| (1..=i64::from(u32::MAX)).contains(&v))
        {
            errors.push(FieldError {
                field: "version".into(),
                message: "must be a whole number from 1".into(),
            });
        }
    }
    let mut missing = Vec::new();
    let mut text = |field: &'static str| {
        // Not trimmed here: a condition's error positions count from its first character.
        let value = match table.get(field) {
            Some(Item::Value(v)) => v.as_str().map(str::to_owned),
            _ => None,
        };
        value.unwrap_or_else(|| {
            let message = if table.contains_key(field) {
                "must be a string"
            } else {
                "is missing"
            };
            missing.push(FieldError {
                field: field.into(),
                message: message.into(),
            });
            String::new()
        })
    };
    let input = RuleInput {
        id: text("id"),
        title: text("title"),
        framework: text("framework"),
        control: text("control"),
        severity: text("severity"),
        subject: text("subject"),
        remediation: text("remediation"),
        condition: text("condition"),
    };
    let checked = input.check();
    let reported: Vec<String> = missing.iter().map(|e| e.field.clone()).collect();
    errors.extend(missing);
    match checked {
        Ok(definition) if errors.is_empty() => Ok(definition),
        Ok(_) => Err(ValidationError { errors }),
        Err(e) => {
            // A missing field is reported once, not again as an empty one.
            errors.extend(
                e.errors
                    .into_iter()
                    .filter(|e| !reported.contains(&e.field)),
            );
            let order = |field: &str| RULE_KEYS.iter().position(|k| *k == field);
            errors.sort_by_key(|e| order(&e.field));
            Err(ValidationError { errors })
        }
    }
}

fn string(table: &Table, key: &str) -> Result<String, String> {
    match table.get(key) {
        None => Err("is missing".into()),
        Some(Item::Value(v)) => v
            .as_str()
            .map(|s| s.trim().to_owned())
            .ok_or_else(|| "must be a string".into()),
        Some(_) => Err("must be a string".into()),
    }
}

#[cfg(test)]
mod tests;
