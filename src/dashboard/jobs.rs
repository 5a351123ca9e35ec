//! The actions on one of the employer's jobs, `/dashboard/jobs/{id}/{action}`
//! (SPEC §4): edit, fill, renew, duplicate, submit (a draft) and delete (after
//! a confirmation page). Someone else's job is simply not found.

use minijinja::{Value, context};
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};

use super::{Done, parse_id};
use crate::accounts::User;
use crate::accounts::session::CurrentUser;
use crate::error::{AppError, FieldErrors};
use crate::jobs::form::{self as job_form, input_from_form, values_from_form, values_from_job};
use crate::jobs::model::{Job, Status};
use crate::jobs::owned;
use crate::payments::{self, Purchase, Purpose, checkout};
use crate::web::forms::{self, Form};
use crate::web::{self, State};

/// One of the user's jobs by the id in the path.
async fn own_job(state: &State, user: &User, id: &str) -> Result<Job, AppError> {
    let id = parse_id(id)?;
    let user_id = user.id;
    state.db.read(move |c| owned::get(c, user_id, id)).await
}

/// The edit page: the shared job form, filled with `values`.
async fn edit_page(
    state: &State,
    req: &Request,
    job: &Job,
    status: StatusCode,
    values: Value,
    errors: &FieldErrors,
    notice: Option<&str>,
) -> poem::Result<Response> {
    let options = job_form::options(&state.config, &job_form::popular_tags(state).await);
    super::page(
        state,
        req,
        "dashboard/edit.html",
        status,
        context! {
            action => format!("/dashboard/jobs/{}/edit", job.id),
            job => context! {
                id => job.id,
                title => &job.title,
                status => job.status.as_str(),
                url => job.is_live(state.now()).then(|| job.path()),
            },
            values,
            errors => forms::errors(errors),
            options,
            notice,
        },
    )
}

#[handler]
pub async fn edit_form(
    req: &Request,
    Data(state): Data<&State>,
    Path(id): Path<String>,
    Query(done): Query<Done>,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let job = own_job(state, &user, &id).await?;
    let values = values_from_job(&job);
    let errors = FieldErrors::new();
    let notice = done.notice();
    edit_page(state, req, &job, StatusCode::OK, values, &errors, notice).await
}

/// `POST …/edit`: saves the job (a live job stays live; search sees the
/// change through the queue). A rejected job goes back to review; a draft
/// saved with "Save and submit" is submitted too.
#[handler]
pub async fn edit(
    req: &Request,
    Data(state): Data<&State>,
    Path(id): Path<String>,
    form: Form,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let job = own_job(state, &user, &id).await?;
    let new = match input_from_form(&form).validate(&state.config.site.categories) {
        Ok(new) => new,
        Err(AppError::Invalid(errors)) => {
            let values = values_from_form(&form);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return edit_page(state, req, &job, status, values, &errors, None).await;
        }
        Err(e) => return Err(e.into()),
    };
    let now = state.now();
    let id = job.id;
    let user_id = user.id;
    let (config, st) = (state.config.clone(), state.clone());
    let back_to_review = state
        .db
        .write(move |tx| {
            let to_review = owned::update(tx, &config, &user, id, &new, now)?;
            if to_review {
                owned::queue_notices(&st, tx, id, now)?;
            }
            Ok(to_review)
        })
        .await?;
    if back_to_review {
        state.wake.notify();
        return Ok(web::see_other("/dashboard?done=review"));
    }
    if job.status == Status::Draft && form.get("then") == Some("submit") {
        return submit_draft(state, user_id, id).await;
    }
    Ok(web::see_other("/dashboard?done=saved"))
}

/// Submits a draft: live now or to review (admins are told). With paid
/// posting the draft goes through the posting flow's payment instead.
async fn submit_draft(state: &State, user_id: i64, id: i64) -> poem::Result<Response> {
    if payments::posting_paid(&state.config) {
        return Ok(web::see_other(&format!("/post/{id}/preview")));
    }
    let now = state.now();
    let (config, st) = (state.config.clone(), state.clone());
    let job = state
        .db
        .write(move |tx| {
            owned::submit(tx, &config, user_id, id, now)?;
            owned::queue_notices(&st, tx, id, now)?;
            owned::get(tx, user_id, id)
        })
        .await?;
    state.wake.notify();
    let done = if job.status == Status::PendingReview {
        "pending"
    } else {
        "live"
    };
    Ok(web::see_other(&format!("/dashboard?done={done}")))
}

/// `POST …/submit`: a draft goes live (or to review); other jobs stay as
/// they are.
#[handler]
pub async fn submit(
    Data(state): Data<&State>,
    Path(id): Path<String>,
    _form: Form,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let job = own_job(state, &user, &id).await?;
    match job.status {
        Status::Draft => submit_draft(state, user.id, job.id).await,
        Status::PendingPayment => Ok(web::see_other(&format!("/post/{}/preview", job.id))),
        _ => Ok(web::see_other("/dashboard")),
    }
}

#[handler]
pub async fn fill(
    Data(state): Data<&State>,
    Path(id): Path<String>,
    _form: Form,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let (id, now, user_id) = (parse_id(&id)?, state.now(), user.id);
    state
        .db
        .write(move |tx| owned::fill(tx, user_id, id, now))
        .await?;
    checkout::clear_after_change(state, id).await;
    Ok(web::see_other("/dashboard?done=filled"))
}

/// `POST …/renew`: another `posting.duration_days`; with paid posting, after
/// paying the standard price through Stripe Checkout.
#[handler]
pub async fn renew(
    Data(state): Data<&State>,
    Path(id): Path<String>,
    _form: Form,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    if payments::posting_paid(&state.config) {
        let job = own_job(state, &user, &id).await?;
        return buy(state, &user, &job, Purpose::Renewal).await;
    }
    let (id, now, user_id) = (parse_id(&id)?, state.now(), user.id);
    let config = state.config.clone();
    state
        .db
        .write(move |tx| owned::renew(tx, &config, user_id, id, now))
        .await?;
    Ok(web::see_other("/dashboard?done=renewed"))
}

/// `POST …/feature`: the featured upgrade of a live job, paid through
/// Stripe Checkout.
#[handler]
pub async fn feature(
    Data(state): Data<&State>,
    Path(id): Path<String>,
    _form: Form,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let job = own_job(state, &user, &id).await?;
    buy(state, &user, &job, Purpose::Featured).await
}

/// Sends the employer to pay for `purpose` of `job`.
async fn buy(state: &State, user: &User, job: &Job, purpose: Purpose) -> poem::Result<Response> {
    let purchase = Purchase {
        purpose,
        featured: purpose == Purpose::Featured,
    };
    match checkout::start(state, user, job, purchase).await? {
        checkout::Next::Checkout(url) => Ok(web::see_other(&url)),
        checkout::Next::Paid => Ok(web::see_other(&format!("/post/{}/done", job.id))),
    }
}

/// `POST …/duplicate`: a copy as a new draft, opened for editing.
#[handler]
pub async fn duplicate(
    Data(state): Data<&State>,
    Path(id): Path<String>,
    _form: Form,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let (id, now, user_id) = (parse_id(&id)?, state.now(), user.id);
    let copy = state
        .db
        .write(move |tx| owned::duplicate(tx, user_id, id, now))
        .await?;
    Ok(web::see_other(&format!(
        "/dashboard/jobs/{copy}/edit?done=copied"
    )))
}

/// `GET …/delete`: asks first.
#[handler]
pub async fn delete_page(
    req: &Request,
    Data(state): Data<&State>,
    Path(id): Path<String>,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let job = own_job(state, &user, &id).await?;
    super::page(
        state,
        req,
        "dashboard/delete.html",
        StatusCode::OK,
        context! {
            job => context! { id => job.id, title => &job.title, status => job.status.as_str() },
        },
    )
}

/// `POST …/delete`: a soft delete; the job's page is gone (404).
#[handler]
pub async fn delete(
    Data(state): Data<&State>,
    Path(id): Path<String>,
    _form: Form,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let (id, now, user_id) = (parse_id(&id)?, state.now(), user.id);
    state
        .db
        .write(move |tx| owned::delete(tx, user_id, id, now))
        .await?;
    checkout::clear_after_change(state, id).await;
    Ok(web::see_other("/dashboard?done=deleted"))
}
