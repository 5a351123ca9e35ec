//! What templates see of a job, and its JSON-LD `JobPosting`.

use serde::Serialize;
use serde_json::json;

use super::model::{Job, SalaryPeriod, Status};
use crate::clock;
use crate::config::Config;

/// A company as cards and pages show it.
#[derive(Debug, Serialize)]
pub struct CompanyView {
    pub name: String,
    pub slug: String,
    pub url: String,
    pub website: Option<String>,
    /// Only same-origin logos: a visitor's browser makes no third-party request.
    pub logo_url: Option<String>,
    pub initials: String,
}

/// A job as templates show it.
#[derive(Debug, Serialize)]
pub struct JobView {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub url: String,
    pub apply_path: String,
    pub company: CompanyView,
    pub category: String,
    pub category_label: String,
    pub job_type: &'static str,
    pub job_type_label: &'static str,
    pub tags: Vec<String>,
    pub remote: Vec<&'static str>,
    pub remote_labels: Vec<&'static str>,
    pub location: Option<String>,
    pub timezones: Option<String>,
    pub salary_text: Option<String>,
    pub featured: bool,
    pub is_open: bool,
    pub published_at: String,
    pub published_ago: String,
    pub published_date: String,
    pub expires_date: Option<String>,
    pub apply_url: Option<String>,
    pub apply_email: Option<String>,
    /// Sanitised HTML; filled on the job page only.
    pub description_html: Option<String>,
    /// A highlighted excerpt for search results (escaped HTML with `<mark>`).
    pub snippet_html: Option<String>,
}

/// Up to two initials of a name, for a logo placeholder.
pub fn initials(name: &str) -> String {
    let ascii = deunicode::deunicode(name);
    let letters: String = ascii
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(2)
        .filter_map(|w| w.chars().next())
        .collect::<String>()
        .to_uppercase();
    if letters.is_empty() {
        "?".into()
    } else {
        letters
    }
}

/// A logo the board itself serves (an upload, re-encoded); remote logos are
/// not shown.
fn local_logo(url: &Option<String>) -> Option<String> {
    url.as_ref().filter(|u| u.starts_with("/uploads/")).cloned()
}

pub fn company_view(
    name: &str,
    slug: &str,
    website: &Option<String>,
    logo_url: &Option<String>,
) -> CompanyView {
    CompanyView {
        name: name.to_string(),
        slug: slug.to_string(),
        url: format!("/companies/{slug}"),
        website: website.clone(),
        logo_url: local_logo(logo_url),
        initials: initials(name),
    }
}

/// The card (and, with `full`, the page) view of a job.
pub fn job_view(job: &Job, config: &Config, now: i64, full: bool) -> JobView {
    let published = job.published_at.unwrap_or(job.created_at);
    let is_open = job.is_live(now);
    let category_label = config
        .site
        .categories
        .iter()
        .find(|c| c.slug == job.category)
        .map(|c| c.label.clone())
        .unwrap_or_else(|| job.category.clone());
    JobView {
        id: job.id,
        slug: job.slug.clone(),
        title: job.title.clone(),
        url: job.path(),
        apply_path: format!("/jobs/{}/apply", job.id),
        company: company_view(
            &job.company.name,
            &job.company.slug,
            &job.company.website,
            &job.company.logo_url,
        ),
        category: job.category.clone(),
        category_label,
        job_type: job.job_type.as_str(),
        job_type_label: job.job_type.label(),
        tags: job.tags.clone(),
        remote: job.remote.iter().map(|r| r.as_str()).collect(),
        remote_labels: job.remote.iter().map(|r| r.label()).collect(),
        location: job.location.clone(),
        timezones: job.timezones.clone(),
        salary_text: job
            .salary
            .as_ref()
            .map(|s| s.display())
            .filter(|s| !s.is_empty()),
        featured: job.featured && is_open,
        is_open,
        published_at: clock::rfc3339(published),
        published_ago: clock::age(now, published),
        published_date: clock::human_date(published),
        expires_date: job.expires_at.filter(|_| is_open).map(clock::human_date),
        apply_url: job.apply_url.clone(),
        apply_email: job.apply_email.clone(),
        description_html: full.then(|| job.description_html.clone()),
        snippet_html: None,
    }
}

/// Whether a job's page is shown at all: live, or closed after being live.
pub fn has_public_page(job: &Job) -> bool {
    !job.hidden
        && matches!(
            job.status,
            Status::Published | Status::Expired | Status::Filled
        )
}

/// The JSON-LD `JobPosting` of an open job, safe to place inside a `<script>` element.
pub fn json_ld(job: &Job, config: &Config) -> String {
    let base = &config.base_url;
    let countries: Vec<serde_json::Value> = job
        .remote
        .iter()
        .map(|r| json!({"@type": "AdministrativeArea", "name": r.label()}))
        .collect();
    // A property without a value is left out: `null` is not a value to schema.org.
    let mut org = json!({"@type": "Organization", "name": job.company.name});
    if let Some(website) = &job.company.website {
        org["sameAs"] = json!(website);
    }
    if let Some(logo) = &job.company.logo_url {
        let logo = if logo.starts_with('/') {
            format!("{base}{logo}")
        } else {
            logo.clone()
        };
        org["logo"] = json!(logo);
    }
    let mut doc = json!({
        "@context": "https://schema.org/",
        "@type": "JobPosting",
        "title": job.title,
        "description": job.description_html,
        "identifier": {"@type": "PropertyValue", "name": job.company.name, "value": job.id.to_string()},
        "datePosted": clock::rfc3339(job.published_at.unwrap_or(job.created_at)),
        "employmentType": match job.job_type {
            super::model::JobType::FullTime => "FULL_TIME",
            super::model::JobType::PartTime => "PART_TIME",
            super::model::JobType::Contract => "CONTRACTOR",
            super::model::JobType::Internship => "INTERN",
        },
        "hiringOrganization": org,
        "jobLocationType": "TELECOMMUTE",
        "applicantLocationRequirements": countries,
        "url": format!("{base}{}", job.path()),
        "directApply": false,
    });
    if let Some(exp) = job.expires_at {
        doc["validThrough"] = json!(clock::rfc3339(exp));
    }
    if let Some(s) = &job.salary {
        let unit = match s.period {
            SalaryPeriod::Year => "YEAR",
            SalaryPeriod::Month => "MONTH",
            SalaryPeriod::Hour => "HOUR",
        };
        let mut value = json!({"@type": "QuantitativeValue", "unitText": unit});
        if let Some(min) = s.min {
            value["minValue"] = json!(min);
        }
        if let Some(max) = s.max {
            value["maxValue"] = json!(max);
        }
        doc["baseSalary"] =
            json!({"@type": "MonetaryAmount", "currency": s.currency, "value": value});
    }
    if let Some(address) = job.location.as_deref().and_then(postal_address) {
        doc["jobLocation"] = json!({"@type": "Place", "address": address});
    }
    // `<`, `>` and `&` escaped so no text can close the script element.
    doc.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// A job's free-text location as a schema.org `PostalAddress`: "Lisbon,
/// Portugal" is a locality in a country, "Singapore" a country alone. A
/// location that names no place ("Remote", "Global") has no address.
fn postal_address(location: &str) -> Option<serde_json::Value> {
    let location = location.trim().trim_matches(',').trim();
    let nowhere = ["", "remote", "worldwide", "global", "anywhere"];
    if nowhere.iter().any(|w| location.eq_ignore_ascii_case(w)) {
        return None;
    }
    Some(match location.rsplit_once(',') {
        Some((locality, country)) => json!({
            "@type": "PostalAddress",
            "addressLocality": locality.trim(),
            "addressCountry": country.trim(),
        }),
        None => json!({"@type": "PostalAddress", "addressCountry": location}),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_as_addresses() {
        assert_eq!(
            postal_address("Ho Chi Minh City, Vietnam"),
            Some(
                json!({"@type": "PostalAddress", "addressLocality": "Ho Chi Minh City", "addressCountry": "Vietnam"})
            )
        );
        assert_eq!(
            postal_address("Austin, TX, USA").map(|a| a["addressCountry"].clone()),
            Some(json!("USA"))
        );
        assert_eq!(
            postal_address(" Taiwan "),
            Some(json!({"@type": "PostalAddress", "addressCountry": "Taiwan"}))
        );
        assert_eq!(postal_address("Global"), None);
        assert_eq!(postal_address("remote"), None);
        assert_eq!(postal_address(" , "), None);
    }

    #[test]
    fn initials_of_names() {
        assert_eq!(initials("Acme Widgets Ltd"), "AW");
        assert_eq!(initials("ios-taipei"), "IT");
        assert_eq!(initials("统一"), "TY");
        assert_eq!(initials("!!"), "?");
    }
}
