//! The admin area: `jobboard admin create`, moderation, job actions, users,
//! access, CSRF and the audit log.

use jobboard::clock::Clock;
use jobboard::jobs::input::JobInput;
use jobboard::jobs::model::Status;
use jobboard::jobs::store::Placement;
use serde_json::json;

use crate::common::browser::Browser;
use crate::common::{TestApp, run};

const ADMIN: &str = "admin@board.example";
const EMPLOYER: &str = "hr@tidewater.example";

/// Stores a job for `owner` (as `/post` would) with `placement`; its id.
async fn owned_job(app: &TestApp, owner: i64, title: &str, placement: Placement) -> i64 {
    let input: JobInput = serde_json::from_value(json!({
        "title": title,
        "company": {"name": "Tidewater Labs", "website": "https://tidewater.example"},
        "description": "Measure the **tides**.",
        "category": "Data",
        "job_type": "full_time",
        "tags": ["python"],
        "remote": ["worldwide"],
        "apply_url": "https://tidewater.example/apply"
    }))
    .expect("job shape");
    let job = input
        .validate(&app.state.config.site.categories)
        .expect("valid job");
    let config = app.state.config.clone();
    let now = app.clock.unix();
    app.state
        .db
        .write(move |tx| {
            let user = jobboard::accounts::store::by_id(tx, owner)?;
            jobboard::jobs::owned::create(tx, &config, &user, &job, placement, now)
        })
        .await
        .expect("stored")
}

fn pending() -> Placement {
    Placement {
        status: Status::PendingReview,
        published_at: None,
        expires_at: None,
    }
}

fn published(app: &TestApp) -> Placement {
    jobboard::jobs::owned::published_now(&app.state.config, app.clock.unix())
}

async fn status_of(app: &TestApp, id: i64) -> String {
    app.state
        .db
        .read(
            move |c| Ok(c.query_row("SELECT status FROM jobs WHERE id = ?1", [id], |r| r.get(0))?),
        )
        .await
        .expect("status")
}

/// An admin signed in, in a browser of their own.
async fn admin_browser(app: &TestApp) -> Browser<'_> {
    app.create_user(ADMIN, true).await;
    let b = Browser::new(app, "10.9.0.1");
    assert_eq!(b.login(ADMIN).await.status, 303);
    b
}

/// Whether the board, the search results and the API list show `title`.
async fn listed_publicly(app: &TestApp, b: &Browser<'_>, title: &str) -> bool {
    let q = title.split(' ').next().unwrap_or(title).to_lowercase();
    let home = b.get("/").await.body.contains(title);
    let search = b.get(&format!("/jobs?q={q}")).await.body.contains(title);
    let api = b
        .get(&format!("/api/v1/jobs?q={q}"))
        .await
        .body
        .contains(title);
    assert_eq!(home, search, "{title}: home and search agree");
    assert_eq!(search, api, "{title}: search and API agree");
    let _ = app;
    search
}

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

#[tokio::test]
async fn approving_from_the_queue_publishes_and_tells_the_owner() {
    let app = TestApp::with_env(&[("JOBBOARD_POSTING_REQUIRE_APPROVAL", "true")]);
    let b = admin_browser(&app).await;
    let owner = app.create_user(EMPLOYER, false).await;
    let id = owned_job(&app, owner, "Oceanographer", pending()).await;
    app.index();
    assert_eq!(
        b.get(&format!("/jobs/{id}-oceanographer")).await.status,
        404
    );

    let admin = b.get("/admin").await;
    assert_eq!(admin.status, 200);
    assert_eq!(admin.header("cache-control"), Some("no-store"));
    assert!(admin.body.contains("Oceanographer"), "in the queue");
    assert!(admin.body.contains(&format!("/admin/jobs/{id}/approve")));

    let done = b
        .post(&format!("/admin/jobs/{id}/approve"), &[("back", "/admin")])
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location(), Some("/admin"));
    assert_eq!(status_of(&app, id).await, "published");
    app.index();
    assert_eq!(
        b.get(&format!("/jobs/{id}-oceanographer")).await.status,
        200
    );
    assert!(listed_publicly(&app, &b, "Oceanographer").await);
    let mail = app
        .emails()
        .into_iter()
        .find(|m| m.to == EMPLOYER)
        .expect("the owner is told");
    assert!(mail.subject.contains("live"), "{}", mail.subject);
    assert!(mail.text.contains(&format!("/jobs/{id}-oceanographer")));
    // Approving a published job again is refused.
    let again = b.post(&format!("/admin/jobs/{id}/approve"), &[]).await;
    assert_eq!(again.status, 400);
    let admin = b.get("/admin").await;
    assert!(admin.body.contains("No job waits for review"));
}

#[tokio::test]
async fn rejecting_needs_a_reason_and_mails_it_to_the_owner() {
    let app = TestApp::with_env(&[("JOBBOARD_POSTING_REQUIRE_APPROVAL", "true")]);
    let b = admin_browser(&app).await;
    let owner = app.create_user(EMPLOYER, false).await;
    let id = owned_job(&app, owner, "Hydrographer", pending()).await;

    let refused = b
        .post(&format!("/admin/jobs/{id}/reject"), &[("reason", "  ")])
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("Say why"), "{}", refused.body);
    assert_eq!(status_of(&app, id).await, "pending_review");

    let reason = "Please add a salary range & a clearer description.";
    let done = b
        .post(&format!("/admin/jobs/{id}/reject"), &[("reason", reason)])
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(status_of(&app, id).await, "rejected");
    let stored: String = app
        .state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT rejection_reason FROM jobs WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?)
        })
        .await
        .expect("reason");
    assert_eq!(stored, reason);
    app.index();
    assert_eq!(b.get(&format!("/jobs/{id}-hydrographer")).await.status, 404);
    assert!(!listed_publicly(&app, &b, "Hydrographer").await);
    let mail = app
        .emails()
        .into_iter()
        .find(|m| m.to == EMPLOYER)
        .expect("the owner is told");
    assert!(mail.subject.contains("Hydrographer"), "{}", mail.subject);
    assert!(mail.text.contains(reason), "{}", mail.text);
    assert!(
        mail.html
            .contains("Please add a salary range &amp; a clearer")
    );
    let page = b.get(&format!("/admin/jobs/{id}")).await;
    assert!(page.body.contains("Rejected because"));
    assert!(
        page.body
            .contains("Please add a salary range &amp; a clearer")
    );
}

#[tokio::test]
async fn feature_unfeature_expire_and_delete_show_publicly() {
    let app = TestApp::new();
    let b = admin_browser(&app).await;
    let older = app.add_job(json!({"title": "Tide Analyst"})).await;
    app.clock.advance(60);
    let newer = app.add_job(json!({"title": "Wave Modeller"})).await;
    let first_on_board = |body: &str| {
        let a = body.find("Tide Analyst").unwrap_or(usize::MAX);
        let w = body.find("Wave Modeller").unwrap_or(usize::MAX);
        if a < w {
            "Tide Analyst"
        } else {
            "Wave Modeller"
        }
    };
    assert_eq!(first_on_board(&b.get("/").await.body), "Wave Modeller");

    let back = "/admin/jobs?q=tide";
    let done = b
        .post(&format!("/admin/jobs/{older}/feature"), &[("back", back)])
        .await;
    assert_eq!(done.location(), Some(back));
    app.index();
    let home = b.get("/").await.body;
    assert_eq!(first_on_board(&home), "Tide Analyst", "featured first");
    let api = b.get(&format!("/api/v1/jobs/{older}")).await.body;
    assert!(api.contains("\"featured\":true"), "{api}");

    b.post(&format!("/admin/jobs/{older}/unfeature"), &[]).await;
    app.index();
    assert_eq!(first_on_board(&b.get("/").await.body), "Wave Modeller");
    let api = b.get(&format!("/api/v1/jobs/{older}")).await.body;
    assert!(api.contains("\"featured\":false"), "{api}");

    let done = b.post(&format!("/admin/jobs/{newer}/expire"), &[]).await;
    assert_eq!(done.status, 303);
    assert_eq!(status_of(&app, newer).await, "expired");
    app.index();
    assert!(!listed_publicly(&app, &b, "Wave Modeller").await);
    let page = b.get(&format!("/jobs/{newer}-wave-modeller")).await;
    assert_eq!(page.status, 200, "an expired job's page stays");
    assert!(page.body.contains("noindex"));

    let done = b
        .post(
            &format!("/admin/jobs/{older}/delete"),
            &[("back", &format!("/admin/jobs/{older}"))],
        )
        .await;
    assert_eq!(
        done.location(),
        Some("/admin/jobs"),
        "not the deleted job's page"
    );
    app.index();
    assert_eq!(
        b.get(&format!("/jobs/{older}-tide-analyst")).await.status,
        404
    );
    assert!(!listed_publicly(&app, &b, "Tide Analyst").await);
    assert_eq!(b.get(&format!("/admin/jobs/{older}")).await.status, 404);
    let list = b.get("/admin/jobs").await;
    assert!(!list.body.contains("Tide Analyst"));
    assert!(list.body.contains("Wave Modeller"));

    // Unknown actions and jobs are not found.
    assert_eq!(
        b.post(&format!("/admin/jobs/{newer}/promote"), &[])
            .await
            .status,
        404
    );
    assert_eq!(b.post("/admin/jobs/9999/feature", &[]).await.status, 404);
}

#[tokio::test]
async fn the_job_list_filters_and_pages() {
    let app = TestApp::new();
    let b = admin_browser(&app).await;
    let owner = app.create_user(EMPLOYER, false).await;
    for n in 0..55 {
        app.add_job_unindexed(json!({"title": format!("Imported Role {n}")}))
            .await;
    }
    owned_job(&app, owner, "Oceanographer", pending()).await;
    let all = b.get("/admin/jobs").await;
    assert_eq!(all.status, 200);
    assert!(all.body.contains("56 jobs"), "{}", all.body);
    assert!(all.body.contains("Page 1 of 2"));
    assert!(all.body.contains("/admin/jobs?page=2"));
    let second = b.get("/admin/jobs?page=2").await;
    assert!(second.body.contains("Imported Role 0<"));

    let by_status = b.get("/admin/jobs?status=pending_review").await;
    assert!(
        by_status.body.contains("1 job matches"),
        "{}",
        by_status.body
    );
    assert!(by_status.body.contains("Oceanographer"));
    let by_owner = b.get("/admin/jobs?owner=tidewater").await;
    assert!(by_owner.body.contains("Oceanographer"));
    assert!(!by_owner.body.contains("Imported Role"));
    let by_text = b.get("/admin/jobs?q=role+5").await;
    assert!(by_text.body.contains("Imported Role 5<"));
    assert!(by_text.body.contains("Imported Role 54<"));
    assert!(!by_text.body.contains("Imported Role 4<"));
    let by_company = b.get("/admin/jobs?q=ACME").await;
    assert!(
        by_company.body.contains("55 jobs match"),
        "{}",
        by_company.body
    );
}

#[tokio::test]
async fn disabling_a_user_hides_their_jobs_and_ends_their_session() {
    let app = TestApp::new();
    let b = admin_browser(&app).await;
    let owner = app.create_user(EMPLOYER, false).await;
    let id = owned_job(&app, owner, "Oceanographer", published(&app)).await;
    let employer = Browser::new(&app, "10.9.2.2");
    assert_eq!(employer.login(EMPLOYER).await.status, 303);
    assert_eq!(employer.get("/dashboard").await.status, 200);
    app.index();
    let visitor = Browser::new(&app, "10.9.2.3");
    assert!(listed_publicly(&app, &visitor, "Oceanographer").await);

    let users = b.get("/admin/users").await;
    assert_eq!(users.status, 200);
    assert!(users.body.contains(EMPLOYER));
    assert!(users.body.contains("You cannot disable your own account"));
    let done = b.post(&format!("/admin/users/{owner}/disable"), &[]).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location(), Some("/admin/users"));
    app.index();
    assert!(!listed_publicly(&app, &visitor, "Oceanographer").await);
    assert_eq!(
        visitor
            .get(&format!("/jobs/{id}-oceanographer"))
            .await
            .status,
        404
    );
    assert_eq!(visitor.get(&format!("/api/v1/jobs/{id}")).await.status, 404);
    assert_eq!(
        employer.get("/dashboard").await.status,
        303,
        "their session ended"
    );
    let refused = employer.login(EMPLOYER).await;
    assert_eq!(refused.status, 422, "a disabled account cannot sign in");
    assert!(refused.body.contains("disabled"));
    let list = b.get("/admin/jobs").await;
    assert!(
        list.body.contains("hidden: owner disabled"),
        "{}",
        list.body
    );

    b.post(&format!("/admin/users/{owner}/enable"), &[]).await;
    app.index();
    assert!(listed_publicly(&app, &visitor, "Oceanographer").await);
    assert_eq!(
        visitor
            .get(&format!("/jobs/{id}-oceanographer"))
            .await
            .status,
        200
    );
    assert_eq!(visitor.get(&format!("/api/v1/jobs/{id}")).await.status, 200);
    assert_eq!(employer.login(EMPLOYER).await.status, 303);
}

#[tokio::test]
async fn an_admin_cannot_disable_themself() {
    let app = TestApp::new();
    let b = admin_browser(&app).await;
    let me = app.scalar("SELECT id FROM users WHERE id = ?1", 1).await;
    let page = b.post(&format!("/admin/users/{me}/disable"), &[]).await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("your own account"));
    assert_eq!(b.get("/admin").await.status, 200, "still signed in");
    assert_eq!(
        b.post("/admin/users/1/suspend", &[]).await.status,
        404,
        "unknown action"
    );
}

#[tokio::test]
async fn employers_get_403_and_visitors_sign_in_first() {
    let app = TestApp::new();
    let job = app.add_job(json!({})).await;
    let owner = app.create_user("other@board.example", false).await;
    let employer = Browser::new(&app, "10.9.3.1");
    employer.register(EMPLOYER).await;
    let pages = [
        "/admin".to_string(),
        "/admin/jobs".to_string(),
        format!("/admin/jobs/{job}"),
        format!("/admin/jobs/{job}/edit"),
        "/admin/users".to_string(),
    ];
    let posts = [
        format!("/admin/jobs/{job}/approve"),
        format!("/admin/jobs/{job}/reject"),
        format!("/admin/jobs/{job}/feature"),
        format!("/admin/jobs/{job}/unfeature"),
        format!("/admin/jobs/{job}/expire"),
        format!("/admin/jobs/{job}/delete"),
        format!("/admin/jobs/{job}/edit"),
        format!("/admin/users/{owner}/disable"),
        format!("/admin/users/{owner}/enable"),
    ];
    for path in &pages {
        assert_eq!(employer.get(path).await.status, 403, "GET {path}");
    }
    for path in &posts {
        let page = employer.post(path, &[("reason", "no")]).await;
        assert_eq!(page.status, 403, "POST {path}");
    }
    let visitor = Browser::new(&app, "10.9.3.2");
    for path in &pages {
        let page = visitor.get(path).await;
        assert_eq!(page.status, 303, "GET {path}");
        let location = page.location().expect("location");
        assert!(location.starts_with("/login?next="), "{location}");
    }
    let page = visitor.get("/admin/jobs?status=published").await;
    assert_eq!(
        page.location(),
        Some("/login?next=%2Fadmin%2Fjobs%3Fstatus%3Dpublished")
    );
    for path in &posts {
        let page = visitor.post(path, &[("reason", "no")]).await;
        assert_eq!(page.status, 303, "POST {path}");
    }
    assert_eq!(status_of(&app, job).await, "published");
    assert_eq!(
        app.scalar("SELECT count(*) FROM audit_log WHERE id > ?1", 0)
            .await,
        0
    );
}

#[tokio::test]
async fn a_post_without_a_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::new();
    let b = admin_browser(&app).await;
    let job = app.add_job(json!({})).await;
    let owner = app.create_user(EMPLOYER, false).await;
    for path in [
        format!("/admin/jobs/{job}/feature"),
        format!("/admin/jobs/{job}/delete"),
        format!("/admin/jobs/{job}/reject"),
        format!("/admin/users/{owner}/disable"),
    ] {
        let page = b.post_raw(&path, &[("reason", "forged")]).await;
        assert_eq!(page.status, 403, "{path}");
        let wrong = b
            .post_raw(&path, &[("csrf_token", "00"), ("reason", "forged")])
            .await;
        assert_eq!(wrong.status, 403, "{path}");
    }
    assert_eq!(status_of(&app, job).await, "published");
    assert_eq!(
        app.scalar("SELECT featured FROM jobs WHERE id = ?1", job)
            .await,
        0
    );
    assert_eq!(
        app.scalar("SELECT disabled_at IS NULL FROM users WHERE id = ?1", owner)
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT count(*) FROM audit_log WHERE id > ?1", 0)
            .await,
        0
    );
}

#[tokio::test]
async fn every_action_is_in_the_audit_log() {
    let app = TestApp::with_env(&[("JOBBOARD_POSTING_REQUIRE_APPROVAL", "true")]);
    let b = admin_browser(&app).await;
    let owner = app.create_user(EMPLOYER, false).await;
    let a = owned_job(&app, owner, "Oceanographer", pending()).await;
    let r = owned_job(&app, owner, "Hydrographer", pending()).await;
    b.post(&format!("/admin/jobs/{a}/approve"), &[]).await;
    b.post(
        &format!("/admin/jobs/{r}/reject"),
        &[("reason", "Too vague")],
    )
    .await;
    b.post(&format!("/admin/jobs/{a}/feature"), &[]).await;
    b.post(&format!("/admin/jobs/{a}/unfeature"), &[]).await;
    let edit = b.get(&format!("/admin/jobs/{a}/edit")).await;
    let mut fields: Vec<(String, String)> = [
        "title",
        "company_name",
        "company_website",
        "description",
        "category",
        "job_type",
        "tags",
        "apply_url",
    ]
    .iter()
    .map(|n| (n.to_string(), edit.input_value(n).unwrap_or_default()))
    .collect();
    fields[0].1 = "Senior Oceanographer".into();
    fields[3].1 = "Measure the tides, carefully.".into();
    fields[4].1 = "data".into();
    fields[5].1 = "full_time".into();
    fields.push(("remote".into(), "worldwide".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let saved = b.post(&format!("/admin/jobs/{a}/edit"), &pairs).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    b.post(&format!("/admin/jobs/{a}/expire"), &[]).await;
    b.post(&format!("/admin/jobs/{r}/delete"), &[]).await;
    b.post(&format!("/admin/users/{owner}/disable"), &[]).await;
    b.post(&format!("/admin/users/{owner}/enable"), &[]).await;

    let page = b.get("/admin").await;
    let log = &page.body[page.body.find("Audit log").expect("the audit log")..];
    let order = [
        "enable",
        "disable",
        "delete",
        "expire",
        "edit",
        "unfeature",
        "feature",
        "reject",
        "approve",
    ];
    let mut at = 0;
    for action in order {
        let needle = format!("<th scope=\"row\">{action}</th>");
        let found = log[at..]
            .find(&needle)
            .unwrap_or_else(|| panic!("{action} in the log, newest first: {log}"));
        at += found + needle.len();
    }
    assert!(log.contains(ADMIN), "who did it");
    assert!(log.contains("Too vague"), "the reason is logged");
    assert!(
        log.contains(&format!("/admin/jobs/{a}")),
        "links to the job"
    );
    assert_eq!(
        app.scalar("SELECT count(*) FROM audit_log WHERE actor_id = ?1", 1)
            .await,
        9
    );
}

#[tokio::test]
async fn an_admin_edit_keeps_owner_and_refuses_bad_input_with_422() {
    let app = TestApp::new();
    let b = admin_browser(&app).await;
    let owner = app.create_user(EMPLOYER, false).await;
    let id = owned_job(&app, owner, "Oceanographer", published(&app)).await;
    let form = b.get(&format!("/admin/jobs/{id}/edit")).await;
    assert_eq!(form.status, 200);
    assert_eq!(form.input_value("title").as_deref(), Some("Oceanographer"));
    assert_eq!(
        form.input_value("company_name").as_deref(),
        Some("Tidewater Labs")
    );

    let refused = b
        .post(
            &format!("/admin/jobs/{id}/edit"),
            &[
                ("title", "Tide <Gauge> Keeper"),
                ("company_name", "Tidewater Labs"),
                ("description", "Keep the gauges."),
                ("category", "data"),
                ("job_type", "full_time"),
                ("remote", "europe"),
                ("apply_url", "not a url"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.header("cache-control"), Some("no-store"));
    assert_eq!(
        refused.input_value("title").as_deref(),
        Some("Tide &lt;Gauge&gt; Keeper"),
        "what was typed stays"
    );
    assert!(
        refused.body.contains("f-apply_url-error"),
        "the error is beside the field"
    );
    assert!(refused.body.contains("value=\"europe\" checked"));
    assert_eq!(status_of(&app, id).await, "published");
    let title: String = app
        .state
        .db
        .read(move |c| Ok(c.query_row("SELECT title FROM jobs WHERE id = ?1", [id], |r| r.get(0))?))
        .await
        .expect("title");
    assert_eq!(title, "Oceanographer");

    let saved = b
        .post(
            &format!("/admin/jobs/{id}/edit"),
            &[
                ("title", "Tide Gauge Keeper"),
                ("company_name", "Tidewater Labs"),
                ("description", "Keep the gauges."),
                ("category", "data"),
                ("job_type", "contract"),
                ("remote", "europe"),
                ("apply_url", "https://tidewater.example/gauges"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert_eq!(saved.location(), Some(format!("/admin/jobs/{id}").as_str()));
    assert_eq!(
        app.scalar("SELECT owner_id FROM jobs WHERE id = ?1", id)
            .await,
        owner
    );
    assert_eq!(status_of(&app, id).await, "published");
    app.index();
    let page = b.get(&format!("/jobs/{id}-tide-gauge-keeper")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Tidewater Labs"));
    assert!(listed_publicly(&app, &b, "Tide Gauge Keeper").await);
    // The owner still sees it as theirs.
    let employer = Browser::new(&app, "10.9.4.2");
    employer.login(EMPLOYER).await;
    assert!(
        employer
            .get("/dashboard")
            .await
            .body
            .contains("Tide Gauge Keeper")
    );
}
