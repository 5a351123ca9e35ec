//! The database: one writer thread owning the only write connection (every write
//! an IMMEDIATE transaction) and a small pool of read-only connections. Both run
//! off the async runtime; async code awaits their answers.

pub mod migrations;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::AppError;

/// How many reads run at once (and idle read connections are kept): more
/// would only make a small machine's cores take turns.
const READ_POOL: usize = 4;

type WriteFn = Box<dyn FnOnce(&mut Connection) + Send>;

/// A handle to the database, cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Option<mpsc::Sender<WriteFn>>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    reading: tokio::sync::Semaphore,
    /// Bumped after every committed write from this process: caches key on it.
    version: AtomicU64,
    /// Whether closing checkpoints the WAL (`db.checkpoint_on_exit`).
    checkpoint_on_exit: Arc<AtomicBool>,
}

/// Sets the pragmas every connection needs; busy_timeout first.
fn configure(conn: &Connection, writer: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    if writer {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(rusqlite::Error::InvalidParameterName(format!(
                "journal_mode stayed {mode}"
            )));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -4000)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// How a write is committed.
#[derive(Debug, Clone, Copy)]
struct How {
    /// Bump the data version (public pages may have changed).
    bump: bool,
    /// Sync to disk before answering.
    durable: bool,
}

impl How {
    const PUBLIC: How = How {
        bump: true,
        durable: false,
    };
    const QUIET: How = How {
        bump: false,
        durable: false,
    };
}

/// Copies what it can of the WAL into the database without waiting for
/// anyone (PASSIVE: frames a reader still needs stay). When this was the last
/// connection, closing it then removes the WAL file.
pub fn checkpoint(conn: &Connection) {
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
    }) {
        Ok((log, done)) => tracing::debug!(frames = log, copied = done, "WAL checkpoint"),
        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
    }
}

/// Leaves the WAL as it is when `conn` closes, for a replicator that does
/// its own checkpoints (Litestream, `db.checkpoint_on_exit = false`):
/// SQLite would otherwise checkpoint and delete the WAL when the last
/// connection closes.
pub fn leave_wal(conn: &Connection) {
    if let Err(e) = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true) {
        tracing::warn!(error = %e, "cannot turn off the checkpoint on close");
    }
}

/// Closes the write connection: checkpoints (PASSIVE) or leaves the WAL.
pub fn close_writer(conn: Connection, checkpoint_on_exit: bool) {
    if checkpoint_on_exit {
        checkpoint(&conn);
    } else {
        leave_wal(&conn);
    }
    if let Err((_, e)) = conn.close() {
        tracing::warn!(error = %e, "closing the database failed");
    }
}

/// Opens the write connection and brings the schema up to date.
pub fn open_writer(path: &Path) -> Result<Connection, AppError> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| {
                AppError::internal(format!(
                    "cannot create data directory {}: {e}",
                    dir.display()
                ))
            })?;
        }
    }
    let mut conn = Connection::open(path)?;
    configure(&conn, true)?;
    migrations::migrate(&mut conn).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(conn)
}

impl Db {
    /// Opens (creating and migrating) the database at `path` and starts its writer.
    pub fn open(path: &Path) -> Result<Db, AppError> {
        let conn = open_writer(path)?;
        let (tx, rx) = mpsc::channel::<WriteFn>();
        let checkpoint_on_exit = Arc::new(AtomicBool::new(true));
        let on_exit = Arc::clone(&checkpoint_on_exit);
        let thread = std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || {
                let mut conn = conn;
                while let Ok(job) = rx.recv() {
                    // A panicking write (a bug) is rolled back and its caller
                    // hears that the writer stopped; the writer itself goes on.
                    let run = std::panic::AssertUnwindSafe(|| job(&mut conn));
                    if std::panic::catch_unwind(run).is_err() {
                        tracing::error!("a database write panicked; it was rolled back");
                    }
                }
                // All senders gone: fold the WAL into the database so the next
                // start need not read it (unless a replicator does that).
                close_writer(conn, on_exit.load(Ordering::Acquire));
            })
            .map_err(|e| AppError::internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Db {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer: Mutex::new(Some(tx)),
                writer_thread: Mutex::new(Some(thread)),
                readers: Mutex::new(Vec::new()),
                reading: tokio::sync::Semaphore::new(READ_POOL),
                version: AtomicU64::new(0),
                checkpoint_on_exit,
            }),
        })
    }

    /// Whether closing checkpoints the WAL (the default) or leaves it to a
    /// replicator such as Litestream (`db.checkpoint_on_exit = false`).
    pub fn set_checkpoint_on_exit(&self, on: bool) {
        self.inner.checkpoint_on_exit.store(on, Ordering::Release);
    }

    /// Whether the writer thread takes and runs work: a no-op sent through
    /// its queue comes back. The watchdog asks before each ping.
    pub async fn writer_answers(&self) -> bool {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let sent = self.send(Box::new(move |_conn: &mut Connection| {
            let _ = tx.send(());
        }));
        sent.is_ok() && rx.await.is_ok()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// A number that changes after every write this process commits.
    pub fn version(&self) -> u64 {
        self.inner.version.load(Ordering::Acquire)
    }

    fn send(&self, job: WriteFn) -> Result<(), AppError> {
        let guard = self
            .inner
            .writer
            .lock()
            .map_err(|_| AppError::internal("writer lock poisoned"))?;
        let sender = guard
            .as_ref()
            .ok_or_else(|| AppError::Unavailable("the database is shutting down".into()))?;
        sender
            .send(job)
            .map_err(|_| AppError::Unavailable("the database writer has stopped".into()))
    }

    fn write_job<F, R>(
        &self,
        f: F,
        how: How,
        reply: impl FnOnce(Result<R, AppError>) + Send + 'static,
    ) -> Result<(), AppError>
    where
        F: FnOnce(&Transaction<'_>) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        self.send(Box::new(move |conn: &mut Connection| {
            let result = (|| {
                if how.durable {
                    // The commit (and every frame before it) reaches the
                    // disk before the caller hears of it.
                    conn.pragma_update(None, "synchronous", "FULL")?;
                }
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let value = f(&tx)?;
                tx.commit()?;
                if how.bump {
                    inner.version.fetch_add(1, Ordering::AcqRel);
                }
                Ok(value)
            })();
            if how.durable {
                if let Err(e) = conn.pragma_update(None, "synchronous", "NORMAL") {
                    tracing::error!(error = %e, "cannot set synchronous back to NORMAL");
                }
            }
            reply(result);
        }))
    }

    /// Runs `f` in one IMMEDIATE transaction on the writer; commits when it returns Ok.
    pub async fn write<F, R>(&self, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&Transaction<'_>) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        self.write_async(f, How::PUBLIC).await
    }

    /// As [`Db::write`] for changes nobody sees on public pages (counters): the
    /// data version, and so every cached page, stays.
    pub async fn write_quiet<F, R>(&self, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&Transaction<'_>) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        self.write_async(f, How::QUIET).await
    }

    /// As [`Db::write`], and durable: the commit is on disk (`synchronous =
    /// FULL`) before this returns, so a power cut cannot take back what the
    /// caller then acknowledges (a payment Stripe will not send again).
    pub async fn write_durable<F, R>(&self, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&Transaction<'_>) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        self.write_async(
            f,
            How {
                bump: true,
                durable: true,
            },
        )
        .await
    }

    async fn write_async<F, R>(&self, f: F, how: How) -> Result<R, AppError>
    where
        F: FnOnce(&Transaction<'_>) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.write_job(f, how, move |r| {
            let _ = tx.send(r);
        })?;
        rx.await
            .map_err(|_| AppError::Unavailable("the database writer has stopped".into()))?
    }

    /// As [`Db::write`], blocking the calling thread (commands, not the runtime).
    pub fn write_blocking<F, R>(&self, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&Transaction<'_>) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        self.write_sync(f, How::PUBLIC)
    }

    /// As [`Db::write_blocking`] for changes nobody sees on public pages.
    pub fn write_blocking_quiet<F, R>(&self, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&Transaction<'_>) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        self.write_sync(f, How::QUIET)
    }

    /// As [`Db::write_durable`] for changes nobody sees on public pages (a
    /// Stripe event kept, its task queued): cached pages stay.
    pub async fn write_durable_quiet<F, R>(&self, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&Transaction<'_>) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        self.write_async(
            f,
            How {
                bump: false,
                durable: true,
            },
        )
        .await
    }

    /// As [`Db::write_durable`], blocking the calling thread.
    pub fn write_blocking_durable<F, R>(&self, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&Transaction<'_>) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        self.write_sync(
            f,
            How {
                bump: true,
                durable: true,
            },
        )
    }

    fn write_sync<F, R>(&self, f: F, how: How) -> Result<R, AppError>
    where
        F: FnOnce(&Transaction<'_>) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(1);
        self.write_job(f, how, move |r| {
            let _ = tx.send(r);
        })?;
        rx.recv()
            .map_err(|_| AppError::Unavailable("the database writer has stopped".into()))?
    }

    fn reader(&self) -> Result<Connection, AppError> {
        if let Some(conn) = self.inner.readers.lock().ok().and_then(|mut p| p.pop()) {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.inner.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn, false)?;
        // Only the writer folds the WAL in, and only as configured.
        leave_wal(&conn);
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut pool) = self.inner.readers.lock() {
            if pool.len() < READ_POOL {
                pool.push(conn);
            }
        }
    }

    /// Runs `f` on a read-only connection, blocking the calling thread.
    pub fn read_blocking<F, R>(&self, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&Connection) -> Result<R, AppError>,
    {
        let conn = self.reader()?;
        let result = f(&conn);
        self.give_back(conn);
        result
    }

    /// Runs `f` on a read-only connection on the blocking thread pool.
    pub async fn read<F, R>(&self, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&Connection) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        let _permit = self
            .inner
            .reading
            .acquire()
            .await
            .map_err(|_| AppError::Unavailable("the database is shutting down".into()))?;
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.read_blocking(f))
            .await
            .map_err(|e| AppError::internal(format!("read task failed: {e}")))?
    }

    /// Stops the writer after the writes already queued, and waits for it to
    /// checkpoint the WAL; later writes fail.
    pub fn close(&self) {
        if let Ok(mut pool) = self.inner.readers.lock() {
            pool.clear();
        }
        if let Ok(mut w) = self.inner.writer.lock() {
            w.take();
        }
        let thread = self
            .inner
            .writer_thread
            .lock()
            .ok()
            .and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn durable_writes_commit_with_synchronous_full() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&dir.path().join("t.db")).expect("open");
        let level = |tx: &Transaction<'_>| -> Result<i64, AppError> {
            Ok(tx.query_row("PRAGMA synchronous", [], |r| r.get(0))?)
        };
        // 1 = NORMAL, 2 = FULL.
        assert_eq!(db.write(level).await.expect("write"), 1);
        assert_eq!(db.write_durable(level).await.expect("durable"), 2);
        let version = db.version();
        assert_eq!(db.write_durable_quiet(level).await.expect("durable"), 2);
        assert_eq!(db.version(), version, "quiet: cached pages stay");
        assert_eq!(db.write_blocking_durable(level).expect("durable"), 2);
        // Back to NORMAL for everything else, even after a failed durable write.
        let failed: Result<(), AppError> = db
            .write_durable(|_| Err(AppError::BadRequest("no".into())))
            .await;
        assert!(failed.is_err());
        assert_eq!(db.write(level).await.expect("write"), 1);
    }

    #[tokio::test]
    async fn writes_then_reads_in_wal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&dir.path().join("t.db")).expect("open");
        let v0 = db.version();
        db.write(|tx| {
            tx.execute(
                "INSERT INTO companies (slug, name, created_at, updated_at) VALUES ('a', 'A', 0, 0)",
                [],
            )?;
            Ok(())
        })
        .await
        .expect("write");
        assert!(db.version() > v0);
        let n: i64 = db
            .read(|c| Ok(c.query_row("SELECT count(*) FROM companies", [], |r| r.get(0))?))
            .await
            .expect("read");
        assert_eq!(n, 1);
        let mode: String = db
            .read(|c| Ok(c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?))
            .await
            .expect("mode");
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn a_failed_write_rolls_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&dir.path().join("t.db")).expect("open");
        let r: Result<(), AppError> = db
            .write(|tx| {
                tx.execute(
                    "INSERT INTO companies (slug, name, created_at, updated_at) VALUES ('a', 'A', 0, 0)",
                    [],
                )?;
                Err(AppError::BadRequest("no".into()))
            })
            .await;
        assert!(r.is_err());
        let n: i64 = db
            .read(|c| Ok(c.query_row("SELECT count(*) FROM companies", [], |r| r.get(0))?))
            .await
            .expect("read");
        assert_eq!(n, 0);
    }
}
