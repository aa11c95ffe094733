//! `/metrics` in the Prometheus text exposition format: commands, conflicts and the lag of every
//! projection behind the stream.

use commands::CommandStats;
use projections::{ProjectionState, StatusBoard};
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// Renders the current metrics.
pub fn render(stats: &CommandStats, board: &StatusBoard, stream_sequence: Option<u64>) -> String {
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    };
    counter(
        "pursight_commands_total",
        "Commands that appended events.",
        stats.executed.load(Ordering::Relaxed),
    );
    counter(
        "pursight_commands_rejected_total",
        "Commands refused (validation, permission, domain rule, conflict).",
        stats.rejected.load(Ordering::Relaxed),
    );
    counter(
        "pursight_command_conflicts_total",
        "Optimistic-concurrency conflicts met (each retried or surfaced).",
        stats.conflicts.load(Ordering::Relaxed),
    );
    counter(
        "pursight_command_duplicates_total",
        "Commands recognised as already handled (same command id).",
        stats.duplicates.load(Ordering::Relaxed),
    );
    let snapshot = board.snapshot();
    if let Some(stream) = stream_sequence {
        let _ = writeln!(out, "# HELP pursight_stream_sequence Last sequence in the event stream.\n# TYPE pursight_stream_sequence gauge\npursight_stream_sequence {stream}");
        let _ = writeln!(out, "# HELP pursight_projection_lag Events the projection is behind the stream.\n# TYPE pursight_projection_lag gauge");
        for (name, status) in &snapshot {
            let _ = writeln!(
                out,
                "pursight_projection_lag{{projection=\"{name}\"}} {}",
                stream.saturating_sub(status.last_sequence)
            );
        }
    }
    let _ = writeln!(out, "# HELP pursight_projection_up 1 when the projection runs, 0 when it is stopped or failed.\n# TYPE pursight_projection_up gauge");
    for (name, status) in &snapshot {
        let up = u8::from(status.state == ProjectionState::Running);
        let _ = writeln!(out, "pursight_projection_up{{projection=\"{name}\"}} {up}");
    }
    out
}
