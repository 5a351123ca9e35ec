//! Disabling and enabling users from the admin.

use super::{EMPLOYER, admin_browser, listed_publicly, owned_job, published};
use crate::common::TestApp;
use crate::common::browser::Browser;

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
