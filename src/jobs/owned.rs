//! Jobs as their owners see them: created from `/post` or the API, listed in
//! the dashboard, changed only by the employer who posted them. Someone else's
//! job is simply not found.

use rusqlite::{Connection, params};

use super::input::{CompanyInput, NewJob};
use super::model::{Job, Status};
use super::store::{self, Placement};
use crate::accounts::{User, store as accounts};
use crate::companies::store as companies;
use crate::config::Config;
use crate::error::AppError;

/// Where a newly submitted job goes: to review when the board requires
/// approval, else live now for `posting.duration_days`.
pub fn submitted_placement(config: &Config, now: i64) -> Placement {
    if config.posting.require_approval {
        Placement {
            status: Status::PendingReview,
            published_at: None,
            expires_at: None,
        }
    } else {
        published_now(config, now)
    }
}

/// Live from now for the board's post duration.
pub fn published_now(config: &Config, now: i64) -> Placement {
    Placement {
        status: Status::Published,
        published_at: Some(now),
        expires_at: Some(now + i64::from(config.posting.duration_days) * 86_400),
    }
}

/// The employer's company: their own (renamed when the input renames it), or
/// a new one with a slug of its own, linked to them.
pub fn company_for(
    conn: &Connection,
    user: &User,
    input: &CompanyInput,
    now: i64,
) -> Result<i64, AppError> {
    let current = accounts::by_id(conn, user.id)?.company_id;
    match current {
        Some(id) => {
            let company = companies::by_id(conn, id)?;
            let website = input.website.as_deref().or(company.website.as_deref());
            if company.name != input.name || company.website.as_deref() != website {
                companies::update_profile(
                    conn,
                    id,
                    &input.name,
                    website,
                    company.description.as_deref(),
                    now,
                )?;
            }
            Ok(id)
        }
        None => {
            let id = companies::create_unique(conn, input, now)?;
            accounts::set_company(conn, user.id, id, now)?;
            Ok(id)
        }
    }
}

/// Stores a job for its owner; returns its id. Hidden from the public while
/// the owner is disabled or unverified when that is required.
pub fn create(
    conn: &Connection,
    config: &Config,
    user: &User,
    job: &NewJob,
    placement: Placement,
    now: i64,
) -> Result<i64, AppError> {
    let company_id = company_for(conn, user, &job.company, now)?;
    let mut job = job.clone();
    // Featured placement is sold or given by admins, never self-assigned.
    job.featured = false;
    let id = store::insert(conn, &job, company_id, placement, now)?;
    let hidden = accounts::hides_jobs(user, config.posting.require_verified_email);
    conn.prepare_cached("UPDATE jobs SET owner_id = ?2, hidden = ?3 WHERE id = ?1")?
        .execute(params![id, user.id, hidden])?;
    Ok(id)
}

/// One of the owner's jobs (any status, not deleted).
pub fn get(conn: &Connection, user_id: i64, id: i64) -> Result<Job, AppError> {
    let job = store::get(conn, id)?;
    if job.owner_id == Some(user_id) {
        Ok(job)
    } else {
        Err(AppError::NotFound)
    }
}

/// The owner's jobs, newest first.
pub fn list(conn: &Connection, user_id: i64) -> Result<Vec<Job>, AppError> {
    store::by_owner(conn, user_id)
}

/// Replaces the content of one of the owner's jobs; its status stays (a live
/// job stays live) and the change reaches search through the queue.
pub fn update(
    conn: &Connection,
    user: &User,
    id: i64,
    job: &NewJob,
    now: i64,
) -> Result<(), AppError> {
    get(conn, user.id, id)?;
    let company_id = company_for(conn, user, &job.company, now)?;
    store::update(conn, id, job, company_id, now)
}

/// Soft-deletes one of the owner's jobs.
pub fn delete(conn: &Connection, user_id: i64, id: i64, now: i64) -> Result<(), AppError> {
    get(conn, user_id, id)?;
    store::delete(conn, id, now)
}

/// After a job is submitted or resubmitted: when it waits for review, each
/// admin gets an email saying so.
pub async fn notify_if_pending(state: &crate::web::State, job_id: i64) -> Result<(), AppError> {
    let (job, admins) = state
        .db
        .read(move |c| Ok((store::get(c, job_id)?, accounts::admin_emails(c)?)))
        .await?;
    if job.status != Status::PendingReview {
        return Ok(());
    }
    let link = state.url("/admin");
    let subject = format!("Waiting for review: {}", job.title);
    for admin in &admins {
        state
            .send_mail(crate::mail::Email {
                to: admin,
                subject: &subject,
                template: "job_review",
                context: minijinja::context! {
                    title => &job.title,
                    company => &job.company.name,
                    link => &link,
                },
            })
            .await;
    }
    Ok(())
}

/// Submits one of the owner's drafts: live now, or to review (see
/// [`submitted_placement`]). A job that is not a draft is left as it is.
pub fn submit(
    conn: &Connection,
    config: &Config,
    user_id: i64,
    id: i64,
    now: i64,
) -> Result<(), AppError> {
    let job = get(conn, user_id, id)?;
    if job.status != Status::Draft {
        return Ok(());
    }
    store::set_placement(conn, id, submitted_placement(config, now), now)
}
