//! An asset's own catalog metadata: the `updateAssetMetadata` mutation (owner, `key:value` tags,
//! description). What the `Asset` type shows is the effective value of each field: the asset's
//! own, else its source's (`ownerInherited`, `tagsInherited`, `descriptionInherited`).

use super::errors::command_error;
use super::mutation::{parse_command_id, result, wait_for_projection as projected_by};
use super::query::parse_id;
use super::types::CommandResult;
use super::{api_error, authorize, Services};
use async_graphql::{Context, Object, Result, ID};
use domain::access::Permission;
use domain::asset::{Asset, AssetCommand, MetadataPatch};

#[derive(Default)]
pub struct AssetMetadataMutation;

#[Object]
impl AssetMetadataMutation {
    /// Sets an asset's own owner (with its kind and type), tags and description. A field left out (or null) keeps its
    /// value; an empty `owner` or `description` and an empty `tags` list clear the asset's own
    /// value, so its source's applies again. At least one field must be given; the same values
    /// again record nothing. Needs the manage-data-sources permission.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn update_asset_metadata(
        &self,
        ctx: &Context<'_>,
        asset_id: ID,
        #[graphql(
            desc = "Who answers for the asset (person, team or mailbox): one line, at most 256 characters, no control characters."
        )]
        owner: Option<String>,
        #[graphql(
            desc = "Whether the owner is a person or a team (default PERSON); needs `owner`."
        )]
        owner_kind: Option<super::owner_types::OwnerKindGql>,
        #[graphql(
            desc = "What the owner answers for: TECHNICAL (default), BUSINESS or STEWARD; needs `owner`."
        )]
        owner_type: Option<super::owner_types::OwnerTypeGql>,
        #[graphql(
            desc = "The asset's own tags, replacing its previous ones: at most 50, each `key:value` (e.g. `purpose:billing`, `retention:7y`, `residency:eu`), at most 64 characters of a-z, 0-9, `_`, `-`, `.` and `:`, stored lowercase."
        )]
        tags: Option<Vec<String>>,
        #[graphql(
            desc = "What the asset holds and why: at most 16 384 characters; newline, carriage return and tab are the only control characters allowed."
        )]
        description: Option<String>,
        command_id: Option<ID>,
        #[graphql(default = false)] wait_for_projection: bool,
    ) -> Result<CommandResult> {
        let caller = authorize(ctx, Permission::ManageDataSources)?;
        let asset = parse_id(&asset_id)?;
        let command_id = parse_command_id(command_id.as_ref())?;
        // Refused before the domain sees it: every problem in one message, nothing recorded.
        let patch = MetadataPatch::parse_typed(
            owner.as_deref(),
            owner_kind.map(Into::into),
            owner_type.map(Into::into),
            tags.as_deref(),
            description.as_deref(),
        )
        .map_err(|err| api_error("VALIDATION", err.to_string()))?;
        let services = ctx.data_unchecked::<Services>();
        let context = caller.command_context(Some(command_id));
        let outcome = services
            .handler
            .execute::<Asset>(
                &context,
                Permission::ManageDataSources,
                asset,
                AssetCommand::UpdateMetadata { patch },
            )
            .await
            .map_err(command_error)?;
        let projected = wait_for_projection && projected_by(services, outcome.sequence).await;
        Ok(result(outcome, projected))
    }
}
