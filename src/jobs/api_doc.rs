//! What the jobs API's OpenAPI document says that poem-openapi cannot derive
//! from the handlers' types, written into the generated document by
//! [`refine`]:
//!
//! - the search parameters' types and allowed values (the handler reads them
//!   as text so that a wrong one gets a 422 naming it, SPEC §6, rather than
//!   poem's 400), the categories being the board's own;
//! - the job input schemas (bodies are read as loose JSON so that every wrong
//!   field gets its own message), with the rules JSON Schema can state;
//! - links from a posted job to the operations on it.
//!
//! `e2e/api-fuzz.sh` holds the document and the API to each other.

use serde_json::{Value, json};

use super::model::{JobType, Region};
use crate::config::Category;

/// A category as input names it: its slug or its display name.
fn category_values(categories: &[Category]) -> Vec<&str> {
    let slugs = categories.iter().map(|c| c.slug.as_str());
    slugs
        .chain(categories.iter().map(|c| c.label.as_str()))
        .collect()
}

/// The search parameters' schemas: the values the API takes without a 422.
/// An empty value is taken as "not given" (`allowEmptyValue`), as HTML forms
/// send them.
fn search_parameters(categories: &[Category]) -> Vec<(&'static str, Value)> {
    let words = |all: Vec<&str>| {
        let mut values: Vec<Value> = all.into_iter().map(Value::from).collect();
        values.push("".into());
        json!({"type": "string", "enum": values})
    };
    let category = category_values(categories);
    let whole = |minimum: Option<i64>, maximum: Option<i64>| {
        let mut s = json!({"type": "integer", "format": "int64"});
        if let Some(m) = minimum {
            s["minimum"] = m.into();
        }
        if let Some(m) = maximum {
            s["maximum"] = m.into();
        }
        s
    };
    vec![
        ("category", words(category)),
        (
            "job_type",
            words(JobType::ALL.iter().map(|t| t.as_str()).collect()),
        ),
        (
            "remote",
            json!({"type": "array", "items": words(Region::ALL.iter().map(|r| r.as_str()).collect())}),
        ),
        // Any text: a tag no job can have matches no job.
        ("tag", json!({"type": "array", "items": {"type": "string"}})),
        ("salary_min", whole(Some(0), None)),
        ("posted_within", whole(Some(1), Some(3650))),
        ("sort", words(vec!["relevance", "newest"])),
        ("page", whole(None, None)),
        ("per_page", whole(None, None)),
    ]
}

/// Some character that is neither white space (Unicode's, which is what is
/// trimmed) nor one of the control characters XML cannot carry (which are
/// dropped): text is judged after both. Spelt out, since `\s` differs
/// between regex dialects.
const VISIBLE: &str =
    r"[^\x00-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufffe\uffff]";
/// Nothing else: an optional field left empty.
const BLANK: &str =
    r"^[\x00-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufffe\uffff]*$";
/// White space only: an item of a list left empty (control characters are
/// not dropped from list items; they are no letters).
const SPACES: &str = r"^[\x09-\x0d\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$";
/// An `http://` or `https://` address: a host, and no white space or control
/// character anywhere.
const URL: &str = r"^https?://[^/?#\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$";
/// Email addresses of the everyday shape (the board takes any address its
/// mailer can send to; these it always takes).
const EMAIL: &str = r"^[A-Za-z0-9_%+-]{1,32}(\.[A-Za-z0-9_%+-]{1,15}){0,2}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?){1,3}$";
/// A tag: some letter or digit (of any script; or `+#.`), at most 32
/// characters; other characters are dropped, spaces, `-` and `_` join words.
const TAG: &str = r"[\p{Alphabetic}\p{N}+#.]";
/// The same in ASCII, for tools whose regex cannot read `\p{…}`.
const TAG_ASCII: &str = r"[A-Za-z0-9+#.]";
/// UTC offset ranges from a negative (or zero) offset to a positive one, such
/// as `-3..+3` or `0..+5:30`; other ranges in order, like `+1..+3`, are taken
/// too.
const TIMEZONES: &str =
    r"^(-(1[01]|[0-9])(:(00|30|45))?|-12(:00)?|0)\.\.\+?(1[0-4]|[0-9])(:(00|30|45))?$";

/// `pattern`, or blank.
fn or_blank(pattern: &str) -> String {
    format!("{BLANK}|{pattern}")
}

/// The schemas of job input: `JobInput` (a new job), `JobPatch` (a JSON merge
/// patch of one) and `CompanyInput`. The API reads bodies as loose JSON to
/// name every wrong field, so these are written here rather than derived.
fn input_schemas(categories: &[Category]) -> Vec<(&'static str, Value)> {
    let category = category_values(categories);
    let text =
        |max: usize, pattern: &str| json!({"type": "string", "maxLength": max, "pattern": pattern});
    let optional = |mut schema: Value, description: &str| {
        schema["nullable"] = true.into();
        schema["description"] = description.into();
        schema
    };
    let company = json!({
        "type": "object",
        "description": "A company as a job's input names it; only `name` is required.",
        "properties": {
            "name": text(120, VISIBLE),
            "website": optional(text(500, &or_blank(URL)), "An `http://` or `https://` address."),
            "logo_url": optional(
                text(500, &or_blank(&format!("{URL}|^/uploads/"))),
                "An `http://` or `https://` address (or a logo uploaded here, `/uploads/…`).",
            ),
        },
    });
    let properties = json!({
        "title": text(200, VISIBLE),
        "company": {"allOf": [{"$ref": "#/components/schemas/CompanyInput"}],
            "description": "The company, nested; or give it flat as `company_name`, `company_website`, `company_logo_url` (not both ways at once)."},
        "company_name": optional(text(120, &or_blank(VISIBLE)), "The company's name, when `company` is not given."),
        "company_website": optional(text(500, &or_blank(URL)), "An `http://` or `https://` address."),
        "company_logo_url": optional(text(500, &or_blank(&format!("{URL}|^/uploads/"))), "An `http://` or `https://` address."),
        "description": {"type": "string", "maxLength": 100_000, "pattern": VISIBLE, "description": "Markdown."},
        "category": {"type": "string", "enum": category,
            "description": "One of the board's categories, as its slug or display name."},
        "job_type": {"type": "string", "enum": JobType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>()},
        "tags": optional(
            json!({"type": "array", "maxItems": crate::jobs::input::MAX_TAGS,
                "items": {"type": "string", "maxLength": 32, "anyOf": [
                    {"pattern": SPACES}, {"pattern": TAG_ASCII}, {"pattern": TAG}]}}),
            "At most 10; letters and digits, lowercased.",
        ),
        "remote": optional(
            json!({"type": "array", "items": {"type": "string",
                "enum": Region::ALL.iter().map(|r| r.as_str()).chain([""]).collect::<Vec<_>>()}}),
            "`[\"worldwide\"]` (the default), or some of `americas`, `europe`, `africa`, `middle_east`, `asia_pacific`.",
        ),
        "timezones": optional(text(40, &or_blank(TIMEZONES)), "A UTC offset range such as `-3..+3` or `-5..+5:30`."),
        "location": optional(json!({"type": "string", "maxLength": 200}), "Where the job is, in words."),
        "salary_min": optional(json!({"type": "integer", "format": "int64", "minimum": 0}), "Whole units of `salary_currency`."),
        "salary_max": optional(json!({"type": "integer", "format": "int64", "minimum": 0}), "Whole units of `salary_currency`; not below `salary_min`."),
        "salary_currency": optional(text(3, &or_blank("^[A-Za-z]{3}$")), "ISO 4217, e.g. `USD`; required with a salary."),
        "salary_period": optional(
            json!({"type": "string", "enum": ["year", "month", "hour", ""]}),
            "`year` (the default), `month` or `hour`.",
        ),
        "apply_url": optional(text(1000, &or_blank(URL)), "Where to apply; this or `apply_email` is required."),
        "apply_email": optional(text(254, &or_blank(EMAIL)), "Where to apply by email; this or `apply_url` is required."),
    });
    // Given, as text of this shape.
    let given = |field: &str, pattern: &str| json!({"required": [field], "properties": {field: {"type": "string", "pattern": pattern}}});
    let absent = |field: &str| json!({"properties": {field: {"enum": [null]}}});
    let both: Vec<Value> = ["company_name", "company_website", "company_logo_url"]
        .map(|flat| json!({"required": ["company", flat]}))
        .into();
    let not_both = json!({"not": {"anyOf": both}});
    let new_job = json!({
        "type": "object",
        "description": "A job as the API takes it (SPEC §5). Read-only fields of a job (`id`, `slug`, `url`, `status`, `featured`, counters, times, `description_html`) are ignored. A salary (`salary_min` or `salary_max`) needs `salary_currency`; `salary_max` may not be below `salary_min`.",
        "required": ["title", "description", "category", "job_type"],
        "properties": properties,
        "allOf": [
            not_both.clone(),
            {"anyOf": [
                {"required": ["company"], "properties": {"company": {"required": ["name"]}}},
                given("company_name", VISIBLE),
            ]},
            {"anyOf": [given("apply_url", URL), given("apply_email", EMAIL)]},
            {"anyOf": [
                {"allOf": [absent("salary_min"), absent("salary_max")]},
                given("salary_currency", "^[A-Za-z]{3}$"),
            ]},
        ],
    });
    // In a patch, `null` removes a field: not one a job must have.
    let mut patch_properties = properties.clone();
    for field in [
        "title",
        "company_name",
        "description",
        "category",
        "job_type",
    ] {
        patch_properties[field]["nullable"] = false.into();
    }
    patch_properties["company_name"]["pattern"] = VISIBLE.into();
    let patch = json!({
        "type": "object",
        "description": "A JSON merge patch (RFC 7396) of a job's input: fields given replace the job's, `null` removes an optional one; the result must be a valid job.",
        "properties": patch_properties,
        "allOf": [not_both],
    });
    vec![
        ("JobInput", new_job),
        ("JobPatch", patch),
        ("CompanyInput", company),
    ]
}

/// Writes into `doc` (the generated OpenAPI document, paths as served) what
/// the types could not say.
pub fn refine(doc: &mut Value, categories: &[Category]) {
    let schemas = search_parameters(categories);
    let params = doc["paths"]["/api/v1/jobs"]["get"]["parameters"].as_array_mut();
    for param in params.into_iter().flatten() {
        let name = param["name"].as_str().unwrap_or_default().to_string();
        if let Some((_, schema)) = schemas.iter().find(|(n, _)| *n == name) {
            param["schema"] = schema.clone();
        }
        // An empty item of a list is left out anyway (and its schema says
        // so): this is for single values.
        if param["schema"]["type"] != "array" {
            param["allowEmptyValue"] = true.into();
        }
    }
    // A posted job's id leads to the operations on it.
    let links: serde_json::Map<String, Value> = ["getJob", "updateJob", "deleteJob", "checkoutJob"]
        .into_iter()
        .map(|op| {
            (
                op.to_string(),
                json!({"operationId": op, "parameters": {"id": "$response.body#/id"}}),
            )
        })
        .collect();
    doc["paths"]["/api/v1/jobs"]["post"]["responses"]["201"]["links"] = links.into();
    for (name, schema) in input_schemas(categories) {
        doc["components"]["schemas"][name] = schema;
    }
}
