//! The posting flow through the HTML forms, as a new employer would use it.

use crate::common::TestApp;
use crate::common::browser::{Browser, PASSWORD, Page};

/// A complete job as the form sends it.
fn job_fields(title: &str) -> Vec<(&'static str, String)> {
    vec![
        ("title", title.to_string()),
        ("company_name", "Tidewater Labs".into()),
        ("company_website", "https://tidewater.example".into()),
        (
            "description",
            "## About\r\n\r\nWe build **tide** models.".into(),
        ),
        ("category", "data".into()),
        ("job_type", "full_time".into()),
        ("tags", "python, statistics".into()),
        ("remote", "europe".into()),
        ("remote", "africa".into()),
        ("salary_min", "60000".into()),
        ("salary_max", "80000".into()),
        ("salary_currency", "EUR".into()),
        ("salary_period", "year".into()),
        ("apply_url", "https://tidewater.example/jobs/1".into()),
    ]
}

fn with<'a>(
    fields: &'a [(&'static str, String)],
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut all: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    all
}

/// The hidden inputs of a page, as the browser would send them again.
fn hidden_fields(page: &Page) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in page.body.split("<input type=\"hidden\" ").skip(1) {
        let name = chunk
            .split("name=\"")
            .nth(1)
            .and_then(|r| r.split('"').next());
        let value = chunk
            .split("value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next());
        if let (Some(n), Some(v)) = (name, value) {
            let v = v
                .replace("&#x27;", "'")
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            out.push((n.to_string(), v));
        }
    }
    out
}

fn id_from(location: &str) -> i64 {
    location
        .trim_start_matches("/post/")
        .split('/')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("a job id in the location")
}

#[tokio::test]
async fn a_new_employer_posts_a_job_in_five_pages() {
    let app = TestApp::new();
    let b = Browser::new(&app, "10.7.0.1");
    // 1. The board links to the form.
    let home = b.get("/").await;
    assert!(home.body.contains("href=\"/post\""));
    // 2. The form.
    let form = b.get("/post").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Posting is free"));
    for name in [
        "title",
        "company_name",
        "company_website",
        "description",
        "category",
        "job_type",
        "tags",
        "remote",
        "salary_min",
        "salary_max",
        "salary_currency",
        "salary_period",
        "apply_url",
        "apply_email",
        "csrf_token",
    ] {
        assert!(
            form.body.contains(&format!("name=\"{name}\"")),
            "field {name}"
        );
    }
    assert!(
        form.body.contains("value=\"software-development\""),
        "categories offered"
    );
    assert!(
        form.body.contains("value=\"asia_pacific\""),
        "regions offered"
    );

    // An incomplete form comes back with messages and what was typed.
    let refused = b
        .post(
            "/post",
            &[("title", "Data Scientist"), ("salary_min", "lots")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("value=\"Data Scientist\""));
    assert!(refused.body.contains("id=\"f-company_name-error\""));
    assert!(refused.body.contains("id=\"f-salary_min-error\""));
    assert!(refused.body.contains("value=\"lots\""));

    // 3. A complete form asks who is posting, carrying the job along.
    let fields = job_fields("Data Scientist, Coastal Models");
    let account = b.post("/post", &with(&fields, &[])).await;
    assert_eq!(account.status, 200, "{}", account.body);
    assert!(account.body.contains("name=\"account\""));
    let carried = hidden_fields(&account);
    assert!(
        carried
            .iter()
            .any(|(k, v)| k == "title" && v == "Data Scientist, Coastal Models")
    );
    assert_eq!(carried.iter().filter(|(k, _)| k == "remote").count(), 2);

    // Sign up inline.
    let mut next: Vec<(&str, &str)> = carried
        .iter()
        .filter(|(k, _)| k != "csrf_token")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    next.extend_from_slice(&[
        ("account", "register"),
        ("email", "hiring@tidewater.example"),
        ("password", PASSWORD),
    ]);
    let created = b.post("/post", &next).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let location = created.location().expect("location").to_string();
    assert!(location.ends_with("/preview"), "{location}");
    assert!(b.cookie("jb_session").is_some(), "signed in");
    let id = id_from(&location);
    // Nothing is public yet.
    assert_eq!(
        app.get(&format!("/jobs/{id}")).await.0.status().as_u16(),
        404
    );

    // 4. The preview shows the card and the page.
    let preview = b.get(&location).await;
    assert_eq!(preview.status, 200);
    assert!(preview.body.contains("Data Scientist, Coastal Models"));
    assert!(preview.body.contains("<strong>tide</strong>"));
    assert!(
        preview.body.contains("€60,000"),
        "salary shown: {}",
        preview.body
    );
    assert!(preview.body.contains("Publish now"));

    // 5. Publish, then the confirmation.
    let published = b.post(&format!("/post/{id}/submit"), &[]).await;
    assert_eq!(published.status, 303);
    assert_eq!(
        published.location(),
        Some(format!("/post/{id}/done").as_str())
    );
    let done = b.get(&format!("/post/{id}/done")).await;
    assert!(done.body.contains("Your job is live"), "{}", done.body);
    let told = app.emails();
    assert!(
        told.iter().any(|m| m.to == "hiring@tidewater.example"
            && m.subject == "Your job is live: Data Scientist, Coastal Models"
            && m.text
                .contains(&format!("/jobs/{id}-data-scientist-coastal-models"))),
        "the owner is told it is live"
    );

    // Live on its page and in search.
    app.index();
    let page = b
        .get(&format!("/jobs/{id}-data-scientist-coastal-models"))
        .await;
    assert_eq!(page.status, 200);
    let found = b.get("/jobs?q=coastal").await;
    assert!(found.body.contains("Data Scientist, Coastal Models"));
    let company = b.get("/companies/tidewater-labs").await;
    assert_eq!(company.status, 200);
    // The employer sees it in their dashboard.
    let dash = b.get("/dashboard").await;
    assert!(dash.body.contains("Data Scientist, Coastal Models"));
    assert!(dash.body.contains("published"));
    // Submitting again changes nothing.
    let again = b.post(&format!("/post/{id}/submit"), &[]).await;
    assert_eq!(again.status, 303);
    assert_eq!(
        app.scalar(
            "SELECT count(*) FROM jobs WHERE owner_id IS NOT NULL AND id >= ?1",
            0
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_wrong_password_at_the_account_step_keeps_the_job() {
    let app = TestApp::new();
    app.create_user("owner@example.com", false).await;
    let b = Browser::new(&app, "10.7.0.2");
    let fields = job_fields("Platform Engineer");
    let wrong = b
        .post(
            "/post",
            &with(
                &fields,
                &[
                    ("account", "login"),
                    ("email", "owner@example.com"),
                    ("password", "not the password"),
                ],
            ),
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(
        hidden_fields(&wrong)
            .iter()
            .any(|(k, v)| k == "title" && v == "Platform Engineer")
    );
    assert!(wrong.body.contains("value=\"owner@example.com\""));
    let right = b
        .post(
            "/post",
            &with(
                &fields,
                &[
                    ("account", "login"),
                    ("email", "owner@example.com"),
                    ("password", PASSWORD),
                ],
            ),
        )
        .await;
    assert_eq!(right.status, 303);
    assert!(right.location().expect("location").ends_with("/preview"));
}

#[tokio::test]
async fn a_signed_in_employer_goes_straight_to_the_preview_and_can_edit() {
    let app = TestApp::new();
    let b = Browser::new(&app, "10.7.0.3");
    b.register("team@tidewater.example").await;
    let fields = job_fields("Analytics Engineer");
    let created = b.post("/post", &with(&fields, &[])).await;
    assert_eq!(created.status, 303);
    let id = id_from(created.location().expect("location"));
    let edit = b.get(&format!("/post/{id}/edit")).await;
    assert!(edit.body.contains("value=\"Analytics Engineer\""));
    assert!(edit.body.contains("value=\"europe\" checked"));
    let mut changed = job_fields("Senior Analytics Engineer");
    changed.retain(|(k, _)| *k != "apply_url");
    let refused = b
        .post(&format!("/post/{id}/edit"), &with(&changed, &[]))
        .await;
    assert_eq!(refused.status, 422, "an apply link or email is needed");
    assert!(refused.body.contains("value=\"Senior Analytics Engineer\""));
    let saved = b
        .post(
            &format!("/post/{id}/edit"),
            &with(&changed, &[("apply_email", "jobs@tidewater.example")]),
        )
        .await;
    assert_eq!(saved.status, 303);
    assert!(
        b.get(&format!("/post/{id}/preview"))
            .await
            .body
            .contains("Senior Analytics Engineer")
    );
    // The next form starts with their company.
    let form = b.get("/post").await;
    assert!(form.body.contains("value=\"Tidewater Labs\""));
    // Another employer cannot see or publish this draft.
    let other = Browser::new(&app, "10.7.0.4");
    other.register("someone@else.example").await;
    assert_eq!(other.get(&format!("/post/{id}/preview")).await.status, 404);
    assert_eq!(
        other.post(&format!("/post/{id}/submit"), &[]).await.status,
        404
    );
    assert_eq!(
        app.scalar("SELECT status = 'draft' FROM jobs WHERE id = ?1", id)
            .await,
        1
    );
}

#[tokio::test]
async fn with_approval_required_a_post_waits_for_review_and_admins_are_told() {
    let app = TestApp::with_env(&[("JOBBOARD_POSTING_REQUIRE_APPROVAL", "true")]);
    app.create_user("admin@board.example", true).await;
    let b = Browser::new(&app, "10.7.0.5");
    b.register("hr@tidewater.example").await;
    let created = b
        .post("/post", &with(&job_fields("Oceanographer"), &[]))
        .await;
    let id = id_from(created.location().expect("location"));
    assert!(
        b.get(&format!("/post/{id}/preview"))
            .await
            .body
            .contains("Submit for review")
    );
    b.post(&format!("/post/{id}/submit"), &[]).await;
    let done = b.get(&format!("/post/{id}/done")).await;
    assert!(done.body.contains("waits for review"), "{}", done.body);
    app.index();
    assert_eq!(
        b.get(&format!("/jobs/{id}-oceanographer")).await.status,
        404
    );
    assert!(
        !b.get("/jobs?q=oceanographer")
            .await
            .body
            .contains("Oceanographer</a>")
    );
    let mails = app.emails();
    let review = mails
        .iter()
        .find(|m| m.to == "admin@board.example")
        .expect("admins are mailed");
    assert!(review.subject.contains("Oceanographer"));
}

#[tokio::test]
async fn with_verified_email_required_the_job_appears_once_verified() {
    let app = TestApp::with_env(&[("JOBBOARD_POSTING_REQUIRE_VERIFIED_EMAIL", "true")]);
    let b = Browser::new(&app, "10.7.0.6");
    b.register("new@tidewater.example").await;
    let created = b
        .post("/post", &with(&job_fields("Marine Biologist"), &[]))
        .await;
    let id = id_from(created.location().expect("location"));
    b.post(&format!("/post/{id}/submit"), &[]).await;
    let done = b.get(&format!("/post/{id}/done")).await;
    assert!(done.body.contains("verify your email"), "{}", done.body);
    app.index();
    let path = format!("/jobs/{id}-marine-biologist");
    assert_eq!(b.get(&path).await.status, 404, "hidden until verified");
    assert!(
        !b.get("/jobs?q=marine")
            .await
            .body
            .contains("Marine Biologist</a>")
    );
    assert_eq!(
        app.get(&format!("/api/v1/jobs/{id}"))
            .await
            .0
            .status()
            .as_u16(),
        404
    );

    let link = app.emails()[0]
        .link("/verify-email")
        .expect("verification link");
    b.get(&link.replace("https://board.example", "")).await;
    app.index();
    assert_eq!(b.get(&path).await.status, 200);
    assert!(
        b.get("/jobs?q=marine")
            .await
            .body
            .contains("Marine Biologist")
    );
    assert_eq!(
        app.get(&format!("/api/v1/jobs/{id}"))
            .await
            .0
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn posting_is_rate_limited() {
    let app = TestApp::with_env(&[("JOBBOARD_LIMITS_POST_PER_IP", "2/1h")]);
    let b = Browser::new(&app, "10.7.0.7");
    b.register("busy@tidewater.example").await;
    let fields = job_fields("Tide Analyst");
    for _ in 0..2 {
        assert_eq!(b.post("/post", &with(&fields, &[])).await.status, 303);
    }
    let limited = b.post("/post", &with(&fields, &[])).await;
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
}

#[tokio::test]
async fn turning_verification_on_hides_unverified_owners_jobs_at_the_next_start() {
    let app = TestApp::new();
    let b = Browser::new(&app, "10.7.0.8");
    b.register("later@tidewater.example").await;
    let created = b
        .post("/post", &with(&job_fields("Hydrographer"), &[]))
        .await;
    let id = id_from(created.location().expect("location"));
    b.post(&format!("/post/{id}/submit"), &[]).await;
    assert_eq!(
        app.scalar("SELECT hidden FROM jobs WHERE id = ?1", id)
            .await,
        0
    );
    let before = app
        .scalar("SELECT count(*) FROM search_queue WHERE job_id = ?1", id)
        .await;
    // The same data dir opened with verification required.
    let mut config = app.state.config.as_ref().clone();
    config.posting.require_verified_email = true;
    let reopened = jobboard::open(config, app.clock.clone()).expect("reopen");
    let hidden: i64 = reopened
        .db
        .read(
            move |c| Ok(c.query_row("SELECT hidden FROM jobs WHERE id = ?1", [id], |r| r.get(0))?),
        )
        .await
        .expect("read");
    assert_eq!(hidden, 1);
    let queued: i64 = reopened
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM search_queue WHERE job_id = ?1",
                [id],
                |r| r.get(0),
            )?)
        })
        .await
        .expect("read");
    assert_eq!(queued, before + 1, "queued for the index");
}
