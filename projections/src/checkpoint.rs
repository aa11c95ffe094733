//! Checkpoints: the last stream sequence each projection has applied.

use sqlx::PgConnection;

/// Reads a checkpoint (0 when the projection has never run).
pub async fn read(conn: &mut PgConnection, name: &str) -> Result<u64, sqlx::Error> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT last_sequence FROM public.projection_checkpoints WHERE name = $1")
            .bind(name)
            .fetch_optional(conn)
            .await?;
    Ok(row.map_or(0, |(seq,)| seq as u64))
}

/// Sets a checkpoint.
pub async fn write(conn: &mut PgConnection, name: &str, sequence: u64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO public.projection_checkpoints (name, last_sequence, updated_at)
         VALUES ($1, $2, now())
         ON CONFLICT (name) DO UPDATE SET last_sequence = EXCLUDED.last_sequence, updated_at = now()",
    )
    .bind(name)
    .bind(sequence as i64)
    .execute(conn)
    .await?;
    Ok(())
}

/// The transaction-level lock of projection `$1`, taken by every batch and by the rebuild swap.
const LOCK: &str = "pg_advisory_xact_lock(hashtext('pursight.projection.' || $1))";

/// Serialises writers of one projection (live runner batches and the rebuild swap), across
/// processes, for the rest of the transaction.
pub async fn lock(conn: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("SELECT {LOCK}"))
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

/// Starts a batch of projection `name` inside the caller's transaction: takes the projection's
/// lock (as [`lock`]) and points `search_path` at `schema` for the rest of the transaction in
/// one statement, then reads the checkpoint `checkpoint_name`. The read is a statement of its
/// own so that its snapshot is taken after the lock is held (a writer that held it before has
/// committed by then, and is seen).
pub async fn begin_batch(
    conn: &mut PgConnection,
    name: &str,
    schema: &str,
    checkpoint_name: &str,
) -> Result<u64, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {LOCK}, set_config('search_path', $2, true)"
    ))
    .bind(name)
    .bind(schema)
    .execute(&mut *conn)
    .await?;
    read(conn, checkpoint_name).await
}

/// All checkpoints, for consistency reporting.
pub async fn all(pool: &sqlx::PgPool) -> Result<Vec<(String, u64)>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT name, last_sequence FROM public.projection_checkpoints ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(n, s)| (n, s as u64)).collect())
}

/// Waits until every named projection has applied `sequence`, polling the checkpoints, for at
/// most `timeout`. Returns whether they got there (read-your-writes for mutations, catch-up for
/// CLI commands and scans). A projection without a checkpoint has applied nothing yet: it is at
/// sequence 0, so waiting for 0 (an empty stream) returns at once.
pub async fn wait_for(
    pool: &sqlx::PgPool,
    names: &[&str],
    sequence: u64,
    timeout: std::time::Duration,
) -> Result<bool, sqlx::Error> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let checkpoints = all(pool).await?;
        let caught_up = names.iter().all(|name| {
            let applied = checkpoints.iter().find(|(n, _)| n == name).map(|(_, s)| *s);
            applied.unwrap_or(0) >= sequence
        });
        if caught_up {
            return Ok(true);
        }
        if tokio::time::Instant::now() > deadline {
            return Ok(false);
        }
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    }
}
