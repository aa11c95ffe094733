//! `file:PATH` — a file on the connecting host, typically a mounted Kubernetes or Docker secret.
//!
//! The content is the secret, minus one trailing newline (`echo pw > file` writes one); other
//! whitespace is kept because it may be part of the password. Only files inside the tenant's
//! directory of the policy's secret directory are read (see `resolve`).

use super::error::{Failure, SecretErrorKind};
use super::value::SecretValue;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Secret files are small; anything bigger is a wrong path, not a password.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Reads `path` (absolute, or relative to `tenant_dir`, the tenant's directory under the
/// policy's secret directory). The policy already refused `..` and paths outside lexically; here
/// symbolic links are followed and the real file must still lie inside the tenant's directory.
/// Missing, unreadable and escaping files all read "no readable secret file", so a reference
/// cannot tell what exists outside the tenant's directory.
pub(crate) async fn resolve(tenant_dir: &Path, path: &str) -> Result<SecretValue, Failure> {
    let full: PathBuf = if Path::new(path).is_relative() {
        tenant_dir.join(path)
    } else {
        PathBuf::from(path)
    };
    let shown = full.display().to_string();
    let unreadable = || {
        Failure::new(
            SecretErrorKind::NotFound,
            format!(
                "no readable secret file at {shown} inside {}",
                tenant_dir.display()
            ),
        )
    };
    let real = real_path_inside(tenant_dir, &full)
        .await
        .ok_or_else(unreadable)?;
    let metadata = tokio::fs::metadata(&real)
        .await
        .map_err(|error| io_failure(error, &shown))?;
    if !metadata.is_file() {
        return Err(Failure::new(
            SecretErrorKind::NotFound,
            format!("{shown} is not a regular file"),
        ));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(Failure::new(
            SecretErrorKind::MalformedResponse,
            format!("{shown} is larger than {MAX_FILE_BYTES} bytes"),
        ));
    }
    let bytes = tokio::fs::read(&real)
        .await
        .map_err(|error| io_failure(error, &shown))?;
    let mut text = String::from_utf8(bytes).map_err(|_| {
        Failure::new(
            SecretErrorKind::MalformedResponse,
            format!("{shown} is not valid UTF-8"),
        )
    })?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.is_empty() {
        return Err(Failure::new(
            SecretErrorKind::NotFound,
            format!("{shown} is empty"),
        ));
    }
    Ok(SecretValue::new(text))
}

fn io_failure(error: std::io::Error, shown: &str) -> Failure {
    let (kind, detail) = match error.kind() {
        ErrorKind::NotFound => (SecretErrorKind::NotFound, format!("no file at {shown}")),
        ErrorKind::PermissionDenied => (
            SecretErrorKind::Unauthorized,
            format!("permission denied reading {shown}"),
        ),
        _ => (SecretErrorKind::Unreachable, format!("cannot read {shown}")),
    };
    Failure::new(kind, detail).with_source(error)
}

/// The real path of `path` (links followed) when it exists and lies inside `dir`; `None`
/// otherwise, without saying which, so the answer tells nothing about what exists outside.
pub(crate) async fn real_path_inside(dir: &Path, path: &Path) -> Option<PathBuf> {
    let root = tokio::fs::canonicalize(dir).await.ok()?;
    let real = tokio::fs::canonicalize(path).await.ok()?;
    real.starts_with(&root).then_some(real)
}
