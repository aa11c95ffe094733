//! [`SecretValue`]: a resolved credential in memory.
//!
//! The one type that holds a secret in clear. It cannot be printed: there is no `Display`, `Debug`
//! shows `SecretValue(***)`, and the only way to the text is [`SecretValue::expose`], so every
//! place that reads the value is a visible, greppable call. The memory is zeroed on drop.

use std::fmt;
use zeroize::Zeroizing;

/// A resolved secret (password, key, token).
///
/// ```
/// use connectors::secrets::SecretValue;
///
/// let password = SecretValue::new("hunter2");
/// assert_eq!(password.expose(), "hunter2");
/// assert_eq!(format!("{password:?}"), "SecretValue(***)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Zeroizing<String>);

impl SecretValue {
    /// Wraps a value that must not be shown.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret itself. Pass it straight to the driver; never format or log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(***)")
    }
}

impl From<String> for SecretValue {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value_even_when_nested() {
        let value = SecretValue::new("hunter2-very-secret");
        assert_eq!(format!("{value:?}"), "SecretValue(***)");
        assert_eq!(format!("{value:#?}"), "SecretValue(***)");
        let nested = Some(vec![value.clone()]);
        assert!(!format!("{nested:?}").contains("hunter2"));
        assert_eq!(value.expose(), "hunter2-very-secret");
    }
}
