//! Crash safety: kill -9 at any moment loses no acknowledged write, leaves the
//! database intact and the index caught up; a full disk refuses writes with a
//! clear 503 while reads go on, and the board recovers when space returns.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use poem::http::{StatusCode, header};
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;

use crate::common::browser::Browser;
use crate::common::served::{Served, board_with_token, id_of, job, total_of, try_post_job};
use crate::common::{TestApp, json_body, text};
use jobboard::clock::Clock;

/// Opens the database as the crash left it, read-only, and without
/// checkpointing when closed (the next start recovers the WAL itself).
fn open_after_crash(data: &Path) -> Connection {
    let conn = Connection::open_with_flags(
        data.join("jobboard.db"),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("open the database");
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )
    .expect("no checkpoint");
    conn.busy_timeout(Duration::from_secs(5)).expect("busy");
    conn
}

fn published_ids(conn: &Connection) -> BTreeSet<i64> {
    let mut stmt = conn
        .prepare("SELECT id FROM jobs WHERE status = 'published' AND deleted_at IS NULL")
        .expect("prepare");
    stmt.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("ids")
}

/// Every id search returns, page by page.
fn searched_ids(server: &Served) -> BTreeSet<i64> {
    let mut ids = BTreeSet::new();
    for page in 1.. {
        let (status, body) = server.get(&format!(
            "/api/v1/jobs?sort=newest&per_page=100&page={page}"
        ));
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        let jobs = v["jobs"].as_array().expect("jobs");
        ids.extend(jobs.iter().filter_map(|j| j["id"].as_i64()));
        if jobs.len() < 100 {
            return ids;
        }
    }
    ids
}

/// Posts jobs one after another until the server stops answering; the ids
/// it acknowledged (a complete `201`), and any other answer it gave.
fn write_until_gone(addr: String, token: String, tag: String) -> (Vec<i64>, Vec<String>) {
    let (mut acked, mut odd) = (Vec::new(), Vec::new());
    for n in 0.. {
        match try_post_job(&addr, &token, &job(&format!("{tag}x{n}"))) {
            Ok((201, body)) => acked.push(id_of(&body)),
            Ok((status, body)) => odd.push(format!("{status}: {body}")),
            Err(_) => break,
        }
    }
    (acked, odd)
}

/// Starts the board, checks the index holds every published job, then writes
/// from two clients and kills it at a random moment, `cycles` times.
fn kill_cycles(cycles: usize) {
    let seed = std::env::var("JOBBOARD_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let mut rng = fastrand::Rng::with_seed(seed);
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("dir");
    let (data, token) = board_with_token(dir.path());
    let mut acked: BTreeSet<i64> = BTreeSet::new();
    for cycle in 0..=cycles {
        let server = Served::start(&data, &[]);
        // The index catches up with everything the database holds.
        let published = published_ids(&open_after_crash(&data));
        assert!(acked.is_subset(&published));
        let want = published.len() as i64;
        let caught_up =
            server.eventually("/api/v1/jobs?per_page=1", Duration::from_secs(60), |b| {
                total_of(b) == Some(want)
            });
        assert!(
            caught_up,
            "cycle {cycle} (seed {seed}): search does not show the {want} published jobs:\n{}",
            server.log()
        );
        if cycle % 10 == 0 {
            eprintln!(
                "kill -9: cycle {cycle}, {} jobs acknowledged so far, {:.1}s",
                acked.len(),
                started.elapsed().as_secs_f64()
            );
        }
        if cycle == cycles {
            assert_eq!(searched_ids(&server), published, "seed {seed}");
            let mut server = server;
            server.term();
            assert!(server.wait().success(), "{}", server.log());
            break;
        }

        let writers: Vec<_> = (0..2)
            .map(|w| {
                let (addr, token) = (server.addr.clone(), token.clone());
                let tag = format!("c{cycle}w{w}");
                std::thread::spawn(move || write_until_gone(addr, token, tag))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(rng.u64(0..800)));
        let mut server = server;
        server.kill9();
        for w in writers {
            let (ids, odd) = w.join().expect("writer");
            assert!(odd.is_empty(), "cycle {cycle}: unexpected answers {odd:?}");
            acked.extend(ids);
        }

        let conn = open_after_crash(&data);
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check");
        assert_eq!(check, "ok", "cycle {cycle} (seed {seed})");
        let broken: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .expect("foreign_key_check");
        assert_eq!(broken, 0, "cycle {cycle} (seed {seed})");
        let lost: Vec<i64> = acked.difference(&published_ids(&conn)).copied().collect();
        assert!(
            lost.is_empty(),
            "cycle {cycle} (seed {seed}): acknowledged jobs lost: {lost:?}"
        );
    }
    eprintln!(
        "kill -9: {cycles} cycles, {} acknowledged jobs, none lost, database intact, index caught up ({:.1}s, seed {seed})",
        acked.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn kill_9_during_writes_loses_nothing_and_the_index_catches_up() {
    kill_cycles(10);
}

/// The long run: `JOBBOARD_BIN=target/release/jobboard cargo test --release
/// -- --ignored crash::kill_9_a_hundred_times` (cycles: `JOBBOARD_KILL_CYCLES`).
#[test]
#[ignore = "long: 100 kill -9 cycles; run by .ci/run and bench"]
fn kill_9_a_hundred_times() {
    let cycles = std::env::var("JOBBOARD_KILL_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    kill_cycles(cycles);
}

/// A database that may not grow (`PRAGMA max_page_count`) fails as a full
/// disk does, with SQLITE_FULL: writes answer 503 in the API and on pages,
/// reads go on, and writes work again once it may grow, without a restart.
#[tokio::test]
async fn a_full_database_answers_503_and_writes_work_again_after() {
    let app = TestApp::new();
    let b = Browser::new(&app, "203.0.113.9");
    b.register("full@example.com").await;
    let (user, _) = app
        .state
        .db
        .read(|c| jobboard::accounts::store::by_email(c, "full@example.com"))
        .await
        .expect("read")
        .expect("user");
    let owner = user.id;
    let job_id = app
        .add_owned_job(owner, "published", serde_json::json!({}))
        .await;
    let now = app.clock.unix();
    let (_, token) = app
        .state
        .db
        .write(move |tx| jobboard::accounts::store::create_api_token(tx, owner, "t", now))
        .await
        .expect("token");
    let limit = |grow: bool| {
        app.state.db.write(move |tx| {
            let pages: i64 = tx.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let max = if grow { 1 << 30 } else { pages };
            tx.query_row(&format!("PRAGMA max_page_count = {max}"), [], |r| {
                r.get::<_, i64>(0)
            })?;
            Ok(())
        })
    };
    // Large enough to need new pages whatever free room the file has.
    let mut big = job("Overflow");
    big["description"] = Value::String("A lighthouse needs a keeper. ".repeat(3000));
    let post = || {
        app.http
            .post("/api/v1/jobs")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body_json(&big)
            .send()
    };

    limit(false).await.expect("limit");
    let resp = post().await;
    resp.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    let body = json_body(resp).await;
    assert_eq!(body["error"]["code"], "disk_full", "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("disk is full"), "{message}");
    assert!(message.contains("nothing was saved"), "{message}");

    // The same on a page: the form's write is refused with the message.
    let mut fields: Vec<(&str, String)> = vec![
        ("title", "Lighthouse Keeper".into()),
        ("company_name", "Owner Co".into()),
        ("company_website", "https://owner.example".into()),
        ("description", "A lighthouse needs a keeper. ".repeat(3000)),
        ("category", "data".into()),
        ("job_type", "full_time".into()),
        ("tags", "ops".into()),
        ("remote", "worldwide".into()),
        ("salary_period", "year".into()),
        ("apply_url", "https://owner.example/apply".into()),
    ];
    let edit = format!("/dashboard/jobs/{job_id}/edit");
    let send: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = b.post(&edit, &send).await;
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.body.contains("disk is full"), "{}", page.body);

    // Reads go on.
    app.get("/").await.assert_status_is_ok();
    app.get("/api/v1/jobs").await.assert_status_is_ok();
    let resp = app.get(&format!("/api/v1/jobs/{job_id}")).await;
    resp.assert_status_is_ok();
    assert!(text(resp).await.contains("Owned Role"));

    // Room again: the same writer takes writes, nothing restarted.
    limit(true).await.expect("unlimit");
    let resp = post().await;
    resp.assert_status(StatusCode::CREATED);
    fields[0].1 = "Lighthouse Keeper, edited".into();
    let send: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = b.post(&edit, &send).await;
    assert_eq!(page.status, 303, "{}", page.body);
}

/// A tmpfs mounted over a folder, unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).expect("mount point");
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "mounting a tmpfs needs root (.ci/run runs this test as root)"
        );
        Tmpfs(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Writes zeros into `path` until the disk is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).expect("filler");
    for size in [1 << 20, 4096, 1] {
        let chunk = vec![0u8; size];
        while f.write_all(&chunk).and_then(|_| f.flush()).is_ok() {}
    }
}

/// The real disk-full test, on a small tmpfs: needs root.
#[test]
#[ignore = "needs root to mount a tmpfs; run by .ci/run"]
fn a_full_disk_refuses_writes_keeps_reads_and_recovers_without_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let _mount = Tmpfs::mount(&dir.path().join("data"), "16m");
    let (data, token) = board_with_token(dir.path());
    let mut server = Served::start(&data, &[]);
    server.ready();
    // Grow the WAL, then let it start again from its beginning: the next
    // writes reuse its room, so the database takes them on a full disk
    // while the index, which needs new files, cannot.
    for n in 0..40 {
        let (status, body) = server.post_job(&token, &job(&format!("warmup{n}")));
        assert_eq!(status, 201, "{body}");
    }
    {
        let conn = Connection::open(data.join("jobboard.db")).expect("open");
        conn.busy_timeout(Duration::from_secs(5)).expect("busy");
        let busy: i64 = conn
            .query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get(0))
            .expect("checkpoint");
        assert_eq!(busy, 0, "the checkpoint completed");
    }
    let filler = data.join("filler");
    fill(&filler);

    let (status, body) = server.post_job(&token, &job("Unindexed"));
    assert_eq!(status, 201, "the WAL had room: {body}");
    let unindexed = id_of(&body);
    assert!(
        server.wait_for_log("search indexing failed", Duration::from_secs(20)),
        "the index could not commit on a full disk:\n{}",
        server.log()
    );

    // Writes that need room fail with a clear 503 ...
    let refused = (0..500).find_map(|n| {
        let (status, body) = server.post_job(&token, &job(&format!("full{n}")));
        match status {
            201 => None,
            _ => Some((status, body)),
        }
    });
    let (status, body) = refused.expect("a write was refused once the WAL had no room");
    assert_eq!(status, 503, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["error"]["code"], "disk_full", "{body}");
    assert!(body.contains("disk is full"), "{body}");
    // ... while reads go on.
    for path in ["/", "/api/v1/jobs", "/healthz"] {
        let (status, body) = server.get(path);
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (status, _) = server.get(&format!("/api/v1/jobs/{unindexed}"));
    assert_eq!(status, 200);

    // Space returns: writes and indexing work again, without a restart.
    std::fs::remove_file(&filler).expect("free the disk");
    let (status, body) = server.post_job(&token, &job("Recovered"));
    assert_eq!(status, 201, "{body}");
    let recovered = id_of(&body);
    for (id, word) in [(unindexed, "unindexed"), (recovered, "recovered")] {
        assert!(
            server.eventually(
                &format!("/api/v1/jobs?q={word}"),
                Duration::from_secs(30),
                |b| b.contains(&format!("\"id\":{id}"))
            ),
            "job {id} never reached search:\n{}",
            server.log()
        );
    }
    assert!(server.log().contains("search indexing works again"));
    server.term();
    assert!(server.wait().success(), "{}", server.log());
    let check: String = open_after_crash(&data)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity");
    assert_eq!(check, "ok");
}
