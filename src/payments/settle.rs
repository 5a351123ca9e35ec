//! Settling a Checkout Session: the one place a payment becomes `paid` (and
//! its job is activated and its receipt queued, in the same transaction), or
//! ends unpaid (and a post waiting for it goes back to draft).
//!
//! Every road calls this: the webhook's task, the success redirect and
//! reconciliation, in any order and any number of times. The `UPDATE … WHERE
//! status <> 'paid'` in [`store::mark_paid`] lets exactly one of them
//! activate; the others find the row paid and change nothing.

use rusqlite::Connection;

use super::stripe::{Session, SessionState};
use super::{Payment, PaymentStatus, Purpose, store};
use crate::error::AppError;
use crate::jobs::model::Status;
use crate::jobs::owned;
use crate::jobs::store as jobs;
use crate::web::State;

/// What settling did.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    /// Paid just now: the job was activated and the receipt queued.
    Activated(i64),
    /// Paid before: nothing changed.
    AlreadyPaid(i64),
    /// Ended unpaid just now (or before).
    Ended(i64),
    /// Not settled yet (open, or paid by a method that confirms later).
    Waiting(i64),
    /// No payment of this board matches the session.
    Unknown,
}

/// The payment a session belongs to: by its id, or (when the row never
/// learnt it, say a crash right after Stripe made it) by the row the session
/// names, provided that row has no session and the session names its job.
fn find(tx: &Connection, session: &Session) -> Result<Option<Payment>, AppError> {
    if let Some(p) = store::by_session(tx, &session.id)? {
        return Ok(Some(p));
    }
    let Some(id) = session.payment_id else {
        return Ok(None);
    };
    Ok(store::by_id(tx, id)?.filter(|p| {
        p.session_id.is_none()
            && matches!(p.status, PaymentStatus::Creating | PaymentStatus::Failed)
            && session.job_id == Some(p.job_id)
    }))
}

/// Settles the payment of `session` from what Stripe says of it.
pub fn settle(
    st: &State,
    tx: &Connection,
    session: &Session,
    now: i64,
) -> Result<Settled, AppError> {
    let Some(payment) = find(tx, session)? else {
        tracing::warn!(session = %session.id, "a Checkout Session of no payment of this board");
        return Ok(Settled::Unknown);
    };
    match session.state {
        SessionState::Complete if session.paid => {
            let paid = store::Paid {
                session_id: &session.id,
                amount_cents: session.amount_total,
                currency: session.currency.as_deref(),
                payment_intent_id: session.payment_intent.as_deref(),
                customer_id: session.customer.as_deref(),
            };
            if !store::mark_paid(tx, payment.id, &paid, now)? {
                return Ok(Settled::AlreadyPaid(payment.id));
            }
            let asked = (payment.amount_cents, payment.currency.clone());
            let payment = store::by_id(tx, payment.id)?.ok_or(AppError::NotFound)?;
            if payment.amount_cents < asked.0 || payment.currency != asked.1 {
                // Money was taken, but not what this board asked for.
                tracing::error!(payment = payment.id, "paid amount differs from the price");
                let note = format!(
                    "paid {}, asked {}: not delivered; deliver by hand or refund in Stripe",
                    super::amount_text(payment.amount_cents, &payment.currency),
                    super::amount_text(asked.0, &asked.1)
                );
                store::note(tx, payment.id, &note, now)?;
            } else {
                activate(st, tx, &payment, now)?;
            }
            queue_receipt(st, tx, &payment, now)?;
            tracing::info!(
                payment = payment.id,
                job = payment.job_id,
                purpose = payment.purpose.as_str(),
                "payment received"
            );
            Ok(Settled::Activated(payment.id))
        }
        SessionState::Expired => {
            end(tx, &payment, PaymentStatus::Expired, None, now)?;
            Ok(Settled::Ended(payment.id))
        }
        SessionState::Gone => {
            let why = "Stripe does not know this Checkout Session (another key or mode?)";
            end(tx, &payment, PaymentStatus::Failed, Some(why), now)?;
            Ok(Settled::Ended(payment.id))
        }
        _ => Ok(Settled::Waiting(payment.id)),
    }
}

/// Ends a payment unpaid (a failed delayed payment, an expired session, a
/// session Stripe never made): a post waiting for it goes back to draft.
/// A payment already paid stays paid.
pub fn end(
    tx: &Connection,
    payment: &Payment,
    status: PaymentStatus,
    error: Option<&str>,
    now: i64,
) -> Result<bool, AppError> {
    if !store::end_unpaid(tx, payment.id, status, error, now)? {
        return Ok(false);
    }
    if payment.purpose == Purpose::Post {
        if let Ok(job) = jobs::get(tx, payment.job_id) {
            if job.status == Status::PendingPayment {
                jobs::set_placement(tx, job.id, owned::draft_placement(), now)?;
            }
        }
    }
    Ok(true)
}

/// Ends a payment Stripe never made a session for (it failed, or the
/// process died mid-call). Should Stripe have made one after all, its
/// webhook still finds the row by id and a payment is honoured.
pub fn abandon(tx: &Connection, payment: &Payment, now: i64) -> Result<bool, AppError> {
    end(
        tx,
        payment,
        PaymentStatus::Failed,
        Some("no Checkout Session was made"),
        now,
    )
}

/// Gives the job what was paid for. What cannot be given (the job was
/// deleted, rejected or filled meanwhile) is noted on the payment for the
/// admin, who refunds it in Stripe.
fn activate(st: &State, tx: &Connection, payment: &Payment, now: i64) -> Result<(), AppError> {
    let undelivered = |why: String| -> Result<(), AppError> {
        tracing::warn!(payment = payment.id, job = payment.job_id, %why, "a payment could not be delivered");
        store::note(
            tx,
            payment.id,
            &format!("not delivered: {why}; refund in Stripe"),
            now,
        )
    };
    let job = match jobs::get(tx, payment.job_id) {
        Ok(job) => job,
        Err(AppError::NotFound) => return undelivered("the job was deleted".into()),
        Err(e) => return Err(e),
    };
    let config = &st.config;
    let status = job.status;
    match payment.purpose {
        Purpose::Post => match status {
            Status::Draft | Status::PendingPayment => {
                jobs::set_placement(tx, job.id, owned::submitted_placement(config, now), now)?;
                if payment.featured {
                    jobs::set_featured(tx, job.id, true, now)?;
                }
                owned::queue_notices(st, tx, job.id, now)?;
            }
            // Submitted meanwhile (free posting with a paid upgrade): the
            // upgrade is still given.
            Status::Published | Status::PendingReview if payment.featured => {
                jobs::set_featured(tx, job.id, true, now)?;
            }
            _ => return undelivered(format!("the job is {}", status.as_str())),
        },
        Purpose::Featured => match status {
            Status::Published | Status::PendingReview | Status::Expired => {
                jobs::set_featured(tx, job.id, true, now)?;
            }
            _ => return undelivered(format!("the job is {}", status.as_str())),
        },
        Purpose::Renewal => match status {
            Status::Published | Status::Expired => {
                jobs::set_placement(tx, job.id, owned::renewed_placement(&job, config, now), now)?;
            }
            _ => return undelivered(format!("the job is {}", status.as_str())),
        },
    }
    Ok(())
}

/// The receipt email, to the account that paid.
fn queue_receipt(st: &State, tx: &Connection, payment: &Payment, now: i64) -> Result<(), AppError> {
    let to = crate::accounts::store::by_id(tx, payment.user_id)?.email;
    let title = jobs::get(tx, payment.job_id)
        .map(|j| j.title)
        .unwrap_or_else(|_| format!("Job {}", payment.job_id));
    let subject = format!("Receipt: {}", payment.description());
    let email = crate::mail::Email {
        to: &to,
        subject: &subject,
        template: "receipt",
        context: minijinja::context! {
            number => payment.id,
            description => payment.description(),
            title,
            amount => super::amount_text(payment.amount_cents, &payment.currency),
            date => crate::clock::human_date(payment.paid_at.unwrap_or(now)),
            reference => payment.payment_intent_id.as_deref().or(payment.session_id.as_deref()),
            link => st.url("/dashboard/receipts"),
        },
    };
    st.mailer.queue(tx, &st.templates, &email, now).map(|_| ())
}
