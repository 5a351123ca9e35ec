//! The `jobboard` binary: commands, configuration layers, errors.

use std::io::{BufRead, BufReader, Read, Write};

use crate::common::{bin, run};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().expect("dir");
    for cmd in [
        "serve",
        "migrate",
        "demo",
        "import",
        "export",
        "check-config",
    ] {
        let out = run(dir.path(), &[cmd, "--help"], &[], None);
        assert!(out.status.success(), "{cmd} --help failed");
        assert!(
            stdout(&out).contains("--data-dir"),
            "{cmd} --help lists the global flags"
        );
    }
}

#[test]
fn config_layers_file_then_env_then_flags() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("jobboard.toml"),
        "listen = \"127.0.0.1:7000\"\n[site]\nname = \"From File\"\ntagline = \"file tagline\"\n\
         [posting]\nduration_days = 45\n",
    )
    .expect("write config");
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, "whsec_from_file\n").expect("secret");
    let out = run(
        dir.path(),
        &["--data-dir", "/tmp/flag-dir", "check-config"],
        &[
            ("JOBBOARD_SITE_NAME", "From Env"),
            ("JOBBOARD_STRIPE_SECRET_KEY", "sk_test_do_not_print"),
            (
                "JOBBOARD_STRIPE_WEBHOOK_SECRET_FILE",
                secret_file.to_str().expect("utf-8"),
            ),
            ("JOBBOARD_DATA_DIR", "/tmp/env-dir"),
        ],
        None,
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.contains("listen") && text.contains("127.0.0.1:7000"),
        "file value kept: {text}"
    );
    assert!(
        text.contains("From Env") && !text.contains("From File"),
        "env beats file"
    );
    assert!(text.contains("file tagline"));
    assert!(text.contains("45"));
    assert!(
        text.contains("/tmp/flag-dir") && !text.contains("/tmp/env-dir"),
        "flag beats env"
    );
    assert!(
        text.contains("JOBBOARD_STRIPE_WEBHOOK_SECRET_FILE"),
        "source shown"
    );
    assert!(
        !text.contains("sk_test_do_not_print") && !text.contains("whsec_from_file"),
        "secrets masked"
    );
    assert!(text.contains("********"));
}

#[test]
fn the_sample_config_documents_every_key_and_loads() {
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/jobboard.toml");
    let text = std::fs::read_to_string(&sample).expect("packaging/jobboard.toml");
    for key in jobboard::config::key_names() {
        let (section, name) = key.split_once('.').unwrap_or(("", key));
        let in_section = if section.is_empty() {
            text.lines()
                .any(|l| l.trim_start_matches("# ").starts_with(&format!("{name} =")))
        } else {
            let start = text
                .find(&format!("[{section}]"))
                .unwrap_or_else(|| panic!("no [{section}]"));
            text[start..]
                .lines()
                .any(|l| l.trim_start_matches("# ").starts_with(&format!("{name} =")))
        };
        assert!(
            in_section,
            "packaging/jobboard.toml does not document `{key}`"
        );
        assert!(
            text.contains(&jobboard::config::env_var(key)),
            "no env var named for `{key}`"
        );
    }
    let dir = tempfile::tempdir().expect("dir");
    let out = run(
        dir.path(),
        &["--config", sample.to_str().expect("utf-8"), "check-config"],
        &[],
        None,
    );
    assert!(out.status.success(), "the sample loads: {}", stderr(&out));
}

#[test]
fn a_bad_value_names_the_key_on_one_line() {
    let dir = tempfile::tempdir().expect("dir");
    for (env, key) in [
        (
            ("JOBBOARD_POSTING_DURATION_DAYS", "soon"),
            "posting.duration_days",
        ),
        (("JOBBOARD_LISTEN", "not an address"), "listen"),
        (
            ("JOBBOARD_POSTING_PRICE_CENTS", "4900"),
            "posting.price_cents",
        ),
        (("JOBBOARD_MAIL_TRANSPORT", "pigeon"), "mail.transport"),
        (
            ("JOBBOARD_LIMITS_LOGIN_PER_IP", "lots"),
            "limits.login_per_ip",
        ),
    ] {
        let out = run(dir.path(), &["check-config"], &[env], None);
        assert!(!out.status.success(), "{key} accepted");
        let err = stderr(&out);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains(key), "{err} names {key}");
        assert!(!err.contains("panicked"));
    }
    std::fs::write(dir.path().join("typo.toml"), "[site]\nnmae = \"x\"\n").expect("write");
    let out = run(
        dir.path(),
        &["--config", "typo.toml", "check-config"],
        &[],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("site.nmae"));
    let out = run(
        dir.path(),
        &["--config", "missing.toml", "check-config"],
        &[],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("missing.toml"));
}

#[test]
fn migrate_refuses_a_newer_database() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let out = run(
        dir.path(),
        &["--data-dir", data.to_str().expect("utf-8"), "migrate"],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = rusqlite::Connection::open(data.join("jobboard.db")).expect("open");
    conn.pragma_update(None, "user_version", 999).expect("bump");
    drop(conn);
    for args in [
        &["migrate"][..],
        &["export"][..],
        &["demo", "--jobs", "1"][..],
    ] {
        let mut full = vec!["--data-dir", data.to_str().expect("utf-8")];
        full.extend_from_slice(args);
        let out = run(dir.path(), &full, &[], None);
        assert!(!out.status.success(), "{args:?} accepted a newer database");
        assert!(
            stderr(&out).contains("newer than this jobboard knows"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn demo_fills_an_empty_board_once() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let d = data.to_str().expect("utf-8");
    let out = run(
        dir.path(),
        &["--data-dir", d, "demo", "--jobs", "120"],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("made 120 demo jobs"));
    let out = run(dir.path(), &["--data-dir", d, "demo"], &[], None);
    assert!(out.status.success());
    assert!(stderr(&out).contains("already has jobs"));
    let out = run(dir.path(), &["--data-dir", d, "export"], &[], None);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 120);
    assert!(lines.iter().any(|j| j["featured"] == true), "some featured");
    assert!(
        lines.iter().any(|j| j["salary_min"].is_i64()),
        "some salaries"
    );
    assert!(
        lines.iter().any(|j| j["apply_email"].is_string()),
        "some apply by email"
    );
    let categories: std::collections::HashSet<_> =
        lines.iter().map(|j| j["category"].to_string()).collect();
    assert!(categories.len() >= 5, "varied categories");
}

/// A child process that cannot outlive a failed test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends one HTTP/1.1 GET over a real socket; returns the status line and body.
fn http_get(addr: &str, path: &str) -> (String, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let status = raw.lines().next().unwrap_or_default().to_string();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Starts `serve` on a free port; returns the process and its address.
fn spawn_serve(
    dir: &std::path::Path,
    data: &std::path::Path,
    extra: &[&str],
) -> (KillOnDrop, String) {
    let mut args = vec![
        "--data-dir",
        data.to_str().expect("utf-8"),
        "serve",
        "--listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    let child = bin()
        .current_dir(dir)
        .args(&args)
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let mut child = KillOnDrop(child);
    let stderr = child.0.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("serve printed its address")
            .expect("line");
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().expect("address").to_string();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

/// Polls `path` until `check` holds for its body, for up to five seconds.
fn eventually(addr: &str, path: &str, check: impl Fn(&str) -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(5) {
        let (_, body) = http_get(addr, path);
        if check(&body) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn serve_answers_on_a_real_socket_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let (mut child, addr) = spawn_serve(dir.path(), &data, &["--demo"]);
    let (status, body) = http_get(&addr, "/healthz");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("\"database\":\"ok\""));
    let (status, body) = http_get(&addr, "/");
    assert!(status.contains("200"));
    assert!(
        body.contains("job-card") || body.contains("<article"),
        "demo jobs on the board"
    );

    let pid = child.0.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.0.wait().expect("wait");
    assert!(status.success(), "serve exits 0 on SIGTERM: {status}");
}

#[test]
fn other_processes_reach_search_through_the_queue_and_reindex_hands_over() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let d = data.to_str().expect("utf-8");
    let out = run(
        dir.path(),
        &["--data-dir", d, "demo", "--jobs", "30"],
        &[],
        None,
    );
    assert!(out.status.success());
    // Without a server, reindex rebuilds in place.
    let out = run(dir.path(), &["--data-dir", d, "reindex"], &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("indexed 30 jobs"), "{}", stderr(&out));
    assert!(data.join("index/meta.json").exists());

    let (_server, addr) = spawn_serve(dir.path(), &data, &[]);
    assert!(eventually(&addr, "/healthz", |b| b.contains("\"index\":\"ready\"")));
    // A job imported by another process is searchable within a second or so.
    let line = r#"{"title":"Zeppelin Pilot","company_name":"Airship Co","description":"Fly.","category":"Other","job_type":"contract","apply_url":"https://air.example/a"}"#;
    let started = std::time::Instant::now();
    let out = run(
        dir.path(),
        &["--data-dir", d, "import", "-"],
        &[],
        Some(line.as_bytes()),
    );
    assert!(out.status.success());
    assert!(eventually(&addr, "/api/v1/jobs?q=zeppelin", |b| b
        .contains("Zeppelin Pilot")));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );

    // With the server running, reindex builds beside it and the server swaps.
    let out = run(dir.path(), &["--data-dir", d, "reindex"], &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("indexed 31 jobs"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("switched to the new index"),
        "{}",
        stderr(&out)
    );
    assert!(!data.join("index.next").exists());
    assert!(eventually(&addr, "/api/v1/jobs?q=zeppelin", |b| b
        .contains("Zeppelin Pilot")));
    let (_, body) = http_get(&addr, "/api/v1/jobs");
    assert!(body.contains("\"total\":31"), "{body}");
}

/// One HTTP/1.1 exchange on a fresh connection: status line, headers, body.
fn http_raw(addr: &str, request: &str) -> (String, String, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.write_all(request.as_bytes()).expect("send");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.lines().next().unwrap_or_default().to_string();
    (status, head.to_string(), body.to_string())
}

/// Signs in (or registers) through the real forms: GET the page for a CSRF
/// cookie and token, then POST. Returns the status line.
fn post_account_form(addr: &str, path: &str, email: &str) -> String {
    let (_, head, body) = http_raw(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: jb_csrf="))
        .and_then(|v| v.split(';').next())
        .expect("csrf cookie");
    let token = body
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("csrf token");
    let form = format!(
        "csrf_token={token}&email={}&password=violet+tractor+under+moonlight",
        email.replace('@', "%40")
    );
    http_raw(
        addr,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: jb_csrf={cookie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        ),
    )
    .0
}

fn rss_anon_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("status")
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("RssAnon")
}

/// Each password hash takes 19 MiB. Hashed on the runtime's blocking pool,
/// the allocator kept that memory on every thread that ever hashed (800 MiB
/// after a few dozen sign-ins); the board must stay small under a burst.
#[test]
fn a_burst_of_sign_ins_keeps_memory_small() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("jobboard.toml"),
        "[limits]\nenabled = false\n",
    )
    .expect("config");
    let data = dir.path().join("data");
    let (serve, addr) = spawn_serve(dir.path(), &data, &[]);
    let status = post_account_form(&addr, "/register", "burst@example.com");
    assert!(status.contains("303"), "{status}");
    let baseline = rss_anon_kib(serve.0.id());
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..6 {
                    let status = post_account_form(&addr, "/login", "burst@example.com");
                    assert!(status.contains("303"), "{status}");
                }
            });
        }
    });
    let after = rss_anon_kib(serve.0.id());
    assert!(
        after < baseline + 120 * 1024,
        "anonymous memory grew from {baseline} KiB to {after} KiB over 48 sign-ins"
    );
}
