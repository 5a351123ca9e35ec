//! `jobboard backup` and `jobboard restore`, through the real binary: a backup
//! taken while `serve` runs and takes writes, restored and served again; and
//! every refusal (a data dir in use or not empty, a damaged or newer backup,
//! a backup folder that is not empty). Also the nightly systemd job's script.

mod client;
mod nightly;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use client::{Client, Server, poll};
use serde_json::{Value, json};

use crate::common::run;

const EMAIL: &str = "owner@example.com";
const PASSWORD: &str = "violet tractor under moonlight";

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `jobboard --data-dir DATA args…` in `cwd`.
fn cmd(cwd: &Path, data: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--data-dir", data.to_str().expect("utf-8")];
    all.extend_from_slice(args);
    run(cwd, &all, &[], None)
}

/// Runs a command that must succeed; returns its stderr.
fn ok(cwd: &Path, data: &Path, args: &[&str]) -> String {
    let out = cmd(cwd, data, args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stderr(&out)
}

/// Runs a command that must fail with one line and no panic; returns the line.
fn refused(cwd: &Path, data: &Path, args: &[&str]) -> String {
    let out = cmd(cwd, data, args);
    let err = stderr(&out);
    assert!(!out.status.success(), "{args:?} succeeded: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

/// Names in a folder (none if absent), with each file's bytes, recursively.
fn snapshot_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(read) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in read.map(|e| e.expect("entry")) {
            let p = e.path();
            if p.is_dir() {
                pending.push(p.clone());
                out.push((p.display().to_string(), Vec::new()));
            } else {
                out.push((p.display().to_string(), std::fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from)
        .expect("read")
        .map(|e| e.expect("entry"))
    {
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
        .expect("manifest json")
}

/// Rewrites a backup's manifest entry for `jobboard.db` to match the file.
fn reseal(dir: &Path) {
    use sha2::Digest;
    let bytes = std::fs::read(dir.join("jobboard.db")).expect("db");
    let mut m = manifest(dir);
    for f in m["files"].as_array_mut().expect("files") {
        if f["path"] == "jobboard.db" {
            f["bytes"] = json!(bytes.len());
            f["sha256"] = json!(jobboard::crypto::hex(&sha2::Sha256::digest(&bytes)));
        }
    }
    std::fs::write(dir.join("manifest.json"), m.to_string()).expect("manifest");
}

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.query_row(sql, [], |r| r.get(0)).expect("count")
}

fn png() -> Vec<u8> {
    let image = image::RgbaImage::from_fn(40, 20, |x, y| {
        image::Rgba([x as u8 * 6, y as u8 * 12, 90, 255])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

fn job(title: &str) -> Value {
    json!({
        "title": title, "company_name": "Backup Co", "company_website": "https://backup.example",
        "description": "Keeps **copies**.", "category": "Operations", "job_type": "contract",
        "remote": ["worldwide"], "apply_url": "https://backup.example/apply"
    })
}

#[test]
fn a_backup_taken_while_serving_and_writing_restores_everything_acknowledged() {
    let dir = tempfile::tempdir().expect("dir");
    let cwd = dir.path();
    std::fs::write(cwd.join("jobboard.toml"), "[limits]\nenabled = false\n").expect("config");
    let data = cwd.join("data");
    let server = Server::start(cwd, &data);

    // An employer with a session, a company with a logo, and an API token.
    let mut browser = Client::new(&server.addr);
    let reg = browser.form(
        "/register",
        "/register",
        &[("email", EMAIL), ("password", PASSWORD)],
    );
    assert_eq!(reg.status, 303, "{}", reg.text());
    let out = run(
        cwd,
        &[
            "--data-dir",
            path(&data),
            "token",
            "create",
            "--email",
            EMAIL,
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let mut api = Client::new(&server.addr);
    api.bearer = Some(token.clone());
    let first = api.post_json("/api/v1/jobs", &job("Zanzibar Keeper"));
    assert_eq!(first.status, 201, "{}", first.text());
    let logo = png();
    let up = browser.upload(
        "/dashboard/company",
        "/dashboard/company/logo",
        "logo",
        &logo,
    );
    assert_eq!(up.status, 303, "{}", up.text());
    let company = browser.get("/api/v1/companies/backup-co").json();
    let logo_url = company["company"]["logo_url"]
        .as_str()
        .expect("logo url")
        .to_string();
    let logo_path = logo_url[logo_url.find("/uploads/").expect("uploads")..].to_string();
    let served_logo = browser.get(&logo_path);
    assert_eq!(served_logo.status, 200);

    // An alert, and the link its confirmation email carries (signed with the
    // board's key).
    let mut visitor = Client::new(&server.addr);
    let sub = visitor.form(
        "/alerts",
        "/alerts",
        &[
            ("email", "reader@example.com"),
            ("q", "zanzibar"),
            ("frequency", "daily"),
        ],
    );
    assert_eq!(sub.status, 303, "{}", sub.text());
    let mut confirm = None;
    assert!(
        poll(|| {
            confirm = crate::common::mail::read_outbox(&data.join("outbox"))
                .iter()
                .find_map(|m| {
                    let at = m.text.find("/alerts/confirm/")?;
                    let rest = &m.text[at..];
                    Some(rest[..rest.find(char::is_whitespace).unwrap_or(rest.len())].to_string())
                });
            confirm.is_some()
        }),
        "the confirmation email was written"
    );
    let confirm = confirm.expect("link");
    // A form as this browser has it now: its CSRF cookie and token, signed
    // with the board's key.
    let old_csrf = browser
        .get("/dashboard")
        .input_value("csrf_token")
        .expect("csrf");
    let old_cookies = browser.cookies.clone();

    // Jobs posted through the API in a loop, before, during and after the backup.
    let backing_up = AtomicBool::new(false);
    let stop = AtomicBool::new(false);
    let bk = cwd.join("bk");
    let (tx, rx) = mpsc::channel::<()>();
    let (acked_before, acked_all, backup_out) = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let mut api = Client::new(&server.addr);
            api.bearer = Some(token.clone());
            let (mut before, mut all) = (Vec::new(), Vec::new());
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let reply = api.post_json("/api/v1/jobs", &job(&format!("Zanzibar Writer {n}")));
                assert_eq!(reply.status, 201, "{}", reply.text());
                let id = reply.json()["id"].as_i64().expect("id");
                if !backing_up.load(Ordering::SeqCst) {
                    before.push(id);
                }
                all.push(id);
                let _ = tx.send(());
            }
            (before, all)
        });
        for _ in 0..10 {
            rx.recv().expect("a write");
        }
        backing_up.store(true, Ordering::SeqCst);
        let backup_out = cmd(cwd, &data, &["backup", path(&bk)]);
        for _ in 0..5 {
            rx.recv().expect("a write after the backup");
        }
        stop.store(true, Ordering::SeqCst);
        let (before, all) = writer.join().expect("writer");
        (before, all, backup_out)
    });
    assert!(backup_out.status.success(), "{}", stderr(&backup_out));
    assert!(
        stderr(&backup_out).contains("backed up"),
        "{}",
        stderr(&backup_out)
    );
    assert!(acked_before.len() >= 10);
    assert!(acked_all.len() >= acked_before.len() + 5);

    let m = manifest(&bk);
    assert_eq!(m["format"], 1);
    assert_eq!(m["schema_version"], jobboard::db::migrations::latest());
    assert_eq!(m["jobboard_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(m["counts"]["users"], 1);
    assert_eq!(m["counts"]["upload_files"], 1);
    let paths: Vec<&str> = m["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    assert!(
        paths.contains(&"secret.key") && paths.contains(&"jobboard.db"),
        "{paths:?}"
    );
    assert!(paths.contains(&&logo_path[1..]), "{paths:?}");
    assert!(!bk.join("index").exists() && !bk.join("outbox").exists());
    let published = m["counts"]["jobs"]["published"]
        .as_i64()
        .expect("published");
    assert!(published as usize > acked_before.len(), "{m}");

    // Restored into a fresh data dir: everything acknowledged before the
    // backup started is there.
    let restored = cwd.join("restored");
    let said = ok(cwd, &restored, &["restore", path(&bk)]);
    assert!(said.contains("integrity and foreign keys ok"), "{said}");
    let db = restored.join("jobboard.db");
    let conn = rusqlite::Connection::open(&db).expect("open restored");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(check, "ok");
    for id in &acked_before {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM jobs WHERE id = ?1 AND status = 'published'",
                [id],
                |r| r.get(0),
            )
            .expect("query");
        assert_eq!(n, 1, "job {id}, acknowledged before the backup, is missing");
    }
    let zanzibar = count(
        &db,
        "SELECT count(*) FROM jobs WHERE title LIKE 'Zanzibar%'",
    );
    assert_eq!(zanzibar, published, "the manifest counts the snapshot");
    drop(conn);
    assert_eq!(
        std::fs::read(restored.join("secret.key")).expect("key"),
        std::fs::read(data.join("secret.key")).expect("key")
    );

    // Served again: search is ready from the start and finds the jobs, the
    // logo is there, the old session, CSRF token and alert link still work.
    drop(server);
    let again = Server::start(cwd, &restored);
    assert!(again.eventually("/healthz", |b| b.contains("\"index\":\"ready\"")));
    assert!(
        !again.logged("will be rebuilt"),
        "restore left an index serve could not use"
    );
    let found = Client::new(&again.addr)
        .get("/api/v1/jobs?q=zanzibar&per_page=1")
        .json();
    assert_eq!(found["total"], published, "{found}");
    browser.addr = again.addr.clone();
    let logo_again = browser.get(&logo_path);
    assert_eq!(logo_again.status, 200);
    assert_eq!(logo_again.body, served_logo.body);
    let dash = browser.get("/dashboard");
    assert_eq!(dash.status, 200, "{}", dash.head);
    assert!(dash.text().contains(EMAIL));
    let mut before = Client::new(&again.addr);
    before.cookies = old_cookies;
    let out = before.send(
        "POST",
        "/logout",
        "application/x-www-form-urlencoded",
        format!("csrf_token={old_csrf}").as_bytes(),
    );
    assert_eq!(
        out.status,
        303,
        "the form's CSRF cookie and token from before are still valid: {}",
        out.text()
    );
    let confirmed = Client::new(&again.addr).get(&confirm);
    assert_eq!(
        confirmed.status,
        200,
        "the emailed alert link works: {}",
        confirmed.text()
    );
}

/// A board with `jobs` demo jobs in `cwd/name`.
fn board(cwd: &Path, name: &str, jobs: usize) -> std::path::PathBuf {
    let data = cwd.join(name);
    ok(cwd, &data, &["demo", "--jobs", &jobs.to_string()]);
    data
}

#[test]
fn restore_refuses_a_data_dir_in_use_or_not_empty_unless_forced() {
    let dir = tempfile::tempdir().expect("dir");
    let cwd = dir.path();
    let source = board(cwd, "source", 7);
    let bk = cwd.join("bk");
    ok(cwd, &source, &["backup", path(&bk)]);

    let target = board(cwd, "target", 3);
    let before = snapshot_of(&target);
    let err = refused(cwd, &target, &["restore", path(&bk)]);
    assert!(
        err.contains("not empty") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(snapshot_of(&target), before, "the data dir is untouched");

    // Not even --force while a server uses it.
    let server = Server::start(cwd, &target);
    let err = refused(cwd, &target, &["restore", "--force", path(&bk)]);
    assert!(err.contains("stop it first"), "{err}");
    assert!(server.eventually("/healthz", |b| b.contains("\"database\":\"ok\"")));
    drop(server); // killed: its WAL and index lock file stay behind

    // Nor while a worker alone (which holds no index lock) has the database open.
    let mut worker = crate::common::bin()
        .args(["--data-dir", path(&target), "worker"])
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("worker");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(
        worker.stderr.take().expect("stderr"),
    ));
    assert!(lines.any(|l| l.is_ok_and(|l| l.contains("background worker started"))));
    let err = refused(cwd, &target, &["restore", "--force", path(&bk)]);
    assert!(err.contains("stop it first"), "{err}");
    let _ = worker.kill();
    let _ = worker.wait();

    let said = ok(cwd, &target, &["restore", "--force", path(&bk)]);
    assert!(
        said.contains("replaced") && said.contains("jobboard.db"),
        "{said}"
    );
    assert_eq!(
        count(&target.join("jobboard.db"), "SELECT count(*) FROM jobs"),
        7
    );
    let kept: Vec<_> = std::fs::read_dir(&target)
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("replaced-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let old = target.join(&kept[0]).join("jobboard.db");
    assert_eq!(
        count(&old, "SELECT count(*) FROM jobs"),
        3,
        "the old board is kept whole"
    );
    assert!(!target.join(".restoring").exists());
    let out = cmd(cwd, &target, &["export"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 7);
}

#[test]
fn a_damaged_backup_is_refused_and_the_data_dir_left_untouched() {
    let dir = tempfile::tempdir().expect("dir");
    let cwd = dir.path();
    let source = board(cwd, "source", 40);
    let bk = cwd.join("bk");
    ok(cwd, &source, &["backup", path(&bk)]);
    let target = board(cwd, "target", 2);
    let before = snapshot_of(&target);

    // Bytes flipped after the backup was made: the checksum tells.
    let flipped = cwd.join("flipped");
    copy_dir(&bk, &flipped);
    let mut bytes = std::fs::read(flipped.join("jobboard.db")).expect("db");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(flipped.join("jobboard.db"), &bytes).expect("write");
    let err = refused(cwd, &target, &["restore", "--force", path(&flipped)]);
    assert!(err.contains("damaged") && err.contains("checksum"), "{err}");
    assert_eq!(snapshot_of(&target), before);
    let absent = cwd.join("absent");
    refused(cwd, &absent, &["restore", path(&flipped)]);
    assert!(
        !absent.exists(),
        "a data dir that was not there is not left behind"
    );

    // A database damaged before its checksum was taken: SQLite's integrity
    // check tells. Every other page's header is overwritten.
    let broken = cwd.join("broken");
    copy_dir(&bk, &broken);
    let mut bytes = std::fs::read(broken.join("jobboard.db")).expect("db");
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    for start in (page..bytes.len()).step_by(page * 2) {
        bytes[start..start + 12].fill(0x0d);
    }
    std::fs::write(broken.join("jobboard.db"), &bytes).expect("write");
    reseal(&broken);
    let err = refused(cwd, &target, &["restore", "--force", path(&broken)]);
    assert!(err.contains("integrity check"), "{err}");
    assert_eq!(snapshot_of(&target), before);

    // A manifest naming a file a backup never holds (a WAL to slip in).
    let sneaky = cwd.join("sneaky");
    copy_dir(&bk, &sneaky);
    std::fs::write(sneaky.join("jobboard.db-wal"), b"frames").expect("write");
    let mut m = manifest(&sneaky);
    m["files"]
        .as_array_mut()
        .expect("files")
        .push(json!({"path": "jobboard.db-wal", "bytes": 6, "sha256": "00"}));
    std::fs::write(sneaky.join("manifest.json"), m.to_string()).expect("manifest");
    let err = refused(cwd, &target, &["restore", "--force", path(&sneaky)]);
    assert!(err.contains("does not hold"), "{err}");
    assert_eq!(snapshot_of(&target), before);

    // An unfinished backup has no manifest.
    let unfinished = cwd.join("unfinished");
    copy_dir(&bk, &unfinished);
    std::fs::remove_file(unfinished.join("manifest.json")).expect("rm");
    let err = refused(cwd, &target, &["restore", "--force", path(&unfinished)]);
    assert!(err.contains("no manifest.json"), "{err}");
    assert_eq!(snapshot_of(&target), before);
}

#[test]
fn a_backup_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let cwd = dir.path();
    let source = board(cwd, "source", 3);
    let bk = cwd.join("bk");
    ok(cwd, &source, &["backup", path(&bk)]);
    let mut m = manifest(&bk);
    m["schema_version"] = json!(jobboard::db::migrations::latest() + 1);
    m["jobboard_version"] = json!("9.0.0");
    std::fs::write(bk.join("manifest.json"), m.to_string()).expect("write");
    let target = cwd.join("target");
    let err = refused(cwd, &target, &["restore", path(&bk)]);
    assert!(
        err.contains("newer than this jobboard knows") && err.contains("9.0.0"),
        "{err}"
    );
    assert!(!target.exists(), "nothing was made");

    // The database itself newer than its manifest says: refused too.
    let bk2 = cwd.join("bk2");
    ok(cwd, &source, &["backup", path(&bk2)]);
    let conn = rusqlite::Connection::open(bk2.join("jobboard.db")).expect("open");
    conn.pragma_update(None, "user_version", 99).expect("bump");
    drop(conn);
    reseal(&bk2);
    let err = refused(cwd, &target, &["restore", path(&bk2)]);
    assert!(err.contains("schema version 99"), "{err}");
    assert!(!target.join("jobboard.db").exists());
}

#[test]
fn backup_refuses_a_folder_that_is_not_empty_and_a_missing_board() {
    let dir = tempfile::tempdir().expect("dir");
    let cwd = dir.path();
    let source = board(cwd, "source", 2);
    let bk = cwd.join("bk");
    std::fs::create_dir(&bk).expect("mkdir");
    std::fs::write(bk.join("notes.txt"), "mine").expect("write");
    let err = refused(cwd, &source, &["backup", path(&bk)]);
    assert!(
        err.contains("not empty") && err.contains("notes.txt"),
        "{err}"
    );
    assert_eq!(snapshot_of(&bk).len(), 1, "nothing was written");

    let err = refused(
        cwd,
        &cwd.join("nowhere"),
        &["backup", path(&cwd.join("bk2"))],
    );
    assert!(err.contains("nothing to back up"), "{err}");
    assert!(!cwd.join("nowhere").exists() && !cwd.join("bk2").exists());

    // An empty folder is fine, and so are the help texts.
    std::fs::remove_file(bk.join("notes.txt")).expect("rm");
    ok(cwd, &source, &["backup", path(&bk)]);
    assert!(bk.join("manifest.json").exists());
    // One self-contained database file, in rollback-journal mode.
    let mut names: Vec<_> = snapshot_of(&bk).into_iter().map(|(n, _)| n).collect();
    names.sort();
    assert_eq!(
        names,
        [
            path(&bk.join("jobboard.db")),
            path(&bk.join("manifest.json"))
        ]
    );
    let conn = rusqlite::Connection::open(bk.join("jobboard.db")).expect("open");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("mode");
    assert_eq!(mode, "delete");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(check, "ok");
    for (c, word) in [("backup", "DIR"), ("restore", "--force")] {
        let out = cmd(cwd, &source, &[c, "--help"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains(word) && text.contains("--data-dir"),
            "{text}"
        );
    }
}
