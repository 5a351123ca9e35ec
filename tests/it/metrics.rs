//! Observability: `/metrics` in the Prometheus text format (checked line by
//! line by a small parser), who may read it, `/healthz` details, request ids
//! on pages, headers and log lines, and JSON logs from the real binary.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jobboard::clock::Clock;
use poem::http::StatusCode;
use serde_json::json;

use crate::common::{TestApp, json_body, text};

/// One sample line: `name{labels} value`.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed and checked `/metrics` page.
#[derive(Debug)]
struct Scrape {
    types: HashMap<String, String>,
    samples: Vec<Sample>,
}

impl Scrape {
    /// The samples named `name` whose labels include every pair of `labels`.
    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The value of the one sample named `name` with exactly these labels.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == want)
            .map(|s| s.value)
    }

    /// The distinct values of a label across a metric's samples.
    fn label_values(&self, name: &str, label: &str) -> BTreeSet<String> {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .filter_map(|s| s.labels.get(label).cloned())
            .collect()
    }
}

fn valid_name(name: &str, first: impl Fn(char) -> bool) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(first)
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Parses `{a="x",b="y"} 1` after a metric name: the labels and what follows.
fn parse_labels(rest: &str, line: &str) -> (BTreeMap<String, String>, String) {
    let mut labels = BTreeMap::new();
    let Some(mut rest) = rest.strip_prefix('{') else {
        return (labels, rest.to_string());
    };
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return (labels, after.to_string());
        }
        let eq = rest
            .find('=')
            .unwrap_or_else(|| panic!("label without =: {line}"));
        let name = &rest[..eq];
        assert!(
            valid_name(name, |c| c.is_ascii_alphabetic() || c == '_') && !name.contains(':'),
            "bad label name {name:?}: {line}"
        );
        let mut chars = rest[eq + 1..]
            .strip_prefix('"')
            .unwrap_or_else(|| panic!("unquoted label value: {line}"))
            .char_indices();
        let mut value = String::new();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => panic!("bad escape {other:?}: {line}"),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => {
                    assert!(c != '\n', "raw newline in a label: {line}");
                    value.push(c)
                }
                None => panic!("unterminated label value: {line}"),
            }
        };
        assert!(
            labels.insert(name.to_string(), value).is_none(),
            "label {name} twice: {line}"
        );
        rest = &rest[eq + 1 + 1 + end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

/// Parses a page of the text format (0.0.4), failing on anything out of
/// place: a sample before its family's `# TYPE`, a family split in two, a
/// duplicate series, a malformed line or value; then checks every histogram
/// (cumulative buckets in order, ending in `+Inf` equal to `_count`).
fn parse(page: &str) -> Scrape {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples: Vec<Sample> = Vec::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut seen: BTreeSet<(String, BTreeMap<String, String>)> = BTreeSet::new();
    assert!(page.ends_with('\n'), "the page ends with a newline");
    for line in page.lines() {
        if let Some(comment) = line.strip_prefix('#') {
            let words: Vec<&str> = comment.trim_start().splitn(3, ' ').collect();
            match words.as_slice() {
                ["HELP", name, _] => assert!(valid_name(name, |c| !c.is_ascii_digit())),
                ["TYPE", name, kind] => {
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(kind),
                        "{line}"
                    );
                    assert!(
                        types.insert(name.to_string(), kind.to_string()).is_none(),
                        "TYPE twice for {name}"
                    );
                    if let Some(prev) = current.replace(name.to_string()) {
                        finished.insert(prev);
                    }
                }
                _ => {}
            }
            continue;
        }
        assert!(!line.trim().is_empty(), "blank line in the page");
        let name_end = line
            .find(['{', ' '])
            .unwrap_or_else(|| panic!("no value: {line}"));
        let name = &line[..name_end];
        assert!(
            valid_name(name, |c| c.is_ascii_alphabetic() || c == '_' || c == ':'),
            "bad metric name: {line}"
        );
        let (labels, rest) = parse_labels(&line[name_end..], line);
        let value_text = rest
            .strip_prefix(' ')
            .unwrap_or_else(|| panic!("no space before the value: {line}"));
        assert!(!value_text.contains(' '), "a timestamp or junk: {line}");
        let value: f64 = match value_text {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value: {line}")),
        };
        let family = match types.get(name).map(String::as_str) {
            Some(_) => name.to_string(),
            None => ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    let base = name.strip_suffix(suffix)?;
                    (types.get(base).map(String::as_str) == Some("histogram"))
                        .then(|| base.to_string())
                })
                .unwrap_or_else(|| panic!("sample before its # TYPE: {line}")),
        };
        assert_eq!(
            current.as_deref(),
            Some(family.as_str()),
            "sample outside its family's group: {line}"
        );
        assert!(!finished.contains(&family), "{family} split in two groups");
        if types[&family] == "counter" {
            assert!(value >= 0.0, "a negative counter: {line}");
        }
        assert!(
            seen.insert((name.to_string(), labels.clone())),
            "duplicate series: {line}"
        );
        samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    let scrape = Scrape { types, samples };
    check_histograms(&scrape);
    scrape
}

/// Every histogram series: buckets in increasing `le`, cumulative, the last
/// `+Inf` and equal to `_count`; `_sum` present.
fn check_histograms(scrape: &Scrape) {
    for (family, kind) in &scrape.types {
        if kind != "histogram" {
            continue;
        }
        let mut series: BTreeMap<BTreeMap<String, String>, Vec<(f64, f64)>> = BTreeMap::new();
        for s in scrape.find(&format!("{family}_bucket"), &[]) {
            let mut labels = s.labels.clone();
            let le = labels.remove("le").expect("a bucket has le");
            let le: f64 = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().expect("le is a number")
            };
            series.entry(labels).or_default().push((le, s.value));
        }
        for (labels, buckets) in series {
            let pairs: Vec<(&str, &str)> = labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            assert!(
                buckets.windows(2).all(|w| w[0].0 < w[1].0),
                "{family}{labels:?}: bounds out of order"
            );
            assert!(
                buckets.windows(2).all(|w| w[0].1 <= w[1].1),
                "{family}{labels:?}: buckets are not cumulative: {buckets:?}"
            );
            let (last_le, last) = *buckets.last().expect("buckets");
            assert_eq!(last_le, f64::INFINITY, "{family}: the last bucket is +Inf");
            let count = scrape
                .value(&format!("{family}_count"), &pairs)
                .unwrap_or_else(|| panic!("{family}{labels:?}: no _count"));
            assert_eq!(last, count, "{family}{labels:?}: +Inf equals _count");
            let sum = scrape
                .value(&format!("{family}_sum"), &pairs)
                .unwrap_or_else(|| panic!("{family}{labels:?}: no _sum"));
            assert!(sum >= 0.0);
        }
    }
}

/// A request from `ip` (as a proxy on this machine would forward it).
async fn get_from(app: &TestApp, path: &str, ip: &str) -> poem::test::TestResponse {
    app.http
        .get(path)
        .header("x-forwarded-for", ip)
        .send()
        .await
}

/// Reads `/metrics` as a scraper on this machine would, checking the format.
async fn scrape(app: &TestApp) -> Scrape {
    let resp = get_from(app, "/metrics", "127.0.0.1").await;
    resp.assert_status_is_ok();
    resp.assert_header("content-type", "text/plain; version=0.0.4; charset=utf-8");
    parse(&text(resp).await)
}

fn requests(s: &Scrape, route: &str, method: &str, status: &str) -> f64 {
    s.value(
        "jobboard_http_requests_total",
        &[("route", route), ("method", method), ("status", status)],
    )
    .unwrap_or(0.0)
}

#[tokio::test]
async fn requests_are_counted_by_route_pattern_and_status() {
    let app = TestApp::new();
    let id = app.add_job(json!({})).await;
    let page = format!("/jobs/{id}-senior-rust-engineer");
    app.get(&page).await.assert_status_is_ok();
    app.get(&page).await.assert_status_is_ok();
    // A wrong slug is redirected, a missing job is 404: same route.
    app.get(&format!("/jobs/{id}-x"))
        .await
        .assert_status(StatusCode::MOVED_PERMANENTLY);
    app.get("/jobs/999999-gone")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/api/v1/jobs/{id}"))
        .await
        .assert_status_is_ok();
    app.http
        .post("/jobs")
        .send()
        .await
        .assert_status(StatusCode::METHOD_NOT_ALLOWED);

    let s = scrape(&app).await;
    assert_eq!(requests(&s, "/jobs/:id_slug", "GET", "200"), 2.0);
    assert_eq!(requests(&s, "/jobs/:id_slug", "GET", "301"), 1.0);
    assert_eq!(requests(&s, "/jobs/:id_slug", "GET", "404"), 1.0);
    assert_eq!(requests(&s, "/api/v1/jobs/:id", "GET", "200"), 1.0);
    assert_eq!(requests(&s, "/jobs", "POST", "405"), 1.0);
    let routes = s.label_values("jobboard_http_requests_total", "route");
    assert!(
        routes.iter().all(|r| !r.contains(&format!("/{id}"))),
        "no raw path in the labels: {routes:?}"
    );
    let durations = s
        .value(
            "jobboard_http_request_duration_seconds_count",
            &[("route", "/jobs/:id_slug")],
        )
        .expect("a histogram for the route");
    assert_eq!(durations, 4.0);
    // The scrape itself is counted by the next one.
    let again = scrape(&app).await;
    assert_eq!(requests(&again, "/metrics", "GET", "200"), 1.0);
}

#[tokio::test]
async fn unknown_paths_do_not_grow_the_labels() {
    let app = TestApp::new();
    let before = scrape(&app).await;
    let routes_before = before.label_values("jobboard_http_requests_total", "route");
    for _ in 0..50 {
        let path = format!("/{:x}/{:x}.php", fastrand::u64(..), fastrand::u32(..));
        app.get(&path).await.assert_status(StatusCode::NOT_FOUND);
    }
    app.get("/api/v1/nothing-here")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let s = scrape(&app).await;
    assert_eq!(requests(&s, "other", "GET", "404"), 51.0);
    let routes = s.label_values("jobboard_http_requests_total", "route");
    let added: Vec<_> = routes.difference(&routes_before).collect();
    assert_eq!(
        added,
        vec!["/metrics", "other"],
        "50 random paths add one label value"
    );
    let series = s
        .samples
        .iter()
        .filter(|x| x.name.starts_with("jobboard_http_request"))
        .count();
    assert!(series < 60, "{series} series after 50 random paths");
}

#[tokio::test]
async fn histograms_are_cumulative_and_searches_are_timed() {
    let app = TestApp::new();
    app.add_job(json!({})).await;
    for path in [
        "/",
        "/jobs?q=rust",
        "/jobs?q=nothing+matches",
        "/api/v1/jobs?q=rust",
    ] {
        app.get(path).await.assert_status_is_ok();
    }
    let s = scrape(&app).await;
    // `parse` checked every histogram; these are the ones that must be there.
    assert_eq!(
        s.types
            .get("jobboard_http_request_duration_seconds")
            .map(String::as_str),
        Some("histogram")
    );
    let searches = s
        .value("jobboard_search_duration_seconds_count", &[])
        .expect("search histogram");
    assert!(searches >= 4.0, "every listing searched: {searches}");
    let buckets = s.find("jobboard_search_duration_seconds_bucket", &[]);
    assert_eq!(buckets.len(), 14, "13 bounds and +Inf");
    assert_eq!(
        s.value("jobboard_search_duration_seconds_bucket", &[("le", "+Inf")]),
        Some(searches)
    );
    let home = s
        .value(
            "jobboard_http_request_duration_seconds_bucket",
            &[("route", "/"), ("le", "+Inf")],
        )
        .expect("home histogram");
    assert_eq!(home, 1.0);
    assert_eq!(s.value("jobboard_index_docs", &[]), Some(1.0));
    assert_eq!(s.value("jobboard_index_ready", &[]), Some(1.0));
    assert_eq!(s.value("jobboard_database_up", &[]), Some(1.0));
    assert!(
        s.value("jobboard_database_bytes", &[])
            .is_some_and(|b| b > 0.0)
    );
    assert!(
        s.value("process_start_time_seconds", &[])
            .is_some_and(|t| t > 1.6e9)
    );
    if cfg!(target_os = "linux") {
        assert!(
            s.value("process_resident_memory_bytes", &[])
                .is_some_and(|b| b > 0.0)
        );
        assert!(
            s.value("jobboard_disk_free_bytes", &[])
                .is_some_and(|b| b > 0.0)
        );
    }
}

#[tokio::test]
async fn the_jobs_gauge_matches_the_database() {
    let app = TestApp::new();
    app.add_job(json!({})).await;
    app.add_job(json!({"title": "Data Engineer"})).await;
    let owner = app.create_user("owner@example.com", false).await;
    app.add_owned_job(owner, "draft", json!({})).await;
    app.add_owned_job(owner, "pending_review", json!({})).await;
    app.add_owned_job(owner, "published", json!({})).await;
    let s = scrape(&app).await;
    for status in jobboard::jobs::model::Status::ALL {
        let status = status.as_str();
        let in_db = app
            .state
            .db
            .read(move |c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM jobs WHERE deleted_at IS NULL AND status = ?1",
                    [status],
                    |r| r.get::<_, i64>(0),
                )?)
            })
            .await
            .expect("count");
        assert_eq!(
            s.value("jobboard_jobs", &[("status", status)]),
            Some(in_db as f64),
            "{status}"
        );
    }
    assert_eq!(
        s.value("jobboard_jobs", &[("status", "published")]),
        Some(3.0)
    );
    assert_eq!(s.value("jobboard_jobs", &[("status", "draft")]), Some(1.0));
}

/// Queues one email, in the same way as the board's own mail.
async fn queue_mail(app: &TestApp, to: &'static str) {
    let now = app.clock.unix();
    app.state
        .db
        .write(move |tx| {
            let payload =
                json!({"to": to, "subject": "Hello", "eml": "Subject: Hello\r\n\r\nHi.\r\n"});
            jobboard::mail::queue_payload(tx, &payload, now)
        })
        .await
        .expect("queued");
}

#[tokio::test]
async fn mail_sent_and_failed_are_counted() {
    // Delivered to the outbox.
    let app = TestApp::new();
    queue_mail(&app, "a@example.com").await;
    app.run_pending_tasks();
    let s = scrape(&app).await;
    assert_eq!(s.value("jobboard_mail_sent_total", &[]), Some(1.0));
    assert_eq!(s.value("jobboard_mail_failed_total", &[]), Some(0.0));

    // An SMTP server that is not there: the delivery fails and is retried.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = TestApp::with_env(&[
        ("JOBBOARD_MAIL_TRANSPORT", "smtp"),
        ("JOBBOARD_MAIL_SMTP_URL", url.as_str()),
    ]);
    queue_mail(&app, "b@example.com").await;
    app.run_pending_tasks();
    let s = scrape(&app).await;
    assert_eq!(s.value("jobboard_mail_sent_total", &[]), Some(0.0));
    assert_eq!(s.value("jobboard_mail_failed_total", &[]), Some(1.0));
    assert_eq!(s.value("jobboard_tasks_failed_total", &[]), Some(1.0));
    assert_eq!(
        s.value("jobboard_tasks", &[("state", "queued")]),
        Some(1.0),
        "the failed mail waits for its retry"
    );
    assert_eq!(s.value("jobboard_tasks", &[("state", "failed")]), Some(0.0));
}

#[tokio::test]
async fn metrics_are_refused_to_addresses_not_allowed() {
    let app = TestApp::new();
    for ip in ["203.0.113.7", "10.0.0.1", "2001:db8::1"] {
        let resp = get_from(&app, "/metrics", ip).await;
        resp.assert_status(StatusCode::FORBIDDEN);
        let body = text(resp).await;
        assert!(!body.contains("jobboard_"), "{ip}: {body}");
    }
    // No address at all (no socket, no trusted header): refused too.
    app.get("/metrics")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    for ip in ["127.0.0.1", "127.3.4.5", "::1"] {
        get_from(&app, "/metrics", ip).await.assert_status_is_ok();
    }

    let app = TestApp::with_env(&[("JOBBOARD_METRICS_ALLOW", "10.0.0.0/8, 2001:db8::/32")]);
    get_from(&app, "/metrics", "10.20.30.40")
        .await
        .assert_status_is_ok();
    get_from(&app, "/metrics", "2001:db8:1::5")
        .await
        .assert_status_is_ok();
    get_from(&app, "/metrics", "127.0.0.1")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    get_from(&app, "/metrics", "11.0.0.1")
        .await
        .assert_status(StatusCode::FORBIDDEN);

    let app = TestApp::with_env(&[("JOBBOARD_METRICS_ENABLED", "false")]);
    get_from(&app, "/metrics", "127.0.0.1")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_configured_token_is_required() {
    let token = "s3cret-metrics-token-0123456789";
    let app = TestApp::with_env(&[("JOBBOARD_METRICS_TOKEN", token)]);
    let ask = |auth: Option<String>, ip: &'static str| {
        let mut req = app.http.get("/metrics").header("x-forwarded-for", ip);
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        req.send()
    };
    let resp = ask(None, "127.0.0.1").await;
    resp.assert_status(StatusCode::UNAUTHORIZED);
    resp.assert_header("www-authenticate", "Bearer");
    ask(Some("Bearer wrong-token-wrong-token".into()), "127.0.0.1")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    ask(Some(token.into()), "127.0.0.1")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    ask(Some(format!("Bearer {token}")), "127.0.0.1")
        .await
        .assert_status_is_ok();
    // The token does not open the door to other addresses.
    ask(Some(format!("Bearer {token}")), "203.0.113.7")
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[test]
fn bad_metrics_settings_are_named() {
    let load = |k: &str, v: &str| {
        jobboard::config::Config::load(&jobboard::config::Inputs {
            env: [(k.to_string(), v.to_string())].into(),
            ..Default::default()
        })
    };
    let e = load("JOBBOARD_METRICS_ALLOW", "127.0.0.1/8, localhost").expect_err("a name");
    assert!(e.to_string().contains("metrics.allow"), "{e}");
    assert!(e.to_string().contains("localhost"), "{e}");
    let e = load("JOBBOARD_METRICS_TOKEN", "short").expect_err("short");
    assert!(e.to_string().contains("metrics.token"), "{e}");
    assert!(
        !e.to_string().contains("short\""),
        "the secret is masked: {e}"
    );
    let e = load("JOBBOARD_LOG_FORMAT", "xml").expect_err("format");
    assert!(e.to_string().contains("log.format"), "{e}");
    let c = load("JOBBOARD_METRICS_ALLOW", "").expect("an empty list");
    assert!(c.metrics.allow.is_empty());
}

#[tokio::test]
async fn healthz_gives_details_to_those_who_may_read_metrics() {
    let app = TestApp::new();
    app.add_job(json!({})).await;
    queue_mail(&app, "c@example.com").await;

    let public = json_body(get_from(&app, "/healthz", "203.0.113.7").await).await;
    assert_eq!(
        public,
        json!({"status": "ok", "database": "ok", "index": "ready"})
    );

    let resp = get_from(&app, "/healthz", "127.0.0.1").await;
    resp.assert_status_is_ok();
    let h = json_body(resp).await;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["database"], "ok");
    assert_eq!(h["index"], "ready");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    assert!(h["uptime_seconds"].is_u64(), "{h}");
    assert_eq!(h["index_docs"], 1);
    assert_eq!(h["tasks_queued"], 1, "{h}");
    assert_eq!(h["tasks_failed"], 0);
    // The test board runs no worker thread.
    assert_eq!(h["worker"]["state"], "elsewhere");
    assert!(h["database_bytes"].as_u64().is_some_and(|b| b > 0), "{h}");
    if cfg!(target_os = "linux") {
        assert!(h["disk_free_bytes"].as_u64().is_some_and(|b| b > 0), "{h}");
    }
    // A worker that goes round its loop shows.
    app.state.metrics.worker_active();
    let h = json_body(get_from(&app, "/healthz", "127.0.0.1").await).await;
    assert_eq!(h["worker"]["state"], "running", "{h}");
    assert!(h["worker"]["idle_seconds"].is_u64());
}

#[tokio::test]
async fn healthz_is_503_when_the_database_does_not_answer() {
    let app = TestApp::new();
    app.state.db.close();
    let db = app.state.config.db_path();
    for file in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{file}", db.display()));
    }
    for ip in ["203.0.113.7", "127.0.0.1"] {
        let resp = get_from(&app, "/healthz", ip).await;
        resp.assert_status(StatusCode::SERVICE_UNAVAILABLE);
        let h = json_body(resp).await;
        assert_eq!(h["status"], "error", "{ip}");
        assert_eq!(h["database"], "error", "{ip}");
    }
    let s = scrape(&app).await;
    assert_eq!(s.value("jobboard_database_up", &[]), Some(0.0));
}

#[tokio::test]
async fn every_response_has_a_request_id_and_a_5xx_page_shows_it() {
    let app = TestApp::new();
    let a = app.get("/").await;
    let b = app.get("/").await;
    let id_a = a.0.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_string();
    let id_b = b.0.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(!id_a.is_empty());
    assert_ne!(id_a, id_b, "each request has its own id");

    // A proxy's id is kept when it is a plain token, else replaced.
    let resp = app
        .http
        .get("/")
        .header("x-request-id", "f00d-1234")
        .send()
        .await;
    resp.assert_header("x-request-id", "f00d-1234");
    let resp = app
        .http
        .get("/")
        .header("x-request-id", "<script>")
        .send()
        .await;
    assert_ne!(resp.0.headers()["x-request-id"], "<script>");

    // Break the database under a page: the 500 page names the request's id.
    app.state
        .db
        .write(|tx| Ok(tx.execute_batch("DROP TABLE companies")?))
        .await
        .expect("dropped");
    for path in ["/companies/acme", "/api/v1/companies/acme"] {
        let resp = app.get(path).await;
        resp.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
        let id = resp.0.headers()["x-request-id"]
            .to_str()
            .expect("ascii")
            .to_string();
        let body = text(resp).await;
        assert!(body.contains(&id), "{path}: the page names {id}: {body}");
        assert!(
            !body.contains("no such table"),
            "{path}: no internals shown"
        );
    }
    let s = scrape(&app).await;
    assert_eq!(requests(&s, "/companies/:slug", "GET", "500"), 1.0);
    assert_eq!(requests(&s, "/api/v1/companies/:slug", "GET", "500"), 1.0);
}

mod binary {
    //! The real binary with `log.format = "json"`.

    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::mpsc;
    use std::time::Duration;

    use serde_json::Value;

    struct Server {
        child: std::process::Child,
        lines: mpsc::Receiver<String>,
        /// Every stderr line so far.
        seen: Vec<String>,
        addr: String,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    impl Server {
        fn start(data: &std::path::Path) -> Server {
            let mut child = crate::common::bin()
                .args(["--data-dir", data.to_str().expect("utf-8")])
                .args(["serve", "--listen", "127.0.0.1:0"])
                .env("JOBBOARD_LOG_FORMAT", "json")
                .env("RUST_LOG", "info,jobboard::access=debug")
                .stderr(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn serve");
            let stderr = child.stderr.take().expect("stderr");
            let (tx, lines) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            let mut server = Server {
                child,
                lines,
                seen: Vec::new(),
                addr: String::new(),
            };
            let started = server.wait_for(|v| {
                v["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("listening on "))
            });
            let message = started["fields"]["message"].as_str().expect("message");
            server.addr = message["listening on ".len()..].trim().to_string();
            server
        }

        /// The first log line (a JSON object) that `check` accepts, waiting
        /// for the server to write it.
        fn wait_for(&mut self, check: impl Fn(&Value) -> bool) -> Value {
            loop {
                let line = self
                    .lines
                    .recv_timeout(Duration::from_secs(30))
                    .unwrap_or_else(|_| panic!("no such log line; saw:\n{}", self.seen.join("\n")));
                self.seen.push(line.clone());
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
                assert!(value.is_object(), "{line}");
                assert!(
                    value["timestamp"].is_string() && value["level"].is_string(),
                    "{line}"
                );
                if check(&value) {
                    return value;
                }
            }
        }

        /// GET over a real socket: status, headers (lowercase names), body.
        fn get(&self, path: &str) -> (u16, Vec<(String, String)>, String) {
            let mut s = std::net::TcpStream::connect(&self.addr).expect("connect");
            write!(
                s,
                "GET {path} HTTP/1.1\r\nHost: board\r\nConnection: close\r\n\r\n"
            )
            .expect("send");
            let mut raw = String::new();
            s.read_to_string(&mut raw).expect("read");
            let (head, body) = raw.split_once("\r\n\r\n").expect("a head");
            let mut lines = head.lines();
            let status = lines
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|c| c.parse().ok())
                .expect("status");
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            (status, headers, body.to_string())
        }
    }

    fn request_id(headers: &[(String, String)]) -> String {
        headers
            .iter()
            .find(|(k, _)| k == "x-request-id")
            .map(|(_, v)| v.clone())
            .expect("an X-Request-Id header")
    }

    #[test]
    fn json_logs_carry_the_request_id_of_every_request() {
        let dir = tempfile::tempdir().expect("dir");
        let data = dir.path().join("data");
        let mut server = Server::start(&data);

        let (status, headers, _) = server.get("/healthz");
        assert_eq!(status, 200);
        let id = request_id(&headers);
        let access = server.wait_for(|v| v["span"]["request_id"] == id.as_str());
        assert_eq!(access["target"], "jobboard::access", "{access}");
        assert_eq!(access["level"], "DEBUG");
        assert_eq!(access["fields"]["status"], 200);
        assert!(access["fields"]["ms"].is_number(), "{access}");
        assert_eq!(access["fields"]["route"], "/healthz");
        assert_eq!(access["fields"]["method"], "GET");

        // A failure: the id on the page, in the header and on the error line.
        let conn = rusqlite::Connection::open(data.join("jobboard.db")).expect("open");
        conn.busy_timeout(Duration::from_secs(10)).expect("timeout");
        conn.execute_batch("DROP TABLE companies").expect("drop");
        drop(conn);
        let (status, headers, body) = server.get("/companies/acme");
        assert_eq!(status, 500, "{body}");
        let id = request_id(&headers);
        assert!(body.contains(&id), "the page names the id {id}");
        // The failure's line (the dropped table may make the background work
        // log errors of its own, without a request).
        let failure = server
            .wait_for(|v| v["level"] == "ERROR" && v["fields"]["message"] == "request failed");
        assert_eq!(failure["span"]["request_id"], id.as_str(), "{failure}");
        assert_eq!(failure["fields"]["request_id"], id.as_str(), "{failure}");
        assert_eq!(failure["fields"]["message"], "request failed");
        let access = server.wait_for(|v| v["target"] == "jobboard::access");
        assert_eq!(access["span"]["request_id"], id.as_str());
        assert_eq!(access["fields"]["status"], 500);
        assert_eq!(access["fields"]["route"], "/companies/:slug");
    }
}
