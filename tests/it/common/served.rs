//! The real `jobboard serve` as a child process on a free port, for tests of
//! what only a process shows: signals, kill -9, systemd notifications, a full
//! disk. Plain HTTP/1.1 over a socket; the server's log is kept.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The binary to run: `JOBBOARD_BIN` when set (the release build, for the
/// long kill -9 run), else the one built for these tests.
pub fn jobboard() -> Command {
    match std::env::var_os("JOBBOARD_BIN") {
        Some(path) => Command::new(path),
        None => super::bin(),
    }
}

/// A running `serve`; killed (SIGKILL) if the test ends without stopping it.
pub struct Served {
    child: Child,
    pub addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Served {
    /// Starts `serve` on `data` with these extra environment variables and
    /// waits until it listens.
    pub fn start(data: &Path, env: &[(&str, &str)]) -> Served {
        let mut cmd = jobboard();
        cmd.args(["--data-dir", data.to_str().expect("utf-8")])
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(data.parent().unwrap_or(data))
            .env("RUST_LOG", "info")
            .env("JOBBOARD_LIMITS_ENABLED", "false")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn serve");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("listening on ").nth(1) {
                        let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                        let _ = addr_tx.send(addr);
                    }
                    log.lock().expect("log").push(line);
                }
            });
        }
        let mut served = Served {
            child,
            addr: String::new(),
            log,
        };
        match addr_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => served.addr = addr,
            Err(_) => panic!("serve did not start:\n{}", served.log()),
        }
        served
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    /// Waits (at most `limit`) for a log line containing `needle`.
    pub fn wait_for_log(&self, needle: &str, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Sends SIGTERM, as systemd does to stop a service.
    pub fn term(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success(), "kill -TERM failed");
    }

    /// SIGKILL (kill -9), and waits for the process to be gone.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit (at most a minute).
    pub fn wait(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                // Let the log thread read the last lines.
                std::thread::sleep(Duration::from_millis(50));
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "serve did not exit:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Polls `path` until `check` holds for its body, for at most `limit`.
    pub fn eventually(&self, path: &str, limit: Duration, check: impl Fn(&str) -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok((_, body)) = try_request(&self.addr, "GET", path, &[], None) {
                if check(&body) {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Waits until `/healthz` says the index is ready.
    pub fn ready(&self) {
        assert!(
            self.eventually("/healthz", Duration::from_secs(60), |b| b
                .contains("\"index\":\"ready\"")),
            "the index never became ready:\n{}",
            self.log()
        );
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        request(&self.addr, "GET", path, &[], None)
    }

    /// POST /api/v1/jobs with a token.
    pub fn post_job(&self, token: &str, job: &Value) -> (u16, String) {
        post_job(&self.addr, token, job)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`); the
/// status and body, or the I/O error (refused, reset).
pub fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    if let Some(b) = body {
        s.write_all(b)?;
    }
    let mut reader = BufReader::new(s);
    read_response(&mut reader)
}

/// As [`try_request`], failing the test on an I/O error.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> (u16, String) {
    try_request(addr, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// Reads one response (status line, headers, a body by Content-Length,
/// chunks, or to the end) from a connection.
pub fn read_response(r: &mut impl BufRead) -> std::io::Result<(u16, String)> {
    let mut status_line = String::new();
    r.read_line(&mut status_line)?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line: {status_line:?}")))?;
    let (mut length, mut chunked) = (None, false);
    loop {
        let mut line = String::new();
        r.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "content-length" {
                length = v.parse::<usize>().ok();
            } else if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if status == 100 {
        return Ok((status, String::new()));
    } else if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim(), 16).map_err(std::io::Error::other)?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    } else {
        r.read_to_end(&mut body)?;
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// POST /api/v1/jobs with a token; status and body, or the I/O error.
pub fn try_post_job(addr: &str, token: &str, job: &Value) -> std::io::Result<(u16, String)> {
    let auth = format!("Bearer {token}");
    try_request(
        addr,
        "POST",
        "/api/v1/jobs",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some(job.to_string().as_bytes()),
    )
}

pub fn post_job(addr: &str, token: &str, job: &Value) -> (u16, String) {
    try_post_job(addr, token, job).unwrap_or_else(|e| panic!("POST /api/v1/jobs: {e}"))
}

/// A valid job for the API whose title holds `word`, to find it by.
pub fn job(word: &str) -> Value {
    json!({
        "title": format!("Lighthouse Keeper {word}"),
        "company_name": "Harbour Lights",
        "company_website": "https://harbour.example",
        "description": format!("Keep the light on. Reference {word}."),
        "category": "Software Development",
        "job_type": "full_time",
        "tags": ["ops"],
        "remote": ["europe"],
        "apply_url": "https://harbour.example/apply"
    })
}

/// A data directory in `dir` with an employer and an API token for it, made
/// with the commands an operator would use; returns the data dir and token.
pub fn board_with_token(dir: &Path) -> (PathBuf, String) {
    let data = dir.join("data");
    let d = data.to_str().expect("utf-8");
    let email = "keeper@example.com";
    let out = run(
        dir,
        &["--data-dir", d, "admin", "create", "--email", email],
        Some(format!("{}\n", super::browser::PASSWORD).as_bytes()),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        dir,
        &["--data-dir", d, "token", "create", "--email", email],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!token.is_empty());
    (data, token)
}

fn run(cwd: &Path, args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    let mut child = jobboard()
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jobboard");
    if let Some(mut input) = child.stdin.take() {
        if let Some(bytes) = stdin {
            input.write_all(bytes).expect("stdin");
        }
    }
    child.wait_with_output().expect("wait")
}

/// The id in a job's JSON.
pub fn id_of(body: &str) -> i64 {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("json: {body}"));
    v["id"].as_i64().unwrap_or_else(|| panic!("no id: {body}"))
}

/// `total` in a search answer.
pub fn total_of(body: &str) -> Option<i64> {
    serde_json::from_str::<Value>(body).ok()?["total"].as_i64()
}
