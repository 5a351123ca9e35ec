//! A job's life on schedule: owners reminded three days before it expires
//! (expiring itself is one statement, `store::expire_due`).

use minijinja::context;

use super::store;
use crate::error::AppError;
use crate::mail::Email;
use crate::web::State;

/// Queues one reminder unless it went already; whether it was queued.
fn remind_one(
    state: &State,
    id: i64,
    email: &str,
    title: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool, AppError> {
    let link = state.url("/dashboard");
    let subject = format!("Your job “{title}” expires soon");
    let payload = state.mailer.payload(
        &state.templates,
        &Email {
            to: email,
            subject: &subject,
            template: "expiry_reminder",
            context: context! {
                title,
                expires => crate::clock::human_date(expires_at),
                link,
            },
        },
        now,
    )?;
    state.db.write_blocking_quiet(move |tx| {
        // Only the run that marks it sends it, however many overlap.
        if !store::mark_reminded(tx, id, expires_at)? {
            return Ok(false);
        }
        crate::mail::queue_payload(tx, &payload, now)?;
        Ok(true)
    })
}

/// How long before expiry owners are reminded.
pub const REMIND_BEFORE: i64 = 3 * 86_400;

/// Queues a reminder for every owner whose job expires within three days and
/// who has not been told of this expiry date; returns how many. The mail and
/// the note that it was sent share a transaction, so each expiry date gets one
/// reminder however often this runs.
pub fn remind_expiring(state: &State, now: i64) -> Result<usize, AppError> {
    let due = state
        .db
        .read_blocking(move |c| store::expiring_unreminded(c, now, REMIND_BEFORE))?;
    let mut sent = 0;
    for (id, email, title, expires_at) in due {
        // One job's trouble (an address the mailer refuses) must not keep
        // the others' owners from hearing.
        match remind_one(state, id, &email, &title, expires_at, now) {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(job = id, error = %e, "could not remind a job's owner"),
        }
    }
    Ok(sent)
}
