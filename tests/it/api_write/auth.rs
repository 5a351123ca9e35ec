//! API tokens: which are refused, and `jobboard token create` making one
//! that works against a board running on the same data dir.

use poem::http::{StatusCode, header};
use serde_json::json;

use super::{delete, employer, error, get_with, job, patch, post, posted};
use crate::common::{self, TestApp, json_body};
use jobboard::accounts::store;
use jobboard::clock::Clock;

#[tokio::test]
async fn writes_need_a_valid_token() {
    let app = TestApp::new();
    let (ann, token) = employer(&app, "ann@example.com").await;
    let id = posted(&app, &token, &job()).await;

    let resp = app.http.post("/api/v1/jobs").body_json(&job()).send().await;
    assert_eq!(
        resp.0.headers().get(header::WWW_AUTHENTICATE),
        Some(&header::HeaderValue::from_static("Bearer"))
    );
    error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = app
        .http
        .post("/api/v1/jobs")
        .header(header::AUTHORIZATION, "Basic YTpi")
        .body_json(&job())
        .send()
        .await;
    error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    for bad in ["jb_not-a-token", "nonsense", ""] {
        error(
            post(&app, bad, &job()).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
        let resp = patch(&app, bad, id, &json!({"title": "X"})).await;
        error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let resp = delete(&app, bad, id).await;
        error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    // A wrong token is refused even where none is needed.
    error(
        get_with(&app, "jb_not-a-token", id).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;

    // Revoked.
    let now = app.clock.unix();
    let (revoked_id, revoked) = app
        .state
        .db
        .write(move |tx| store::create_api_token(tx, ann, "old", now))
        .await
        .expect("token");
    app.state
        .db
        .write(move |tx| store::revoke_api_token(tx, ann, revoked_id, now))
        .await
        .expect("revoke");
    error(
        post(&app, &revoked, &job()).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;

    // A disabled user's tokens stop working, and work again when enabled.
    let set = |disabled: bool| {
        app.state
            .db
            .write(move |tx| store::set_disabled(tx, ann, disabled, false, now))
    };
    set(true).await.expect("disable");
    error(
        post(&app, &token, &job()).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    error(
        delete(&app, &token, id).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    set(false).await.expect("enable");
    get_with(&app, &token, id).await.assert_status_is_ok();

    // A used token notes when.
    let used = app
        .scalar(
            "SELECT count(*) FROM api_tokens WHERE user_id = ?1 AND last_used_at IS NOT NULL",
            ann,
        )
        .await;
    assert_eq!(used, 1);
}

#[tokio::test]
async fn token_create_prints_a_token_that_works() {
    let app = TestApp::with_env(&[("JOBBOARD_POSTING_REQUIRE_VERIFIED_EMAIL", "true")]);
    let now = app.clock.unix();
    let ann = app
        .state
        .db
        .write(move |tx| {
            Ok(store::create_user(
                tx,
                "ann@example.com",
                "unused",
                jobboard::accounts::Role::Employer,
                false,
                now,
            )?
            .expect("new"))
        })
        .await
        .expect("user");
    let dir = app._dir.path();
    let data_dir = dir.display().to_string();
    let out = common::run(
        dir,
        &[
            "--data-dir",
            &data_dir,
            "token",
            "create",
            "--email",
            "Ann@Example.com",
            "--name",
            "ci",
        ],
        &[],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    let token = stdout.trim();
    assert!(token.starts_with("jb_"), "{token}");
    assert!(!stderr.contains(token), "the token appears once, on stdout");
    assert_eq!(
        app.scalar(
            "SELECT email_verified_at IS NOT NULL FROM users WHERE id = ?1",
            ann
        )
        .await,
        1,
        "the operator vouches for the account"
    );

    // The board running on the same data dir takes the token, and the job is
    // live because the account now counts as verified.
    let created = json_body(post(&app, token, &job()).await).await;
    let id = created["id"].as_i64().expect("id");
    app.get(&format!("/api/v1/jobs/{id}"))
        .await
        .assert_status_is_ok();
    let name = app
        .state
        .db
        .read(move |c| store::api_tokens(c, ann))
        .await
        .expect("tokens")[0]
        .name
        .clone();
    assert_eq!(name, "ci");

    let out = common::run(
        dir,
        &[
            "--data-dir",
            &data_dir,
            "token",
            "create",
            "--email",
            "nobody@example.com",
        ],
        &[],
        None,
    );
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("nobody@example.com") && stderr.contains("admin create"),
        "{stderr}"
    );
}
