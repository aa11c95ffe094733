//! Live status of the projection runners in this process, for `/readyz` and `/metrics`.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// What a runner is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectionState {
    Starting,
    Running,
    /// Another process runs this projection; this one takes over if that one stops.
    Standby,
    /// A batch or the connection to NATS or PostgreSQL keeps failing: the read model is frozen
    /// until an attempt succeeds (or, for a batch, until what fails is parked).
    Retrying {
        /// Failed attempts in a row.
        attempt: u32,
        /// The last failure.
        error: String,
    },
    /// Stopped for good (an unknown projection); needs a fix and a restart.
    Failed(String),
    Stopped,
}

/// One projection's status.
#[derive(Debug, Clone)]
pub struct ProjectionStatus {
    pub state: ProjectionState,
    pub last_sequence: u64,
}

/// Shared board every runner reports to.
#[derive(Debug, Clone, Default)]
pub struct StatusBoard {
    inner: Arc<RwLock<BTreeMap<&'static str, ProjectionStatus>>>,
}

impl StatusBoard {
    pub fn set_state(&self, name: &'static str, state: ProjectionState) {
        let mut map = self.inner.write().expect("status lock");
        map.entry(name)
            .and_modify(|s| s.state = state.clone())
            .or_insert(ProjectionStatus {
                state,
                last_sequence: 0,
            });
    }

    pub fn set_sequence(&self, name: &'static str, sequence: u64) {
        let mut map = self.inner.write().expect("status lock");
        map.entry(name)
            .and_modify(|s| s.last_sequence = sequence)
            .or_insert(ProjectionStatus {
                state: ProjectionState::Starting,
                last_sequence: sequence,
            });
    }

    pub fn snapshot(&self) -> BTreeMap<&'static str, ProjectionStatus> {
        self.inner.read().expect("status lock").clone()
    }
}
