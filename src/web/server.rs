//! The HTTP/1.1 server: accepts connections and serves the app through
//! hyper with the limits poem's `Server` leaves unset.
//!
//! - A request's headers must arrive within [`Limits::header_timeout`], from the
//!   moment the server starts waiting for them; an idle keep-alive connection
//!   is closed after the same time. A client that trickles its headers
//!   (slowloris) is disconnected instead of holding a connection forever.
//! - Headers larger than [`Limits::max_header_bytes`] are answered 431 and the
//!   connection is closed.
//! - At most [`Limits::max_connections`] connections are open at once; past
//!   that, new ones wait in the listen backlog. A failed accept (out of file
//!   descriptors) is retried after a pause instead of in a busy loop.
//!
//! Bodies are limited per route by [`super::body_limit`]. HTTP/2 is left to a
//! reverse proxy in front (`packaging/`).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, EndpointExt, Request};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// What the server allows a connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to send a request's headers, and to start the next one on a
    /// kept-alive connection.
    pub header_timeout: Duration,
    /// The request line and headers together.
    pub max_header_bytes: usize,
    /// Connections open at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            max_header_bytes: 32 * 1024,
            max_connections: 1024,
        }
    }
}

/// Serves `ep` on `listener` until `shutdown` resolves; then stops accepting,
/// lets requests in flight finish for up to `drain`, and drops the rest.
pub async fn run<E>(
    listener: std::net::TcpListener,
    ep: E,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
    limits: Limits,
) -> io::Result<()>
where
    E: Endpoint + 'static,
{
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let local = LocalAddr(Addr::SocketAddr(listener.local_addr()?));
    let ep = Arc::new(ep.map_to_response().boxed());
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            _ = &mut shutdown => break,
            slot = Arc::clone(&slots).acquire_owned() => slot,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; pausing");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let (ep, local) = (Arc::clone(&ep), local.clone());
        let remote = RemoteAddr(Addr::SocketAddr(peer));
        let service = hyper::service::service_fn(move |req: poem::http::Request<Incoming>| {
            let req = Request::from((req, local.clone(), remote.clone(), Scheme::HTTP));
            let ep = Arc::clone(&ep);
            async move {
                let resp: hyper::Response<_> = ep.get_response(req).await.into();
                Ok::<_, Infallible>(resp)
            }
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_header_size(limits.max_header_bytes)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        connections.spawn(async move {
            // Errors are the client's doing (a reset, a timeout, bad syntax).
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            open = connections.len(),
            "requests still running after {drain:?}; dropping them"
        );
    }
    connections.shutdown().await;
    Ok(())
}
