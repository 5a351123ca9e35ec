//! The server-rendered pages over HTTP.

use poem::http::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestApp, text};

/// The JSON-LD document of a page.
fn json_ld(html: &str) -> Option<Value> {
    let start = html.find("<script type=\"application/ld+json\">")?;
    let rest = &html[start..];
    let body = &rest[rest.find('>')? + 1..rest.find("</script>")?];
    Some(serde_json::from_str(body).expect("JSON-LD parses"))
}

#[tokio::test]
async fn home_lists_featured_first_then_newest() {
    let app = TestApp::new();
    let old = app
        .add_job(json!({"title": "Old Featured Designer", "featured": true, "category": "design"}))
        .await;
    app.clock.advance(3600);
    let newer = app
        .add_job(json!({"title": "Newest Data Engineer", "category": "data"}))
        .await;
    let draft = app
        .add_job(json!({"title": "Secret Draft Role", "status": "draft"}))
        .await;
    assert!(old < newer && newer < draft);

    let resp = app.get("/").await;
    resp.assert_status_is_ok();
    resp.assert_content_type("text/html; charset=utf-8");
    let html = text(resp).await;
    let featured = html
        .find("Old Featured Designer")
        .expect("featured job shown");
    let newest = html.find("Newest Data Engineer").expect("newest job shown");
    assert!(featured < newest, "featured comes first");
    assert!(!html.contains("Secret Draft Role"), "drafts are not public");
    assert!(html.contains("Featured"), "featured is labelled");
    assert!(
        html.contains("€90,000–€120,000 a year"),
        "salary shown on cards"
    );
    assert!(html.contains("Europe"), "region shown on cards");
}

#[tokio::test]
async fn listing_paginates_without_overlap() {
    let app = TestApp::new();
    for i in 0..25 {
        app.clock.advance(60);
        app.add_job(json!({"title": format!("Role number {i:02}")}))
            .await;
    }
    let first = text(app.get("/jobs").await).await;
    let second = text(app.get("/jobs?page=2").await).await;
    assert!(first.contains("Role number 24") && !first.contains("Role number 04"));
    assert!(second.contains("Role number 04") && second.contains("Role number 00"));
    assert!(
        !second.contains("Role number 05"),
        "page 2 holds only the 5 oldest"
    );
    assert!(first.contains("href=\"/jobs?page=2\""), "a next link");
    assert!(first.contains("25 jobs"));
    // A malformed page number is ignored, not an error.
    app.get("/jobs?page=abc").await.assert_status_is_ok();
}

#[tokio::test]
async fn a_job_page_has_json_ld_and_open_graph() {
    let app = TestApp::new();
    let id = app
        .add_job(json!({
            "description": "## Hello\n\n<script>alert('x')</script>\n\nWe use **Rust** & </script> tricks.",
            "timezones": "-3..+3",
            "location": "Lisbon, Portugal",
            "remote": ["europe", "africa"]
        }))
        .await;
    let resp = app.get(&format!("/jobs/{id}-senior-rust-engineer")).await;
    resp.assert_status_is_ok();
    let html = text(resp).await;
    assert!(html.contains("<h2>Hello</h2>"), "Markdown rendered");
    assert!(html.contains("<strong>Rust</strong>"));
    assert!(!html.contains("<script>alert"), "raw HTML sanitised");
    assert!(
        html.contains(
            "<meta property=\"og:title\" content=\"Senior Rust Engineer at Acme Widgets\">"
        )
    );
    assert!(html.contains(&format!(
        "<link rel=\"canonical\" href=\"https://board.example/jobs/{id}-senior-rust-engineer\">"
    )));
    assert!(
        html.contains(&format!("href=\"/jobs/{id}/apply\"")),
        "an apply button"
    );

    let ld = json_ld(&html).expect("JSON-LD present");
    assert_eq!(ld["@type"], "JobPosting");
    assert_eq!(ld["title"], "Senior Rust Engineer");
    assert_eq!(ld["jobLocationType"], "TELECOMMUTE");
    assert_eq!(ld["employmentType"], "FULL_TIME");
    assert_eq!(ld["hiringOrganization"]["name"], "Acme Widgets");
    assert_eq!(ld["hiringOrganization"]["sameAs"], "https://acme.example");
    assert_eq!(ld["applicantLocationRequirements"][0]["name"], "Europe");
    assert_eq!(ld["applicantLocationRequirements"][1]["name"], "Africa");
    assert_eq!(ld["baseSalary"]["currency"], "EUR");
    assert_eq!(ld["baseSalary"]["value"]["minValue"], 90000);
    assert_eq!(ld["baseSalary"]["value"]["maxValue"], 120000);
    assert_eq!(ld["baseSalary"]["value"]["unitText"], "YEAR");
    assert!(ld["datePosted"].as_str().is_some_and(|d| d.ends_with('Z')));
    assert!(
        ld["validThrough"]
            .as_str()
            .is_some_and(|d| d.starts_with("2026-12-27")),
        "{}",
        ld["validThrough"]
    );
    assert!(
        ld["description"]
            .as_str()
            .is_some_and(|d| d.contains("<strong>Rust</strong>"))
    );
    // No text in the document can close the script element early.
    let start = html.find("application/ld+json").expect("script");
    let script = &html[start..];
    let script = &script[..script.find("</script>").expect("end")];
    assert!(!script.contains("</"), "JSON-LD escapes closing tags");
}

/// Google's JobPosting wants a country in a job's address, and schema.org has
/// no use for null: what the board does not know is left out.
#[tokio::test]
async fn json_ld_gives_the_country_and_leaves_out_what_is_unknown() {
    let app = TestApp::new();
    let hybrid = app
        .add_job(json!({
            "title": "Hybrid Role",
            "location": "Lisbon, Portugal",
            "company": {"name": "Siteless Co"}
        }))
        .await;
    let global = app
        .add_job(json!({"title": "Global Role", "location": "Global", "remote": ["worldwide"]}))
        .await;

    let html = text(app.get(&format!("/jobs/{hybrid}-hybrid-role")).await).await;
    let ld = json_ld(&html).expect("JSON-LD present");
    assert_eq!(
        ld["jobLocation"],
        json!({"@type": "Place", "address": {
            "@type": "PostalAddress", "addressLocality": "Lisbon", "addressCountry": "Portugal"
        }})
    );
    assert_eq!(
        ld["hiringOrganization"],
        json!({"@type": "Organization", "name": "Siteless Co"}),
        "no sameAs: null without a website"
    );

    let html = text(app.get(&format!("/jobs/{global}-global-role")).await).await;
    let ld = json_ld(&html).expect("JSON-LD present");
    assert_eq!(ld.get("jobLocation"), None, "\"Global\" is no address");
    assert_eq!(ld["jobLocationType"], "TELECOMMUTE");
    assert_eq!(ld["applicantLocationRequirements"][0]["name"], "Worldwide");
}

#[tokio::test]
async fn a_wrong_slug_redirects_permanently() {
    let app = TestApp::new();
    let id = app.add_job(json!({"title": "Café Owner — Lisboa"})).await;
    for path in [format!("/jobs/{id}-wrong"), format!("/jobs/{id}")] {
        let resp = app.get(&path).await;
        resp.assert_status(StatusCode::MOVED_PERMANENTLY);
        resp.assert_header("location", format!("/jobs/{id}-cafe-owner-lisboa"));
    }
    app.get(&format!("/jobs/{id}-cafe-owner-lisboa"))
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn a_closed_job_stays_with_a_notice_and_others_are_not_found() {
    let app = TestApp::new();
    let id = app.add_job(json!({})).await;
    let filled = app
        .add_job(json!({"title": "Filled Role", "status": "filled"}))
        .await;
    let draft = app
        .add_job(json!({"title": "Draft Role", "status": "pending_review"}))
        .await;
    let path = format!("/jobs/{id}-senior-rust-engineer");
    assert!(
        text(app.get(&path).await)
            .await
            .contains("application/ld+json")
    );

    // Past its expiry the job is no longer open: page stays, without apply or JSON-LD.
    app.clock.advance(31 * 86_400);
    let resp = app.get(&path).await;
    resp.assert_status_is_ok();
    let html = text(resp).await;
    assert!(html.contains("no longer open"));
    assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"));
    assert!(!html.contains("application/ld+json"));
    assert!(!html.contains(&format!("/jobs/{id}/apply")));
    assert!(
        !text(app.get("/").await)
            .await
            .contains("Senior Rust Engineer"),
        "gone from the board"
    );

    let html = text(app.get(&format!("/jobs/{filled}-filled-role")).await).await;
    assert!(html.contains("no longer open"));

    let resp = app.get(&format!("/jobs/{draft}-draft-role")).await;
    resp.assert_status(StatusCode::NOT_FOUND);
    app.get("/jobs/999999-nothing")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get("/jobs/not-a-number")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn apply_counts_the_click_and_redirects() {
    let app = TestApp::new();
    let id = app.add_job(json!({})).await;
    let resp = app.get(&format!("/jobs/{id}/apply")).await;
    resp.assert_status(StatusCode::FOUND);
    resp.assert_header("location", "https://acme.example/apply");
    app.get(&format!("/jobs/{id}/apply")).await;
    app.flush_counters().await;
    assert_eq!(
        app.scalar("SELECT apply_clicks FROM jobs WHERE id = ?1", id)
            .await,
        2
    );

    let by_mail = app
        .add_job(
            json!({"title": "Mail Role", "apply_url": null, "apply_email": "hire@acme.example"}),
        )
        .await;
    let resp = app.get(&format!("/jobs/{by_mail}/apply")).await;
    resp.assert_status_is_ok();
    let html = text(resp).await;
    assert!(html.contains("mailto:hire@acme.example"));
    app.get("/jobs/424242/apply")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn views_are_counted_even_from_the_page_cache() {
    let app = TestApp::new();
    let id = app.add_job(json!({})).await;
    let path = format!("/jobs/{id}-senior-rust-engineer");
    for _ in 0..3 {
        app.get(&path).await.assert_status_is_ok();
    }
    assert_eq!(
        app.scalar("SELECT views FROM jobs WHERE id = ?1", id).await,
        0,
        "not yet written"
    );
    app.flush_counters().await;
    assert_eq!(
        app.scalar("SELECT views FROM jobs WHERE id = ?1", id).await,
        3
    );
    // A redirect is not a view.
    app.get(&format!("/jobs/{id}-old-slug")).await;
    app.flush_counters().await;
    assert_eq!(
        app.scalar("SELECT views FROM jobs WHERE id = ?1", id).await,
        3
    );
}

#[tokio::test]
async fn a_new_job_shows_at_once_despite_the_page_cache() {
    let app = TestApp::new();
    app.add_job(json!({"title": "First Role"})).await;
    assert!(text(app.get("/").await).await.contains("First Role"));
    app.add_job(json!({"title": "Second Role"})).await;
    assert!(text(app.get("/").await).await.contains("Second Role"));
}

#[tokio::test]
async fn a_company_page_lists_its_live_jobs() {
    let app = TestApp::new();
    app.add_job(json!({"title": "Live Role"})).await;
    app.add_job(json!({"title": "Draft Role", "status": "draft"}))
        .await;
    app.add_job(json!({"title": "Other Co Role", "company": {"name": "Other Co"}}))
        .await;
    let resp = app.get("/companies/acme-widgets").await;
    resp.assert_status_is_ok();
    let html = text(resp).await;
    assert!(html.contains("Acme Widgets") && html.contains("Live Role"));
    assert!(!html.contains("Draft Role") && !html.contains("Other Co Role"));
    assert!(html.contains("https://acme.example"));
    app.get("/companies/nobody")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn errors_are_friendly_pages() {
    let app = TestApp::new();
    let resp = app.get("/no/such/page").await;
    resp.assert_status(StatusCode::NOT_FOUND);
    resp.assert_content_type("text/html; charset=utf-8");
    let html = text(resp).await;
    assert!(html.contains("Page not found") && html.contains("href=\"/jobs\""));

    let resp = app.http.post("/").send().await;
    resp.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    resp.assert_content_type("text/html; charset=utf-8");
}

#[tokio::test]
async fn sitemap_and_robots() {
    let app = TestApp::new();
    let id = app.add_job(json!({})).await;
    let draft = app
        .add_job(json!({"title": "Hidden", "status": "draft"}))
        .await;
    let resp = app.get("/sitemap.xml").await;
    resp.assert_status_is_ok();
    resp.assert_content_type("application/xml; charset=utf-8");
    let xml = text(resp).await;
    assert!(xml.contains("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"));
    assert!(xml.contains(&format!(
        "<loc>https://board.example/jobs/{id}-senior-rust-engineer</loc>"
    )));
    assert!(xml.contains("<loc>https://board.example/companies/acme-widgets</loc>"));
    assert!(!xml.contains(&format!("/jobs/{draft}-")));

    let robots = text(app.get("/robots.txt").await).await;
    assert!(robots.contains("Sitemap: https://board.example/sitemap.xml"));
    assert!(robots.contains("Disallow: /jobs/*/apply"));
}

#[tokio::test]
async fn health_reports_the_database() {
    let app = TestApp::new();
    let resp = app.get("/healthz").await;
    resp.assert_status_is_ok();
    resp.assert_json(json!({"status": "ok", "database": "ok", "index": "ready"}))
        .await;
}

#[tokio::test]
async fn every_response_carries_security_headers_and_no_cookie() {
    let app = TestApp::new();
    let id = app.add_job(json!({})).await;
    for path in [
        "/".to_string(),
        "/jobs".to_string(),
        format!("/jobs/{id}-senior-rust-engineer"),
        "/companies/acme-widgets".to_string(),
        "/missing".to_string(),
        "/api/v1/jobs".to_string(),
        "/sitemap.xml".to_string(),
    ] {
        let resp = app.get(&path).await;
        let h = resp.0.headers();
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no CSP on {path}"));
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(
            h.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{path}"
        );
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert!(!h.contains_key("set-cookie"), "{path} sets a cookie");
    }
}

#[tokio::test]
async fn https_base_url_turns_on_hsts() {
    let app = TestApp::new();
    let resp = app.get("/").await;
    assert!(resp.0.headers().contains_key("strict-transport-security"));
    let plain = TestApp::with_env(&[("JOBBOARD_BASE_URL", "http://localhost:8080")]);
    assert!(
        !plain
            .get("/")
            .await
            .0
            .headers()
            .contains_key("strict-transport-security")
    );
}

#[tokio::test]
async fn pages_have_no_third_party_urls() {
    let app = TestApp::new();
    let id = app
        .add_job(
            json!({"company": {"name": "Logo Co", "logo_url": "https://cdn.example/logo.png"}}),
        )
        .await;
    for path in [
        "/".to_string(),
        format!("/jobs/{id}-senior-rust-engineer"),
        "/companies/logo-co".to_string(),
    ] {
        let html = text(app.get(&path).await).await;
        for attr in ["src=\"http", "href=\"//", "src=\"//"] {
            assert!(
                !html.contains(attr),
                "{path} loads a third-party resource ({attr})"
            );
        }
        assert!(
            !html.contains("src=\"https://cdn.example"),
            "{path} shows a remote logo"
        );
        assert!(!html.contains("style=\""), "{path} has inline style");
    }
}

#[tokio::test]
async fn a_server_error_is_a_plain_page_with_a_reference() {
    let app = TestApp::new();
    let id = app.add_job(json!({})).await;
    // Break the database under the running board.
    let db = app.state.db.path().to_path_buf();
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute_batch("PRAGMA foreign_keys = OFF; DROP TABLE jobs;")
        .expect("drop");
    drop(conn);
    let resp = app.get(&format!("/jobs/{id}-senior-rust-engineer")).await;
    resp.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    resp.assert_content_type("text/html; charset=utf-8");
    let html = text(resp).await;
    assert!(html.contains("Something went wrong"));
    assert!(html.contains("Reference:"), "a request id to quote");
    assert!(
        !html.contains("no such table"),
        "the cause stays in the log"
    );
    let resp = app.get(&format!("/api/v1/jobs/{id}")).await;
    resp.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    let body = crate::common::json_body(resp).await;
    assert_eq!(body["error"]["code"], "internal");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("reference"))
    );
    assert!(!body.to_string().contains("no such table"));
}
