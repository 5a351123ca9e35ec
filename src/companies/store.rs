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

/// A company by slug.
pub fn by_slug(conn: &Connection, slug: &str) -> Result<Company, AppError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, slug, name, website, logo_url, description FROM companies WHERE slug = ?1",
        )?
        .query_row([slug], |r| {
            Ok(Company {
                id: r.get(0)?,
                slug: r.get(1)?,
                name: r.get(2)?,
                website: r.get(3)?,
                logo_url: r.get(4)?,
                description: r.get(5)?,
            })
        })?)
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
