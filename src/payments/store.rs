//! The `payments` and `stripe_events` tables.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Payment, PaymentStatus, Purchase, Purpose};
use crate::error::AppError;

const COLUMNS: &str = "id, job_id, user_id, purpose, featured, amount_cents, currency, status, \
     session_id, checkout_url, session_expires_at, payment_intent_id, customer_id, error, \
     created_at, updated_at, paid_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Payment> {
    let text = |i: usize, s: String| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unknown value {s:?}").into(),
        )
    };
    let purpose: String = r.get(3)?;
    let status: String = r.get(7)?;
    Ok(Payment {
        id: r.get(0)?,
        job_id: r.get(1)?,
        user_id: r.get(2)?,
        purpose: Purpose::parse(&purpose).ok_or_else(|| text(3, purpose.clone()))?,
        featured: r.get(4)?,
        amount_cents: r.get(5)?,
        currency: r.get(6)?,
        status: PaymentStatus::parse(&status).ok_or_else(|| text(7, status.clone()))?,
        session_id: r.get(8)?,
        checkout_url: r.get(9)?,
        session_expires_at: r.get(10)?,
        payment_intent_id: r.get(11)?,
        customer_id: r.get(12)?,
        error: r.get(13)?,
        created_at: r.get(14)?,
        updated_at: r.get(15)?,
        paid_at: r.get(16)?,
    })
}

fn one(
    conn: &Connection,
    filter: &str,
    value: impl rusqlite::ToSql,
) -> Result<Option<Payment>, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE {filter}");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([value], from_row)
        .optional()?)
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<Payment>, AppError> {
    one(conn, "id = ?1", id)
}

pub fn by_session(conn: &Connection, session_id: &str) -> Result<Option<Payment>, AppError> {
    one(conn, "session_id = ?1", session_id)
}

/// The payment under way for a job (`creating` or `open`), if any.
pub fn unsettled_for_job(conn: &Connection, job_id: i64) -> Result<Option<Payment>, AppError> {
    one(
        conn,
        "job_id = ?1 AND status IN ('creating', 'open')",
        job_id,
    )
}

/// The newest payment for a job.
pub fn latest_for_job(conn: &Connection, job_id: i64) -> Result<Option<Payment>, AppError> {
    one(conn, "job_id = ?1 ORDER BY id DESC LIMIT 1", job_id)
}

/// Writes the row for a purchase about to be started; `None` when another
/// payment for the job is already under way (the unique index decides, so
/// two clicks at once cannot both start one).
pub fn insert(
    conn: &Connection,
    job_id: i64,
    user_id: i64,
    purchase: Purchase,
    amount_cents: u64,
    currency: &str,
    now: i64,
) -> Result<Option<i64>, AppError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO payments (job_id, user_id, purpose, featured, amount_cents, currency, \
             status, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'creating', ?7, ?7) \
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            job_id,
            user_id,
            purchase.purpose.as_str(),
            purchase.featured,
            amount_cents as i64,
            currency,
            now
        ])?;
    Ok((inserted == 1).then(|| conn.last_insert_rowid()))
}

/// Records the Checkout Session Stripe made for a `creating` row.
pub fn opened(
    conn: &Connection,
    id: i64,
    session_id: &str,
    url: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool, AppError> {
    let changed = conn
        .prepare_cached(
            "UPDATE payments SET status = 'open', session_id = ?2, checkout_url = ?3, \
             session_expires_at = ?4, updated_at = ?5 WHERE id = ?1 AND status = 'creating'",
        )?
        .execute(params![id, session_id, url, expires_at, now])?;
    Ok(changed == 1)
}

/// Ends an unsettled payment unpaid (`expired` or `failed`, with why);
/// returns whether it was unsettled.
pub fn end_unpaid(
    conn: &Connection,
    id: i64,
    status: PaymentStatus,
    error: Option<&str>,
    now: i64,
) -> Result<bool, AppError> {
    let changed = conn
        .prepare_cached(
            "UPDATE payments SET status = ?2, error = coalesce(?3, error), updated_at = ?4 \
             WHERE id = ?1 AND status IN ('creating', 'open')",
        )?
        .execute(params![id, status.as_str(), error, now])?;
    Ok(changed == 1)
}

/// Whether a job's post was paid for.
pub fn has_paid_post(conn: &Connection, job_id: i64) -> Result<bool, AppError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM payments WHERE job_id = ?1 AND purpose = 'post' \
             AND status = 'paid')",
        )?
        .query_row([job_id], |r| r.get(0))?)
}

/// Notes on a paid payment what could not be delivered (for the admin).
pub fn note(conn: &Connection, id: i64, note: &str, now: i64) -> Result<(), AppError> {
    conn.prepare_cached("UPDATE payments SET error = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, note, now])?;
    Ok(())
}

/// What Stripe says was paid.
#[derive(Debug, Clone, Default)]
pub struct Paid<'a> {
    pub session_id: &'a str,
    pub amount_cents: Option<i64>,
    pub currency: Option<&'a str>,
    pub payment_intent_id: Option<&'a str>,
    pub customer_id: Option<&'a str>,
}

/// Marks a payment paid; returns whether this call did it (false when it
/// already was). The only way a row becomes `paid`.
pub fn mark_paid(conn: &Connection, id: i64, paid: &Paid<'_>, now: i64) -> Result<bool, AppError> {
    let changed = conn
        .prepare_cached(
            "UPDATE payments SET status = 'paid', session_id = ?2, \
             amount_cents = coalesce(?3, amount_cents), currency = coalesce(?4, currency), \
             payment_intent_id = ?5, customer_id = ?6, paid_at = ?7, updated_at = ?7 \
             WHERE id = ?1 AND status <> 'paid'",
        )?
        .execute(params![
            id,
            paid.session_id,
            paid.amount_cents,
            paid.currency,
            paid.payment_intent_id,
            paid.customer_id,
            now
        ])?;
    Ok(changed == 1)
}

/// Unsettled payments to look up at Stripe: started before `cutoff` and not
/// looked up since, the least recently looked up first.
pub fn due_for_lookup(
    conn: &Connection,
    cutoff: i64,
    limit: usize,
) -> Result<Vec<Payment>, AppError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM payments WHERE status IN ('creating', 'open') \
         AND created_at < ?1 AND coalesce(checked_at, 0) < ?1 \
         ORDER BY coalesce(checked_at, 0), created_at LIMIT ?2"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![cutoff, limit as i64], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// When a payment was last looked up at Stripe.
pub fn checked_at(conn: &Connection, id: i64) -> Result<Option<i64>, AppError> {
    Ok(conn
        .prepare_cached("SELECT checked_at FROM payments WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten())
}

/// Notes that an unsettled payment was just looked up (the next lookup
/// waits, and others go first).
pub fn looked_up(conn: &Connection, id: i64, now: i64) -> Result<(), AppError> {
    conn.prepare_cached("UPDATE payments SET checked_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}

/// A user's payments, newest first.
pub fn for_user(conn: &Connection, user_id: i64) -> Result<Vec<Payment>, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE user_id = ?1 ORDER BY id DESC");
    let rows = conn
        .prepare_cached(&sql)?
        .query_map([user_id], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The newest payments of the board, optionally of one status.
pub fn recent(
    conn: &Connection,
    status: Option<PaymentStatus>,
    limit: usize,
) -> Result<Vec<Payment>, AppError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM payments WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC LIMIT ?2"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![status.map(|s| s.as_str()), limit as i64], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Money received: (currency, count, cents) per currency of paid payments
/// since `since`.
pub fn totals(conn: &Connection, since: i64) -> Result<Vec<(String, i64, i64)>, AppError> {
    let rows = conn
        .prepare_cached(
            "SELECT currency, count(*), sum(amount_cents) FROM payments \
             WHERE status = 'paid' AND paid_at >= ?1 GROUP BY currency ORDER BY currency",
        )?
        .query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Keeps a signed event by its id; false when it was already kept.
pub fn keep_event(
    conn: &Connection,
    id: &str,
    kind: &str,
    payload: &str,
    now: i64,
) -> Result<bool, AppError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO stripe_events (id, type, received_at, payload) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![id, kind, now, payload])?;
    Ok(inserted == 1)
}

/// A kept event's payload.
pub fn event_payload(conn: &Connection, id: &str) -> Result<Option<String>, AppError> {
    Ok(conn
        .prepare_cached("SELECT payload FROM stripe_events WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}
