//! The admin's form posts: the actions on a job (`/admin/jobs/{id}/{action}`:
//! `edit`, `approve`, `reject` with `reason`, `feature`, `unfeature`,
//! `expire`, `delete`) and on a user (`/admin/users/{id}/disable`, `/enable`).
//!
//! Each change and its audit-log entry are written in one transaction; the
//! job's owner hears of an approval or a rejection by email afterwards.

use minijinja::context;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};

use super::pages;
use super::store;
use crate::accounts::session::AdminUser;
use crate::accounts::{User, safe_next, store as accounts};
use crate::error::{AppError, FieldErrors};
use crate::jobs::form::{input_from_form, values_from_form};
use crate::jobs::model::Status;
use crate::jobs::store as jobs;
use crate::mail::Email;
use crate::web::forms::Form;
use crate::web::{self, State};

/// The longest rejection reason accepted.
const MAX_REASON: usize = 2000;

/// What an admin does to a job (besides editing it).
#[derive(Debug, Clone)]
enum JobAction {
    Approve,
    Reject(String),
    Feature(bool),
    Expire,
    Delete,
}

impl JobAction {
    /// The name in the URL and the audit log.
    fn name(&self) -> &'static str {
        match self {
            JobAction::Approve => "approve",
            JobAction::Reject(_) => "reject",
            JobAction::Feature(true) => "feature",
            JobAction::Feature(false) => "unfeature",
            JobAction::Expire => "expire",
            JobAction::Delete => "delete",
        }
    }
}

/// Where to go after a post: the admin page the form came from (its `back`
/// field), else `default`.
fn back_to(form: &Form, default: &str) -> String {
    match form.get("back") {
        Some(back) if back.starts_with("/admin") && safe_next(Some(back)) == back => {
            back.to_string()
        }
        _ => default.to_string(),
    }
}

/// Whether `back` is the page of job `id` (or one of its sub-pages).
fn is_job_page(back: &str, id: i64) -> bool {
    let path = back.split('?').next().unwrap_or(back);
    let page = format!("/admin/jobs/{id}");
    path == page || path.starts_with(&format!("{page}/"))
}

/// `POST /admin/jobs/{id}/{action}`.
#[handler]
pub async fn job_action(
    req: &Request,
    Data(state): Data<&State>,
    Path((id, action)): Path<(i64, String)>,
    form: Form,
    AdminUser(admin): AdminUser,
) -> poem::Result<Response> {
    let act = match action.as_str() {
        "edit" => return save_edit(state, req, &admin, id, &form).await,
        "approve" => JobAction::Approve,
        "feature" => JobAction::Feature(true),
        "unfeature" => JobAction::Feature(false),
        "expire" => JobAction::Expire,
        "delete" => JobAction::Delete,
        "reject" => {
            let reason = form.get("reason").unwrap_or("");
            let problem = if reason.is_empty() {
                Some("Say why the job is rejected: the employer reads this.".to_string())
            } else if reason.chars().count() > MAX_REASON {
                Some(format!("Keep the reason under {MAX_REASON} characters."))
            } else {
                None
            };
            if let Some(problem) = problem {
                let mut errors = FieldErrors::new();
                errors.insert("reason".into(), problem);
                return pages::job_page(
                    state,
                    req,
                    &admin,
                    id,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    form.raw("reason"),
                    &errors,
                )
                .await;
            }
            JobAction::Reject(reason.to_string())
        }
        _ => return Err(AppError::NotFound.into()),
    };
    let now = state.now();
    let (config, st) = (state.config.clone(), state.clone());
    let admin_id = admin.id;
    let done = act.clone();
    state
        .db
        .write(move |tx| {
            let job = jobs::get(tx, id)?;
            let mut detail = job.title.clone();
            match &done {
                JobAction::Approve => {
                    if job.status == Status::Published {
                        return Err(AppError::BadRequest(
                            "This job is already published.".into(),
                        ));
                    }
                    if crate::payments::posting_paid(&config)
                        && job.owner_id.is_some()
                        && !crate::payments::store::has_paid_post(tx, id)?
                    {
                        return Err(AppError::BadRequest(
                            "This job has not been paid for: its employer pays when submitting it."
                                .into(),
                        ));
                    }
                    store::approve(tx, &config, id, now)?;
                }
                JobAction::Reject(reason) => {
                    store::reject(tx, id, reason, now)?;
                    detail = format!("{} (reason: {reason})", job.title);
                }
                JobAction::Feature(on) => store::set_featured(tx, id, *on, now)?,
                JobAction::Expire => store::expire(tx, id, now)?,
                JobAction::Delete => jobs::delete(tx, id, now)?,
            }
            accounts::audit(
                tx,
                Some(admin_id),
                done.name(),
                "job",
                Some(id),
                Some(&detail),
                now,
            )?;
            // The owner hears in the same transaction: the change and its
            // mail are committed together or not at all.
            if let Some(owner) = store::owner_email(tx, id)? {
                let mailed = match &done {
                    JobAction::Approve => {
                        let published = jobs::get(tx, id)?;
                        crate::jobs::owned::queue_published(&st, tx, &published, &owner, now)
                    }
                    JobAction::Reject(reason) => {
                        let subject = format!("Your job was not approved: {}", job.title);
                        let email = Email {
                            to: &owner,
                            subject: &subject,
                            template: "job_rejected",
                            context: context! {
                                title => &job.title,
                                company => &job.company.name,
                                reason,
                                link => st.url("/dashboard"),
                            },
                        };
                        st.mailer.queue(tx, &st.templates, &email, now).map(|_| ())
                    }
                    _ => Ok(()),
                };
                if let Err(e) = mailed {
                    tracing::warn!(error = %e, job = id, "could not mail a job's owner");
                }
            }
            Ok(())
        })
        .await?;
    state.wake.notify();
    if matches!(
        act,
        JobAction::Approve | JobAction::Reject(_) | JobAction::Delete | JobAction::Expire
    ) {
        // A payment under way for the job is pointless now: end it.
        crate::payments::checkout::clear_after_change(state, id).await;
    }
    let back = back_to(&form, &format!("/admin/jobs/{id}"));
    let back = if matches!(act, JobAction::Delete) && is_job_page(&back, id) {
        "/admin/jobs".to_string()
    } else {
        back
    };
    Ok(web::see_other(&back))
}

/// `POST /admin/jobs/{id}/edit`.
#[handler]
pub async fn edit(
    req: &Request,
    Data(state): Data<&State>,
    Path(id): Path<i64>,
    form: Form,
    AdminUser(admin): AdminUser,
) -> poem::Result<Response> {
    save_edit(state, req, &admin, id, &form).await
}

/// Saves an admin's edit of a job: its owner, status and company stay; a
/// changed company name or website changes that company's profile. A refused
/// form comes back with what was typed (422).
async fn save_edit(
    state: &State,
    req: &Request,
    admin: &User,
    id: i64,
    form: &Form,
) -> poem::Result<Response> {
    let new_job = match input_from_form(form).validate(&state.config.site.categories) {
        Ok(job) => job,
        Err(AppError::Invalid(errors)) => {
            return pages::edit_form(
                state,
                req,
                admin,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                values_from_form(form),
                &errors,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    let now = state.now();
    let admin_id = admin.id;
    state
        .db
        .write(move |tx| {
            let job = jobs::get(tx, id)?;
            let company = crate::companies::store::by_id(tx, job.company.id)?;
            let website = new_job
                .company
                .website
                .as_deref()
                .or(company.website.as_deref());
            if company.name != new_job.company.name || company.website.as_deref() != website {
                crate::companies::store::update_profile(
                    tx,
                    company.id,
                    &new_job.company.name,
                    website,
                    company.description.as_deref(),
                    now,
                )?;
            }
            jobs::update(tx, id, &new_job, company.id, now)?;
            accounts::audit(
                tx,
                Some(admin_id),
                "edit",
                "job",
                Some(id),
                Some(&new_job.title),
                now,
            )
        })
        .await?;
    Ok(web::see_other(&back_to(form, &format!("/admin/jobs/{id}"))))
}

/// `POST /admin/users/{id}/{disable|enable}`: a disabled user cannot sign in
/// (their sessions end) and their published jobs are hidden until enabled.
#[handler]
pub async fn user_action(
    Data(state): Data<&State>,
    Path((id, action)): Path<(i64, String)>,
    form: Form,
    AdminUser(admin): AdminUser,
) -> poem::Result<Response> {
    let disabled = match action.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Err(AppError::NotFound.into()),
    };
    if disabled && id == admin.id {
        return Err(AppError::Forbidden(
            "You cannot disable your own account: ask another admin.".into(),
        )
        .into());
    }
    let now = state.now();
    let require_verified = state.config.posting.require_verified_email;
    let admin_id = admin.id;
    state
        .db
        .write(move |tx| {
            let user = accounts::by_id(tx, id)?;
            accounts::set_disabled(tx, id, disabled, require_verified, now)?;
            accounts::audit(
                tx,
                Some(admin_id),
                &action,
                "user",
                Some(id),
                Some(&user.email),
                now,
            )
        })
        .await?;
    Ok(web::see_other(&back_to(&form, "/admin/users")))
}

/// `POST /admin/tasks/{id}/retry`: a background task that failed for good
/// is queued again now, with its attempts counted afresh.
#[handler]
pub async fn retry_task(
    Data(state): Data<&State>,
    Path(id): Path<i64>,
    form: Form,
    AdminUser(admin): AdminUser,
) -> poem::Result<Response> {
    let now = state.now();
    let admin_id = admin.id;
    state
        .db
        .write(move |tx| {
            crate::tasks::queue::retry(tx, id, now)?;
            accounts::audit(tx, Some(admin_id), "retry", "task", Some(id), None, now)
        })
        .await?;
    state.wake.notify();
    Ok(web::see_other(&back_to(&form, "/admin#tasks")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(back: &str) -> Form {
        Form::from_pairs(vec![("back".into(), back.into())])
    }

    #[test]
    fn back_stays_in_the_admin() {
        assert_eq!(back_to(&form("/admin/jobs?q=x"), "/d"), "/admin/jobs?q=x");
        for bad in [
            "https://evil.example/admin",
            "//evil.example",
            "/dashboard",
            "",
        ] {
            assert_eq!(back_to(&form(bad), "/d"), "/d", "{bad:?}");
        }
        assert!(is_job_page("/admin/jobs/12?x=1", 12));
        assert!(is_job_page("/admin/jobs/12/edit", 12));
        assert!(!is_job_page("/admin/jobs/123", 12));
    }
}
