//! The asset decider: what a discovery, a removal or lineage adds to the asset's history.
//!
//! | command | state | records |
//! |---|---|---|
//! | RecordDiscovery | never discovered | `SchemaDiscovered` |
//! | RecordDiscovery | present, same fingerprint, statistics within the threshold | nothing (a no-change rescan is silent) |
//! | RecordDiscovery | present, same fingerprint, statistics moved beyond the threshold | `StatisticsChanged` |
//! | RecordDiscovery | present, other fingerprint | `SchemaChanged` with the diff |
//! | RecordDiscovery | removed | `AssetRestored`, then `SchemaChanged` if the schema differs |
//! | RecordRemoval | present | `AssetRemoved` |
//! | RecordRemoval | removed | nothing |
//! | RecordLineage | present | `LineageRecorded` with the new edges, nothing if none is new |
//! | ReplaceLineage | present | `LineageRetracted` (stale edges), `LineageRecorded` (new edges) |
//! | UpdateMetadata | present, metadata differs | `AssetMetadataChanged` with the whole own metadata |
//! | UpdateMetadata | present, same metadata | nothing |
//!
//! Label commands (profiles, classification, review, propagation) are decided in `labels.rs`.
//!
//! Anything but `RecordDiscovery` on an asset never discovered is [`AssetError::NotFound`];
//! lineage or metadata on a removed asset is [`AssetError::Removed`].

use super::commands::AssetCommand;
use super::error::AssetError;
use super::events::*;
use super::labels;
use super::state::AssetState;
use crate::datasource::{FieldError, ValidationError};
use crate::discovery::{
    AssetId, AssetPath, AssetSchema, LineageEdge, SchemaDiff, StatisticsThreshold,
};
use crate::ids::AggregateId;

pub(super) fn decide(
    state: &AssetState,
    command: &AssetCommand,
) -> Result<Vec<AssetEvent>, AssetError> {
    match command {
        AssetCommand::RecordDiscovery {
            asset_id,
            source_id,
            scan_id,
            schema,
            statistics_threshold,
        } => record_discovery(
            state,
            *asset_id,
            *source_id,
            *scan_id,
            schema,
            *statistics_threshold,
        ),
        AssetCommand::RecordRemoval { scan_id } => {
            let (asset_id, _) = existing(state)?;
            if state.removed {
                return Ok(Vec::new());
            }
            Ok(vec![AssetEvent::AssetRemoved(AssetRemoved {
                asset_id,
                scan_id: *scan_id,
            })])
        }
        AssetCommand::RecordLineage { edges } => {
            let (asset_id, path) = present(state)?;
            let edges = checked_edges(path, edges)?;
            let new = not_in(&edges, &state.lineage);
            if new.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![AssetEvent::LineageRecorded(LineageRecorded {
                asset_id,
                edges: new,
            })])
        }
        AssetCommand::ReplaceLineage { edges } => {
            let (asset_id, path) = present(state)?;
            let edges = checked_edges(path, edges)?;
            let stale = not_in(&state.lineage, &edges);
            let new = not_in(&edges, &state.lineage);
            let mut events = Vec::new();
            if !stale.is_empty() {
                events.push(AssetEvent::LineageRetracted(LineageRetracted {
                    asset_id,
                    edges: stale,
                }));
            }
            if !new.is_empty() {
                events.push(AssetEvent::LineageRecorded(LineageRecorded {
                    asset_id,
                    edges: new,
                }));
            }
            Ok(events)
        }
        AssetCommand::RecordClassification {
            profiles,
            columns,
            outcomes,
            rule_set,
        } => {
            let (asset_id, _) = present(state)?;
            let mut events = match profiles {
                Some((rows, profiles)) => labels::record_profiles(state, asset_id, *rows, profiles),
                None => Vec::new(),
            };
            events.extend(labels::record_classification(
                state, asset_id, columns, outcomes, *rule_set,
            ));
            Ok(events)
        }
        AssetCommand::ConfirmClassification {
            column,
            label,
            note,
        } => labels::confirm(state, existing(state)?.0, column, label, &text(note)),
        AssetCommand::RejectClassification {
            column,
            label,
            reason,
        } => labels::reject(state, existing(state)?.0, column, label, &text(reason)),
        AssetCommand::ClassifyManually {
            column,
            label,
            note,
        } => labels::classify_manually(state, present(state)?.0, column, label, &text(note)),
        AssetCommand::PropagateClassification {
            column,
            candidate,
            origin,
        } => labels::propagate(state, present(state)?.0, column, candidate, origin),
        AssetCommand::RevokeClassification {
            column,
            label,
            reason,
        } => labels::revoke(state, existing(state)?.0, column, label, reason),
        AssetCommand::UpdateMetadata { patch } => {
            let (asset_id, _) = present(state)?;
            let metadata = patch.apply(&state.metadata);
            if metadata == state.metadata {
                return Ok(Vec::new());
            }
            Ok(vec![AssetEvent::AssetMetadataChanged(
                AssetMetadataChanged {
                    asset_id,
                    owner: metadata.owner,
                    tags: metadata.tags,
                    description: metadata.description,
                },
            )])
        }
    }
}

/// A parsed note as the events carry it.
fn text(note: &Option<crate::text::FreeText>) -> Option<String> {
    note.as_ref().map(|note| note.as_str().to_owned())
}

fn record_discovery(
    state: &AssetState,
    asset_id: AggregateId,
    source_id: AggregateId,
    scan_id: AggregateId,
    schema: &AssetSchema,
    statistics_threshold: StatisticsThreshold,
) -> Result<Vec<AssetEvent>, AssetError> {
    schema.validate()?;
    let expected = AssetId::for_path(source_id, &schema.path);
    if asset_id != expected {
        return Err(AssetError::IdMismatch {
            expected,
            got: asset_id,
        });
    }
    let schema = schema.clone().normalized();
    let fingerprint = schema.fingerprint();
    let (Some(known_source), Some(known_path)) = (state.source_id, &state.path) else {
        return Ok(vec![AssetEvent::SchemaDiscovered(SchemaDiscovered {
            asset_id,
            source_id,
            scan_id,
            schema,
            fingerprint,
        })]);
    };
    if known_source != source_id {
        return Err(AssetError::SourceMismatch {
            expected: known_source,
            got: source_id,
        });
    }
    if *known_path != schema.path {
        return Err(AssetError::PathMismatch {
            expected: known_path.clone(),
            got: schema.path,
        });
    }
    let mut events = Vec::new();
    if state.removed {
        events.push(AssetEvent::AssetRestored(AssetRestored {
            asset_id,
            scan_id,
        }));
    }
    if state.fingerprint.as_ref() != Some(&fingerprint) {
        let diff = match &state.schema {
            Some(previous) => SchemaDiff::between(previous, &schema),
            None => SchemaDiff::default(),
        };
        events.push(AssetEvent::SchemaChanged(SchemaChanged {
            asset_id,
            scan_id,
            schema,
            fingerprint,
            diff: Box::new(diff),
        }));
    } else {
        // The schema carries its statistics; only an unchanged schema needs them on their own.
        let statistics = schema.statistics();
        let recorded = state
            .schema
            .as_ref()
            .map(AssetSchema::statistics)
            .unwrap_or_default();
        if statistics.moved_from(&recorded, statistics_threshold) {
            events.push(AssetEvent::StatisticsChanged(StatisticsChanged {
                asset_id,
                scan_id,
                row_estimate: statistics.row_estimate,
                size_bytes: statistics.size_bytes,
                last_analyzed: statistics.last_analyzed,
            }));
        }
    }
    Ok(events)
}

/// The id and path of a discovered asset, removed or not.
fn existing(state: &AssetState) -> Result<(AggregateId, &AssetPath), AssetError> {
    match (state.id, &state.path) {
        (Some(id), Some(path)) => Ok((id, path)),
        _ => Err(AssetError::NotFound),
    }
}

/// The id and path of a discovered asset that is not removed.
fn present(state: &AssetState) -> Result<(AggregateId, &AssetPath), AssetError> {
    let (id, path) = existing(state)?;
    if state.removed {
        return Err(AssetError::Removed { path: path.clone() });
    }
    Ok((id, path))
}

/// The edges without duplicates, each checked: it starts or ends at this asset and names no
/// empty column.
fn checked_edges(path: &AssetPath, edges: &[LineageEdge]) -> Result<Vec<LineageEdge>, AssetError> {
    let mut errors = Vec::new();
    let mut unique: Vec<LineageEdge> = Vec::new();
    for (i, edge) in edges.iter().enumerate() {
        if !edge.touches(path) {
            errors.push(FieldError {
                field: format!("edges[{i}]"),
                message: format!(
                    "the edge {} → {} neither starts nor ends at this asset ({path})",
                    edge.from, edge.to
                ),
            });
        }
        for (list, columns) in [
            ("from_columns", &edge.from_columns),
            ("to_columns", &edge.to_columns),
        ] {
            for (j, column) in columns.iter().enumerate() {
                if column.is_empty() {
                    errors.push(FieldError {
                        field: format!("edges[{i}].{list}[{j}]"),
                        message: "must not be empty".to_owned(),
                    });
                }
            }
        }
        if !unique.contains(edge) {
            unique.push(edge.clone());
        }
    }
    if errors.is_empty() {
        Ok(unique)
    } else {
        Err(ValidationError { errors }.into())
    }
}

/// The items of `these` that are not in `others`, in order.
fn not_in(these: &[LineageEdge], others: &[LineageEdge]) -> Vec<LineageEdge> {
    these
        .iter()
        .filter(|edge| !others.contains(edge))
        .cloned()
        .collect()
}
