//! The API answers as its OpenAPI document says, and the document says what
//! the API does: each test pins a mismatch schemathesis found
//! (e2e/api-fuzz.sh), on either side.

use poem::http::{StatusCode, header};
use poem::test::TestResponse;
use serde_json::{Value, json};

use crate::api_write::post;
use crate::common::{TestApp, json_body};
use jobboard::accounts::store;
use jobboard::clock::Clock;

/// The document as served.
async fn document(app: &TestApp) -> Value {
    let resp = app.get("/api/openapi.json").await;
    resp.assert_status_is_ok();
    json_body(resp).await
}

/// An employer's API token.
async fn token(app: &TestApp, email: &str) -> String {
    let id = app.create_user(email, false).await;
    let now = app.clock.unix();
    app.state
        .db
        .write(move |tx| store::create_api_token(tx, id, "test", now))
        .await
        .expect("token")
        .1
}

/// The smallest job the `JobInput` schema allows.
fn minimal_job() -> Value {
    json!({
        "title": "Cartographer",
        "company": {"name": "Atlas"},
        "description": "Maps.",
        "category": "design",
        "job_type": "contract",
        "apply_url": "https://atlas.example/apply"
    })
}

/// Asserts a 422 naming `field`.
async fn refused(resp: TestResponse, field: &str) {
    resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_body(resp).await;
    assert_eq!(body["error"]["code"], "invalid_input", "{body}");
    assert!(
        body["error"]["fields"].get(field).is_some(),
        "no message for {field}: {body}"
    );
}

#[tokio::test]
async fn optional_fields_of_answers_are_documented_nullable() {
    let app = TestApp::new();
    let id = app
        .add_job(json!({"location": null, "timezones": null, "apply_email": null}))
        .await;
    let doc = document(&app).await;
    let job = json_body(app.get(&format!("/api/v1/jobs/{id}")).await).await;
    let schemas = &doc["components"]["schemas"];
    for (schema, value) in [("JobJson", &job), ("CompanyJson", &job["company"])] {
        for (field, v) in value.as_object().expect("object") {
            if v.is_null() {
                assert_eq!(
                    schemas[schema]["properties"][field]["nullable"], true,
                    "{schema}.{field} is null in an answer"
                );
            }
        }
    }
    // Every optional field of the answers' objects may be null.
    for schema in ["JobJson", "CompanyJson", "CompanyProfile"] {
        let required = schemas[schema]["required"].as_array().expect("required");
        for (field, s) in schemas[schema]["properties"].as_object().expect("props") {
            if !required.contains(&json!(field)) {
                assert_eq!(s["nullable"], true, "{schema}.{field}");
            }
        }
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_documented_415() {
    let app = TestApp::new();
    let token = token(&app, "ann@example.com").await;
    let doc = document(&app).await;
    for op in [
        &doc["paths"]["/api/v1/jobs"]["post"],
        &doc["paths"]["/api/v1/jobs/{id}"]["patch"],
    ] {
        assert!(op["responses"]["415"].is_object(), "{op}");
    }
    let resp = app
        .http
        .post("/api/v1/jobs")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .content_type("text/plain")
        .body(minimal_job().to_string())
        .send()
        .await;
    resp.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn search_parameters_have_their_types_and_every_documented_value_is_taken() {
    let app = TestApp::new();
    app.add_job(json!({})).await;
    let doc = document(&app).await;
    let params = doc["paths"]["/api/v1/jobs"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .clone();
    let param = |name: &str| {
        params
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .expect(name)
    };
    for name in ["page", "per_page", "salary_min", "posted_within"] {
        assert_eq!(param(name)["schema"]["type"], "integer", "{name}");
        assert_eq!(param(name)["allowEmptyValue"], true, "{name}");
    }
    assert_eq!(param("posted_within")["schema"]["maximum"], 3650);
    // A wrong value is a 422; an empty one is no filter.
    refused(app.get("/api/v1/jobs?per_page=lots").await, "per_page").await;
    app.get("/api/v1/jobs?per_page=&page=&category=")
        .await
        .assert_status_is_ok();
    for name in ["category", "job_type", "sort"] {
        let values = param(name)["schema"]["enum"].clone();
        let values = values.as_array().expect(name);
        assert!(values.len() > 1, "{name}");
        for v in values {
            let v = v.as_str().expect("text");
            let resp = app
                .http
                .get("/api/v1/jobs")
                .query(name, &v.to_string())
                .send()
                .await;
            assert_eq!(resp.0.status(), StatusCode::OK, "{name}={v}");
        }
        refused(
            app.http
                .get("/api/v1/jobs")
                .query(name, &"no such thing")
                .send()
                .await,
            name,
        )
        .await;
    }
    let categories = param("category")["schema"]["enum"].clone();
    assert!(
        categories
            .as_array()
            .expect("enum")
            .contains(&json!("software-development"))
    );
    assert!(
        categories
            .as_array()
            .expect("enum")
            .contains(&json!("Software Development"))
    );
    let regions = param("remote")["schema"]["items"]["enum"].clone();
    assert!(
        regions
            .as_array()
            .expect("enum")
            .contains(&json!("asia_pacific"))
    );
}

#[tokio::test]
async fn a_tag_no_job_can_have_matches_no_job() {
    let app = TestApp::new();
    app.add_job(json!({"tags": ["rust"]})).await;
    let all = json_body(app.get("/api/v1/jobs?tag=rust").await).await;
    assert_eq!(all["total"], 1);
    for tag in ["%C2%9F%21%21", &"x".repeat(40)] {
        let resp = app.get(&format!("/api/v1/jobs?tag={tag}")).await;
        resp.assert_status_is_ok();
        assert_eq!(json_body(resp).await["total"], 0, "tag={tag}");
    }
}

#[tokio::test]
async fn the_job_input_schema_says_what_a_post_needs() {
    let app = TestApp::new();
    let token = token(&app, "ann@example.com").await;
    let doc = document(&app).await;
    let input = &doc["components"]["schemas"]["JobInput"];
    let required = input["required"].as_array().expect("required");
    for field in ["title", "description", "category", "job_type"] {
        assert!(required.contains(&json!(field)), "{field}");
    }
    let post_op = &doc["paths"]["/api/v1/jobs"]["post"];
    assert_eq!(
        post_op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/JobInput"
    );
    assert_eq!(
        doc["paths"]["/api/v1/jobs/{id}"]["patch"]["requestBody"]["content"]["application/merge-patch+json"]
            ["schema"]["$ref"],
        "#/components/schemas/JobPatch"
    );
    assert!(doc["components"]["schemas"]["CompanyInput"].is_object());
    // What the schema needs is enough, and less is refused.
    post(&app, &token, &minimal_job())
        .await
        .assert_status(StatusCode::CREATED);
    refused(post(&app, &token, &json!({})).await, "title").await;
    // A posted job links to what can be done with it.
    let links = &post_op["responses"]["201"]["links"];
    for op in ["getJob", "updateJob", "deleteJob", "checkoutJob"] {
        assert_eq!(links[op]["parameters"]["id"], "$response.body#/id", "{op}");
    }
}

#[tokio::test]
async fn input_of_another_json_type_than_documented_is_refused() {
    let app = TestApp::new();
    let token = token(&app, "ann@example.com").await;
    let with = |field: &str, value: Value| {
        let mut job = minimal_job();
        job[field] = value;
        job
    };
    for (body, field) in [
        (with("title", json!(5)), "title"),
        (with("tags", json!("rust,ops")), "tags"),
        (with("salary_min", json!("5000")), "salary_min"),
        (with("remote", json!([1])), "remote"),
        (with("company", json!("Atlas")), "company"),
        (
            with("company_website", json!("https://atlas.example")),
            "company",
        ),
        (
            with(
                "tags",
                json!(["a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a"]),
            ),
            "tags",
        ),
    ] {
        refused(post(&app, &token, &body).await, field).await;
    }
    // null is "absent" for an optional field.
    post(&app, &token, &with("location", Value::Null))
        .await
        .assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn a_currency_or_period_is_checked_without_a_salary() {
    let app = TestApp::new();
    let token = token(&app, "ann@example.com").await;
    let mut job = minimal_job();
    job["salary_currency"] = json!("12");
    refused(post(&app, &token, &job).await, "salary_currency").await;
    let mut job = minimal_job();
    job["salary_period"] = json!("fortnight");
    refused(post(&app, &token, &job).await, "salary_period").await;
}

#[tokio::test]
async fn text_of_unicode_white_space_only_is_blank() {
    let app = TestApp::new();
    let token = token(&app, "ann@example.com").await;
    let mut job = minimal_job();
    job["description"] = json!("\u{85}\u{2005}");
    refused(post(&app, &token, &job).await, "description").await;
    // The document's "some visible character" leaves these out too.
    let doc = document(&app).await;
    let pattern = doc["components"]["schemas"]["JobInput"]["properties"]["description"]["pattern"]
        .as_str()
        .expect("pattern")
        .to_string();
    assert!(
        pattern.contains(r"\x85") && pattern.contains(r"\u2000-\u200a"),
        "{pattern}"
    );
}

#[tokio::test]
async fn a_tag_is_at_most_32_characters_as_given() {
    let app = TestApp::new();
    let token = token(&app, "ann@example.com").await;
    let mut job = minimal_job();
    // 33 characters, of which only one is kept.
    job["tags"] = json!([format!("a{}", "!".repeat(32))]);
    refused(post(&app, &token, &job).await, "tags").await;
}

#[tokio::test]
async fn paying_on_a_free_board_is_a_documented_conflict() {
    let app = TestApp::new();
    let token = token(&app, "ann@example.com").await;
    let resp = post(&app, &token, &minimal_job()).await;
    resp.assert_status(StatusCode::CREATED);
    let id = json_body(resp).await["id"].as_i64().expect("id");
    let resp = app
        .http
        .post(format!("/api/v1/jobs/{id}/checkout"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await;
    resp.assert_status(StatusCode::CONFLICT);
    assert_eq!(json_body(resp).await["error"]["code"], "conflict");
    let doc = document(&app).await;
    assert!(doc["paths"]["/api/v1/jobs/{id}/checkout"]["post"]["responses"]["409"].is_object());
}
