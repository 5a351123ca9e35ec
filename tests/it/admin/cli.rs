//! `jobboard admin create` through the binary, and promoting an employer.

use super::EMPLOYER;
use crate::common::browser::Browser;
use crate::common::{TestApp, run};

/// Runs `jobboard admin create` on the test board's data dir.
fn admin_create(app: &TestApp, email: &str, stdin: &[u8]) -> std::process::Output {
    let dir = app._dir.path().to_str().expect("utf-8");
    run(
        app._dir.path(),
        &["--data-dir", dir, "admin", "create", "--email", email],
        &[],
        Some(stdin),
    )
}

#[tokio::test]
async fn admin_create_through_the_binary_then_signing_in_works() {
    let app = TestApp::new();
    let out = admin_create(&app, "Boss@Board.example", b"a long passphrase here\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("created admin boss@board.example"), "{err}");

    let b = Browser::new(&app, "10.9.0.9");
    let page = b
        .post(
            "/login",
            &[
                ("email", "boss@board.example"),
                ("password", "a long passphrase here"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let admin = b.get("/admin").await;
    assert_eq!(admin.status, 200);
    assert!(
        admin.body.contains("create_admin"),
        "the audit log shows it"
    );
    assert!(admin.body.contains("command line"));
    let verified = app
        .scalar(
            "SELECT email_verified_at IS NOT NULL AND role = 'admin' FROM users WHERE id = ?1",
            1,
        )
        .await;
    assert_eq!(verified, 1);
}

#[tokio::test]
async fn admin_create_refuses_a_weak_password_or_a_bad_email_in_one_line() {
    let app = TestApp::new();
    for (email, stdin) in [
        ("weak@board.example", &b"password\n"[..]),
        ("weak@board.example", &b"weak@board.example1\n"[..]),
        ("weak@board.example", &b""[..]),
        // Checked before the password is read (so nothing is written to stdin).
        ("nobody", &b""[..]),
    ] {
        let out = admin_create(&app, email, stdin);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{email} {stdin:?}");
        assert!(err.starts_with("jobboard: "), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let out = admin_create(&app, "weak@board.example", b"short\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("password refused: Use at least 12 characters"),
        "{err}"
    );
    assert_eq!(
        app.scalar("SELECT count(*) FROM users WHERE id > ?1", 0)
            .await,
        0
    );
}

#[tokio::test]
async fn admin_create_promotes_an_existing_employer() {
    let app = TestApp::new();
    let b = Browser::new(&app, "10.9.1.1");
    b.register(EMPLOYER).await;
    assert_eq!(b.get("/admin").await.status, 403);
    let config = app.state.config.as_ref().clone();
    let db = app.state.db.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        jobboard::admin::cli::create(&db, &config, EMPLOYER, "new admin passphrase", 1)
    })
    .await
    .expect("join")
    .expect("promoted");
    assert!(matches!(
        outcome,
        jobboard::admin::cli::Outcome::Promoted(_)
    ));
    // The new password ended their sessions; the old password no longer works.
    assert_eq!(b.get("/admin").await.status, 303);
    assert_eq!(b.login(EMPLOYER).await.status, 422);
    let again = Browser::new(&app, "10.9.1.2");
    let page = again
        .post(
            "/login",
            &[("email", EMPLOYER), ("password", "new admin passphrase")],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(again.get("/admin").await.status, 200);
}
