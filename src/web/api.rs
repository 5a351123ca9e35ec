//! The JSON API's plumbing: the OpenAPI service, the error body, and JSON for
//! errors that happen before a handler (unknown path, wrong method).

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApiService};

use super::State;
use crate::error::AppError;

/// The body of every API error.
#[derive(Debug, Object)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Object)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `not_found`, `invalid_input`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// A message per invalid input field.
    pub fields: BTreeMap<String, String>,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: code.to_string(),
                message: message.into(),
                fields: BTreeMap::new(),
            },
        }
    }
}

/// An API error: every status an operation may answer besides success.
#[derive(Debug, ApiResponse)]
#[oai(bad_request_handler = "bad_request")]
pub enum ApiError {
    /// The request is malformed.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No valid API token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>, #[oai(header = "WWW-Authenticate")] String),
    /// The token is valid but may not do this.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// Nothing at this address (or not yours).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The job's state (or the board's) does not allow this, e.g. paying
    /// for a job on a board where posting is free.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The request body is too large.
    #[oai(status = 413)]
    TooLarge(Json<ErrorBody>),
    /// The body is not JSON (see the operation's content type).
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// The input has errors; `fields` says which.
    #[oai(status = 422)]
    Invalid(Json<ErrorBody>),
    /// Too many requests; `Retry-After` says how many seconds to wait.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Something failed on the server.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The service is busy or starting.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

fn bad_request(err: poem::Error) -> ApiError {
    ApiError::BadRequest(Json(ErrorBody::new("bad_request", err.to_string())))
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        let mut body = ErrorBody::new(e.code(), e.public_message());
        if let Some(fields) = e.fields() {
            body.error.fields = fields.clone();
        }
        match e {
            AppError::NotFound => ApiError::NotFound(Json(body)),
            AppError::Unauthorized => ApiError::Unauthorized(Json(body), "Bearer".into()),
            AppError::Forbidden(_) => ApiError::Forbidden(Json(body)),
            AppError::TooLarge(_) => ApiError::TooLarge(Json(body)),
            AppError::TooManyRequests { retry_after } => {
                ApiError::TooManyRequests(Json(body), retry_after)
            }
            AppError::BadRequest(_) => ApiError::BadRequest(Json(body)),
            AppError::Invalid(_) => ApiError::Invalid(Json(body)),
            AppError::Unavailable(_) => ApiError::Unavailable(Json(body)),
            AppError::DiskFull(_) => {
                tracing::error!(error = %e, "api write refused: the disk is full");
                ApiError::Unavailable(Json(body))
            }
            AppError::Internal(_) | AppError::Db(_) => {
                let id = super::middleware::request_id();
                tracing::error!(request_id = %id, error = %e, "api request failed");
                body.error.message = format!("{} (reference {id})", body.error.message);
                ApiError::Internal(Json(body))
            }
        }
    }
}

/// The API under `/api`: `/api/v1/...` and `/api/openapi.json`.
pub fn routes(state: &State) -> impl Endpoint + use<> {
    let service = OpenApiService::new(
        (crate::jobs::api::JobsApi, crate::companies::api::CompaniesApi),
        format!("{} API", state.config.site.name),
        env!("CARGO_PKG_VERSION"),
    )
    .description("Read the board's published jobs and companies; with an API token (`Authorization: Bearer …`), post, change and delete your own jobs. Errors are `{\"error\": {\"code\", \"message\", \"fields\"}}`.")
    .url_prefix("/api/v1")
    .server(state.config.base_url.clone());
    let mut doc: serde_json::Value = serde_json::from_str(&service.spec()).unwrap_or_default();
    crate::jobs::api_doc::refine(&mut doc, &state.config.site.categories);
    let allowed = Arc::new(Allowed::from_spec(&doc, "/api"));
    let doc = Bytes::from(serde_json::to_vec_pretty(&doc).unwrap_or_default());
    let spec = poem::get(poem::endpoint::make_sync(move |_| {
        Response::builder()
            .content_type("application/json; charset=utf-8")
            .body(doc.clone())
    }));
    Route::new()
        .nest("/v1", service)
        .at("/openapi.json", spec)
        .around(move |ep, req| json_errors(ep, req, Arc::clone(&allowed)))
        .around(cached)
}

/// The methods each documented path answers, for the `Allow` header of a 405;
/// paths as this route sees them (the document's, less where it is mounted).
struct Allowed(Vec<(String, String)>);

impl Allowed {
    fn from_spec(spec: &serde_json::Value, mount: &str) -> Allowed {
        let mut table = Vec::new();
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            let methods: Vec<&str> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
                .into_iter()
                .filter(|m| {
                    let doc = if *m == "HEAD" { "get" } else { m };
                    item.get(doc.to_ascii_lowercase()).is_some()
                })
                .collect();
            let path = path.strip_prefix(mount).unwrap_or(path);
            table.push((path.to_string(), methods.join(", ")));
        }
        Allowed(table)
    }

    /// What `path` answers; `GET, HEAD` for paths outside the document.
    fn methods(&self, path: &str) -> &str {
        let fits = |template: &str| {
            template.split('/').count() == path.split('/').count()
                && template
                    .split('/')
                    .zip(path.split('/'))
                    .all(|(t, p)| t == p || t.starts_with('{'))
        };
        self.0
            .iter()
            .find(|(template, _)| fits(template))
            .map_or("GET, HEAD", |(_, methods)| methods.as_str())
    }
}

/// What a cached API call answered when it is not a 200 to keep.
enum Uncached {
    Response(Response),
    Error(poem::Error),
}

/// Keeps anonymous GET answers in the page cache, per content version, like
/// pages: the same search asked again is answered from memory.
async fn cached<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let state = req.data::<State>().cloned();
    let cacheable = req.method() == poem::http::Method::GET
        && !req.headers().contains_key(header::AUTHORIZATION);
    let Some(state) = state.filter(|_| cacheable) else {
        return ep.call(req).await.map(IntoResponse::into_response);
    };
    let key = format!(
        "api {}",
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or_default()
    );
    let version = state.content_version();
    let rendered = state
        .pages
        .get_or_render(&key, version, state.now(), || async move {
            match ep.call(req).await {
                Ok(resp) => {
                    let resp = resp.into_response();
                    if resp.status() != StatusCode::OK {
                        return Err(Uncached::Response(resp));
                    }
                    resp.into_body()
                        .into_bytes()
                        .await
                        .map_err(|e| Uncached::Error(e.into()))
                }
                Err(e) => Err(Uncached::Error(e)),
            }
        })
        .await;
    match rendered {
        Ok(body) => Ok(Response::builder()
            .content_type("application/json; charset=utf-8")
            .body(body)),
        Err(Uncached::Response(resp)) => Ok(resp),
        Err(Uncached::Error(e)) => Err(e),
    }
}

/// Turns errors raised outside handlers (no such path, wrong method, a panic's
/// 500) into the API's JSON error body.
async fn json_errors<E: Endpoint>(
    ep: Arc<E>,
    req: Request,
    allowed: Arc<Allowed>,
) -> poem::Result<Response> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let allow = allowed.methods(req.uri().path()).to_string();
    let err = match ep.call(req).await {
        Ok(resp) => return Ok(resp.into_response()),
        Err(err) => err,
    };
    if !err.has_source() {
        // A documented error response an operation returned: keep its body.
        let resp = err.into_response();
        let json = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if json {
            return Ok(resp);
        }
        let status = resp.status();
        return Ok(json_error(
            status,
            None,
            status.canonical_reason().unwrap_or("error").to_string(),
            &allow,
        ));
    }
    let code = err.downcast_ref::<AppError>().map(AppError::code);
    let (status, _, message, id) = super::middleware::describe(&err, &method, &path);
    let message = match id {
        Some(id) => format!("{message} (reference {id})"),
        // A missing or malformed `Authorization` header.
        None if status == StatusCode::UNAUTHORIZED => AppError::Unauthorized.public_message(),
        None => message,
    };
    Ok(json_error(status, code, message, &allow))
}

/// The API's error body for a status (`code` when known, else one for the
/// status); `allow` lists the path's methods for a 405.
fn json_error(status: StatusCode, code: Option<&str>, message: String, allow: &str) -> Response {
    let code = code.unwrap_or(match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_input",
        StatusCode::UNAUTHORIZED => "unauthorized",
        s if s.is_server_error() => "internal",
        _ => "error",
    });
    let body = serde_json::json!({"error": {"code": code, "message": message, "fields": {}}});
    let mut resp = poem::web::Json(body).into_response();
    resp.set_status(status);
    if status == StatusCode::METHOD_NOT_ALLOWED {
        let allow = HeaderValue::from_str(allow).unwrap_or(HeaderValue::from_static("GET, HEAD"));
        resp.headers_mut().insert(header::ALLOW, allow);
    }
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}
