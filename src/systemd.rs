//! Telling systemd how the service is doing, without libsystemd: the
//! `sd_notify` protocol is one datagram of `KEY=value` lines sent to the Unix
//! socket named by `NOTIFY_SOCKET` (a path, or `@name` in the abstract
//! namespace). With `Type=notify`, systemd counts the service started only at
//! `READY=1`; with `WatchdogSec=`, it sets `WATCHDOG_USEC` and restarts the
//! service when `WATCHDOG=1` stops coming for that long.
//!
//! [`supervise`] sends `READY=1` once the database answers (the listener is
//! bound and the index opened before it starts), then `WATCHDOG=1` every half
//! interval, but only after the database answered a read and the writer
//! thread ran a no-op within that half: a board whose writer hangs stops
//! pinging and is restarted. Without `NOTIFY_SOCKET` nothing is sent.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::Arc;
use std::time::Duration;

use crate::db::Db;

/// A connection to systemd's notification socket.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    addr: SocketAddr,
}

impl Notifier {
    /// The notifier `NOTIFY_SOCKET` names, if it is set and usable.
    pub fn from_env() -> Option<Arc<Notifier>> {
        let value = std::env::var("NOTIFY_SOCKET").ok()?;
        match Notifier::connect(&value) {
            Ok(n) => Some(Arc::new(n)),
            Err(e) => {
                tracing::warn!(error = %e, socket = %value, "NOTIFY_SOCKET is not usable; systemd will not hear from the board");
                None
            }
        }
    }

    /// A notifier for `NOTIFY_SOCKET`'s value: a path, or `@name` for the
    /// abstract namespace.
    pub fn connect(value: &str) -> io::Result<Notifier> {
        let addr = match value.strip_prefix('@') {
            Some(name) => abstract_addr(name)?,
            None if value.starts_with('/') => SocketAddr::from_pathname(value)?,
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not an absolute path or @name",
                ));
            }
        };
        Ok(Notifier {
            socket: UnixDatagram::unbound()?,
            addr,
        })
    }

    /// Sends one message: `KEY=value` lines.
    pub fn notify(&self, state: &str) -> io::Result<()> {
        self.socket
            .send_to_addr(state.as_bytes(), &self.addr)
            .map(|_| ())
    }

    /// As [`Notifier::notify`], logging a failure instead of returning it.
    pub fn send(&self, state: &str) {
        if let Err(e) = self.notify(state) {
            tracing::warn!(error = %e, "cannot notify systemd");
        }
    }
}

#[cfg(target_os = "linux")]
fn abstract_addr(name: &str) -> io::Result<SocketAddr> {
    use std::os::linux::net::SocketAddrExt;
    SocketAddr::from_abstract_name(name.as_bytes())
}

#[cfg(not(target_os = "linux"))]
fn abstract_addr(_name: &str) -> io::Result<SocketAddr> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "abstract sockets exist only on Linux",
    ))
}

/// How often to ping the watchdog: half of `WATCHDOG_USEC`, when it is set
/// and `WATCHDOG_PID` is unset or names this process.
pub fn watchdog_every(usec: Option<&str>, pid: Option<&str>, ours: u32) -> Option<Duration> {
    if let Some(pid) = pid {
        if pid.trim().parse::<u32>().ok() != Some(ours) {
            return None;
        }
    }
    let usec: u64 = usec?.trim().parse().ok().filter(|&u| u > 0)?;
    Some(Duration::from_micros(usec / 2))
}

/// [`watchdog_every`] from this process's environment.
pub fn watchdog_from_env() -> Option<Duration> {
    watchdog_every(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

/// Whether the board can do its work: the database answers a read and the
/// writer thread runs a no-op, both within `within`.
pub async fn healthy(db: &Db, within: Duration) -> bool {
    let probe = async {
        let read = db
            .read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .await;
        read.is_ok() && db.writer_answers().await
    };
    tokio::time::timeout(within, probe).await.unwrap_or(false)
}

/// Sends `READY=1` (with `status`) once the board is healthy, then, when a
/// watchdog interval is given, `WATCHDOG=1` after every healthy probe. Runs
/// until aborted; `None` when there is no one to tell.
pub fn supervise(
    notifier: Option<Arc<Notifier>>,
    watchdog: Option<Duration>,
    db: Db,
    status: String,
) -> Option<tokio::task::JoinHandle<()>> {
    let notifier = notifier?;
    Some(tokio::spawn(async move {
        let every = watchdog.unwrap_or(Duration::from_millis(500));
        // A probe may take half an interval, so pings stay less than 3/4 of
        // WATCHDOG_USEC apart while the board is healthy.
        let within = every / 2;
        while !healthy(&db, within).await {
            tracing::warn!(
                "the database does not answer yet; not telling systemd the board is ready"
            );
            tokio::time::sleep(every).await;
        }
        notifier.send(&format!("READY=1\nSTATUS={status}"));
        tracing::info!("told systemd the board is ready");
        let Some(every) = watchdog else {
            return;
        };
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        let mut failing = false;
        loop {
            tick.tick().await;
            if healthy(&db, within).await {
                notifier.send("WATCHDOG=1");
                if std::mem::take(&mut failing) {
                    tracing::info!("the database answers again; watchdog pings resume");
                }
            } else if !std::mem::replace(&mut failing, true) {
                tracing::error!(
                    "the database or its writer does not answer; no watchdog ping until it does (systemd restarts the board after WatchdogSec)"
                );
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(socket: &UnixDatagram) -> String {
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut buf = [0u8; 512];
        let n = socket.recv(&mut buf).expect("a message");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn notifies_a_socket_by_path() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("notify.sock");
        let listener = UnixDatagram::bind(&path).expect("bind");
        let n = Notifier::connect(path.to_str().expect("utf-8")).expect("connect");
        n.notify("READY=1\nSTATUS=serving").expect("send");
        assert_eq!(receive(&listener), "READY=1\nSTATUS=serving");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn notifies_a_socket_in_the_abstract_namespace() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("jobboard-test-{}-{}", std::process::id(), fastrand::u64(..));
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).expect("addr");
        let listener = UnixDatagram::bind_addr(&addr).expect("bind");
        let n = Notifier::connect(&format!("@{name}")).expect("connect");
        n.notify("WATCHDOG=1").expect("send");
        assert_eq!(receive(&listener), "WATCHDOG=1");
    }

    #[test]
    fn a_relative_socket_name_is_refused() {
        assert!(Notifier::connect("notify.sock").is_err());
        assert!(Notifier::connect("").is_err());
    }

    #[test]
    fn the_watchdog_pings_at_half_its_interval_for_its_own_process_only() {
        let half = Some(Duration::from_millis(100));
        assert_eq!(watchdog_every(Some("200000"), None, 42), half);
        assert_eq!(watchdog_every(Some("200000"), Some("42"), 42), half);
        assert_eq!(watchdog_every(Some("200000"), Some("7"), 42), None);
        assert_eq!(watchdog_every(None, None, 42), None);
        assert_eq!(watchdog_every(Some("0"), None, 42), None);
        assert_eq!(watchdog_every(Some("soon"), None, 42), None);
    }

    #[tokio::test]
    async fn a_closed_database_is_not_healthy() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(&dir.path().join("t.db")).expect("open");
        assert!(healthy(&db, Duration::from_secs(5)).await);
        db.close();
        assert!(!healthy(&db, Duration::from_secs(5)).await);
    }

    #[tokio::test]
    async fn a_writer_that_hangs_is_not_healthy() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(&dir.path().join("t.db")).expect("open");
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel::<()>();
        // A write that does not end until the test lets it.
        let stuck = db.clone();
        let write = tokio::spawn(async move {
            stuck
                .write(move |_| {
                    let _ = started.send(());
                    let _ = hold.recv();
                    Ok(())
                })
                .await
        });
        // Only once the writer is inside it (under load the spawned task may
        // not have sent it yet, and the health check's own write would pass).
        running.await.expect("the stuck write started");
        assert!(!healthy(&db, Duration::from_millis(200)).await);
        release.send(()).expect("release");
        write.await.expect("join").expect("write");
        assert!(healthy(&db, Duration::from_secs(5)).await);
    }
}
