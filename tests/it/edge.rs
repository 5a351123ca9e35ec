//! Edge limits on a real socket: body limits (declared and chunked), the
//! deadline for request headers (slowloris), the header size limit, the
//! connection cap, and draining at shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use jobboard::clock::Clock;
use jobboard::web::server::{self, Limits};
use poem::{Endpoint, EndpointExt, handler};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::common::TestApp;

/// Long enough for any check here; reaching it fails the test.
const GUARD: Duration = Duration::from_secs(60);

/// A running server; dropping it stops the server.
struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    fn start(ep: impl Endpoint + 'static, limits: Limits, drain: Duration) -> Running {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let done = tokio::spawn(server::run(listener, ep, shutdown, drain, limits));
        Running {
            addr,
            stop: Some(stop),
            done,
        }
    }

    fn board(app: &TestApp, limits: Limits) -> Running {
        Running::start(
            jobboard::web::app(app.state.clone()),
            limits,
            Duration::from_secs(5),
        )
    }

    /// Asks the server to stop and waits until `run` returns.
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let done = tokio::time::timeout(GUARD, &mut self.done)
            .await
            .expect("the server stops");
        done.expect("no panic").expect("run ends well");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.done.abort();
    }
}

/// Sends `head` (and `body`) on a new connection and reads until the server
/// closes it; returns what came back.
async fn exchange(addr: SocketAddr, head: &str, body: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(head.as_bytes()).await.expect("send head");
    // The server may answer and close before taking all of the body.
    let _ = s.write_all(body).await;
    read_all(&mut s).await
}

/// Reads until the server closes the connection (a reset ends it too).
async fn read_all(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(GUARD, s.read(&mut buf)).await {
            Err(_) => panic!("the server never closed the connection"),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn status(response: &str) -> &str {
    response.lines().next().unwrap_or_default()
}

/// `data` as HTTP/1.1 chunks of 4 KiB, with the last chunk.
fn chunked(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in data.chunks(4096) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_body_over_the_route_limit_is_refused_unread() {
    let app = TestApp::new();
    let server = Running::board(&app, Limits::default());
    // No body follows: the answer comes without waiting for it.
    let form = exchange(
        server.addr,
        "POST /login HTTP/1.1\r\nHost: board\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000\r\n\r\n",
        b"",
    )
    .await;
    assert!(status(&form).contains("413"), "{form}");
    assert!(
        form.to_ascii_lowercase().contains("connection: close"),
        "{form}"
    );
    assert!(
        form.contains("too large"),
        "the error page says why: {form}"
    );

    let api = exchange(
        server.addr,
        "POST /api/v1/jobs HTTP/1.1\r\nHost: board\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n",
        b"",
    )
    .await;
    assert!(status(&api).contains("413"), "{api}");
    assert!(api.contains(r#""code":"too_large""#), "{api}");

    // A page that takes no body takes none.
    let get = exchange(
        server.addr,
        "GET / HTTP/1.1\r\nHost: board\r\nContent-Length: 100000\r\n\r\n",
        b"",
    )
    .await;
    assert!(status(&get).contains("413"), "{get}");

    // Within the limit the route answers as ever (a sign-in form without its
    // token is refused by the CSRF check, not by size).
    let body = vec![b'a'; 60 * 1024];
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: board\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let ok = exchange(server.addr, &head, &body).await;
    assert!(status(&ok).contains("403"), "{ok}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_is_cut_off_at_the_route_limit() {
    let app = TestApp::new();
    let server = Running::board(&app, Limits::default());
    let head = "POST /login HTTP/1.1\r\nHost: board\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    let form = exchange(server.addr, head, &chunked(&vec![b'a'; 100 * 1024])).await;
    assert!(status(&form).contains("413"), "{form}");

    let user = app.create_user("chunky@example.com", false).await;
    let now = app.clock.unix();
    let (_, token) = app
        .state
        .db
        .write(move |tx| jobboard::accounts::store::create_api_token(tx, user, "edge", now))
        .await
        .expect("token");
    let head = format!(
        "POST /api/v1/jobs HTTP/1.1\r\nHost: board\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let json = |len: usize| {
        let mut json = br#"{"title": "Big", "description": ""#.to_vec();
        json.extend(vec![b'a'; len]);
        json.extend(br#""}"#);
        chunked(&json)
    };
    let api = exchange(server.addr, &head, &json(2 << 20)).await;
    assert!(status(&api).contains("413"), "{api}");
    assert!(api.contains(r#""code":"too_large""#), "{api}");
    // Within the limit, the whole body reaches validation.
    let api = exchange(server.addr, &head, &json(500_000)).await;
    assert!(status(&api).contains("422"), "{api}");
    assert!(api.contains(r#""description""#), "{api}");

    let head = "POST /login HTTP/1.1\r\nHost: board\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    // A chunked body within the limit is read whole: the CSRF check refuses it.
    let small = exchange(server.addr, head, &chunked(b"email=a%40b.c&password=x")).await;
    assert!(status(&small).contains("403"), "{small}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off_while_others_are_served() {
    let app = TestApp::new();
    let limits = Limits {
        header_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let server = Running::board(&app, limits);
    let addr = server.addr;
    // Twenty clients each send a header byte every 300 ms and never finish.
    let mut trickling = Vec::new();
    for _ in 0..20 {
        trickling.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            s.write_all(b"GET / HTTP/1.1\r\nHost: board\r\nX-Slow: ")
                .await
                .expect("send");
            let trickle = async {
                loop {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    if s.write_all(b"z").await.is_err() {
                        return;
                    }
                }
            };
            tokio::time::timeout(GUARD, trickle)
                .await
                .expect("the server hangs up on a client that never ends its headers");
            // Closed without an answer.
            read_all(&mut s).await
        }));
    }
    // Meanwhile a normal client is served.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fine = exchange(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: board\r\nConnection: close\r\n\r\n",
        b"",
    )
    .await;
    assert!(status(&fine).contains("200"), "{fine}");
    for client in trickling {
        let answer = client.await.expect("client");
        assert!(!answer.contains("200 OK"), "{answer}");
    }
    // And after them.
    let fine = exchange(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: board\r\nConnection: close\r\n\r\n",
        b"",
    )
    .await;
    assert!(status(&fine).contains("200"), "{fine}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers_are_431() {
    let app = TestApp::new();
    let server = Running::board(&app, Limits::default());
    let big = "b".repeat(40 * 1024);
    let answer = exchange(
        server.addr,
        &format!("GET / HTTP/1.1\r\nHost: board\r\nCookie: a={big}\r\n\r\n"),
        b"",
    )
    .await;
    assert!(status(&answer).contains("431"), "{answer}");
    // Ordinary headers of a few KB are fine.
    let cookie = "c".repeat(4 * 1024);
    let answer = exchange(
        server.addr,
        &format!("GET /healthz HTTP/1.1\r\nHost: board\r\nCookie: a={cookie}\r\nConnection: close\r\n\r\n"),
        b"",
    )
    .await;
    assert!(status(&answer).contains("200"), "{answer}");
    server.stop().await;
}

#[handler]
fn hello() -> &'static str {
    "hello"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_new_clients_wait_their_turn() {
    let limits = Limits {
        header_timeout: Duration::from_secs(1),
        max_connections: 1,
        ..Limits::default()
    };
    let server = Running::start(hello.map_to_response(), limits, Duration::from_secs(1));
    // An idle client holds the only slot until its header deadline.
    let mut idle = TcpStream::connect(server.addr).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = tokio::spawn(exchange(
        server.addr,
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"",
    ));
    let idle_closed = read_all(&mut idle).await;
    assert_eq!(idle_closed, "", "closed without an answer");
    let answer = tokio::time::timeout(GUARD, second)
        .await
        .expect("served once the slot is free")
        .expect("client");
    assert!(answer.ends_with("hello"), "{answer}");
    server.stop().await;
}

#[handler]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(500)).await;
    "finished"
}

#[handler]
async fn forever() -> &'static str {
    std::future::pending::<()>().await;
    "never"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight_within_the_drain() {
    let ep = poem::Route::new().at("/slow", poem::get(slow));
    let server = Running::start(ep, Limits::default(), Duration::from_secs(30));
    let addr = server.addr;
    let in_flight = tokio::spawn(exchange(
        server.addr,
        "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"",
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.stop().await;
    let answer = in_flight.await.expect("client");
    assert!(answer.ends_with("finished"), "{answer}");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );

    // A request that never finishes is dropped when the drain time is over.
    let server = Running::start(
        poem::Route::new().at("/forever", poem::get(forever)),
        Limits::default(),
        Duration::from_millis(200),
    );
    let addr = server.addr;
    let stuck = tokio::spawn(exchange(
        addr,
        "GET /forever HTTP/1.1\r\nHost: x\r\n\r\n",
        b"",
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.stop().await;
    let answer = stuck.await.expect("client");
    assert_eq!(answer, "", "dropped unanswered");
}
