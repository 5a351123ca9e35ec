//! Job input as the API takes it: the request bodies of `POST` and `PATCH`
//! (read as loose JSON, so every field gets its own message), their documented
//! shape, and JSON merge patches (RFC 7396) of a stored job.

use poem::{Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{Object, impl_apirequest_for_payload};
use serde_json::{Map, Value};

use super::input::JobInput;
use super::model::Job;
use crate::error::AppError;

/// The largest request body taken: a description of 100,000 characters and
/// room for the rest.
pub const MAX_BODY: usize = 1 << 20;

/// Output fields that input ignores: the board sets them.
const READ_ONLY: [&str; 12] = [
    "id",
    "slug",
    "url",
    "status",
    "featured",
    "views",
    "apply_clicks",
    "published_at",
    "expires_at",
    "created_at",
    "updated_at",
    "description_html",
];

/// A company as a job's input names it.
#[derive(Debug, Object)]
#[oai(rename = "CompanyInput")]
pub struct CompanyInputDoc {
    /// Required.
    pub name: Option<String>,
    /// An `http://` or `https://` address.
    pub website: Option<String>,
    /// An `http://` or `https://` address.
    pub logo_url: Option<String>,
}

/// A job as the API takes it: the fields of a job, with the company nested
/// (`company`) or flat (`company_name`, `company_website`, `company_logo_url`).
/// Read-only fields (`id`, `slug`, `url`, `status`, `featured`, counters,
/// times, `description_html`) are ignored. When posting, `title`, the
/// company's name, `description`, `category`, `job_type` and one of
/// `apply_url` or `apply_email` are required. In a merge patch every field is
/// optional and `null` removes an optional one.
#[derive(Debug, Object)]
#[oai(rename = "JobInput")]
pub struct JobInputDoc {
    /// At most 200 characters.
    pub title: Option<String>,
    pub company: Option<CompanyInputDoc>,
    pub company_name: Option<String>,
    pub company_website: Option<String>,
    pub company_logo_url: Option<String>,
    /// Markdown.
    pub description: Option<String>,
    /// One of the board's categories, as its slug (`software-development`)
    /// or display name.
    pub category: Option<String>,
    /// `full_time`, `part_time`, `contract` or `internship`.
    pub job_type: Option<String>,
    /// At most 10; letters and digits, lowercased.
    pub tags: Option<Vec<String>>,
    /// `["worldwide"]` (the default), or some of `americas`, `europe`,
    /// `africa`, `middle_east`, `asia_pacific`.
    pub remote: Option<Vec<String>>,
    /// A UTC offset range such as `-3..+3` or `+5:30..+9`.
    pub timezones: Option<String>,
    pub location: Option<String>,
    /// Whole units of `salary_currency`.
    pub salary_min: Option<i64>,
    pub salary_max: Option<i64>,
    /// ISO 4217, e.g. `USD`; required with a salary.
    pub salary_currency: Option<String>,
    /// `year` (the default), `month` or `hour`.
    pub salary_period: Option<String>,
    pub apply_url: Option<String>,
    pub apply_email: Option<String>,
}

/// Reads a request body (at most [`MAX_BODY`]) as one JSON object.
async fn read_object(body: &mut RequestBody) -> poem::Result<Map<String, Value>> {
    let bytes = body
        .take()?
        .into_bytes_limit(MAX_BODY)
        .await
        .map_err(|_| AppError::TooLarge("The body is too large.".into()))?;
    if bytes.is_empty() {
        return Err(AppError::BadRequest("Send the job as a JSON object.".into()).into());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AppError::BadRequest("The body must be a JSON object.".into()).into()),
        Err(e) => Err(AppError::BadRequest(format!("The body is not valid JSON: {e}.")).into()),
    }
}

/// `application/json` or any `application/…+json`.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The body of `POST /jobs`: a job in the input shape.
pub struct NewJobBody(pub Map<String, Value>);

impl Payload for NewJobBody {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        is_json(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        JobInputDoc::schema_ref()
    }

    fn register(registry: &mut Registry) {
        JobInputDoc::register(registry);
    }
}

impl ParsePayload for NewJobBody {
    const IS_REQUIRED: bool = true;

    async fn from_request(_req: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        read_object(body).await.map(NewJobBody)
    }
}

impl_apirequest_for_payload!(NewJobBody);

/// The body of `PATCH /jobs/{id}`: a JSON merge patch of the input shape
/// (`application/merge-patch+json`; `application/json` is taken too).
pub struct JobPatchBody(pub Map<String, Value>);

impl Payload for JobPatchBody {
    const CONTENT_TYPE: &'static str = "application/merge-patch+json";

    fn check_content_type(content_type: &str) -> bool {
        is_json(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        JobInputDoc::schema_ref()
    }

    fn register(registry: &mut Registry) {
        JobInputDoc::register(registry);
    }
}

impl ParsePayload for JobPatchBody {
    const IS_REQUIRED: bool = true;

    async fn from_request(_req: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        read_object(body).await.map(JobPatchBody)
    }
}

impl_apirequest_for_payload!(JobPatchBody);

/// Input from an API body: read-only fields dropped, the rest left for
/// [`JobInput::validate`] to judge.
pub fn to_input(mut map: Map<String, Value>) -> Result<JobInput, AppError> {
    for key in READ_ONLY {
        map.remove(key);
    }
    serde_json::from_value(Value::Object(map))
        .map_err(|e| AppError::BadRequest(format!("The job could not be read: {e}.")))
}

/// A stored job in the input shape, company flat, absent fields left out.
pub fn input_shape(job: &Job) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |key: &str, value: Value| {
        if !value.is_null() {
            m.insert(key.to_string(), value);
        }
    };
    let salary = job.salary.as_ref();
    put("title", job.title.clone().into());
    put("company_name", job.company.name.clone().into());
    put("company_website", job.company.website.clone().into());
    put("company_logo_url", job.company.logo_url.clone().into());
    put("description", job.description.clone().into());
    put("category", job.category.clone().into());
    put("job_type", job.job_type.as_str().into());
    put("tags", job.tags.clone().into());
    put(
        "remote",
        job.remote
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .into(),
    );
    put("timezones", job.timezones.clone().into());
    put("location", job.location.clone().into());
    put("salary_min", salary.and_then(|s| s.min).into());
    put("salary_max", salary.and_then(|s| s.max).into());
    put("salary_currency", salary.map(|s| s.currency.clone()).into());
    put("salary_period", salary.map(|s| s.period.as_str()).into());
    put("apply_url", job.apply_url.clone().into());
    put("apply_email", job.apply_email.clone().into());
    m
}

/// Applies a merge patch to a job in the flat input shape: the patch's
/// company, nested or flat, becomes the flat fields (a flat field wins over
/// its nested twin); `null` removes a field; anything else replaces it.
pub fn merge(target: &mut Map<String, Value>, mut patch: Map<String, Value>) {
    match patch.remove("company") {
        Some(Value::Object(company)) => {
            for (key, value) in company {
                let flat = match key.as_str() {
                    "name" => "company_name",
                    "website" => "company_website",
                    "logo_url" => "company_logo_url",
                    _ => continue,
                };
                patch.entry(flat).or_insert(value);
            }
        }
        // A name alone, a removal, or a wrong type that validation names.
        Some(other) => {
            patch.entry("company_name").or_insert(other);
        }
        None => {}
    }
    for (key, value) in patch {
        if value.is_null() {
            target.remove(&key);
        } else {
            target.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn merge_replaces_removes_and_flattens_the_company() {
        let mut target = obj(json!({
            "title": "Old", "company_name": "Acme", "company_website": "https://acme.example",
            "salary_min": 1, "salary_max": 2, "location": "Berlin"
        }));
        merge(
            &mut target,
            obj(json!({
                "title": "New", "salary_min": null, "salary_max": null,
                "company": {"name": "Nested", "website": "https://n.example", "slug": "x"},
                "company_name": "Flat wins"
            })),
        );
        assert_eq!(
            Value::Object(target),
            json!({
                "title": "New", "company_name": "Flat wins",
                "company_website": "https://n.example", "location": "Berlin"
            })
        );
    }

    #[test]
    fn a_company_given_as_text_or_null_is_its_name() {
        let mut target = obj(json!({"company_name": "Acme"}));
        merge(&mut target, obj(json!({"company": "Renamed"})));
        assert_eq!(target["company_name"], "Renamed");
        merge(&mut target, obj(json!({"company": null})));
        assert!(!target.contains_key("company_name"));
    }

    #[test]
    fn read_only_fields_are_dropped() {
        let input = to_input(obj(json!({
            "title": "T", "status": "published", "featured": true,
            "published_at": "2020-01-01T00:00:00Z", "id": 7
        })))
        .expect("reads");
        assert!(input.status.is_none() && input.featured.is_none());
        assert!(input.published_at.is_none() && input.title.is_some());
    }
}
