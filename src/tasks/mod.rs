//! Background work: a queue of tasks in SQLite, periodic schedules, and the
//! worker that runs them. The worker is a thread of its own (in `serve`, or
//! alone as `jobboard worker`); it sleeps until the next task or schedule is
//! due, or until this process queues something, and never polls faster than
//! that. Tasks run at least once: a worker that dies mid-task leaves it leased,
//! and another takes it when the lease ends; a worker that is stopped gives
//! back a task that does not finish in time ([`Worker::stop_within`]);
//! handlers are written so a second run changes nothing twice.

pub mod handlers;
pub mod queue;
pub mod schedule;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::Duration;

use crate::error::AppError;
use crate::web::State;

/// The longest a worker sleeps: another process may queue work it is not
/// told about.
const IDLE_WAIT: Duration = Duration::from_secs(5);
/// How long a worker runs tasks before it looks at schedules and its stop
/// flag again: a backlog of mail must not hold up expiry or shutdown.
const BATCH: Duration = Duration::from_secs(2);
/// How often a worker without the indexer reopens the search index.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(20);
/// How long a stopping worker lets its running task finish.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// Wakes this process's worker when something is queued.
#[derive(Debug, Default)]
pub struct Wake {
    pending: Mutex<bool>,
    cond: Condvar,
}

impl Wake {
    pub fn notify(&self) {
        if let Ok(mut p) = self.pending.lock() {
            *p = true;
            self.cond.notify_all();
        }
    }

    /// Waits for a notification or the timeout.
    fn wait(&self, timeout: Duration) {
        let Ok(guard) = self.pending.lock() else {
            return;
        };
        if let Ok((mut guard, _)) = self.cond.wait_timeout_while(guard, timeout, |p| !*p) {
            *guard = false;
        }
    }
}

/// Runs every task due now (first queueing the rounds of schedules that have
/// come); returns how many ran. Tests' way to run background work at the
/// moment they choose.
pub fn run_due(state: &State, worker: &str) -> Result<usize, AppError> {
    run_batch(state, worker, None, &AtomicBool::new(false))
}

/// Runs due tasks until none is left, `budget` has passed or `stop` is set.
fn run_batch(
    state: &State,
    worker: &str,
    budget: Option<Duration>,
    stop: &AtomicBool,
) -> Result<usize, AppError> {
    let started = std::time::Instant::now();
    let now = state.now();
    state
        .db
        .write_blocking_quiet(move |tx| schedule::tick(tx, now))?;
    let mut ran = 0;
    loop {
        if budget.is_some_and(|b| started.elapsed() >= b) || stop.load(Ordering::Acquire) {
            return Ok(ran);
        }
        let now = state.now();
        let id = worker.to_string();
        let Some(task) = state
            .db
            .write_blocking_quiet(move |tx| queue::claim(tx, &id, now))?
        else {
            return Ok(ran);
        };
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| handlers::run(state, &task)))
            .unwrap_or_else(|_| Err("the task panicked".to_string()));
        let (id, worker_id, now) = (task.id, worker.to_string(), state.now());
        match outcome {
            Ok(()) => state
                .db
                .write_blocking_quiet(move |tx| queue::finish(tx, id, &worker_id, now))?,
            Err(error) => {
                tracing::warn!(task = task.id, kind = %task.kind, attempt = task.attempt, %error, "task failed");
                state.metrics.task_failed();
                state
                    .db
                    .write_blocking_quiet(move |tx| queue::fail(tx, id, &worker_id, &error, now))?
            }
        }
        ran += 1;
    }
}

/// The worker thread.
pub struct Worker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Disconnected when the thread ends.
    done: mpsc::Receiver<()>,
    /// Its name in `tasks.locked_by`.
    name: String,
    state: State,
}

impl Worker {
    /// Starts the worker on its own thread, in a process whose indexer keeps
    /// the search index (`serve`).
    pub fn start(state: State) -> Result<Worker, AppError> {
        Worker::spawn(state, false)
    }

    /// Starts the worker in a process without the indexer (`jobboard
    /// worker`): it reopens the index `serve` keeps, read-only, every
    /// [`FOLLOW_EVERY`], so job alerts can search.
    pub fn start_alone(state: State) -> Result<Worker, AppError> {
        Worker::spawn(state, true)
    }

    fn spawn(state: State, follow: bool) -> Result<Worker, AppError> {
        let stop = Arc::new(AtomicBool::new(false));
        let name = format!(
            "worker-{}-{}",
            std::process::id(),
            crate::crypto::hex(&crate::crypto::random_bytes::<3>()?)
        );
        let (done_tx, done) = mpsc::channel::<()>();
        let thread = {
            let (state, stop, name) = (state.clone(), stop.clone(), name.clone());
            std::thread::Builder::new()
                .name("worker".into())
                .spawn(move || {
                    let _done = done_tx;
                    work(&state, &stop, &name, follow)
                })
                .map_err(|e| AppError::internal(format!("cannot start the worker: {e}")))?
        };
        Ok(Worker {
            stop,
            thread: Some(thread),
            done,
            name,
            state,
        })
    }

    /// Lets the running task finish for up to [`STOP_GRACE`], then stops; see
    /// [`Worker::stop_within`].
    pub fn stop(self) {
        self.stop_within(STOP_GRACE);
    }

    /// Starts no new task and lets the running one finish for up to `grace`.
    /// A task still running then is given back to the queue, to run again at
    /// the next start (tasks are written to run twice safely), and the thread
    /// is left to the process's exit. Returns whether the thread ended.
    pub fn stop_within(mut self, grace: Duration) -> bool {
        self.stop.store(true, Ordering::Release);
        self.state.wake.notify();
        let ended = matches!(
            self.done.recv_timeout(grace),
            Err(mpsc::RecvTimeoutError::Disconnected)
        );
        if ended {
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
            return true;
        }
        let (name, now) = (self.name.clone(), self.state.now());
        match self
            .state
            .db
            .write_blocking_quiet(move |tx| queue::release(tx, &name, now))
        {
            Ok(n) => tracing::warn!(
                worker = %self.name,
                tasks = n,
                "a background task did not finish in {grace:?}; it goes back to the queue"
            ),
            Err(e) => tracing::error!(
                error = %e,
                "cannot give the running task back; it runs again when its lease ends"
            ),
        }
        false
    }
}

fn work(state: &State, stop: &AtomicBool, name: &str, follow: bool) {
    tracing::info!(worker = name, "background worker started");
    let mut followed: Option<std::time::Instant> = None;
    while !stop.load(Ordering::Acquire) {
        state.metrics.worker_active();
        if follow && followed.is_none_or(|t| t.elapsed() >= FOLLOW_EVERY) {
            if let Err(e) = crate::search::indexer::follow(&state.search) {
                tracing::warn!(error = %e, "background worker: cannot open the search index");
            }
            followed = Some(std::time::Instant::now());
        }
        if let Err(e) = run_batch(state, name, Some(BATCH), stop) {
            tracing::error!(error = %e, "background worker: could not run tasks");
        }
        let now = state.now();
        let next = state
            .db
            .read_blocking(|c| Ok((queue::next_due(c)?, schedule::next_run(c)?)))
            .ok()
            .and_then(|(t, s)| match (t, s) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            });
        let wait = match next {
            Some(at) if at <= now => Duration::from_millis(200),
            Some(at) => IDLE_WAIT.min(Duration::from_secs((at - now) as u64)),
            None => IDLE_WAIT,
        };
        if !stop.load(Ordering::Acquire) {
            state.wake.wait(wait);
        }
    }
    tracing::info!(worker = name, "background worker stopped");
}
