//! `import` and `export` through the binary.

use std::path::Path;

use crate::common::{data_file, run};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .expect("open")
        .query_row(sql, [], |r| r.get(0))
        .expect("count")
}

#[test]
fn import_reports_bad_lines_and_keeps_good_ones() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let good = r#"{"title":"Rust Dev","company_name":"Acme","description":"Hi","category":"Software Development","job_type":"full_time","apply_url":"https://acme.example/a"}"#;
    let nested = r#"{"title":"Designer","company":{"name":"Acme","website":"https://acme.example"},"description":"Draw","category":"design","job_type":"contract","remote":["europe"],"apply_email":"a@acme.example","id":999}"#;
    let input = [
        good,
        r#"{"title":"No company","description":"x","category":"design","job_type":"full_time","apply_url":"https://x.example"}"#,
        "not json at all",
        "",
        r#"{"title":"Lone \ud83d surrogate","company_name":"X","description":"x","category":"design","job_type":"full_time","apply_url":"https://x.example"}"#,
        r#"["an", "array"]"#,
        nested,
        r#"{"title":"Bad salary","company_name":"Acme","description":"x","category":"data","job_type":"full_time","apply_url":"https://acme.example","salary_min":9,"salary_max":1,"salary_currency":"USD"}"#,
    ]
    .join("\n");
    let out = run(
        dir.path(),
        &["--data-dir", data.to_str().expect("utf-8"), "import", "-"],
        &[],
        Some(input.as_bytes()),
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("line 2:") && err.contains("company_name"),
        "{err}"
    );
    assert!(
        err.contains("line 3:") && err.contains("not valid JSON"),
        "{err}"
    );
    assert!(err.contains("line 5:"), "lone surrogate reported: {err}");
    assert!(
        err.contains("line 6:") && err.contains("not a JSON object"),
        "{err}"
    );
    assert!(
        err.contains("line 8:") && err.contains("salary_max"),
        "{err}"
    );
    assert!(!err.contains("line 1:") && !err.contains("line 7:") && !err.contains("line 4:"));
    assert!(err.trim_end().ends_with("imported 2, skipped 5"), "{err}");

    let db = data.join("jobboard.db");
    assert_eq!(count(&db, "SELECT count(*) FROM jobs"), 2);
    assert_eq!(
        count(&db, "SELECT count(*) FROM companies"),
        1,
        "matched by slug of the name"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM jobs WHERE id = 999"),
        0,
        "input id ignored"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM jobs WHERE status = 'published' AND expires_at = published_at + 30 * 86400"
        ),
        2
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM companies WHERE website = 'https://acme.example'"
        ),
        1
    );
}

#[test]
fn import_of_an_unreadable_file_fails() {
    let dir = tempfile::tempdir().expect("dir");
    let out = run(
        dir.path(),
        &["--data-dir", "data", "import", "nope.jsonl"],
        &[],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("nope.jsonl"));
}

#[test]
fn real_postings_in_many_scripts_import_and_export_round_trips() {
    let dir = tempfile::tempdir().expect("dir");
    let first = dir.path().join("first");
    let sample = data_file("openings-sample.jsonl");
    let out = run(
        dir.path(),
        &[
            "--data-dir",
            first.to_str().expect("utf-8"),
            "import",
            sample.to_str().expect("utf-8"),
        ],
        &[],
        None,
    );
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("imported 40, skipped 0"),
        "{}",
        stderr(&out)
    );
    let db = first.join("jobboard.db");
    assert!(
        count(
            &db,
            "SELECT count(*) FROM jobs WHERE title GLOB '*[一-龥]*'"
        ) > 0,
        "Chinese titles kept"
    );

    let out = run(
        dir.path(),
        &["--data-dir", first.to_str().expect("utf-8"), "export"],
        &[],
        None,
    );
    assert!(out.status.success());
    let exported = out.stdout;
    let second = dir.path().join("second");
    let out = run(
        dir.path(),
        &["--data-dir", second.to_str().expect("utf-8"), "import", "-"],
        &[],
        Some(&exported),
    );
    assert!(
        stderr(&out).contains("imported 40, skipped 0"),
        "{}",
        stderr(&out)
    );
    let out2 = run(
        dir.path(),
        &["--data-dir", second.to_str().expect("utf-8"), "export"],
        &[],
        None,
    );
    let titles = |bytes: &[u8]| -> Vec<(String, String, String)> {
        String::from_utf8_lossy(bytes)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json");
                (
                    v["title"].to_string(),
                    v["status"].to_string(),
                    v["published_at"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        titles(&exported),
        titles(&out2.stdout),
        "export → import → export keeps jobs"
    );

    let out = run(
        dir.path(),
        &[
            "--data-dir",
            second.to_str().expect("utf-8"),
            "export",
            "--status",
            "draft",
        ],
        &[],
        None,
    );
    assert!(out.status.success() && out.stdout.is_empty());
    let out = run(
        dir.path(),
        &[
            "--data-dir",
            second.to_str().expect("utf-8"),
            "export",
            "--status",
            "bogus",
        ],
        &[],
        None,
    );
    assert!(!out.status.success());
}

/// The whole shared data set, where it sits beside the checkout (as in CI).
#[test]
fn the_shared_data_set_imports_whole() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/openings.jsonl");
    if !file.exists() {
        eprintln!("skipped: {} is not here", file.display());
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let out = run(
        dir.path(),
        &["--data-dir", "d", "import", file.to_str().expect("utf-8")],
        &[],
        None,
    );
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("imported 885, skipped 0"),
        "{}",
        stderr(&out)
    );
}
