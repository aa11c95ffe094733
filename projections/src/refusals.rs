//! Refused commands in the audit read model: who tried what on which target, and why it was
//! refused. Not events — a refusal changes nothing, so nothing goes on the stream — but rows of
//! the `audit_refusals` table (a migration, outside every `rm_*` schema: `pursight rebuild
//! audit_log` rebuilds from the stream and must not drop them). [`crate::audit_log::trail`]
//! reads them alongside the events.

use std::fmt::Write as _;

/// Longest reason kept, in characters; longer ones are cut and marked with `…`.
pub const MAX_REASON_CHARS: usize = 1000;
/// Longest actor, action, resource type, target or command id kept, in characters.
pub const MAX_FIELD_CHARS: usize = 200;

/// Why a command was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalOutcome {
    /// The caller's roles do not allow it.
    Forbidden,
    /// The input is invalid.
    Invalid,
    /// The domain refused it in the aggregate's current state.
    Rejected,
    /// Concurrent changes kept winning; nothing was written.
    Conflict,
    /// What it addresses does not exist.
    NotFound,
}

impl RefusalOutcome {
    pub const ALL: [RefusalOutcome; 5] = [
        RefusalOutcome::Forbidden,
        RefusalOutcome::Invalid,
        RefusalOutcome::Rejected,
        RefusalOutcome::Conflict,
        RefusalOutcome::NotFound,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefusalOutcome::Forbidden => "forbidden",
            RefusalOutcome::Invalid => "invalid",
            RefusalOutcome::Rejected => "rejected",
            RefusalOutcome::Conflict => "conflict",
            RefusalOutcome::NotFound => "not_found",
        }
    }
}

/// One refused command, as recorded.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub tenant: String,
    /// The caller's `sub`.
    pub actor: String,
    pub roles: Vec<String>,
    /// The mutation (or command) name.
    pub action: String,
    /// e.g. `data_source`; empty when unknown.
    pub resource_type: String,
    /// The id the command addressed; empty when none.
    pub target_id: String,
    pub outcome: RefusalOutcome,
    /// The message the caller got (made safe by [`record`]).
    pub reason: String,
    /// Empty when the caller gave none.
    pub command_id: String,
}

/// Writes `refusal` (fields bounded, control characters escaped, `fernet:` tokens and URL
/// passwords masked).
pub async fn record(pool: &sqlx::PgPool, refusal: &Refusal) -> Result<(), sqlx::Error> {
    let field = |text: &str| safe_text(text, MAX_FIELD_CHARS);
    let roles = refusal.roles.join(",");
    sqlx::query(
        "INSERT INTO audit_refusals (refusal_id, tenant_id, occurred_at, actor, roles, action,
             resource_type, target_id, outcome, reason, command_id)
         VALUES ($1, $2, now(), $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(&refusal.tenant)
    .bind(field(&refusal.actor))
    .bind(field(&roles))
    .bind(field(&refusal.action))
    .bind(field(&refusal.resource_type))
    .bind(field(&refusal.target_id))
    .bind(refusal.outcome.as_str())
    .bind(safe_text(&refusal.reason, MAX_REASON_CHARS))
    .bind(field(&refusal.command_id))
    .execute(pool)
    .await?;
    Ok(())
}

/// `text` fit for the audit log: at most `max` characters (then ending in `…`), control
/// characters escaped (`\n`, `\u{7}`), so a reason cannot forge lines of a log or an export;
/// and, although error messages never carry secret values, anything that looks like one masked
/// all the same: a `fernet:` token (ciphertext) becomes `fernet:***` and a URL's password
/// (`scheme://user:password@host`) becomes `***`.
pub fn safe_text(text: &str, max: usize) -> String {
    let masked = mask_secrets(text);
    let mut out = String::with_capacity(masked.len().min(max * 4));
    for (count, c) in masked.chars().enumerate() {
        if count >= max {
            out.push('…');
            break;
        }
        if c.is_control() {
            for escaped in c.escape_default() {
                out.push(escaped);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Masks `fernet:` tokens and URL passwords.
fn mask_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("fernet:") {
        out.push_str(&rest[..at + "fernet:".len()]);
        rest = &rest[at + "fernet:".len()..];
        let token_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '=')))
            .unwrap_or(rest.len());
        if token_len > 0 {
            out.push_str("***");
        }
        rest = &rest[token_len..];
    }
    out.push_str(rest);
    mask_url_passwords(&out)
}

/// `scheme://user:password@host` → `scheme://user:***@host`.
fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        out.push_str(&rest[..at + 3]);
        rest = &rest[at + 3..];
        let authority_end = rest
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at_sign), Some(colon)) if colon < at_sign => {
                let _ = write!(out, "{}:***{}", &authority[..colon], &authority[at_sign..]);
            }
            _ => out.push_str(authority),
        }
        rest = &rest[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_bounded_and_escaped() {
        assert_eq!(safe_text("a\nb\u{7}c", 100), "a\\nb\\u{7}c");
        let long = "x".repeat(5000);
        let cut = safe_text(&long, MAX_REASON_CHARS);
        assert_eq!(cut.chars().count(), MAX_REASON_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn secret_looking_material_is_masked() {
        assert_eq!(
            safe_text("bad reference fernet:gAAAAABl-x_y= here", 100),
            "bad reference fernet:*** here"
        );
        assert_eq!(
            safe_text("cannot reach postgres://app:s3cret@db:5432/x", 100),
            "cannot reach postgres://app:***@db:5432/x"
        );
        assert_eq!(
            safe_text("see https://example.com/a", 100),
            "see https://example.com/a"
        );
    }
}
