//! Accounts through the HTML forms: register, sign in and out, verify, reset;
//! CSRF, rate limits, enumeration and session fixation.

use crate::common::browser::{Browser, PASSWORD};
use crate::common::{NOW, TestApp};

#[tokio::test]
async fn register_signs_in_and_sends_a_verification_link() {
    let app = TestApp::new();
    let b = Browser::new(&app, "10.0.0.1");
    let page = b.register("New.Employer@Example.com").await;
    assert_eq!(page.location(), Some("/dashboard"));
    let cookie = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("jb_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Secure"), "https board: {cookie}");

    let mails = app.emails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "new.employer@example.com");
    let link = mails[0].link("/verify-email").expect("a link");
    assert!(mails[0].html.contains("Verify my email"));
    assert_eq!(mails[0].subject, "Verify your email for Job Board");
    assert!(
        mails[0].headers.contains("Message-ID: <"),
        "{}",
        mails[0].headers
    );
    assert!(
        mails[0].headers.contains("Date: Fri, 27 Nov 2026 09:00:00"),
        "{}",
        mails[0].headers
    );
    assert!(
        mails[0]
            .headers
            .contains("From: \"Job Board\" <noreply@localhost>"),
        "{}",
        mails[0].headers
    );
    let verified: i64 = app
        .scalar(
            "SELECT email_verified_at IS NOT NULL FROM users WHERE id = ?1",
            1,
        )
        .await;
    assert_eq!(verified, 0);
    let page = b.get(&link.replace("https://board.example", "")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("verified"), "{}", page.body);
    assert_eq!(
        app.scalar(
            "SELECT email_verified_at IS NOT NULL FROM users WHERE id = ?1",
            1
        )
        .await,
        1
    );
    // Single use.
    let again = b.get(&link.replace("https://board.example", "")).await;
    assert_eq!(again.status, 400);
}

#[tokio::test]
async fn a_refused_registration_keeps_the_email_and_says_why() {
    let app = TestApp::new();
    let b = Browser::new(&app, "10.0.0.2");
    let page = b
        .post(
            "/register",
            &[("email", "kim@example.com"), ("password", "Password123!")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("value=\"kim@example.com\""));
    assert!(page.body.contains("too common"), "{}", page.body);
    assert!(b.cookie("jb_session").is_none());

    let page = b
        .post(
            "/register",
            &[("email", "not-an-email"), ("password", "short")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("f-email-error"));
    assert!(page.body.contains("at least 12 characters"));

    b.register("kim@example.com").await;
    let other = Browser::new(&app, "10.0.0.3");
    let page = other
        .post(
            "/register",
            &[("email", "KIM@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 422, "the email is taken");
}

#[tokio::test]
async fn sign_in_and_out() {
    let app = TestApp::new();
    app.create_user("ana@example.com", false).await;
    let b = Browser::new(&app, "10.0.0.4");
    assert_eq!(
        b.get("/dashboard").await.location(),
        Some("/login?next=%2Fdashboard")
    );

    let wrong = b
        .post(
            "/login",
            &[
                ("email", "ana@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("value=\"ana@example.com\""));

    let page = b
        .post(
            "/login",
            &[
                ("email", "ana@example.com"),
                ("password", PASSWORD),
                ("next", "/post"),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), Some("/post"));
    // A next pointing off the site goes to the dashboard instead.
    let page = b
        .post(
            "/login",
            &[
                ("email", "ana@example.com"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(page.location(), Some("/dashboard"));

    let session = b.cookie("jb_session").expect("signed in");
    let out = b.post("/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert!(b.cookie("jb_session").is_none(), "cookie removed");
    // The old token no longer works even if replayed.
    b.set_cookie("jb_session", &session);
    assert_eq!(b.get("/dashboard").await.status, 303);
}

#[tokio::test]
async fn state_changing_forms_need_this_browsers_csrf_token() {
    let app = TestApp::new();
    app.create_user("ana@example.com", false).await;
    let b = Browser::new(&app, "10.0.0.5");
    let fields = [("email", "ana@example.com"), ("password", PASSWORD)];
    // No token at all.
    let page = b.post_raw("/login", &fields).await;
    assert_eq!(page.status, 403);
    // A token from another browser.
    let other = Browser::new(&app, "10.0.0.6");
    let foreign = other.csrf().await;
    b.csrf().await;
    let mut with_foreign = vec![("csrf_token", foreign.as_str())];
    with_foreign.extend_from_slice(&fields);
    assert_eq!(b.post_raw("/login", &with_foreign).await.status, 403);
    // A made-up token.
    let mut made_up = vec![("csrf_token", "00")];
    made_up.extend_from_slice(&fields);
    assert_eq!(b.post_raw("/login", &made_up).await.status, 403);
    for path in [
        "/register",
        "/logout",
        "/forgot-password",
        "/reset-password",
        "/verify-email",
    ] {
        assert_eq!(b.post_raw(path, &[]).await.status, 403, "{path}");
    }
    assert!(b.cookie("jb_session").is_none());
    // Its own token works.
    assert_eq!(b.post("/login", &fields).await.status, 303);
}

#[tokio::test]
async fn the_honeypot_refuses_bots() {
    let app = TestApp::new();
    let b = Browser::new(&app, "10.0.0.7");
    let page = b
        .post(
            "/register",
            &[
                ("email", "bot@example.com"),
                ("password", PASSWORD),
                ("fax", "http://spam"),
            ],
        )
        .await;
    assert_eq!(page.status, 400);
    assert_eq!(
        app.scalar("SELECT count(*) FROM users WHERE id > ?1", 0)
            .await,
        0
    );
}

#[tokio::test]
async fn wrong_passwords_are_limited_per_account_and_per_ip() {
    let app = TestApp::with_env(&[
        ("JOBBOARD_LIMITS_LOGIN_PER_ACCOUNT", "3/15m"),
        ("JOBBOARD_LIMITS_LOGIN_PER_IP", "6/1m"),
    ]);
    app.create_user("ana@example.com", false).await;
    let b = Browser::new(&app, "10.0.1.1");
    for _ in 0..3 {
        let page = b
            .post(
                "/login",
                &[
                    ("email", "ana@example.com"),
                    ("password", "guess guess guess"),
                ],
            )
            .await;
        assert_eq!(page.status, 422);
    }
    // The account is locked for everyone, even with the right password…
    let other = Browser::new(&app, "10.0.1.2");
    let page = other.login("ana@example.com").await;
    assert_eq!(page.status, 429);
    let wait: u64 = page
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!(wait > 0 && wait <= 900, "{wait}");
    // …until the window is over.
    app.clock.advance(901);
    assert_eq!(other.login("ana@example.com").await.status, 303);

    // Per IP: any six attempts a minute.
    let c = Browser::new(&app, "10.0.1.3");
    for i in 0..6 {
        let email = format!("nobody{i}@example.com");
        assert_eq!(
            c.post("/login", &[("email", &email), ("password", "x")])
                .await
                .status,
            422
        );
    }
    assert_eq!(c.login("ana@example.com").await.status, 429);
    // Another address is not affected.
    assert_eq!(
        Browser::new(&app, "10.0.1.4")
            .login("ana@example.com")
            .await
            .status,
        303
    );
}

#[tokio::test]
async fn registration_and_resets_are_limited_per_ip() {
    let app = TestApp::with_env(&[
        ("JOBBOARD_LIMITS_REGISTER_PER_IP", "2/1h"),
        ("JOBBOARD_LIMITS_RESET_PER_IP", "2/1h"),
    ]);
    let b = Browser::new(&app, "10.0.2.1");
    b.register("one@example.com").await;
    b.register("two@example.com").await;
    let page = b
        .post(
            "/register",
            &[("email", "three@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 429);
    assert!(page.header("retry-after").is_some());
    for _ in 0..2 {
        let page = b
            .post("/forgot-password", &[("email", "one@example.com")])
            .await;
        assert_eq!(page.status, 200);
    }
    assert_eq!(
        b.post("/forgot-password", &[("email", "one@example.com")])
            .await
            .status,
        429
    );
    // Per address too: the same email tried from many IPs.
    for ip in ["10.0.2.2", "10.0.2.3"] {
        let page = Browser::new(&app, ip)
            .post(
                "/register",
                &[("email", "same@example.com"), ("password", "x")],
            )
            .await;
        assert_eq!(page.status, 422, "{ip}");
    }
    let page = Browser::new(&app, "10.0.2.4")
        .post(
            "/register",
            &[("email", "same@example.com"), ("password", "x")],
        )
        .await;
    assert_eq!(page.status, 429);
}

#[tokio::test]
async fn sign_in_and_reset_do_not_tell_whether_an_account_exists() {
    let app = TestApp::new();
    app.create_user("ana@example.com", false).await;
    let b = Browser::new(&app, "10.0.3.1");
    let known = b
        .post(
            "/login",
            &[
                ("email", "ana@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    let unknown = b
        .post(
            "/login",
            &[
                ("email", "zed@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(
        known.body.replace("ana@example.com", "E"),
        unknown.body.replace("zed@example.com", "E")
    );

    let known = b
        .post("/forgot-password", &[("email", "ana@example.com")])
        .await;
    let unknown = b
        .post("/forgot-password", &[("email", "zed@example.com")])
        .await;
    assert_eq!(known.status, 200);
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.body, unknown.body);
    // Only the real account got a link (sent after the answer).
    let mails = crate::common::eventually(|| {
        let m = app.emails();
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "ana@example.com");
}

#[tokio::test]
async fn a_reset_link_works_once_within_the_hour_and_ends_every_session() {
    let app = TestApp::new();
    app.create_user("ana@example.com", false).await;
    let laptop = Browser::new(&app, "10.0.4.1");
    assert_eq!(laptop.login("ana@example.com").await.status, 303);

    let phone = Browser::new(&app, "10.0.4.2");
    phone
        .post("/forgot-password", &[("email", "ana@example.com")])
        .await;
    let mail = crate::common::eventually(|| app.emails().into_iter().next()).await;
    let link = mail.link("/reset-password").expect("link");
    let path = link.replace("https://board.example", "");
    let token = path.split("token=").nth(1).expect("token").to_string();

    let form = phone.get(&path).await;
    assert_eq!(form.status, 200);
    assert_eq!(form.input_value("token").as_deref(), Some(token.as_str()));
    let weak = phone
        .post(
            "/reset-password",
            &[("token", &token), ("password", "password12345")],
        )
        .await;
    assert_eq!(weak.status, 422, "weak password refused, token kept");
    let done = phone
        .post(
            "/reset-password",
            &[("token", &token), ("password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location(), Some("/dashboard"));
    // The laptop was signed out; the old password no longer works.
    assert_eq!(laptop.get("/dashboard").await.status, 303);
    assert_eq!(laptop.login("ana@example.com").await.status, 422);
    let ok = laptop
        .post(
            "/login",
            &[
                ("email", "ana@example.com"),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    // Used once.
    let again = phone
        .post(
            "/reset-password",
            &[("token", &token), ("password", "yet another passphrase")],
        )
        .await;
    assert_eq!(again.status, 400);

    // A fresh link expires after an hour.
    phone
        .post("/forgot-password", &[("email", "ana@example.com")])
        .await;
    let mail = crate::common::eventually(|| {
        let m = app.emails();
        (m.len() == 2).then(|| m[1].clone())
    })
    .await;
    let path = mail
        .link("/reset-password")
        .expect("link")
        .replace("https://board.example", "");
    app.clock.advance(3601);
    assert_eq!(phone.get(&path).await.status, 400);
    let _ = NOW;
}

#[tokio::test]
async fn signing_in_replaces_a_planted_session() {
    let app = TestApp::new();
    app.create_user("ana@example.com", false).await;
    let b = Browser::new(&app, "10.0.5.1");
    // An attacker plants a session token of their choosing.
    b.set_cookie("jb_session", &"a".repeat(64));
    assert_eq!(b.login("ana@example.com").await.status, 303);
    let token = b.cookie("jb_session").expect("session");
    assert_ne!(token, "a".repeat(64));
    // The planted token does not sign anyone in.
    let attacker = Browser::new(&app, "10.0.5.2");
    attacker.set_cookie("jb_session", &"a".repeat(64));
    assert_eq!(attacker.get("/dashboard").await.status, 303);
    // A second sign-in gets yet another token and ends the first.
    assert_eq!(b.login("ana@example.com").await.status, 303);
    let second = b.cookie("jb_session").expect("session");
    assert_ne!(token, second);
    attacker.set_cookie("jb_session", &token);
    assert_eq!(attacker.get("/dashboard").await.status, 303);
}

#[tokio::test]
async fn read_only_pages_set_no_cookie_and_form_pages_are_not_cached() {
    let app = TestApp::new();
    let b = Browser::new(&app, "10.0.6.1");
    for path in ["/", "/jobs", "/feed.xml"] {
        let page = b.get(path).await;
        assert!(page.set_cookies().is_empty(), "{path}");
    }
    let login = b.get("/login").await;
    assert_eq!(login.header("cache-control"), Some("no-store"));
    assert!(
        login
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("jb_csrf="))
    );
    // The second form page reuses the cookie.
    assert!(b.get("/register").await.set_cookies().is_empty());
}

#[tokio::test]
async fn guesses_sent_at_once_cannot_pass_the_account_limit() {
    let app = TestApp::with_env(&[("JOBBOARD_LIMITS_LOGIN_PER_ACCOUNT", "3/15m")]);
    app.create_user("ana@example.com", false).await;
    let browsers: Vec<Browser> = (0..12)
        .map(|i| Browser::new(&app, &format!("10.0.7.{i}")))
        .collect();
    for b in &browsers {
        b.csrf().await;
    }
    let guesses = browsers.iter().map(|b| {
        b.post(
            "/login",
            &[
                ("email", "ana@example.com"),
                ("password", "guess guess guess"),
            ],
        )
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers.iter().filter(|p| p.status == 422).count();
    let refused = answers.iter().filter(|p| p.status == 429).count();
    assert_eq!(
        (checked, refused),
        (3, 9),
        "only three guesses were checked"
    );
}

#[tokio::test]
async fn ipv6_clients_share_their_64_for_limits() {
    let app = TestApp::with_env(&[("JOBBOARD_LIMITS_LOGIN_PER_IP", "2/1m")]);
    for (i, ip) in ["2001:db8:1:2::a", "2001:db8:1:2::b"].iter().enumerate() {
        let page = Browser::new(&app, ip)
            .post("/login", &[("email", "x@example.com"), ("password", "y")])
            .await;
        assert_eq!(page.status, 422, "attempt {i}");
    }
    let same_64 = Browser::new(&app, "2001:db8:1:2:ffff::1")
        .post("/login", &[("email", "x@example.com"), ("password", "y")])
        .await;
    assert_eq!(same_64.status, 429);
    let other_64 = Browser::new(&app, "2001:db8:1:3::1")
        .post("/login", &[("email", "x@example.com"), ("password", "y")])
        .await;
    assert_eq!(other_64.status, 422);
}
