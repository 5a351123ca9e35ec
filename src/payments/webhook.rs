//! `POST /stripe/webhook`: Stripe's events, signed with `stripe.webhook_secret`.
//!
//! Stripe signs `"{t}.{raw body}"` with HMAC-SHA256 and sends
//! `Stripe-Signature: t=…,v1=…[,v1=…]`; while a secret is being rolled there
//! are two `v1` values, one for each secret, so every one is checked (in
//! constant time). A correctly signed event is kept by its id, in the same
//! durable transaction as the task that settles it, and answered 200 at once,
//! whatever its type or shape; a copy sent again is recognised by its id and
//! changes nothing.

use hmac::{Hmac, Mac};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, Request, Response, handler};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::crypto::{constant_time_eq, hex};
use crate::error::AppError;
use crate::web::State;

/// How far the signed time may be from ours, either way (Stripe's default).
pub const TOLERANCE: i64 = 300;

/// The most an event may weigh: Checkout Session events are a few kilobytes.
pub const MAX_BODY: usize = 512 * 1024;

/// The events that move a payment.
pub const SETTLING: &[&str] = &[
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
];

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No `Stripe-Signature` header, or no `t` or no `v1` in it.
    Missing,
    /// The signed time is more than [`TOLERANCE`] from now.
    OutsideTolerance,
    /// No `v1` is the signature of this body under our secret.
    NoMatch,
}

impl SignatureError {
    pub fn message(self) -> &'static str {
        match self {
            SignatureError::Missing => "missing or malformed Stripe-Signature header",
            SignatureError::OutsideTolerance => "signature timestamp outside the tolerance",
            SignatureError::NoMatch => "no signature matches the payload",
        }
    }
}

/// The hex HMAC-SHA256 of `"{timestamp}.{payload}"` under `secret`.
pub fn signature(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    #[allow(clippy::expect_used)]
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    hex(&mac.finalize().into_bytes())
}

/// Checks a `Stripe-Signature` header against the raw body; returns the
/// signed time.
pub fn verify(
    header: Option<&str>,
    payload: &[u8],
    secret: &str,
    now: i64,
) -> Result<i64, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => {
                if timestamp.is_some() {
                    return Err(SignatureError::Missing);
                }
                timestamp = Some(t.parse::<i64>().map_err(|_| SignatureError::Missing)?);
            }
            Some(("v1", v)) => candidates.push(v),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Missing)?;
    if candidates.is_empty() {
        return Err(SignatureError::Missing);
    }
    if now.abs_diff(timestamp) > TOLERANCE as u64 {
        return Err(SignatureError::OutsideTolerance);
    }
    let expected = signature(secret, timestamp, payload);
    // Every candidate is compared, matching or not.
    let matched = candidates.iter().fold(false, |found, v| {
        constant_time_eq(v.as_bytes(), expected.as_bytes()) | found
    });
    if matched {
        Ok(timestamp)
    } else {
        Err(SignatureError::NoMatch)
    }
}

fn answer(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .header("Cache-Control", "no-store")
        .body(body.to_string())
}

#[handler]
pub async fn receive(
    req: &Request,
    body: Body,
    Data(state): Data<&State>,
) -> poem::Result<Response> {
    let Some(secret) = state.config.stripe.webhook_secret.as_deref() else {
        return Err(AppError::NotFound.into());
    };
    let payload = body.into_bytes_limit(MAX_BODY).await.map_err(|_| {
        AppError::TooLarge(format!("a Stripe event is at most {} KiB", MAX_BODY / 1024))
    })?;
    let header = req
        .headers()
        .get("Stripe-Signature")
        .and_then(|v| v.to_str().ok());
    let now = state.now();
    if let Err(e) = verify(header, &payload, secret, now) {
        tracing::warn!(reason = e.message(), "Stripe webhook refused");
        return Ok(answer(
            StatusCode::BAD_REQUEST,
            json!({ "error": e.message() }),
        ));
    }
    // Signed by Stripe: from here on the answer is 200, whatever it holds.
    let event: Option<(String, String)> =
        serde_json::from_slice::<Value>(&payload)
            .ok()
            .and_then(|v| {
                let id = v.get("id")?.as_str()?.to_string();
                let kind = v
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                Some((id, kind))
            });
    let Some((id, kind)) = event else {
        tracing::warn!("a signed Stripe event without an id was ignored");
        return Ok(answer(StatusCode::OK, json!({ "received": true })));
    };
    let text = String::from_utf8_lossy(&payload).into_owned();
    let (event_id, event_kind) = (id.clone(), kind.clone());
    let queued = state
        .db
        .write_durable_quiet(move |tx| {
            if !super::store::keep_event(tx, &event_id, &event_kind, &text, now)? {
                return Ok(false);
            }
            if SETTLING.contains(&event_kind.as_str()) {
                crate::tasks::queue::enqueue(
                    tx,
                    "stripe_event",
                    &json!({ "event": event_id }),
                    now,
                    None,
                    now,
                )?;
                return Ok(true);
            }
            Ok(false)
        })
        .await?;
    if queued {
        state.wake.notify();
    }
    tracing::info!(event = %id, kind = %kind, queued, "Stripe event received");
    Ok(answer(StatusCode::OK, json!({ "received": true })))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stripe's published test vector.
    const SECRET: &str = "whsec_test_secret";
    const T: i64 = 1_492_774_577;
    const PAYLOAD: &str =
        r#"{"id":"evt_test_webhook","object":"event","type":"checkout.session.completed"}"#;
    const V1: &str = "94b1a9d69a3405ad88b5b9d41608e112f78711e4a72de9561292bc3a8b877dc3";

    #[test]
    fn stripes_test_vector() {
        assert_eq!(signature(SECRET, T, PAYLOAD.as_bytes()), V1);
        let header = format!("t={T},v1={V1}");
        assert_eq!(verify(Some(&header), PAYLOAD.as_bytes(), SECRET, T), Ok(T));
    }

    #[test]
    fn every_v1_is_tried_and_v0_is_not_enough() {
        let wrong = "0".repeat(64);
        for header in [
            format!("t={T},v1={wrong},v1={V1}"),
            format!("t={T},v1={V1},v1={wrong}"),
            format!("t={T},v0={wrong},v1={V1}"),
        ] {
            assert_eq!(
                verify(Some(&header), PAYLOAD.as_bytes(), SECRET, T),
                Ok(T),
                "{header}"
            );
        }
        let v0_only = format!("t={T},v0={V1}");
        assert_eq!(
            verify(Some(&v0_only), PAYLOAD.as_bytes(), SECRET, T),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn forged_stale_future_and_missing_signatures_are_refused() {
        let header = format!("t={T},v1={V1}");
        let body = PAYLOAD.as_bytes();
        // Another body, another secret.
        assert_eq!(
            verify(Some(&header), br#"{"id":"evt_x"}"#, SECRET, T),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(Some(&header), body, "whsec_other", T),
            Err(SignatureError::NoMatch)
        );
        // Five minutes either way is fine; a second more is not.
        assert!(verify(Some(&header), body, SECRET, T + TOLERANCE).is_ok());
        assert!(verify(Some(&header), body, SECRET, T - TOLERANCE).is_ok());
        assert_eq!(
            verify(Some(&header), body, SECRET, T + TOLERANCE + 1),
            Err(SignatureError::OutsideTolerance)
        );
        assert_eq!(
            verify(Some(&header), body, SECRET, T - TOLERANCE - 1),
            Err(SignatureError::OutsideTolerance)
        );
        for bad in [
            "".to_string(),
            format!("v1={V1}"),
            format!("t={T}"),
            format!("t=soon,v1={V1}"),
            format!("t={T},t={T},v1={V1}"),
        ] {
            assert_eq!(
                verify(Some(&bad), body, SECRET, T),
                Err(SignatureError::Missing),
                "{bad}"
            );
        }
        assert_eq!(verify(None, body, SECRET, T), Err(SignatureError::Missing));
        // The signed time is part of what is signed.
        let moved = format!("t={},v1={V1}", T + 1);
        assert_eq!(
            verify(Some(&moved), body, SECRET, T),
            Err(SignatureError::NoMatch)
        );
    }
}
