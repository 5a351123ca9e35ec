//! The sequences a review found: what happens to a payment under way when
//! the job changes, sessions Stripe no longer knows, stale reads, events of
//! other integrations on the same account, and the API when Stripe is down.

use poem::http::{StatusCode, header};
use serde_json::json;

use super::PaidBoard;
use crate::common::browser::Browser;
use crate::common::json_body;
use jobboard::clock::Clock;

#[tokio::test]
async fn an_unpaid_rejected_job_goes_back_to_draft_and_cannot_be_approved() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("unpaid@example.com", "10.64.0.1")
        .await;
    board.app.create_user("chief@example.com", true).await;
    let admin = Browser::new(&board.app, "10.64.0.2");
    admin.login("chief@example.com").await;
    // Approving an unpaid job is refused.
    let approve = admin.post(&format!("/admin/jobs/{job}/approve"), &[]).await;
    assert_eq!(approve.status, 400, "{}", approve.body);
    assert!(approve.body.contains("has not been paid for"));
    assert_eq!(board.job_status(job).await, "draft");
    // Rejected, then edited by its owner: a draft again, not in review.
    let reject = admin
        .post(
            &format!("/admin/jobs/{job}/reject"),
            &[("reason", "No salary")],
        )
        .await;
    assert_eq!(reject.status, 303);
    let mut fields = super::job_fields("Tide Modeller, with salary");
    fields.extend([("salary_min", "50000"), ("salary_currency", "EUR")]);
    let edit = b
        .post(&format!("/dashboard/jobs/{job}/edit"), &fields)
        .await;
    assert_eq!(edit.status, 303, "{}", edit.body);
    assert_eq!(board.job_status(job).await, "draft");
    // Paid, it goes live as any other.
    let session = board.checkout(&b, job, false).await;
    board.pay_and_notify(&session).await;
    assert_eq!(board.job_status(job).await, "published");
    board.assert_books_balance().await;
}

#[tokio::test]
async fn unticking_the_upgrade_on_a_free_board_ends_the_session_first() {
    let board = PaidBoard::with_env(&[("JOBBOARD_POSTING_PRICE_CENTS", "0")]);
    let (b, job) = board
        .employer_with_draft("free@example.com", "10.64.0.3")
        .await;
    let upgrade = board.checkout(&b, job, true).await;
    assert_eq!(board.stripe.session(&upgrade)["amount_total"], 2000);
    // Back to the preview; published free, without the upgrade.
    let free = b.post(&format!("/post/{job}/submit"), &[]).await;
    assert_eq!(free.status, 303, "{}", free.body);
    assert_eq!(board.job_status(job).await, "published");
    assert_eq!(board.stripe.expire_calls(), 1);
    assert_eq!(board.stripe.session(&upgrade)["status"], "expired");
    assert_eq!(
        board
            .count("SELECT count(*) FROM payments WHERE status = 'paid'")
            .await,
        0
    );
}

#[tokio::test]
async fn an_upgrade_paid_in_another_tab_is_given_when_the_job_is_submitted_free() {
    let board = PaidBoard::with_env(&[("JOBBOARD_POSTING_PRICE_CENTS", "0")]);
    let (b, job) = board
        .employer_with_draft("twotabs@example.com", "10.64.0.4")
        .await;
    let upgrade = board.checkout(&b, job, true).await;
    board.stripe.pay(&upgrade);
    // The other tab submits without the upgrade before any webhook.
    let page = b.post(&format!("/post/{job}/submit"), &[]).await;
    assert_eq!(page.location(), Some(format!("/post/{job}/done").as_str()));
    assert_eq!(board.job_status(job).await, "published");
    assert_eq!(
        board
            .app
            .scalar("SELECT featured FROM jobs WHERE id = ?1", job)
            .await,
        1,
        "the upgrade paid for is given"
    );
    assert_eq!(board.receipts().len(), 1);
}

#[tokio::test]
async fn deleting_a_job_ends_its_open_session() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("delete@example.com", "10.64.0.5")
        .await;
    let session = board.checkout(&b, job, false).await;
    let deleted = b.post(&format!("/dashboard/jobs/{job}/delete"), &[]).await;
    assert_eq!(deleted.status, 303);
    assert_eq!(board.stripe.session(&session)["status"], "expired");
    assert_eq!(
        board
            .count("SELECT count(*) FROM payments WHERE status = 'expired'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_payment_for_a_job_gone_meanwhile_is_noted_for_a_refund() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("gone@example.com", "10.64.0.6")
        .await;
    let session = board.checkout(&b, job, false).await;
    board.stripe.pay(&session);
    // Deleted while Stripe takes the money: the session cannot be ended any
    // more, the payment is recorded and marked for the admin.
    b.post(&format!("/dashboard/jobs/{job}/delete"), &[]).await;
    board
        .deliver_session_event("checkout.session.completed", &session)
        .await;
    board.app.run_pending_tasks();
    let note: String = board
        .app
        .state
        .db
        .read(|c| {
            Ok(c.query_row(
                "SELECT error FROM payments WHERE status = 'paid'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .expect("the paid payment");
    assert!(note.contains("not delivered"), "{note}");
    assert!(note.contains("refund"), "{note}");
}

#[tokio::test]
async fn a_session_stripe_does_not_know_is_given_up() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("moved@example.com", "10.64.0.7")
        .await;
    board.checkout(&b, job, false).await;
    // As after switching from a test key to a live one.
    board
        .app
        .state
        .db
        .write(|tx| {
            tx.execute("UPDATE payments SET session_id = 'cs_test_forgotten'", [])?;
            Ok(())
        })
        .await
        .expect("forget");
    board.advance(400);
    board.app.run_pending_tasks();
    assert_eq!(board.job_status(job).await, "draft");
    assert_eq!(
        board
            .count("SELECT count(*) FROM payments WHERE status = 'failed'")
            .await,
        1
    );
    // Paying again works.
    let again = board.checkout(&b, job, false).await;
    board.pay_and_notify(&again).await;
    assert_eq!(board.job_status(job).await, "published");
}

#[tokio::test]
async fn a_stale_read_cannot_start_a_second_payment() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("stale@example.com", "10.64.0.8")
        .await;
    let state = board.app.state.clone();
    let stale = state
        .db
        .read(move |c| jobboard::jobs::store::get(c, job))
        .await
        .expect("job");
    let session = board.checkout(&b, job, false).await;
    board.pay_and_notify(&session).await;
    let user_id = stale.owner_id.expect("owner");
    let user = state
        .db
        .read(move |c| jobboard::accounts::store::by_id(c, user_id))
        .await
        .expect("user");
    let post = jobboard::payments::Purchase {
        purpose: jobboard::payments::Purpose::Post,
        featured: false,
    };
    let started = jobboard::payments::checkout::start(&state, &user, &stale, post).await;
    assert!(started.is_err(), "{started:?}");
    assert_eq!(board.stripe.create_count(), 1);
    board.assert_books_balance().await;
}

#[tokio::test]
async fn another_integrations_session_never_settles_a_payment_here() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("foreign@example.com", "10.64.0.9")
        .await;
    board.stripe.set_down(true);
    b.post(&format!("/post/{job}/submit"), &[]).await; // a failed payment row
    board.stripe.set_down(false);
    let failed: i64 = board
        .count("SELECT id FROM payments WHERE status = 'failed'")
        .await;
    let now = board.app.clock.unix();
    for (name, reference, meta_job) in [
        ("metadata only", json!(null), job),
        (
            "another job",
            json!(format!("payment-{failed}")),
            job + 1000,
        ),
    ] {
        let session = json!({
            "id": format!("cs_foreign_{}", name.len()),
            "object": "checkout.session",
            "status": "complete",
            "payment_status": "paid",
            "amount_total": 4900,
            "currency": "usd",
            "client_reference_id": reference,
            "metadata": {"payment_id": failed.to_string(), "job_id": meta_job.to_string()},
        });
        let event = json!({
            "id": format!("evt_foreign_{}", name.len()),
            "object": "event",
            "created": now,
            "type": "checkout.session.completed",
            "data": {"object": session},
        })
        .to_string();
        assert_eq!(board.deliver(&event).await, 200, "{name}");
    }
    board.app.run_pending_tasks();
    assert_eq!(board.job_status(job).await, "draft");
    assert_eq!(
        board
            .count("SELECT count(*) FROM payments WHERE status = 'paid'")
            .await,
        0
    );
}

#[tokio::test]
async fn the_api_keeps_the_job_when_stripe_is_down_and_can_start_again() {
    let board = PaidBoard::new();
    let token = board.api_token("retry@example.com").await;
    board.stripe.set_down(true);
    let resp = board
        .app
        .http
        .post("/api/v1/jobs")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body_json(&json!({
            "title": "Retry Engineer",
            "company": {"name": "Retry Ltd"},
            "description": "Again.",
            "category": "Software Development",
            "job_type": "full_time",
            "remote": ["worldwide"],
            "apply_url": "https://retry.example/apply"
        }))
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    let posted = json_body(resp).await;
    assert_eq!(posted["status"], "draft");
    assert!(posted["checkout_url"].is_null());
    assert!(posted["payment_error"].as_str().is_some());
    let id = posted["id"].as_i64().expect("id");
    board.stripe.set_down(false);
    let resp = board
        .app
        .http
        .post(format!("/api/v1/jobs/{id}/checkout"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await;
    resp.assert_status_is_ok();
    let answer = json_body(resp).await;
    assert_eq!(answer["status"], "pending_payment");
    let url = answer["checkout_url"].as_str().expect("checkout_url");
    let session = url.rsplit('/').next().expect("id").to_string();
    board.pay_and_notify(&session).await;
    assert_eq!(board.job_status(id).await, "published");
    // Someone else's job is not found.
    let theirs = board.api_token("other@example.com").await;
    let resp = board
        .app
        .http
        .post(format!("/api/v1/jobs/{id}/checkout"))
        .header(header::AUTHORIZATION, format!("Bearer {theirs}"))
        .send()
        .await;
    resp.assert_status(StatusCode::NOT_FOUND);
}
