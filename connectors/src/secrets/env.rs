//! `env:VAR` — a variable of the environment the resolver was configured with.

use super::config::EnvLookup;
use super::error::{Failure, SecretErrorKind};
use super::value::SecretValue;

pub(crate) fn resolve(env: &EnvLookup, var: &str) -> Result<SecretValue, Failure> {
    match env.get(var) {
        None => Err(Failure::new(
            SecretErrorKind::NotFound,
            format!("environment variable {var} is not set"),
        )),
        Some(value) if value.is_empty() => Err(Failure::new(
            SecretErrorKind::NotFound,
            format!("environment variable {var} is empty"),
        )),
        Some(value) => Ok(SecretValue::new(value)),
    }
}
