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
/// The newest row always stays: SQLite gives a new row the largest id plus
/// one, so an empty table would start again from 1, below the indexer's
/// watermark, and the next change would never reach search.
pub fn prune(conn: &Connection, applied: i64, before: i64) -> Result<usize, AppError> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM search_queue WHERE id <= ?1 AND queued_at < ?2 \
             AND id < (SELECT max(id) FROM search_queue)",
        )?
        .execute(params![applied, before])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_ids_only_grow_even_after_pruning_everything() {
        let mut c = Connection::open_in_memory().expect("open");
        crate::db::migrations::migrate(&mut c).expect("migrate");
        for job in 1..=3 {
            enqueue(&c, job, 0).expect("enqueue");
        }
        let applied = last_id(&c).expect("last");
        prune(&c, applied, 100).expect("prune");
        // The indexer remembers `applied`: a new row must come after it.
        enqueue(&c, 9, 200).expect("enqueue");
        assert_eq!(
            after(&c, applied, 10).expect("after"),
            vec![(applied + 1, 9)]
        );
    }
}
