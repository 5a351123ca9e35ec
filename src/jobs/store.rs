//! SQL for jobs: plain functions over a connection or transaction.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::input::NewJob;
use super::model::{CompanyRef, Job, JobType, Region, Salary, SalaryPeriod, Status};
use crate::error::AppError;

/// The columns `from_row` reads, in its order.
macro_rules! columns {
    () => {
        "SELECT j.id, j.slug, j.title, j.description, j.description_html, \
     j.category, j.job_type, j.tags, j.remote, j.timezones, j.location, \
     j.salary_min, j.salary_max, j.salary_currency, j.salary_period, \
     j.apply_url, j.apply_email, j.featured, j.status, j.published_at, j.expires_at, \
     j.created_at, j.updated_at, j.views, j.apply_clicks, \
     c.id, c.name, c.slug, c.website, c.logo_url, j.owner_id, j.hidden, j.rejection_reason"
    };
}

/// Jobs with their companies.
const SELECT: &str = concat!(
    columns!(),
    " FROM jobs j JOIN companies c ON c.id = j.company_id"
);

/// Live jobs through the index made for them (without statistics, SQLite may
/// pick the expiry index and sort all live rows for every page).
const SELECT_LIVE: &str = concat!(
    columns!(),
    " FROM jobs j INDEXED BY jobs_listing JOIN companies c ON c.id = j.company_id"
);

/// The condition for what the public may see, with `?1` as now.
const LIVE: &str =
    "j.status = 'published' AND j.deleted_at IS NULL AND j.hidden = 0 AND j.expires_at > ?1";

/// The public order: featured first, newest first, highest id on ties.
const ORDER: &str = "ORDER BY j.featured DESC, j.published_at DESC, j.id DESC";

/// As in [`SELECT_LIVE`], for queries that need no company.
const LIVE_JOBS: &str = "jobs j INDEXED BY jobs_listing";

fn bad_value(column: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        format!("unexpected {what}").into(),
    )
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    let job_type: String = r.get(6)?;
    let tags: String = r.get(7)?;
    let remote: String = r.get(8)?;
    let status: String = r.get(18)?;
    let salary_min: Option<i64> = r.get(11)?;
    let salary_max: Option<i64> = r.get(12)?;
    let salary = if salary_min.is_some() || salary_max.is_some() {
        let period: Option<String> = r.get(14)?;
        Some(Salary {
            min: salary_min,
            max: salary_max,
            currency: r.get::<_, Option<String>>(13)?.unwrap_or_default(),
            period: period
                .as_deref()
                .and_then(SalaryPeriod::parse)
                .unwrap_or(SalaryPeriod::Year),
        })
    } else {
        None
    };
    let remote: Vec<String> = serde_json::from_str(&remote).map_err(|_| bad_value(8, "remote"))?;
    Ok(Job {
        id: r.get(0)?,
        slug: r.get(1)?,
        title: r.get(2)?,
        description: r.get(3)?,
        description_html: r.get(4)?,
        category: r.get(5)?,
        job_type: JobType::parse(&job_type).ok_or_else(|| bad_value(6, "job type"))?,
        tags: serde_json::from_str(&tags).map_err(|_| bad_value(7, "tags"))?,
        remote: remote.iter().filter_map(|s| Region::parse(s)).collect(),
        timezones: r.get(9)?,
        location: r.get(10)?,
        salary,
        apply_url: r.get(15)?,
        apply_email: r.get(16)?,
        featured: r.get(17)?,
        status: Status::parse(&status).ok_or_else(|| bad_value(18, "status"))?,
        published_at: r.get(19)?,
        expires_at: r.get(20)?,
        created_at: r.get(21)?,
        updated_at: r.get(22)?,
        views: r.get(23)?,
        apply_clicks: r.get(24)?,
        company: CompanyRef {
            id: r.get(25)?,
            name: r.get(26)?,
            slug: r.get(27)?,
            website: r.get(28)?,
            logo_url: r.get(29)?,
        },
        owner_id: r.get(30)?,
        hidden: r.get(31)?,
        rejection_reason: r.get(32)?,
    })
}

/// One job in any status, unless deleted.
pub fn get(conn: &Connection, id: i64) -> Result<Job, AppError> {
    let sql = format!("{SELECT} WHERE j.id = ?1 AND j.deleted_at IS NULL");
    Ok(conn.prepare_cached(&sql)?.query_row([id], from_row)?)
}

/// A job's title, deleted or not (for payment records).
pub fn title_of(conn: &Connection, id: i64) -> Result<String, AppError> {
    Ok(conn
        .prepare_cached("SELECT title FROM jobs WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?)
}

/// One job the public may see now.
pub fn get_live(conn: &Connection, id: i64, now: i64) -> Result<Job, AppError> {
    let job = get(conn, id)?;
    if job.is_live(now) {
        Ok(job)
    } else {
        Err(AppError::NotFound)
    }
}

/// An owner's jobs (any status, not deleted), newest first.
pub fn by_owner(conn: &Connection, owner_id: i64) -> Result<Vec<Job>, AppError> {
    let sql = format!(
        "{SELECT} WHERE j.owner_id = ?1 AND j.deleted_at IS NULL ORDER BY j.created_at DESC, j.id DESC"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([owner_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A page of live jobs in the public order.
pub fn list_live(
    conn: &Connection,
    now: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<Job>, AppError> {
    let sql = format!("{SELECT_LIVE} WHERE {LIVE} {ORDER} LIMIT ?2 OFFSET ?3");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![now, limit, offset], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many jobs are live.
pub fn count_live(conn: &Connection, now: i64) -> Result<i64, AppError> {
    let sql = format!("SELECT count(*) FROM {LIVE_JOBS} WHERE {LIVE}");
    Ok(conn.prepare_cached(&sql)?.query_row([now], |r| r.get(0))?)
}

/// A page of live jobs and how many there are in all: the listing while the
/// search index is being built.
pub fn newest(
    conn: &Connection,
    now: i64,
    per_page: i64,
    page: i64,
) -> Result<(Vec<Job>, i64), AppError> {
    let offset = (page.max(1) - 1).saturating_mul(per_page);
    Ok((
        list_live(conn, now, per_page, offset)?,
        count_live(conn, now)?,
    ))
}

/// A company's live jobs, in the public order.
pub fn live_by_company(conn: &Connection, company_id: i64, now: i64) -> Result<Vec<Job>, AppError> {
    let sql = format!("{SELECT} WHERE {LIVE} AND j.company_id = ?2 {ORDER} LIMIT 500");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![now, company_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `(path, updated_at)` of live jobs, newest first, for the sitemap.
pub fn live_paths(
    conn: &Connection,
    now: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<(String, i64)>, AppError> {
    let sql = format!(
        "SELECT j.id, j.slug, j.updated_at FROM {LIVE_JOBS} WHERE {LIVE} {ORDER} LIMIT ?2 OFFSET ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![now, limit, offset], |r| {
        Ok((
            format!("/jobs/{}-{}", r.get::<_, i64>(0)?, r.get::<_, String>(1)?),
            r.get(2)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Calls `each` for every job not deleted (or only those in `status`), by id.
pub fn for_each(
    conn: &Connection,
    status: Option<Status>,
    mut each: impl FnMut(Job) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let sql = format!(
        "{SELECT} WHERE j.deleted_at IS NULL AND (?1 IS NULL OR j.status = ?1) ORDER BY j.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([status.map(Status::as_str)])?;
    while let Some(row) = rows.next()? {
        each(from_row(row)?)?;
    }
    Ok(())
}

/// When a job goes live and until when.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    pub status: Status,
    pub published_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// The JSON text of a job's tags and regions, as their columns hold them.
fn list_columns(job: &NewJob) -> Result<(String, String), AppError> {
    let remote: Vec<&str> = job.remote.iter().map(|r| r.as_str()).collect();
    Ok((
        serde_json::to_string(&job.tags)?,
        serde_json::to_string(&remote)?,
    ))
}

/// Inserts a job for an existing company; returns its id.
pub fn insert(
    conn: &Connection,
    job: &NewJob,
    company_id: i64,
    placement: Placement,
    now: i64,
) -> Result<i64, AppError> {
    let html = crate::markdown::to_html(&job.description);
    let (tags, remote) = list_columns(job)?;
    let salary = job.salary.as_ref();
    conn.prepare_cached(
        "INSERT INTO jobs (slug, title, company_id, description, description_html, category, \
         job_type, tags, remote, timezones, location, salary_min, salary_max, salary_currency, \
         salary_period, apply_url, apply_email, featured, status, published_at, expires_at, \
         created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
         ?18, ?19, ?20, ?21, ?22, ?22)",
    )?
    .execute(params![
        crate::slug::job_slug(&job.title),
        job.title,
        company_id,
        job.description,
        html,
        job.category,
        job.job_type.as_str(),
        tags,
        remote,
        job.timezones,
        job.location,
        salary.and_then(|s| s.min),
        salary.and_then(|s| s.max),
        salary.map(|s| s.currency.as_str()),
        salary.map(|s| s.period.as_str()),
        job.apply_url,
        job.apply_email,
        job.featured,
        placement.status.as_str(),
        placement.published_at,
        placement.expires_at,
        now,
    ])?;
    let id = conn.last_insert_rowid();
    crate::search::queue::enqueue(conn, id, now)?;
    Ok(id)
}

/// After an UPDATE of one job: not found when no row changed, else queued
/// for the search index in the same transaction.
fn queue_changed(conn: &Connection, changed: usize, id: i64, now: i64) -> Result<(), AppError> {
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    crate::search::queue::enqueue(conn, id, now)
}

/// Replaces a job's content (a live job stays live); queued for the index.
pub fn update(
    conn: &Connection,
    id: i64,
    job: &NewJob,
    company_id: i64,
    now: i64,
) -> Result<(), AppError> {
    let (tags, remote) = list_columns(job)?;
    let salary = job.salary.as_ref();
    let changed = conn
        .prepare_cached(
            "UPDATE jobs SET slug = ?2, title = ?3, company_id = ?4, description = ?5, \
             description_html = ?6, category = ?7, job_type = ?8, tags = ?9, remote = ?10, \
             timezones = ?11, location = ?12, salary_min = ?13, salary_max = ?14, \
             salary_currency = ?15, salary_period = ?16, apply_url = ?17, apply_email = ?18, \
             updated_at = ?19 WHERE id = ?1 AND deleted_at IS NULL",
        )?
        .execute(params![
            id,
            crate::slug::job_slug(&job.title),
            job.title,
            company_id,
            job.description,
            crate::markdown::to_html(&job.description),
            job.category,
            job.job_type.as_str(),
            tags,
            remote,
            job.timezones,
            job.location,
            salary.and_then(|s| s.min),
            salary.and_then(|s| s.max),
            salary.map(|s| s.currency.as_str()),
            salary.map(|s| s.period.as_str()),
            job.apply_url,
            job.apply_email,
            now,
        ])?;
    queue_changed(conn, changed, id, now)
}

/// Moves a job to `placement` (publish, expire, fill, …); queued for the index.
pub fn set_placement(
    conn: &Connection,
    id: i64,
    placement: Placement,
    now: i64,
) -> Result<(), AppError> {
    let changed = conn
        .prepare_cached(
            "UPDATE jobs SET status = ?2, published_at = ?3, expires_at = ?4, updated_at = ?5 \
             WHERE id = ?1 AND deleted_at IS NULL",
        )?
        .execute(params![
            id,
            placement.status.as_str(),
            placement.published_at,
            placement.expires_at,
            now
        ])?;
    queue_changed(conn, changed, id, now)
}

/// Features a job (first on the board) or stops featuring it; queued for the index.
pub fn set_featured(conn: &Connection, id: i64, featured: bool, now: i64) -> Result<(), AppError> {
    let changed = conn
        .prepare_cached(
            "UPDATE jobs SET featured = ?2, updated_at = ?3 WHERE id = ?1 AND deleted_at IS NULL",
        )?
        .execute(params![id, featured, now])?;
    queue_changed(conn, changed, id, now)
}

/// Soft-deletes a job (kept for payment records); queued for the index.
pub fn delete(conn: &Connection, id: i64, now: i64) -> Result<(), AppError> {
    let changed = conn
        .prepare_cached(
            "UPDATE jobs SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
        )?
        .execute(params![id, now])?;
    queue_changed(conn, changed, id, now)
}

/// Expires every published job whose time is up; returns how many. Each is
/// queued for the search index in the same transaction.
pub fn expire_due(conn: &Connection, now: i64) -> Result<usize, AppError> {
    let ids: Vec<i64> = conn
        .prepare_cached(
            "UPDATE jobs SET status = 'expired', updated_at = ?1 \
             WHERE status = 'published' AND expires_at <= ?1 AND deleted_at IS NULL RETURNING id",
        )?
        .query_map([now], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in &ids {
        crate::search::queue::enqueue(conn, *id, now)?;
    }
    Ok(ids.len())
}

/// Published jobs with an owner expiring within `window` seconds whose owner
/// has not yet been reminded of this expiry date: (id, owner email, title,
/// expires_at).
pub fn expiring_unreminded(
    conn: &Connection,
    now: i64,
    window: i64,
) -> Result<Vec<(i64, String, String, i64)>, AppError> {
    let mut stmt = conn.prepare_cached(
        "SELECT j.id, u.email, j.title, j.expires_at FROM jobs j JOIN users u ON u.id = j.owner_id \
         WHERE j.status = 'published' AND j.deleted_at IS NULL AND j.expires_at > ?1 \
           AND j.expires_at <= ?1 + ?2 AND j.reminded_for IS NOT j.expires_at \
           AND u.disabled_at IS NULL",
    )?;
    let rows = stmt.query_map(params![now, window], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Notes that a job's owner was reminded of this expiry date; false when it
/// was noted already, or the job no longer expires then or is not live.
pub fn mark_reminded(conn: &Connection, id: i64, expires_at: i64) -> Result<bool, AppError> {
    let changed = conn
        .prepare_cached(
            "UPDATE jobs SET reminded_for = ?2 WHERE id = ?1 AND expires_at = ?2 \
             AND status = 'published' AND reminded_for IS NOT ?2",
        )?
        .execute(params![id, expires_at])?;
    Ok(changed == 1)
}

/// Adds buffered view and apply-click counts.
pub fn add_counts(conn: &Connection, counts: &[(i64, i64, i64)]) -> Result<(), AppError> {
    let mut stmt = conn.prepare_cached(
        "UPDATE jobs SET views = views + ?2, apply_clicks = apply_clicks + ?3 WHERE id = ?1",
    )?;
    for (id, views, clicks) in counts {
        stmt.execute(params![id, views, clicks])?;
    }
    Ok(())
}

/// Whether any job exists at all (demo fills only an empty board).
pub fn is_empty(conn: &Connection) -> Result<bool, AppError> {
    Ok(conn
        .query_row("SELECT 1 FROM jobs LIMIT 1", [], |_| Ok(()))
        .optional()?
        .is_none())
}

/// Jobs per status, for health and stats.
pub fn count_by_status(conn: &Connection) -> Result<Vec<(String, i64)>, AppError> {
    let mut stmt = conn.prepare_cached(
        "SELECT status, count(*) FROM jobs WHERE deleted_at IS NULL GROUP BY status ORDER BY status",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
