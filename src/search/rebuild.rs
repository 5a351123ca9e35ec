//! Building a whole index from the database: at start when the index is
//! missing, broken or of an old schema, and for `jobboard reindex`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::{Index, IndexWriter};

use super::schema::{self, SCHEMA_VERSION};
use crate::db::Db;
use crate::error::AppError;
use crate::jobs::model::Status;

/// The writer's memory budget for a full build (and what a build adds to the
/// process's memory while it runs).
pub const BUILD_BUDGET: usize = 64 << 20;

/// What each commit records: the schema version and the last queue row applied.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Payload {
    pub schema: u32,
    pub queue: i64,
}

impl Payload {
    pub fn read(index: &Index) -> Option<Payload> {
        let metas = index.load_metas().ok()?;
        serde_json::from_str(metas.payload.as_deref()?).ok()
    }
}

pub(crate) fn error(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("search index: {e}"))
}

/// Commits with the payload naming the last applied queue row.
pub fn commit(writer: &mut IndexWriter, queue: i64) -> Result<(), AppError> {
    let payload = serde_json::to_string(&Payload {
        schema: SCHEMA_VERSION,
        queue,
    })?;
    let mut prepared = writer.prepare_commit().map_err(error)?;
    prepared.set_payload(&payload);
    prepared.commit().map_err(error)?;
    Ok(())
}

/// A sibling directory of the live index: `index.next`, `index.building`, …
pub fn sibling(live: &Path, suffix: &str) -> PathBuf {
    let mut name = live
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".{suffix}"));
    live.with_file_name(name)
}

/// Builds a complete index of every published job into `dir` (emptied first);
/// returns how many jobs it holds. `progress` hears (done, total).
pub fn build(dir: &Path, db: &Db, mut progress: impl FnMut(u64, u64)) -> Result<u64, AppError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(error)?;
    }
    std::fs::create_dir_all(dir).map_err(error)?;
    let (schema_def, fields) = schema::build();
    let index = Index::create_in_dir(dir, schema_def).map_err(error)?;
    schema::register(&index);
    let mut writer: IndexWriter = index
        .writer_with_num_threads(1, BUILD_BUDGET)
        .map_err(error)?;
    let (count, watermark) = db.read_blocking(|conn| {
        // One read transaction: the jobs and the queue position are one snapshot.
        conn.execute_batch("BEGIN")?;
        let result = (|| {
            let watermark = super::queue::last_id(conn)?;
            let total: i64 = conn.query_row(
                "SELECT count(*) FROM jobs \
                 WHERE status = 'published' AND deleted_at IS NULL AND hidden = 0",
                [],
                |r| r.get(0),
            )?;
            let mut done = 0u64;
            crate::jobs::store::for_each(conn, Some(Status::Published), |job| {
                if !schema::searchable(&job) {
                    return Ok(());
                }
                writer
                    .add_document(schema::document(&job, &fields))
                    .map_err(error)?;
                done += 1;
                if done % 1000 == 0 {
                    progress(done, total as u64);
                }
                Ok(())
            })?;
            progress(done, total as u64);
            Ok((done, watermark))
        })();
        let _ = conn.execute_batch("COMMIT");
        result
    })?;
    commit(&mut writer, watermark)?;
    writer.wait_merging_threads().map_err(error)?;
    Ok(count)
}

/// Replaces the live index directory with `next`.
pub fn swap(live: &Path, next: &Path) -> Result<(), AppError> {
    let old = sibling(live, "old");
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(error)?;
    }
    if live.exists() {
        std::fs::rename(live, &old).map_err(error)?;
    }
    std::fs::rename(next, live).map_err(error)?;
    let _ = std::fs::remove_file(live.join(READY));
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(error)?;
    }
    Ok(())
}

/// The file that marks `index.next` complete, for `serve` to swap to.
pub const READY: &str = "READY";

/// What `jobboard reindex` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Reindexed {
    /// No server held the index: rebuilt in place.
    InPlace(u64),
    /// A running server took the new index.
    Handed(u64),
    /// A running server did not take it in time (it will at its next start).
    Waiting(u64),
}

/// Whether a `serve` holds the live index's writer.
pub fn served(live: &Path) -> bool {
    let Ok(index) = Index::open_in_dir(live) else {
        return false;
    };
    schema::register(&index);
    matches!(
        index.writer_with_num_threads::<tantivy::TantivyDocument>(1, 15_000_000),
        Err(tantivy::TantivyError::LockFailure(..))
    )
}

/// Rebuilds the index of `data_dir` from the database. With `serve` running it
/// builds beside the live index and waits (up to `wait`) for the server to swap
/// to it; otherwise it swaps itself.
pub fn reindex(
    data_dir: &Path,
    db: &Db,
    wait: std::time::Duration,
    progress: impl FnMut(u64, u64),
) -> Result<Reindexed, AppError> {
    let live = data_dir.join("index");
    let next = sibling(&live, "next");
    let count = build(&next, db, progress)?;
    if served(&live) {
        std::fs::write(next.join(READY), b"").map_err(error)?;
        let started = std::time::Instant::now();
        while next.exists() {
            if started.elapsed() > wait {
                return Ok(Reindexed::Waiting(count));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(Reindexed::Handed(count))
    } else {
        swap(&live, &next)?;
        Ok(Reindexed::InPlace(count))
    }
}
