//! `/metrics`: the board's numbers in the Prometheus text format, for the
//! addresses in `metrics.allow` (and, when `metrics.token` is set, only with
//! `Authorization: Bearer <token>`). The same check decides who sees the
//! details of `/healthz`.

use poem::http::{StatusCode, header};
use poem::web::Data;
use poem::{Request, Response, handler};

use super::State;
use crate::config::MetricsConfig;
use crate::metrics::{gauges, text};

/// Why a request may not read the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `metrics.enabled = false`.
    Disabled,
    /// The client's address is not in `metrics.allow`.
    Address,
    /// The bearer token is missing or wrong.
    Token,
}

/// Whether this request may read the metrics.
pub fn check(config: &MetricsConfig, req: &Request) -> Result<(), Refusal> {
    if !config.enabled {
        return Err(Refusal::Disabled);
    }
    let allowed = super::limits::client_addr(req)
        .is_some_and(|ip| config.allow.iter().any(|net| net.contains(ip)));
    if !allowed {
        return Err(Refusal::Address);
    }
    if let Some(token) = &config.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !crate::crypto::constant_time_eq(given.trim().as_bytes(), token.as_bytes()) {
            return Err(Refusal::Token);
        }
    }
    Ok(())
}

impl Refusal {
    fn response(self) -> Response {
        let (status, text) = match self {
            Refusal::Disabled => (StatusCode::NOT_FOUND, "Not found.\n"),
            Refusal::Address => (
                StatusCode::FORBIDDEN,
                "Metrics are not open to this address (see metrics.allow).\n",
            ),
            Refusal::Token => (StatusCode::UNAUTHORIZED, "A bearer token is required.\n"),
        };
        let mut resp = Response::builder()
            .status(status)
            .content_type("text/plain; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-store")
            .body(text);
        if self == Refusal::Token {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

#[handler]
pub async fn metrics(req: &Request, Data(state): Data<&State>) -> Response {
    if let Err(refusal) = check(&state.config.metrics, req) {
        return refusal.response();
    }
    let gauges = gauges::read(state, true).await;
    Response::builder()
        .content_type(text::CONTENT_TYPE)
        .header(header::CACHE_CONTROL, "no-store")
        .body(state.metrics.render(&gauges))
}
