//! Job alerts end to end: subscribing from a search, double opt-in, instant
//! alerts and digests on a moved clock, never the same job twice, at most 50
//! jobs an email, one-click unsubscribe, the manage page, rate limits, CSRF.

use serde_json::json;

use crate::common::TestApp;
use crate::common::browser::Browser;
use crate::common::mail::Mail;

const BASE: &str = "https://board.example";

/// The first `{BASE}{prefix}…` link in a text, as a path.
fn path_link(text: &str, prefix: &str) -> String {
    let at = text
        .find(&format!("{BASE}{prefix}"))
        .unwrap_or_else(|| panic!("a {prefix} link in {text}"));
    let rest = &text[at + BASE.len()..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    rest[..end].to_string()
}

/// Alert emails (not confirmations) sent to `to` so far.
fn alert_mails(app: &TestApp, to: &str) -> Vec<Mail> {
    app.emails()
        .into_iter()
        .filter(|m| m.to == to && !m.subject.starts_with("Confirm"))
        .collect()
}

/// Subscribes `email` to a search; returns the confirmation link's path.
async fn subscribe(app: &TestApp, b: &Browser<'_>, email: &str, fields: &[(&str, &str)]) -> String {
    let mut all = vec![("email", email)];
    all.extend_from_slice(fields);
    let page = b.post("/alerts", &all).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location(), Some("/alerts/sent"));
    let mail = app
        .emails()
        .into_iter()
        .rev()
        .find(|m| m.to == email && m.subject.starts_with("Confirm"))
        .expect("a confirmation email");
    path_link(&mail.text, "/alerts/confirm/")
}

/// Subscribes and confirms; the clock then moves a second, so jobs added
/// next are new to the alert.
async fn confirmed(app: &TestApp, email: &str, fields: &[(&str, &str)]) {
    let b = Browser::new(app, "10.0.0.9");
    let link = subscribe(app, &b, email, fields).await;
    let page = b.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    app.clock.advance(1);
}

async fn rust_job(app: &TestApp, title: &str) -> i64 {
    app.add_job(json!({ "title": title })).await
}

async fn other_job(app: &TestApp, title: &str) -> i64 {
    app.add_job(json!({
        "title": title,
        "company": {"name": "Bakery", "website": "https://bakery.example"},
        "description": "Bake bread at dawn.",
        "tags": ["baking"],
        "remote": ["americas"]
    }))
    .await
}

/// Moves the clock a minute (a round of the `alerts` schedule).
fn next_minute(app: &TestApp) {
    app.clock.advance(60);
}

#[tokio::test]
async fn the_search_page_links_to_a_prefilled_alert_form() {
    let app = TestApp::new();
    rust_job(&app, "Rust Engineer").await;
    let page = app.get("/jobs?q=rust&remote=europe").await;
    let body = crate::common::text(page).await;
    assert!(
        body.contains("href=\"/alerts?q=rust&amp;remote=europe\""),
        "{body}"
    );
    assert!(body.contains("Email me jobs like these"));

    let b = Browser::new(&app, "10.0.0.1");
    let page = b.get("/alerts?q=rust&remote=europe&page=2").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.input_value("q").as_deref(), Some("rust"));
    assert!(
        page.body
            .contains("name=\"remote\" value=\"europe\" checked"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("New jobs matching “rust”, remote from Europe"),
        "{}",
        page.body
    );
    assert!(page.input_value("csrf_token").is_some());
}

#[tokio::test]
async fn double_opt_in_then_only_new_matching_jobs_once() {
    let app = TestApp::new();
    let old = rust_job(&app, "Old Rust Role").await;
    app.clock.advance(1);
    let b = Browser::new(&app, "10.0.0.1");
    let link = subscribe(
        &app,
        &b,
        "seeker@example.com",
        &[
            ("q", "rust"),
            ("remote", "europe"),
            ("frequency", "instant"),
        ],
    )
    .await;
    assert!(
        link.starts_with("/alerts/confirm/") && link.contains('.'),
        "{link}"
    );

    // Nothing is sent before the address is confirmed.
    app.clock.advance(1);
    rust_job(&app, "Rust Before Confirming").await;
    next_minute(&app);
    assert!(alert_mails(&app, "seeker@example.com").is_empty());

    let page = b.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Your alert is on"), "{}", page.body);
    assert_eq!(b.get(&link).await.status, 200, "confirming twice is fine");

    app.clock.advance(5);
    let new = rust_job(&app, "Rust Platform Engineer").await;
    other_job(&app, "Pastry Chef").await;
    next_minute(&app);
    let mails = alert_mails(&app, "seeker@example.com");
    assert_eq!(mails.len(), 1, "one email for the round");
    let text = &mails[0].text;
    assert!(text.contains("Rust Platform Engineer"), "{text}");
    assert!(text.contains("Rust Before Confirming"), "{text}");
    assert!(text.contains(&format!("{BASE}/jobs/{new}-")), "{text}");
    assert!(!text.contains("Pastry Chef"), "{text}");
    assert!(!text.contains("Old Rust Role"), "{text}");
    assert!(!text.contains(&format!("/jobs/{old}-")), "{text}");
    assert!(mails[0].html.contains("Rust Platform Engineer"));

    // The next rounds send nothing again, then only the next new job.
    next_minute(&app);
    next_minute(&app);
    assert_eq!(alert_mails(&app, "seeker@example.com").len(), 1);
    rust_job(&app, "Rust Compiler Engineer").await;
    next_minute(&app);
    let mails = alert_mails(&app, "seeker@example.com");
    assert_eq!(mails.len(), 2);
    assert!(mails[1].text.contains("Rust Compiler Engineer"));
    assert!(!mails[1].text.contains("Rust Platform Engineer"));
    assert_eq!(
        mails[1].subject,
        "New job: Rust Compiler Engineer at Acme Widgets"
    );
}

#[tokio::test]
async fn at_most_fifty_jobs_an_email() {
    let app = TestApp::new();
    confirmed(
        &app,
        "many@example.com",
        &[("q", "rust"), ("frequency", "instant")],
    )
    .await;
    for i in 0..60 {
        app.add_job_unindexed(json!({ "title": format!("Rust Role {i}") }))
            .await;
    }
    app.index();
    next_minute(&app);
    let mails = alert_mails(&app, "many@example.com");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].text.matches(&format!("{BASE}/jobs/")).count(), 50);
    assert_eq!(mails[0].subject, "50 new jobs for your alert");
}

#[tokio::test]
async fn daily_and_weekly_digests_group_the_jobs() {
    let app = TestApp::new();
    confirmed(
        &app,
        "daily@example.com",
        &[("q", "rust"), ("frequency", "daily")],
    )
    .await;
    confirmed(
        &app,
        "weekly@example.com",
        &[("q", "rust"), ("frequency", "weekly")],
    )
    .await;
    for (i, hours) in [1, 5, 9].into_iter().enumerate() {
        app.clock.advance(hours * 3600);
        rust_job(&app, &format!("Rust Digest {i}")).await;
        app.run_pending_tasks();
    }
    assert!(
        alert_mails(&app, "daily@example.com").is_empty(),
        "not yet a day"
    );

    app.clock.advance(86_400 - 15 * 3600);
    let daily = alert_mails(&app, "daily@example.com");
    assert_eq!(daily.len(), 1, "one digest after a day");
    for i in 0..3 {
        assert!(daily[0].text.contains(&format!("Rust Digest {i}")));
    }
    assert_eq!(daily[0].subject, "3 new jobs for your alert");
    assert!(alert_mails(&app, "weekly@example.com").is_empty());

    // The next daily digest waits for the next day.
    app.clock.advance(3600);
    rust_job(&app, "Rust Later").await;
    app.clock.advance(3600);
    assert_eq!(alert_mails(&app, "daily@example.com").len(), 1);
    app.clock.advance(86_400);
    let daily = alert_mails(&app, "daily@example.com");
    assert_eq!(daily.len(), 2);
    assert!(daily[1].text.contains("Rust Later"));
    assert!(!daily[1].text.contains("Rust Digest"));

    app.clock.advance(4 * 86_400);
    assert!(
        alert_mails(&app, "weekly@example.com").is_empty(),
        "day six"
    );
    app.clock.advance(86_400);
    let weekly = alert_mails(&app, "weekly@example.com");
    assert_eq!(weekly.len(), 1, "one digest after a week");
    assert_eq!(weekly[0].subject, "4 new jobs for your alert");
}

#[tokio::test]
async fn one_click_unsubscribe_from_the_header() {
    let app = TestApp::new();
    confirmed(
        &app,
        "leaver@example.com",
        &[("q", "rust"), ("frequency", "instant")],
    )
    .await;
    rust_job(&app, "Rust One").await;
    next_minute(&app);
    let mails = alert_mails(&app, "leaver@example.com");
    assert_eq!(mails.len(), 1);
    let headers = &mails[0].headers;
    assert!(
        headers.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{headers}"
    );
    let url = path_link(headers, "/alerts/unsubscribe/");
    let url = url.trim_end_matches('>').to_string();
    assert!(
        headers.contains(&format!("List-Unsubscribe: <{BASE}{url}>")),
        "{headers}"
    );
    assert!(
        mails[0].text.contains(&format!("{BASE}{url}")),
        "a link in the body"
    );

    // A GET only asks.
    let b = Browser::new(&app, "10.0.0.2");
    let page = b.get(&url).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<button"), "{}", page.body);

    // The mail client's one-click post: no cookie, no CSRF token.
    let page = b.post_raw(&url, &[("List-Unsubscribe", "One-Click")]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("You are unsubscribed"), "{}", page.body);
    assert_eq!(b.post_raw(&url, &[]).await.status, 200, "twice is fine");

    rust_job(&app, "Rust Two").await;
    next_minute(&app);
    assert_eq!(alert_mails(&app, "leaver@example.com").len(), 1);
}

#[tokio::test]
async fn forged_tokens_are_refused() {
    let app = TestApp::new();
    confirmed(
        &app,
        "victim@example.com",
        &[("q", "rust"), ("frequency", "instant")],
    )
    .await;
    let b = Browser::new(&app, "10.0.0.3");
    let forged = format!("/alerts/unsubscribe/1.{}", "0".repeat(64));
    assert_eq!(b.post_raw(&forged, &[]).await.status, 404);
    assert_eq!(b.get(&forged).await.status, 404);
    assert_eq!(b.get("/alerts/confirm/1.abc").await.status, 404);
    assert_eq!(b.get("/alerts/manage/1").await.status, 404);
    rust_job(&app, "Rust Still Sent").await;
    next_minute(&app);
    assert_eq!(alert_mails(&app, "victim@example.com").len(), 1);
}

#[tokio::test]
async fn the_manage_page_lists_and_changes_every_alert_of_the_address() {
    let app = TestApp::new();
    confirmed(
        &app,
        "owner@example.com",
        &[("q", "rust"), ("frequency", "instant")],
    )
    .await;
    confirmed(
        &app,
        "owner@example.com",
        &[
            ("category", "software-development"),
            ("frequency", "weekly"),
        ],
    )
    .await;
    rust_job(&app, "Rust Managed").await;
    next_minute(&app);
    let mails = alert_mails(&app, "owner@example.com");
    assert_eq!(mails.len(), 1);
    let manage = path_link(&mails[0].text, "/alerts/manage/");

    let b = Browser::new(&app, "10.0.0.4");
    let page = b.get(&manage).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("New jobs matching “rust”"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("in Software Development"),
        "{}",
        page.body
    );
    assert_eq!(page.body.matches("Unsubscribe</button>").count(), 2);

    let page = b
        .post(&manage, &[("alert", "1"), ("frequency", "daily")])
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let frequency = app
        .scalar("SELECT frequency = 'daily' FROM alerts WHERE id = ?1", 1)
        .await;
    assert_eq!(frequency, 1);
    // An alert of another address cannot be changed from this link.
    confirmed(&app, "other@example.com", &[("frequency", "instant")]).await;
    let page = b
        .post(&manage, &[("alert", "3"), ("frequency", "weekly")])
        .await;
    assert_eq!(page.status, 404);
}

#[tokio::test]
async fn subscribing_is_checked_and_rate_limited() {
    let app = TestApp::with_env(&[("JOBBOARD_LIMITS_ALERTS_PER_IP", "2/1h")]);
    let b = Browser::new(&app, "10.0.0.5");

    let page = b
        .post_raw(
            "/alerts",
            &[("email", "a@example.com"), ("frequency", "daily")],
        )
        .await;
    assert_eq!(page.status, 403, "no CSRF token");

    let page = b
        .post(
            "/alerts",
            &[
                ("email", "not an email"),
                ("q", "rust"),
                ("frequency", "hourly"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert_eq!(page.input_value("email").as_deref(), Some("not an email"));
    assert_eq!(page.input_value("q").as_deref(), Some("rust"));
    assert!(page.body.contains("f-email-error"), "{}", page.body);
    assert!(page.body.contains("f-frequency-error"), "{}", page.body);

    subscribe(&app, &b, "b@example.com", &[("frequency", "daily")]).await;
    let page = b
        .post(
            "/alerts",
            &[("email", "c@example.com"), ("frequency", "daily")],
        )
        .await;
    assert_eq!(page.status, 429);
    assert!(page.header("retry-after").is_some());
    app.clock.advance(3600);
    subscribe(&app, &b, "c@example.com", &[("frequency", "daily")]).await;
}

#[tokio::test]
async fn one_address_has_at_most_twenty_alerts_of_bounded_size() {
    let app = TestApp::with_env(&[("JOBBOARD_LIMITS_ENABLED", "false")]);
    let b = Browser::new(&app, "10.0.9.1");
    let long = "rust ".repeat(50);
    let page = b
        .post(
            "/alerts",
            &[
                ("email", "many@example.com"),
                ("frequency", "daily"),
                ("q", &long),
            ],
        )
        .await;
    assert_eq!(page.status, 422, "search words are bounded");
    let tags = (0..11)
        .map(|i| format!("t{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let page = b
        .post(
            "/alerts",
            &[
                ("email", "many@example.com"),
                ("frequency", "daily"),
                ("tag", &tags),
            ],
        )
        .await;
    assert_eq!(page.status, 422, "tags are bounded");
    for i in 0..20 {
        let q = format!("word{i}");
        let page = b
            .post(
                "/alerts",
                &[
                    ("email", "many@example.com"),
                    ("frequency", "daily"),
                    ("q", &q),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "alert {i}");
    }
    let page = b
        .post(
            "/alerts",
            &[
                ("email", "many@example.com"),
                ("frequency", "daily"),
                ("q", "one more"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("20 alerts already"), "{}", page.body);
}
