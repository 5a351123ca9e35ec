//! Paid posting through Stripe Checkout, against the local Stripe of
//! `common::stripe` and events signed as Stripe signs them.
//!
//! Every test ends by checking the three aims: no paid job left
//! unpublished, none published unpaid, no double activation (one paid row,
//! one receipt per Checkout Session).

mod edges;
mod flows;
mod records;
mod webhook;

use serde_json::Value;

use crate::common::browser::{Browser, Page};
use crate::common::stripe::{FakeStripe, signed_header};
use crate::common::{NOW, TestApp};
use jobboard::clock::Clock;

pub const SECRET_KEY: &str = "sk_test_board_4242";
pub const WEBHOOK_SECRET: &str = "whsec_board_secret";

/// A board charging $49.00 a post and $20.00 for the featured upgrade.
pub struct PaidBoard {
    pub app: TestApp,
    pub stripe: FakeStripe,
}

impl PaidBoard {
    pub fn new() -> PaidBoard {
        PaidBoard::with_env(&[])
    }

    pub fn with_env(extra: &[(&str, &str)]) -> PaidBoard {
        let stripe = FakeStripe::start(SECRET_KEY);
        stripe.set_now(NOW);
        let base = stripe.url();
        let mut env = vec![
            ("JOBBOARD_STRIPE_SECRET_KEY", SECRET_KEY),
            ("JOBBOARD_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET),
            ("JOBBOARD_STRIPE_API_BASE", base.as_str()),
            ("JOBBOARD_POSTING_PRICE_CENTS", "4900"),
            ("JOBBOARD_POSTING_FEATURED_PRICE_CENTS", "2000"),
        ];
        env.extend_from_slice(extra);
        PaidBoard {
            app: TestApp::with_env(&env),
            stripe,
        }
    }

    pub fn browser(&self, ip: &str) -> Browser<'_> {
        Browser::new(&self.app, ip)
    }

    /// Moves the board's clock and Stripe's together.
    pub fn advance(&self, seconds: i64) {
        self.app.clock.advance(seconds);
        self.stripe.set_now(self.app.clock.unix());
    }

    /// Posts a raw body to the webhook with this `Stripe-Signature`.
    pub async fn webhook_raw(&self, payload: &str, signature: Option<&str>) -> (u16, Value) {
        let mut req = self
            .app
            .http
            .post("/stripe/webhook")
            .content_type("application/json");
        if let Some(sig) = signature {
            req = req.header("Stripe-Signature", sig);
        }
        let resp = req.body(payload.to_string()).send().await;
        let status = resp.0.status().as_u16();
        let body = resp.0.into_body().into_string().await.unwrap_or_default();
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// Sends an event as Stripe would, signed now; returns the status.
    pub async fn deliver(&self, event: &str) -> u16 {
        let header = signed_header(WEBHOOK_SECRET, self.app.clock.unix(), event);
        self.webhook_raw(event, Some(&header)).await.0
    }

    /// Sends `kind` for the session as it stands at Stripe now.
    pub async fn deliver_session_event(&self, kind: &str, session_id: &str) -> u16 {
        let session = self.stripe.session(session_id);
        let event = self.stripe.event(kind, &session);
        self.deliver(&event).await
    }

    /// A new employer account and an API token of theirs.
    pub async fn api_token(&self, email: &str) -> String {
        let user = self.app.create_user(email, false).await;
        let now = self.app.clock.unix();
        self.app
            .state
            .db
            .write(move |tx| jobboard::accounts::store::create_api_token(tx, user, "ci", now))
            .await
            .expect("token")
            .1
    }

    /// The customer pays the session at Stripe, Stripe sends
    /// `checkout.session.completed`, and the worker runs.
    pub async fn pay_and_notify(&self, session_id: &str) {
        self.stripe.pay(session_id);
        assert_eq!(
            self.deliver_session_event("checkout.session.completed", session_id)
                .await,
            200
        );
        self.app.run_pending_tasks();
    }

    /// A signed-in employer with a draft job in the preview; returns the
    /// browser and the job's id.
    pub async fn employer_with_draft<'a>(&'a self, email: &str, ip: &str) -> (Browser<'a>, i64) {
        let b = self.browser(ip);
        b.register(email).await;
        let fields = job_fields("Tide Modeller");
        let page = b.post("/post", &fields).await;
        assert_eq!(page.status, 303, "draft saved: {}", page.body);
        let id = page
            .location()
            .and_then(|l| l.strip_prefix("/post/"))
            .and_then(|l| l.split('/').next())
            .and_then(|n| n.parse().ok())
            .expect("a job id");
        (b, id)
    }

    /// Submits the draft (ticking the upgrade or not); returns the Checkout
    /// Session the board sent the browser to.
    pub async fn checkout(&self, b: &Browser<'_>, job_id: i64, featured: bool) -> String {
        let mut fields = vec![];
        if featured {
            fields.push(("featured", "1"));
        }
        let page = b.post(&format!("/post/{job_id}/submit"), &fields).await;
        session_from_redirect(&self.stripe, &page)
    }

    /// Where Stripe sends the customer back after paying, as a path on the board.
    pub fn success_path(&self, session_id: &str) -> String {
        let session = self.stripe.session(session_id);
        let url = session["success_url"].as_str().expect("success_url");
        url.replace("{CHECKOUT_SESSION_ID}", session_id)
            .trim_start_matches("https://board.example")
            .to_string()
    }

    pub async fn job_status(&self, id: i64) -> String {
        self.app
            .state
            .db
            .read(move |c| {
                Ok(
                    c.query_row("SELECT status FROM jobs WHERE id = ?1", [id], |r| {
                        r.get::<_, String>(0)
                    })?,
                )
            })
            .await
            .expect("status")
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        self.app
            .state
            .db
            .read(move |c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .await
            .expect("count")
    }

    /// Receipts mailed so far (running queued work first).
    pub fn receipts(&self) -> Vec<crate::common::mail::Mail> {
        self.app
            .emails()
            .into_iter()
            .filter(|m| m.subject.starts_with("Receipt"))
            .collect()
    }

    /// The aims, over the whole board: every paid post is live (or in
    /// review), nothing is published without a paid payment, one receipt
    /// per paid payment.
    pub async fn assert_books_balance(&self) {
        let unpaid_live = self
            .count(
                "SELECT count(*) FROM jobs j WHERE j.status IN ('published', 'pending_review') \
                 AND j.owner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payments p \
                 WHERE p.job_id = j.id AND p.purpose = 'post' AND p.status = 'paid')",
            )
            .await;
        assert_eq!(unpaid_live, 0, "a job went live without payment");
        let paid_waiting = self
            .count(
                "SELECT count(*) FROM payments p JOIN jobs j ON j.id = p.job_id \
                 WHERE p.purpose = 'post' AND p.status = 'paid' \
                 AND j.status IN ('draft', 'pending_payment')",
            )
            .await;
        assert_eq!(paid_waiting, 0, "a paid job was left unpublished");
        let paid = self
            .count("SELECT count(*) FROM payments WHERE status = 'paid'")
            .await;
        assert_eq!(
            self.receipts().len() as i64,
            paid,
            "one receipt for each paid payment"
        );
    }
}

/// The Checkout Session a 303 to Stripe points at.
pub fn session_from_redirect(stripe: &FakeStripe, page: &Page) -> String {
    assert_eq!(page.status, 303, "sent to Stripe: {}", page.body);
    let location = page.location().expect("a location");
    let prefix = format!("{}/pay/", stripe.url());
    location
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{location} is not Stripe Checkout"))
        .to_string()
}

/// A complete job as the form sends it.
pub fn job_fields(title: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("title", title),
        ("company_name", "Tidewater Labs"),
        ("company_website", "https://tidewater.example"),
        ("description", "We build **tide** models."),
        ("category", "data"),
        ("job_type", "full_time"),
        ("tags", "python"),
        ("remote", "europe"),
        ("apply_url", "https://tidewater.example/jobs/1"),
    ]
}

#[tokio::test]
async fn the_price_is_shown_on_the_form_and_in_the_preview() {
    let board = PaidBoard::new();
    let form = board.app.get("/post").await;
    form.assert_status_is_ok();
    let text = crate::common::text(form).await;
    assert!(text.contains("A post costs $49.00"), "{text}");
    let (b, id) = board
        .employer_with_draft("price@example.com", "10.60.0.1")
        .await;
    let preview = b.get(&format!("/post/{id}/preview")).await;
    assert_eq!(preview.status, 200);
    assert!(preview.body.contains("<strong>$49.00</strong>"));
    assert!(
        preview
            .body
            .contains("Feature it for <strong>$20.00</strong>")
    );
    assert!(preview.body.contains("Continue to payment"));
    // Free posting (the default) shows neither.
    let free = TestApp::new();
    let text = crate::common::text(free.get("/post").await).await;
    assert!(text.contains("Posting is free"));
}
