//! The operator's [`SourcePolicy`] applied to what `decide` produced, as the command handler
//! applies it before appending: given these events, when this command is decided, then the
//! policy admits the new events or refuses them naming the field and the rule.

use super::*;
use crate::TenantId;

fn acme() -> TenantId {
    TenantId::parse("acme").unwrap()
}

/// Decides `command` after `history` and runs the default policy over the result.
fn decide_and_admit(
    history: Vec<DataSourceEvent>,
    command: DataSourceCommand,
) -> Result<Vec<DataSourceEvent>, DataSourceError> {
    let events = given(history).when(command).result().clone()?;
    DataSource::admit(&SourcePolicy::default(), &acme(), &events)?;
    Ok(events)
}

fn refused_field(result: Result<Vec<DataSourceEvent>, DataSourceError>) -> (String, String) {
    match result {
        Err(DataSourceError::Validation(error)) => (
            error.errors[0].field.clone(),
            error.errors[0].message.clone(),
        ),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn a_registration_naming_the_servers_own_secret_is_refused() {
    let config = config_with(DataSourceConfigInput {
        password_secret: Some("env:PURSIGHT_JWT_SECRET".into()),
        ..Default::default()
    });
    let result = decide_and_admit(
        vec![],
        DataSourceCommand::Register {
            id: source_id(),
            config,
        },
    );
    let (field, message) = refused_field(result);
    assert_eq!(field, "password_secret");
    assert!(message.contains("PURSIGHT_SOURCE_SECRET_"), "{message}");
}

#[test]
fn a_patch_is_checked_after_it_is_merged() {
    let patch = DataSourceConfigInput {
        host: Some("169.254.169.254".into()),
        ..Default::default()
    };
    let result = decide_and_admit(vec![registered()], DataSourceCommand::PatchConfig { patch });
    assert_eq!(
        refused_field(result),
        (
            "host".to_owned(),
            "is a cloud metadata endpoint, which sources may never reach".to_owned()
        )
    );
    let allowed = DataSourceConfigInput {
        password_secret: Some("vault:secret/pursight/acme/pg#password".into()),
        ..Default::default()
    };
    let events = decide_and_admit(
        vec![registered()],
        DataSourceCommand::PatchConfig { patch: allowed },
    )
    .unwrap();
    assert_eq!(events.len(), 1);
}

#[test]
fn events_without_a_configuration_are_not_the_policys_business() {
    // A source recorded before a stricter policy can still be archived.
    let events = decide_and_admit(
        vec![registered()],
        DataSourceCommand::Archive {
            reason: crate::text::FreeText::parse_optional(Some("moved")).unwrap(),
        },
    )
    .unwrap();
    assert_eq!(events.len(), 1);
}
