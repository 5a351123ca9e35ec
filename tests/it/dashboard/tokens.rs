//! API tokens: made and shown once, listed by prefix, revoked.

use serde_json::json;

use super::{draft, employer, own_job};
use crate::common::TestApp;

/// The token shown once on the page answering its creation.
fn shown_token(body: &str) -> Option<String> {
    let at = body.find("<code id=\"new-token\">")? + "<code id=\"new-token\">".len();
    let end = body[at..].find('<')?;
    Some(body[at..at + end].to_string())
}

#[tokio::test]
async fn a_token_is_shown_once_works_for_its_owner_and_stops_when_revoked() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.30").await;
    let d = own_job(&app, ana, json!({"title": "Draft Keeper"}), draft()).await;
    let made = b
        .post("/dashboard/tokens", &[("name", "careers sync")])
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert_eq!(made.header("cache-control"), Some("no-store"));
    let token = shown_token(&made.body).expect("the token, once");
    assert!(token.starts_with("jb_"));
    let list = b.get("/dashboard/tokens").await;
    assert!(list.body.contains("careers sync"));
    assert!(list.body.contains(&token[..9]), "the prefix is listed");
    assert!(!list.body.contains(&token), "the token is not shown again");
    let api = |token: String| {
        let app = &app;
        async move {
            app.http
                .get(format!("/api/v1/jobs/{d}"))
                .header("authorization", format!("Bearer {token}"))
                .send()
                .await
                .0
                .status()
                .as_u16()
        }
    };
    assert_eq!(api(token.clone()).await, 200, "the owner's draft, by token");
    let token_id = app
        .scalar("SELECT id FROM api_tokens WHERE user_id = ?1", ana)
        .await;
    // Someone else cannot revoke it.
    let (_bob, bob) = employer(&app, "bob@elsewhere.example", "10.8.0.31").await;
    let refused = bob
        .post(&format!("/dashboard/tokens/{token_id}/revoke"), &[])
        .await;
    assert_eq!(refused.status, 404);
    assert!(
        !bob.get("/dashboard/tokens")
            .await
            .body
            .contains("careers sync")
    );
    assert_eq!(api(token.clone()).await, 200);
    let revoked = b
        .post(&format!("/dashboard/tokens/{token_id}/revoke"), &[])
        .await;
    assert_eq!(revoked.location(), Some("/dashboard/tokens?done=revoked"));
    assert_eq!(api(token).await, 401);
    assert!(b.get("/dashboard/tokens").await.body.contains("revoked"));
    // A token needs a name.
    let unnamed = b.post("/dashboard/tokens", &[("name", " ")]).await;
    assert_eq!(unnamed.status, 422);
    assert!(unnamed.body.contains("id=\"f-name-error\""));
}
