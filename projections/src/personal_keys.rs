//! The PostgreSQL keyring of sealed personal data (table `personal_keys`, see
//! `migrations/*_personal_keys.sql` and [`eventlog::personal`]).
//!
//! Each person (per tenant) has one live 256-bit data key. The table never holds the subject
//! itself, only an HMAC of tenant and subject under the master key, and each data key wrapped
//! (ChaCha20-Poly1305) under the master key: a copy of the table alone opens nothing. Erasure
//! destroys the wrapped key and stamps `erased_at`; the row stays, as a record that the person's
//! data was erased. Keys are read per request, never cached across reads, so an erasure applies
//! to the next read everywhere.

use eventlog::personal::{DataKey, Keyring, KeyringError};
use futures::future::BoxFuture;
use ring::hmac;
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

/// The master key that wraps data keys and keys subject digests (`PURSIGHT_PERSONAL_DATA_KEY`,
/// 64 hex digits). Never printed.
#[derive(Clone)]
pub struct MasterKey(DataKey);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

/// The setting that holds the master key.
pub const MASTER_KEY_SETTING: &str = "PURSIGHT_PERSONAL_DATA_KEY";

impl MasterKey {
    /// From the setting's value: 64 hex digits (32 bytes, e.g. `openssl rand -hex 32`). The
    /// error never repeats the value.
    pub fn parse(text: &str) -> Result<Self, String> {
        hex::decode(text.trim())
            .ok()
            .and_then(|bytes| DataKey::from_bytes(&bytes))
            .map(Self)
            .ok_or_else(|| format!("{MASTER_KEY_SETTING} must be 64 hex digits (32 bytes)"))
    }

    /// The fixed key used when the setting is absent, so that the demo and tests work out of
    /// the box. It is public: data keys it wraps are protected only by access to the database.
    pub fn development() -> Self {
        use sha2::Digest;
        let bytes: [u8; 32] =
            sha2::Sha256::digest(b"pursight development personal data key").into();
        Self(DataKey::from_bytes(&bytes).expect("32 bytes"))
    }

    /// The key logs pseudonymise actors with ([`eventlog::personal::pseudonym`]): derived from
    /// the master key, so pseudonyms stay the same across restarts and cannot be reversed
    /// without it.
    pub fn pseudonym_key(&self) -> [u8; 32] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.0.as_bytes());
        hmac::sign(&key, b"pursight-log-pseudonym-v1")
            .as_ref()
            .try_into()
            .expect("HMAC-SHA256 is 32 bytes")
    }

    /// The master key from the environment; `(key, false)` for the development key when unset.
    pub fn from_env() -> Result<(Self, bool), String> {
        match std::env::var(MASTER_KEY_SETTING) {
            Ok(text) if !text.trim().is_empty() => Ok((Self::parse(&text)?, true)),
            _ => Ok((Self::development(), false)),
        }
    }
}

/// Longest subject accepted (an e-mail address is at most 254 bytes; OIDC `sub` claims are
/// shorter).
pub const MAX_SUBJECT_BYTES: usize = 512;

/// Checks a subject given to `pursight erase`: not empty, bounded, no control characters.
pub fn validate_subject(subject: &str) -> Result<(), String> {
    if subject.trim().is_empty() {
        return Err("the subject is empty".into());
    }
    if subject.len() > MAX_SUBJECT_BYTES {
        return Err(format!(
            "the subject is {} bytes long; at most {MAX_SUBJECT_BYTES} are accepted",
            subject.len()
        ));
    }
    if subject.chars().any(char::is_control) {
        return Err("the subject holds control characters".into());
    }
    Ok(())
}

/// The keyring on the read-model database.
#[derive(Clone)]
pub struct PgKeyring {
    pool: PgPool,
    master: MasterKey,
}

impl PgKeyring {
    pub fn new(pool: PgPool, master: MasterKey) -> Self {
        Self { pool, master }
    }

    /// Hex HMAC-SHA256 of tenant and subject under the master key: how the table names a person,
    /// and what the `PersonalDataErased` event records (no dictionary reverses it without the
    /// master key).
    pub fn subject_digest(&self, tenant: &str, subject: &str) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.master.0.as_bytes());
        let tag = hmac::sign(
            &key,
            format!("pursight-subject-v1\0{tenant}\0{subject}").as_bytes(),
        );
        hex::encode(tag.as_ref())
    }

    fn wrap(&self, key_id: Uuid, key: &DataKey) -> Vec<u8> {
        self.master.0.encrypt(key_id.as_bytes(), key.as_bytes())
    }

    fn unwrap_key(&self, key_id: Uuid, wrapped: &[u8]) -> Result<DataKey, KeyringError> {
        self.master
            .0
            .decrypt(key_id.as_bytes(), wrapped)
            .and_then(|bytes| DataKey::from_bytes(&bytes))
            .ok_or_else(|| {
                KeyringError(format!(
                    "data key {key_id} does not unwrap: {MASTER_KEY_SETTING} differs from the one it was created with"
                ))
            })
    }

    /// The live keys of a subject in a tenant.
    pub async fn live_keys(&self, tenant: &str, subject: &str) -> Result<Vec<Uuid>, sqlx::Error> {
        let rows: Vec<(Uuid,)> = sqlx::query_as(
            "SELECT key_id FROM personal_keys \
             WHERE tenant_id = $1 AND subject_digest = $2 AND erased_at IS NULL ORDER BY key_id",
        )
        .bind(tenant)
        .bind(self.subject_digest(tenant, subject))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// How many keys of a subject in a tenant are already erased.
    pub async fn erased_keys(&self, tenant: &str, subject: &str) -> Result<i64, sqlx::Error> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM personal_keys \
             WHERE tenant_id = $1 AND subject_digest = $2 AND erased_at IS NOT NULL",
        )
        .bind(tenant)
        .bind(self.subject_digest(tenant, subject))
        .fetch_one(&self.pool)
        .await?;
        Ok(count)
    }

    /// The tenants that hold any key.
    pub async fn tenants(&self) -> Result<Vec<String>, sqlx::Error> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT tenant_id FROM personal_keys ORDER BY tenant_id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(tenant,)| tenant).collect())
    }

    /// Blanks the actor of the refused commands (`audit_refusals`, kept apart from the stream
    /// with the actor in plain text) of the erased persons `erased` (tenant, subject digest):
    /// each distinct actor is digested and compared, since the erasure record holds no subject.
    /// Returns how many rows were blanked.
    pub async fn blank_refusals(
        &self,
        erased: &std::collections::HashSet<(String, String)>,
    ) -> Result<u64, sqlx::Error> {
        if erased.is_empty() {
            return Ok(0);
        }
        let erased_marker = eventlog::personal::ERASED;
        let actors: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT tenant_id, actor FROM audit_refusals WHERE actor <> $1",
        )
        .bind(erased_marker)
        .fetch_all(&self.pool)
        .await?;
        let mut blanked = 0;
        for (tenant, actor) in actors {
            if erased.contains(&(tenant.clone(), self.subject_digest(&tenant, &actor))) {
                blanked += sqlx::query(
                    "UPDATE audit_refusals SET actor = $3 WHERE tenant_id = $1 AND actor = $2",
                )
                .bind(&tenant)
                .bind(&actor)
                .bind(erased_marker)
                .execute(&self.pool)
                .await?
                .rows_affected();
            }
        }
        Ok(blanked)
    }

    /// Destroys these keys (their wrapped material is overwritten with NULL); returns how many
    /// were live.
    pub async fn destroy(&self, ids: &[Uuid]) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE personal_keys SET wrapped_key = NULL, erased_at = now() \
             WHERE key_id = ANY($1) AND erased_at IS NULL",
        )
        .bind(ids)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}

/// What re-applying the recorded erasures did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reapplied {
    /// `PersonalDataErased` events found on the stream.
    pub erasures: usize,
    /// Distinct key ids they name.
    pub keys: usize,
    /// Keys that were live again (a restored backup of `personal_keys`) and are destroyed again.
    pub destroyed: u64,
    /// Refused-command rows (`audit_refusals`) whose actor is an erased person, blanked again
    /// (a restored backup of the read-model database brings them back).
    pub refusals: u64,
}

/// Destroys again every key that a `PersonalDataErased` on the stream names: the stream is the
/// record of erasures, the key table only its effect, so a restored backup of `personal_keys`
/// (which brings destroyed keys back) is corrected from the stream. Keys a person got after
/// their erasure are not named by it and stay live. Reads every tenant's `personal_data`
/// commits; the events hold digests and key ids only.
pub async fn reapply_erasures(
    store: &eventlog::EventStore,
    keyring: &PgKeyring,
) -> Result<Reapplied, crate::ProjectionError> {
    use domain::personal_data::{PersonalDataEvent, AGGREGATE_TYPE};
    use domain::DomainEvent;
    use futures::StreamExt;
    let filter = format!("{}.events.*.{AGGREGATE_TYPE}.*", store.names().prefix());
    let mut commits = Box::pin(
        store
            .read_to_end(&filter, eventlog::DeliverFrom::Start)
            .await?,
    );
    let mut erasures = 0;
    let mut keys: Vec<Uuid> = Vec::new();
    let mut erased: std::collections::HashSet<(String, String)> = Default::default();
    while let Some(commit) = commits.next().await {
        let commit = commit?;
        for event in &commit.events {
            let Some((name, version)) = event.name_and_version() else {
                continue;
            };
            let PersonalDataEvent::PersonalDataErased(erased_event) =
                PersonalDataEvent::from_stored(name, version, &event.data).map_err(|err| {
                    crate::ProjectionError::BadEvent {
                        projection: "personal_keys",
                        sequence: commit.sequence,
                        reason: err.to_string(),
                    }
                })?;
            erasures += 1;
            keys.extend(erased_event.keys);
            erased.insert((event.tenant.clone(), erased_event.subject_digest));
        }
    }
    keys.sort_unstable();
    keys.dedup();
    let destroyed = if keys.is_empty() {
        0
    } else {
        keyring
            .destroy(&keys)
            .await
            .map_err(|source| crate::ProjectionError::Database {
                projection: "personal_keys",
                source,
            })?
    };
    let refusals = keyring.blank_refusals(&erased).await.map_err(|source| {
        crate::ProjectionError::Database {
            projection: "personal_keys",
            source,
        }
    })?;
    Ok(Reapplied {
        erasures,
        keys: keys.len(),
        destroyed,
        refusals,
    })
}

fn keyring_error(err: sqlx::Error) -> KeyringError {
    KeyringError(format!("the key table cannot be read: {err}"))
}

impl Keyring for PgKeyring {
    fn sealing_key<'a>(
        &'a self,
        tenant: &'a str,
        subject: &'a str,
    ) -> BoxFuture<'a, Result<(Uuid, DataKey), KeyringError>> {
        Box::pin(async move {
            let digest = self.subject_digest(tenant, subject);
            // Usually the person has a key already: one read.
            let live: Option<(Uuid, Vec<u8>)> = sqlx::query_as(
                "SELECT key_id, wrapped_key FROM personal_keys \
                 WHERE tenant_id = $1 AND subject_digest = $2 AND erased_at IS NULL",
            )
            .bind(tenant)
            .bind(&digest)
            .fetch_optional(&self.pool)
            .await
            .map_err(keyring_error)?;
            if let Some((id, wrapped)) = live {
                return Ok((id, self.unwrap_key(id, &wrapped)?));
            }
            // Two tries: a concurrent first use of the same subject inserts between our insert
            // (which then does nothing) and our read's snapshot.
            for _ in 0..2 {
                let key_id = Uuid::now_v7();
                let key = DataKey::generate();
                let row: Option<(Uuid, Vec<u8>)> = sqlx::query_as(
                    "WITH created AS ( \
                       INSERT INTO personal_keys (key_id, tenant_id, subject_digest, wrapped_key) \
                       VALUES ($1, $2, $3, $4) \
                       ON CONFLICT (tenant_id, subject_digest) WHERE erased_at IS NULL DO NOTHING \
                       RETURNING key_id, wrapped_key) \
                     SELECT key_id, wrapped_key FROM created \
                     UNION ALL \
                     SELECT key_id, wrapped_key FROM personal_keys \
                     WHERE tenant_id = $2 AND subject_digest = $3 AND erased_at IS NULL \
                     LIMIT 1",
                )
                .bind(key_id)
                .bind(tenant)
                .bind(&digest)
                .bind(self.wrap(key_id, &key))
                .fetch_optional(&self.pool)
                .await
                .map_err(keyring_error)?;
                if let Some((id, wrapped)) = row {
                    return Ok((id, self.unwrap_key(id, &wrapped)?));
                }
            }
            Err(KeyringError(
                "no live key could be created or read for a subject".into(),
            ))
        })
    }

    fn opening_keys<'a>(
        &'a self,
        ids: &'a [Uuid],
    ) -> BoxFuture<'a, Result<HashMap<Uuid, Option<DataKey>>, KeyringError>> {
        Box::pin(async move {
            let rows: Vec<(Uuid, Option<Vec<u8>>)> = sqlx::query_as(
                "SELECT key_id, wrapped_key FROM personal_keys WHERE key_id = ANY($1)",
            )
            .bind(ids)
            .fetch_all(&self.pool)
            .await
            .map_err(keyring_error)?;
            rows.into_iter()
                .map(|(id, wrapped)| {
                    let key = wrapped
                        .map(|wrapped| self.unwrap_key(id, &wrapped))
                        .transpose()?;
                    Ok((id, key))
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_keys_are_64_hex_digits_and_never_printed() {
        let key = MasterKey::parse(&"ab".repeat(32)).unwrap();
        assert_eq!(format!("{key:?}"), "MasterKey(***)");
        for bad in ["", "abc", &"zz".repeat(32), &"ab".repeat(33)] {
            let err = MasterKey::parse(bad).unwrap_err();
            assert!(
                !err.contains("zz") && err.contains(MASTER_KEY_SETTING),
                "{err}"
            );
        }
    }

    #[test]
    fn subjects_are_bounded_and_free_of_control_characters() {
        assert!(validate_subject("dana@example.org").is_ok());
        assert!(validate_subject("").is_err());
        assert!(validate_subject("   ").is_err());
        assert!(validate_subject(&"a".repeat(MAX_SUBJECT_BYTES + 1)).is_err());
        assert!(validate_subject("a\nb").is_err());
    }
}
