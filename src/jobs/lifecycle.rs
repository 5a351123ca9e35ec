//! A job's life on schedule: owners reminded three days before it expires
//! (expiring itself is one statement, `store::expire_due`).

use minijinja::context;

use super::store;
use crate::error::AppError;
use crate::mail::Email;
use crate::web::State;

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
        let link = state.url("/dashboard");
        let subject = format!("Your job “{title}” expires soon");
        let payload = state.mailer.payload(
            &state.templates,
            &Email {
                to: &email,
                subject: &subject,
                template: "expiry_reminder",
                context: context! {
                    title => &title,
                    expires => crate::clock::human_date(expires_at),
                    link,
                },
            },
            now,
        )?;
        let queued = state.db.write_blocking_quiet(move |tx| {
            let job = store::get(tx, id)?;
            if job.expires_at != Some(expires_at) || job.status != super::model::Status::Published {
                return Ok(false);
            }
            store::mark_reminded(tx, id, expires_at)?;
            crate::mail::queue_payload(tx, &payload, now)?;
            Ok(true)
        })?;
        if queued {
            sent += 1;
        }
    }
    Ok(sent)
}
