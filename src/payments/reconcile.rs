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

/// One round of reconciliation; returns how many payments it settled.
pub fn reconcile(state: &State) -> Result<usize, AppError> {
    let Some(stripe) = state.stripe.as_ref() else {
        return Ok(0);
    };
    let now = state.now();
    let due = state
        .db
        .read_blocking(|c| store::due_for_lookup(c, now - LOOKUP_AFTER, ROUND))?;
    let (mut settled, mut failed, mut last_error) = (0, 0, None);
    for payment in due {
        let Some(session_id) = payment.session_id.clone() else {
            let ended = state
                .db
                .write_blocking_durable(move |tx| settle::abandon(tx, &payment, now))?;
            settled += usize::from(ended);
            continue;
        };
        let session = match stripe.retrieve_blocking(&session_id) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(payment = payment.id, error = %e, "reconciliation: lookup failed");
                failed += 1;
                last_error = Some(e.to_string());
                continue;
            }
        };
        let st = state.clone();
        let outcome = state.db.write_blocking_durable(move |tx| {
            let outcome = settle::settle(&st, tx, &session, now)?;
            if matches!(outcome, Settled::Waiting(_)) {
                store::looked_up(tx, payment.id, now)?;
            }
            Ok(outcome)
        })?;
        match outcome {
            Settled::Activated(id) => {
                tracing::warn!(
                    payment = id,
                    "reconciliation settled a paid session whose webhook never came"
                );
                settled += 1;
            }
            Settled::Ended(_) => settled += 1,
            _ => {}
        }
    }
    if settled > 0 {
        state.wake.notify();
    }
    match last_error {
        Some(e) if settled == 0 => Err(AppError::Unavailable(format!(
            "{failed} Stripe lookups failed, the last: {e}"
        ))),
        _ => Ok(settled),
    }
}
