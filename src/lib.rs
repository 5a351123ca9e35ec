//! jobboard: a self-hosted job board in one binary.
//!
//! `main.rs` turns command lines into calls to this library; [`serve`] runs the
//! web server on a listener until a shutdown signal.

/// Accounts: users, passwords, sessions, emailed and API tokens, their pages.
pub mod accounts;
/// The admin area: moderation, all jobs, users, audit log; `admin create`.
pub mod admin;
/// Job alerts: saved searches mailed instantly or as digests.
pub mod alerts;
/// Time as a value passed in, so tests can move it.
pub mod clock;
/// Companies: store, pages and API.
pub mod companies;
/// Configuration layers, validation and the masked dump.
pub mod config;
/// Random tokens, token hashes and the board's secret key.
pub mod crypto;
/// The employer's dashboard: their jobs, company profile and API tokens.
pub mod dashboard;
/// The SQLite database: one writer thread, read-only connections, migrations.
pub mod db;
/// Demo data for a new board and for benchmarks.
pub mod demo;
/// The error type and which error to use where.
pub mod error;
/// Sitemap and robots.txt.
pub mod feeds;
/// Job postings: model, validation, store, pages, API, import/export.
pub mod jobs;
/// Email: templates, messages and transports.
pub mod mail;
/// Markdown to sanitised HTML, and to plain text.
pub mod markdown;
/// Counters, histograms and gauges for `/metrics` and `/healthz`.
pub mod metrics;
/// Operating a board: backup and restore.
pub mod ops;
/// Paid posting through Stripe Checkout: payments, webhook, reconciliation.
pub mod payments;
/// Posting a job: form, sign-up, preview, submit, confirmation.
pub mod posting;
/// Full-text search: index, queries, facets, the indexer.
pub mod search;
/// Stopping `serve` in order on SIGTERM.
pub mod shutdown;
/// ASCII slugs for URLs.
pub mod slug;
/// Telling systemd the board is ready, stopping, and alive (sd_notify).
pub mod systemd;
/// Background work: the task queue, schedules and the worker.
pub mod tasks;
/// Routes, middleware, templates, assets and the page cache.
pub mod web;

use std::future::Future;
use std::time::Duration;

use clock::SharedClock;
use config::Config;
use db::Db;
use error::AppError;
use web::State;

/// How often buffered view and click counts are written.
const FLUSH_EVERY: Duration = Duration::from_secs(2);
/// How long in-flight requests may take to finish at shutdown.
const DRAIN: Duration = Duration::from_secs(10);

/// Opens the database (migrating it) as configured: what closing it does to
/// the WAL follows `db.checkpoint_on_exit`.
pub fn open_db(config: &Config) -> Result<Db, AppError> {
    let db = Db::open(&config.db_path())?;
    db.set_checkpoint_on_exit(config.db.checkpoint_on_exit);
    Ok(db)
}

/// Opens the database (migrating it) and builds the shared state.
pub fn open(config: Config, clock: SharedClock) -> Result<State, AppError> {
    let db = open_db(&config)?;
    // `posting.require_verified_email` may have changed since the last start:
    // show or hide owners' jobs to match it.
    let require = config.posting.require_verified_email;
    let now = clock.unix();
    let changed =
        db.write_blocking(move |tx| accounts::store::refresh_hidden(tx, None, require, now))?;
    if changed > 0 {
        tracing::info!(
            changed,
            "job visibility updated for posting.require_verified_email"
        );
    }
    web::AppState::new(config, db, clock)
}

/// What `serve` runs besides the web server.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// The background worker (`--no-worker` leaves it to `jobboard worker`).
    pub worker: bool,
}

/// Serves the board with its background worker; see [`serve_with`].
pub async fn serve(
    state: State,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), AppError> {
    serve_with(state, listener, shutdown, ServeOptions { worker: true }).await
}

/// Serves the board on `listener` until `shutdown` resolves, then stops
/// accepting and finishes in-flight requests (bounded) while the running task
/// finishes or goes back to the queue, commits the index, writes pending
/// counters and closes the database (checkpointing the WAL as configured).
/// Under systemd (`NOTIFY_SOCKET`) it reports ready, watchdog pings and
/// stopping: see [`systemd`].
pub async fn serve_with(
    state: State,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> Result<(), AppError> {
    let local = listener
        .local_addr()
        .map_err(|e| AppError::internal(format!("listener: {e}")))?;
    tracing::info!(base_url = %state.config.base_url, "listening on {local}");

    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let flusher = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop_rx.changed() => break,
                }
                if let Err(e) = state.counters.flush(&state.db).await {
                    tracing::warn!(error = %e, "could not write view counts; will retry");
                }
            }
        })
    };

    let indexer = search::indexer::Indexer::start(
        state.search.clone(),
        state.db.clone(),
        state.clock.clone(),
    )?;
    let worker = if options.worker {
        Some(tasks::Worker::start(state.clone())?)
    } else {
        None
    };
    let app = web::app(state.clone());
    let limits = web::server::Limits::default();
    let notifier = systemd::Notifier::from_env();
    let stopping = shutdown::Stopping::on(shutdown, notifier.clone());
    // The worker finishes (or gives back) its task while requests drain.
    let worker_stopped = {
        let started = stopping.started();
        tokio::spawn(async move {
            started.await;
            if let Some(worker) = worker {
                let _ = tokio::task::spawn_blocking(move || worker.stop()).await;
            }
        })
    };
    let status = format!("serving on {local}");
    let watchdog = systemd::watchdog_from_env();
    let supervisor = systemd::supervise(notifier, watchdog, state.db.clone(), status);
    let result = web::server::run(listener, app, stopping.started(), DRAIN, limits).await;

    stopping.now();
    let _ = worker_stopped.await;
    let _ = stop_tx.send(true);
    let _ = flusher.await;
    let _ = tokio::task::spawn_blocking(move || indexer.stop()).await;
    if let Err(e) = state.counters.flush(&state.db).await {
        tracing::error!(error = %e, "could not write view counts at shutdown");
    }
    if let Some(supervisor) = supervisor {
        supervisor.abort();
    }
    let db = state.db.clone();
    let _ = tokio::task::spawn_blocking(move || db.close()).await;
    tracing::info!("stopped");
    result.map_err(|e| AppError::internal(format!("server: {e}")))
}
