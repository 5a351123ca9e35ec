//! SQL for the task queue: enqueue, claim, finish, fail with backoff, retry.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::error::AppError;

/// How long a claimed task is its worker's: past this, a task whose worker
/// died is claimed again.
pub const LEASE_SECONDS: i64 = 300;
/// Attempts before a task is given up as failed (shown in the admin).
pub const MAX_ATTEMPTS: i64 = 10;

/// A task as a worker runs it.
#[derive(Debug, Clone)]
pub struct Task {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    /// This attempt's number, from 1.
    pub attempt: i64,
}

/// A task as the admin lists it.
#[derive(Debug, Clone, Serialize)]
pub struct TaskRow {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub run_at: i64,
    pub updated_at: i64,
}

/// Queues a task to run at `run_at`. With a `unique_key`, queueing the same
/// work again does nothing (and returns `None`).
pub fn enqueue(
    conn: &Connection,
    kind: &str,
    payload: &serde_json::Value,
    run_at: i64,
    unique_key: Option<&str>,
    now: i64,
) -> Result<Option<i64>, AppError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO tasks (kind, payload, run_at, unique_key, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (unique_key) DO NOTHING",
        )?
        .execute(params![kind, payload.to_string(), run_at, unique_key, now])?;
    Ok((inserted == 1).then(|| conn.last_insert_rowid()))
}

/// Claims the next due task for `worker` (in the caller's IMMEDIATE
/// transaction): a queued task whose time has come, or a running one whose
/// lease ran out (its worker died). Mail comes after other work, so a backlog
/// of it never holds up expiry or alerts.
pub fn claim(conn: &Connection, worker: &str, now: i64) -> Result<Option<Task>, AppError> {
    // A task whose worker died on every attempt (one that kills its process,
    // say) is given up rather than taken again forever.
    conn.prepare_cached(
        "UPDATE tasks SET state = 'failed', locked_by = NULL, locked_until = NULL, updated_at = ?1, \
         last_error = 'its worker stopped during the last attempt' \
         WHERE state = 'running' AND locked_until <= ?1 AND attempts >= ?2",
    )?
    .execute(params![now, MAX_ATTEMPTS])?;
    let row = conn
        .prepare_cached(
            "UPDATE tasks SET state = 'running', attempts = attempts + 1, locked_by = ?1, \
             locked_until = ?2 + ?3, updated_at = ?2 \
             WHERE id = (SELECT id FROM ( \
                 SELECT id, kind, run_at AS due FROM tasks WHERE state = 'queued' AND run_at <= ?2 \
                 UNION ALL \
                 SELECT id, kind, locked_until AS due FROM tasks \
                 WHERE state = 'running' AND locked_until <= ?2) \
               ORDER BY kind = 'mail', due, id LIMIT 1) \
             RETURNING id, kind, payload, attempts",
        )?
        .query_row(params![worker, now, LEASE_SECONDS], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get(3)?,
            ))
        })
        .optional()?;
    Ok(row.map(|(id, kind, payload, attempt)| Task {
        id,
        kind,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        attempt,
    }))
}

/// Marks a task done (only while this worker still holds it).
pub fn finish(conn: &Connection, id: i64, worker: &str, now: i64) -> Result<(), AppError> {
    conn.prepare_cached(
        "UPDATE tasks SET state = 'done', last_error = NULL, locked_by = NULL, \
         locked_until = NULL, updated_at = ?3 WHERE id = ?1 AND locked_by = ?2 AND state = 'running'",
    )?
    .execute(params![id, worker, now])?;
    Ok(())
}

/// Seconds to wait before attempt `attempt + 1`: 30 s, 1 min, 2 min, … at
/// most 6 hours.
pub fn backoff(attempt: i64) -> i64 {
    let exp = (attempt - 1).clamp(0, 20) as u32;
    (30i64 << exp).min(6 * 3600)
}

/// Records a failed attempt: queued again after a backoff, or `failed` for
/// good after [`MAX_ATTEMPTS`].
pub fn fail(
    conn: &Connection,
    id: i64,
    worker: &str,
    error: &str,
    now: i64,
) -> Result<(), AppError> {
    let error: String = error.chars().take(2000).collect();
    conn.prepare_cached(
        "UPDATE tasks SET \
           state = CASE WHEN attempts >= ?4 THEN 'failed' ELSE 'queued' END, \
           run_at = ?5 + (CASE WHEN attempts >= 21 THEN 21600 ELSE min(21600, 30 << (attempts - 1)) END), \
           last_error = ?3, locked_by = NULL, locked_until = NULL, updated_at = ?5 \
         WHERE id = ?1 AND locked_by = ?2 AND state = 'running'",
    )?
    .execute(params![id, worker, error, MAX_ATTEMPTS, now])?;
    Ok(())
}

/// Queues a failed task again now, with a fresh count of attempts (admin).
pub fn retry(conn: &Connection, id: i64, now: i64) -> Result<(), AppError> {
    let changed = conn
        .prepare_cached(
            "UPDATE tasks SET state = 'queued', attempts = 0, run_at = ?2, updated_at = ?2 \
             WHERE id = ?1 AND state = 'failed'",
        )?
        .execute(params![id, now])?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Failed tasks, newest first (admin).
pub fn failed(conn: &Connection, limit: i64) -> Result<Vec<TaskRow>, AppError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, state, attempts, last_error, run_at, updated_at FROM tasks \
         WHERE state = 'failed' ORDER BY updated_at DESC, id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(TaskRow {
            id: r.get(0)?,
            kind: r.get(1)?,
            state: r.get(2)?,
            attempts: r.get(3)?,
            last_error: r.get(4)?,
            run_at: r.get(5)?,
            updated_at: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Tasks per state (queue depth, failures), for the admin and metrics.
pub fn counts(conn: &Connection) -> Result<Vec<(String, i64)>, AppError> {
    let mut stmt =
        conn.prepare_cached("SELECT state, count(*) FROM tasks GROUP BY state ORDER BY state")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When the next task falls due (queued, or a lease running out), if any.
pub fn next_due(conn: &Connection) -> Result<Option<i64>, AppError> {
    Ok(conn
        .prepare_cached(
            "SELECT min(due) FROM ( \
               SELECT min(run_at) AS due FROM tasks WHERE state = 'queued' \
               UNION ALL SELECT min(locked_until) FROM tasks WHERE state = 'running')",
        )?
        .query_row([], |r| r.get(0))?)
}

/// Gives back the tasks `worker` holds, to run again at once (by any
/// worker): its process is stopping and they did not finish in time. The
/// attempt still counts. Returns how many.
pub fn release(conn: &Connection, worker: &str, now: i64) -> Result<usize, AppError> {
    Ok(conn
        .prepare_cached(
            "UPDATE tasks SET state = 'queued', run_at = ?2, locked_by = NULL, \
             locked_until = NULL, updated_at = ?2 WHERE state = 'running' AND locked_by = ?1",
        )?
        .execute(params![worker, now])?)
}

/// Forgets finished tasks older than `before`.
pub fn purge_done(conn: &Connection, before: i64) -> Result<usize, AppError> {
    Ok(conn
        .prepare_cached("DELETE FROM tasks WHERE state = 'done' AND updated_at < ?1")?
        .execute([before])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().expect("open");
        crate::db::migrations::migrate(&mut c).expect("migrate");
        c
    }

    #[test]
    fn a_task_runs_once_then_is_done() {
        let c = db();
        let id = enqueue(&c, "mail", &json!({"n": 1}), 100, None, 90)
            .expect("enqueue")
            .expect("new");
        assert!(claim(&c, "w1", 99).expect("claim").is_none(), "not yet due");
        let t = claim(&c, "w1", 100).expect("claim").expect("due");
        assert_eq!((t.id, t.kind.as_str(), t.attempt), (id, "mail", 1));
        assert_eq!(t.payload["n"], 1);
        assert!(claim(&c, "w2", 101).expect("claim").is_none(), "held by w1");
        finish(&c, id, "w1", 102).expect("finish");
        assert!(claim(&c, "w2", 10_000).expect("claim").is_none(), "done");
    }

    #[test]
    fn other_work_goes_before_mail_and_a_deadly_task_is_given_up() {
        let c = db();
        enqueue(&c, "mail", &json!({}), 0, None, 0).expect("q");
        let expire = enqueue(&c, "expire_jobs", &json!({}), 5, None, 5)
            .expect("q")
            .expect("new");
        assert_eq!(claim(&c, "w", 10).expect("claim").expect("due").id, expire);
        let c = db();
        let id = enqueue(&c, "deadly", &json!({}), 0, None, 0)
            .expect("q")
            .expect("new");
        let mut now = 0;
        for _ in 0..MAX_ATTEMPTS {
            claim(&c, "w", now).expect("claim").expect("taken");
            now += LEASE_SECONDS;
        }
        assert!(claim(&c, "w", now).expect("claim").is_none());
        assert_eq!(failed(&c, 5).expect("failed")[0].id, id);
    }

    #[test]
    fn unique_work_is_queued_once() {
        let c = db();
        assert!(
            enqueue(&c, "k", &json!({}), 0, Some("expire:1"), 0)
                .expect("q")
                .is_some()
        );
        assert!(
            enqueue(&c, "k", &json!({}), 0, Some("expire:1"), 0)
                .expect("q")
                .is_none()
        );
    }

    #[test]
    fn failures_back_off_then_fail_for_good() {
        let c = db();
        let id = enqueue(&c, "mail", &json!({}), 0, None, 0)
            .expect("q")
            .expect("new");
        let mut now = 0;
        for attempt in 1..=MAX_ATTEMPTS {
            let t = claim(&c, "w", now).expect("claim").expect("due");
            assert_eq!(t.attempt, attempt);
            fail(&c, id, "w", "smtp down", now).expect("fail");
            assert!(claim(&c, "w", now).expect("claim").is_none(), "waits");
            now += backoff(attempt);
        }
        let failed = failed(&c, 10).expect("failed");
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].last_error.as_deref(), Some("smtp down"));
        assert!(
            claim(&c, "w", now + 100_000).expect("claim").is_none(),
            "given up"
        );
        retry(&c, id, now).expect("retry");
        assert_eq!(claim(&c, "w", now).expect("claim").expect("due").attempt, 1);
        assert_eq!(backoff(1), 30);
        assert_eq!(backoff(2), 60);
        assert_eq!(backoff(30), 6 * 3600);
    }

    #[test]
    fn a_dead_workers_task_is_claimed_again_after_its_lease() {
        let c = db();
        let id = enqueue(&c, "mail", &json!({}), 0, None, 0)
            .expect("q")
            .expect("new");
        claim(&c, "dead", 10).expect("claim").expect("due");
        assert!(
            claim(&c, "alive", 10 + LEASE_SECONDS - 1)
                .expect("claim")
                .is_none()
        );
        let again = claim(&c, "alive", 10 + LEASE_SECONDS)
            .expect("claim")
            .expect("re-claimed");
        assert_eq!((again.id, again.attempt), (id, 2));
        // The dead worker coming back cannot finish what is no longer its own.
        finish(&c, id, "dead", 20 + LEASE_SECONDS).expect("no-op");
        assert!(
            claim(&c, "x", 11 + LEASE_SECONDS).expect("claim").is_none(),
            "still alive's"
        );
        assert_eq!(next_due(&c).expect("next"), Some(10 + 2 * LEASE_SECONDS));
    }

    #[test]
    fn a_stopping_worker_gives_its_task_back_at_once() {
        let c = db();
        let id = enqueue(&c, "mail", &json!({}), 0, None, 0)
            .expect("q")
            .expect("new");
        let other = enqueue(&c, "mail", &json!({}), 0, None, 0)
            .expect("q")
            .expect("new");
        claim(&c, "stopping", 10).expect("claim").expect("due");
        claim(&c, "busy", 10).expect("claim").expect("due");
        assert_eq!(release(&c, "stopping", 11).expect("release"), 1);
        assert_eq!(release(&c, "stopping", 11).expect("again"), 0);
        // Not after its lease: now, by anyone, and the attempt counted.
        let again = claim(&c, "next", 11).expect("claim").expect("due");
        assert_eq!((again.id, again.attempt), (id, 2));
        // Finishing late changes nothing: the task is no longer its own.
        finish(&c, id, "stopping", 12).expect("no-op");
        let state: String = c
            .query_row("SELECT state FROM tasks WHERE id = ?1", [id], |r| r.get(0))
            .expect("state");
        assert_eq!(state, "running");
        let held: String = c
            .query_row("SELECT locked_by FROM tasks WHERE id = ?1", [other], |r| {
                r.get(0)
            })
            .expect("other");
        assert_eq!(held, "busy", "another worker's task stays its own");
    }
}
