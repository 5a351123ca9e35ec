//! Periodic work. Each schedule's next run is a row in `schedules`; the
//! worker that moves it forward (in an IMMEDIATE transaction) queues that
//! round's task, so two workers never start the same round. To add periodic
//! work, add a line to [`SCHEDULES`] and a handler for its kind in
//! [`super::handlers`].

use rusqlite::{Connection, OptionalExtension, params};

use super::queue;
use crate::error::AppError;

/// A piece of periodic work.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// The row in `schedules` and the task kind it queues.
    pub kind: &'static str,
    /// Seconds between rounds.
    pub every: i64,
}

/// Every schedule of the board.
pub const SCHEDULES: &[Schedule] = &[
    // Published jobs past `expires_at` become `expired` (within a minute).
    Schedule {
        kind: "expire_jobs",
        every: 60,
    },
    // Owners hear three days before a job expires.
    Schedule {
        kind: "remind_expiring",
        every: 600,
    },
    // Expired sessions and tokens, old finished tasks.
    Schedule {
        kind: "purge",
        every: 3600,
    },
    // Job alerts: instant ones well within a minute, digests when due. A
    // round with nothing new published costs one query.
    Schedule {
        kind: "alerts",
        every: 30,
    },
    // Payments unsettled after a few minutes are looked up at Stripe, so a
    // lost webhook never loses a paid job. A round with none costs one query.
    Schedule {
        kind: "reconcile_payments",
        every: 60,
    },
    // `PRAGMA optimize`, as SQLite advises for long-lived connections.
    Schedule {
        kind: "optimize",
        every: 86_400,
    },
];

/// Queues the task of every schedule whose time has come; returns how many.
pub fn tick(conn: &Connection, now: i64) -> Result<usize, AppError> {
    let mut queued = 0;
    for s in SCHEDULES {
        conn.prepare_cached(
            "INSERT INTO schedules (name, next_run) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        )?
        .execute(params![s.kind, now])?;
        let round: Option<i64> = conn
            .prepare_cached(
                "UPDATE schedules SET next_run = ?2 + ?3 WHERE name = ?1 AND next_run <= ?2 \
                 RETURNING next_run",
            )?
            .query_row(params![s.kind, now, s.every], |r| r.get(0))
            .optional()?;
        if let Some(next) = round {
            let key = format!("{}:{}", s.kind, next - s.every);
            if queue::enqueue(conn, s.kind, &serde_json::json!({}), now, Some(&key), now)?.is_some()
            {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// When the next round of any schedule falls due.
pub fn next_run(conn: &Connection) -> Result<Option<i64>, AppError> {
    Ok(conn
        .prepare_cached("SELECT min(next_run) FROM schedules")?
        .query_row([], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_round_is_queued_once() {
        let mut c = Connection::open_in_memory().expect("open");
        crate::db::migrations::migrate(&mut c).expect("migrate");
        assert_eq!(
            tick(&c, 1000).expect("tick"),
            SCHEDULES.len(),
            "all due at first"
        );
        assert_eq!(tick(&c, 1000).expect("tick"), 0, "the same round again");
        assert_eq!(tick(&c, 1029).expect("tick"), 0);
        assert_eq!(tick(&c, 1030).expect("tick"), 1, "alerts every 30 s");
        assert_eq!(
            tick(&c, 1060).expect("tick"),
            3,
            "expire_jobs and reconcile_payments every minute, and alerts"
        );
        assert_eq!(next_run(&c).expect("next"), Some(1090));
    }
}
