//! Starting a purchase: the payment row, then the Checkout Session, then the
//! employer goes to Stripe.
//!
//! A job has at most one payment under way. Paying again (after cancelling,
//! or with the upgrade now ticked) first ends the session already open, so
//! two sessions for one job can never both be paid; if Stripe says that
//! session was in fact paid, it is settled instead and nothing new starts.

use super::settle::{self, Settled};
use super::stripe::NewSession;
use super::{Payment, PaymentStatus, Purchase, Purpose, store};
use crate::accounts::User;
use crate::error::AppError;
use crate::jobs::model::{Job, Status};
use crate::jobs::owned;
use crate::jobs::store::{self as jobs, Placement};
use crate::web::State;

/// How long a Checkout Session stays payable (Stripe allows 30 minutes to
/// 24 hours). A post waiting for payment returns to draft after it.
pub const SESSION_LIFETIME: i64 = 3600;

/// A `creating` row older than this never got its session (Stripe failed
/// or the process died mid-call).
const CREATING_GRACE: i64 = 120;

/// Where the employer goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// To Stripe Checkout, at this URL.
    Checkout(String),
    /// Straight to the confirmation: an earlier session turned out paid.
    Paid,
}

/// Why the purchase cannot be made for this job now.
fn refuse(job: &Job, purchase: Purchase, state: &State) -> Option<&'static str> {
    refuse_at(job, purchase, &state.config, state.now())
}

fn refuse_at(
    job: &Job,
    purchase: Purchase,
    config: &crate::config::Config,
    now: i64,
) -> Option<&'static str> {
    match purchase.purpose {
        Purpose::Post if !matches!(job.status, Status::Draft | Status::PendingPayment) => {
            Some("This job has already been submitted.")
        }
        Purpose::Featured if !super::can_upgrade(job, config) => {
            Some("Only a live job that is not featured yet can be upgraded.")
        }
        Purpose::Renewal if !owned::can_renew(job, now) => {
            Some("Only an expired job, or a live one expiring within 7 days, can be renewed.")
        }
        _ => None,
    }
}

/// Ends the payment under way for a job, if any, so that it can no longer
/// be paid (a new one is about to start, or the job was submitted, deleted,
/// filled, rejected or approved); `Paid` when it turns out to have been paid
/// already.
pub async fn clear(state: &State, job_id: i64) -> Result<Option<Next>, AppError> {
    match state
        .db
        .read(move |c| store::unsettled_for_job(c, job_id))
        .await?
    {
        Some(payment) => clear_unsettled(state, payment).await,
        None => Ok(None),
    }
}

/// As [`clear`], after a change that makes the payment pointless: errors
/// are logged (reconciliation ends the session later) and never stop the
/// change itself.
pub async fn clear_after_change(state: &State, job_id: i64) {
    if state.stripe.is_none() {
        return;
    }
    if let Err(e) = clear(state, job_id).await {
        tracing::warn!(job = job_id, error = %e, "could not end the payment under way");
    }
}

async fn clear_unsettled(state: &State, payment: Payment) -> Result<Option<Next>, AppError> {
    let now = state.now();
    let Some(session_id) = payment.session_id.clone() else {
        if payment.created_at > now - CREATING_GRACE {
            return Err(AppError::BadRequest(
                "A payment for this job is being started. Try again in a minute.".into(),
            ));
        }
        state
            .db
            .write_durable(move |tx| settle::abandon(tx, &payment, now))
            .await?;
        return Ok(None);
    };
    let stripe = state.stripe()?;
    let session = stripe.expire(&session_id).await?;
    let st = state.clone();
    let settled = state
        .db
        .write_durable(move |tx| settle::settle(&st, tx, &session, now))
        .await?;
    state.wake.notify();
    match settled {
        Settled::Activated(_) | Settled::AlreadyPaid(_) => Ok(Some(Next::Paid)),
        Settled::Ended(_) | Settled::Unknown => Ok(None),
        Settled::Waiting(_) => Err(AppError::BadRequest(
            "The payment for this job is still being confirmed by the bank. \
             This page will know once it is."
                .into(),
        )),
    }
}

/// Starts paying for `purchase` of `job` (which `user` owns).
pub async fn start(
    state: &State,
    user: &User,
    job: &Job,
    purchase: Purchase,
) -> Result<Next, AppError> {
    let stripe = state.stripe()?;
    if let Some(why) = refuse(job, purchase, state) {
        return Err(AppError::BadRequest(why.into()));
    }
    let config = &state.config;
    let lines = purchase.lines(config);
    let total = purchase.total(config);
    if total == 0 {
        return Err(AppError::BadRequest("There is nothing to pay for.".into()));
    }
    let job_id = job.id;
    let now = state.now();
    if let Some(open) = state
        .db
        .read(move |c| store::unsettled_for_job(c, job_id))
        .await?
    {
        let same = open.status == PaymentStatus::Open
            && open.purpose == purchase.purpose
            && open.featured == purchase.featured
            && open.amount_cents == total as i64
            && open.session_expires_at.is_some_and(|t| t > now + 300);
        if let (true, Some(url)) = (same, open.checkout_url.clone()) {
            return Ok(Next::Checkout(url));
        }
        if let Some(next) = clear_unsettled(state, open).await? {
            return Ok(next);
        }
    }

    let (user_id, currency, cfg) = (user.id, config.posting.currency.clone(), config.clone());
    let payment_id = state
        .db
        .write_durable(move |tx| {
            // The job as it is now: a settlement may have moved it since it
            // was read (paid in another tab a moment ago).
            let fresh = jobs::get(tx, job_id)?;
            if let Some(why) = refuse_at(&fresh, purchase, &cfg, now) {
                return Err(AppError::BadRequest(why.into()));
            }
            store::insert(tx, job_id, user_id, purchase, total, &currency, now)
        })
        .await?
        .ok_or_else(|| {
            AppError::BadRequest("A payment for this job is already under way.".into())
        })?;
    let success_url = state.url(&format!(
        "/post/{job_id}/done?session_id={{CHECKOUT_SESSION_ID}}"
    ));
    let cancel_url = match purchase.purpose {
        Purpose::Post => state.url(&format!("/post/{job_id}/preview?canceled=1")),
        _ => state.url("/dashboard?canceled=1"),
    };
    let new = NewSession {
        payment_id,
        job_id,
        purpose: purchase.purpose.as_str(),
        lines: &lines,
        currency: &config.posting.currency,
        customer_email: &user.email,
        success_url,
        cancel_url,
        expires_at: now + SESSION_LIFETIME,
    };
    let session = match stripe.create(&new).await {
        Ok(session) => session,
        Err(e) => {
            tracing::error!(payment = payment_id, error = %e, "cannot start a Checkout Session");
            let why = e.to_string();
            state
                .db
                .write_durable(move |tx| {
                    let Some(p) = store::by_id(tx, payment_id)? else {
                        return Ok(false);
                    };
                    settle::end(tx, &p, PaymentStatus::Failed, Some(&why), now)
                })
                .await?;
            return Err(AppError::Unavailable(
                "The payment page could not be opened; nothing was charged. Please try again in a moment."
                    .into(),
            ));
        }
    };
    let url = session
        .url
        .clone()
        .ok_or_else(|| AppError::internal("Stripe made a Checkout Session without a URL"))?;
    let (session_id, open_url) = (session.id.clone(), url.clone());
    let expires = session.expires_at.unwrap_or(now + SESSION_LIFETIME);
    let opened = state
        .db
        .write_durable(move |tx| {
            if !store::opened(tx, payment_id, &session_id, &open_url, expires, now)? {
                // Settled before Stripe's answer reached us (a fast webhook).
                return Ok(false);
            }
            if purchase.purpose == Purpose::Post {
                let job = jobs::get(tx, job_id)?;
                if job.status == Status::Draft {
                    let waiting = Placement {
                        status: Status::PendingPayment,
                        published_at: None,
                        expires_at: None,
                    };
                    jobs::set_placement(tx, job_id, waiting, now)?;
                }
            }
            Ok(true)
        })
        .await?;
    if opened {
        tracing::info!(
            payment = payment_id,
            job = job_id,
            purpose = purchase.purpose.as_str(),
            "Checkout Session started"
        );
        Ok(Next::Checkout(url))
    } else {
        Ok(Next::Paid)
    }
}

/// Settles a session the employer came back from (the success redirect),
/// if it is one of theirs and still open here. Errors are only logged: the
/// webhook and reconciliation settle it anyway.
pub async fn settle_returning(state: &State, user: &User, session_id: &str) {
    let sid = session_id.to_string();
    let Ok(Some(payment)) = state.db.read(move |c| store::by_session(c, &sid)).await else {
        return;
    };
    // Looked up at most every few seconds, however often the page reloads.
    let now = state.now();
    if payment.user_id != user.id || !payment.status.unsettled() {
        return;
    }
    let checked = state
        .db
        .read(move |c| store::checked_at(c, payment.id))
        .await
        .ok()
        .flatten();
    if checked.is_some_and(|t| now - t < 5) {
        return;
    }
    let Ok(stripe) = state.stripe() else {
        return;
    };
    let session = match stripe.retrieve(session_id).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot look up a returning Checkout Session");
            return;
        }
    };
    let (st, id) = (state.clone(), payment.id);
    match state
        .db
        .write_durable(move |tx| {
            let outcome = settle::settle(&st, tx, &session, now)?;
            if matches!(outcome, Settled::Waiting(_)) {
                store::looked_up(tx, id, now)?;
            }
            Ok(outcome)
        })
        .await
    {
        Ok(_) => state.wake.notify(),
        Err(e) => tracing::error!(error = %e, "cannot settle a returning Checkout Session"),
    }
}
