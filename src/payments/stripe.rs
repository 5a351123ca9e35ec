//! The three Stripe calls the board makes (create, look up and expire a
//! Checkout Session), through async-stripe, and what the board reads of a
//! session, whether it came from a call or inside a webhook event.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    ExpireCheckoutSession, ProductData, RetrieveCheckoutSession,
};
use stripe_checkout::{
    CheckoutSession, CheckoutSessionMode, CheckoutSessionPaymentStatus, CheckoutSessionStatus,
};

use super::Line;
use crate::config::Config;
use crate::error::AppError;

/// How long one call to Stripe may take.
const TIMEOUT: Duration = Duration::from_secs(15);

/// Where a Checkout Session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Open,
    Complete,
    Expired,
    /// Stripe answers that no such session exists (another account or mode).
    Gone,
    /// A status this version does not know.
    Other,
}

/// What the board reads of a Checkout Session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub state: SessionState,
    /// `payment_status` is `paid` (or `no_payment_required`): money was taken.
    pub paid: bool,
    pub amount_total: Option<i64>,
    pub currency: Option<String>,
    pub payment_intent: Option<String>,
    pub customer: Option<String>,
    /// The payment row it was made for: `client_reference_id` is
    /// `payment-<id>`, and the metadata says the same row and its job.
    pub payment_id: Option<i64>,
    /// The job its metadata names.
    pub job_id: Option<i64>,
    pub url: Option<String>,
    pub expires_at: Option<i64>,
}

impl Session {
    /// Reads a session object as Stripe sends it in an event's
    /// `data.object`. `None` when it has no id.
    pub fn from_json(v: &Value) -> Option<Session> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        // Expandable fields are an id, or an object with one.
        let id_of = |k: &str| match v.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Object(o)) => o.get("id").and_then(Value::as_str).map(str::to_string),
            _ => None,
        };
        let state = match v.get("status").and_then(Value::as_str) {
            Some("open") => SessionState::Open,
            Some("complete") => SessionState::Complete,
            Some("expired") => SessionState::Expired,
            _ => SessionState::Other,
        };
        let paid = matches!(
            v.get("payment_status").and_then(Value::as_str),
            Some("paid" | "no_payment_required")
        );
        let reference = text("client_reference_id");
        let meta = |k: &str| {
            v.get("metadata")
                .and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Some(Session {
            id: text("id")?,
            state,
            paid,
            amount_total: v.get("amount_total").and_then(Value::as_i64),
            currency: text("currency"),
            payment_intent: id_of("payment_intent"),
            customer: id_of("customer"),
            payment_id: payment_id(reference.as_deref(), meta("payment_id").as_deref()),
            job_id: meta("job_id").and_then(|j| j.parse().ok()),
            url: text("url"),
            expires_at: v.get("expires_at").and_then(Value::as_i64),
        })
    }

    fn from_stripe(s: &CheckoutSession) -> Session {
        let state = match &s.status {
            Some(CheckoutSessionStatus::Open) => SessionState::Open,
            Some(CheckoutSessionStatus::Complete) => SessionState::Complete,
            Some(CheckoutSessionStatus::Expired) => SessionState::Expired,
            _ => SessionState::Other,
        };
        let paid = matches!(
            s.payment_status,
            CheckoutSessionPaymentStatus::Paid | CheckoutSessionPaymentStatus::NoPaymentRequired
        );
        let meta = |k: &str| {
            s.metadata
                .as_ref()
                .and_then(|m| m.get(k))
                .map(String::as_str)
        };
        Session {
            id: s.id.as_str().to_string(),
            state,
            paid,
            amount_total: s.amount_total,
            currency: s.currency.as_ref().map(|c| c.to_string()),
            payment_intent: s
                .payment_intent
                .as_ref()
                .map(|p| p.id().as_str().to_string()),
            customer: s.customer.as_ref().map(|c| c.id().as_str().to_string()),
            payment_id: payment_id(s.client_reference_id.as_deref(), meta("payment_id")),
            job_id: meta("job_id").and_then(|j| j.parse().ok()),
            url: s.url.clone(),
            expires_at: Some(s.expires_at),
        }
    }

    /// What a lookup says of a session Stripe does not know.
    fn gone(id: &str) -> Session {
        Session {
            id: id.to_string(),
            state: SessionState::Gone,
            paid: false,
            amount_total: None,
            currency: None,
            payment_intent: None,
            customer: None,
            payment_id: None,
            job_id: None,
            url: None,
            expires_at: None,
        }
    }
}

/// The payment row a session names: `client_reference_id` is `payment-<id>`
/// and the `payment_id` metadata agrees (both are set by this board).
fn payment_id(reference: Option<&str>, metadata: Option<&str>) -> Option<i64> {
    let id: i64 = reference?.strip_prefix("payment-")?.parse().ok()?;
    (metadata?.parse::<i64>().ok()? == id).then_some(id)
}

/// A Checkout Session to start.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub payment_id: i64,
    pub job_id: i64,
    pub purpose: &'a str,
    pub lines: &'a [Line],
    pub currency: &'a str,
    pub customer_email: &'a str,
    pub success_url: String,
    pub cancel_url: String,
    pub expires_at: i64,
}

/// The board's Stripe account.
#[derive(Clone)]
pub struct Stripe {
    secret_key: String,
    api_base: String,
    client: stripe::Client,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

/// A failed call, in words fit for a log and the admin (never the key).
fn failure(e: stripe::StripeError) -> AppError {
    let text = match e {
        stripe::StripeError::Stripe(errors, status) => format!(
            "Stripe answered {status}: {}",
            errors.message.as_deref().unwrap_or("no message")
        ),
        stripe::StripeError::Timeout => "Stripe did not answer in time".to_string(),
        other => format!("cannot reach Stripe: {other}"),
    };
    AppError::Unavailable(text)
}

impl Stripe {
    /// The account of this configuration, or `None` without Stripe keys.
    pub fn from_config(config: &Config) -> Result<Option<Stripe>, AppError> {
        let Some(secret_key) = config.stripe.secret_key.clone() else {
            return Ok(None);
        };
        let api_base = config.stripe.api_base.clone();
        let client = stripe::ClientBuilder::new(secret_key.clone())
            .url(api_base.clone())
            .timeout(TIMEOUT)
            .app_info("jobboard", Some(env!("CARGO_PKG_VERSION").into()), None)
            .build()
            .map_err(|e| AppError::internal(format!("Stripe client: {e}")))?;
        Ok(Some(Stripe {
            secret_key,
            api_base,
            client,
        }))
    }

    fn create_request(new: &NewSession<'_>) -> CreateCheckoutSession {
        let currency: stripe_types::Currency = new.currency.parse().unwrap_or_else(|e| match e {});
        let items: Vec<CreateCheckoutSessionLineItems> = new
            .lines
            .iter()
            .map(|line| {
                let mut price = CreateCheckoutSessionLineItemsPriceData::new(currency.clone());
                price.product_data = Some(ProductData::new(line.name.clone()));
                price.unit_amount = Some(line.cents as i64);
                let mut item = CreateCheckoutSessionLineItems::new();
                item.price_data = Some(price);
                item.quantity = Some(1);
                item
            })
            .collect();
        let metadata = HashMap::from([
            ("payment_id".to_string(), new.payment_id.to_string()),
            ("job_id".to_string(), new.job_id.to_string()),
            ("purpose".to_string(), new.purpose.to_string()),
        ]);
        CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .line_items(items)
            .client_reference_id(format!("payment-{}", new.payment_id))
            .metadata(metadata)
            .customer_email(new.customer_email)
            .success_url(new.success_url.clone())
            .cancel_url(new.cancel_url.clone())
            .expires_at(new.expires_at)
    }

    /// Starts a Checkout Session.
    pub async fn create(&self, new: &NewSession<'_>) -> Result<Session, AppError> {
        let made = Self::create_request(new)
            .send(&self.client)
            .await
            .map_err(failure)?;
        Ok(Session::from_stripe(&made))
    }

    /// Looks a session up (a session Stripe does not know is `Gone`).
    pub async fn retrieve(&self, id: &str) -> Result<Session, AppError> {
        match RetrieveCheckoutSession::new(id).send(&self.client).await {
            Ok(found) => Ok(Session::from_stripe(&found)),
            Err(stripe::StripeError::Stripe(_, 404)) => Ok(Session::gone(id)),
            Err(e) => Err(failure(e)),
        }
    }

    /// Ends an open session so it can no longer be paid. A session that is
    /// not open cannot be expired: then it is looked up instead, and the
    /// caller learns how it ended.
    pub async fn expire(&self, id: &str) -> Result<Session, AppError> {
        match ExpireCheckoutSession::new(id).send(&self.client).await {
            Ok(s) => Ok(Session::from_stripe(&s)),
            Err(stripe::StripeError::Stripe(_, 400)) => self.retrieve(id).await,
            Err(stripe::StripeError::Stripe(_, 404)) => Ok(Session::gone(id)),
            Err(e) => Err(failure(e)),
        }
    }

    /// Looks a session up from a thread that is not running async code (the
    /// background worker). The call runs on a thread of its own, whose
    /// client drives its own small runtime.
    pub fn retrieve_blocking(&self, id: &str) -> Result<Session, AppError> {
        let (key, base, id) = (
            self.secret_key.clone(),
            self.api_base.clone(),
            id.to_string(),
        );
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    let client = stripe::ClientBuilder::new(key)
                        .url(base)
                        .timeout(TIMEOUT)
                        .app_info("jobboard", Some(env!("CARGO_PKG_VERSION").into()), None)
                        .build_sync()
                        .map_err(|e| AppError::internal(format!("Stripe client: {e}")))?;
                    match RetrieveCheckoutSession::new(id.as_str()).send_blocking(&client) {
                        Ok(found) => Ok(Session::from_stripe(&found)),
                        Err(stripe::StripeError::Stripe(_, 404)) => Ok(Session::gone(&id)),
                        Err(e) => Err(failure(e)),
                    }
                })
                .join()
                .unwrap_or_else(|_| Err(AppError::internal("the Stripe call panicked")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_from_an_event_names_its_payment() {
        let v: Value = serde_json::from_str(
            r#"{"id":"cs_test_1","object":"checkout.session","status":"complete",
                "payment_status":"paid","amount_total":4900,"currency":"usd",
                "payment_intent":{"id":"pi_1","object":"payment_intent"},"customer":"cus_1",
                "client_reference_id":"payment-12","metadata":{"payment_id":"12"},"url":null,
                "expires_at":1700000000}"#,
        )
        .expect("json");
        let s = Session::from_json(&v).expect("a session");
        assert_eq!(s.state, SessionState::Complete);
        assert!(s.paid);
        assert_eq!(s.payment_id, Some(12));
        assert_eq!(s.payment_intent.as_deref(), Some("pi_1"));
        assert_eq!(s.customer.as_deref(), Some("cus_1"));
        assert_eq!(s.job_id, None);
        // The reference and the metadata must agree; without an id, nothing.
        let v: Value =
            serde_json::from_str(r#"{"id":"cs_2","metadata":{"payment_id":"3"}}"#).expect("json");
        let s = Session::from_json(&v).expect("a session");
        assert_eq!(
            (s.payment_id, s.state, s.paid),
            (None, SessionState::Other, false)
        );
        assert_eq!(payment_id(Some("payment-3"), Some("4")), None);
        assert_eq!(payment_id(Some("payment-3"), Some("3")), Some(3));
        assert!(Session::from_json(&serde_json::json!({"status": "open"})).is_none());
        assert_eq!(payment_id(Some("order-5"), None), None);
    }
}
