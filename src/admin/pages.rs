//! The admin's pages: `/admin` (stats, moderation queue, audit log),
//! `/admin/jobs` (all jobs, filtered and paged), `/admin/jobs/{id}` (one job
//! and every action on it), `/admin/jobs/{id}/edit` and `/admin/users`.

use minijinja::{Value, context};
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use super::store::{self, JobFilter, Listed};
use crate::accounts::session::AdminUser;
use crate::accounts::store as accounts;
use crate::accounts::{User, session::url_encode};
use crate::clock;
use crate::error::{AppError, FieldErrors};
use crate::jobs::form;
use crate::jobs::model::Status;
use crate::web::{State, forms};

/// Rows per page of the job and user lists.
pub const PER_PAGE: i64 = 50;
/// Jobs of the moderation queue shown at once.
const QUEUE_SHOWN: i64 = 50;
/// Audit entries on the overview.
const AUDIT_SHOWN: i64 = 100;

/// Renders an admin page for this browser (with its CSRF token), never cached.
pub fn page(
    state: &State,
    req: &Request,
    template: &str,
    status: StatusCode,
    admin: &User,
    ctx: Value,
) -> Result<Response, AppError> {
    let back = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/admin".into());
    forms::page(
        state,
        req,
        template,
        status,
        context! { admin, back, ..ctx },
    )
}

/// A job as the admin's tables show it.
#[derive(Debug, Serialize)]
pub struct JobRow {
    pub id: i64,
    pub title: String,
    pub company: String,
    /// Its public page, while the public may see it.
    pub url: Option<String>,
    pub status: &'static str,
    pub featured: bool,
    pub hidden: bool,
    pub owner_email: Option<String>,
    pub owner_disabled: bool,
    pub rejection_reason: Option<String>,
    pub views: i64,
    pub apply_clicks: i64,
    pub created: String,
    pub published: Option<String>,
    pub expires: Option<String>,
}

/// The row for one listed job.
pub fn job_row(listed: &Listed, now: i64) -> JobRow {
    let job = &listed.job;
    JobRow {
        id: job.id,
        title: job.title.clone(),
        company: job.company.name.clone(),
        url: job.is_live(now).then(|| job.path()),
        status: job.status.as_str(),
        featured: job.featured,
        hidden: job.hidden,
        owner_email: listed.owner_email.clone(),
        owner_disabled: listed.owner_disabled,
        rejection_reason: listed.rejection_reason.clone(),
        views: job.views,
        apply_clicks: job.apply_clicks,
        created: clock::human_date(job.created_at),
        published: job.published_at.map(clock::human_date),
        expires: job.expires_at.map(clock::human_date),
    }
}

/// "2026-11-27 09:00 UTC".
fn date_time(unix: i64) -> String {
    let t = clock::rfc3339(unix);
    format!(
        "{} {} UTC",
        t.get(..10).unwrap_or(""),
        t.get(11..16).unwrap_or("")
    )
}

/// Links to the previous and next page of a list at `path` with `query`.
fn pager(path: &str, query: &[(&str, String)], page: i64, total: i64) -> Value {
    let total_pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let url = |n: i64| {
        let mut pairs: Vec<(&str, String)> = query
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .cloned()
            .collect();
        if n > 1 {
            pairs.push(("page", n.to_string()));
        }
        let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if q.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{q}")
        }
    };
    context! {
        page,
        total_pages,
        total,
        prev_url => (page > 1).then(|| url(page - 1)),
        next_url => (page < total_pages).then(|| url(page + 1)),
    }
}

fn page_number(page: Option<i64>) -> i64 {
    page.unwrap_or(1).clamp(1, 100_000)
}

/// `GET /admin`: stats, the moderation queue and the audit log.
#[handler]
pub async fn index(
    req: &Request,
    Data(state): Data<&State>,
    AdminUser(admin): AdminUser,
) -> poem::Result<Response> {
    let (stats, (queue, queued), log, (failed, task_counts)) = state
        .db
        .read(|c| {
            Ok((
                store::stats(c)?,
                store::queue(c, QUEUE_SHOWN)?,
                accounts::audit_log(c, AUDIT_SHOWN)?,
                (
                    crate::tasks::queue::failed(c, 50)?,
                    crate::tasks::queue::counts(c)?,
                ),
            ))
        })
        .await?;
    let failed: Vec<Value> = failed
        .iter()
        .map(|t| {
            context! {
                id => t.id,
                kind => &t.kind,
                attempts => t.attempts,
                error => t.last_error.clone(),
                at => clock::rfc3339(t.updated_at),
                at_text => date_time(t.updated_at),
            }
        })
        .collect();
    let task_counts: Vec<Value> = task_counts
        .iter()
        .map(|(state, n)| context! { state, n })
        .collect();
    let now = state.now();
    let queue: Vec<JobRow> = queue.iter().map(|l| job_row(l, now)).collect();
    let audit: Vec<Value> = log
        .iter()
        .map(|e| {
            context! {
                at => clock::rfc3339(e.at),
                at_text => date_time(e.at),
                actor => e.actor.clone(),
                action => &e.action,
                target_kind => &e.target_kind,
                target_id => e.target_id,
                detail => e.detail.clone(),
            }
        })
        .collect();
    Ok(page(
        state,
        req,
        "admin/index.html",
        StatusCode::OK,
        &admin,
        context! {
            section => "overview",
            stats,
            queue,
            queued,
            audit,
            failed,
            task_counts,
            require_approval => state.config.posting.require_approval,
        },
    )?)
}

/// The filters and page of `/admin/jobs`.
#[derive(Debug, Default, Deserialize)]
pub struct JobsQuery {
    status: Option<String>,
    q: Option<String>,
    owner: Option<String>,
    page: Option<i64>,
}

/// `GET /admin/jobs`: every job (not deleted), filtered, newest first.
#[handler]
pub async fn jobs(
    req: &Request,
    Data(state): Data<&State>,
    Query(q): Query<JobsQuery>,
    AdminUser(admin): AdminUser,
) -> poem::Result<Response> {
    let trimmed = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
    };
    let filter = JobFilter {
        status: q.status.as_deref().and_then(Status::parse),
        text: trimmed(&q.q),
        owner: trimmed(&q.owner),
    };
    let page_no = page_number(q.page);
    let lookup = filter.clone();
    let (listed, total) = state
        .db
        .read(move |c| store::jobs_page(c, &lookup, PER_PAGE, (page_no - 1) * PER_PAGE))
        .await?;
    let now = state.now();
    let rows: Vec<JobRow> = listed.iter().map(|l| job_row(l, now)).collect();
    let status = filter.status.map(Status::as_str).unwrap_or("");
    let text = filter.text.clone().unwrap_or_default();
    let owner = filter.owner.clone().unwrap_or_default();
    let query = [
        ("status", status.to_string()),
        ("q", text.clone()),
        ("owner", owner.clone()),
    ];
    let statuses: Vec<Value> = Status::ALL
        .iter()
        .map(|s| context! { value => s.as_str(), label => s.as_str().replace('_', " ") })
        .collect();
    Ok(page(
        state,
        req,
        "admin/jobs.html",
        StatusCode::OK,
        &admin,
        context! {
            section => "jobs",
            jobs => rows,
            filters => context! { status, q => text, owner },
            filtered => filter.status.is_some() || filter.text.is_some() || filter.owner.is_some(),
            statuses,
            pager => pager("/admin/jobs", &query, page_no, total),
        },
    )?)
}

/// The page of one job with every action on it; `errors` and `reason` come
/// back from a refused rejection.
pub async fn job_page(
    state: &State,
    req: &Request,
    admin: &User,
    id: i64,
    status: StatusCode,
    reason: &str,
    errors: &FieldErrors,
) -> poem::Result<Response> {
    let listed = state.db.read(move |c| store::listed(c, id)).await?;
    let job = &listed.job;
    let row = job_row(&listed, state.now());
    Ok(page(
        state,
        req,
        "admin/job.html",
        status,
        admin,
        context! {
            section => "jobs",
            job => row,
            category => state
                .config
                .site
                .categories
                .iter()
                .find(|c| c.slug == job.category)
                .map_or(job.category.as_str(), |c| c.label.as_str()),
            job_type => job.job_type.label(),
            apply => job.apply_url.clone().or_else(|| job.apply_email.clone()),
            reason,
            errors => forms::errors(errors),
        },
    )?)
}

/// `GET /admin/jobs/{id}`: one job, its owner, and the actions.
#[handler]
pub async fn show(
    req: &Request,
    Data(state): Data<&State>,
    Path(id): Path<i64>,
    AdminUser(admin): AdminUser,
) -> poem::Result<Response> {
    job_page(
        state,
        req,
        &admin,
        id,
        StatusCode::OK,
        "",
        &FieldErrors::new(),
    )
    .await
}

/// The edit form of a job: its stored values, or what was typed with the
/// errors (422).
pub async fn edit_form(
    state: &State,
    req: &Request,
    admin: &User,
    id: i64,
    status: StatusCode,
    values: Value,
    errors: &FieldErrors,
) -> poem::Result<Response> {
    let listed = state.db.read(move |c| store::listed(c, id)).await?;
    let row = job_row(&listed, state.now());
    let tags = form::popular_tags(state).await;
    Ok(page(
        state,
        req,
        "admin/edit.html",
        status,
        admin,
        context! {
            section => "jobs",
            job => row,
            values,
            errors => forms::errors(errors),
            options => form::options(&state.config, &tags),
        },
    )?)
}

/// `GET /admin/jobs/{id}/edit`: the job form, filled in.
#[handler]
pub async fn edit(
    req: &Request,
    Data(state): Data<&State>,
    Path(id): Path<i64>,
    AdminUser(admin): AdminUser,
) -> poem::Result<Response> {
    let job = state
        .db
        .read(move |c| crate::jobs::store::get(c, id))
        .await?;
    let values = form::values_from_job(&job);
    edit_form(
        state,
        req,
        &admin,
        id,
        StatusCode::OK,
        values,
        &FieldErrors::new(),
    )
    .await
}

/// The page of `/admin/users`.
#[derive(Debug, Default, Deserialize)]
pub struct UsersQuery {
    page: Option<i64>,
}

/// `GET /admin/users`: every account, newest first, with disable and enable.
#[handler]
pub async fn users(
    req: &Request,
    Data(state): Data<&State>,
    Query(q): Query<UsersQuery>,
    AdminUser(admin): AdminUser,
) -> poem::Result<Response> {
    let page_no = page_number(q.page);
    let (users, total) = state
        .db
        .read(move |c| {
            Ok((
                accounts::list(c, PER_PAGE, (page_no - 1) * PER_PAGE)?,
                store::user_count(c)?,
            ))
        })
        .await?;
    let rows: Vec<Value> = users
        .iter()
        .map(|(user, job_count)| {
            context! {
                id => user.id,
                email => &user.email,
                role => user.role.as_str(),
                verified => user.email_verified,
                disabled => user.disabled,
                jobs => job_count,
                jobs_url => format!("/admin/jobs?owner={}", url_encode(&user.email)),
                created => clock::human_date(user.created_at),
                me => user.id == admin.id,
            }
        })
        .collect();
    Ok(page(
        state,
        req,
        "admin/users.html",
        StatusCode::OK,
        &admin,
        context! {
            section => "users",
            users => rows,
            pager => pager("/admin/users", &[], page_no, total),
        },
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager_links_keep_the_filters() {
        let p = pager(
            "/admin/jobs",
            &[("status", "published".into()), ("q", String::new())],
            2,
            120,
        );
        assert_eq!(
            p.get_attr("prev_url").expect("prev").as_str(),
            Some("/admin/jobs?status=published")
        );
        assert_eq!(
            p.get_attr("next_url").expect("next").as_str(),
            Some("/admin/jobs?status=published&page=3")
        );
        assert_eq!(p.get_attr("total_pages").expect("n").as_i64(), Some(3));
    }

    #[test]
    fn audit_times_read_as_utc() {
        assert_eq!(date_time(1_795_770_000), "2026-11-27 09:00 UTC");
    }
}
