//! The job form of `/post`, the dashboard and the admin: its fields (named as
//! the JSON fields of SPEC §3, company as `company_name` and
//! `company_website`, `tags` comma-separated, `remote` repeatable), turned
//! into the job input that the API and import validate the same way.

use minijinja::{Value, context};
use serde_json::Value as Json;

use super::input::JobInput;
use super::model::{Job, JobType, Region, SalaryPeriod};
use crate::config::Config;
use crate::web::forms::{self, Form};

/// The text fields of the job form, in the order people fill them in.
const TEXT_FIELDS: &[&str] = &[
    "title",
    "company_name",
    "company_website",
    "description",
    "category",
    "job_type",
    "tags",
    "timezones",
    "location",
    "salary_min",
    "salary_max",
    "salary_currency",
    "salary_period",
    "apply_url",
    "apply_email",
];

/// Text with every line break as a line feed, as browsers break the lines of
/// a textarea (CR LF, and a lone CR or LF, each stand for one): else a stray
/// CR before CR LF would change the description when its edit form is saved.
fn line_feeds(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The job input a posted job form describes.
pub fn input_from_form(form: &Form) -> JobInput {
    let text = |name: &str| form.get(name).map(|v| Json::String(v.to_string()));
    let remote: Vec<Json> = form
        .all("remote")
        .into_iter()
        .map(|r| Json::String(r.to_string()))
        .collect();
    JobInput {
        title: text("title"),
        company_name: text("company_name"),
        company_website: text("company_website"),
        description: form
            .pairs()
            .iter()
            .find(|(k, _)| k == "description")
            .map(|(_, v)| Json::String(line_feeds(v))),
        category: text("category"),
        job_type: text("job_type"),
        tags: text("tags"),
        remote: (!remote.is_empty()).then_some(Json::Array(remote)),
        timezones: text("timezones"),
        location: text("location"),
        salary_min: text("salary_min"),
        salary_max: text("salary_max"),
        salary_currency: text("salary_currency"),
        salary_period: text("salary_period"),
        apply_url: text("apply_url"),
        apply_email: text("apply_email"),
        ..JobInput::default()
    }
}

/// The form's values as typed, to show the form again.
pub fn values_from_form(form: &Form) -> Value {
    let mut pairs: Vec<(String, Value)> = TEXT_FIELDS
        .iter()
        .map(|name| (name.to_string(), Value::from(form.raw(name))))
        .collect();
    let remote: Vec<String> = form.all("remote").into_iter().map(String::from).collect();
    pairs.push(("remote".into(), Value::from(remote)));
    forms::values(pairs)
}

/// A stored job's values, to edit it.
pub fn values_from_job(job: &Job) -> Value {
    let salary = job.salary.as_ref();
    let opt = |v: &Option<String>| Value::from(v.clone().unwrap_or_default());
    let num = |v: Option<i64>| Value::from(v.map(|n| n.to_string()).unwrap_or_default());
    let pairs: Vec<(&str, Value)> = vec![
        ("title", Value::from(job.title.as_str())),
        ("company_name", Value::from(job.company.name.as_str())),
        ("company_website", opt(&job.company.website)),
        ("description", Value::from(job.description.as_str())),
        ("category", Value::from(job.category.as_str())),
        ("job_type", Value::from(job.job_type.as_str())),
        ("tags", Value::from(job.tags.join(", "))),
        (
            "remote",
            Value::from(job.remote.iter().map(|r| r.as_str()).collect::<Vec<_>>()),
        ),
        ("timezones", opt(&job.timezones)),
        ("location", opt(&job.location)),
        ("salary_min", num(salary.and_then(|s| s.min))),
        ("salary_max", num(salary.and_then(|s| s.max))),
        (
            "salary_currency",
            Value::from(salary.map(|s| s.currency.clone()).unwrap_or_default()),
        ),
        (
            "salary_period",
            Value::from(salary.map(|s| s.period.as_str()).unwrap_or("year")),
        ),
        ("apply_url", opt(&job.apply_url)),
        ("apply_email", opt(&job.apply_email)),
    ];
    forms::values(pairs)
}

/// Values for an empty form: the usual choices preselected.
pub fn blank_values(company_name: Option<&str>, company_website: Option<&str>) -> Value {
    forms::values([
        ("company_name", Value::from(company_name.unwrap_or(""))),
        (
            "company_website",
            Value::from(company_website.unwrap_or("")),
        ),
        ("job_type", Value::from("full_time")),
        ("salary_period", Value::from("year")),
        ("remote", Value::from(vec!["worldwide"])),
    ])
}

/// The choices the form offers: the board's categories, job types, regions
/// and salary periods, and tags to suggest.
pub fn options(config: &Config, suggested_tags: &[String]) -> Value {
    let pair = |value: &str, label: &str| context! { value => value, label => label };
    let categories: Vec<Value> = config
        .site
        .categories
        .iter()
        .map(|c| pair(&c.slug, &c.label))
        .collect();
    let job_types: Vec<Value> = JobType::ALL
        .iter()
        .map(|t| pair(t.as_str(), t.label()))
        .collect();
    let regions: Vec<Value> = Region::ALL
        .iter()
        .map(|r| pair(r.as_str(), r.label()))
        .collect();
    let periods: Vec<Value> = [SalaryPeriod::Year, SalaryPeriod::Month, SalaryPeriod::Hour]
        .iter()
        .map(|p| pair(p.as_str(), &format!("per {}", p.as_str())))
        .collect();
    context! { categories, job_types, regions, periods, tags => suggested_tags }
}

/// The board's most used tags right now, to suggest (none while the index
/// is being built).
pub async fn popular_tags(state: &crate::web::State) -> Vec<String> {
    let want = crate::search::Want {
        facets: true,
        snippets: false,
    };
    let params = crate::search::query::SearchParams {
        per_page: 1,
        ..Default::default()
    };
    match super::listing::find(state, params, want).await {
        Ok(Some(found)) => found
            .facets
            .tags
            .into_iter()
            .take(12)
            .map(|(tag, _)| tag)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn a_filled_form_validates_like_the_api() {
        let f = form(&[
            ("title", "  Backend Engineer "),
            ("company_name", "Acme"),
            ("company_website", "https://acme.example"),
            ("description", "Line one\r\nLine two"),
            ("category", "software-development"),
            ("job_type", "contract"),
            ("tags", "Rust, postgresql ,, go"),
            ("remote", "europe"),
            ("remote", "africa"),
            ("salary_min", "50,000"),
            ("salary_max", ""),
            ("salary_currency", "eur"),
            ("salary_period", "year"),
            ("apply_email", "jobs@acme.example"),
        ]);
        let config = Config::for_data_dir(std::path::Path::new("/tmp/unused"));
        let job = input_from_form(&f)
            .validate(&config.site.categories)
            .expect("valid");
        assert_eq!(job.title, "Backend Engineer");
        assert_eq!(job.company.name, "Acme");
        assert_eq!(job.description, "Line one\nLine two");
        assert_eq!(job.tags, ["rust", "postgresql", "go"]);
        assert_eq!(job.remote, [Region::Europe, Region::Africa]);
        assert_eq!(job.salary.as_ref().and_then(|s| s.min), Some(50_000));
        assert!(!job.featured);
    }

    #[test]
    fn every_line_break_of_a_description_is_one_line_feed() {
        let config = Config::for_data_dir(std::path::Path::new("/tmp/unused"));
        let pairs = [
            ("title", "T"),
            ("company_name", "C"),
            ("description", "a\r\r\nb\rc\r\nd"),
            ("category", "design"),
            ("job_type", "contract"),
            ("apply_email", "a@b.example"),
        ];
        let job = input_from_form(&form(&pairs))
            .validate(&config.site.categories)
            .expect("valid");
        assert_eq!(job.description, "a\n\nb\nc\nd");
    }

    #[test]
    fn an_empty_form_names_every_missing_field() {
        let config = Config::for_data_dir(std::path::Path::new("/tmp/unused"));
        let err = input_from_form(&form(&[]))
            .validate(&config.site.categories)
            .expect_err("invalid");
        let fields = err.fields().expect("fields");
        for name in [
            "title",
            "company_name",
            "description",
            "category",
            "job_type",
            "apply_url",
        ] {
            assert!(fields.contains_key(name), "{name}: {fields:?}");
        }
    }
}
