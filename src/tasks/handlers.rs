//! What each kind of task does. Every handler may run more than once for the
//! same task (a worker can die after the work and before marking it done), so
//! each is written to change nothing the second time.

use serde_json::Value;

use super::queue::Task;
use crate::jobs::store as jobs;
use crate::web::State;

/// Runs one task; the error is recorded on the task and it is retried.
pub fn run(state: &State, task: &Task) -> Result<(), String> {
    let now = state.now();
    let text = |e: crate::error::AppError| e.to_string();
    match task.kind.as_str() {
        "mail" => deliver(state, task),
        "expire_jobs" => {
            let expired = state
                .db
                .write_blocking(move |tx| jobs::expire_due(tx, now))
                .map_err(text)?;
            if expired > 0 {
                tracing::info!(expired, "jobs expired");
            }
            Ok(())
        }
        "remind_expiring" => {
            let reminded = crate::jobs::lifecycle::remind_expiring(state, now).map_err(text)?;
            if reminded > 0 {
                tracing::info!(reminded, "owners reminded of expiring jobs");
            }
            Ok(())
        }
        "purge" => state
            .db
            .write_blocking_quiet(move |tx| {
                crate::accounts::store::purge_expired(tx, now)?;
                crate::alerts::store::purge(tx, now)?;
                super::queue::purge_done(tx, now - 7 * 86_400)?;
                // Stripe resends an event for three days at most.
                tx.execute(
                    "DELETE FROM stripe_events WHERE received_at < ?1",
                    [now - 90 * 86_400],
                )?;
                Ok(())
            })
            .map_err(text),
        "alerts" => crate::alerts::send::send_due(state, now)
            .map(|_| ())
            .map_err(text),
        "stripe_event" => {
            let event = task
                .payload
                .get("event")
                .and_then(Value::as_str)
                .ok_or("the task names no event")?;
            crate::payments::reconcile::handle_event(state, event).map_err(text)
        }
        "reconcile_payments" => crate::payments::reconcile::reconcile(state)
            .map(|_| ())
            .map_err(text),
        "optimize" => state
            .db
            .write_blocking_quiet(|tx| Ok(tx.execute_batch("PRAGMA optimize")?))
            .map_err(text),
        other => Err(format!("no handler for tasks of kind {other:?}")),
    }
}

/// Hands a queued email to the transport. The outbox file is named by the
/// task, so a second run rewrites the same file.
fn deliver(state: &State, task: &Task) -> Result<(), String> {
    let field = |name: &str| {
        task.payload
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the mail task has no {name}"))
    };
    let delivered = state
        .mailer
        .deliver(task.id, field("to")?, field("subject")?, field("eml")?);
    state.metrics.mail(delivered.is_ok());
    delivered
}
