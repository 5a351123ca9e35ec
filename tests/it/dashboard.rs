//! The employer dashboard through the real app: job actions for the owner
//! only (here), the company profile and logo upload, and API tokens.

mod company;
mod tokens;

use jobboard::clock::Clock;
use jobboard::jobs::model::{Job, Status};
use jobboard::jobs::owned;
use jobboard::jobs::store::{self, Placement};
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::common::browser::Browser;

const DAY: i64 = 86_400;

/// An employer with an account, signed in in their own browser.
async fn employer<'a>(app: &'a TestApp, email: &str, ip: &str) -> (i64, Browser<'a>) {
    let id = app.create_user(email, false).await;
    let b = Browser::new(app, ip);
    assert_eq!(b.login(email).await.status, 303, "{email} signs in");
    (id, b)
}

fn draft() -> Placement {
    Placement {
        status: Status::Draft,
        published_at: None,
        expires_at: None,
    }
}

/// A job of `owner` (fields override a complete job), placed as given.
async fn own_job(app: &TestApp, owner: i64, fields: Value, placement: Placement) -> i64 {
    let mut job = json!({
        "title": "Senior Rust Engineer",
        "company": {"name": "Harbour Lights", "website": "https://harbour.example"},
        "description": "## The role\n\nBuild **fast** things.",
        "category": "Software Development",
        "job_type": "full_time",
        "tags": ["rust"],
        "remote": ["europe"],
        "apply_url": "https://harbour.example/apply"
    });
    if let (Some(base), Some(extra)) = (job.as_object_mut(), fields.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    app.store_owned_job(owner, job, placement).await
}

/// A job live from now for the board's duration.
async fn live_job(app: &TestApp, owner: i64, title: &str) -> i64 {
    let placement = owned::published_now(&app.state.config, app.clock.unix());
    let id = own_job(app, owner, json!({"title": title}), placement).await;
    app.index();
    id
}

/// A job as stored (an error once deleted).
async fn stored(app: &TestApp, id: i64) -> Option<Job> {
    app.state.db.read(move |c| store::get(c, id)).await.ok()
}

/// The job form's fields, all valid.
fn job_form(title: &str) -> Vec<(&'static str, String)> {
    vec![
        ("title", title.to_string()),
        ("company_name", "Harbour Lights".into()),
        ("company_website", "https://harbour.example".into()),
        (
            "description",
            "## The role\r\n\r\nKeep the lights on.".into(),
        ),
        ("category", "software-development".into()),
        ("job_type", "full_time".into()),
        ("tags", "rust, ops".into()),
        ("remote", "europe".into()),
        ("salary_min", "".into()),
        ("salary_max", "".into()),
        ("salary_currency", "".into()),
        ("salary_period", "year".into()),
        ("apply_url", "https://harbour.example/apply".into()),
    ]
}

fn pairs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn the_owner_edits_a_live_job_and_search_finds_the_new_title() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.1").await;
    let id = live_job(&app, ana, "Lighthouse Keeper").await;
    let dash = b.get("/dashboard").await;
    assert_eq!(dash.status, 200);
    for action in ["edit", "fill", "duplicate", "delete"] {
        assert!(
            dash.body
                .contains(&format!("/dashboard/jobs/{id}/{action}")),
            "{action}: {}",
            dash.body
        );
    }
    // Far from expiry: no renewal offered.
    assert!(!dash.body.contains(&format!("/dashboard/jobs/{id}/renew")));
    let form = b.get(&format!("/dashboard/jobs/{id}/edit")).await;
    assert_eq!(form.status, 200);
    assert_eq!(
        form.input_value("title").as_deref(),
        Some("Lighthouse Keeper")
    );
    let saved = b
        .post(
            &format!("/dashboard/jobs/{id}/edit"),
            &pairs(&job_form("Foghorn Engineer")),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location(), Some("/dashboard?done=saved"));
    let job = stored(&app, id).await.expect("job");
    assert_eq!(job.status, Status::Published);
    assert!(job.is_live(app.clock.unix()));
    assert_eq!(job.title, "Foghorn Engineer");
    app.index();
    let found = b.get("/jobs?q=foghorn").await;
    assert!(found.body.contains("Foghorn Engineer"), "{}", found.body);
    assert!(!b.get("/jobs?q=lighthouse").await.body.contains("Foghorn"));
    assert!(
        b.get("/dashboard?done=saved")
            .await
            .body
            .contains("Your changes are saved.")
    );
}

#[tokio::test]
async fn a_refused_edit_answers_422_with_each_error_beside_its_field() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.2").await;
    let id = live_job(&app, ana, "Lighthouse Keeper").await;
    let mut fields = job_form("");
    for (name, value) in fields.iter_mut() {
        match *name {
            "description" => *value = "kept <typed> text".into(),
            "apply_url" => value.clear(),
            _ => {}
        }
    }
    let page = b
        .post(&format!("/dashboard/jobs/{id}/edit"), &pairs(&fields))
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("id=\"f-title-error\""), "{}", page.body);
    assert!(page.body.contains("id=\"f-apply_url-error\""));
    assert!(page.body.contains("kept &lt;typed&gt; text"));
    assert_eq!(
        page.input_value("company_name").as_deref(),
        Some("Harbour Lights")
    );
    assert_eq!(
        stored(&app, id).await.expect("job").title,
        "Lighthouse Keeper"
    );
}

#[tokio::test]
async fn a_filled_job_keeps_its_page_as_no_longer_open() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.3").await;
    let id = live_job(&app, ana, "Lighthouse Keeper").await;
    let done = b.post(&format!("/dashboard/jobs/{id}/fill"), &[]).await;
    assert_eq!(done.location(), Some("/dashboard?done=filled"));
    assert_eq!(stored(&app, id).await.expect("job").status, Status::Filled);
    app.index();
    let page = b.get(&format!("/jobs/{id}-lighthouse-keeper")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("no longer open"));
    assert!(!page.body.contains("Apply for this job"));
    // Filling twice, or a draft, is refused.
    assert_eq!(
        b.post(&format!("/dashboard/jobs/{id}/fill"), &[])
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn an_expired_job_is_renewed_for_another_term() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.4").await;
    let id = live_job(&app, ana, "Lighthouse Keeper").await;
    // Too early: refused, unchanged.
    let early = b.post(&format!("/dashboard/jobs/{id}/renew"), &[]).await;
    assert_eq!(early.status, 400);
    let before = stored(&app, id).await.expect("job").expires_at;
    app.clock.advance(31 * DAY);
    let now = app.clock.unix();
    app.state
        .db
        .write(move |tx| {
            let job = store::get(tx, id)?;
            let expired = Placement {
                status: Status::Expired,
                published_at: job.published_at,
                expires_at: job.expires_at,
            };
            store::set_placement(tx, id, expired, now)
        })
        .await
        .expect("expired");
    // Sessions last 30 days: sign in again.
    assert_eq!(b.login("ana@harbour.example").await.status, 303);
    let dash = b.get("/dashboard").await;
    assert!(dash.body.contains(&format!("/dashboard/jobs/{id}/renew")));
    let done = b.post(&format!("/dashboard/jobs/{id}/renew"), &[]).await;
    assert_eq!(done.location(), Some("/dashboard?done=renewed"));
    let job = stored(&app, id).await.expect("job");
    assert_eq!(job.status, Status::Published);
    assert_eq!(job.expires_at, Some(now + 30 * DAY));
    assert_ne!(job.expires_at, before);
    app.index();
    let page = b.get(&format!("/jobs/{id}-lighthouse-keeper")).await;
    assert!(page.body.contains("Apply for this job"));
    assert!(
        b.get("/jobs?q=lighthouse")
            .await
            .body
            .contains("Lighthouse Keeper")
    );
}

#[tokio::test]
async fn a_live_job_expiring_within_a_week_renews_from_its_expiry() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.5").await;
    let id = live_job(&app, ana, "Lighthouse Keeper").await;
    let expires = stored(&app, id)
        .await
        .expect("job")
        .expires_at
        .expect("expiry");
    app.clock.advance(25 * DAY);
    let done = b.post(&format!("/dashboard/jobs/{id}/renew"), &[]).await;
    assert_eq!(done.status, 303);
    assert_eq!(
        stored(&app, id).await.expect("job").expires_at,
        Some(expires + 30 * DAY)
    );
}

#[tokio::test]
async fn a_copy_is_a_draft_that_can_be_submitted() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.6").await;
    let id = live_job(&app, ana, "Lighthouse Keeper").await;
    let done = b
        .post(&format!("/dashboard/jobs/{id}/duplicate"), &[])
        .await;
    assert_eq!(done.status, 303);
    let location = done.location().expect("location").to_string();
    let copy: i64 = location
        .trim_start_matches("/dashboard/jobs/")
        .split('/')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("the copy's id");
    assert_ne!(copy, id);
    assert_eq!(location, format!("/dashboard/jobs/{copy}/edit?done=copied"));
    let job = stored(&app, copy).await.expect("copy");
    assert_eq!((job.status, job.owner_id), (Status::Draft, Some(ana)));
    assert_eq!(job.title, "Lighthouse Keeper");
    let edit = b.get(&location).await;
    assert!(edit.body.contains("This is a copy"), "{}", edit.body);
    assert!(edit.body.contains("Save and submit"));
    let dash = b.get("/dashboard").await;
    assert!(
        dash.body
            .contains(&format!("/dashboard/jobs/{copy}/submit"))
    );
    let submitted = b.post(&format!("/dashboard/jobs/{copy}/submit"), &[]).await;
    assert_eq!(submitted.location(), Some("/dashboard?done=live"));
    assert!(
        stored(&app, copy)
            .await
            .expect("copy")
            .is_live(app.clock.unix())
    );
}

#[tokio::test]
async fn a_draft_saved_with_submit_waits_for_review_when_approval_is_required() {
    let app = TestApp::with_env(&[("JOBBOARD_POSTING_REQUIRE_APPROVAL", "true")]);
    app.create_user("admin@board.example", true).await;
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.7").await;
    let id = own_job(&app, ana, json!({}), draft()).await;
    let mut fields = job_form("Tide Watcher");
    fields.push(("then", "submit".into()));
    let done = b
        .post(&format!("/dashboard/jobs/{id}/edit"), &pairs(&fields))
        .await;
    assert_eq!(done.location(), Some("/dashboard?done=pending"));
    let job = stored(&app, id).await.expect("job");
    assert_eq!(
        (job.status, job.title.as_str()),
        (Status::PendingReview, "Tide Watcher")
    );
    let mails = app.emails();
    assert!(
        mails
            .iter()
            .any(|m| m.to == "admin@board.example" && m.subject.contains("Tide Watcher")),
        "{mails:?}"
    );
}

#[tokio::test]
async fn an_edited_rejected_job_goes_back_to_review() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.8").await;
    let id = live_job(&app, ana, "Lighthouse Keeper").await;
    app.state
        .db
        .write(move |tx| {
            Ok(tx.execute(
                "UPDATE jobs SET status = 'rejected', rejection_reason = 'No salary range given' \
                 WHERE id = ?1",
                [id],
            )?)
        })
        .await
        .expect("rejected");
    let listed = b.get("/dashboard").await;
    assert!(
        listed.body.contains("Reason: No salary range given"),
        "the owner sees why"
    );
    let done = b
        .post(
            &format!("/dashboard/jobs/{id}/edit"),
            &pairs(&job_form("Lighthouse Keeper")),
        )
        .await;
    assert_eq!(done.location(), Some("/dashboard?done=review"));
    assert_eq!(
        stored(&app, id).await.expect("job").status,
        Status::PendingReview
    );
}

#[tokio::test]
async fn delete_asks_first_then_the_job_is_gone() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.9").await;
    let id = live_job(&app, ana, "Lighthouse Keeper").await;
    let confirm = b.get(&format!("/dashboard/jobs/{id}/delete")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Delete this job"));
    assert!(
        confirm
            .body
            .contains(&format!("action=\"/dashboard/jobs/{id}/delete\""))
    );
    assert!(stored(&app, id).await.is_some(), "asking deletes nothing");
    let done = b.post(&format!("/dashboard/jobs/{id}/delete"), &[]).await;
    assert_eq!(done.location(), Some("/dashboard?done=deleted"));
    assert!(stored(&app, id).await.is_none());
    app.index();
    assert_eq!(
        b.get(&format!("/jobs/{id}-lighthouse-keeper")).await.status,
        404
    );
    assert!(!b.get("/dashboard").await.body.contains("Lighthouse Keeper"));
    assert!(
        !b.get("/jobs?q=lighthouse")
            .await
            .body
            .contains("Lighthouse Keeper")
    );
}

#[tokio::test]
async fn another_employer_gets_404_for_every_action_and_nothing_changes() {
    let app = TestApp::new();
    let (ana, _a) = employer(&app, "ana@harbour.example", "10.8.0.10").await;
    let (_bob, b) = employer(&app, "bob@elsewhere.example", "10.8.0.11").await;
    let id = live_job(&app, ana, "Lighthouse Keeper").await;
    let d = own_job(&app, ana, json!({"title": "Draft Keeper"}), draft()).await;
    let jobs_before = app
        .scalar("SELECT count(*) FROM jobs WHERE id > ?1", 0)
        .await;
    let before = stored(&app, id).await.expect("job");
    app.clock.advance(25 * DAY); // renewable by its owner now
    for job in [id, d] {
        for path in ["edit", "delete"] {
            let page = b.get(&format!("/dashboard/jobs/{job}/{path}")).await;
            assert_eq!(page.status, 404, "GET {path}");
        }
        for action in ["fill", "renew", "duplicate", "submit", "delete"] {
            let page = b
                .post(&format!("/dashboard/jobs/{job}/{action}"), &[])
                .await;
            assert_eq!(page.status, 404, "POST {action} on {job}");
        }
        let page = b
            .post(
                &format!("/dashboard/jobs/{job}/edit"),
                &pairs(&job_form("Taken Over")),
            )
            .await;
        assert_eq!(page.status, 404, "POST edit");
    }
    assert_eq!(b.get("/dashboard/jobs/nope/edit").await.status, 404);
    assert_eq!(
        app.scalar("SELECT count(*) FROM jobs WHERE id > ?1", 0)
            .await,
        jobs_before
    );
    let after = stored(&app, id).await.expect("job");
    assert_eq!(
        (
            after.status,
            after.title.as_str(),
            after.expires_at,
            after.updated_at
        ),
        (
            before.status,
            before.title.as_str(),
            before.expires_at,
            before.updated_at
        )
    );
    assert_eq!(stored(&app, d).await.expect("draft").status, Status::Draft);
    assert!(!b.get("/dashboard").await.body.contains("Keeper"));
}

#[tokio::test]
async fn actions_without_a_token_or_a_session_are_refused() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.12").await;
    let id = live_job(&app, ana, "Lighthouse Keeper").await;
    let forged = b
        .post_raw(&format!("/dashboard/jobs/{id}/delete"), &[])
        .await;
    assert_eq!(forged.status, 403);
    let visitor = Browser::new(&app, "10.8.0.13");
    let page = visitor
        .post(&format!("/dashboard/jobs/{id}/fill"), &[])
        .await;
    assert_eq!(page.status, 303);
    assert!(page.location().is_some_and(|l| l.starts_with("/login")));
    assert_eq!(
        stored(&app, id).await.expect("job").status,
        Status::Published
    );
}

#[tokio::test]
async fn with_approval_required_an_edit_of_a_live_job_is_reviewed_again() {
    let app = TestApp::with_env(&[("JOBBOARD_POSTING_REQUIRE_APPROVAL", "true")]);
    app.create_user("admin@board.example", true).await;
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.40").await;
    let id = live_job(&app, ana, "Lighthouse Keeper").await;
    let done = b
        .post(
            &format!("/dashboard/jobs/{id}/edit"),
            &pairs(&job_form("Lighthouse Keeper, now with spam")),
        )
        .await;
    assert_eq!(done.location(), Some("/dashboard?done=review"));
    assert_eq!(
        stored(&app, id).await.expect("job").status,
        Status::PendingReview
    );
    app.index();
    assert_eq!(
        b.get(&format!("/jobs/{id}")).await.status,
        404,
        "off the board"
    );
    assert!(
        app.emails()
            .iter()
            .any(|m| m.to == "admin@board.example" && m.subject.contains("now with spam")),
        "admins are told"
    );
}
