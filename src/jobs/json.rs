//! The job's JSON shape (SPEC §3, §5), shared by the API and `export`.

use poem_openapi::Object;
use serde::Serialize;

use super::model::Job;
use crate::clock::rfc3339;

/// A company as nested in a job.
#[derive(Debug, Clone, Object, Serialize)]
pub struct CompanyJson {
    pub name: String,
    pub slug: String,
    #[oai(nullable)]
    pub website: Option<String>,
    #[oai(nullable)]
    pub logo_url: Option<String>,
}

/// A job posting.
#[derive(Debug, Clone, Object, Serialize)]
pub struct JobJson {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub company: CompanyJson,
    /// Markdown source.
    pub description: String,
    /// Rendered and sanitised HTML (read-only).
    pub description_html: String,
    /// The job's page (read-only).
    pub url: String,
    /// A category slug, e.g. `software-development`.
    pub category: String,
    /// `full_time`, `part_time`, `contract` or `internship`.
    pub job_type: String,
    pub tags: Vec<String>,
    /// `["worldwide"]`, or one or more of `americas`, `europe`, `africa`,
    /// `middle_east`, `asia_pacific`.
    pub remote: Vec<String>,
    /// A UTC offset range such as `-3..+3`.
    #[oai(nullable)]
    pub timezones: Option<String>,
    #[oai(nullable)]
    pub location: Option<String>,
    #[oai(nullable)]
    pub salary_min: Option<i64>,
    #[oai(nullable)]
    pub salary_max: Option<i64>,
    /// ISO 4217, upper case.
    #[oai(nullable)]
    pub salary_currency: Option<String>,
    /// `year`, `month` or `hour`.
    #[oai(nullable)]
    pub salary_period: Option<String>,
    #[oai(nullable)]
    pub apply_url: Option<String>,
    #[oai(nullable)]
    pub apply_email: Option<String>,
    pub featured: bool,
    pub status: String,
    #[oai(nullable)]
    pub published_at: Option<String>,
    #[oai(nullable)]
    pub expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub views: i64,
    pub apply_clicks: i64,
}

impl JobJson {
    /// The JSON of a job, with its page as an absolute URL on `base_url`.
    pub fn new(job: &Job, base_url: &str) -> JobJson {
        let salary = job.salary.as_ref();
        JobJson {
            id: job.id,
            slug: job.slug.clone(),
            title: job.title.clone(),
            company: CompanyJson {
                name: job.company.name.clone(),
                slug: job.company.slug.clone(),
                website: job.company.website.clone(),
                logo_url: job.company.logo_url.clone(),
            },
            description: job.description.clone(),
            description_html: job.description_html.clone(),
            url: format!("{base_url}{}", job.path()),
            category: job.category.clone(),
            job_type: job.job_type.as_str().to_string(),
            tags: job.tags.clone(),
            remote: job.remote.iter().map(|r| r.as_str().to_string()).collect(),
            timezones: job.timezones.clone(),
            location: job.location.clone(),
            salary_min: salary.and_then(|s| s.min),
            salary_max: salary.and_then(|s| s.max),
            salary_currency: salary.map(|s| s.currency.clone()),
            salary_period: salary.map(|s| s.period.as_str().to_string()),
            apply_url: job.apply_url.clone(),
            apply_email: job.apply_email.clone(),
            featured: job.featured,
            status: job.status.as_str().to_string(),
            published_at: job.published_at.map(rfc3339),
            expires_at: job.expires_at.map(rfc3339),
            created_at: rfc3339(job.created_at),
            updated_at: rfc3339(job.updated_at),
            views: job.views,
            apply_clicks: job.apply_clicks,
        }
    }
}
