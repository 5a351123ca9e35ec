//! The admin area: moderation and the actions on jobs here; `admin create`,
//! users, and access (roles, CSRF, the audit log) in the files beside.

mod access;
mod cli;
mod users;

use jobboard::clock::Clock;
use jobboard::jobs::model::Status;
use jobboard::jobs::store::Placement;
use serde_json::json;

use crate::common::TestApp;
use crate::common::browser::Browser;

const ADMIN: &str = "admin@board.example";
const EMPLOYER: &str = "hr@tidewater.example";

/// Stores a job for `owner` (as `/post` would) with `placement`; its id.
async fn owned_job(app: &TestApp, owner: i64, title: &str, placement: Placement) -> i64 {
    let job = json!({
        "title": title,
        "company": {"name": "Tidewater Labs", "website": "https://tidewater.example"},
        "description": "Measure the **tides**.",
        "category": "Data",
        "job_type": "full_time",
        "tags": ["python"],
        "remote": ["worldwide"],
        "apply_url": "https://tidewater.example/apply"
    });
    app.store_owned_job(owner, job, placement).await
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

/// Each table's frame (it scrolls sideways on a phone) is a region named by
/// the table's caption and reachable with the keyboard, so a keyboard alone
/// can scroll it (axe: scrollable-region-focusable).
fn assert_table_frames_are_regions(page: &str, body: &str) {
    let frames: Vec<&str> = body
        .match_indices("<div class=\"table-wrap\"")
        .map(|(at, _)| &body[at..at + body[at..].find('>').expect("tag end")])
        .collect();
    assert!(!frames.is_empty(), "{page} has a table");
    for frame in frames {
        assert!(frame.contains(" role=\"region\""), "{page}: {frame}");
        assert!(frame.contains(" tabindex=\"0\""), "{page}: {frame}");
        let name = frame
            .split(" aria-labelledby=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{page}: {frame} has no name"));
        let caption = format!("<caption class=\"visually-hidden\" id=\"{name}\">");
        assert_eq!(body.matches(&caption).count(), 1, "{page}: {caption}");
    }
}

#[tokio::test]
async fn admin_and_dashboard_tables_scroll_with_the_keyboard() {
    let app = TestApp::with_env(&[("JOBBOARD_POSTING_REQUIRE_APPROVAL", "true")]);
    let b = admin_browser(&app).await;
    let owner = app.create_user(EMPLOYER, false).await;
    let id = owned_job(&app, owner, "Limnologist", pending()).await;
    let queued = b.get("/admin").await;
    assert!(queued.body.contains("Limnologist"), "in the queue");
    assert_table_frames_are_regions("/admin with a queue", &queued.body);
    let done = b
        .post(&format!("/admin/jobs/{id}/approve"), &[("back", "/admin")])
        .await;
    assert_eq!(done.status, 303);
    let audited = b.get("/admin").await;
    assert!(
        audited.body.contains("audit-entry"),
        "the approval is logged"
    );
    assert_table_frames_are_regions("/admin with an audit log", &audited.body);
    for page in ["/admin/jobs", "/admin/users"] {
        assert_table_frames_are_regions(page, &b.get(page).await.body);
    }

    let employer = Browser::new(&app, "10.9.0.2");
    assert_eq!(employer.login(EMPLOYER).await.status, 303);
    assert_table_frames_are_regions("/dashboard", &employer.get("/dashboard").await.body);
    let made = employer
        .post("/dashboard/tokens", &[("name", "careers sync")])
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert_table_frames_are_regions("/dashboard/tokens", &made.body);
}
