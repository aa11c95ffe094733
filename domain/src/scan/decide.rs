//! The scan decider.
//!
//! | command | from | to | records |
//! |---|---|---|---|
//! | Start | NotStarted | Running | `ScanStarted` |
//! | RecordProgress | Running | Running | `ScanProgressed`, nothing if it repeats the last progress |
//! | Complete | Running | Completed | `ScanCompleted` |
//! | Fail | Running | Failed | `ScanFailed` |
//!
//! Anything else is [`ScanError::InvalidTransition`]. A failed scan is not restarted: a retry is
//! a new scan with a new id.

use super::commands::ScanCommand;
use super::error::ScanError;
use super::events::*;
use super::state::ScanState;
use super::values::{ScanStatus, ScanStrategy};

/// Failure reasons are bounded so that one failure cannot bloat a commit.
const MAX_REASON_CHARS: usize = 2000;

pub(super) fn decide(
    state: &ScanState,
    command: &ScanCommand,
) -> Result<Vec<ScanEvent>, ScanError> {
    use ScanCommand as C;
    use ScanStatus as S;

    let event = match (command, state.status) {
        (
            C::Start {
                scan_id,
                source_id,
                strategy,
                scope,
            },
            S::NotStarted,
        ) => {
            scope.validate()?;
            ScanEvent::ScanStarted(ScanStarted {
                scan_id: *scan_id,
                source_id: *source_id,
                strategy: *strategy,
                scope: scope.clone(),
            })
        }
        (
            C::RecordProgress {
                assets_done,
                assets_total,
                current_strategy,
            },
            S::Running,
        ) => {
            // A running scan always has a strategy; `auto` is the permissive fallback.
            let started = state.strategy.unwrap_or(ScanStrategy::Auto);
            if !started.allows(*current_strategy) {
                return Err(ScanError::StrategyNotAllowed {
                    started,
                    current: *current_strategy,
                });
            }
            let unchanged = state.assets_done == *assets_done
                && state.assets_total == *assets_total
                && state.current_strategy == Some(*current_strategy);
            if unchanged {
                return Ok(Vec::new());
            }
            ScanEvent::ScanProgressed(ScanProgressed {
                assets_done: *assets_done,
                assets_total: *assets_total,
                current_strategy: *current_strategy,
            })
        }
        (C::Complete { metrics }, S::Running) => {
            ScanEvent::ScanCompleted(ScanCompleted { metrics: *metrics })
        }
        (C::Fail { reason, metrics }, S::Running) => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(ScanError::MissingReason);
            }
            ScanEvent::ScanFailed(ScanFailed {
                reason: truncate(reason, MAX_REASON_CHARS),
                metrics: *metrics,
            })
        }
        _ => {
            return Err(ScanError::InvalidTransition {
                command: command.name(),
                state: state.status,
            })
        }
    };
    Ok(vec![event])
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}
