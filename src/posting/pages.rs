//! The handlers of `/post`.

use minijinja::{Value, context};
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};

use crate::accounts::pages::{authenticate, register_user};
use crate::accounts::session::{self, CurrentUser, MaybeUser};
use crate::accounts::{User, store as accounts};
use crate::error::{AppError, FieldErrors};
use crate::jobs::form::{self as job_form, input_from_form, values_from_form, values_from_job};
use crate::jobs::input::NewJob;
use crate::jobs::model::{Job, Status};
use crate::jobs::store::Placement;
use crate::jobs::{owned, view};
use crate::payments::{self, Purchase, Purpose, checkout};
use crate::web::forms::{self, Form};
use crate::web::limits::client_ip;
use crate::web::{self, State};

/// Fields of the posting forms that are not the job's own.
const NOT_JOB_FIELDS: &[&str] = &["csrf_token", "fax", "account", "email", "password"];

/// What every page of the flow shows about the price.
fn pricing(state: &State) -> Value {
    let p = &state.config.posting;
    context! {
        price => super::price_text(p.price_cents, &p.currency),
        free => !payments::posting_paid(&state.config),
        days => p.duration_days,
        review => p.require_approval,
        featured => payments::featured_offered(&state.config),
        featured_price => super::price_text(p.featured_price_cents, &p.currency),
    }
}

/// Renders a page of the flow for this browser (with its CSRF token).
fn page(
    state: &State,
    req: &Request,
    template: &str,
    status: StatusCode,
    ctx: Value,
) -> poem::Result<Response> {
    let ctx = context! { pricing => pricing(state), ..ctx };
    Ok(forms::page(state, req, template, status, ctx)?)
}

/// The job form (new, refused, or a draft being edited).
async fn form_page(
    state: &State,
    req: &Request,
    status: StatusCode,
    action: &str,
    values: Value,
    errors: &FieldErrors,
) -> poem::Result<Response> {
    let options = job_form::options(&state.config, &job_form::popular_tags(state).await);
    page(
        state,
        req,
        "posting/form.html",
        status,
        context! { action, values, errors => forms::errors(errors), options },
    )
}

/// The user's company name and website, to start their form with.
async fn company_defaults(
    state: &State,
    user: Option<&User>,
) -> Result<(Option<String>, Option<String>), AppError> {
    let Some(company_id) = user.and_then(|u| u.company_id) else {
        return Ok((None, None));
    };
    let company = state
        .db
        .read(move |c| crate::companies::store::by_id(c, company_id))
        .await?;
    Ok((Some(company.name), company.website))
}

#[handler]
pub async fn new_form(
    req: &Request,
    Data(state): Data<&State>,
    MaybeUser(user): MaybeUser,
) -> poem::Result<Response> {
    let (name, website) = company_defaults(state, user.as_ref()).await?;
    let values = job_form::blank_values(name.as_deref(), website.as_deref());
    form_page(
        state,
        req,
        StatusCode::OK,
        "/post",
        values,
        &FieldErrors::new(),
    )
    .await
}

/// The sign-up or sign-in step for a visitor whose job form was fine: the
/// job's fields travel along as hidden inputs.
fn account_page(
    state: &State,
    req: &Request,
    form: &Form,
    status: StatusCode,
    errors: &FieldErrors,
) -> poem::Result<Response> {
    let carried: Vec<Value> = form
        .pairs()
        .iter()
        .filter(|(k, _)| !NOT_JOB_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| context! { name => k, value => v })
        .collect();
    let account = form.get("account").unwrap_or("register");
    page(
        state,
        req,
        "posting/account.html",
        status,
        context! {
            carried,
            account,
            values => forms::values([("email", form.get("email").unwrap_or(""))]),
            errors => forms::errors(errors),
        },
    )
}

/// `POST /post`: a valid job becomes a draft of the (possibly new) employer,
/// shown next as a preview.
#[handler]
pub async fn create(
    req: &Request,
    Data(state): Data<&State>,
    form: Form,
    MaybeUser(user): MaybeUser,
) -> poem::Result<Response> {
    let job = match input_from_form(&form).validate(&state.config.site.categories) {
        Ok(job) => job,
        Err(AppError::Invalid(errors)) => {
            return form_page(
                state,
                req,
                StatusCode::UNPROCESSABLE_ENTITY,
                "/post",
                values_from_form(&form),
                &errors,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    let user = match user {
        Some(user) => user,
        None => {
            let email = form.get("email").unwrap_or("").to_string();
            let password = form.raw("password");
            let outcome = match form.get("account") {
                Some("register") => register_user(state, req, &email, password).await?,
                Some("login") => match authenticate(state, req, &email, password).await? {
                    Ok(id) => {
                        session::sign_in(state, req, id).await?;
                        Ok(id)
                    }
                    Err(errors) => Err(errors),
                },
                _ => return account_page(state, req, &form, StatusCode::OK, &FieldErrors::new()),
            };
            match outcome {
                Ok(id) => state.db.read(move |c| accounts::by_id(c, id)).await?,
                Err(errors) => {
                    return account_page(
                        state,
                        req,
                        &form,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &errors,
                    );
                }
            }
        }
    };
    let now = state.now();
    let rate = state.config.limits.post_per_ip;
    state.limits.hit("post_ip", &client_ip(req), rate, now)?;
    state
        .limits
        .hit("post_account", &user.id.to_string(), rate, now)?;
    let config = state.config.clone();
    let id = state
        .db
        .write(move |tx| owned::create(tx, &config, &user, &job, draft(), now))
        .await?;
    Ok(web::see_other(&format!("/post/{id}/preview")))
}

fn draft() -> Placement {
    owned::draft_placement()
}

/// One of the user's jobs by the id in the path.
async fn own_job(state: &State, user: &User, id: &str) -> Result<Job, AppError> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let user_id = user.id;
    state.db.read(move |c| owned::get(c, user_id, id)).await
}

/// Where a job that is no longer a draft (or waiting for its payment) is
/// shown instead of a step of the flow.
fn past_drafting(job: &Job) -> Option<Response> {
    (!matches!(job.status, Status::Draft | Status::PendingPayment))
        .then(|| web::see_other(&format!("/post/{}/done", job.id)))
}

#[derive(Debug, serde::Deserialize)]
pub struct PreviewQuery {
    /// Back from Stripe Checkout without paying.
    canceled: Option<String>,
}

#[handler]
pub async fn preview(
    req: &Request,
    Data(state): Data<&State>,
    Path(id): Path<String>,
    Query(query): Query<PreviewQuery>,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let job = own_job(state, &user, &id).await?;
    if let Some(moved) = past_drafting(&job) {
        return Ok(moved);
    }
    let notice = query
        .canceled
        .is_some()
        .then_some("Payment cancelled: nothing was charged, and your job is saved. You can edit it or pay when you are ready.");
    preview_page(state, req, &job, StatusCode::OK, notice, None)
}

/// The preview of a draft, with the order box; `error` says why submitting failed.
fn preview_page(
    state: &State,
    req: &Request,
    job: &Job,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> poem::Result<Response> {
    let now = state.now();
    // As it will appear once live: open, dated today.
    let mut shown = job.clone();
    shown.status = Status::Published;
    shown.hidden = false;
    shown.published_at = Some(now);
    shown.expires_at = Some(now + i64::from(state.config.posting.duration_days) * 86_400);
    let card = view::job_view(&shown, &state.config, now, false);
    let full = view::job_view(&shown, &state.config, now, true);
    page(
        state,
        req,
        "posting/preview.html",
        status,
        context! { id => job.id, card, job => full, notice, error },
    )
}

#[handler]
pub async fn edit_form(
    req: &Request,
    Data(state): Data<&State>,
    Path(id): Path<String>,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let job = own_job(state, &user, &id).await?;
    if let Some(moved) = past_drafting(&job) {
        return Ok(moved);
    }
    let action = format!("/post/{}/edit", job.id);
    form_page(
        state,
        req,
        StatusCode::OK,
        &action,
        values_from_job(&job),
        &FieldErrors::new(),
    )
    .await
}

#[handler]
pub async fn edit(
    req: &Request,
    Data(state): Data<&State>,
    Path(id): Path<String>,
    form: Form,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let job = own_job(state, &user, &id).await?;
    if let Some(moved) = past_drafting(&job) {
        return Ok(moved);
    }
    let action = format!("/post/{}/edit", job.id);
    let new: NewJob = match input_from_form(&form).validate(&state.config.site.categories) {
        Ok(new) => new,
        Err(AppError::Invalid(errors)) => {
            return form_page(
                state,
                req,
                StatusCode::UNPROCESSABLE_ENTITY,
                &action,
                values_from_form(&form),
                &errors,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    let now = state.now();
    let id = job.id;
    let config = state.config.clone();
    state
        .db
        .write(move |tx| owned::update(tx, &config, &user, id, &new, now))
        .await?;
    Ok(web::see_other(&format!("/post/{id}/preview")))
}

/// `POST /post/{id}/submit`: the draft goes live (or to review), or, when
/// something is to be paid, the employer goes to Stripe Checkout.
#[handler]
pub async fn submit(
    req: &Request,
    Data(state): Data<&State>,
    Path(id): Path<String>,
    form: Form,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let job = own_job(state, &user, &id).await?;
    if let Some(moved) = past_drafting(&job) {
        return Ok(moved);
    }
    let purchase = Purchase {
        purpose: Purpose::Post,
        featured: form.get("featured") == Some("1") && payments::featured_offered(&state.config),
    };
    if purchase.total(&state.config) > 0 {
        return match checkout::start(state, &user, &job, purchase).await {
            Ok(checkout::Next::Checkout(url)) => Ok(web::see_other(&url)),
            Ok(checkout::Next::Paid) => Ok(web::see_other(&format!("/post/{}/done", job.id))),
            Err(AppError::BadRequest(why)) => {
                preview_page(state, req, &job, StatusCode::CONFLICT, None, Some(&why))
            }
            Err(AppError::Unavailable(why)) => preview_page(
                state,
                req,
                &job,
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                Some(&why),
            ),
            Err(e) => Err(e.into()),
        };
    }
    // Free after all (the upgrade unticked): a payment started for this job
    // must end first, or it could still be paid for nothing.
    match checkout::clear(state, job.id).await {
        Ok(Some(checkout::Next::Paid)) => {
            return Ok(web::see_other(&format!("/post/{}/done", job.id)));
        }
        Ok(_) => {}
        Err(AppError::Unavailable(why) | AppError::BadRequest(why)) => {
            return preview_page(
                state,
                req,
                &job,
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                Some(&why),
            );
        }
        Err(e) => return Err(e.into()),
    }
    let now = state.now();
    let (config, st) = (state.config.clone(), state.clone());
    let id = job.id;
    state
        .db
        .write(move |tx| {
            owned::submit(tx, &config, user.id, id, now)?;
            owned::queue_notices(&st, tx, id, now)
        })
        .await?;
    state.wake.notify();
    Ok(web::see_other(&format!("/post/{id}/done")))
}

#[derive(Debug, serde::Deserialize)]
pub struct DoneQuery {
    /// The Checkout Session Stripe sends the employer back from.
    session_id: Option<String>,
}

/// The confirmation: live (with its link), waiting for review, waiting for
/// the employer's email to be verified, or a payment still being confirmed
/// (the page then refreshes itself until it settles).
#[handler]
pub async fn done(
    req: &Request,
    Data(state): Data<&State>,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    if let Some(session_id) = query.session_id.as_deref() {
        checkout::settle_returning(state, &user, session_id).await;
    }
    let job = own_job(state, &user, &id).await?;
    let job_id = job.id;
    // The payment the employer comes back from, else the job's newest.
    let session_id = query.session_id.clone();
    let payment = state
        .db
        .read(move |c| {
            let by_session = match session_id.as_deref() {
                Some(sid) => payments::store::by_session(c, sid)?,
                None => None,
            };
            match by_session.filter(|p| p.job_id == job_id) {
                Some(p) => Ok(Some(p)),
                None => payments::store::latest_for_job(c, job_id),
            }
        })
        .await?
        .filter(|p| p.user_id == user.id);
    // Back from Stripe while the payment is not settled yet (the webhook
    // is usually a second behind the customer).
    let confirming =
        query.session_id.is_some() && payment.as_ref().is_some_and(|p| p.status.unsettled());
    let now = state.now();
    let outcome = match job.status {
        _ if confirming => "confirming",
        Status::Draft | Status::PendingPayment => {
            return Ok(web::see_other(&format!("/post/{}/preview", job.id)));
        }
        Status::Published if job.hidden => "unverified",
        Status::Published => "live",
        Status::PendingReview => "review",
        _ => "other",
    };
    let paid = payment
        .as_ref()
        .filter(|p| p.status == payments::PaymentStatus::Paid)
        .map(|p| {
            context! {
                description => p.description(),
                amount => payments::amount_text(p.amount_cents, &p.currency),
            }
        });
    let shown = view::job_view(&job, &state.config, now, false);
    let mut resp = page(
        state,
        req,
        "posting/done.html",
        StatusCode::OK,
        context! { outcome, job => shown, status => job.status.as_str(), user, paid },
    )?;
    if outcome == "confirming" {
        // Asks the browser to come back (no script needed).
        resp.headers_mut()
            .insert("Refresh", poem::http::HeaderValue::from_static("3"));
    }
    Ok(resp)
}
