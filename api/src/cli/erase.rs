//! `pursight erase --subject S [--tenant T]`: erases a person's personal data (GDPR Art. 17)
//! without touching the immutable stream.
//!
//! Personal values are sealed in events under the person's data key (see
//! [`eventlog::personal`]); erasing destroys those keys in `personal_keys`, after which every
//! replay, export and rebuilt read model shows `[erased]` and every hash chain still verifies.
//! Each erasure is recorded first as a `PersonalDataErased` event on the tenant's stream
//! (aggregate `personal_data`), holding no personal data: the subject only as its keyed digest,
//! and the ids of the keys destroyed. Then the keys are destroyed, the tenant's aggregate
//! snapshots purged (they hold opened values), refused-command rows naming the subject as actor
//! blanked, and every read model is rebuilt (unless `--no-rebuild`).
//! Running it again finds no live key and changes nothing.
//!
//! `pursight erase --reapply` destroys again every key a recorded `PersonalDataErased` names
//! (the stream is the record of erasures; a restored backup of `personal_keys` brings destroyed
//! keys back). `serve` does the same at start.

use crate::settings::{DatabaseArgs, StoreArgs};
use clap::Args;
use domain::personal_data::{PersonalDataErased, PersonalDataEvent};
use domain::{AggregateId, TenantId};
use eventlog::{CommitMetadata, EventStore, NewCommit, NewEvent};
use projections::personal_keys::{validate_subject, MasterKey, PgKeyring};
use std::process::ExitCode;
use std::sync::Arc;
use uuid::Uuid;

/// The aggregate type erasures are recorded on.
pub const AGGREGATE_TYPE: &str = domain::personal_data::AGGREGATE_TYPE;
/// The event that records an erasure.
pub const ERASED_EVENT: &str = "PersonalDataErased";

#[derive(Debug, Args)]
pub struct EraseArgs {
    /// The person whose personal data is erased, exactly as it appears as actor (their token's
    /// `sub`, or the `--operator` of `pursight tenant`), as an owner or as a grant's subject. At
    /// most 512 bytes, no control characters. Never printed.
    #[arg(long, required_unless_present = "reapply")]
    pub subject: Option<String>,
    /// Only in this tenant (default: every tenant that holds a key of the subject).
    #[arg(long, conflicts_with = "reapply")]
    pub tenant: Option<String>,
    /// Instead of erasing someone: destroy again every key that a recorded erasure
    /// (`PersonalDataErased` on the stream) names, e.g. after `personal_keys` was restored from
    /// a backup. Rebuilds the read models when it destroyed any (unless `--no-rebuild`).
    #[arg(long, conflicts_with = "subject")]
    pub reapply: bool,
    /// Do not rebuild the read models afterwards (they keep showing the erased data until
    /// `pursight rebuild NAME` has run for each).
    #[arg(long)]
    pub no_rebuild: bool,
    /// Who erases, recorded (sealed, like every actor) on the `PersonalDataErased` event.
    #[arg(long, env = "PURSIGHT_OPERATOR", default_value = "operator")]
    pub operator: String,
}

pub async fn run(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    args: EraseArgs,
) -> anyhow::Result<ExitCode> {
    if args.reapply {
        return reapply(store_args, database, args.no_rebuild).await;
    }
    let subject = args
        .subject
        .clone()
        .ok_or_else(|| anyhow::anyhow!("--subject is required (or --reapply)"))?;
    // Every input is checked before anything is contacted.
    validate_subject(&subject).map_err(|err| anyhow::anyhow!("--subject: {err}"))?;
    validate_subject(&args.operator).map_err(|err| anyhow::anyhow!("--operator: {err}"))?;
    let only = args
        .tenant
        .as_deref()
        .map(TenantId::parse)
        .transpose()
        .map_err(|err| anyhow::anyhow!("--tenant: {err}"))?;
    let (master, _) = MasterKey::from_env().map_err(anyhow::Error::msg)?;
    let pool = projections::database::connect(&database.database_url).await?;
    let keyring = PgKeyring::new(pool.clone(), master);
    let store = EventStore::connect(&store_args.config()?)
        .await?
        .with_keyring(Arc::new(keyring.clone()));
    let tenants = match &only {
        Some(tenant) => vec![tenant.clone()],
        None => keyring
            .tenants()
            .await?
            .iter()
            .filter_map(|tenant| TenantId::parse(tenant).ok())
            .collect(),
    };
    let mut erased = 0usize;
    let mut already = 0usize;
    for tenant in &tenants {
        let keys = keyring.live_keys(tenant.as_str(), &subject).await?;
        if keys.is_empty() {
            if keyring.erased_keys(tenant.as_str(), &subject).await? > 0 {
                already += 1;
                println!("tenant {tenant}: already erased; nothing to do");
            }
            continue;
        }
        let digest = keyring.subject_digest(tenant.as_str(), &subject);
        let sequence = record(&store, tenant, &digest, &keys, &args.operator).await?;
        let destroyed = keyring.destroy(&keys).await?;
        // Aggregate snapshots hold opened values; the next command loads the full history.
        let snapshots = store.purge_snapshots(Some(tenant)).await?;
        // Refused commands are kept apart from the stream in plain text: the subject as actor,
        // and named in a refusal's reason (`dana@… does not hold role …`).
        let refusals = sqlx::query(
            "UPDATE audit_refusals SET \
               actor = CASE WHEN actor = $2 THEN $3 ELSE actor END, \
               reason = replace(reason, $2, $3) \
             WHERE tenant_id = $1 AND (actor = $2 OR strpos(reason, $2) > 0)",
        )
        .bind(tenant.as_str())
        .bind(&subject)
        .bind(eventlog::personal::ERASED)
        .execute(&pool)
        .await?
        .rows_affected();
        println!(
            "tenant {tenant}: destroyed {destroyed} data key(s); recorded as {ERASED_EVENT} at stream sequence {sequence} (subject digest {}…); {refusals} refused-command row(s) blanked; {snapshots} aggregate snapshot(s) purged",
            &digest[..16]
        );
        erased += 1;
    }
    if erased == 0 {
        if already == 0 {
            println!(
                "no personal data of this subject is sealed{}: nothing erased",
                match &only {
                    Some(tenant) => format!(" in tenant {tenant}"),
                    None => String::new(),
                }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.no_rebuild {
        println!(
            "read models still show the erased data until rebuilt: run `pursight rebuild NAME` for each of {}",
            projections::ALL.join(", ")
        );
        return Ok(ExitCode::SUCCESS);
    }
    rebuild_all(&store, &pool).await?;
    Ok(ExitCode::SUCCESS)
}

/// Read models hold opened copies; rebuilt from the stream, they show `[erased]`.
async fn rebuild_all(store: &EventStore, pool: &sqlx::PgPool) -> anyhow::Result<()> {
    for name in projections::ALL {
        let report = projections::rebuild::rebuild_by_name(name, store, pool, &|_, _| {}).await?;
        println!(
            "rebuilt {name}: {} commits, up to sequence {}",
            report.commits, report.last_sequence
        );
    }
    Ok(())
}

/// `--reapply`: every recorded erasure applied to the key table again.
async fn reapply(
    store_args: &StoreArgs,
    database: &DatabaseArgs,
    no_rebuild: bool,
) -> anyhow::Result<ExitCode> {
    let (master, _) = MasterKey::from_env().map_err(anyhow::Error::msg)?;
    let pool = projections::database::connect(&database.database_url).await?;
    let keyring = PgKeyring::new(pool.clone(), master);
    let store = EventStore::connect(&store_args.config()?)
        .await?
        .with_keyring(Arc::new(keyring.clone()));
    let report = projections::personal_keys::reapply_erasures(&store, &keyring).await?;
    println!(
        "{} recorded erasure(s) naming {} data key(s); {} restored key(s) destroyed again; {} refused-command row(s) blanked again",
        report.erasures, report.keys, report.destroyed, report.refusals
    );
    if report.destroyed > 0 {
        let snapshots = store.purge_snapshots(None).await?;
        println!("{snapshots} aggregate snapshot(s) purged");
        if no_rebuild {
            println!(
                "read models may show the restored data until rebuilt: run `pursight rebuild NAME` for each of {}",
                projections::ALL.join(", ")
            );
        } else {
            rebuild_all(&store, &pool).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Appends the `PersonalDataErased` event of one tenant; returns its stream sequence. The
/// command id is derived from the digest and the keys, so a retry after a failure between
/// recording and destroying records nothing twice.
async fn record(
    store: &EventStore,
    tenant: &TenantId,
    digest: &str,
    keys: &[Uuid],
    operator: &str,
) -> anyhow::Result<u64> {
    use sha2::Digest;
    let digest_bytes = hex::decode(digest)?;
    let aggregate_id = AggregateId::from_uuid(
        uuid::Builder::from_random_bytes(digest_bytes[..16].try_into()?).into_uuid(),
    );
    let mut command = sha2::Sha256::new();
    command.update(digest.as_bytes());
    for key in keys {
        command.update(key.as_bytes());
    }
    let command: [u8; 32] = command.finalize().into();
    let command_id = uuid::Builder::from_random_bytes(command[..16].try_into()?).into_uuid();
    let history = store.load(tenant, AGGREGATE_TYPE, &aggregate_id).await?;
    let appended = store
        .append(NewCommit {
            aggregate_type: AGGREGATE_TYPE,
            aggregate_id,
            expected_sequence: history.last_sequence,
            expected_version: history.version(),
            previous_hash: history.last_hash(),
            metadata: CommitMetadata {
                tenant: tenant.clone(),
                actor: operator.to_owned(),
                command_id,
                correlation_id: command_id,
                causation_id: command_id,
                traceparent: None,
            },
            events: vec![NewEvent::from_domain(
                &PersonalDataEvent::PersonalDataErased(PersonalDataErased {
                    subject_digest: digest.to_owned(),
                    keys: keys.to_vec(),
                    key_count: keys.len(),
                }),
            )],
        })
        .await?;
    Ok(appended.sequence)
}
