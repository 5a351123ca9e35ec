//! What every request leaves behind: an id (in the `X-Request-Id` header, on
//! every log line written while it is handled, and on a 5xx page), its count
//! and time in the metrics, and an access line in the log.
//!
//! The access line (method, route, status, milliseconds) is at `debug`, under
//! the target `jobboard::access`: a board behind a reverse proxy already has
//! the proxy's access log, and a small VM's journal need not hold two.
//! `RUST_LOG=info,poem=warn,tantivy=warn,jobboard::access=debug` turns it on
//! alone.

use std::sync::Arc;
use std::time::Instant;

use poem::http::{HeaderName, HeaderValue};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use tracing::Instrument;

use crate::metrics::{Metrics, routes};

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request this task is handling, if it is handling one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(String::clone).ok()
}

/// The response header that names the request.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a proxy's `X-Request-Id`.
const MAX_FORWARDED_ID: usize = 64;

/// The id a reverse proxy on this machine gave the request (nginx's
/// `$request_id`), when it is a plain token.
fn forwarded_id(req: &Request) -> Option<String> {
    if !super::limits::from_local_proxy(req) {
        return None;
    }
    let id = req.headers().get(X_REQUEST_ID)?.to_str().ok()?.trim();
    let plain = !id.is_empty()
        && id.len() <= MAX_FORWARDED_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    plain.then(|| id.to_string())
}

/// The middleware: wraps the whole application.
pub struct Observe {
    metrics: Arc<Metrics>,
}

impl Observe {
    pub fn new(metrics: Arc<Metrics>) -> Observe {
        Observe { metrics }
    }
}

impl<E: Endpoint> Middleware<E> for Observe {
    type Output = ObserveEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        ObserveEndpoint {
            ep,
            metrics: self.metrics.clone(),
        }
    }
}

pub struct ObserveEndpoint<E> {
    ep: E,
    metrics: Arc<Metrics>,
}

impl<E: Endpoint> Endpoint for ObserveEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let started = Instant::now();
        let route = routes::classify(req.uri().path());
        let method = req.method().clone();
        let id = forwarded_id(&req).unwrap_or_else(super::middleware::new_request_id);
        // At `error` so that the id is on every line, whatever level is
        // logged; a span itself writes nothing. One field, written with
        // `Display`: the span's fields are formatted once per request.
        let span = tracing::error_span!("request", request_id = %id);
        let handled = async {
            let resp = match self.ep.call(req).await {
                Ok(resp) => resp.into_response(),
                Err(err) => err.into_response(),
            };
            let elapsed = started.elapsed();
            let status = resp.status().as_u16();
            self.metrics.request(route, &method, status, elapsed);
            tracing::debug!(
                target: "jobboard::access",
                method = %method,
                route = %routes::label(route),
                status,
                ms = (elapsed.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
                "answered"
            );
            resp
        };
        let header = HeaderValue::from_str(&id);
        let mut resp = REQUEST_ID.scope(id, handled.instrument(span)).await;
        if let Ok(value) = header {
            resp.headers_mut().insert(X_REQUEST_ID, value);
        }
        Ok(resp)
    }
}
