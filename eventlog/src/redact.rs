//! Fernet tokens in events: kept in the stream, shown as `fernet:***` everywhere else, and hashed
//! as shown.
//!
//! A `fernet:` secret reference is the one reference that carries material (ciphertext), and it is
//! stored in events as the plain JSON string `fernet:<token>` (see
//! `domain::datasource::SecretRef`, which serialises to its text). Every view of an event (the
//! `history` query, `Event.data`, `Event.cloudEvent`, the subscription, `pursight export` and
//! `replay`) replaces each such string by `fernet:***` with [`redact_event`].
//!
//! So that auditors can verify what they are shown, an event's hash is computed over the same
//! redacted form ([`crate::chain::compute_hash`]): a view or an export verifies as it is. The token
//! itself is then not covered by the chain; it is protected by Fernet's own HMAC (a changed token
//! fails to decrypt). Events appended before this rule carry a hash over the raw token; the live
//! stream still holds that token, so verification against it accepts that hash too.

use crate::envelope::{CloudEvent, StoredEvent};
use domain::datasource::{SecretRef, SecretScheme};
use serde_json::Value;

/// What a Fernet token is shown as.
pub const FERNET_REDACTED: &str = "fernet:***";

/// Whether `text` is a serialised `fernet:` secret reference (exactly as `SecretRef` writes it).
pub fn is_fernet_reference(text: &str) -> bool {
    text.starts_with("fernet:")
        && SecretRef::parse(text)
            .is_ok_and(|secret| secret.scheme() == SecretScheme::Fernet && secret.as_str() == text)
}

/// Whether any string in `value` is a Fernet reference.
pub fn holds_fernet_token(value: &Value) -> bool {
    match value {
        Value::String(text) => is_fernet_reference(text),
        Value::Array(items) => items.iter().any(holds_fernet_token),
        Value::Object(map) => map.values().any(holds_fernet_token),
        _ => false,
    }
}

/// Replaces every Fernet reference in `value` by [`FERNET_REDACTED`].
pub fn redact_value(value: &mut Value) {
    match value {
        Value::String(text) if is_fernet_reference(text) => {
            *text = FERNET_REDACTED.to_owned();
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::Object(map) => map.values_mut().for_each(redact_value),
        _ => {}
    }
}

/// The event as every view shows it: Fernet tokens in `data` redacted.
pub fn redact_event(mut event: CloudEvent) -> CloudEvent {
    redact_value(&mut event.data);
    event
}

impl StoredEvent {
    /// The event as every view shows it (see [`redact_event`]); its hash still verifies.
    pub fn redacted(self) -> StoredEvent {
        StoredEvent {
            sequence: self.sequence,
            event: redact_event(self.event),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fernet_references_are_redacted_wherever_they_are() {
        let mut value = serde_json::json!({
            "config": {"password_secret": "fernet:gAAAAABk-_x=", "tags": ["fernet:abc", "x"]},
            "other": "vault:secret/pg#password",
            "note": "fernet: not a token",
            "shown": "fernet:***",
        });
        assert!(holds_fernet_token(&value));
        redact_value(&mut value);
        assert_eq!(
            value,
            serde_json::json!({
                "config": {"password_secret": "fernet:***", "tags": ["fernet:***", "x"]},
                "other": "vault:secret/pg#password",
                "note": "fernet: not a token",
                "shown": "fernet:***",
            })
        );
        assert!(!holds_fernet_token(&value));
    }
}
