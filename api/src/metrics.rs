//! `/metrics` in the Prometheus text exposition format: commands, conflicts, the lag of every
//! projection behind the stream, whether it is up, and how many events it has parked.

use commands::CommandStats;
use projections::{ProjectionState, StatusBoard};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How many events each projection has parked (every projection named, 0 when none); `None`
/// when the read-model database does not answer within two seconds.
pub async fn parked_counts(pool: &sqlx::PgPool) -> Option<BTreeMap<String, u64>> {
    let counts = tokio::time::timeout(
        Duration::from_secs(2),
        projections::parked::counts(pool, None),
    )
    .await
    .ok()?
    .ok()?;
    let mut all: BTreeMap<String, u64> = projections::ALL
        .iter()
        .map(|name| ((*name).to_owned(), 0))
        .collect();
    all.extend(counts);
    Some(all)
}

/// Renders the current metrics; `parked` from [`parked_counts`] (left out when `None`).
pub fn render(
    stats: &CommandStats,
    board: &StatusBoard,
    stream_sequence: Option<u64>,
    parked: Option<BTreeMap<String, u64>>,
) -> String {
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
    let _ = writeln!(out, "# HELP pursight_projection_up 1 when the projection runs, 0 when it is starting, retrying (its read model frozen), stopped or failed.\n# TYPE pursight_projection_up gauge");
    for (name, status) in &snapshot {
        let up = u8::from(status.state == ProjectionState::Running);
        let _ = writeln!(out, "pursight_projection_up{{projection=\"{name}\"}} {up}");
    }
    let _ = writeln!(out, "# HELP pursight_read_model_database_up 1 when the read-model database answers.\n# TYPE pursight_read_model_database_up gauge\npursight_read_model_database_up {}", u8::from(parked.is_some()));
    if let Some(parked) = parked {
        let _ = writeln!(out, "# HELP pursight_projection_parked Events the projection could not apply and set aside (`pursight projections parked`).\n# TYPE pursight_projection_parked gauge");
        for (name, count) in parked {
            let _ = writeln!(
                out,
                "pursight_projection_parked{{projection=\"{name}\"}} {count}"
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_read_model_database_that_does_not_answer_gives_no_counts() {
        // Nothing listens on port 1: the counts are unknown, not zero (/readyz: not ready).
        let pool = sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(Duration::from_millis(500))
            .connect_lazy("postgres://postgres@127.0.0.1:1/nothing")
            .unwrap();
        assert_eq!(parked_counts(&pool).await, None);
    }

    #[test]
    fn a_projection_retrying_is_down_and_parked_events_are_counted() {
        let board = StatusBoard::default();
        board.set_state("catalog", ProjectionState::Running);
        board.set_state(
            "data_sources",
            ProjectionState::Retrying {
                attempt: 4,
                error: "database error".into(),
            },
        );
        let parked = BTreeMap::from([("catalog".to_owned(), 2), ("data_sources".to_owned(), 0)]);
        let text = render(&CommandStats::default(), &board, Some(10), Some(parked));
        assert!(text.contains("pursight_projection_up{projection=\"catalog\"} 1"));
        assert!(text.contains("pursight_projection_up{projection=\"data_sources\"} 0"));
        assert!(text.contains("pursight_projection_parked{projection=\"catalog\"} 2"));
        assert!(text.contains("pursight_projection_parked{projection=\"data_sources\"} 0"));
        // Without an answer from the database the parked counts are left out, not made up.
        let text = render(&CommandStats::default(), &board, Some(10), None);
        assert!(!text.contains("pursight_projection_parked"));
        assert!(text.contains("pursight_read_model_database_up 0"));
    }
}
