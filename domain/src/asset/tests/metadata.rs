//! Changing an asset's own owner, tags and description.

use super::*;
use crate::text::{Description, Name};

fn changed_metadata(owner: Option<&str>, tags: &[&str], description: Option<&str>) -> AssetEvent {
    AssetEvent::AssetMetadataChanged(AssetMetadataChanged {
        asset_id: asset_id(),
        owner: owner.map(crate::owner::Owner::untyped),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        description: description.map(str::to_owned),
    })
}

fn patch(owner: Option<&str>, tags: Option<&[&str]>, description: Option<&str>) -> AssetCommand {
    let tags: Option<Vec<String>> = tags.map(|t| t.iter().map(|t| (*t).to_owned()).collect());
    AssetCommand::UpdateMetadata {
        patch: MetadataPatch::parse(owner, tags.as_deref(), description).unwrap(),
    }
}

#[test]
fn setting_an_owner_and_tags_records_the_whole_own_metadata_with_tags_sorted_and_lowercased() {
    let state = given(vec![discovered()])
        .when(patch(
            Some(" ledger-team "),
            Some(&["Retention:7Y", "purpose:invoicing", "retention:7y"]),
            None,
        ))
        .then(vec![changed_metadata(
            Some("ledger-team"),
            &["purpose:invoicing", "retention:7y"],
            None,
        )]);
    assert_eq!(
        state.metadata.owner,
        Some(crate::owner::Owner::untyped("ledger-team"))
    );
}

#[test]
fn fields_left_out_keep_their_value_and_blank_ones_clear_it() {
    let before = changed_metadata(
        Some("ledger-team"),
        &["purpose:invoicing"],
        Some("Invoices"),
    );
    given(vec![discovered(), before.clone()])
        .when(patch(None, None, Some("Issued invoices, one row per line")))
        .then(vec![changed_metadata(
            Some("ledger-team"),
            &["purpose:invoicing"],
            Some("Issued invoices, one row per line"),
        )]);
    let state = given(vec![discovered(), before])
        .when(patch(Some(""), Some(&[]), None))
        .then(vec![changed_metadata(None, &[], Some("Invoices"))]);
    assert_eq!(state.metadata.tags, Vec::<String>::new());
}

#[test]
fn the_same_metadata_again_records_nothing() {
    given(vec![
        discovered(),
        changed_metadata(Some("ledger-team"), &["purpose:invoicing"], None),
    ])
    .when(patch(
        Some("ledger-team"),
        Some(&["PURPOSE:invoicing"]),
        None,
    ))
    .then_nothing();
}

#[test]
fn metadata_of_a_removed_or_unknown_asset_is_refused() {
    given(vec![discovered(), removed(scan_2())])
        .when(patch(Some("ledger-team"), None, None))
        .then_error(AssetError::Removed {
            path: orders_path(),
        });
    given(vec![])
        .when(patch(Some("ledger-team"), None, None))
        .then_error(AssetError::NotFound);
}

#[test]
fn bad_input_is_refused_with_one_message_per_problem() {
    let tags: Vec<String> = vec![
        "purpose:invoicing".into(),
        "orphan".into(),
        ":value".into(),
        "key:".into(),
        "has space:x".into(),
        format!("k:{}", "v".repeat(70)),
    ];
    let error = MetadataPatch::parse(Some("two\nlines"), Some(&tags), Some("nul\0")).unwrap_err();
    let fields: Vec<&str> = error.fields().collect();
    assert_eq!(
        fields,
        [
            "owner",
            "description",
            "tags[1]",
            "tags[2]",
            "tags[3]",
            "tags[4]",
            "tags[5]"
        ]
    );
    assert!(error
        .message_for("tags[1]")
        .unwrap()
        .contains("must be key:value"));
    let too_many: Vec<String> = (0..=MAX_ASSET_TAGS).map(|i| format!("k:{i}")).collect();
    let error = MetadataPatch::parse(None, Some(&too_many), None).unwrap_err();
    assert_eq!(error.to_string(), "tags: must be at most 50 tags (got 51)");
    let error =
        MetadataPatch::parse(Some(&"o".repeat(Name::MAX_CHARS + 1)), None, None).unwrap_err();
    assert!(error.message_for("owner").unwrap().contains("at most 256"));
    let error = MetadataPatch::parse(None, None, Some(&"d".repeat(Description::MAX_CHARS + 1)))
        .unwrap_err();
    assert!(error.message_for("description").is_some());
    let error = MetadataPatch::parse(None, None, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "metadata: give at least one of owner, tags or description"
    );
}

#[test]
fn unset_fields_are_inherited_from_the_source_and_marked_so() {
    let source = AssetMetadata {
        owner: Some(crate::owner::Owner::untyped("platform-dba")),
        tags: vec!["residency:eu".into()],
        description: Some("Finance database".into()),
    };
    let own = AssetMetadata {
        tags: vec!["purpose:invoicing".into()],
        ..Default::default()
    };
    let shown = EffectiveMetadata::of(&own, &source);
    assert_eq!(
        shown,
        EffectiveMetadata {
            owner: Some(crate::owner::Owner::untyped("platform-dba")),
            owner_inherited: true,
            tags: vec!["purpose:invoicing".into()],
            tags_inherited: false,
            description: Some("Finance database".into()),
            description_inherited: true,
        }
    );
    // Nothing on either side: nothing shown, nothing inherited.
    let empty = EffectiveMetadata::of(&AssetMetadata::default(), &AssetMetadata::default());
    assert!(!empty.owner_inherited && !empty.tags_inherited && !empty.description_inherited);
}

#[test]
fn an_owner_is_typed_and_a_kind_without_a_name_is_refused() {
    use crate::owner::{Owner, OwnerKind, OwnerType};
    let typed = AssetCommand::UpdateMetadata {
        patch: MetadataPatch::parse_typed(
            Some("Billing"),
            Some(OwnerKind::Team),
            Some(OwnerType::Business),
            None,
            None,
        )
        .unwrap(),
    };
    let state = given(vec![discovered()])
        .when(typed)
        .then(vec![AssetEvent::AssetMetadataChanged(
            AssetMetadataChanged {
                asset_id: asset_id(),
                owner: Some(Owner {
                    name: "Billing".into(),
                    kind: OwnerKind::Team,
                    owner_type: OwnerType::Business,
                }),
                tags: vec![],
                description: None,
            },
        )]);
    assert_eq!(
        state.metadata.owner.unwrap().owner_type,
        OwnerType::Business
    );
    let error = MetadataPatch::parse_typed(None, None, Some(OwnerType::Steward), None, Some("d"))
        .unwrap_err();
    assert!(error
        .message_for("owner")
        .unwrap()
        .contains("needs the owner's name"));
}
