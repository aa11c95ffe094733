//! AccessPolicy: custom roles defined, changed, refused and retired; grants and revocations.

use super::*;
use crate::classification::Sensitivity;
use crate::testing::{self, Given};

fn given(events: Vec<AccessPolicyEvent>) -> Given<AccessPolicy> {
    testing::given(events)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn define(role: &str, permissions: &[&str]) -> AccessPolicyCommand {
    AccessPolicyCommand::DefineRole {
        role: role.into(),
        permissions: strings(permissions),
        description: "Clinic analysts".into(),
        condition: None,
    }
}

fn defined(role: &str, permissions: &[&str]) -> AccessPolicyEvent {
    let mut permissions = strings(permissions);
    permissions.sort();
    AccessPolicyEvent::RoleDefined(RoleDefined {
        role: role.into(),
        permissions,
        description: "Clinic analysts".into(),
        condition: None,
    })
}

fn granted(subject: &str, role: &str) -> AccessPolicyEvent {
    AccessPolicyEvent::RoleGranted(RoleGranted {
        subject: subject.into(),
        role: role.into(),
    })
}

#[test]
fn a_custom_role_is_defined_with_sorted_distinct_permissions() {
    let state = given(vec![])
        .when(define("analyst", &["classification:read", " asset:read "]))
        .then(vec![defined(
            "analyst",
            &["asset:read", "classification:read"],
        )]);
    assert_eq!(
        state.permissions_of("analyst").unwrap(),
        BTreeSet::from(["asset:read".to_owned(), "classification:read".to_owned()])
    );
    given(vec![defined("analyst", &["asset:read"])])
        .when(define("analyst", &["asset:read"]))
        .then_error(AccessPolicyError::RoleExists("analyst".into()));
}

#[test]
fn bad_input_is_refused_with_one_message_per_problem() {
    let error = AccessPolicy::decide(
        &AccessPolicyState::default(),
        &AccessPolicyCommand::DefineRole {
            role: "Bad Name".into(),
            permissions: strings(&["asset:read", "asset:fly", "asset:read", "vault:read"]),
            description: "bell\u{7}".into(),
            condition: None,
        },
    )
    .unwrap_err();
    let AccessPolicyError::Invalid(problems) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(problems.len(), 5, "{problems:?}");
    assert!(problems[0].starts_with("role \"Bad Name\""), "{problems:?}");
    assert!(problems[1].starts_with("permissions[1]: \"asset:fly\""));
    assert!(problems[2].contains("asset:read is listed twice"));
    assert!(problems[3].starts_with("permissions[3]: \"vault:read\""));
    assert!(problems[4].starts_with("description"));
    given(vec![])
        .when(define("analyst", &[]))
        .then_error(AccessPolicyError::Invalid(vec![
            "permissions: a role needs at least one permission".into(),
        ]));
}

#[test]
fn built_in_roles_may_be_granted_but_not_redefined_changed_or_retired() {
    given(vec![])
        .when(define("viewer", &["asset:read"]))
        .then_error(AccessPolicyError::BuiltInRole("viewer".into()));
    given(vec![])
        .when(AccessPolicyCommand::ChangeRole {
            role: "admin".into(),
            permissions: strings(&["asset:read"]),
            description: String::new(),
            condition: None,
        })
        .then_error(AccessPolicyError::BuiltInRole("admin".into()));
    given(vec![])
        .when(AccessPolicyCommand::RetireRole {
            role: "auditor".into(),
        })
        .then_error(AccessPolicyError::BuiltInRole("auditor".into()));
    let state = given(vec![])
        .when(AccessPolicyCommand::GrantRole {
            subject: "kim@clinic.test".into(),
            role: "viewer".into(),
        })
        .then(vec![granted("kim@clinic.test", "viewer")]);
    assert!(state.held("viewer"));
}

#[test]
fn a_change_replaces_permissions_and_an_identical_one_records_nothing() {
    let history = vec![defined("analyst", &["asset:read"])];
    let state = given(history.clone())
        .when(AccessPolicyCommand::ChangeRole {
            role: "analyst".into(),
            permissions: strings(&["asset:read_phi", "asset:read"]),
            description: "Clinic analysts".into(),
            condition: None,
        })
        .then(vec![AccessPolicyEvent::RoleChanged(RoleChanged {
            role: "analyst".into(),
            permissions: strings(&["asset:read", "asset:read_phi"]),
            description: "Clinic analysts".into(),
            condition: None,
        })]);
    assert!(state.permissions_of("analyst").unwrap().contains(READ_PHI));
    given(history)
        .when(AccessPolicyCommand::ChangeRole {
            role: "analyst".into(),
            permissions: strings(&["asset:read"]),
            description: "Clinic analysts".into(),
            condition: None,
        })
        .then_nothing();
    given(vec![])
        .when(AccessPolicyCommand::ChangeRole {
            role: "analyst".into(),
            permissions: strings(&["asset:read"]),
            description: String::new(),
            condition: None,
        })
        .then_error(AccessPolicyError::UnknownRole("analyst".into()));
}

#[test]
fn retiring_a_role_ends_its_grants_and_it_can_no_longer_be_granted() {
    let history = vec![
        defined("analyst", &["asset:read"]),
        granted("kim@clinic.test", "analyst"),
    ];
    let state = given(history.clone())
        .when(AccessPolicyCommand::RetireRole {
            role: "analyst".into(),
        })
        .then(vec![AccessPolicyEvent::RoleRetired(RoleRetired {
            role: "analyst".into(),
        })]);
    assert!(!state.held("analyst"));
    assert!(state.permissions_of("analyst").is_none());
    let mut retired = history;
    retired.push(AccessPolicyEvent::RoleRetired(RoleRetired {
        role: "analyst".into(),
    }));
    given(retired.clone())
        .when(AccessPolicyCommand::GrantRole {
            subject: "kim@clinic.test".into(),
            role: "analyst".into(),
        })
        .then_error(AccessPolicyError::UnknownRole("analyst".into()));
    // The name is free again: a new definition starts without the old grants.
    let state = given(retired)
        .when(define("analyst", &["asset:read"]))
        .then(vec![defined("analyst", &["asset:read"])]);
    assert!(!state.held("analyst"));
}

#[test]
fn grants_are_recorded_once_and_only_held_grants_are_revoked() {
    let history = vec![granted("kim@clinic.test", "viewer")];
    given(history.clone())
        .when(AccessPolicyCommand::GrantRole {
            subject: " kim@clinic.test ".into(),
            role: "viewer".into(),
        })
        .then_nothing();
    let state = given(history)
        .when(AccessPolicyCommand::RevokeRole {
            subject: "kim@clinic.test".into(),
            role: "viewer".into(),
        })
        .then(vec![AccessPolicyEvent::RoleRevoked(RoleRevoked {
            subject: "kim@clinic.test".into(),
            role: "viewer".into(),
        })]);
    assert!(!state.held("viewer"));
    given(vec![])
        .when(AccessPolicyCommand::RevokeRole {
            subject: "kim@clinic.test".into(),
            role: "viewer".into(),
        })
        .then_error(AccessPolicyError::NotGranted {
            subject: "kim@clinic.test".into(),
            role: "viewer".into(),
        });
    given(vec![])
        .when(AccessPolicyCommand::GrantRole {
            subject: "two words".into(),
            role: "nobody-defined-this".into(),
        })
        .then_error(AccessPolicyError::Invalid(vec![format!(
            "subject: 1 to {MAX_SUBJECT_CHARS} characters without whitespace or control characters (a token's sub)"
        )]));
    given(vec![])
        .when(AccessPolicyCommand::GrantRole {
            subject: "kim@clinic.test".into(),
            role: "nobody-defined-this".into(),
        })
        .then_error(AccessPolicyError::UnknownRole("nobody-defined-this".into()));
}

#[test]
fn an_erased_subject_holds_nothing_and_cannot_be_granted_or_revoked() {
    // Dana's grant after her erasure: its subject reads [erased] once opened.
    let history = vec![
        defined("analyst", &["asset:read"]),
        granted(ERASED_SUBJECT, "analyst"),
        granted(UNREADABLE_SUBJECT, "viewer"),
    ];
    let state = given(history.clone())
        .when(AccessPolicyCommand::GrantRole {
            subject: "kim@clinic.test".into(),
            role: "viewer".into(),
        })
        .then(vec![granted("kim@clinic.test", "viewer")]);
    assert!(!state.held("analyst"), "an erased grant is held by nobody");
    assert_eq!(state.grants["viewer"].len(), 1);
    // Dana, acting again later, is granted anew: nothing of her erased grant is left.
    given(history.clone())
        .when(AccessPolicyCommand::GrantRole {
            subject: "dana@clinic.test".into(),
            role: "analyst".into(),
        })
        .then(vec![granted("dana@clinic.test", "analyst")]);
    for marker in [ERASED_SUBJECT, UNREADABLE_SUBJECT, "pii:v1:abc"] {
        for command in [
            AccessPolicyCommand::GrantRole {
                subject: marker.into(),
                role: "analyst".into(),
            },
            AccessPolicyCommand::RevokeRole {
                subject: marker.into(),
                role: "analyst".into(),
            },
        ] {
            let error = AccessPolicy::decide(&AccessPolicyState::default(), &command).unwrap_err();
            assert!(
                matches!(&error, AccessPolicyError::Invalid(problems) if problems[0].contains("name nobody")),
                "{marker}: {error:?}"
            );
        }
    }
    assert!(names_nobody(ERASED_SUBJECT) && !names_nobody("dana@clinic.test"));
}

#[test]
fn built_in_roles_speak_the_same_vocabulary_and_only_admins_read_phi() {
    for role in Role::ALL {
        let permissions = builtin_permissions(role);
        assert!(permissions.iter().all(|p| is_permission(p)), "{role}");
        assert!(permissions.contains(ASSET_READ), "{role} reads the catalog");
        assert_eq!(
            permissions.contains(READ_PHI),
            role == Role::Admin,
            "{role}"
        );
    }
    assert_eq!(all_permissions().len(), 57);
    assert!(builtin_permissions(Role::ComplianceOfficer).contains("compliance:accept_risk"));
    assert!(!builtin_permissions(Role::DataSteward).contains("compliance:accept_risk"));
    assert!(!builtin_permissions(Role::Viewer).contains("role:create"));
}

#[test]
fn readers_see_read_and_read_phi_only_for_roles_that_read_assets() {
    let set = |items: &[&str]| {
        items
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(reader_permission_names(&set(&["audit:read"])), None);
    assert_eq!(
        reader_permission_names(&set(&["asset:read"])),
        Some(set(&["read"]))
    );
    assert_eq!(
        reader_permission_names(&set(&["asset:read", "asset:read_phi"])),
        Some(set(&["read", "read_phi"]))
    );
}

#[test]
fn policy_ids_are_per_tenant_and_stable() {
    let acme = TenantId::parse("acme").unwrap();
    assert_eq!(access_policy_id(&acme), access_policy_id(&acme));
    assert_ne!(
        access_policy_id(&acme),
        access_policy_id(&TenantId::parse("globex").unwrap())
    );
    assert_ne!(access_policy_id(&acme), crate::compliance::policy_id(&acme));
}

fn not_critical() -> AssetCondition {
    AssetCondition {
        max_sensitivity: Some(Sensitivity::High),
        ..Default::default()
    }
}

fn define_with(permissions: &[&str], condition: AssetCondition) -> AccessPolicyCommand {
    AccessPolicyCommand::DefineRole {
        role: "analyst".into(),
        permissions: strings(permissions),
        description: "Clinic analysts".into(),
        condition: Some(condition),
    }
}

#[test]
fn a_condition_is_recorded_with_its_lists_sorted_and_distinct() {
    let source = Uuid::from_u128(7);
    let state = given(vec![])
        .when(define_with(
            &["asset:read"],
            AssetCondition {
                max_sensitivity: Some(Sensitivity::High),
                tags_none: strings(&[" team:hr ", "legal", "team:hr"]),
                sources: vec![source, source],
                ..Default::default()
            },
        ))
        .then(vec![AccessPolicyEvent::RoleDefined(RoleDefined {
            role: "analyst".into(),
            permissions: strings(&["asset:read"]),
            description: "Clinic analysts".into(),
            condition: Some(AssetCondition {
                max_sensitivity: Some(Sensitivity::High),
                tags_any: Vec::new(),
                tags_none: strings(&["legal", "team:hr"]),
                sources: vec![source],
            }),
        })]);
    assert_eq!(
        state.roles["analyst"].condition.as_ref().unwrap().tags_none,
        ["legal", "team:hr"]
    );
}

#[test]
fn a_condition_names_something_and_goes_only_with_reading_permissions() {
    let refused = |command: AccessPolicyCommand| match AccessPolicy::decide(
        &AccessPolicyState::default(),
        &command,
    )
    .unwrap_err()
    {
        AccessPolicyError::Invalid(problems) => problems.join("; "),
        other => panic!("{other:?}"),
    };
    let empty = refused(define_with(&["asset:read"], AssetCondition::default()));
    assert!(empty.contains("name at least one of"), "{empty}");
    let write = refused(define_with(
        &["asset:read", "data_source:update", "audit:export", READ_PHI],
        not_critical(),
    ));
    assert!(
        write.contains("data_source:update is not a reading permission"),
        "{write}"
    );
    assert!(!write.contains("audit:export is not"), "{write}");
    assert!(!write.contains("asset:read_phi is not"), "{write}");
    let bad_tag = refused(define_with(
        &["asset:read"],
        AssetCondition {
            tags_any: strings(&["", "a\u{7}b"]),
            ..Default::default()
        },
    ));
    assert!(bad_tag.contains("condition.tagsAny[0]"), "{bad_tag}");
    assert!(bad_tag.contains("condition.tagsAny[1]"), "{bad_tag}");
}

#[test]
fn changing_only_the_condition_is_a_change() {
    let defined = AccessPolicyEvent::RoleDefined(RoleDefined {
        role: "analyst".into(),
        permissions: strings(&["asset:read"]),
        description: "Clinic analysts".into(),
        condition: None,
    });
    let change = |condition: Option<AssetCondition>| AccessPolicyCommand::ChangeRole {
        role: "analyst".into(),
        permissions: strings(&["asset:read"]),
        description: "Clinic analysts".into(),
        condition,
    };
    given(vec![defined.clone()])
        .when(change(Some(not_critical())))
        .then(vec![AccessPolicyEvent::RoleChanged(RoleChanged {
            role: "analyst".into(),
            permissions: strings(&["asset:read"]),
            description: "Clinic analysts".into(),
            condition: Some(not_critical()),
        })]);
    given(vec![defined]).when(change(None)).then(vec![]);
}

#[test]
fn events_recorded_before_conditions_existed_still_read_and_write_the_same() {
    let stored =
        serde_json::json!({"role": "analyst", "permissions": ["asset:read"], "description": ""});
    let event = AccessPolicyEvent::from_stored("RoleDefined", 1, &stored).unwrap();
    let AccessPolicyEvent::RoleDefined(defined) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(defined.condition, None);
    // Without a condition the data is written as before, so hashes over old events still hold.
    assert_eq!(serde_json::to_value(defined).unwrap(), stored);
}

#[test]
fn a_condition_admits_an_asset_only_when_every_part_holds() {
    let source = Uuid::from_u128(7);
    let other = Uuid::from_u128(8);
    let tags = |t: &[&str]| -> Vec<String> { t.iter().map(|s| s.to_string()).collect() };
    let high = [Sensitivity::Low, Sensitivity::High];
    let critical = [Sensitivity::Critical];
    // Sensitivity: at most the maximum; an asset with no label passes.
    assert!(not_critical().admits(source, &[], high));
    assert!(not_critical().admits(source, &[], []));
    assert!(!not_critical().admits(source, &[], critical));
    // Tags: one of `tags_any`, none of `tags_none`.
    let tagged = AssetCondition {
        tags_any: tags(&["finance", "sales"]),
        tags_none: tags(&["restricted"]),
        ..AssetCondition::default()
    };
    assert!(tagged.admits(source, &tags(&["sales"]), critical));
    assert!(!tagged.admits(source, &tags(&["hr"]), []));
    assert!(!tagged.admits(source, &tags(&["sales", "restricted"]), []));
    // Sources: only those named.
    let one_source = AssetCondition {
        sources: vec![source],
        ..AssetCondition::default()
    };
    assert!(one_source.admits(source, &[], critical));
    assert!(!one_source.admits(other, &[], []));
}
