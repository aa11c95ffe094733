//! The Scan aggregate: one discovery run over (part of) a data source — started with a strategy
//! and a scope, reporting progress, then completed with its metrics or failed.
//!
//! The assets a scan finds are recorded on their own [`Asset`](crate::asset) aggregates (one per
//! asset keeps commits small); the scan records the run. The data source records
//! `SourceScanStarted`/`SourceScanCompleted` with the same scan id.
//!
//! - `values.rs`: [`ScanStrategy`], [`ScanStatus`], [`ScanMetrics`].
//! - `scope.rs`: [`ScanScope`] and its [`ScopePattern`]s: which asset paths a scan covers.
//! - `commands.rs`, `decide.rs`, `events.rs`, `error.rs`, `state.rs`: the decider and what it
//!   speaks.
//!
//! ```
//! use domain::scan::*;
//! use domain::{Aggregate, AggregateId};
//!
//! let scan_id = AggregateId::parse("0192f0c4-2222-7000-8000-000000000001").unwrap();
//! let source_id = AggregateId::parse("0192f0c4-1111-7000-8000-000000000001").unwrap();
//! let start = ScanCommand::Start {
//!     scan_id,
//!     source_id,
//!     strategy: ScanStrategy::Auto,
//!     scope: ScanScope::parse(["sales.public.**"], Vec::<String>::new()).unwrap(),
//! };
//! let events = Scan::decide(&ScanState::default(), &start).unwrap();
//! let state = Scan::replay(&events);
//! assert_eq!(state.status, ScanStatus::Running);
//! assert_eq!(state.current_strategy, Some(ScanStrategy::Balanced));
//! ```

mod commands;
mod decide;
mod error;
mod events;
mod scope;
mod state;
mod values;

#[cfg(test)]
mod tests;

pub use commands::ScanCommand;
pub use error::ScanError;
pub use events::*;
pub use scope::{ScanScope, ScopeError, ScopePattern};
pub use state::ScanState;
pub use values::{ScanMetrics, ScanStatus, ScanStrategy};

use crate::aggregate::Aggregate;

/// The scan aggregate (a decider; all data is in [`ScanState`]).
pub struct Scan;

impl Aggregate for Scan {
    const NAME: &'static str = "scan";
    type State = ScanState;
    type Command = ScanCommand;
    type Event = ScanEvent;
    type Error = ScanError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        decide::decide(state, command)
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        state.evolve(event)
    }
}
