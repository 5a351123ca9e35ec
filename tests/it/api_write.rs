//! The JSON API's write side: posting, patching and deleting jobs with an API
//! token. Tokens themselves (refused ones, `jobboard token create`) are in `auth`.

mod auth;

use poem::http::{StatusCode, header};
use poem::test::TestResponse;
use serde_json::{Value, json};

use crate::common::{TestApp, json_body};
use jobboard::accounts::store;
use jobboard::clock::Clock;

/// A complete, valid job in the input shape.
fn job() -> Value {
    json!({
        "title": "Senior Rust Engineer",
        "company": {"name": "Acme Widgets", "website": "https://acme.example"},
        "description": "Build **fast** things.",
        "category": "Software Development",
        "job_type": "full_time",
        "tags": ["rust"],
        "remote": ["europe"],
        "salary_min": 90000, "salary_max": 120000, "salary_currency": "EUR",
        "apply_url": "https://acme.example/apply"
    })
}

/// A new API token for the user.
async fn token_for(app: &TestApp, user_id: i64) -> String {
    let now = app.clock.unix();
    app.state
        .db
        .write(move |tx| store::create_api_token(tx, user_id, "test", now))
        .await
        .expect("token")
        .1
}

/// An employer with a token.
async fn employer(app: &TestApp, email: &str) -> (i64, String) {
    let id = app.create_user(email, false).await;
    (id, token_for(app, id).await)
}

/// `POST /api/v1/jobs` with `token`.
pub(crate) async fn post(app: &TestApp, token: &str, body: &Value) -> TestResponse {
    app.http
        .post("/api/v1/jobs")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body_json(body)
        .send()
        .await
}

/// Posts a job and returns its id.
async fn posted(app: &TestApp, token: &str, body: &Value) -> i64 {
    let resp = post(app, token, body).await;
    resp.assert_status(StatusCode::CREATED);
    json_body(resp).await["id"].as_i64().expect("id")
}

async fn patch(app: &TestApp, token: &str, id: i64, body: &Value) -> TestResponse {
    app.http
        .patch(format!("/api/v1/jobs/{id}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .content_type("application/merge-patch+json")
        .body(body.to_string())
        .send()
        .await
}

async fn delete(app: &TestApp, token: &str, id: i64) -> TestResponse {
    app.http
        .delete(format!("/api/v1/jobs/{id}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await
}

async fn get_with(app: &TestApp, token: &str, id: i64) -> TestResponse {
    app.http
        .get(format!("/api/v1/jobs/{id}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await
}

/// Asserts a JSON error with this status and code; returns the body.
async fn error(resp: TestResponse, status: StatusCode, code: &str) -> Value {
    resp.assert_status(status);
    resp.assert_content_type("application/json; charset=utf-8");
    let body = json_body(resp).await;
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    body
}

async fn search_total(app: &TestApp, q: &str) -> i64 {
    let body = json_body(app.get(&format!("/api/v1/jobs?q={q}")).await).await;
    body["total"].as_i64().expect("total")
}

#[tokio::test]
async fn a_post_goes_live_and_into_search() {
    let app = TestApp::new();
    let (_, token) = employer(&app, "ann@example.com").await;
    let mut body = job();
    body["featured"] = json!(true);
    body["status"] = json!("draft");
    body["id"] = json!(999);
    body["views"] = json!(1000);
    let resp = post(&app, &token, &body).await;
    resp.assert_status(StatusCode::CREATED);
    let location = resp
        .0
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .expect("Location");
    let created = json_body(resp).await;
    let id = created["id"].as_i64().expect("id");
    assert_ne!(id, 999);
    assert_eq!(location, format!("https://board.example/api/v1/jobs/{id}"));
    assert_eq!(created["status"], "published");
    assert_eq!(
        created["featured"], false,
        "employers cannot feature their own job"
    );
    assert_eq!(created["views"], 0);
    assert_eq!(created["company"]["name"], "Acme Widgets");
    assert_eq!(created["salary_currency"], "EUR");
    assert!(created["published_at"].is_string() && created["expires_at"].is_string());

    let public = app.get(&format!("/api/v1/jobs/{id}")).await;
    public.assert_status_is_ok();
    assert_eq!(json_body(public).await["title"], "Senior Rust Engineer");
    app.index();
    assert_eq!(search_total(&app, "rust").await, 1);
}

#[tokio::test]
async fn with_approval_a_post_waits_and_admins_hear_of_it() {
    let app = TestApp::with_env(&[("JOBBOARD_POSTING_REQUIRE_APPROVAL", "true")]);
    app.create_user("admin@example.com", true).await;
    let (_, token) = employer(&app, "ann@example.com").await;
    let resp = post(&app, &token, &job()).await;
    resp.assert_status(StatusCode::CREATED);
    let body = json_body(resp).await;
    let id = body["id"].as_i64().expect("id");
    assert_eq!(body["status"], "pending_review");
    assert!(body["published_at"].is_null());

    error(
        app.get(&format!("/api/v1/jobs/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let own = get_with(&app, &token, id).await;
    own.assert_status_is_ok();
    assert_eq!(json_body(own).await["status"], "pending_review");
    app.index();
    assert_eq!(search_total(&app, "rust").await, 0);

    let mails = app.emails();
    let review: Vec<_> = mails
        .iter()
        .filter(|m| m.to.contains("admin@example.com"))
        .collect();
    assert_eq!(review.len(), 1, "{mails:?}");
    assert!(review[0].subject.contains("Senior Rust Engineer"));
}

#[tokio::test]
async fn bad_input_names_each_field() {
    let app = TestApp::new();
    let (_, token) = employer(&app, "ann@example.com").await;
    let body = json!({
        "title": {"not": "text"},
        "company": {"website": "ftp://acme"},
        "category": "Astrology",
        "job_type": "gig",
        "tags": "a,b,c,d,e,f,g,h,i,j,k",
        "remote": ["mars"],
        "timezones": "+20..+3",
        "salary_min": 1e300, "salary_max": -5,
        "apply_email": "not-an-email"
    });
    let err = error(
        post(&app, &token, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    )
    .await;
    let fields = err["error"]["fields"].as_object().expect("fields");
    for key in [
        "title",
        "company_name",
        "company_website",
        "description",
        "category",
        "job_type",
        "tags",
        "remote",
        "timezones",
        "salary_min",
        "salary_max",
        "apply_email",
    ] {
        assert!(fields.contains_key(key), "no message for {key}: {fields:?}");
    }
    assert_eq!(
        app.scalar("SELECT count(*) FROM jobs WHERE ?1 = ?1", 0)
            .await,
        0
    );
}

#[tokio::test]
async fn malformed_requests_are_json_errors_never_500() {
    let app = TestApp::new();
    let (_, token) = employer(&app, "ann@example.com").await;
    let auth = format!("Bearer {token}");
    let send = |content_type: Option<&'static str>, body: Vec<u8>| {
        let mut req = app
            .http
            .post("/api/v1/jobs")
            .header(header::AUTHORIZATION, auth.clone());
        if let Some(ct) = content_type {
            req = req.content_type(ct);
        }
        req.body(body).send()
    };
    let json = Some("application/json");
    for (body, what) in [
        (b"[1, 2]".to_vec(), "an array"),
        (b"42".to_vec(), "a number"),
        (b"null".to_vec(), "null"),
        (b"{\"title\": ".to_vec(), "cut short"),
        (b"{\"title\": \"\xff\xfe\"}".to_vec(), "invalid UTF-8"),
        (b"".to_vec(), "empty"),
    ] {
        let resp = send(json, body).await;
        assert_eq!(resp.0.status(), StatusCode::BAD_REQUEST, "{what}");
        error(resp, StatusCode::BAD_REQUEST, "bad_request").await;
    }
    error(
        send(None, job().to_string().into_bytes()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    error(
        send(Some("text/plain"), job().to_string().into_bytes()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let huge = json!({"title": "x".repeat(2 << 20)})
        .to_string()
        .into_bytes();
    error(
        send(json, huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    )
    .await;
    // Numbers beyond any integer, deep nesting and odd types are input errors.
    let mut odd = job();
    odd["salary_max"] = json!(123_456_789_012_345_678_901_234_567_890.0);
    odd["tags"] = json!([[[[1]]]]);
    odd["remote"] = json!({"europe": true});
    let err = error(
        post(&app, &token, &odd).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    )
    .await;
    assert!(err["error"]["fields"]["salary_max"].is_string(), "{err}");
    // Ids that are not numbers.
    for path in ["/api/v1/jobs/abc", "/api/v1/jobs/99999999999999999999999"] {
        let resp = app
            .http
            .patch(path)
            .header(header::AUTHORIZATION, auth.clone())
            .body_json(&json!({}))
            .send()
            .await;
        error(resp, StatusCode::BAD_REQUEST, "bad_request").await;
    }
}

#[tokio::test]
async fn a_patch_merges_and_a_live_job_stays_live() {
    let app = TestApp::new();
    let (_, token) = employer(&app, "ann@example.com").await;
    let id = posted(&app, &token, &job()).await;
    app.index();

    let resp = patch(
        &app,
        &token,
        id,
        &json!({
            "title": "Staff Rust Engineer",
            "salary_min": null, "salary_max": null,
            "company_name": "Acme Renamed",
            "location": "Berlin",
            "status": "draft", "featured": true, "slug": "x", "views": 5
        }),
    )
    .await;
    resp.assert_status_is_ok();
    let body = json_body(resp).await;
    assert_eq!(body["title"], "Staff Rust Engineer");
    assert_eq!(body["slug"], "staff-rust-engineer");
    assert!(body["salary_min"].is_null() && body["salary_max"].is_null());
    assert!(body["salary_currency"].is_null());
    assert_eq!(body["company"]["name"], "Acme Renamed");
    assert_eq!(body["location"], "Berlin");
    assert_eq!(body["status"], "published");
    assert_eq!(body["featured"], false);
    assert_eq!(body["views"], 0);
    // Untouched fields stay.
    assert_eq!(body["tags"], json!(["rust"]));
    assert_eq!(body["apply_url"], "https://acme.example/apply");

    // The company nested works too; plain application/json is taken.
    let resp = app
        .http
        .patch(format!("/api/v1/jobs/{id}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body_json(&json!({"company": {"name": "Acme Nested"}, "location": null}))
        .send()
        .await;
    resp.assert_status_is_ok();
    let body = json_body(resp).await;
    assert_eq!(body["company"]["name"], "Acme Nested");
    assert!(body["location"].is_null());

    app.index();
    assert_eq!(search_total(&app, "staff").await, 1);
    assert_eq!(search_total(&app, "senior").await, 0);
    let public = app.get(&format!("/api/v1/jobs/{id}")).await;
    assert_eq!(json_body(public).await["title"], "Staff Rust Engineer");

    // A patch that breaks the job changes nothing.
    let err = error(
        patch(&app, &token, id, &json!({"title": null, "job_type": "gig"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    )
    .await;
    assert!(err["error"]["fields"]["title"].is_string());
    assert!(err["error"]["fields"]["job_type"].is_string());
    let own = json_body(get_with(&app, &token, id).await).await;
    assert_eq!(own["title"], "Staff Rust Engineer");
    // A patch must be an object.
    let resp = patch(&app, &token, id, &json!(["title"])).await;
    error(resp, StatusCode::BAD_REQUEST, "bad_request").await;
}

#[tokio::test]
async fn someone_elses_job_is_not_found() {
    let app = TestApp::with_env(&[("JOBBOARD_POSTING_REQUIRE_APPROVAL", "true")]);
    let (_, ann) = employer(&app, "ann@example.com").await;
    let (_, bob) = employer(&app, "bob@example.com").await;
    let id = posted(&app, &ann, &job()).await;
    let ownerless = app.add_job(json!({"title": "Imported Role"})).await;

    for target in [id, ownerless] {
        let resp = patch(&app, &bob, target, &json!({"title": "Hijacked"})).await;
        error(resp, StatusCode::NOT_FOUND, "not_found").await;
        error(
            delete(&app, &bob, target).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // Ann's job waits for review: not Bob's to see.
    error(
        get_with(&app, &bob, id).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Nobody owns an imported job, not even the first employer.
    let resp = patch(&app, &ann, ownerless, &json!({"title": "Mine now"})).await;
    error(resp, StatusCode::NOT_FOUND, "not_found").await;

    let own = json_body(get_with(&app, &ann, id).await).await;
    assert_eq!(own["title"], "Senior Rust Engineer");
    assert_eq!(own["status"], "pending_review");
    let public = json_body(app.get(&format!("/api/v1/jobs/{ownerless}")).await).await;
    assert_eq!(public["title"], "Imported Role");
    // A public job reads the same with anybody's token.
    get_with(&app, &bob, ownerless).await.assert_status_is_ok();
}

#[tokio::test]
async fn a_deleted_job_is_gone() {
    let app = TestApp::new();
    let (_, token) = employer(&app, "ann@example.com").await;
    let id = posted(&app, &token, &job()).await;
    app.index();
    assert_eq!(search_total(&app, "rust").await, 1);

    let resp = delete(&app, &token, id).await;
    resp.assert_status(StatusCode::NO_CONTENT);
    let public = app.get(&format!("/api/v1/jobs/{id}")).await;
    error(public, StatusCode::NOT_FOUND, "not_found").await;
    error(
        get_with(&app, &token, id).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    error(
        delete(&app, &token, id).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    app.index();
    assert_eq!(search_total(&app, "rust").await, 0);
    // Kept for the records.
    assert_eq!(
        app.scalar(
            "SELECT count(*) FROM jobs WHERE id = ?1 AND deleted_at IS NOT NULL",
            id
        )
        .await,
        1
    );
}

#[tokio::test]
async fn posting_is_rate_limited_per_address_and_account() {
    let app = TestApp::with_env(&[("JOBBOARD_LIMITS_POST_PER_IP", "2/1h")]);
    let (_, token) = employer(&app, "ann@example.com").await;
    let from = |ip: &'static str| {
        app.http
            .post("/api/v1/jobs")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header("x-forwarded-for", ip)
            .body_json(&job())
            .send()
    };
    from("203.0.113.1").await.assert_status(StatusCode::CREATED);
    from("203.0.113.1").await.assert_status(StatusCode::CREATED);
    let resp = from("203.0.113.1").await;
    let wait: u64 = resp
        .0
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(wait > 0 && wait <= 3600, "{wait}");
    error(resp, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Another address, the same account.
    let resp = from("203.0.113.2").await;
    error(resp, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Another account from the first address.
    let (_, bob) = employer(&app, "bob@example.com").await;
    let resp = app
        .http
        .post("/api/v1/jobs")
        .header(header::AUTHORIZATION, format!("Bearer {bob}"))
        .header("x-forwarded-for", "203.0.113.1")
        .body_json(&job())
        .send()
        .await;
    error(resp, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;

    app.clock.advance(3601);
    from("203.0.113.1").await.assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn the_openapi_document_describes_the_write_side() {
    let app = TestApp::new();
    let spec = json_body(app.get("/api/openapi.json").await).await;
    assert_eq!(
        spec["components"]["securitySchemes"]["ApiToken"],
        json!({"type": "http", "scheme": "bearer", "description": spec["components"]["securitySchemes"]["ApiToken"]["description"]})
    );
    let jobs = &spec["paths"]["/api/v1/jobs"];
    let one = &spec["paths"]["/api/v1/jobs/{id}"];
    for (op, success) in [
        (&jobs["post"], "201"),
        (&one["patch"], "200"),
        (&one["delete"], "204"),
    ] {
        assert_eq!(op["security"], json!([{"ApiToken": []}]), "{op}");
        for status in [success, "401", "403", "404", "422"] {
            assert!(op["responses"][status].is_object(), "{status} in {op}");
        }
    }
    let headers = jobs["post"]["responses"]["201"]["headers"]
        .as_object()
        .expect("headers");
    assert!(headers.keys().any(|h| h.eq_ignore_ascii_case("location")));
    assert!(jobs["post"]["requestBody"]["content"]["application/json"].is_object());
    assert!(one["patch"]["requestBody"]["content"]["application/merge-patch+json"].is_object());
    assert!(spec["components"]["schemas"]["JobInput"]["properties"]["company_name"].is_object());
    // Reading stays open; a token is optional there.
    let security = one["get"]["security"].as_array().expect("security");
    assert!(security.contains(&json!({"ApiToken": []})));
    assert!(security.contains(&json!({})));
    assert!(jobs["get"].get("security").is_none());
}

#[tokio::test]
async fn unlisted_methods_answer_405_with_allow() {
    let app = TestApp::new();
    for (path, allow) in [
        ("/api/v1/jobs/1", "GET, HEAD, PATCH, DELETE"),
        ("/api/v1/jobs", "GET, HEAD, POST"),
        ("/api/v1/companies/acme", "GET, HEAD"),
    ] {
        let resp = app.http.put(path).body_json(&job()).send().await;
        assert_eq!(
            resp.0
                .headers()
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok()),
            Some(allow),
            "{path}"
        );
        error(resp, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    }
}
