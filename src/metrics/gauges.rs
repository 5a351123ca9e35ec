//! Gauges read when `/metrics` or `/healthz` is asked: jobs by status and
//! tasks by state (two small `GROUP BY` queries on one read connection), the
//! index's document count, file sizes, free disk space and `/proc/self`.

use std::path::Path;

use super::process::{self, Process};
use super::text::Exposition;
use crate::error::AppError;
use crate::jobs::model::Status;
use crate::web::State;

/// The states a task can be in (the `tasks.state` CHECK constraint).
pub const TASK_STATES: [&str; 4] = ["queued", "running", "done", "failed"];

/// The gauges at one moment; a value that could not be read is `None`.
#[derive(Debug, Default, Clone)]
pub struct Gauges {
    /// Jobs by status, every status listed (left empty when not asked for).
    pub jobs: Vec<(&'static str, i64)>,
    /// Tasks by state, every state listed; `None` when the database did not
    /// answer.
    pub tasks: Option<Vec<(&'static str, i64)>>,
    /// Documents in the search index; `None` while it is being built.
    pub index_docs: Option<u64>,
    /// The database file and its write-ahead log, in bytes.
    pub database_bytes: u64,
    pub wal_bytes: u64,
    /// Space left for the board on the data directory's file system.
    pub disk_free_bytes: Option<u64>,
    pub process: Process,
}

impl Gauges {
    /// Tasks in a state (0 when the database did not answer).
    pub fn tasks_in(&self, state: &str) -> i64 {
        self.tasks
            .iter()
            .flatten()
            .find(|(s, _)| *s == state)
            .map_or(0, |(_, n)| *n)
    }

    /// Writes the gauges' families.
    pub fn render(&self, e: &mut Exposition) {
        e.family(
            "jobboard_database_up",
            "gauge",
            "1 when the database answered the queries of this page, else 0.",
        );
        e.sample("jobboard_database_up", &[], u8::from(self.tasks.is_some()));
        e.family(
            "jobboard_jobs",
            "gauge",
            "Jobs by status (deleted jobs aside).",
        );
        for (status, n) in &self.jobs {
            e.sample("jobboard_jobs", &[("status", status)], n);
        }
        e.family(
            "jobboard_tasks",
            "gauge",
            "Background tasks by state: queued is the queue's depth, failed the tasks given up.",
        );
        for (state, n) in self.tasks.iter().flatten() {
            e.sample("jobboard_tasks", &[("state", state)], n);
        }
        e.family(
            "jobboard_index_ready",
            "gauge",
            "1 when the search index is open, 0 while it is built.",
        );
        e.sample(
            "jobboard_index_ready",
            &[],
            u8::from(self.index_docs.is_some()),
        );
        e.family(
            "jobboard_index_docs",
            "gauge",
            "Documents (live jobs) in the search index.",
        );
        if let Some(n) = self.index_docs {
            e.sample("jobboard_index_docs", &[], n);
        }
        e.family(
            "jobboard_database_bytes",
            "gauge",
            "Size of the database file and its write-ahead log (jobboard.db and jobboard.db-wal).",
        );
        e.sample(
            "jobboard_database_bytes",
            &[],
            self.database_bytes + self.wal_bytes,
        );
        e.family(
            "jobboard_database_wal_bytes",
            "gauge",
            "Size of the write-ahead log alone (jobboard.db-wal).",
        );
        e.sample("jobboard_database_wal_bytes", &[], self.wal_bytes);
        e.family(
            "jobboard_disk_free_bytes",
            "gauge",
            "Space left for the board on the data directory's file system.",
        );
        if let Some(n) = self.disk_free_bytes {
            e.sample("jobboard_disk_free_bytes", &[], n);
        }
        let p = &self.process;
        e.family(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
        );
        if let Some(n) = p.resident_bytes {
            e.sample("process_resident_memory_bytes", &[], n);
        }
        e.family("jobboard_resident_memory_bytes", "gauge", "Resident memory by kind: anon (heap, stacks) and file (mapped files: the search index, SQLite's map; the kernel can drop it).");
        for (kind, n) in [("anon", p.anonymous_bytes), ("file", p.file_bytes)] {
            if let Some(n) = n {
                e.sample("jobboard_resident_memory_bytes", &[("kind", kind)], n);
            }
        }
        e.family("process_threads", "gauge", "Threads of the process.");
        if let Some(n) = p.threads {
            e.sample("process_threads", &[], n);
        }
        e.family(
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
        );
        if let Some(n) = p.open_fds {
            e.sample("process_open_fds", &[], n);
        }
    }
}

/// Every value of `all` with its count from `counted` (0 when absent).
fn complete(all: &[&'static str], counted: &[(String, i64)]) -> Vec<(&'static str, i64)> {
    all.iter()
        .map(|name| {
            let n = counted
                .iter()
                .find(|(s, _)| s == name)
                .map_or(0, |(_, n)| *n);
            (*name, n)
        })
        .collect()
}

/// The size of a file, 0 when it is not there.
fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Reads the gauges now; `jobs` counts jobs by status too (a scan of the
/// jobs table: `/metrics` asks for it, `/healthz` does not).
pub async fn read(state: &State, jobs: bool) -> Gauges {
    let counted = state
        .db
        .read(move |c| {
            let by_status = if jobs {
                crate::jobs::store::count_by_status(c)?
            } else {
                Vec::new()
            };
            Ok((by_status, crate::tasks::queue::counts(c)?))
        })
        .await;
    let (by_status, tasks) = match counted {
        Ok((by_status, tasks)) => (by_status, Some(tasks)),
        Err(e) => {
            log_unanswered(&e);
            (Vec::new(), None)
        }
    };
    let statuses: Vec<&'static str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    let db = state.config.db_path();
    let mut wal = db.clone().into_os_string();
    wal.push("-wal");
    let data_dir = state.config.data_dir.clone();
    Gauges {
        jobs: if jobs && tasks.is_some() {
            complete(&statuses, &by_status)
        } else {
            Vec::new()
        },
        tasks: tasks.map(|t| complete(&TASK_STATES, &t)),
        index_docs: state.search.num_docs(),
        database_bytes: file_size(&db),
        wal_bytes: file_size(Path::new(&wal)),
        disk_free_bytes: fs4::available_space(&data_dir).ok(),
        process: process::read(),
    }
}

fn log_unanswered(e: &AppError) {
    tracing::error!(error = %e, "the database does not answer");
}
