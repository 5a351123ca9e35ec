//! A small SMTP server for the tests: a listener on 127.0.0.1 in a std
//! thread, speaking enough SMTP for lettre (EHLO without STARTTLS, AUTH
//! PLAIN, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) and keeping
//! every message it accepts.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The message as sent after `DATA`, dot-unstuffed, CRLF line ends.
    pub data: String,
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<Received>>,
    /// `(user, password)` of each `AUTH PLAIN`.
    logins: Mutex<Vec<(String, String)>>,
    connections: Mutex<Vec<TcpStream>>,
    stopping: AtomicBool,
}

/// A running server; stops when dropped.
pub struct SmtpServer {
    /// The port it listens on.
    pub port: u16,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl SmtpServer {
    /// Starts a server on a free port.
    pub fn start() -> SmtpServer {
        SmtpServer::on_port(0)
    }

    /// Starts a server on `port` (0: any free one).
    pub fn on_port(port: u16) -> SmtpServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the SMTP server");
        let port = listener.local_addr().expect("local address").port();
        let shared = Arc::new(Shared::default());
        let inner = shared.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if inner.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                if let Ok(clone) = stream.try_clone() {
                    inner.connections.lock().expect("connections").push(clone);
                }
                let session = inner.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &session);
                });
            }
        });
        SmtpServer {
            port,
            shared,
            thread: Some(thread),
        }
    }

    /// Every message received so far, in order.
    pub fn messages(&self) -> Vec<Received> {
        self.shared.messages.lock().expect("messages").clone()
    }

    /// Every `(user, password)` a client signed in with.
    pub fn logins(&self) -> Vec<(String, String)> {
        self.shared.logins.lock().expect("logins").clone()
    }

    /// Stops listening and closes every open connection.
    pub fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        let _ = thread.join();
        for conn in self
            .shared
            .connections
            .lock()
            .expect("connections")
            .drain(..)
        {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One SMTP session.
fn serve(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 smtp.test ESMTP ready\r\n")?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    loop {
        let Some(line) = read_line(&mut lines)? else {
            return Ok(());
        };
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-smtp.test\r\n250-8BITMIME\r\n250-AUTH PLAIN\r\n250 SIZE 10485760\r\n"
        } else if upper.starts_with("HELO") {
            b"250 smtp.test\r\n"
        } else if upper.starts_with("AUTH PLAIN") {
            let initial = line
                .get("AUTH PLAIN".len()..)
                .unwrap_or("")
                .trim()
                .to_string();
            let encoded = if initial.is_empty() {
                out.write_all(b"334 \r\n")?;
                read_line(&mut lines)?.unwrap_or_default()
            } else {
                initial
            };
            let decoded = decode_base64(&encoded);
            let mut parts = decoded.split('\0').skip(1);
            let user = parts.next().unwrap_or("").to_string();
            let password = parts.next().unwrap_or("").to_string();
            shared.logins.lock().expect("logins").push((user, password));
            b"235 2.7.0 Authentication successful\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = Some(address(&line));
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            if from.is_none() {
                b"503 MAIL first\r\n"
            } else {
                to.push(address(&line));
                b"250 OK\r\n"
            }
        } else if upper == "DATA" {
            if to.is_empty() {
                b"503 RCPT first\r\n"
            } else {
                out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
                let data = read_data(&mut lines)?;
                shared.messages.lock().expect("messages").push(Received {
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    data,
                });
                b"250 OK queued\r\n"
            }
        } else if upper == "RSET" {
            from = None;
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if upper == "QUIT" {
            out.write_all(b"221 Bye\r\n")?;
            return Ok(());
        } else {
            b"502 Command not implemented\r\n"
        };
        out.write_all(reply)?;
    }
}

/// A line without its CRLF; `None` at the end of the stream.
fn read_line(lines: &mut BufReader<TcpStream>) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    if lines.read_until(b'\n', &mut buf)? == 0 {
        return Ok(None);
    }
    let line = String::from_utf8_lossy(&buf);
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

/// The message after `DATA` up to the lone `.`, dot-unstuffed.
fn read_data(lines: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut data = String::new();
    loop {
        let Some(line) = read_line(lines)? else {
            return Ok(data);
        };
        if line == "." {
            return Ok(data);
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
        data.push_str("\r\n");
    }
}

/// The address in `MAIL FROM:<a> …` or `RCPT TO:<a>`.
fn address(line: &str) -> String {
    line.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(addr, _)| addr.to_string())
        .unwrap_or_default()
}

fn decode_base64(s: &str) -> String {
    String::from_utf8_lossy(&super::mail::base64_bytes(s)).into_owned()
}
