//! The AccessPolicy aggregate: one per tenant, holding the tenant's custom roles (named sets of
//! `resource:action` permissions) and the grants of roles — built-in or custom — to subjects
//! (the `sub` of a token).
//!
//! | command | state | records |
//! |---|---|---|
//! | DefineRole | valid, no active role of that name | `RoleDefined` |
//! | DefineRole | the name of a built-in role | [`AccessPolicyError::BuiltInRole`] |
//! | DefineRole | an active role of that name | [`AccessPolicyError::RoleExists`] |
//! | ChangeRole | active custom role, other permissions or description | `RoleChanged` |
//! | ChangeRole | same permissions and description | nothing |
//! | ChangeRole / RetireRole | no such active custom role | [`AccessPolicyError::UnknownRole`] |
//! | RetireRole | active custom role | `RoleRetired` (its grants end with it) |
//! | GrantRole | built-in or active custom role, not yet held by the subject | `RoleGranted` |
//! | GrantRole | already held | nothing |
//! | RevokeRole | held by the subject | `RoleRevoked` |
//! | RevokeRole | not held | [`AccessPolicyError::NotGranted`] |
//!
//! Any invalid input (a role name, a permission, a description, a subject) is refused with one
//! message per problem before anything is recorded ([`AccessPolicyError::Invalid`]).
//!
//! Permissions are a closed vocabulary ([`RESOURCES`] × [`ACTIONS`], plus [`READ_PHI`]); the
//! built-in roles' permissions are expressed in it by [`builtin_permissions`] and cannot be
//! redefined, only granted.
//!
//! A custom role may carry an [`AssetCondition`] (sensitivity, tags, sources): then its
//! permissions reach only the assets the condition admits — "may read assets except those
//! holding critical data" is `{max_sensitivity: high}`. Conditions narrow reading, so a role with
//! one may hold only reading permissions (`…:read`, `…:export`, [`READ_PHI`]); a condition on a
//! write would leave the write's reach to each mutation, which no mutation checks.

use crate::access::Role;
use crate::aggregate::{decode_data, Aggregate, DomainEvent, EventDecodeError};
use crate::classification::Sensitivity;
use crate::ids::{AggregateId, TenantId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// The resources a permission names.
pub const RESOURCES: [&str; 8] = [
    "data_source",
    "asset",
    "classification",
    "rule_set",
    "compliance",
    "audit",
    "role",
    "glossary",
];

/// The actions a permission names.
pub const ACTIONS: [&str; 7] = [
    "read",
    "create",
    "update",
    "delete",
    "review",
    "accept_risk",
    "export",
];

/// Reading an asset (its catalog entry, columns and labels).
pub const ASSET_READ: &str = "asset:read";
/// Reading protected health information: what the HIPAA readers rule asks of a role that reads
/// PHI columns.
pub const READ_PHI: &str = "asset:read_phi";

/// The most permissions one role may hold (the vocabulary has 57).
pub const MAX_PERMISSIONS: usize = 64;
/// The longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// The longest subject (a token's `sub`: an e-mail or a provider's id).
pub const MAX_SUBJECT_CHARS: usize = 254;

/// The most tags or sources one condition names.
pub const MAX_CONDITION_ITEMS: usize = 32;
/// The longest tag a condition names.
pub const MAX_CONDITION_TAG_CHARS: usize = 128;

/// Which assets a custom role's permissions reach. Every part that is set must hold (AND); at
/// least one part is set. An asset's sensitivity is that of its most sensitive column label
/// that is not rejected (suggested labels count: a condition errs on the side of hiding); its
/// tags are its own tags, or its source's when it has none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AssetCondition {
    /// Assets holding data more sensitive than this are out of reach (`high`: everything but
    /// critical data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sensitivity: Option<Sensitivity>,
    /// Only assets carrying at least one of these tags; sorted, distinct.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags_any: Vec<String>,
    /// No asset carrying any of these tags; sorted, distinct.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags_none: Vec<String>,
    /// Only assets of these data sources (their ids); sorted, distinct.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Uuid>,
}

impl AssetCondition {
    /// A condition from its raw parts as a caller typed them (GraphQL input, CLI flags): the
    /// sensitivity's name and the sources' ids are read here, each malformed one named in the
    /// error with its field (`condition.maxSensitivity`, `condition.sources[2]`); the rest (tag
    /// syntax, how many items) the decider checks. The sources read are at most one over the
    /// limit, so a flood is refused without being read whole.
    pub fn from_parts(
        max_sensitivity: Option<&str>,
        tags_any: Vec<String>,
        tags_none: Vec<String>,
        sources: &[String],
    ) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let max_sensitivity = max_sensitivity.and_then(|raw| {
            let found = Sensitivity::ALL
                .into_iter()
                .find(|s| s.as_str() == raw.trim());
            if found.is_none() {
                problems.push(
                    "condition.maxSensitivity: expected low, medium, high or critical".to_owned(),
                );
            }
            found
        });
        let sources = sources
            .iter()
            .take(MAX_CONDITION_ITEMS + 1)
            .enumerate()
            .filter_map(|(i, id)| match Uuid::parse_str(id.trim()) {
                Ok(id) => Some(id),
                Err(_) => {
                    problems.push(format!("condition.sources[{i}]: not a data source id"));
                    None
                }
            })
            .collect();
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self {
            max_sensitivity,
            tags_any,
            tags_none,
            sources,
        })
    }

    /// The condition with its lists trimmed, sorted and deduplicated, or one message per problem.
    pub fn checked(&self) -> Result<AssetCondition, Vec<String>> {
        let mut problems = Vec::new();
        let tags = |raw: &[String], field: &str, problems: &mut Vec<String>| -> Vec<String> {
            if raw.len() > MAX_CONDITION_ITEMS {
                problems.push(format!(
                    "condition.{field}: at most {MAX_CONDITION_ITEMS} tags"
                ));
            }
            let mut tags: Vec<String> = Vec::new();
            for (i, tag) in raw.iter().take(MAX_CONDITION_ITEMS).enumerate() {
                let tag = tag.trim();
                if tag.is_empty()
                    || tag.chars().count() > MAX_CONDITION_TAG_CHARS
                    || tag.chars().any(char::is_control)
                {
                    problems.push(format!(
                        "condition.{field}[{i}]: a tag is 1 to {MAX_CONDITION_TAG_CHARS} characters without control characters"
                    ));
                } else {
                    tags.push(tag.to_owned());
                }
            }
            tags.sort();
            tags.dedup();
            tags
        };
        let tags_any = tags(&self.tags_any, "tagsAny", &mut problems);
        let tags_none = tags(&self.tags_none, "tagsNone", &mut problems);
        if self.sources.len() > MAX_CONDITION_ITEMS {
            problems.push(format!(
                "condition.sources: at most {MAX_CONDITION_ITEMS} sources"
            ));
        }
        let mut sources = self.sources.clone();
        sources.sort();
        sources.dedup();
        let condition = AssetCondition {
            max_sensitivity: self.max_sensitivity,
            tags_any,
            tags_none,
            sources,
        };
        if condition == AssetCondition::default() && problems.is_empty() {
            problems.push(
                "condition: name at least one of maxSensitivity, tagsAny, tagsNone or sources (leave the condition out for every asset)"
                    .into(),
            );
        }
        if problems.is_empty() {
            Ok(condition)
        } else {
            Err(problems)
        }
    }
}

impl AssetCondition {
    /// How sensitive a label (its wire name) counts for `max_sensitivity`: a built-in type's
    /// sensitivity, medium for a custom label (as `sensitivity` shows them, and as
    /// `projections::visibility` judges them in SQL).
    pub fn sensitivity_of(label: &str) -> Sensitivity {
        crate::classification::ClassificationType::parse(label)
            .map_or(Sensitivity::Medium, |t| t.sensitivity())
    }

    /// Whether the condition admits an asset of `source` whose effective tags (its own, else
    /// its source's) are `tags` and whose labels that are not rejected have `sensitivities`.
    /// The rule the read models apply in SQL (`projections::visibility::asset_visible`), for
    /// callers that hold an asset in memory: compliance facts and as-of reads.
    pub fn admits(
        &self,
        source: Uuid,
        tags: &[String],
        sensitivities: impl IntoIterator<Item = Sensitivity>,
    ) -> bool {
        (self.sources.is_empty() || self.sources.contains(&source))
            && (self.tags_any.is_empty() || self.tags_any.iter().any(|t| tags.contains(t)))
            && !self.tags_none.iter().any(|t| tags.contains(t))
            && match self.max_sensitivity {
                None => true,
                Some(max) => sensitivities.into_iter().all(|s| s <= max),
            }
    }
}

/// Whether a role with a condition may hold `permission`: only reading ones.
fn reads_only(permission: &str) -> bool {
    permission == READ_PHI || permission.ends_with(":read") || permission.ends_with(":export")
}

/// The aggregate id of `tenant`'s access policy: `SHA-256("pursight.access-policy-id.v1\n" ‖
/// tenant)`, first 16 bytes as a UUIDv8 (as `policy_id`). Never change this.
pub fn access_policy_id(tenant: &TenantId) -> AggregateId {
    let digest = Sha256::new()
        .chain_update(b"pursight.access-policy-id.v1\n")
        .chain_update(tenant.as_str().as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    AggregateId::from_uuid(Uuid::from_bytes(bytes))
}

/// Every permission of the vocabulary, in a stable order.
pub fn all_permissions() -> BTreeSet<String> {
    let mut all: BTreeSet<String> = RESOURCES
        .iter()
        .flat_map(|r| ACTIONS.iter().map(move |a| format!("{r}:{a}")))
        .collect();
    all.insert(READ_PHI.to_owned());
    all
}

/// Whether `permission` is in the vocabulary.
pub fn is_permission(permission: &str) -> bool {
    permission == READ_PHI
        || permission
            .split_once(':')
            .is_some_and(|(resource, action)| {
                RESOURCES.contains(&resource) && ACTIONS.contains(&action)
            })
}

/// What each built-in role may do, in the vocabulary of custom roles.
///
/// Only admins read PHI: the other built-in roles curate, view, audit or judge compliance from
/// labels and facts, which needs no health information itself. A tenant that wants stewards or
/// auditors to read PHI defines a custom role holding [`READ_PHI`] and grants it.
pub fn builtin_permissions(role: Role) -> BTreeSet<String> {
    let of = |pairs: &[(&str, &[&str])]| -> BTreeSet<String> {
        pairs
            .iter()
            .flat_map(|(r, actions)| actions.iter().map(move |a| format!("{r}:{a}")))
            .collect()
    };
    let catalog: &[(&str, &[&str])] = &[
        ("data_source", &["read"]),
        ("asset", &["read"]),
        ("classification", &["read"]),
        ("rule_set", &["read"]),
        ("compliance", &["read"]),
        ("glossary", &["read"]),
    ];
    let mut permissions = of(catalog);
    match role {
        Role::Admin => return all_permissions(),
        Role::Viewer => {}
        Role::DataSteward => permissions.extend(of(&[
            ("data_source", &["create", "update", "delete"]),
            ("asset", &["update"]),
            ("classification", &["create", "update", "review"]),
            ("rule_set", &["create", "update", "delete"]),
            ("glossary", &["create", "update", "delete", "review"]),
        ])),
        Role::Auditor => permissions.extend(of(&[("audit", &["read", "export"])])),
        Role::ComplianceOfficer => permissions.extend(of(&[
            ("audit", &["read", "export"]),
            (
                "compliance",
                &["create", "update", "delete", "accept_risk", "export"],
            ),
        ])),
    }
    permissions
}

/// The permission names a compliance rule's `role.permissions` sees for a role holding
/// `permissions`: `read` for [`ASSET_READ`], `read_phi` for [`READ_PHI`]; `None` when the role
/// does not read assets at all (it is no reader).
pub fn reader_permission_names(permissions: &BTreeSet<String>) -> Option<BTreeSet<String>> {
    if !permissions.contains(ASSET_READ) {
        return None;
    }
    let mut names = BTreeSet::from(["read".to_owned()]);
    if permissions.contains(READ_PHI) {
        names.insert("read_phi".to_owned());
    }
    Some(names)
}

/// A request to a tenant's AccessPolicy.
#[derive(Debug, Clone, PartialEq)]
pub enum AccessPolicyCommand {
    DefineRole {
        role: String,
        permissions: Vec<String>,
        description: String,
        /// The assets the role reaches; `None`: every asset of the tenant.
        condition: Option<AssetCondition>,
    },
    /// Replaces the role's permissions, description and condition.
    ChangeRole {
        role: String,
        permissions: Vec<String>,
        description: String,
        condition: Option<AssetCondition>,
    },
    RetireRole {
        role: String,
    },
    GrantRole {
        subject: String,
        role: String,
    },
    RevokeRole {
        subject: String,
        role: String,
    },
}

/// A custom role was defined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoleDefined {
    /// 3 to 40 characters of a-z, 0-9, `_` or `-`, starting with a letter; never a built-in name.
    pub role: String,
    /// `resource:action` strings, sorted, distinct.
    pub permissions: Vec<String>,
    pub description: String,
    /// The assets the role's permissions reach; absent: every asset of the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<AssetCondition>,
}

/// A custom role's permissions or description were replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoleChanged {
    pub role: String,
    /// The new permissions, sorted, distinct.
    pub permissions: Vec<String>,
    pub description: String,
    /// The new condition; absent: every asset of the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<AssetCondition>,
}

/// A custom role was retired; its grants end with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoleRetired {
    pub role: String,
}

/// A role (built-in or custom) was granted to a subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoleGranted {
    /// A token's `sub`.
    pub subject: String,
    pub role: String,
}

/// A subject's grant of a role was revoked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoleRevoked {
    pub subject: String,
    pub role: String,
}

/// Every event of the AccessPolicy aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum AccessPolicyEvent {
    RoleDefined(RoleDefined),
    RoleChanged(RoleChanged),
    RoleRetired(RoleRetired),
    RoleGranted(RoleGranted),
    RoleRevoked(RoleRevoked),
}

impl AccessPolicyEvent {
    pub const READABLE: &'static [(&'static str, u32)] = &[
        ("RoleDefined", 1),
        ("RoleChanged", 1),
        ("RoleRetired", 1),
        ("RoleGranted", 1),
        ("RoleRevoked", 1),
    ];

    /// The role the event is about.
    pub fn role(&self) -> &str {
        match self {
            AccessPolicyEvent::RoleDefined(e) => &e.role,
            AccessPolicyEvent::RoleChanged(e) => &e.role,
            AccessPolicyEvent::RoleRetired(e) => &e.role,
            AccessPolicyEvent::RoleGranted(e) => &e.role,
            AccessPolicyEvent::RoleRevoked(e) => &e.role,
        }
    }
}

impl DomainEvent for AccessPolicyEvent {
    fn event_type(&self) -> &'static str {
        match self {
            AccessPolicyEvent::RoleDefined(_) => "RoleDefined",
            AccessPolicyEvent::RoleChanged(_) => "RoleChanged",
            AccessPolicyEvent::RoleRetired(_) => "RoleRetired",
            AccessPolicyEvent::RoleGranted(_) => "RoleGranted",
            AccessPolicyEvent::RoleRevoked(_) => "RoleRevoked",
        }
    }

    fn version(&self) -> u32 {
        1
    }

    fn serialize_data<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AccessPolicyEvent::RoleDefined(e) => e.serialize(serializer),
            AccessPolicyEvent::RoleChanged(e) => e.serialize(serializer),
            AccessPolicyEvent::RoleRetired(e) => e.serialize(serializer),
            AccessPolicyEvent::RoleGranted(e) => e.serialize(serializer),
            AccessPolicyEvent::RoleRevoked(e) => e.serialize(serializer),
        }
    }

    fn from_stored(event_type: &str, version: u32, data: &Value) -> Result<Self, EventDecodeError> {
        use AccessPolicyEvent as E;
        let t = event_type;
        Ok(match (event_type, version) {
            ("RoleDefined", 1) => E::RoleDefined(decode_data(t, version, data)?),
            ("RoleChanged", 1) => E::RoleChanged(decode_data(t, version, data)?),
            ("RoleRetired", 1) => E::RoleRetired(decode_data(t, version, data)?),
            ("RoleGranted", 1) => E::RoleGranted(decode_data(t, version, data)?),
            ("RoleRevoked", 1) => E::RoleRevoked(decode_data(t, version, data)?),
            _ => {
                return Err(EventDecodeError::Unknown {
                    event_type: event_type.to_owned(),
                    version,
                })
            }
        })
    }
}

/// One active custom role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomRole {
    pub permissions: BTreeSet<String>,
    pub description: String,
    /// The assets its permissions reach; `None`: every asset.
    #[serde(default)]
    pub condition: Option<AssetCondition>,
}

/// The folded history of one tenant's access policy. `Default`: no custom role, no grant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccessPolicyState {
    /// Active custom roles by name.
    pub roles: BTreeMap<String, CustomRole>,
    /// The subjects holding each role (built-in or active custom), by role name.
    pub grants: BTreeMap<String, BTreeSet<String>>,
    /// Number of events applied.
    pub version: u64,
}

impl AccessPolicyState {
    /// The permissions of a built-in or active custom role.
    pub fn permissions_of(&self, role: &str) -> Option<BTreeSet<String>> {
        match role.parse::<Role>() {
            Ok(builtin) => Some(builtin_permissions(builtin)),
            Err(_) => self.roles.get(role).map(|r| r.permissions.clone()),
        }
    }

    /// Whether at least one subject holds `role`.
    pub fn held(&self, role: &str) -> bool {
        self.grants.get(role).is_some_and(|s| !s.is_empty())
    }
}

/// Why the AccessPolicy aggregate refused a command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AccessPolicyError {
    /// Every problem with the input, one message each.
    #[error("invalid role command: {}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error(
        "{0} is a built-in role: its permissions are fixed; define a custom role with another name"
    )]
    BuiltInRole(String),
    #[error("role {0} is already defined; change it with changeRole")]
    RoleExists(String),
    #[error("no custom role {0}")]
    UnknownRole(String),
    #[error("{subject} does not hold role {role}")]
    NotGranted { subject: String, role: String },
}

impl crate::Rejection for AccessPolicyError {
    fn kind(&self) -> crate::RejectionKind {
        use crate::RejectionKind::*;
        match self {
            AccessPolicyError::Invalid(_) | AccessPolicyError::BuiltInRole(_) => Invalid,
            AccessPolicyError::RoleExists(_) => Refused,
            AccessPolicyError::UnknownRole(_) | AccessPolicyError::NotGranted { .. } => NotFound,
        }
    }
}

fn clip(raw: &str) -> String {
    crate::datasource::values::clip(raw, 60)
}

/// Checks a role name (3 to 40 characters of a-z, 0-9, `_`, `-`, starting with a letter).
pub fn check_role_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let chars = name.chars().count();
    let shaped = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !(3..=40).contains(&chars) || !shaped {
        return Err(format!(
            "role {:?}: a role name is 3 to 40 characters of a-z, 0-9, '_' or '-', starting with a letter",
            clip(name)
        ));
    }
    Ok(name.to_owned())
}

/// What a sealed personal value reads once its person was erased (`eventlog::personal::ERASED`).
pub const ERASED_SUBJECT: &str = "[erased]";
/// What a sealed personal value reads when it does not open (`eventlog::personal::UNREADABLE`).
pub const UNREADABLE_SUBJECT: &str = "[unreadable]";

/// Whether a grant's subject names nobody: an erased or unreadable sealed subject, or a sealed
/// token that was not opened. Such a grant authorises no one: the aggregate does not count it
/// as held and the access read model keeps no row for it, so erasing a person ends their grants
/// (and never hands them to a token whose `sub` happens to read `[erased]`).
pub fn names_nobody(subject: &str) -> bool {
    subject == ERASED_SUBJECT || subject == UNREADABLE_SUBJECT || subject.starts_with("pii:")
}

/// Checks a subject (1 to 254 characters, no whitespace or control character, not a marker of
/// erased data nor shaped like a sealed value: see [`names_nobody`]).
pub fn check_subject(raw: &str) -> Result<String, String> {
    let subject = raw.trim();
    let chars = subject.chars().count();
    if !(1..=MAX_SUBJECT_CHARS).contains(&chars)
        || subject.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "subject: 1 to {MAX_SUBJECT_CHARS} characters without whitespace or control characters (a token's sub)"
        ));
    }
    if names_nobody(subject) {
        return Err(format!(
            "subject: {ERASED_SUBJECT}, {UNREADABLE_SUBJECT} and subjects starting with `pii:` name nobody and cannot be granted or revoked"
        ));
    }
    Ok(subject.to_owned())
}

/// Checks a definition's permissions and description, one message per problem.
fn check_definition(
    permissions: &[String],
    description: &str,
    problems: &mut Vec<String>,
) -> (Vec<String>, String) {
    let mut seen = BTreeSet::new();
    if permissions.is_empty() {
        problems.push("permissions: a role needs at least one permission".into());
    }
    if permissions.len() > MAX_PERMISSIONS {
        problems.push(format!(
            "permissions: at most {MAX_PERMISSIONS} permissions"
        ));
    }
    for (i, raw) in permissions.iter().take(MAX_PERMISSIONS).enumerate() {
        let permission = raw.trim();
        if !is_permission(permission) {
            problems.push(format!(
                "permissions[{i}]: {:?} is not a permission; expected resource:action with a resource of {} and an action of {}, or {READ_PHI}",
                clip(permission),
                RESOURCES.join(", "),
                ACTIONS.join(", ")
            ));
        } else if !seen.insert(permission.to_owned()) {
            problems.push(format!("permissions[{i}]: {permission} is listed twice"));
        }
    }
    let description = description.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        problems.push(format!(
            "description: at most {MAX_DESCRIPTION_CHARS} characters"
        ));
    }
    if description
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        problems.push("description: no control characters (line breaks are fine)".into());
    }
    (seen.into_iter().collect(), description.to_owned())
}

/// A checked role definition.
struct Definition {
    role: String,
    permissions: Vec<String>,
    description: String,
    condition: Option<AssetCondition>,
}

/// The AccessPolicy aggregate (a decider; all data is in [`AccessPolicyState`]).
pub struct AccessPolicy;

impl AccessPolicy {
    fn definition(
        role: &str,
        permissions: &[String],
        description: &str,
        condition: Option<&AssetCondition>,
    ) -> Result<Definition, AccessPolicyError> {
        let mut problems = Vec::new();
        let name = check_role_name(role).map_err(|e| problems.push(e)).ok();
        if let Some(name) = &name {
            if name.parse::<Role>().is_ok() {
                return Err(AccessPolicyError::BuiltInRole(name.clone()));
            }
        }
        let (permissions, description) = check_definition(permissions, description, &mut problems);
        let condition = match condition.map(AssetCondition::checked).transpose() {
            Ok(condition) => condition,
            Err(condition_problems) => {
                problems.extend(condition_problems);
                None
            }
        };
        if condition.is_some() {
            for permission in permissions.iter().filter(|p| !reads_only(p)) {
                problems.push(format!(
                    "permissions: {permission} is not a reading permission; a role with a condition may only read (…:read, …:export, {READ_PHI})"
                ));
            }
        }
        match name {
            Some(name) if problems.is_empty() => Ok(Definition {
                role: name,
                permissions,
                description,
                condition,
            }),
            _ => Err(AccessPolicyError::Invalid(problems)),
        }
    }

    fn grant(subject: &str, role: &str) -> Result<(String, String), AccessPolicyError> {
        let mut problems = Vec::new();
        let subject = check_subject(subject).map_err(|e| problems.push(e)).ok();
        let role = check_role_name(role).map_err(|e| problems.push(e)).ok();
        match (subject, role) {
            (Some(subject), Some(role)) => Ok((subject, role)),
            _ => Err(AccessPolicyError::Invalid(problems)),
        }
    }
}

impl Aggregate for AccessPolicy {
    const NAME: &'static str = "access_policy";
    type State = AccessPolicyState;
    type Command = AccessPolicyCommand;
    type Event = AccessPolicyEvent;
    type Error = AccessPolicyError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        use AccessPolicyCommand as C;
        use AccessPolicyEvent as E;
        Ok(match command {
            C::DefineRole {
                role,
                permissions,
                description,
                condition,
            } => {
                let Definition {
                    role,
                    permissions,
                    description,
                    condition,
                } = Self::definition(role, permissions, description, condition.as_ref())?;
                if state.roles.contains_key(&role) {
                    return Err(AccessPolicyError::RoleExists(role));
                }
                vec![E::RoleDefined(RoleDefined {
                    role,
                    permissions,
                    description,
                    condition,
                })]
            }
            C::ChangeRole {
                role,
                permissions,
                description,
                condition,
            } => {
                let Definition {
                    role,
                    permissions,
                    description,
                    condition,
                } = Self::definition(role, permissions, description, condition.as_ref())?;
                let Some(current) = state.roles.get(&role) else {
                    return Err(AccessPolicyError::UnknownRole(role));
                };
                let same = current.description == description
                    && current.condition == condition
                    && current.permissions.iter().eq(permissions.iter());
                if same {
                    return Ok(Vec::new());
                }
                vec![E::RoleChanged(RoleChanged {
                    role,
                    permissions,
                    description,
                    condition,
                })]
            }
            C::RetireRole { role } => {
                let role =
                    check_role_name(role).map_err(|e| AccessPolicyError::Invalid(vec![e]))?;
                if role.parse::<Role>().is_ok() {
                    return Err(AccessPolicyError::BuiltInRole(role));
                }
                if !state.roles.contains_key(&role) {
                    return Err(AccessPolicyError::UnknownRole(role));
                }
                vec![E::RoleRetired(RoleRetired { role })]
            }
            C::GrantRole { subject, role } => {
                let (subject, role) = Self::grant(subject, role)?;
                if state.permissions_of(&role).is_none() {
                    return Err(AccessPolicyError::UnknownRole(role));
                }
                if state
                    .grants
                    .get(&role)
                    .is_some_and(|s| s.contains(&subject))
                {
                    return Ok(Vec::new());
                }
                vec![E::RoleGranted(RoleGranted { subject, role })]
            }
            C::RevokeRole { subject, role } => {
                let (subject, role) = Self::grant(subject, role)?;
                if !state
                    .grants
                    .get(&role)
                    .is_some_and(|s| s.contains(&subject))
                {
                    return Err(AccessPolicyError::NotGranted {
                        subject: clip(&subject),
                        role,
                    });
                }
                vec![E::RoleRevoked(RoleRevoked { subject, role })]
            }
        })
    }

    fn evolve(mut state: Self::State, event: &Self::Event) -> Self::State {
        state.version += 1;
        match event {
            AccessPolicyEvent::RoleDefined(RoleDefined {
                role,
                permissions,
                description,
                condition,
            })
            | AccessPolicyEvent::RoleChanged(RoleChanged {
                role,
                permissions,
                description,
                condition,
            }) => {
                state.roles.insert(
                    role.clone(),
                    CustomRole {
                        permissions: permissions.iter().cloned().collect(),
                        description: description.clone(),
                        condition: condition.clone(),
                    },
                );
            }
            AccessPolicyEvent::RoleRetired(e) => {
                state.roles.remove(&e.role);
                state.grants.remove(&e.role);
            }
            // An erased subject names nobody: its grant is not held by anyone.
            AccessPolicyEvent::RoleGranted(e) if names_nobody(&e.subject) => {}
            AccessPolicyEvent::RoleRevoked(e) if names_nobody(&e.subject) => {}
            AccessPolicyEvent::RoleGranted(e) => {
                state
                    .grants
                    .entry(e.role.clone())
                    .or_default()
                    .insert(e.subject.clone());
            }
            AccessPolicyEvent::RoleRevoked(e) => {
                if let Some(subjects) = state.grants.get_mut(&e.role) {
                    subjects.remove(&e.subject);
                    if subjects.is_empty() {
                        state.grants.remove(&e.role);
                    }
                }
            }
        }
        state
    }
}

#[cfg(test)]
mod tests;
