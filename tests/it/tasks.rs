//! Background work on the test clock: expiry, reminders, clean-up, retries,
//! a worker that dies mid-task, the admin's view of failures, and
//! `jobboard worker` as a process.

use jobboard::clock::Clock;
use serde_json::json;

use crate::common::TestApp;
use crate::common::browser::Browser;

const DAY: i64 = 86_400;

#[tokio::test]
async fn a_job_expires_within_a_minute_of_its_time_and_leaves_search() {
    let app = TestApp::new();
    let owner = app.create_user("owner@harbour.example", false).await;
    let id = app
        .add_owned_job(owner, "published", json!({"title": "Tide Gauge Keeper"}))
        .await;
    let ends = app
        .scalar("SELECT expires_at FROM jobs WHERE id = ?1", id)
        .await;
    let b = Browser::new(&app, "10.5.0.1");
    assert!(
        b.get("/jobs?q=gauge")
            .await
            .body
            .contains("Tide Gauge Keeper")
    );
    app.run_pending_tasks();
    app.clock.set(ends - 1);
    app.run_pending_tasks();
    assert_eq!(
        app.scalar("SELECT status = 'published' FROM jobs WHERE id = ?1", id)
            .await,
        1
    );
    app.clock.set(ends + 59);
    app.run_pending_tasks();
    assert_eq!(
        app.scalar("SELECT status = 'expired' FROM jobs WHERE id = ?1", id)
            .await,
        1,
        "expired within a minute"
    );
    app.index();
    let search = b.get("/jobs?q=gauge").await;
    assert!(
        !search.body.contains("Tide Gauge Keeper</a>"),
        "gone from search"
    );
    let api = crate::common::json_body(app.get("/api/v1/jobs?q=gauge").await).await;
    assert_eq!(api["total"], 0);
    let page = b.get(&format!("/jobs/{id}-tide-gauge-keeper")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("no longer open"));
}

#[tokio::test]
async fn owners_are_reminded_once_three_days_before_expiry() {
    let app = TestApp::new();
    let owner = app.create_user("owner@harbour.example", false).await;
    let id = app
        .add_owned_job(owner, "published", json!({"title": "Buoy Painter"}))
        .await;
    let ends = app
        .scalar("SELECT expires_at FROM jobs WHERE id = ?1", id)
        .await;
    let reminders = |app: &TestApp| {
        app.emails()
            .into_iter()
            .filter(|m| m.subject.contains("expires soon"))
            .collect::<Vec<_>>()
    };
    app.clock.set(ends - 3 * DAY - 60);
    assert!(reminders(&app).is_empty(), "not yet");
    app.clock.set(ends - 3 * DAY + 600);
    let sent = reminders(&app);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "owner@harbour.example");
    assert!(sent[0].text.contains("Buoy Painter"));
    assert!(sent[0].html.contains("/dashboard"));
    for _ in 0..5 {
        app.clock.advance(700);
        assert_eq!(reminders(&app).len(), 1, "once per expiry date");
    }
    // Renewed, it gets a reminder for its new date in due time.
    let b = Browser::new(&app, "10.5.0.2");
    assert_eq!(b.login("owner@harbour.example").await.status, 303);
    assert_eq!(
        b.post(&format!("/dashboard/jobs/{id}/renew"), &[])
            .await
            .status,
        303
    );
    let renewed = app
        .scalar("SELECT expires_at FROM jobs WHERE id = ?1", id)
        .await;
    assert!(renewed > ends);
    app.clock.set(renewed - 3 * DAY + 600);
    assert_eq!(reminders(&app).len(), 2);
}

#[tokio::test]
async fn a_task_whose_worker_died_runs_again_and_its_mail_goes_out_once() {
    let app = TestApp::new();
    let b = Browser::new(&app, "10.5.0.3");
    b.register("new@harbour.example").await;
    // A worker claims the verification mail and dies before finishing it.
    let now = app.clock.unix();
    let claimed = app
        .state
        .db
        .write(move |tx| jobboard::tasks::queue::claim(tx, "dead-worker", now))
        .await
        .expect("claim");
    let claimed = claimed.expect("the mail task");
    assert_eq!(claimed.kind, "mail");
    assert!(app.emails().is_empty(), "still leased to the dead worker");
    app.clock.advance(jobboard::tasks::queue::LEASE_SECONDS);
    let mails = app.emails();
    assert_eq!(mails.len(), 1, "taken over and sent");
    app.clock.advance(3600);
    assert_eq!(app.emails().len(), 1, "and not again");
    assert_eq!(
        app.scalar("SELECT attempts FROM tasks WHERE id = ?1", claimed.id)
            .await,
        2
    );
}

#[tokio::test]
async fn expired_sessions_and_tokens_are_purged() {
    let app = TestApp::new();
    let b = Browser::new(&app, "10.5.0.4");
    b.register("new@harbour.example").await;
    app.run_pending_tasks();
    assert_eq!(
        app.scalar("SELECT count(*) FROM sessions WHERE id > ?1", 0)
            .await,
        1
    );
    app.clock.advance(31 * DAY);
    app.run_pending_tasks();
    assert_eq!(
        app.scalar("SELECT count(*) FROM sessions WHERE id > ?1", 0)
            .await,
        0
    );
    assert_eq!(
        app.scalar("SELECT count(*) FROM user_tokens WHERE id > ?1", 0)
            .await,
        0
    );
}

#[tokio::test]
async fn a_task_that_keeps_failing_is_shown_to_admins_and_can_be_retried() {
    let app = TestApp::new();
    app.create_user("admin@board.example", true).await;
    let now = app.clock.unix();
    let id = app
        .state
        .db
        .write(move |tx| {
            Ok(
                jobboard::tasks::queue::enqueue(tx, "no_such_kind", &json!({}), now, None, now)?
                    .expect("queued"),
            )
        })
        .await
        .expect("enqueue");
    for _ in 0..jobboard::tasks::queue::MAX_ATTEMPTS {
        app.run_pending_tasks();
        app.clock.advance(6 * 3600);
    }
    assert_eq!(
        app.scalar("SELECT state = 'failed' FROM tasks WHERE id = ?1", id)
            .await,
        1
    );
    let admin = Browser::new(&app, "10.5.0.5");
    assert_eq!(admin.login("admin@board.example").await.status, 303);
    let page = admin.get("/admin").await;
    assert!(page.body.contains(&format!("no_such_kind #{id}")), "listed");
    assert!(
        page.body.contains("no handler for tasks of kind"),
        "with its error"
    );
    let retried = admin.post(&format!("/admin/tasks/{id}/retry"), &[]).await;
    assert_eq!(retried.status, 303);
    assert_eq!(
        app.scalar(
            "SELECT state = 'queued' AND attempts = 0 FROM tasks WHERE id = ?1",
            id
        )
        .await,
        1
    );
    assert!(
        admin.get("/admin").await.body.contains("retry"),
        "in the audit log"
    );
}

/// `jobboard worker` on its own: delivers what another process queued, and
/// stops cleanly on SIGTERM.
#[test]
fn the_worker_command_delivers_queued_mail_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    {
        let config = jobboard::config::Config::for_data_dir(&data);
        let state = jobboard::open(config, std::sync::Arc::new(jobboard::clock::SystemClock))
            .expect("open");
        let st = state.clone();
        let now = state.now();
        state
            .db
            .write_blocking(move |tx| {
                let email = jobboard::mail::Email {
                    to: "someone@example.com",
                    subject: "Queued elsewhere",
                    template: "job_review",
                    context: minijinja::context! { title => "T", company => "C", link => "https://x" },
                };
                st.mailer.queue(tx, &st.templates, &email, now)
            })
            .expect("queued");
        state.db.close();
    }
    let outbox = data.join("outbox");
    assert!(!outbox.exists() || std::fs::read_dir(&outbox).expect("dir").count() == 0);
    let mut child = crate::common::bin()
        .args(["--data-dir", data.to_str().expect("utf-8"), "worker"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn worker");
    let start = std::time::Instant::now();
    let delivered = loop {
        let n = std::fs::read_dir(&outbox).map(|d| d.count()).unwrap_or(0);
        if n > 0 || start.elapsed() > std::time::Duration::from_secs(10) {
            break n;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait");
    assert_eq!(delivered, 1);
    assert!(status.success(), "{status}");
}

/// Two workers (two processes' worth of connections on one database) share
/// the queue: every task runs exactly once.
#[test]
fn two_workers_never_run_one_task_twice() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let open = || {
        let config = jobboard::config::Config::for_data_dir(&data);
        jobboard::open(config, std::sync::Arc::new(jobboard::clock::SystemClock)).expect("open")
    };
    let (a, b) = (open(), open());
    let now = a.now();
    let payload = json!({"to": "x@example.com", "subject": "S", "eml": "Subject: S\r\n\r\nbody"});
    a.db.write_blocking(move |tx| {
        for _ in 0..300 {
            jobboard::tasks::queue::enqueue(tx, "mail", &payload, now, None, now)?;
        }
        Ok(())
    })
    .expect("queued");
    let ran: usize = std::thread::scope(|s| {
        let one = s.spawn(|| jobboard::tasks::run_due(&a, "worker-a").expect("a runs"));
        let two = s.spawn(|| jobboard::tasks::run_due(&b, "worker-b").expect("b runs"));
        one.join().expect("a") + two.join().expect("b")
    });
    // The schedules' first rounds ran too; count the mail.
    let (mails, attempts): (i64, i64) =
        a.db.read_blocking(|c| {
            Ok(c.query_row(
                "SELECT count(*), sum(attempts) FROM tasks WHERE kind = 'mail' AND state = 'done'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .expect("counts");
    assert_eq!(
        (mails, attempts),
        (300, 300),
        "each ran once ({ran} tasks ran)"
    );
    let files = std::fs::read_dir(data.join("outbox"))
        .expect("outbox")
        .count();
    assert_eq!(files, 300);
    a.db.close();
    b.db.close();
}

/// `jobboard worker` without `serve` reads the index `serve` (here,
/// `reindex`) keeps, so job alerts go out from a split deployment too.
#[test]
fn the_worker_command_alone_sends_job_alerts() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8");
    let run = |args: &[&str]| crate::common::run(dir.path(), args, &[], None);
    assert!(
        run(&["--data-dir", data_arg, "demo", "--jobs", "5"])
            .status
            .success()
    );
    assert!(run(&["--data-dir", data_arg, "reindex"]).status.success());
    {
        let config = jobboard::config::Config::for_data_dir(&data);
        let state = jobboard::open(config, std::sync::Arc::new(jobboard::clock::SystemClock))
            .expect("open");
        state
            .db
            .write_blocking(|tx| {
                Ok(tx.execute(
                    "INSERT INTO alerts (email, query, frequency, created_at, confirmed_at, since) \
                     VALUES ('split@example.com', '', 'instant', 0, 0, 0)",
                    [],
                )?)
            })
            .expect("alert");
        state.db.close();
    }
    let outbox = data.join("outbox");
    let mut child = crate::common::bin()
        .args(["--data-dir", data_arg, "worker"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn worker");
    let start = std::time::Instant::now();
    let mail = loop {
        let found = std::fs::read_dir(&outbox)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| {
                crate::common::mail::parse(&std::fs::read_to_string(e.path()).unwrap_or_default())
            })
            .find(|m| m.to == "split@example.com");
        if found.is_some() || start.elapsed() > std::time::Duration::from_secs(15) {
            break found;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait");
    let mail = mail.expect("an alert email from the worker alone");
    assert!(mail.subject.contains("new jobs"), "{}", mail.subject);
    assert!(status.success());
}
