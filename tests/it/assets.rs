//! Embedded assets and templates.

use poem::http::StatusCode;

use crate::common::{TestApp, text};

#[tokio::test]
async fn assets_are_fingerprinted_immutable_and_revalidate() {
    let app = TestApp::new();
    let html = text(app.get("/").await).await;
    let start = html.find("/assets/css/app.").expect("stylesheet link");
    let url = &html[start..start + html[start..].find('"').expect("end of url")];
    let resp = app.get(url).await;
    resp.assert_status_is_ok();
    resp.assert_content_type("text/css; charset=utf-8");
    resp.assert_header("cache-control", "public, max-age=31536000, immutable");
    let etag = resp.0.headers().get("etag").expect("etag").clone();
    let again = app.http.get(url).header("if-none-match", etag).send().await;
    again.assert_status(StatusCode::NOT_MODIFIED);
    // The unfingerprinted name is not served (it could never be cached safely).
    app.get("/assets/css/app.css")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get("/favicon.ico").await.assert_status_is_ok();
}

#[tokio::test]
async fn every_template_loads() {
    let app = TestApp::new();
    let names = app.state.templates.names();
    let on_disk: Vec<String> =
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"));
    assert!(!on_disk.is_empty());
    for name in on_disk {
        assert!(names.contains(&name), "template {name} is not loaded");
    }
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                out.push(rel.display().to_string());
            }
        }
    }
    out
}
