//! GraphQL output types.

use async_graphql::{Json, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use eventlog::StoredEvent;
use projections::data_sources::DataSourceRow;
use serde_json::Value;

/// A registered data source as the catalog sees it: current configuration (secret references
/// redacted), lifecycle state and version.
pub struct DataSource(pub DataSourceRow);

impl DataSource {
    fn field(&self, key: &str) -> Option<&Value> {
        self.0.config.get(key).filter(|v| !v.is_null())
    }

    fn text(&self, key: &str) -> Option<String> {
        self.field(key).and_then(|v| v.as_str()).map(str::to_owned)
    }
}

#[Object]
impl DataSource {
    /// Aggregate id (UUIDv7).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Display name, unique within the tenant by convention.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Engine: postgresql, mysql, mongodb, redis, s3 or snowflake.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// Lifecycle state: registered, configuring, connected, scanning, scanned, classifying,
    /// classified, validating, validated, cataloged, monitoring, failed, scan_failed, archived.
    async fn lifecycle_state(&self) -> &str {
        &self.0.lifecycle_state
    }
    /// Number of events in the source's history.
    async fn version(&self) -> i64 {
        self.0.version
    }
    /// Host name or address.
    async fn host(&self) -> Option<String> {
        self.text("host")
    }
    /// Port.
    async fn port(&self) -> Option<i64> {
        self.field("port").and_then(|v| v.as_i64())
    }
    /// Database (or bucket) name.
    async fn database(&self) -> Option<String> {
        self.text("database")
    }
    /// User the connector logs in as.
    async fn username(&self) -> Option<String> {
        self.text("username")
    }
    /// Where the password comes from (a reference such as `vault:db/prod#password`; fernet
    /// tokens are shown as `fernet:***`). Never the password itself.
    async fn password_secret(&self) -> Option<String> {
        self.text("password_secret")
    }
    /// aws, azure or gcp.
    async fn cloud_provider(&self) -> Option<String> {
        self.text("cloud_provider")
    }
    /// on_prem, cloud or hybrid.
    async fn location(&self) -> Option<String> {
        self.text("location")
    }
    /// Deployment environment, e.g. production.
    async fn environment(&self) -> Option<String> {
        self.text("environment")
    }
    /// Accountable owner's name (its assets inherit the owner unless they have their own).
    async fn owner(&self) -> Option<String> {
        match self.field("owner") {
            Some(serde_json::Value::Object(owner)) => owner
                .get("name")
                .and_then(|n| n.as_str())
                .map(str::to_owned),
            _ => self.text("owner"),
        }
    }
    /// The accountable owner with its kind and type (kind and type null for an owner recorded
    /// before owners were typed).
    async fn owner_details(&self) -> Option<super::owner_types::OwnerGql> {
        super::owner_types::owner_from_json(self.field("owner")?)
    }
    /// Free-text description.
    async fn description(&self) -> Option<String> {
        self.text("description")
    }
    /// Tags.
    async fn tags(&self) -> Vec<String> {
        self.field("tags")
            .and_then(|v| v.as_array())
            .map(|tags| {
                tags.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
    /// Whether stored credentials are Fernet-encrypted.
    async fn use_encryption(&self) -> bool {
        self.field("use_encryption")
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }
    /// The whole configuration (cloud, replica, TLS and pool settings included), secrets redacted.
    async fn config(&self) -> Json<Value> {
        Json(self.0.config.clone())
    }
    /// When it was registered, and by whom.
    async fn registered_at(&self) -> DateTime<Utc> {
        self.0.registered_at
    }
    /// Who registered it.
    async fn registered_by(&self) -> &str {
        &self.0.registered_by
    }
    /// Last change, and by whom.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Who changed it last.
    async fn updated_by(&self) -> &str {
        &self.0.updated_by
    }
    /// When it was archived, if it was.
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }
    /// Stream sequence of the last event reflected here.
    async fn last_sequence(&self) -> i64 {
        self.0.last_sequence
    }
}

/// A stored event (a CloudEvent with PurSight's extensions) and the stream sequence of its commit,
/// as every view shows it: Fernet tokens as `fernet:***` (its hash covers that form, so it
/// verifies as shown).
/// Sealed personal values are shown opened (or `[erased]`), with the tokens they were opened
/// from kept for `cloudEvent`, which verifies as an export line does.
pub struct Event(StoredEvent, eventlog::personal::SealedValues);

impl Event {
    /// The view of an event whose sealed values were opened, `sealed` the tokens they held; the
    /// only way to build one, so no view shows a Fernet token.
    pub fn shown(stored: StoredEvent, sealed: eventlog::personal::SealedValues) -> Self {
        Self(stored.redacted(), sealed)
    }

    pub fn stored(&self) -> &StoredEvent {
        &self.0
    }
}

/// Opens the sealed personal values of events for views: each event with the tokens it held.
pub async fn open_events(
    store: &eventlog::EventStore,
    events: Vec<StoredEvent>,
) -> Result<Vec<Event>, eventlog::personal::KeyringError> {
    let (sequences, mut cloud): (Vec<u64>, Vec<_>) =
        events.into_iter().map(|e| (e.sequence, e.event)).unzip();
    let sealed = store.opener().open(&mut cloud).await?;
    Ok(sequences
        .into_iter()
        .zip(cloud)
        .zip(sealed)
        .map(|((sequence, event), sealed)| Event::shown(StoredEvent { sequence, event }, sealed))
        .collect())
}

#[Object]
impl Event {
    /// Event id (UUIDv7).
    async fn id(&self) -> ID {
        ID(self.0.event.id.to_string())
    }
    /// CloudEvents type, `io.pursight.<Name>.v<N>`.
    #[graphql(name = "type")]
    async fn event_type(&self) -> &str {
        &self.0.event.event_type
    }
    /// Short name, e.g. `SourceRegistered`.
    async fn name(&self) -> Option<&str> {
        self.0.event.name_and_version().map(|(name, _)| name)
    }
    /// `/pursight/<tenant>`.
    async fn source(&self) -> &str {
        &self.0.event.source
    }
    /// When it was recorded.
    async fn time(&self) -> DateTime<Utc> {
        self.0.event.time
    }
    /// Stream sequence of the commit that holds it.
    async fn sequence(&self) -> i64 {
        self.0.sequence as i64
    }
    /// The tenant it belongs to.
    async fn tenant(&self) -> &str {
        &self.0.event.tenant
    }
    /// e.g. `data_source`.
    async fn aggregate_type(&self) -> &str {
        &self.0.event.aggregatetype
    }
    /// The aggregate it belongs to.
    async fn aggregate_id(&self) -> ID {
        ID(self.0.event.aggregateid.clone())
    }
    /// Position in the aggregate's history (1-based).
    async fn aggregate_version(&self) -> i64 {
        self.0.event.aggregateversion as i64
    }
    /// Who issued the command (`[erased]` once their personal data was erased).
    async fn actor(&self) -> &str {
        &self.0.event.actor
    }
    /// The command that decided it.
    async fn command_id(&self) -> &str {
        &self.0.event.commandid
    }
    /// Ties together everything one user action caused.
    async fn correlation_id(&self) -> &str {
        &self.0.event.correlationid
    }
    /// The message that caused the command.
    async fn causation_id(&self) -> &str {
        &self.0.event.causationid
    }
    /// The event's payload (Fernet tokens shown as `fernet:***`).
    async fn data(&self) -> Json<Value> {
        Json(self.0.event.data.clone())
    }
    /// Hash of the aggregate's previous event.
    async fn prevhash(&self) -> &str {
        &self.0.event.prevhash
    }
    /// SHA-256 of this event (tamper evidence; see `pursight verify`).
    async fn hash(&self) -> &str {
        &self.0.event.hash
    }
    /// The whole CloudEvent as JSON (Fernet tokens shown as `fernet:***`; personal values
    /// opened, with member `sealed` holding the tokens they were opened from, as in an export
    /// line; `hash` verifies it as shown).
    async fn cloud_event(&self) -> Json<Value> {
        let mut value = serde_json::to_value(&self.0.event).unwrap_or(Value::Null);
        if let (Value::Object(map), false) = (&mut value, self.1.is_empty()) {
            map.insert(
                "sealed".into(),
                serde_json::to_value(&self.1).unwrap_or(Value::Null),
            );
        }
        Json(value)
    }
}

/// What a mutation did.
#[derive(SimpleObject)]
pub struct CommandResult {
    /// The aggregate the command addressed.
    pub aggregate_id: ID,
    /// Its version after the command.
    pub version: i64,
    /// Stream sequence of the commit.
    pub sequence: i64,
    /// Ids of the events appended (of the original events for a duplicate; empty when the
    /// command changed nothing).
    pub event_ids: Vec<ID>,
    /// The command id had already been handled; nothing new was written.
    pub duplicate: bool,
    /// With `waitForProjection`: whether the read models had caught up before returning.
    pub projected: bool,
}

/// One audit-trail entry: an event (`outcome: ACCEPTED`) or a refused command (any other
/// outcome, with its `reason`; refusals are recorded apart from the stream and have no sequence,
/// event type, version or correlation of their own).
#[derive(SimpleObject)]
pub struct AuditEntry {
    /// The event's id, or the refusal's.
    pub event_id: ID,
    /// Stream sequence of its commit; 0 for a refusal.
    pub sequence: i64,
    /// When it was recorded.
    pub time: DateTime<Utc>,
    /// Who issued the command (`sub` of the token).
    pub actor: String,
    /// CloudEvents type; empty for a refusal.
    pub event_type: String,
    /// e.g. `data_source`, `scan`, `asset`; for a refusal the resource the mutation acts on
    /// (empty when unknown).
    pub aggregate_type: String,
    /// The aggregate it belongs to; for a refusal the id the mutation addressed, as given
    /// (empty when none, e.g. a registration).
    pub aggregate_id: ID,
    /// Its position in the aggregate's history; 0 for a refusal.
    pub aggregate_version: i64,
    /// The command that decided it; for a refusal the `commandId` given, if any.
    pub command_id: String,
    /// Ties together everything one user action caused; for a refusal its command id.
    pub correlation_id: String,
    /// `ACCEPTED` for an event, else why the command was refused.
    pub outcome: super::inputs::AuditOutcome,
    /// What was done or tried: the event type, or the refused mutation's name.
    pub action: String,
    /// Why the command was refused: the error message the caller got (bounded, control
    /// characters escaped); null for events.
    pub reason: Option<String>,
    /// The caller's roles when refused; empty for events (the event's actor is in `actor`).
    pub roles: Vec<String>,
}

/// A page of the audit trail, newest first.
#[derive(SimpleObject)]
pub struct AuditPage {
    /// The entries of this page.
    pub entries: Vec<AuditEntry>,
    /// Pass as `after` to get the next (older) page; null on the last page.
    pub end_cursor: Option<String>,
    /// Whether older entries follow.
    pub has_next_page: bool,
}

/// How far the read models are behind the event store.
#[derive(SimpleObject)]
pub struct Consistency {
    /// The lowest sequence every projection has applied.
    pub projected_sequence: i64,
    /// The last sequence in the stream.
    pub stream_sequence: i64,
    /// Each projection's position.
    pub projections: Vec<ProjectionProgress>,
    /// Your tenant's parked events, oldest first (at most 100): events a projection could not
    /// apply and set aside so that it goes on. Their read-model rows miss what they say until
    /// they are retried after a fix.
    pub parked: Vec<ParkedEvent>,
}

/// One projection's position.
#[derive(SimpleObject)]
pub struct ProjectionProgress {
    /// Projection name.
    pub name: String,
    /// Last stream sequence it applied (or parked).
    pub sequence: i64,
    /// How many of your tenant's events this projection has parked.
    pub parked: i64,
}

/// An event a projection could not apply. The error itself stays in the server (`pursight
/// projections parked`), as every internal error does.
#[derive(SimpleObject)]
pub struct ParkedEvent {
    /// The projection that parked it.
    pub projection: String,
    /// Stream sequence of its commit.
    pub sequence: i64,
    /// Its id; null when the whole commit could not be decoded.
    pub event_id: Option<ID>,
    /// CloudEvents type (`io.pursight.<Name>.v<N>`); null when the commit could not be decoded.
    pub event_type: Option<String>,
    /// The aggregate type it belongs to.
    pub aggregate_type: Option<String>,
    /// The aggregate it belongs to.
    pub aggregate_id: Option<ID>,
    /// How often it was tried.
    pub attempts: i32,
    /// When it was parked.
    pub parked_at: DateTime<Utc>,
}

impl ParkedEvent {
    /// Most parked events one `consistency` answer lists.
    pub const MAX: usize = 100;
}

impl From<projections::parked::ParkedEvent> for ParkedEvent {
    fn from(row: projections::parked::ParkedEvent) -> Self {
        Self {
            projection: row.projection,
            sequence: row.sequence,
            event_id: row.event_id.map(|id| ID(id.to_string())),
            event_type: row.event_type,
            aggregate_type: row.aggregate_type,
            aggregate_id: row.aggregate_id.map(ID),
            attempts: row.attempts,
            parked_at: row.parked_at,
        }
    }
}
