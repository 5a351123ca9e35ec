//! A `serve` process on a free port, and a small HTTP client with a cookie
//! jar that talks to it over a real socket.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::common::bin;

/// A running `jobboard serve`, killed when dropped.
pub struct Server {
    pub child: std::process::Child,
    pub addr: String,
    /// Every line it logged so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `serve` on `data` from `cwd` (where a `jobboard.toml` may be).
    pub fn start(cwd: &Path, data: &Path) -> Server {
        let mut child = bin()
            .current_dir(cwd)
            .args(["--data-dir", data.to_str().expect("utf-8")])
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let addr = loop {
            let line = lines
                .next()
                .expect("serve printed its address")
                .expect("line");
            log.lock().expect("log").push(line.clone());
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().expect("address").to_string();
            }
        };
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().expect("log").push(line);
            }
        });
        Server { child, addr, log }
    }

    /// Whether any logged line contains `text`.
    pub fn logged(&self, text: &str) -> bool {
        self.log
            .lock()
            .expect("log")
            .iter()
            .any(|l| l.contains(text))
    }

    /// Polls `path` until `check` holds for its body, for up to 20 seconds.
    pub fn eventually(&self, path: &str, check: impl Fn(&str) -> bool) -> bool {
        let mut client = Client::new(&self.addr);
        poll(|| check(&client.get(path).text()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 50 ms until it holds, for up to 20 seconds.
pub fn poll(mut check: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(20) {
        if check() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

/// One answer.
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("json: {}", self.text()))
    }

    /// The value of the first `name="…" value="…"` input in the page.
    pub fn input_value(&self, name: &str) -> Option<String> {
        let body = self.text();
        let at = body.find(&format!("name=\"{name}\""))?;
        let rest = &body[at..];
        let v = rest.find("value=\"")? + 7;
        let end = rest[v..].find('"')?;
        Some(rest[v..v + end].to_string())
    }
}

/// A client with a cookie jar. HTTP/1.0, so bodies are never chunked.
pub struct Client {
    pub addr: String,
    pub cookies: BTreeMap<String, String>,
    pub bearer: Option<String>,
}

impl Client {
    pub fn new(addr: &str) -> Client {
        Client {
            addr: addr.to_string(),
            cookies: BTreeMap::new(),
            bearer: None,
        }
    }

    pub fn send(&mut self, method: &str, path: &str, kind: &str, body: &[u8]) -> Reply {
        let mut s = std::net::TcpStream::connect(&self.addr).expect("connect");
        let mut head = format!("{method} {path} HTTP/1.0\r\nHost: {}\r\n", self.addr);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            head.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        if let Some(token) = &self.bearer {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        if !kind.is_empty() {
            head.push_str(&format!(
                "Content-Type: {kind}\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).expect("send");
        s.write_all(body).expect("send body");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read");
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(raw.len());
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let body = raw.get(split + 4..).unwrap_or_default().to_vec();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        for line in head.lines() {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            if !name.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let pair = value.trim().split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
        Reply { status, head, body }
    }

    pub fn get(&mut self, path: &str) -> Reply {
        self.send("GET", path, "", b"")
    }

    /// Posts a form with this browser's CSRF token from `page`.
    pub fn form(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Reply {
        let csrf = self
            .get(page)
            .input_value("csrf_token")
            .expect("csrf token");
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        let body = serde_urlencoded::to_string(&all).expect("form");
        self.send(
            "POST",
            action,
            "application/x-www-form-urlencoded",
            body.as_bytes(),
        )
    }

    /// Posts one file, with this browser's CSRF token from `page`, as multipart.
    pub fn upload(&mut self, page: &str, action: &str, field: &str, file: &[u8]) -> Reply {
        let csrf = self
            .get(page)
            .input_value("csrf_token")
            .expect("csrf token");
        let b = "jobboardbackuptestboundary";
        let mut body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"logo.png\"\r\n\
             Content-Type: image/png\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
        self.send(
            "POST",
            action,
            &format!("multipart/form-data; boundary={b}"),
            &body,
        )
    }

    /// Posts JSON (with the bearer token, if any).
    pub fn post_json(&mut self, path: &str, body: &serde_json::Value) -> Reply {
        self.send(
            "POST",
            path,
            "application/json",
            body.to_string().as_bytes(),
        )
    }
}
