//! Stopping and starting the real binary: SIGTERM finishes what is in flight
//! and exits 0, the WAL is checkpointed (or left for Litestream), systemd
//! hears ready, watchdog and stopping, and a kill -9 leaves no lock behind.

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use serde_json::json;

use crate::common::TestApp;
use crate::common::served::{self, Served, board_with_token, id_of, job, read_response};
use jobboard::clock::Clock;

fn wal_len(data: &std::path::Path) -> u64 {
    std::fs::metadata(data.join("jobboard.db-wal"))
        .map(|m| m.len())
        .unwrap_or(0)
}

#[test]
fn sigterm_finishes_the_request_in_flight_checkpoints_and_exits_0() {
    let dir = tempfile::tempdir().expect("dir");
    let (data, token) = board_with_token(dir.path());
    let mut server = Served::start(&data, &[]);
    server.ready();

    // A request in flight: its headers are read and its handler waits for
    // the body (the server has answered `100 Continue`) when SIGTERM comes.
    let body = job("Inflight").to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut conn = TcpStream::connect(&server.addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        conn,
        "POST /api/v1/jobs HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        server.addr,
        body.len()
    )
    .expect("head");
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let (status, _) = read_response(&mut reader).expect("100 Continue");
    assert_eq!(status, 100, "the handler is reading the body");
    conn.write_all(first.as_bytes()).expect("half the body");

    server.term();
    assert!(
        server.wait_for_log("stopping", Duration::from_secs(10)),
        "{}",
        server.log()
    );
    // No new connections once it is stopping.
    let refused = (0..250).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        TcpStream::connect(&server.addr).is_err()
    });
    assert!(refused, "still accepting after SIGTERM");

    conn.write_all(rest.as_bytes())
        .expect("the rest of the body");
    let (status, answer) = read_response(&mut reader).expect("response");
    assert_eq!(status, 201, "the request in flight completed: {answer}");
    let inflight = id_of(&answer);

    let exit = server.wait();
    assert!(exit.success(), "exit status {exit}:\n{}", server.log());
    let log = server.log();
    assert!(log.contains("stopped"), "{log}");
    // PASSIVE checkpoint, then SQLite removes the WAL with the last connection.
    assert_eq!(wal_len(&data), 0, "the WAL was folded in");

    // With checkpoint_on_exit = false (Litestream), the WAL stays as it is.
    let env = [("JOBBOARD_DB_CHECKPOINT_ON_EXIT", "false")];
    let mut server = Served::start(&data, &env);
    let (status, answer) = server.post_job(&token, &job("Replicated"));
    assert_eq!(status, 201, "{answer}");
    let replicated = id_of(&answer);
    server.term();
    assert!(server.wait().success(), "{}", server.log());
    assert!(wal_len(&data) > 0, "the WAL was left for the replicator");

    // A restart finds everything, in the database and in search.
    let mut server = Served::start(&data, &[]);
    for (id, word) in [(inflight, "inflight"), (replicated, "replicated")] {
        let (status, body) = server.get(&format!("/api/v1/jobs/{id}"));
        assert_eq!(status, 200, "job {id}: {body}");
        assert!(
            server.eventually(
                &format!("/api/v1/jobs?q={word}"),
                Duration::from_secs(20),
                |b| b.contains(&format!("\"id\":{id}"))
            ),
            "job {id} is not found by search:\n{}",
            server.log()
        );
    }
    server.term();
    assert!(server.wait().success());
}

/// Reads datagrams until one contains `wanted`; every message read.
fn receive_until(socket: &UnixDatagram, wanted: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(e) => panic!("no {wanted:?} from the board ({e}); got {seen:?}"),
        };
        let message = String::from_utf8_lossy(&buf[..n]).into_owned();
        let done = message.contains(wanted);
        seen.push(message);
        if done {
            return seen;
        }
    }
}

#[test]
fn systemd_hears_ready_watchdog_pings_and_stopping() {
    let dir = tempfile::tempdir().expect("dir");
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let data = dir.path().join("data");
    let mut server = Served::start(
        &data,
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().expect("utf-8")),
            ("WATCHDOG_USEC", "200000"),
        ],
    );

    let first = receive_until(&socket, "READY=1");
    assert_eq!(first.len(), 1, "READY=1 comes first: {first:?}");
    assert!(first[0].contains("STATUS=serving on"), "{first:?}");
    let (status, body) = server.get("/healthz");
    assert_eq!(status, 200, "ready means answering: {body}");

    for _ in 0..3 {
        let ping = receive_until(&socket, "WATCHDOG=1");
        assert_eq!(ping, ["WATCHDOG=1"]);
    }

    server.term();
    let last = receive_until(&socket, "STOPPING=1");
    assert!(
        last.iter()
            .all(|m| m == "WATCHDOG=1" || m.contains("STOPPING=1")),
        "{last:?}"
    );
    assert!(server.wait().success(), "{}", server.log());
}

#[test]
fn a_watchdog_meant_for_another_process_is_left_alone() {
    let dir = tempfile::tempdir().expect("dir");
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let data = dir.path().join("data");
    let mut server = Served::start(
        &data,
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().expect("utf-8")),
            ("WATCHDOG_USEC", "100000"),
            // Our parent's pid: systemd meant the watchdog for someone else.
            ("WATCHDOG_PID", &std::process::id().to_string()),
        ],
    );
    receive_until(&socket, "READY=1");
    // Time for several pings, were any sent.
    std::thread::sleep(Duration::from_millis(300));
    server.term();
    let rest = receive_until(&socket, "STOPPING=1");
    assert_eq!(rest.len(), 1, "no WATCHDOG=1 before STOPPING=1: {rest:?}");
    assert!(server.wait().success());
}

#[test]
fn a_kill_9_leaves_no_lock_that_blocks_the_next_start() {
    let dir = tempfile::tempdir().expect("dir");
    let (data, token) = board_with_token(dir.path());
    let mut server = Served::start(&data, &[]);
    server.ready();
    let (status, body) = server.post_job(&token, &job("Beforekill"));
    assert_eq!(status, 201, "{body}");
    let before = id_of(&body);
    server.kill9();
    // tantivy's lock files stay behind; their OS locks died with the process.
    assert!(data.join("index/.tantivy-writer.lock").exists());

    let mut server = Served::start(&data, &[]);
    server.ready();
    let log = server.log();
    assert!(!log.contains("in use by another"), "{log}");
    let (status, body) = server.post_job(&token, &job("Afterkill"));
    assert_eq!(status, 201, "{body}");
    let after = id_of(&body);
    for (id, word) in [(before, "beforekill"), (after, "afterkill")] {
        assert!(
            server.eventually(
                &format!("/api/v1/jobs?q={word}"),
                Duration::from_secs(20),
                |b| b.contains(&format!("\"id\":{id}"))
            ),
            "job {id} not searchable after the restart:\n{}",
            server.log()
        );
    }
    // A second server on the same data dir is refused while this one lives.
    let second = served::jobboard()
        .args(["--data-dir", data.to_str().expect("utf-8")])
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("JOBBOARD_LIMITS_ENABLED", "false")
        .output()
        .expect("second serve");
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("in use by another"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    server.term();
    assert!(server.wait().success());
}

/// `(state, locked_by)` of a task.
async fn task_state(app: &TestApp, id: i64) -> (String, Option<String>) {
    app.state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT state, locked_by FROM tasks WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
        .expect("task")
}

#[tokio::test]
async fn a_stopping_worker_gives_back_a_task_that_does_not_finish_in_time() {
    // An SMTP server that takes connections and never says a word: sending
    // waits for its greeting until lettre's timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "smtp://127.0.0.1:{}",
        silent.local_addr().expect("addr").port()
    );
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().collect();
        drop(held);
    });
    let app = TestApp::with_env(&[
        ("JOBBOARD_MAIL_TRANSPORT", "smtp"),
        ("JOBBOARD_MAIL_SMTP_URL", &url),
    ]);

    // Nothing running: the worker stops at once.
    let idle = jobboard::tasks::Worker::start(app.state.clone()).expect("worker");
    let ended = tokio::task::spawn_blocking(move || idle.stop_within(Duration::from_secs(30)));
    assert!(ended.await.expect("join"), "an idle worker ends");

    let now = app.clock.unix();
    let id = app
        .state
        .db
        .write(move |tx| {
            let mail = json!({"to": "ann@example.com", "subject": "Hello", "eml": "Subject: Hello\r\n\r\nHi"});
            jobboard::mail::queue_payload(tx, &mail, now)
        })
        .await
        .expect("queued");
    let worker = jobboard::tasks::Worker::start(app.state.clone()).expect("worker");
    let started = std::time::Instant::now();
    loop {
        let (state, holder) = task_state(&app, id).await;
        if state == "running" {
            assert!(holder.is_some());
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the worker never took the mail ({state})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let ended = tokio::task::spawn_blocking(move || worker.stop_within(Duration::from_millis(300)));
    assert!(!ended.await.expect("join"), "the task was still sending");
    assert_eq!(
        task_state(&app, id).await,
        ("queued".to_string(), None),
        "given back, to run again at the next start"
    );
}
