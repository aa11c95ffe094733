//! `pursight rebuild NAME`: project the whole stream into a fresh schema, then swap it in.
//!
//! The fresh schema (`rm_<name>__rebuild`) is filled from sequence 1 while the live read model
//! keeps serving queries and the live runner keeps updating it. The swap happens in one
//! transaction under the projection's advisory lock (the same lock every live batch takes): it
//! applies the events that arrived meanwhile, renames the schemas and moves the checkpoint, so
//! readers see either the old or the new read model, never a mix, and the live runner continues
//! from the rebuilt checkpoint.
//!
//! Events the projection cannot apply are parked as the live runner parks them (a batch that
//! fails is applied again commit by commit), under the name `<name>__rebuild` while the rebuild
//! runs; the swap replaces the projection's parked events by the rebuild's. A commit that cannot
//! be decoded at all still ends the rebuild with its error.

use crate::error::{DbContext, ProjectionError};
use crate::projection::{schema_of, Projection};
use crate::runner::{apply_commits, apply_parking, prepare_schema, read_all};
use crate::{
    access, audit_log, catalog, checkpoint, compliance, data_sources, glossary, health, lineage,
};
use eventlog::EventStore;
use futures::StreamExt;
use sqlx::PgPool;

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    pub projection: &'static str,
    pub commits: u64,
    pub last_sequence: u64,
}

/// Rebuilds a projection by name.
pub async fn rebuild_by_name(
    name: &str,
    store: &EventStore,
    pool: &PgPool,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<RebuildReport, ProjectionError> {
    match name {
        data_sources::NAME => rebuild(&data_sources::DataSources, store, pool, progress).await,
        audit_log::NAME => rebuild(&audit_log::AuditLog, store, pool, progress).await,
        catalog::NAME => rebuild(&catalog::Catalog, store, pool, progress).await,
        lineage::NAME => rebuild(&lineage::Lineage, store, pool, progress).await,
        health::NAME => rebuild(&health::Health, store, pool, progress).await,
        compliance::NAME => rebuild(&compliance::Compliance, store, pool, progress).await,
        access::NAME => rebuild(&access::Access, store, pool, progress).await,
        glossary::NAME => rebuild(&glossary::GlossaryProjection, store, pool, progress).await,
        other => Err(ProjectionError::Unknown(other.to_owned())),
    }
}

/// Rebuilds one projection; `progress(done_sequence, target_sequence)` is called per batch.
pub async fn rebuild<P: Projection>(
    projection: &P,
    store: &EventStore,
    pool: &PgPool,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<RebuildReport, ProjectionError> {
    let name = projection.name();
    let live = schema_of(name);
    let fresh = format!("{live}__rebuild");
    let fresh_checkpoint = format!("{name}__rebuild");
    // The live schema must exist so the swap has something to replace.
    prepare_schema(pool, projection, &live).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {fresh} CASCADE"))
        .execute(pool)
        .await
        .in_projection(name)?;
    let mut conn = pool.acquire().await.in_projection(name)?;
    checkpoint::write(&mut conn, &fresh_checkpoint, 0)
        .await
        .in_projection(name)?;
    // Parked by an earlier rebuild that did not finish.
    sqlx::query("DELETE FROM public.projection_parked WHERE projection = $1")
        .bind(&fresh_checkpoint)
        .execute(&mut *conn)
        .await
        .in_projection(name)?;
    drop(conn);
    prepare_schema(pool, projection, &fresh).await?;

    let target = store.last_sequence().await?;
    let mut commits_applied = 0u64;
    let mut done = 0u64;
    let mut batch = Vec::new();
    let mut commits = read_all(store, 1).await?;
    loop {
        let next = commits.next().await;
        let end = next.is_none();
        if let Some(commit) = next {
            batch.push(commit?);
        }
        if !batch.is_empty() && (end || batch.len() >= 512) {
            commits_applied += batch.len() as u64;
            let mut tx = pool.begin().await.in_projection(name)?;
            let commits = std::mem::take(&mut batch);
            match apply_commits(
                &mut tx,
                projection,
                &fresh,
                &fresh_checkpoint,
                commits.clone(),
            )
            .await
            {
                Ok(checkpoint) => {
                    done = checkpoint;
                    tx.commit().await.in_projection(name)?;
                }
                Err(_) => {
                    drop(tx);
                    for commit in commits {
                        let mut tx = pool.begin().await.in_projection(name)?;
                        let subject = commit.subject.clone();
                        done = apply_parking(
                            &mut tx,
                            projection,
                            &fresh,
                            &fresh_checkpoint,
                            store.names(),
                            &subject,
                            Ok(commit),
                        )
                        .await?;
                        tx.commit().await.in_projection(name)?;
                    }
                }
            }
            progress(done, target);
        }
        if end {
            break;
        }
    }

    // Swap: catch up with whatever arrived meanwhile, then rename, all under the lock.
    let mut tx = pool.begin().await.in_projection(name)?;
    checkpoint::lock(&mut tx, name).await.in_projection(name)?;
    let mut tail = read_all(store, done + 1).await?;
    let mut rest = Vec::new();
    while let Some(commit) = tail.next().await {
        rest.push(commit?);
    }
    // Commit by commit, each event in a savepoint: what cannot be applied is parked.
    commits_applied += rest.len() as u64;
    for commit in rest {
        let subject = commit.subject.clone();
        done = apply_parking(
            &mut tx,
            projection,
            &fresh,
            &fresh_checkpoint,
            store.names(),
            &subject,
            Ok(commit),
        )
        .await?;
    }
    let old = format!("{live}__old");
    for statement in [
        format!("DROP SCHEMA IF EXISTS {old} CASCADE"),
        format!("ALTER SCHEMA {live} RENAME TO {old}"),
        format!("ALTER SCHEMA {fresh} RENAME TO {live}"),
        format!("DROP SCHEMA {old} CASCADE"),
    ] {
        sqlx::query(&statement)
            .execute(&mut *tx)
            .await
            .in_projection(name)?;
    }
    checkpoint::write(&mut tx, name, done)
        .await
        .in_projection(name)?;
    sqlx::query("DELETE FROM public.projection_checkpoints WHERE name = $1")
        .bind(&fresh_checkpoint)
        .execute(&mut *tx)
        .await
        .in_projection(name)?;
    // The rebuilt read model's parked events replace the old one's.
    sqlx::query("DELETE FROM public.projection_parked WHERE projection = $1")
        .bind(name)
        .execute(&mut *tx)
        .await
        .in_projection(name)?;
    sqlx::query("UPDATE public.projection_parked SET projection = $1 WHERE projection = $2")
        .bind(name)
        .bind(&fresh_checkpoint)
        .execute(&mut *tx)
        .await
        .in_projection(name)?;
    tx.commit().await.in_projection(name)?;
    progress(done, target.max(done));
    Ok(RebuildReport {
        projection: name,
        commits: commits_applied,
        last_sequence: done,
    })
}
