//! The background side of payments: settling a stored webhook event, and
//! reconciliation, which looks up every session still unsettled after a few
//! minutes so that a lost webhook never loses a paid job.

use serde_json::Value;

use super::settle::{self, Settled};
use super::stripe::Session;
use super::{PaymentStatus, store};
use crate::error::AppError;
use crate::web::State;

/// A payment unsettled for this long is looked up at Stripe, and again
/// after as long each time the answer is "not yet".
pub const LOOKUP_AFTER: i64 = 300;
/// Lookups in one round at most.
const ROUND: usize = 50;
/// How long one round may take.
const ROUND_BUDGET: std::time::Duration = std::time::Duration::from_secs(30);

/// Settles the payment a stored event tells of (task `stripe_event`).
pub fn handle_event(state: &State, event_id: &str) -> Result<(), AppError> {
    let id = event_id.to_string();
    let Some(payload) = state.db.read_blocking(|c| store::event_payload(c, &id))? else {
        return Err(AppError::internal(format!("no stored event {event_id}")));
    };
    let event: Value = serde_json::from_str(&payload)
        .map_err(|e| AppError::internal(format!("event {event_id} is not JSON: {e}")))?;
    let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
    let Some(session) = event
        .pointer("/data/object")
        .filter(|o| o.get("object").and_then(Value::as_str) == Some("checkout.session"))
        .and_then(Session::from_json)
    else {
        tracing::warn!(
            event = event_id,
            kind,
            "an event without a Checkout Session was ignored"
        );
        return Ok(());
    };
    let (st, now, failed) = (
        state.clone(),
        state.now(),
        kind == "checkout.session.async_payment_failed",
    );
    let settled = state.db.write_blocking_durable(move |tx| {
        if failed {
            let Some(p) = store::by_session(tx, &session.id)? else {
                return Ok(Settled::Unknown);
            };
            settle::end(
                tx,
                &p,
                PaymentStatus::Failed,
                Some("the payment failed"),
                now,
            )?;
            return Ok(Settled::Ended(p.id));
        }
        settle::settle(&st, tx, &session, now)
    })?;
    tracing::info!(event = event_id, kind, ?settled, "Stripe event settled");
    Ok(())
}

/// One round of reconciliation; returns how many payments it settled. A
/// round stops after [`ROUND_BUDGET`] so a slow Stripe cannot hold up the
/// worker; what is left waits for the next round, least recently looked up
/// first. A lookup that fails is logged and tried again later.
pub fn reconcile(state: &State) -> Result<usize, AppError> {
    let Some(stripe) = state.stripe.as_ref() else {
        return Ok(0);
    };
    let started = std::time::Instant::now();
    let now = state.now();
    let due = state
        .db
        .read_blocking(|c| store::due_for_lookup(c, now - LOOKUP_AFTER, ROUND))?;
    let mut settled = 0;
    for payment in due {
        if started.elapsed() > ROUND_BUDGET {
            break;
        }
        let id = payment.id;
        let outcome = match payment.session_id.clone() {
            None => state
                .db
                .write_blocking_durable(move |tx| settle::abandon(tx, &payment, now))
                .map(|ended| ended.then_some(Settled::Ended(id))),
            Some(session_id) => match stripe.retrieve_blocking(&session_id) {
                Ok(session) => {
                    let st = state.clone();
                    state.db.write_blocking_durable(move |tx| {
                        let outcome = settle::settle(&st, tx, &session, now)?;
                        store::looked_up(tx, id, now)?;
                        Ok(Some(outcome))
                    })
                }
                Err(e) => {
                    tracing::warn!(payment = id, error = %e, "reconciliation: lookup failed");
                    state
                        .db
                        .write_blocking_quiet(move |tx| store::looked_up(tx, id, now))
                        .map(|()| None)
                }
            },
        };
        match outcome {
            Ok(Some(Settled::Activated(id))) => {
                tracing::warn!(
                    payment = id,
                    "reconciliation settled a paid session whose webhook never came"
                );
                settled += 1;
            }
            Ok(Some(Settled::Ended(_))) => settled += 1,
            Ok(_) => {}
            Err(e) => tracing::error!(payment = id, error = %e, "reconciliation: cannot settle"),
        }
    }
    if settled > 0 {
        state.wake.notify();
    }
    Ok(settled)
}
