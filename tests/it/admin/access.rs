//! Who may use the admin (admins only; a forged post changes nothing), and
//! the audit log of every admin action.

use serde_json::json;

use super::{ADMIN, EMPLOYER, admin_browser, owned_job, pending, status_of};
use crate::common::TestApp;
use crate::common::browser::Browser;

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
