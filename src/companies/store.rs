//! SQL for companies.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::AppError;
use crate::jobs::input::CompanyInput;

/// A company as its page shows it.
#[derive(Debug, Clone)]
pub struct Company {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub website: Option<String>,
    pub logo_url: Option<String>,
    pub description: Option<String>,
}

/// The company with the slug of `input.name`, created when new; a missing
/// website or logo is filled in from the input.
pub fn find_or_create(conn: &Connection, input: &CompanyInput, now: i64) -> Result<i64, AppError> {
    let mut slug = crate::slug::slugify(&input.name);
    if slug.is_empty() {
        slug = "company".to_string();
    }
    let existing: Option<i64> = conn
        .prepare_cached("SELECT id FROM companies WHERE slug = ?1")?
        .query_row([&slug], |r| r.get(0))
        .optional()?;
    if let Some(id) = existing {
        conn.prepare_cached(
            "UPDATE companies SET website = coalesce(website, ?2), logo_url = coalesce(logo_url, ?3) \
             WHERE id = ?1 AND ((website IS NULL AND ?2 IS NOT NULL) OR (logo_url IS NULL AND ?3 IS NOT NULL))",
        )?
        .execute(params![id, input.website, input.logo_url])?;
        return Ok(id);
    }
    conn.prepare_cached(
        "INSERT INTO companies (slug, name, website, logo_url, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![
        slug,
        input.name,
        input.website,
        input.logo_url,
        now
    ])?;
    Ok(conn.last_insert_rowid())
}

/// A new company for an employer, under a slug no other company has
/// (`acme`, `acme-2`, …): employers never take over each other's pages.
pub fn create_unique(conn: &Connection, input: &CompanyInput, now: i64) -> Result<i64, AppError> {
    let mut base = crate::slug::slugify(&input.name);
    if base.is_empty() {
        base = "company".to_string();
    }
    let mut slug = base.clone();
    let mut n = 1;
    while conn
        .prepare_cached("SELECT 1 FROM companies WHERE slug = ?1")?
        .exists([&slug])?
    {
        n += 1;
        slug = format!("{base}-{n}");
    }
    conn.prepare_cached(
        "INSERT INTO companies (slug, name, website, logo_url, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![
        slug,
        input.name,
        input.website,
        input.logo_url,
        now
    ])?;
    Ok(conn.last_insert_rowid())
}

/// A company by id.
pub fn by_id(conn: &Connection, id: i64) -> Result<Company, AppError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, slug, name, website, logo_url, description FROM companies WHERE id = ?1",
        )?
        .query_row([id], from_row)?)
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Company> {
    Ok(Company {
        id: r.get(0)?,
        slug: r.get(1)?,
        name: r.get(2)?,
        website: r.get(3)?,
        logo_url: r.get(4)?,
        description: r.get(5)?,
    })
}

/// Changes a company's name, website and description (the slug stays, so
/// links keep working); its jobs are queued for the search index.
pub fn update_profile(
    conn: &Connection,
    id: i64,
    name: &str,
    website: Option<&str>,
    description: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    let changed = conn
        .prepare_cached(
            "UPDATE companies SET name = ?2, website = ?3, description = ?4, updated_at = ?5 \
             WHERE id = ?1",
        )?
        .execute(params![id, name, website, description, now])?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    requeue_jobs(conn, id, now)
}

/// Sets (or clears) a company's logo URL; its jobs are queued for the index.
pub fn set_logo(
    conn: &Connection,
    id: i64,
    logo_url: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    conn.prepare_cached("UPDATE companies SET logo_url = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, logo_url, now])?;
    requeue_jobs(conn, id, now)
}

/// Queues every job of a company for the search index (its name or logo
/// changed), and touches them so pages and caches see the change.
pub fn requeue_jobs(conn: &Connection, company_id: i64, now: i64) -> Result<(), AppError> {
    let ids: Vec<i64> = conn
        .prepare_cached(
            "UPDATE jobs SET updated_at = ?2 WHERE company_id = ?1 AND deleted_at IS NULL \
             RETURNING id",
        )?
        .query_map(params![company_id, now], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in ids {
        crate::search::queue::enqueue(conn, id, now)?;
    }
    Ok(())
}

/// A company by slug.
pub fn by_slug(conn: &Connection, slug: &str) -> Result<Company, AppError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, slug, name, website, logo_url, description FROM companies WHERE slug = ?1",
        )?
        .query_row([slug], from_row)?)
}

/// A company and its live jobs, for its page and the API.
pub fn profile(
    conn: &Connection,
    slug: &str,
    now: i64,
) -> Result<(Company, Vec<crate::jobs::model::Job>), AppError> {
    let company = by_slug(conn, slug)?;
    let jobs = crate::jobs::store::live_by_company(conn, company.id, now)?;
    Ok((company, jobs))
}

/// Slugs of companies with at least one live job, for the sitemap.
pub fn with_live_jobs(conn: &Connection, now: i64) -> Result<Vec<(String, i64)>, AppError> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.slug, max(j.updated_at) FROM companies c JOIN jobs j ON j.company_id = c.id \
         WHERE j.status = 'published' AND j.deleted_at IS NULL AND j.hidden = 0 \
         AND j.expires_at > ?1 \
         GROUP BY c.id ORDER BY c.slug LIMIT 10000",
    )?;
    let rows = stmt.query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
