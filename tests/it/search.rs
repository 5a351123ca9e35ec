//! Search (SPEC §6) over HTTP: relevance, typos, filters, facets, paging,
//! many scripts, freshness, self-healing, the feed.

use std::collections::BTreeSet;

use poem::http::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestApp, data_file, json_body, text};

async fn ids(app: &TestApp, query: &str) -> Vec<i64> {
    let body = json_body(app.get(&format!("/api/v1/jobs?{query}")).await).await;
    body["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("no jobs for {query}: {body}"))
        .iter()
        .map(|j| j["id"].as_i64().expect("id"))
        .collect()
}

async fn total(app: &TestApp, query: &str) -> i64 {
    json_body(app.get(&format!("/api/v1/jobs?{query}")).await).await["total"]
        .as_i64()
        .expect("total")
}

#[tokio::test]
async fn a_title_match_beats_a_description_match_and_exact_beats_fuzzy() {
    let app = TestApp::new();
    let in_text = app
        .add_job(json!({"title": "Backend Engineer", "description": "We love Kotlin and coroutines.", "tags": []}))
        .await;
    let in_title = app
        .add_job(json!({"title": "Kotlin Developer", "description": "Android apps.", "tags": []}))
        .await;
    assert_eq!(ids(&app, "q=kotlin").await, vec![in_title, in_text]);

    let exact = app
        .add_job(json!({"title": "Gardener", "description": "Plants.", "tags": []}))
        .await;
    let fuzzy = app
        .add_job(json!({"title": "Gardner", "description": "Plants.", "tags": []}))
        .await;
    assert_eq!(
        ids(&app, "q=gardener").await,
        vec![exact, fuzzy],
        "one typo tolerated, exact first"
    );
    assert_eq!(ids(&app, "q=kotlln").await.len(), 2, "typo in the query");
    // Short words need to be exact.
    assert!(ids(&app, "q=kotln").await.is_empty() || ids(&app, "q=gardnr").await.len() <= 2);
    assert!(
        ids(&app, "q=rusx").await.is_empty(),
        "no typo tolerance under five letters"
    );
}

#[tokio::test]
async fn all_words_are_required_and_phrases_are_kept_together() {
    let app = TestApp::new();
    let both = app
        .add_job(json!({"title": "Senior Rust Engineer", "description": "Remote first team.", "tags": []}))
        .await;
    let one = app
        .add_job(json!({"title": "Senior Go Engineer", "description": "Team first, remote.", "tags": []}))
        .await;
    assert_eq!(ids(&app, "q=rust+engineer").await, vec![both]);
    assert_eq!(
        BTreeSet::from_iter(ids(&app, "q=senior+engineer").await),
        BTreeSet::from([both, one])
    );
    assert_eq!(ids(&app, "q=%22remote+first%22").await, vec![both]);
    assert_eq!(
        ids(&app, "q=%22first+team%22").await,
        vec![both],
        "phrase order matters"
    );
}

#[tokio::test]
async fn each_filter_alone_and_together() {
    let app = TestApp::new();
    let design_eu = app
        .add_job(json!({"title": "Designer", "category": "Design", "job_type": "contract", "remote": ["europe"],
                        "tags": ["figma"], "salary_min": 40000, "salary_max": 60000}))
        .await;
    let dev_world = app
        .add_job(
            json!({"title": "Developer", "remote": ["worldwide"], "tags": ["rust", "figma"],
                        "salary_min": 100000, "salary_max": null}),
        )
        .await;
    let dev_asia = app
        .add_job(
            json!({"title": "Developer Asia", "remote": ["asia_pacific"], "tags": ["rust"],
                        "salary_min": null, "salary_max": null, "salary_currency": null}),
        )
        .await;
    app.clock.advance(10 * 86_400);
    let fresh = app
        .add_job(json!({"title": "Fresh Role", "remote": ["americas"], "tags": ["go"]}))
        .await;

    let set = |v: Vec<i64>| BTreeSet::from_iter(v);
    assert_eq!(ids(&app, "category=design").await, vec![design_eu]);
    assert_eq!(
        ids(&app, "category=Design").await,
        vec![design_eu],
        "display name accepted"
    );
    assert_eq!(ids(&app, "job_type=contract").await, vec![design_eu]);
    assert_eq!(
        set(ids(&app, "tag=figma").await),
        set(vec![design_eu, dev_world])
    );
    assert_eq!(
        ids(&app, "tag=figma&tag=rust").await,
        vec![dev_world],
        "all tags required"
    );
    // A worldwide job matches every region; several regions are any-of.
    assert_eq!(
        set(ids(&app, "remote=europe").await),
        set(vec![design_eu, dev_world])
    );
    assert_eq!(
        set(ids(&app, "remote=asia_pacific&remote=americas").await),
        set(vec![dev_world, dev_asia, fresh])
    );
    // salary_max reaches it, else salary_min; no salary: left out.
    assert_eq!(
        set(ids(&app, "salary_min=55000").await),
        set(vec![design_eu, dev_world, fresh])
    );
    assert_eq!(set(ids(&app, "salary_min=110000").await), set(vec![fresh]));
    assert_eq!(ids(&app, "posted_within=3").await, vec![fresh]);
    assert_eq!(
        ids(&app, "q=developer&tag=rust&remote=asia_pacific")
            .await
            .len(),
        2
    );
    assert_eq!(
        ids(&app, "q=developer&tag=rust&remote=europe&salary_min=1").await,
        vec![dev_world]
    );
}

#[tokio::test]
async fn facet_counts_equal_the_filtered_totals() {
    let app = TestApp::new();
    let cats = ["Design", "Data", "Data", "Sales", "Design", "Design"];
    let types = [
        "contract",
        "full_time",
        "part_time",
        "full_time",
        "full_time",
        "internship",
    ];
    let regions = [
        vec!["europe"],
        vec!["worldwide"],
        vec!["americas", "europe"],
        vec!["africa"],
        vec!["europe"],
        vec!["asia_pacific"],
    ];
    let tags = [
        vec!["a", "b"],
        vec!["b"],
        vec!["c"],
        vec!["a"],
        vec!["b", "c"],
        vec![],
    ];
    for i in 0..cats.len() {
        app.add_job(
            json!({"title": format!("Role {i}"), "category": cats[i], "job_type": types[i],
                           "remote": regions[i], "tags": tags[i]}),
        )
        .await;
    }
    for base in [
        "",
        "q=role",
        "category=design",
        "tag=b",
        "remote=europe&job_type=full_time",
    ] {
        let body = json_body(app.get(&format!("/api/v1/jobs?{base}")).await).await;
        for (facet, param) in [
            ("category", "category"),
            ("job_type", "job_type"),
            ("remote", "remote"),
            ("tags", "tag"),
        ] {
            let list = body["facets"][facet].as_array().expect("facet list");
            let mut previous: Option<(i64, String)> = None;
            for entry in list {
                let value = entry["value"].as_str().expect("value");
                let count = entry["count"].as_i64().expect("count");
                assert!(count > 0, "zero counts are left out");
                assert!(entry["label"].is_string());
                if let Some((c, v)) = &previous {
                    assert!(
                        *c > count || (*c == count && v.as_str() < value),
                        "sorted by count then value"
                    );
                }
                previous = Some((count, value.to_string()));
                // The count is what choosing this value (instead of the facet's own filter) gives.
                let own: Vec<&str> = base
                    .split('&')
                    .filter(|kv| !kv.is_empty() && !kv.starts_with(&format!("{param}=")))
                    .collect();
                let query = format!("{}&{param}={value}", own.join("&"));
                assert_eq!(
                    count,
                    total(&app, &query).await,
                    "facet {facet}={value} under {base:?}"
                );
            }
        }
    }
    let body = json_body(app.get("/api/v1/jobs").await).await;
    assert_eq!(
        body["facets"]["category"][0],
        json!({"value": "design", "label": "Design", "count": 3})
    );
}

#[tokio::test]
async fn paging_has_no_overlap_or_gap_and_ties_break_by_id() {
    let app = TestApp::new();
    let mut all = Vec::new();
    for i in 0..23 {
        // Same publication time for all: ties broken by the highest id.
        all.push(
            app.add_job(json!({"title": format!("Same time {i}")}))
                .await,
        );
    }
    let featured = app
        .add_job(json!({"title": "Featured one", "featured": true}))
        .await;
    let mut seen = Vec::new();
    for page in 1..=3 {
        seen.extend(ids(&app, &format!("per_page=10&page={page}")).await);
    }
    let mut expected = vec![featured];
    expected.extend(all.iter().rev());
    assert_eq!(seen, expected);
    assert!(ids(&app, "per_page=10&page=4").await.is_empty());
    let mut relevance = Vec::new();
    for page in 1..=3 {
        relevance.extend(
            ids(
                &app,
                &format!("q=same+time&sort=relevance&per_page=10&page={page}"),
            )
            .await,
        );
    }
    assert_eq!(relevance.len(), 23);
    assert_eq!(
        BTreeSet::from_iter(relevance.iter().copied()).len(),
        23,
        "no repeats"
    );
}

#[tokio::test]
async fn real_postings_are_found_in_their_own_scripts() {
    let app = TestApp::new();
    let sample = std::fs::read_to_string(data_file("openings-sample.jsonl")).expect("sample");
    for line in sample.lines() {
        let v: Value = serde_json::from_str(line).expect("json");
        app.add_job_unindexed(v).await;
    }
    app.index();
    for (q, must_contain) in [
        ("工程師", "工程師"),
        ("iOS", "iOS"),
        ("desenvolvedor", "esenvolvedor"),
        ("quy+tr%C3%ACnh", "quy trình"),
        ("quy+trinh", "quy trình"),
    ] {
        let body = json_body(app.get(&format!("/api/v1/jobs?q={q}")).await).await;
        let jobs = body["jobs"].as_array().expect("jobs");
        assert!(!jobs.is_empty(), "nothing found for {q}");
        assert!(
            jobs.iter().any(|j| {
                let all = format!("{} {}", j["title"], j["description"]);
                all.to_lowercase().contains(&must_contain.to_lowercase())
            }),
            "{q}: no result contains {must_contain}"
        );
    }
}

#[tokio::test]
async fn changes_show_in_search_once_the_queue_is_applied() {
    use jobboard::clock::Clock;
    use jobboard::jobs::model::Status;
    use jobboard::jobs::store::{self, Placement};
    let app = TestApp::new();
    let id = app
        .add_job_unindexed(json!({"title": "Quantum Plumber", "status": "draft"}))
        .await;
    app.index();
    assert!(
        ids(&app, "q=quantum").await.is_empty(),
        "drafts are not searchable"
    );

    // Publish.
    let now = app.clock.unix();
    let live = Placement {
        status: Status::Published,
        published_at: Some(now),
        expires_at: Some(now + 86_400),
    };
    app.state
        .db
        .write(move |tx| store::set_placement(tx, id, live, now))
        .await
        .expect("publish");
    assert!(
        ids(&app, "q=quantum").await.is_empty(),
        "not before the indexer runs"
    );
    assert!(app.index() > 0);
    assert_eq!(ids(&app, "q=quantum").await, vec![id]);

    // Edit.
    let mut input: jobboard::jobs::input::JobInput = serde_json::from_value(json!({
        "title": "Classical Plumber", "company_name": "Acme Widgets", "description": "Pipes.",
        "category": "Other", "job_type": "contract", "apply_url": "https://acme.example/a"
    }))
    .expect("shape");
    input.status = None;
    let new = input
        .validate(&app.state.config.site.categories)
        .expect("valid");
    app.state
        .db
        .write(move |tx| {
            let company = jobboard::companies::store::find_or_create(tx, &new.company, now)?;
            store::update(tx, id, &new, company, now)
        })
        .await
        .expect("edit");
    app.index();
    assert!(ids(&app, "q=quantum").await.is_empty());
    assert_eq!(ids(&app, "q=classical").await, vec![id]);

    // Expire.
    let expired = Placement {
        status: Status::Expired,
        published_at: Some(now),
        expires_at: Some(now),
    };
    app.state
        .db
        .write(move |tx| store::set_placement(tx, id, expired, now))
        .await
        .expect("expire");
    app.index();
    assert!(ids(&app, "q=classical").await.is_empty());

    // Publish again, then delete.
    app.state
        .db
        .write(move |tx| store::set_placement(tx, id, live, now))
        .await
        .expect("republish");
    app.index();
    assert_eq!(ids(&app, "q=classical").await, vec![id]);
    app.state
        .db
        .write(move |tx| store::delete(tx, id, now))
        .await
        .expect("delete");
    app.index();
    assert!(ids(&app, "q=classical").await.is_empty());

    // Passing its expiry time hides a job even before the expiry task runs.
    let other = app.add_job(json!({"title": "Timely Role"})).await;
    assert_eq!(ids(&app, "q=timely").await, vec![other]);
    app.clock.advance(31 * 86_400);
    assert!(ids(&app, "q=timely").await.is_empty());
}

#[tokio::test]
async fn a_missing_or_corrupt_index_is_rebuilt_while_pages_answer() {
    let app = TestApp::new();
    let id = app.add_job(json!({"title": "Resilient Role"})).await;
    assert_eq!(ids(&app, "q=resilient").await, vec![id]);

    for damage in ["delete", "corrupt", "stale"] {
        let ready = app.restart_indexer(|dir| match damage {
            "delete" => std::fs::remove_dir_all(dir).expect("delete index"),
            "corrupt" => std::fs::write(dir.join("meta.json"), b"{ not json").expect("corrupt"),
            _ => {
                let meta = std::fs::read_to_string(dir.join("meta.json")).expect("meta");
                let stale = meta.replace("\\\"schema\\\":1", "\\\"schema\\\":0");
                assert_ne!(meta, stale, "payload found in meta.json");
                std::fs::write(dir.join("meta.json"), stale).expect("stale");
            }
        });
        assert!(!ready, "{damage}: the damaged index is not used");
        let health = json_body(app.get("/healthz").await).await;
        assert_eq!(health["index"], "building", "{damage}");
        let resp = app.get("/jobs?q=resilient").await;
        resp.assert_status_is_ok();
        assert!(text(resp).await.contains("warming up"), "{damage}");
        let resp = app.get("/").await;
        resp.assert_status_is_ok();
        app.get("/api/v1/jobs").await.assert_status_is_ok();
        app.get("/api/v1/jobs?q=resilient")
            .await
            .assert_status(StatusCode::SERVICE_UNAVAILABLE);

        app.ensure_index();
        assert_eq!(json_body(app.get("/healthz").await).await["index"], "ready");
        assert_eq!(
            ids(&app, "q=resilient").await,
            vec![id],
            "{damage}: rebuilt from the database"
        );
    }
    // A writer lock file left by a killed process does not block the next start
    // (the lock is an OS file lock, released when its process dies).
    assert!(app.restart_indexer(|dir| {
        std::fs::write(dir.join(".tantivy-writer.lock"), b"").expect("lock file");
    }));
    // A clean restart keeps the index (no rebuild) and catches up from the queue.
    let later = app
        .add_job_unindexed(json!({"title": "Resilient Later"}))
        .await;
    assert!(app.restart_indexer(|_| {}), "a sound index opens as it is");
    app.ensure_index();
    assert_eq!(
        BTreeSet::from_iter(ids(&app, "q=resilient").await),
        BTreeSet::from([id, later])
    );
}

#[tokio::test]
async fn malformed_queries_never_fail() {
    let app = TestApp::new();
    app.add_job(json!({})).await;
    for q in [
        "%22",
        "(((",
        "AND+OR+NOT",
        "*",
        "title%3Afoo",
        "%5B%5D%7B%7D",
        "%F0%9F%A6%80",
        "-",
        "%22%22%22",
        "a%22b%22c%22",
    ] {
        app.get(&format!("/jobs?q={q}")).await.assert_status_is_ok();
        app.get(&format!("/api/v1/jobs?q={q}"))
            .await
            .assert_status_is_ok();
        app.get(&format!("/feed.xml?q={q}"))
            .await
            .assert_status_is_ok();
    }
    let long = "word+".repeat(500);
    app.get(&format!("/api/v1/jobs?q={long}"))
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn unknown_enumerated_values_are_422_in_the_api_and_ignored_on_pages() {
    let app = TestApp::new();
    app.add_job(json!({})).await;
    for (param, value) in [
        ("category", "astrology"),
        ("job_type", "gig"),
        ("remote", "mars"),
        ("sort", "best"),
    ] {
        let resp = app.get(&format!("/api/v1/jobs?{param}={value}")).await;
        resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let body = json_body(resp).await;
        assert!(
            body["error"]["fields"][param].is_string(),
            "{param}: {body}"
        );
        let page = app.get(&format!("/jobs?{param}={value}")).await;
        page.assert_status_is_ok();
        assert!(
            text(page).await.contains("Senior Rust Engineer"),
            "{param} ignored on pages"
        );
    }
}

#[tokio::test]
async fn the_search_page_keeps_the_search_in_its_links() {
    let app = TestApp::new();
    for i in 0..25 {
        app.add_job(json!({"title": format!("Rust role {i}"), "description": "We write **Rust** every day."})).await;
    }
    app.add_job(json!({"title": "Design role", "category": "Design", "tags": ["figma"]}))
        .await;
    let html = text(app.get("/jobs?q=rust&remote=europe").await).await;
    assert!(html.contains("25 jobs"));
    assert!(
        html.contains("href=\"/jobs?q=rust&amp;remote=europe&amp;page=2\""),
        "pager keeps the search"
    );
    assert!(html.contains("value=\"rust\""), "the box keeps the words");
    assert!(html.contains("<mark>"), "highlighted snippets");
    assert!(html.contains("rel=\"alternate\" type=\"application/atom+xml\" href=\"/feed.xml?q=rust&amp;remote=europe\""));
    // Tag links keep the words and the other filters.
    assert!(html.contains("href=\"/jobs?q=rust&amp;tag=postgresql&amp;remote=europe\""));
    assert!(
        html.contains("<option value=\"software-development\">Software Development (25)</option>")
    );
    // No results: help to widen the search.
    let html = text(app.get("/jobs?q=rust&category=design").await).await;
    assert!(html.contains("No jobs match"));
    assert!(html.contains("Keep the filters, drop the words"));
    assert!(
        html.contains("href=\"/jobs?q=rust\""),
        "a link dropping the category"
    );
    // The home page has the box and facets too.
    let home = text(app.get("/").await).await;
    assert!(home.contains("role=\"search\"") && home.contains("Design (1)"));
}

#[tokio::test]
async fn the_feed_is_atom_for_any_search() {
    let app = TestApp::new();
    let id = app
        .add_job(json!({"title": "Feed <Role> & more", "description": "**Bold** move"}))
        .await;
    app.add_job(json!({"title": "Other job", "category": "Design"}))
        .await;
    let resp = app.get("/feed.xml?category=software-development").await;
    resp.assert_status_is_ok();
    resp.assert_content_type("application/atom+xml; charset=utf-8");
    let xml = text(resp).await;
    assert!(xml.starts_with(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"
    ));
    for needle in [
        "<id>https://board.example/feed.xml?category=software-development</id>",
        "<link rel=\"self\" type=\"application/atom+xml\" href=\"https://board.example/feed.xml?category=software-development\"/>",
        &format!("<id>https://board.example/jobs/{id}</id>"),
        "<title>Feed &lt;Role&gt; &amp; more at Acme Widgets</title>",
        "<content type=\"html\">&lt;p&gt;&lt;strong&gt;Bold&lt;/strong&gt; move&lt;/p&gt;",
        "<updated>2026-11-27T09:00:00Z</updated>",
    ] {
        assert!(xml.contains(needle), "feed lacks {needle}\n{xml}");
    }
    assert!(!xml.contains("Other job"), "filtered");
    assert_eq!(xml.matches("<entry>").count(), 1);
}

#[tokio::test]
async fn a_common_word_is_not_expanded_by_typos() {
    let app = TestApp::new();
    for i in 0..jobboard::search::query::FUZZY_BELOW {
        app.add_job_unindexed(json!({"title": format!("Engineer {i}"), "tags": []}))
            .await;
    }
    let near = app
        .add_job_unindexed(json!({"title": "Enginer Misspelt", "tags": []}))
        .await;
    app.index();
    let hits = ids(&app, "q=engineer&per_page=100").await;
    assert_eq!(hits.len() as u64, jobboard::search::query::FUZZY_BELOW);
    assert!(
        !hits.contains(&near),
        "a word this common is taken as spelled"
    );
    // The rare misspelling still finds the common word.
    assert_eq!(
        total(&app, "q=enginerr").await as u64,
        jobboard::search::query::FUZZY_BELOW + 1
    );
}

#[tokio::test]
async fn pages_of_one_search_share_counts_that_follow_changes_and_time() {
    let app = TestApp::new();
    for i in 0..3 {
        app.add_job(json!({"title": format!("Counted role {i}")}))
            .await;
    }
    let first = json_body(app.get("/api/v1/jobs?per_page=1").await).await;
    let second = json_body(app.get("/api/v1/jobs?per_page=1&page=2").await).await;
    assert_eq!(first["total"], 3);
    assert_eq!(second["total"], 3);
    assert_eq!(first["facets"], second["facets"]);
    assert_ne!(first["jobs"][0]["id"], second["jobs"][0]["id"]);
    // A new job (a new index generation) is counted at once.
    app.add_job(json!({"title": "Counted role 3", "category": "Design"}))
        .await;
    let after = json_body(app.get("/api/v1/jobs?per_page=1&page=3").await).await;
    assert_eq!(after["total"], 4);
    assert_eq!(after["facets"]["category"][1]["count"], 1);
    // Jobs passing their expiry leave the counts too.
    app.clock.advance(31 * 86_400);
    let later = json_body(app.get("/api/v1/jobs?per_page=1&page=2").await).await;
    assert_eq!(later["total"], 0);
    assert_eq!(later["facets"]["category"], json!([]));
}

#[tokio::test]
async fn a_search_with_results_is_indexable_under_its_own_url_and_an_empty_one_is_not() {
    let app = TestApp::new();
    app.add_job(
        json!({"title": "Lighthouse Keeper", "description": "Keeps the light.", "tags": []}),
    )
    .await;

    let found = text(app.get("/jobs?q=lighthouse").await).await;
    assert!(found.contains("Lighthouse Keeper"), "{found}");
    assert!(
        !found.contains("noindex"),
        "a search with results must be indexable"
    );
    assert!(
        found.contains("<link rel=\"canonical\" href=\"https://board.example/jobs?q=lighthouse\">"),
        "the canonical URL is the search itself"
    );

    let empty = text(app.get("/jobs?q=zzzqqqxx").await).await;
    assert!(
        empty.contains("<meta name=\"robots\" content=\"noindex, follow\">"),
        "a search without results is noindex"
    );
}

#[tokio::test]
async fn a_page_past_the_end_is_empty_so_paging_through_every_result_stops() {
    let app = TestApp::new();
    for n in 0..5 {
        app.add_job(json!({"title": format!("Keeper {n}"), "description": "Light.", "tags": []}))
            .await;
    }
    // Page by page until a short page, as a client reads every result.
    let mut seen = BTreeSet::new();
    for page in 1..=10 {
        let got = ids(&app, &format!("per_page=2&page={page}")).await;
        seen.extend(got.iter().copied());
        if got.len() < 2 {
            break;
        }
        assert!(page < 10, "paging never ended");
    }
    assert_eq!(seen.len(), 5);
    // Far past the end: empty, with the true total, and no huge allocation.
    let body = json_body(app.get("/api/v1/jobs?per_page=100&page=100000000").await).await;
    assert_eq!(body["jobs"].as_array().map(Vec::len), Some(0), "{body}");
    assert_eq!(body["total"], 5, "{body}");
}
