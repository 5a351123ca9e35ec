//! The search queue: a row per changed job, written in the same transaction as
//! the change, drained by the indexer in `serve`. The index's commit records the
//! last row it applied, so after a crash it replays what it missed.

use rusqlite::{Connection, params};

use crate::error::AppError;

/// Queues a job for (re)indexing.
pub fn enqueue(conn: &Connection, job_id: i64, now: i64) -> Result<(), AppError> {
    conn.prepare_cached("INSERT INTO search_queue (job_id, queued_at) VALUES (?1, ?2)")?
        .execute(params![job_id, now])?;
    Ok(())
}

/// Up to `limit` rows after `after`: `(row id, job id)`, oldest first.
pub fn after(conn: &Connection, after: i64, limit: i64) -> Result<Vec<(i64, i64)>, AppError> {
    let mut stmt = conn
        .prepare_cached("SELECT id, job_id FROM search_queue WHERE id > ?1 ORDER BY id LIMIT ?2")?;
    let rows = stmt.query_map(params![after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many rows wait after `after`.
pub fn backlog(conn: &Connection, after: i64) -> Result<i64, AppError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM search_queue WHERE id > ?1")?
        .query_row([after], |r| r.get(0))?)
}

/// The newest row's id (0 when empty).
pub fn last_id(conn: &Connection) -> Result<i64, AppError> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(id), 0) FROM search_queue")?
        .query_row([], |r| r.get(0))?)
}

/// Removes applied rows older than `before` (kept a while so that an index
/// rebuilt beside the live one can replay what changed during its build).
pub fn prune(conn: &Connection, applied: i64, before: i64) -> Result<usize, AppError> {
    Ok(conn
        .prepare_cached("DELETE FROM search_queue WHERE id <= ?1 AND queued_at < ?2")?
        .execute(params![applied, before])?)
}
