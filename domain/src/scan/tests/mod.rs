//! Tests of the scan aggregate, written as stories: given these events happened, when this
//! command arrives, then these events (or this error) follow.
//!
//! - `lifecycle.rs`: every command's happy path and the whole status × command table.
//! - `scope.rs`: scope pattern syntax and matching.
//! - `events.rs`: stored form and decoding of events.

mod events;
mod lifecycle;
mod scope;

use super::*;
use crate::ids::AggregateId;
use crate::testing::{self, Given};

pub(super) fn given(events: Vec<ScanEvent>) -> Given<Scan> {
    testing::given(events)
}

// ---- fixtures -----------------------------------------------------------------------------

pub(super) fn scan_id() -> AggregateId {
    AggregateId::parse("0192f0c4-2222-7000-8000-000000000001").unwrap()
}

pub(super) fn source_id() -> AggregateId {
    AggregateId::parse("0192f0c4-1111-7000-8000-000000000001").unwrap()
}

pub(super) fn scope() -> ScanScope {
    ScanScope::parse(["sales.public.**"], ["sales.public.tmp_*"]).unwrap()
}

pub(super) fn start(strategy: ScanStrategy) -> ScanCommand {
    ScanCommand::Start {
        scan_id: scan_id(),
        source_id: source_id(),
        strategy,
        scope: scope(),
    }
}

pub(super) fn started(strategy: ScanStrategy) -> ScanEvent {
    ScanEvent::ScanStarted(ScanStarted {
        scan_id: scan_id(),
        source_id: source_id(),
        strategy,
        scope: scope(),
    })
}

pub(super) fn progressed(done: u64, total: Option<u64>, current: ScanStrategy) -> ScanEvent {
    ScanEvent::ScanProgressed(ScanProgressed {
        assets_done: done,
        assets_total: total,
        current_strategy: current,
    })
}

pub(super) fn metrics() -> ScanMetrics {
    ScanMetrics {
        duration_ms: 5_400,
        schemas: 3,
        tables: 41,
        views: 4,
        collections: 0,
        columns: 388,
        assets_changed: 2,
        assets_removed: 1,
        queries_executed: 12,
        retries: 1,
        errors: 0,
        cache_hits: 7,
    }
}

pub(super) fn completed() -> ScanEvent {
    ScanEvent::ScanCompleted(ScanCompleted { metrics: metrics() })
}

pub(super) fn failed() -> ScanEvent {
    ScanEvent::ScanFailed(ScanFailed {
        reason: "permission denied for schema hr".into(),
        metrics: metrics(),
    })
}

/// A history that ends in `status` (an `auto` scan).
pub(super) fn history_to(status: ScanStatus) -> Vec<ScanEvent> {
    let running = vec![
        started(ScanStrategy::Auto),
        progressed(10, Some(48), ScanStrategy::Balanced),
    ];
    match status {
        ScanStatus::NotStarted => Vec::new(),
        ScanStatus::Running => running,
        ScanStatus::Completed => [running, vec![completed()]].concat(),
        ScanStatus::Failed => [running, vec![failed()]].concat(),
    }
}
