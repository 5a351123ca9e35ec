//! Paying for a post, an upgrade and a renewal: through the pages and the
//! API, with the webhook, the success redirect and reconciliation arriving
//! in every order.

use poem::http::header;
use serde_json::json;

use super::{PaidBoard, job_fields, session_from_redirect};
use crate::common::browser::{Browser, PASSWORD};
use crate::common::{json_body, keep_page};

#[tokio::test]
async fn a_visitor_posts_and_pays_through_the_pages() {
    let board = PaidBoard::new();
    let b = Browser::new(&board.app, "10.62.0.1");
    // The job form with an inline sign-up, as a new employer sends it.
    let mut fields = job_fields("Harbour Data Engineer");
    fields.extend([
        ("account", "register"),
        ("email", "harbour@example.com"),
        ("password", PASSWORD),
    ]);
    let draft = b.post("/post", &fields).await;
    assert_eq!(draft.status, 303, "{}", draft.body);
    let preview_path = draft.location().expect("to the preview").to_string();
    let job: i64 = preview_path
        .trim_start_matches("/post/")
        .split('/')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("job id");
    let preview = b.get(&preview_path).await;
    assert!(preview.body.contains("Continue to payment"));
    keep_page("paid-preview", &preview.body);
    // Submitting goes to Stripe Checkout with the job and the payment in it.
    let session = session_from_redirect(
        &board.stripe,
        &b.post(&format!("/post/{job}/submit"), &[]).await,
    );
    let sent = board.stripe.created().pop().expect("a session was made");
    let field = |k: &str| {
        sent.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(field("mode"), "payment");
    assert_eq!(field("customer_email"), "harbour@example.com");
    assert_eq!(field("line_items[0][price_data][unit_amount]"), "4900");
    assert_eq!(field("line_items[0][price_data][currency]"), "usd");
    assert_eq!(field("metadata[job_id]"), job.to_string());
    assert_eq!(field("metadata[purpose]"), "post");
    assert!(field("client_reference_id").starts_with("payment-"));
    assert!(field("success_url").starts_with(&format!(
        "https://board.example/post/{job}/done?session_id="
    )));
    assert_eq!(
        field("cancel_url"),
        format!("https://board.example/post/{job}/preview?canceled=1")
    );
    assert_eq!(board.job_status(job).await, "pending_payment");
    // Nothing is public before payment.
    let public = board.app.get(&format!("/api/v1/jobs/{job}")).await;
    public.assert_status(poem::http::StatusCode::NOT_FOUND);

    // The customer pays; Stripe sends them back before its webhook: the
    // success page looks the session up and tells the truth.
    board.stripe.pay(&session);
    let done = b.get(&board.success_path(&session)).await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("Your job is live"), "{}", done.body);
    assert!(done.body.contains("Payment received: Job post, $49.00"));
    keep_page("paid-done-live", &done.body);
    assert_eq!(board.job_status(job).await, "published");
    // Then the webhook comes: acknowledged, nothing changes twice.
    assert_eq!(
        board
            .deliver_session_event("checkout.session.completed", &session)
            .await,
        200
    );
    board.app.run_pending_tasks();
    assert_eq!(board.receipts().len(), 1);
    board.app.index();
    let page = board.app.get(&format!("/api/v1/jobs/{job}")).await;
    page.assert_status_is_ok();
    board.assert_books_balance().await;
}

#[tokio::test]
async fn the_webhook_first_then_the_redirect() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("first@example.com", "10.62.0.2")
        .await;
    let session = board.checkout(&b, job, false).await;
    board.stripe.pay(&session);
    assert_eq!(
        board
            .deliver_session_event("checkout.session.completed", &session)
            .await,
        200
    );
    board.app.run_pending_tasks();
    assert_eq!(board.job_status(job).await, "published");
    let done = b.get(&board.success_path(&session)).await;
    assert!(done.body.contains("Your job is live"), "{}", done.body);
    // Reconciliation later finds it settled.
    board.advance(600);
    board.app.run_pending_tasks();
    assert_eq!(board.receipts().len(), 1);
    board.assert_books_balance().await;
}

#[tokio::test]
async fn the_success_page_confirms_until_the_payment_settles() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("bank@example.com", "10.62.0.3")
        .await;
    let session = board.checkout(&b, job, false).await;
    // A bank transfer: the session completes, the money comes later.
    board.stripe.pay_pending(&session);
    board
        .deliver_session_event("checkout.session.completed", &session)
        .await;
    board.app.run_pending_tasks();
    let done = b.get(&board.success_path(&session)).await;
    assert_eq!(done.status, 200);
    assert!(
        done.body.contains("Confirming your payment"),
        "{}",
        done.body
    );
    assert_eq!(done.header("refresh"), Some("3"));
    keep_page("paid-done-confirming", &done.body);
    assert_eq!(board.job_status(job).await, "pending_payment");
    // Reloading at once does not ask Stripe again; a few seconds later it does.
    let lookups = || {
        board
            .stripe
            .requests()
            .iter()
            .filter(|r| r.method == "GET")
            .count()
    };
    let before = lookups();
    b.get(&board.success_path(&session)).await;
    assert_eq!(lookups(), before);
    board.advance(5);
    b.get(&board.success_path(&session)).await;
    assert_eq!(lookups(), before + 1);
    // The money arrives.
    board.stripe.settle(&session);
    board
        .deliver_session_event("checkout.session.async_payment_succeeded", &session)
        .await;
    board.app.run_pending_tasks();
    let done = b.get(&board.success_path(&session)).await;
    assert!(done.body.contains("Your job is live"), "{}", done.body);
    assert!(done.header("refresh").is_none());
    board.assert_books_balance().await;
}

#[tokio::test]
async fn a_failed_delayed_payment_returns_the_job_to_draft() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("bounce@example.com", "10.62.0.4")
        .await;
    let session = board.checkout(&b, job, false).await;
    board.stripe.pay_pending(&session);
    board
        .deliver_session_event("checkout.session.async_payment_failed", &session)
        .await;
    board.app.run_pending_tasks();
    assert_eq!(board.job_status(job).await, "draft");
    assert_eq!(
        board
            .count("SELECT count(*) FROM payments WHERE status = 'failed'")
            .await,
        1
    );
    board.assert_books_balance().await;
}

#[tokio::test]
async fn cancelling_returns_to_the_preview_and_paying_again_charges_once() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("cancel@example.com", "10.62.0.5")
        .await;
    let first = board.checkout(&b, job, false).await;
    // Back from Stripe without paying: the preview, the job as typed.
    let cancel = board.stripe.session(&first)["cancel_url"]
        .as_str()
        .expect("cancel_url")
        .trim_start_matches("https://board.example")
        .to_string();
    let preview = b.get(&cancel).await;
    assert_eq!(preview.status, 200);
    assert!(
        preview
            .body
            .contains("Payment cancelled: nothing was charged")
    );
    keep_page("paid-preview-cancelled", &preview.body);
    assert!(preview.body.contains("Tide Modeller"));
    let edit = b.get(&format!("/post/{job}/edit")).await;
    assert_eq!(edit.input_value("title").as_deref(), Some("Tide Modeller"));
    // Paying again for the same thing reuses the open session.
    assert_eq!(board.checkout(&b, job, false).await, first);
    assert_eq!(board.stripe.create_count(), 1);
    // With the upgrade ticked: the first session is ended at Stripe first,
    // so it can never be paid as well.
    let second = board.checkout(&b, job, true).await;
    assert_ne!(second, first);
    assert_eq!(board.stripe.expire_calls(), 1);
    assert_eq!(board.stripe.session(&first)["status"], "expired");
    assert_eq!(board.stripe.session(&second)["amount_total"], 6900);
    // Its expiry event comes late and must not undo the new payment.
    board
        .deliver_session_event("checkout.session.expired", &first)
        .await;
    board.app.run_pending_tasks();
    assert_eq!(board.job_status(job).await, "pending_payment");
    board.pay_and_notify(&second).await;
    assert_eq!(board.job_status(job).await, "published");
    assert_eq!(
        board
            .app
            .scalar("SELECT featured FROM jobs WHERE id = ?1", job)
            .await,
        1
    );
    board.assert_books_balance().await;
}

#[tokio::test]
async fn a_session_paid_in_another_tab_is_settled_instead_of_charged_again() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("tabs@example.com", "10.62.0.6")
        .await;
    let first = board.checkout(&b, job, false).await;
    board.stripe.pay(&first);
    // No webhook yet; the employer asks to pay again, with the upgrade.
    let again = b
        .post(&format!("/post/{job}/submit"), &[("featured", "1")])
        .await;
    assert_eq!(again.status, 303);
    assert_eq!(again.location(), Some(format!("/post/{job}/done").as_str()));
    assert_eq!(board.stripe.create_count(), 1, "no second session");
    assert_eq!(board.job_status(job).await, "published");
    board.assert_books_balance().await;
}

#[tokio::test]
async fn an_expired_session_returns_the_job_to_draft() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("late@example.com", "10.62.0.7")
        .await;
    let session = board.checkout(&b, job, false).await;
    board.advance(3600);
    board.stripe.expire_now(&session);
    board
        .deliver_session_event("checkout.session.expired", &session)
        .await;
    board.app.run_pending_tasks();
    assert_eq!(board.job_status(job).await, "draft");
    let dashboard = b.get("/dashboard").await;
    assert!(dashboard.body.contains("Pay and publish"));
    // Paying later starts a new session.
    let next = board.checkout(&b, job, false).await;
    assert_ne!(next, session);
    board.assert_books_balance().await;
}

#[tokio::test]
async fn reconciliation_settles_a_paid_session_whose_webhook_never_came() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("lost@example.com", "10.62.0.8")
        .await;
    let session = board.checkout(&b, job, false).await;
    board.stripe.pay(&session);
    // Neither the webhook nor the customer comes back.
    board.advance(240);
    board.app.run_pending_tasks();
    assert_eq!(
        board.job_status(job).await,
        "pending_payment",
        "too soon to look"
    );
    board.advance(120);
    board.app.run_pending_tasks();
    assert_eq!(board.job_status(job).await, "published");
    assert_eq!(board.receipts().len(), 1);
    // The webhook finally comes: nothing more.
    board
        .deliver_session_event("checkout.session.completed", &session)
        .await;
    board.app.run_pending_tasks();
    board.assert_books_balance().await;
}

#[tokio::test]
async fn reconciliation_returns_abandoned_checkouts_to_draft() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("gone@example.com", "10.62.0.9")
        .await;
    let session = board.checkout(&b, job, false).await;
    board.advance(3700);
    board.stripe.expire_now(&session);
    board.app.run_pending_tasks();
    assert_eq!(board.job_status(job).await, "draft");
    assert_eq!(
        board
            .count("SELECT count(*) FROM payments WHERE status = 'expired'")
            .await,
        1
    );
}

#[tokio::test]
async fn when_stripe_is_down_nothing_is_charged_or_lost() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("down@example.com", "10.62.0.10")
        .await;
    board.stripe.set_down(true);
    let page = b.post(&format!("/post/{job}/submit"), &[]).await;
    assert_eq!(page.status, 503);
    assert!(page.body.contains("nothing was charged"), "{}", page.body);
    keep_page("paid-preview-stripe-down", &page.body);
    assert!(
        page.body.contains("Tide Modeller"),
        "the preview, as it was"
    );
    assert_eq!(board.job_status(job).await, "draft");
    // Reconciliation cannot reach Stripe either: the round fails, is retried.
    board.stripe.set_down(false);
    let session = board.checkout(&b, job, false).await;
    board.stripe.pay(&session);
    board.stripe.set_down(true);
    board.advance(400);
    board.app.run_pending_tasks();
    assert_eq!(board.job_status(job).await, "pending_payment");
    board.stripe.set_down(false);
    board.advance(400);
    board.app.run_pending_tasks();
    assert_eq!(board.job_status(job).await, "published");
    board.assert_books_balance().await;
}

#[tokio::test]
async fn featured_upgrade_and_renewal_are_paid_from_the_dashboard() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("grow@example.com", "10.62.0.11")
        .await;
    let session = board.checkout(&b, job, false).await;
    board.pay_and_notify(&session).await;
    // The upgrade.
    let dashboard = b.get("/dashboard").await;
    assert!(
        dashboard.body.contains("Feature it ($20.00)"),
        "{}",
        dashboard.body
    );
    keep_page("paid-dashboard", &dashboard.body);
    let upgrade = session_from_redirect(
        &board.stripe,
        &b.post(&format!("/dashboard/jobs/{job}/feature"), &[]).await,
    );
    assert_eq!(board.stripe.session(&upgrade)["amount_total"], 2000);
    assert_eq!(
        board
            .app
            .scalar("SELECT featured FROM jobs WHERE id = ?1", job)
            .await,
        0
    );
    board.stripe.pay(&upgrade);
    let done = b.get(&board.success_path(&upgrade)).await;
    assert!(done.body.contains("Featured upgrade"), "{}", done.body);
    assert_eq!(
        board
            .app
            .scalar("SELECT featured FROM jobs WHERE id = ?1", job)
            .await,
        1
    );
    assert!(!b.get("/dashboard").await.body.contains("Feature it"));
    // The renewal, once the job has expired.
    board.advance(31 * 86_400);
    board.app.run_pending_tasks();
    assert_eq!(board.job_status(job).await, "expired");
    b.login("grow@example.com").await; // a month later, signed out
    let dashboard = b.get("/dashboard").await;
    assert!(
        dashboard.body.contains("Renew ($49.00)"),
        "{}",
        dashboard.body
    );
    let renewal = session_from_redirect(
        &board.stripe,
        &b.post(&format!("/dashboard/jobs/{job}/renew"), &[]).await,
    );
    assert_eq!(board.job_status(job).await, "expired", "not before payment");
    board.stripe.pay(&renewal);
    board
        .deliver_session_event("checkout.session.completed", &renewal)
        .await;
    board
        .deliver_session_event("checkout.session.completed", &renewal)
        .await;
    board.app.run_pending_tasks();
    assert_eq!(board.job_status(job).await, "published");
    let expires = board
        .app
        .scalar("SELECT expires_at FROM jobs WHERE id = ?1", job)
        .await;
    use jobboard::clock::Clock;
    assert_eq!(
        expires,
        board.app.clock.unix() + 30 * 86_400,
        "renewed once"
    );
    assert_eq!(board.receipts().len(), 3);
    board.assert_books_balance().await;
}

#[tokio::test]
async fn with_approval_a_paid_post_waits_for_review() {
    let board = PaidBoard::with_env(&[("JOBBOARD_POSTING_REQUIRE_APPROVAL", "true")]);
    let (b, job) = board
        .employer_with_draft("review@example.com", "10.62.0.12")
        .await;
    let session = board.checkout(&b, job, false).await;
    board.stripe.pay(&session);
    let done = b.get(&board.success_path(&session)).await;
    assert!(done.body.contains("waits for review"), "{}", done.body);
    assert!(done.body.contains("Payment received ($49.00)"));
    keep_page("paid-done-review", &done.body);
    assert_eq!(board.job_status(job).await, "pending_review");
    board.assert_books_balance().await;
}

#[tokio::test]
async fn the_api_answers_pending_payment_with_a_checkout_url() {
    let board = PaidBoard::new();
    let token = board.api_token("api@example.com").await;
    let body = json!({
        "title": "API Engineer",
        "company": {"name": "Pipes Ltd"},
        "description": "Pipes.",
        "category": "Software Development",
        "job_type": "contract",
        "remote": ["worldwide"],
        "apply_url": "https://pipes.example/apply"
    });
    let resp = board
        .app
        .http
        .post("/api/v1/jobs")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body_json(&body)
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::CREATED);
    let posted = json_body(resp).await;
    assert_eq!(posted["status"], "pending_payment");
    let url = posted["checkout_url"].as_str().expect("checkout_url");
    let session = url.rsplit('/').next().expect("session id").to_string();
    assert!(url.starts_with(&board.stripe.url()));
    let id = posted["id"].as_i64().expect("id");
    board.pay_and_notify(&session).await;
    assert_eq!(board.job_status(id).await, "published");
    board.assert_books_balance().await;
}
