//! The decider contract every aggregate implements, and the contract of its events.
//!
//! An aggregate is data plus two pure functions: [`Aggregate::decide`] turns a command and the
//! current state into new events (or a domain error), [`Aggregate::evolve`] folds one event into
//! the state. The event store and the command handler are generic over this trait.

use crate::datasource::SourcePolicy;
use crate::ids::TenantId;
use serde_json::Value;

/// Events of one aggregate: a past-tense fact with a stable type name and schema version.
pub trait DomainEvent: Sized + Clone + std::fmt::Debug + Send + Sync + 'static {
    /// Short type name, e.g. `SourceRegistered` (the wire type is `io.pursight.<name>.v<version>`).
    fn event_type(&self) -> &'static str;
    /// Schema version this value is written with (always the newest).
    fn version(&self) -> u32;
    /// Writes the `data` member of the CloudEvent (the variant's own struct) with `serializer`.
    /// The event store writes it straight into canonical JSON, with no `Value` in between.
    fn serialize_data<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;
    /// The `data` member of the CloudEvent as a JSON value.
    fn to_data(&self) -> Value {
        self.serialize_data(serde_json::value::Serializer)
            .expect("event data is plain structs, which always serialize")
    }
    /// Decodes stored data of any known version, upcasting old versions to the current shape.
    ///
    /// Reads `data` by reference: stored events are decoded by every projection and the command
    /// handler, and none of them should have to copy the payload first.
    fn from_stored(event_type: &str, version: u32, data: &Value) -> Result<Self, EventDecodeError>;
}

/// Why stored event data could not be turned back into a domain event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDecodeError {
    #[error("unknown event type {event_type} version {version}")]
    Unknown { event_type: String, version: u32 },
    #[error("malformed {event_type} v{version} data: {reason}")]
    Malformed {
        event_type: String,
        version: u32,
        reason: String,
    },
}

/// Decodes the `data` of one stored `(event_type, version)` into its struct, reporting a
/// mismatch as [`EventDecodeError::Malformed`]. Shared by the aggregates' `from_stored`.
pub(crate) fn decode_data<T: serde::de::DeserializeOwned>(
    event_type: &str,
    version: u32,
    data: &Value,
) -> Result<T, EventDecodeError> {
    T::deserialize(data).map_err(|e| EventDecodeError::Malformed {
        event_type: event_type.to_owned(),
        version,
        reason: e.to_string(),
    })
}

/// How a caller should read a domain refusal: the API maps each kind to one error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// The aggregate does not exist.
    NotFound,
    /// The command's input is invalid, whatever the state.
    Invalid,
    /// The command is valid but not in the aggregate's current state.
    Refused,
}

/// Implemented by every aggregate's error type.
pub trait Rejection: std::error::Error {
    fn kind(&self) -> RejectionKind;
}

/// An aggregate as a decider.
pub trait Aggregate {
    /// Used in subjects and envelopes (`aggregatetype`), e.g. `data_source`.
    const NAME: &'static str;
    type State: Default + Clone + Send + Sync + std::fmt::Debug;
    type Command: std::fmt::Debug + Send + Sync;
    type Event: DomainEvent;
    type Error: Rejection + Send + Sync + 'static;

    /// Decides which events a command produces against the current state. No I/O.
    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error>;

    /// Folds one event into the state. Total: an event that happened is never refused.
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;

    /// Checks decided events against what the server's operator lets `tenant` record (where
    /// secret references and hosts may point, [`SourcePolicy`]). Run by the command handler
    /// after `decide` and before anything is appended; `decide` itself knows no server settings.
    /// Aggregates that record nothing such a policy bounds keep this default.
    fn admit(
        _policy: &SourcePolicy,
        _tenant: &TenantId,
        _events: &[Self::Event],
    ) -> Result<(), Self::Error> {
        Ok(())
    }

    /// Folds a whole history.
    fn replay<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self::State
    where
        Self::Event: 'a,
    {
        events
            .into_iter()
            .fold(Self::State::default(), |state, event| {
                Self::evolve(state, event)
            })
    }
}

/// The CloudEvents `type` of an event: `io.pursight.<event_type>.v<version>`.
///
/// ```
/// assert_eq!(domain::wire_type("SourceRegistered", 2), "io.pursight.SourceRegistered.v2");
/// ```
pub fn wire_type(event_type: &str, version: u32) -> String {
    use std::fmt::Write;
    // Written piecewise rather than with `format!`: every appended event needs one.
    let mut wire = String::with_capacity(WIRE_TYPE_PREFIX.len() + event_type.len() + 4);
    wire.push_str(WIRE_TYPE_PREFIX);
    wire.push_str(event_type);
    wire.push_str(".v");
    let _ = write!(wire, "{version}");
    wire
}

/// Splits a CloudEvents `type` written by [`wire_type`] back into event type and version.
///
/// Returns `None` for anything that is not exactly `io.pursight.<Name>.v<N>` (foreign producers,
/// a missing or non-numeric version, a dotted name), so a caller never guesses.
///
/// ```
/// assert_eq!(domain::parse_wire_type("io.pursight.SourceRegistered.v2"), Some(("SourceRegistered", 2)));
/// assert_eq!(domain::parse_wire_type("com.example.SourceRegistered.v2"), None);
/// ```
pub fn parse_wire_type(wire: &str) -> Option<(&str, u32)> {
    let rest = wire.strip_prefix(WIRE_TYPE_PREFIX)?;
    let (name, version) = rest.rsplit_once(".v")?;
    let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    // `u32::from_str` accepts a leading `+`; a wire type is only ever plain digits.
    let version_ok = !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit());
    if !name_ok || !version_ok {
        return None;
    }
    Some((name, version.parse().ok()?))
}

const WIRE_TYPE_PREFIX: &str = "io.pursight.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_types_round_trip() {
        let wire = wire_type("SourceScanFailed", 1);
        assert_eq!(wire, "io.pursight.SourceScanFailed.v1");
        assert_eq!(parse_wire_type(&wire), Some(("SourceScanFailed", 1)));
    }

    #[test]
    fn foreign_or_malformed_wire_types_are_refused() {
        for bad in [
            "",
            "io.pursight.",
            "io.pursight.SourceRegistered",
            "io.pursight.SourceRegistered.v",
            "io.pursight.SourceRegistered.v+1",
            "io.pursight.SourceRegistered.vx",
            "io.pursight.a.b.v1",
            "io.pursight..v1",
            "org.other.SourceRegistered.v1",
            "io.pursight.SourceRegistered.v99999999999",
        ] {
            assert_eq!(parse_wire_type(bad), None, "{bad:?} accepted");
        }
    }
}
