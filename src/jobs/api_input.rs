//! Job input as the API takes it: the request bodies of `POST` and `PATCH`
//! (read as loose JSON, so every field gets its own message), the JSON types
//! their document gives (the schemas are in `api_doc`), and JSON merge patches
//! (RFC 7396) of a stored job.

use poem::{Request, RequestBody};
use poem_openapi::impl_apirequest_for_payload;
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use serde_json::{Map, Value};

use super::input::{JobInput, MAX_TAGS, NewJob};
use super::model::Job;
use crate::config::Category;
use crate::error::{AppError, FieldErrors};

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
        MetaSchemaRef::Reference("JobInput".into())
    }

    /// An object; `api_doc::refine` writes its schema into the document.
    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>("JobInput".into(), |_| MetaSchema::new("object"));
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
        MetaSchemaRef::Reference("JobPatch".into())
    }

    /// An object; `api_doc::refine` writes its schema into the document.
    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>("JobPatch".into(), |_| MetaSchema::new("object"));
    }
}

impl ParsePayload for JobPatchBody {
    const IS_REQUIRED: bool = true;

    async fn from_request(_req: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        read_object(body).await.map(JobPatchBody)
    }
}

impl_apirequest_for_payload!(JobPatchBody);

/// The fields given as text.
const TEXT: [&str; 13] = [
    "title",
    "company_name",
    "company_website",
    "company_logo_url",
    "description",
    "category",
    "job_type",
    "timezones",
    "location",
    "salary_currency",
    "salary_period",
    "apply_url",
    "apply_email",
];

/// What is wrong with the JSON types of a body as the client sent it: the API
/// takes the types its document gives (text as strings, salaries as numbers,
/// `tags` and `remote` as arrays of strings, `company` as an object, the
/// company nested or flat but not both ways), where `import` and forms are
/// looser. `null` is taken here for every field: it is "absent", and
/// validation says where that will not do.
pub fn type_errors(body: &Map<String, Value>) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let mut fail = |field: &str, message: &str| {
        errors
            .entry(field.to_string())
            .or_insert_with(|| message.to_string());
    };
    let text = |v: &Value| v.is_null() || v.is_string();
    for field in TEXT {
        if !body.get(field).is_none_or(text) {
            fail(field, "must be text");
        }
    }
    for field in ["salary_min", "salary_max"] {
        if !body.get(field).is_none_or(|v| v.is_null() || v.is_number()) {
            fail(field, "must be a whole number of 0 or more");
        }
    }
    for field in ["tags", "remote"] {
        match body.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                if field == "tags" && items.len() > MAX_TAGS {
                    fail(field, &format!("at most {MAX_TAGS} tags"));
                }
            }
            Some(_) => fail(field, "must be a list of text"),
        }
    }
    match body.get("company") {
        None => {}
        Some(Value::Object(company)) => {
            for (key, flat) in [
                ("name", "company_name"),
                ("website", "company_website"),
                ("logo_url", "company_logo_url"),
            ] {
                if !company.get(key).is_none_or(text) {
                    fail(flat, "must be text");
                }
            }
            if ["company_name", "company_website", "company_logo_url"]
                .iter()
                .any(|flat| body.contains_key(*flat))
            {
                fail("company", "give the company nested or flat, not both");
            }
        }
        Some(_) => fail(
            "company",
            "must be an object with `name`, `website` and `logo_url`",
        ),
    }
    errors
}

/// A job from the API: the body as the client sent it (`body`, whose JSON
/// types are checked) and the input it makes (`shape`: the body itself for a
/// new job, the job with the patch applied for a change), validated. Every
/// field with a problem gets a message; a wrong type's wins.
pub fn validated(
    body: &Map<String, Value>,
    shape: Map<String, Value>,
    categories: &[Category],
) -> Result<NewJob, AppError> {
    let wrong = type_errors(body);
    let checked = to_input(shape).and_then(|input| input.validate(categories));
    if wrong.is_empty() {
        return checked;
    }
    let mut fields = match checked {
        Err(AppError::Invalid(fields)) => fields,
        _ => FieldErrors::new(),
    };
    fields.extend(wrong);
    Err(AppError::Invalid(fields))
}

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
