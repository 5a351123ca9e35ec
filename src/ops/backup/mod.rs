//! `jobboard backup DIR`: a consistent snapshot of a board, safe while `serve`
//! runs and writes. DIR receives:
//!
//! - `jobboard.db`: the database, copied page by page with SQLite's online
//!   backup API inside one read transaction. In WAL mode that transaction
//!   pins a snapshot without blocking the writer, so the copy is consistent
//!   and its steps (and the progress bar) never restart however busy the
//!   server is; `VACUUM INTO` would give the same snapshot, slightly smaller,
//!   but rebuilds every table and index row by row and shows no progress.
//! - `uploads/`: uploaded logos.
//! - `secret.key`: the board's key; without it, CSRF tokens and the links in
//!   alert emails stop working after a restore.
//! - `manifest.json`, written last: versions, counts and every file's size and
//!   SHA-256. A backup without it did not finish, and `restore` refuses it.
//!
//! The search index (rebuilt from the database) and `outbox/` (mail already
//! written) are left out. [`restore`] puts a backup back.

pub mod files;
pub mod manifest;
pub mod restore;

use std::path::{Path, PathBuf};

use rusqlite::backup::StepResult;
use rusqlite::{Connection, OpenFlags};

use crate::config::Config;
use crate::db::migrations;
use crate::error::AppError;
use files::io_error;
use manifest::{Counts, DB_FILE, Entry, KEY_FILE, Manifest};

pub use restore::{Restored, restore};

/// Pages copied per backup step (4 MiB of 4 KiB pages), between progress reports.
const STEP_PAGES: std::os::raw::c_int = 1024;

/// A finished backup.
#[derive(Debug)]
pub struct Backed {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// Logos the database names that were not in `uploads/` (replaced while
    /// the backup ran, or lost before it).
    pub missing: Vec<String>,
}

impl Backed {
    /// What to tell the operator, one line each.
    pub fn describe(&self) -> String {
        let m = &self.manifest;
        let mut out = format!(
            "backed up {} to {} ({} in {} files and manifest.json, schema version {}, at {})",
            m.counts.describe(),
            self.dir.display(),
            files::human_bytes(m.total_bytes()),
            m.files.len(),
            m.schema_version,
            m.created_at,
        );
        if m.entry(KEY_FILE).is_none() {
            out.push_str(
                "\nwarning: the data dir has no secret.key (the board has never served); \
                 a new key will be made after restore",
            );
        }
        if !self.missing.is_empty() {
            out.push_str(&format!(
                "\nwarning: {} logo file(s) named in the database were not found: {}",
                self.missing.len(),
                self.missing.join(", ")
            ));
        }
        out
    }
}

/// Backs up the board of `config` into `dir`, which must be empty or absent.
/// `now` (Unix seconds) dates the manifest; `progress` hears (pages copied,
/// pages in all) while the database is copied. On failure nothing is left in
/// `dir` that could pass for a backup.
pub fn backup(
    config: &Config,
    dir: &Path,
    now: i64,
    progress: impl FnMut(u64, u64),
) -> Result<Backed, AppError> {
    let db_path = config.db_path();
    if !db_path.is_file() {
        return Err(AppError::BadRequest(format!(
            "there is no database at {}: nothing to back up (is --data-dir right?)",
            db_path.display()
        )));
    }
    let existed = dir.exists();
    if existed {
        let found = files::entries(dir)?;
        if !found.is_empty() {
            return Err(AppError::BadRequest(format!(
                "{} is not empty ({}): back up into a new or empty folder",
                dir.display(),
                listing(&found)
            )));
        }
    } else {
        std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
    }
    let result = write_backup(config, dir, now, progress);
    if result.is_err() {
        // Leave DIR as it was found: whatever was written is unfinished.
        if existed {
            for name in files::entries(dir).unwrap_or_default() {
                let path = dir.join(name);
                let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
            }
        } else {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    result
}

/// A short list of folder entries for a message.
pub(crate) fn listing(names: &[String]) -> String {
    let mut shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
    if names.len() > 5 {
        shown.push("…");
    }
    shown.join(", ")
}

fn write_backup(
    config: &Config,
    dir: &Path,
    now: i64,
    progress: impl FnMut(u64, u64),
) -> Result<Backed, AppError> {
    let copy = dir.join(DB_FILE);
    let (schema_version, mut counts, missing_names) = snapshot(&config.db_path(), &copy, progress)?;
    let (bytes, sha256) = files::hash_file(&copy)?;
    let mut entries = vec![Entry {
        path: DB_FILE.into(),
        bytes,
        sha256,
    }];

    let key = config.data_dir.join(KEY_FILE);
    if key.is_file() {
        let (bytes, sha256) = files::copy_hashed(&key, &dir.join(KEY_FILE), true)?;
        entries.push(Entry {
            path: KEY_FILE.into(),
            bytes,
            sha256,
        });
    }

    // Uploads after the snapshot: a logo the database names was written
    // before it, so only one replaced since can be missing (and is reported).
    let uploads = config.data_dir.join(crate::web::uploads::DIR);
    for rel in files::walk(&uploads)? {
        let from = rel.split('/').fold(uploads.clone(), |p, part| p.join(part));
        let name = format!("{}/{rel}", crate::web::uploads::DIR);
        let Some(to) = files::inside(dir, &name) else {
            continue; // a name the board never writes
        };
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error("create", parent, e))?;
        }
        let (bytes, sha256) = match files::copy_hashed(&from, &to, false) {
            Ok(done) => done,
            // Removed since it was listed (a logo replaced just now).
            Err(_) if !from.exists() => continue,
            Err(e) => return Err(e),
        };
        counts.upload_files += 1;
        counts.upload_bytes += bytes;
        entries.push(Entry {
            path: name,
            bytes,
            sha256,
        });
    }
    let missing = missing_names
        .into_iter()
        .filter(|url| {
            let rel = url.trim_start_matches('/');
            !entries.iter().any(|e| e.path == rel)
        })
        .collect();
    files::sync_tree(dir)?;

    let manifest = Manifest {
        format: manifest::FORMAT,
        jobboard_version: env!("CARGO_PKG_VERSION").into(),
        schema_version,
        created_at: crate::clock::rfc3339(now),
        counts,
        files: entries,
    };
    manifest.write(dir)?;
    Ok(Backed {
        dir: dir.to_path_buf(),
        manifest,
        missing,
    })
}

/// Copies the database at `from` to a new file `to` (a snapshot, even while
/// others write), checks the copy, and counts it. Returns its schema
/// version, its counts, and the upload URLs it names.
fn snapshot(
    from: &Path,
    to: &Path,
    mut progress: impl FnMut(u64, u64),
) -> Result<(i64, Counts, Vec<String>), AppError> {
    // Read-write (the WAL index may need it) but never created or migrated.
    let src = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    src.busy_timeout(std::time::Duration::from_secs(5))?;
    let found = migrations::current(&src)?;
    if found > migrations::latest() {
        let too_new = migrations::MigrateError::TooNew {
            found,
            known: migrations::latest(),
        };
        return Err(AppError::BadRequest(too_new.to_string()));
    }
    // One read transaction for the whole copy: every step reads the same
    // snapshot, and writers (WAL) go on meanwhile.
    src.execute_batch("BEGIN")?;
    src.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
    let mut dst = Connection::open(to)?;
    // No journal and no sync while copying: a copy that fails is deleted,
    // and the finished one is synced once (`files::sync_tree`).
    dst.pragma_update_and_check(None, "journal_mode", "OFF", |_| Ok(()))?;
    dst.pragma_update(None, "synchronous", "OFF")?;
    {
        let backup = rusqlite::backup::Backup::new(&src, &mut dst)?;
        loop {
            let step = backup.step(STEP_PAGES)?;
            let p = backup.progress();
            let total = p.pagecount.max(0) as u64;
            progress(total.saturating_sub(p.remaining.max(0) as u64), total);
            match step {
                StepResult::Done => break,
                StepResult::More => {}
                // The source is locked for a moment (a checkpoint): try again.
                _ => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
    }
    src.execute_batch("COMMIT")?;
    drop(src);

    // A backup is one self-contained file: no WAL beside it.
    let mode: String = dst.pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(AppError::internal(format!(
            "the copy stayed in journal mode {mode}"
        )));
    }
    let check: String = dst.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(AppError::BadRequest(format!(
            "the live database fails SQLite's check ({check}); no backup was written. \
             Restore the last good backup, or run `sqlite3 {} .recover`",
            from.display()
        )));
    }
    let version = migrations::current(&dst)?;
    let counts = Counts::of(&dst)?;
    let mut stmt =
        dst.prepare("SELECT logo_url FROM companies WHERE logo_url LIKE '/uploads/%'")?;
    let logos = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    drop(stmt);
    dst.close().map_err(|(_, e)| AppError::from(e))?;
    Ok((version, counts, logos))
}
