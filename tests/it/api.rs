//! The JSON API's read side over HTTP.

use poem::http::StatusCode;
use serde_json::json;

use crate::common::{TestApp, json_body};

#[tokio::test]
async fn list_has_the_contract_shape() {
    let app = TestApp::new();
    let featured = app
        .add_job(json!({"title": "Featured Role", "featured": true}))
        .await;
    app.clock.advance(60);
    let plain = app
        .add_job(json!({"title": "Plain Role", "tags": []}))
        .await;
    app.add_job(json!({"title": "Draft", "status": "draft"}))
        .await;

    let resp = app.get("/api/v1/jobs").await;
    resp.assert_status_is_ok();
    resp.assert_content_type("application/json; charset=utf-8");
    let body = json_body(resp).await;
    assert_eq!(body["total"], 2);
    assert_eq!(body["page"], 1);
    assert_eq!(body["per_page"], 20);
    for facet in ["category", "job_type", "remote", "tags"] {
        assert!(body["facets"][facet].is_array(), "facet {facet}");
    }
    let jobs = body["jobs"].as_array().expect("jobs");
    assert_eq!(jobs[0]["id"], featured, "featured first");
    assert_eq!(jobs[1]["id"], plain);
    let job = &jobs[0];
    assert_eq!(job["company"]["name"], "Acme Widgets");
    assert_eq!(job["company"]["slug"], "acme-widgets");
    assert_eq!(
        job["url"],
        format!("https://board.example/jobs/{featured}-featured-role")
    );
    assert_eq!(job["remote"], json!(["europe"]));
    assert_eq!(job["category"], "software-development");
    assert_eq!(job["status"], "published");
    assert_eq!(job["salary_currency"], "EUR");
    assert!(
        job["description_html"]
            .as_str()
            .is_some_and(|h| h.contains("<strong>fast</strong>"))
    );
    // Absent optional fields are null, not missing.
    for key in ["timezones", "location", "apply_email"] {
        assert!(
            job.get(key).is_some_and(|v| v.is_null()),
            "{key} should be null: {job}"
        );
    }
}

#[tokio::test]
async fn paging_is_clamped() {
    let app = TestApp::new();
    for i in 0..3 {
        app.add_job(json!({"title": format!("Role {i}")})).await;
    }
    let body = json_body(app.get("/api/v1/jobs?per_page=1000").await).await;
    assert_eq!(body["per_page"], 100);
    let body = json_body(app.get("/api/v1/jobs?per_page=2&page=2").await).await;
    assert_eq!(body["jobs"].as_array().map(Vec::len), Some(1));
    let body = json_body(app.get("/api/v1/jobs?page=0").await).await;
    assert_eq!(body["page"], 1);
}

#[tokio::test]
async fn malformed_parameters_are_json_errors() {
    let app = TestApp::new();
    let resp = app.get("/api/v1/jobs?page=abc").await;
    resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_body(resp).await;
    assert_eq!(body["error"]["code"], "invalid_input");
    assert!(body["error"]["message"].is_string());
    assert!(body["error"]["fields"]["page"].is_string());

    let resp = app.get("/api/v1/jobs/abc").await;
    resp.assert_status(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn one_job_and_not_found() {
    let app = TestApp::new();
    let id = app.add_job(json!({"timezones": "+5:30..+9"})).await;
    let draft = app.add_job(json!({"status": "draft"})).await;
    let resp = app.get(&format!("/api/v1/jobs/{id}")).await;
    resp.assert_status_is_ok();
    let job = json_body(resp).await;
    assert_eq!(job["id"], id);
    assert_eq!(job["timezones"], "+5:30..+9");
    assert_eq!(job["tags"], json!(["rust", "postgresql"]));

    for path in [
        format!("/api/v1/jobs/{draft}"),
        "/api/v1/jobs/987654".to_string(),
    ] {
        let resp = app.get(&path).await;
        resp.assert_status(StatusCode::NOT_FOUND);
        let body = json_body(resp).await;
        assert_eq!(body["error"]["code"], "not_found");
    }
    app.clock.advance(31 * 86_400);
    app.get(&format!("/api/v1/jobs/{id}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_company_and_its_jobs() {
    let app = TestApp::new();
    let id = app.add_job(json!({})).await;
    app.add_job(json!({"status": "draft"})).await;
    let resp = app.get("/api/v1/companies/acme-widgets").await;
    resp.assert_status_is_ok();
    let body = json_body(resp).await;
    assert_eq!(body["company"]["name"], "Acme Widgets");
    assert_eq!(body["company"]["website"], "https://acme.example");
    assert_eq!(body["jobs"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["jobs"][0]["id"], id);
    let resp = app.get("/api/v1/companies/nobody").await;
    resp.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(json_body(resp).await["error"]["code"], "not_found");
}

#[tokio::test]
async fn undocumented_methods_and_paths_answer_json() {
    let app = TestApp::new();
    let resp = app.http.delete("/api/v1/jobs").send().await;
    resp.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(json_body(resp).await["error"]["code"], "method_not_allowed");
    let resp = app.http.put("/api/v1/companies/x").send().await;
    resp.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    let resp = app.get("/api/v1/nothing").await;
    resp.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(json_body(resp).await["error"]["code"], "not_found");
}

#[tokio::test]
async fn the_openapi_document_lists_the_routes() {
    let app = TestApp::new();
    let resp = app.get("/api/openapi.json").await;
    resp.assert_status_is_ok();
    let doc = json_body(resp).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in [
        "/api/v1/jobs",
        "/api/v1/jobs/{id}",
        "/api/v1/companies/{slug}",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} documented");
    }
    assert!(doc["paths"]["/api/v1/jobs/{id}"]["get"]["responses"]["404"].is_object());
    assert_eq!(doc["servers"][0]["url"], "https://board.example");
}
