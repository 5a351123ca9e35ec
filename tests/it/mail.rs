//! Mail over SMTP, to a real SMTP server inside the tests: every kind of
//! message the board sends arrives whole; an outage delays mail but loses
//! none and sends none twice; the URL's password stays out of logs.

use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::common::browser::Browser;
use crate::common::mail::{Mail, parse};
use crate::common::smtp::{Received, SmtpServer};
use crate::common::{NOW, TestApp};

const DAY: i64 = 86_400;

/// A board sending mail to `url`, with these other settings.
fn board(url: &str, env: &[(&str, &str)]) -> TestApp {
    let mut all = vec![
        ("JOBBOARD_MAIL_TRANSPORT", "smtp"),
        ("JOBBOARD_MAIL_SMTP_URL", url),
    ];
    all.extend_from_slice(env);
    TestApp::with_env(&all)
}

/// A board sending mail to `server`.
fn board_for(server: &SmtpServer, env: &[(&str, &str)]) -> TestApp {
    board(&format!("smtp://127.0.0.1:{}", server.port), env)
}

/// Runs the due work and returns what the server holds, parsed.
fn delivered(app: &TestApp, server: &SmtpServer) -> Vec<(Received, Mail)> {
    app.run_pending_tasks();
    server
        .messages()
        .into_iter()
        .map(|r| {
            let mail = parse(&r.data);
            (r, mail)
        })
        .collect()
}

/// The one message delivered to `to` whose subject holds `subject`.
fn one(app: &TestApp, server: &SmtpServer, to: &str, subject: &str) -> (Received, Mail) {
    let mut found: Vec<_> = delivered(app, server)
        .into_iter()
        .filter(|(r, m)| r.to == [to] && m.subject.contains(subject))
        .collect();
    assert_eq!(found.len(), 1, "one {subject:?} to {to}");
    found.remove(0)
}

/// Both parts are there and the plain one holds `text`.
fn assert_whole(mail: &Mail, text: &str) {
    assert!(mail.text.contains(text), "{}", mail.text);
    assert!(mail.html.contains("<"), "an HTML part: {}", mail.html);
}

/// A port where nothing listens (for now).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// `(state, attempts, last_error, run_at)` of every mail task.
async fn mail_tasks(app: &TestApp) -> Vec<(String, i64, Option<String>, i64)> {
    app.state
        .db
        .read(|c| {
            let mut stmt = c.prepare(
                "SELECT state, attempts, last_error, run_at FROM tasks
                 WHERE kind = 'mail' ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
        .expect("tasks")
}

#[tokio::test]
async fn verification_and_password_reset_arrive_over_smtp() {
    let server = SmtpServer::start();
    let app = board_for(&server, &[]);
    let b = Browser::new(&app, "10.20.0.1");
    b.register("ana@harbour.example").await;
    let (_, verify) = one(&app, &server, "ana@harbour.example", "Verify your email");
    assert_whole(&verify, "/verify-email?token=");

    let other = Browser::new(&app, "10.20.0.2");
    let page = other
        .post("/forgot-password", &[("email", "ana@harbour.example")])
        .await;
    assert_eq!(page.status, 200);
    // The reset mail is queued just after the answer.
    crate::common::eventually(|| {
        let all = delivered(&app, &server);
        all.iter()
            .any(|(_, m)| m.subject.contains("Reset your"))
            .then_some(())
    })
    .await;
    let (_, reset) = one(&app, &server, "ana@harbour.example", "Reset your");
    assert!(reset.link("/reset-password").is_some(), "{}", reset.text);
    assert_whole(&reset, "/reset-password?token=");
}

/// The fields of a complete job as the `/post` form sends them.
fn job_form(title: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("title", title),
        ("company_name", "Tidewater Labs"),
        ("company_website", "https://tidewater.example"),
        ("description", "We build **tide** models."),
        ("category", "data"),
        ("job_type", "full_time"),
        ("remote", "europe"),
        ("apply_url", "https://tidewater.example/jobs/1"),
    ]
}

#[tokio::test]
async fn review_published_and_rejected_mails_arrive_over_smtp() {
    let server = SmtpServer::start();
    let app = board_for(&server, &[("JOBBOARD_POSTING_REQUIRE_APPROVAL", "true")]);
    app.create_user("admin@board.example", true).await;

    // An employer posts: the admins are asked to review.
    let employer = Browser::new(&app, "10.20.1.1");
    employer.register("hr@tidewater.example").await;
    let created = employer.post("/post", &job_form("Oceanographer")).await;
    let location = created.location().expect("the new job's page").to_string();
    let id: i64 = location
        .trim_start_matches("/post/")
        .split('/')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("a job id");
    employer.post(&format!("/post/{id}/submit"), &[]).await;
    let (_, review) = one(&app, &server, "admin@board.example", "Oceanographer");
    assert_whole(&review, "Oceanographer");

    // An admin approves it, and rejects another.
    let owner = app
        .scalar("SELECT owner_id FROM jobs WHERE id = ?1", id)
        .await;
    let other = app
        .add_owned_job(owner, "pending_review", json!({"title": "Hydrographer"}))
        .await;
    let admin = Browser::new(&app, "10.20.1.2");
    assert_eq!(admin.login("admin@board.example").await.status, 303);
    let approved = admin.post(&format!("/admin/jobs/{id}/approve"), &[]).await;
    assert_eq!(approved.status, 303);
    let reason = "Please add a salary range.";
    let rejected = admin
        .post(
            &format!("/admin/jobs/{other}/reject"),
            &[("reason", reason)],
        )
        .await;
    assert_eq!(rejected.status, 303);

    let (_, live) = one(&app, &server, "hr@tidewater.example", "live");
    assert_whole(&live, &format!("/jobs/{id}-oceanographer"));
    let (_, no) = one(&app, &server, "hr@tidewater.example", "not approved");
    assert!(no.subject.contains("Hydrographer"), "{}", no.subject);
    assert_whole(&no, reason);
}

#[tokio::test]
async fn the_expiry_reminder_arrives_over_smtp() {
    let server = SmtpServer::start();
    let app = board_for(&server, &[]);
    let owner = app.create_user("owner@harbour.example", false).await;
    let id = app
        .add_owned_job(owner, "published", json!({"title": "Buoy Painter"}))
        .await;
    let ends = app
        .scalar("SELECT expires_at FROM jobs WHERE id = ?1", id)
        .await;
    app.clock.set(ends - 2 * DAY);
    app.run_pending_tasks();
    let (_, reminder) = one(&app, &server, "owner@harbour.example", "expires soon");
    assert_whole(&reminder, "Buoy Painter");
    assert!(reminder.html.contains("/dashboard"), "{}", reminder.html);
}

#[tokio::test]
async fn alert_confirmation_and_alert_mails_arrive_over_smtp() {
    let server = SmtpServer::start();
    let app = board_for(&server, &[]);
    let b = Browser::new(&app, "10.20.5.1");
    let page = b
        .post(
            "/alerts",
            &[
                ("email", "seeker@harbour.example"),
                ("q", "rust"),
                ("frequency", "instant"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let (_, confirm) = one(&app, &server, "seeker@harbour.example", "Confirm");
    assert_whole(&confirm, "/alerts/confirm/");
    let at = confirm.text.find("/alerts/confirm/").expect("a link");
    let rest = &confirm.text[at..];
    let link = &rest[..rest.find(char::is_whitespace).unwrap_or(rest.len())];
    assert_eq!(b.get(link).await.status, 200);

    app.clock.advance(1);
    app.add_job(json!({"title": "Rust Harbour Pilot"})).await;
    app.clock.advance(60);
    let (_, alert) = one(
        &app,
        &server,
        "seeker@harbour.example",
        "Rust Harbour Pilot",
    );
    assert_whole(&alert, "Rust Harbour Pilot");
    assert!(
        alert
            .headers
            .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{}",
        alert.headers
    );
    assert!(
        alert
            .headers
            .contains("List-Unsubscribe: <https://board.example/alerts/unsubscribe/"),
        "{}",
        alert.headers
    );
}

#[tokio::test]
async fn a_message_carries_its_envelope_headers_and_both_parts() {
    let server = SmtpServer::start();
    let app = board_for(
        &server,
        &[("JOBBOARD_MAIL_FROM", "Harbour Jobs <jobs@harbour.example>")],
    );
    Browser::new(&app, "10.20.2.1")
        .register("ana@harbour.example")
        .await;
    Browser::new(&app, "10.20.2.2")
        .register("ben@harbour.example")
        .await;
    let all = delivered(&app, &server);
    assert_eq!(all.len(), 2, "{all:?}");
    let (received, mail) = &all[0];
    assert_eq!(received.from, "jobs@harbour.example");
    assert_eq!(received.to, ["ana@harbour.example"]);
    let header = |mail: &Mail, name: &str| -> String {
        mail.headers
            .lines()
            .find_map(|l| {
                l.split_once(": ")
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.to_string())
            })
            .unwrap_or_else(|| panic!("no {name} header in {}", mail.headers))
    };
    assert_eq!(NOW, 1_795_770_000, "the date below is this instant");
    assert!(
        header(mail, "Date").contains("27 Nov 2026 09:00:00"),
        "{}",
        header(mail, "Date")
    );
    let id = header(mail, "Message-ID");
    assert!(
        id.starts_with('<') && id.ends_with("@board.example>"),
        "{id}"
    );
    assert_ne!(
        id,
        header(&all[1].1, "Message-ID"),
        "each message its own id"
    );
    let from = header(mail, "From");
    assert!(
        from.contains("Harbour Jobs") && from.contains("<jobs@harbour.example>"),
        "{from}"
    );
    assert_eq!(header(mail, "To"), "ana@harbour.example");
    assert!(header(mail, "Subject").starts_with("Verify your email"));
    assert_eq!(header(mail, "MIME-Version"), "1.0");
    assert!(header(mail, "Content-Type").starts_with("multipart/alternative"));
    let data = &received.data;
    let plain = data.find("Content-Type: text/plain").expect("a plain part");
    let html = data.find("Content-Type: text/html").expect("an HTML part");
    assert!(plain < html, "plain text first, as RFC 2046 prefers");
    assert_whole(mail, "/verify-email?token=");
    assert!(mail.html.contains("/verify-email?token="), "{}", mail.html);
}

#[tokio::test]
async fn mail_waits_out_an_smtp_outage_and_arrives_exactly_once() {
    let port = free_port();
    let app = board(&format!("smtp://127.0.0.1:{port}"), &[]);
    Browser::new(&app, "10.20.3.1")
        .register("ana@harbour.example")
        .await;
    app.run_pending_tasks();
    let tasks = mail_tasks(&app).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let (state, attempts, error, run_at) = tasks[0].clone();
    assert_eq!((state.as_str(), attempts), ("queued", 1));
    let error = error.expect("the error is kept");
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    let now = NOW;
    assert!(run_at > now, "retried later, not at once");

    // Still down at the first retry: a longer wait.
    app.clock.set(run_at);
    app.run_pending_tasks();
    let (state, attempts, _, second) = mail_tasks(&app).await[0].clone();
    assert_eq!((state.as_str(), attempts), ("queued", 2));
    assert!(second - run_at > run_at - now, "the backoff grows");

    // Up again: delivered at the next retry, once.
    let server = SmtpServer::on_port(port);
    app.run_pending_tasks();
    assert!(server.messages().is_empty(), "not before its time");
    app.clock.set(second + 1);
    app.run_pending_tasks();
    let got = server.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["ana@harbour.example"]);
    assert!(parse(&got[0].data).subject.contains("Verify your email"));
    assert_eq!(mail_tasks(&app).await[0].0, "done");
    for _ in 0..3 {
        app.clock.advance(6 * 3600);
        app.run_pending_tasks();
    }
    assert_eq!(server.messages().len(), 1, "exactly once");
}

/// Log output gathered in memory.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_smtp_password_stays_out_of_logs_and_task_errors() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let secret = "s3cret-Tide%2Fpool";
    let port = free_port();
    let app = board(&format!("smtp://mailer:{secret}@127.0.0.1:{port}"), &[]);
    Browser::new(&app, "10.20.4.1")
        .register("ana@harbour.example")
        .await;
    app.run_pending_tasks();
    let (state, _, error, run_at) = mail_tasks(&app).await[0].clone();
    assert_eq!(state, "queued");
    let error = error.expect("an error");

    let server = SmtpServer::on_port(port);
    app.clock.set(run_at);
    app.run_pending_tasks();
    assert_eq!(server.messages().len(), 1);
    assert_eq!(
        server.logins(),
        [("mailer".to_string(), "s3cret-Tide/pool".to_string())],
        "signed in with the URL's credentials"
    );

    let text = String::from_utf8_lossy(&logs.0.lock().expect("logs")).into_owned();
    assert!(
        text.contains("task failed"),
        "the logs were captured: {text}"
    );
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    for form in ["s3cret", "Tide%2Fpool", "Tide/pool"] {
        assert!(!text.contains(form), "{form} in the logs: {text}");
        assert!(!error.contains(form), "{form} in the task's error: {error}");
    }
}
