//! The indexer: owns the only `IndexWriter`, in `serve`. At start it opens the
//! index or, when it is missing, broken or of an old schema, rebuilds it from the
//! database while the server answers. Then it drains the search queue at least
//! every quarter second, committing once per batch, and swaps to an index that
//! `jobboard reindex` built beside the live one.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tantivy::{Index, IndexWriter, ReloadPolicy, Term};

use super::rebuild::{self, Payload, READY, error};
use super::schema::{self, SCHEMA_VERSION};
use super::{Live, Search, queue};
use crate::clock::SharedClock;
use crate::db::Db;
use crate::error::AppError;

/// The writer's memory budget for incremental updates.
const WRITER_BUDGET: usize = 20 << 20;
/// How often the queue is polled.
const POLL: Duration = Duration::from_millis(250);
/// Rows applied per commit at most.
const BATCH: i64 = 2_000;
/// A backlog larger than this is cheaper to rebuild than to replay.
const REPLAY_LIMIT: i64 = 20_000;
/// Applied queue rows are kept this long (for a rebuild beside the live index).
const KEEP_QUEUE: i64 = 3_600;

/// The indexer's state, driven by its thread in `serve` and directly by tests.
pub struct IndexerCore {
    search: Arc<Search>,
    db: Db,
    clock: SharedClock,
    writer: Option<IndexWriter>,
    fields: Option<schema::Fields>,
    /// The last queue row applied to the index.
    watermark: i64,
    last_prune: Instant,
}

/// Why an existing index cannot be used as it is.
fn open_existing(dir: &std::path::Path) -> Result<(Index, Payload), String> {
    if !dir.join("meta.json").exists() {
        return Err("missing".into());
    }
    let index = Index::open_in_dir(dir).map_err(|e| format!("unreadable: {e}"))?;
    schema::register(&index);
    let payload = Payload::read(&index).ok_or("no payload")?;
    if payload.schema != SCHEMA_VERSION {
        return Err(format!(
            "schema {} (this binary writes {SCHEMA_VERSION})",
            payload.schema
        ));
    }
    schema::fields_of(&index).map_err(|e| format!("fields: {e}"))?;
    // Every segment must open.
    let reader = index.reader().map_err(|e| format!("segments: {e}"))?;
    let searcher = reader.searcher();
    for seg in searcher.segment_readers() {
        seg.fast_fields()
            .u64("id")
            .map_err(|e| format!("segment: {e}"))?;
    }
    Ok((index, payload))
}

/// For a process without the indexer (`jobboard worker` alone): opens the
/// index as it is on disk, read-only, so searches (job alerts) work there
/// too. Call it again to see what `serve` has committed or rebuilt since;
/// `false` while there is no usable index.
pub fn follow(search: &Search) -> Result<bool, AppError> {
    let Ok((index, _)) = open_existing(search.dir()) else {
        search.install(None);
        return Ok(false);
    };
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(error)?;
    let fields = schema::fields_of(&index).map_err(error)?;
    search.install(Some(Live {
        index,
        reader,
        fields,
    }));
    Ok(true)
}

impl IndexerCore {
    /// Opens the live index when it is sound and takes its writer; otherwise
    /// leaves the engine not ready, for [`IndexerCore::ensure`] to rebuild.
    /// Fails only when another process holds the writer.
    pub fn open(search: Arc<Search>, db: Db, clock: SharedClock) -> Result<IndexerCore, AppError> {
        let mut core = IndexerCore {
            search,
            db,
            clock,
            writer: None,
            fields: None,
            watermark: 0,
            last_prune: Instant::now(),
        };
        let dir = core.search.dir().to_path_buf();
        match open_existing(&dir) {
            Ok((index, payload)) => core.take(index, payload)?,
            Err(why) => {
                tracing::warn!(dir = %dir.display(), %why, "search index will be rebuilt");
                core.search.install(None);
            }
        }
        Ok(core)
    }

    fn take(&mut self, index: Index, payload: Payload) -> Result<(), AppError> {
        // A writer this process just let go of (a rebuild's) can keep the
        // lock a moment longer, until tantivy's last thread drops it: retry
        // briefly before deciding another process holds it.
        let deadline = Instant::now() + std::time::Duration::from_secs(2);
        let writer = loop {
            match index.writer_with_num_threads(1, WRITER_BUDGET) {
                Ok(writer) => break writer,
                Err(tantivy::TantivyError::LockFailure(..)) if Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(tantivy::TantivyError::LockFailure(..)) => {
                    return Err(AppError::Unavailable(
                        "the search index is in use by another `jobboard serve` on this data \
                         directory"
                            .into(),
                    ));
                }
                Err(e) => return Err(error(e)),
            }
        };
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(error)?;
        let fields = schema::fields_of(&index).map_err(error)?;
        self.writer = Some(writer);
        self.fields = Some(fields);
        self.watermark = payload.queue;
        self.search.install(Some(Live {
            index,
            reader,
            fields,
        }));
        Ok(())
    }

    /// Whether searches can run.
    pub fn ready(&self) -> bool {
        self.writer.is_some()
    }

    /// Rebuilds from the database when the index is not ready, or when the
    /// queue holds more than is worth replaying; then applies the queue.
    pub fn ensure(&mut self) -> Result<(), AppError> {
        if self.ready() {
            let watermark = self.watermark;
            let backlog = self
                .db
                .read_blocking(move |c| queue::backlog(c, watermark))?;
            if backlog > REPLAY_LIMIT {
                tracing::info!(
                    backlog,
                    "search queue backlog is large; rebuilding the index instead"
                );
                self.rebuild()?;
            }
        } else {
            self.rebuild()?;
        }
        while self.drain()? > 0 {}
        Ok(())
    }

    /// Builds a new index beside the live one and swaps to it.
    pub fn rebuild(&mut self) -> Result<(), AppError> {
        let started = Instant::now();
        let live = self.search.dir().to_path_buf();
        let next = rebuild::sibling(&live, "building");
        let count = rebuild::build(&next, &self.db, |_, _| {})?;
        self.swap_to(&next)?;
        tracing::info!(
            jobs = count,
            seconds = started.elapsed().as_secs_f64(),
            "search index rebuilt"
        );
        Ok(())
    }

    fn swap_to(&mut self, next: &std::path::Path) -> Result<(), AppError> {
        // Let go of the old index's writer (and lock) before its directory moves.
        self.writer = None;
        let live = self.search.dir().to_path_buf();
        rebuild::swap(&live, next)?;
        let (index, payload) =
            open_existing(&live).map_err(|why| error(format!("new index: {why}")))?;
        self.take(index, payload)
    }

    /// Swaps to `index.next` when `jobboard reindex` has finished one.
    pub fn swap_if_offered(&mut self) -> Result<bool, AppError> {
        let next: PathBuf = rebuild::sibling(self.search.dir(), "next");
        if !next.join(READY).exists() {
            return Ok(false);
        }
        self.swap_to(&next)?;
        while self.drain()? > 0 {}
        tracing::info!("switched to the search index built by `jobboard reindex`");
        Ok(true)
    }

    /// Applies up to one batch of queued changes in one commit; returns how many
    /// rows it applied. When that fails (a full disk), the uncommitted changes
    /// are dropped and the writer made anew, so the next call applies the same
    /// rows again.
    pub fn drain(&mut self) -> Result<usize, AppError> {
        let applied = self.apply_batch();
        if applied.is_err() {
            self.recover();
        }
        applied
    }

    /// After a failed batch: a writer whose indexing thread died (an I/O error)
    /// would take documents and never write them, so roll back to the last
    /// commit, which starts it afresh; failing that, open the index again.
    fn recover(&mut self) {
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        let Err(e) = writer.rollback() else {
            return;
        };
        tracing::warn!(error = %e, "search index: cannot roll back; opening it again");
        self.writer = None;
        self.fields = None;
        let watermark = self.watermark;
        let reopened = open_existing(self.search.dir())
            .map_err(|why| error(format!("reopen: {why}")))
            .and_then(|(index, payload)| self.take(index, payload));
        match reopened {
            // Never past a row this process has not applied.
            Ok(()) => self.watermark = self.watermark.min(watermark),
            Err(e) => {
                tracing::error!(error = %e, "search index will be rebuilt");
                self.search.install(None);
            }
        }
    }

    fn apply_batch(&mut self) -> Result<usize, AppError> {
        let (Some(writer), Some(f)) = (self.writer.as_mut(), self.fields) else {
            return Ok(0);
        };
        let watermark = self.watermark;
        let rows = self
            .db
            .read_blocking(move |c| queue::after(c, watermark, BATCH))?;
        let Some(&(last, _)) = rows.last() else {
            return Ok(0);
        };
        let mut ids: Vec<i64> = rows.iter().map(|(_, job)| *job).collect();
        ids.sort_unstable();
        ids.dedup();
        let jobs = self.db.read_blocking(|c| {
            let mut found = Vec::new();
            for id in &ids {
                match crate::jobs::store::get(c, *id) {
                    Ok(job) => found.push(job),
                    Err(AppError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(found)
        })?;
        for id in &ids {
            writer.delete_term(Term::from_field_u64(f.id, *id as u64));
        }
        for job in jobs.iter().filter(|j| schema::searchable(j)) {
            writer
                .add_document(schema::document(job, &f))
                .map_err(error)?;
        }
        rebuild::commit(writer, last)?;
        self.watermark = last;
        self.search.reload()?;
        Ok(rows.len())
    }

    /// Drops queue rows applied long enough ago.
    pub fn prune(&mut self) -> Result<(), AppError> {
        if self.last_prune.elapsed() < Duration::from_secs(60) {
            return Ok(());
        }
        self.last_prune = Instant::now();
        let (applied, before) = (self.watermark, self.clock.unix() - KEEP_QUEUE);
        self.db
            .write_blocking_quiet(move |tx| queue::prune(tx, applied, before))?;
        Ok(())
    }
}

/// The indexer thread of `serve`.
pub struct Indexer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Disconnected when the thread ends.
    done: mpsc::Receiver<()>,
}

/// The longest wait between attempts after indexing failed (a full disk).
const RETRY_AT_MOST: Duration = Duration::from_secs(8);
/// How long a stopping indexer may take to commit what is left.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

impl Indexer {
    /// Opens the index (failing if another process owns it) and starts the
    /// thread, which first rebuilds when needed.
    pub fn start(search: Arc<Search>, db: Db, clock: SharedClock) -> Result<Indexer, AppError> {
        let mut core = IndexerCore::open(search, db, clock)?;
        let (tx, rx) = mpsc::channel::<()>();
        let (done_tx, done) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("indexer".into())
            .spawn(move || {
                let _done = done_tx;
                let mut wait = POLL;
                if let Err(e) = core.ensure() {
                    tracing::error!(error = %e, "search index could not be prepared");
                    wait = POLL * 2;
                }
                // Until told to stop (or the sender is gone), every POLL, or
                // less often while indexing keeps failing:
                while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(wait) {
                    let step = (|| {
                        if !core.ready() {
                            core.ensure()?;
                        }
                        core.swap_if_offered()?;
                        while core.drain()? > 0 {}
                        core.prune()
                    })();
                    match step {
                        Ok(()) if wait > POLL => {
                            tracing::info!("search indexing works again");
                            wait = POLL;
                        }
                        Ok(()) => {}
                        Err(e) => {
                            wait = (wait * 2).min(RETRY_AT_MOST);
                            tracing::error!(error = %e, "search indexing failed; retrying in {wait:?}");
                        }
                    }
                }
                // Apply what is left before the process ends.
                while core.drain().is_ok_and(|n| n > 0) {}
            })
            .map_err(|e| AppError::internal(format!("cannot start the indexer: {e}")))?;
        Ok(Indexer {
            stop: Some(tx),
            thread: Some(thread),
            done,
        })
    }

    /// Stops the thread after its current step, waiting at most
    /// [`STOP_GRACE`]; see [`Indexer::stop_within`].
    pub fn stop(self) {
        self.stop_within(STOP_GRACE);
    }

    /// Stops the thread after its current step and the commit of what is
    /// queued, waiting at most `grace` (a rebuild under way can take
    /// longer): what is not committed then is applied from the search queue
    /// at the next start. Returns whether the thread ended.
    pub fn stop_within(mut self, grace: Duration) -> bool {
        self.stop.take();
        let ended = matches!(
            self.done.recv_timeout(grace),
            Err(mpsc::RecvTimeoutError::Disconnected)
        );
        match self.thread.take() {
            Some(t) if ended => {
                let _ = t.join();
            }
            _ => tracing::warn!(
                "the search index was not committed within {grace:?}; the next start catches up from the search queue"
            ),
        }
        ended
    }
}
