//! [`LifecycleState`]: where a data source is in the seeds' lifecycle (Registered → Configuring →
//! Connected → Scanning → … → Monitoring, with Failed, ScanFailed and Archived on the side).
//!
//! The moves between states are decided in `decide.rs`; this file only names the states and the
//! groups the rules talk about.

use super::values::keyword_enum;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

keyword_enum! {
    /// A data source's lifecycle state.
    #[derive(Default)]
    pub enum LifecycleState ("lifecycle state") {
        /// Before `SourceRegistered`: the aggregate does not exist yet.
        #[default]
        Unregistered = "unregistered",
        Registered = "registered",
        /// Waiting for a connection test of the current configuration.
        Configuring = "configuring",
        Connected = "connected",
        Scanning = "scanning",
        Scanned = "scanned",
        Classifying = "classifying",
        Classified = "classified",
        Validating = "validating",
        Validated = "validated",
        Cataloged = "cataloged",
        Monitoring = "monitoring",
        /// The last connection test failed.
        Failed = "failed",
        ScanFailed = "scan_failed",
        Archived = "archived",
    }
}

impl LifecycleState {
    /// Work on the source is running (a scan, a classification, a compliance check): its
    /// configuration must not change underneath it and it cannot be archived.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            LifecycleState::Scanning | LifecycleState::Classifying | LifecycleState::Validating
        )
    }

    /// A registered source with no work running that is not archived: it may be reconfigured
    /// and archived.
    pub fn is_resting(&self) -> bool {
        !self.is_busy()
            && !matches!(
                self,
                LifecycleState::Unregistered | LifecycleState::Archived
            )
    }

    /// A connection test of the configuration has completed (successfully or not). Changing the
    /// connection makes that result stale, so the source goes back to Configuring.
    pub fn has_connection_result(&self) -> bool {
        matches!(
            self,
            LifecycleState::Connected
                | LifecycleState::Scanned
                | LifecycleState::Classified
                | LifecycleState::Validated
                | LifecycleState::Cataloged
                | LifecycleState::Monitoring
                | LifecycleState::Failed
                | LifecycleState::ScanFailed
        )
    }
}
