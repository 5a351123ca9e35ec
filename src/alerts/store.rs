//! The SQL of job alerts: plain functions over a connection.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::AppError;

/// How often an alert mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Instant,
    Daily,
    Weekly,
}

impl Frequency {
    /// Every frequency, in the order forms show them.
    pub const ALL: [Frequency; 3] = [Frequency::Instant, Frequency::Daily, Frequency::Weekly];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Instant => "instant",
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Frequency::Instant => "As soon as a job is posted",
            Frequency::Daily => "Once a day",
            Frequency::Weekly => "Once a week",
        }
    }

    /// Reads a stored or posted name.
    pub fn parse(s: &str) -> Option<Frequency> {
        Frequency::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Seconds between two digests (0: every round).
    pub fn period(self) -> i64 {
        match self {
            Frequency::Instant => 0,
            Frequency::Daily => 86_400,
            Frequency::Weekly => 7 * 86_400,
        }
    }
}

/// One alert.
#[derive(Debug, Clone)]
pub struct Alert {
    pub id: i64,
    pub email: String,
    /// The search as a query string (SPEC §6).
    pub query: String,
    pub frequency: Frequency,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub unsubscribed_at: Option<i64>,
    /// Jobs published after this are new to it.
    pub since: i64,
    /// When its matches were last looked for.
    pub last_round_at: Option<i64>,
    pub last_sent_at: Option<i64>,
}

const COLUMNS: &str = "id, email, query, frequency, created_at, confirmed_at, unsubscribed_at, \
                       since, last_round_at, last_sent_at";

fn alert(r: &Row<'_>) -> rusqlite::Result<Alert> {
    let frequency: String = r.get(3)?;
    Ok(Alert {
        id: r.get(0)?,
        email: r.get(1)?,
        query: r.get(2)?,
        frequency: Frequency::parse(&frequency).unwrap_or(Frequency::Daily),
        created_at: r.get(4)?,
        confirmed_at: r.get(5)?,
        unsubscribed_at: r.get(6)?,
        since: r.get(7)?,
        last_round_at: r.get(8)?,
        last_sent_at: r.get(9)?,
    })
}

/// A new unconfirmed alert, or the same search of the same address that is
/// still subscribed (an unconfirmed one takes the new frequency). Its id.
pub fn subscribe(
    conn: &Connection,
    email: &str,
    query: &str,
    frequency: Frequency,
    now: i64,
) -> Result<i64, AppError> {
    let existing: Option<(i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT id, confirmed_at FROM alerts \
             WHERE email = ?1 AND query = ?2 AND unsubscribed_at IS NULL ORDER BY id LIMIT 1",
        )?
        .query_row(params![email, query], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match existing {
        Some((id, None)) => {
            conn.prepare_cached("UPDATE alerts SET frequency = ?2 WHERE id = ?1")?
                .execute(params![id, frequency.as_str()])?;
            Ok(id)
        }
        Some((id, Some(_))) => Ok(id),
        None => {
            conn.prepare_cached(
                "INSERT INTO alerts (email, query, frequency, created_at, since) \
                 VALUES (?1, ?2, ?3, ?4, ?4)",
            )?
            .execute(params![email, query, frequency.as_str(), now])?;
            Ok(conn.last_insert_rowid())
        }
    }
}

/// One alert, if it exists.
pub fn get(conn: &Connection, id: i64) -> Result<Option<Alert>, AppError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"))?
        .query_row([id], alert)
        .optional()?)
}

/// Every still-subscribed alert of an address, oldest first.
pub fn of_email(conn: &Connection, email: &str) -> Result<Vec<Alert>, AppError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM alerts WHERE email = ?1 AND unsubscribed_at IS NULL ORDER BY id"
    ))?;
    let rows = stmt.query_map([email], alert)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Confirms a subscribed alert (a second time changes nothing); whether it
/// is confirmed now.
pub fn confirm(conn: &Connection, id: i64, now: i64) -> Result<bool, AppError> {
    conn.prepare_cached(
        "UPDATE alerts SET confirmed_at = ?2 \
         WHERE id = ?1 AND confirmed_at IS NULL AND unsubscribed_at IS NULL",
    )?
    .execute(params![id, now])?;
    Ok(get(conn, id)?.is_some_and(|a| a.confirmed_at.is_some() && a.unsubscribed_at.is_none()))
}

/// Unsubscribes an alert (a second time changes nothing).
pub fn unsubscribe(conn: &Connection, id: i64, now: i64) -> Result<(), AppError> {
    conn.prepare_cached(
        "UPDATE alerts SET unsubscribed_at = ?2 WHERE id = ?1 AND unsubscribed_at IS NULL",
    )?
    .execute(params![id, now])?;
    Ok(())
}

/// Changes how often a subscribed alert mails.
pub fn set_frequency(conn: &Connection, id: i64, frequency: Frequency) -> Result<(), AppError> {
    conn.prepare_cached(
        "UPDATE alerts SET frequency = ?2 WHERE id = ?1 AND unsubscribed_at IS NULL",
    )?
    .execute(params![id, frequency.as_str()])?;
    Ok(())
}

/// Confirmed, subscribed alerts whose round has come: instant ones every
/// time, digests a day or a week after their last round (or their start).
pub fn due(conn: &Connection, now: i64) -> Result<Vec<Alert>, AppError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM alerts \
         WHERE confirmed_at IS NOT NULL AND unsubscribed_at IS NULL AND ( \
           frequency = 'instant' \
           OR (frequency = 'daily' AND coalesce(last_round_at, since) <= ?1 - 86400) \
           OR (frequency = 'weekly' AND coalesce(last_round_at, since) <= ?1 - 604800)) \
         ORDER BY id"
    ))?;
    let rows = stmt.query_map([now], alert)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether a job was already sent to an alert.
pub fn delivered(conn: &Connection, alert_id: i64, job_id: i64) -> Result<bool, AppError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM alert_deliveries WHERE alert_id = ?1 AND job_id = ?2")?
        .query_row(params![alert_id, job_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Closes an alert's round: records the jobs sent (none for an empty
/// digest round). Only when the alert is still subscribed and its round is
/// still the one `previous` read, so a round run twice sends once; whether
/// it closed it.
pub fn close_round(
    conn: &Connection,
    id: i64,
    previous: Option<i64>,
    job_ids: &[i64],
    now: i64,
) -> Result<bool, AppError> {
    let sent = if job_ids.is_empty() { None } else { Some(now) };
    let changed = conn
        .prepare_cached(
            "UPDATE alerts SET last_round_at = ?3, last_sent_at = coalesce(?4, last_sent_at) \
             WHERE id = ?1 AND last_round_at IS ?2 AND unsubscribed_at IS NULL \
               AND confirmed_at IS NOT NULL",
        )?
        .execute(params![id, previous, now, sent])?;
    if changed == 0 {
        return Ok(false);
    }
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO alert_deliveries (alert_id, job_id, sent_at) VALUES (?1, ?2, ?3)",
    )?;
    for job in job_ids {
        insert.execute(params![id, job, now])?;
    }
    Ok(true)
}

/// When the newest public job was published (to tell whether any alert has
/// anything new to look for).
pub fn newest_public(conn: &Connection) -> Result<Option<i64>, AppError> {
    Ok(conn
        .prepare_cached(
            "SELECT max(published_at) FROM jobs INDEXED BY jobs_listing \
             WHERE status = 'published' AND deleted_at IS NULL AND hidden = 0",
        )?
        .query_row([], |r| r.get(0))?)
}

/// Forgets alerts never confirmed within a week, and alerts unsubscribed a
/// month ago (their deliveries go with them); returns how many.
pub fn purge(conn: &Connection, now: i64) -> Result<usize, AppError> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM alerts WHERE (confirmed_at IS NULL AND created_at < ?1 - 7 * 86400) \
             OR unsubscribed_at < ?1 - 30 * 86400",
        )?
        .execute([now])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().expect("open");
        crate::db::migrations::migrate(&mut c).expect("migrate");
        c
    }

    #[test]
    fn the_same_search_is_one_alert_until_unsubscribed() {
        let c = db();
        let a = subscribe(&c, "a@example.com", "q=rust", Frequency::Daily, 10).expect("new");
        let b = subscribe(&c, "A@example.com", "q=rust", Frequency::Weekly, 20).expect("same");
        assert_eq!(a, b);
        let alert = get(&c, a).expect("get").expect("exists");
        assert_eq!(alert.frequency, Frequency::Weekly);
        unsubscribe(&c, a, 30).expect("unsubscribe");
        let c2 = subscribe(&c, "a@example.com", "q=rust", Frequency::Daily, 40).expect("new");
        assert_ne!(a, c2);
    }

    #[test]
    fn digests_fall_due_after_their_period() {
        let c = db();
        let id = subscribe(&c, "a@example.com", "", Frequency::Daily, 1000).expect("new");
        assert!(
            due(&c, 1000 + 86_400).expect("due").is_empty(),
            "unconfirmed"
        );
        assert!(confirm(&c, id, 1001).expect("confirm"));
        assert!(due(&c, 1000 + 86_399).expect("due").is_empty());
        assert_eq!(due(&c, 1000 + 86_400).expect("due").len(), 1);
        assert!(close_round(&c, id, None, &[7], 90_000).expect("close"));
        assert!(
            !close_round(&c, id, None, &[7], 90_000).expect("again"),
            "a round closes once"
        );
        assert!(delivered(&c, id, 7).expect("delivered"));
        assert!(due(&c, 90_000 + 86_399).expect("due").is_empty());
    }
}
