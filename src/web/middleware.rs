//! Middleware: security headers on every response, and errors turned into
//! pages (HTML) or JSON bodies (API), with a request id on every 5xx.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use super::State;
use crate::config::Config;
use crate::error::AppError;

/// The Content-Security-Policy of every response: no inline script or style, no
/// third-party anything.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
     script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Adds the security headers of SPEC §9 to every response.
pub struct SecurityHeaders {
    hsts: bool,
}

impl SecurityHeaders {
    pub fn new(config: &Config) -> Self {
        SecurityHeaders {
            hsts: config.base_url.starts_with("https://"),
        }
    }
}

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        SecurityHeadersEndpoint {
            ep,
            hsts: self.hsts,
        }
    }
}

pub struct SecurityHeadersEndpoint<E> {
    ep: E,
    hsts: bool,
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let mut resp = match self.ep.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) => e.into_response(),
        };
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            "permissions-policy",
            HeaderValue::from_static(
                "camera=(), microphone=(), geolocation=(), interest-cohort=()",
            ),
        );
        h.insert(
            "cross-origin-opener-policy",
            HeaderValue::from_static("same-origin"),
        );
        if self.hsts {
            h.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000"),
            );
        }
        Ok(resp)
    }
}

/// The id of the request being handled (the one in its `X-Request-Id` header
/// and on its log lines), shown to the user of a failed request; a new id
/// outside a request.
pub fn request_id() -> String {
    super::observe::current_request_id().unwrap_or_else(new_request_id)
}

/// A new short id: a random prefix for this process and a counter.
pub fn new_request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| fastrand::u32(..));
    format!("{prefix:08x}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Status, title and message of an error, logging the cause of a 5xx.
pub fn describe(
    err: &poem::Error,
    method: &str,
    path: &str,
) -> (StatusCode, String, String, Option<String>) {
    let (status, message) = match err.downcast_ref::<AppError>() {
        Some(app) => (app.status(), app.public_message()),
        None => {
            let status = err.status();
            let message = match status {
                StatusCode::NOT_FOUND => AppError::NotFound.public_message(),
                StatusCode::METHOD_NOT_ALLOWED => {
                    "This address does not accept that method.".into()
                }
                s if s.is_server_error() => AppError::internal("").public_message(),
                _ => err.to_string(),
            };
            (status, message)
        }
    };
    let id = status.is_server_error().then(|| {
        let id = request_id();
        tracing::error!(request_id = %id, %method, %path, error = %err, "request failed");
        id
    });
    let title = match status {
        StatusCode::NOT_FOUND => "Page not found".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed".to_string(),
        StatusCode::SERVICE_UNAVAILABLE => "Temporarily unavailable".to_string(),
        s if s.is_server_error() => "Something went wrong".to_string(),
        s => s.canonical_reason().unwrap_or("Error").to_string(),
    };
    (status, title, message, id)
}

/// Renders any error of the page routes as the friendly error page.
pub async fn error_pages<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let state = req.data::<State>().cloned();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let err = match ep.call(req).await {
        Ok(resp) => return Ok(resp.into_response()),
        Err(err) => err,
    };
    if err.status().is_redirection() {
        // "Sign in first": an extractor's redirect, not a failure.
        return Ok(err.into_response());
    }
    let (status, title, message, id) = describe(&err, &method, &path);
    let retry_after = err
        .downcast_ref::<AppError>()
        .and_then(AppError::retry_after);
    let body = state.and_then(|s| {
        s.templates
            .render(
                "errors/error.html",
                minijinja::context! { status => status.as_u16(), title, message, request_id => id },
            )
            .ok()
    });
    let mut resp = match body {
        Some(html) => Response::builder()
            .content_type("text/html; charset=utf-8")
            .body(html),
        None => Response::builder()
            .content_type("text/plain; charset=utf-8")
            .body(format!("{} {title}", status.as_u16())),
    };
    resp.set_status(status);
    if let Some(seconds) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    Ok(resp)
}
