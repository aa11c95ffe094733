//! `fernet:TOKEN` — the secret itself, encrypted with `PURSIGHT_FERNET_KEY` (the seeds'
//! `use_encryption`). Several comma-separated keys allow rotation: the token is tried against each.

use super::error::{Failure, SecretErrorKind};
use super::value::SecretValue;
use fernet::{Fernet, MultiFernet};

pub(crate) fn resolve(keys: &[SecretValue], token: &str) -> Result<SecretValue, Failure> {
    if keys.is_empty() {
        return Err(Failure::new(
            SecretErrorKind::NotConfigured,
            "PURSIGHT_FERNET_KEY is not set",
        ));
    }
    let mut fernets = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let fernet = Fernet::new(key.expose()).ok_or_else(|| {
            Failure::new(
                SecretErrorKind::NotConfigured,
                format!(
                    "key {} of PURSIGHT_FERNET_KEY is not a Fernet key (32 bytes, URL-safe base64)",
                    i + 1
                ),
            )
        })?;
        fernets.push(fernet);
    }
    let plain = MultiFernet::new(fernets).decrypt(token).map_err(|_| {
        Failure::new(
            SecretErrorKind::WrongFernetKey,
            "the token does not decrypt with PURSIGHT_FERNET_KEY (wrong key or corrupted token)",
        )
    })?;
    let text = String::from_utf8(plain).map_err(|_| {
        Failure::new(
            SecretErrorKind::MalformedResponse,
            "the decrypted token is not valid UTF-8",
        )
    })?;
    Ok(SecretValue::new(text))
}
