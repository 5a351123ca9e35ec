//! What a payment leaves behind: the receipt email, the employer's receipts,
//! the admin's payments with totals.

use super::PaidBoard;
use crate::common::browser::Browser;
use crate::common::{TestApp, keep_page, text};

/// A board with one paid post; returns it with the employer's browser's ip
/// and the job.
async fn paid_post(board: &PaidBoard) -> (Browser<'_>, i64, String) {
    let (b, job) = board
        .employer_with_draft("books@example.com", "10.63.0.1")
        .await;
    let session = board.checkout(&b, job, true).await;
    board.pay_and_notify(&session).await;
    (b, job, session)
}

#[tokio::test]
async fn a_receipt_is_mailed_and_listed_for_the_employer() {
    let board = PaidBoard::new();
    let (b, _job, session) = paid_post(&board).await;
    let receipts = board.receipts();
    assert_eq!(receipts.len(), 1);
    let mail = &receipts[0];
    assert_eq!(mail.to, "books@example.com");
    assert_eq!(mail.subject, "Receipt: Job post with featured upgrade");
    let intent = board.stripe.session(&session)["payment_intent"]
        .as_str()
        .expect("payment intent")
        .to_string();
    for part in [&mail.text, &mail.html] {
        assert!(part.contains("$69.00"), "{part}");
        assert!(part.contains("Tide Modeller"));
        assert!(part.contains(&intent));
    }
    let page = b.get("/dashboard/receipts").await;
    assert_eq!(page.status, 200);
    keep_page("paid-receipts", &page.body);
    assert!(page.body.contains("$69.00"));
    assert!(page.body.contains(&intent));
    assert!(page.body.contains(">paid<"));
    // Nobody else sees them.
    let other = Browser::new(&board.app, "10.63.0.2");
    other.register("else@example.com").await;
    let theirs = other.get("/dashboard/receipts").await;
    assert!(!theirs.body.contains(&intent));
    assert!(theirs.body.contains("No payments yet"));
}

#[tokio::test]
async fn the_admin_sees_every_payment_and_the_totals() {
    let board = PaidBoard::new();
    let (b, _job, session) = paid_post(&board).await;
    // An employer is refused the admin's list.
    assert_eq!(b.get("/admin/payments").await.status, 403);
    board.app.create_user("boss@example.com", true).await;
    let admin = Browser::new(&board.app, "10.63.0.3");
    admin.login("boss@example.com").await;
    let page = admin.get("/admin/payments").await;
    assert_eq!(page.status, 200, "{}", page.body);
    keep_page("paid-admin-payments", &page.body);
    assert!(page.body.contains(&session));
    assert!(page.body.contains("books@example.com"));
    assert!(
        page.body
            .contains("<strong>$69.00</strong> in the last 30 days")
    );
    assert!(page.body.contains("<strong>$69.00</strong> in all"));
    let open = admin.get("/admin/payments?status=open").await;
    assert!(!open.body.contains(&session));
    assert!(open.body.contains("No payments with status open"));
}

#[tokio::test]
async fn a_free_board_has_no_webhook_and_no_prices() {
    let app = TestApp::new();
    let resp = app
        .http
        .post("/stripe/webhook")
        .header("Stripe-Signature", "t=1,v1=00")
        .body("{}")
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::NOT_FOUND);
    let form = text(app.get("/post").await).await;
    assert!(!form.contains("Feature it"));
}
