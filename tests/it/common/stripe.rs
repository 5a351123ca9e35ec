//! A local Stripe for the tests: the Checkout Session endpoints the board
//! calls (create, retrieve, expire) under `/v1`, a hosted checkout page for
//! the browser under `/pay`, controls that pay or expire a session as Stripe
//! would, and events signed as Stripe signs webhooks.
//!
//! The server has its own thread and its own tokio runtime: the board calls
//! Stripe from async handlers on the test's runtime and from blocking task
//! code while the test thread waits, so the fake must never need the test's
//! runtime to make progress.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use poem::http::{HeaderMap, Method, StatusCode, header};
use poem::listener::TcpAcceptor;
use poem::web::Data;
use poem::{Body, EndpointExt, Request, Response, Server, handler};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::oneshot;

/// The API version events claim, as a current Stripe account's would.
pub const API_VERSION: &str = "2025-09-30.clover";

/// A form as sent: `(key, value)` pairs, keys with their brackets
/// (`line_items[0][price_data][unit_amount]`), values decoded.
pub type Form = Vec<(String, String)>;

/// A request the board made to the API (`/v1/...`), answered or not.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: String,
    /// The path as requested, e.g. `/v1/checkout/sessions`.
    pub path: String,
    pub idempotency_key: Option<String>,
    pub stripe_version: Option<String>,
    pub form: Form,
}

/// A running fake Stripe; clones share it, and it stops when the last goes.
#[derive(Clone)]
pub struct FakeStripe {
    shared: Arc<Shared>,
    _stop: Arc<Stop>,
}

struct Shared {
    secret_key: String,
    base: String,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// In creation order.
    sessions: Vec<Stored>,
    requests: Vec<ApiRequest>,
    expire_calls: usize,
    down: bool,
    now: Option<i64>,
    /// `Idempotency-Key` → the form it came with and what was answered.
    replies: Vec<(String, Form, Reply)>,
}

struct Stored {
    session: Value,
    form: Form,
}

/// Ends the server when dropped.
struct Stop(Option<oneshot::Sender<()>>);

impl Drop for Stop {
    fn drop(&mut self) {
        if let Some(stop) = self.0.take() {
            let _ = stop.send(());
        }
    }
}

impl FakeStripe {
    /// Starts a server on a free port of 127.0.0.1 that takes `secret_key`.
    pub fn start(secret_key: &str) -> FakeStripe {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the fake Stripe");
        let port = listener.local_addr().expect("local address").port();
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let shared = Arc::new(Shared {
            secret_key: secret_key.to_string(),
            base: format!("http://127.0.0.1:{port}"),
            state: Mutex::default(),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let app = dispatch.data(shared.clone());
        std::thread::Builder::new()
            .name("fake-stripe".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the fake Stripe's runtime");
                runtime.block_on(async move {
                    let acceptor = TcpAcceptor::from_std(listener).expect("accept on the listener");
                    let _ = Server::new_with_acceptor(acceptor)
                        .run_with_graceful_shutdown(
                            app,
                            async move {
                                let _ = stopped.await;
                            },
                            Some(Duration::from_secs(1)),
                        )
                        .await;
                });
            })
            .expect("spawn the fake Stripe");
        FakeStripe {
            shared,
            _stop: Arc::new(Stop(Some(stop))),
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: the `api_base`.
    pub fn url(&self) -> String {
        self.shared.base.clone()
    }

    /// While down, every `/v1` endpoint answers 503 (an outage).
    pub fn set_down(&self, down: bool) {
        self.shared.lock().down = down;
    }

    /// Sets the fake's clock (`created`, `expires_at` checks, events);
    /// until then it reads the system clock.
    pub fn set_now(&self, unix: i64) {
        self.shared.lock().now = Some(unix);
    }

    /// The form of every create that made a session, in order.
    pub fn created(&self) -> Vec<Form> {
        let state = self.shared.lock();
        state.sessions.iter().map(|s| s.form.clone()).collect()
    }

    /// How many sessions were created (idempotent replays not counted).
    pub fn create_count(&self) -> usize {
        self.shared.lock().sessions.len()
    }

    /// How many expire requests were answered, successful or not (those
    /// refused for the key or an outage are not counted).
    pub fn expire_calls(&self) -> usize {
        self.shared.lock().expire_calls
    }

    /// Every request made to `/v1`, in order.
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.shared.lock().requests.clone()
    }

    /// The session `id` as the API would answer it now.
    pub fn session(&self, id: &str) -> Value {
        self.change(id, |_| {})
    }

    /// Every session, in creation order.
    pub fn sessions(&self) -> Vec<Value> {
        let state = self.shared.lock();
        state.sessions.iter().map(|s| s.session.clone()).collect()
    }

    /// The session created last.
    pub fn last_session(&self) -> Value {
        let state = self.shared.lock();
        let last = state
            .sessions
            .last()
            .expect("no Checkout Session was created");
        last.session.clone()
    }

    /// The customer paid by card: complete and paid.
    pub fn pay(&self, id: &str) -> Value {
        self.change(id, |session| complete(session, true))
    }

    /// The customer paid by a delayed method (e.g. SEPA debit): complete but
    /// still unpaid until [`FakeStripe::settle`]; if it fails, nothing changes.
    pub fn pay_pending(&self, id: &str) -> Value {
        self.change(id, |session| complete(session, false))
    }

    /// A pending payment succeeded (`checkout.session.async_payment_succeeded`).
    pub fn settle(&self, id: &str) -> Value {
        self.change(id, |session| {
            assert_eq!(session["status"], "complete", "settle {id}: not complete");
            session["payment_status"] = json!("paid");
        })
    }

    /// Expires an open session, as Stripe does at `expires_at`.
    pub fn expire_now(&self, id: &str) -> Value {
        self.change(id, |session| {
            assert!(is_open(session), "expire {id}: not open");
            expire(session);
        })
    }

    /// The JSON text of an event of `event_type` about `session`.
    pub fn event(&self, event_type: &str, session: &Value) -> String {
        json!({
            "id": format!("evt_test_{}", random_id(24)),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.shared.lock().now(),
            "data": { "object": session },
            "livemode": false,
            "pending_webhooks": 1,
            "request": { "id": null, "idempotency_key": null },
            "type": event_type,
        })
        .to_string()
    }

    fn change(&self, id: &str, f: impl FnOnce(&mut Value)) -> Value {
        let mut state = self.shared.lock();
        let stored = state
            .find(id)
            .unwrap_or_else(|| panic!("no Checkout Session {id}"));
        f(&mut stored.session);
        stored.session.clone()
    }
}

/// Hex HMAC-SHA256 of `"{timestamp}.{payload}"` keyed with the whole secret
/// (`whsec_` included): a `v1` signature.
pub fn sign(secret: &str, timestamp: i64, payload: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.{payload}").as_bytes());
    let digest = mac.finalize().into_bytes();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A `Stripe-Signature` header: `t=<timestamp>,v1=<a>,v1=<b>`.
pub fn signature_header(timestamp: i64, v1: &[String]) -> String {
    let mut out = format!("t={timestamp}");
    for signature in v1 {
        out.push_str(&format!(",v1={signature}"));
    }
    out
}

/// The `Stripe-Signature` header for `payload` signed with one secret.
pub fn signed_header(secret: &str, timestamp: i64, payload: &str) -> String {
    signature_header(timestamp, &[sign(secret, timestamp, payload)])
}

#[handler]
async fn dispatch(req: &Request, body: Body, shared: Data<&Arc<Shared>>) -> Response {
    let body = body.into_string().await.unwrap_or_default();
    let path = req.uri().path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (req.method(), segments.as_slice()) {
        (method, ["v1", rest @ ..]) => shared
            .api(method, path, rest, req.headers(), &body)
            .into_response(),
        (&Method::GET, ["pay", id]) => shared.page(id),
        (&Method::POST, ["pay", id]) => shared.pay_from_page(id),
        (&Method::GET, ["pay", id, "cancel"]) => shared.cancel_from_page(id),
        _ => html(StatusCode::NOT_FOUND, "<p>Not found.</p>"),
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn api(
        &self,
        method: &Method,
        path: &str,
        rest: &[&str],
        headers: &HeaderMap,
        body: &str,
    ) -> Reply {
        let form: Form = serde_urlencoded::from_str(body).unwrap_or_default();
        let idempotency_key = header_text(headers, "idempotency-key");
        let mut state = self.lock();
        state.requests.push(ApiRequest {
            method: method.to_string(),
            path: path.to_string(),
            idempotency_key: idempotency_key.clone(),
            stripe_version: header_text(headers, "stripe-version"),
            form: form.clone(),
        });
        if state.down {
            return Reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"type": "api_error", "message": "The fake Stripe is down (set_down)."}),
            );
        }
        if let Err(refused) = self.authorize(headers) {
            return refused;
        }
        let key = idempotency_key.filter(|_| method == Method::POST);
        if let Some(key) = &key
            && let Some((_, sent, reply)) = state.replies.iter().find(|(k, _, _)| k == key)
        {
            if *sent != form {
                return Reply::error(
                    StatusCode::BAD_REQUEST,
                    json!({"type": "idempotency_error", "message": format!(
                        "Keys for idempotent requests can only be used with the same parameters \
                         they were first used with. Try using a key other than '{key}' if you \
                         meant to execute a different request.")}),
                );
            }
            let mut replay = reply.clone();
            replay.replayed = true;
            return replay;
        }
        let reply = match (method, rest) {
            (&Method::POST, ["checkout", "sessions"]) => self.create(&mut state, form.clone()),
            (&Method::GET, ["checkout", "sessions", id]) => match state.find(id) {
                Some(stored) => Reply::ok(stored.session.clone()),
                None => no_such_session(id),
            },
            (&Method::POST, ["checkout", "sessions", id, "expire"]) => {
                state.expire_calls += 1;
                match state.find(id) {
                    Some(stored) if is_open(&stored.session) => {
                        expire(&mut stored.session);
                        Reply::ok(stored.session.clone())
                    }
                    Some(_) => invalid(
                        None,
                        "Only Checkout Sessions with a status in [\"open\"] can be expired.",
                    ),
                    None => no_such_session(id),
                }
            }
            _ => Reply::error(
                StatusCode::NOT_FOUND,
                json!({"type": "invalid_request_error", "message": format!(
                    "Unrecognized request URL ({method}: {path}).")}),
            ),
        };
        if let Some(key) = key
            && reply.status.is_success()
        {
            state.replies.push((key, form, reply.clone()));
        }
        reply
    }

    fn authorize(&self, headers: &HeaderMap) -> Result<(), Reply> {
        let message = match header_text(headers, "authorization") {
            None => "You did not provide an API key. You need to provide your API key in the \
                     Authorization header, using Bearer auth (e.g. 'Authorization: Bearer \
                     YOUR_SECRET_KEY')."
                .to_string(),
            Some(value) => match value.strip_prefix("Bearer ") {
                Some(key) if key == self.secret_key => return Ok(()),
                Some(key) => format!("Invalid API Key provided: {}", mask(key)),
                None => "Invalid API Key provided: the Authorization header is not Bearer auth"
                    .to_string(),
            },
        };
        Err(Reply::error(
            StatusCode::UNAUTHORIZED,
            json!({"type": "invalid_request_error", "message": message}),
        ))
    }

    fn create(&self, state: &mut State, form: Form) -> Reply {
        match self.new_session(state.now(), &form) {
            Ok(session) => {
                state.sessions.push(Stored {
                    session: session.clone(),
                    form,
                });
                Reply::ok(session)
            }
            Err(refused) => refused,
        }
    }

    /// A session for a create request, or Stripe's answer to a bad one.
    fn new_session(&self, now: i64, form: &[(String, String)]) -> Result<Value, Reply> {
        match field(form, "mode") {
            None => return Err(missing("mode")),
            Some("payment") => {}
            Some(other) => {
                return Err(invalid(
                    Some("mode"),
                    &format!("The fake Stripe only does `payment` mode, not `{other}`."),
                ));
            }
        }
        let (amount, currency) = order(form)?;
        let expires_at = match field(form, "expires_at") {
            None => now + 86_400,
            Some(_) => {
                let at = integer(form, "expires_at")?;
                if at < now + 1800 {
                    return Err(invalid(
                        Some("expires_at"),
                        "The `expires_at` timestamp must be at least 30 minutes from Checkout \
                         Session creation.",
                    ));
                }
                if at > now + 86_400 {
                    return Err(invalid(
                        Some("expires_at"),
                        "The `expires_at` timestamp must be less than 24 hours from Checkout \
                         Session creation.",
                    ));
                }
                at
            }
        };
        for param in ["success_url", "cancel_url"] {
            if let Some(url) = field(form, param)
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                return Err(invalid(Some(param), "Not a valid URL"));
            }
        }
        let email = field(form, "customer_email");
        if let Some(email) = email
            && !email.contains('@')
        {
            return Err(invalid(
                Some("customer_email"),
                &format!("Invalid email address: {email}"),
            ));
        }
        let mut metadata = serde_json::Map::new();
        for (key, value) in form {
            if let Some(name) = key
                .strip_prefix("metadata[")
                .and_then(|k| k.strip_suffix(']'))
            {
                if name.chars().count() > 40 || value.chars().count() > 500 {
                    return Err(invalid(
                        Some(key),
                        "Metadata keys can have up to 40 characters and values up to 500.",
                    ));
                }
                metadata.insert(name.to_string(), json!(value));
            }
        }
        let id = format!("cs_test_{}", random_id(24));
        let mut session = json!({
            "id": id,
            "amount_subtotal": amount,
            "amount_total": amount,
            "cancel_url": field(form, "cancel_url"),
            "client_reference_id": field(form, "client_reference_id"),
            "created": now,
            "currency": currency,
            "customer_email": email,
            "expires_at": expires_at,
            "metadata": metadata,
            "success_url": field(form, "success_url"),
            "url": format!("{}/pay/{id}", self.base),
        });
        // Two objects: one `json!` this long passes the macro recursion limit.
        let defaults = json!({
            "object": "checkout.session",
            "after_expiration": null,
            "allow_promotion_codes": null,
            "automatic_tax": {"enabled": false, "liability": null, "provider": null, "status": null},
            "billing_address_collection": null,
            "client_secret": null,
            "consent": null,
            "consent_collection": null,
            "custom_fields": [],
            "custom_text": {
                "after_submit": null,
                "shipping_address": null,
                "submit": null,
                "terms_of_service_acceptance": null,
            },
            "customer": null,
            "customer_creation": "if_required",
            "customer_details": null,
            "invoice": null,
            "livemode": false,
            "locale": null,
            "mode": "payment",
            "payment_intent": null,
            "payment_link": null,
            "payment_method_collection": "if_required",
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "phone_number_collection": {"enabled": false},
            "recovered_from": null,
            "setup_intent": null,
            "shipping_address_collection": null,
            "shipping_cost": null,
            "shipping_options": [],
            "status": "open",
            "submit_type": null,
            "subscription": null,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted_page",
        });
        if let (Value::Object(fields), Value::Object(defaults)) = (&mut session, defaults) {
            fields.extend(defaults);
        }
        Ok(session)
    }

    /// The hosted checkout page: what is bought, a Pay button, a cancel link.
    fn page(&self, id: &str) -> Response {
        let mut state = self.lock();
        let Some(stored) = state.find(id).filter(|s| is_open(&s.session)) else {
            return gone();
        };
        let session = &stored.session;
        let mut items = String::new();
        for (key, name) in &stored.form {
            if key.ends_with("[price_data][product_data][name]") {
                items.push_str(&format!("<li>{}</li>", escape(name)));
            }
        }
        let amount = session["amount_total"].as_i64().unwrap_or(0);
        let currency = session["currency"].as_str().unwrap_or("").to_uppercase();
        let cancel = match session["cancel_url"] {
            Value::String(_) => format!("<a href=\"/pay/{id}/cancel\">Cancel</a>"),
            _ => String::new(),
        };
        html(
            StatusCode::OK,
            &format!(
                "<h1>Fake Stripe Checkout</h1><ul>{items}</ul>\
                 <p>Total: {currency} {}.{:02}</p>\
                 <form method=\"post\" action=\"/pay/{id}\"><button type=\"submit\">Pay</button></form>\
                 {cancel}",
                amount / 100,
                amount % 100,
            ),
        )
    }

    /// The Pay button: paid, then back to the board's `success_url`.
    fn pay_from_page(&self, id: &str) -> Response {
        let mut state = self.lock();
        let Some(stored) = state.find(id).filter(|s| is_open(&s.session)) else {
            return gone();
        };
        complete(&mut stored.session, true);
        match stored.session["success_url"].as_str() {
            Some(url) => see_other(&url.replace("{CHECKOUT_SESSION_ID}", id)),
            None => html(StatusCode::OK, "<p>Payment complete.</p>"),
        }
    }

    /// The cancel link: back to the board's `cancel_url`, the session still open.
    fn cancel_from_page(&self, id: &str) -> Response {
        let mut state = self.lock();
        let Some(stored) = state.find(id).filter(|s| is_open(&s.session)) else {
            return gone();
        };
        match stored.session["cancel_url"].as_str() {
            Some(url) => see_other(url),
            None => gone(),
        }
    }
}

impl State {
    fn find(&mut self, id: &str) -> Option<&mut Stored> {
        self.sessions.iter_mut().find(|s| s.session["id"] == id)
    }

    fn now(&self) -> i64 {
        self.now.unwrap_or_else(|| {
            let since = SystemTime::now().duration_since(UNIX_EPOCH);
            since.expect("the clock is after 1970").as_secs() as i64
        })
    }
}

/// The total and currency of the line items, each `price_data` with a
/// `unit_amount` and a `quantity`.
fn order(form: &[(String, String)]) -> Result<(i64, String), Reply> {
    let mut indices: Vec<usize> = form
        .iter()
        .filter_map(|(key, _)| {
            key.strip_prefix("line_items[")?
                .split(']')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    indices.sort_unstable();
    indices.dedup();
    if indices.is_empty() {
        return Err(invalid(
            Some("line_items"),
            "You must specify `line_items` in `payment` mode.",
        ));
    }
    let mut total = 0;
    let mut currency: Option<String> = None;
    for i in indices {
        let item = |name: &str| format!("line_items[{i}]{name}");
        if let Some(price) = field(form, &item("[price]")) {
            return Err(Reply::error(
                StatusCode::BAD_REQUEST,
                json!({"type": "invalid_request_error", "code": "resource_missing",
                       "param": item("[price]"), "message": format!("No such price: '{price}'")}),
            ));
        }
        let Some(code) = field(form, &item("[price_data][currency]")) else {
            return Err(missing(&item("[price_data][currency]")));
        };
        if field(form, &item("[price_data][product]")).is_none()
            && field(form, &item("[price_data][product_data][name]")).is_none()
        {
            return Err(missing(&item("[price_data][product_data][name]")));
        }
        let unit = integer(form, &item("[price_data][unit_amount]"))?;
        let quantity = integer(form, &item("[quantity]"))?;
        if unit < 0 || quantity < 1 {
            return Err(invalid(
                Some(&item("")),
                "Amounts must not be negative and quantities at least 1.",
            ));
        }
        let code = code.to_lowercase();
        if currency.as_ref().is_some_and(|c| *c != code) {
            return Err(invalid(
                Some("line_items"),
                "All line items must use the same currency.",
            ));
        }
        currency = Some(code);
        total += unit * quantity;
    }
    Ok((total, currency.unwrap_or_default()))
}

fn field<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn integer(form: &[(String, String)], key: &str) -> Result<i64, Reply> {
    let value = field(form, key).ok_or_else(|| missing(key))?;
    value.parse().map_err(|_| {
        Reply::error(
            StatusCode::BAD_REQUEST,
            json!({"type": "invalid_request_error", "code": "parameter_invalid_integer",
                   "param": key, "message": format!("Invalid integer: {value}")}),
        )
    })
}

/// Completed by the customer; `paid` unless the method settles later.
fn complete(session: &mut Value, paid: bool) {
    assert!(is_open(session), "pay {}: not open", session["id"]);
    session["status"] = json!("complete");
    session["payment_status"] = json!(if paid { "paid" } else { "unpaid" });
    session["payment_intent"] = json!(format!("pi_test_{}", random_id(24)));
    session["customer"] = json!(format!("cus_test_{}", random_id(14)));
    let email = session["customer_email"]
        .as_str()
        .unwrap_or("buyer@example.com")
        .to_string();
    session["customer_details"] = json!({
        "address": null, "email": email, "name": "Test Buyer", "phone": null,
        "tax_exempt": "none", "tax_ids": [],
    });
    session["url"] = Value::Null;
}

fn expire(session: &mut Value) {
    session["status"] = json!("expired");
    session["url"] = Value::Null;
}

fn is_open(session: &Value) -> bool {
    session["status"] == "open"
}

/// An API answer: a JSON body and its status.
#[derive(Clone, Debug)]
struct Reply {
    status: StatusCode,
    body: Value,
    /// Answered again for a repeated `Idempotency-Key`.
    replayed: bool,
}

impl Reply {
    fn ok(body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body,
            replayed: false,
        }
    }

    fn error(status: StatusCode, error: Value) -> Reply {
        Reply {
            status,
            body: json!({ "error": error }),
            replayed: false,
        }
    }

    fn into_response(self) -> Response {
        let mut response = Response::builder()
            .status(self.status)
            .content_type("application/json")
            .header("request-id", format!("req_{}", random_id(14)));
        if self.replayed {
            response = response.header("idempotent-replayed", "true");
        }
        response.body(self.body.to_string())
    }
}

fn invalid(param: Option<&str>, message: &str) -> Reply {
    let mut error = json!({"type": "invalid_request_error", "message": message});
    if let Some(param) = param {
        error["param"] = json!(param);
    }
    Reply::error(StatusCode::BAD_REQUEST, error)
}

fn missing(param: &str) -> Reply {
    Reply::error(
        StatusCode::BAD_REQUEST,
        json!({"type": "invalid_request_error", "code": "parameter_missing", "param": param,
               "message": format!("Missing required param: {param}.")}),
    )
}

fn no_such_session(id: &str) -> Reply {
    Reply::error(
        StatusCode::NOT_FOUND,
        json!({"type": "invalid_request_error", "code": "resource_missing", "param": "session",
               "message": format!("No such checkout.session: '{id}'")}),
    )
}

fn html(status: StatusCode, body: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .body(format!("<!doctype html><title>Fake Stripe</title>{body}"))
}

fn gone() -> Response {
    html(
        StatusCode::NOT_FOUND,
        "<p>This Checkout Session is no longer active.</p>",
    )
}

fn see_other(url: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, url)
        .finish()
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    Some(value.to_string())
}

/// A key as Stripe shows it in errors: `sk_test_****abcd`.
fn mask(key: &str) -> String {
    let keep = key.rfind('_').map_or(0, |i| i + 1);
    let tail = key.len().saturating_sub(4).max(keep);
    format!(
        "{}{}{}",
        &key[..keep],
        "*".repeat(tail - keep),
        &key[tail..]
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn random_id(len: usize) -> String {
    (0..len).map(|_| fastrand::alphanumeric()).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::io::{Read, Write};

    use stripe::{ApiErrorsCode, ApiErrorsType, ClientBuilder, RequestStrategy, StripeError};
    use stripe::{IdempotencyKey, StripeRequest};
    use stripe_checkout::checkout_session::{
        CreateCheckoutSession, CreateCheckoutSessionLineItems,
        CreateCheckoutSessionLineItemsPriceData, ExpireCheckoutSession, ProductData,
        RetrieveCheckoutSession,
    };
    use stripe_checkout::{
        CheckoutSession, CheckoutSessionMode, CheckoutSessionPaymentStatus, CheckoutSessionStatus,
    };

    use super::*;

    const KEY: &str = "sk_test_fake";
    const NOW: i64 = 1_795_770_000;

    /// What the board will send: one job posting at 49 €.
    fn posting() -> CreateCheckoutSession {
        let price = CreateCheckoutSessionLineItemsPriceData {
            // `Currency` lives in stripe_types, which the board does not name:
            // a struct literal lets `parse` (infallible) find the type.
            currency: "eur".parse().expect("any code parses"),
            product: None,
            product_data: Some(ProductData::new(
                "Job posting: Rust <developer>, C++ & R&D 100%",
            )),
            recurring: None,
            tax_behavior: None,
            unit_amount: Some(4900),
            unit_amount_decimal: None,
        };
        CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .line_items(vec![CreateCheckoutSessionLineItems {
                price_data: Some(price),
                quantity: Some(1),
                ..Default::default()
            }])
            .client_reference_id("payment-7")
            .customer_email("owner@example.com")
            .metadata(HashMap::from([("payment_id".to_string(), "7".to_string())]))
            .success_url("https://board.test/pay/done?session={CHECKOUT_SESSION_ID}")
            .cancel_url("https://board.test/pay/cancelled")
            .expires_at(NOW + 3600)
    }

    fn fake() -> FakeStripe {
        let fake = FakeStripe::start(KEY);
        fake.set_now(NOW);
        fake
    }

    fn client(fake: &FakeStripe) -> stripe::Client {
        ClientBuilder::new(KEY)
            .url(fake.url())
            .build()
            .expect("client")
    }

    fn stripe_error(result: Result<CheckoutSession, StripeError>) -> (u16, Box<stripe::ApiErrors>) {
        match result {
            Err(StripeError::Stripe(error, status)) => (status, error),
            other => panic!("expected a Stripe error, got {other:?}"),
        }
    }

    /// A bare HTTP/1.1 request; the status and the whole answer.
    fn http(fake: &FakeStripe, method: &str, path: &str) -> (u16, String) {
        let address = fake.url().trim_start_matches("http://").to_string();
        let mut stream = std::net::TcpStream::connect(address).expect("connect");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: stripe.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        let status = answer[9..12].parse().expect("status");
        (status, answer)
    }

    #[test]
    fn stripe_fake_signs_as_stripe_does() {
        let payload =
            r#"{"id":"evt_test_webhook","object":"event","type":"checkout.session.completed"}"#;
        let v1 = sign("whsec_test_secret", 1492774577, payload);
        assert_eq!(
            v1,
            "94b1a9d69a3405ad88b5b9d41608e112f78711e4a72de9561292bc3a8b877dc3"
        );
        assert_eq!(
            signed_header("whsec_test_secret", 1492774577, payload),
            format!("t=1492774577,v1={v1}")
        );
        let both = signature_header(5, &["a".into(), "b".into()]);
        assert_eq!(both, "t=5,v1=a,v1=b");
    }

    #[tokio::test]
    async fn stripe_fake_creates_sessions_the_client_reads() {
        let fake = fake();
        let session = posting().send(&client(&fake)).await.expect("create");
        assert!(session.id.as_str().starts_with("cs_test_"));
        assert_eq!(session.id.as_str().len(), "cs_test_".len() + 24);
        assert_eq!(session.amount_total, Some(4900));
        assert_eq!(session.amount_subtotal, Some(4900));
        assert_eq!(
            session.currency.as_ref().map(|c| c.to_string()).as_deref(),
            Some("eur")
        );
        assert_eq!(
            session
                .metadata
                .as_ref()
                .and_then(|m| m.get("payment_id"))
                .map(String::as_str),
            Some("7")
        );
        assert_eq!(session.client_reference_id.as_deref(), Some("payment-7"));
        assert_eq!(session.customer_email.as_deref(), Some("owner@example.com"));
        assert_eq!(session.status, Some(CheckoutSessionStatus::Open));
        assert_eq!(session.payment_status, CheckoutSessionPaymentStatus::Unpaid);
        assert_eq!(session.mode, CheckoutSessionMode::Payment);
        assert_eq!((session.created, session.expires_at), (NOW, NOW + 3600));
        assert!(session.payment_intent.is_none() && session.customer.is_none());
        let url = format!("{}/pay/{}", fake.url(), session.id.as_str());
        assert_eq!(session.url.as_deref(), Some(url.as_str()));

        // What the board sent, decoded; and what the client asked for.
        assert_eq!(fake.create_count(), 1);
        let form = &fake.created()[0];
        for pair in [
            ("mode", "payment"),
            ("line_items[0][price_data][unit_amount]", "4900"),
            ("line_items[0][price_data][currency]", "eur"),
            (
                "line_items[0][price_data][product_data][name]",
                "Job posting: Rust <developer>, C++ & R&D 100%",
            ),
            ("line_items[0][quantity]", "1"),
            ("metadata[payment_id]", "7"),
            ("expires_at", &(NOW + 3600).to_string()),
            (
                "success_url",
                "https://board.test/pay/done?session={CHECKOUT_SESSION_ID}",
            ),
        ] {
            assert_eq!(field(form, pair.0), Some(pair.1), "{form:?}");
        }
        let request = &fake.requests()[0];
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", "/v1/checkout/sessions")
        );
        assert!(request.idempotency_key.is_none());
        assert_eq!(request.form, *form);
        println!("Stripe-Version sent: {:?}", request.stripe_version);
        assert!(request.stripe_version.is_some());

        // A trailing slash on the base makes no difference.
        let slashed = ClientBuilder::new(KEY)
            .url(format!("{}/", fake.url()))
            .build()
            .expect("client");
        let again = RetrieveCheckoutSession::new(session.id.clone())
            .send(&slashed)
            .await
            .expect("retrieve");
        assert_eq!(again.id, session.id);
        let request = fake.requests().pop().expect("a request");
        assert_eq!(
            request.path,
            format!("/v1/checkout/sessions/{}", session.id.as_str())
        );

        let json = fake.session(session.id.as_str());
        assert_eq!(fake.sessions(), vec![json.clone()]);
        assert_eq!(fake.last_session(), json);
        assert_eq!(json["object"], "checkout.session");
    }

    #[tokio::test]
    async fn stripe_fake_pays_and_expires_as_stripe_does() {
        let fake = fake();
        let client = client(&fake);
        let id = posting().send(&client).await.expect("create").id;

        let paid = fake.pay(id.as_str());
        assert_eq!(paid["url"], Value::Null);
        let session = RetrieveCheckoutSession::new(id.clone())
            .send(&client)
            .await
            .expect("retrieve");
        assert_eq!(session.status, Some(CheckoutSessionStatus::Complete));
        assert_eq!(session.payment_status, CheckoutSessionPaymentStatus::Paid);
        let intent = session.payment_intent.as_ref().expect("payment intent");
        assert!(intent.id().as_str().starts_with("pi_test_"));
        assert!(
            session
                .customer
                .as_ref()
                .expect("customer")
                .id()
                .as_str()
                .starts_with("cus_test_")
        );
        assert!(session.url.is_none());

        let (status, error) =
            stripe_error(ExpireCheckoutSession::new(id.clone()).send(&client).await);
        assert_eq!(status, 400);
        assert_eq!(error.type_, ApiErrorsType::InvalidRequestError);
        assert!(
            error
                .message
                .as_deref()
                .unwrap_or("")
                .contains("can be expired")
        );

        let open = posting().send(&client).await.expect("create").id;
        let expired = ExpireCheckoutSession::new(open.clone())
            .send(&client)
            .await
            .expect("expire");
        assert_eq!(expired.status, Some(CheckoutSessionStatus::Expired));
        assert!(expired.url.is_none());
        assert_eq!(fake.expire_calls(), 2);

        let (status, error) = stripe_error(
            RetrieveCheckoutSession::new("cs_test_nope")
                .send(&client)
                .await,
        );
        assert_eq!(status, 404);
        assert_eq!(error.code, Some(ApiErrorsCode::ResourceMissing));

        // The test controls, each still readable by the client.
        let third = posting().send(&client).await.expect("create").id;
        assert_eq!(fake.expire_now(third.as_str())["status"], "expired");
        let pending = posting().send(&client).await.expect("create").id;
        assert_eq!(
            fake.pay_pending(pending.as_str())["payment_status"],
            "unpaid"
        );
        let session = RetrieveCheckoutSession::new(pending.clone())
            .send(&client)
            .await
            .expect("retrieve");
        assert_eq!(session.status, Some(CheckoutSessionStatus::Complete));
        assert_eq!(session.payment_status, CheckoutSessionPaymentStatus::Unpaid);
        let settled = fake.settle(pending.as_str());
        assert_eq!(settled["payment_status"], "paid");

        let event: Value =
            serde_json::from_str(&fake.event("checkout.session.completed", &settled))
                .expect("event");
        assert_eq!(event["type"], "checkout.session.completed");
        assert_eq!(event["data"]["object"], settled);
        assert_eq!(event["created"], NOW);
        assert!(event["id"].as_str().expect("id").starts_with("evt_test_"));
    }

    #[tokio::test]
    async fn stripe_fake_refuses_as_stripe_does() {
        let fake = fake();
        let wrong = ClientBuilder::new("sk_test_wrong1234")
            .url(fake.url())
            .build()
            .expect("client");
        let (status, error) = stripe_error(posting().send(&wrong).await);
        assert_eq!(status, 401);
        assert_eq!(
            error.message.as_deref(),
            Some("Invalid API Key provided: sk_test_*****1234")
        );

        let client = client(&fake);
        fake.set_down(true);
        let (status, error) = stripe_error(posting().send(&client).await);
        assert_eq!((status, error.type_), (503, ApiErrorsType::ApiError));
        fake.set_down(false);

        let late = posting().expires_at(NOW + 90_000);
        let (status, error) = stripe_error(late.send(&client).await);
        assert_eq!((status, error.param.as_deref()), (400, Some("expires_at")));
        let empty = CreateCheckoutSession::new().mode(CheckoutSessionMode::Payment);
        let (status, error) = stripe_error(empty.send(&client).await);
        assert_eq!((status, error.param.as_deref()), (400, Some("line_items")));
        assert_eq!(fake.create_count(), 0);
        posting().send(&client).await.expect("create once up");

        // The same idempotency key answers the same session, once created.
        let key = IdempotencyKey::new("payment-8-attempt-1").expect("key");
        let strategy = RequestStrategy::Idempotent(key);
        let first = posting()
            .customize()
            .request_strategy(strategy.clone())
            .send(&client)
            .await
            .expect("create");
        let second = posting()
            .customize()
            .request_strategy(strategy.clone())
            .send(&client)
            .await
            .expect("replay");
        assert_eq!(first.id, second.id);
        assert_eq!(fake.create_count(), 2);
        let sent = fake.requests().pop().expect("a request");
        assert_eq!(sent.idempotency_key.as_deref(), Some("payment-8-attempt-1"));
        let other = posting()
            .client_reference_id("payment-9")
            .customize()
            .request_strategy(strategy);
        let (status, error) = stripe_error(other.send(&client).await);
        assert_eq!(
            (status, error.type_),
            (400, ApiErrorsType::IdempotencyError)
        );
    }

    #[tokio::test]
    async fn stripe_fake_serves_blocking_calls_while_the_test_runtime_waits() {
        let fake = fake();
        let url = fake.url();
        // Blocks this runtime's only thread: the fake must answer on its own.
        let session = std::thread::spawn(move || {
            let client = ClientBuilder::new(KEY)
                .url(url)
                .build_sync()
                .expect("client");
            posting().send_blocking(&client)
        })
        .join()
        .expect("thread")
        .expect("create");
        assert_eq!(session.amount_total, Some(4900));
        assert_eq!(fake.create_count(), 1);
    }

    #[test]
    fn stripe_fake_stops_when_the_last_clone_goes() {
        let fake = fake();
        let address = fake.url().trim_start_matches("http://").to_string();
        let clone = fake.clone();
        drop(fake);
        assert_eq!(http(&clone, "GET", "/nowhere").0, 404);
        drop(clone);
        for _ in 0..100 {
            if std::net::TcpStream::connect(&address).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the fake Stripe still listens on {address}");
    }

    #[test]
    fn stripe_fake_checkout_page_returns_to_the_board() {
        let fake = fake();
        let client = ClientBuilder::new(KEY)
            .url(fake.url())
            .build_sync()
            .expect("client");
        let id = posting().send_blocking(&client).expect("create").id;

        let (status, page) = http(&fake, "GET", &format!("/pay/{}", id.as_str()));
        assert_eq!(status, 200);
        assert!(
            page.contains(&format!("action=\"/pay/{}\"", id.as_str())),
            "{page}"
        );
        assert!(
            page.contains("Rust &lt;developer&gt;, C++ &amp; R&amp;D 100%")
                && page.contains("EUR 49.00"),
            "{page}"
        );
        assert!(
            page.contains(&format!("/pay/{}/cancel", id.as_str())),
            "{page}"
        );

        let (status, answer) = http(&fake, "GET", &format!("/pay/{}/cancel", id.as_str()));
        assert_eq!(status, 303);
        assert!(
            answer
                .to_lowercase()
                .contains("location: https://board.test/pay/cancelled\r\n"),
            "{answer}"
        );
        assert_eq!(fake.session(id.as_str())["status"], "open");

        let (status, answer) = http(&fake, "POST", &format!("/pay/{}", id.as_str()));
        assert_eq!(status, 303);
        let location = format!(
            "location: https://board.test/pay/done?session={}\r\n",
            id.as_str()
        );
        assert!(answer.contains(&location), "{answer}");
        let session = RetrieveCheckoutSession::new(id.clone())
            .send_blocking(&client)
            .expect("retrieve");
        assert_eq!(session.payment_status, CheckoutSessionPaymentStatus::Paid);
        assert_eq!(http(&fake, "GET", &format!("/pay/{}", id.as_str())).0, 404);
    }
}
