//! `pursight replay --as-of T --into SCHEMA`: every read model as the catalogue stood at time
//! `T`, materialised into a schema of its own, for an auditor to query with plain SQL beside the
//! live read models.
//!
//! The projections are the live ones (the same `apply` code, the same DDL), run from sequence 1
//! over the commits recorded at or before `T` (and, with a tenant, only that tenant's) into one
//! schema: their table and index names are distinct, so they share it. A commit after `T` (or of
//! another tenant) moves the replay's checkpoints without being applied, which keeps the
//! runner's gap check meaningful. Event times come from the server that appended them; the whole
//! stream is read rather than stopping at the first later commit, so a clock that stepped back
//! does not cut the replay short.
//!
//! The target schema is checked before anything is written: a name of lowercase letters, digits
//! and `_`, never a live read model's (`rm_*`), PostgreSQL's own (`pg_*`, `information_schema`)
//! or `public`; an existing schema is only replaced when asked. Events the projections cannot
//! apply are parked while the replay runs (under `as_of:<schema>:<projection>`, so the live
//! projections' parked events and readiness are untouched), reported, and removed at the end:
//! the materialised schema is a snapshot, not a projection that keeps running.

use crate::error::{DbContext, ProjectionError};
use crate::projection::Projection;
use crate::runner::{apply_commits, apply_parking, prepare_schema, read_all};
use crate::{access, audit_log, catalog, compliance, data_sources, glossary, health, lineage};
use chrono::{DateTime, Utc};
use eventlog::{EventStore, StoredCommit};
use futures::StreamExt;
use sqlx::PgPool;

/// What a replay into a schema did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsOfReport {
    pub schema: String,
    /// Commits applied (at or before the time, of the tenant when one is given).
    pub commits: u64,
    /// The last stream sequence applied (0 when none was).
    pub last_sequence: u64,
    /// Events the projections could not apply: (projection, sequence, error).
    pub parked: Vec<(String, u64, String)>,
}

/// Commits handed to the projections per transaction.
const BATCH: usize = 512;

/// Why a target schema name is refused, or `None` when it may be used.
pub fn refuse_schema_name(name: &str) -> Option<String> {
    let well_formed = (1..=48).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed {
        return Some(format!(
            "schema name {name:?}: 1 to 48 characters of a-z, 0-9 and _, starting with a letter"
        ));
    }
    if name.starts_with("rm_")
        || name.starts_with("pg_")
        || name == "public"
        || name == "information_schema"
    {
        return Some(format!(
            "schema name {name:?} is reserved (live read models rm_*, PostgreSQL's pg_* and information_schema, and public)"
        ));
    }
    None
}

/// Materialises every read model as it stood at `as_of` (of `tenant` only, when given) into the
/// schema `into`. `replace` drops an existing schema of that name first; without it an existing
/// schema is refused. `progress(done_sequence, target_sequence)` is called per batch.
pub async fn materialise(
    store: &EventStore,
    pool: &PgPool,
    as_of: DateTime<Utc>,
    tenant: Option<&str>,
    into: &str,
    replace: bool,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<AsOfReport, ProjectionError> {
    const NAME: &str = "as_of";
    if let Some(reason) = refuse_schema_name(into) {
        return Err(ProjectionError::Refused(reason));
    }
    let exists: Option<(String,)> = sqlx::query_as(
        "SELECT schema_name::text FROM information_schema.schemata WHERE schema_name = $1",
    )
    .bind(into)
    .fetch_optional(pool)
    .await
    .in_projection(NAME)?;
    if exists.is_some() {
        if !replace {
            return Err(ProjectionError::Refused(format!(
                "schema {into} exists; choose another name or pass --replace to drop it first"
            )));
        }
        // The name was checked above: never a live read model's, never PostgreSQL's.
        sqlx::query(&format!("DROP SCHEMA {into} CASCADE"))
            .execute(pool)
            .await
            .in_projection(NAME)?;
    }

    let targets = Targets::new(into);
    for target in &targets.0 {
        target.prepare(pool, into).await?;
        target.clear(pool).await?;
    }
    let last = store.last_sequence().await?;
    let mut report = AsOfReport {
        schema: into.to_owned(),
        commits: 0,
        last_sequence: 0,
        parked: Vec::new(),
    };
    let mut commits = read_all(store, 1).await?;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let next = commits.next().await;
        let end = next.is_none();
        if let Some(commit) = next {
            let mut commit = commit?;
            let applies = commit.events.iter().all(|e| e.time <= as_of)
                && tenant.is_none_or(|t| commit.events.iter().all(|e| e.tenant == t));
            if applies {
                report.commits += 1;
                report.last_sequence = commit.sequence;
            } else {
                // Passed over, not applied: the checkpoints still move past it.
                commit.events.clear();
            }
            batch.push(commit);
        }
        if !batch.is_empty() && (end || batch.len() >= BATCH) {
            let commits = std::mem::take(&mut batch);
            let done = commits.last().map_or(0, |c| c.sequence);
            for target in &targets.0 {
                target.apply(store, pool, into, commits.clone()).await?;
            }
            progress(done, last.max(done));
        }
        if end {
            break;
        }
    }
    for target in &targets.0 {
        report.parked.extend(target.finish(pool).await?);
    }
    Ok(report)
}

/// The projections a replay runs, each with its own checkpoint and parking name.
struct Targets(Vec<Box<dyn Target>>);

impl Targets {
    fn new(into: &str) -> Self {
        fn one<P: Projection + 'static>(projection: P, into: &str) -> Box<dyn Target> {
            let checkpoint = format!("as_of:{into}:{}", projection.name());
            Box::new(Runner {
                projection,
                checkpoint,
            })
        }
        Self(vec![
            one(data_sources::DataSources, into),
            one(audit_log::AuditLog, into),
            one(catalog::Catalog, into),
            one(lineage::Lineage, into),
            one(health::Health, into),
            one(compliance::Compliance, into),
            one(access::Access, into),
            one(glossary::GlossaryProjection, into),
        ])
    }
}

/// One projection replaying into the target schema (object-safe, so the list is one type).
trait Target: Send + Sync {
    fn prepare<'a>(
        &'a self,
        pool: &'a PgPool,
        into: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<(), ProjectionError>>;
    fn clear<'a>(
        &'a self,
        pool: &'a PgPool,
    ) -> futures::future::BoxFuture<'a, Result<(), ProjectionError>>;
    fn apply<'a>(
        &'a self,
        store: &'a EventStore,
        pool: &'a PgPool,
        into: &'a str,
        commits: Vec<StoredCommit>,
    ) -> futures::future::BoxFuture<'a, Result<(), ProjectionError>>;
    #[allow(clippy::type_complexity)]
    fn finish<'a>(
        &'a self,
        pool: &'a PgPool,
    ) -> futures::future::BoxFuture<'a, Result<Vec<(String, u64, String)>, ProjectionError>>;
}

struct Runner<P> {
    projection: P,
    checkpoint: String,
}

impl<P: Projection + 'static> Target for Runner<P> {
    fn prepare<'a>(
        &'a self,
        pool: &'a PgPool,
        into: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<(), ProjectionError>> {
        prepare_schema(pool, &self.projection, into)
    }

    /// Forgets a checkpoint and parked events left by an earlier replay into the same schema
    /// that did not finish.
    fn clear<'a>(
        &'a self,
        pool: &'a PgPool,
    ) -> futures::future::BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let name = self.projection.name();
            for table in ["projection_checkpoints", "projection_parked"] {
                let column = if table == "projection_checkpoints" {
                    "name"
                } else {
                    "projection"
                };
                sqlx::query(&format!("DELETE FROM public.{table} WHERE {column} = $1"))
                    .bind(&self.checkpoint)
                    .execute(pool)
                    .await
                    .in_projection(name)?;
            }
            Ok(())
        })
    }

    fn apply<'a>(
        &'a self,
        store: &'a EventStore,
        pool: &'a PgPool,
        into: &'a str,
        commits: Vec<StoredCommit>,
    ) -> futures::future::BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let name = self.projection.name();
            let mut tx = pool.begin().await.in_projection(name)?;
            let outcome = apply_commits(
                &mut tx,
                &self.projection,
                into,
                &self.checkpoint,
                commits.clone(),
            )
            .await;
            if outcome.is_ok() {
                tx.commit().await.in_projection(name)?;
                return Ok(());
            }
            // As the live runner does: the batch again, commit by commit, parking what fails.
            drop(tx);
            for commit in commits {
                let mut tx = pool.begin().await.in_projection(name)?;
                let subject = commit.subject.clone();
                apply_parking(
                    &mut tx,
                    &self.projection,
                    into,
                    &self.checkpoint,
                    store.names(),
                    &subject,
                    Ok(commit),
                )
                .await?;
                tx.commit().await.in_projection(name)?;
            }
            Ok(())
        })
    }

    fn finish<'a>(
        &'a self,
        pool: &'a PgPool,
    ) -> futures::future::BoxFuture<'a, Result<Vec<(String, u64, String)>, ProjectionError>> {
        Box::pin(async move {
            let name = self.projection.name();
            let parked: Vec<(i64, String)> = sqlx::query_as(
                "SELECT sequence, error FROM public.projection_parked WHERE projection = $1 ORDER BY sequence, event_index",
            )
            .bind(&self.checkpoint)
            .fetch_all(pool)
            .await
            .in_projection(name)?;
            self.clear(pool).await?;
            Ok(parked
                .into_iter()
                .map(|(sequence, error)| (name.to_owned(), sequence as u64, error))
                .collect())
        })
    }
}
