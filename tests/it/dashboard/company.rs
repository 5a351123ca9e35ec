//! The company profile, its logo upload, and how uploads are served.

use std::io::Cursor;

use jobboard::clock::Clock;

use super::{employer, live_job};
use crate::common::TestApp;
use crate::common::browser::{Browser, Page};

async fn company_id(app: &TestApp, user: i64) -> i64 {
    app.scalar("SELECT company_id FROM users WHERE id = ?1", user)
        .await
}

async fn logo_url(app: &TestApp, company: i64) -> Option<String> {
    app.state
        .db
        .read(move |c| Ok(jobboard::companies::store::by_id(c, company)?.logo_url))
        .await
        .expect("company")
}

/// Saves a profile for a new employer, creating their company.
async fn with_profile(b: &Browser<'_>) {
    let saved = b
        .post(
            "/dashboard/company",
            &[
                ("company_name", "Harbour Lights"),
                ("company_website", "https://harbour.example"),
                (
                    "company_description",
                    "We keep **ships** safe.\r\n\r\n<script>alert(1)</script>",
                ),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location(), Some("/dashboard/company?done=saved"));
}

#[tokio::test]
async fn the_company_profile_shows_on_the_company_page() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.20").await;
    let page = b.get("/dashboard/company").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Save your company's name first"));
    with_profile(&b).await;
    let company = company_id(&app, ana).await;
    assert!(company > 0);
    let shown = b.get("/companies/harbour-lights").await;
    assert_eq!(shown.status, 200);
    assert!(
        shown.body.contains("<strong>ships</strong>"),
        "{}",
        shown.body
    );
    assert!(!shown.body.contains("<script>alert"));
    assert!(shown.body.contains("https://harbour.example"));
    // A second save changes the same company.
    let again = b
        .post(
            "/dashboard/company",
            &[
                ("company_name", "Harbour Lights Ltd"),
                ("company_description", ""),
            ],
        )
        .await;
    assert_eq!(again.status, 303);
    assert_eq!(company_id(&app, ana).await, company);
    let shown = b.get("/companies/harbour-lights").await;
    assert!(shown.body.contains("Harbour Lights Ltd"));
    assert!(!shown.body.contains("ships"));
    // A refused save keeps what was typed.
    let refused = b
        .post(
            "/dashboard/company",
            &[
                ("company_name", "Typed Name"),
                ("company_website", "ftp://nope"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("id=\"f-company_website-error\""));
    assert_eq!(
        refused.input_value("company_name").as_deref(),
        Some("Typed Name")
    );
}

/// A refused website comes back as typed in a text field with a URL keyboard:
/// in a url field a value that is not an absolute URL is invalid HTML.
#[tokio::test]
async fn a_refused_website_comes_back_as_typed_in_a_text_field() {
    let app = TestApp::new();
    let (_, b) = employer(&app, "ivo@harbour.example", "10.8.0.21").await;
    let form = b.get("/dashboard/company").await;
    assert!(
        form.body
            .contains(r#"name="company_website" type="url" value="""#),
        "a url field at first"
    );
    let refused = b
        .post(
            "/dashboard/company",
            &[
                ("company_name", "Harbour"),
                ("company_website", "not a site"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains(
            r#"name="company_website" type="text" value="not a site" autocomplete="url" inputmode="url""#
        ),
        "{}",
        refused.body
    );
}

/// A multipart body (the token part first, as the form sends it).
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----jobboard-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file_name, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let head = match file_name {
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                 Content-Type: image/png\r\n\r\n"
            ),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
        };
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(b: &Browser<'_>, file: &[u8]) -> Page {
    let token = b.csrf().await;
    let (content_type, body) = multipart(&[
        ("csrf_token", None, token.as_bytes()),
        ("logo", Some("logo.png"), file),
    ]);
    b.request(
        poem::http::Method::POST,
        "/dashboard/company/logo",
        Some(&content_type),
        body,
    )
    .await
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([(x % 256) as u8, (y % 256) as u8, 90, 255])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode");
    out.into_inner()
}

#[tokio::test]
async fn a_logo_is_reencoded_served_and_shown_on_job_cards() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.21").await;
    with_profile(&b).await;
    let company = company_id(&app, ana).await;
    let original = png(600, 300);
    let done = upload(&b, &original).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), Some("/dashboard/company?done=logo"));
    let url = logo_url(&app, company).await.expect("a logo");
    assert!(
        url.starts_with(&format!("/uploads/logos/{company}-")) && url.ends_with(".png"),
        "{url}"
    );
    let resp = app.get(&url).await;
    assert_eq!(resp.0.status().as_u16(), 200);
    let headers = resp.0.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("immutable")
    );
    let served = resp.0.into_body().into_vec().await.expect("body");
    assert_ne!(served, original, "re-encoded, not served as sent");
    let img = image::load_from_memory_with_format(&served, image::ImageFormat::Png).expect("a PNG");
    assert_eq!((img.width(), img.height()), (256, 128));
    // Job cards and the company page show it.
    let id = live_job(&app, ana, "Lighthouse Keeper").await;
    let card = b.get("/jobs").await;
    assert!(
        card.body.contains(&format!("src=\"{url}\"")),
        "{}",
        card.body
    );
    let page = b.get(&format!("/jobs/{id}-lighthouse-keeper")).await;
    assert!(page.body.contains(&format!("src=\"{url}\"")));
    assert!(
        b.get("/companies/harbour-lights")
            .await
            .body
            .contains(&format!("src=\"{url}\""))
    );
    // A new logo replaces the old file.
    assert_eq!(upload(&b, &png(64, 64)).await.status, 303);
    let newer = logo_url(&app, company).await.expect("a logo");
    assert_ne!(newer, url);
    assert_eq!(app.get(&newer).await.0.status().as_u16(), 200);
    assert_eq!(app.get(&url).await.0.status().as_u16(), 404);
}

#[tokio::test]
async fn an_oversize_logo_answers_413_and_changes_nothing() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.22").await;
    with_profile(&b).await;
    let mut big = png(16, 16);
    big.resize(1024 * 1024 + 10, 0);
    let page = upload(&b, &big).await;
    assert_eq!(page.status, 413);
    assert_eq!(logo_url(&app, company_id(&app, ana).await).await, None);
}

#[tokio::test]
async fn a_text_file_named_logo_png_answers_422_beside_the_field() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.23").await;
    with_profile(&b).await;
    let page = upload(&b, b"this is not an image at all\n").await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("id=\"f-logo-error\""), "{}", page.body);
    assert!(page.body.contains("PNG, JPEG or WebP"));
    assert_eq!(logo_url(&app, company_id(&app, ana).await).await, None);
    let dir = app._dir.path().join("uploads/logos");
    let files = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(files, 0, "nothing stored");
}

#[tokio::test]
async fn an_upload_without_its_token_is_refused_before_reading_the_file() {
    let app = TestApp::new();
    let (ana, b) = employer(&app, "ana@harbour.example", "10.8.0.24").await;
    with_profile(&b).await;
    let (content_type, body) = multipart(&[("logo", Some("logo.png"), &png(32, 32))]);
    let page = b
        .request(
            poem::http::Method::POST,
            "/dashboard/company/logo",
            Some(&content_type),
            body,
        )
        .await;
    assert_eq!(page.status, 403);
    let (content_type, body) = multipart(&[
        ("csrf_token", None, b"forged"),
        ("logo", Some("logo.png"), &png(32, 32)),
    ]);
    let page = b
        .request(
            poem::http::Method::POST,
            "/dashboard/company/logo",
            Some(&content_type),
            body,
        )
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(logo_url(&app, company_id(&app, ana).await).await, None);
}

#[tokio::test]
async fn uploads_serve_only_files_inside_their_folder() {
    let app = TestApp::new();
    for path in [
        "/uploads/secret.key",
        "/uploads/..%2fsecret.key",
        "/uploads/logos/..%2f..%2fsecret.key",
        "/uploads/logos/%2e%2e/%2e%2e/jobboard.db",
        "/uploads/logos/missing.png",
    ] {
        assert_eq!(app.get(path).await.0.status().as_u16(), 404, "{path}");
    }
}

/// Another employer naming someone's logo file as their own, then uploading
/// a logo of their own, must neither show nor remove the other's file.
#[tokio::test]
async fn another_employers_logo_can_be_neither_claimed_nor_removed() {
    let app = TestApp::new();
    let (ana, alice) = employer(&app, "ana@harbour.example", "10.8.0.30").await;
    with_profile(&alice).await;
    assert_eq!(upload(&alice, &png(64, 64)).await.status, 303);
    let alices = logo_url(&app, company_id(&app, ana).await)
        .await
        .expect("a logo");

    let (bob, b) = employer(&app, "bob@pirates.example", "10.8.0.31").await;
    let now = app.clock.unix();
    let (_, token) = app
        .state
        .db
        .write(move |tx| jobboard::accounts::store::create_api_token(tx, bob, "t", now))
        .await
        .expect("token");
    let posted = app
        .http
        .post("/api/v1/jobs")
        .header("authorization", format!("Bearer {token}"))
        .content_type("application/json")
        .body(
            serde_json::json!({
                "title": "Deckhand", "company_name": "Pirate Co",
                "company_logo_url": alices, "description": "Arr.",
                "category": "Other", "job_type": "contract",
                "apply_url": "https://pirates.example"
            })
            .to_string(),
        )
        .send()
        .await;
    assert_eq!(posted.0.status().as_u16(), 201);
    let bobs_company = company_id(&app, bob).await;
    assert_eq!(logo_url(&app, bobs_company).await, None, "not claimed");
    assert_eq!(upload(&b, &png(32, 32)).await.status, 303);
    assert_eq!(
        app.get(&alices).await.0.status().as_u16(),
        200,
        "Alice's file is still there"
    );
}
