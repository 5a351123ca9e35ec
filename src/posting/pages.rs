//! The handlers of `/post`.

use minijinja::{Value, context};
use poem::http::StatusCode;
use poem::web::{Data, Path};
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
        free => p.price_cents == 0,
        days => p.duration_days,
        review => p.require_approval,
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
    Placement {
        status: Status::Draft,
        published_at: None,
        expires_at: None,
    }
}

/// One of the user's jobs by the id in the path.
async fn own_job(state: &State, user: &User, id: &str) -> Result<Job, AppError> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let user_id = user.id;
    state.db.read(move |c| owned::get(c, user_id, id)).await
}

/// Where a job that is no longer a draft is shown instead of a step of the flow.
fn past_drafting(job: &Job) -> Option<Response> {
    (job.status != Status::Draft).then(|| web::see_other(&format!("/post/{}/done", job.id)))
}

#[handler]
pub async fn preview(
    req: &Request,
    Data(state): Data<&State>,
    Path(id): Path<String>,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let job = own_job(state, &user, &id).await?;
    if let Some(moved) = past_drafting(&job) {
        return Ok(moved);
    }
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
        StatusCode::OK,
        context! { id => job.id, card, job => full },
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

/// `POST /post/{id}/submit`: the draft goes live (or to review).
#[handler]
pub async fn submit(
    Data(state): Data<&State>,
    Path(id): Path<String>,
    _form: Form,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let job = own_job(state, &user, &id).await?;
    if let Some(moved) = past_drafting(&job) {
        return Ok(moved);
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

/// The confirmation: live (with its link), waiting for review, or waiting
/// for the employer's email to be verified.
#[handler]
pub async fn done(
    req: &Request,
    Data(state): Data<&State>,
    Path(id): Path<String>,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let job = own_job(state, &user, &id).await?;
    let now = state.now();
    let outcome = match job.status {
        Status::Draft => return Ok(web::see_other(&format!("/post/{}/preview", job.id))),
        Status::Published if job.hidden => "unverified",
        Status::Published => "live",
        Status::PendingReview => "review",
        _ => "other",
    };
    let shown = view::job_view(&job, &state.config, now, false);
    page(
        state,
        req,
        "posting/done.html",
        StatusCode::OK,
        context! { outcome, job => shown, status => job.status.as_str(), user },
    )
}
