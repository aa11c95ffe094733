//! How a credential column keeps its values: readable, or as password hashes.
//!
//! A `PASSWORD` label says the column holds passwords; whether they are stored readable is a
//! separate fact, and the one compliance cares about (SOC 2 CC6.1 and PCI DSS 8.3.2 ask for
//! passwords to be unreadable, not absent). The classifier already sees it in the values: when
//! every sampled non-null value (at least five) is a password hash in a recognised format
//! (bcrypt, argon2, PBKDF2, scrypt, crypt, LDAP), it records a weightless signal on the label
//! ([`hashed_signal`]), and compliance reads it back as the fact `label.hashed`
//! ([`stored_hashed`]). A column with too few sampled values, or with one readable value among
//! the hashes (a half-finished migration), is not called hashed: it cannot be shown to be.

use super::engine::{Signal, Tier};

/// The start of the signal that says a label's values are stored as password hashes.
pub const HASHED_SIGNAL: &str = "stored hashed: ";

/// The signal a label carries when its values are stored hashed (no weight: it says how the
/// values are kept, not whether the label is right). `detail` says how many values were seen.
pub fn hashed_signal(detail: &str) -> Signal {
    Signal {
        tier: Tier::Context,
        detail: format!("{HASHED_SIGNAL}{detail}"),
        weight: 0.0,
    }
}

/// Whether a label's signals say its values are stored as password hashes.
pub fn stored_hashed(signals: &[Signal]) -> bool {
    signals
        .iter()
        .any(|s| s.tier == Tier::Context && s.detail.starts_with(HASHED_SIGNAL))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signal_reads_back_and_nothing_else_passes_for_it() {
        assert!(stored_hashed(&[hashed_signal("30 of 30 sampled values")]));
        assert!(!stored_hashed(&[]));
        // The same words in a scored signal (say, one a user's custom rule wrote) do not count:
        // only the weightless context signal the classifier records does.
        assert!(!stored_hashed(&[Signal {
            tier: Tier::Rule,
            detail: format!("{HASHED_SIGNAL}by hand"),
            weight: 1.0,
        }]));
    }
}
