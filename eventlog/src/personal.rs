//! Personal data in events, sealed so that it can be erased (GDPR Art. 17) while the stream
//! stays immutable and every hash chain still verifies.
//!
//! At append, each personal value (the envelope's `actor`, and the `data` members listed in
//! [`PERSONAL_FIELDS`]: free text a person wrote, owners that are people) is replaced by a
//! *sealed token*, a plain JSON string:
//!
//! `pii:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>:<base64url(commitment)>`
//!
//! The ciphertext is ChaCha20-Poly1305 (ring) of `salt ‖ text` under the data key of the person
//! the value belongs to (the actor for `actor` and the text the actor wrote, the owner itself
//! for an owner), with the tenant and key id as associated data, so a token copied into another
//! tenant's event does not open. The commitment is SHA-256(`salt ‖ text`): with the salt (known
//! only to whoever can decrypt) a shown value can be checked against the token, and without it
//! the commitment reveals nothing. Keys live outside the stream ([`Keyring`], a PostgreSQL
//! table); `pursight erase` destroys a person's keys, after which every view shows [`ERASED`].
//!
//! The hash of an event covers the token (the stored form), so `pursight verify` needs no key.
//! A view shows the opened text in the token's place and keeps, for views that must verify (an
//! export line, `Event.cloudEvent`), a `sealed` map from JSON pointer to the token and the salt
//! ([`SealedValue`]); [`restore_sealed`] checks each shown value against its commitment (or
//! that it reads [`ERASED`]) and puts the tokens back before the hash is recomputed.
//!
//! Events written before sealing hold plain strings, which every reader shows as they are.
//!
//! The command handler decides on opened values too ([`Opener::open_data`]: `data` only, the
//! actor stays sealed): a value it carries over unchanged into a new event keeps its token
//! ([`carry_tokens`]), and a snapshot of the state is saved with its personal values sealed
//! again ([`reseal_value`]). Logs name actors only by [`pseudonym`].

use crate::envelope::{CloudEvent, NewCommit, NewEvent};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures::future::BoxFuture;
use ring::aead;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use uuid::Uuid;

/// What a value whose key was destroyed is shown as.
pub const ERASED: &str = "[erased]";
/// What a token that does not open (unknown key, changed ciphertext) is shown as.
pub const UNREADABLE: &str = "[unreadable]";
/// Every token starts with this.
pub const TOKEN_PREFIX: &str = "pii:v1:";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;

/// Actors with this prefix are PurSight's own services (`pursight-compliance`,
/// `pursight-health`, `pursight-demo`, …), not people: neither their actor nor the texts they
/// write are sealed.
pub const SERVICE_ACTOR_PREFIX: &str = "pursight-";

/// The key of [`pseudonym`]: set once at start from the master key (see
/// `projections::personal_keys::MasterKey::pseudonym_key`); until then a random key of this
/// process, so a pseudonym is never an unkeyed (dictionary-reversible) hash.
static PSEUDONYM_KEY: std::sync::OnceLock<ring::hmac::Key> = std::sync::OnceLock::new();

/// Sets the key of [`pseudonym`]; `false` when one was already in use (the first one stays, so
/// pseudonyms never change within a process).
pub fn set_pseudonym_key(key: &[u8; 32]) -> bool {
    PSEUDONYM_KEY
        .set(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key))
        .is_ok()
}

/// How logs name an actor: `p:` and 16 hex digits of HMAC-SHA256 under the pseudonym key, the
/// same for the same actor (so one person's lines can be followed), and nothing a reader can
/// reverse without the master key. Logs are kept outside the erasable store, so they must hold
/// no personal data. PurSight's own services ([`SERVICE_ACTOR_PREFIX`]) are not people and stay
/// as they are.
pub fn pseudonym(actor: &str) -> String {
    if actor.starts_with(SERVICE_ACTOR_PREFIX) && !actor.chars().any(char::is_control) {
        return actor.to_owned();
    }
    let key = PSEUDONYM_KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .expect("the system random source works");
        ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key)
    });
    let tag = ring::hmac::sign(key, actor.as_bytes());
    format!("p:{}", hex::encode(&tag.as_ref()[..8]))
}

/// Whose personal data a member holds: the actor's (text the actor wrote) or the value's own
/// (an owner is the person it names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    Actor,
    Value,
}

/// The personal members of each event type's `data` (JSON pointers; a `*` segment stands for
/// every index of an array), the one list that decides what is sealed at append. The envelope's `actor` is sealed in every event. Readers do not
/// use this list: they open every token they find, so a change of it never hides old data.
pub const PERSONAL_FIELDS: &[(&str, &[(&str, Whose)])] = &[
    ("ClassificationConfirmed", &[("/note", Whose::Actor)]),
    ("ClassificationRejected", &[("/reason", Whose::Actor)]),
    ("ClassificationRevoked", &[("/reason", Whose::Actor)]),
    // An owner is a name (events before owners were typed) or `{name, kind, type}`: whichever
    // of the two is there is a string, the other pointer finds nothing.
    // Descriptions are free text that may name people: the actor's, like notes.
    (
        "AssetMetadataChanged",
        &[
            ("/owner", Whose::Value),
            ("/owner/name", Whose::Value),
            ("/description", Whose::Actor),
        ],
    ),
    (
        "SourceRegistered",
        &[
            ("/config/owner", Whose::Value),
            ("/config/owner/name", Whose::Value),
            ("/config/description", Whose::Actor),
        ],
    ),
    (
        "SourceConfigured",
        &[
            ("/config/owner", Whose::Value),
            ("/config/owner/name", Whose::Value),
            ("/config/description", Whose::Actor),
        ],
    ),
    ("SourceArchived", &[("/reason", Whose::Actor)]),
    (
        "ViolationAccepted",
        &[("/by", Whose::Actor), ("/reason", Whose::Actor)],
    ),
    // Grants name the person granted (a token's `sub`), sealed under that person's key; the
    // access read model and the AccessPolicy aggregate treat an erased subject as naming nobody
    // (`domain::access_policy::names_nobody`).
    ("RoleGranted", &[("/subject", Whose::Value)]),
    ("RoleRevoked", &[("/subject", Whose::Value)]),
    ("RoleDefined", &[("/description", Whose::Actor)]),
    ("RoleChanged", &[("/description", Whose::Actor)]),
    // The operator's reason for suspending a tenant (`pursight tenant suspend --reason`).
    ("TenantSuspended", &[("/reason", Whose::Actor)]),
    // Glossary owners (each owner's name, `*` is every array index) and the free text a person
    // wrote: a term's definition, a deprecation's reason.
    (
        "TermDefined",
        &[
            ("/owners/*/name", Whose::Value),
            ("/definition", Whose::Actor),
        ],
    ),
    (
        "TermChanged",
        &[
            ("/owners/*/name", Whose::Value),
            ("/definition", Whose::Actor),
        ],
    ),
    ("TermDeprecated", &[("/reason", Whose::Actor)]),
];

/// The personal members of an event type's `data`.
pub fn personal_fields(name: &str) -> &'static [(&'static str, Whose)] {
    PERSONAL_FIELDS
        .iter()
        .find(|(event, _)| *event == name)
        .map_or(&[], |(_, fields)| fields)
}

/// The personal string members of one event's `data`: each pattern of
/// [`personal_fields`] resolved against `data` (a `*` segment to every index of the array found
/// there), as concrete JSON pointers. Members that are absent or not strings are left out.
pub fn personal_values(name: &str, data: &Value) -> Vec<(String, Whose)> {
    fn resolve(
        value: &Value,
        segments: &[&str],
        at: String,
        whose: Whose,
        out: &mut Vec<(String, Whose)>,
    ) {
        let Some((first, rest)) = segments.split_first() else {
            if value.is_string() {
                out.push((at, whose));
            }
            return;
        };
        match (*first, value) {
            ("*", Value::Array(items)) => {
                for (index, item) in items.iter().enumerate() {
                    resolve(item, rest, format!("{at}/{index}"), whose, out);
                }
            }
            (key, Value::Object(map)) => {
                if let Some(item) = map.get(key) {
                    resolve(item, rest, format!("{at}/{key}"), whose, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (pattern, whose) in personal_fields(name) {
        let segments: Vec<&str> = pattern.split('/').skip(1).collect();
        resolve(data, &segments, String::new(), *whose, &mut out);
    }
    out
}

/// A person's 256-bit data key. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey([u8; 32]);

impl DataKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .expect("the system random source works");
        Self(key)
    }

    /// A key from its 32 bytes; `None` for any other length.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn aead(&self) -> aead::LessSafeKey {
        aead::LessSafeKey::new(
            aead::UnboundKey::new(&aead::CHACHA20_POLY1305, &self.0).expect("32-byte key"),
        )
    }

    /// Encrypts `plain` with a random nonce: `nonce ‖ ciphertext ‖ tag`.
    pub fn encrypt(&self, associated: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system random source works");
        let mut sealed = plain.to_vec();
        self.aead()
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(associated),
                &mut sealed,
            )
            .expect("sealing in memory cannot fail");
        [&nonce[..], &sealed].concat()
    }

    /// Decrypts what [`encrypt`](Self::encrypt) wrote; `None` when it does not authenticate.
    pub fn decrypt(&self, associated: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN + aead::CHACHA20_POLY1305.tag_len() {
            return None;
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buffer = rest.to_vec();
        let plain = self
            .aead()
            .open_in_place(nonce, aead::Aad::from(associated), &mut buffer)
            .ok()?;
        Some(plain.to_vec())
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(***)")
    }
}

/// The keyring failed (its database is unreachable, a key does not unwrap). Never names a
/// subject: the message may be logged.
#[derive(Debug, Clone, thiserror::Error)]
#[error("personal data keyring: {0}")]
pub struct KeyringError(pub String);

/// Where data keys live, outside the stream.
pub trait Keyring: Send + Sync {
    /// The live key of `subject` in `tenant`, created when it has none (also after an erasure:
    /// what a person does later is sealed under a new key).
    fn sealing_key<'a>(
        &'a self,
        tenant: &'a str,
        subject: &'a str,
    ) -> BoxFuture<'a, Result<(Uuid, DataKey), KeyringError>>;

    /// The keys with these ids: `Some` while live, `None` once erased; ids the keyring does not
    /// know are left out.
    fn opening_keys<'a>(
        &'a self,
        ids: &'a [Uuid],
    ) -> BoxFuture<'a, Result<HashMap<Uuid, Option<DataKey>>, KeyringError>>;
}

/// A parsed token.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    key_id: Uuid,
    sealed: Vec<u8>,
    commitment: [u8; 32],
}

impl Token {
    fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix(TOKEN_PREFIX)?;
        let mut parts = rest.split(':');
        let (key_id, sealed, commitment) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || key_id.len() != 32 {
            return None;
        }
        Some(Self {
            key_id: Uuid::try_parse(key_id).ok()?,
            sealed: URL_SAFE_NO_PAD.decode(sealed).ok()?,
            commitment: URL_SAFE_NO_PAD.decode(commitment).ok()?.try_into().ok()?,
        })
    }
}

/// Whether `text` is a well-formed sealed token.
pub fn is_token(text: &str) -> bool {
    text.starts_with(TOKEN_PREFIX) && Token::parse(text).is_some()
}

/// What a token's ciphertext is bound to.
fn associated_data(tenant: &str, key_id: Uuid) -> Vec<u8> {
    format!("pursight-pii-v1\0{tenant}\0{}", key_id.simple()).into_bytes()
}

fn commitment(salt: &[u8], text: &str) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update(salt);
    digest.update(text.as_bytes());
    digest.finalize().into()
}

/// Seals `text` of `tenant` under the key `key_id`.
pub fn seal(text: &str, tenant: &str, key_id: Uuid, key: &DataKey) -> String {
    let mut salt = [0u8; SALT_LEN];
    SystemRandom::new()
        .fill(&mut salt)
        .expect("the system random source works");
    let plain = [&salt[..], text.as_bytes()].concat();
    let sealed = key.encrypt(&associated_data(tenant, key_id), &plain);
    format!(
        "{TOKEN_PREFIX}{}:{}:{}",
        key_id.simple(),
        URL_SAFE_NO_PAD.encode(sealed),
        URL_SAFE_NO_PAD.encode(commitment(&salt, text))
    )
}

/// A token as a view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// The text, and the salt that ties it to the token's commitment.
    Text { text: String, salt: [u8; SALT_LEN] },
    /// The key was destroyed.
    Erased,
    /// Unknown key, or a ciphertext that does not authenticate.
    Unreadable,
}

impl Opened {
    /// The text a view shows.
    pub fn shown(&self) -> &str {
        match self {
            Opened::Text { text, .. } => text,
            Opened::Erased => ERASED,
            Opened::Unreadable => UNREADABLE,
        }
    }
}

/// Opens one token of `tenant` with the keys found so far (`keys[id]`: `Some(None)` erased).
fn open_with(token: &Token, tenant: &str, keys: &HashMap<Uuid, Option<DataKey>>) -> Opened {
    match keys.get(&token.key_id) {
        None => Opened::Unreadable,
        Some(None) => Opened::Erased,
        Some(Some(key)) => {
            let Some(plain) = key.decrypt(&associated_data(tenant, token.key_id), &token.sealed)
            else {
                return Opened::Unreadable;
            };
            if plain.len() < SALT_LEN {
                return Opened::Unreadable;
            }
            let (salt, text) = plain.split_at(SALT_LEN);
            match String::from_utf8(text.to_vec()) {
                Ok(text) if commitment(salt, &text) == token.commitment => Opened::Text {
                    text,
                    salt: salt.try_into().expect("SALT_LEN bytes"),
                },
                _ => Opened::Unreadable,
            }
        }
    }
}

/// How a view records one opened token, so that the view still verifies: the token itself and,
/// when it opened, the hex salt of its commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedValue {
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
}

/// The tokens a view opened, by JSON pointer into the event (`/actor`, `/data/note`).
pub type SealedValues = BTreeMap<String, SealedValue>;

/// Every token in `value`: (JSON pointer below `pointer`, token text).
fn walk(value: &Value, pointer: &mut String, found: &mut Vec<(String, String)>) {
    match value {
        Value::String(text) if text.starts_with(TOKEN_PREFIX) => {
            found.push((pointer.clone(), text.clone()));
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{index}"));
                walk(item, pointer, found);
                pointer.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                walk(item, pointer, found);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Every token in an event: (JSON pointer, token text), `actor` first.
fn tokens_in(event: &CloudEvent) -> Vec<(String, String)> {
    let mut found = Vec::new();
    if event.actor.starts_with(TOKEN_PREFIX) {
        found.push(("/actor".to_owned(), event.actor.clone()));
    }
    walk(&event.data, &mut "/data".to_owned(), &mut found);
    found
}

/// What opened values came from: shown text → the token it was opened from.
pub type Carried = HashMap<String, String>;

/// Puts back the token of each personal value of `event` that an aggregate carried over from
/// its (opened) history unchanged, so that it stays sealed under the key it was sealed with (a
/// description keeps its author's key when someone else later changes only the tags).
pub fn carry_tokens(event: NewEvent, carried: &Carried) -> NewEvent {
    if carried.is_empty() || personal_fields(event.name).is_empty() {
        return event;
    }
    let Ok(mut data) = serde_json::from_slice::<Value>(event.canonical_data()) else {
        return event;
    };
    let mut changed = false;
    for (pointer, _) in personal_values(event.name, &data) {
        let token = data
            .pointer(&pointer)
            .and_then(Value::as_str)
            .and_then(|text| carried.get(text));
        if let Some(token) = token.cloned() {
            if let Some(slot) = data.pointer_mut(&pointer) {
                *slot = Value::String(token);
                changed = true;
            }
        }
    }
    if changed {
        NewEvent::from_value(event.name, event.version, &data)
    } else {
        event
    }
}

/// Adds to `carried` the token each personal value of just-appended events was sealed as:
/// `decided` holds each event's name and its data as decided (plain), `stored` the events as
/// appended (sealed), in the same order.
pub fn carry_appended(decided: &[(&str, Value)], stored: &[CloudEvent], carried: &mut Carried) {
    for ((name, plain), stored) in decided.iter().zip(stored) {
        for (pointer, _) in personal_values(name, plain) {
            let text = plain.pointer(&pointer).and_then(Value::as_str);
            let token = stored.data.pointer(&pointer).and_then(Value::as_str);
            if let (Some(text), Some(token)) = (text, token) {
                if is_token(token) {
                    carried.insert(text.to_owned(), token.to_owned());
                }
            }
        }
    }
}

/// Replaces every string in `value` (an aggregate state about to be kept as a snapshot) that
/// `carried` knows by its token, so that snapshots hold personal values sealed, as the stream
/// does; [`Opener::open_value`] opens them when the snapshot is loaded.
pub fn reseal_value(value: &mut Value, carried: &Carried) {
    if carried.is_empty() {
        return;
    }
    match value {
        Value::String(text) => {
            if let Some(token) = carried.get(text.as_str()) {
                *text = token.clone();
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| reseal_value(item, carried)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|item| reseal_value(item, carried)),
        _ => {}
    }
}

/// Opens the sealed values of events for a view. Keys are fetched once per id and kept only as
/// long as the opener lives (one read, one projection batch), so an erasure takes effect at the
/// next read; nothing caches keys across reads.
pub struct Opener {
    keyring: Option<Arc<dyn Keyring>>,
    keys: HashMap<Uuid, Option<DataKey>>,
}

impl Opener {
    /// An opener; without a keyring tokens are left as they are (they hold no plaintext).
    pub fn new(keyring: Option<Arc<dyn Keyring>>) -> Self {
        Self {
            keyring,
            keys: HashMap::new(),
        }
    }

    /// Replaces every token in `events` by what it opens to, and returns per event the tokens
    /// replaced. Events without tokens (also all events written before sealing) are untouched.
    pub async fn open(
        &mut self,
        events: &mut [CloudEvent],
    ) -> Result<Vec<SealedValues>, KeyringError> {
        if self.keyring.is_none() {
            return Ok(vec![SealedValues::new(); events.len()]);
        }
        let found: Vec<Vec<(String, String)>> = events.iter().map(tokens_in).collect();
        self.fetch(found.iter().flatten()).await?;
        Ok(events
            .iter_mut()
            .zip(found)
            .map(|(event, tokens)| self.apply(event, tokens))
            .collect())
    }

    /// Like [`open`](Self::open) for the events of several commits (a projection batch), with
    /// one key lookup for all of them.
    pub async fn open_commits(
        &mut self,
        commits: &mut [crate::StoredCommit],
    ) -> Result<Vec<Vec<SealedValues>>, KeyringError> {
        if self.keyring.is_none() {
            return Ok(commits
                .iter()
                .map(|commit| vec![SealedValues::new(); commit.events.len()])
                .collect());
        }
        let found: Vec<Vec<Vec<(String, String)>>> = commits
            .iter()
            .map(|commit| commit.events.iter().map(tokens_in).collect())
            .collect();
        self.fetch(found.iter().flatten().flatten()).await?;
        Ok(commits
            .iter_mut()
            .zip(found)
            .map(|(commit, found)| {
                commit
                    .events
                    .iter_mut()
                    .zip(found)
                    .map(|(event, tokens)| self.apply(event, tokens))
                    .collect()
            })
            .collect())
    }

    /// Like [`open`](Self::open) for the tokens in the events' `data` only, leaving their
    /// `actor` sealed: what the command handler folds into an aggregate's state (decisions
    /// compare the values, e.g. who holds a role), which never reads the actor. Events without
    /// tokens in `data` cost no key lookup.
    ///
    /// Returns what each opened value came from ([`Carried`]), so that a value the aggregate
    /// carries over into a new event is stored as the same token ([`carry_tokens`]).
    pub async fn open_data<'e>(
        &mut self,
        events: impl IntoIterator<Item = &'e mut CloudEvent>,
    ) -> Result<Carried, KeyringError> {
        let mut carried = Carried::new();
        if self.keyring.is_none() {
            return Ok(carried);
        }
        let mut with_tokens: Vec<(&mut CloudEvent, Vec<(String, String)>)> = events
            .into_iter()
            .filter_map(|event| {
                let mut found = Vec::new();
                walk(&event.data, &mut "/data".to_owned(), &mut found);
                (!found.is_empty()).then_some((event, found))
            })
            .collect();
        if with_tokens.is_empty() {
            return Ok(carried);
        }
        self.fetch(with_tokens.iter().flat_map(|(_, found)| found))
            .await?;
        for (event, found) in &mut with_tokens {
            let sealed = self.apply(event, std::mem::take(found));
            for (pointer, value) in sealed {
                let shown = event
                    .data
                    .pointer(pointer.strip_prefix("/data").unwrap_or(&pointer))
                    .and_then(Value::as_str);
                if let Some(shown) = shown {
                    carried.insert(shown.to_owned(), value.token);
                }
            }
        }
        Ok(carried)
    }

    /// Replaces every token anywhere in `value` (a snapshot's state) of `tenant` by what it
    /// opens to.
    pub async fn open_value(
        &mut self,
        tenant: &str,
        value: &mut Value,
    ) -> Result<Carried, KeyringError> {
        let mut carried = Carried::new();
        if self.keyring.is_none() {
            return Ok(carried);
        }
        let mut found = Vec::new();
        walk(value, &mut String::new(), &mut found);
        if found.is_empty() {
            return Ok(carried);
        }
        self.fetch(found.iter()).await?;
        for (pointer, text) in found {
            let Some(token) = Token::parse(&text) else {
                continue;
            };
            let shown = open_with(&token, tenant, &self.keys).shown().to_owned();
            if let Some(slot) = value.pointer_mut(&pointer) {
                *slot = Value::String(shown.clone());
                carried.insert(shown, text);
            }
        }
        Ok(carried)
    }

    /// Fetches the keys of these tokens not fetched yet, in one lookup.
    async fn fetch<'t>(
        &mut self,
        tokens: impl Iterator<Item = &'t (String, String)>,
    ) -> Result<(), KeyringError> {
        let Some(keyring) = self.keyring.clone() else {
            return Ok(());
        };
        let mut missing: Vec<Uuid> = tokens
            .filter_map(|(_, text)| Token::parse(text))
            .map(|token| token.key_id)
            .filter(|id| !self.keys.contains_key(id))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let fetched = keyring.opening_keys(&missing).await?;
            self.keys.extend(fetched);
        }
        Ok(())
    }

    /// Replaces the tokens found in one event by what they open to.
    fn apply(&self, event: &mut CloudEvent, tokens: Vec<(String, String)>) -> SealedValues {
        let mut sealed = SealedValues::new();
        for (pointer, text) in tokens {
            let opened = match Token::parse(&text) {
                Some(token) => open_with(&token, &event.tenant, &self.keys),
                None => continue,
            };
            let shown = opened.shown().to_owned();
            if pointer == "/actor" {
                event.actor = shown;
            } else if let Some(slot) = event
                .data
                .pointer_mut(pointer.strip_prefix("/data").unwrap_or(&pointer))
            {
                *slot = Value::String(shown);
            }
            let salt = match opened {
                Opened::Text { salt, .. } => Some(hex::encode(salt)),
                _ => None,
            };
            sealed.insert(pointer, SealedValue { token: text, salt });
        }
        sealed
    }
}

/// Puts the tokens of a view back in place of what it shows, after checking each shown value:
/// one that opened must match the token's commitment, one that did not must read [`ERASED`] or
/// [`UNREADABLE`]. `event` is the view's JSON (an export line). Errors name the pointer.
pub fn restore_sealed(event: &mut Value, sealed: &SealedValues) -> Result<(), String> {
    for (pointer, value) in sealed {
        if pointer != "/actor" && !pointer.starts_with("/data/") {
            return Err(format!(
                "sealed value at {pointer:?} is outside actor and data"
            ));
        }
        let token = Token::parse(&value.token)
            .ok_or_else(|| format!("sealed value at {pointer:?} is not a token"))?;
        let slot = event
            .pointer_mut(pointer)
            .ok_or_else(|| format!("sealed value at {pointer:?} points at nothing"))?;
        let shown = slot
            .as_str()
            .ok_or_else(|| format!("sealed value at {pointer:?} is not a string"))?;
        let matches = match &value.salt {
            Some(salt) => hex::decode(salt)
                .ok()
                .is_some_and(|salt| commitment(&salt, shown) == token.commitment),
            None => shown == ERASED || shown == UNREADABLE,
        };
        if !matches {
            return Err(format!(
                "the value shown at {pointer} does not match its sealed token"
            ));
        }
        *slot = Value::String(value.token.clone());
    }
    Ok(())
}

/// The stored form of an event view that carries its tokens in member `sealed` (an export line
/// without `streamsequence`, `Event.cloudEvent`): checked and restored by [`restore_sealed`], so
/// that its hash can be recomputed.
pub fn stored_form(mut view: Value) -> Result<CloudEvent, String> {
    if let Some(sealed) = view.as_object_mut().and_then(|map| map.remove("sealed")) {
        let sealed: SealedValues =
            serde_json::from_value(sealed).map_err(|err| format!("sealed: {err}"))?;
        restore_sealed(&mut view, &sealed)?;
    }
    serde_json::from_value(view).map_err(|err| err.to_string())
}

/// Seals a commit's personal values before it is hashed and appended: its actor, and the
/// [`PERSONAL_FIELDS`] of each event. Genuine tokens of this tenant (carried over from an
/// earlier event: they open, or their key was erased) and the markers [`ERASED`] /
/// [`UNREADABLE`] are kept as they are; a string that merely looks like a token is sealed.
pub async fn seal_commit(
    keyring: &dyn Keyring,
    commit: &mut NewCommit,
) -> Result<(), KeyringError> {
    let tenant = commit.metadata.tenant.as_str().to_owned();
    let actor = commit.metadata.actor.clone();
    let mut data: Vec<Option<Value>> = commit
        .events
        .iter()
        .map(|event| {
            (!personal_fields(event.name).is_empty())
                .then(|| serde_json::from_slice(event.canonical_data()).ok())
                .flatten()
        })
        .collect();
    // A value shaped like a token is kept only when it is one: it opens (or its key was
    // erased) in this tenant. Anything else, a made-up "token" too, is sealed as text.
    let members: Vec<Vec<(String, Whose)>> = commit
        .events
        .iter()
        .zip(&data)
        .map(|(event, data)| {
            data.as_ref()
                .map_or_else(Vec::new, |data| personal_values(event.name, data))
        })
        .collect();
    let mut candidates: Vec<Uuid> = Token::parse(&actor).map(|t| t.key_id).into_iter().collect();
    for (data, members) in data.iter().zip(&members) {
        for (pointer, _) in members {
            if let Some(Value::String(text)) = data.as_ref().and_then(|d| d.pointer(pointer)) {
                candidates.extend(Token::parse(text).map(|t| t.key_id));
            }
        }
    }
    candidates.sort_unstable();
    candidates.dedup();
    let known = if candidates.is_empty() {
        HashMap::new()
    } else {
        keyring.opening_keys(&candidates).await?
    };
    let genuine = |text: &str| {
        Token::parse(text).is_some_and(|token| match known.get(&token.key_id) {
            Some(None) => true,
            Some(Some(_)) => matches!(open_with(&token, &tenant, &known), Opened::Text { .. }),
            None => false,
        })
    };
    let sealable =
        |text: &str| !text.is_empty() && text != ERASED && text != UNREADABLE && !genuine(text);
    // PurSight's own services are not people: their actor and texts stay plain.
    let person = sealable(actor.as_str()) && !actor.starts_with(SERVICE_ACTOR_PREFIX);
    // One key lookup per person per commit.
    let mut keys: HashMap<String, (Uuid, DataKey)> = HashMap::new();
    for ((event, data), members) in commit.events.iter_mut().zip(&mut data).zip(&members) {
        let Some(data) = data else {
            continue;
        };
        let mut changed = false;
        for (pointer, whose) in members {
            let Some(Value::String(text)) = data.pointer(pointer) else {
                continue;
            };
            if !sealable(text) || (*whose == Whose::Actor && !person) {
                continue;
            }
            let subject = match whose {
                Whose::Actor => actor.clone(),
                Whose::Value => text.clone(),
            };
            let token = seal_for(keyring, &mut keys, &tenant, &subject, text).await?;
            if let Some(slot) = data.pointer_mut(pointer) {
                *slot = Value::String(token);
                changed = true;
            }
        }
        if changed {
            *event = NewEvent::from_value(event.name, event.version, data);
        }
    }
    if person {
        commit.metadata.actor = seal_for(keyring, &mut keys, &tenant, &actor, &actor).await?;
    }
    Ok(())
}

/// Seals `text` under `subject`'s key, fetched once per commit.
async fn seal_for(
    keyring: &dyn Keyring,
    keys: &mut HashMap<String, (Uuid, DataKey)>,
    tenant: &str,
    subject: &str,
    text: &str,
) -> Result<String, KeyringError> {
    if !keys.contains_key(subject) {
        let key = keyring.sealing_key(tenant, subject).await?;
        keys.insert(subject.to_owned(), key);
    }
    let (key_id, key) = &keys[subject];
    Ok(seal(text, tenant, *key_id, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A key's id and material (`None` once erased).
    type MemoryKey = (Uuid, Option<DataKey>);

    /// An in-memory keyring for the unit tests (the real one is PostgreSQL).
    #[derive(Default)]
    pub(crate) struct MemoryKeyring {
        keys: Mutex<HashMap<(String, String), MemoryKey>>,
    }

    impl MemoryKeyring {
        fn erase(&self, tenant: &str, subject: &str) {
            let mut keys = self.keys.lock().unwrap();
            if let Some(entry) = keys.get_mut(&(tenant.to_owned(), subject.to_owned())) {
                entry.1 = None;
            }
        }
    }

    impl Keyring for MemoryKeyring {
        fn sealing_key<'a>(
            &'a self,
            tenant: &'a str,
            subject: &'a str,
        ) -> BoxFuture<'a, Result<(Uuid, DataKey), KeyringError>> {
            Box::pin(async move {
                let mut keys = self.keys.lock().unwrap();
                let entry = keys
                    .entry((tenant.to_owned(), subject.to_owned()))
                    .or_insert_with(|| (Uuid::new_v4(), Some(DataKey::generate())));
                Ok((entry.0, entry.1.clone().expect("not erased in these tests")))
            })
        }

        fn opening_keys<'a>(
            &'a self,
            ids: &'a [Uuid],
        ) -> BoxFuture<'a, Result<HashMap<Uuid, Option<DataKey>>, KeyringError>> {
            Box::pin(async move {
                let keys = self.keys.lock().unwrap();
                Ok(keys
                    .values()
                    .filter(|(id, _)| ids.contains(id))
                    .map(|(id, key)| (*id, key.clone()))
                    .collect())
            })
        }
    }

    fn commit(actor: &str, events: Vec<NewEvent>) -> NewCommit {
        NewCommit {
            aggregate_type: "asset",
            aggregate_id: domain::AggregateId::from_uuid(Uuid::now_v7()),
            expected_sequence: 0,
            expected_version: 0,
            previous_hash: crate::chain::GENESIS.to_owned(),
            metadata: crate::CommitMetadata {
                tenant: domain::TenantId::parse("acme").unwrap(),
                actor: actor.to_owned(),
                command_id: Uuid::now_v7(),
                correlation_id: Uuid::now_v7(),
                causation_id: Uuid::now_v7(),
                traceparent: None,
            },
            events,
        }
    }

    /// The commit as the store would hold it: a CloudEvent per event, hashed.
    fn stored(commit: &NewCommit) -> Vec<CloudEvent> {
        commit
            .events
            .iter()
            .enumerate()
            .map(|(index, new)| {
                let mut event = CloudEvent {
                    specversion: "1.0".into(),
                    id: Uuid::now_v7(),
                    source: "/pursight/acme".into(),
                    event_type: crate::envelope::wire_type(new.name, new.version),
                    subject: "a".into(),
                    time: chrono::Utc::now(),
                    datacontenttype: "application/json".into(),
                    data: serde_json::from_slice(new.canonical_data()).unwrap(),
                    tenant: commit.metadata.tenant.as_str().into(),
                    aggregatetype: "asset".into(),
                    aggregateid: "a".into(),
                    aggregateversion: index as u64 + 1,
                    actor: commit.metadata.actor.clone(),
                    commandid: "c".into(),
                    correlationid: "c".into(),
                    causationid: "c".into(),
                    traceparent: None,
                    prevhash: crate::chain::GENESIS.into(),
                    hash: String::new(),
                };
                event.hash = crate::chain::compute_hash(&event);
                event
            })
            .collect()
    }

    #[test]
    fn pseudonyms_are_stable_keyed_and_hold_nothing_of_the_actor() {
        let dana = pseudonym("dana@example.org");
        assert_eq!(dana, pseudonym("dana@example.org"), "stable");
        assert_ne!(dana, pseudonym("erik@example.org"));
        assert!(dana.starts_with("p:") && dana.len() == 18, "{dana}");
        assert!(!dana.contains("dana") && !dana.contains("example"));
        // Not an unkeyed hash anyone could recompute from a list of addresses.
        let unkeyed = hex::encode(&Sha256::digest(b"dana@example.org")[..8]);
        assert!(!dana.contains(&unkeyed));
        assert_eq!(pseudonym("pursight-compliance"), "pursight-compliance");
        assert!(pseudonym("pursight-\ndana").starts_with("p:"));
    }

    #[tokio::test]
    async fn personal_values_are_sealed_opened_and_erased_and_the_hash_covers_the_tokens() {
        let keyring = Arc::new(MemoryKeyring::default());
        let mut new = commit(
            "dana@example.org",
            vec![
                NewEvent::from_value(
                    "ClassificationConfirmed",
                    1,
                    &serde_json::json!({"column": "c", "note": "checked with Dana"}),
                ),
                NewEvent::from_value(
                    "AssetMetadataChanged",
                    1,
                    &serde_json::json!({"owner": "erik@example.org", "tags": []}),
                ),
                NewEvent::from_value("SchemaChanged", 1, &serde_json::json!({"note": "kept"})),
            ],
        );
        seal_commit(keyring.as_ref(), &mut new).await.unwrap();
        let events = stored(&new);
        let raw = serde_json::to_string(&events).unwrap();
        for plain in ["dana@example.org", "checked with Dana", "erik@example.org"] {
            assert!(!raw.contains(plain), "{plain} is sealed");
        }
        assert!(raw.contains("\"kept\""), "fields not listed stay plain");
        assert!(is_token(&events[0].actor));

        // Opened for a view: plaintext in place, and the view verifies once restored.
        let mut shown = events.clone();
        let keyring_dyn: Arc<dyn Keyring> = keyring.clone();
        let sealed = Opener::new(Some(keyring_dyn.clone()))
            .open(&mut shown)
            .await
            .unwrap();
        assert_eq!(shown[0].actor, "dana@example.org");
        assert_eq!(shown[0].data["note"], "checked with Dana");
        assert_eq!(shown[1].data["owner"], "erik@example.org");
        assert_eq!(
            sealed[2].keys().collect::<Vec<_>>(),
            ["/actor"],
            "only the actor of an event without personal fields"
        );
        for (view, (sealed, original)) in shown.iter().zip(sealed.iter().zip(&events)) {
            let mut value = serde_json::to_value(view).unwrap();
            restore_sealed(&mut value, sealed).unwrap();
            let back: CloudEvent = serde_json::from_value(value).unwrap();
            assert_eq!(crate::chain::compute_hash(&back), original.hash);
        }
        // A changed shown value is caught.
        let mut value = serde_json::to_value(&shown[0]).unwrap();
        value["actor"] = "mallory".into();
        assert!(restore_sealed(&mut value, &sealed[0]).is_err());

        // Erase Dana: her actor and note read [erased], Erik's ownership still opens.
        keyring.erase("acme", "dana@example.org");
        let mut after = events.clone();
        let sealed = Opener::new(Some(keyring_dyn))
            .open(&mut after)
            .await
            .unwrap();
        assert_eq!(after[0].actor, ERASED);
        assert_eq!(after[0].data["note"], ERASED);
        assert_eq!(after[1].data["owner"], "erik@example.org");
        let mut value = serde_json::to_value(&after[0]).unwrap();
        restore_sealed(&mut value, &sealed[0]).unwrap();
        let back: CloudEvent = serde_json::from_value(value).unwrap();
        assert_eq!(crate::chain::compute_hash(&back), events[0].hash);
        // An erased value cannot be shown as anything but [erased].
        let mut value = serde_json::to_value(&after[0]).unwrap();
        value["data"]["note"] = "made up".into();
        assert!(restore_sealed(&mut value, &sealed[0]).is_err());
    }

    #[tokio::test]
    async fn array_owners_grants_and_descriptions_are_sealed_and_carried_over_tokens_kept() {
        let keyring = Arc::new(MemoryKeyring::default());
        let term = serde_json::json!({
            "term_id": Uuid::nil(), "name": "Customer", "definition": "as Dana wrote it",
            "synonyms": [], "related": [],
            "owners": [
                {"name": "erik@example.org", "kind": "person", "type": "steward"},
                {"name": "Sales", "kind": "team", "type": "business"}
            ]
        });
        assert_eq!(
            personal_values("TermDefined", &term)
                .into_iter()
                .map(|(p, _)| p)
                .collect::<Vec<_>>(),
            ["/owners/0/name", "/owners/1/name", "/definition"]
        );
        let mut new = commit(
            "dana@example.org",
            vec![
                NewEvent::from_value("TermDefined", 1, &term),
                NewEvent::from_value(
                    "RoleGranted",
                    1,
                    &serde_json::json!({"subject": "erik@example.org", "role": "admin"}),
                ),
            ],
        );
        seal_commit(keyring.as_ref(), &mut new).await.unwrap();
        let mut events = stored(&new);
        // A snapshot of the state after these events keeps them sealed, and opens again.
        let mut appended = Carried::new();
        carry_appended(
            &[
                ("TermDefined", term.clone()),
                (
                    "RoleGranted",
                    serde_json::json!({"subject": "erik@example.org", "role": "admin"}),
                ),
            ],
            &events,
            &mut appended,
        );
        let mut state = serde_json::json!({
            "grants": {"admin": ["erik@example.org"]},
            "terms": [{"name": "Customer", "definition": "as Dana wrote it"}]
        });
        let plain_state = state.clone();
        reseal_value(&mut state, &appended);
        let sealed_state = state.to_string();
        assert!(!sealed_state.contains("erik@") && !sealed_state.contains("as Dana"));
        assert_eq!(state["terms"][0]["name"], "Customer");
        let keyring_dyn: Arc<dyn Keyring> = keyring.clone();
        Opener::new(Some(keyring_dyn))
            .open_value("acme", &mut state)
            .await
            .unwrap();
        assert_eq!(state, plain_state);
        let raw = serde_json::to_string(&events).unwrap();
        for plain in ["erik@example.org", "as Dana wrote it", "Sales"] {
            assert!(!raw.contains(plain), "{plain} is sealed");
        }
        assert!(raw.contains("\"Customer\""), "the term's name stays plain");

        // Opened for deciding: data only, the actor stays sealed.
        let keyring_dyn: Arc<dyn Keyring> = keyring.clone();
        let carried = Opener::new(Some(keyring_dyn.clone()))
            .open_data(events.iter_mut())
            .await
            .unwrap();
        assert!(is_token(&events[0].actor));
        assert_eq!(events[0].data["owners"][0]["name"], "erik@example.org");
        assert_eq!(events[0].data["definition"], "as Dana wrote it");
        assert_eq!(events[1].data["subject"], "erik@example.org");

        // Erik later changes the term's owners only: Dana's definition is carried over as the
        // same token, so it stays under Dana's key; the new owner is sealed afresh.
        let changed = carry_tokens(
            NewEvent::from_value(
                "TermChanged",
                1,
                &serde_json::json!({
                    "term_id": Uuid::nil(), "definition": "as Dana wrote it",
                    "synonyms": [], "related": [],
                    "owners": [{"name": "finn@example.org", "kind": "person", "type": "steward"}]
                }),
            ),
            &carried,
        );
        let data: Value = serde_json::from_slice(changed.canonical_data()).unwrap();
        let dana_token = serde_json::from_slice::<Value>(new.events[0].canonical_data()).unwrap()
            ["definition"]
            .clone();
        assert_eq!(data["definition"], dana_token);
        let mut later = commit("erik@example.org", vec![changed]);
        seal_commit(keyring.as_ref(), &mut later).await.unwrap();
        let data: Value = serde_json::from_slice(later.events[0].canonical_data()).unwrap();
        assert_eq!(data["definition"], dana_token, "kept, not sealed again");
        assert!(is_token(data["owners"][0]["name"].as_str().unwrap()));

        // Erasing Dana erases her definition in both events; Erik's grant still opens.
        keyring.erase("acme", "dana@example.org");
        let mut after = stored(&later);
        Opener::new(Some(keyring_dyn.clone()))
            .open(&mut after)
            .await
            .unwrap();
        assert_eq!(after[0].data["definition"], ERASED);
        assert_eq!(after[0].data["owners"][0]["name"], "finn@example.org");
        // A snapshot's state holding tokens opens too.
        let mut state = serde_json::json!({"grants": {"admin": [dana_token]}});
        Opener::new(Some(keyring_dyn))
            .open_value("acme", &mut state)
            .await
            .unwrap();
        assert_eq!(state["grants"]["admin"][0], ERASED);
    }

    #[tokio::test]
    async fn events_written_before_sealing_and_without_a_keyring_read_as_they_are() {
        let plain = commit(
            "old-admin",
            vec![NewEvent::from_value(
                "SourceArchived",
                1,
                &serde_json::json!({"reason": "retired by old-admin"}),
            )],
        );
        let events = stored(&plain);
        let keyring: Arc<dyn Keyring> = Arc::new(MemoryKeyring::default());
        let mut shown = events.clone();
        let sealed = Opener::new(Some(keyring)).open(&mut shown).await.unwrap();
        assert_eq!(shown, events);
        assert!(sealed[0].is_empty());
        let mut untouched = events.clone();
        Opener::new(None).open(&mut untouched).await.unwrap();
        assert_eq!(untouched, events);
    }

    #[tokio::test]
    async fn tokens_do_not_open_in_another_tenant_or_when_changed_and_are_not_sealed_twice() {
        let keyring = MemoryKeyring::default();
        let (id, key) = keyring.sealing_key("acme", "p").await.unwrap();
        let token = seal("secret text", "acme", id, &key);
        let keys: HashMap<_, _> = [(id, Some(key.clone()))].into();
        let parsed = Token::parse(&token).unwrap();
        assert!(
            matches!(open_with(&parsed, "acme", &keys), Opened::Text { ref text, .. } if text == "secret text")
        );
        assert_eq!(open_with(&parsed, "other", &keys), Opened::Unreadable);
        let mut changed = parsed.clone();
        changed.sealed[NONCE_LEN] ^= 1;
        assert_eq!(open_with(&changed, "acme", &keys), Opened::Unreadable);
        assert_eq!(
            open_with(&parsed, "acme", &HashMap::new()),
            Opened::Unreadable
        );
        for malformed in ["pii:v1:", "pii:v1:zz:aa:bb", &format!("{token}:x")] {
            assert!(!is_token(malformed), "{malformed}");
        }
        // A token carried over into a later event stays as it is.
        let mut new = commit(
            "p",
            vec![NewEvent::from_value(
                "AssetMetadataChanged",
                1,
                &serde_json::json!({"owner": token}),
            )],
        );
        seal_commit(&keyring, &mut new).await.unwrap();
        let data: Value = serde_json::from_slice(new.events[0].canonical_data()).unwrap();
        assert_eq!(data["owner"], Value::String(token));

        // A made-up token (no such key, or not opening) is sealed like any text.
        let forged = format!(
            "{TOKEN_PREFIX}{}:{}:{}",
            Uuid::new_v4().simple(),
            URL_SAFE_NO_PAD.encode(b"dana@example.org 123456789012345678"),
            URL_SAFE_NO_PAD.encode([0u8; 32])
        );
        assert!(is_token(&forged));
        let mut new = commit(
            "p",
            vec![NewEvent::from_value(
                "SourceArchived",
                1,
                &serde_json::json!({"reason": forged}),
            )],
        );
        seal_commit(&keyring, &mut new).await.unwrap();
        let data: Value = serde_json::from_slice(new.events[0].canonical_data()).unwrap();
        let sealed = data["reason"].as_str().unwrap();
        assert!(is_token(sealed) && sealed != forged);

        // A service's actor and texts stay plain; an owner it names is still sealed.
        let mut new = commit(
            "pursight-compliance",
            vec![
                NewEvent::from_value(
                    "SourceArchived",
                    1,
                    &serde_json::json!({"reason": "expired"}),
                ),
                NewEvent::from_value(
                    "AssetMetadataChanged",
                    1,
                    &serde_json::json!({"owner": "erik"}),
                ),
            ],
        );
        seal_commit(&keyring, &mut new).await.unwrap();
        assert_eq!(new.metadata.actor, "pursight-compliance");
        let data: Value = serde_json::from_slice(new.events[0].canonical_data()).unwrap();
        assert_eq!(data["reason"], "expired");
        let data: Value = serde_json::from_slice(new.events[1].canonical_data()).unwrap();
        assert!(is_token(data["owner"].as_str().unwrap()));
    }
}
