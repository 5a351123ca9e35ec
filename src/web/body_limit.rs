//! Request body limits per route, for every way a body can arrive.
//!
//! poem's `SizeLimit` looks at `Content-Length` only; a chunked body has none.
//! [`BodyLimit`] refuses a declared length over the route's limit with 413
//! before reading a byte, and hands the handler a body that ends in an error
//! once it grows past the limit, or stalls for [`STALL`]. Handlers read bodies
//! with limits of their own too (`into_bytes_limit`), which say 413 in their own
//! words; whatever a handler answers to a body cut off here, the answer is 413
//! (too large) or 408 (stalled), with `Connection: close` since the rest of
//! the body was never read.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response};

use super::State;

/// A body that sends nothing for this long is cut off (408).
pub const STALL: Duration = Duration::from_secs(30);
/// Requests that carry no body (GET, HEAD, DELETE, …).
pub const NO_BODY: usize = 8 * 1024;
/// Forms other than a job's: sign-in, actions, alerts.
pub const SMALL_FORM: usize = 64 * 1024;

/// The largest body `method` on `path` takes.
pub fn limit_for(method: &Method, path: &str) -> usize {
    let has_body = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if !has_body {
        NO_BODY
    } else if path == "/stripe/webhook" {
        crate::payments::webhook::MAX_BODY
    } else if path == "/dashboard/company/logo" {
        crate::dashboard::logo::MAX_BYTES + crate::dashboard::company::MULTIPART_OVERHEAD
    } else if path.starts_with("/api/") {
        crate::jobs::api_input::MAX_BODY
    } else if carries_a_job(path) {
        super::forms::MAX_FORM_BYTES
    } else {
        SMALL_FORM
    }
}

/// Forms with a job's Markdown description (or a company's) in them.
fn carries_a_job(path: &str) -> bool {
    let edit = |prefix: &str| path.starts_with(prefix) && path.ends_with("/edit");
    path == "/post"
        || path == "/dashboard/company"
        || edit("/post/")
        || edit("/dashboard/jobs/")
        || edit("/admin/jobs/")
}

/// Why a body was cut off.
const TOO_LARGE: u8 = 1;
const STALLED: u8 = 2;

/// The middleware; see the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    /// How long a body may send nothing ([`STALL`]).
    pub stall: Duration,
}

impl Default for BodyLimit {
    fn default() -> BodyLimit {
        BodyLimit { stall: STALL }
    }
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        BodyLimitEndpoint {
            ep,
            stall: self.stall,
        }
    }
}

pub struct BodyLimitEndpoint<E> {
    ep: E,
    stall: Duration,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let limit = limit_for(req.method(), req.uri().path());
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            let state = req.data::<State>();
            return Ok(refusal(
                req.uri().path(),
                state,
                StatusCode::PAYLOAD_TOO_LARGE,
                limit,
            ));
        }
        let cut = Arc::new(AtomicU8::new(0));
        let may_have_body = declared.is_some_and(|n| n > 0)
            || req.headers().contains_key(header::TRANSFER_ENCODING);
        if may_have_body {
            let body = req.take_body();
            req.set_body(limited(body, limit, self.stall, Arc::clone(&cut)));
        }
        let path = req.uri().path().to_string();
        let state = req.data::<State>().cloned();
        let resp = match self.ep.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) => e.into_response(),
        };
        let status = match cut.load(Ordering::Acquire) {
            TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            STALLED => StatusCode::REQUEST_TIMEOUT,
            _ => return Ok(resp),
        };
        if resp.status() == status {
            let mut resp = resp;
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return Ok(resp);
        }
        Ok(refusal(&path, state.as_ref(), status, limit))
    }
}

/// `body`, ending in an error past `limit` bytes or after `stall` without
/// data; `cut` says which.
fn limited(body: Body, limit: usize, stall: Duration, cut: Arc<AtomicU8>) -> Body {
    let inner = Box::pin(body.into_bytes_stream());
    let stream = futures_util::stream::unfold((inner, 0usize), move |(mut inner, seen)| {
        let cut = Arc::clone(&cut);
        async move {
            if cut.load(Ordering::Acquire) != 0 {
                return None;
            }
            let item = match tokio::time::timeout(stall, inner.next()).await {
                Err(_) => {
                    cut.store(STALLED, Ordering::Release);
                    Err(io::Error::new(io::ErrorKind::TimedOut, "the body stalled"))
                }
                Ok(None) => return None,
                Ok(Some(Err(e))) => Err(e),
                Ok(Some(Ok(chunk))) if seen + chunk.len() > limit => {
                    cut.store(TOO_LARGE, Ordering::Release);
                    Err(io::Error::other("the body is too large"))
                }
                Ok(Some(Ok(chunk))) => {
                    let seen = seen + chunk.len();
                    return Some((Ok(chunk), (inner, seen)));
                }
            };
            Some((item, (inner, seen)))
        }
    });
    Body::from_bytes_stream(stream)
}

/// A 413 or 408 in the shape of the route (the API's JSON error, the
/// webhook's, or the board's error page), closing the connection: the rest
/// of the body is not read.
fn refusal(path: &str, state: Option<&State>, status: StatusCode, limit: usize) -> Response {
    let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
        format!(
            "The request is too large: this address takes at most {} KB.",
            limit / 1024
        )
    } else {
        "The request took too long to arrive. Try again.".to_string()
    };
    let builder = Response::builder()
        .status(status)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::CONNECTION, "close");
    if path.starts_with("/api/") {
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "timeout"
        };
        let body = serde_json::json!({"error": {"code": code, "message": message, "fields": {}}});
        return builder
            .content_type("application/json")
            .body(body.to_string());
    }
    if path == "/stripe/webhook" {
        let body = serde_json::json!({ "error": message });
        return builder
            .content_type("application/json")
            .body(body.to_string());
    }
    let title = status.canonical_reason().unwrap_or("Error");
    let page = state.and_then(|s| {
        s.templates
            .render(
                "errors/error.html",
                minijinja::context! { status => status.as_u16(), title, message, request_id => () },
            )
            .ok()
    });
    match page {
        Some(html) => builder.content_type("text/html; charset=utf-8").body(html),
        None => builder
            .content_type("text/plain; charset=utf-8")
            .body(format!("{} {title}: {message}", status.as_u16())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use poem::test::TestClient;
    use poem::{EndpointExt, handler};

    /// Reads the body as a careless handler would: any failure is a 400.
    #[handler]
    async fn careless(body: Body) -> poem::Result<String> {
        let bytes = body
            .into_bytes()
            .await
            .map_err(|_| poem::Error::from_status(StatusCode::BAD_REQUEST))?;
        Ok(format!("read {}", bytes.len()))
    }

    /// A chunked body (no `Content-Length`) of `chunks` chunks of 1 KiB,
    /// then, when `hang`, nothing ever again.
    fn chunked(chunks: usize, hang: bool) -> Body {
        let data = futures_util::stream::iter(
            (0..chunks).map(|_| Ok::<_, io::Error>(Bytes::from(vec![b'x'; 1024]))),
        );
        if hang {
            Body::from_bytes_stream(data.chain(futures_util::stream::pending()))
        } else {
            Body::from_bytes_stream(data)
        }
    }

    fn client(stall: Duration) -> TestClient<impl Endpoint> {
        TestClient::new(
            poem::Route::new()
                .at("/login", poem::post(careless))
                .with(BodyLimit { stall }),
        )
    }

    #[tokio::test]
    async fn a_chunked_body_past_the_limit_is_413_whatever_the_handler_says() {
        let cli = client(STALL);
        let small = SMALL_FORM / 1024;
        let resp = cli
            .post("/login")
            .header(header::TRANSFER_ENCODING, "chunked")
            .body(chunked(small, false))
            .send()
            .await;
        resp.assert_status_is_ok();
        resp.assert_text(format!("read {SMALL_FORM}")).await;

        let resp = cli
            .post("/login")
            .header(header::TRANSFER_ENCODING, "chunked")
            .body(chunked(small + 1, false))
            .send()
            .await;
        resp.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
        resp.assert_header(header::CONNECTION, "close");
    }

    #[tokio::test]
    async fn a_declared_length_past_the_limit_is_413_unread() {
        let cli = client(STALL);
        // Reading the body at all would fail the test.
        let unreadable = futures_util::stream::poll_fn(
            |_| -> std::task::Poll<Option<Result<Bytes, io::Error>>> {
                panic!("the body was read")
            },
        );
        let resp = cli
            .post("/login")
            .header(header::CONTENT_LENGTH, (SMALL_FORM + 1).to_string())
            .body(Body::from_bytes_stream(unreadable))
            .send()
            .await;
        resp.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
        resp.assert_header(header::CONNECTION, "close");
    }

    #[tokio::test]
    async fn a_stalled_body_is_408() {
        let cli = client(Duration::from_millis(50));
        let resp = cli
            .post("/login")
            .header(header::TRANSFER_ENCODING, "chunked")
            .body(chunked(3, true))
            .send()
            .await;
        resp.assert_status(StatusCode::REQUEST_TIMEOUT);
    }

    #[test]
    fn each_route_has_its_limit() {
        let post = Method::POST;
        assert_eq!(limit_for(&Method::GET, "/post"), NO_BODY);
        assert_eq!(limit_for(&Method::DELETE, "/api/v1/jobs/3"), NO_BODY);
        assert_eq!(limit_for(&post, "/stripe/webhook"), 512 * 1024);
        assert_eq!(
            limit_for(&post, "/dashboard/company/logo"),
            1024 * 1024 + 16 * 1024
        );
        assert_eq!(limit_for(&post, "/api/v1/jobs"), 1 << 20);
        assert_eq!(limit_for(&Method::PATCH, "/api/v1/jobs/3"), 1 << 20);
        for job_form in [
            "/post",
            "/post/12/edit",
            "/dashboard/jobs/12/edit",
            "/admin/jobs/12/edit",
            "/dashboard/company",
        ] {
            assert_eq!(limit_for(&post, job_form), 256 * 1024, "{job_form}");
        }
        for small in [
            "/login",
            "/register",
            "/alerts",
            "/post/12/submit",
            "/dashboard/jobs/12/renew",
        ] {
            assert_eq!(limit_for(&post, small), SMALL_FORM, "{small}");
        }
    }
}
