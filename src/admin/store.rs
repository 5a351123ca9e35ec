//! SQL for the admin: site stats, the moderation queue, the filtered list of
//! all jobs, and the job changes only admins make (approve, reject, feature,
//! expire). Every change queues the job for the search index in the same
//! transaction.

use rusqlite::{Connection, OptionalExtension, params};

use crate::config::Config;
use crate::error::AppError;
use crate::jobs::model::{Job, Status};
use crate::jobs::owned;
use crate::jobs::store::{self as jobs, Placement};

/// Counts for the top of the admin page.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// Jobs per status (deleted jobs left out), in status order.
    pub by_status: Vec<(String, i64)>,
    pub jobs: i64,
    pub views: i64,
    pub apply_clicks: i64,
    pub users: i64,
    pub admins: i64,
    pub disabled_users: i64,
}

/// The board's numbers: jobs by status, views and apply clicks of all jobs,
/// and users.
pub fn stats(conn: &Connection) -> Result<Stats, AppError> {
    let counted = jobs::count_by_status(conn)?;
    let by_status = Status::ALL
        .iter()
        .map(|s| {
            let n = counted
                .iter()
                .find(|(name, _)| name == s.as_str())
                .map_or(0, |(_, n)| *n);
            (s.as_str().to_string(), n)
        })
        .collect();
    let (jobs, views, apply_clicks) = conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(views), 0), coalesce(sum(apply_clicks), 0) \
             FROM jobs WHERE deleted_at IS NULL",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let (users, admins, disabled_users) = conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(role = 'admin'), 0), \
             coalesce(sum(disabled_at IS NOT NULL), 0) FROM users",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(Stats {
        by_status,
        jobs,
        views,
        apply_clicks,
        users,
        admins,
        disabled_users,
    })
}

/// Which jobs the admin's list shows; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub status: Option<Status>,
    /// Part of the title or the company's name.
    pub text: Option<String>,
    /// Part of the owner's email.
    pub owner: Option<String>,
}

/// A job as the admin lists it: with its owner and why it was rejected.
#[derive(Debug, Clone)]
pub struct Listed {
    pub job: Job,
    pub owner_email: Option<String>,
    pub owner_disabled: bool,
    pub rejection_reason: Option<String>,
}

/// `%text%` for LIKE, with the text's own `%`, `_` and `\` taken literally.
fn like(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

const FILTERED: &str = "FROM jobs j JOIN companies c ON c.id = j.company_id \
     LEFT JOIN users u ON u.id = j.owner_id \
     WHERE j.deleted_at IS NULL AND (?1 IS NULL OR j.status = ?1) \
     AND (?2 IS NULL OR j.title LIKE ?2 ESCAPE '\\' OR c.name LIKE ?2 ESCAPE '\\') \
     AND (?3 IS NULL OR u.email LIKE ?3 ESCAPE '\\')";

/// A page of jobs matching `filter` (not deleted), newest first, and how
/// many match in all.
pub fn jobs_page(
    conn: &Connection,
    filter: &JobFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Listed>, i64), AppError> {
    let status = filter.status.map(Status::as_str);
    let text = filter.text.as_deref().map(like);
    let owner = filter.owner.as_deref().map(like);
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) {FILTERED}"))?
        .query_row(params![status, text, owner], |r| r.get(0))?;
    let ids: Vec<i64> = conn
        .prepare_cached(&format!(
            "SELECT j.id {FILTERED} ORDER BY j.id DESC LIMIT ?4 OFFSET ?5"
        ))?
        .query_map(params![status, text, owner, limit, offset], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let listed = ids
        .into_iter()
        .map(|id| listed(conn, id))
        .collect::<Result<_, _>>()?;
    Ok((listed, total))
}

/// Jobs waiting for review, oldest first (the order they came in).
pub fn queue(conn: &Connection, limit: i64) -> Result<(Vec<Listed>, i64), AppError> {
    let total: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM jobs WHERE status = 'pending_review' AND deleted_at IS NULL",
        )?
        .query_row([], |r| r.get(0))?;
    let ids: Vec<i64> = conn
        .prepare_cached(
            "SELECT id FROM jobs WHERE status = 'pending_review' AND deleted_at IS NULL ORDER BY id LIMIT ?1",
        )?
        .query_map([limit], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let listed = ids
        .into_iter()
        .map(|id| listed(conn, id))
        .collect::<Result<_, _>>()?;
    Ok((listed, total))
}

/// One job (not deleted) with its owner and rejection reason.
pub fn listed(conn: &Connection, id: i64) -> Result<Listed, AppError> {
    let job = jobs::get(conn, id)?;
    let (owner_email, owner_disabled, rejection_reason) = conn
        .prepare_cached(
            "SELECT u.email, u.disabled_at IS NOT NULL, j.rejection_reason \
             FROM jobs j LEFT JOIN users u ON u.id = j.owner_id WHERE j.id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, Option<bool>>(1)?.unwrap_or(false),
                r.get(2)?,
            ))
        })?;
    Ok(Listed {
        job,
        owner_email,
        owner_disabled,
        rejection_reason,
    })
}

/// How many accounts there are (for paging the user list).
pub fn user_count(conn: &Connection) -> Result<i64, AppError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM users")?
        .query_row([], |r| r.get(0))?)
}

/// The owner's email of a job, if it has an owner.
pub fn owner_email(conn: &Connection, job_id: i64) -> Result<Option<String>, AppError> {
    Ok(conn
        .prepare_cached(
            "SELECT u.email FROM jobs j JOIN users u ON u.id = j.owner_id WHERE j.id = ?1",
        )?
        .query_row([job_id], |r| r.get(0))
        .optional()?)
}

/// Publishes a job now for the board's post duration and forgets any earlier
/// rejection.
pub fn approve(conn: &Connection, config: &Config, id: i64, now: i64) -> Result<(), AppError> {
    jobs::set_placement(conn, id, owned::published_now(config, now), now)?;
    conn.prepare_cached("UPDATE jobs SET rejection_reason = NULL WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Rejects a job (from any status) with the reason its employer is told.
pub fn reject(conn: &Connection, id: i64, reason: &str, now: i64) -> Result<(), AppError> {
    let changed = conn
        .prepare_cached(
            "UPDATE jobs SET status = 'rejected', rejection_reason = ?2, updated_at = ?3 \
             WHERE id = ?1 AND deleted_at IS NULL",
        )?
        .execute(params![id, reason, now])?;
    queued(conn, changed, id, now)
}

pub use crate::jobs::store::set_featured;

/// Ends a published job now: status `expired`, expiring at `now`. Any other
/// job is refused: expiring a draft or a rejected job would give it a public
/// page, and its owner a renewal straight to live.
pub fn expire(conn: &Connection, id: i64, now: i64) -> Result<(), AppError> {
    let job = jobs::get(conn, id)?;
    if job.status != Status::Published {
        return Err(AppError::BadRequest(format!(
            "Only a published job can be expired; this one is {}.",
            job.status.as_str().replace('_', " ")
        )));
    }
    let placement = Placement {
        status: Status::Expired,
        published_at: job.published_at,
        expires_at: Some(now),
    };
    jobs::set_placement(conn, id, placement, now)
}

fn queued(conn: &Connection, changed: usize, id: i64, now: i64) -> Result<(), AppError> {
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    crate::search::queue::enqueue(conn, id, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_published_jobs_expire() {
        let mut c = Connection::open_in_memory().expect("open");
        crate::db::migrations::migrate(&mut c).expect("migrate");
        let input: crate::jobs::input::JobInput = serde_json::from_value(serde_json::json!({
            "title": "Waiting", "company": {"name": "Acme"}, "description": "x",
            "category": "Other", "job_type": "contract", "apply_url": "https://a.example"
        }))
        .expect("shape");
        let categories = crate::config::Config::for_data_dir(std::path::Path::new("/tmp/x"))
            .site
            .categories;
        let job = input.validate(&categories).expect("valid");
        let pending = Placement {
            status: Status::PendingReview,
            published_at: None,
            expires_at: None,
        };
        let id = crate::jobs::create(&c, &job, pending, 10).expect("stored");
        assert!(matches!(expire(&c, id, 20), Err(AppError::BadRequest(_))));
        assert_eq!(
            jobs::get(&c, id).expect("job").status,
            Status::PendingReview
        );
    }
    use crate::jobs::input::JobInput;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().expect("open");
        crate::db::migrations::migrate(&mut c).expect("migrate");
        c
    }

    fn add(conn: &Connection, title: &str, company: &str, status: Status) -> i64 {
        let input: JobInput = serde_json::from_value(serde_json::json!({
            "title": title,
            "company": {"name": company},
            "description": "Build things.",
            "category": "Software Development",
            "job_type": "full_time",
            "remote": ["worldwide"],
            "apply_url": "https://example.com/apply"
        }))
        .expect("shape");
        let config = Config::for_data_dir(std::path::Path::new("/tmp/unused"));
        let job = input.validate(&config.site.categories).expect("valid");
        let placement = Placement {
            status,
            published_at: None,
            expires_at: None,
        };
        crate::jobs::create(conn, &job, placement, 100).expect("insert")
    }

    #[test]
    fn the_list_filters_by_status_text_and_owner() {
        let c = db();
        let a = add(&c, "Rust Engineer", "Acme", Status::Published);
        let b = add(&c, "Designer 100%", "Globex", Status::PendingReview);
        let _ = add(&c, "Writer", "Initech", Status::Draft);
        let all = JobFilter::default();
        let (page, total) = jobs_page(&c, &all, 10, 0).expect("page");
        assert_eq!(total, 3);
        assert_eq!(page.len(), 3);
        let by_status = JobFilter {
            status: Some(Status::PendingReview),
            ..JobFilter::default()
        };
        let (page, _) = jobs_page(&c, &by_status, 10, 0).expect("page");
        assert_eq!(page.iter().map(|l| l.job.id).collect::<Vec<_>>(), [b]);
        let by_company = JobFilter {
            text: Some("acm".into()),
            ..JobFilter::default()
        };
        let (page, _) = jobs_page(&c, &by_company, 10, 0).expect("page");
        assert_eq!(page.iter().map(|l| l.job.id).collect::<Vec<_>>(), [a]);
        let literal = JobFilter {
            text: Some("0%".into()),
            ..JobFilter::default()
        };
        let (page, _) = jobs_page(&c, &literal, 10, 0).expect("page");
        assert_eq!(page.iter().map(|l| l.job.id).collect::<Vec<_>>(), [b]);
        let owner = JobFilter {
            owner: Some("nobody".into()),
            ..JobFilter::default()
        };
        assert_eq!(jobs_page(&c, &owner, 10, 0).expect("page").1, 0);
        let (page, total) = jobs_page(&c, &all, 2, 2).expect("page");
        assert_eq!((page.len(), total), (1, 3));
    }

    #[test]
    fn reject_then_approve_keeps_and_clears_the_reason() {
        let c = db();
        let id = add(&c, "Rust Engineer", "Acme", Status::PendingReview);
        assert_eq!(queue(&c, 10).expect("queue").1, 1);
        reject(&c, id, "No salary given", 200).expect("reject");
        let l = listed(&c, id).expect("job");
        assert_eq!(l.job.status, Status::Rejected);
        assert_eq!(l.rejection_reason.as_deref(), Some("No salary given"));
        assert_eq!(queue(&c, 10).expect("queue").1, 0);
        let config = Config::for_data_dir(std::path::Path::new("/tmp/unused"));
        approve(&c, &config, id, 300).expect("approve");
        let l = listed(&c, id).expect("job");
        assert_eq!(l.job.status, Status::Published);
        assert_eq!(l.job.published_at, Some(300));
        assert!(l.rejection_reason.is_none());
        expire(&c, id, 400).expect("expire");
        let job = jobs::get(&c, id).expect("job");
        assert_eq!((job.status, job.expires_at), (Status::Expired, Some(400)));
        set_featured(&c, id, true, 500).expect("feature");
        assert!(jobs::get(&c, id).expect("job").featured);
        let stats = stats(&c).expect("stats");
        assert_eq!(stats.jobs, 1);
        assert!(stats.by_status.contains(&("expired".to_string(), 1)));
    }
}
