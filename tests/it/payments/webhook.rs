//! `POST /stripe/webhook`: signatures, any event shape, and copies.

use futures_util::future::join_all;
use jobboard::clock::Clock;

use super::{PaidBoard, WEBHOOK_SECRET};
use crate::common::stripe::{sign, signature_header, signed_header};

/// Stripe's published test vector.
const VECTOR_SECRET: &str = "whsec_test_secret";
const VECTOR_T: i64 = 1_492_774_577;
const VECTOR_PAYLOAD: &str =
    r#"{"id":"evt_test_webhook","object":"event","type":"checkout.session.completed"}"#;
const VECTOR_V1: &str = "94b1a9d69a3405ad88b5b9d41608e112f78711e4a72de9561292bc3a8b877dc3";

#[tokio::test]
async fn stripes_test_vector_is_accepted_over_http() {
    let board = PaidBoard::with_env(&[("JOBBOARD_STRIPE_WEBHOOK_SECRET", VECTOR_SECRET)]);
    board.app.clock.set(VECTOR_T + 60);
    let header = format!("t={VECTOR_T},v1={VECTOR_V1}");
    let (status, body) = board.webhook_raw(VECTOR_PAYLOAD, Some(&header)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["received"], true);
    assert_eq!(
        board
            .count("SELECT count(*) FROM stripe_events WHERE id = 'evt_test_webhook'")
            .await,
        1
    );
    // Its task finds no session in it and ends quietly, not in failure.
    board.app.run_pending_tasks();
    assert_eq!(
        board
            .count("SELECT count(*) FROM tasks WHERE kind = 'stripe_event' AND state = 'done'")
            .await,
        1
    );
}

#[tokio::test]
async fn bad_signatures_are_refused_and_change_nothing() {
    let board = PaidBoard::new();
    let now = board.app.clock.unix();
    let event = r#"{"id":"evt_forged","object":"event","type":"checkout.session.completed"}"#;
    let cases = [
        (
            "another secret",
            Some(signed_header("whsec_other", now, event)),
        ),
        (
            "stale",
            Some(signed_header(WEBHOOK_SECRET, now - 301, event)),
        ),
        (
            "future",
            Some(signed_header(WEBHOOK_SECRET, now + 301, event)),
        ),
        ("missing", None),
        ("empty", Some(String::new())),
        (
            "v0 only",
            Some(format!("t={now},v0={}", sign(WEBHOOK_SECRET, now, event))),
        ),
        (
            "another body",
            Some(signed_header(WEBHOOK_SECRET, now, "{\"id\":\"evt_other\"}")),
        ),
        (
            "another time",
            Some(format!(
                "t={},v1={}",
                now - 1,
                sign(WEBHOOK_SECRET, now, event)
            )),
        ),
    ];
    for (name, header) in cases {
        let (status, body) = board.webhook_raw(event, header.as_deref()).await;
        assert_eq!(status, 400, "{name}: {body}");
        assert!(body["error"].is_string(), "{name}: a JSON error");
    }
    assert_eq!(board.count("SELECT count(*) FROM stripe_events").await, 0);
    assert_eq!(
        board
            .count("SELECT count(*) FROM tasks WHERE kind = 'stripe_event'")
            .await,
        0
    );
    // Within five minutes either way is fine.
    for t in [now - 300, now + 300] {
        let event = format!(r#"{{"id":"evt_edge_{t}","type":"ping"}}"#);
        let header = signed_header(WEBHOOK_SECRET, t, &event);
        assert_eq!(board.webhook_raw(&event, Some(&header)).await.0, 200);
    }
}

#[tokio::test]
async fn every_v1_is_tried_while_a_secret_is_rolled() {
    let board = PaidBoard::new();
    let now = board.app.clock.unix();
    for (i, old_first) in [true, false].into_iter().enumerate() {
        let event = format!(r#"{{"id":"evt_roll_{i}","object":"event","type":"ping"}}"#);
        let old = sign("whsec_previous", now, &event);
        let current = sign(WEBHOOK_SECRET, now, &event);
        let v1 = if old_first {
            vec![old, current]
        } else {
            vec![current, old]
        };
        let header = signature_header(now, &v1);
        assert_eq!(
            board.webhook_raw(&event, Some(&header)).await.0,
            200,
            "{header}"
        );
    }
    assert_eq!(board.count("SELECT count(*) FROM stripe_events").await, 2);
}

#[tokio::test]
async fn any_correctly_signed_event_is_acknowledged() {
    let board = PaidBoard::new();
    let bodies = [
        // A type the board does not use: kept, no task.
        r#"{"id":"evt_customer","object":"event","type":"customer.created","data":{"object":{"object":"customer","id":"cus_1"}}}"#,
        // A settling type whose object is not a session.
        r#"{"id":"evt_odd","object":"event","type":"checkout.session.completed","data":{"object":{"object":"charge"}}}"#,
        // A session of no payment of this board.
        r#"{"id":"evt_stranger","object":"event","type":"checkout.session.completed","data":{"object":{"object":"checkout.session","id":"cs_elsewhere","status":"complete","payment_status":"paid","client_reference_id":"payment-999"}}}"#,
        // No id, not even JSON: nothing to keep, still 2xx.
        r#"{"object":"event","type":"checkout.session.completed"}"#,
        "not json at all",
    ];
    for body in bodies {
        assert_eq!(board.deliver(body).await, 200, "{body}");
    }
    assert_eq!(board.count("SELECT count(*) FROM stripe_events").await, 3);
    assert_eq!(
        board
            .count("SELECT count(*) FROM tasks WHERE kind = 'stripe_event'")
            .await,
        2
    );
    board.app.run_pending_tasks();
    assert_eq!(
        board
            .count("SELECT count(*) FROM tasks WHERE kind = 'stripe_event' AND state <> 'done'")
            .await,
        0,
        "odd events end quietly"
    );
    assert_eq!(board.count("SELECT count(*) FROM payments").await, 0);
}

#[tokio::test]
async fn five_copies_of_one_event_at_once_activate_once() {
    let board = PaidBoard::new();
    let (b, job) = board
        .employer_with_draft("copies@example.com", "10.61.0.1")
        .await;
    let session = board.checkout(&b, job, false).await;
    assert_eq!(board.job_status(job).await, "pending_payment");
    let paid = board.stripe.pay(&session);
    let event = board.stripe.event("checkout.session.completed", &paid);
    let statuses = join_all((0..5).map(|_| board.deliver(&event))).await;
    assert_eq!(statuses, vec![200; 5]);
    assert_eq!(board.count("SELECT count(*) FROM stripe_events").await, 1);
    assert_eq!(
        board
            .count("SELECT count(*) FROM tasks WHERE kind = 'stripe_event'")
            .await,
        1
    );
    board.app.run_pending_tasks();
    assert_eq!(board.job_status(job).await, "published");
    // Stripe retries later: still once.
    assert_eq!(board.deliver(&event).await, 200);
    board.app.run_pending_tasks();
    assert_eq!(
        board
            .count("SELECT count(*) FROM payments WHERE status = 'paid'")
            .await,
        1
    );
    assert_eq!(board.receipts().len(), 1);
    board.assert_books_balance().await;
}
